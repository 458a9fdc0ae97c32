/* GLib: two GThreads take two GMutexes in opposite orders, timed apart so that this run
 * finishes.  Expected: an error-level lock-order cycle between lock_a and lock_b. */
#include <glib.h>
#include <stdio.h>

static GMutex lock_a, lock_b;     /* statically zeroed: first use registers them */
static int balance_a = 100, balance_b = 100;

static gpointer a_then_b(gpointer arg)
{
	g_mutex_lock(&lock_a);
	g_mutex_lock(&lock_b);
	balance_a -= GPOINTER_TO_INT(arg);
	balance_b += GPOINTER_TO_INT(arg);
	g_mutex_unlock(&lock_b);
	g_mutex_unlock(&lock_a);
	return NULL;
}

static gpointer b_then_a(gpointer arg)
{
	g_usleep(100 * 1000);        /* let the first transfer finish: this run does not hang */
	g_mutex_lock(&lock_b);
	g_mutex_lock(&lock_a);
	balance_b -= GPOINTER_TO_INT(arg);
	balance_a += GPOINTER_TO_INT(arg);
	g_mutex_unlock(&lock_a);
	g_mutex_unlock(&lock_b);
	return NULL;
}

int main(void)
{
	GThread *t1 = g_thread_new("a_then_b", a_then_b, GINT_TO_POINTER(10));
	GThread *t2 = g_thread_new("b_then_a", b_then_a, GINT_TO_POINTER(20));
	g_thread_join(t1);
	g_thread_join(t2);
	printf("a=%d b=%d\n", balance_a, balance_b);
	return 0;
}

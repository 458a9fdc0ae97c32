/* GLib deadlocks that hang without lockwatch.  "abba": two GThreads each hold one GMutex
 * and wait for the other's; "self": a thread locks a GMutex it holds.  Expected: a
 * deadlock report, and the process ended instead of hanging. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

static GMutex lock_a, lock_b;
static gint holding;              /* how many threads hold their first lock */

static gpointer take(GMutex *first, GMutex *second)
{
	g_mutex_lock(first);
	g_atomic_int_inc(&holding);
	while (g_atomic_int_get(&holding) < 2)
		g_thread_yield();
	g_mutex_lock(second);         /* the other thread holds it, and waits for first */
	g_mutex_unlock(second);
	g_mutex_unlock(first);
	return NULL;
}

static gpointer a_then_b(gpointer arg) { return take(&lock_a, &lock_b); }
static gpointer b_then_a(gpointer arg) { return take(&lock_b, &lock_a); }

static gpointer relock(gpointer arg)
{
	g_mutex_lock(&lock_a);
	g_mutex_lock(&lock_a);        /* already held: never returns */
	g_mutex_unlock(&lock_a);
	return NULL;
}

int main(int argc, char **argv)
{
	GThread *t1, *t2 = NULL;
	if (argc > 1 && !strcmp(argv[1], "self")) {
		t1 = g_thread_new("relock", relock, NULL);
	} else {
		t1 = g_thread_new("a_then_b", a_then_b, NULL);
		t2 = g_thread_new("b_then_a", b_then_a, NULL);
	}
	g_thread_join(t1);
	if (t2)
		g_thread_join(t2);
	printf("not reached\n");
	return 0;
}

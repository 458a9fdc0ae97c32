/* GLib's locks used correctly: a producer and a consumer on a GMutex and two GConds, a
 * GRecMutex taken recursively, a GRWLock with readers and a writer, trylocks, a timed
 * g_cond_wait_until, GThreads joined and one unreferenced (left waiting).  Expected: no finding, the same
 * output as without lockwatch. */
#include <glib.h>
#include <stdio.h>

#define ITEMS 1000
#define SLOTS 4

static GMutex lock;               /* statically zeroed */
static GCond not_full, not_empty;
static GRecMutex rec;
static GRWLock table;
static GCond finished, never;
static int ring[SLOTS], head, count, entries[8], done;

static gpointer producer(gpointer arg)
{
	for (int i = 1; i <= ITEMS; i++) {
		g_mutex_lock(&lock);
		while (count == SLOTS)
			g_cond_wait(&not_full, &lock);
		ring[(head + count++) % SLOTS] = i;
		g_cond_signal(&not_empty);
		g_mutex_unlock(&lock);
	}
	return GINT_TO_POINTER(7);
}

static gpointer consumer(gpointer arg)
{
	long sum = 0;
	for (int i = 1; i <= ITEMS; i++) {
		g_mutex_lock(&lock);
		while (count == 0)
			g_cond_wait(&not_empty, &lock);
		sum += ring[head];
		head = (head + 1) % SLOTS;
		count--;
		g_cond_broadcast(&not_full);
		g_mutex_unlock(&lock);
	}
	*(long *)arg = sum;
	return NULL;
}

static int depth(int n)
{
	g_rec_mutex_lock(&rec);
	int d = n > 0 ? 1 + depth(n - 1) : 0;
	g_rec_mutex_unlock(&rec);
	return d;
}

static gpointer reader(gpointer arg)
{
	int s = 0;
	for (int k = 0; k < 200; k++) {
		g_rw_lock_reader_lock(&table);
		for (int i = 0; i < 8; i++)
			s += entries[i] >= 0;
		g_rw_lock_reader_unlock(&table);
	}
	return GINT_TO_POINTER(s);
}

static gpointer writer(gpointer arg)
{
	for (int k = 0; k < 200; k++) {
		g_rw_lock_writer_lock(&table);
		entries[k % 8]++;
		g_rw_lock_writer_unlock(&table);
	}
	return NULL;
}

static gpointer last(gpointer arg)
{
	g_mutex_lock(&lock);
	done = 1;
	g_cond_signal(&finished);
	/* Waits until the process ends: a thread nobody joins must not be ending while the
	 * process does, or its last records may miss the trace. */
	for (;;)
		g_cond_wait(&never, &lock);
	return NULL;
}

int main(void)
{
	long sum = 0;
	g_cond_init(&not_full);
	g_cond_init(&not_empty);
	g_rec_mutex_init(&rec);
	g_rw_lock_init(&table);

	GThread *p = g_thread_new("producer", producer, NULL);
	GThread *c = g_thread_new("consumer", consumer, &sum);
	int rp = GPOINTER_TO_INT(g_thread_join(p));
	g_thread_join(c);
	printf("sum %ld, result %d\n", sum, rp);
	printf("depth %d\n", depth(5));

	GThread *r1 = g_thread_new("reader", reader, NULL);
	GThread *r2 = g_thread_try_new("reader", reader, NULL, NULL);
	GThread *w = g_thread_new("writer", writer, NULL);
	int s1 = GPOINTER_TO_INT(g_thread_join(r1));
	int s2 = GPOINTER_TO_INT(g_thread_join(r2));
	g_thread_join(w);
	printf("reads %d %d, entry %d\n", s1, s2, entries[0]);

	printf("trylock %d", g_mutex_trylock(&lock));
	printf(" again %d", g_mutex_trylock(&lock));
	g_mutex_unlock(&lock);
	printf(" rec %d", g_rec_mutex_trylock(&rec));
	printf(" %d", g_rec_mutex_trylock(&rec));
	g_rec_mutex_unlock(&rec);
	g_rec_mutex_unlock(&rec);
	printf(" read %d", g_rw_lock_reader_trylock(&table));
	printf(" write %d\n", g_rw_lock_writer_trylock(&table));
	g_rw_lock_reader_unlock(&table);

	g_mutex_lock(&lock);
	gint64 until = g_get_monotonic_time() + 20 * 1000;
	printf("timed out %d\n", !g_cond_wait_until(&not_empty, &lock, until));
	g_mutex_unlock(&lock);

	g_thread_unref(g_thread_new("unreferenced", last, NULL));
	g_mutex_lock(&lock);
	while (!done)
		g_cond_wait(&finished, &lock);
	g_mutex_unlock(&lock);

	g_rw_lock_clear(&table);
	g_rec_mutex_clear(&rec);
	g_cond_clear(&not_full);
	g_cond_clear(&not_empty);
	return 0;
}

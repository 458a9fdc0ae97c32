/* A correct GLib program: a GThreadPool whose tasks add into a GMutex-guarded total and a
 * GRWLock-guarded table, hand results back through a GAsyncQueue, count down with a GCond,
 * initialise a shared object once with g_once and nest two GMutexes (always in one order);
 * plus plain GThreads with a GRecMutex.  The output depends only on the arithmetic. */
#include <glib.h>
#include <stdio.h>

#define TASKS 400

static GMutex total_lock;
static guint64 total;
static GMutex stats_lock;               /* taken inside total_lock, never the other way */
static int stats_tasks;
static GRWLock table_lock;
static GHashTable *table;
static GMutex done_lock;
static GCond done_cond;
static int pending = TASKS;
static GAsyncQueue *results;
static GOnce once = G_ONCE_INIT;
static GRecMutex rec;
static int rec_count;

static gpointer make_base(gpointer arg)
{
	return GINT_TO_POINTER(1000);
}

static void task(gpointer data, gpointer user)
{
	int n = GPOINTER_TO_INT(data);
	int base = GPOINTER_TO_INT(g_once(&once, make_base, NULL));

	g_mutex_lock(&total_lock);
	total += (guint64)n + (guint64)base;
	g_mutex_lock(&stats_lock);
	stats_tasks++;
	g_mutex_unlock(&stats_lock);
	g_mutex_unlock(&total_lock);

	g_rw_lock_reader_lock(&table_lock);
	gboolean seen = g_hash_table_contains(table, GINT_TO_POINTER(n % 37 + 1));
	g_rw_lock_reader_unlock(&table_lock);
	if (!seen) {
		g_rw_lock_writer_lock(&table_lock);
		g_hash_table_add(table, GINT_TO_POINTER(n % 37 + 1));
		g_rw_lock_writer_unlock(&table_lock);
	}

	g_async_queue_push(results, GINT_TO_POINTER(n * 2 + 1));

	g_mutex_lock(&done_lock);
	if (--pending == 0)
		g_cond_signal(&done_cond);
	g_mutex_unlock(&done_lock);
}

static void rec_add(int depth)
{
	g_rec_mutex_lock(&rec);
	rec_count++;
	if (depth > 0)
		rec_add(depth - 1);
	g_rec_mutex_unlock(&rec);
}

static gpointer rec_thread(gpointer arg)
{
	for (int i = 0; i < 500; i++)
		rec_add(3);
	return NULL;
}

int main(void)
{
	GError *err = NULL;
	table = g_hash_table_new(NULL, NULL);
	results = g_async_queue_new();
	GThreadPool *pool = g_thread_pool_new(task, NULL, 4, FALSE, &err);
	if (!pool) {
		fprintf(stderr, "pool: %s\n", err->message);
		return 1;
	}
	for (int i = 0; i < TASKS; i++)
		g_thread_pool_push(pool, GINT_TO_POINTER(i + 1), NULL); /* NULL is not data */

	g_mutex_lock(&done_lock);
	while (pending > 0)
		g_cond_wait(&done_cond, &done_lock);
	g_mutex_unlock(&done_lock);
	g_thread_pool_free(pool, FALSE, TRUE);

	guint64 sum = 0;
	for (int i = 0; i < TASKS; i++)
		sum += (guint64)GPOINTER_TO_INT(g_async_queue_pop(results));

	GThread *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = g_thread_new("rec", rec_thread, NULL);
	for (int i = 0; i < 3; i++)
		g_thread_join(t[i]);

	printf("glib: total %llu\n", (unsigned long long)total);
	printf("glib: tasks %d\n", stats_tasks);
	printf("glib: table %u keys\n", g_hash_table_size(table));
	printf("glib: queue sum %llu\n", (unsigned long long)sum);
	printf("glib: recursive count %d\n", rec_count);
	g_async_queue_unref(results);
	g_hash_table_destroy(table);
	return 0;
}

/*
 * Lesson, reader-writer locks: one thread holds table_lock for writing while it reads
 * index_lock; the other holds index_lock for writing while it reads table_lock.  A writer
 * excludes readers, so each could hold its write lock and wait for the other's read side
 * forever.  (The two are staggered so this run ends.)
 *
 * Expected: an error-level lock-order-cycle through table_lock and index_lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t index_lock = PTHREAD_RWLOCK_INITIALIZER;
static int table[4], index_[4];

static void *rebuild_table(void *arg)
{
	pthread_rwlock_wrlock(&table_lock);
	pthread_rwlock_rdlock(&index_lock);
	for (int i = 0; i < 4; i++)
		table[i] = index_[i] + 1;
	pthread_rwlock_unlock(&index_lock);
	pthread_rwlock_unlock(&table_lock);
	return arg;
}

static void *rebuild_index(void *arg)
{
	usleep(50000);
	pthread_rwlock_wrlock(&index_lock);
	pthread_rwlock_rdlock(&table_lock);
	for (int i = 0; i < 4; i++)
		index_[i] = table[i] * 2;
	pthread_rwlock_unlock(&table_lock);
	pthread_rwlock_unlock(&index_lock);
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, rebuild_table, NULL);
	pthread_create(&t2, NULL, rebuild_index, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("table[0]=%d index[0]=%d\n", table[0], index_[0]);
	return 0;
}

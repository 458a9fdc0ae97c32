/*
 * Lesson, reader-writer locks: two readers take the read side of table_lock and index_lock
 * in opposite orders.  Readers do not exclude readers and nothing here ever writes, so
 * neither can block the other.
 *
 * Expected: a warning-level lock-order-cycle, reason read-read.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t index_lock = PTHREAD_RWLOCK_INITIALIZER;
static int table[4] = { 1, 2, 3, 4 }, index_[4] = { 3, 2, 1, 0 };

static void *lookup_by_table(void *arg)
{
	long sum = 0;
	for (int i = 0; i < 100; i++) {
		pthread_rwlock_rdlock(&table_lock);
		pthread_rwlock_rdlock(&index_lock);
		sum += table[index_[i % 4]];
		pthread_rwlock_unlock(&index_lock);
		pthread_rwlock_unlock(&table_lock);
	}
	return (void *)sum;
}

static void *lookup_by_index(void *arg)
{
	long sum = 0;
	for (int i = 0; i < 100; i++) {
		pthread_rwlock_rdlock(&index_lock);
		pthread_rwlock_rdlock(&table_lock);
		sum += index_[table[i % 4] - 1];
		pthread_rwlock_unlock(&table_lock);
		pthread_rwlock_unlock(&index_lock);
	}
	return (void *)sum;
}

int main(void)
{
	pthread_t t1, t2;
	void *s1, *s2;
	pthread_create(&t1, NULL, lookup_by_table, NULL);
	pthread_create(&t2, NULL, lookup_by_index, NULL);
	pthread_join(t1, &s1);
	pthread_join(t2, &s2);
	printf("sums: %ld %ld\n", (long)s1, (long)s2);
	return 0;
}

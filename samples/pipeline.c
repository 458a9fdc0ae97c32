/*
 * Lesson, pipeline: four stages, each its own thread, connected by three bounded queues.
 * Stage 1 generates 1..N, stage 2 squares, stage 3 adds one, stage 4 sums.  A poison pill
 * flows down the pipeline behind the last item and stops each stage in turn.  Every queue
 * has its own lock, and no stage ever holds two.
 *
 * Expected: lockwatch reports nothing.
 */
#include <pthread.h>
#include <stdio.h>

#define N           300
#define CAPACITY    4
#define POISON_PILL (-1L)

struct queue {
	long items[CAPACITY];
	int head, count;
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
};

static void queue_init(struct queue *q)
{
	q->head = q->count = 0;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
}

static void queue_destroy(struct queue *q)
{
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->lock);
}

static void put(struct queue *q, long item)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == CAPACITY)
		pthread_cond_wait(&q->not_full, &q->lock);
	q->items[(q->head + q->count++) % CAPACITY] = item;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

static long get(struct queue *q)
{
	long item;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0)
		pthread_cond_wait(&q->not_empty, &q->lock);
	item = q->items[q->head];
	q->head = (q->head + 1) % CAPACITY;
	q->count--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return item;
}

struct stage {
	struct queue *in, *out;
	long (*work)(long);
};

static long square(long x) { return x * x; }
static long add_one(long x) { return x + 1; }

static struct queue q1, q2, q3;
static long total;

/* Stages 2 and 3: take, transform, pass on; pass the pill on and stop. */
static void *transform(void *arg)
{
	const struct stage *s = arg;

	for (;;) {
		long item = get(s->in);
		if (item == POISON_PILL) {
			put(s->out, POISON_PILL);
			return NULL;
		}
		put(s->out, s->work(item));
	}
}

static void *generate(void *arg)
{
	for (long i = 1; i <= N; i++)
		put(&q1, i);
	put(&q1, POISON_PILL);
	return arg;
}

static void *sum(void *arg)
{
	for (long item; (item = get(&q3)) != POISON_PILL;)
		total += item;
	return arg;
}

int main(void)
{
	struct stage squarer = { &q1, &q2, square }, incrementer = { &q2, &q3, add_one };
	pthread_t t[4];
	long expected = (long)N * (N + 1) * (2 * N + 1) / 6 + N;

	queue_init(&q1);
	queue_init(&q2);
	queue_init(&q3);
	pthread_create(&t[0], NULL, generate, NULL);
	pthread_create(&t[1], NULL, transform, &squarer);
	pthread_create(&t[2], NULL, transform, &incrementer);
	pthread_create(&t[3], NULL, sum, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	queue_destroy(&q1);
	queue_destroy(&q2);
	queue_destroy(&q3);
	printf("sum of (i*i + 1) for i = 1..%d: %ld (expected %ld)\n", N, total, expected);
	return total == expected ? 0 : 1;
}

/* A thread-per-request server: the acceptor reads requests from a socketpair and starts one
 * detached, short-lived thread per request (hundreds in all, so thread ids and stacks are
 * reused); each handler locks its session's mutex, then the global statistics mutex (always in
 * that order), and answers on the socket.  The client counts the answers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUESTS 300
#define SESSIONS 5

struct session {
	pthread_mutex_t lock;
	long served;
};

static struct session sessions[SESSIONS];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long total_served, bytes;
static pthread_mutex_t reply_lock = PTHREAD_MUTEX_INITIALIZER;
static int server_fd;

struct request {
	int id;
};

static void *handle(void *arg)
{
	struct request *rq = arg;
	struct session *s = &sessions[rq->id % SESSIONS];
	pthread_mutex_lock(&s->lock);
	s->served++;
	pthread_mutex_lock(&stats_lock);
	total_served++;
	bytes += rq->id;
	pthread_mutex_unlock(&stats_lock);
	pthread_mutex_unlock(&s->lock);
	int reply = rq->id * 2;
	pthread_mutex_lock(&reply_lock);    /* one whole reply at a time on the socket */
	ssize_t w = write(server_fd, &reply, sizeof reply);
	pthread_mutex_unlock(&reply_lock);
	free(rq);
	return (void *)w;
}

static void *acceptor(void *arg)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int id;
	while (read(server_fd, &id, sizeof id) == sizeof id && id >= 0) {
		struct request *rq = malloc(sizeof *rq);
		rq->id = id;
		pthread_t t;
		while (pthread_create(&t, &attr, handle, rq) != 0)
			sched_yield();
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

int main(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	server_fd = sv[1];
	for (int i = 0; i < SESSIONS; i++)
		pthread_mutex_init(&sessions[i].lock, NULL);
	pthread_t acc;
	pthread_create(&acc, NULL, acceptor, NULL);
	long sum = 0;
	for (int i = 0; i < REQUESTS; i++) {
		if (write(sv[0], &i, sizeof i) != sizeof i)
			return 1;
		if (i % 10 == 9) {          /* read the replies in batches, as a pipelining client */
			for (int j = 0; j < 10; j++) {
				int r;
				if (read(sv[0], &r, sizeof r) != sizeof r)
					return 1;
				sum += r;
			}
		}
	}
	int stop = -1;
	if (write(sv[0], &stop, sizeof stop) != sizeof stop)
		return 1;
	pthread_join(acc, NULL);
	pthread_mutex_lock(&stats_lock);
	long served = total_served;
	pthread_mutex_unlock(&stats_lock);
	long per = 0;
	for (int i = 0; i < SESSIONS; i++) {
		pthread_mutex_lock(&sessions[i].lock);
		per += sessions[i].served;
		pthread_mutex_unlock(&sessions[i].lock);
	}
	printf("server: requests %d served %ld sessions %ld bytes %ld replies %ld\n", REQUESTS,
	       served, per, bytes, sum);
	return 0;
}

/* Hook mode: races through the C library's memory and string functions, which the
 * compiler's hooks do not see (`lockwatch cc` links them through lockwatch).
 *
 * usage: mem_race copy|memset|string|search|dup|bulk|locked|joined|own|loop
 *   copy    one thread stores into a field of `config`; another copies the whole struct (the
 *           compiler's memcpy) and memcpy's its first bytes: a data race on config;
 *   memset  one thread clears `buffer` with memset while another reads a byte of it: a
 *           data race on buffer;
 *   string  one thread strcpy's into `name` while another takes its strlen and strcmp's it:
 *           a data race on name (and an atomicity violation when the strcpy falls between
 *           the two reads);
 *   search  the same strcpy while the other thread searches `name` (strchr, strrchr,
 *           memchr, strnlen): a data race on name;
 *   dup     the same strcpy while the other thread copies `name` with strdup and strndup:
 *           a data race on name;
 *   bulk    one thread memcpy's 1 KiB into `bulk`, another memcpy's it out: one data race
 *           on bulk (each copy is one record, not one a granule).  A socket pair, whose
 *           order lockwatch does not see, makes the second copy start after the first ended;
 *   locked  all of these, each under one mutex: no race;
 *   joined  all of these, the second thread's after joining the first: no race;
 *   own     each thread copies, clears and compares buffers of its own (heap and stack)
 *           and the strings nobody writes: no race;
 *   loop    one thread copies into `slot`, the other out of it, each under the mutex, 100
 *           rounds taken in turns (two pipes alternate them):
 *           no race, and no check-then-act (a copy out is not the act of the last one).
 * Exit status 0, or 2 on a bad argument. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct config {
	char label[32];
	long values[60];         /* 512 bytes in all: the copy is a memcpy call */
};

struct config config;
char buffer[64];
char name[32];
long bulk[128];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int locked;
static size_t prefix = 16;   /* a length the compiler does not know */
static size_t bulk_len = sizeof bulk;
static int copied[2] = { -1, -1 };   /* bulk: the writer's copy is done */
static long slot[32];
static int filled[2], emptied[2];    /* loop: the turns */

static void *filler(void *arg)
{
	long from[32] = { 0 };
	char c = 0;

	(void)arg;
	for (long round = 0; round < 100; round++) {
		from[round % 32] = round;
		pthread_mutex_lock(&lock);
		memcpy(slot, from, sizeof slot);
		pthread_mutex_unlock(&lock);
		if (write(filled[1], &c, 1) != 1 || read(emptied[0], &c, 1) != 1)
			exit(2);
	}
	return NULL;
}

static void writer_side(void)
{
	if (locked)
		pthread_mutex_lock(&lock);
	static long from[128] = { 1, 2, 3 };

	config.values[5] = 42;
	memset(buffer, 0, sizeof buffer);
	strcpy(name, "writer");
	memcpy(bulk, from, bulk_len);
	if (copied[1] >= 0 && write(copied[1], "", 1) != 1)
		exit(2);
	if (locked)
		pthread_mutex_unlock(&lock);
}

static long reader_side(void)
{
	static struct config copy;
	char head[64];
	long seen = 0;

	if (locked)
		pthread_mutex_lock(&lock);
	copy = config;
	memcpy(head, &config, prefix);
	seen += copy.values[5] + head[0];
	seen += buffer[10];
	seen += (long)strlen(name) + (strcmp(name, "writer") == 0);
	memcpy(copy.values, bulk, bulk_len / 4);
	seen += copy.values[1];
	if (locked)
		pthread_mutex_unlock(&lock);
	return seen;
}

static void *writer(void *arg)
{
	(void)arg;
	writer_side();
	return NULL;
}

/* Buffers and strings of the thread's own, and literals nobody writes. */
static void *own(void *arg)
{
	size_t n = 256 + (size_t)(long)arg;
	char *a = malloc(n), *b = malloc(n), stack[300];
	long sum = 0;

	for (int round = 0; round < 100; round++) {
		memset(a, round, n);
		memcpy(b, a, n);
		memmove(b + 1, b, n - 1);
		memcpy(stack, b, sizeof stack < n ? sizeof stack : n);
		strcpy(a, "own string");
		strncpy(b, a, 20);
		strcat(b, " more");
		sum += memcmp(a, b, 4) + (long)strlen(b) + strcmp(a, "own string") +
		       strncmp(b, "own", 3) + stack[7];
	}
	free(a);
	free(b);
	return (void *)sum;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t t, u;
	long seen = 0;

	if (!strcmp(mode, "loop")) {
		long out[32], sum = 0;
		char c = 0;
		if (pipe(filled) != 0 || pipe(emptied) != 0)
			return 2;
		pthread_create(&t, NULL, filler, NULL);
		for (long round = 0; round < 100; round++) {
			if (read(filled[0], &c, 1) != 1)
				return 2;
			pthread_mutex_lock(&lock);
			memcpy(out, slot, sizeof out);
			pthread_mutex_unlock(&lock);
			sum += out[round % 32];
			if (write(emptied[1], &c, 1) != 1)
				return 2;
		}
		pthread_join(t, NULL);
		printf("mem_race loop %ld\n", sum);
		return 0;
	}
	if (!strcmp(mode, "own")) {
		void *r1, *r2;
		pthread_create(&t, NULL, own, (void *)1L);
		pthread_create(&u, NULL, own, (void *)2L);
		pthread_join(t, &r1);
		pthread_join(u, &r2);
		printf("mem_race own %ld\n", (long)r1 + (long)r2);
		return 0;
	}
	if (!strcmp(mode, "locked")) {
		locked = 1;
	} else if (strcmp(mode, "copy") && strcmp(mode, "memset") && strcmp(mode, "string") &&
		   strcmp(mode, "search") && strcmp(mode, "dup") && strcmp(mode, "bulk") &&
		   strcmp(mode, "joined")) {
		fprintf(stderr, "usage: mem_race copy|memset|string|search|dup|bulk|locked|joined|"
				"own|loop\n");
		return 2;
	}
	if (!strcmp(mode, "bulk") && socketpair(AF_UNIX, SOCK_STREAM, 0, copied) != 0)
		return 2;
	pthread_create(&t, NULL, writer, NULL);
	if (!strcmp(mode, "joined"))
		pthread_join(t, NULL);
	/* Each racy mode races on one variable: the reader leaves the others to the joined
	 * writer's side. */
	if (!strcmp(mode, "copy")) {
		static struct config copy;
		copy = config;
		memcpy(copy.label, &config, prefix);
		seen = copy.values[5] + copy.label[0];
	} else if (!strcmp(mode, "memset")) {
		seen = buffer[10];
	} else if (!strcmp(mode, "string")) {
		seen = (long)strlen(name) + (strcmp(name, "writer") == 0);
	} else if (!strcmp(mode, "search")) {
		const char *p = strchr(name, 'i'), *q = strrchr(name, 'r');
		seen = (p ? 1 : 0) + (q ? 2 : 0) + (memchr(name, 't', 8) ? 4 : 0) +
		       (long)strnlen(name, 3);
	} else if (!strcmp(mode, "dup")) {
		char *a = strdup(name), *b = strndup(name, 4);
		seen = a && b ? (long)strlen(a) + (long)strlen(b) : 0;
		free(a);
		free(b);
	} else if (!strcmp(mode, "bulk")) {
		static long out[128];
		char c;
		if (read(copied[0], &c, 1) != 1)
			return 2;
		memcpy(out, bulk, bulk_len);
		seen = out[7];
	} else {
		seen = reader_side();
	}
	if (strcmp(mode, "joined"))
		pthread_join(t, NULL);
	printf("mem_race %s %ld\n", mode, seen);
	return 0;
}

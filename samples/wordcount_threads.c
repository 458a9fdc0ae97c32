/*
 * Lesson, exercise 4, with threads: count the words of several files in parallel, one
 * thread per file, and add the counts into one total under a mutex.  The program writes
 * its input files itself, into a fresh directory under /tmp, and removes them at the end.
 *
 * Expected: lockwatch reports nothing.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define N_FILES 4

static const char *const vocabulary[] = { "the", "quick", "brown", "fox", "jumps", "over",
					  "a", "lazy", "dog" };
static char dir[] = "/tmp/lockwatch-wordcount-XXXXXX";
static char paths[N_FILES][64];
static long total;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;

/* Writes file i with 1000 * (i + 1) words, a few per line; returns the number written. */
static long write_file(int i)
{
	long words = 1000L * (i + 1);
	FILE *f = fopen(paths[i], "w");

	if (!f) {
		perror(paths[i]);
		exit(1);
	}
	for (long w = 0; w < words; w++)
		fprintf(f, "%s%c", vocabulary[(w + i) % 9], w % 7 == 6 ? '\n' : ' ');
	fclose(f);
	return words;
}

/* Returns the number of words in path, or -1 if it cannot be read. */
static long count_words(const char *path)
{
	FILE *f = fopen(path, "r");
	long words = 0;
	int c, in_word = 0;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF) {
		if (isspace(c))
			in_word = 0;
		else if (!in_word) {
			in_word = 1;
			words++;
		}
	}
	fclose(f);
	return words;
}

static void *counter(void *arg)
{
	long n = count_words(arg);

	pthread_mutex_lock(&total_lock);
	total += n;
	pthread_mutex_unlock(&total_lock);
	return NULL;
}

int main(void)
{
	pthread_t t[N_FILES];
	long expected = 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	for (int i = 0; i < N_FILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/part-%d.txt", dir, i);
		expected += write_file(i);
	}
	for (int i = 0; i < N_FILES; i++)
		pthread_create(&t[i], NULL, counter, paths[i]);
	for (int i = 0; i < N_FILES; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N_FILES; i++)
		unlink(paths[i]);
	rmdir(dir);
	printf("%d files, %ld words (expected %ld)\n", N_FILES, total, expected);
	return total == expected ? 0 : 1;
}

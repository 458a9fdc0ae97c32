/*
 * Lesson, exercise 4, with processes: count the words of several files in parallel, one
 * child process per file (fork).  Each child sends its count back through a pipe; the
 * parent adds them up and waits for every child.  The program writes its input files
 * itself, into a fresh directory under /tmp, and removes them at the end.
 *
 * Under lockwatch each child writes its own trace, and `lockwatch run` analyzes the whole
 * process tree (here: five traces).
 *
 * Expected: lockwatch reports nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_FILES 4

static const char *const vocabulary[] = { "the", "quick", "brown", "fox", "jumps", "over",
					  "a", "lazy", "dog" };
static char dir[] = "/tmp/lockwatch-wordcount-XXXXXX";
static char paths[N_FILES][64];

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

int main(void)
{
	pid_t child[N_FILES];
	int from_child[N_FILES];
	long expected = 0, total = 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	for (int i = 0; i < N_FILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/part-%d.txt", dir, i);
		expected += write_file(i);
	}
	fflush(NULL);                           /* children must not repeat buffered output */
	for (int i = 0; i < N_FILES; i++) {
		int fds[2];

		if (pipe(fds) < 0) {
			perror("pipe");
			return 1;
		}
		child[i] = fork();
		if (child[i] < 0) {
			perror("fork");
			return 1;
		}
		if (child[i] == 0) {            /* the child: count one file, report, exit */
			long n = count_words(paths[i]);

			close(fds[0]);
			if (write(fds[1], &n, sizeof(n)) != sizeof(n))
				exit(1);
			exit(0);
		}
		close(fds[1]);
		from_child[i] = fds[0];
	}
	for (int i = 0; i < N_FILES; i++) {
		long n = 0;
		int status;

		if (read(from_child[i], &n, sizeof(n)) != sizeof(n))
			n = -1;
		close(from_child[i]);
		waitpid(child[i], &status, 0);
		total += n;
	}
	for (int i = 0; i < N_FILES; i++)
		unlink(paths[i]);
	rmdir(dir);
	printf("%d processes, %ld words (expected %ld)\n", N_FILES, total, expected);
	return total == expected ? 0 : 1;
}

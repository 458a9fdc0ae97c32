/* Shared by the bench programs: argument parsing and the checksum line run.sh compares. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses argv[index] as a number in [1, max], or returns def when it is absent.  Exits with
 * status 2 and a usage line on a malformed or out-of-range value. */
static inline unsigned long bench_arg(int argc, char **argv, int index, unsigned long def,
				      unsigned long max, const char *usage)
{
	char *end;
	unsigned long v;

	if (argc <= index)
		return def;
	errno = 0;
	v = strtoul(argv[index], &end, 10);
	if (errno != 0 || end == argv[index] || *end != '\0' || argv[index][0] == '-' || v == 0 ||
	    v > max) {
		fprintf(stderr, "usage: %s\n", usage);
		exit(2);
	}
	return v;
}

/* Exits with status 2 when a pthread call failed. */
static inline void bench_check(int err, const char *what)
{
	if (err != 0) {
		fprintf(stderr, "bench: %s: %s\n", what, strerror(err));
		exit(2);
	}
}

#endif

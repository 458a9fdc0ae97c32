/* Test program: stats one path argv[1] times from one call site, then once from another. */
#include <stdlib.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	struct stat st;
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	for (int i = 0; i < n; i++)
		stat("/", &st);
	return stat("/", &st) != 0;
}

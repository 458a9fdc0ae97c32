/* Test program: linked statically (see the Makefile), which LD_PRELOAD cannot reach. */
#include <stdio.h>

int main(void)
{
	puts("static");
	return 0;
}

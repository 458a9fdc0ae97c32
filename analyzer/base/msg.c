/* User-facing messages: "lockwatch: ..." on stderr, from one place. */
#include "base/msg.h"

#include <stdarg.h>
#include <stdio.h>

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("lockwatch: ", stderr);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void lw_msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void lw_msg_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void lw_msg_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fputs("Try 'lockwatch --help'.\n", stderr);
}

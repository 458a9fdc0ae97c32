/* A subcommand of lockwatch: its entry in main's table, and the exit statuses it returns. */
#ifndef LW_COMMAND_H
#define LW_COMMAND_H

#include <stdio.h>

/* Exit statuses (listed in lockwatch(1)). */
enum lw_exit {
	LW_EXIT_OK        = 0,   /* no error-level finding */
	LW_EXIT_FAILURE   = 1,   /* other failure, e.g. the report could not be written */
	LW_EXIT_USAGE     = 2,
	LW_EXIT_BAD_TRACE = 3,   /* unreadable or corrupt trace */
	LW_EXIT_FOUND     = 66,  /* error-level findings */
};

struct lw_cmd {
	const char *name;
	int       (*run)(int argc, char **argv);   /* argv[0] is the command name */
	void      (*usage)(FILE *out);
	const char *summary;
};

#endif

/* lockwatch: finds deadlocks and races in pthread programs from the shim's traces. */
#include "cli/cli.h"
#include "cc/cmd_cc.h"
#include "base/msg.h"

#include <stdio.h>
#include <string.h>

/* Every subcommand, in the order --help lists them (git's commands[]). */
static const struct lw_cmd *const commands[] = {
	&lw_cmd_run,
	&lw_cmd_report,
	&lw_cmd_dump,
	&lw_cmd_cc,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: lockwatch [--help] [--version] COMMAND [ARGS]\n\n"
	      "Finds deadlocks, races and lock misuse in pthread programs, without recompiling them.\n\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\nRun 'lockwatch COMMAND --help' for a command's options.\n"
	      "Exit status: 0 no error-level finding, 66 error-level findings, 2 usage error,\n"
	      "3 unreadable or corrupt trace, 1 other failure; 'run' otherwise returns the\n"
	      "program's own status.\n", out);
}

static int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		lw_msg_error("cannot write to standard output");
		return LW_EXIT_FAILURE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		lw_msg_usage("no command given");
		return LW_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return finish_stdout(LW_EXIT_OK);
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		lw_print_version();
		return finish_stdout(LW_EXIT_OK);
	}
	if (name[0] == '-') {
		lw_msg_usage("unknown option '%s'", name);
		return LW_EXIT_USAGE;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return finish_stdout(commands[i]->run(argc - 1, argv + 1));
	lw_msg_usage("unknown command '%s'", name);
	return LW_EXIT_USAGE;
}

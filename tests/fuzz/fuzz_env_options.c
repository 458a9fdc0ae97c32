/* libFuzzer target (issue 24): LOCKWATCH_OPTIONS as the CLI reads it (env_options.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/env_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "suppressions", "trace_dir", "level", "", "a" };
	char *opts = malloc(size + 1);

	if (!opts)
		return 0;
	memcpy(opts, data, size);
	opts[size] = '\0';
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char *v = lw_env_option(opts, keys[k]);
		char *rest = lw_env_options_without(opts, keys[k]);
		/* What is left has no pair with that key any more. */
		char *again = lw_env_option(rest, keys[k]);

		if (again && keys[k][0])
			abort();
		free(v);
		free(rest);
		free(again);
	}
	free(opts);
	return 0;
}

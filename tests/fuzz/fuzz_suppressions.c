/* libFuzzer target (issue 24): a suppressions file, then its patterns against a few names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/suppressions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"pthread_mutex_lock", "transfer_a_to_b", "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"src/bank.c", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	};
	struct lw_suppressions s = { 0 };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lw_suppressions_parse(&s, "fuzz.supp", text, size) == 0)
		for (size_t i = 0; i < s.v.n; i++)
			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				(void)lw_supp_match(s.v.v[i].pattern, names[k]);
	lw_suppressions_free(&s);
	free(text);
	return 0;
}

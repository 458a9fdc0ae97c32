/* libFuzzer target (issue 24): a baseline (a JSON report or SARIF log of lockwatch). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_baseline b = { 0 };
	/* A copy of exactly size bytes: the parser must not read past its end. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (lw_baseline_parse(&b, "fuzz.json", text, size) == 0)
		(void)lw_baseline_has(&b, "0123456789abcdef");
	lw_baseline_free(&b);
	free(text);
	return 0;
}

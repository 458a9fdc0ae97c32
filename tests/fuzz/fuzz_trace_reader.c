/* libFuzzer target: the trace reader, then the model and the detectors, on any bytes. */
/*
 * Built by `make fuzz-smoke` / `make fuzz` with clang -fsanitize=fuzzer,address,undefined
 * over the analyzer's sources (main.c left out).  Every input must be either rejected by
 * lw_trace_parse with a message, or parsed and analyzed without a crash, a sanitizer
 * report, a leak or unbounded memory (libFuzzer's -rss_limit_mb).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/findings.h"
#include "detect/analyze.h"
#include "trace/model.h"
#include "trace/trace_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_trace t;
	struct lw_trace_error err;
	/* The reader maps files, which are page-aligned: give it an aligned copy. */
	void *buf = NULL;
	if (posix_memalign(&buf, 4096, size ? size : 1) != 0)
		return 0;
	memcpy(buf, data, size);
	if (lw_trace_parse(buf, size, "fuzz.trace", &t, &err) == 0) {
		/* Touch every record the reader accepted, as the model will. */
		volatile uint64_t sum = 0;
		for (size_t i = 0; i < t.n_recs; i++) {
			const unsigned char *r = lw_trace_record(&t, i);
			sum += r[t.recs[i].size - 1];
		}
		/* Then what `lockwatch report` does with it. */
		struct lw_model *m = lw_model_new();
		struct lw_findings fs = { 0 };
		lw_model_add_trace(m, &t);
		lw_trace_close(&t);
		lw_model_finish(m);
		lw_analyze(m, &fs);
		lw_findings_free(&fs);
		lw_model_free(m);
	} else {
		char line[512];
		lw_trace_error_format("fuzz.trace", &err, line, sizeof line);
		if (!line[0] || strchr(line, '\n'))
			abort();             /* the error must be one non-empty line */
	}
	free(buf);
	return 0;
}

/* Stable finding fingerprints: for SARIF partialFingerprints and --baseline. */
#ifndef LW_FINGERPRINT_H
#define LW_FINGERPRINT_H

#include "detect/findings.h"

/* 16 lower-case hex digits and a NUL. */
#define LW_FINGERPRINT_LEN 17

/* Writes f's fingerprint into out.  It is built from the finding's kind, its lock and
 * variable names and the function names at the top of its stacks, never from addresses,
 * line numbers, thread or process ids, so it survives unrelated code motion and reruns:
 * the same inversion in the same functions keeps its fingerprint.  Cannot fail. */
void lw_finding_fingerprint(const struct lw_finding *f, char out[LW_FINGERPRINT_LEN]);

#endif

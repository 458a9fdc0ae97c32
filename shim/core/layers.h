/* The layers above the core (locks/, access/), called at the moments only the core sees. */
#ifndef LW_CORE_LAYERS_H
#define LW_CORE_LAYERS_H

#include <stdbool.h>

#include "core/defs.h"

struct lw_thread;

/* What a layer above the core asks to be told: at start-up, when a thread ends, in a fork
 * child.  So the core calls up without naming anything above it.  Each layer defines one with
 * LW_LAYER; the linker gathers them in the section lw_layers, so that there is no
 * registration to run first (another library's constructor may start the shim before ours
 * runs).  Any member may be NULL. */
struct lw_layer {
	const char *name;
	unsigned rank;               /* lower ranks are called first: locks 1, access 2 */
	/* A LOCKWATCH_OPTIONS key the core does not know: returns whether the layer took it. */
	bool (*option)(const char *key, const char *val);
	/* After the options, before the trace opens: may raise the recording level. */
	void (*configure)(void);
	/* With the trace open, in the only thread, before the shim is ready. */
	void (*started)(void);
	/* Thread t ends (called by t), before its THREAD_END record. */
	void (*thread_ended)(struct lw_thread *t);
	/* In a fork() child, before its own trace opens. */
	void (*forked)(void);
	/* In a fork() child whose own trace is open. */
	void (*forked_traced)(void);
	/* Issue 22: the process ends through exit() (or main's return), called by thread t
	 * (NULL: a thread the shim never saw), before the trace closes. */
	void (*process_exiting)(struct lw_thread *t);
};

/* Defines a layer: LW_LAYER(locks) = { .name = "locks", ... };  A pointer to it goes into the
 * section (pointers, not the structures: the compiler may align a large structure more than
 * its size, which would leave gaps). */
#define LW_LAYER(id) \
	static const struct lw_layer lw_layer_##id; \
	__attribute__((used, section("lw_layers"))) \
	static const struct lw_layer *const lw_layer_ptr_##id = &lw_layer_##id; \
	static const struct lw_layer lw_layer_##id

/* Each calls the member of that name of every layer that has one, lower ranks first. */
/* Returns whether a layer took the option. */
LW_HIDDEN bool lw_layers_option(const char *key, const char *val);
LW_HIDDEN void lw_layers_configure(void);
LW_HIDDEN void lw_layers_started(void);
LW_HIDDEN void lw_layers_thread_ended(struct lw_thread *t);
LW_HIDDEN void lw_layers_forked(void);
LW_HIDDEN void lw_layers_forked_traced(void);
LW_HIDDEN void lw_layers_process_exiting(struct lw_thread *t);   /* issue 22 */

#endif

/* Calls into the layers above the core, through what each defined with LW_LAYER. */
#include <stddef.h>

#include "core/layers.h"

/* The bounds of the section lw_layers, set by the linker. */
extern const struct lw_layer *const __start_lw_layers[] LW_HIDDEN;
extern const struct lw_layer *const __stop_lw_layers[] LW_HIDDEN;

/* Highest rank a layer may have. */
#define MAX_RANK 8

/* Returns the n-th layer in rank order (ties in link order), or NULL past the last. */
static const struct lw_layer *layer_at(size_t n)
{
	for (unsigned rank = 0; rank <= MAX_RANK; rank++)
		for (const struct lw_layer *const *p = __start_lw_layers; p < __stop_lw_layers; p++)
			if ((*p)->rank == rank && n-- == 0)
				return *p;
	return NULL;
}

#define EACH_LAYER(l) \
	for (size_t i_ = 0; ((l) = layer_at(i_)) != NULL; i_++)

bool lw_layers_option(const char *key, const char *val)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->option && l->option(key, val))
			return true;
	return false;
}

void lw_layers_configure(void)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->configure)
			l->configure();
}

void lw_layers_started(void)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->started)
			l->started();
}

void lw_layers_thread_ended(struct lw_thread *t)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->thread_ended)
			l->thread_ended(t);
}

void lw_layers_forked(void)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->forked)
			l->forked();
}

void lw_layers_forked_traced(void)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->forked_traced)
			l->forked_traced();
}

/* Issue 22. */
void lw_layers_process_exiting(struct lw_thread *t)
{
	const struct lw_layer *l;
	EACH_LAYER(l)
		if (l->process_exiting)
			l->process_exiting(t);
}

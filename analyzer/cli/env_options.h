/* LOCKWATCH_OPTIONS as the CLI reads it: the keys meant for lockwatch itself, not the shim. */
#ifndef LW_ENV_OPTIONS_H
#define LW_ENV_OPTIONS_H

/* Returns the value of key in opts ("k=v" pairs separated by ':' or white space, values
 * optionally quoted with ' or ", the syntax of liblockwatch(7)), malloc'd; NULL if absent or
 * opts is NULL.  The last occurrence wins. */
char *lw_env_option(const char *opts, const char *key);

/* Returns a malloc'd copy of opts without the pairs whose key is key (quoting kept as is). */
char *lw_env_options_without(const char *opts, const char *key);

#endif

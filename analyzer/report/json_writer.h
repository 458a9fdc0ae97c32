/* A small streaming JSON emitter with correct string escaping for any bytes. */
#ifndef LW_JSON_WRITER_H
#define LW_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lw_json {
	FILE *out;
	int   depth;
	bool  need_comma[64];
	bool  after_key;
};

void lw_json_init(struct lw_json *j, FILE *out);
void lw_json_begin_object(struct lw_json *j);
void lw_json_end_object(struct lw_json *j);
void lw_json_begin_array(struct lw_json *j);
void lw_json_end_array(struct lw_json *j);
/* Writes an object key; the next value belongs to it. */
void lw_json_key(struct lw_json *j, const char *key);
/* Writes s as a JSON string (null if s is NULL).  Bytes that are not valid UTF-8 are written
 * as U+FFFD; control characters, quotes and backslashes are escaped. */
void lw_json_string(struct lw_json *j, const char *s);
void lw_json_int(struct lw_json *j, int64_t v);
void lw_json_bool(struct lw_json *j, bool v);
void lw_json_null(struct lw_json *j);
/* Writes "0x..." */
void lw_json_hex(struct lw_json *j, uint64_t v);

#endif

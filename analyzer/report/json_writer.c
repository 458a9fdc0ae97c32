/* JSON emitter: structure tracking for commas, and UTF-8-validating string escaping. */
#include "report/json_writer.h"

#include <inttypes.h>

void lw_json_init(struct lw_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->need_comma[0] = false;
	j->after_key = false;
}

/* Emits the separator before a value. */
static void value_prefix(struct lw_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
}

static void open_container(struct lw_json *j, int c)
{
	value_prefix(j);
	fputc(c, j->out);
	if (j->depth < 63)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_container(struct lw_json *j, int c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void lw_json_begin_object(struct lw_json *j) { open_container(j, '{'); }
void lw_json_end_object(struct lw_json *j)   { close_container(j, '}'); }
void lw_json_begin_array(struct lw_json *j)  { open_container(j, '['); }
void lw_json_end_array(struct lw_json *j)    { close_container(j, ']'); }

static void raw_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		unsigned c = *p;
		size_t n = 0;
		uint32_t cp = 0;

		if (c < 0x80) {
			switch (c) {
			case '"':  fputs("\\\"", out); break;
			case '\\': fputs("\\\\", out); break;
			case '\n': fputs("\\n", out); break;
			case '\r': fputs("\\r", out); break;
			case '\t': fputs("\\t", out); break;
			case '\b': fputs("\\b", out); break;
			case '\f': fputs("\\f", out); break;
			default:
				if (c < 0x20 || c == 0x7f)
					fprintf(out, "\\u%04x", c);
				else
					fputc((int)c, out);
			}
			p++;
			continue;
		}
		/* Multi-byte UTF-8: copy it if well-formed (no overlongs, no surrogates, at most
		 * U+10FFFF), else write U+FFFD for the first byte and go on. */
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		}
		if (n) {
			size_t i;

			for (i = 1; i <= n; i++) {
				if ((p[i] & 0xc0) != 0x80)
					break;
				cp = cp << 6 | (p[i] & 0x3f);
			}
			if (i > n && !(n == 2 && cp < 0x800) && !(n == 3 && cp < 0x10000) &&
			    !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff) {
				fwrite(p, 1, n + 1, out);
				p += n + 1;
				continue;
			}
		}
		fputs("\\ufffd", out);
		p++;
	}
	fputc('"', out);
}

void lw_json_key(struct lw_json *j, const char *key)
{
	value_prefix(j);
	raw_string(j->out, key);
	fputc(':', j->out);
	j->after_key = true;
}

void lw_json_string(struct lw_json *j, const char *s)
{
	value_prefix(j);
	if (s)
		raw_string(j->out, s);
	else
		fputs("null", j->out);
}

void lw_json_int(struct lw_json *j, int64_t v)
{
	value_prefix(j);
	fprintf(j->out, "%" PRId64, v);
}

void lw_json_bool(struct lw_json *j, bool v)
{
	value_prefix(j);
	fputs(v ? "true" : "false", j->out);
}

void lw_json_null(struct lw_json *j)
{
	value_prefix(j);
	fputs("null", j->out);
}

void lw_json_hex(struct lw_json *j, uint64_t v)
{
	value_prefix(j);
	fprintf(j->out, "\"0x%" PRIx64 "\"", v);
}

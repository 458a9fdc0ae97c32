/* Unit tests for analyzer/report/render_json.c, render_text.c and json_writer.c. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/findings.h"
#include "detect/analyze.h"
#include "report/json_writer.h"
#include "trace/model.h"
#include "report/render.h"
#include "report/fingerprint.h"
#include "trace_builder.h"
#include "trace/trace_reader.h"

static struct lw_findings fs;

static void teardown(void)
{
	lw_findings_free(&fs);
}

TestSuite(render, .fini = teardown, .timeout = 10);

/* An A/B inversion between T2 and T3 with a stack on the first acquisition. */
static void inversion(void)
{
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();
	uint64_t pcs[2] = { 0x401234, 0x405678 };
	struct lw_held h = tb_held(0x1000, 0, LW_MODE_WRITE);

	tb_init(&b, 99);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);
	tb_stack(&b, 5, 2, pcs);
	h.stack = 5;
	tb_acquire_full(&b, 2, 0x2000, 0, LW_MODE_WRITE, 0, 5, 1, &h);
	tb_edge(&b, 3, 0x2000, 0x1000);
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0);
	lw_model_add_trace(m, &t);
	lw_model_finish(m);
	lw_analyze(m, &fs);
	lw_model_free(m);
	lw_trace_close(&t);
	tb_free(&b);
}

static char *render(bool json)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert(f);
	if (json)
		lw_render_json(&fs, f);
	else
		lw_render_text(&fs, f);
	fclose(f);
	return out;
}

Test(render, json_contract)
{
	char *s;
	json_t *root, *f, *e, *fr;
	json_error_t jerr;

	inversion();
	s = render(true);
	root = json_loads(s, 0, &jerr);
	cr_assert(root, "invalid JSON: %s\n%s", jerr.text, s);
	cr_assert_str_eq(json_string_value(json_object_get(root, "tool")), "lockwatch");
	cr_assert_str_eq(json_string_value(json_object_get(root, "version")), "0.1.0");
	cr_assert_eq(json_array_size(json_object_get(root, "findings")), 1);
	f = json_array_get(json_object_get(root, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "lock-order-cycle");
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(f, "message")),
			 "lock 0x1000 -> lock 0x2000 -> lock 0x1000");
	cr_assert_eq(json_array_size(json_object_get(f, "locks")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(f, "locks"), 0),
							   "address")), "0x1000");
	cr_assert_null(json_object_get(f, "reason"));
	cr_assert_eq(json_integer_value(json_object_get(f, "count")), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(f, "process"), "pid")), 99);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "process"), "exe")),
			 "/test/prog");
	e = json_array_get(json_object_get(f, "edges"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "from")), "lock 0x1000");
	cr_assert_str_eq(json_string_value(json_object_get(e, "to")), "lock 0x2000");
	cr_assert_eq(json_integer_value(json_object_get(e, "thread")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(e, "mode")), "write");
	cr_assert(json_is_false(json_object_get(e, "try")));
	cr_assert(json_is_false(json_object_get(e, "timed")));
	cr_assert_eq(json_array_size(json_object_get(e, "to_stack")), 2);
	fr = json_array_get(json_object_get(e, "to_stack"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(fr, "pc")), "0x401234");
	cr_assert(json_is_null(json_object_get(fr, "function")));
	cr_assert(json_is_null(json_object_get(fr, "file")));
	cr_assert(json_is_null(json_object_get(fr, "line")));
	cr_assert(json_is_null(json_object_get(fr, "module")));
	cr_assert_eq(json_array_size(json_object_get(f, "threads")), 2);
	json_decref(root);
	free(s);
}

Test(render, json_warning_has_reason)
{
	char *s;
	json_t *root, *f;
	json_error_t jerr;
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();

	tb_init(&b, 1);
	tb_edge(&b, 1, 0x1000, 0x2000);
	tb_edge(&b, 1, 0x2000, 0x1000);
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0);
	lw_model_add_trace(m, &t);
	lw_model_finish(m);
	lw_analyze(m, &fs);
	s = render(true);
	root = json_loads(s, 0, &jerr);
	cr_assert(root, "%s", jerr.text);
	f = json_array_get(json_object_get(root, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "warning");
	cr_assert_str_eq(json_string_value(json_object_get(f, "reason")), "single-thread");
	json_decref(root);
	free(s);
	lw_model_free(m);
	lw_trace_close(&t);
	tb_free(&b);
}

Test(render, text_report)
{
	char *s;

	inversion();
	s = render(false);
	cr_assert(strstr(s, "lockwatch: ERROR: lock-order-cycle: lock 0x1000 -> lock 0x2000 -> "
			    "lock 0x1000 (seen 2 times)\n"), "%s", s);
	cr_assert(strstr(s, "thread T2 acquired lock 0x2000 at:\n      #0 0x401234\n      #1 0x405678\n"
			    "    while holding lock 0x1000 acquired at:\n      #0 0x401234\n"), "%s", s);
	cr_assert(strstr(s, "lock(lock 0x1000);"), "%s", s);
	cr_assert(strstr(s, "*** DEADLOCK ***"), "%s", s);
	cr_assert(strstr(s, "lockwatch: 1 error, 0 warnings in 1 process\n"), "%s", s);
	free(s);
}

Test(render, empty_report)
{
	char *s;

	fs.n_processes = 2;
	s = render(false);
	cr_assert_str_eq(s, "lockwatch: 0 errors, 0 warnings in 2 processes\n");
	free(s);
	s = render(true);
	cr_assert_str_eq(s, "{\"tool\":\"lockwatch\",\"version\":\"0.1.0\",\"findings\":[]}\n");
	free(s);
}

/* Every byte sequence must come out as valid JSON that decodes to what was meant. */
Test(render, json_string_escaping)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct lw_json j;
	json_t *root;
	json_error_t jerr;
	/* After "bad": a stray byte, a truncated sequence, an overlong, a surrogate and a
	 * code point past U+10FFFF: each byte of the bad ones becomes one U+FFFD. */
	const char *in = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
			 " bad\xff\xc3(\xe0\x80\x80\xed\xa0\x80\xf4\x90\x80\x80 end";

	lw_json_init(&j, f);
	lw_json_begin_array(&j);
	lw_json_string(&j, in);
	lw_json_string(&j, NULL);
	lw_json_int(&j, -5);
	lw_json_bool(&j, true);
	lw_json_hex(&j, 0xdeadbeef);
	lw_json_begin_object(&j);
	lw_json_key(&j, "k\"");
	lw_json_null(&j);
	lw_json_end_object(&j);
	lw_json_end_array(&j);
	fclose(f);
	root = json_loads(out, 0, &jerr);
	cr_assert(root, "invalid JSON (%s): %s", jerr.text, out);
	cr_assert_str_eq(json_string_value(json_array_get(root, 0)),
			 "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
			 " bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd end");
	cr_assert(json_is_null(json_array_get(root, 1)));
	cr_assert_eq(json_integer_value(json_array_get(root, 2)), -5);
	cr_assert(json_is_true(json_array_get(root, 3)));
	cr_assert_str_eq(json_string_value(json_array_get(root, 4)), "0xdeadbeef");
	cr_assert(json_is_null(json_object_get(json_array_get(root, 5), "k\"")));
	json_decref(root);
	free(out);
}

Test(render, deadlock_and_misuse_reports)
{
	struct tb b;
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();
	uint32_t tids[2] = { 2, 3 };
	uint64_t held[2] = { 0x1000, 0x2000 }, waits[2] = { 0x2000, 0x1000 };
	char *s;
	json_t *root, *f, *th;
	json_error_t jerr;

	tb_init(&b, 4);
	tb_thread(&b, 1, 0);
	tb_thread(&b, 2, 1);
	tb_thread(&b, 3, 1);
	tb_deadlock2(&b, tids, held, waits);
	tb_misuse(&b, 2, LW_MISUSE_DESTROY_LOCKED, 0x1000);
	cr_assert_eq(lw_trace_parse(b.buf, b.len, "t", &t, &err), 0);
	lw_model_add_trace(m, &t);
	lw_model_finish(m);
	lw_analyze(m, &fs);
	s = render(false);
	cr_assert(strstr(s, "lockwatch: ERROR: deadlock: threads T2, T3 wait for each other's locks\n"),
		  "%s", s);
	cr_assert(strstr(s, "thread T2 waits for lock 0x2000 at:"), "%s", s);
	cr_assert(strstr(s, "holding mutex 0x1000, acquired at:"), "%s", s);
	cr_assert(strstr(s, "lockwatch: ERROR: misuse: thread T2 destroyed mutex 0x1000 while it "
			    "was locked\n"), "%s", s);
	cr_assert(strstr(s, "lockwatch: 2 errors, 0 warnings in 1 process\n"), "%s", s);
	free(s);
	s = render(true);
	root = json_loads(s, 0, &jerr);
	cr_assert(root, "%s", jerr.text);
	f = json_array_get(json_object_get(root, "findings"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "deadlock");
	th = json_array_get(json_object_get(f, "threads"), 0);
	cr_assert_eq(json_integer_value(json_object_get(th, "tid")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(th, "waiting_for")), "lock 0x2000");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(th, "held"), 0),
							   "lock")), "mutex 0x1000");
	f = json_array_get(json_object_get(root, "findings"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "misuse");
	cr_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
	json_decref(root);
	free(s);
	lw_model_free(m);
	lw_trace_close(&t);
	tb_free(&b);
}

/* Issue 21: two findings that differ only in the digits of their variable's name (g1 and
 * g2) are two findings, not one seen twice; thread numbers in the message still do not
 * count. */
Test(render, digits_of_a_variable_name_tell_findings_apart)
{
	struct tb tr;
	struct lw_trace t;
	struct lw_trace_error err;
	struct lw_model *m = lw_model_new();

	tb_init(&tr, 99);
	tb_thread(&tr, 1, 0);
	cr_assert_eq(lw_trace_parse(tr.buf, tr.len, "t", &t, &err), 0);
	lw_model_add_trace(m, &t);
	lw_model_finish(m);

	struct lw_finding *a = lw_finding_new(&fs, LW_FIND_DATA_RACE, LW_SEV_ERROR, m, 0);
	struct lw_finding *b = lw_finding_new(&fs, LW_FIND_DATA_RACE, LW_SEV_ERROR, m, 0);
	struct lw_finding *c = lw_finding_new(&fs, LW_FIND_DATA_RACE, LW_SEV_ERROR, m, 0);
	char fa[LW_FINGERPRINT_LEN], fb[LW_FINGERPRINT_LEN], fc[LW_FINGERPRINT_LEN];

	a->variable.name = lw_xstrdup("g1");
	a->message = lw_xstrdup("data race on g1: write by T2 and write by T3");
	b->variable.name = lw_xstrdup("g2");
	b->message = lw_xstrdup("data race on g2: write by T2 and write by T3");
	c->variable.name = lw_xstrdup("g1");
	c->message = lw_xstrdup("data race on g1: write by T4 and write by T7");
	lw_finding_fingerprint(a, fa);
	lw_finding_fingerprint(b, fb);
	lw_finding_fingerprint(c, fc);
	cr_assert_str_neq(fa, fb);
	cr_assert_str_eq(fa, fc);
	/* Elements of one array are one variable. */
	free(b->variable.name);
	free(b->message);
	free(c->variable.name);
	free(c->message);
	b->variable.name = lw_xstrdup("name");
	b->message = lw_xstrdup("data race on name: write by T2 and write by T3");
	c->variable.name = lw_xstrdup("name[2]");
	c->message = lw_xstrdup("data race on name[2]: write by T2 and write by T3");
	lw_finding_fingerprint(b, fb);
	lw_finding_fingerprint(c, fc);
	cr_assert_str_eq(fb, fc);
	lw_model_free(m);
	lw_trace_close(&t);
	tb_free(&tr);
}

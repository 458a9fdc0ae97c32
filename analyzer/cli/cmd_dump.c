/* lockwatch dump: print every record of a trace, one per line. */
#include "cli/cli.h"
#include "base/msg.h"
#include "trace/model.h"
#include "trace/trace_reader.h"
#include "cli/env_options.h"
#include <errno.h>
#include <stdlib.h>

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static void dump_usage(FILE *out)
{
	fputs("usage: lockwatch dump TRACE\n\n"
	      "Prints the header and every record of a trace file, one per line.\n\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  show the version\n", out);
}

static void flags_text(FILE *out, unsigned flags)
{
	static const char *const names[] = { "try", "timed", "contended", "cond-reacquire" };
	bool any = false;

	for (unsigned i = 0; i < 4; i++)
		if (flags & (1u << i)) {
			fprintf(out, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	if (flags >> 4)
		fprintf(out, "%s0x%x", any ? "," : "", flags & ~0xfu);
	else if (!any)
		fputs("-", out);
}

static const char *mode_text(unsigned mode)
{
	return mode == LW_MODE_WRITE ? "write" : mode == LW_MODE_READ ? "read" : "?";
}

static void held_text(FILE *out, const unsigned char *p, uint32_t n)
{
	fputs(" held [", out);
	for (uint32_t i = 0; i < n; i++) {
		struct lw_held h;

		memcpy(&h, p + (size_t)i * sizeof(h), sizeof(h));
		fprintf(out, "%s0x%" PRIx64 "/%" PRIu32 " %s ", i ? ", " : "", h.addr, h.gen,
			mode_text(h.mode));
		flags_text(out, h.flags);
		fprintf(out, " stack %" PRIu32, h.stack);
	}
	fputs("]", out);
}

static void dump_record(FILE *out, const unsigned char *r, uint32_t kind)
{
	switch (kind) {
	case LW_REC_MODULE: {
		struct lw_rec_module x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " base 0x%" PRIx64 " range 0x%" PRIx64 "-0x%" PRIx64 " build-id ",
			x.base, x.lo, x.hi);
		for (unsigned i = 0; i < x.build_id_len; i++)
			fprintf(out, "%02x", r[sizeof(x) + i]);
		if (!x.build_id_len)
			fputs("-", out);
		fputs(" path ", out);
		for (unsigned i = 0; i < x.path_len; i++) {
			unsigned char c = r[sizeof(x) + x.build_id_len + i];

			if (c < 0x20 || c == 0x7f || c == '\\')
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
		break;
	}
	case LW_REC_STACK: {
		struct lw_rec_stack x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " id %" PRIu32 " depth %" PRIu32 ":", x.id, x.depth);
		for (uint32_t i = 0; i < x.depth; i++) {
			uint64_t pc;

			memcpy(&pc, r + sizeof(x) + (size_t)i * 8, 8);
			fprintf(out, " 0x%" PRIx64, pc);
		}
		break;
	}
	case LW_REC_THREAD: {
		struct lw_rec_thread x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " parent %" PRIu32 " os_tid %" PRId32 " create_stack %"
			PRIu32 " start 0x%" PRIx64 " seq %" PRIu64, x.tid, x.parent, x.os_tid,
			x.create_stack, x.start_routine, x.seq);
		break;
	}
	case LW_REC_THREAD_END: {
		struct lw_rec_thread_end x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " flags 0x%" PRIx32 "%s seq %" PRIu64, x.tid, x.flags,
			x.flags & LW_ENDF_HELD_LOCKS ? " (held locks)" : "", x.seq);
		break;
	}
	case LW_REC_THREADS_LIKE: {   /* issue 23 (perf) */
		struct lw_rec_threads_like x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " like %" PRIu32 " count %" PRIu32 " create_stack %" PRIu32
			" start 0x%" PRIx64 " seq %" PRIu64, x.like, x.count, x.create_stack,
			x.start_routine, x.seq);
		break;
	}
	case LW_REC_JOIN: {
		struct lw_rec_join x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " joiner %" PRIu32 " joined %" PRIu32 " stack %" PRIu32 " seq %" PRIu64,
			x.joiner, x.joined, x.stack, x.seq);
		break;
	}
	case LW_REC_LOCK_INIT: {
		struct lw_rec_lock_init x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " lock 0x%" PRIx64 "/%" PRIu32 " kind %s flags 0x%x%s stack %" PRIu32
			" tid %" PRIu32 " seq %" PRIu64, x.addr, x.gen, lw_lock_kind_name(x.lock_kind),
			x.flags, x.flags & LW_LOCKF_STATIC ? " (static)" : "", x.stack, x.tid, x.seq);
		if (x.flags & LW_LOCKF_SHARED_MAP) {
			struct lw_lock_init_shared sh;

			memcpy(&sh, r + sizeof(x), sizeof(sh));
			fprintf(out, " shared dev 0x%" PRIx64 " ino %" PRIu64 " offset 0x%" PRIx64,
				sh.dev, sh.ino, sh.offset);
		}
		break;
	}
	case LW_REC_LOCK_DESTROY: {
		struct lw_rec_lock_destroy x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " lock 0x%" PRIx64 "/%" PRIu32 " stack %" PRIu32 " tid %" PRIu32
			" seq %" PRIu64, x.addr, x.gen, x.stack, x.tid, x.seq);
		break;
	}
	case LW_REC_ACQUIRE: {
		struct lw_rec_acquire x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " lock 0x%" PRIx64 "/%" PRIu32 " %s ", x.tid, x.addr,
			x.gen, mode_text(x.mode));
		flags_text(out, x.flags);
		fprintf(out, " stack %" PRIu32 " seq %" PRIu64, x.stack, x.seq);
		held_text(out, r + sizeof(x), x.n_held);
		break;
	}
	case LW_REC_RELEASE: {
		struct lw_rec_release x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " lock 0x%" PRIx64 "/%" PRIu32 " seq %" PRIu64, x.tid,
			x.addr, x.gen, x.seq);
		break;
	}
	case LW_REC_SEM_SIGNAL:
	case LW_REC_SEM_LOCKLIKE: {
		struct lw_rec_sem_locklike x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " sem 0x%" PRIx64 "/%" PRIu32, x.tid, x.addr, x.gen);
		break;
	}
	case LW_REC_DEADLOCK: {
		struct lw_rec_deadlock x;
		size_t off = sizeof(x);

		memcpy(&x, r, sizeof(x));
		fprintf(out, " reason %" PRIu32 " seq %" PRIu64 " threads %" PRIu32, x.reason, x.seq,
			x.n_threads);
		for (uint32_t i = 0; i < x.n_threads; i++) {
			struct lw_deadlock_thread t;

			memcpy(&t, r + off, sizeof(t));
			off += sizeof(t);
			fprintf(out, " {tid %" PRIu32 " stack %" PRIu32 " waits 0x%" PRIx64 "/%" PRIu32
				" kind 0x%x %s", t.tid, t.stack, t.wait_addr, t.wait_gen, t.wait_kind,
				mode_text(t.wait_mode));
			held_text(out, r + off, t.n_held);
			off += (size_t)t.n_held * sizeof(struct lw_held);
			fputs("}", out);
		}
		break;
	}
	case LW_REC_MISUSE: {
		struct lw_rec_misuse x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " what %u kind %s lock 0x%" PRIx64 "/%" PRIu32 " stack %"
			PRIu32 " other_tid %" PRIu32 " other_stack %" PRIu32 " value 0x%" PRIx64
			" seq %" PRIu64, x.tid, x.what, lw_lock_kind_name(x.lock_kind), x.addr,
			x.gen, x.stack, x.other_tid, x.other_stack, x.value, x.seq);
		break;
	}
	case LW_REC_ACCESS: {
		struct lw_rec_access x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " %s%s%s%s size %u addr 0x%" PRIx64 " pc 0x%" PRIx64
			" value 0x%" PRIx64 " stack %" PRIu32 " seq %" PRIu64, x.tid,
			(x.flags & LW_ACCESS_READ) ? "r" : "", (x.flags & LW_ACCESS_WRITE) ? "w" : "",
			(x.flags & LW_ACCESS_ATOMIC) ? " atomic" : "",
			(x.flags & LW_ACCESS_AFTER) ? " after" : "", x.size, x.addr, x.pc, x.value,
			x.stack, x.seq);
		if (x.flags & LW_ACCESS_AFTER)
			fprintf(out, " sub %" PRIu32, x.sub);
		if (x.flags & LW_ACCESS_UPDATE)
			fprintf(out, " update: write pc 0x%" PRIx64 " stack %" PRIu32 " sub %" PRIu32,
				(uint64_t)LW_UPDATE_PC(x.value), LW_UPDATE_STACK(x.value), x.sub + 1);
		fprintf(out, " source 0x%x", x.flags & ~0xffu);
		break;
	}
	case LW_REC_SYNC: {
		struct lw_rec_sync x;
		static const char *const ops[] = { "?", "sem-post", "cond-signal", "cond-broadcast",
						   "cond-wake", "barrier-arrive", "barrier-depart",
						   "atomic-begin", "atomic-end", "fork",
						   "wait-child", "system-begin", "system-end",
						   "window-open", "fence",     /* 13, 14: issue 20 */
						   "channel-send", "channel-recv" };

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " op %s addr 0x%" PRIx64 " value 0x%" PRIx64 " stack %"
			PRIu32 " seq %" PRIu64, x.tid,
			x.op < sizeof(ops) / sizeof(ops[0]) ? ops[x.op] : "?", x.addr, x.value,
			x.stack, x.seq);
		break;
	}
	case LW_REC_ALLOC: {
		struct lw_rec_alloc x;
		static const char *const fns[] = { "?", "malloc", "calloc", "realloc", "aligned",
						   "strdup", "new", "new[]" };

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " %s addr 0x%" PRIx64 " size %" PRIu64 " slack %" PRIu32
			" pc 0x%" PRIx64 " stack %" PRIu32 " seq %" PRIu64, x.tid,
			x.fn <= LW_ALLOC_FN_MAX ? fns[x.fn] : "?", x.addr, x.size, x.slack, x.pc,
			x.stack, x.seq);
		break;
	}
	case LW_REC_RACE_CAUGHT: {   /* issue 20 */
		struct lw_rec_race_caught x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " addr 0x%" PRIx64 " size %" PRIu32 " tid1 %" PRIu32 " flags1 0x%x pc1 0x%"
			PRIx64 " stack1 %" PRIu32 " tid2 %" PRIu32 " flags2 0x%x pc2 0x%" PRIx64
			" stack2 %" PRIu32 " seq %" PRIu64, x.addr, x.size, x.tid1, x.flags1, x.pc1,
			x.stack1, x.tid2, x.flags2, x.pc2, x.stack2, x.seq);
		break;
	}
	case LW_REC_COLLIDER: {
		struct lw_rec_collider x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " state %" PRIu32 " err %" PRId32 " candidates %" PRIu64 " sampled %"
			PRIu64 " fired %" PRIu64 " watched %" PRIu64 " caught %" PRIu64 " skipped %"
			PRIu64 " sample_ns %" PRIu64, x.state, x.err, x.candidates, x.sampled, x.fired,
			x.watched, x.caught, x.skipped, x.sample_ns);
		break;
	}
	case LW_REC_COVERAGE: {      /* issue 20 */
		struct lw_rec_coverage x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " status %u flags 0x%x err %" PRId32 " globals %" PRIu32 "/%" PRIu32
			" granules %" PRIu32 "/%" PRIu32 " granules_dropped %" PRIu32 " windows %" PRIu32
			" run_ns %" PRIu64 " window_ns %" PRIu64 " traps %" PRIu64 " seq %" PRIu64,
			x.status, x.flags, x.err, x.globals_watched, x.globals, x.granules_watched,
			x.granules, x.granules_dropped, x.windows, x.run_ns, x.window_ns, x.traps,
			x.seq);
		break;
	}
	case LW_REC_WATCH: {
		struct lw_rec_watch x;

		memcpy(&x, r, sizeof(x));
		fprintf(out, " addr 0x%" PRIx64 " size %" PRIu32 " %s name ", x.addr, x.size,
			x.armed ? "armed" : "refused");
		for (unsigned i = 0; i < x.name_len; i++) {
			unsigned char c = r[sizeof(x) + i];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				fputc(c, out);
			else
				fprintf(out, "\\x%02x", c);
		}
		break;
	}
	case LW_REC_PATH: {
		struct lw_rec_path x;
		static const char *const ops[] = { "?", "check", "create", "create-excl", "unlink",
						   "rename-from", "rename-to", "lock" };

		memcpy(&x, r, sizeof(x));
		fprintf(out, " tid %" PRIu32 " op %s result %" PRId32 " errno %" PRId32 " stack %"
			PRIu32, x.tid, x.op < 8 ? ops[x.op] : "?", x.result, x.err, x.stack);
		if (x.flocks)   /* file locks held (lw_rec_path), shown only when there are */
			fprintf(out, " flocks 0x%08" PRIx32, x.flocks);
		fprintf(out, " seq %" PRIu64 " path ", x.seq);
		for (unsigned i = 0; i < x.path_len; i++) {
			unsigned char c = r[sizeof(x) + i];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				fputc(c, out);
			else
				fprintf(out, "\\x%02x", c);
		}
		break;
	}
	}
}

static int dump_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lw_trace t;
	struct lw_trace_error err;
	const struct lw_trace_header *h;
	char line[1024];
	uint64_t prev_end;
	int c, rc;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (c == 'h') {
			dump_usage(stdout);
			return LW_EXIT_OK;
		}
		if (c == 'V') {
			lw_print_version();
			return LW_EXIT_OK;
		}
		if (optopt)
			lw_msg_usage("unknown option '-%c'", optopt);
		else
			lw_msg_usage("unknown option '%s'", argv[optind - 1]);
		return LW_EXIT_USAGE;
	}
	if (argc - optind != 1) {
		lw_msg_usage("dump: expected exactly one trace file");
		return LW_EXIT_USAGE;
	}
	/* Issue 24: LOCKWATCH_OPTIONS' trust_dir=1 reads a trace another user could write. */
	{
		char *tr = lw_env_option(getenv("LOCKWATCH_OPTIONS"), "trust_dir");

		lw_trace_set_trust(tr && *tr && strcmp(tr, "0") != 0);
		free(tr);
	}
	rc = lw_trace_open(argv[optind], &t, &err);
	if (rc == -ENODATA) {
		/* Issue 24: empty, or a header never completed: it holds nothing, as for
		 * report (lockwatch-trace(5)). */
		lw_trace_error_format(argv[optind], &err, line, sizeof(line));
		printf("empty trace: %s\n", line);
		return LW_EXIT_OK;
	}
	if (rc < 0) {
		lw_trace_error_format(argv[optind], &err, line, sizeof(line));
		lw_msg_error("%s", line);
		return rc == -EPERM ? LW_EXIT_USAGE : LW_EXIT_BAD_TRACE;
	}
	h = &t.hdr;
	printf("header version %" PRIu32 " size %" PRIu32 " session %016" PRIx64 " pid %" PRId32
	       " ppid %" PRId32 " start_ns %" PRIu64 " level %s flags 0x%" PRIx32 "%s%s%s"
	       " end_offset %" PRIu64 " dropped %" PRIu64 " cut_seq %" PRIu64 " exe %s\n",
	       h->version, h->header_size, h->session, h->pid, h->ppid, h->start_ns,
	       h->level == LW_LEVEL_FULL ? "full" : "dependencies", h->flags,
	       h->flags & LW_HDR_CLOSED ? " closed" : "", h->flags & LW_HDR_TRUNCATED ? " truncated" : "",
	       h->flags & LW_HDR_FORKED ? " forked" : "", h->end_offset, h->dropped, h->cut_seq,
	       h->exe);
	prev_end = h->header_size;
	for (size_t i = 0; i < t.n_recs; i++) {
		const struct lw_record_ref *r = &t.recs[i];

		if (r->offset != prev_end)
			printf("@%" PRIu64 " hole of %" PRIu64 " bytes skipped\n", prev_end,
			       r->offset - prev_end);
		printf("@%" PRIu64 " %s", r->offset, lw_rec_kind_name(r->kind));
		dump_record(stdout, lw_trace_record(&t, i), r->kind);
		putchar('\n');
		prev_end = r->offset + r->size;
	}
	printf("end at offset %" PRIu64 ": %zu records\n", t.end, t.n_recs);
	lw_trace_close(&t);
	return LW_EXIT_OK;
}

const struct lw_cmd lw_cmd_dump = {
	.name = "dump",
	.run = dump_main,
	.usage = dump_usage,
	.summary = "print every record of a trace file",
};

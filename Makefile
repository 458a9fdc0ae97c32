# lockwatch: deadlock and race finder for pthread programs, without recompiling them.

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter
ifeq ($(CI),true)
WARN    += -Werror
endif
CPPFLAGS_ALL := -D_GNU_SOURCE -Icommon -Iinclude -DLW_VERSION='"$(VERSION)"' $(CPPFLAGS)

B := build
# Sources by layer, lowest first (README.md, "Layout"; tools/check-layers.sh holds the arrows
# down): a file dropped into one of these folders is built without editing this list.
SHIM_DIRS     := shim/core shim/locks shim/access
ANALYZER_DIRS := analyzer/base analyzer/trace analyzer/detect analyzer/report cc analyzer/cli
SHIM_SRC     := $(foreach d,$(SHIM_DIRS),$(wildcard $(d)/*.c)) $(wildcard common/*.c)
ANALYZER_SRC := $(filter-out analyzer/cli/main.c,$(foreach d,$(ANALYZER_DIRS),$(wildcard $(d)/*.c))) \
                $(wildcard common/*.c)
SHIM_HDR     := $(wildcard common/*.h hooks/*.h $(addsuffix /*.h,$(SHIM_DIRS)))
ANALYZER_HDR := $(wildcard common/*.h $(addsuffix /*.h,$(ANALYZER_DIRS)))
# Project headers are named by their layer's folder ("core/threads.h", "trace/model.h",
# "cc/cmd_cc.h"): what a file uses is visible at its #include lines, and the check reads them.
SHIM_INC     := -Ishim -Ihooks
ANALYZER_INC := -Ianalyzer -I.
SAMPLES      := $(patsubst samples/%.c,$(B)/samples/%,$(wildcard samples/*.c))
BENCHES      := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
UNIT_TESTS   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
INTEG_TESTS  := $(patsubst tests/integration/%.c,$(B)/tests/%,$(wildcard tests/integration/test_*.c))
# Unit and integration tests build into one directory: a shared name would hide one of them.
DUP_TESTS    := $(filter $(notdir $(wildcard tests/unit/test_*.c)),$(notdir $(wildcard tests/integration/test_*.c)))
ifneq ($(DUP_TESTS),)
$(error tests/unit and tests/integration both have $(DUP_TESTS): give each test file its own name)
endif
TEST_PROGS   := $(patsubst tests/programs/%.c,$(B)/tests/programs/%,$(filter-out tests/programs/lib%.c,$(wildcard tests/programs/*.c))) \
                $(patsubst tests/programs/%.c,$(B)/tests/programs/%.so,$(wildcard tests/programs/lib*.c)) \
                $(patsubst tests/programs/%.cpp,$(B)/tests/programs/%,$(wildcard tests/programs/*.cpp))

SHIM_OBJ     := $(patsubst %.c,$(B)/obj/shim/%.o,$(SHIM_SRC))
ANALYZER_OBJ := $(patsubst %.c,$(B)/obj/an/%.o,$(ANALYZER_SRC))

# libatomic: the 128-bit atomics of ThreadSanitizer's interface (hooks/lw_tsan_atomic.h).
# Issue 20: Zydis decodes instructions for the watchpoints and the collider (shim/access/decode.c).
SHIM_LIBS     := -lunwind -ldl -lpthread -latomic -lZydis
ANALYZER_LIBS := -ldw -lelf -lm -lstdc++
TEST_LIBS     := -lcriterion -ljansson

.PHONY: all deps shim analyzer samples benches tests test unit-test integration-test demo \
        bench install uninstall clean fuzz fuzz-smoke test-asan

all: $(B)/lib/liblockwatch.so $(B)/lib/liblockwatch-hooks.so $(B)/bin/lockwatch $(SAMPLES) $(BENCHES)

# Installs the Debian packages the build and the tests need, when they are missing.
deps:
	@sh tools/install-deps.sh

shim: $(B)/lib/liblockwatch.so
analyzer: $(B)/bin/lockwatch
samples: $(SAMPLES)

SHIM_FRAME := -fno-omit-frame-pointer
$(B)/obj/shim/%.o: %.c $(SHIM_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(SHIM_INC) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
		$(SHIM_FRAME) -c $< -o $@

# The compiler hooks' fast path runs for every load and store of a hooked program: no frame
# pointer to set up there (the unwinder reads the CFI).
$(B)/obj/shim/shim/access/hooks.o $(B)/obj/shim/shim/access/hooks_tsan.o: SHIM_FRAME := -fomit-frame-pointer

$(B)/lib/liblockwatch.so: $(SHIM_OBJ) shim/liblockwatch.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,--version-script=shim/liblockwatch.map -Wl,-z,nodelete $(LDFLAGS) \
		-o $@ $(SHIM_OBJ) $(SHIM_LIBS)

# Hook mode: no-op hooks a program built by `lockwatch cc` links against, so that it runs
# without lockwatch; the preloaded shim's definitions win over these.
$(B)/lib/liblockwatch-hooks.so: $(wildcard hooks/*.c) $(wildcard hooks/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -fvisibility=hidden $(LDFLAGS) -o $@ \
		$(filter %.c,$^) -latomic

# Hook-mode programs for the tests (tests/integration/test_hooks.c): the race samples,
# tests/hooks/*.c and the test programs also run under --watch, built with `lockwatch cc`
# (clang).
HOOK_SAMPLES := bank_withdraw bank_withdraw_split bank_withdraw_fixed race_counter \
                locked_counter atomic_counter
HOOK_TEST_PROGRAMS := lock_handover tsan_futex_lock
HOOK_PROGS   := $(patsubst %,$(B)/hooks/%,$(HOOK_SAMPLES) $(HOOK_TEST_PROGRAMS)) \
                $(patsubst tests/hooks/%.c,$(B)/hooks/%,$(wildcard tests/hooks/*.c))
# Issue 21 (precision, tests/integration/test_precision.c): tests/programs built with
# `lockwatch cc` too.
PRECISION_HOOK_PROGS := $(patsubst %,$(B)/hooks/%,nested_locks lock_handoff outer_lock_check two_races byte_lanes stack_escape atomic_plain exit_running)
# issue 21, races on the pthread objects:
PRECISION_HOOK_PROGS += $(B)/hooks/pthread_objects
PRECISION_CXX_PROGS  := $(B)/tests/programs/cxx_file_static
$(B)/tests/programs/%: tests/programs/%.cc
	@mkdir -p $(dir $@)
	$(CXX) -O0 -g -Wall -pthread -o $@ $<
$(B)/hooks/%: samples/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	$(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic
$(B)/hooks/%: tests/programs/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	$(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic
$(B)/hooks/%: tests/hooks/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	$(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic
# The lock-heavy bench program, for the test of a trace cut short (test_hooks.c).
HOOK_BENCH := $(B)/hooks/lockheavy
$(B)/hooks/lockheavy: bench/lockheavy.c bench/bench_common.h $(B)/bin/lockwatch \
                      $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	$(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic

# The same programs for ThreadSanitizer's interface without its runtime (`lockwatch cc
# --tsan-abi`; tests/integration/test_hooks_tsan.c): with gcc in hooks-tsan/, with clang in
# hooks-tsan-clang/.
HOOK_TSAN_PROGS := $(patsubst $(B)/hooks/%,$(B)/hooks-tsan/%,$(HOOK_PROGS)) \
                   $(patsubst $(B)/hooks/%,$(B)/hooks-tsan-clang/%,$(HOOK_PROGS)) \
                   $(patsubst tests/hooks/%.cc,$(B)/hooks-tsan/%,$(wildcard tests/hooks/*.cc)) \
                   $(patsubst tests/hooks/%.cc,$(B)/hooks-tsan-clang/%,$(wildcard tests/hooks/*.cc))
$(B)/hooks-tsan/%: samples/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=gcc $(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic
$(B)/hooks-tsan/%: tests/hooks/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=gcc $(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic
$(B)/hooks-tsan/%: tests/programs/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=gcc $(B)/bin/lockwatch cc -O1 -pthread -o $@ $< -latomic
$(B)/hooks-tsan-clang/%: samples/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=clang $(B)/bin/lockwatch cc --tsan-abi -O1 -pthread -o $@ $< -latomic
$(B)/hooks-tsan-clang/%: tests/programs/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=clang $(B)/bin/lockwatch cc --tsan-abi -O1 -pthread -o $@ $< -latomic
$(B)/hooks-tsan-clang/%: tests/hooks/%.c $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=clang $(B)/bin/lockwatch cc --tsan-abi -O1 -pthread -o $@ $< -latomic
$(B)/hooks-tsan/%: tests/hooks/%.cc $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=g++ $(B)/bin/lockwatch cc -std=c++17 -O1 -pthread -o $@ $<
$(B)/hooks-tsan-clang/%: tests/hooks/%.cc $(B)/bin/lockwatch $(B)/lib/liblockwatch-hooks.so
	@mkdir -p $(dir $@)
	LOCKWATCH_CC=clang++ $(B)/bin/lockwatch cc --tsan-abi -std=c++17 -O1 -pthread -o $@ $<

$(B)/obj/an/%.o: %.c $(ANALYZER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(ANALYZER_INC) $(CFLAGS) $(WARN) -c $< -o $@

$(B)/lib/liblwanalyzer.a: $(ANALYZER_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/lockwatch: $(B)/obj/an/analyzer/cli/main.o $(B)/lib/liblwanalyzer.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ANALYZER_LIBS)

# Samples are ordinary pthread programs: built with debug info, without any lockwatch flag.
$(B)/samples/%: samples/%.c
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -O0 -g -Wall -pthread -o $@ $< -latomic

$(B)/bench/%: bench/%.c $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -pthread -o $@ $<

# Issue 20: the shim's decoder (shim/access/decode.c) on hand-assembled instructions.
$(B)/tests/test_decode: tests/unit/test_decode.c shim/access/decode.c shim/access/decode.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(SHIM_INC) -Itests $(CFLAGS) $(WARN) -o $@ $< shim/access/decode.c \
		-lZydis $(TEST_LIBS)

$(B)/tests/test_%: tests/unit/test_%.c $(B)/lib/liblwanalyzer.a $(wildcard tests/*.h) $(ANALYZER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(ANALYZER_INC) -Itests $(CFLAGS) $(WARN) -o $@ $< $(B)/lib/liblwanalyzer.a \
		$(ANALYZER_LIBS) $(TEST_LIBS)

$(B)/tests/test_%: tests/integration/test_%.c $(wildcard tests/*.h common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) -Itests $(CFLAGS) $(WARN) -o $@ $< $(TEST_LIBS)

# Programs the integration tests run (not samples: they show the shim's edge cases).
$(B)/tests/programs/static_%: tests/programs/static_%.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -static -o $@ $<

# GLib's locks and threads (shim/locks/wrap_glib.c): built against GLib, found by pkg-config.
$(B)/tests/programs/glib_%: tests/programs/glib_%.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -Wall -pthread $$(pkg-config --cflags glib-2.0) -o $@ $< \
		$$(pkg-config --libs glib-2.0)

$(B)/tests/programs/lib%.so: tests/programs/lib%.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -fPIC -shared -pthread -o $@ $<

$(B)/tests/programs/%: tests/programs/%.c
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -O0 -g -Wall -pthread -o $@ $<

# Issue 20: C++ test programs (a class's static member, watched automatically).
$(B)/tests/programs/%: tests/programs/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) -O0 -g -Wall -pthread -o $@ $<

tests: all $(UNIT_TESTS) $(INTEG_TESTS) $(TEST_PROGS) $(HOOK_PROGS) $(HOOK_TSAN_PROGS) \
       $(HOOK_BENCH) $(PRECISION_HOOK_PROGS) $(PRECISION_CXX_PROGS)

# Every test binary is a Criterion suite; each test that runs a program has its own timeout.
# tools/check-layers.sh: the includes before the build, the calls between objects after it.
test: deps
	@sh tools/check-layers.sh
	@$(MAKE) --no-print-directory tests
	@sh tools/check-layers.sh --objects $(SHIM_OBJ) $(ANALYZER_OBJ) $(B)/obj/an/analyzer/cli/main.o
	@sh tools/run-tests.sh $(UNIT_TESTS) $(INTEG_TESTS)
	@$(MAKE) --no-print-directory fuzz-smoke

# The trace reader and the analysis behind it under libFuzzer (clang), with AddressSanitizer
# and UndefinedBehaviorSanitizer: `make test` runs FUZZ_SMOKE_SECONDS of it; the long run is
# `make fuzz FUZZ_SECONDS=600` (see tools/fuzz.sh for where a failing input is left).
# Issue 24: three more targets (the suppressions, baseline and LOCKWATCH_OPTIONS parsers),
# FUZZ_SMOKE_SECONDS_SMALL each in `make test`, FUZZ_SECONDS each in `make fuzz` (CI's
# scheduled run: .ci/run scheduled).  Each replays its seed corpus tests/fuzz/corpus*/ first,
# which keeps every crash found as a regression input.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SMOKE_SECONDS_SMALL ?= 4
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SMALL := $(B)/fuzz/fuzz_suppressions $(B)/fuzz/fuzz_baseline $(B)/fuzz/fuzz_env_options
# The analyzer's objects are built once (in parallel, incrementally) into an archive that
# every target links: each takes only the objects it needs.
FUZZ_OBJ := $(patsubst %.c,$(B)/fuzz/obj/%.o,$(ANALYZER_SRC))
$(B)/fuzz/obj/%.o: %.c $(ANALYZER_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(ANALYZER_INC) -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=undefined -c -o $@ $<
$(B)/fuzz/libanalyzer-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/fuzz/libanalyzer-fuzz.a $(ANALYZER_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(ANALYZER_INC) $(FUZZ_FLAGS) -o $@ $< $(B)/fuzz/libanalyzer-fuzz.a \
		$(ANALYZER_LIBS)

fuzz-smoke: $(B)/fuzz/fuzz_trace_reader $(FUZZ_SMALL)
	@FUZZER=$< sh tools/fuzz.sh $(FUZZ_SMOKE_SECONDS)
	@for f in $(FUZZ_SMALL); do FUZZER=$$f sh tools/fuzz.sh $(FUZZ_SMOKE_SECONDS_SMALL) || exit 1; done

fuzz: $(B)/fuzz/fuzz_trace_reader $(FUZZ_SMALL)
	@for f in $^; do FUZZER=$$f sh tools/fuzz.sh $(FUZZ_SECONDS) || exit 1; done

# The unit tests and the integration tests with the analyzer (bin/lockwatch and what the
# unit tests link) built with -fsanitize=address,undefined in build-asan/.  The shim stays
# the ordinary build/lib/liblockwatch.so (LOCKWATCH_SHIM): an ASan shim would have to come
# before the ASan runtime in every program it is preloaded into.  So ASan/UBSan cover the
# analyzer, the CLI and the tests; the shim is covered by the fuzz-free robustness tests.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
test-asan: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory B=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" \
		CPPFLAGS='-DLW_BIN=\"build-asan/bin/lockwatch\"' \
		build-asan/bin/lockwatch $(subst $(B)/,build-asan/,$(UNIT_TESTS) $(INTEG_TESTS))
	@# `lockwatch cc` links against ../lib/liblockwatch-hooks.so next to itself: the plain one.
	@mkdir -p build-asan/lib && cp $(B)/lib/liblockwatch-hooks.so build-asan/lib/
	@LOCKWATCH_SHIM=$(CURDIR)/$(B)/lib/liblockwatch.so ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh tools/run-tests.sh $(subst $(B)/,build-asan/,$(UNIT_TESTS) $(INTEG_TESTS))

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh

# Real programs (issue 18; tests/real/): the C ones build into build/real/, for
# tests/integration/test_real.c (in `make test`) and `make test-real` (minutes: Debian's
# pigz, xz, zstd, memcached, then GLib's installed tests, each native and under lockwatch).
REAL_PROGS := $(patsubst tests/real/%.c,$(B)/real/%,$(wildcard tests/real/*.c))
$(B)/real/glib_%: tests/real/glib_%.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -Wall -pthread $$(pkg-config --cflags glib-2.0) -o $@ $< $$(pkg-config --libs glib-2.0)

$(B)/real/%: tests/real/%.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -Wall -pthread -o $@ $<

tests: $(REAL_PROGS)

.PHONY: test-real
test-real: deps
	@$(MAKE) --no-print-directory tests
	@rc=0; bash tests/real/run.sh || rc=1; bash tests/real/glib-installed.sh || rc=1; exit $$rc

# Issue 21, the ground truth (tests/groundtruth/): N generated programs from seed SEED, each in
# watch mode and in hook mode, against the truth the generator knows; fails on any false
# finding.  `make test` runs seeds 1..24 (tests/integration/test_groundtruth.c).
SEED ?= 1000
N    ?= 200
.PHONY: test-groundtruth
test-groundtruth: deps
	@$(MAKE) --no-print-directory all
	@/usr/bin/python3 tests/groundtruth/run.py --seed $(SEED) --n $(N) --jobs 2

# Issue 22: every misuse sample and its fix 20 times, and the misuse_calls scenarios 20 times
# each, the verdict checked every time (`make test` runs 3 of each: test_misuse_runs,
# test_misuse_calls).  The third-party misuse bench is bench/thirdparty-misuse.sh (downloads).
.PHONY: misuse-runs
misuse-runs: deps
	@$(MAKE) --no-print-directory tests
	@rc=0; bash tools/misuse-runs.sh 20 || rc=1; \
	LW_MISUSE_RUNS=20 sh tools/run-tests.sh $(B)/tests/test_misuse_calls || rc=1; exit $$rc

# Not part of `make test`: minutes long, and its numbers only mean something on a quiet machine.
bench: $(B)/lib/liblockwatch.so $(B)/bin/lockwatch $(BENCHES)
	@sh bench/run.sh

# What the shim's defaults cost Debian's pigz, xz and zstd (issue 20's budget), beside
# watch=off and the native run.
.PHONY: bench-real
bench-real: deps $(B)/lib/liblockwatch.so
	@bash bench/real.sh

MAN_PAGES := $(wildcard man/*.[1-9])

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(B)/bin/lockwatch $(DESTDIR)$(PREFIX)/bin/lockwatch
	install -m 755 $(B)/lib/liblockwatch.so $(DESTDIR)$(PREFIX)/lib/liblockwatch.so
	install -m 755 $(B)/lib/liblockwatch-hooks.so $(DESTDIR)$(PREFIX)/lib/liblockwatch-hooks.so
	install -m 644 include/lockwatch.h $(DESTDIR)$(PREFIX)/include/lockwatch.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' lockwatch.pc.in \
		> $(B)/lockwatch.pc
	install -m 644 $(B)/lockwatch.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/lockwatch.pc
	for p in $(MAN_PAGES); do \
		s=$${p##*.}; \
		install -d $(DESTDIR)$(PREFIX)/share/man/man$$s && \
		install -m 644 $$p $(DESTDIR)$(PREFIX)/share/man/man$$s/ || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lockwatch $(DESTDIR)$(PREFIX)/lib/liblockwatch.so \
		$(DESTDIR)$(PREFIX)/lib/liblockwatch-hooks.so \
		$(DESTDIR)$(PREFIX)/include/lockwatch.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/lockwatch.pc
	for p in $(MAN_PAGES); do \
		rm -f $(DESTDIR)$(PREFIX)/share/man/man$${p##*.}/$${p##*/}; \
	done

clean:
	rm -rf $(B) build-asan lockwatch-traces

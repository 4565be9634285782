# procmem_exporter — non-recursive build.
#
#   make            build build/procmem_exporter
#   make run        install missing build dependencies, build, run in the foreground
#   make check      install missing test dependencies, run every test
#   make bench      benchmarks (README, "Performance"; BENCH=quick for a short run)
#   make fuzz       run every fuzzer for FUZZ_SECONDS each
#   make install    install binary, units, config, man page, README (DESTDIR, PREFIX honoured)
#   make deb        the Debian package, ../procmem-exporter_VERSION_ARCH.deb (debian/)

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/procmem-exporter
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=

CC         ?= gcc
PKG_CONFIG ?= pkg-config
BUILD      := build
PKGS       := libmicrohttpd libsystemd zlib gnutls libcrypt yaml-0.1 libpcre2-8

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wconversion -Wsign-conversion \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
	-Wundef -Wvla -Wcast-align -Wwrite-strings -Wnull-dereference -Wimplicit-fallthrough
VERSION_DEF := -DPROCMEM_VERSION='"$(VERSION)"'
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(VERSION_DEF) -Iinclude $(WARN) \
	-MMD -MP -g
OPT_CFLAGS  ?= -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS      ?=
LDFLAGS     ?=

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

LIB_SRCS := src/accept.c src/arena.c src/auth.c src/base64.c src/buf.c src/carry.c src/cgroup.c src/collect.c src/config.c \
	src/expo.c src/gz.c src/http.c src/mapfiles.c src/mmshare.c src/notify.c src/pattern.c src/procfs.c src/publish.c \
	src/snapshot.c src/tls.c src/users.c src/page.c src/select.c src/utf8.c src/webconfig.c src/workq.c
MAIN_SRC := src/main.c

# release objects, and the same under ASan+UBSan for the test build
OBJS      := $(LIB_SRCS:%.c=$(BUILD)/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# and under ThreadSanitizer, for the threaded parts (make check-tsan)
TSAN_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/tsan/%.o)
TSAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=thread

# before check-integration, whose prerequisites are expanded where the rule is read
BENCH_BINS := $(BUILD)/bench/procmem_bench $(BUILD)/bench/loadgen $(BUILD)/bench/stall $(BUILD)/bench/churnload

UNIT_TESTS := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
HELPERS    := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/helpers/*.c))

# libFuzzer harnesses (fuzz/fuzz_NAME.c -> build/fuzz/fuzz_NAME), built by clang against the
# sources (gcc's objects cannot carry libFuzzer's coverage instrumentation)
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE $(VERSION_DEF) -Iinclude -g -O1 $(FUZZ_SAN)
FUZZERS      := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o)
FUZZ_SECONDS ?= 60

.PHONY: all run deps test-deps check check-unit check-asan check-tsan check-integration check-fuzz \
	check-valgrind bench bench-build fuzz fuzz-build install uninstall deb clean

all: $(BUILD)/procmem_exporter

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(pc_cflags) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) $(pc_cflags) $(CFLAGS) -c $< -o $@

$(BUILD)/libprocmem.a: $(OBJS)
	$(AR) rcs $@ $^

$(BUILD)/asan/libprocmem.a: $(ASAN_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) $(pc_cflags) $(CFLAGS) -c $< -o $@

$(BUILD)/tsan/libprocmem.a: $(TSAN_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/tsan/procmem_exporter: $(BUILD)/tsan/src/main.o $(BUILD)/tsan/libprocmem.a
	$(CC) $(TSAN_FLAGS) $(LDFLAGS) -o $@ $^ $(pc_libs) -lpthread

$(BUILD)/procmem_exporter: $(BUILD)/src/main.o $(BUILD)/libprocmem.a
	$(CC) -pie -Wl,-z,relro,-z,now $(LDFLAGS) -o $@ $^ $(pc_libs) -lpthread

# ---- running -----------------------------------------------------------------------------

deps:
	@tools/deps.sh build

RUN_ARGS ?= --web.listen-address 127.0.0.1:9470
run: deps
	@$(MAKE) --no-print-directory all
	@echo "procmem_exporter on http://127.0.0.1:9470/metrics (Ctrl-C stops it)"
	$(BUILD)/procmem_exporter $(RUN_ARGS)

# ---- tests ---------------------------------------------------------------------------------

test-deps:
	@tools/deps.sh test

CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
# cmocka's macros trip some of our stricter warnings; the code under test keeps all of them
TEST_WARN_OFF := -Wno-conversion -Wno-sign-conversion -Wno-null-dereference

$(BUILD)/tests/%: tests/%.c $(BUILD)/libprocmem.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TEST_WARN_OFF) -O1 $(pc_cflags) $(CMOCKA_CFLAGS) $(CFLAGS) -o $@ $< \
		$(BUILD)/libprocmem.a $(pc_libs) $(CMOCKA_LIBS) -lpthread

$(BUILD)/asan/tests/%: tests/%.c $(BUILD)/asan/libprocmem.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TEST_WARN_OFF) $(ASAN_FLAGS) $(pc_cflags) $(CMOCKA_CFLAGS) $(CFLAGS) -o $@ $< \
		$(BUILD)/asan/libprocmem.a $(pc_libs) $(CMOCKA_LIBS) -lpthread

# memlayout and deepfiles are linked statically: their memory must share no pages with other
# processes (see them)
$(BUILD)/helpers/memlayout $(BUILD)/helpers/deepfiles: HELPER_LDFLAGS := -static

$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -o $@ $< $(HELPER_LDFLAGS)

check-unit: $(UNIT_TESTS:%=$(BUILD)/tests/%)
	@tests/run-unit.sh $^

check-asan: $(UNIT_TESTS:%=$(BUILD)/asan/tests/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-unit.sh $^

$(BUILD)/tsan/tests/%: tests/%.c $(BUILD)/tsan/libprocmem.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TEST_WARN_OFF) $(TSAN_FLAGS) $(pc_cflags) $(CMOCKA_CFLAGS) $(CFLAGS) -o $@ $< \
		$(BUILD)/tsan/libprocmem.a $(pc_libs) $(CMOCKA_LIBS) -lpthread

# ThreadSanitizer over the unit tests of the parts that threads share (the publisher, the
# auth verifier's worker queue; by name, whichever of these files exist) and over the daemon
# under concurrent scrapes and reloads (tests/run-tsan.py); any report fails it
TSAN_TESTS := $(filter test_publish test_auth test_workq,$(UNIT_TESTS))
check-tsan: $(TSAN_TESTS:%=$(BUILD)/tsan/tests/%) $(BUILD)/tsan/procmem_exporter
	@TSAN_OPTIONS=halt_on_error=1:exitcode=66 tests/run-unit.sh $(TSAN_TESTS:%=$(BUILD)/tsan/tests/%)
	@tests/run-tsan.py

check-integration: all $(HELPERS) $(BENCH_BINS)
	@tests/run-integration.sh

# memcheck over the unit tests, two --once runs and the daemon (see tests/run-valgrind.py)
check-valgrind: all $(UNIT_TESTS:%=$(BUILD)/tests/%)
	@tests/run-valgrind.py

# ---- fuzzing -------------------------------------------------------------------------------

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(pc_cflags) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/libprocmem.a: $(FUZZ_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(BUILD)/fuzz/libprocmem.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -fsanitize=fuzzer $(pc_cflags) -MMD -MP -o $@ $< $(BUILD)/fuzz/libprocmem.a \
		$(pc_libs) -lpthread

fuzz-build: $(FUZZERS)

# every harness for FUZZ_SECONDS, one after the other; findings land in build/fuzz/artifacts
fuzz:
	@tools/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@fuzz/run.sh $(FUZZ_SECONDS)

# a few seconds each (so the harnesses cannot rot), and every regression input replayed
check-fuzz: $(FUZZERS)
	@fuzz/run.sh --smoke $${FUZZ_SMOKE_SECONDS:-3}

check: test-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-asan
	@$(MAKE) --no-print-directory check-tsan
	@$(MAKE) --no-print-directory check-valgrind
	@$(MAKE) --no-print-directory check-fuzz
	@$(MAKE) --no-print-directory check-integration
	@echo "make check: all tests passed"

# ---- benchmarks ----------------------------------------------------------------------------

BENCH_ARGS ?=

$(BUILD)/bench/procmem_bench: bench/procmem_bench.c $(BUILD)/libprocmem.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(pc_cflags) $(CFLAGS) -o $@ $< \
		$(BUILD)/libprocmem.a $(pc_libs) -lpthread

$(BUILD)/bench/loadgen: bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -o $@ $<

$(BUILD)/bench/stall: bench/stall.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -o $@ $<

$(BUILD)/bench/churnload: bench/churnload.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wconversion -O2 -g -o $@ $< -lm

bench-build: all $(BENCH_BINS)

# the full benchmark (about a quarter of an hour on 2 cores; README, "Performance");
# BENCH=quick for one tiny point; BENCH_ARGS for bench/run.py's options (--points, --reps, ...)
BENCH ?= full
bench:
	@tools/deps.sh bench
	@$(MAKE) --no-print-directory bench-build
	python3 bench/run.py $(if $(filter quick,$(BENCH)),--quick) $(BENCH_ARGS)

# ---- install ---------------------------------------------------------------------------------
# The units and the man page in the tree name the default paths (/usr/local/bin, /etc); install
# rewrites them to where BINDIR and SYSCONFDIR really put things, so the installed service runs
# the installed binary with the installed configuration. DESTDIR is only a staging prefix: it
# never appears in the installed files. An existing configuration file is never overwritten.

UNITS   := systemd/procmem-exporter.service systemd/procmem-exporter.socket
MANPAGE := man/procmem_exporter.8
CONF    := config/procmem-exporter.conf
# sed script: default paths in the tree -> installed paths
SUBST   := -e 's|/usr/local/bin/procmem_exporter|$(BINDIR)/procmem_exporter|g' \
	-e 's|/etc/procmem-exporter\.conf|$(SYSCONFDIR)/procmem-exporter.conf|g' \
	-e 's|/usr/local/share/doc/procmem-exporter|$(DOCDIR)|g' \
	-e 's|/etc/default/procmem-exporter|$(SYSCONFDIR)/default/procmem-exporter|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/procmem_exporter $(DESTDIR)$(BINDIR)/procmem_exporter
	for f in $(UNITS); do \
		sed $(SUBST) $$f >$(DESTDIR)$(UNITDIR)/$${f##*/} && chmod 0644 $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; \
	done
	sed $(SUBST) $(MANPAGE) >$(DESTDIR)$(MANDIR)/man8/procmem_exporter.8
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/procmem_exporter.8
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/procmem-exporter.conf ]; then \
		echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/procmem-exporter.conf"; \
	else \
		echo "install -m 0644 $(CONF) $(DESTDIR)$(SYSCONFDIR)/procmem-exporter.conf"; \
		install -m 0644 $(CONF) $(DESTDIR)$(SYSCONFDIR)/procmem-exporter.conf; \
	fi

# The configuration goes only while it is the one install put there: an edited one is kept.
# The directories install made for the man page and the README go when nothing else is in them.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/procmem_exporter $(DESTDIR)$(MANDIR)/man8/procmem_exporter.8
	rm -f $(UNITS:systemd/%=$(DESTDIR)$(UNITDIR)/%) $(DESTDIR)$(DOCDIR)/README.md
	@for d in $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR); do \
		if [ -d $$d ] && [ -z "$$(ls -A $$d)" ]; then echo "rmdir $$d"; rmdir $$d; fi; \
	done
	@c=$(DESTDIR)$(SYSCONFDIR)/procmem-exporter.conf; \
	if [ -e $$c ] && cmp -s $(CONF) $$c; then \
		echo "rm -f $$c"; rm -f $$c; \
	elif [ -e $$c ]; then \
		echo "keeping $$c: it differs from the shipped default (remove it yourself if you mean to)"; \
	fi

# ---- the Debian package ----------------------------------------------------------------------
# Built the way Debian builds packages: dpkg-buildpackage cleans the tree first (build/ goes),
# builds and installs with debian/rules (make, make install PREFIX=/usr) and leaves the .deb,
# .buildinfo and .changes beside the tree, in its parent directory.
deb:
	@tools/deps.sh deb
	dpkg-buildpackage -b -us -uc

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

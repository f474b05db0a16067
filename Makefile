# polrec: one top-level make.  Variants by variable:
#   make SANITIZE=address,undefined     sanitizer build (objects rebuilt)
#   make WERROR=1                       warnings are errors (CI)
#   make install DESTDIR=... PREFIX=...
# Targets: all (default), check, demo, fuzz, faults, soak, bench, install,
#          deb, package-check, clean.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
LIBDIR	?= $(PREFIX)/lib
DATADIR	?= $(PREFIX)/share
SYSCONFDIR ?= /etc
DESTDIR	?=

CC	?= cc
CFLAGS	?= -O2 -g
B	:= build

WARNINGS := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wcast-qual
ifneq ($(WERROR),)
WARNINGS += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
endif

PKGS	:= libevent libevent_openssl libcurl libcjson sqlite3 libsodium openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -pthread $(WARNINGS) $(SANFLAGS) -Ilib \
	$(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(SANFLAGS) $(LDFLAGS)
LIBS	= $(PKG_LIBS) -lm

LIB_SRCS := $(wildcard lib/*.c)
SCHEMA	:= $(sort $(wildcard schema/[0-9]*.sql))
GEN_SCHEMA := $(B)/gen/schema.c
CTL_SRCS := $(wildcard daemon/polrecctl*.c)
D_SRCS	:= $(filter-out $(CTL_SRCS),$(wildcard daemon/*.c))
SIM_SRCS := $(wildcard tests/graphsim/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)

obj	= $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS)) $(B)/obj/gen/schema.o
D_OBJS	:= $(call obj,$(D_SRCS))
D_LIBOBJS := $(filter-out $(B)/obj/daemon/polrecd.o,$(D_OBJS))
SIM_OBJS := $(call obj,$(SIM_SRCS))
UNITS	:= $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
FUZZERS	:= $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
TOOLS	:= $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRCS))
BENCHES	:= $(patsubst tests/bench/%.c,$(B)/bench/%,$(BENCH_SRCS))

PROGS	:= $(B)/polrecd $(B)/polrecctl $(B)/polrec-graphsim \
	$(B)/polrec_unseal.so

all: $(PROGS)

# Rebuild everything when the compiler flags change (SANITIZE=, CFLAGS=).
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@

$(B)/obj/%.o: %.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -Idaemon -c $< -o $@

# schema/NNN_*.sql, embedded for lib/db.c.
$(GEN_SCHEMA): $(SCHEMA) scripts/embed-schema
	@mkdir -p $(@D)
	scripts/embed-schema $@ $(SCHEMA)

$(B)/obj/gen/schema.o: $(GEN_SCHEMA) $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libpolrec.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/polrecd: $(D_OBJS) $(B)/libpolrec.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(D_OBJS) $(B)/libpolrec.a $(LIBS)

$(B)/polrecctl: $(call obj,$(CTL_SRCS)) $(B)/libpolrec.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/polrec-graphsim: $(SIM_OBJS) $(B)/libpolrec.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The sqlite3 CLI extension for auditors: unseal(sealed, seq).
UNSEAL_SRCS := ext/polrec_unseal.c lib/audit.c lib/keyfile.c
# Never sanitized: the sqlite3 CLI that loads it is not.
$(B)/polrec_unseal.so: $(UNSEAL_SRCS) lib/audit.h lib/keyfile.h $(B)/.flags
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Ilib $(PKG_CFLAGS) \
	    $(CPPFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ \
	    $(UNSEAL_SRCS) $(shell pkg-config --libs libsodium libcjson)

# The daemon's modules without main(), for unit tests: an archive, so a
# test links only the modules it uses.
$(B)/libpolrecd.a: $(D_LIBOBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(B)/libpolrecd.a $(B)/libpolrec.a $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idaemon $(ALL_LDFLAGS) -o $@ $< \
	    $(B)/libpolrecd.a $(B)/libpolrec.a $(LIBS) \
	    $(shell pkg-config --libs cmocka)

# libFuzzer harnesses (clang).  `make check` replays their corpora;
# `make fuzz` runs each for FUZZ_SECONDS with ASan and UBSan.
FUZZ_CC	?= clang
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 300
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard lib/*.h) $(GEN_SCHEMA)
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -std=gnu11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) \
	    $(FUZZ_SAN) -o $@ $< $(LIB_SRCS) $(GEN_SCHEMA) $(PKG_LIBS) -lm

fuzzers: $(FUZZERS)

fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f##*/}; \
	    mkdir -p $(B)/fuzz/work/$$n $(B)/fuzz/artifacts; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$(B)/fuzz/artifacts/$$n- \
	        $$([ -f tests/fuzz/$${n#fuzz_}.dict ] && echo -dict=tests/fuzz/$${n#fuzz_}.dict) \
	        $(B)/fuzz/work/$$n tests/fuzz/corpus/$${n#fuzz_} \
	        2>&1 | tee $(B)/fuzz/$$n.log | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; \
	    [ $${PIPESTATUS[0]} -eq 0 ] || exit 1; done

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory all units fuzzers
	@tests/run-all

units: $(UNITS) $(TOOLS) $(BENCHES)

# The fault suite (tests/faults/): short loads under kill -9, Graph
# faults, full disk, damaged databases, SIGHUP, control-socket abuse,
# each held against the trail by tests/faults/reconcile.  Longer with
# FAULT_SECONDS=.  `make soak DURATION=s`: 500 notifications/s with
# faults at random, RSS and descriptors sampled.
FAULT_SECONDS ?= 8
DURATION ?= 300
faults: deps
	@$(MAKE) --no-print-directory all units
	@FAULT_SECONDS=$(FAULT_SECONDS) tests/faults/run

soak: deps
	@$(MAKE) --no-print-directory all units
	@DURATION=$(DURATION) tests/faults/soak

# Test tools (tests/tools/): never installed.
$(B)/tools/%: tests/tools/%.c $(B)/libpolrec.a $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libpolrec.a $(LIBS)

# The benchmark's floor and load (tests/bench/): never installed.
$(B)/bench/%: tests/bench/%.c $(B)/libpolrec.a $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libpolrec.a $(LIBS)

# Throughput and latency as ratios to a floor measured in the same run
# (tests/bench/run); QUICK=1 in a few seconds, as make check runs it.
bench: deps
	@$(MAKE) --no-print-directory all units
	@QUICK=$(QUICK) tests/bench/run

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

# Files only; the package (make deb) adds the user, the directories and
# the unit.  An edited configuration is never overwritten: the new sample
# goes beside it as polrecd.conf.dist.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/polrecd \
	    $(DESTDIR)$(LIBDIR)/polrec $(DESTDIR)$(DATADIR)/polrec/schema \
	    $(DESTDIR)$(DATADIR)/polrec-graphsim/scenarios/notifications
	install -m 0755 $(B)/polrecd $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/polrecctl $(B)/polrec-graphsim $(DESTDIR)$(BINDIR)/
	install -m 0644 $(B)/polrec_unseal.so $(DESTDIR)$(LIBDIR)/polrec/
	install -m 0644 man/polrec-graphsim.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/polrecd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/polrecd.8 man/polrecctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(SCHEMA) $(DESTDIR)$(DATADIR)/polrec/schema/
	install -m 0644 tests/scenarios/*.json \
	    $(DESTDIR)$(DATADIR)/polrec-graphsim/scenarios/
	install -m 0644 tests/scenarios/notifications/*.json \
	    $(DESTDIR)$(DATADIR)/polrec-graphsim/scenarios/notifications/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/polrecd/polrecd.conf ]; then \
	    install -m 0644 etc/polrecd.conf \
	        $(DESTDIR)$(SYSCONFDIR)/polrecd/polrecd.conf.dist; \
	    echo "install: kept $(DESTDIR)$(SYSCONFDIR)/polrecd/polrecd.conf;" \
	        "the new sample is polrecd.conf.dist beside it"; \
	else \
	    install -m 0644 etc/polrecd.conf $(DESTDIR)$(SYSCONFDIR)/polrecd/; \
	fi

# Unsigned .debs of the committed tree (git archive HEAD), built in
# build/deb and copied to build/:
# polrec and polrec-graphsim.  DEB_BUILD_OPTIONS=nocheck skips the unit
# tests dh_auto_test runs.
VERSION	= $(shell dpkg-parsechangelog -l packaging/debian/changelog -S Version)
deb: deps
	@scripts/install-deps --package
	rm -rf $(B)/deb
	mkdir -p $(B)/deb
	git archive --format=tar --prefix=polrec-$(VERSION)/ HEAD | \
	    tar -x -C $(B)/deb
	cp -a packaging/debian $(B)/deb/polrec-$(VERSION)/debian
	cd $(B)/deb/polrec-$(VERSION) && \
	    DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS) parallel=2" \
	    dpkg-buildpackage -us -uc -b
	rm -f $(B)/*.deb
	cp $(B)/deb/*.deb $(B)/
	@ls -l $(B)/*.deb

# Builds the packages, lints them, checks the unit, then installs, runs,
# removes and purges them on this machine (root; CI).
package-check: deb
	@scripts/package-check

clean:
	rm -rf $(B)

.PHONY: all check units fuzz fuzzers faults soak bench deps demo install \
	deb package-check clean FORCE
SHELL := /bin/bash

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
$(B)/tests/test_audit: ext/polrec_unseal.c

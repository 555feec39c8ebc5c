# scpd: a plain GNU Makefile. Objects in build/, sanitized objects in build/asan/.
# Every .c under base/ store/ ifs/ services/ model/ daemon/ api/ is part of the daemon; daemon/main.c holds main().
# One include root (-I.): every include names its room, "base/log.h", "store/store.h".
# Unit tests: tests/unit/test_NAME.c, one cmocka program each, linked against the library.

CC       ?= cc
PKGS     := libssh libmicrohttpd jansson openssl sqlite3 libyang libxml-2.0 libpq
PY       := /usr/bin/python3
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -fno-strict-overflow
OPT      ?= -O2 -g
INC      := -I.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += $(CSTD) $(OPT) $(WARN) $(HARDEN) $(INC) $(PKG_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now
LDLIBS   += $(PKG_LIBS) -lpthread -lm

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS)) -O1 $(ASAN_FLAGS)

SRC      := $(sort $(wildcard base/*.c store/*.c ifs/*.c services/*.c model/*.c daemon/*.c api/*.c))
# The served YANG modules, embedded (model/model_yang.c builds the one libyang context from them).
YANG     := $(sort $(wildcard api/yang/*.yang))
GEN      := build/gen/model_yang_data.c
LIBSRC   := $(filter-out daemon/main.c,$(SRC))
OBJ      := $(LIBSRC:%.c=build/obj/%.o) build/obj/gen/model_yang_data.o
AOBJ     := $(LIBSRC:%.c=build/asan/obj/%.o) build/asan/obj/gen/model_yang_data.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT     := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
AUNIT    := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ     = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)

.PHONY: all deps run test check-layers check-style test-unit test-integration test-asan check-build fuzz fuzz-smoke bench bench-wan bench-cfg bench-trace clean
all: build/scpd

# ---- dependencies (Debian packages; idempotent, quick when present) --------------------------
DEB_PKGS := build-essential clang pkg-config libssh-dev libmicrohttpd-dev libjansson-dev \
            libssl-dev libsqlite3-dev libcmocka-dev libyang2-dev libxml2-dev libclang-rt-14-dev sqlite3 \
            openssh-client openssh-server putty-tools curl \
            python3 python3-pytest python3-paramiko python3-scp python3-requests python3-netmiko \
            python3-pexpect python3-ncclient ansible libyang2-tools prometheus wrk hyperfine chromium nodejs procps \
            psmisc libauthen-tacacsplus-perl freeradius \
            libpq-dev postgresql haproxy
deps:
	@sh tests/tools/deps.sh $(DEB_PKGS)

# ---- build -----------------------------------------------------------------------------------
build/scpd: build/obj/daemon/main.o build/libscpd.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/libscpd.a: $(OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

build/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(GEN): model/embed_yang.py $(YANG)
	@mkdir -p $(@D)
	$(PY) model/embed_yang.py $@ $(YANG)

build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

build/asan/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<

build/tests/%: tests/unit/%.c build/libscpd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libscpd.a $(LDLIBS) -lcmocka

# Test tools: tests/tools/NAME.c, programs linked with the library (used by integration tests).
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOLS    := $(TOOL_SRC:tests/tools/%.c=build/tools/%)
build/tools/%: tests/tools/%.c build/libscpd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libscpd.a $(LDLIBS)

build/asan/scpd: build/asan/obj/daemon/main.o build/asan/libscpd.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/libscpd.a: $(AOBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

build/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -MMD -MP -c -o $@ $<

build/asan/tests/%: tests/unit/%.c build/asan/libscpd.a
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -o $@ $< build/asan/libscpd.a $(LDLIBS) -lcmocka

# Fuzz targets: the library built once with clang's fuzzer instrumentation, each target linked to it.
# FUZZ_SAN picks the sanitizers: asan (ASan+UBSan, the default and make test's smoke, in build/fuzz),
# ubsan (UBSan only, build/fuzz-ubsan) or none (coverage only, build/fuzz-none): the last two are
# for long soaks, several times faster per execution and a fifth of the memory.
FUZZ_SAN ?= asan
ifeq ($(FUZZ_SAN),asan)
FUZZ_DIR := build/fuzz
FUZZ_SANFLAGS := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
else ifeq ($(FUZZ_SAN),ubsan)
FUZZ_DIR := build/fuzz-ubsan
FUZZ_SANFLAGS := -O2 -fsanitize=fuzzer-no-link,undefined -fno-sanitize-recover=undefined
else ifeq ($(FUZZ_SAN),none)
FUZZ_DIR := build/fuzz-none
FUZZ_SANFLAGS := -O2 -fsanitize=fuzzer-no-link
else
$(error FUZZ_SAN is asan, ubsan or none, not '$(FUZZ_SAN)')
endif
FUZZ_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2 -fPIE,$(CFLAGS)) -g $(FUZZ_SANFLAGS) -DSCPD_FUZZ_CHEAP_KDF
FOBJ := $(LIBSRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/model_yang_data.o
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libscpd.a: $(FOBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz_fs.h $(FUZZ_DIR)/libscpd.a
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libscpd.a $(LDLIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- run ---------------------------------------------------------------------------------------
RUN_DIR ?= ./var
run: deps build/scpd
	./build/scpd --data-dir $(RUN_DIR) --startup-config examples/local-auth.cfg

# ---- tests -------------------------------------------------------------------------------------
# make test: deps, build, unit + integration tests, then the same under ASan+UBSan, then fuzz smoke.
test: deps
	$(MAKE) check-layers
	$(MAKE) check-style
	$(MAKE) check-docs
	$(MAKE) check-build
	$(MAKE) all $(UNIT)
	$(MAKE) test-unit
	$(MAKE) test-integration
	$(MAKE) test-asan
	$(MAKE) fuzz-smoke
	@echo "make test: all passed"

# The include rule of README.md "What is where" (rooms and their ranks; no upward include, no cycle),
# and a proof that the check catches a planted upward include.
check-layers:
	@$(PY) tests/tools/check_layers.py
	@$(PY) tests/tools/check_layers.py --self-test

# docs/limits.md matches base/lim.h; comments cite documents in the repository (docs/...), never
# spec/, notes/ or ../shared/; and a proof that both checks catch a planted change.
.PHONY: check-docs
check-docs:
	@$(PY) tests/tools/check_docs.py
	@$(PY) tests/tools/check_docs.py --self-test

# Style: 100 columns, spaces, no trailing blanks in every tracked .c/.h (README.md, "Style"),
# and a proof that the check catches a planted long line.
check-style:
	@$(PY) tests/tools/check_style.py
	@$(PY) tests/tools/check_style.py --self-test

# clang sees every file with the same -Werror flags (syntax and warnings only; gcc builds the binary).
check-build: build/clang-check
build/clang-check: $(SRC) $(UNIT_SRC) $(TOOL_SRC) $(wildcard */*.h)
	@mkdir -p build
	@for f in $(SRC) $(UNIT_SRC) $(TOOL_SRC); do clang $(CFLAGS) -fsyntax-only $$f || exit 1; done
	@touch $@

test-unit: $(UNIT)
	@set -e; for t in $(UNIT); do echo "== $$t"; $$t; done

PYTEST_ARGS ?=
test-integration: build/scpd $(TOOLS)
	cd tests/integration && SCPD_BIN=$(CURDIR)/build/scpd $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-asan: build/asan/scpd $(AUNIT) $(TOOLS)
	@rm -f build/asan/*.log.*
	@set -e; for t in $(AUNIT); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t; done
	cd tests/integration && SCPD_BIN=$(CURDIR)/build/asan/scpd SCPD_ASAN=1 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$(CURDIR)/build/asan/asan.log \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/build/asan/ubsan.log \
	  $(PY) -m pytest -q -p no:cacheprovider -m 'not nosan' $(PYTEST_ARGS)
	@if ls build/asan/*.log.* >/dev/null 2>&1; then echo "sanitizer reports:"; cat build/asan/*.log.*; exit 1; fi

# Each target runs FUZZ_SECONDS (60 unless FUZZ_RUNS is given), or to FUZZ_RUNS executions, or
# whichever comes first, on a scratch corpus seeded from tests/fuzz/corpus/NAME; FUZZ_JOBS targets
# at once; FUZZ_ONLY='fuzz_cfg fuzz_cli' picks targets; FUZZ_SAN (above) picks the build. Each
# fuzzer is capped at FUZZ_RSS_MB (-rss_limit_mb, -malloc_limit_mb) so FUZZ_JOBS of them fit in
# memory. A closing table gives each target's executions, exec/s, time, crashes and whether
# FUZZ_RUNS was reached; a crash, a leak or a cap hit fails.
# The 10-million soak (2 cores): make fuzz FUZZ_SAN=none FUZZ_RUNS=10000000 FUZZ_JOBS=2
FUZZ_ONLY ?= $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_RSS_MB ?= 1024
fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_ONLY))
	@$(PY) tests/fuzz/run_fuzz.py --seconds $${FUZZ_SECONDS:-0} --runs $${FUZZ_RUNS:-0} \
	  --jobs $${FUZZ_JOBS:-1} --rss-mb $(FUZZ_RSS_MB) $(addprefix $(FUZZ_DIR)/,$(FUZZ_ONLY))

# make soak (not in make test): the ASan+UBSan daemon under 200 concurrent SSH sessions (scp -O,
# sftp, paramiko SFTP and shells, exec) plus RESTCONF writes, user deletions and scp toggles for
# SOAK_SECONDS (60) after a ramp of ~30 s; tests/soak/soak.py prints the figures and fails on a
# crash, a sanitizer report, a lost transfer, a failure the client saw no reason for, sessions or
# fds left behind, or a peak of the daemon's sessions-active below --sessions (200).
SOAK_SECONDS ?= 60
.PHONY: soak
soak: build/asan/scpd
	ulimit -n 16384 2>/dev/null || true; SOAK_SECONDS=$(SOAK_SECONDS) $(PY) tests/soak/soak.py \
	  --bin $(CURDIR)/build/asan/scpd --seconds $(SOAK_SECONDS)

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

# make bench: scpd against a private OpenSSH sshd (bench/README.md). BENCH_ARGS='--quick' for a short run.
BENCH_ARGS ?=
# Baseline for the tracing benchmark: the observability hooks compiled out (trace_on() false,
# stats_xfer_progress() empty), so "debug ip scp" off/on can be compared against no hooks at all.
NOOBS_OBJ := $(SRC:%.c=build/noobs/obj/%.o)
build/noobs/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DSCPD_BENCH_NO_OBS -MMD -MP -c -o $@ $<

build/noobs/scpd: $(NOOBS_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

BENCH_TRACE_ARGS ?= --size-mib 1024 --rounds 5
bench-trace: deps build/scpd build/noobs/scpd
	$(PY) bench/trace_bench.py --baseline build/noobs/scpd $(BENCH_TRACE_ARGS)

bench: deps build/scpd
	$(PY) bench/bench.py $(BENCH_ARGS)

# make bench-wan: the same A/B through bench/wan_relay (a delay and bandwidth-cap relay) at 25, 50
# and 100 ms RTT (bench/README.md). BENCH_WAN_ARGS='--size-mib 128' for a shorter run.
BENCH_WAN_ARGS ?=
bench-wan: deps build/scpd build/bench/wan_relay
	$(PY) bench/bench_wan.py --relay build/bench/wan_relay $(BENCH_WAN_ARGS)
build/bench/wan_relay: bench/wan_relay.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# make bench-cfg: parse/render of a 10,000-user configuration and the cost of one type-9 hash.
bench-cfg: build/bench/cfg_bench
	./build/bench/cfg_bench
build/bench/cfg_bench: bench/cfg_bench.c build/libscpd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libscpd.a $(LDLIBS)

clean:
	rm -rf build


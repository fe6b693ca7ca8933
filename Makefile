# gpuledger build.
#
#   make            release build: build/release/gpuledger
#   make run        the main job: local chain, simulated market, index into RocksDB, export
#   make test       installs what is missing (scripts/setup.sh), then runs every test
#   make asan       the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the threaded indexer tests under ThreadSanitizer
#   make conformance VECTORS=../shared/vectors   public vectors and recorded mainnet data
#   make bench      benchmarks, figures printed (see bench/RESULTS.md)
#   make fuzz       libFuzzer on every parser of outside bytes (tests/fuzz, FUZZ_SECONDS=60 each)
#   make fuzz-smoke a few seconds of each target plus a replay of its corpus (CI)
#   make artifacts  recompile the Solidity test contracts (artifacts-check: compare only)
#   make install PREFIX=/usr/local   the binary and its man page (docs/gpuledger.1)
#
# Each flavour builds into its own directory with dependency files, so a
# release and a sanitizer build never mix objects.

FLAVOR   ?= release
PREFIX   ?= /usr/local
VECTORS  ?= ../shared/vectors
BUILD    := build/$(FLAVOR)
PKGS     := libsecp256k1 libcurl jansson yajl rocksdb nettle yaml-0.1 libxml-2.0
TESTPKGS := cmocka
# The Debian package behind each pkg-config name (scripts/setup.sh installs them),
# for the message `make` gives when one is missing.
PKG_DEBS := libsecp256k1:libsecp256k1-dev libcurl:libcurl4-openssl-dev jansson:libjansson-dev \
            yajl:libyajl-dev rocksdb:librocksdb-dev nettle:nettle-dev yaml-0.1:libyaml-dev \
            libxml-2.0:libxml2-dev cmocka:libcmocka-dev

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD     := -std=c11 -D_GNU_SOURCE
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags $(TESTPKGS) 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

ifeq ($(FLAVOR),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDSAN := -fsanitize=address,undefined
else ifeq ($(FLAVOR),tsan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDSAN := -fsanitize=thread
else ifeq ($(FLAVOR),fuzz)
  # libFuzzer: the library instrumented for coverage (fuzzer-no-link) and
  # sanitizers; only the fuzz targets link the fuzzer's main.
  CC := clang
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
  LDSAN := -fsanitize=address,undefined
else ifeq ($(FLAVOR),debug)
  OPT := -O0 -g
else ifeq ($(FLAVOR),prof)
  # release code with frame pointers, for perf record -g (bench/RESULTS.md)
  OPT := -O2 -g -fno-omit-frame-pointer
else
  OPT := -O2 -g
endif

CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) -Iinclude -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lm -lpthread $(LDSAN) $(LDFLAGS)

LIB_SRC  := $(wildcard core/*.c indexer/*.c analyzer/*.c sim/*.c)
CLI_SRC  := $(wildcard cli/*.c)
SUP_SRC  := $(wildcard tests/support/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c tests/integration/test_*.c)
CONF_SRC := $(wildcard tests/conformance/*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

PLATFORM_JSON := $(sort $(wildcard fixtures/platforms/*.json))
GEN_SRC  := $(BUILD)/gen/platforms.c
GPUS_SRC := $(BUILD)/gen/gpus.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/platforms.o $(BUILD)/obj/gen/gpus.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SUP_OBJ  := $(SUP_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libgpuledger.a
BIN      := $(BUILD)/gpuledger
TESTS    := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRC))
CONF     := $(BUILD)/tests/conformance/conformance
BENCHES  := $(patsubst %.c,$(BUILD)/%,$(BENCH_SRC))

.SECONDARY:
.PHONY: run all test test-run asan tsan fuzz fuzz-build fuzz-smoke conformance conformance-run bench install clean setup tests-build artifacts artifacts-check pkgcheck pkgcheck-test
all: $(BIN)

# Before anything is compiled: every library of PKGS (and cmocka for the
# tests) must be known to pkg-config, else make stops naming what is missing,
# its Debian package and the command that installs it (instead of a compiler
# error about a header).  Order-only prerequisites: checked once per make run.
define pkg_check
	@command -v pkg-config >/dev/null 2>&1 || { \
	    echo "missing: pkg-config (Debian: pkg-config). Run: bash scripts/setup.sh (or make test / make run, which install it)" >&2; exit 1; }
	@missing=; for pd in $(PKG_DEBS); do p=$${pd%%:*}; d=$${pd#*:}; \
	    case " $(1) " in *" $$p "*) ;; *) continue ;; esac; \
	    pkg-config --exists "$$p" || missing="$${missing:+$$missing, }$$p (Debian: $$d)"; \
	done; \
	for p in $(1); do case " $(PKG_DEBS) " in *" $$p:"*) ;; *) pkg-config --exists "$$p" || missing="$${missing:+$$missing, }$$p";; esac; done; \
	if [ -n "$$missing" ]; then \
	    echo "missing: $$missing. Run: bash scripts/setup.sh (or make test / make run, which install it)" >&2; exit 1; fi
endef

pkgcheck:
	$(call pkg_check,$(PKGS))

pkgcheck-test:
	$(call pkg_check,$(TESTPKGS))

$(BUILD)/obj/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(if $(filter tests/%,$<),$(TEST_CFLAGS)) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c | pkgcheck pkgcheck-test
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -c $< -o $@

# Built-in platform definitions are compiled in (scripts/embed-platforms.sh).
$(GEN_SRC): $(PLATFORM_JSON) scripts/embed-platforms.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-platforms.sh $@ $(PLATFORM_JSON)

$(BUILD)/obj/gen/platforms.o: $(GEN_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# The GPU name table (fixtures/gpus.json) is compiled in too (docs/VOLUME.md).
$(GPUS_SRC): fixtures/gpus.json scripts/embed-data.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-data.sh $@ gl_gpu_models_builtin_text fixtures/gpus.json

$(BUILD)/obj/gen/gpus.o: $(GPUS_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(OPT) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SUP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $< $(SUP_OBJ) $(LIB) $(TEST_LIBS) $(LDLIBS_ALL)

# The progress text lives in the CLI (cli/progress.c), not in the library.
$(BUILD)/tests/unit/test_progress: $(BUILD)/obj/tests/unit/test_progress.o $(BUILD)/obj/cli/progress.o $(SUP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $< $(BUILD)/obj/cli/progress.o $(SUP_OBJ) $(LIB) $(TEST_LIBS) $(LDLIBS_ALL)

$(CONF): $(CONF_SRC:%.c=$(BUILD)/obj/%.o) $(SUP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $(CONF_SRC:%.c=$(BUILD)/obj/%.o) $(SUP_OBJ) $(LIB) $(TEST_LIBS) $(LDLIBS_ALL)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(SUP_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $< $(SUP_OBJ) $(LIB) $(TEST_LIBS) $(LDLIBS_ALL)

setup:
	bash scripts/setup.sh

tests-build: $(BIN) $(TESTS)

# The README's test command: installs what is missing, then runs the suite.
test: setup
	$(MAKE) test-run

test-run: tests-build
	bash scripts/run-tests.sh $(BUILD) $(TESTS)

asan: setup
	$(MAKE) FLAVOR=asan test-run

# The tests that run threads (the indexer's prefetching, RocksDB's own, the
# analyzer's transfer reader) under ThreadSanitizer.
TSAN_TESTS := integration/test_index integration/test_index_faults integration/test_reorg \
              integration/test_index_platforms integration/test_index_sim unit/test_analyzer
tsan: setup
	$(MAKE) FLAVOR=tsan TESTS="$(foreach t,$(TSAN_TESTS),build/tsan/tests/$(t))" test-run

conformance: setup
	$(MAKE) conformance-run

conformance-run: $(BIN) $(CONF)
	bash tests/conformance/run.sh $(BUILD) "$(VECTORS)"

# Compiled test contracts (committed; tests check they match their sources).
artifacts:
	bash scripts/compile-contracts.sh
	bash scripts/compile-sim-contracts.sh

artifacts-check:
	bash scripts/compile-contracts.sh --check
	bash scripts/compile-sim-contracts.sh --check

# The main job on the embedded default (scripts/run-demo.sh); OUT=dir to choose where.
# Against a real chain: make run RPC=URL PLATFORM=NAME [FROM=N TO=N] (README).
run:
	RPC="$(RPC)" PLATFORM="$(PLATFORM)" FROM="$(FROM)" TO="$(TO)" bash scripts/run-demo.sh $(OUT)

bench: setup
	$(MAKE) $(BIN) $(BENCHES)
	bash bench/run.sh $(BUILD)

# libFuzzer (clang): one target per parser of outside bytes, tests/fuzz/fuzz_NAME.c,
# seeded from tests/fuzz/corpus/NAME/ (docs/FUZZ.md).  The library is built
# in build/fuzz (FLAVOR=fuzz); each target links it with the fuzzer's main.
# `make fuzz` runs each for FUZZ_SECONDS; `make fuzz-smoke` runs each for 3 s
# after replaying its corpus (what CI runs).  FUZZ_TARGETS=name... picks some.
FUZZ_SECONDS ?= 60
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst %.c,$(BUILD)/%,$(FUZZ_SRC))
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))

$(BUILD)/tests/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BINS)

fuzz:
	nice $(MAKE) -j$(shell nproc) FLAVOR=fuzz fuzz-build
	bash tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke:
	nice $(MAKE) -j$(shell nproc) FLAVOR=fuzz fuzz-build
	bash tests/fuzz/run.sh build/fuzz 3 $(FUZZ_TARGETS)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/gpuledger
	install -m 0644 docs/gpuledger.1 $(DESTDIR)$(PREFIX)/share/man/man1/gpuledger.1

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# tests/policy.mk: host builds of the policy engine (policy/), its unit tests,
# the CLI hearth-policy, Cedar's integration tests, the differential test
# against cedar-wasm, fuzz targets and the benchmark.
#
# Usage, from the repository root:
#   make -f tests/policy.mk test    unit tests, integration tests, differential
#                                   test (fixed seed, bounded), fuzz replays
#   make -f tests/policy.mk cli     build/policy/hearth-policy (ASan+UBSan)
#   make -f tests/policy.mk fuzz    a longer differential run + libFuzzer runs
#                                   (FUZZ_SECONDS=60 each; DIFF_CASES=20000)
#   make -f tests/policy.mk bench   hearth-policy vs cedar-wasm, 10/100/1000
#                                   policies (non-sanitized -O2 build)
#   make -f tests/policy.mk clean
#
# Assumes host gcc, Debian's python3 (stdlib only) and node >= 18 with npm
# (cedar-wasm is installed by `npm ci` into build/cedar-wasm). cJSON comes
# from Debian's source package via scripts/fetch-src.sh. Objects go under
# build/policy/ only. Independent of Kconfig and of the firmware build.

CC := gcc
CLANG ?= clang
PY ?= /usr/bin/python3
B := build/policy
CJ := build/third_party/cjson
# Cedar's conformance tests live next to the project (../shared/); a clone
# elsewhere finds them in the nearest ancestor that has shared/, or takes
# CEDAR_TESTS=DIR.
CEDAR_TESTS ?= $(shell d='$(CURDIR)'; while [ "$$d" != / ]; do \
	if [ -d "$$d/../shared/cedar-integration-tests" ]; then cd "$$d/../shared/cedar-integration-tests" && pwd; break; fi; \
	d=$$(dirname "$$d"); done)
ifeq ($(CEDAR_TESTS),)
$(error Cedar's integration tests (shared/cedar-integration-tests) not found above $(CURDIR); set CEDAR_TESTS=DIR)
endif
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
INC := -Ipolicy/include -Ipolicy -I$(CJ)
OBL := $(if $(wildcard policy/obligations.c),-DHAVE_OBLIGATIONS)
CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SAN) $(WARN) $(INC) $(OBL)
CFLAGS_FAST := -std=gnu11 -O2 -DNDEBUG $(WARN) $(INC) $(OBL)
LDFLAGS := $(SAN)
export ASAN_OPTIONS := detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS := print_stacktrace=1

ENGINE := arena value entities parser eval index authorize schema validate json \
	$(if $(wildcard policy/obligations.c),obligations)
ENGINE_SRCS := $(ENGINE:%=policy/%.c)
ENGINE_OBJS := $(ENGINE:%=$(B)/san/%.o) $(B)/san/cJSON.o
FAST_OBJS := $(ENGINE:%=$(B)/fast/%.o) $(B)/fast/cJSON.o
CLI := $(B)/hearth-policy
CLI_FAST := $(B)/hearth-policy-fast

# Our tests only: test_budget, test_transform, test_obligations belong to
# tests/obligations.mk.
UNIT := test_value test_eval test_parser test_authorize test_json test_schema
FUZZ := fuzz_parser fuzz_entities fuzz_eval
HAVE_CLANG := $(shell command -v $(CLANG) >/dev/null 2>&1 && echo y)

DIFF_SEED ?= 1
DIFF_CASES ?= 6000
FUZZ_SECONDS ?= 60
FUZZ_REPLAY ?= 3000
BENCH_SECONDS ?= 2

.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.PHONY: test cli unit integration diff fuzz-replay fuzz bench clean cjson cedar-wasm

$(CJ)/cJSON.c:
	$(Q)sh scripts/fetch-src.sh cjson $(CJ)

cjson: $(CJ)/cJSON.c

$(B)/san/%.o: policy/%.c policy/include/policy.h policy/internal.h | $(CJ)/cJSON.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/fast/%.o: policy/%.c policy/include/policy.h policy/internal.h | $(CJ)/cJSON.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_FAST) -c -o $@ $<

# cJSON is third-party: our warning set does not apply to it.
$(B)/san/cJSON.o: $(CJ)/cJSON.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 -g -O1 $(SAN) -c -o $@ $<

$(B)/fast/cJSON.o: $(CJ)/cJSON.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 -O2 -c -o $@ $<

$(CLI): policy/cli/hearth-policy.c $(ENGINE_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -lm

$(CLI_FAST): policy/cli/hearth-policy.c $(FAST_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS_FAST) -o $@ $^ -lm

cli: $(CLI)

$(B)/test_%: tests/policy/test_%.c tests/policy/testutil.h $(ENGINE_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -Itests/policy -o $@ $< $(ENGINE_OBJS) $(LDFLAGS) -lm

unit: $(UNIT:%=$(B)/%)
	@for t in $(UNIT); do \
		echo "  TEST    $$t"; \
		$(B)/$$t || { echo "FAIL: $$t"; exit 1; }; \
	done

integration: $(CLI)
	@echo "  TEST    cedar integration tests ($(CEDAR_TESTS))"
	$(Q)cd $(CEDAR_TESTS) && $(CURDIR)/$(CLI) test --root $(CEDAR_TESTS) \
		$$(find tests -name '*.json' | sort)

# cedar-wasm, pinned by scripts/cedar-wasm/package-lock.json, under build/
$(B)/cedar-wasm/node_modules/@cedar-policy/cedar-wasm/package.json: \
		scripts/cedar-wasm/package.json scripts/cedar-wasm/package-lock.json
	@mkdir -p $(B)/cedar-wasm
	@echo "  NPM     @cedar-policy/cedar-wasm"
	$(Q)cp scripts/cedar-wasm/package.json scripts/cedar-wasm/package-lock.json $(B)/cedar-wasm/
	$(Q)cd $(B)/cedar-wasm && npm ci --no-audit --no-fund --silent
	$(Q)touch $@

cedar-wasm: $(B)/cedar-wasm/node_modules/@cedar-policy/cedar-wasm/package.json

diff: $(CLI) cedar-wasm
	@echo "  DIFF    $(DIFF_CASES) random cases, seed $(DIFF_SEED)"
	$(Q)$(PY) tests/policy/difftest.py --cli $(CLI) --modules $(B)/cedar-wasm/node_modules \
		--seed $(DIFF_SEED) --cases $(DIFF_CASES) --out $(B)/diff

# Fuzz targets: libFuzzer with clang; the same sources also build with gcc
# and ASan as a driver that replays the seed corpus and random inputs.
$(B)/replay_%: tests/policy/%.c tests/policy/fuzz_driver.c $(ENGINE_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< tests/policy/fuzz_driver.c $(ENGINE_OBJS) $(LDFLAGS) -lm

$(B)/libfuzzer_%: tests/policy/%.c $(ENGINE_SRCS) $(CJ)/cJSON.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ-LD $@"
	$(Q)$(CLANG) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(INC) $(OBL) \
		-o $@ $< $(ENGINE_SRCS) $(CJ)/cJSON.c -lm

fuzz-replay: $(FUZZ:%=$(B)/replay_%)
	@for t in $(FUZZ); do \
		echo "  REPLAY  $$t ($(FUZZ_REPLAY) random inputs + corpus)"; \
		$(B)/replay_$$t -n $(FUZZ_REPLAY) tests/policy/corpus/$${t#fuzz_} || exit 1; \
	done

test: unit integration diff fuzz-replay
	@echo "  OK      policy tests"

fuzz: $(CLI) cedar-wasm $(if $(HAVE_CLANG),$(FUZZ:%=$(B)/libfuzzer_%),$(FUZZ:%=$(B)/replay_%))
	$(Q)$(PY) tests/policy/difftest.py --cli $(CLI) --modules $(B)/cedar-wasm/node_modules \
		--seed $$(date +%s) --cases $${DIFF_CASES:-20000} --out $(B)/diff
ifeq ($(HAVE_CLANG),y)
	@for t in $(FUZZ); do \
		mkdir -p $(B)/corpus/$$t; \
		echo "  FUZZ    $$t ($(FUZZ_SECONDS)s)"; \
		$(B)/libfuzzer_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			$(B)/corpus/$$t tests/policy/corpus/$${t#fuzz_} || exit 1; \
	done
else
	@for t in $(FUZZ); do \
		$(B)/replay_$$t -n 200000 tests/policy/corpus/$${t#fuzz_} || exit 1; \
	done
endif

bench: $(CLI_FAST) cedar-wasm
	$(Q)$(PY) tests/policy/bench.py --cli $(CLI_FAST) --modules $(B)/cedar-wasm/node_modules \
		--out $(B)/bench

clean:
	rm -rf $(B)/san $(B)/fast $(B)/test_* $(B)/replay_* $(B)/libfuzzer_* $(CLI) $(CLI_FAST) \
		$(B)/diff $(B)/bench

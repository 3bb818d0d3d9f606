# tests/hub.mk: host builds and tests of the hub's data model, ingestion and
# audit log (hub/model.c, hub/audit.c) on a real store (hub/store + SQLite)
# in a temporary file, under ASan + UBSan; and the ingestion fuzz target.
#
# Usage, from the repository root:
#   make -f tests/hub.mk test     unit tests (test_audit: the audit log;
#                                 test_model: categories, devices,
#                                 ingestion), then a replay of the ingestion
#                                 seed corpus (tests/hub/corpus/ingest)
#   make -f tests/hub.mk fuzz     bounded fuzzing of the model's JSON bodies
#                                 (records first, categories, devices),
#                                 FUZZ_SECONDS (default 20): libFuzzer when
#                                 clang has it, else the gcc driver
#   make -f tests/hub.mk fuzz-gcc / fuzz-libfuzzer   one of the two
#   make -f tests/hub.mk clean
#
# Assumes Debian's host gcc (clang optional), tclsh for SQLite's
# amalgamation; cJSON and mbedTLS sources come from scripts/fetch-src.sh
# (pinned in third_party.lock). Everything lands in build/hub-tests/.
# The hub's one function outside the tested set (hub_session_check, which
# auth.c calls for browser sessions) is a stub in tests/hub/filedev.c.

CC := gcc
CLANG ?= clang
B := build/hub-tests
TP := build/third_party
CJSON := $(TP)/cjson
MBED := $(TP)/mbedtls
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif
include hub/store/sqlite.mk
FUZZ_SECONDS ?= 20

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
INC := -Iboards/include -Iarch/include -Ihub -I$(SQLITE_AMALG) -I$(CJSON) -I$(MBED)/include \
	-Itests/include -Itests/hub
BASE := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE
CFLAGS := $(BASE) $(SAN) $(INC) $(SQLITE_OPTS)
TPFLAGS := $(BASE) $(SAN) -w -I$(CJSON) -I$(MBED)/include -I$(MBED)/library
LDFLAGS := $(SAN)
export ASAN_OPTIONS := detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS := print_stacktrace=1

.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: test fuzz fuzz-gcc fuzz-libfuzzer replay clean

HUB_SRCS := hub/model.c hub/audit.c hub/reply.c hub/auth.c \
	hub/store/disk.c hub/store/vfs.c hub/store/store.c hub/store/rdb.c hub/store/model_store.c \
	stack/http_parser.c stack/http_server.c stack/http_router.c tests/hub/filedev.c
HUB_OBJS := $(patsubst %.c,$(B)/%.o,$(HUB_SRCS))
TP_SRCS := $(CJSON)/cJSON.c $(MBED)/library/sha256.c $(MBED)/library/platform_util.c
TP_OBJS := $(B)/tp/cJSON.o $(B)/tp/sha256.o $(B)/tp/platform_util.o $(B)/sqlite3.o
TESTS := test_audit test_model
CORPUS := tests/hub/corpus/ingest

$(TP)/sqlite3/.stamp: third_party.lock
	$(Q)scripts/fetch-src.sh sqlite3 $(TP)/sqlite3 && touch $@
$(CJSON)/cJSON.c:
	$(Q)scripts/fetch-src.sh cjson $(CJSON)
$(MBED)/library/sha256.c:
	$(Q)scripts/fetch-src.sh mbedtls $(MBED)
$(MBED)/library/platform_util.c: $(MBED)/library/sha256.c

$(B)/tp/cJSON.o: $(CJSON)/cJSON.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(TPFLAGS) -c $< -o $@
$(B)/tp/%.o: $(MBED)/library/%.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(TPFLAGS) -c $< -o $@

# SQLite: sanitized, its warnings not ours (as in tests/storage.mk, whose
# note on UBSan's object-size check applies here too).
$(B)/sqlite3.o: $(SQLITE_AMALG)/.stamp hub/store/sqlite.mk
	@mkdir -p $(@D)
	@echo "  HOSTCC  $(SQLITE_AMALG)/sqlite3.c"
	$(Q)$(CC) $(CFLAGS) -fno-sanitize=object-size -w -c $(SQLITE_AMALG)/sqlite3.c -o $@

# The libFuzzer build links SQLite plain (-O2, no sanitizer): the target is
# the hub's parsing and checking, and SQLite's own coverage would only slow
# the search down.
$(B)/plain/sqlite3.o: $(SQLITE_AMALG)/.stamp hub/store/sqlite.mk
	@mkdir -p $(@D)
	@echo "  HOSTCC  $(SQLITE_AMALG)/sqlite3.c (plain)"
	$(Q)$(CC) -std=gnu11 -O2 $(SQLITE_OPTS) -w -c $(SQLITE_AMALG)/sqlite3.c -o $@

$(B)/%.o: %.c | $(SQLITE_AMALG)/.stamp $(CJSON)/cJSON.c $(MBED)/library/sha256.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(B)/test_%: $(B)/tests/hub/test_%.o $(HUB_OBJS) $(TP_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ -lm -o $@

$(B)/fuzz_ingest_gcc: $(B)/tests/hub/fuzz_ingest.o $(B)/tests/hub/fuzz_driver.o $(HUB_OBJS) \
		$(TP_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ -lm -o $@

$(B)/fuzz_ingest: tests/hub/fuzz_ingest.c tests/hub/ingest.dict $(HUB_SRCS) $(TP_SRCS) $(B)/plain/sqlite3.o \
		$(wildcard hub/*.h hub/store/*.h stack/*.h tests/hub/*.h)
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(BASE) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(INC) -I$(MBED)/library $(SQLITE_OPTS) -w $(filter %.c,$^) $(B)/plain/sqlite3.o \
		-lm -o $@

test: $(addprefix $(B)/,$(TESTS)) $(B)/fuzz_ingest_gcc
	$(Q)set -e; for t in $(TESTS); do echo "  TEST    $$t"; $(B)/$$t; done
	@echo "  REPLAY  $(CORPUS) ($$(ls $(CORPUS) | wc -l) inputs)"
	$(Q)$(B)/fuzz_ingest_gcc $(CORPUS)/*

# The seed corpus, every file once, through the sanitized gcc build.
replay: $(B)/fuzz_ingest_gcc
	@echo "  REPLAY  $(CORPUS) ($$(ls $(CORPUS) | wc -l) inputs)"
	$(Q)$(B)/fuzz_ingest_gcc $(CORPUS)/*

fuzz-gcc: $(B)/fuzz_ingest_gcc
	@echo "  FUZZ    fuzz_ingest (gcc driver) for $(FUZZ_SECONDS) s"
	$(Q)$(B)/fuzz_ingest_gcc -t $(FUZZ_SECONDS) -o $(B)/fuzz-crash $(CORPUS)/*

fuzz-libfuzzer: $(B)/fuzz_ingest
	@mkdir -p $(B)/corpus
	@echo "  FUZZ    fuzz_ingest (libFuzzer) for $(FUZZ_SECONDS) s"
	$(Q)$(B)/fuzz_ingest -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 \
		-dict=tests/hub/ingest.dict -print_final_stats=1 -artifact_prefix=$(B)/ $(B)/corpus $(CORPUS) \
		>$(B)/fuzz.log 2>&1 || \
		{ tail -60 $(B)/fuzz.log; echo "FAILED: fuzz_ingest (log $(B)/fuzz.log)" >&2; exit 1; }
	$(Q)grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
		$(B)/fuzz.log || true

fuzz:
	$(Q)if echo 'int LLVMFuzzerTestOneInput(const char *d, long n);' \
		'int LLVMFuzzerTestOneInput(const char *d, long n) { return (int)(d && n); }' | \
		$(CLANG) -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory -f tests/hub.mk fuzz-libfuzzer; \
	else \
		echo "  (no clang with libFuzzer: gcc driver)"; \
		$(MAKE) --no-print-directory -f tests/hub.mk fuzz-gcc; \
	fi

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

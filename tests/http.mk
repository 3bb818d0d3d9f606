# tests/http.mk: host builds and tests of the HTTP/1.1 server core
# (stack/http_*.c), standalone, under ASan + UBSan.
#
# Usage, from the repository root:
#   make -f tests/http.mk test     C11 check of the core, then the unit tests
#   make -f tests/http.mk fuzz     bounded fuzzing, FUZZ_SECONDS (default 20):
#                                  libFuzzer when clang has it, else the gcc
#                                  driver (random and mutated inputs)
#   make -f tests/http.mk fuzz-gcc / fuzz-libfuzzer   one of the two
#   make -f tests/http.mk clean
#
# Assumes Debian's host gcc (clang optional). Everything lands in build/http/.
# The core is built with no CONFIG_ macros and no include path but stack/.

CC := gcc
CLANG ?= clang
B := build/http
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif
FUZZ_SECONDS ?= 20

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SAN) $(WARN) -Istack -Itests/http
LDFLAGS := $(SAN)
export ASAN_OPTIONS := detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS := print_stacktrace=1

CORE := stack/http_parser.c stack/http_server.c stack/http_router.c
HDRS := stack/http.h tests/http/fixture.h

.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.PHONY: test c11 fuzz fuzz-gcc fuzz-libfuzzer clean

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Pure C11 with only standard headers: what the aarch64 picolibc build needs.
$(B)/c11/%.o: %.c stack/http.h
	@mkdir -p $(@D)
	@echo "  C11     $<"
	$(Q)$(CC) -std=c11 -pedantic-errors -O2 $(WARN) -Wconversion -Wno-sign-conversion \
		-ffreestanding -c $< -o $@

CORE_OBJS := $(CORE:%.c=$(B)/%.o)
C11_OBJS := $(CORE:%.c=$(B)/c11/%.o)

$(B)/test_http: $(B)/tests/http/test_http.o $(B)/tests/http/fixture.o $(CORE_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

$(B)/fuzz_http_gcc: $(B)/tests/http/fuzz_http.o $(B)/tests/http/fuzz_driver.o \
		$(B)/tests/http/fixture.o $(CORE_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

$(B)/fuzz_http: tests/http/fuzz_http.c tests/http/fixture.c $(CORE) $(HDRS)
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(WARN) -Istack -Itests/http $(filter %.c,$^) -o $@

c11: $(C11_OBJS)

test: c11 $(B)/test_http
	@echo "  TEST    $(B)/test_http"
	$(Q)$(B)/test_http

fuzz-gcc: $(B)/fuzz_http_gcc
	@echo "  FUZZ    fuzz_http (gcc driver) for $(FUZZ_SECONDS) s"
	$(Q)$(B)/fuzz_http_gcc -t $(FUZZ_SECONDS) -o $(B)/fuzz-crash

fuzz-libfuzzer: $(B)/fuzz_http $(B)/fuzz_http_gcc
	@mkdir -p $(B)/corpus
	$(Q)$(B)/fuzz_http_gcc -w $(B)/corpus
	@echo "  FUZZ    fuzz_http (libFuzzer) for $(FUZZ_SECONDS) s"
	$(Q)$(B)/fuzz_http -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=$(B)/ $(B)/corpus >$(B)/fuzz.log 2>&1 || \
		{ cat $(B)/fuzz.log; echo "FAILED: fuzz_http (log $(B)/fuzz.log)" >&2; exit 1; }
	$(Q)grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units)' $(B)/fuzz.log || true

fuzz:
	$(Q)if echo 'int LLVMFuzzerTestOneInput(const char *d, long n);' \
		'int LLVMFuzzerTestOneInput(const char *d, long n) { return (int)(d && n); }' | \
		$(CLANG) -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory -f tests/http.mk fuzz-libfuzzer; \
	else \
		echo "  (no clang with libFuzzer: gcc driver)"; \
		$(MAKE) --no-print-directory -f tests/http.mk fuzz-gcc; \
	fi

clean:
	rm -rf $(B)

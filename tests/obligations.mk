# tests/obligations.mk: host builds and unit tests of the policy engine's
# privacy obligations (policy/obligations.c, transform.c, noise.c,
# budget.c) with gcc under ASan + UBSan.
#
# Usage, from the repository root:
#   make -f tests/obligations.mk test    fetch cJSON and mbedTLS (Debian
#                                        sources pinned in third_party.lock)
#                                        if missing, build and run the tests
#   make -f tests/obligations.mk clean   remove build/obligations/
#
# Assumes Debian's host gcc. Objects go to build/obligations/ only; the
# third-party sources are unpacked by scripts/fetch-src.sh into
# build/third_party/. Of mbedTLS only library/sha256.c and platform_util.c
# are compiled (with its default config); of cJSON only cJSON.c.

CC := gcc
B := build/obligations
CJSON := build/third_party/cjson
MBED := build/third_party/mbedtls
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
BASE := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SAN)
INC := -Ipolicy -I$(CJSON) -I$(MBED)/include -Itests/include
CFLAGS := $(BASE) $(WARN) $(INC)
TPFLAGS := $(BASE) -w -I$(CJSON) -I$(MBED)/include -I$(MBED)/library
LDFLAGS := $(SAN)
LDLIBS := -lm
export ASAN_OPTIONS := detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS := print_stacktrace=1

.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: test clean

POLICY_SRCS := policy/obligations.c policy/transform.c policy/noise.c policy/budget.c
TP_OBJS := $(B)/tp/cJSON.o $(B)/tp/sha256.o $(B)/tp/platform_util.o
POLICY_OBJS := $(patsubst %.c,$(B)/%.o,$(POLICY_SRCS))
TESTS := test_obligations test_transform test_budget

$(CJSON)/cJSON.c:
	scripts/fetch-src.sh cjson $(CJSON)
$(MBED)/library/sha256.c:
	scripts/fetch-src.sh mbedtls $(MBED)
$(MBED)/library/platform_util.c: $(MBED)/library/sha256.c

$(B)/tp/cJSON.o: $(CJSON)/cJSON.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(TPFLAGS) -c $< -o $@
$(B)/tp/%.o: $(MBED)/library/%.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(TPFLAGS) -c $< -o $@

# our objects need the third-party headers in place
$(B)/%.o: %.c $(CJSON)/cJSON.c $(MBED)/library/sha256.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/test_%: $(B)/tests/policy/test_%.o $(POLICY_OBJS) $(TP_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

test: $(addprefix $(B)/,$(TESTS))
	$(Q)set -e; for t in $(TESTS); do echo "  TEST    $$t"; $(B)/$$t; done

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# tests/storage.mk: the storage tests on the host, under ASan + UBSan: the
# store's VFS and disk layout (test_vfs), and the power-cut suite
# (test_powercut: >= 1,000 random cut points, seeded and reproducible).
# Builds the store's own sources (hub/store) and the same SQLite amalgamation
# with the same options as the firmware; objects in build/storage/ only.
#
#   make -f tests/storage.mk test          build and run both
#   POWERCUT_ITERS=500 POWERCUT_SEED=N     two cuts per iteration; the seed
#                                          of a failing case is printed
#   make -f tests/storage.mk bench         (scripts/bench-storage.sh)
#   make -f tests/storage.mk clean
#
# Assumes Debian's host gcc and tclsh (scripts/deps.sh installs them).

CC := gcc
B := build/storage
TP := build/third_party
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif
include hub/store/sqlite.mk

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
INC := -Iboards/include -Iarch/include -I$(SQLITE_AMALG)
CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SAN) $(INC) $(SQLITE_OPTS)
LDFLAGS := $(SAN)
export ASAN_OPTIONS := detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS := print_stacktrace=1
POWERCUT_ITERS ?= 500

.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: test clean bench

$(TP)/sqlite3/.stamp: third_party.lock
	$(Q)scripts/fetch-src.sh sqlite3 $(TP)/sqlite3 && touch $@

STORE_SRCS := hub/store/disk.c hub/store/vfs.c hub/store/store.c tests/storage/faultdev.c
STORE_OBJS := $(patsubst %.c,$(B)/%.o,$(STORE_SRCS))

$(B)/%.o: %.c | $(SQLITE_AMALG)/.stamp
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

# SQLite itself: sanitized too, but its warnings are not ours to fix, and
# UBSan's object-size check misfires on one line of 3.40.1's balance_nonroot
# (`(nNew>nOld ? apNew : apOld)[nOld-1]`, arrays of different sizes).
$(B)/sqlite3.o: $(SQLITE_AMALG)/.stamp hub/store/sqlite.mk tests/storage.mk
	@mkdir -p $(@D)
	@echo "  HOSTCC  $(SQLITE_AMALG)/sqlite3.c"
	$(Q)$(CC) $(CFLAGS) -fno-sanitize=object-size -w -c $(SQLITE_AMALG)/sqlite3.c -o $@

$(B)/test_%: $(B)/tests/storage/test_%.o $(STORE_OBJS) $(B)/sqlite3.o
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ -lm -o $@

test: $(B)/test_vfs $(B)/test_powercut
	@echo "  TEST    $(B)/test_vfs"
	$(Q)$(B)/test_vfs
	@echo "  TEST    $(B)/test_powercut ($(POWERCUT_ITERS) iterations)"
	$(Q)t0=$$(date +%s); $(B)/test_powercut $(POWERCUT_ITERS) && \
		echo "  powercut: $$(( $$(date +%s) - t0 )) s"
	@echo "storage: all passed"

bench:
	$(Q)scripts/bench-storage.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

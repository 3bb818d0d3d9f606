# tests/tools.mk: host builds of Hearth's pure modules, their unit tests, the
# host tool hearth-dt and the fuzz targets, with gcc under ASan + UBSan.
#
# Usage, from the repository root:
#   make -f tests/tools.mk unit      fetch the test DTBs, build and run every unit test
#   make -f tests/tools.mk tools     build build/tools/hearth-dt
#   make -f tests/tools.mk fuzz-dt   libFuzzer on the DT helpers (needs clang;
#                                    FUZZ_SECONDS=60, 0 = build only)
#   make -f tests/tools.mk clean     remove these builds (not the fetched DTBs/debs)
#
# Assumes Debian's host gcc and libfdt-dev (-lfdt). Independent of the firmware
# build: no Kconfig, no autoconf header, so modules built here must not use
# CONFIG_ macros. A new module's test is tests/unit/test_<module>.c plus one
# line naming the sources it needs, e.g. `test_foo_SRCS := hub/foo.c`.

CC := gcc
CLANG ?= clang
B := build
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
INC := -Iboards/include -Iarch/include -Itests/include
CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SAN) $(WARN) $(INC)
LDFLAGS := $(SAN)
LDLIBS := -lfdt
export ASAN_OPTIONS := detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS := print_stacktrace=1

.DEFAULT_GOAL := unit
.DELETE_ON_ERROR:
.PHONY: unit tools dtbs fuzz-dt clean

# ---------------------------------------------------------------------------
# Sources each unit test links besides tests/unit/test_<module>.c

test_dt_SRCS := boards/core/dt.c boards/core/bind.c

# ---------------------------------------------------------------------------

obj = $(patsubst %.c,$(B)/unit-obj/%.o,$(1))

$(B)/unit-obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

UNIT := $(sort $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)))
UNIT_BINS := $(UNIT:%=$(B)/unit/%)

define unit_rule
$(B)/unit/$(1): $(call obj,tests/unit/$(1).c $($(1)_SRCS))
	@mkdir -p $$(@D)
	@echo "  HOSTLD  $$@"
	$(Q)$(CC) $(LDFLAGS) $$^ $(LDLIBS) -o $$@
endef
$(foreach t,$(UNIT),$(eval $(call unit_rule,$(t))))

# ---------------------------------------------------------------------------
# hearth-dt, with a driver table from every driver source there is

DRIVER_SRCS := $(sort $(shell find boards/drivers -name '*.c' 2>/dev/null))
# Regenerate the table when the set of files changes, not only their contents.
DRIVER_LIST := $(B)/tools/driver-files.txt
$(shell mkdir -p $(B)/tools && { echo '$(DRIVER_SRCS)' | cmp -s - $(DRIVER_LIST) || \
	echo '$(DRIVER_SRCS)' >$(DRIVER_LIST); })

$(B)/tools/driver-table.c: scripts/gen-driver-table.sh $(DRIVER_LIST) $(DRIVER_SRCS)
	@echo "  GEN     $@"
	$(Q)scripts/gen-driver-table.sh $@ $(DRIVER_SRCS)

$(B)/tools/driver-table.o: $(B)/tools/driver-table.c boards/include/board.h
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

HEARTH_DT_OBJS := $(call obj,boards/core/hearth-dt.c boards/core/dt.c boards/core/bind.c) \
	$(B)/tools/driver-table.o

$(B)/tools/hearth-dt: $(HEARTH_DT_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

tools: $(B)/tools/hearth-dt

# ---------------------------------------------------------------------------
# Running the tests: the first failure stops the run and says which.

dtbs:
	$(Q)tests/unit/fetch-dtbs.sh

unit: dtbs $(UNIT_BINS) $(B)/tools/hearth-dt
	$(Q)for t in $(UNIT_BINS); do \
		echo "  TEST    $$t"; \
		$$t || { echo "FAILED: $$t (exit status $$?); stopping here" >&2; exit 1; }; \
	done
	@echo "  TEST    tests/unit/test_hearth_dt.sh"
	$(Q)CC="$(CC)" CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" LDLIBS="$(LDLIBS)" \
		tests/unit/test_hearth_dt.sh $(B)/tools/hearth-dt || \
		{ echo "FAILED: tests/unit/test_hearth_dt.sh; stopping here" >&2; exit 1; }
	@echo "unit: all passed"

# ---------------------------------------------------------------------------
# Fuzzing (optional, never part of unit): libFuzzer needs clang.

FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(WARN) $(INC)

$(B)/fuzz/fuzz_dt: tests/fuzz/fuzz_dt.c boards/core/dt.c boards/core/bind.c boards/include/board.h
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) $(LDLIBS) -o $@

fuzz-dt:
	$(Q)if ! command -v $(CLANG) >/dev/null; then \
		echo "fuzz-dt: skipped, no $(CLANG) (optional: apt-get install clang)"; exit 0; fi; \
	$(MAKE) --no-print-directory -f tests/tools.mk $(B)/fuzz/fuzz_dt dtbs && \
	mkdir -p $(B)/fuzz/corpus-dt && \
	for f in $(B)/dtbs/*.dtb; do \
		c=$(B)/fuzz/corpus-dt/$$(basename $$f); \
		[ -f $$c ] || dtc -q -I dtb -O dtb -o $$c $$f; \
	done && \
	if [ "$(FUZZ_SECONDS)" != 0 ]; then \
		echo "  FUZZ    fuzz_dt for $(FUZZ_SECONDS) s (corpus $(B)/fuzz/corpus-dt)"; \
		$(B)/fuzz/fuzz_dt -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus-dt; \
	fi

clean:
	rm -rf $(B)/host $(B)/unit $(B)/tools $(B)/fuzz

-include $(shell find $(B)/host -name '*.d' 2>/dev/null)

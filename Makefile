# Hearth: top-level Makefile.
#
# Kbuild-like and non-recursive: each folder has a Kbuild file that says
# `obj-$(CONFIG_FOO) += foo.o` and `obj-y += sub/`; this file walks them from
# the top and builds every object out of tree under build/<board>/.
# Configuration is Kconfig (Debian's python3-kconfiglib); each board has
# boards/<board>/defconfig. Run `make help` for the targets.

BOARD ?= qemu-virt
O ?= build/$(BOARD)
V ?= 0
# Debian's python3 (kconfiglib lives in its dist-packages), whatever PATH says.
PYTHON := /usr/bin/python3
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GITREV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

ifeq ($(V),1)
Q :=
else
Q := @
endif
MAKEFLAGS += --no-print-directory --no-builtin-rules
.SUFFIXES:

.DEFAULT_GOAL := all
CONFIG := $(O)/.config
AUTOCONF := $(O)/include/generated/autoconf.h
DEPS_STAMP := build/.deps-ok

# Targets that need no configuration.
NOCONFIG_GOALS := help clean distclean deps test unit e2e bench fuzz run-all
CONFIG_GOALS := %_defconfig menuconfig olddefconfig savedefconfig

need_config := 1
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(NOCONFIG_GOALS) $(CONFIG_GOALS),$(MAKECMDGOALS)),)
need_config := 0
endif
endif

# ---------------------------------------------------------------------------
# Dependencies: Debian packages (idempotent) and third-party sources.

.PHONY: deps
deps:
	$(Q)scripts/deps.sh

# ---------------------------------------------------------------------------
# Configuration

KCONFIG_ENV = KCONFIG_CONFIG=$(CONFIG) srctree=$(CURDIR)

KCONFIG_FILES := $(shell find . -name Kconfig -not -path './build/*')

# The .config follows the Kconfig files: new options get their defaults.
# (make re-reads an included file it has remade, so the build sees them.)
$(CONFIG): $(KCONFIG_FILES) | deps-quiet
	$(Q)mkdir -p $(O)
	$(Q)test -f boards/$(BOARD)/defconfig || { echo "no board '$(BOARD)' (boards/*/defconfig)"; exit 1; }
	$(Q)if [ -f $@ ]; then $(KCONFIG_ENV) $(PYTHON) scripts/kconfig.py olddefconfig; \
	else $(KCONFIG_ENV) $(PYTHON) scripts/kconfig.py defconfig boards/$(BOARD)/defconfig; fi
	$(Q)touch $@

$(AUTOCONF): $(CONFIG)
	$(Q)$(KCONFIG_ENV) $(PYTHON) scripts/kconfig.py genconfig $(AUTOCONF)

.PHONY: deps-quiet
deps-quiet:
	$(Q)scripts/deps.sh --quiet

%_defconfig: deps-quiet
	$(Q)test -f boards/$*/defconfig || { echo "no board '$*'"; exit 1; }
	$(Q)mkdir -p build/$*
	$(Q)KCONFIG_CONFIG=build/$*/.config srctree=$(CURDIR) $(PYTHON) scripts/kconfig.py defconfig boards/$*/defconfig

menuconfig: $(CONFIG)
	$(Q)$(KCONFIG_ENV) $(PYTHON) -m menuconfig Kconfig

olddefconfig: $(CONFIG)
	$(Q)$(KCONFIG_ENV) $(PYTHON) scripts/kconfig.py olddefconfig

savedefconfig: $(CONFIG)
	$(Q)$(KCONFIG_ENV) $(PYTHON) scripts/kconfig.py savedefconfig $(O)/defconfig
	@echo "wrote $(O)/defconfig (copy it to boards/$(BOARD)/defconfig to keep it)"

ifeq ($(need_config),1)
ifneq ($(wildcard $(CONFIG)),)
include $(CONFIG)
else
# First build of this board: make the config now so the rest can read it.
$(shell scripts/deps.sh --quiet >&2; mkdir -p $(O); KCONFIG_CONFIG=$(CONFIG) srctree=$(CURDIR) $(PYTHON) scripts/kconfig.py defconfig boards/$(BOARD)/defconfig >&2)
include $(CONFIG)
endif
endif

# ---------------------------------------------------------------------------
# Toolchains

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wvla
INCLUDES := -I$(O)/include -Iarch/include -Iboards/include
COMMON_CFLAGS := -std=gnu11 -g -ffunction-sections -fdata-sections \
	-fno-omit-frame-pointer -include $(AUTOCONF) $(INCLUDES) \
	-DHEARTH_VERSION='"$(VERSION)"' -DHEARTH_GITREV='"$(GITREV)"'

ifeq ($(CONFIG_ARCH_AARCH64),y)
CROSS_COMPILE ?= aarch64-linux-gnu-
ARCH_DIR := aarch64
CC := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
SIZE := $(CROSS_COMPILE)size
LIBFDT := build/third_party/libfdt-arm64
ARCH_CFLAGS := --specs=picolibc.specs -mcpu=cortex-a53 -Os -fpie -ffreestanding \
	-fstack-protector-strong \
	-U__linux__ -U__unix__ -Uunix -I$(LIBFDT)/include
ARCH_LDFLAGS := -nostartfiles -static -Wl,-pie \
	-Wl,--no-dynamic-linker -Wl,-z,norelro -Wl,-z,noexecstack -Wl,--gc-sections \
	-Wl,--build-id=none -T $(O)/arch/$(ARCH_DIR)/hearth.ld
ARCH_LIBS := $(LIBFDT)/lib/libfdt.a -lc -lgcc
THIRD_PARTY_DEPS := $(LIBFDT)/lib/libfdt.a
IMAGE := $(O)/hearth.img
endif

# ARMv7-A (Cortex-A7): Thumb-2 with VFPv4/NEON, hard-float (picolibc's
# thumb/v7ve+simd/hard multilib), linked at 0 as a static PIE like aarch64.
# Thumb-2 has no frame chain: unwind tables (about 3% of the image) give the
# crash report its backtrace.
# libfdt is Debian's armhf build; its objects say "4-byte enums", ours use
# the EABI's small ones, and no enum crosses libfdt's API: hence the flag.
ifeq ($(CONFIG_ARCH_ARMV7),y)
CROSS_COMPILE ?= arm-none-eabi-
ARCH_DIR := armv7
CC := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
SIZE := $(CROSS_COMPILE)size
LIBFDT := build/third_party/libfdt-armhf
ARCH_CFLAGS := --specs=picolibc.specs -mcpu=cortex-a7 -mthumb -mfpu=neon-vfpv4 \
	-mfloat-abi=hard -Os -fpie -ffreestanding -fstack-protector-strong -funwind-tables \
	-U__linux__ -U__unix__ -Uunix -I$(LIBFDT)/include
ARCH_LDFLAGS := -nostartfiles -static -Wl,-pie \
	-Wl,--no-dynamic-linker -Wl,-z,noexecstack -Wl,--gc-sections \
	-Wl,--build-id=none -Wl,--no-enum-size-warning -T $(O)/arch/$(ARCH_DIR)/hearth.ld
ARCH_LIBS := $(LIBFDT)/lib/libfdt.a -lc -lgcc
THIRD_PARTY_DEPS := $(LIBFDT)/lib/libfdt.a
IMAGE := $(O)/hearth.img
endif

ifeq ($(CONFIG_ARCH_HOST),y)
CC := gcc
SIZE := size
ARCH_CFLAGS := -D_GNU_SOURCE
ifneq ($(CONFIG_HOST_SANITIZE),y)
ARCH_CFLAGS += -O2
endif
ifeq ($(CONFIG_HOST_SANITIZE),y)
ARCH_CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
ARCH_LDFLAGS += -fsanitize=address,undefined
endif
ARCH_LIBS := -lfdt -lm -lslirp
IMAGE := $(O)/hearth
endif

CFLAGS := $(COMMON_CFLAGS) $(ARCH_CFLAGS) $(WARN)
ASFLAGS := $(COMMON_CFLAGS) $(ARCH_CFLAGS) -D__ASSEMBLY__

# ---------------------------------------------------------------------------
# Walk the Kbuild files. Each sets obj-y (objects and sub/ folders) and may
# set ccflags-y for its folder and CFLAGS_<obj> for one object.

OBJS :=
define descend
obj-y :=
ccflags-y :=
include $(1)/Kbuild
OBJS_$(1) := $$(addprefix $(O)/$(1)/,$$(filter-out %/,$$(obj-y)))
OBJS += $$(OBJS_$(1))
$$(foreach o,$$(filter-out %/,$$(obj-y)),$$(eval $(O)/$(1)/$$(o): EXTRA_CFLAGS := $$(ccflags-y) $$(CFLAGS_$$(o))))
SUBDIRS_$(1) := $$(patsubst %/,%,$$(filter %/,$$(obj-y)))
$$(foreach d,$$(SUBDIRS_$(1)),$$(eval $$(call descend,$(1)/$$(d))))
endef

# Third-party libraries (Debian sources in build/third_party/<pkg>, fetched
# by scripts/fetch-src.sh and pinned in third_party.lock). A Kbuild file says
#   TP_LIBS += lwip
#   tp-lwip-srcs := src/core/init.c ...   (relative to build/third_party/lwip)
#   tp-lwip-cflags := -Istack/lwip ...
# and the objects land in build/<board>/tp/lwip/, compiled without -Werror
# (their warnings are not ours to fix) but with the board's code flags.
TP_LIBS :=
TP := build/third_party
define tp_lib
TP_OBJS_$(1) := $$(addprefix $(O)/tp/$(1)/,$$(patsubst %.c,%.o,$$(tp-$(1)-srcs)))
OBJS += $$(TP_OBJS_$(1))
$$(TP_OBJS_$(1)): EXTRA_CFLAGS := $$(tp-$(1)-cflags)
$(TP)/$(1)/%.c: | $(TP)/$(1)/.stamp ;
$(TP)/$(1)/%.h: | $(TP)/$(1)/.stamp ;
# Fetched sources are not throw-away intermediates (make would delete them
# after the build that fetched them); .PRECIOUS needs the rules' own patterns.
.PRECIOUS: $(TP)/$(1)/%.c $(TP)/$(1)/%.h
endef

ifeq ($(need_config),1)
TOPDIRS := arch boards stack policy hub services
$(foreach d,$(TOPDIRS),$(eval $(call descend,$(d))))
$(foreach l,$(sort $(TP_LIBS)),$(eval $(call tp_lib,$(l))))
endif

DEPFILES := $(OBJS:.o=.d)
-include $(DEPFILES)

# ---------------------------------------------------------------------------
# Rules

ifeq ($(V),1)
quiet = 
else
quiet = @printf '  %-7s %s\n' $(1) $(2);
endif

TP_STAMPS = $(foreach l,$(sort $(TP_LIBS)),$(TP)/$(l)/.stamp)
$(O)/%.o: %.c $(AUTOCONF) | $(THIRD_PARTY_DEPS) $(TP_STAMPS)
	$(call quiet,CC,$<)mkdir -p $(@D) && $(CC) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c $< -o $@

TP_CFLAGS = $(filter-out -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla,$(CFLAGS)) -w
$(O)/tp/%.o: $(TP)/%.c $(AUTOCONF)
	$(call quiet,CC,$<)mkdir -p $(@D) && $(CC) $(TP_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c $< -o $@

# The stamps are real targets, never intermediates to delete.
.PRECIOUS: $(TP)/%/.stamp
$(TP)/%/.stamp: third_party.lock
	$(Q)scripts/fetch-src.sh $* $(TP)/$* && touch $@

$(O)/%.o: %.S $(AUTOCONF)
	$(call quiet,AS,$<)mkdir -p $(@D) && $(CC) $(ASFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c $< -o $@

$(O)/%.ld: %.ld.S $(AUTOCONF)
	$(call quiet,CPP,$<)mkdir -p $(@D) && $(CC) -E -P -x c -include $(AUTOCONF) $< -o $@

$(O)/%.dtb: %.dts
	$(call quiet,DTC,$<)mkdir -p $(@D) && dtc -q -I dts -O dtb -o $@ $<

build/third_party/libfdt-arm64/lib/libfdt.a:
	$(Q)scripts/fetch-deb.sh arm64 libfdt-dev build/third_party/libfdt-arm64

build/third_party/libfdt-armhf/lib/libfdt.a:
	$(Q)scripts/fetch-deb.sh armhf libfdt-dev build/third_party/libfdt-armhf

.PHONY: all
all: $(IMAGE)

ifneq ($(filter y,$(CONFIG_ARCH_AARCH64) $(CONFIG_ARCH_ARMV7)),)
$(O)/hearth.elf: $(OBJS) $(O)/arch/$(ARCH_DIR)/hearth.ld $(THIRD_PARTY_DEPS)
	$(call quiet,LD,$@)$(CC) $(ARCH_CFLAGS) $(ARCH_LDFLAGS) -Wl,-Map=$(O)/hearth.map -o $@ $(OBJS) $(ARCH_LIBS)
	$(Q)scripts/check-relocs.sh $@

$(IMAGE): $(O)/hearth.elf
	$(call quiet,OBJCOPY,$@)$(OBJCOPY) -O binary $< $@
ifeq ($(CONFIG_ARCH_ARMV7),y)
	$(Q)# zImage: loaders copy the header's end (0x2c) bytes and Xen refuses an end past
	$(Q)# the file: pad the file to it (objcopy stops at the last byte of data).
	$(Q)truncate -s $$(( 0x$$($(CROSS_COMPILE)nm $< | awk '$$3 == "__image_file_end" {print $$1}') )) $@
endif
	@printf '  IMAGE   %s: %s bytes (file), %s\n' $@ "$$(stat -c %s $@)" "$$($(SIZE) $< | awk 'NR==2{printf "text %d, data %d, bss %d", $$1, $$2, $$3}')"
endif

ifeq ($(CONFIG_ARCH_HOST),y)
$(IMAGE): $(OBJS)
	$(call quiet,LD,$@)$(CC) $(ARCH_CFLAGS) $(ARCH_LDFLAGS) -o $@ $(OBJS) $(ARCH_LIBS)
	@printf '  PROGRAM %s: %s bytes\n' $@ "$$(stat -c %s $@)"
endif

# ---------------------------------------------------------------------------
# Running and testing

.PHONY: run
run: all
	$(Q)scripts/run.sh $(BOARD) $(O)

# Xen 4.17 with a Linux dom0 (scripts/xen-dom0.sh), the qemu-virt image as its
# PV domU; the forwarded ports reach the domU (scripts/run.sh xen-domu).
.PHONY: run-xen-domu
run-xen-domu:
	$(Q)$(MAKE) BOARD=qemu-virt O=build/qemu-virt all
	$(Q)scripts/run.sh xen-domu build/qemu-virt

include scripts/sdcard.mk

.PHONY: tools
tools:
	$(Q)$(MAKE) -f tests/tools.mk

.PHONY: test unit e2e
test: deps
	$(Q)tests/run-all.sh

unit: deps
	$(Q)tests/run-all.sh unit

e2e: deps
	$(Q)tests/run-all.sh e2e

.PHONY: fuzz
fuzz: deps
	$(Q)$(MAKE) -f tests/tools.mk fuzz-dt FUZZ_SECONDS=$${FUZZ_SECONDS:-120}
	$(Q)$(MAKE) -f tests/http.mk fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-120}
	$(Q)$(MAKE) -f tests/hub.mk fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-120}
	$(Q)$(MAKE) -f tests/policy.mk fuzz

.PHONY: bench
bench: deps
	$(Q)scripts/bench.sh

.PHONY: clean distclean
clean:
	$(Q)rm -rf $(O)/arch $(O)/boards $(O)/stack $(O)/policy $(O)/hub $(O)/services \
		$(O)/hearth $(O)/hearth.elf $(O)/hearth.img $(O)/hearth.map $(O)/include
distclean:
	$(Q)rm -rf build

.PHONY: help
help:
	@echo 'Hearth: firmware for a personal information hub'
	@echo
	@echo 'Everyday:'
	@echo '  make run            build the board (default qemu-virt) and boot it in QEMU'
	@echo '  make run BOARD=cubieboard2  the ARMv7 (Cortex-A7, Thumb-2) image on qemu-system-arm virt'
	@echo '  make run BOARD=xen  the same image as the dom0 of Xen 4.17 in QEMU (docs/xen.md)'
	@echo '  make run-xen-domu   Xen 4.17 + a Linux dom0 in QEMU, the image as a PV domU;'
	@echo '                      type dom0 commands (xl list) on the console (docs/xen.md)'
	@echo '  make sdcard BOARD=cubieboard2  the SD card image to flash (docs/flashing.md)'
	@echo '  make test           every test: the builds, host unit suites (ASan+UBSan), then'
	@echo '                      the end-to-end suites on the real image in QEMU'
	@echo '  make unit           host unit suites only (DT, HTTP + fuzz, policy, obligations,'
	@echo '                      hub audit + model + ingestion fuzz, storage)'
	@echo '  make e2e            builds, then the end-to-end suites only (tests/e2e/test_*.py)'
	@echo '  make bench          benchmarks (ratios against a peer, never gating)'
	@echo '  make fuzz           longer fuzz runs: DT, HTTP, ingestion, policy (FUZZ_SECONDS,'
	@echo '                      default 120)'
	@echo
	@echo 'Building (BOARD=qemu-virt|cubieboard2|host, output in build/<board>/):'
	@echo '  make                build the image (build/<board>/hearth.img, or hearth on host)'
	@echo '  make tools          host tools: build/tools/hearth-dt (binding table of a DTB)'
	@echo '  make V=1            show the full commands'
	@echo '  make clean          remove this board'"'"'s objects; distclean removes build/'
	@echo
	@echo 'Configuration (Kconfig, written to build/<board>/.config):'
	@echo '  make <board>_defconfig   start from boards/<board>/defconfig'
	@echo '  make menuconfig          edit the configuration'
	@echo '  make olddefconfig        update .config after Kconfig changes'
	@echo '  make savedefconfig       write a minimal defconfig to build/<board>/defconfig'
	@echo
	@echo 'Dependencies:'
	@echo '  make deps           install missing Debian packages (also done by run/test)'
	@echo
	@echo 'Boards:'
	@for b in boards/*/defconfig; do d=$${b%/defconfig}; echo "  $${d#boards/}"; done

# scripts/sdcard.mk, included by the Makefile: `make sdcard BOARD=cubieboard2`
# builds the board's image first, then the flashable SD card image around it
# (scripts/sdcard.sh): $(O)/hearth-$(BOARD).img and, for upgrades that keep
# Hearth's data, $(O)/hearth-$(BOARD)-update.img. docs/flashing.md says how
# to write them. Only the Cubieboard2 has a card.

ifneq ($(filter sdcard,$(MAKECMDGOALS)),)
ifneq ($(BOARD),cubieboard2)
$(error make sdcard: only BOARD=cubieboard2 has an SD card image)
endif
endif

.PHONY: sdcard
sdcard: all
	$(Q)scripts/sdcard.sh $(BOARD) $(O) $(IMAGE)

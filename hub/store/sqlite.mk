# hub/store/sqlite.mk: SQLite's compile options and the rule that generates
# the amalgamation, shared by the firmware build (hub/store/Kbuild) and the
# host storage tests (tests/storage.mk).
#
# Debian's orig tarball of sqlite3 3.40.1 (build/third_party/sqlite3, pinned
# in third_party.lock) has no sqlite3.c: configure + `make sqlite3.c` (host
# gcc and tclsh) make it out of tree, into build/third_party/sqlite3-amalg/.
TP ?= build/third_party
SQLITE_AMALG := $(TP)/sqlite3-amalg
SQLITE_OPTS := -DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
	-DSQLITE_TEMP_STORE=3 -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DQS=0 \
	-DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_MAX_MMAP_SIZE=0

$(SQLITE_AMALG)/.stamp: | $(TP)/sqlite3/.stamp
	@printf '  %-7s %s\n' GEN $(SQLITE_AMALG)/sqlite3.c
	@rm -rf $(SQLITE_AMALG).tmp && mkdir -p $(SQLITE_AMALG).tmp && \
	cd $(SQLITE_AMALG).tmp && \
	{ $(CURDIR)/$(TP)/sqlite3/configure --disable-tcl --disable-readline >configure.log 2>&1 && \
	  make sqlite3.c OPTS="$(SQLITE_OPTS)" >make.log 2>&1; } || \
	{ echo "sqlite3 amalgamation failed: see $(SQLITE_AMALG).tmp/*.log" >&2; exit 1; }
	@rm -rf $(SQLITE_AMALG) && mkdir -p $(SQLITE_AMALG) && \
	cp $(SQLITE_AMALG).tmp/sqlite3.c $(SQLITE_AMALG).tmp/sqlite3.h $(SQLITE_AMALG)/ && \
	rm -rf $(SQLITE_AMALG).tmp && touch $@

# Made by the stamp rule, not by a rule of their own: never delete them as
# intermediates.
.SECONDARY: $(SQLITE_AMALG)/sqlite3.c $(SQLITE_AMALG)/sqlite3.h

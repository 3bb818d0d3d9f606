#!/bin/sh
# run-all.sh [build|unit|e2e|all]: what `make test` runs (all), in order:
# Debian packages; the builds (qemu-virt and cubieboard2 images, host board,
# host tools); the host unit suites under ASan+UBSan (one makefile each in
# tests/); then the end-to-end suites that boot the real image in QEMU
# (tests/e2e/run.sh).
# `make unit` and `make e2e` run one phase (e2e builds first).
set -e
cd "$(dirname "$0")/.."
phase=${1:-all}
start=$(date +%s)
scripts/deps.sh --quiet
J=-j$(nproc)

build() {
	echo "== build: qemu-virt, cubieboard2 (ARMv7), host, tools"
	make -s $J BOARD=qemu-virt
	make -s $J BOARD=cubieboard2
	make -s $J BOARD=host
	make -s $J -f tests/tools.mk tools
}

unit() {
	echo "== unit tests (host, ASan+UBSan): device tree"
	make -s -f tests/tools.mk unit
	echo "== HTTP core: unit tests and a bounded fuzz run"
	make -s -f tests/http.mk test && make -s -f tests/http.mk fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-15}
	echo "== policy engine: unit, Cedar integration, differential against cedar-wasm, fuzz replay"
	make -s -f tests/policy.mk test
	echo "== privacy obligations and transforms"
	make -s -f tests/obligations.mk test
	echo "== hub: audit log and data model on a real store, ingestion fuzz (bounded)"
	make -s -f tests/hub.mk test && make -s -f tests/hub.mk fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-15}
	echo "== storage: VFS unit tests and 1,000 power cuts"
	make -s -f tests/storage.mk test
}

e2e() {
	echo "== end-to-end tests"
	tests/e2e/run.sh
}

case "$phase" in
build) build ;;
unit) unit ;;
e2e) build && e2e ;;
all) build && unit && e2e ;;
*) echo "usage: $0 [build|unit|e2e|all]" >&2; exit 2 ;;
esac
echo "== $phase: all passed in $(( $(date +%s) - start )) s"

#!/bin/sh
# run-all.sh: what `make test` runs, in order: Debian packages, the builds
# (qemu-virt image, host board, host tools), host unit tests under ASan+UBSan,
# then the end-to-end tests that boot the real image in QEMU.
set -e
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/deps.sh --quiet
echo "== build: qemu-virt, host, tools"
J=-j$(nproc)
make -s $J BOARD=qemu-virt
make -s $J BOARD=host
make -s $J -f tests/tools.mk tools
echo "== unit tests (host, ASan+UBSan): device tree"
make -s -f tests/tools.mk unit
echo "== HTTP core: unit tests and a bounded fuzz run"
make -s -f tests/http.mk test && make -s -f tests/http.mk fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-15}
echo "== policy engine: unit, Cedar integration, differential against cedar-wasm, fuzz replay"
make -s -f tests/policy.mk test
echo "== privacy obligations and transforms"
make -s -f tests/obligations.mk test
echo "== storage: VFS unit tests and 1,000 power cuts"
make -s -f tests/storage.mk test
echo "== end-to-end tests"
tests/e2e/run.sh
echo "== all tests passed in $(( $(date +%s) - start )) s"

#!/bin/sh
# run-all.sh: what `make test` runs, in order: Debian packages, the builds
# (qemu-virt image, host board, host tools), host unit tests under ASan+UBSan,
# then the end-to-end tests that boot the real image in QEMU.
set -e
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/deps.sh --quiet
echo "== build: qemu-virt, host, tools"
make -s BOARD=qemu-virt
make -s BOARD=host
make -s -f tests/tools.mk tools
echo "== unit tests (host, ASan+UBSan)"
make -s -f tests/tools.mk unit
echo "== end-to-end tests"
tests/e2e/run.sh
echo "== all tests passed in $(( $(date +%s) - start )) s"

#!/bin/sh
# run.sh: every end-to-end suite (tests/e2e/test_*.py), each under a timeout.
# Assumes the images are built (tests/run-all.sh does that).
set -e
cd "$(dirname "$0")"
fail=0
for t in test_*.py; do
	echo "-- $t"
	timeout 900 /usr/bin/python3 "$t" || fail=1
done
exit $fail

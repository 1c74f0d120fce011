# testlib.sh - the counting helpers every tests/test_*.sh sources: each check prints
# "ok - ..." or "FAIL - ...", and finish prints "N passed, N failed" and sets the exit status.
# shellcheck shell=bash

passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

#!/usr/bin/env bash
# tsan.sh - CI stage: builds Seogo with ThreadSanitizer (clang, else gcc) into build-tsan/ and
# runs what uses threads: test_threads (searches on one handle while another thread commits and
# the map grows), seogo-index on the corpus (files analyzed in worker threads) and
# test_concurrency.sh (searcher processes while the indexer writes). A data race or lock-order
# problem stops the program that hit it, so its test fails. Ends with "N passed, N failed".
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SEOGO_TSAN_DIR:-$root/build-tsan}
jobs=${SEOGO_JOBS:-$(nproc 2>/dev/null || echo 2)}
passed=0 failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

"$root/scripts/bootstrap.sh" >/dev/null || { fail "bootstrap"; finish; }
cc=clang
command -v clang >/dev/null 2>&1 || cc=gcc
if ! cmake -S "$root" -B "$build_dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
       -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DSEOGO_SANITIZE=thread -DSEOGO_BUILD_BENCH=OFF >/dev/null ||
   ! cmake --build "$build_dir" -j "$jobs" --target test_threads seogo-index seogo-search; then
  fail "the ThreadSanitizer build"; finish
fi

# second_deadlock_stack: both stacks of a lock-order inversion; exitcode: any report fails
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=66 ${TSAN_OPTIONS:-}"
tmp=$(mktemp -d /tmp/seogo-tsan-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { # run WHAT COMMAND...: passes when the command exits 0
  local what=$1; shift
  if "$@" >"$tmp/out" 2>&1; then
    ok "$what"
  else
    fail "$what (exit status $?)"
    grep -A 30 'ThreadSanitizer' "$tmp/out" | head -60 | sed 's/^/    /'
    tail -15 "$tmp/out" | sed 's/^/    /'
  fi
}

run "test_threads: searches on one handle while another thread commits; seogo_add_files" \
  env SEOGO_SOURCE_DIR="$root" "$build_dir/test_threads"
run "seogo-index: the corpus analyzed in worker threads" \
  "$build_dir/seogo-index" -q -d "$tmp/index" "$root/corpus"
run "seogo-search: a few queries on it" \
  "$build_dir/seogo-search" -d "$tmp/index" --queries <(printf '소버린 AI\n반도체 OR 전략\n"기술 주권"\n')
# fewer writer rounds: every program runs several times slower under ThreadSanitizer
run "test_concurrency.sh: searcher processes while the indexer writes" \
  env SEOGO_SOURCE_DIR="$root" SEOGO_BUILD_DIR="$build_dir" SEOGO_CONCURRENCY_ROUNDS=4 \
  bash "$root/tests/test_concurrency.sh"
finish

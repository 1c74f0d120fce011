# reliability.sh - helpers shared by the reliability tests (test_badinput.sh, test_badindex.sh,
# test_fulldisk.sh, test_crash.sh, test_concurrency.sh); sourced, never run by ctest itself.
# shellcheck shell=bash disable=SC2034
# (the variables are for the tests that source this file)
# Each test prints "ok - ..." / "FAIL - ..." lines and ends with "N passed, N failed".

src=${SEOGO_SOURCE_DIR:?SEOGO_SOURCE_DIR not set}
build=${SEOGO_BUILD_DIR:?SEOGO_BUILD_DIR not set}
index_bin=$build/seogo-index
search_bin=$build/seogo-search

# rel_tmpdir NAME: a fresh temporary directory in $tmp, removed at exit. Tests that start
# background processes add their own cleanup through rel_on_exit.
rel_exit_hooks=()
rel_on_exit() { rel_exit_hooks+=("$1"); }
rel_cleanup() {
  local h
  for h in "${rel_exit_hooks[@]}"; do eval "$h"; done
  rm -rf "$tmp"
}
rel_tmpdir() {
  tmp=$(mktemp -d "/tmp/seogo-$1-XXXXXX")
  trap rel_cleanup EXIT
}

# shellcheck source=tests/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

# show FILE...: indented excerpt of files, for failure reports
show() { local f; for f in "$@"; do [ -s "$f" ] && cut -c1-240 "$f" | sed 's/^/    | /' | head -25; done; return 0; }

# crashed STATUS ERRFILE: whether a program died (a signal, or a sanitizer report) instead of
# exiting with one of its own statuses (0, 1, 2 and 130 for seogo-index's interruption).
crashed() {
  local status=$1 errfile=$2
  [ "$status" -gt 2 ] && [ "$status" -ne 130 ] && return 0
  grep -qE 'Sanitizer|runtime error:|Assertion .* failed|mdb_assert' "$errfile" 2>/dev/null
}

# fault_handled STATUS ERRFILE: whether a program stopped through its fault handler (its message
# and exit status 3; 1 for seogo-index --check, whose finding such a crash is)
fault_handled() {
  { [ "$1" -eq 3 ] || [ "$1" -eq 1 ]; } &&
    grep -q 'is damaged (.*crash.*); nothing was changed since its last commit' "$2"
}

# lmdb_sanitized ERRFILE: a sanitizer report of a bad memory access made by LMDB itself (its
# first frame after the sanitizer's interceptors). LMDB is not instrumented, but its memcpy and
# memcmp calls are intercepted: a read past a damaged page is reported there, in a sanitizer
# build, before it can fault and reach the handler.
lmdb_sanitized() {
  awk '/ERROR: AddressSanitizer/ { report = 1; next }
       report && / #[0-9]+ / && !/[Ii]nterceptor|sanitizer/ { found = /liblmdb/; exit }
       END { exit !found }' "$1"
}

# expect WHAT STATUS PATTERN COMMAND...: runs COMMAND (stdout to $tmp/out, stderr to $tmp/err),
# passes when it exits with STATUS, did not crash, and its stderr matches the extended regular
# expression PATTERN ("" for no check).
expect() {
  local what=$1 want=$2 pattern=$3 status
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
  if crashed "$status" "$tmp/err"; then
    fail "$what: crashed (exit status $status)"; show "$tmp/err"
  elif [ "$status" -ne "$want" ]; then
    fail "$what: exit status $status, expected $want"; show "$tmp/err" "$tmp/out"
  elif [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/err"; then
    fail "$what: no message matching /$pattern/"; show "$tmp/err"
  else
    ok "$what"
  fi
}

# doc_count INDEX: the number of documents --stats reports (empty on failure)
# build_poke: ./poke, tests/lmdb_poke.c (writes damaged records through LMDB), or the test ends
build_poke() {
  local cc=${SEOGO_C_COMPILER:-cc}
  # shellcheck disable=SC2046
  if ! "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -o poke "$src/tests/lmdb_poke.c" \
       $(pkg-config --cflags --libs lmdb) 2>poke.err; then
    fail "tests/lmdb_poke.c builds"; show poke.err; finish
  fi
}

doc_count() { "$index_bin" -d "$1" --stats 2>/dev/null | sed -n 's/^documents *//p'; }

# hit_paths INDEX QUERY: the distinct document paths of the query's hits, sorted
hit_paths() {
  "$search_bin" -d "$1" --json -n 100000 -- "$2" 2>/dev/null |
    sed -n 's/^{"file":"\([^"]*\)".*/\1/p' | sort -u
}

#!/usr/bin/env bash
# valgrind.sh - CI stage 3: runs the command-line paths (seogo-index on corpus/ into a fresh
# index, an update of it, and seogo-search on a few queries, --json and a malformed one) from
# build/ under valgrind. A run fails on any memory error or definite/indirect leak, or when the
# program's own exit status is not the expected one. Ends with "N passed, N failed".
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SEOGO_BUILD_DIR:-$root/build}
[ -x "$build_dir/seogo-search" ] || "$root/scripts/bootstrap.sh" >/dev/null || exit 1

tmp=$(mktemp -d /tmp/seogo-valgrind-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
index=$tmp/index
passed=0 failed=0 n=0

# vg STATUS DESCRIPTION PROGRAM ARGS...: runs the program under valgrind with standard input
# from $vg_stdin (default /dev/null); STATUS is the exit status the program must give
# (seogo-search: 0 hits, 1 no hits, 2 error; seogo-index: 0 done, 2 failed).
vg_stdin=/dev/null
vg() {
  local expect=$1 what=$2; shift 2
  local log=$tmp/vg$((++n)).log status errors
  valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    --suppressions="$root/.ci/valgrind.supp" --log-file="$log" \
    "$@" >"$tmp/out" 2>"$tmp/err" <"$vg_stdin"
  status=$?
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
  local verdict=ok
  [ "${errors:-1}" -eq 0 ] || verdict="valgrind reported ${errors:-no summary, so} errors"
  [ "$status" -eq "$expect" ] || verdict="exit status $status, expected $expect"
  if [ "$verdict" = ok ]; then
    echo "ok - $what"
    passed=$((passed + 1))
  else
    echo "FAIL - $what: $verdict"
    echo "    \$ ${*#"$build_dir/"}"
    grep -v -e '^==[0-9]*== *$' -e 'Copyright' -e 'Using Valgrind' -e 'Command:' "$log" |
      sed 's/^/    /' | head -80
    sed 's/^/    stderr: /' "$tmp/err" | head -10
    failed=$((failed + 1))
  fi
}

index_cmd=("$build_dir/seogo-index" -d "$index")
search_cmd=("$build_dir/seogo-search" -d "$index")

vg 0 "seogo-index indexes corpus/" "${index_cmd[@]}" "$root/corpus"
vg 0 "seogo-index again (every file unchanged)" "${index_cmd[@]}" "$root/corpus"
vg 0 "seogo-index --stats" "${index_cmd[@]}" --stats
vg 0 "seogo-index --check" "${index_cmd[@]}" --check
printf '소버린 AI(Sovereign AI) 전략을 U.S.-led 반도체를\n' >"$tmp/text"
vg_stdin=$tmp/text vg 0 "seogo-index --analyze" "$build_dir/seogo-index" --analyze
vg 0 "search: 소버린 AI" "${search_cmd[@]}" 소버린 AI
vg 0 "search --json: 반도체 수출통제" "${search_cmd[@]}" --json '반도체 수출통제'
vg 0 "search --explain --group: a phrase, OR, NOT and a prefix" "${search_cmd[@]}" --explain \
  --group '"기술 주권" OR (반도체 AND (수출 OR 통제) NOT 중국) OR 데이터센*'
vg 0 "search: NEAR and file:" "${search_cmd[@]}" 'NEAR(엔비디아 GPU, 20) file:*002*'
printf '소버린 AI\n"technology sovereignty"\n반도체를\n' >"$tmp/queries"
vg_stdin=$tmp/queries vg 0 "search --json --queries - (three queries from stdin)" \
  "${search_cmd[@]}" --json --queries -
vg 1 "search: nothing matches" "${search_cmd[@]}" zyxwvutsrq
vg 2 "search: a malformed query is refused" "${search_cmd[@]}" '(반도체 OR'
vg 2 "search: a missing index is refused" "$build_dir/seogo-search" -d "$tmp/none" 반도체

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

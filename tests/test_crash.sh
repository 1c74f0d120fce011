#!/usr/bin/env bash
# test_crash.sh - crash safety: seogo-index is killed with SIGKILL at random moments (24 times)
# while it builds an index of 240 files, while it updates it (files replaced, deleted and
# added, committing every MB) and while it rebuilds it. After each kill the index must open,
# answer with no error, and hold a committed state: every document it lists is one whole
# version of its file, answering exactly as an uninterrupted build does for that version
# (tests/crash_check.py). A run left to finish then gives exactly the results of an
# uninterrupted build. SEOGO_CRASH_SEED repeats a run's choice of delays.
# ok/fail after a test: `ok` never fails, so `test && ok || fail` is an if-then-else here
# shellcheck disable=SC2015
# shellcheck disable=SC2016 # the bash -c scripts expand their own arguments
set -uo pipefail
# shellcheck source=tests/reliability.sh
. "$(dirname "${BASH_SOURCE[0]}")/reliability.sh"
rel_tmpdir crash
cd "$tmp" || exit 1
seed=${SEOGO_CRASH_SEED:-$$}
RANDOM=$seed
echo "# delays from SEOGO_CRASH_SEED=$seed"
helper=(python3 "$src/tests/crash_check.py")
kills=0 partial=0

now() { date +%s.%N; }
# timed INDEX TREE ARGS...: runs seogo-index uninterrupted; $duration is how long it took
timed() {
  local index=$1 tree=$2 t0; shift 2
  t0=$(now)
  (cd "$tree" && "$index_bin" -q --batch-mb 1 -d "$tmp/$index" "$@" .) ||
    { fail "an uninterrupted run ($index $*)"; finish; }
  duration=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
}
# reference STATE: an uninterrupted build of the tree in that state, its hits and answers
reference() {
  "${helper[@]}" tree "ref$1.tree" "$1"
  timed "ref$1" "ref$1.tree"
  "${helper[@]}" reference "$search_bin" "ref$1" queries.txt >"ref$1.json" &&
    "${helper[@]}" answers "$search_bin" "ref$1" queries.txt >"ref$1.ans" ||
    { fail "the reference answers of state $1"; finish; }
}
# kill_run SECONDS ARGS...: runs seogo-index ARGS on tree/ into idx/ and kills it (SIGKILL)
# after a random delay of up to SECONDS; sets $finished when it ended before the kill
kill_run() {
  local limit=$1 delay; shift
  delay=$(awk -v t="$limit" -v r="$RANDOM" 'BEGIN { printf "%.3f", t * r / 32767 }')
  (cd tree && exec "$index_bin" -q --batch-mb 1 -d "$tmp/idx" "$@" . >/dev/null 2>"$tmp/run.err") &
  local pid=$!
  sleep "$delay"
  finished=1
  kill -0 "$pid" 2>/dev/null && finished=0 && kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  local status=$?
  kills=$((kills + 1))
  if [ "$finished" -eq 1 ] && [ "$status" -ne 0 ]; then
    fail "kill $kills: the run failed before the kill (exit status $status)"; show run.err
  fi
}
# consistent WHAT: the index holds a committed state
consistent() {
  if "${helper[@]}" check "$search_bin" "$index_bin" idx queries.txt ref1.json ref2.json >check.out 2>&1; then
    ok "$1 ($(tail -1 check.out))"
  else
    fail "$1"; show check.out
  fi
}
# same_as REF WHAT: the index answers exactly as the reference build
same_as() {
  "${helper[@]}" answers "$search_bin" idx queries.txt >idx.ans
  if cmp -s idx.ans "$1"; then ok "$2"; else fail "$2"; diff "$1" idx.ans | head -6 | cut -c1-200; fi
}

"${helper[@]}" queries queries.txt
reference 2
reference 1; t_build=$duration
# how long updates and a rebuild take uninterrupted: the kills fall within these times
cp -r ref1 upd
timed upd ref2.tree; t_up12=$duration
timed upd ref1.tree; t_up21=$duration
timed upd ref1.tree --rebuild; t_rebuild=$duration
echo "# uninterrupted: build ${t_build}s, updates ${t_up12}s and ${t_up21}s, rebuild ${t_rebuild}s"

# ---- 1. Killed while building the index from nothing ------------------------------------------
"${helper[@]}" tree tree 1
for round in $(seq 1 10); do
  before=$(doc_count idx 2>/dev/null); before=${before:-0}
  [ "$before" -eq 240 ] && rm -rf idx && before=0 # complete: start again
  kill_run "$t_build" --
  after=$(doc_count idx 2>/dev/null); after=${after:-0}
  [ "$finished" -eq 0 ] && [ "$after" -gt "$before" ] && [ "$after" -lt 240 ] && partial=$((partial + 1))
  if [ "$before" -eq 0 ] && ! "$index_bin" -d idx --stats >stats.out 2>&1; then
    # killed before the first commit: there is nothing to keep, and the index must say so
    if grep -Eq 'no index at|holds nothing yet' stats.out; then
      ok "build, kill $kills: stopped before its first commit, and the index says it holds nothing yet"
    else
      fail "build, kill $kills: no committed state, and not said plainly"; show stats.out
    fi
    continue
  fi
  consistent "build, kill $kills$([ "$finished" -eq 1 ] && echo ' (the run had ended)')"
done
expect "a run left alone completes the build" 0 "" \
  bash -c 'cd tree && exec "$0" -q --batch-mb 1 -d "$1" .' "$index_bin" "$tmp/idx"
same_as ref1.ans "  and answers exactly as an uninterrupted build"

# ---- 2. Killed while updating: 1/3 replaced, 1/7 deleted, 40 added, and back ------------------
for round in $(seq 1 10); do
  "${helper[@]}" tree tree $((round % 2 + 1))
  kill_run "$([ $((round % 2)) -eq 1 ] && echo "$t_up12" || echo "$t_up21")" --
  consistent "update to state $((round % 2 + 1)), kill $kills$([ "$finished" -eq 1 ] && echo ' (the run had ended)')"
done
"${helper[@]}" tree tree 2
expect "a run left alone completes the update" 0 "" \
  bash -c 'cd tree && exec "$0" -q --batch-mb 1 -d "$1" .' "$index_bin" "$tmp/idx"
same_as ref2.ans "  and answers exactly as an uninterrupted build"

# ---- 3. Killed while rebuilding: readers see the old index until the new one is complete -------
for round in $(seq 1 4); do
  kill_run "$t_rebuild" --rebuild
  same_as ref2.ans "rebuild, kill $kills: the index is the one before$([ "$finished" -eq 1 ] && echo ' (the run had ended)')"
done
expect "a rebuild left alone completes" 0 "" \
  bash -c 'cd tree && exec "$0" -q --rebuild -d "$1" .' "$index_bin" "$tmp/idx"
same_as ref2.ans "  and answers exactly as an uninterrupted build"
gens=$(find idx -maxdepth 1 -name 'gen-*' | wc -l)
[ "$gens" -eq 1 ] && ok "  and the generations of killed rebuilds are gone" ||
  { fail "  and the generations of killed rebuilds are gone"; ls -la idx; }

echo "# $kills kills, $partial of the build's kills left some batches committed and others not"
[ "$kills" -ge 20 ] && ok "at least 20 kills ($kills)" || fail "at least 20 kills ($kills)"
finish

#!/usr/bin/env bash
# test_concurrency.sh - searches in other processes keep answering, with no error and with
# consistent results, while seogo-index replaces, deletes and adds documents (committing every
# MB), removes some with --remove and rebuilds the index. Three searchers run throughout: two
# start a seogo-search per pass, one keeps a single seogo-search (one open index) fed with
# queries through a pipe. Every answer, taken in its own snapshot, must show each document
# whole: its hits exactly those of one version of its file (tests/crash_check.py watch).
# ok/fail after a test: `ok` never fails, so `test && ok || fail` is an if-then-else here
# shellcheck disable=SC2015
set -uo pipefail
# shellcheck source=tests/reliability.sh
. "$(dirname "${BASH_SOURCE[0]}")/reliability.sh"
rel_tmpdir concurrency
cd "$tmp" || exit 1
helper=(python3 "$src/tests/crash_check.py")
export SEOGO_TREE_PARAGRAPHS=40 # files of about 5 KB: two commits of 1 MB per run

# ---- the two states of the tree and their uninterrupted builds ---------------------------------
"${helper[@]}" queries queries.txt
for state in 1 2; do
  "${helper[@]}" tree "ref$state.tree" "$state"
  (cd "ref$state.tree" && "$index_bin" -q -d "$tmp/ref$state" .) &&
    "${helper[@]}" reference "$search_bin" "ref$state" queries.txt >"ref$state.json" ||
    { fail "reference build of state $state"; finish; }
done
"${helper[@]}" tree tree 1
(cd tree && "$index_bin" -q -d "$tmp/idx" .) || { fail "the first build"; finish; }

# ---- searchers ----------------------------------------------------------------------------------
watchers=()
for mode in short short long; do
  "${helper[@]}" watch "$search_bin" idx ref1.json ref2.json stop "$mode" >"watch${#watchers[@]}.out" 2>&1 &
  watchers+=($!)
done
# shellcheck disable=SC2016 # expanded at exit
rel_on_exit 'touch "$tmp/stop"; for p in "${watchers[@]}"; do kill "$p" 2>/dev/null; done'
sleep 1

# ---- the writer -------------------------------------------------------------------------------
writes=0
write() { # write WHAT ARGS...: one seogo-index run in tree/, which must succeed
  local what=$1; shift
  if (cd tree && "$index_bin" -q --batch-mb 1 -d "$tmp/idx" "$@") >w.out 2>w.err; then
    writes=$((writes + 1))
  else
    fail "writer: $what"; show w.err
  fi
}
rounds=${SEOGO_CONCURRENCY_ROUNDS:-6} # at least 4 (round 3 removes, round 4 rebuilds)
for round in $(seq 1 "$rounds"); do
  "${helper[@]}" tree tree $((round % 2 + 1))
  write "update to state $((round % 2 + 1))" .
  if [ "$round" -eq 3 ]; then
    write "--remove of two documents" --remove f001.txt f002.txt
    write "putting them back" .
  fi
  [ "$round" -eq 4 ] && write "--rebuild" --rebuild .
done
touch stop
for i in "${!watchers[@]}"; do
  wait "${watchers[$i]}"
  status=$?
  what="searcher $((i + 1)) ($([ "$i" -eq 2 ] && echo 'one long-lived process' || echo 'a process per pass'))"
  if [ "$status" -eq 0 ]; then
    ok "$what: $(tail -1 "watch$i.out")"
  else
    fail "$what"; show "watch$i.out"
  fi
done
want=$((rounds + 3))
[ "$writes" -eq "$want" ] && ok "the writer made its $want runs meanwhile" ||
  fail "the writer made $writes runs of $want"
"${helper[@]}" answers "$search_bin" idx queries.txt >idx.ans
final=$((rounds % 2 + 1))
"${helper[@]}" answers "$search_bin" "ref$final" queries.txt >ref.ans
cmp -s idx.ans ref.ans && ok "after the writer, the index answers as an uninterrupted build" ||
  { fail "after the writer, the index answers as an uninterrupted build"; diff ref.ans idx.ans | head -5 | cut -c1-200; }
finish

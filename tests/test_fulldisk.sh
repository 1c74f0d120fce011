#!/usr/bin/env bash
# test_fulldisk.sh - indexing into a filesystem that fills up (a small tmpfs, when mounting is
# permitted) and under a file size limit (ulimit -f, always): the run fails with a clear
# message, the index keeps its last committed state and answers exactly as before, a rebuild
# that cannot finish leaves the old index in place, and once there is room again a re-run
# completes with the results of an uninterrupted build.
# ok/fail after a test: `ok` never fails, so `test && ok || fail` is an if-then-else here
# shellcheck disable=SC2015
set -uo pipefail
# shellcheck source=tests/reliability.sh
. "$(dirname "${BASH_SOURCE[0]}")/reliability.sh"
rel_tmpdir fulldisk
cd "$tmp" || exit 1

# Two small reports, then a big batch: copies of the long report under other names.
mkdir -p small big
cp "$src"/corpus/000_*.txt small/genesis.txt
cp "$src"/corpus/001_*.txt small/plan.txt
for i in 1 2 3 4 5 6 7 8; do cp "$src"/corpus/002_*.txt "big/report$i.txt"; done
queries=('소버린 AI' '제네시스 미션' '"행동 계획"' '반도체 OR 데이터센터' 'NEAR(엔비디아 GPU, 20)')

# answers INDEX: every query's hits (path, lines, score), one JSON line each
answers() {
  local q
  for q in "${queries[@]}"; do "$search_bin" -d "$1" --json -n 50 -- "$q" 2>&1; echo "# $?"; done |
    sed 's/"snippet":.*"passage_id"/"passage_id"/'
}
# same_answers WHAT INDEX FILE: INDEX answers as recorded in FILE
same_answers() {
  answers "$2" >now.txt
  if cmp -s now.txt "$3"; then ok "$1"; else fail "$1"; diff "$3" now.txt | head -10 | sed 's/^/    /'; fi
}
# filled WHAT COMMAND...: the command fails (exit 2, no crash) saying what is full
filled() { local what=$1; shift; expect "$what" 2 'full|size limit' "$@"; }
# only_gen INDEX: the index holds one generation, the one CURRENT names
only_gen() {
  local gens
  gens=$(cd "$1" && printf '%s ' gen-*)
  [ "$gens" = "$(tr -d '\n' <"$1/CURRENT") " ]
}

# The reference: the same runs with room to spare.
"$index_bin" -q -d ref.small small && answers ref.small >small.ans &&
  "$index_bin" -q -d ref.all small big && answers ref.all >all.ans ||
  { fail "reference indexes build"; finish; }

# ---- 1. A filesystem that fills up ---------------------------------------------------------
mkdir mnt
if mount -t tmpfs -o size=1600k tmpfs mnt 2>/dev/null; then
  rel_on_exit "umount '$tmp/mnt' 2>/dev/null"
  expect "the small reports fit" 0 "" "$index_bin" -q -d mnt/idx small
  same_answers "  and answer as in the reference" mnt/idx small.ans
  filled "indexing the big batch fills the disk" "$index_bin" -q -d mnt/idx small big
  grep -q 'disk is full' "$tmp/err" && ok "  the message says the disk is full" ||
    { fail "  the message says the disk is full"; show "$tmp/err"; }
  grep -qiE 'input/output|bad file' "$tmp/err" && { fail "  without a misleading I/O error"; show "$tmp/err"; } ||
    ok "  without a misleading I/O error"
  expect "the index still opens" 0 '' "$index_bin" -d mnt/idx --stats
  same_answers "  and answers as its last commit" mnt/idx small.ans
  filled "a second attempt fails the same way" "$index_bin" -q -d mnt/idx small big
  same_answers "  and changes nothing" mnt/idx small.ans

  # commits every 1 MB: the batches before the full disk stay, each document whole
  mount -o remount,size=6m mnt
  filled "with --batch-mb 1 the run stops at the full disk" \
    "$index_bin" -q --batch-mb 1 -d mnt/idx small big
  n=$(doc_count mnt/idx)
  [ -n "$n" ] && [ "$n" -gt 2 ] && [ "$n" -lt 10 ] && ok "  the index opens with $n documents" ||
    fail "  the index opens with ${n:-no} documents"
  # each document the index holds answers exactly as in the reference
  bad=0
  for q in "${queries[@]}"; do
    "$search_bin" -d mnt/idx --json -n 100000 -- "$q" 2>/dev/null | sed 's/"score".*//' | sort >a
    "$search_bin" -d ref.all --json -n 100000 -- "$q" 2>/dev/null | sed 's/"score".*//' | sort >b
    # shellcheck disable=SC2013 # paths without spaces
    for d in $(sed -n 's/^{"file":"\([^"]*\)".*/\1/p' a b | sort -u); do
      if [ "$(grep -c "\"$d\"" a)" -ne 0 ] && ! diff <(grep "\"$d\"" a) <(grep "\"$d\"" b) >/dev/null; then
        bad=$((bad + 1)); echo "    $q: $d differs"
      fi
    done
    # shellcheck disable=SC2013
    for d in $(sed -n 's/^{"file":"\([^"]*\)".*/\1/p' a | sort -u); do
      "$index_bin" -d mnt/idx --stats --list | grep -q "  $d " || { bad=$((bad + 1)); echo "    $d is not listed"; }
    done
  done
  [ "$bad" -eq 0 ] && ok "  every document it holds is whole (hits as in the reference)" ||
    fail "  every document it holds is whole"

  # a rebuild that cannot finish leaves the old index as it was
  answers mnt/idx >before.ans
  filled "a rebuild on the full disk fails" "$index_bin" -q -d mnt/idx --rebuild small big
  same_answers "  and the old index answers as before" mnt/idx before.ans
  only_gen mnt/idx && ok "  and its half-built generation is gone" ||
    { fail "  and its half-built generation is gone"; ls -la mnt/idx; }

  # room again: the next run completes as if nothing had happened
  mount -o remount,size=64m mnt
  expect "with room again, the run completes" 0 "" "$index_bin" -q -d mnt/idx small big
  same_answers "  and answers as an uninterrupted build" mnt/idx all.ans
  umount mnt

  # no room even to create the index
  mount -t tmpfs -o size=40k tmpfs mnt
  filled "no room to create an index" "$index_bin" -q -d mnt/idx small
  rm -rf mnt/idx
  expect "  and nothing is left behind to confuse a search" 2 'no index|not a Seogo index' \
    "$search_bin" -d mnt/idx 반도체
  umount mnt
else
  echo "skip - full filesystem: mounting a tmpfs is not permitted here"
fi

# ---- 2. A file size limit (RLIMIT_FSIZE: writes past it fail with EFBIG) -----------------------
cp -r ref.small lim
# SIGXFSZ ignored, so that the write fails instead of the signal killing the program
# shellcheck disable=SC2016 # expanded by the inner bash
filled "a file size limit stops the run" \
  bash -c 'trap "" XFSZ; ulimit -f 1500; exec "$0" -q -d lim small big' "$index_bin"
same_answers "  and the index answers as its last commit" lim small.ans
expect "  and the next run without the limit completes" 0 "" "$index_bin" -q -d lim small big
same_answers "  as an uninterrupted build" lim all.ans
finish

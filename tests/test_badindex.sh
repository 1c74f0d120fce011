#!/usr/bin/env bash
# test_badindex.sh - damaged and foreign indexes: truncated or emptied data files, garbled
# CURRENT, another format or analyzer version, damaged records of every kind (written through
# LMDB by tests/lmdb_poke.c, so that only Seogo's bytes are bad), random bytes in the data
# file, directories and files that are not an index, read-only directories and filesystems.
# Each gives a clear error (exit status 2 and a message), never a crash and never an answer
# from damaged data without a word; --rebuild cures what it can.
# ok/fail after a test: `ok` never fails, so `test && ok || fail` is an if-then-else here
# shellcheck disable=SC2015
# shellcheck disable=SC2016 # the bash -c scripts expand their own arguments
set -uo pipefail
# shellcheck source=tests/reliability.sh
. "$(dirname "${BASH_SOURCE[0]}")/reliability.sh"
rel_tmpdir badindex
cd "$tmp" || exit 1

build_poke
cp -r "$src/corpus" corpus
expect "the corpus is indexed" 0 "" "$index_bin" -d good corpus
good_gen=$(tr -d '\n' <good/CURRENT)

# fresh NAME: a copy of the good index; $gen is its generation directory
fresh() { rm -rf "$1"; cp -r good "$1"; gen=$1/$good_gen; }
# hex TEXT: TEXT as "hex:..." for lmdb_poke
hex() { printf 'hex:'; printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
# first_key DB PREFIX: the first key of DB starting with PREFIX (an lmdb_poke argument)
first_key() { ./poke "$gen" keys "$1" "$2" | head -1 | sed 's/^/hex:/'; }
# refused WHAT PATTERN COMMAND...: exit status 2, no crash, a message matching PATTERN
refused() { local what=$1 pattern=$2; shift 2; expect "$what" 2 "$pattern" "$@"; }
# shellcheck disable=SC2317 # called through expect
search() { timeout 60 "$search_bin" -d "$@"; }

# ---- 1. The data file cut short -------------------------------------------------------------
size=$(stat -c %s "good/$good_gen/data.mdb")
for cut in 0 4096 8192 $((size / 2)) $((size - 4096)); do
  fresh cut
  truncate -s "$cut" "$gen/data.mdb"
  refused "data.mdb cut to $cut bytes: search" 'damaged|corrupt|not a Seogo index' search cut 반도체
  refused "data.mdb cut to $cut bytes: --stats" 'damaged|corrupt|not a Seogo index' \
    "$index_bin" -d cut --stats
  refused "data.mdb cut to $cut bytes: indexing" 'damaged|corrupt|not a Seogo index' \
    "$index_bin" -d cut corpus
done
expect "--rebuild cures a cut data file" 0 "" "$index_bin" -q -d cut --rebuild corpus
expect "  and the rebuilt index answers" 0 "" search cut 소버린 AI
[ "$(doc_count cut)" = 5 ] && ok "  with 5 documents" || fail "  with 5 documents: $(doc_count cut)"

# ---- 2. CURRENT garbled or pointing nowhere --------------------------------------------------
fresh cur; printf 'gen-\x01\x02garbage' >cur/CURRENT
refused "a garbled CURRENT: search" 'damaged.*CURRENT.*--rebuild' search cur 반도체
refused "a garbled CURRENT: indexing" 'damaged.*CURRENT.*--rebuild' "$index_bin" -d cur corpus
expect "--rebuild cures a garbled CURRENT" 0 "" "$index_bin" -q -d cur --rebuild corpus
expect "  and the rebuilt index answers" 0 "" search cur 소버린 AI
fresh cur; : >cur/CURRENT
refused "an empty CURRENT" 'damaged.*CURRENT' search cur 반도체
fresh cur; echo gen-000777 >cur/CURRENT
refused "CURRENT naming a missing generation: search" 'damaged.*gen-000777.*missing' \
  search cur 반도체
refused "CURRENT naming a missing generation: indexing" 'damaged.*missing' \
  "$index_bin" -d cur corpus
fresh cur; rm -rf "cur/$good_gen"
refused "the generation directory deleted" 'damaged.*missing' search cur 반도체

# ---- 3. Another format or analyzer version, another magic ------------------------------------
# format 1 is the format before bit-packed postings, 2 the one before passage groups, 3 the one
# before norms records of 65528 passages, 4 the one before passage pages, 5 the one before the
# pages named their documents; 7 one from the future
fresh ver; ./poke "$gen" put meta str:format be32:7
refused "format version 7: search" 'format version 7.*this is version 6.*--rebuild' \
  search ver 반도체
fresh ver; ./poke "$gen" put meta str:format be32:1
refused "format version 1: search" 'format version 1.*this is version 6.*--rebuild' \
  search ver 반도체
fresh ver; ./poke "$gen" put meta str:format be32:5
refused "format version 5: search" 'format version 5.*this is version 6.*--rebuild' \
  search ver 반도체
refused "format version 5: --stats" 'format version 5' "$index_bin" -d ver --stats
refused "format version 5: indexing leaves it alone" 'format version 5' "$index_bin" -d ver corpus
[ "$(./poke "$gen" get meta str:format)" = 00000005 ] && ok "  the old index is untouched" ||
  fail "  the old index is untouched"
expect "--rebuild replaces an index of another format" 0 "" "$index_bin" -q -d ver --rebuild corpus
expect "  and the rebuilt index answers" 0 "" search ver 소버린 AI
fresh ver; ./poke "$gen" put meta str:analyzer be32:999
refused "analyzer version 999" 'analyzer version 999.*--rebuild' search ver 반도체
fresh ver; ./poke "$gen" put meta str:format str:1
refused "a format record of the wrong size" 'corrupt' search ver 반도체
fresh ver; ./poke "$gen" put meta str:magic str:NOT-SEOGO!!!
refused "a wrong magic" 'not a Seogo index' search ver 반도체
fresh ver; ./poke "$gen" del meta str:magic
refused "no magic" 'not a Seogo index' search ver 반도체

# ---- 4. Damaged records ------------------------------------------------------------------------
# damaged WHAT QUERY PATTERN: after the damage done by the caller, QUERY is refused
damaged() { refused "$1" "$3" search rec "$2"; }
bando=$(hex 반도)
fresh rec; ./poke "$gen" put meta str:stats hex:ffffffffffff
damaged "a garbled stats record" 반도체 'corrupt'
refused "  --stats says so too" 'corrupt' "$index_bin" -d rec --stats
fresh rec; ./poke "$gen" del meta str:stats
damaged "no stats record" 반도체 'corrupt|not a Seogo index'
fresh rec; ./poke "$gen" put terms "$bando" hex:ff
damaged "a garbled term record (a one-term word reads it)" 반도 'corrupt'
refused "  and --explain reads it too" 'corrupt' search rec --explain 반도체
fresh rec; ./poke "$gen" put postings "$(first_key postings "${bando}00")" hex:ffffffffff
damaged "a garbled postings block" 반도체 'corrupt'
fresh rec; key=$(first_key postings "${bando}00")
val=$(./poke "$gen" get postings "$key"); ./poke "$gen" put postings "$key" "hex:${val:0:10}"
damaged "a postings block cut short" 반도체 'corrupt'
# a block that decodes well but names passages that do not exist
fresh rec; ./poke "$gen" del postings "$key"
./poke "$gen" put postings "${key:0:${#key}-8}0f000000" "hex:$val"
damaged "a postings block of passages that do not exist" 반도체 'corrupt'
fresh rec; ./poke "$gen" put norms be32:0 hex:010203
damaged "a norms record of an odd size" 반도체 'corrupt'
fresh rec; ./poke "$gen" put docs be32:1 hex:ff
damaged "a garbled document record" 제네시스 'corrupt'
refused "  --stats --list says so too" 'corrupt' "$index_bin" -d rec --stats --list
fresh rec; ./poke "$gen" put passages be32:0 hex:ff
damaged "a garbled passage record" '제네시스 미션' 'corrupt'
fresh rec; ./poke "$gen" del text be32:1
damaged "a document without its text" 제네시스 'corrupt|no stored text'
fresh rec; ./poke "$gen" put paths "$(hex corpus/000_659a9385f88d803c.txt)" be32:77
refused "a path naming a missing document" 'corrupt' "$index_bin" -d rec --stats --list
refused "  and updating the index says so" 'corrupt' "$index_bin" -d rec corpus
fresh rec; ./poke "$gen" put paths "$(hex corpus/000_659a9385f88d803c.txt)" hex:01
refused "a path record of the wrong size" 'corrupt' "$index_bin" -d rec --stats --list
# the undamaged rest still answers: damage is reported where it is met
fresh rec; ./poke "$gen" put postings "$(first_key postings "${bando}00")" hex:ffffffffff
expect "a query that does not meet the damage is answered" 0 "" search rec 엔비디아

# ---- 5. Random bytes in the data file ---------------------------------------------------------
# LMDB 0.9 keeps no page checksums and trusts its own page structure, so these may send LMDB
# astray. Searching, --stats and --check end with an answer or an error. An update of the
# damaged copy (a file replaced, one added, one removed) may also crash inside LMDB, whose
# writer follows pages that readers never reach, but only through the programs' fault handler
# (its message and exit status 3); after a failed update the index answers as before the run
# or --check reports it damaged. Seeded: the same rounds every run.
rounds=${SEOGO_TEST_FLIP_ROUNDS:-25} nbytes=${SEOGO_TEST_FLIP_BYTES:-30}
crashes=0 handled=0 sanitized=0 errors=0 failed_updates=0 changed=0
printf '소버린 AI\n반도체 수출통제\nAI*\n"기술 주권"\n정책 OR 전략\nNEAR(엔비디아 GPU, 20)\n' >reads.q
mkdir upd && cp -r corpus upd/corpus
(cd upd/corpus && head -c 20000 000_*.txt >new.txt && rm 004_*.txt &&
  printf '\n추가된 문단입니다.\n' >>001_*.txt)
# on_flip CMD...: runs CMD on the damaged copy and counts what happened; sets $status
on_flip() {
  "$@" >out 2>err
  status=$?
  if fault_handled "$status" err; then
    handled=$((handled + 1))
  elif [ -n "${SEOGO_SANITIZE:-}" ] && lmdb_sanitized err; then
    sanitized=$((sanitized + 1))
  elif crashed "$status" err; then
    crashes=$((crashes + 1)); echo "    seed $seed: '$*' crashed (exit status $status)"; show err
  elif [ "$status" -ge 2 ]; then
    errors=$((errors + 1))
  fi
}
for seed in $(seq 1 "$rounds"); do
  fresh flip
  python3 - "$gen/data.mdb" "$seed" "$nbytes" <<'EOF'
import os, random, sys
path, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
size = os.path.getsize(path)
with open(path, 'r+b') as f:
    for _ in range(n):
        f.seek(r.randrange(size))
        f.write(bytes([r.randrange(256)]))
EOF
  on_flip search flip --queries reads.q
  cp out before.out; before=$status
  on_flip "$index_bin" -d flip --stats --list
  on_flip "$index_bin" -d flip --check
  on_flip bash -c 'cd upd && exec "$0" -q -d ../flip corpus' "$index_bin"
  [ "$status" -eq 0 ] && continue
  failed_updates=$((failed_updates + 1))
  search flip --queries reads.q >out 2>/dev/null
  after=$?
  cmp -s out before.out && [ "$after" -eq "$before" ] && continue
  "$index_bin" -d flip --check >/dev/null 2>&1
  [ $? -eq 1 ] && continue
  changed=$((changed + 1)); echo "    seed $seed: a failed update changed what the index answers"
done
echo "# $rounds rounds of $nbytes random bytes: $handled crashes caught by the handler," \
  "$sanitized bad accesses of LMDB's caught by the sanitizer, $errors errors, $failed_updates failed updates"
[ "$crashes" -eq 0 ] && ok "random bytes in data.mdb, $rounds times: no crash but through the handler" ||
  fail "random bytes in data.mdb, $rounds times: $crashes crashes"
[ "$changed" -eq 0 ] && ok "  and a failed update leaves the index as it was, or --check says it is damaged" ||
  fail "  and a failed update leaves the index as it was, or --check says it is damaged: $changed times"

# ---- 6. Not an index ---------------------------------------------------------------------------
mkdir empty
refused "an empty directory: search" 'not a Seogo index' search empty 반도체
mkdir mine; printf 'my notes\n' >mine/notes.txt; cp corpus/001_*.txt mine/
sum_before=$(cat mine/* | md5sum)
refused "a directory of other files: search" 'not a Seogo index' search mine 반도체
refused "a directory of other files: indexing into it is refused" 'not a Seogo index' \
  "$index_bin" -d mine corpus
[ "$(cat mine/* | md5sum)" = "$sum_before" ] && [ "$(find mine -type f | wc -l)" = 2 ] &&
  ok "  and its files are untouched" || { fail "  and its files are untouched"; ls -la mine; }
printf 'not a directory\n' >plain
refused "a regular file: search" 'not a directory|not a Seogo index' search plain 반도체
refused "a regular file: indexing into it" 'plain' "$index_bin" -d plain corpus
[ "$(cat plain)" = "not a directory" ] && ok "  and the file is untouched" || fail "  and the file is untouched"
refused "a missing index: search" 'no index at' search missing 반도체
fresh foreign; rm "$gen/data.mdb" "$gen/lock.mdb"; ./poke "$gen" create other
refused "an LMDB database that is not Seogo's" 'not a Seogo index' search foreign 반도체
fresh foreign; head -c 65536 /dev/urandom >"$gen/data.mdb"
refused "random bytes for data.mdb" 'not a Seogo index|damaged|corrupt' search foreign 반도체
fresh foreign; head -c 8192 /dev/urandom >"$gen/lock.mdb"
expect "a garbled lock.mdb is rebuilt by LMDB: search" 0 "" search foreign 소버린 AI

# ---- 7. Read-only directories and filesystems -------------------------------------------------
fresh ro; rm -f "$gen/lock.mdb"; chmod -R a-w ro
as_user=()
[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups) && chmod 755 "$tmp"
if [ "$(id -u)" -ne 0 ] || [ ${#as_user[@]} -gt 0 ]; then
  expect "a read-only index without lock.mdb can be searched" 0 "" \
    "${as_user[@]}" "$search_bin" -d ro 소버린 AI
  expect "  and inspected" 0 "" "${as_user[@]}" "$index_bin" -d ro --stats
  refused "  and writing to it says it is read-only" 'read-only' \
    "${as_user[@]}" "$index_bin" -d ro corpus
else
  echo "skip - read-only directory: root without setpriv ignores permissions"
fi
chmod -R u+w ro
fresh rofs; mkdir mnt
if mount --bind rofs mnt 2>/dev/null && mount -o remount,bind,ro mnt 2>/dev/null; then
  rel_on_exit "umount '$tmp/mnt' 2>/dev/null"
  expect "an index on a read-only filesystem can be searched" 0 "" search mnt 소버린 AI
  refused "  and writing to it says it is read-only" 'read-only' "$index_bin" -d mnt corpus
  umount mnt
else
  umount mnt 2>/dev/null
  echo "skip - read-only filesystem: bind mounts are not permitted here"
fi
finish

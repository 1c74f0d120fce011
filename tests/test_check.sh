#!/usr/bin/env bash
# test_check.sh - seogo-index --check (seogo_check) and the programs' fault handler: a fresh
# index checks ok; each kind of damage test_badindex.sh makes, and damage that decodes well but
# breaks the agreement between tables, and damage to LMDB's own pages, is reported naming its
# table and key (exit status 1) with the advice to rebuild; --check PATH... refuses to update
# a damaged index and leaves it as it was; a crash inside the programs (a SIGSEGV, SIGBUS or
# SIGABRT, sent here so that it comes at a known moment) ends with the handler's message and
# exit status 3, and the index holds its last commit.
# ok/fail after a test: `ok` never fails, so `test && ok || fail` is an if-then-else here
# shellcheck disable=SC2015
# shellcheck disable=SC2016 # the bash -c scripts expand their own arguments
set -uo pipefail
# shellcheck source=tests/reliability.sh
. "$(dirname "${BASH_SOURCE[0]}")/reliability.sh"
rel_tmpdir check
cd "$tmp" || exit 1

build_poke
cp -r "$src/corpus" corpus
expect "the corpus is indexed" 0 "" "$index_bin" -q -d good corpus
good_gen=$(tr -d '\n' <good/CURRENT)

# fresh NAME: a copy of the good index; $gen is its generation directory
fresh() { rm -rf "$1"; cp -r good "$1"; gen=$1/$good_gen; }
hex() { printf 'hex:'; printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
first_key() { ./poke "$gen" keys "$1" "$2" | head -1 | sed 's/^/hex:/'; }
# value DB KEY: a record's value as hex (no prefix)
value() { ./poke "$gen" get "$1" "$2"; }
# varint_get HEX I: the I-th (0-based) varint of a value; varint_set HEX I N: the value with it
# replaced by N (the bytes after it kept)
varint_py='
import sys
b = bytes.fromhex(sys.argv[1]); want = int(sys.argv[2]); at = 0
for i in range(want + 1):
    start, n, s = at, 0, 0
    while True:
        n |= (b[at] & 0x7F) << s; s += 7; at += 1
        if not b[at - 1] & 0x80: break
if len(sys.argv) == 3: print(n); sys.exit()
v, enc = int(sys.argv[3]), b""
while v >= 0x80: enc += bytes([v & 0x7F | 0x80]); v >>= 7
print((b[:start] + enc + bytes([v]) + b[at:]).hex())'
varint_get() { python3 -c "$varint_py" "$1" "$2"; }
varint_set() { python3 -c "$varint_py" "$1" "$2" "$3"; }

# ---- 1. A sound index ----------------------------------------------------------------------------
expect "a fresh index checks ok" 0 "" "$index_bin" -d good --check
stats=$("$index_bin" -d good --stats)
want="index good: ok ($(sed -n 's/^documents *//p' <<<"$stats") documents, $(sed -n 's/^passages *//p' <<<"$stats") passages, $(sed -n 's/^terms *//p' <<<"$stats") terms)"
[ "$(cat out)" = "$want" ] && ok "  and says what it holds, as --stats does" ||
  fail "  and says what it holds: '$(cat out)', expected '$want'"
expect "  -q: nothing to say when it is sound" 0 "" "$index_bin" -q -d good --check
[ ! -s out ] && ok "  (and says nothing)" || fail "  (and says nothing): $(cat out)"
# updates and removals keep it sound
mkdir -p upd && cp -r corpus upd/corpus && cp -r good upd/idx
(cd upd/corpus && head -c 20000 000_*.txt >new.txt && rm 004_*.txt && printf '\n추가된 문단입니다.\n' >>001_*.txt)
expect "--check PATH... checks, then updates" 0 '' \
  bash -c 'cd upd && exec "$0" -d idx --check corpus' "$index_bin"
grep -q '^index idx: ok (5 documents' out && grep -q '1 added, 1 updated, 1 removed' out &&
  ok "  (the check before, the update after)" || { fail "  (the check before, the update after)"; show out; }
expect "  and the updated index checks ok" 0 "" "$index_bin" -d upd/idx --check
expect "a rebuilt index checks ok" 0 "" "$index_bin" -q -d upd/idx --rebuild corpus
expect "  (--check)" 0 "" "$index_bin" -d upd/idx --check
expect "--check with --rebuild is a usage error" 2 'goes alone' "$index_bin" -d good --check --rebuild corpus
expect "--check with --stats is a usage error" 2 'goes alone' "$index_bin" -d good --check --stats
expect "--check of a missing index is an error, not damage" 2 'no index at' "$index_bin" -d missing --check

# ---- 2. Damage reported, naming the table ----------------------------------------------------------
# damaged WHAT TABLE_KEY: --check exits 1, prints a problem line starting "  TABLE_KEY" (an
# extended regular expression) and the advice to rebuild
damaged() {
  expect "$1" 1 'damaged.*run seogo-index --rebuild' "$index_bin" -d rec --check
  if grep -qE -- "^  $2" out; then ok "  names it: $(grep -E -m1 -- "^  $2" out | cut -c3-130)"
  else fail "  names /$2/"; show out; fi
}
bando=$(hex 반도)
fresh rec; key=$(first_key postings "${bando}00")
# damage that the searcher meets too (test_badindex.sh section 4)
fresh rec; ./poke "$gen" put terms "$bando" hex:ff
damaged "a garbled term record" 'terms, term 반도: .*bad term record'
fresh rec; ./poke "$gen" put postings "$key" hex:ffffffffff
damaged "a garbled postings block" 'postings, term 반도, block [0-9]+: .*postings block'
fresh rec; val=$(value postings "$key"); ./poke "$gen" put postings "$key" "hex:${val:0:10}"
damaged "a postings block cut short" 'postings, term 반도, block [0-9]+: .*postings block'
fresh rec; ./poke "$gen" del postings "$key"
./poke "$gen" put postings "${key:0:${#key}-8}0f000000" "hex:$val"
damaged "a postings block of passages that do not exist" \
  'postings, term 반도, block 251658240: .*(does not exist|never written|bad last passage)'
fresh rec; ./poke "$gen" put norms be32:0 hex:010203
damaged "a norms record of an odd size" 'norms, passages 0-65527: .*bytes'
fresh rec; ./poke "$gen" put docs be32:1 hex:ff
damaged "a garbled document record" 'docs, doc 1: .*bad document record'
fresh rec; ./poke "$gen" put passages be32:0 hex:ff
damaged "a garbled passage record" 'passages, passages 0-16383: .*bad passage record'
fresh rec; pv=$(value passages be32:0); ./poke "$gen" put passages be32:0 "hex:${pv:0:${#pv}-2}78"
damaged "a page naming a document by another path" \
  'passages, passages 0-16383: the page gives document [0-9]+ the path corpus/[0-9a-f_]+\.txx, its record corpus/[0-9a-f_]+\.txt'
fresh rec; ./poke "$gen" del text be32:1
damaged "a document without its text" 'docs, doc 1: .*no stored text'
fresh rec; ./poke "$gen" put paths "$(hex corpus/000_659a9385f88d803c.txt)" be32:77
damaged "a path naming a missing document" 'paths, path corpus/000_659a9385f88d803c.txt: .*77'
fresh rec; ./poke "$gen" put paths "$(hex corpus/000_659a9385f88d803c.txt)" hex:01
damaged "a path record of the wrong size" 'paths, path corpus/000_659a9385f88d803c.txt: '
fresh rec; ./poke "$gen" put meta str:stats hex:ffffffffffff
expect "a garbled stats record: the index does not even open" 1 'corrupt.*stats|stats.*corrupt' \
  "$index_bin" -d rec --check
grep -q 'run seogo-index --rebuild' err && ok "  and --check says to rebuild it" ||
  { fail "  and --check says to rebuild it"; show err; }
# damage that decodes well: only the agreement between tables shows it
# term := df cf nblocks max_tf min_len; a block's header: count last_delta max_tf min_len ...
fresh rec; tv=$(value terms "$bando")
./poke "$gen" put terms "$bando" "hex:$(varint_set "$tv" 1 $(($(varint_get "$tv" 1) + 1)))"
damaged "a term record counting one occurrence too many" \
  'terms, term 반도: the record counts [0-9]+ passages, [0-9]+ occurrences'
fresh rec; ./poke "$gen" put terms "$bando" "hex:$(varint_set "$tv" 3 1)"
damaged "a term record understating the largest tf (block-max scoring would drop hits)" \
  'terms, term 반도: the record bounds tf by 1 .* its postings have tf [2-9]'
fresh rec; ./poke "$gen" put terms "$bando" "hex:$(varint_set "$tv" 4 999)"
damaged "a term record overstating the shortest passage" \
  'terms, term 반도: the record bounds tf by [0-9]+ and lengths from 999'
fresh rec; bv=$(value postings "$key"); ./poke "$gen" put postings "$key" "hex:$(varint_set "$bv" 3 999)"
damaged "a postings block overstating its shortest passage" \
  'postings, term 반도, block [0-9]+: passage [0-9]+ has length [0-9]+, below the block.s bound 999'
fresh rec; sv=$(value meta str:stats); docs=$(varint_get "$sv" 2)
./poke "$gen" put meta str:stats "hex:$(varint_set "$sv" 2 $((docs + 1)))"
damaged "a stats record counting a document too many" "meta, stats: it counts $((docs + 1)) documents; the tables hold $docs"
fresh rec; nv=$(value norms be32:0); ./poke "$gen" put norms be32:0 "hex:0300${nv:4}"
damaged "a length for passage 0, which never exists" 'norms, passages 0-65527: passage 0 has length 3 here, but no record'
fresh rec; nv=$(value norms be32:0); ./poke "$gen" put norms be32:0 "hex:${nv:0:4}0000${nv:8}"
damaged "no length for passage 1" 'norms, passages 0-65527: passage 1 has no length'
fresh rec; nv=$(value norms be32:0); ./poke "$gen" put norms be32:0 "hex:${nv}0000"
damaged "a norms record ending in a zero length" 'norms, passages 0-65527: the record ends in a zero length'
fresh rec; ./poke "$gen" put text be32:1 str:short
damaged "a stored text of the wrong size" 'text, doc 1: the stored text has 5 bytes'
fresh rec; ./poke "$gen" put text be32:99 str:stray
damaged "text of a document that does not exist" 'text, doc 99: '
fresh rec; ./poke "$gen" del passages be32:0
damaged "a document's passages deleted" 'docs, doc 1: its passage 1 does not exist'
grep -qE '^  postings, .*passage [0-9]+ does not exist' out && ok "  and the postings naming them too" ||
  { fail "  and the postings naming it too"; show out; }
fresh rec; ./poke "$gen" put passages be32:1 "hex:$(value passages be32:0)"
damaged "a page of passages past the last one written" \
  'passages, passages 16384-32767: the ids are out of range \(the next passage id is [0-9]+\)'
fresh rec; ./poke "$gen" del terms "$bando"
damaged "a term record deleted" 'terms, term 반도: the term has postings but no record'
fresh rec; ./poke "$gen" put terms "$(hex zzzzunused)" hex:010101
damaged "a term record without postings" 'terms, term zzzzunused: the term has no postings'
fresh rec; ./poke "$gen" put paths "$(hex corpus/nothing.txt)" be32:1
damaged "two paths for one document" 'paths, path corpus/nothing.txt: it names document 1, whose path is another'
fresh rec; ./poke "$gen" put postings "hex:$(printf '%s' zz | od -An -tx1 | tr -d ' \n')" hex:00
damaged "a postings key without a passage id" 'postings, key zz: the key is not'

# LMDB's own pages: read apart from LMDB, which would follow them (and may crash)
# garble_leaves FIELD: in every leaf page of data.mdb but those of the table list and the meta
# table (read when the index opens), the page number (pgno) or the offset of the first record
# (node) made wrong
garble_leaves() {
  python3 - "$gen/data.mdb" "$1" <<'EOF'
import struct, sys
path, field = sys.argv[1], sys.argv[2]
data = bytearray(open(path, 'rb').read())
psize = 4096
for at in range(2 * psize, len(data), psize):
    flags, lower = struct.unpack_from('<HH', data, at + 10)
    node = at + struct.unpack_from('<H', data, at + 16)[0] if lower > 16 else 0
    if flags & 0x7f == 0x02 and lower > 16 and node + 8 <= at + psize and \
            struct.unpack_from('<H', data, node + 4)[0] != 0x02 and \
            b'SEOGO-INDEX' not in data[at:at + psize]:
        if field == 'pgno':
            struct.pack_into('<Q', data, at, 7777777)
        else:
            struct.pack_into('<H', data, at + 16, 0xfff0)
open(path, 'wb').write(data)
EOF
}
fresh rec; garble_leaves pgno
damaged "leaf pages that say they are another page (LMDB does not look)" \
  '[a-z]+, page [0-9]+: the page says it is page 7777777'
fresh rec; garble_leaves node
damaged "leaf pages whose first record lies outside them" '[a-z]+, page [0-9]+: node 0 lies outside'
expect "  a search ends with an error or the fault handler's message, not a crash" 0 "" \
  bash -c '"$0" -d rec 반도체 >/dev/null 2>&1; s=$?; [ $s -eq 2 ] || [ $s -eq 3 ]' "$search_bin"
before=$(md5sum <"$gen/data.mdb")
expect "  an update (which checks the pages first) refuses it instead of crashing" 2 \
  'damaged; nothing was changed; run seogo-index --rebuild' \
  bash -c 'cd upd && exec "$0" -d ../rec corpus' "$index_bin"
[ "$(md5sum <"$gen/data.mdb")" = "$before" ] && ok "  and the index is unchanged" ||
  fail "  and the index is unchanged"

# Many problems: the first 20 are shown, the rest counted
fresh rec; for id in $(seq 1 30); do ./poke "$gen" put text "be32:$((id + 100))" str:x; done
expect "30 problems" 1 '30 problems' "$index_bin" -d rec --check
[ "$(grep -c '^  text, ' out)" = 20 ] && grep -q '^  and 10 more$' out &&
  ok "  the first 20 shown, the rest counted" || { fail "  the first 20 shown, the rest counted"; show out; }

# ---- 3. --check PATH... leaves a damaged index alone -------------------------------------------------
fresh rec; ./poke "$gen" put terms "$bando" hex:ff
before=$(md5sum <"$gen/data.mdb")
mkdir -p upd2 && cp -r upd/corpus upd2/corpus
expect "--check PATH... on a damaged index: no update" 1 'damaged.*--rebuild' \
  bash -c 'cd upd2 && exec "$0" -d ../rec --check corpus' "$index_bin"
[ "$(md5sum <"$gen/data.mdb")" = "$before" ] && ok "  and the index is unchanged" ||
  fail "  and the index is unchanged"
expect "--rebuild cures it" 0 "" "$index_bin" -q -d rec --rebuild corpus
expect "  (--check)" 0 "" "$index_bin" -d rec --check

# ---- 4. The fault handler ---------------------------------------------------------------------------
# SIGSEGV and SIGBUS are sent at a moment where the program waits, reading nothing: the
# handler's message and status are what a crash on a damaged page gives.
handled() { # WHAT STATUS ERRFILE PROGRAM
  if [ "$2" -eq 3 ] && grep -q "^$4: the index at .* is damaged (crashed while reading it); nothing was changed since its last commit; run seogo-index --rebuild" "$3"; then
    ok "$1"
  else
    fail "$1: exit status $2"; show "$3"
  fi
}
for sig in SEGV BUS ABRT; do
  fresh crash
  mkfifo "q.$sig"
  "$search_bin" -d crash --queries "q.$sig" >out 2>err &
  pid=$!
  exec 7>"q.$sig" # the searcher has the index open and waits for a query
  echo '소버린 AI' >&7
  for _ in $(seq 50); do [ -s out ] && break; sleep 0.1; done
  kill -"$sig" "$pid"; wait "$pid"; status=$?
  exec 7>&-
  handled "seogo-search: SIG$sig ends with the handler's message and status 3" "$status" err seogo-search
done
# seogo-index waits for the writer lock that another process holds
fresh crash
(cd upd && flock ../crash/LOCK sleep 3) &
holder=$!
sleep 0.3
(cd upd && exec "$index_bin" -d ../crash corpus) >out 2>err &
pid=$!
for _ in $(seq 50); do grep -q waiting err && break; sleep 0.1; done
kill -SEGV "$pid"; wait "$pid"; status=$?
wait "$holder"
handled "seogo-index: SIGSEGV ends with the handler's message and status 3" "$status" err seogo-index
expect "  and the index holds its last commit" 0 "" "$index_bin" -d crash --check
[ "$(md5sum <"$gen/data.mdb")" = "$(md5sum <"good/$good_gen/data.mdb")" ] &&
  ok "  (unchanged)" || fail "  (unchanged)"
"$index_bin" --help >out
grep -q '3 when' out && ok "--help documents exit status 3" || fail "--help documents exit status 3"
finish

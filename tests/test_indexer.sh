#!/bin/bash
# test_indexer.sh - drives seogo-index on a copy of the corpus the way a user would: first run,
# re-runs, edits, deletions, other encodings, junk files, --rebuild, --remove; and checks that
# seogo-search finds what was indexed.
set -u
SRC=${SEOGO_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${SEOGO_BUILD_DIR:-$SRC/build}
INDEX=$BUILD/seogo-index
SEARCH=$BUILD/seogo-search
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
has() { grep -q -- "$2" <<<"$1"; } # has TEXT PATTERN
stat_of() { "$INDEX" --stats | awk -v k="$1" '$1 == k { print $2 }'; }

WORK=$(mktemp -d /tmp/seogo-indexer-test-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 2
cp -r "$SRC/corpus" corpus
chmod -R u+w corpus
rm -f corpus/README.md

# ---- first run, re-run ---------------------------------------------------------------------
out=$("$INDEX" corpus 2>err.txt)
rc=$?
check "first run exits 0" test $rc -eq 0
check "first run adds the five reports" has "$out" "documents: 5 added, 0 updated, 0 removed, 0 unchanged, 0 skipped"
check "the default index is ./.seogo" test -f .seogo/CURRENT
check "--stats counts five documents" test "$(stat_of documents)" = 5
passages=$(stat_of passages)
check "--stats counts passages" test "${passages:-0}" -gt 500

out=$("$INDEX" corpus 2>err.txt)
check "a re-run with nothing changed adds and updates nothing" has "$out" "0 added, 0 updated, 0 removed, 5 unchanged"
check "  and warns about nothing" test ! -s err.txt

# ---- one file edited; one touched; one deleted -----------------------------------------------------
echo "추가된 문단: 양자컴퓨팅 협력도 논의되었다." >>corpus/003_6aa41a9c697c4b0d.txt
touch -d '2001-01-01' corpus/000_659a9385f88d803c.txt
out=$("$INDEX" -v corpus 2>err.txt)
check "only the edited file is re-indexed" has "$out" "0 added, 1 updated, 0 removed, 4 unchanged"
check "  and -v names it" grep -q "updated corpus/003_6aa41a9c697c4b0d.txt" err.txt
check "  and not the touched one" bash -c "! grep -q 000_659a9385f88d803c err.txt"
if [ -x "$SEARCH" ]; then
  out=$("$SEARCH" 양자컴퓨팅 2>&1)
  check "seogo-search finds the added paragraph at its line" has "$out" "corpus/003_6aa41a9c697c4b0d.txt:3[0-9]"
fi

rm corpus/001_5c4ecdcc42dba0b5.txt
out=$("$INDEX" corpus 2>err.txt)
check "a deleted file's document is removed" has "$out" "0 added, 0 updated, 1 removed, 4 unchanged"
check "--stats counts four documents" test "$(stat_of documents)" = 4
check "--stats counts fewer passages" test "$(stat_of passages)" -lt "$passages"
out=$("$INDEX" --stats --list)
check "--list no longer shows it" bash -c "! grep -q 001_5c4ecdcc42dba0b5 <<<'$out'"

# ---- other encodings and junk ------------------------------------------------------------------
mkdir -p enc/utf8 enc/cp949
cp corpus/004_4c37cfff86aabd90.txt enc/utf8/brief.txt
iconv -f UTF-8 -t CP949 corpus/004_4c37cfff86aabd90.txt >enc/cp949/brief.txt
"$INDEX" -q -d u.idx enc/utf8 2>/dev/null
"$INDEX" -q -d c.idx enc/cp949 2>err.txt
check "a CP949 file is reported as converted" grep -q "enc/cp949/brief.txt: converted from EUC-KR" err.txt
u=$("$INDEX" -d u.idx --stats | grep -E '^(passages|terms|postings|tokens)')
c=$("$INDEX" -d c.idx --stats | grep -E '^(passages|terms|postings|tokens)')
check "CP949 and UTF-8 copies give the same passages, terms and postings" test "$u" = "$c"

head -c 2000 /bin/sh >corpus/program.txt
: >corpus/empty.txt
printf ' \n\n  \n' >corpus/blank.txt
printf 'caf\xe9 cr\xe8me br\xfbl\xe9e\n' >corpus/latin1.txt
printf '데이터센터 구축이 늘었다.\n깨진 바이트 \xff 하나.\n' >corpus/damaged.txt
echo "not text" >corpus/notes.md
mkdir -p corpus/sub
ln -s .. corpus/sub/loop
cp "$SRC/tests/data/indexer/news_utf16le.txt" corpus/sub/news16.txt
out=$(timeout 60 "$INDEX" corpus 2>err.txt)
rc=$?
check "junk files do not stop the run (exit 0)" test $rc -eq 0
check "  a binary file is skipped with a warning" grep -q "skipped corpus/program.txt: a binary file" err.txt
check "  an empty file is skipped with a warning" grep -q "skipped corpus/empty.txt: empty" err.txt
check "  a blank file is skipped with a warning" grep -q "skipped corpus/blank.txt: empty" err.txt
check "  an unknown encoding is skipped with a warning" grep -q "skipped corpus/latin1.txt: in no encoding" err.txt
check "  damaged UTF-8 is indexed with a warning naming file and line" grep -q "warning: corpus/damaged.txt: line 2: 1 invalid UTF-8 sequence" err.txt
check "  UTF-16 is converted" grep -q "corpus/sub/news16.txt: converted from UTF-16LE" err.txt
check "  the summary lists the reasons" has "$out" "skipped: 1 binary, 2 empty, 1 unknown encoding"
check "  and the rest is indexed (symlink loop entered once)" has "$out" "documents: 2 added, 0 updated, 0 removed, 4 unchanged, 4 skipped"
check "  other files are counted" has "$out" "ignored: 1 file not .txt"

# ---- naming: the same file typed differently is the same document --------------------------------
out=$("$INDEX" ./corpus//sub/../003_6aa41a9c697c4b0d.txt 2>&1)
check "./corpus//sub/../x.txt is stored as corpus/x.txt" has "$out" "0 added, 0 updated, 0 removed, 1 unchanged"

# ---- --remove ---------------------------------------------------------------------------------
out=$("$INDEX" --remove corpus/sub 2>&1)
check "--remove DIR removes the documents under it" has "$out" "documents: 1 removed"
out=$("$INDEX" --remove corpus/damaged.txt 2>&1)
check "--remove FILE removes its document" has "$out" "documents: 1 removed"
check "--stats counts four documents again" test "$(stat_of documents)" = 4
if [ -x "$SEARCH" ]; then
  "$SEARCH" --count 데이터센터 file:corpus/damaged.txt >/dev/null 2>&1
  check "a removed document is no longer found" test $? -eq 1
fi

# ---- --rebuild ----------------------------------------------------------------------------------
rm -r corpus/program.txt corpus/empty.txt corpus/blank.txt corpus/latin1.txt corpus/damaged.txt \
  corpus/sub
before=$(ls .seogo)
out=$("$INDEX" --rebuild corpus 2>&1)
check "--rebuild indexes everything afresh" has "$out" "documents: 4 added, 0 updated, 0 removed, 0 unchanged"
check "  into a new generation, the old one removed" test "$(ls .seogo | grep gen-)" != "$(grep gen- <<<"$before")"
check "  with the same counts" test "$(stat_of documents)" = 4
if [ -x "$SEARCH" ]; then
  out=$("$SEARCH" GENIAC 2>&1)
  check "seogo-search finds GENIAC in the report's section on it" has "$out" "corpus/002_0223f975d8e56b67.txt:11[0-9][0-9]"
  out=$("$SEARCH" 반도체를 2>&1)
  check "seogo-search finds 반도체 through a particle form" has "$out" "corpus/"
fi

# ---- killed mid-run: the committed part survives, the next run completes the job -------------
mkdir -p big
for i in $(seq -w 1 30); do
  sed "1s/^/사본 $i. /" corpus/002_0223f975d8e56b67.txt >big/report-$i.txt
done
"$INDEX" -q -d clean.idx big
"$INDEX" -q -d killed.idx --batch-mb 1 big &
pid=$!
for _ in $(seq 1 200); do # kill once something is committed, before the end
  [ -f killed.idx/CURRENT ] && [ "$(stat -c %s killed.idx/gen-*/data.mdb 2>/dev/null || echo 0)" -gt 2000000 ] && break
  sleep 0.02
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
out=$("$INDEX" -d killed.idx big 2>&1)
check "after SIGKILL the index opens and the next run completes" has "$out" "documents: [0-9]* added, 0 updated, 0 removed, [0-9]* unchanged, 0 skipped"
c=$("$INDEX" -d clean.idx --stats | grep -E '^(documents|passages|terms|postings|tokens)')
k=$("$INDEX" -d killed.idx --stats | grep -E '^(documents|passages|terms|postings|tokens)')
check "  and holds what an uninterrupted run makes" test "$c" = "$k"

# ---- an index the user may read but not write ---------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
  # The build tree may sit where nobody cannot enter (a clone under /root), so nobody runs
  # copies of the programs from the work directory.
  mkdir -p "$WORK/bin"
  cp "$INDEX" "$WORK/bin/seogo-index"
  [ -x "$SEARCH" ] && cp "$SEARCH" "$WORK/bin/seogo-search"
  chmod -R a+rX "$WORK"
  INDEX=$WORK/bin/seogo-index
  SEARCH=$WORK/bin/seogo-search
  out=$(runuser -u nobody -- "$INDEX" --stats 2>&1)
  check "a read-only index can be inspected (as nobody)" has "$out" "^documents *4"
  runuser -u nobody -- "$INDEX" corpus >/dev/null 2>err.txt
  check "writing to a read-only index fails (exit 2)" test $? -eq 2
  check "  saying it is read-only" grep -q "index at .seogo is read-only" err.txt
  if [ -x "$SEARCH" ]; then
    out=$(runuser -u nobody -- "$SEARCH" GENIAC 2>&1)
    check "a read-only index can be searched" has "$out" "corpus/002_0223f975d8e56b67.txt"
  fi
fi

# ---- a full disk: the run stops with a message, and the index keeps its last commit -----------
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  mkdir -p small
  out=$(unshare -m bash -c "mount -t tmpfs -o size=1m tmpfs small && cd '$WORK' &&
    '$INDEX' -q -d small/ix corpus/000_659a9385f88d803c.txt && echo first-ok &&
    '$INDEX' -q -d small/ix corpus; echo rc=\$? && '$INDEX' -d small/ix --stats" 2>&1)
  check "a full disk stops the run (exit 2)" has "$out" "rc=2"
  check "  saying the disk is full" has "$out" "the disk is full"
  check "  and the index keeps what was committed" has "$out" "^documents *1"
fi

# ---- errors ---------------------------------------------------------------------------------
"$INDEX" >/dev/null 2>err.txt
check "no PATH is a usage error (exit 2)" test $? -eq 2
"$INDEX" --frobnicate corpus >/dev/null 2>err.txt
check "an unknown option is a usage error (exit 2)" test $? -eq 2
check "  with a message" grep -q "unknown option --frobnicate" err.txt
mkdir -p notanindex && echo hi >notanindex/file.txt
"$INDEX" -d notanindex corpus >/dev/null 2>err.txt
check "a directory that is not an index is refused (exit 2)" test $? -eq 2
check "  with a message" grep -q "not a Seogo index" err.txt
"$INDEX" -d missing.idx --stats >/dev/null 2>err.txt
check "--stats on a missing index fails (exit 2)" test $? -eq 2
check "--help explains the document names" bash -c "'$INDEX' --help | grep -q 'relative to the current directory'"
out=$(echo "반도체를 U.S. semiconductors" | "$INDEX" --analyze)
check "--analyze prints Hangul bigrams with flags" has "$out" "반도"
check "--analyze prints English stems" has "$out" "semiconductor"
out=$(echo "반도체를" | "$INDEX" --analyze --query)
check "--analyze --query strips the particle" bash -c "! grep -q '체를' <<<'$out'"
SEOGO_INDEX=$WORK/env.idx "$INDEX" -q corpus/003_6aa41a9c697c4b0d.txt
check "\$SEOGO_INDEX names the default index" test -f env.idx/CURRENT

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

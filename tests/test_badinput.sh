#!/usr/bin/env bash
# test_badinput.sh - bad files and bad queries: invalid UTF-8, NUL bytes, binary and empty
# files, symlink loops, a 100 MB file with no line break, files that vanish, turn into a FIFO or
# become unreadable while seogo-index runs; unbalanced quotes and parentheses, lone operators,
# 10,000 nested parentheses, a 10 MB query, invalid UTF-8 in a query. Each gets one clear
# message, the rest of the run goes on and nothing already indexed is lost.
# ok/fail after a test: `ok` never fails, so `test && ok || fail` is an if-then-else here
# shellcheck disable=SC2015
set -uo pipefail
# shellcheck source=tests/reliability.sh
. "$(dirname "${BASH_SOURCE[0]}")/reliability.sh"
rel_tmpdir badinput
cd "$tmp" || exit 1
big_mb=${SEOGO_TEST_BIG_MB:-100}

# found INDEX QUERY PATH...: the query's hits are in exactly these documents
found() {
  local index=$1 query=$2 got want
  shift 2
  got=$(hit_paths "$index" "$query" | tr '\n' ' ')
  want=$([ $# -eq 0 ] || printf '%s\n' "$@" | sort -u | tr '\n' ' ')
  if [ "$got" = "$want" ]; then ok "'$query' finds ${want:-nothing}"
  else fail "'$query' finds ${want:-nothing}: got '${got% }'"; fi
}

# ---- 1. A tree of bad files among good ones ------------------------------------------------
mkdir -p docs/sub
cp "$src"/corpus/000_*.txt docs/genesis.txt
cp "$src"/corpus/001_*.txt docs/plan.txt
cp "$src"/corpus/003_*.txt docs/sub/mou.txt
# a real report with three stray bytes on line 5: indexed, with a warning naming the line
python3 - "$src"/corpus/004_*.txt docs/invalid.txt <<'EOF'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
lines[4] += b' \xff\xc3 \x80'
open(sys.argv[2], 'wb').write(b'\n'.join(lines))
EOF
printf 'garbage \xff\xff\xfa data \xfe\xfe \xff\xfb\n%.0s' 1 2 3 4 5 >docs/garbage.txt
printf '반도체 수출통제\0 정책 문서\0\n' >docs/nul.txt
head -c 8192 /dev/urandom >docs/random.txt
cp "$index_bin" docs/program.txt
: >docs/empty.txt
printf ' \n\n\t  \n' >docs/blank.txt
ln -s loop2.txt docs/loop1.txt
ln -s loop1.txt docs/loop2.txt
ln -s .. docs/sub/up          # a directory loop: entered once
ln -s ../../docs docs/sub/again  # the same tree under another name
ln -s nowhere.txt docs/dangling.txt

expect "a tree with bad files is indexed (exit 0)" 0 "" "$index_bin" -d idx docs
cp "$tmp/err" bad.err
cp "$tmp/out" bad.out
msg() { # msg WHAT PATTERN: the run's stderr says PATTERN
  if grep -qE -- "$2" bad.err; then ok "message: $1"; else fail "message: $1 (/$2/)"; show bad.err; fi
}
msg "invalid UTF-8 is replaced, with file and line" \
  'docs/invalid\.txt: line 5: 3 invalid UTF-8 sequences replaced by U\+FFFD'
msg "bytes in no encoding are refused" 'skipped docs/garbage\.txt: .*no encoding'
msg "NUL bytes make a binary file" 'skipped docs/nul\.txt: .*binary'
msg "random bytes are a binary file" 'skipped docs/random\.txt: .*binary'
msg "a program is a binary file" 'skipped docs/program\.txt: .*binary'
msg "an empty file is named" 'skipped docs/empty\.txt: empty'
msg "a whitespace-only file is empty" 'skipped docs/blank\.txt: empty'
msg "a symlink loop is named" 'skipped docs/loop1\.txt: Too many levels of symbolic links'
msg "a dangling symlink is named" 'skipped docs/dangling\.txt: No such file'
if grep -q 'skipped' bad.out; then ok "the summary counts the skipped files"
else fail "the summary counts the skipped files"; show bad.out; fi
n=$(grep -c 'docs/sub/up\|docs/sub/again' bad.err)
[ "$n" -eq 0 ] && ok "directory loops are entered once, silently" ||
  { fail "directory loops are entered once, silently"; show bad.err; }
[ "$(doc_count idx)" = 4 ] && ok "4 good documents indexed (no duplicates through loops)" ||
  { fail "4 good documents indexed, got $(doc_count idx)"; "$index_bin" -d idx --stats --list; }
found idx 제네시스 docs/genesis.txt
found idx 엔비디아 docs/sub/mou.txt
found idx 브리핑 docs/invalid.txt

# ---- 2. Good documents turning bad keep their indexed version ------------------------------
head -c 4096 /dev/urandom >docs/genesis.txt
: >docs/plan.txt
expect "re-indexing with two documents gone bad completes" 0 \
  'skipped docs/genesis\.txt: .*binary' "$index_bin" -d idx docs
grep -qE 'skipped docs/plan\.txt: empty' "$tmp/err" && ok "message: the emptied file is named" ||
  { fail "message: the emptied file is named"; show "$tmp/err"; }
found idx 제네시스 docs/genesis.txt
found idx 행동 docs/plan.txt
[ "$(doc_count idx)" = 4 ] && ok "still 4 documents" || fail "still 4 documents: $(doc_count idx)"

# ---- 3. A 100 MB line --------------------------------------------------------------------
mkdir long
python3 - "$big_mb" long/big.txt <<'EOF'
import sys
unit = ('x' * 2000 + ' ') * 5 + '소버린 AI 정책은 데이터 주권을 강조한다. '
reps = int(sys.argv[1]) * 1024 * 1024 // len(unit.encode())
with open(sys.argv[2], 'w') as f:
    f.write('첫단어 beginmarker ' + unit * reps + '마지막단어 endmarker')
EOF
expect "a ${big_mb} MB file with no line break is indexed" 0 "" "$index_bin" -d idx long
found idx endmarker long/big.txt
found idx beginmarker long/big.txt
line=$("$search_bin" -d idx --json endmarker 2>/dev/null | sed -n 's/.*"line_end":\([0-9]*\).*/\1/p')
[ "$line" = 1 ] && ok "the ${big_mb} MB line is line 1" || fail "the ${big_mb} MB line is line 1: got '$line'"
found idx 엔비디아 docs/sub/mou.txt
rm -rf long

# ---- 4. Files that change between the listing and the reading ------------------------------
# seogo-index lists the files before it opens the index; while another writer holds the
# index's lock (flock on INDEX/LOCK) it waits there, so the files change at a known moment:
# one vanishes, one turns into a FIFO (whose open would wait for a writer forever), one
# becomes unreadable.
mkdir run
cp "$src"/corpus/003_*.txt run/b_mou.txt
cp "$src"/corpus/000_*.txt run/x_gone.txt
cp "$src"/corpus/001_*.txt run/y_fifo.txt
cp "$src"/corpus/004_*.txt run/z_locked.txt
expect "a first run indexes run/" 0 "" "$index_bin" -d idx2 run
touch -d '2001-01-01' run/y_fifo.txt run/z_locked.txt # so that they look changed
# Run as an unprivileged user when we are root, so that permissions apply.
as_user=()
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod 755 "$tmp"; chmod -R a+rwX idx2 run
fi
exec 9>>idx2/LOCK
flock 9
"${as_user[@]}" "$index_bin" -d idx2 run >run.out 2>run.err &
pid=$!
for _ in $(seq 1 300); do # until it waits for the lock (at most 30 s)
  grep -q 'waiting' run.err && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q 'waiting' run.err && ok "seogo-index says it waits for the other writer" ||
  { fail "seogo-index says it waits for the other writer"; show run.err; }
rm run/x_gone.txt
rm run/y_fifo.txt && mkfifo run/y_fifo.txt
locked=0
if [ "$(id -u)" -ne 0 ] || [ ${#as_user[@]} -gt 0 ]; then chmod 000 run/z_locked.txt; locked=1; fi
flock -u 9
exec 9>&-
status=124
for _ in $(seq 1 600); do # bounded: a FIFO opened for reading would never answer
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; status=$?; break; fi
  sleep 0.1
done
if [ "$status" -eq 124 ]; then
  fail "the run ends (it hangs: killed after 60 s)"; kill -9 "$pid"; wait "$pid" 2>/dev/null
  show run.err
elif crashed "$status" run.err || [ "$status" -ne 0 ]; then
  fail "the run completes: exit status $status"; show run.err run.out
else
  ok "the run completes (exit 0)"
fi
grep -qE 'skipped run/x_gone\.txt: No such file' run.err && ok "message: the vanished file" ||
  { fail "message: the vanished file"; show run.err; }
grep -qE 'skipped run/y_fifo\.txt: not a regular file' run.err &&
  ok "message: the file that became a FIFO" || { fail "message: the file that became a FIFO"; show run.err; }
if [ "$locked" -eq 1 ]; then
  grep -qE 'skipped run/z_locked\.txt: Permission denied' run.err &&
    ok "message: the file that became unreadable" ||
    { fail "message: the file that became unreadable"; show run.err; }
else
  echo "skip - unreadable file: running as root without setpriv, permissions do not apply"
fi
chmod 644 run/z_locked.txt 2>/dev/null
found idx2 엔비디아 run/b_mou.txt
found idx2 행동 run/y_fifo.txt
found idx2 브리핑 run/z_locked.txt
found idx2 제네시스 # a file deleted is a document removed

# ---- 5. Bad queries: one clear error each, quickly -----------------------------------------
# q WHAT PATTERN QUERY: seogo-search refuses the query with exit status 2 and a message
q() { expect "query: $1" 2 "$2" timeout 60 "$search_bin" -d idx -- "$3"; }
q "unclosed quote" 'unclosed quote' '"소버린 AI'
q "unclosed parenthesis" 'unclosed parenthesis' '(반도체 OR 수출'
q "unmatched )" "unmatched '\)'" '반도체) 정책'
q "AND alone" 'AND needs a word' 'AND'
q "OR alone" 'OR needs a word' 'OR'
q "NOT alone" 'NOT needs a word' 'NOT'
q "operators alone" 'needs a word' 'AND OR NOT'
q "a minus alone" 'no searchable words' '-'
q "empty parentheses" 'empty parentheses' '()'
q "NEAR unclosed" 'unclosed NEAR' 'NEAR(반도체 수출'
q "NEAR distance 0" 'NEAR distance' 'NEAR(반도체 수출, 0)'
q "only a NOT" 'NOT needs a word to exclude from' 'NOT 반도체'
q "empty phrase" 'empty phrase' '"   "'
q "invalid UTF-8" 'invalid UTF-8' $'반도체 \xff\xfe 정책'
q "a truncated UTF-8 sequence" 'invalid UTF-8' $'반도체 \xed\x95'
q "only spaces" 'empty query' '   '
# queries too big for a command line go through --queries FILE
qf() { # qf WHAT PATTERN FILE
  expect "query: $1" 2 "$2" timeout 60 "$search_bin" -d idx --queries "$3"
  local n
  n=$(grep -c '^seogo-search' "$tmp/err")
  [ "$n" -eq 1 ] && ok "query: $1: one message" || { fail "query: $1: one message, got $n"; show "$tmp/err"; }
}
python3 -c "print('(' * 10000 + '반도체' + ')' * 10000)" >deep.q
qf "10,000 nested parentheses" 'nested too deeply' deep.q
python3 -c "print('(' * 10000)" >open.q
qf "10,000 opening parentheses" 'nested too deeply|unclosed' open.q
python3 -c "print(')' * 10000)" >close.q
qf "10,000 closing parentheses" "unmatched '\)'" close.q
python3 -c "print('NOT ' * 10001 + '반도체')" >nots.q
qf "10,001 NOTs" 'NOT needs a word to exclude from' nots.q
python3 -c "import sys; sys.stdout.write('반도체 정책 ' * (10 * 1024 * 1024 // 17) + '\n')" >big.q
qf "a 10 MB query" 'too long' big.q
printf '\xc0\xaf\xff\n' >bad.q
qf "invalid UTF-8 in a query file" 'invalid UTF-8' bad.q
python3 -c "print(' '.join('w%d' % i for i in range(5000)))" >words.q
qf "5,000 words" 'too many words|too long' words.q
# the other queries of a file still run after a bad one
printf '"소버린 AI\n엔비디아\n' >mixed.q
expect "a bad query in a file does not stop the next one" 2 'line 1: unclosed quote' \
  "$search_bin" -d idx --json --queries mixed.q
grep -q 'docs/sub/mou.txt' "$tmp/out" && ok "the query after the bad one is answered" ||
  { fail "the query after the bad one is answered"; show "$tmp/out"; }
finish

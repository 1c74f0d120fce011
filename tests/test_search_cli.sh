#!/usr/bin/env bash
# test_search_cli.sh - the seogo-search program on an index of corpus/: the example queries find the
# right files and lines, output formats (human, --json, --count, --group, --explain, --queries),
# exit statuses 0/1/2, and malformed queries shown with a caret under the right column.
set -uo pipefail

src=${SEOGO_SOURCE_DIR:?SEOGO_SOURCE_DIR not set}
build=${SEOGO_BUILD_DIR:?SEOGO_BUILD_DIR not set}
tmp=$(mktemp -d /tmp/seogo-search-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL - $1"
  failed=$((failed + 1))
  [ -s "$tmp/out" ] && sed 's/^/    out: /' "$tmp/out" | head -8
  [ -s "$tmp/err" ] && sed 's/^/    err: /' "$tmp/err" | head -8
  return 0
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

F001=corpus/001_5c4ecdcc42dba0b5.txt
F002=corpus/002_0223f975d8e56b67.txt
index=$tmp/index
# search ARGS...: runs seogo-search on the test index; output in $tmp/out and $tmp/err,
# exit status in $status.
search() {
  "$build/seogo-search" -d "$index" "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
}

# Documents are named as typed, relative to the directory seogo-index runs in.
if (cd "$src" && "$build/seogo-index" -q -d "$index" corpus) >"$tmp/out" 2>"$tmp/err"; then
  ok "seogo-index indexes corpus/"
else
  fail "seogo-index indexes corpus/"
  finish
fi

# covers FILE LINE: some --json hit in $tmp/out is in FILE and spans LINE.
covers() {
  python3 - "$tmp/out" "$1" "$2" <<'EOF'
import json, sys
path, file, line = sys.argv[1], sys.argv[2], int(sys.argv[3])
hits = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
sys.exit(0 if any(h["file"] == file and h["line_start"] <= line <= h["line_end"] for h in hits) else 1)
EOF
}

# first_hit_is FILE LINE: the first --json hit is in FILE and spans LINE.
first_hit_is() {
  head -1 "$tmp/out" >"$tmp/first"
  python3 - "$tmp/first" "$1" "$2" <<'EOF'
import json, sys
h = json.loads(open(sys.argv[1], encoding="utf-8").read())
sys.exit(0 if h["file"] == sys.argv[2] and h["line_start"] <= int(sys.argv[3]) <= h["line_end"] else 1)
EOF
}

# ---- the example queries find the right places --------------------------------------------

search --json -n 1000 소버린 AI
check "소버린 AI: exit 0, finds 002 line 21 (소버린 AI(Sovereign AI) 전략)" \
  test "$status" -eq 0 -a -s "$tmp/out"
check "소버린 AI covers $F002:21" covers $F002 21

search --json -n 1000 '"기술 주권"'
check '"기술 주권" finds 002 line 5182 (‘기술 주권’은)' covers $F002 5182

search --json '반도체 AND (수출 OR 통제) NOT 중국'
check "반도체 AND (수출 OR 통제) NOT 중국: first hit is 001 line 9" first_hit_is $F001 9
python3 - "$tmp/out" "$src" >"$tmp/why" 2>&1 <<'EOF'
import json, sys
# no hit's lines may mention 중국 (whitespace removed, so broken words count)
for l in open(sys.argv[1], encoding="utf-8"):
    h = json.loads(l)
    lines = open(sys.argv[2] + "/" + h["file"], encoding="utf-8").read().split("\n")
    text = "".join(lines[h["line_start"] - 1:h["line_end"]]).replace(" ", "")
    assert "반도체" in text, h
EOF
check "... every hit mentions 반도체" test $? -eq 0

search --json -n 100 '"technology sovereignty"'
check '"technology sovereignty" finds the phrase broken across 002 lines 7833/7835' covers $F002 7835
check '"technology sovereignty" finds 002 line 7947' covers $F002 7947

search --count 반도체를
count_particle=$(cat "$tmp/out")
search --count 반도체
count_bare=$(cat "$tmp/out")
check "반도체를 finds the passages of 반도체 ($count_particle = $count_bare)" \
  test -n "$count_bare" -a "$count_particle" = "$count_bare" -a "${count_bare:-0}" -gt 20

search --json -n 100 AI반도체
check "AI반도체 finds 002 line 4065 (AI 반도체)" covers $F002 4065

search --json -n 2000 'file:*002*'
check "file:*002* lists only 002" test "$(grep -vc "\"file\":\"$F002\"" "$tmp/out")" -eq 0
check "file:*002* lists 002's passages from line 1" covers $F002 1

search --json '"국가의 무역"'
check '"국가의 무역" matches across the PDF break at 002 lines 3/5' covers $F002 5

search --json -n 50 '정책 file:*001*'
python3 - "$tmp/out" <<'EOF'
import json, sys
seen = False
for l in open(sys.argv[1], encoding="utf-8"):
    h = json.loads(l)
    b = h["snippet"].encode()
    for s, e in h["highlights"]:
        assert b[s:e].decode() == "정책", b[s:e].decode()
        seen |= b[e:e + 3].decode("utf-8", "replace") == "을"
sys.exit(0 if seen else 1)
EOF
check "정책 finds 정책을 and highlights 정책 alone" test $? -eq 0

# ---- output formats --------------------------------------------------------------------------

search --json -n 20 '소버린 AI OR "기술 주권"'
python3 - "$tmp/out" >"$tmp/why" 2>&1 <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    h = json.loads(l)
    assert set(h) == {"file", "line_start", "line_end", "score", "snippet", "highlights",
                      "passage_id"}, h.keys()
    b = h["snippet"].encode()
    for s, e in h["highlights"]:
        assert 0 <= s < e <= len(b)
        b[s:e].decode()  # ranges never cut a character
    n += 1
sys.exit(0 if n == 20 else 1)
EOF
check "--json: one valid object per hit with byte-range highlights" test $? -eq 0
check "--json passes python3 -m json.tool (first line) and json.loads (all)" \
  bash -c "head -1 '$tmp/out' | python3 -m json.tool >/dev/null &&
           python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$tmp/out'"
if command -v jq >/dev/null; then
  check "--json passes jq" jq -e . "$tmp/out" >/dev/null
fi
# 000 line 41 holds straight double quotes: | "이자 더 드려요" 은행 금리 경쟁 ...
search --json 은행 금리 경쟁
check '--json escapes double quotes in snippets' \
  python3 -c "import json,sys; assert any('\"이자' in json.loads(l)['snippet'] for l in open('$tmp/out'))"

search -n 3 소버린 AI
python3 - "$tmp/out" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert re.fullmatch(r"corpus/\S+\.txt:\d+-\d+  \d+\.\d{3}", lines[0]), lines[0]
assert lines[1].startswith("    ") and "소버린" in lines[1], lines[1]
assert lines[2] == "", "a blank line between hits"
assert re.fullmatch(r"corpus/\S+\.txt:\d+-\d+  \d+\.\d{3}", lines[3]), lines[3]
assert "\033" not in "".join(lines), "no escape codes when stdout is not a terminal"
EOF
check "human output: file:lines  score, indented snippet, blank line, no bold in a pipe" test $? -eq 0

if script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "'$build/seogo-search' -d '$index' -n 1 소버린" /dev/null >"$tmp/out" 2>&1
  check "on a terminal the matches are bold" grep -q $'\033\\[1m소버린\033\\[0m' "$tmp/out"
fi

search --count 소버린 AI
check "--count prints the number of matching passages" grep -qx '[0-9][0-9]*' "$tmp/out"
total_passages=$(cat "$tmp/out")
search --json -n 1000 소버린 AI
check "--count agrees with the hits ($total_passages)" test "$(wc -l <"$tmp/out")" -eq "$total_passages"

search --json --group -n 100 AI
python3 - "$tmp/out" <<'EOF'
import json, sys
files = [json.loads(l)["file"] for l in open(sys.argv[1], encoding="utf-8")]
sys.exit(0 if len(files) == 5 and len(set(files)) == 5 else 1)
EOF
check "--group gives one hit per document" test $? -eq 0
search --count --group AI
check "--count --group counts documents" grep -qx 5 "$tmp/out"

search --json -n 5 반도체
head -4 "$tmp/out" | tail -2 | cut -d, -f1-3 >"$tmp/want"
search --json -n 2 --offset 2 반도체
cut -d, -f1-3 "$tmp/out" >"$tmp/got"
check "--offset 2 -n 2 gives hits 3 and 4" cmp -s "$tmp/want" "$tmp/got"

search --explain -n 1 '반도체 "기술 주권"'
check "--explain shows the parsed query, df/idf and score parts" \
  grep -q 'query: AND(반도체, "기술 주권")' "$tmp/out"
check "--explain lists idf per word" grep -q 'unit 반도체: df=[0-9]* idf=' "$tmp/out"
check "--explain breaks a hit's score down" grep -q 'bm25=' "$tmp/out"

printf '소버린 AI\n\n"technology sovereignty"\nzyxwvutsrq\n' >"$tmp/queries"
search --json -n 2 --queries "$tmp/queries"
python3 - "$tmp/out" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
summaries = [o for o in objs if "micros" in o]
hits = [o for o in objs if "passage_id" in o]
assert [s["query_line"] for s in summaries] == [1, 3, 4], summaries
assert [s["query"] for s in summaries] == ["소버린 AI", '"technology sovereignty"', "zyxwvutsrq"]
assert [s["hits"] for s in summaries] == [2, 2, 0]
assert all(isinstance(s["micros"], int) and s["micros"] >= 0 for s in summaries)
assert [h["query_line"] for h in hits] == [1, 1, 3, 3]
EOF
check "--queries FILE --json: hits carry query_line, one summary per query" test $? -eq 0
check "--queries exits 0 when some query matched" test "$status" -eq 0
# without --count the search stops counting what cannot enter the top n: the summary says so
printf '반도체\n' | "$build/seogo-search" -d "$index" --json -n 2 --queries - >"$tmp/out" 2>"$tmp/err"
python3 - "$tmp/out" "$count_bare" <<'EOF'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if '"micros"' in l][0]
n = int(sys.argv[2])
assert s["total_exact"] in (True, False), s
assert (s["total"] == n) if s["total_exact"] else (2 <= s["total"] <= n), (s, n)
EOF
check "--queries --json: total is the --count, or a lower bound with total_exact false" test $? -eq 0
printf '반도체를\n' | "$build/seogo-search" -d "$index" --queries - >"$tmp/out" 2>"$tmp/err"
check "--queries - reads standard input" grep -q '^## 1: 반도체를' "$tmp/out"

# ---- options and defaults --------------------------------------------------------------------

search -- -중국 반도체
check "-- ends options: a query may begin with -" test "$status" -eq 0
search -중국 반도체
check "without --, a leading -word is an unknown option (exit 2)" test "$status" -eq 2
search 반도체 -중국
check "after a word, -word is NOT word" test "$status" -eq 0
(cd "$tmp" && SEOGO_INDEX="$index" "$build/seogo-search" --count 반도체 >"$tmp/out" 2>"$tmp/err")
check "\$SEOGO_INDEX is the default index" grep -qx "$count_bare" "$tmp/out"
cp -r "$index" "$tmp/.seogo"
(cd "$tmp" && env -u SEOGO_INDEX "$build/seogo-search" --count 반도체 >"$tmp/out" 2>"$tmp/err")
check "./.seogo is the default index" grep -qx "$count_bare" "$tmp/out"

# ---- exit statuses and errors ---------------------------------------------------------------

search zyxwvutsrq
check "no hits: exit 1 and no output" test "$status" -eq 1 -a ! -s "$tmp/out"
search --count zyxwvutsrq
check "--count with no hits prints 0, exit 1" test "$status" -eq 1 -a "$(cat "$tmp/out")" = 0
"$build/seogo-search" -d "$tmp/none" 반도체 >"$tmp/out" 2>"$tmp/err"
status=$?
check "a missing index: exit 2 with the library's message" \
  test "$status" -eq 2 -a -s "$tmp/err"
search --limit x 반도체
check "a bad option value: exit 2" test "$status" -eq 2
search --b 3 반도체
check "an invalid BM25 b: exit 2" test "$status" -eq 2

# caret COLUMN_LINE: the caret line of the error output equals COLUMN_LINE
caret_is() { [ "$(sed -n 3p "$tmp/err")" = "$1" ]; }

search '소버린 "기술 주권'
check "unclosed quote: exit 2" test "$status" -eq 2
check "unclosed quote: message" grep -q 'unclosed quote' "$tmp/err"
check "unclosed quote: the query is shown" test "$(sed -n 2p "$tmp/err")" = '  소버린 "기술 주권'
# "소버린 " is 7 columns wide on a terminal (Hangul is double width), after 2 of indent
check "unclosed quote: caret under the quote" caret_is '         ^'

search '(반도체 OR'
check "dangling OR: exit 2, caret under OR" caret_is '          ^'
search '반도체 AND OR 수출'
check "AND OR: caret under AND" caret_is '         ^'
search 'NEAR(엔비디아 GPU, 0)'
check "NEAR distance 0: caret under the distance" caret_is '                     ^'
search 'a b)'
check "unmatched ): caret under it" caret_is '     ^'
search 'AND'
check "operator alone: exit 2, caret at column 1" caret_is '  ^'
search '   '
check "empty query: exit 2" test "$status" -eq 2
search "$(printf '(%.0s' $(seq 1 10000))a"
check "10,000 nested parentheses: refused (exit 2)" grep -q 'nested too deeply' "$tmp/err"
head -c 10000000 /dev/zero | tr '\0' 'a' >"$tmp/big"
"$build/seogo-search" -d "$index" --queries "$tmp/big" >"$tmp/out" 2>"$tmp/err"
status=$?
check "a 10 MB query: refused as too long (exit 2)" \
  test "$status" -eq 2 -a "$(grep -c 'too long' "$tmp/err")" -eq 1
check "... and its error excerpt stays short" test "$(wc -c <"$tmp/err")" -lt 1000
check "... and so does the query's header line" test "$(wc -c <"$tmp/out")" -lt 1000

finish

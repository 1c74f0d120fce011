#!/usr/bin/env bash
# test_bench_smoke.sh - keeps the benchmark harness working: runs bench/run.sh on a 1 MB corpus
# with the engines whose libraries are installed (installs nothing) and checks the report.
# Not a benchmark: no timing is asserted.
set -uo pipefail

src=${SEOGO_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
build=${SEOGO_BUILD_DIR:-$src/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # description command...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}

# A table row of RESULTS.md for `engine` under the heading `section`, or nothing.
row() { # section engine
  awk -v h="$1" -v e="| $2 |" 'index($0, "### ") == 1 { on = index($0, h) > 0 }
                                on && index($0, e) == 1 { print; exit }' "$tmp/RESULTS.md"
}

contains() { [[ $1 == *"$2"* ]]; }

# Column n (1-based, after the engine name) of a row.
cell() { awk -F'|' -v n="$2" '{ gsub(/ /, "", $(n + 2)); print $(n + 2) }' <<<"$1"; }

# ---- The generator is deterministic ------------------------------------------------------------
gen=$build/bench/gen_corpus
if [ -x "$gen" ]; then
  "$gen" --size 200K --seed 7 --out "$tmp/g1" "$src"/corpus/*.txt >/dev/null
  "$gen" --size 200K --seed 7 --out "$tmp/g2" "$src"/corpus/*.txt >/dev/null
  check "same arguments give the same corpus bytes" diff -r -q "$tmp/g1" "$tmp/g2"
  "$gen" --size 200K --seed 8 --out "$tmp/g3" "$src"/corpus/*.txt >/dev/null
  check "another seed gives another corpus" bash -c "! diff -r -q '$tmp/g1' '$tmp/g3' >/dev/null"
fi

# ---- One small run ---------------------------------------------------------------------------------
log=$tmp/run.log
if bash "$src/bench/run.sh" --size 1M --per-class 8 --reps 1 --index-runs 2 --search-rounds 2 \
     --no-install \
     --build-dir "$build" --out "$tmp/out" --results "$tmp/RESULTS.md" --plot "$tmp/latency.png" \
     >"$log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL: bench/run.sh exited non-zero:"
  tail -20 "$log"
fi

if [ -f "$tmp/RESULTS.md" ]; then
  for heading in "## Machine" "## Engines" "## Corpus 1M" "### Targets" "### Indexing" \
                 "### Top-10 latency" "### Korean substring recall" "### English recall"; do
    check "RESULTS.md has '$heading'" grep -q "^$heading" "$tmp/RESULTS.md"
  done
  check "RESULTS.md names the CPU" grep -q '^| CPU | ' "$tmp/RESULTS.md"

  seogo_index=$(row Indexing seogo)
  check "Seogo's indexing row is there" test -n "$seogo_index"
  check "Seogo indexed a positive number of bytes" \
    awk -v v="$(cell "$seogo_index" 1)" 'BEGIN { exit !(v + 0 > 0) }'
  check "Seogo has a latency row with figures" contains "$(row Top-10 seogo)" " / "
  # The size target counts the index without the stored text, which has its own column.
  check "Seogo's stored text is told apart from its index" \
    awk -v v="$(cell "$seogo_index" 9)" 'BEGIN { exit !(v + 0 > 0) }'
  # --index-runs 2: both runs listed, each with the CPU stolen meanwhile, and the CPU time
  check "Seogo's indexing row lists two runs with their CPU steal" \
    grep -Eq '^[0-9.]+\([0-9.]+\),[0-9.]+\([0-9.]+\)$' <<<"$(cell "$seogo_index" 6)"
  check "Seogo's indexing row has its CPU seconds" \
    awk -v v="$(cell "$seogo_index" 5)" 'BEGIN { exit !(v + 0 > 0) }'
  # --search-rounds 2: every figure is the median of two rounds, each round's steal listed
  check "the latency section gives the CPU stolen in each round of queries" \
    grep -Eq '^CPU stolen from the machine .* while the queries were timed .*: seogo [0-9.?]+, [0-9.?]+ %' \
    "$tmp/RESULTS.md"
  check "the latency section says its figures are medians of two rounds" \
    grep -q '^Each p50 and p99 is the median of .*: seogo 2' "$tmp/RESULTS.md"
  check "the targets table judges Korean recall" grep -q '^| Korean recall .* | \(met\|\*\*not met\*\*\) |$' \
    "$tmp/RESULTS.md"
  check "the targets table judges the index size" grep -q '^| index/input (without stored text) |' \
    "$tmp/RESULTS.md"
  check "Seogo finds English words in any case (recall >= 0.95)" \
    awk -v v="$(cell "$(row "English recall" seogo)" 2)" 'BEGIN { exit !(v + 0 >= 0.95) }'

  seogo_recall=$(row "Korean substring" seogo)
  check "Seogo's Korean recall row is there" test -n "$seogo_recall"
  # Seogo matches Korean nouns inside longer words: it must find nearly every passage that
  # contains the noun (the whole point of its bigram index).
  check "Seogo finds Korean nouns inside longer words (recall >= 0.95)" \
    awk -v v="$(cell "$seogo_recall" 2)" 'BEGIN { exit !(v + 0 >= 0.95) }'

  if [ -x "$tmp/out/bin/fts5_bench" ]; then
    # The trigram engine answers substrings exactly, so it must agree with the brute-force
    # ground truth: this checks the whole id pipeline (export, drivers, truth, report).
    trigram=$(row "Korean substring" fts5-trigram)
    check "FTS5 trigram recall is exactly 1" test "$(cell "$trigram" 2)" = "1.000"
    check "FTS5 trigram precision is exactly 1" test "$(cell "$trigram" 3)" = "1.000"
    check "FTS5 porter has a latency row" test -n "$(row Top-10 fts5-porter)"
  fi
  if command -v gnuplot >/dev/null; then
    check "latency.png is a PNG" bash -c "head -c 8 '$tmp/latency.png' | grep -q PNG"
  fi
else
  failed=$((failed + 1))
  echo "FAIL: no RESULTS.md written"
fi

# ---- Re-running some engines keeps the others' figures ------------------------------------------
# fts5-porter is re-run when SQLite is installed; with no peer at all nothing runs, and Seogo,
# not named, must neither index again nor lose its figures.
before=$(row Indexing seogo)
if bash "$src/bench/run.sh" --size 1M --per-class 8 --reps 1 --no-install --build-dir "$build" \
     --out "$tmp/out" --results "$tmp/RESULTS.md" --plot "$tmp/latency.png" \
     --engines fts5-porter >"$log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL: bench/run.sh --engines fts5-porter exited non-zero:"
  tail -20 "$log"
fi
check "an engine left out keeps its figures" test "$(row Indexing seogo)" = "$before"
check "Seogo left out does not index again" bash -c "! grep -q 'seogo: indexing' '$log'"
check "Seogo left out keeps its rounds of queries" \
  grep -q '^Each p50 and p99 is the median of .*: seogo 2' "$tmp/RESULTS.md"
if [ -x "$tmp/out/bin/fts5_bench" ]; then
  check "the report says the engines were measured at different times" \
    grep -q '^| fts5-porter | .* | yes |$' "$tmp/RESULTS.md"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

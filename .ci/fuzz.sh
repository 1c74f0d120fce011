#!/usr/bin/env bash
# fuzz.sh - CI stage: builds the libFuzzer targets (fuzz/build.sh: clang with AddressSanitizer
# and UndefinedBehaviorSanitizer; installs clang and its runtime when missing) and runs each for
# a bounded time, starting from its seeds (fuzz/corpus/TARGET) and every input kept from
# earlier crashes (fuzz/regressions/TARGET). A crash, a broken property, a timeout (10 s for one
# input) or running out of memory fails the target, and the input that did it is copied into
# fuzz/regressions/TARGET/ - commit it with the fix, and test_fuzz_regressions replays it from
# then on. Ends with "N passed, N failed".
#
#   SEOGO_FUZZ_SECONDS=N   seconds per target (default 45)
#   SEOGO_FUZZ_TARGETS=".."  the targets to run (default: all of fuzz/fuzz_*.c)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${SEOGO_FUZZ_DIR:-$root/build-fuzz}
seconds=${SEOGO_FUZZ_SECONDS:-45}
passed=0 failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# clang and its sanitizer/fuzzer runtime (libclang-rt-N-dev on Debian 12); the bootstrap
# installs both, this covers machines where only the ordinary build was set up
"$root/scripts/bootstrap.sh" >/dev/null 2>&1 || true
if ! command -v clang >/dev/null 2>&1 ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
     clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
  major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
  pkgs=(clang)
  [ -n "$major" ] && pkgs+=("libclang-rt-$major-dev")
  sudo=()
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=(sudo)
  echo "fuzz.sh: installing ${pkgs[*]}"
  "${sudo[@]}" apt-get update -q </dev/null >/dev/null &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
      "${pkgs[@]}" </dev/null >/dev/null
  if [ -z "$major" ]; then # clang was missing: its runtime's name is known only now
    major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
    [ -n "$major" ] && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
      --no-install-recommends "libclang-rt-$major-dev" </dev/null >/dev/null
  fi
fi
mkdir -p "$out"
if ! SEOGO_FUZZ_DIR=$out "$root/fuzz/build.sh" >"$out/build.log" 2>&1; then
  fail "fuzz/build.sh (clang, libFuzzer)"; tail -30 "$out/build.log"; finish
fi

tmp=$(mktemp -d /tmp/seogo-fuzz-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SEOGO_SOURCE_DIR=$root TMPDIR=$tmp # the targets' temporary indexes go in $tmp
targets=${SEOGO_FUZZ_TARGETS:-$(cd "$root/fuzz" && printf '%s\n' fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
for t in $targets; do
  work=$tmp/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$root/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null
  cp "$root/fuzz/regressions/$t"/* "$work/corpus/" 2>/dev/null
  "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1)
  found=$(ls "$work/artifacts" 2>/dev/null)
  if [ "$status" -eq 0 ] && [ -z "$found" ]; then
    ok "fuzz_$t: ${seconds} s, ${runs:-?} inputs, ${cov:-cov ?}, nothing found"
    continue
  fi
  fail "fuzz_$t: exit status $status after ${runs:-?} inputs"
  grep -m1 -B2 -A25 -E '^==[0-9]+==ERROR|runtime error|fuzz property|ALARM|out-of-memory' "$work/log" |
    sed 's/^/    /' | head -40
  mkdir -p "$root/fuzz/regressions/$t"
  for a in $found; do
    cp "$work/artifacts/$a" "$root/fuzz/regressions/$t/$a"
    echo "    kept as fuzz/regressions/$t/$a; reproduce: $out/fuzz_$t fuzz/regressions/$t/$a"
  done
done
finish

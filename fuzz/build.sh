#!/usr/bin/env bash
# build.sh - builds the libFuzzer targets fuzz/fuzz_*.c with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/ (or $SEOGO_FUZZ_DIR): one program per target,
# each linked with all of the library's sources. The default build never needs clang; only
# this script and .ci/fuzz.sh do. Prints the programs' paths.
#
#   fuzz/build.sh                 build every target
#   build-fuzz/fuzz_query fuzz/corpus/query          fuzz one (see libFuzzer's -help=1)
#   build-fuzz/fuzz_query fuzz/regressions/query/*   replay inputs
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${SEOGO_FUZZ_DIR:-$root/build-fuzz}
cc=${SEOGO_FUZZ_CC:-clang}
jobs=${SEOGO_JOBS:-$(nproc 2>/dev/null || echo 2)}
command -v "$cc" >/dev/null || { echo "build.sh: $cc not found (apt-get install clang)" >&2; exit 1; }

# shellcheck disable=SC2207,SC2054 # pkg-config's words; -fsanitize=a,b is one argument
cflags=(-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter
        -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "-DSEOGO_FUZZ_SOURCE_DIR=\"$root\""
        -fsanitize=address,undefined -fno-sanitize-recover=all
        -I"$root/include" -I"$root/base" -I"$root/analysis" -I"$root/indexer"
        -I"$root/searcher" -I"$root/fuzz"
        $(pkg-config --cflags icu-uc icu-i18n lmdb libutf8proc))
# shellcheck disable=SC2207
libs=($(pkg-config --libs icu-uc icu-i18n lmdb libutf8proc) -lstemmer -lpthread -lm)

mkdir -p "$out/obj"
sources=()
for f in "$root"/base/*.c "$root"/analysis/*.c "$root"/indexer/*.c "$root"/searcher/*.c; do
  case $(basename "$f") in seogo-*.c) continue ;; esac
  sources+=("$f")
done

# object SOURCE: its object file in obj/
object() { echo "$out/obj/$(basename "$(dirname "$1")")_$(basename "${1%.c}").o"; }
# stale SOURCE: whether its object is missing or older than it or than any header
stale() {
  local obj; obj=$(object "$1")
  [ ! -f "$obj" ] || [ "$1" -nt "$obj" ] ||
    [ -n "$(find "$root" -path "$out" -prune -o -name '*.h' -newer "$obj" -print -quit)" ]
}

objs=() running=0 failed=0
for src in "${sources[@]}"; do
  objs+=("$(object "$src")")
  stale "$src" || continue
  "$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$(object "$src")" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || failed=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
[ "$failed" -eq 0 ] || { echo "build.sh: compiling the library failed" >&2; exit 1; }

for target in "$root"/fuzz/fuzz_*.c; do
  name=$(basename "${target%.c}")
  "$cc" "${cflags[@]}" -fsanitize=fuzzer "$target" "${objs[@]}" "${libs[@]}" -o "$out/$name"
  echo "$out/$name"
done

#!/usr/bin/env bash
# test_example.sh - examples/search.c builds out of tree against an installed Seogo, with
# pkg-config and with CMake's find_package(seogo), and finds the right report in corpus/.
set -uo pipefail

src=${SEOGO_SOURCE_DIR:?SEOGO_SOURCE_DIR not set}
build=${SEOGO_BUILD_DIR:?SEOGO_BUILD_DIR not set}
cc=${SEOGO_C_COMPILER:-cc}
san_flags=()
[ -n "${SEOGO_SANITIZE:-}" ] && san_flags=(-fsanitize="$SEOGO_SANITIZE" -fno-omit-frame-pointer)

tmp=$(mktemp -d /tmp/seogo-example-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

# shellcheck source=tests/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >"$tmp/out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' "$tmp/out" | tail -20; fi
}
# first_hit FILE: the "1. PATH:LINES  score S" line of the example's output
first_hit() { grep -m1 '^1\. ' "$1"; }

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  fail "cmake --install"; cat "$tmp/install.log"; finish
fi
pc=$(find "$prefix" -name seogo.pc -path '*/pkgconfig/*' | head -1)
libdir=$(dirname "$(dirname "$pc")")

# 1. The README's recipe: cc search.c $(pkg-config --cflags --libs seogo)
# shellcheck disable=SC2046
check "examples/search.c builds with pkg-config" \
  "$cc" "${san_flags[@]}" -std=c11 -Wall -Wextra -Werror -o "$tmp/search" "$src/examples/search.c" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs seogo)

check "seogo-index indexes corpus/" "$build/seogo-index" -d "$tmp/index" "$src/corpus"

run_example() { env LD_LIBRARY_PATH="$libdir" "$@"; }
run_example "$tmp/search" "$tmp/index" '제네시스 미션' >"$tmp/genesis.out" 2>&1
status=$?
check "the example answers '제네시스 미션' (exit $status)" test "$status" -eq 0
check "its best hit is the Genesis Mission post (000_*): $(first_hit "$tmp/genesis.out")" \
  bash -c "grep -m1 '^1\. ' '$tmp/genesis.out' | grep -q '000_659a9385f88d803c\.txt:[0-9]*-[0-9]*  score '"
check "every hit for '제네시스 미션' is in that post" \
  bash -c "! grep '^[0-9]*\. ' '$tmp/genesis.out' | grep -v 000_659a9385f88d803c"
check "the snippet marks the match: [제네시스" grep -q '\[제네시스' "$tmp/genesis.out"

run_example "$tmp/search" "$tmp/index" '소버린 AI' >"$tmp/sovereign.out" 2>&1
check "'소버린 AI' finds the Sovereign AI report (002_*): $(first_hit "$tmp/sovereign.out")" \
  bash -c "grep -m1 '^1\. ' '$tmp/sovereign.out' | grep -q 002_0223f975d8e56b67"

run_example "$tmp/search" "$tmp/index" '(반도체 OR' >"$tmp/bad.out" 2>&1
status=$?
check "a malformed query fails with exit 1 and a column (exit $status)" \
  bash -c "[ $status -eq 1 ] && grep -q 'query error at column [0-9]' '$tmp/bad.out'"
run_example "$tmp/search" "$tmp/no-such-index" '반도체' >"$tmp/missing.out" 2>&1
status=$?
check "a missing index fails with exit 1 and names it (exit $status)" \
  bash -c "[ $status -eq 1 ] && grep -q 'no-such-index' '$tmp/missing.out'"

# 2. CMake: the example's own CMakeLists.txt uses find_package(seogo) and seogo::seogo(_static).
cmake_flags=(-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release)
if [ ${#san_flags[@]} -gt 0 ]; then
  cmake_flags+=(-DCMAKE_C_FLAGS="${san_flags[*]}" -DCMAKE_EXE_LINKER_FLAGS="${san_flags[*]}")
fi
check "find_package(seogo) configures examples/" \
  cmake -S "$src/examples" -B "$tmp/cmake-build" "${cmake_flags[@]}"
check "seogo::seogo and seogo::seogo_static link" cmake --build "$tmp/cmake-build"
for prog in search search_static; do
  "$tmp/cmake-build/$prog" "$tmp/index" '제네시스 미션' >"$tmp/$prog.out" 2>&1
  check "the CMake-built $prog prints the same hits" cmp "$tmp/genesis.out" "$tmp/$prog.out"
done

# 3. The version file refuses an incompatible major version.
mkdir -p "$tmp/v1"
cat >"$tmp/v1/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(wants_seogo_1 LANGUAGES NONE)
find_package(seogo 1.0 REQUIRED)
CMAKE
check "find_package(seogo 1.0) is refused by version 0.x" \
  bash -c "! cmake -S '$tmp/v1' -B '$tmp/v1/build' -DCMAKE_PREFIX_PATH='$prefix'"

finish

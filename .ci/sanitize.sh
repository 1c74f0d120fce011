#!/usr/bin/env bash
# sanitize.sh - CI stage 2: builds Seogo with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan/ and runs the whole ctest suite there. Any memory
# error, leak or undefined behaviour aborts the test that hit it, so the test fails. It builds
# with SEOGO_NO_SIMD, so the portable postings decoder is tested here while stages 1 and 3 test
# the AVX2 one on machines that have it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SEOGO_ASAN_DIR:-$root/build-asan}
jobs=${SEOGO_JOBS:-$(nproc 2>/dev/null || echo 2)}

# The packages (clang and its sanitizer runtime) come with the ordinary bootstrap; build/ is
# built by it as well, which stage 1 has normally done already.
"$root/scripts/bootstrap.sh" >/dev/null

cc=clang
command -v clang >/dev/null 2>&1 || cc=gcc
cmake -S "$root" -B "$build_dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_C_FLAGS=-DSEOGO_NO_SIMD -DSEOGO_SANITIZE=address,undefined
cmake --build "$build_dir" -j "$jobs"

export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build_dir"
ctest --output-on-failure

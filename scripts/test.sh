#!/usr/bin/env bash
# test.sh - README command 2: installs what is missing, builds Seogo (build/, Release) and runs
# the whole test suite with ctest. Ends with ctest's summary line
# ("100% tests passed, 0 tests failed out of N") and exits non-zero when any test fails.
#
#   scripts/test.sh                    everything
#   scripts/test.sh -R analyzer        extra arguments go to ctest
#   SEOGO_BUILD_DIR=build-asan ...     test another (already configured) build directory
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build_dir=${SEOGO_BUILD_DIR:-$root/build}

SEOGO_BUILD_DIR=$build_dir "$here/bootstrap.sh"

cd "$build_dir"
exec ctest --output-on-failure "$@"

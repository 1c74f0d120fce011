#!/usr/bin/env bash
# bootstrap.sh - installs the Debian packages Seogo needs (only the missing ones) and builds it
# in Release into build/. Idempotent: on a machine that has everything it only re-runs the
# (incremental) build, which takes seconds.
#
#   scripts/bootstrap.sh            install what is missing, configure and build build/
#   SEOGO_NO_INSTALL=1 ...          never call apt-get (report what is missing and stop)
#   SEOGO_BUILD_DIR=dir ...         build elsewhere than build/
#   SEOGO_JOBS=N ...                parallel build jobs (default: number of cores)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build_dir=${SEOGO_BUILD_DIR:-$root/build}
jobs=${SEOGO_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Compiler and build tools, the four libraries, python3 for tests, and what the sanitizer and
# valgrind stage of .ci/run uses (clang, valgrind, and clang's sanitizer runtime below).
packages=(build-essential gcc cmake pkg-config libicu-dev liblmdb-dev libutf8proc-dev
          libstemmer-dev python3 valgrind clang)
apt_updated=

missing_packages() {
  local p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || printf '%s\n' "$p"
  done
}

# clang's AddressSanitizer runtime is only a recommendation of clang, and its package is named
# after clang's major version (libclang-rt-14-dev on Debian 12).
clang_runtime_package() {
  local major
  major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
  [ -n "$major" ] && printf 'libclang-rt-%s-dev\n' "$major"
}

# apt_install PACKAGE...: installs those of the packages that are missing.
apt_install() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  # shellcheck disable=SC2086
  set -- $missing
  if [ -n "${SEOGO_NO_INSTALL:-}" ]; then
    echo "bootstrap: missing packages: $*" >&2
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "bootstrap: missing packages: $*; run as root: apt-get install $*" >&2
      exit 1
    fi
  fi
  echo "bootstrap: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    "${sudo[@]}" apt-get update -q </dev/null
    apt_updated=1
  fi
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" </dev/null
}

install_missing() {
  if ! command -v dpkg >/dev/null 2>&1; then
    echo "bootstrap: not a Debian-like system (no dpkg); install the equivalents of:" >&2
    echo "  ${packages[*]}" >&2
    echo "bootstrap: trying to build with what is there" >&2
    return 0
  fi
  apt_install "${packages[@]}"
  local runtime
  runtime=$(clang_runtime_package || true)
  [ -n "$runtime" ] && apt_install "$runtime"
  return 0
}

configure_and_build() {
  # A build directory configured with another build type is left alone (the user chose it),
  # but a fresh one is Release.
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
  else
    cmake -S "$root" -B "$build_dir" >/dev/null
  fi
  cmake --build "$build_dir" -j "$jobs"
}

install_missing
configure_and_build
echo "bootstrap: built $build_dir/seogo-index and $build_dir/seogo-search"

#!/usr/bin/env bash
# test_install.sh - `cmake --install` into a temporary prefix yields a usable library: header,
# shared library with soname libseogo.so.0 exporting exactly the public API, static library,
# seogo.pc whose flags link a program both ways, the programs, and the CMake package files.
set -uo pipefail

src=${SEOGO_SOURCE_DIR:?SEOGO_SOURCE_DIR not set}
build=${SEOGO_BUILD_DIR:?SEOGO_BUILD_DIR not set}
cc=${SEOGO_C_COMPILER:-cc}
san_flags=()
[ -n "${SEOGO_SANITIZE:-}" ] && san_flags=(-fsanitize="$SEOGO_SANITIZE" -fno-omit-frame-pointer)

tmp=$(mktemp -d /tmp/seogo-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

# shellcheck source=tests/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >"$tmp/out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' "$tmp/out" | tail -20; fi
}

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  fail "cmake --install"; cat "$tmp/install.log"; finish
fi
ok "cmake --install into a temporary prefix"

pc=$(find "$prefix" -name seogo.pc -path '*/pkgconfig/*' | head -1)
if [ -n "$pc" ]; then ok "seogo.pc installed"; else fail "seogo.pc installed"; finish; fi
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH=$libdir/pkgconfig

for f in include/seogo.h bin/seogo-index bin/seogo-search; do
  check "$f installed" test -f "$prefix/$f"
done
for f in libseogo.so libseogo.so.0 libseogo.a cmake/seogo/seogoConfig.cmake \
         cmake/seogo/seogoConfigVersion.cmake cmake/seogo/seogoTargets.cmake; do
  check "${libdir#"$prefix"/}/$f installed" test -e "$libdir/$f"
done
check "installed header is the source header" cmp "$src/include/seogo.h" "$prefix/include/seogo.h"

soname=$(readelf -d "$libdir/libseogo.so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "shared library soname is libseogo.so.0 (got '$soname')" test "$soname" = libseogo.so.0

# Every function the header declares is exported, and nothing else: internal helpers must not
# clash with an embedding program's own symbols.
grep -oE '^[a-z][a-z0-9_ *]*[ *](seogo_[a-z0-9_]+)\(' "$src/include/seogo.h" |
  sed -E 's/.*(seogo_[a-z0-9_]+)\($/\1/' | sort -u >"$tmp/declared"
nm -D --defined-only "$libdir/libseogo.so" | awk '$2 ~ /^[TDBRVW]$/ {sub(/@.*/, "", $3); print $3}' |
  sort -u >"$tmp/exported"
check "header declares the API ($(wc -l <"$tmp/declared") functions)" test -s "$tmp/declared"
check "every declared function is exported" \
  bash -c "comm -23 '$tmp/declared' '$tmp/exported' | tee /dev/stderr | (! grep -q .)"
check "only seogo_* symbols are exported" \
  bash -c "grep -v '^seogo_' '$tmp/exported' | tee /dev/stderr | (! grep -q .)"

header_version=$(sed -n 's/^#define SEOGO_VERSION_STRING "\(.*\)"/\1/p' "$src/include/seogo.h")
pc_version=$(pkg-config --modversion seogo 2>/dev/null)
check "pkg-config version $pc_version is the header's $header_version" \
  test "$pc_version" = "$header_version"
check "seogoConfigVersion.cmake says $header_version" \
  grep -q "PACKAGE_VERSION \"$header_version\"" "$libdir/cmake/seogo/seogoConfigVersion.cmake"

# A program using the whole API: index a Korean/English text into a fresh index, search it.
cat >"$tmp/use.c" <<'C'
#include <seogo.h>
#include <stdio.h>
#include <string.h>

static int count_term(void *ctx, const seogo_term *term) {
  (void)term;
  ++*(int *)ctx;
  return 0;
}

int main(int argc, char **argv) {
  static const char text[] = "소버린 AI는 국가의 인공지능 주권을 뜻한다.\nSovereign AI means national AI.\n";
  seogo_error err = {0};
  seogo_index *idx = NULL;
  seogo_results *res = NULL;
  int terms = 0;
  if (argc != 2 || strcmp(seogo_version(), SEOGO_VERSION_STRING) != 0) return 3;
  if (seogo_analyze(text, strlen(text), 0, count_term, &terms, NULL, &err) || terms < 5) return 4;
  if (seogo_open(argv[1], SEOGO_OPEN_WRITE, &idx, &err)) { puts(err.message); return 5; }
  if (seogo_add_buffer(idx, "note.txt", text, strlen(text), 0, NULL, &err) ||
      seogo_commit(idx, &err) ||
      seogo_search(idx, "소버린", strlen("소버린"), NULL, &res, &err)) {
    puts(err.message);
    seogo_close(idx);
    return 6;
  }
  int found = seogo_results_count(res) == 1 &&
              strcmp(seogo_results_hit(res, 0)->path, "note.txt") == 0;
  printf("%s %zu hit(s)\n", seogo_version(), seogo_results_count(res));
  seogo_results_free(res);
  seogo_close(idx);
  return found ? 0 : 7;
}
C
# shellcheck disable=SC2046
check "a program builds with pkg-config --cflags --libs seogo" \
  "$cc" "${san_flags[@]}" -std=c11 -Wall -Werror -o "$tmp/use_shared" "$tmp/use.c" \
  $(pkg-config --cflags --libs seogo)
check "it links the installed shared library" \
  bash -c "LD_LIBRARY_PATH='$libdir' ldd '$tmp/use_shared' | grep -q '$libdir/libseogo.so.0'"
check "it indexes and finds a Korean word through libseogo.so" \
  env LD_LIBRARY_PATH="$libdir" "$tmp/use_shared" "$tmp/index-shared"

# Static linking needs exactly what Libs.private and Requires.private name.
static_libs=$(pkg-config --static --libs seogo | sed 's/-lseogo\b/-l:libseogo.a/')
# shellcheck disable=SC2046,SC2086
check "a program links libseogo.a with pkg-config --static --libs seogo" \
  "$cc" "${san_flags[@]}" -std=c11 -Wall -Werror -o "$tmp/use_static" "$tmp/use.c" \
  $(pkg-config --cflags seogo) $static_libs
check "the static program does not need libseogo.so" \
  bash -c "test -x '$tmp/use_static' && ! ldd '$tmp/use_static' | grep -q libseogo"
check "it indexes and finds a Korean word through libseogo.a" "$tmp/use_static" "$tmp/index-static"

check "installed seogo-index runs (--help)" "$prefix/bin/seogo-index" --help
check "installed seogo-search runs (--help)" "$prefix/bin/seogo-search" --help

finish

#!/usr/bin/env bash
# quickstart.sh - README command 1: installs what is missing, builds Seogo in Release, indexes
# corpus/ into the default index .seogo and runs an example Korean search.
#
#   scripts/quickstart.sh              index corpus/ and search for: 소버린 AI
#   scripts/quickstart.sh 반도체 수출   index corpus/ and search for your own query
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

"$here/bootstrap.sh"

cd "$root"
# An index left by an older version of Seogo is refused; the quick start then rebuilds it.
if ! build/seogo-index -d .seogo corpus; then
  echo "quickstart: rebuilding the index .seogo from scratch"
  build/seogo-index -d .seogo --rebuild corpus
fi
if [ "$#" -eq 0 ]; then
  set -- 소버린 AI
fi
echo
echo "\$ build/seogo-search -d .seogo $*"
build/seogo-search -d .seogo "$@"

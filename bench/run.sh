#!/usr/bin/env bash
# run.sh - the benchmark in one command: generates a corpus, indexes it with Seogo, exports
# Seogo's passages, makes the query set and the ground truth (Korean substrings, English
# whole words), runs every engine's driver (SQLite FTS5 porter and trigram, Xapian, Groonga)
# on the same passages and queries, then writes bench/RESULTS.md and bench/latency.png. See
# bench/README.md.
#
#   bench/run.sh --size 200M                one corpus size (10M, 100M, 200M, 1G, ...);
#                                           issue 6's targets are defined at 200M
#   bench/run.sh --size 10M,100M,1G         several (the plot needs more than one)
#   bench/run.sh --size 200M --engines seogo   Seogo again; the peers' figures are kept
#
# Options:
#   --engines LIST    comma-separated subset of seogo,fts5-porter,fts5-trigram,xapian,groonga
#                     (default: all). The engines left out keep their figures from an earlier
#                     run of the size, and the report says when and at which commit each engine
#                     was measured, and flags an engine measured on other passages or queries.
#                     Seogo indexes (it makes the passages) only when it is in the list or the
#                     size has no passages yet
#   --threads N       Seogo's analysis threads while indexing (default: the number of cores)
#   --per-class N     queries per class (default 50)     --reps N   timed rounds (default 3)
#   --index-runs N    index N times and report the median run (default 1); an engine whose
#                     first run took over 120 s is not run again (its one run stands)
#   --search-rounds N time every engine's queries N times and report, per query class, the
#                     median round's p50 and p99 (default 1). The rounds take turns: round 2
#                     of every engine runs after round 1 of all of them, so that a stretch of
#                     CPU stolen by the hypervisor falls on all engines alike
#   --seed N          corpus and query seed (default 1)
#   --out DIR         work directory (default bench/out): corpora, indexes, JSON per engine
#   --results FILE    report (default bench/RESULTS.md)  --plot FILE  (default bench/latency.png)
#   --build-dir DIR   Seogo build directory (default build-bench)
#   --keep-indexes    keep each engine's index (default: deleted once measured)
#   --no-install      never call apt-get (engines whose packages are missing are skipped)
#
# Packages: installs libsqlite3-dev, libxapian-dev, libgroonga-dev, gnuplot-nox and g++ with
# apt-get when missing (as root, or through sudo). The report covers every size found in
# --out, so sizes run at different times end up in one table and one plot.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

sizes=()
engines=seogo,fts5-porter,fts5-trigram,xapian,groonga
per_class=50
reps=3
index_runs=1
search_rounds=1
repeat_limit=120 # seconds: a slower first indexing run is not repeated
seed=1
out=$here/out
results=$here/RESULTS.md
plot=$here/latency.png
build_dir=$root/build-bench
threads=
keep_indexes=
no_install=${SEOGO_NO_INSTALL:-}

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "run.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    --size) IFS=, read -r -a more <<<"$2"; sizes+=("${more[@]}"); shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --per-class) per_class=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --index-runs) index_runs=$2; shift 2 ;;
    --search-rounds) search_rounds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --plot) plot=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --keep-indexes) keep_indexes=1; shift ;;
    --no-install) no_install=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(10M)
for s in "${sizes[@]}"; do
  [[ $s =~ ^[0-9]+[KMG]$ ]] || die "bad size '$s' (use e.g. 10M, 100M, 1G)"
done
for e in ${engines//,/ }; do
  case $e in seogo|fts5-porter|fts5-trigram|xapian|groonga) ;; *) die "unknown engine '$e'" ;; esac
done
[ -z "$threads" ] || [[ $threads =~ ^[1-9][0-9]*$ ]] || die "bad --threads '$threads'"
[[ $index_runs =~ ^[1-9][0-9]*$ ]] || die "bad --index-runs '$index_runs'"
[[ $search_rounds =~ ^[1-9][0-9]*$ ]] || die "bad --search-rounds '$search_rounds'"
thread_opt=()
[ -z "$threads" ] || thread_opt=(--threads "$threads")
mkdir -p "$out"
out=$(cd "$out" && pwd)

wants() { [[ ,$engines, == *,$1,* ]]; }

# What each engine's figures were measured on, for the report: the commit (+dirty when the
# working tree differs from it), when, the machine's load, and the passages and queries.
run_id=$(date -u +%Y%m%dT%H%M%SZ)
source_of() { # the source tree a CMake build directory was configured from
  sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt" 2>/dev/null
}
write_meta() { # engine size_dir loadavg
  local inputs=() commit
  read -r -a inputs <"$2/inputs.sha1" || true # one line, no newline
  if [ "$1" = seogo ]; then commit=$seogo_commit; else commit=$peer_commit; fi
  printf '{"engine": "%s", "commit": "%s", "run": "%s", "date": "%s", "loadavg": "%s", "passages_sha1": "%s", "queries_sha1": "%s"}\n' \
    "$1" "$commit" "$run_id" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$3" "${inputs[0]:-}" "${inputs[1]:-}" \
    >"$2/$1.meta.json"
}
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }

# ---- Packages -------------------------------------------------------------------------------
install_missing() {
  local missing=() p
  for p in libsqlite3-dev libxapian-dev libgroonga-dev gnuplot-nox g++; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -n "$no_install" ] || ! command -v apt-get >/dev/null; then
    log "missing packages (engines needing them are skipped): ${missing[*]}"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "not root: skipping install of ${missing[*]}"; return 0; }
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q >/dev/null || true
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null ||
    log "apt-get install failed; continuing with what is there"
}
command -v dpkg >/dev/null && install_missing

# ---- Build ------------------------------------------------------------------------------------
seogo_programs=(gen_corpus bench_queries seogo_bench seogo_export)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
bin=$build_dir/bench
seogo_src=$(source_of "$build_dir")
# Seogo's figures are of the build's source tree; the peers' drivers are of this one.
commit_of() { git -C "${1:-$root}" describe --always --dirty 2>/dev/null || echo "unknown (${1:-$root})"; }
seogo_commit=$(commit_of "$seogo_src")
peer_commit=$(commit_of) # when the peers' drivers are built, below
if ! cmake --build "$build_dir" -j2 --target "${seogo_programs[@]}" >"$out/build.log" 2>&1; then
  for p in "${seogo_programs[@]}"; do
    [ -x "$bin/$p" ] || { tail -20 "$out/build.log" >&2; die "building $p in $build_dir failed"; }
  done
  log "WARNING: the build failed (see $out/build.log); using the programs built before"
fi

peer_bin=$out/bin
mkdir -p "$peer_bin"
cflags=(-std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Wshadow
        -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter)
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
build_peer() { # name source pkg-config-module compiler...
  local name=$1 src=$2 module=$3
  shift 3
  if ! have_pc "$module"; then
    log "$module not found: skipping $name"
    return 1
  fi
  # shellcheck disable=SC2046
  "$@" -o "$peer_bin/$name" "$here/engines/$src" $(pkg-config --cflags --libs "$module")
}
available=()
wants seogo && available+=(seogo)
if wants fts5-porter || wants fts5-trigram; then
  if build_peer fts5_bench fts5_bench.c sqlite3 cc "${cflags[@]}"; then
    wants fts5-porter && available+=(fts5-porter)
    wants fts5-trigram && available+=(fts5-trigram)
  fi
fi
if wants xapian && command -v c++ >/dev/null &&
   build_peer xapian_bench xapian_bench.cc xapian-core c++ -std=c++17 -O2 -D_POSIX_C_SOURCE=200809L \
     -D_DEFAULT_SOURCE -Wall -Wextra -Wno-unused-parameter; then
  available+=(xapian)
fi
if wants groonga && build_peer groonga_bench groonga_bench.c groonga cc "${cflags[@]}"; then
  available+=(groonga)
fi
log "engines: ${available[*]}"

# ---- Corpus sources ----------------------------------------------------------------------------
sources=("$root"/corpus/*.txt)
english=()
for f in GPL-3 Apache-2.0 MPL-2.0; do
  [ -f "/usr/share/common-licenses/$f" ] && english+=("/usr/share/common-licenses/$f")
done

# ---- One size ------------------------------------------------------------------------------------
driver_of() { # engine: sets cmd to the engine's driver and its own options
  case $1 in
    seogo) cmd=("$bin/seogo_bench") ;;
    fts5-porter) cmd=("$peer_bin/fts5_bench" --tokenizer porter) ;;
    fts5-trigram) cmd=("$peer_bin/fts5_bench" --tokenizer trigram) ;;
    xapian) cmd=("$peer_bin/xapian_bench") ;;
    groonga) cmd=("$peer_bin/groonga_bench") ;;
  esac
}

run_peer() { # engine size_dir
  local engine=$1 dir=$2 db=$2/db-$1
  local cmd load
  driver_of "$engine"
  rm -rf "$db" "$dir/$engine.json" "$dir/$engine.meta.json" "$dir/$engine".search-*.json
  log "$engine: indexing and searching"
  load=$(loadavg)
  if "${cmd[@]}" --passages "$dir/passages.tsv" --queries "$dir/queries.tsv" --db "$db" \
       --out "$dir/$engine.json" --reps "$reps"; then
    write_meta "$engine" "$dir" "$load"
    repeat_index "$engine" "$dir" "$dir/$engine.json" "${cmd[@]}" --phase index \
      --passages "$dir/passages.tsv"
  else
    log "$engine failed"
    rm -rf "$dir/$engine.json" "$db"
  fi
  drop_index "$db"
}

# An engine's index goes once measured, unless --keep-indexes or more rounds of queries need it.
drop_index() { [ -n "$keep_indexes" ] || [ "$search_rounds" -gt 1 ] || rm -rf "$1"; }

# Rounds 2 .. --search-rounds of timed queries, taking turns across the engines measured in
# this run, into $dir/ENGINE.search-R.json (latencies only), which report.py folds into the
# first round's figures.
search_rounds() { # size_dir engine...
  local dir=$1 r e cmd
  shift
  for ((r = 2; r <= search_rounds; r++)); do
    for e in "$@"; do
      [ -d "$dir/db-$e" ] || continue # its indexing failed
      log "$e: timing the queries again (round $r of $search_rounds)"
      driver_of "$e"
      "${cmd[@]}" --phase search --queries "$dir/queries.tsv" --db "$dir/db-$e" \
        --out "$dir/$e.search-$r.json" --reps "$reps" --recall no || log "$e: round $r failed"
    done
  done
}

# Indexes again (index only) for the median of --index-runs, into $dir/ENGINE.index-K.json,
# which report.py reads with the first run's figures.
repeat_index() { # engine size_dir first_run_json command...
  local engine=$1 dir=$2 first=$3 k
  shift 3
  rm -f "$dir/$engine".index-*.json
  [ "$index_runs" -gt 1 ] || return 0
  if ! python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["index_seconds"] > float(sys.argv[2]))' \
       "$first" "$repeat_limit"; then
    log "$engine: indexing took over ${repeat_limit} s: not repeated"
    return 0
  fi
  for ((k = 2; k <= index_runs; k++)); do
    log "$engine: indexing again ($k of $index_runs)"
    rm -rf "$dir/db-repeat"
    "$@" --db "$dir/db-repeat" --out "$dir/$engine.index-$k.json" || log "$engine: run $k failed"
  done
  rm -rf "$dir/db-repeat"
}

# Seogo indexes the corpus (measured when it is wanted: $dir/seogo-index.json), exports its
# passages and makes the queries and the ground truth from them.
make_passages() { # size_dir index_json
  local dir=$1
  rm -rf "$dir/db-seogo" "$dir/inputs.sha1" # until the new inputs are complete
  "$bin/seogo_bench" --phase index --corpus "$dir/corpus" --db "$dir/db-seogo" --out "$2" \
    "${thread_opt[@]}"
  "$bin/seogo_export" --db "$dir/db-seogo" --out "$dir/passages.tsv"
  "$bin/bench_queries" --passages "$dir/passages.tsv" --queries "$dir/queries.tsv" \
    --truth "$dir/truth.json" --per-class "$per_class" --seed "$seed"
  (cd "$dir" && sha1sum passages.tsv queries.tsv | cut -d' ' -f1 | tr '\n' ' ' >inputs.sha1)
}

run_size() {
  local size=$1 dir=$out/$1
  mkdir -p "$dir"
  # by the sources' content, not their paths: a run from another checkout reuses the corpus
  local stamp
  stamp="gen_corpus --size $size --seed $seed sources $(cat "${sources[@]}" "${english[@]}" |
    sha1sum | cut -d' ' -f1)"
  if [ ! -f "$dir/corpus.stamp" ] || [ "$(cat "$dir/corpus.stamp")" != "$stamp" ]; then
    log "$size: generating the corpus"
    rm -rf "$dir/corpus" "$dir/passages.tsv" "$dir/inputs.sha1" "$dir"/*.json
    "$bin/gen_corpus" --size "$size" --seed "$seed" --out "$dir/corpus" "${sources[@]}" \
      --english "${english[@]}" >"$dir/corpus.count"
    echo "$stamp" >"$dir/corpus.stamp"
  fi
  cat /proc/loadavg >"$dir/loadavg" 2>/dev/null || true
  local queries_stamp="--per-class $per_class --seed $seed"
  if wants seogo; then
    log "$size: seogo: indexing"
    rm -f "$dir/seogo-index.json" "$dir/seogo-search.json" "$dir/seogo.meta.json" \
      "$dir"/seogo.search-*.json
    local load
    load=$(loadavg)
    make_passages "$dir" "$dir/seogo-index.json"
    echo "$queries_stamp" >"$dir/queries.stamp"
    log "$size: seogo: searching"
    "$bin/seogo_bench" --phase search --queries "$dir/queries.tsv" --db "$dir/db-seogo" \
      --out "$dir/seogo-search.json" --reps "$reps"
    write_meta seogo "$dir" "$load"
    repeat_index seogo "$dir" "$dir/seogo-index.json" "$bin/seogo_bench" --phase index \
      --corpus "$dir/corpus" "${thread_opt[@]}"
  elif [ ! -s "$dir/passages.tsv" ] || [ ! -f "$dir/inputs.sha1" ] ||
       [ "$(cat "$dir/queries.stamp" 2>/dev/null)" != "$queries_stamp" ]; then
    log "$size: seogo: making the passages (not measured)"
    make_passages "$dir" "$dir/db-seogo.json"
    rm -f "$dir/db-seogo.json"
    echo "$queries_stamp" >"$dir/queries.stamp"
  fi
  drop_index "$dir/db-seogo"
  local e
  for e in "${available[@]}"; do
    [ "$e" = seogo ] || run_peer "$e" "$dir"
  done
  search_rounds "$dir" "${available[@]}"
  [ -n "$keep_indexes" ] || rm -rf "$dir"/db-*
}

for s in "${sizes[@]}"; do run_size "$s"; done

# ---- Report ----------------------------------------------------------------------------------------
python3 "$here/report.py" --out "$out" --results "$results" --plot "$plot"
log "wrote $results and $plot"

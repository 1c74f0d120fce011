#!/usr/bin/env python3
"""report.py - turns the benchmark's JSON (one file per engine and corpus size, written by the
drivers) into bench/RESULTS.md and a PNG plot of indexing time and top-10 latency against
corpus size. Called by bench/run.sh; reads every size directory found under --out.

    report.py --out bench/out --results bench/RESULTS.md --plot bench/latency.png
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

ENGINES = ["seogo", "fts5-porter", "fts5-trigram", "xapian", "groonga"]
COLORS = {"seogo": "#d62728", "fts5-porter": "#1f77b4", "fts5-trigram": "#17becf",
          "xapian": "#2ca02c", "groonga": "#9467bd"}
CLASSES = ["ko_noun", "en_word", "ko_phrase", "en_phrase", "and", "or", "not"]
MB = 1e6


def size_bytes(label):
    m = re.fullmatch(r"(\d+)([KMG])", label)
    return int(m.group(1)) * {"K": 1e3, "M": 1e6, "G": 1e9}[m.group(2)] if m else None


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


INDEX_FIGURES = ("index_seconds", "index_cpu_seconds", "index_steal_pct")


def fold_index_runs(r, directory, engine):
    """With --index-runs, the engine's indexing figures become those of its median run (by
    wall time); r["index_runs"] keeps every run's."""
    if "index_seconds" not in r:
        return
    extra = [load_json(p) for p in sorted(glob.glob(os.path.join(directory, engine + ".index-*.json")))]
    runs = [{k: x[k] for k in INDEX_FIGURES if k in x} for x in [r] + extra if x and "index_seconds" in x]
    r["index_runs"] = runs
    median = sorted(runs, key=lambda x: x["index_seconds"])[(len(runs) - 1) // 2]
    r.update(median)


def round_number(path):
    return int(re.search(r"\.search-(\d+)\.json$", path).group(1))


def fold_search_rounds(r, directory, engine):
    """With --search-rounds, each class's p50 and p99 become the medians of the rounds' (each
    percentile on its own); r["search_rounds"] keeps every round's CPU steal."""
    if "classes" not in r:
        return
    paths = sorted(glob.glob(os.path.join(directory, engine + ".search-*.json")), key=round_number)
    rounds = [r] + [x for x in map(load_json, paths) if x and "classes" in x]
    r["search_rounds"] = [x.get("search_steal_pct") for x in rounds]
    if len(rounds) == 1:
        return
    for name, s in r["classes"].items():
        for key in ("p50_us", "p99_us"):
            values = [x["classes"][name][key] for x in rounds
                      if name in x["classes"] and x["classes"][name]["samples"]]
            if values:
                s[key] = statistics.median(values)


def load_size(directory):
    """Engine name -> merged report for one corpus size (with "meta": when and on what it was
    measured, written by run.sh), plus the ground truth split by query class."""
    runs = {}
    index = load_json(os.path.join(directory, "seogo-index.json"))
    search = load_json(os.path.join(directory, "seogo-search.json"))
    if index and search:
        merged = dict(index)
        merged["classes"] = search["classes"]
        merged["recall"] = search["recall"]
        if "search_steal_pct" in search:
            merged["search_steal_pct"] = search["search_steal_pct"]
        runs["seogo"] = merged
    for engine in ENGINES[1:]:
        data = load_json(os.path.join(directory, engine + ".json"))
        if data:
            runs[engine] = data
    for engine, r in runs.items():
        r["meta"] = load_json(os.path.join(directory, engine + ".meta.json")) or {}
        fold_index_runs(r, directory, engine)
        fold_search_rounds(r, directory, engine)
    truth = load_json(os.path.join(directory, "truth.json")) or {}
    classes = query_classes(os.path.join(directory, "queries.tsv"))
    by_class = {}
    for q, ids in truth.items():
        # a truth file of before English truth holds only ko_noun queries
        by_class.setdefault(classes.get(q, "ko_noun"), {})[q] = ids
    return runs, by_class


def query_classes(path):
    """Query index (as a string, as in the JSON files) -> class, numbered as the drivers do."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            n = 0
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                out[str(n)] = line.split("\t", 1)[0]
                n += 1
    except OSError:
        pass
    return out


def corpus_figures(directory):
    try:
        with open(os.path.join(directory, "corpus.count")) as f:
            docs, total = f.read().split()
        return int(docs), int(total)
    except (OSError, ValueError):
        return None, None


def recall_precision(run, truth):
    """Micro and macro recall and precision over the queries of one class with a ground
    truth (truth: query index -> relevant passage ids)."""
    found_rel = relevant = found = 0
    recalls, precisions, incomplete = [], [], 0
    for q, ids in truth.items():
        rel = set(ids)
        if not rel or q not in run.get("recall", {}):
            continue
        got = set(run["recall"][q])
        hit = len(got & rel)
        found_rel += hit
        relevant += len(rel)
        found += len(got)
        recalls.append(hit / len(rel))
        precisions.append(hit / len(got) if got else 1.0)
        incomplete += hit < len(rel)
    if not recalls:
        return None
    return {
        "queries": len(recalls),
        "recall": found_rel / relevant,
        "precision": found_rel / found if found else 1.0,
        "macro_recall": sum(recalls) / len(recalls),
        "macro_precision": sum(precisions) / len(precisions),
        "incomplete": incomplete,
    }


def machine():
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    cpu = re.search(r"model name\s*:\s*(.*)", read("/proc/cpuinfo"))
    mem = re.search(r"MemTotal:\s*(\d+) kB", read("/proc/meminfo"))
    os_name = re.search(r'PRETTY_NAME="([^"]*)"', read("/etc/os-release"))
    return {
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory": "%.1f GiB" % (int(mem.group(1)) / 2**20) if mem else "unknown",
        "os": os_name.group(1) if os_name else platform.platform(),
        "kernel": platform.release(),
    }


def git_commit(root):
    try:
        return subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt_us(v):
    if v is None:
        return "-"
    return "%.0f" % v if v < 10000 else "%.1f ms" % (v / 1000)


def text_bytes(r):
    """Stored text bytes, or None when the run did not tell them apart (older runs)."""
    return r.get("text_bytes") if "disk_bytes" in r else None


def index_ratio(r):
    return r["index_bytes"] / max(r["input_bytes"], 1)


def indexing_table(runs):
    rows = ["| engine | input MB | documents or passages | index s | MB/s | CPU s | runs: s (CPU stolen %) "
            "| peak RSS MB | index MB (without stored text) | stored text MB | index/input |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for e in ENGINES:
        r = runs.get(e)
        if not r or "index_seconds" not in r:
            continue
        inp = r["input_bytes"] / MB
        secs = max(r["index_seconds"], 1e-9)
        text = text_bytes(r)
        rows.append("| %s | %.1f | %d | %.2f | %.2f | %s | %s | %.0f | %.1f | %s | %.2f%s |" % (
            e, inp, r["items"], r["index_seconds"], inp / secs, fmt_opt(r.get("index_cpu_seconds")),
            index_runs_cell(r), r["peak_rss_kb"] / 1024,
            r["index_bytes"] / MB, "%.1f" % (text / MB) if text is not None else "?",
            index_ratio(r), "" if text is not None else " (with text)"))
    return rows


def fmt_opt(v, fmt="%.1f"):
    return "?" if v is None or v < 0 else fmt % v


def index_runs_cell(r):
    """Every indexing run: seconds and the machine's CPU stolen meanwhile (a run before the
    harness measured steal shows '?')."""
    return ", ".join("%.2f (%s)" % (x["index_seconds"], fmt_opt(x.get("index_steal_pct")))
                     for x in r.get("index_runs", [r]))


def steal_notes(runs):
    """CPU stolen by the hypervisor while each engine's queries were timed (every round's)."""
    cells = ["%s %s %%" % (e, ", ".join(fmt_opt(x) for x in runs[e]["search_rounds"]))
             for e in ENGINES if e in runs and runs[e].get("search_rounds", [None])[0] is not None]
    return ["CPU stolen from the machine by its hypervisor while the queries were timed (each "
            "round's, in order): " + ", ".join(cells) + ".", ""] if cells else []


def rounds_note(runs):
    """How many rounds of timed queries each figure is the median of, when more than one."""
    counts = {e: len(runs[e].get("search_rounds", [])) for e in ENGINES if e in runs}
    if max(counts.values(), default=1) <= 1:
        return []
    return ["Each p50 and p99 is the median of the engine's rounds of timed queries "
            "(`run.sh --search-rounds`): %s. The rounds took turns across the engines measured "
            "together, round 2 of each after round 1 of all." % ", ".join(
                "%s %d" % (e, n) for e, n in counts.items()), ""]


def size_notes(runs):
    """How each engine's stored text was told apart from its index."""
    return ["- %s: %s." % (e, runs[e]["text_how"]) for e in ENGINES
            if e in runs and runs[e].get("text_how")]


def latency_table(runs):
    present = [c for c in CLASSES + ["all"] if any(c in r.get("classes", {}) for r in runs.values())]
    rows = ["| engine | " + " | ".join(present) + " |", "|---|" + "---:|" * len(present)]
    for e in ENGINES:
        r = runs.get(e)
        if not r:
            continue
        cells = []
        for c in present:
            s = r.get("classes", {}).get(c)
            if not s or not s["samples"]:
                cells.append("-")
                continue
            cell = "%s / %s" % (fmt_us(s["p50_us"]), fmt_us(s["p99_us"]))
            if s["errors"]:
                cell += " (%d errors)" % s["errors"]
            cells.append(cell)
        rows.append("| %s | %s |" % (e, " | ".join(cells)))
    return rows


def hits_table(runs):
    present = [c for c in CLASSES if any(c in r.get("classes", {}) for r in runs.values())]
    rows = ["| engine | " + " | ".join(present) + " |", "|---|" + "---:|" * len(present)]
    for e in ENGINES:
        r = runs.get(e)
        if r:
            rows.append("| %s | %s |" % (e, " | ".join(
                "%.1f" % r["classes"][c]["mean_hits"] if c in r.get("classes", {}) else "-"
                for c in present)))
    return rows


def recall_table(runs, truth):
    """truth: the ground truth of one query class."""
    rows = ["| engine | queries | recall | precision | mean recall per query | "
            "mean precision per query | queries missing passages |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for e in ENGINES:
        r = runs.get(e)
        if not r:
            continue
        rp = recall_precision(r, truth)
        if rp is None:
            rows.append("| %s | 0 | - | - | - | - | - |" % e)
            continue
        rows.append("| %s | %d | %.3f | %.3f | %.3f | %.3f | %d |" % (
            e, rp["queries"], rp["recall"], rp["precision"], rp["macro_recall"],
            rp["macro_precision"], rp["incomplete"]))
    return rows


# ---- Targets (issue 6: ratios in the same run) ------------------------------------------------

PEERS = ENGINES[1:]
LATENCY_GOAL = 0.5     # Seogo's p50 and p99 <= 0.5x the best peer's, per class
INDEXING_GOAL = 2.0    # Seogo's MB/s >= 2x fts5-porter's
SIZE_GOAL = 0.40       # index without stored text <= 0.40x the input
KO_PRECISION_GOAL = 0.99
EN_RECALL_GOAL = 0.98


def met(ok):
    return "met" if ok else "**not met**"


def mb_per_s(r):
    return r["input_bytes"] / MB / max(r["index_seconds"], 1e-9)


def best_peer(runs, cls, key):
    """(engine, value) of the peer with the lowest `key` in class cls, or None."""
    best = None
    for e in PEERS:
        s = runs.get(e, {}).get("classes", {}).get(cls)
        if s and s["samples"] and (best is None or s[key] < best[1]):
            best = (e, s[key])
    return best


def peer_note(runs, truth, engine, cls):
    """A peer fast on a class whose answers miss relevant passages: say so."""
    rp = recall_precision(runs[engine], truth.get(cls, {})) if cls in truth else None
    return " (recall %.2f)" % rp["recall"] if rp and rp["recall"] < 0.98 else ""


def latency_targets(runs, truth):
    rows = []
    seogo = runs["seogo"].get("classes", {})
    for c in CLASSES:
        s = seogo.get(c)
        if not s or not s["samples"]:
            continue
        for key, label in (("p50_us", "p50"), ("p99_us", "p99")):
            b = best_peer(runs, c, key)
            if not b:
                continue
            ratio = s[key] / max(b[1], 1e-9)
            rows.append("| %s latency %s | %s | %s %s%s | %.2fx | <= %.1fx | %s |" % (
                c, label, fmt_us(s[key]), b[0], fmt_us(b[1]), peer_note(runs, truth, b[0], c),
                ratio, LATENCY_GOAL,
                met(ratio <= LATENCY_GOAL)))
    return rows


def indexing_targets(runs):
    rows = []
    seogo, porter = runs["seogo"], runs.get("fts5-porter")
    if "index_seconds" not in seogo:
        return rows
    if porter and "index_seconds" in porter:
        ratio = mb_per_s(seogo) / max(mb_per_s(porter), 1e-9)
        rows.append("| indexing MB/s | %.1f | fts5-porter %.1f | %.2fx | >= %.0fx | %s |" % (
            mb_per_s(seogo), mb_per_s(porter), ratio, INDEXING_GOAL, met(ratio >= INDEXING_GOAL)))
    known = text_bytes(seogo) is not None
    rows.append("| index/input%s | %.1f MB / %.1f MB | - | %.2f | <= %.2f | %s |" % (
        " (without stored text)" if known else " (stored text included)",
        seogo["index_bytes"] / MB, seogo["input_bytes"] / MB, index_ratio(seogo), SIZE_GOAL,
        met(index_ratio(seogo) <= SIZE_GOAL)))
    return rows


def recall_targets(runs, truth):
    rows = []
    ko = recall_precision(runs["seogo"], truth.get("ko_noun", {}))
    if ko:
        rows.append("| Korean recall (%d nouns) | %.4f | brute-force substrings | - | 1.00 | %s |" % (
            ko["queries"], ko["recall"], met(ko["recall"] == 1.0)))
        rows.append("| Korean precision | %.4f | brute-force substrings | - | >= %.2f | %s |" % (
            ko["precision"], KO_PRECISION_GOAL, met(ko["precision"] >= KO_PRECISION_GOAL)))
    en = recall_precision(runs["seogo"], truth.get("en_word", {}))
    if en:
        rows.append("| English recall (%d words) | %.4f | whole words, any case | - | >= %.2f | %s |" % (
            en["queries"], en["recall"], EN_RECALL_GOAL, met(en["recall"] >= EN_RECALL_GOAL)))
    return rows


def targets_table(runs, truth):
    if "seogo" not in runs:
        return ["(no Seogo figures for this size)"]
    rows = ["| target | Seogo | reference | ratio | goal | |", "|---|---:|---|---:|---:|---|"]
    rows += indexing_targets(runs) + latency_targets(runs, truth) + recall_targets(runs, truth)
    return rows


def growth_section(data):
    """Seogo's latency growth from 100M to 1G per class: sub-linear when the exponent k in
    latency ~ size^k is below 1."""
    small, large = data.get("100M", {}).get("seogo"), data.get("1G", {}).get("seogo")
    if not small or not large:
        return []
    factor = size_bytes("1G") / size_bytes("100M")
    rows = ["", "## Latency growth from 100M to 1G (Seogo)", "",
            "Exponent k in latency ~ corpus size^k, from the two sizes (corpus x%.0f); "
            "sub-linear when k < 1 for p50 and p99." % factor, "",
            "| class | p50 100M | p50 1G | p50 x | k | p99 100M | p99 1G | p99 x | k | sub-linear |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for c in CLASSES + ["all"]:
        a, b = small.get("classes", {}).get(c), large.get("classes", {}).get(c)
        if not a or not b or not a["samples"] or not b["samples"]:
            continue
        cells, ok = [], True
        for key in ("p50_us", "p99_us"):
            x = b[key] / max(a[key], 1e-9)
            k = math.log(max(x, 1e-9)) / math.log(factor)
            ok = ok and k < 1
            cells.append("%s | %s | %.2f | %.2f" % (fmt_us(a[key]), fmt_us(b[key]), x, k))
        rows.append("| %s | %s | %s |" % (c, " | ".join(cells), met(ok)))
    return rows


# ---- When and on what each engine was measured -------------------------------------------------

def current_inputs(directory):
    try:
        with open(os.path.join(directory, "inputs.sha1")) as f:
            return f.read().split()
    except OSError:
        return None


def stale(meta, inputs):
    """Whether the engine ran on other passages or queries than the current ones."""
    if not inputs or "passages_sha1" not in meta:
        return None
    return [meta.get("passages_sha1"), meta.get("queries_sha1")] != inputs[:2]


def measured_section(runs, directory):
    inputs = current_inputs(directory)
    metas = {e: runs[e]["meta"] for e in ENGINES if e in runs}
    if not any(metas.values()):
        return ["When each engine was measured was not recorded (a run before run.sh kept it).", ""]
    runs_ids = {m.get("run") for m in metas.values()}
    stales = {e: stale(m, inputs) for e, m in metas.items()}
    if len(runs_ids) == 1 and None not in runs_ids and not any(stales.values()):
        m = next(iter(metas.values()))
        commits = ", ".join(sorted({m2.get("commit", "?") for m2 in metas.values()}))
        if len({m2.get("commit") for m2 in metas.values()}) > 1:
            commits = ", ".join("%s %s" % (e, m2.get("commit", "?")) for e, m2 in metas.items())
        return ["All engines measured in one run, %s (commit %s); load average %s when it began."
                % (m["date"], commits, m.get("loadavg", "?")), ""]
    rows = ["Engines measured at different times (`run.sh --engines` re-runs some and keeps "
            "the others' figures):", "",
            "| engine | commit | measured | load average at start | same passages and queries |",
            "|---|---|---|---:|---|"]
    for e, m in metas.items():
        st = stales[e]
        rows.append("| %s | %s | %s | %s | %s |" % (
            e, m.get("commit", "?"), m.get("date", "?"), m.get("loadavg", "?"),
            "?" if st is None else "**no: re-run it**" if st else "yes"))
    return rows + [""]


def plot(sizes, data, path):
    """data: size label -> runs. Draws index seconds and top-10 p50 against corpus MB."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("report.py: gnuplot not found: no plot", file=sys.stderr)
        return False
    series = {}
    for label in sizes:
        for e, r in data[label].items():
            all_q = r.get("classes", {}).get("all")
            series.setdefault(e, []).append((size_bytes(label) / MB, r.get("index_seconds"),
                                             all_q["p50_us"] / 1000 if all_q else None))
    tmp = path + ".d"
    os.makedirs(tmp, exist_ok=True)
    lines_idx, lines_lat = [], []
    for e in ENGINES:
        if e not in series:
            continue
        f = os.path.join(tmp, e + ".dat")
        with open(f, "w") as out:
            for mb, secs, p50 in sorted(series[e]):
                out.write("%g %s %s\n" % (mb, "NaN" if secs is None else "%g" % secs,
                                          "NaN" if p50 is None else "%g" % p50))
        style = "with linespoints lw %d pt 7 lc rgb '%s' title '%s'" % (
            3 if e == "seogo" else 2, COLORS[e], e)
        lines_idx.append("'%s' using 1:2 %s" % (f, style))
        lines_lat.append("'%s' using 1:3 %s" % (f, style))
    script = "\n".join([
        "set terminal pngcairo size 1200,500 font ',10'",
        "set output '%s'" % path,
        "set multiplot layout 1,2 title 'Seogo vs SQLite FTS5, Xapian, Groonga (same passages, same queries)'",
        "set logscale xy", "set grid", "set key top left", "set xlabel 'corpus size (MB)'",
        "set ylabel 'indexing time (s)'", "set title 'Indexing time'",
        "plot " + ", ".join(lines_idx),
        "set ylabel 'top-10 latency, median of all queries (ms)'", "set title 'Query latency (p50)'",
        "plot " + ", ".join(lines_lat),
        "unset multiplot",
    ])
    res = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if res.returncode != 0:
        print("report.py: gnuplot failed: " + res.stderr, file=sys.stderr)
        return False
    return True


def engine_notes(data):
    """One row per engine and configuration; the sizes are named when an engine was measured
    with different versions or configurations (older figures kept by --engines)."""
    seen = {}
    for label, runs in data.items():
        for e, r in runs.items():
            seen.setdefault(e, {}).setdefault((r.get("version", "?"), r.get("config", "")), []).append(label)
    rows = []
    for e in ENGINES:
        for (version, config), labels in seen.get(e, {}).items():
            where = " (%s)" % ", ".join(labels) if len(seen[e]) > 1 else ""
            rows.append("| %s%s | %s | %s |" % (e, where, version, config))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--plot", required=True)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sizes = sorted((d for d in os.listdir(args.out)
                    if size_bytes(d) and os.path.isdir(os.path.join(args.out, d))), key=size_bytes)
    data, truths = {}, {}
    for label in sizes:
        runs, truth = load_size(os.path.join(args.out, label))
        if runs:
            data[label], truths[label] = runs, truth
    sizes = [s for s in sizes if s in data]
    if not sizes:
        sys.exit("report.py: no results under " + args.out)
    m = machine()
    plotted = plot(sizes, data, args.plot)
    out = ["# Benchmark results", "",
           "Generated by `bench/run.sh` on %s at commit %s. How the figures are made: "
           "[README.md](README.md)." % (datetime.date.today().isoformat(), git_commit(root)), "",
           "## Machine", "",
           "| | |", "|---|---|",
           "| CPU | %s |" % m["cpu"], "| cores | %s |" % m["cores"],
           "| memory | %s |" % m["memory"], "| OS | %s (Linux %s) |" % (m["os"], m["kernel"]), "",
           "## Engines", "", "| engine | version | configuration |", "|---|---|---|"]
    out += engine_notes(data)
    for label in sizes:
        runs, truth = data[label], truths[label]
        directory = os.path.join(args.out, label)
        docs, total = corpus_figures(directory)
        out += ["", "## Corpus %s" % label, ""]
        if docs:
            out += ["%d generated documents, %.1f MB; %s passages (exported from Seogo's index)."
                    % (docs, total / MB, _passage_count(args.out, label)) + _load_note(args.out, label),
                    ""]
        out += measured_section(runs, directory)
        out += ["### Targets", "",
                "Issue 6's targets, as ratios to the peers in this report: latency against the "
                "best peer of each class and percentile (named), indexing against FTS5 porter.", ""]
        out += targets_table(runs, truth)
        out += ["", "### Indexing", "",
                "Seogo indexes the generated documents (its input: the document bytes); the "
                "others index the passages Seogo made (their input: the passage texts). Index MB "
                "is the index on disk without the text each engine stores for snippets or "
                "document data, which is in its own column; index/input is the first over the "
                "input. Index s is the median of the runs listed (`run.sh --index-runs`); CPU s is "
                "that run's CPU time (all threads); each run shows the share of the machine's CPU "
                "its hypervisor stole meanwhile for other guests (time the run waited without "
                "running).", ""]
        out += indexing_table(runs)
        notes = size_notes(runs)
        if notes:
            out += ["", "Stored text counted as:", ""] + notes
        out += ["", "### Top-10 latency (µs, p50 / p99)", ""]
        out += latency_table(runs)
        out += [""] + rounds_note(runs) + steal_notes(runs)
        out += ["Mean hits returned per top-10 query:", ""]
        out += hits_table(runs)
        out += ["", "### Korean substring recall and precision", "",
                "Korean noun queries (2-4 syllables, each also occurring inside longer words); "
                "the ground truth of a noun is every passage containing it as a substring of the "
                "repaired, normalized passage text. Full result sets, not top 10.", ""]
        out += recall_table(runs, truth.get("ko_noun", {}))
        if truth.get("en_word"):
            out += ["", "### English recall", "",
                    "English word queries; the ground truth of a word is every passage containing "
                    "it as a whole word (a maximal run of ASCII letters) in any case. Engines that "
                    "stem (Seogo, FTS5 porter, Xapian) also find the word's other forms and "
                    "FTS5 trigram finds it inside longer words, so their precision against this "
                    "truth is below 1 by design; recall is the figure. Full result sets.", ""]
            out += recall_table(runs, truth["en_word"])
    out += growth_section(data)
    out += ["", "## Plot", "",
            "![indexing time and query latency against corpus size](%s)" % os.path.basename(args.plot)
            if plotted else "(gnuplot was not available: no plot)", ""]
    with open(args.results, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def _load_note(out, label):
    """The machine's load when the size's run began (for runs before the per-engine figures
    of measured_section): other work on a shared machine shows in the p99 latencies."""
    if os.path.exists(os.path.join(out, label, "inputs.sha1")):
        return ""
    try:
        with open(os.path.join(out, label, "loadavg")) as f:
            return " Load average when the run began: %s." % f.read().split()[0]
    except (OSError, IndexError):
        return ""


def _passage_count(out, label):
    try:
        with open(os.path.join(out, label, "passages.tsv"), "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return "?"


if __name__ == "__main__":
    main()

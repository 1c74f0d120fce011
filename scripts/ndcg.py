#!/usr/bin/env python3
"""ndcg.py - score Seogo's ranking against the relevance-judged queries with nDCG@10.

Runs `seogo-search -d INDEX --json --queries FILE -n 10` over the queries of
tests/relevance/queries.tsv (or reads output saved from such a run with --results) and
compares each query's hits with the judged places of tests/relevance/qrels.tsv.

Gain of a hit (see tests/relevance/README.md for why):
  - it matches a judged place when the file base names agree and the line ranges overlap;
    of the places it overlaps that are not yet credited, it takes the one with the highest
    grade (then the largest overlap); a place is credited once, so duplicates gain 0;
  - its gain is 2^grade - 1 (grade 2 -> 3, grade 1 -> 1), scaled down when the hit is
    longer than needed: with L the hit's non-blank lines and A = max(SPAN_LIMIT, the place's
    non-blank lines), the gain is multiplied by min(1, A / L). Blank lines are not counted,
    so PDF text with a blank line between physical lines is not penalised for its layout.
nDCG@k = DCG@k / IDCG@k with DCG = sum gain_i / log2(i + 1); IDCG takes the judged places'
full gains, best first. A query whose search failed scores 0.

Python 3 standard library only. Exit status: 0, or 1 when --min is given and the mean is
below it, or 2 on a usage or input error.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SPAN_LIMIT = 12


class InputError(Exception):
    pass


def read_tsv(path, min_fields):
    """Rows of a tab-separated file, skipping blank lines, '#' comments and a header row."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if fields[0] == "id":
                continue
            if len(fields) < min_fields:
                raise InputError("%s:%d: expected %d tab-separated fields" % (path, number, min_fields))
            rows.append((number, fields))
    return rows


def read_queries(path):
    queries = []
    for number, fields in read_tsv(path, 2):
        note = fields[2] if len(fields) > 2 else ""
        queries.append({"id": fields[0], "query": fields[1], "note": note})
    ids = [q["id"] for q in queries]
    if len(set(ids)) != len(ids):
        raise InputError("%s: duplicate query ids" % path)
    return queries


def read_qrels(path, query_ids):
    qrels = {}
    for number, fields in read_tsv(path, 5):
        qid, name, start, end, grade = fields[:5]
        if qid not in query_ids:
            raise InputError("%s:%d: unknown query id %s" % (path, number, qid))
        try:
            place = {"file": os.path.basename(name), "start": int(start), "end": int(end),
                     "grade": int(grade)}
        except ValueError:
            raise InputError("%s:%d: line numbers and grade must be integers" % (path, number))
        if place["start"] < 1 or place["end"] < place["start"] or place["grade"] not in (1, 2):
            raise InputError("%s:%d: bad line range or grade" % (path, number))
        qrels.setdefault(qid, []).append(place)
    return qrels


class LineCounter:
    """Counts non-blank lines in a line range of a corpus file (raw count if unreadable)."""

    def __init__(self, corpus_dir):
        self.corpus_dir = corpus_dir
        self.prefix = {}

    def _prefix(self, name):
        if name not in self.prefix:
            sums = None
            path = os.path.join(self.corpus_dir, name) if self.corpus_dir else None
            if path and os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    sums = [0]
                    for line in f:
                        sums.append(sums[-1] + (1 if line.strip() else 0))
            self.prefix[name] = sums
        return self.prefix[name]

    def count(self, name, start, end):
        sums = self._prefix(name)
        if sums is None or start < 1:
            return max(1, end - start + 1)
        start, end = min(start, len(sums) - 1), min(end, len(sums) - 1)
        return max(1, sums[end] - sums[start - 1])


def gain_of(grade):
    return float((1 << grade) - 1)


def judge_hits(hits, places, lines, k):
    """Gains of the first k hits (a list), and the judged place each one matched (or None)."""
    credited = set()
    gains, matched = [], []
    for hit in hits[:k]:
        name = os.path.basename(hit["file"])
        best, best_key = None, None
        for index, place in enumerate(places):
            if index in credited or place["file"] != name:
                continue
            overlap = min(hit["line_end"], place["end"]) - max(hit["line_start"], place["start"]) + 1
            if overlap <= 0:
                continue
            key = (place["grade"], overlap)
            if best_key is None or key > best_key:
                best, best_key = index, key
        if best is None:
            gains.append(0.0)
            matched.append(None)
            continue
        credited.add(best)
        place = places[best]
        hit_lines = lines.count(name, hit["line_start"], hit["line_end"])
        allowed = max(SPAN_LIMIT, lines.count(name, place["start"], place["end"]))
        gains.append(gain_of(place["grade"]) * min(1.0, allowed / hit_lines))
        matched.append(place)
    return gains, matched


def dcg(gains):
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(hits, places, lines, k):
    ideal = dcg(sorted((gain_of(p["grade"]) for p in places), reverse=True)[:k])
    gains, matched = judge_hits(hits, places, lines, k)
    return (dcg(gains) / ideal if ideal > 0 else 0.0), gains, matched


def parse_results(stream, nqueries):
    """Hits and errors per 0-based query index from seogo-search's JSON Lines output."""
    records = []
    for number, line in enumerate(stream, 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise InputError("results line %d is not JSON: %.80s" % (number, line))
        if not isinstance(obj, dict) or "query_line" not in obj:
            raise InputError("results line %d has no query_line" % number)
        records.append(obj)
    # query_line is the line of the query in the queries file; accept 0- or 1-based numbering.
    base = 0 if any(int(r["query_line"]) == 0 for r in records) else 1
    hits = [[] for _ in range(nqueries)]
    errors = [None] * nqueries
    seen = [False] * nqueries
    for obj in records:
        index = int(obj["query_line"]) - base
        if not 0 <= index < nqueries:
            raise InputError("query_line %s is outside the %d queries" % (obj["query_line"], nqueries))
        seen[index] = True
        if "file" in obj:
            hits[index].append({"file": str(obj["file"]), "line_start": int(obj["line_start"]),
                                "line_end": int(obj["line_end"]), "score": obj.get("score")})
        elif "error" in obj:
            errors[index] = str(obj["error"])
    for index in range(nqueries):
        if not seen[index] and errors[index] is None:
            errors[index] = "no output for this query"
    return hits, errors


def print_ideal(queries, qrels, k):
    """seogo-search --json output that returns each query's judged places, best first."""
    for line, q in enumerate(queries, 1):
        places = sorted(qrels.get(q["id"], []), key=lambda p: -p["grade"])[:k]
        for rank, p in enumerate(places):
            print(json.dumps({"query_line": line, "file": "corpus/" + p["file"], "line_start": p["start"],
                              "line_end": p["end"], "score": float(k - rank)}))
        print(json.dumps({"query_line": line, "hits": len(places), "micros": 0}))


def find_search(explicit):
    if explicit:
        return explicit
    build = os.environ.get("SEOGO_BUILD_DIR")
    if build and os.access(os.path.join(build, "seogo-search"), os.X_OK):
        return os.path.join(build, "seogo-search")
    found = shutil.which("seogo-search")
    if not found:
        raise InputError("seogo-search not found: give --search or set SEOGO_BUILD_DIR")
    return found


def run_search(search, index, queries, k, save):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        for q in queries:
            f.write(q["query"] + "\n")
        query_file = f.name
    try:
        proc = subprocess.run([search, "-d", index, "--json", "--queries", query_file, "-n", str(k)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        os.unlink(query_file)
    out = proc.stdout.decode("utf-8", "replace")
    if save:
        with open(save, "w", encoding="utf-8") as f:
            f.write(out)
    if proc.returncode != 0 and not out.strip():
        raise InputError("seogo-search failed (exit %d): %s" % (proc.returncode,
                         proc.stderr.decode("utf-8", "replace").strip()[:500]))
    return out.splitlines()


def width(text):
    """Terminal columns of text (Hangul and other wide characters take two)."""
    return sum(2 if ord(c) >= 0x1100 and not 0xD7B0 <= ord(c) < 0xF900 else 1 for c in text)


def clip(text, columns):
    out = ""
    for c in text:
        if width(out + c) > columns:
            return out[:-1] + "…"
        out += c
    return out + " " * (columns - width(out))


def report(queries, qrels, hits, errors, lines, k, verbose):
    scores = []
    print("%-5s %7s %5s %6s  %s" % ("id", "nDCG@%d" % k, "hits", "judged", "query"))
    for index, q in enumerate(queries):
        places = qrels.get(q["id"], [])
        score, gains, matched = ndcg(hits[index], places, lines, k)
        if errors[index]:
            score = 0.0
        scores.append(score)
        query = clip(q["query"], 44)
        extra = ("  ERROR: " + errors[index]) if errors[index] else ""
        print("%-5s %7.3f %5d %6d  %s%s" % (q["id"], score, len(hits[index]), len(places), query, extra))
        if verbose:
            for hit, g, place in zip(hits[index], gains, matched):
                where = "%s:%d-%d" % (os.path.basename(hit["file"])[:3], hit["line_start"], hit["line_end"])
                judged = ("-> %d-%d grade %d" % (place["start"], place["end"], place["grade"])
                          if place else "")
                print("        %-16s gain %.2f %s" % (where, g, judged))
    mean = sum(scores) / len(scores) if scores else 0.0
    order = sorted(range(len(queries)), key=lambda i: scores[i])[:5]
    print("worst: " + ", ".join("%s %.3f" % (queries[i]["id"], scores[i]) for i in order))
    print("mean nDCG@%d over %d queries: %.4f" % (k, len(queries), mean))
    return mean


def main():
    ap = argparse.ArgumentParser(description="nDCG@k of Seogo's ranking over judged queries.")
    ap.add_argument("-d", "--index", help="index directory to search")
    ap.add_argument("--search", help="seogo-search program (default: $SEOGO_BUILD_DIR/seogo-search, PATH)")
    ap.add_argument("--results", help="read seogo-search --json output from this file ('-': stdin)")
    ap.add_argument("--save-results", help="also write the search output here")
    ap.add_argument("--queries", default=os.path.join(REPO, "tests", "relevance", "queries.tsv"))
    ap.add_argument("--qrels", default=os.path.join(REPO, "tests", "relevance", "qrels.tsv"))
    ap.add_argument("--corpus", default=os.path.join(REPO, "corpus"),
                    help="directory of the judged files, to count non-blank lines of hits")
    ap.add_argument("-k", type=int, default=10, help="rank cut-off (default 10)")
    ap.add_argument("--min", type=float, help="exit 1 when the mean nDCG is below this")
    ap.add_argument("-v", "--verbose", action="store_true", help="show each hit and its gain")
    ap.add_argument("--list-queries", action="store_true",
                    help="print the queries, one a line, as given to seogo-search, and exit")
    ap.add_argument("--ideal-results", action="store_true",
                    help="print the best possible seogo-search output for the judgments (to test "
                         "this script: scoring it must give 1.0) and exit")
    args = ap.parse_args()
    try:
        queries = read_queries(args.queries)
        if args.list_queries:
            for q in queries:
                print(q["query"])
            return 0
        qrels = read_qrels(args.qrels, {q["id"] for q in queries})
        if args.ideal_results:
            print_ideal(queries, qrels, args.k)
            return 0
        if args.results:
            stream = sys.stdin if args.results == "-" else open(args.results, encoding="utf-8")
            with stream:
                output = stream.read().splitlines()
        else:
            if not args.index:
                raise InputError("give -d INDEX (to run seogo-search) or --results FILE")
            output = run_search(find_search(args.search), args.index, queries, args.k, args.save_results)
        hits, errors = parse_results(output, len(queries))
    except (InputError, OSError) as e:
        print("ndcg.py: %s" % e, file=sys.stderr)
        return 2
    mean = report(queries, qrels, hits, errors, LineCounter(args.corpus), args.k, args.verbose)
    if args.min is not None and mean < args.min:
        print("FAIL: mean nDCG@%d %.4f is below the floor %.4f" % (args.k, mean, args.min))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

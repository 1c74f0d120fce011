#!/usr/bin/env python3
"""crash_check.py - helper of test_crash.sh and test_concurrency.sh: makes the document trees
and checks that an index holds a consistent committed state.

  crash_check.py tree DIR VERSION          write the tree of state VERSION (1 or 2) into DIR
  crash_check.py queries FILE              write the query file (content queries, then one
                                           marker query per file and version)
  crash_check.py reference BIN INDEX QFILE  print the index's hits per query as JSON (the
                                           REF files of `check`)
  crash_check.py answers BIN INDEX QFILE   print the index's answers, normalized (no passage
                                           ids, sorted), for exact comparison
  crash_check.py check BIN IBIN INDEX QFILE REF1 REF2
                                           check INDEX against the answers of uninterrupted
                                           builds of state 1 (REF1) and state 2 (REF2)

  crash_check.py watch BIN INDEX REF1 REF2 STOPFILE [long]
                                           search INDEX over and over (a new seogo-search per
                                           pass, or with `long` one process reading queries
                                           from a pipe) until STOPFILE exists, checking each
                                           answer on its own (test_concurrency.sh)

A file fNNN.txt holds paragraphs of the corpus and the marker word mkNNNvV of its version V,
so the marker query tells which version of the file a document is. `check` passes when every
document listed by --stats is one whole version of its file: its hits for every content query
are exactly those an uninterrupted build gives that version (paths and lines; scores depend on
the rest of the index), its marker finds it and nothing else, no hit lies in a document the
index does not list, --stats counts the listed documents, and seogo-index --check finds every
table in agreement with the others. Problems are printed; the exit status is 1 when there is
any.
"""
import glob
import json
import os
import random
import re
import subprocess
import sys

FILES_V1 = 240          # f000..f239 in state 1
FILES_V2 = 280          # state 2 adds f240..f279
PARAGRAPHS = int(os.environ.get('SEOGO_TREE_PARAGRAPHS', '100'))  # per file (about 13 KB)
CONTENT_QUERIES = ['GENIAC', '반도체 수출통제', '"기술 주권"', '데이터센터 OR 전력망',
                   'NEAR(엔비디아 GPU, 20)', '데이터센* -미국', 'sovereign*', '주권 NOT 기술']


def corpus_paragraphs():
    src = os.environ.get('SEOGO_SOURCE_DIR', os.path.join(os.path.dirname(__file__), '..'))
    paras = []
    for path in sorted(glob.glob(os.path.join(src, 'corpus', '*.txt'))):
        text = open(path, encoding='utf-8').read()
        for p in re.split(r'\n\s*\n', text):
            p = ' '.join(p.split())
            if len(p) > 40:
                paras.append(p)
    return paras


def file_version(i, state):
    """The version of file i in a state; 0 when the file is absent."""
    if state == 1:
        return 1 if i < FILES_V1 else 0
    if i % 7 == 3:
        return 0                       # deleted in state 2
    if i >= FILES_V1 or i % 3 == 0:
        return 2                       # added or replaced in state 2
    return 1


def write_tree(directory, state):
    paras = corpus_paragraphs()
    os.makedirs(directory, exist_ok=True)
    for i in range(FILES_V2):
        path = os.path.join(directory, 'f%03d.txt' % i)
        v = file_version(i, state)
        if not v:
            if os.path.exists(path):
                os.remove(path)
            continue
        rnd = random.Random(i * 10 + v)
        body = [paras[rnd.randrange(len(paras))] for _ in range(PARAGRAPHS)]
        body.insert(rnd.randrange(len(body)), '표지 mk%03dv%d 문서' % (i, v))
        data = '\n\n'.join(body) + '\n'
        old = open(path, encoding='utf-8').read() if os.path.exists(path) else None
        if old != data:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(data)


def marker_queries():
    return ['mk%03dv%d' % (i, v) for i in range(FILES_V2) for v in (1, 2)]


def run_queries(search_bin, index, qfile):
    """{query line: [hit, ...]} and the stderr text."""
    p = subprocess.run([search_bin, '-d', index, '--json', '-n', '100000', '--queries', qfile],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    hits = {}
    for line in p.stdout.decode('utf-8', 'replace').splitlines():
        h = json.loads(line)
        if 'file' in h:  # not the per-query summary line
            hits.setdefault(h['query_line'], []).append(h)
    errors = p.stderr.decode('utf-8', 'replace').strip()
    if p.returncode not in (0, 1):
        errors += '\n(seogo-search exit status %d)' % p.returncode
    return hits, errors


def answers(search_bin, index, qfile):
    hits, errors = run_queries(search_bin, index, qfile)
    out = []
    for q in sorted(hits):
        for h in hits[q]:
            h.pop('passage_id', None)
            h['score'] = round(h['score'], 4)
            out.append(json.dumps(h, ensure_ascii=False, sort_keys=True))
    out.sort()
    if errors:
        out.append('ERRORS: ' + errors)
    return out


def per_doc(hits):
    """{(query line, path): sorted [(line_start, line_end), ...]}"""
    d = {}
    for q, hs in hits.items():
        for h in hs:
            d.setdefault((q, h['file']), []).append((h['line_start'], h['line_end']))
    for k in d:
        d[k].sort()
    return d


def listed_documents(index_bin, index):
    p = subprocess.run([index_bin, '-d', index, '--stats', '--list'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.decode('utf-8', 'replace')
    if p.returncode != 0:
        return None, None, p.stderr.decode('utf-8', 'replace').strip()
    m = re.search(r'^documents\s+(\d+)', out, re.M)
    docs = re.findall(r'^  (\S+)  \(', out, re.M)
    return int(m.group(1)) if m else -1, docs, ''


def full_check(index_bin, index):
    """seogo-index --check's complaint, or '' when the index is sound."""
    p = subprocess.run([index_bin, '-d', index, '--check'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 0:
        return ''
    return ('--check (exit status %d): ' % p.returncode +
            (p.stdout + p.stderr).decode('utf-8', 'replace').strip()[:600])


def check(search_bin, index_bin, index, qfile, ref1, ref2):
    problems = []
    count, docs, err = listed_documents(index_bin, index)
    if docs is None:
        print('--stats --list failed: ' + err)
        return 1
    damage = full_check(index_bin, index)
    if damage:
        problems.append(damage)
    if count != len(docs):
        problems.append('--stats counts %d documents but lists %d' % (count, len(docs)))
    hits, errors = run_queries(search_bin, index, qfile)
    if errors:
        problems.append('seogo-search: ' + errors[:300])
    refs = {1: per_doc(json.load(open(ref1))), 2: per_doc(json.load(open(ref2)))}
    refs = {v: {(int(q), p): l for (q, p), l in r.items()} for v, r in refs.items()}
    mine = per_doc(hits)
    nq = len(CONTENT_QUERIES)
    markers = marker_queries()
    listed = set(docs)
    for (q, path) in mine:
        if path not in listed:
            problems.append('query %d finds %s, which --stats does not list' % (q, path))
    for path in docs:
        m = re.search(r'f(\d{3})\.txt$', path)
        if not m:
            problems.append('unexpected document ' + path)
            continue
        i = int(m.group(1))
        versions = [v for v in (1, 2) if (nq + 1 + markers.index('mk%03dv%d' % (i, v)), path) in mine]
        if len(versions) != 1:
            problems.append('%s: markers of versions %s' % (path, versions or 'none'))
            continue
        v = versions[0]
        ref = refs[v]
        for q in range(1, nq + 1):
            want, got = ref.get((q, path), []), mine.get((q, path), [])
            if want != got:
                problems.append('%s (version %d): %r finds lines %s, an uninterrupted build %s'
                                % (path, v, CONTENT_QUERIES[q - 1], got[:4], want[:4]))
    for (q, path) in mine:
        if q > nq:
            marker = markers[q - nq - 1]
            if 'f%s.txt' % marker[2:5] != os.path.basename(path):
                problems.append('marker %s finds %s' % (marker, path))
    for p in problems[:20]:
        print('    ' + p)
    print('documents %d' % count)
    return 1 if problems else 0


def answer_problems(hits, summaries, refs):
    """Problems of one pass: each query's answer, taken in one snapshot, must show every
    document as one whole version (its hits those of version 1 or of version 2), and count
    what it returns."""
    problems = []
    for q in range(1, len(CONTENT_QUERIES) + 1):
        got = per_doc({q: hits.get(q, [])})
        for (_, path), lines in got.items():
            if not any(r.get((q, path)) == lines for r in refs):
                problems.append('%r: %s has lines %s, which no version of it has'
                                % (CONTENT_QUERIES[q - 1], path, lines[:4]))
        s = summaries.get(q)
        if s is None:
            problems.append('%r: no answer' % CONTENT_QUERIES[q - 1])
        elif s['hits'] != len(hits.get(q, [])) or s['total'] != s['hits']:
            problems.append('%r: %d hits printed, summary says %d of %d'
                            % (CONTENT_QUERIES[q - 1], len(hits.get(q, [])), s['hits'], s['total']))
    return problems


def parse_output(lines):
    """Splits JSON output into passes: [(hits by query line, summaries by query line)]."""
    passes, hits, summaries = [], {}, {}
    for line in lines:
        h = json.loads(line)
        q = (h['query_line'] - 1) % len(CONTENT_QUERIES) + 1  # a long run numbers on
        if 'file' in h:
            hits.setdefault(q, []).append(h)
            continue
        summaries[q] = h
        if q == len(CONTENT_QUERIES):
            passes.append((hits, summaries))
            hits, summaries = {}, {}
    return passes


def watch(search_bin, index, ref1, ref2, stopfile, long=False):
    import tempfile
    import time
    refs = []
    for ref in (ref1, ref2):
        r = per_doc(json.load(open(ref)))
        refs.append({(int(q), p): l for (q, p), l in r.items()})
    qtext = '\n'.join(CONTENT_QUERIES) + '\n'
    problems, npasses, stderr_text = [], 0, ''
    cmd = [search_bin, '-d', index, '--json', '-n', '100000', '--queries', '-']
    if long:  # one process, one open index handle, queries arriving over time
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err)
            while not os.path.exists(stopfile):
                p.stdin.write(qtext.encode())
                p.stdin.flush()
                time.sleep(0.1)
            p.stdin.close()
            status = p.wait()
            out.seek(0)
            err.seek(0)
            passes = parse_output(out.read().decode().splitlines())
            stderr_text = err.read().decode().strip()
            if status not in (0, 1):
                problems.append('seogo-search exit status %d' % status)
    else:
        passes = []
        while not os.path.exists(stopfile):
            p = subprocess.run(cmd, input=qtext.encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            passes += parse_output(p.stdout.decode().splitlines())
            stderr_text += p.stderr.decode().strip()
            if p.returncode not in (0, 1):
                problems.append('seogo-search exit status %d' % p.returncode)
            time.sleep(0.1)  # leave the writer some of the machine
    if stderr_text:
        problems.append('seogo-search said: ' + stderr_text[:300])
    for hits, summaries in passes:
        problems += answer_problems(hits, summaries, refs)
    npasses = len(passes)
    for pr in problems[:10]:
        print('    ' + pr)
    print('%d passes of %d queries, %d problems' % (npasses, len(CONTENT_QUERIES), len(problems)))
    return 1 if problems or npasses == 0 else 0


def main(argv):
    cmd = argv[1]
    if cmd == 'tree':
        write_tree(argv[2], int(argv[3]))
    elif cmd == 'queries':
        with open(argv[2], 'w', encoding='utf-8') as f:
            f.write('\n'.join(CONTENT_QUERIES + marker_queries()) + '\n')
    elif cmd == 'answers':
        print('\n'.join(answers(argv[2], argv[3], argv[4])))
    elif cmd == 'reference':
        hits, errors = run_queries(argv[2], argv[3], argv[4])
        if errors:
            sys.exit('reference: ' + errors)
        json.dump({str(q): h for q, h in hits.items()}, sys.stdout, ensure_ascii=False)
    elif cmd == 'check':
        return check(*argv[2:8])
    elif cmd == 'watch':
        return watch(*argv[2:7], long=len(argv) > 7 and argv[7] == 'long')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

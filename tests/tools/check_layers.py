#!/usr/bin/python3
"""The include rule of README.md ("What is where"), checked over the #include "..." lines.

Rooms and their ranks, lowest first; a file may include its own room and rooms of a lower rank:
  0 base/      what every room uses: errors, logging, clocks, base64, rings, the limits table
  1 store/     the store, the configuration language, secrets
  2 ifs/       the IOS File System (it reads the running configuration from the store)
  3 services/  what both doors share: AAA, traces, statistics and events
  3 model/     what both doors share: the YANG model (libyang) and its translation to config
  4 daemon/    the SSH door: transport, SCP, SFTP, CLI      } doors: neither includes the other
  4 api/       the HTTP door: RESTCONF, streams, metrics     }
  5 daemon/main.c  the program: wires every room together
tests/ and bench/ may include any room. Also refused: an include that names no file, a quoted
include without its room ("log.h" for "base/log.h"), and a cycle between modules (a module is
a .c and its .h are one node, and so is the module's private x_int.h). Usage: check_layers.py [ROOT]; exit 1 on a violation,
one line per violation: FILE:LINE: reason. check_layers.py --self-test plants an upward include
(store/ including api/) in a copy of the rooms and fails unless the check catches it."""
import os
import re
import sys

RANK = {'base': 0, 'store': 1, 'ifs': 2, 'services': 3, 'model': 3, 'daemon': 4, 'api': 4}
TOP = {'daemon/main.c': 5}
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def node_of(path):
    base = path[:-2]
    return base[:-4] if base.endswith('_int') else base


def room_of(path):
    return path.split('/', 1)[0]


def rank_of(path):
    return TOP.get(path, RANK.get(room_of(path)))


def main(root):
    os.chdir(root)
    files = []
    for room in RANK:
        for name in sorted(os.listdir(room)):
            if name.endswith(('.c', '.h')):
                files.append(room + '/' + name)
    bad = []
    edges = {}
    for f in files:
        node = node_of(f)
        with open(f, encoding='utf-8') as fh:
            for n, line in enumerate(fh, 1):
                m = INC.match(line)
                if not m:
                    continue
                tgt = m.group(1)
                where = '%s:%d:' % (f, n)
                if '/' not in tgt:
                    bad.append('%s "%s" does not name its room (write "ROOM/%s")' % (where, tgt, tgt))
                    continue
                if not os.path.isfile(tgt):
                    bad.append('%s "%s" is not a file of the tree' % (where, tgt))
                    continue
                tr, fr = room_of(tgt), room_of(f)
                if tr not in RANK:
                    bad.append('%s "%s" is outside the product\'s rooms' % (where, tgt))
                    continue
                if tr != fr and RANK[tr] >= rank_of(f):
                    kind = 'upward' if RANK[tr] > rank_of(f) else 'sideways'
                    bad.append('%s %s include: %s/ (rank %d) may not include %s/ (rank %d)'
                               % (where, kind, fr, rank_of(f), tr, RANK[tr]))
                if node_of(tgt) != node:
                    edges.setdefault(node, {}).setdefault(node_of(tgt), where)
    # cycles between modules (Tarjan's strongly connected components)
    index, low, stack, on, comps = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(set(edges) | {node_of(f) for f in files}):
        if v not in index:
            visit(v)
    for comp in comps:
        inner = [edges[a][b] for a in comp for b in edges.get(a, {}) if b in comp]
        bad.append('%s include cycle between modules %s' % (sorted(inner)[0], ' '.join(comp)))
    for b in bad:
        print(b)
    if bad:
        print('check_layers: %d violation(s) of the include rule (README.md, "What is where")' % len(bad))
        return 1
    print('check_layers: %d files, include rule holds' % len(files))
    return 0


def self_test():
    import io
    import contextlib
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for room in RANK:
            shutil.copytree(room, os.path.join(tmp, room))
        victim = os.path.join(tmp, 'store', 'cfg.c')
        with open(victim, encoding='utf-8') as fh:
            text = fh.read()
        with open(victim, 'w', encoding='utf-8') as fh:
            fh.write('#include "api/api.h"\n' + text)
        out = io.StringIO()
        cwd = os.getcwd()
        with contextlib.redirect_stdout(out):
            rc = main(tmp)
        os.chdir(cwd)
    if rc != 1 or 'store/cfg.c:1: upward include' not in out.getvalue():
        print('check_layers --self-test: a planted upward include was not caught:\n' + out.getvalue())
        return 1
    print('check_layers --self-test: a planted upward include (store/cfg.c:1 -> api/) is caught')
    return 0


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        sys.exit(self_test())
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))

#!/usr/bin/python3
"""The reference in docs/ stays true to the code where a script can tell.

1. docs/limits.md has one row per constant of base/lim.h, with the header's value, and no row for a
   constant the header does not define.
2. Comments cite documents in the repository: no source, test, bench, web or YANG file names
   spec/..., notes/... or ../shared/..., and every docs/NAME.md a file names exists.
Usage: check_docs.py [ROOT]; exit 1 with one line per violation (FILE:LINE: reason).
check_docs.py --self-test proves that a changed limit and an outside citation are caught."""
import os
import re
import shutil
import sys
import tempfile

DEFINE = re.compile(r'^#define\s+(LIM_[A-Z0-9_]+)\s+(.+?)\s*(?:/\*.*)?$')
ROW = re.compile(r'^\|\s*`(LIM_[A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|')
UNITS = {'KiB': 1 << 10, 'MiB': 1 << 20, 'GiB': 1 << 30}
OUTSIDE = re.compile(r'(?<![\w/.])(spec/|notes/|\.\./shared/)')
CITED = re.compile(r'\bdocs/([A-Za-z0-9_.-]+\.md)\b')
SCAN_EXT = ('.c', '.h', '.py', '.js', '.yang', '.sh', '.cfg')
SCAN_DIRS = ('base', 'store', 'ifs', 'services', 'daemon', 'api', 'web', 'tests', 'bench',
             'examples')


def header_limits(path):
    """{name: value} of base/lim.h; values are C constant expressions of earlier limits."""
    vals, errs = {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = DEFINE.match(line)
            if not m:
                continue
            expr = re.sub(r'(\d+)u\b', r'\1', m.group(2))
            try:
                vals[m.group(1)] = int(eval(expr, {'__builtins__': {}}, dict(vals)))
            except Exception as e:  # a form this script does not know: say so, do not guess
                errs.append('%s:%d: cannot evaluate %s (%s)' % (path, n, m.group(2), e))
    return vals, errs


def doc_value(text):
    """'256 KiB + 1024' -> 263168; None if the cell is not a sum of numbers with units."""
    total = 0
    for term in text.split('+'):
        m = re.fullmatch(r'\s*(\d+)\s*(KiB|MiB|GiB)?\s*', term)
        if not m:
            return None
        total += int(m.group(1)) * UNITS.get(m.group(2), 1)
    return total


def check_limits(root):
    lim = os.path.join(root, 'base', 'lim.h')
    doc = os.path.join(root, 'docs', 'limits.md')
    vals, out = header_limits(lim)
    seen = {}
    with open(doc) as f:
        for n, line in enumerate(f, 1):
            m = ROW.match(line)
            if not m:
                continue
            name, cell = m.group(1), m.group(2)
            where = '%s:%d' % (doc, n)
            if name in seen:
                out.append('%s: %s listed twice (first on line %d)' % (where, name, seen[name]))
            seen[name] = n
            if name not in vals:
                out.append('%s: %s is not defined in base/lim.h' % (where, name))
            elif doc_value(cell) != vals[name]:
                out.append('%s: %s is %s here but %d in base/lim.h' % (where, name, cell,
                                                                      vals[name]))
    for name in vals:
        if name not in seen:
            out.append('%s: %s of base/lim.h has no row' % (doc, name))
    return out


def check_citations(root):
    out = []
    for d in SCAN_DIRS:
        for dirpath, dirnames, files in os.walk(os.path.join(root, d)):
            dirnames[:] = [x for x in dirnames if x not in ('node_modules', 'corpus')]
            for fn in files:
                if not fn.endswith(SCAN_EXT):
                    continue
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, root)
                if rel == os.path.join('tests', 'tools', 'check_docs.py'):
                    continue
                with open(path, errors='replace') as f:
                    for n, line in enumerate(f, 1):
                        if OUTSIDE.search(line):
                            out.append('%s:%d: cites a document outside the repository; cite '
                                       'docs/... instead' % (rel, n))
                        for m in CITED.finditer(line):
                            if not os.path.exists(os.path.join(root, 'docs', m.group(1))):
                                out.append('%s:%d: docs/%s does not exist' % (rel, n,
                                                                             m.group(1)))
    return out


def check(root):
    return check_limits(root) + check_citations(root)


def self_test(root):
    tmp = tempfile.mkdtemp(prefix='check_docs.')
    try:
        for d in ('base', 'docs', 'store'):
            shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
        if check(tmp):
            print('check_docs self-test: the copy fails before anything is planted', file=sys.stderr)
            return 1
        lim = os.path.join(tmp, 'base', 'lim.h')
        with open(lim) as f:
            text = f.read()
        with open(lim, 'w') as f:
            f.write(text.replace('#define LIM_SSH_IDLE_SECS         600',
                                 '#define LIM_SSH_IDLE_SECS         601'))
        with open(os.path.join(tmp, 'store', 'planted.c'), 'w') as f:
            f.write('/* planted: see spec/config.md */\n')
        got = check(tmp)
        want = ['LIM_SSH_IDLE_SECS is 600 here but 601', 'store/planted.c:1: cites a document']
        missing = [w for w in want if not any(w in g for g in got)]
        if missing:
            print('check_docs self-test: not caught: %s' % '; '.join(missing), file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(tmp)


def main(argv):
    if len(argv) > 1 and argv[1] == '--self-test':
        root = argv[2] if len(argv) > 2 else '.'
        return self_test(root)
    root = argv[1] if len(argv) > 1 else '.'
    out = check(root)
    for line in out:
        print(line)
    return 1 if out else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""The style rules make test checks (README.md, "Style"): C sources and headers of the product, the
tests and the benchmarks keep within 100 columns, use spaces (no tabs) and end no line with
blanks. Usage: check_style.py [FILE...] (default: every tracked *.c and *.h); exit 1 on a
violation, one line each: FILE:LINE: reason. check_style.py --self-test plants a long line and
fails unless it is caught."""
import os
import subprocess
import sys
import tempfile

LIMIT = 100


def check(paths):
    bad = []
    for path in paths:
        with open(path, encoding='utf-8', errors='replace') as fh:
            for n, line in enumerate(fh, 1):
                line = line.rstrip('\n')
                if len(line) > LIMIT:
                    bad.append('%s:%d: %d columns (limit %d)' % (path, n, len(line), LIMIT))
                if '\t' in line:
                    bad.append('%s:%d: a tab (indent with spaces)' % (path, n))
                if line != line.rstrip():
                    bad.append('%s:%d: trailing blanks' % (path, n))
    return bad


def tracked():
    out = subprocess.check_output(['git', 'ls-files', '*.c', '*.h'], text=True)
    return [p for p in out.split() if os.path.isfile(p)]


def main(argv):
    if argv == ['--self-test']:
        with tempfile.NamedTemporaryFile('w', suffix='.c', delete=False) as fh:
            fh.write('int x;\n/* ' + 'x' * LIMIT + ' */\n')
        try:
            bad = check([fh.name])
        finally:
            os.unlink(fh.name)
        if len(bad) != 1 or ':2: ' not in bad[0]:
            print('check_style --self-test: a planted long line was not caught: %r' % bad)
            return 1
        print('check_style --self-test: a planted long line is caught')
        return 0
    paths = argv or tracked()
    bad = check(paths)
    for b in bad:
        print(b)
    if bad:
        print('check_style: %d violation(s) (README.md, "Style")' % len(bad))
        return 1
    print('check_style: %d files within %d columns' % (len(paths), LIMIT))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

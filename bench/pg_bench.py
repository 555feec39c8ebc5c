#!/usr/bin/python3
"""Commit latency and logins/s of the two store backends in one run (docs/postgresql.md).

    /usr/bin/python3 bench/pg_bench.py [--commits 200] [--login-seconds 8] [--threads 4] [--rounds 3]

Needs root (PostgreSQL runs as the postgres user through runuser). Starts a private PostgreSQL 15
(fsync on, as in production) and, one after the other, scpd on sqlite (--data-dir) and scpd on
PostgreSQL (--store), each with examples/local-auth.cfg, and measures on each:
- commit latency: N sequential RESTCONF PATCHes of the hostname with If-Match over one keep-alive
  connection (each is one store_commit: the conditional meta write, the rows, the audit row; on
  PostgreSQL also the NOTIFY); median and 90th percentile in ms, end to end (HTTP included);
- logins/s: SSH password logins (paramiko: connect, key exchange, auth, close) from T threads for
  S seconds. Logins read the in-memory snapshot, never the database (only with `login block-for`
  configured does a source's quiet period come from the database, at most once a second), so both
  backends should match; the figure is bound by key exchange and password hashing (scrypt).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import paramiko
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pg_util  # noqa: E402

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
YJ = "application/yang-data+json"


def start_scpd(bin_, workdir, name, extra):
    data = os.path.join(workdir, name)
    cmd = [bin_, "--data-dir", data, "--startup-config", os.path.join(ROOT, "examples",
           "local-auth.cfg"), "--ssh-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
           "--log-level", "warn"] + extra
    errf = open(os.path.join(workdir, name + ".log"), "ab")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf)
    ssh = http = None
    while ssh is None or http is None:
        line = p.stdout.readline().decode()
        if not line:
            raise RuntimeError("scpd did not start; see %s.log" % name)
        m = re.match(r"(ssh|http) listening on \S+:(\d+)", line)
        if m and m.group(1) == "ssh":
            ssh = int(m.group(2))
        elif m:
            http = int(m.group(2))
    return p, ssh, http


def commit_latency(http, n):
    s = requests.Session()
    s.auth = ("tiger", "lab")
    base = "http://127.0.0.1:%d" % http
    etag = s.get(base + NATIVE + "/hostname?with-defaults=report-all").headers["ETag"]
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        r = s.patch(base + NATIVE, headers={"Content-Type": YJ, "If-Match": etag},
                    json={"Cisco-IOS-XE-native:native": {"hostname": "bench%d" % i}})
        lat.append((time.perf_counter() - t0) * 1000)
        if r.status_code not in (200, 204):
            raise RuntimeError("PATCH %d: %s %s" % (i, r.status_code, r.text))
        etag = r.headers["ETag"]
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.9) - 1]


def logins_per_s(ssh, seconds, threads):
    count = [0]
    fails = [0]
    lock = threading.Lock()
    end = time.time() + seconds

    def worker():
        while time.time() < end:
            c = paramiko.SSHClient()
            c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            try:
                c.connect("127.0.0.1", port=ssh, username="tiger", password="lab",
                          allow_agent=False, look_for_keys=False, timeout=30)
                with lock:
                    count[0] += 1
            except Exception:
                with lock:
                    fails[0] += 1
            finally:
                c.close()

    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return count[0] / (time.time() - t0), fails[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "scpd"))
    ap.add_argument("--commits", type=int, default=200)
    ap.add_argument("--login-seconds", type=float, default=8)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds; each measures both backends, in turn first (A B, B A, ...)")
    ap.add_argument("--pg-fsync-off", action="store_true",
                    help="PostgreSQL with fsync=off (shows what the disk flush costs)")
    a = ap.parse_args()
    why = pg_util.available()
    if why:
        sys.exit("pg_bench: " + why)
    work = tempfile.mkdtemp(prefix="scpd-pgbench-")
    pg = pg_util.Postgres(fsync=not a.pg_fsync_off)
    got = {"sqlite": [], "postgresql": []}
    try:
        backends = [("sqlite", []), ("postgresql", ["--store", pg.create_db("bench")])]
        for k in range(a.rounds):
            for name, extra in (backends if k % 2 == 0 else backends[::-1]):
                p, ssh, http = start_scpd(a.bin, work, name, extra)
                try:
                    med, p90 = commit_latency(http, a.commits)
                    lps, fails = logins_per_s(ssh, a.login_seconds, a.threads)
                finally:
                    p.terminate()
                    p.wait(30)
                got[name].append((med, p90, lps, fails))
                print("pg_bench: round %d %-10s commit median %.2f ms, p90 %.2f ms, %.1f logins/s"
                      % (k + 1, name, med, p90, lps), flush=True)
    finally:
        pg.close()
        shutil.rmtree(work, ignore_errors=True)
    print("medians of %d rounds" % a.rounds)
    print("%-11s %14s %12s %10s" % ("backend", "commit median", "commit p90", "logins/s"))
    for name, runs in got.items():
        fails = sum(r[3] for r in runs)
        print("%-11s %11.2f ms %9.2f ms %10.1f%s" % (
            name, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            statistics.median(r[2] for r in runs), "  (%d failed)" % fails if fails else ""))
    print("(%d sequential If-Match PATCHes over HTTP keep-alive; SSH password logins from %d "
          "threads for %.0f s; the backends alternate which goes first in a round)"
          % (a.commits, a.threads, a.login_seconds))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Throughput of an scp -O upload with `debug ip scp` on, off, and against a baseline build with
the observability hooks compiled out (trace_on() constant false, stats_xfer_progress() empty).
Not part of `make test` (1 GiB per round); `make bench-trace` builds the baseline
(build/noobs/scpd, compiled with -DSCPD_BENCH_NO_OBS) and runs:

    /usr/bin/python3 bench/trace_bench.py --baseline build/noobs/scpd --size-mib 1024 --rounds 5

Data directories and the source file live in /dev/shm; variants alternate within each round so
machine load drifts hit them alike; the figure is the median of the rounds, whole scp command
(connect, authenticate, copy) timed. "on+sub" also has a subscriber reading scp-debug and
transfers over SSE.
"""
import argparse
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
from conftest import LOCAL_AUTH, Daemon  # noqa: E402
from obs_util import SSE, Api, make_file, remote, scp  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(HERE),
                                                     "build", "scpd"))
    ap.add_argument("--baseline", help="scpd built with the hooks compiled out")
    a = ap.parse_args()
    root = "/dev/shm/scpd-obs-bench"
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    size = a.size_mib << 20
    src = make_file(root, "src.bin", size)
    variants = {}
    try:
        if a.baseline:
            variants["baseline"] = start(a.baseline, os.path.join(root, "base"))
        variants["off"] = start(a.binary, os.path.join(root, "off"))
        variants["on"] = start(a.binary, os.path.join(root, "on"))
        variants["on+sub"] = start(a.binary, os.path.join(root, "onsub"))
        Api(variants["on"]).debug(True)
        Api(variants["on+sub"]).debug(True)
        subs = [SSE(variants["on+sub"], "scp-debug"), SSE(variants["on+sub"], "transfers")]
        results = {k: [] for k in variants}
        cpu = {k: [] for k in variants}
        for r in range(a.rounds):
            for name, d in variants.items():
                c0 = cpu_seconds(d.proc.pid)
                t0 = time.monotonic()
                p = scp(d, [src, remote("bootflash:up.bin")],
                        extra=["-o", "Ciphers=aes128-gcm@openssh.com"])
                dt = time.monotonic() - t0
                assert p.returncode == 0, (name, p.stderr)
                results[name].append(size / dt / 1e6)
                cpu[name].append((cpu_seconds(d.proc.pid) - c0) / (size / (1 << 30)))
                print("round %d %-8s %7.1f MB/s  server CPU %.2f s/GiB" % (
                    r + 1, name, results[name][-1], cpu[name][-1]), flush=True)
        base = statistics.median(results.get("baseline") or results["off"])
        base_cpu = statistics.median(cpu.get("baseline") or cpu["off"])
        print("\nmedians, ratio to %s:" % ("baseline" if a.baseline else "off"))
        for name, v in results.items():
            m, c = statistics.median(v), statistics.median(cpu[name])
            print("  %-8s %7.1f MB/s  x%.3f   server CPU %.2f s/GiB  x%.3f" % (
                name, m, m / base, c, c / base_cpu))
        # Progress cadence on the transfers stream during the 1 GiB uploads of "on+sub".
        from datetime import datetime
        by_id = {}
        for _, n in subs[1].snapshot():
            e = n["scpd:transfer-event"]
            t = datetime.strptime(n["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
            by_id.setdefault(e["id"], []).append(t)
        gaps = [max(b - a for a, b in zip(ts, ts[1:])) for ts in by_id.values() if len(ts) > 1]
        print("transfers stream: %d transfers, %s events each, largest gap between events %.3f s"
              % (len(by_id), sorted(len(v) for v in by_id.values()), max(gaps or [0])))
        lines = len(Api(variants["on"]).traces()["trace"])
        print("trace events recorded with debug on: %d" % lines)
        for s in subs:
            s.close()
    finally:
        for d in variants.values():
            if d:
                d.stop()
        shutil.rmtree(root, ignore_errors=True)


def cpu_seconds(pid):
    """utime + stime of the daemon (all its threads), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(binary, where):
    import conftest
    conftest.SCPD_BIN = binary
    os.makedirs(where, exist_ok=True)
    return Daemon(os.path.join(where, "data"), config=LOCAL_AUTH)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Run the libFuzzer targets for a time (FUZZ_SECONDS) or to a number of executions (FUZZ_RUNS),
then print a closing table per target: executions, exec/s, seconds, crashes, whether the
execution goal was reached, corpus size, peak RSS, result.

Each target runs on a scratch corpus build/fuzz/corpus-NAME seeded from tests/fuzz/corpus/NAME;
a crash leaves its input as build/fuzz/NAME-crash-* (libFuzzer's artifact) and the log as
build/fuzz/NAME.log, and makes the run fail. FUZZ_JOBS targets run at once (default 1). Each
fuzzer is capped at --rss-mb (-rss_limit_mb and -malloc_limit_mb), so JOBS x RSS_MB is the most
the run can take and the kernel's OOM killer is not the one that stops a target.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_target(path, seconds, runs, rss_mb, results):
    name = os.path.basename(path)
    scratch = os.path.join(ROOT, "build", "fuzz", "corpus-" + name)
    seeds = os.path.join(ROOT, "tests", "fuzz", "corpus", name)
    os.makedirs(scratch, exist_ok=True)
    os.makedirs(seeds, exist_ok=True)
    log = os.path.join(ROOT, "build", "fuzz", name + ".log")
    cmd = [path, "-rss_limit_mb=%d" % rss_mb, "-malloc_limit_mb=%d" % rss_mb,
           "-print_final_stats=1",
           "-artifact_prefix=" + os.path.join(ROOT, "build", "fuzz", name + "-"),
           "-max_total_time=%d" % seconds, "-timeout=60"]
    if runs:
        cmd.append("-runs=%d" % runs)
    cmd += [scratch, seeds]
    # glibc malloc (the builds without ASan) otherwise gives memory back with brk after most
    # inputs and takes it again with page faults: a fifth of fuzz_cfg's time was that
    env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.trim_threshold=268435456:"
               "glibc.malloc.mmap_threshold=33554432")
    t0 = time.monotonic()
    with open(log, "wb") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env)
    elapsed = time.monotonic() - t0
    text = open(log, errors="replace").read()
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    execs = int(m.group(1)) if m else 0
    if not m:   # killed (the OOM killer, a signal): the last progress line says how far it got
        last = re.findall(r"^#(\d+)\s", text, re.M)
        execs = int(last[-1]) if last else 0
    m = re.search(r"stat::peak_rss_mb:\s*(\d+)", text)
    rss = int(m.group(1)) if m else 0
    corp = re.findall(r"corp: (\d+)/(\S+)", text)
    crashes = len(re.findall(r"^Test unit written to", text, re.M))
    results[name] = dict(rc=rc, crashes=crashes, execs=execs, secs=elapsed, rss=rss,
                         corpus=("%s (%s)" % corp[-1]) if corp else "?", log=log)
    print("== %s: exit %d, %d executions in %.0f s" % (name, rc, execs, elapsed), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=0, help="per target; 0: no time bound")
    ap.add_argument("--runs", type=int, default=0, help="executions per target; 0: no bound")
    ap.add_argument("--jobs", type=int, default=1, help="targets at once")
    ap.add_argument("--rss-mb", type=int, default=1024, help="memory cap of each fuzzer")
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    if not a.seconds and not a.runs:
        a.seconds = 60
    print("fuzz: %d targets, %s, %s, %d at once" % (
        len(a.targets), "%d s each" % a.seconds if a.seconds else "no time bound",
        "%d executions each" % a.runs if a.runs else "no execution bound", a.jobs), flush=True)
    results = {}
    pending = list(a.targets)
    running = []
    while pending or running:
        running = [t for t in running if t.is_alive()]
        while pending and len(running) < a.jobs:
            t = threading.Thread(target=run_target, args=(pending.pop(0), a.seconds, a.runs,
                                                          a.rss_mb, results))
            t.start()
            running.append(t)
        time.sleep(0.2)
    failed = []
    goal = "%dM" % (a.runs // 1000000) if a.runs >= 1000000 else str(a.runs)
    print("\n%-20s %12s %9s %8s %7s %8s %22s %7s  %s" % (
        "target", "executions", "exec/s", "seconds", "crashes", "reached" + goal if a.runs else
        "reached", "corpus (files/bytes)", "rss MB", "result"))
    total = 0
    for path in a.targets:
        name = os.path.basename(path)
        r = results[name]
        total += r["execs"]
        ok = r["rc"] == 0 and r["execs"] > 0
        if not ok:
            failed.append(name)
        reached = "-" if not a.runs else ("yes" if r["execs"] >= a.runs else "no")
        print("%-20s %12d %9.0f %8.0f %7d %8s %22s %7d  %s" % (
            name, r["execs"], r["execs"] / max(r["secs"], 1e-3), r["secs"], r["crashes"], reached,
            r["corpus"], r["rss"], "ok" if ok else "FAILED exit %d, see %s" % (r["rc"], r["log"])))
    print("%-20s %14d" % ("total", total))
    for name in failed:
        print("\n---- %s (last lines of %s)" % (name, results[name]["log"]))
        print("".join(open(results[name]["log"], errors="replace").readlines()[-40:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

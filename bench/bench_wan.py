#!/usr/bin/python3
"""bench_wan: scpd against a private OpenSSH sshd across a simulated WAN, same client, same run.

Both servers run as in bench.py (same users, keys, pinned handshake and cipher); the client reaches
each through bench/wan_relay (one relay per server and RTT), which delays each direction by RTT/2
and paces it to a bandwidth cap. The relay models SSH-level windows and round trips, not TCP over
a WAN (both of its legs are loopback TCP): see bench/README.md.

Per RTT (default 25, 50, 100 ms at 1 Gbit/s): first the relay is checked (the RTT a 1-byte echo
measures through it, and what a raw TCP transfer, a sender with an unlimited window, gets through
it, each way); then for each client mode (`scp -O`, `scp` = SFTP with OpenSSH's defaults, `sftp -R
256 -B 262144`) and direction, scpd then OpenSSH (A B, seconds apart). Two figures per copy: MB/s of
the whole command (connect + authenticate + copy, as in bench.py), and the transfer's MB/s: bytes /
(wall time - setup), where setup is the median wall time of a 1 KiB copy through the same relay.
The setup (about ten round trips) is the same for both servers and weighs more on the faster one:
at 50 ms it is ~0.5 s, a tenth of scpd's 512 MiB upload. The transfer figure is what compares with
the relay's raw TCP figure (measured after its connect).
"""
import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import bench as B

MiB = B.MiB
MODES = [("scp -O", "scp-O"), ("scp (SFTP)", "scp"), ("sftp -R 256 -B 262144", "sftp")]
CIPHER = B.CIPHERS[0]
RELAY_CHECK_MIB = 128


def log(msg):
    print("bench-wan: " + msg, file=sys.stderr, flush=True)


# ---- the relay ------------------------------------------------------------------------------------
class Relay:
    def __init__(self, binary, target_port, rtt_ms, rate_mbit):
        self.proc = subprocess.Popen([binary, "--connect", "127.0.0.1:%d" % target_port,
                                      "--rtt-ms", str(rtt_ms), "--rate-mbit", str(rate_mbit)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"PORT (\d+)", line)
        if not m:
            raise RuntimeError("wan_relay did not start: %r" % line)
        self.port = int(m.group(1))

    def close(self):
        self.proc.kill()
        self.proc.wait()


class Sink:
    """The far end of the relay check: 'e' echoes bytes, 'u' reads N bytes then answers one byte,
    'd' sends N bytes."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    @staticmethod
    def handle(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with c:
            mode = c.recv(1)
            if mode == b"e":
                while True:
                    b = c.recv(1)
                    if not b:
                        return
                    c.sendall(b)
            n = int(c.recv(15, socket.MSG_WAITALL).decode())
            if mode == b"u":
                buf, got = bytearray(1 << 20), 0
                while got < n:
                    k = c.recv_into(buf)
                    if not k:
                        return
                    got += k
                c.sendall(b"k")
            elif mode == b"d":
                block, sent = bytes(1 << 20), 0
                while sent < n:
                    sent += c.send(block[:min(len(block), n - sent)])

    def close(self):
        self.ls.close()


def relay_check(binary, rtt_ms, rate_mbit, size):
    """(median RTT ms, upload MB/s, download MB/s) of raw TCP through a relay to a local sink."""
    sink = Sink()
    relay = Relay(binary, sink.port, rtt_ms, rate_mbit)
    try:
        s = socket.create_connection(("127.0.0.1", relay.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"e")
        rtts = []
        for _ in range(10):
            t = time.monotonic()
            s.sendall(b"x")
            s.recv(1)
            rtts.append((time.monotonic() - t) * 1000)
        s.close()
        # upload: connect, send, until the sink's one-byte answer (a whole transfer, like a copy)
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", relay.port))
        s.sendall(b"u" + b"%-15d" % size)
        block, sent = bytes(1 << 20), 0
        while sent < size:
            sent += s.send(block[:min(len(block), size - sent)])
        s.recv(1)
        up = size / (time.monotonic() - t0) / 1e6
        s.close()
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", relay.port))
        s.sendall(b"d" + b"%-15d" % size)
        buf, got = bytearray(1 << 20), 0
        while got < size:
            k = s.recv_into(buf)
            if not k:
                break
            got += k
        down = got / (time.monotonic() - t0) / 1e6
        s.close()
        return statistics.median(rtts), up, down
    finally:
        relay.close()
        sink.close()


# ---- copies -----------------------------------------------------------------------------------------
def client_cmd(server, mode, port, direction, local, remote_name, batch):
    opts = server.ssh_opts(CIPHER)
    remote = "%s@127.0.0.1:%s" % (server.user, server.rpath(remote_name))
    if mode == "scp-O" or mode == "scp":
        cmd = ["scp"] + (["-O"] if mode == "scp-O" else []) + ["-q", "-P", str(port)] + opts
        return cmd + ([local, remote] if direction == "up" else [remote, local])
    with open(batch, "w") as f:
        f.write(("put %s %s\n" % (local, server.rpath(remote_name))) if direction == "up" else
                ("get %s %s\n" % (server.rpath(remote_name), local)))
    # OpenSSH 9.2's sftp cannot send a 262144-byte WRITE (with its header the message passes its
    # own 256 KiB limit: "Outbound message too long", whatever the server), so uploads use the
    # largest buffer it can send, 261120 (= what its own sftp-server advertises)
    buflen = "262144" if direction == "down" else "261120"
    return (["sftp", "-q", "-R", "256", "-B", buflen, "-b", batch, "-P", str(port)] + opts +
            ["%s@127.0.0.1" % server.user])


def copy(server, mode, port, direction, size, work):
    src = server.client.source(size)
    batch = os.path.join(work, "batch-%s" % server.name)
    if direction == "up":
        target = os.path.join(server.files, "up.bin")
        B.rm(target)
        cmd = client_cmd(server, mode, port, "up", src, "up.bin", batch)
    else:
        name = "down-%d.bin" % size
        target = os.path.join(server.files, name)
        if not os.path.exists(target):
            shutil.copy(src, target)
            B.give(server, target)
        dst = os.path.join(server.client.dir, "wan-down.bin")
        B.rm(dst)
        cmd = client_cmd(server, mode, port, "down", dst, name, batch)
    server.settle()
    wall, ccpu, fail, err = B.timed([cmd], server.env())
    server.settle()
    B.check(server, "%s %s" % (mode, direction), fail, err)
    ok = not fail and (B.same(src, target, size) if direction == "up" else
                       B.same(src, os.path.join(server.client.dir, "wan-down.bin"), size))
    if direction == "up":
        B.rm(target)
    return wall if ok else None


SETUP_BYTES = 1024
SETUP_RUNS = 3


def setup_s(server, mode, port, direction, work):
    """Median wall time of a 1 KiB copy, same server, client mode and relay: what a copy costs
    besides its bytes (TCP connect, key exchange, authentication, channel and protocol round
    trips, teardown); about ten round trips through the relay."""
    walls = [copy(server, mode, port, direction, SETUP_BYTES, work) for _ in range(SETUP_RUNS)]
    walls = [w for w in walls if w is not None]
    return statistics.median(walls) if walls else None


def estimate_s(rtts, up_mib, down_mib, rate_mbit, modes):
    """A pessimistic guess of the run time: OpenSSH at 0.7 x (2 MiB per RTT), both servers'
    downloads alike (the client's window), scpd's uploads at 0.7 x the cap, 15 s per relay check,
    the setup copies at about 12 round trips each."""
    t = 0.0
    for r in rtts:
        win_rate = min(0.7 * 2 * MiB / (r / 1000.0), 0.9 * rate_mbit * 1e6 / 8)
        cap = 0.7 * rate_mbit * 1e6 / 8
        setup = 2 * 2 * SETUP_RUNS * 12 * r / 1000.0   # 2 directions x 2 servers, ~12 RTTs each
        t += 15 + len(modes) * (up_mib * MiB / win_rate + up_mib * MiB / cap +
                                2 * down_mib * MiB / win_rate + 4 + setup)
    return t


def fmt(v):
    return "%.1f" % v if v is not None else "fail"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--relay", default=os.path.join(B.ROOT, "build", "bench", "wan_relay"))
    ap.add_argument("--rtts", default="25,50,100", help="round-trip times, ms")
    ap.add_argument("--rate-mbit", type=float, default=1000)
    ap.add_argument("--size-mib", type=int, default=512, help="upload size")
    ap.add_argument("--down-size-mib", type=int, default=0,
                    help="download size (default: the upload size, less when the budget needs)")
    ap.add_argument("--modes", default=",".join(m[1] for m in MODES))
    ap.add_argument("--budget", type=int, default=560, help="seconds the run should stay under")
    ap.add_argument("--servers", default="scpd,openssh")
    ap.add_argument("--out", default=os.path.join(B.HERE, "results"))
    cfg = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-wan: needs root (it starts a private sshd and creates a user)")
    B.BENCH_USER = "scpdwan"   # not bench.py's user: both benchmarks may run at once
    rtts = [float(x) for x in cfg.rtts.split(",") if x]
    modes = [m for m in MODES if m[1] in cfg.modes.split(",")]
    names = [n for n in cfg.servers.split(",") if n]
    up_mib = cfg.size_mib
    down_mib = cfg.down_size_mib or up_mib
    notes = []
    if not cfg.down_size_mib:
        while down_mib > 32 and estimate_s(rtts, up_mib, down_mib, cfg.rate_mbit, modes) > cfg.budget:
            down_mib //= 2
        while up_mib > 32 and estimate_s(rtts, up_mib, down_mib, cfg.rate_mbit, modes) > cfg.budget:
            up_mib //= 2
        if (up_mib, down_mib) != (cfg.size_mib, cfg.size_mib):
            notes.append("sizes cut to fit the %d s budget at OpenSSH's WAN rates: uploads %d MiB, "
                         "downloads %d MiB (asked: %d MiB)" % (cfg.budget, up_mib, down_mib,
                                                               cfg.size_mib))
    log("uploads %d MiB, downloads %d MiB, RTTs %s ms, cap %g Mbit/s; estimate %.0f s" % (
        up_mib, down_mib, cfg.rtts, cfg.rate_mbit,
        estimate_s(rtts, up_mib, down_mib, cfg.rate_mbit, modes)))

    t_start = time.monotonic()
    work = tempfile.mkdtemp(prefix="scpd-wan-", dir="/dev/shm")
    os.chmod(work, 0o755)
    B.SCPD_EXTRA_ARGS = ["--log-level", "debug"]   # the window trace ("ssh window:" lines)
    servers, relays, results, checks = {}, [], [], []
    try:
        client = B.Client(work)
        for n in names:
            servers[n] = {"scpd": B.Scpd, "openssh": B.OpenSSH}[n](work, client)
        for s in servers.values():
            s.start()
            B.pick_auth(s)
            B.smoke(s)
            log("%s on port %d, user %s, %s authentication" % (s.name, s.port, s.user, s.auth))
        client.source(up_mib * MiB)
        client.source(down_mib * MiB)
        for rtt in rtts:
            r, up, down = relay_check(cfg.relay, rtt, cfg.rate_mbit, RELAY_CHECK_MIB * MiB)
            cap = cfg.rate_mbit * 1e6 / 8 / 1e6
            ok = abs(r - rtt) <= max(1.0, 0.05 * rtt) and up >= 0.9 * cap and down >= 0.9 * cap
            checks.append({"rtt_ms": rtt, "measured_rtt_ms": r, "raw_up_MBps": up,
                           "raw_down_MBps": down, "cap_MBps": cap, "ok": ok})
            log("relay %g ms: measured RTT %.1f ms, raw TCP %d MiB up %.1f MB/s, down %.1f MB/s "
                "(cap %.1f MB/s)%s" % (rtt, r, RELAY_CHECK_MIB, up, down, cap,
                                       "" if ok else "  CHECK FAILED"))
            rel = {n: Relay(cfg.relay, servers[n].port, rtt, cfg.rate_mbit) for n in names}
            relays.extend(rel.values())
            for label, mode in modes:
                for direction, mib in (("up", up_mib), ("down", down_mib)):
                    row = {"rtt_ms": rtt, "mode": label, "direction": direction, "mib": mib}
                    for n in names:
                        setup = setup_s(servers[n], mode, rel[n].port, direction, work)
                        wall = copy(servers[n], mode, rel[n].port, direction, mib * MiB, work)
                        row[n] = mib * MiB / wall / 1e6 if wall else None
                        row[n + "_setup_s"] = setup
                        row[n + "_xfer"] = (mib * MiB / (wall - setup) / 1e6
                                            if wall and setup is not None and wall > setup
                                            else None)
                        log("%g ms %-22s %-4s %-8s %6s MB/s %5.1f s; setup %s s, transfer %s MB/s"
                            % (rtt, label, direction, n, fmt(row[n]), wall or 0,
                               "%.2f" % setup if setup is not None else "fail",
                               fmt(row[n + "_xfer"])))
                    results.append(row)
            for x in rel.values():
                x.close()
        elapsed = time.monotonic() - t_start
        print_table(results, checks, names)
        for n in notes:
            print("note: " + n)
        print("MB/s = bytes / wall time of the whole command (connect, authenticate, copy); cipher "
              "%s; uploads into a new file; OpenSSH serves user %s (privilege-separated)" % (
                  CIPHER, B.BENCH_USER))
        if any(m[1] == "sftp" for m in modes):
            print("sftp -R 256 -B 262144 uploads run with -B 261120: OpenSSH 9.2's sftp fails to "
                  "send 262144-byte writes to any server (its 256 KiB message limit)")
        print("downloads are bounded by the client's own channel window (OpenSSH's ssh: 2 MiB), "
              "whatever the server")
        load = os.getloadavg()
        print("elapsed %.0f s; load average at the end %.1f %.1f %.1f on %d CPUs (shared machine: "
              "compare the ratios of the same run)" % ((elapsed,) + load + (os.cpu_count(),)))
        trace = window_trace(servers.get("scpd"))
        os.makedirs(cfg.out, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        doc = {"when": stamp, "elapsed_s": elapsed, "relay_checks": checks, "rows": results,
               "notes": notes, "cipher": CIPHER, "rate_mbit": cfg.rate_mbit,
               "up_mib": up_mib, "down_mib": down_mib,
               "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                           "loadavg_end": load},
               "window_trace": trace}
        path = os.path.join(cfg.out, "wan-%s.json" % stamp)
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        shutil.copy(path, os.path.join(cfg.out, "wan-latest.json"))
        print("wrote %s" % os.path.relpath(path, B.ROOT))
    finally:
        for x in relays:
            if x.proc.poll() is None:
                x.close()
        for s in servers.values():
            s.close()
            try:
                os.makedirs(cfg.out, exist_ok=True)
                shutil.copy(s.errlog.name, os.path.join(cfg.out, "wan-%s.log" % s.name))
            except OSError:
                pass
        if "openssh" in servers:
            B.remove_user()
        shutil.rmtree(work, ignore_errors=True)


def window_trace(scpd):
    """scpd's "ssh window:" debug lines, grouped by session."""
    if scpd is None:
        return {}
    out = {}
    with open(scpd.errlog.name, errors="replace") as f:
        for line in f:
            m = re.search(r"sid=(\d+).*ssh window: (.*)", line)
            if m:
                out.setdefault(m.group(1), []).append(m.group(2))
    return out


def print_table(rows, checks, names):
    print("relay check (raw TCP through the relay, an unlimited window; %d MiB each way):" %
          RELAY_CHECK_MIB)
    print("  %-8s %-14s %-12s %-12s %s" % ("RTT", "measured RTT", "up MB/s", "down MB/s", "cap"))
    for c in checks:
        print("  %-8s %-14s %-12s %-12s %.1f MB/s %s" % (
            "%g ms" % c["rtt_ms"], "%.1f ms" % c["measured_rtt_ms"], "%.1f" % c["raw_up_MBps"],
            "%.1f" % c["raw_down_MBps"], c["cap_MBps"], "ok" if c["ok"] else "FAILED"))
    print()
    raw = {c["rtt_ms"]: c for c in checks}
    for title, key in (("whole command", ""), ("transfer (whole command - setup)", "_xfer")):
        print(title + ":")
        hdr = "%-7s %-22s %-5s %6s" % ("RTT", "client", "dir", "MiB")
        for n in names:
            hdr += " %10s" % (n + " MB/s")
        if len(names) == 2:
            hdr += " %8s %12s" % ("ratio", "of relay")
        print(hdr)
        for r in rows:
            line = "%-7s %-22s %-5s %6d" % ("%g ms" % r["rtt_ms"], r["mode"], r["direction"],
                                            r["mib"])
            for n in names:
                line += " %10s" % fmt(r[n + key])
            if len(names) == 2:
                a, b = r[names[0] + key], r[names[1] + key]
                line += " %8s" % ("%.2fx" % (a / b) if a and b else "-")
                c = raw.get(r["rtt_ms"])
                ref = c and (c["raw_up_MBps"] if r["direction"] == "up" else c["raw_down_MBps"])
                line += " %12s" % ("%.0f%%" % (100 * a / ref) if a and ref else "-")
            print(line)
        print()
    print("setup = median wall time of %d copies of %d bytes, same server, client and relay "
          "(connect, key exchange, authentication, channel: about ten round trips)" % (
              SETUP_RUNS, SETUP_BYTES))


if __name__ == "__main__":
    main()

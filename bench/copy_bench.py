#!/usr/bin/python3
"""copy_bench: throughput of the device-initiated copy (`copy scp://... bootflash:x` and back, and
sftp://) against OpenSSH's scp run on the host between the same two endpoints (a private sshd on
127.0.0.1 and a directory on the same file system as scpd's bootflash), in the same run.
Needs root (the private sshd logs root in with scpd's host key). Usage:
  bench/copy_bench.py [--size-mib 256] [--rounds 3]
Prints MB/s of each and the ratio scpd/scp (best of the rounds)."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import clients                      # noqa: E402
import conftest                     # noqa: E402
from test_copy_remote import Sshd, CONFIG   # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="copy-bench-")
    d = conftest.Daemon(os.path.join(work, "data"), config=CONFIG)
    key = os.path.join(d.data_dir, "keys", "ssh_host_ed25519_key")
    sshd = Sshd(work, key + ".pub")
    try:
        cfg = os.path.join(work, "trust.cfg")
        with open(cfg, "w") as f:
            f.write("ip ssh pubkey-chain\n server 127.0.0.1\n  key-hash ssh-ed25519 %s\n"
                    % sshd.md5)
        clients.ok(clients.upload(d.ssh_port, cfg, "running-config"))
        size = a.size_mib << 20
        clients.make_file(sshd.path("big.bin"), size, seed=1)
        local = os.path.join(work, "host")
        os.makedirs(local)
        scp = ["scp", "-q", "-O", "-i", key, "-P", str(sshd.port), "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        best = {}

        def note(name, secs):
            best[name] = min(best.get(name, 1e9), secs)

        def device(cmd):
            r = clients.run_ssh(d.ssh_port, cmd, timeout=600)
            m = re.search(r"(\d+) bytes copied in ([\d.]+) secs", r.stdout)
            assert r.returncode == 0 and m, r
            return float(m.group(2))

        for _ in range(a.rounds):
            for scheme in ("scp", "sftp"):
                note("%s pull scpd" % scheme,
                     device("copy %s bootflash:big.bin" % sshd.url("big.bin", scheme)))
                note("%s push scpd" % scheme,
                     device("copy bootflash:big.bin %s" % sshd.url("back.bin", scheme)))
            t = time.monotonic()
            subprocess.run(scp + ["root@127.0.0.1:" + sshd.path("big.bin"), local + "/big.bin"],
                           check=True)
            note("scp pull host", time.monotonic() - t)
            t = time.monotonic()
            subprocess.run(scp + [local + "/big.bin", "root@127.0.0.1:" + sshd.path("back2.bin")],
                           check=True)
            note("scp push host", time.monotonic() - t)
        mb = size / 1e6
        for k in sorted(best):
            print("%-16s %8.1f MB/s (%.2f s for %d MiB)" % (k, mb / best[k], best[k], a.size_mib))
        for way in ("pull", "push"):
            for scheme in ("scp", "sftp"):
                print("ratio %s %s scpd/scp: %.2f" % (scheme, way,
                      best["scp %s host" % way] / best["%s %s scpd" % (scheme, way)]))
    finally:
        sshd.stop()
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

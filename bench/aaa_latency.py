#!/usr/bin/python3
"""Login latency added by network AAA: the median time of N SSH password logins (paramiko:
connect, key exchange, password authentication, one exec channel authorized and its command run)
with `local` and with `group tacacs+` against tests/tools/tacacs_server.py on loopback.

    /usr/bin/python3 bench/aaa_latency.py [--logins 30] [--scpd build/scpd]

Both daemons run the same binary on tmp data directories; the TACACS+ run asks the server for
authentication and exec authorization (two exchanges, a new TCP connection each, or one
connection with --single). Prints the medians and the difference."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import paramiko

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "tests", "tools", "tacacs_server.py")

BASE = ("aaa new-model\naaa authentication login default {m}\n"
        "aaa authorization exec default {m}\nip scp server enable\n")


def start_scpd(binary, workdir, name, cfg):
    d = os.path.join(workdir, name)
    cfgp = d + ".cfg"
    with open(cfgp, "w") as f:
        f.write(cfg)
    p = subprocess.Popen([binary, "--data-dir", d, "--startup-config", cfgp, "--ssh-listen",
                          "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("ssh listening on"):
            return p, int(line.rsplit(":", 1)[1])
    raise RuntimeError("scpd did not start")


def login_ms(port, user, pw):
    t0 = time.monotonic()
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=port, username=user, password=pw, look_for_keys=False,
              allow_agent=False, timeout=30)
    _, out, _ = c.exec_command("show privilege")
    out.read()
    c.close()
    return (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logins", type=int, default=30)
    ap.add_argument("--scpd", default=os.path.join(ROOT, "build", "scpd"))
    ap.add_argument("--single", action="store_true", help="tacacs single-connection")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="scpd-aaa-lat-")
    procs = []
    try:
        tac = subprocess.Popen(["/usr/bin/python3", SERVER, "--key", "k", "--user",
                                "netop:pw:15"], stdout=subprocess.PIPE, text=True)
        procs.append(tac)
        tport = int(tac.stdout.readline().split()[2])
        local, lport = start_scpd(a.scpd, work, "local", BASE.format(m="local") +
                                  "username netop privilege 15 password 0 pw\n")
        procs.append(local)
        tacacs = ("tacacs server T\n address ipv4 127.0.0.1\n port %d\n key k\n" % tport +
                  (" single-connection\n" if a.single else ""))
        remote, rport = start_scpd(a.scpd, work, "tacacs",
                                   BASE.format(m="group tacacs+") + tacacs)
        procs.append(remote)
        res = {"local": [], "tacacs+": []}
        for _ in range(a.logins):   # interleaved, so machine noise hits both alike
            res["local"].append(login_ms(lport, "netop", "pw"))
            res["tacacs+"].append(login_ms(rport, "netop", "pw"))
        ml, mt = statistics.median(res["local"]), statistics.median(res["tacacs+"])
        print("logins: %d each%s" % (a.logins, ", tacacs single-connection" if a.single else ""))
        print("median local   : %.1f ms" % ml)
        print("median tacacs+ : %.1f ms" % mt)
        print("added by tacacs+ (authentication + exec authorization): %.1f ms" % (mt - ml))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

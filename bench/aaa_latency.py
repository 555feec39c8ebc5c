#!/usr/bin/python3
"""Login latency added by network AAA: the median time of N SSH password logins (paramiko:
connect, key exchange, password authentication, one exec channel authorized and its command run)
with `local`, with `group tacacs+` against tests/tools/tacacs_server.py and with `group radius`
against a FreeRADIUS (configured as tests/integration/test_radius.py does), all on loopback.

    /usr/bin/python3 bench/aaa_latency.py [--logins 30] [--scpd build/scpd] [--single]

The daemons run the same binary on tmp data directories, logins interleaved. TACACS+ asks the
server for authentication and exec authorization (two exchanges, a new TCP connection each, or
one connection with --single); RADIUS sends one Access-Request (the level comes with the
Access-Accept). `local` verifies a type-9 (scrypt) secret, which the network methods do not; `local-t5` a type-5
one (MD5-crypt, next to no CPU), the baseline the differences are taken against. Prints the
medians."""
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
        sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
        import test_radius
        os.makedirs(os.path.join(work, "fr"))
        test_radius.USERS += 'netop Cleartext-Password := "pw"\n\tCisco-AVPair = "shell:priv-lvl=15"\n'
        fr = test_radius.FreeRadius(os.path.join(work, "fr"))
        procs.append(fr.proc)
        rad, radport = start_scpd(a.scpd, work, "radius", BASE.format(m="group radius") +
                                  "radius server R\n address ipv4 127.0.0.1 auth-port %d "
                                  "acct-port %d\n key %s\n" % (fr.auth, fr.acct,
                                                                 test_radius.SECRET))
        procs.append(rad)
        tacacs = ("tacacs server T\n address ipv4 127.0.0.1\n port %d\n key k\n" % tport +
                  (" single-connection\n" if a.single else ""))
        remote, rport = start_scpd(a.scpd, work, "tacacs",
                                   BASE.format(m="group tacacs+") + tacacs)
        procs.append(remote)
        # the same with a type-5 (MD5-crypt, ~no CPU) secret: the baseline without scrypt's cost
        md5 = subprocess.run(["openssl", "passwd", "-1", "pw"], capture_output=True, text=True,
                             check=True).stdout.strip()
        local5, l5port = start_scpd(a.scpd, work, "local5", BASE.format(m="local") +
                                    "username netop privilege 15 secret 5 %s\n" % md5)
        procs.append(local5)
        ports = {"local": lport, "local-t5": l5port, "tacacs+": rport, "radius": radport}
        res = {k: [] for k in ports}
        for _ in range(a.logins):   # interleaved, so machine noise hits all alike
            for k, port in ports.items():
                res[k].append(login_ms(port, "netop", "pw"))
        print("logins: %d each%s" % (a.logins, ", tacacs single-connection" if a.single else ""))
        ml = statistics.median(res["local-t5"])
        for k in ports:
            m = statistics.median(res[k])
            print("median %-8s: %6.1f ms  (%+.1f ms against local with a type-5 secret)" %
                  (k, m, m - ml))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

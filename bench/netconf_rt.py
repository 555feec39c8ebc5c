#!/usr/bin/python3
"""Round trips per second of get-config and edit-config through both management doors, in one
run against one daemon: NETCONF (ncclient, one SSH session, base:1.1 chunked framing) and RESTCONF
(requests, one kept-alive HTTP connection, a bearer token so no request pays for a password hash).
NETCONF is measured twice: with ncclient, whose transport thread sends a queued request only at
its next 100 ms select tick (ncclient/transport/ssh.py TICK), so it cannot pass ~10 round trips/s
whatever the server does; and with a plain paramiko channel on the netconf subsystem speaking
base:1.1 chunked framing, which shows the server's own cost.
Each edit sets the hostname to a new value, so every edit is a real commit (audit row, sqlite
fsync). Usage: bench/netconf_rt.py [N]   (default 200 of each; SCPD_BIN selects the binary)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import paramiko
import requests
from ncclient import manager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SCPD_BIN", os.path.join(ROOT, "build", "scpd"))
CONFIG = ("aaa new-model\naaa authentication login default local\n"
          "aaa authorization exec default local\nusername tiger privilege 15 password 0 lab\n")
NS = "http://cisco.com/ns/yang/Cisco-IOS-XE-native"
NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"


def start(tmp):
    cfg = os.path.join(tmp, "startup.cfg")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    p = subprocess.Popen([BIN, "--data-dir", os.path.join(tmp, "data"), "--startup-config", cfg,
                          "--ssh-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                          "--log-level", "warn"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ports = {}
    while len(ports) < 2:
        line = p.stdout.readline().decode()
        if not line:
            raise SystemExit("scpd did not start")
        m = re.match(r"(ssh|http) listening on \S+:(\d+)$", line.strip())
        if m:
            ports[m.group(1)] = int(m.group(2))
    return p, ports["ssh"], ports["http"]


HELLO = (b'<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>'
         b'urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>]]>]]>')


class RawNetconf:
    """The netconf subsystem over a paramiko channel, base:1.1 framing, one request at a time."""

    def __init__(self, port):
        self.c = paramiko.SSHClient()
        self.c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self.c.connect("127.0.0.1", port=port, username="tiger", password="lab",
                       allow_agent=False, look_for_keys=False)
        self.ch = self.c.get_transport().open_session()
        self.ch.invoke_subsystem("netconf")
        buf = b""
        while b"]]>]]>" not in buf:
            buf += self.ch.recv(65536)
        self.ch.sendall(HELLO)
        self.id = 0

    def rpc(self, body):
        self.id += 1
        msg = b'<rpc message-id="%d" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</rpc>' % (
            self.id, body)
        self.ch.sendall(b"\n#%d\n%s\n##\n" % (len(msg), msg))
        buf = b""
        while not buf.endswith(b"\n##\n"):
            buf += self.ch.recv(65536)
        if b"<rpc-error>" in buf:
            raise RuntimeError(buf.decode())
        return buf

    def close(self):
        self.c.close()


def rate(n, fn):
    t = time.monotonic()
    for i in range(n):
        fn(i)
    return n / (time.monotonic() - t)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    tmp = tempfile.mkdtemp(prefix="scpd-bench-")
    p, ssh, http = start(tmp)
    try:
        m = manager.connect(host="127.0.0.1", port=ssh, username="tiger", password="lab",
                            hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=30)
        s = requests.Session()
        base = "http://127.0.0.1:%d" % http
        tok = s.post(base + "/restconf/operations/scpd:login", auth=("tiger", "lab")).json()
        s.headers["Authorization"] = "Bearer " + tok["scpd:output"]["token"]
        hdr = {"Content-Type": "application/yang-data+json"}

        def nc_get(i):
            assert "tiger" in m.get_config("running").data_xml

        def nc_edit(i):
            m.edit_config(target="running", config='<config><native xmlns="%s"><hostname>N%d</hostname>'
                          '</native></config>' % (NS, i))

        raw = RawNetconf(ssh)

        def raw_get(i):
            assert b"tiger" in raw.rpc(b"<get-config><source><running/></source></get-config>")

        def raw_edit(i):
            raw.rpc(b'<edit-config><target><running/></target><config><native xmlns="%s">'
                    b'<hostname>P%d</hostname></native></config></edit-config>' % (NS.encode(), i))

        def rc_get(i):
            r = s.get(base + NATIVE)
            assert r.status_code == 200

        def rc_edit(i):
            r = s.put(base + NATIVE + "/hostname", headers=hdr,
                      json={"Cisco-IOS-XE-native:hostname": "R%d" % i})
            assert r.status_code == 204, r.text

        res = [("NETCONF get-config (paramiko)", rate(n, raw_get)),
               ("NETCONF get-config (ncclient)", rate(min(n, 50), nc_get)),
               ("RESTCONF GET native", rate(n, rc_get)),
               ("NETCONF edit-config (paramiko)", rate(n, raw_edit)),
               ("NETCONF edit-config (ncclient)", rate(min(n, 50), nc_edit)),
               ("RESTCONF PUT hostname", rate(n, rc_edit))]
        m.close_session()
        raw.close()
        for name, r in res:
            print("%-32s %8.1f round trips/s" % (name, r))
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

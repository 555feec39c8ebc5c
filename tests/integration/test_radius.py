"""RADIUS (issue 13) against a real FreeRADIUS (Debian's freeradius 3.2, `freeradius -f -d DIR`
with its own minimal configuration tree in the test's directory, loopback ports chosen at run
time): Cisco-AVPair shell:priv-lvl=15 grants SCP, =1 is refused with the reason, a reject does
not fall back, accounting Start/Stop records arrive with the octets, and Service-Type
Administrative-User counts as level 15.
"""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from clients import make_file, upload
from obs_util import wait_for

FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"
SECRET = "R4d-Shared-Secret"

pytestmark = pytest.mark.skipif(not os.path.exists(FREERADIUS), reason="freeradius not installed")

USERS = """\
boss Cleartext-Password := "Pw-15"
\tCisco-AVPair = "shell:priv-lvl=15"
viewer Cleartext-Password := "Pw-1"
\tCisco-AVPair = "shell:priv-lvl=1"
admin Cleartext-Password := "Pw-A"
\tService-Type = Administrative-User
"""

RADIUSD_CONF = """\
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = {d}/log
raddbdir = {d}
radacctdir = {d}
name = freeradius
confdir = {d}
modconfdir = {d}
run_dir = {d}/run
db_dir = {d}
libdir = /usr/lib/freeradius
pidfile = {d}/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
\tdestination = stdout
\tauth = yes
}}
security {{
\tallow_core_dumps = no
\tmax_attributes = 200
\treject_delay = 0
\tstatus_server = no
}}
thread pool {{
\tstart_servers = 2
\tmax_servers = 4
\tmin_spare_servers = 1
\tmax_spare_servers = 2
\tmax_requests_per_server = 0
}}
client localhost {{
\tipaddr = 127.0.0.1
\tsecret = {secret}
}}
modules {{
\tpap {{
\t}}
\tfiles {{
\t\tfilename = {d}/users
\t\tacctusersfile = {d}/acct_users
\t\tpreproxy_usersfile = {d}/preproxy_users
\t}}
\tdetail {{
\t\tfilename = {d}/acct.detail
\t\tpermissions = 0644
\t\theader = "%t"
\t}}
}}
server default {{
\tlisten {{
\t\ttype = auth
\t\tipaddr = 127.0.0.1
\t\tport = {auth}
\t}}
\tlisten {{
\t\ttype = acct
\t\tipaddr = 127.0.0.1
\t\tport = {acct}
\t}}
\tauthorize {{
\t\tfiles
\t\tpap
\t}}
\tauthenticate {{
\t\tAuth-Type PAP {{
\t\t\tpap
\t\t}}
\t}}
\tpreacct {{
\t}}
\taccounting {{
\t\tdetail
\t}}
\tpost-auth {{
\t}}
}}
"""


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FreeRadius:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "raddb")
        os.makedirs(os.path.join(self.dir, "log"))
        os.makedirs(os.path.join(self.dir, "run"))
        self.auth, self.acct = free_udp_port(), free_udp_port()
        files = {"radiusd.conf": RADIUSD_CONF.format(d=self.dir, secret=SECRET, auth=self.auth,
                                                     acct=self.acct),
                 "users": USERS, "dictionary": "", "acct_users": "", "preproxy_users": ""}
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        # readable by the freerad user, should the server drop to it
        for root, dirs, fs in os.walk(self.dir):
            for x in dirs:
                os.chmod(os.path.join(root, x), 0o755)
            for x in fs:
                os.chmod(os.path.join(root, x), 0o644)
        os.chmod(workdir, 0o755)
        self.out = open(os.path.join(workdir, "freeradius.out"), "w+")
        self.proc = subprocess.Popen([FREERADIUS, "-f", "-d", self.dir, "-l", "stdout"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if "Ready to process requests" in self.log():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("freeradius did not start:\n" + self.log())

    def log(self):
        self.out.flush()
        with open(self.out.name) as f:
            return f.read()

    def records(self):
        """The detail file as a list of {attribute: value} dicts."""
        p = os.path.join(self.dir, "acct.detail")
        if not os.path.exists(p):
            return []
        recs, cur = [], None
        with open(p) as f:
            for line in f:
                if not line.strip():
                    continue
                if not line.startswith("\t"):
                    cur = {}
                    recs.append(cur)
                    continue
                k, _, v = line.strip().partition(" = ")
                cur[k] = v.strip('"')
        return recs

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.out.close()


@pytest.fixture
def radius(workdir):
    r = FreeRadius(workdir)
    yield r
    r.stop()


def radius_config(r, secret=SECRET, fallback=""):
    return ("aaa new-model\n"
            "aaa authentication login default group radius%s\n"
            "aaa authorization exec default group radius%s\n"
            "aaa accounting exec default start-stop group radius\n"
            "ip scp server enable\n"
            "radius server R1\n"
            " address ipv4 127.0.0.1 auth-port %d acct-port %d\n"
            " key %s\n timeout 2\n retransmit 1\n" % (fallback, fallback, r.auth, r.acct, secret))



def test_priv15_grants_scp_and_accounting(start_daemon, radius, tmp_path):
    d = start_daemon(config=radius_config(radius))
    src = str(tmp_path / "up.bin")
    make_file(src, 54321)
    r = upload(d.ssh_port, src, "bootflash:up.bin", user="boss", password="Pw-15")
    assert r.returncode == 0, r.stderr + d.log()
    assert os.path.getsize(os.path.join(d.bootflash, "up.bin")) == 54321
    assert "login ok (group radius, server R1)" in d.log()
    assert "exec authorized (group radius, from the Access-Accept), privilege 15" in d.log()
    recs = wait_for(lambda: [x for x in radius.records() if x.get("Acct-Status-Type") == "Stop"])
    starts = [x for x in radius.records() if x.get("Acct-Status-Type") == "Start"]
    assert len(starts) == 1 and len(recs) == 1
    stop = recs[0]
    assert stop["User-Name"] == "boss"
    assert stop["Calling-Station-Id"] == "127.0.0.1"
    assert stop["Acct-Session-Id"] == starts[0]["Acct-Session-Id"]
    assert 54321 <= int(stop["Acct-Input-Octets"]) < 54321 + 1024
    assert int(stop["Acct-Session-Time"]) >= 0
    assert SECRET not in d.log()


def test_priv1_refused_with_reason(start_daemon, radius, tmp_path):
    d = start_daemon(config=radius_config(radius))
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    r = upload(d.ssh_port, src, "bootflash:f.bin", user="viewer", password="Pw-1")
    assert r.returncode != 0
    assert "privilege level 1 is below 15" in r.stderr
    assert not os.path.exists(os.path.join(d.bootflash, "f.bin"))
    # Service-Type Administrative-User is level 15
    r = upload(d.ssh_port, src, "bootflash:a.bin", user="admin", password="Pw-A")
    assert r.returncode == 0, r.stderr


def test_reject_does_not_fall_back_and_down_does(start_daemon, radius, tmp_path):
    cfg = radius_config(radius, fallback=" local") + "username boss privilege 15 password 0 lab\n"
    d = start_daemon(config=cfg)
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    r = upload(d.ssh_port, src, "bootflash:f.bin", user="boss", password="lab")
    assert r.returncode != 0
    assert "rejected by the server" in d.log()
    radius.stop()
    r = upload(d.ssh_port, src, "bootflash:f.bin", user="boss", password="lab")
    assert r.returncode == 0, r.stderr
    assert "login ok (local)" in d.log()


def test_wrong_secret_is_a_clear_log_line(start_daemon, radius, tmp_path):
    d = start_daemon(config=radius_config(radius, secret="not-the-secret"))
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    r = upload(d.ssh_port, src, "bootflash:f.bin", user="boss", password="Pw-15")
    assert r.returncode != 0
    log = d.log()
    assert re.search(r"radius server R1 \(127\.0\.0\.1 port \d+\): no answer within the timeout "
                     r"\(a wrong shared secret", log), log
    # FreeRADIUS dropped it for the Message-Authenticator we sent
    assert "Message-Authenticator" in radius.log()
    assert "not-the-secret" not in log

"""TACACS+ (issue 13): the network reference configuration with `tacacs server` lines, against the
test server of tests/tools/tacacs_server.py, whose wire format is first checked against an
independent client (Debian's Authen::TacacsPlus).

Cases: a user known only to the TACACS+ server uploads with scp -O and appears in the accounting
log with the byte count; priv-lvl 15 vs 1; a reject does not fall back to local; a server that is
down falls back to local; a dead server is skipped for its deadtime (counted by the connections it
receives); a wrong shared key is a clear log line; keys never appear in plaintext.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from clients import make_file, run_ssh, upload
from obs_util import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "tools", "tacacs_server.py")
KEY = "t4c-Shared-Key"

# The spec's network-based reference configuration (examples/network-auth.cfg), verbatim.
with open(os.path.join(HERE, "..", "..", "examples", "network-auth.cfg")) as f:
    NETWORK_AUTH = f.read()


class TacServer:
    """tacacs_server.py on 127.0.0.1, a free port; .acct() and .events() read its logs."""

    def __init__(self, workdir, name, users=(), key=KEY, blackhole=False, otp=(), delay=0):
        self.acct_path = os.path.join(workdir, name + "-acct.log")
        self.events_path = os.path.join(workdir, name + "-events.log")
        cmd = ["/usr/bin/python3", SERVER, "--key", key, "--acct-log", self.acct_path,
               "--events", self.events_path]
        for u in users:
            cmd += ["--user", u]
        if blackhole:
            cmd.append("--blackhole")
        for o in otp:
            cmd += ["--otp", o]
        if delay:
            cmd += ["--delay", str(delay)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), line
        self.port = int(line.split()[2])

    def _lines(self, path):
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]

    def acct(self):
        return self._lines(self.acct_path)

    def events(self, kind=None):
        return [e for e in self._lines(self.events_path) if kind is None or e["event"] == kind]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def tac(workdir):
    servers = []

    def start(name="tac", **kw):
        s = TacServer(workdir, name, **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def tacacs_lines(name, port, key=KEY, timeout=None):
    text = "tacacs server %s\n address ipv4 127.0.0.1\n port %d\n key %s\n" % (name, port, key)
    if timeout:
        text += " timeout %d\n" % timeout
    return text


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port



# ---- the test server against an independent client ----------------------------------------------

PERL_CHECK = r'''
use Authen::TacacsPlus;
my ($port, $key, $user, $pw, $type) = @ARGV;
my $t = Authen::TacacsPlus->new(Host => "127.0.0.1", Port => $port, Key => $key, Timeout => 5)
    or die "no connection\n";
my $ok = $type eq "pap" ? $t->authen($user, $pw, Authen::TacacsPlus::TAC_PLUS_AUTHEN_TYPE_PAP())
                        : $t->authen($user, $pw);
print $ok ? "PASS\n" : "FAIL " . Authen::TacacsPlus::errmsg() . "\n";
'''


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl")
def test_server_wire_format_against_authen_tacacsplus(tac):
    """Authen::TacacsPlus (libtacplus, an independent implementation) logs in through ASCII
    (GETUSER, GETPASS) and PAP: accepted with the right password, refused with a wrong one, and a
    client with a wrong key gets nothing decodable."""
    s = tac(users=["alice:pw-A:15"])

    def perl(pw, typ="ascii", key=KEY):
        r = subprocess.run(["perl", "-e", PERL_CHECK, str(s.port), key, "alice", pw, typ],
                           capture_output=True, text=True, timeout=30)
        return r.stdout.strip()

    assert perl("pw-A") == "PASS"
    assert perl("wrong").startswith("FAIL Authentication failed")
    assert perl("pw-A", "pap") == "PASS"
    assert perl("wrong", "pap").startswith("FAIL")
    assert perl("pw-A", key="other-key").startswith("FAIL")
    assert [e["ok"] for e in s.events("authen")] == [True, False, True, False]
    assert len(s.events("undecodable")) == 1


# ---- scpd against the test server ---------------------------------------------------------------

def test_reference_config_upload_and_accounting(start_daemon, tac, tmp_path):
    """Acceptance: the second reference configuration with only `tacacs server` lines (and an
    accounting list to have records) added; a user known only to the TACACS+ server uploads with
    scp -O and appears in the server's accounting log with the bytes."""
    s = tac(users=["netop:Net-Pw-1:15"])
    cfg = NETWORK_AUTH + tacacs_lines("TAC1", s.port) + \
        "aaa accounting exec default start-stop group tacacs+\n"
    d = start_daemon(config=cfg)
    src = str(tmp_path / "up.bin")
    make_file(src, 123457)
    r = upload(d.ssh_port, src, "bootflash:up.bin", user="netop", password="Net-Pw-1")
    assert r.returncode == 0, r.stderr
    with open(os.path.join(d.bootflash, "up.bin"), "rb") as f:
        assert len(f.read()) == 123457
    recs = wait_for(lambda: [a for a in s.acct() if a["flags"] == "stop"])
    starts = [a for a in s.acct() if a["flags"] == "start"]
    assert len(starts) == 1 and len(recs) == 1
    st, sp = starts[0], recs[0]
    assert sp["user"] == "netop" and sp["rem_addr"] == "127.0.0.1"
    assert sp["task_id"] == st["task_id"]
    assert sp["protocol"] == "scp" and sp["service"] == "shell"
    assert int(sp["bytes_in"]) >= 123457          # the file and the protocol's lines
    assert int(sp["bytes_in"]) < 123457 + 1024
    assert int(sp["elapsed_time"]) >= 0
    assert [e["user"] for e in s.events("author")] == ["netop"]
    assert "login ok (group tacacs+, server TAC1)" in d.log()
    # the key is never in plaintext: not in the rendering, the log, nor the store
    r = run_ssh(d.ssh_port, "show running-config", user="netop", password="Net-Pw-1")
    assert r.returncode == 0, r.stderr
    assert "key 6 " in r.stdout and KEY not in r.stdout
    assert KEY not in d.log()
    for name in os.listdir(d.data_dir):
        p = os.path.join(d.data_dir, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                assert KEY.encode() not in f.read(), name
    assert os.stat(os.path.join(d.data_dir, "master.key")).st_mode & 0o777 == 0o600


def test_privilege_from_server(start_daemon, tac, tmp_path):
    """priv-lvl=15 from the server grants SCP; priv-lvl=1 is refused with the reason."""
    s = tac(users=["boss:Pw-15:15", "viewer:Pw-1:1"])
    d = start_daemon(config=NETWORK_AUTH + tacacs_lines("TAC1", s.port))
    src = str(tmp_path / "f.bin")
    make_file(src, 1000)
    assert upload(d.ssh_port, src, "bootflash:f.bin", user="boss", password="Pw-15").returncode == 0
    r = upload(d.ssh_port, src, "bootflash:g.bin", user="viewer", password="Pw-1")
    assert r.returncode != 0
    assert "privilege level 1 is below 15" in r.stderr
    assert not os.path.exists(os.path.join(d.bootflash, "g.bin"))


def test_reject_does_not_fall_back(start_daemon, tac, tmp_path):
    """With `group tacacs+ local`, a user the server rejects is refused even though the local
    database would accept the password."""
    s = tac(users=["tiger:Server-Pw:15"])
    cfg = ("aaa new-model\naaa authentication login default group tacacs+ local\n"
           "aaa authorization exec default group tacacs+ local\n"
           "username tiger privilege 15 password 0 lab\nip scp server enable\n" +
           tacacs_lines("TAC1", s.port))
    d = start_daemon(config=cfg)
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    r = upload(d.ssh_port, src, "bootflash:f.bin", user="tiger", password="lab")
    assert r.returncode != 0
    assert len(s.events("authen")) >= 1 and not any(e["ok"] for e in s.events("authen"))
    assert "rejected by the server" in d.log()
    assert upload(d.ssh_port, src, "bootflash:f.bin", user="tiger",
                  password="Server-Pw").returncode == 0


def test_server_down_falls_back_to_local(start_daemon, tmp_path):
    """Nothing listens on the server's port: the group is unavailable, `local` decides."""
    port = free_port()
    cfg = ("aaa new-model\naaa authentication login default group tacacs+ local\n"
           "aaa authorization exec default group tacacs+ local\n"
           "username tiger privilege 15 password 0 lab\nip scp server enable\n" +
           tacacs_lines("TAC1", port))
    d = start_daemon(config=cfg)
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    r = upload(d.ssh_port, src, "bootflash:f.bin")
    assert r.returncode == 0, r.stderr
    log = d.log()
    assert "tacacs server TAC1 (127.0.0.1 port %d): connect: Connection refused" % port in log
    assert "login ok (local)" in log


def test_dead_server_skipped_for_deadtime(start_daemon, tac, tmp_path):
    """A server that does not answer is marked dead for the group's deadtime: the next logins go
    straight to the second server (the first receives no more connections) and the transition is
    a security event and a log line."""
    hole = tac(name="hole", blackhole=True)
    good = tac(name="good", users=["netop:Net-Pw-1:15"])
    cfg = ("aaa new-model\naaa group server tacacs+ TACG\n server name HOLE\n server name GOOD\n"
           " deadtime 10\naaa authentication login default group TACG\n"
           "aaa authorization exec default group TACG\nip scp server enable\n" +
           tacacs_lines("HOLE", hole.port, timeout=1) + tacacs_lines("GOOD", good.port))
    d = start_daemon(config=cfg)
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    for i in range(3):
        r = upload(d.ssh_port, src, "bootflash:f%d.bin" % i, user="netop", password="Net-Pw-1")
        assert r.returncode == 0, r.stderr
    assert len(hole.events("connection")) == 1
    assert len(good.events("authen")) == 3
    log = d.log()
    assert "tacacs server HOLE is dead for 10 min" in log
    assert "no answer within the timeout" in log
    # the counters in the API (as a user known only to the server: HTTP Basic uses the same
    # lists, its level from exec authorization) and in /metrics
    import requests
    base = "http://127.0.0.1:%d" % d.http_port
    r = requests.get(base + "/restconf/data/scpd:aaa-servers", auth=("netop", "Net-Pw-1"))
    assert r.status_code == 200, r.text
    st = {s["name"]: s for s in r.json()["scpd:aaa-servers"]["server"]}
    assert st["HOLE"]["dead"] is True and st["HOLE"]["timeouts"] == "1"
    assert int(st["HOLE"]["skipped"]) >= 5      # 3 logins + 3 authorizations, minus the first
    assert st["GOOD"]["dead"] is False and int(st["GOOD"]["accepts"]) >= 6
    m = requests.get(base + "/metrics", auth=("netop", "Net-Pw-1")).text
    assert 'scpd_aaa_server_dead{protocol="tacacs+",server="HOLE"} 1' in m
    assert 'scpd_aaa_server_timeouts_total{protocol="tacacs+",server="HOLE"} 1' in m
    assert 'scpd_aaa_server_dead{protocol="tacacs+",server="GOOD"} 0' in m
    # and at the CLI
    r = run_ssh(d.ssh_port, "show aaa servers", user="netop", password="Net-Pw-1")
    assert r.returncode == 0, r.stderr
    hole_part = r.stdout[r.stdout.index("name HOLE"):]
    assert "TACACS+: id 2, name HOLE, host 127.0.0.1, port %d" % hole.port in r.stdout
    assert "State: current DEAD" in hole_part.split("TACACS+")[0]
    assert "timeouts 1" in hole_part.split("TACACS+")[0]
    assert "name GOOD" in r.stdout
    # the transition is on the security stream (replayed from its ring)
    from obs_util import SSE
    sub = SSE(d, "security", user="netop", password="Net-Pw-1", last_event_id=0)
    try:
        assert sub.status == 200
        ev = sub.wait(lambda n: n.get("scpd:security-event", {}).get("kind") == "aaa-server-dead",
                      what="aaa-server-dead event")[0][1]
        assert "tacacs server HOLE is dead for 10 min" in ev["scpd:security-event"]["message"]
    finally:
        sub.close()


def test_wrong_key_is_a_clear_log_line(start_daemon, tac, tmp_path):
    s = tac(users=["netop:Net-Pw-1:15"], key="the-right-key")
    d = start_daemon(config=NETWORK_AUTH + tacacs_lines("TAC1", s.port, key="a-wrong-key"))
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    r = upload(d.ssh_port, src, "bootflash:f.bin", user="netop", password="Net-Pw-1")
    assert r.returncode != 0
    log = d.log()
    assert "tacacs server TAC1" in log
    assert "wrong shared key" in log
    assert "a-wrong-key" not in log


def test_api_tacacs_server_key_is_type6(start_daemon):
    """Through the API (scpd:apply-config, then a RESTCONF write of the native tree, which keeps
    the lines its YANG model does not hold) a server added with a plaintext key is stored and
    rendered as key 6 only; the key never reaches the API's answers, the audit log or the log."""
    import requests
    d = start_daemon()
    ops = "http://127.0.0.1:%d/restconf/operations" % d.http_port
    text = ("tacacs server T9\n address ipv4 192.0.2.9\n key 0 %s\n timeout 3\n"
            " single-connection\n" % KEY)
    r = requests.post(ops + "/scpd:apply-config", json={"scpd:input": {"config": text}},
                      auth=("tiger", "lab"))
    assert r.status_code == 200, r.text
    assert KEY not in r.text and "key 6 " in r.json()["scpd:output"]["diff"]
    base = "http://127.0.0.1:%d/restconf/data/Cisco-IOS-XE-native:native" % d.http_port
    r = requests.patch(base, json={"Cisco-IOS-XE-native:native": {"hostname": "R9"}},
                       headers={"Content-Type": "application/yang-data+json"},
                       auth=("tiger", "lab"))
    assert r.status_code in (200, 204), r.text
    r = run_ssh(d.ssh_port, "show running-config")
    assert "hostname R9" in r.stdout
    assert "tacacs server T9\n address ipv4 192.0.2.9\n key 6 " in r.stdout
    assert " timeout 3\n single-connection\n" in r.stdout and KEY not in r.stdout
    audit = requests.get("http://127.0.0.1:%d/restconf/data/scpd:audit-log" % d.http_port,
                         auth=("tiger", "lab"))
    assert "tacacs server T9" in audit.text and KEY not in audit.text
    assert KEY not in d.log()


NATIVE_AAA = ("aaa group server tacacs+ TAC\n server name T9\n deadtime 5\n"
              "aaa accounting exec default start-stop group TAC\n"
              "aaa accounting commands 15 default stop-only group TAC\n"
              "radius-server dead-criteria time 5 tries 3\nradius-server deadtime 2\n")


@pytest.mark.filterwarnings("ignore::DeprecationWarning:ncclient")
def test_native_model_holds_the_servers_both_doors(start_daemon):
    """The servers, groups, accounting lists and radius-server lines are in the YANG model:
    RESTCONF PATCH adds a server with a plaintext key, GET shows it as type 6 only, a PUT of what
    GET gave changes nothing, and NETCONF get-config / edit-config see and change the same nodes;
    a PUT without them removes them (the model owns them now)."""
    import requests
    from ncclient import manager
    d = start_daemon()
    auth = ("tiger", "lab")
    h = {"Content-Type": "application/yang-data+json"}
    base = "http://127.0.0.1:%d/restconf/data/Cisco-IOS-XE-native:native" % d.http_port
    r = requests.post("http://127.0.0.1:%d/restconf/operations/scpd:apply-config" % d.http_port,
                      json={"scpd:input": {"config": NATIVE_AAA}}, auth=auth)
    assert r.status_code == 200, r.text
    body = {"Cisco-IOS-XE-aaa:tacacs": {"server": [
        {"name": "T9", "address": {"ipv4": "192.0.2.9"}, "key": {"encryption": "0", "key": KEY},
         "timeout": 3, "single-connection": [None]}]},
        "Cisco-IOS-XE-aaa:radius": {"server": [
            {"name": "R9", "address": {"ipv4": "192.0.2.10", "auth-port": 1645,
                                       "acct-port": 1646},
             "key": {"encryption": "0", "key": KEY + "r"}, "retransmit": 2}]}}
    r = requests.patch(base, json={"Cisco-IOS-XE-native:native": body}, headers=h, auth=auth)
    assert r.status_code in (200, 204), r.text
    r = requests.get(base + "/Cisco-IOS-XE-aaa:tacacs", auth=auth)
    assert r.status_code == 200, r.text
    srv = r.json()["Cisco-IOS-XE-aaa:tacacs"]["server"][0]
    assert srv["name"] == "T9" and srv["timeout"] == 3 and srv["key"]["encryption"] == "6"
    assert srv["single-connection"] == [None] and KEY not in r.text
    r = requests.get(base, auth=auth)
    assert r.status_code == 200 and KEY not in r.text
    tree = r.json()
    aaa = tree["Cisco-IOS-XE-native:native"]["aaa"]
    assert aaa["Cisco-IOS-XE-aaa:group"]["server"]["tacacsplus"][0] == {
        "name": "TAC", "server": {"name": [{"name": "T9"}]}, "deadtime": 5}
    acct = aaa["Cisco-IOS-XE-aaa:accounting"]
    assert acct["exec"][0] == {"name": "default", "action-type": "start-stop",
                               "a1": {"group": "TAC"}}
    assert acct["commands"][0]["action-type"] == "stop-only"
    rs = tree["Cisco-IOS-XE-native:native"]["Cisco-IOS-XE-aaa:radius-server"]
    assert rs == {"dead-criteria": {"time": 5, "tries": 3}, "deadtime": 2}
    rad = tree["Cisco-IOS-XE-native:native"]["Cisco-IOS-XE-aaa:radius"]["server"][0]
    assert rad["address"] == {"ipv4": "192.0.2.10", "auth-port": 1645, "acct-port": 1646}
    before = run_ssh(d.ssh_port, "show running-config").stdout
    assert "tacacs server T9\n address ipv4 192.0.2.9\n key 6 " in before
    # a PUT of what GET gave (type-6 keys) changes nothing
    r = requests.put(base, json=tree, headers=h, auth=auth)
    assert r.status_code in (200, 204), r.text
    assert run_ssh(d.ssh_port, "show running-config").stdout == before
    # NETCONF sees the same nodes and edits them
    with manager.connect(host="127.0.0.1", port=d.ssh_port, username="tiger", password="lab",
                         hostkey_verify=False, allow_agent=False, look_for_keys=False,
                         timeout=30) as m:
        data = m.get_config("running").data_xml
        assert "<name>T9</name>" in data and "<tacacsplus>" in data and KEY not in data
        assert "<encryption>6</encryption>" in data and "<dead-criteria>" in data
        m.edit_config(target="running", config=(
            '<config><native xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-native">'
            '<tacacs xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-aaa"><server><name>T9</name>'
            '<port>4949</port></server></tacacs>'
            '<radius-server xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-aaa">'
            '<deadtime>7</deadtime></radius-server></native></config>'))
    after = run_ssh(d.ssh_port, "show running-config").stdout
    assert " port 4949\n" in after and "radius-server deadtime 7\n" in after
    assert "key 6 " in after and KEY not in after
    # replaced without them, they are gone: the model owns these lines
    del tree["Cisco-IOS-XE-native:native"]["Cisco-IOS-XE-aaa:tacacs"]
    del tree["Cisco-IOS-XE-native:native"]["aaa"]["Cisco-IOS-XE-aaa:group"]
    del tree["Cisco-IOS-XE-native:native"]["aaa"]["Cisco-IOS-XE-aaa:accounting"]
    r = requests.put(base, json=tree, headers=h, auth=auth)
    assert r.status_code in (200, 204), r.text
    gone = run_ssh(d.ssh_port, "show running-config").stdout
    assert "tacacs server" not in gone and "aaa group server" not in gone
    assert "radius server R9" in gone
    audit = requests.get("http://127.0.0.1:%d/restconf/data/scpd:audit-log" % d.http_port,
                         auth=auth)
    assert "tacacs server T9" in audit.text and KEY not in audit.text
    assert KEY not in d.log()


def test_single_connection_reuses_one_tcp_connection(start_daemon, tac, tmp_path):
    """single-connection: the server agrees (its first reply has the flag) and every later
    exchange (authentication, authorization, accounting of three uploads) uses the same TCP
    connection; without it each exchange has its own."""
    s = tac(users=["netop:Net-Pw-1:15"])
    acct = "aaa accounting exec default start-stop group tacacs+\n"
    d = start_daemon(config=NETWORK_AUTH + acct + tacacs_lines("TAC1", s.port) +
                     " single-connection\n")
    src = str(tmp_path / "f.bin")
    make_file(src, 100)
    for i in range(3):
        r = upload(d.ssh_port, src, "bootflash:f%d.bin" % i, user="netop", password="Net-Pw-1")
        assert r.returncode == 0, r.stderr
    wait_for(lambda: len([a for a in s.acct() if a["flags"] == "stop"]) == 3)
    assert len(s.events("authen")) == 3 and len(s.events("author")) == 3
    assert len(s.events("connection")) == 1
    s2 = tac(name="multi", users=["netop:Net-Pw-1:15"])
    d2 = start_daemon(config=NETWORK_AUTH + tacacs_lines("TAC1", s2.port), name="d2")
    r = upload(d2.ssh_port, src, "bootflash:g.bin", user="netop", password="Net-Pw-1")
    assert r.returncode == 0, r.stderr
    assert len(s2.events("connection")) == 2     # authentication, authorization



def test_silent_server_stalls_nobody_else(start_daemon, tac, workdir):
    """A login waiting on a TACACS+ server that never answers holds nothing others need: while it
    waits, a public-key user (no method list involved) uploads a file and the API answers. Checked
    by order of events (the waiting client is still running when the others are done), not by
    timing."""
    import requests
    from clients import remote, start_scp
    hole = tac(name="hole", blackhole=True)
    key = os.path.join(workdir, "k")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", key + ".pub"],
                         capture_output=True, text=True, check=True).stdout
    md5 = out.split()[1].split(":", 1)[1].replace(":", "").upper()
    cfg = ("aaa new-model\naaa authentication login default group tacacs+ local\n"
           "aaa authorization exec default local\n"
           "username tiger privilege 15 secret 0 lab\nip scp server enable\n"
           # block-for makes every login take aaa's lock: it must not be held across I/O
           "login block-for 60 attempts 100 within 60\n"
           "ip ssh pubkey-chain\n username tiger\n  key-hash ssh-ed25519 %s\n" % md5 +
           tacacs_lines("HOLE", hole.port, timeout=60))
    d = start_daemon(config=cfg, args=["--metrics-public"])
    src = os.path.join(workdir, "f.bin")
    make_file(src, 300000)
    # this login waits for HOLE (60 s) before it could fall back to local
    waiting = start_scp(d.ssh_port, [src, remote("bootflash:w.bin")], password="lab")
    try:
        wait_for(lambda: hole.events("connection"), what="the silent server's connection")
        r = upload(d.ssh_port, src, "bootflash:k.bin", key=key, password="unused")
        assert r.returncode == 0, r.stderr
        m = requests.get("http://127.0.0.1:%d/metrics" % d.http_port, timeout=60)
        assert m.status_code == 200
        assert waiting.poll() is None, "the waiting login ended before the others"
        assert os.path.getsize(os.path.join(d.bootflash, "k.bin")) == 300000
    finally:
        waiting.kill()
        waiting.wait()


def test_command_accounting(start_daemon, tac):
    """aaa accounting commands 15: each level-15 CLI command, and each configuration change of the
    API, as the lines it committed, is a TACACS+ record with cmd= and priv-lvl=15."""
    import requests
    s = tac(users=["netop:Net-Pw-1:15"])
    d = start_daemon(config=NETWORK_AUTH + tacacs_lines("TAC1", s.port) +
                     "aaa accounting commands 15 default stop-only group tacacs+\n")
    r = run_ssh(d.ssh_port, "show running-config", user="netop", password="Net-Pw-1")
    assert r.returncode == 0, r.stderr
    cmds = wait_for(lambda: [a for a in s.acct() if a.get("cmd") == "show running-config"],
                    what="the CLI command's record")
    assert cmds[0]["user"] == "netop" and cmds[0]["priv-lvl"] == "15"
    assert cmds[0]["flags"] == "stop"
    # level-1 commands are not recorded
    run_ssh(d.ssh_port, "show privilege", user="netop", password="Net-Pw-1")
    base = "http://127.0.0.1:%d/restconf/data/Cisco-IOS-XE-native:native" % d.http_port
    r = requests.put(base + "/hostname", json={"Cisco-IOS-XE-native:hostname": "EDGE1"},
                     headers={"Content-Type": "application/yang-data+json"},
                     auth=("netop", "Net-Pw-1"))
    assert r.status_code in (200, 201, 204), r.text
    wait_for(lambda: [a for a in s.acct() if a.get("cmd") == "hostname EDGE1"],
             what="the API change's record")
    recorded = [a["cmd"] for a in s.acct()]
    assert "no hostname scpd" in recorded
    assert "show privilege" not in recorded


# ---- keyboard-interactive prompts, the login's deadline, the API's privilege ---------------------

def kbdint_login(port, user, answers, seen):
    """A paramiko keyboard-interactive login answering each INFO_REQUEST with the next answer;
    seen gets the prompts with their echo flags. The transport, authenticated or not."""
    import paramiko
    t = paramiko.Transport(("127.0.0.1", port))
    t.connect()

    def handler(title, instructions, prompts):
        seen.append([(p, bool(e)) for p, e in prompts])
        return [answers[len(seen) - 1] for _ in prompts]
    try:
        t.auth_interactive(user, handler)
    except paramiko.AuthenticationException:
        pass
    return t


def test_keyboard_interactive_one_time_password(start_daemon, tac):
    """A TACACS+ server asking a one-time password after the password: its GETDATA "OTP: "
    reaches the SSH client as a second keyboard-interactive prompt, echoed (GETDATA), after the
    hidden "Password: "; the right code logs in and runs a command, a wrong one is refused, and
    a password login (which cannot answer) is refused with a log line saying why. A server that
    asks only for the password still takes both password and keyboard-interactive logins."""
    s = tac(users=["otpuser:Pw-O:15", "plain:Pw-P:15"], otp=["otpuser:424242"])
    d = start_daemon(config=NETWORK_AUTH + tacacs_lines("TAC1", s.port))
    seen = []
    t = kbdint_login(d.ssh_port, "otpuser", ["Pw-O", "424242"], seen)
    try:
        assert t.is_authenticated(), d.log()
        assert seen == [[("Password: ", False)], [("OTP: ", True)]]
        ch = t.open_session()
        ch.exec_command("show privilege")
        out = ch.makefile().read().decode()
        assert "15" in out, out
    finally:
        t.close()
    assert [e["ok"] for e in s.events("otp")] == [True]
    seen = []
    t = kbdint_login(d.ssh_port, "otpuser", ["Pw-O", "000000"], seen)
    assert not t.is_authenticated() and len(seen) >= 2
    t.close()
    assert [e["ok"] for e in s.events("otp")] == [True, False]
    r = run_ssh(d.ssh_port, "show privilege", user="otpuser", password="Pw-O",
                extra=["-o", "PreferredAuthentications=password"])
    assert r.returncode != 0
    assert "the server asked for more than a password" in d.log()
    seen = []
    t = kbdint_login(d.ssh_port, "plain", ["Pw-P"], seen)
    assert t.is_authenticated() and seen == [[("Password: ", False)]]
    t.close()
    assert run_ssh(d.ssh_port, "show privilege", user="plain", password="Pw-P").returncode == 0
    assert "424242" not in d.log() and "Pw-O" not in d.log()


def test_ssh_time_out_bounds_the_whole_login(start_daemon, tac):
    """ip ssh time-out 3 bounds the login, not each round trip: three silent servers (timeout 2
    each) in turn; the first spends 2 s of the 3, the second what is left, and the third is not
    asked at all (were each exchange bounded alone, it would be, at 4 s). The session ends with
    the timeout."""
    import paramiko
    servers = [tac("t%d" % i, blackhole=True) for i in (1, 2, 3)]
    lines = "".join(tacacs_lines("T%d" % i, s.port, timeout=2) for i, s in enumerate(servers, 1))
    d = start_daemon(config=NETWORK_AUTH + lines + "ip ssh time-out 3\n")
    t = paramiko.Transport(("127.0.0.1", d.ssh_port))
    t.connect()
    try:
        t.auth_password("slow", "Pw-S")
    except (paramiko.SSHException, EOFError, OSError):
        pass
    finally:
        t.close()
    wait_for(lambda: "Authentication timed out (ip ssh time-out 3)" in d.log() or None)
    assert len(servers[0].events("connection")) == 1
    assert servers[2].events("connection") == [], d.log()
    # the second server's cut-short round trip is the login's time-out, not the server's: it is
    # named, and neither it nor the third is counted or marked dead
    assert "the login's time (ip ssh time-out 3 s) has run out at server T2" in d.log(), d.log()


def test_api_privilege_from_the_server(start_daemon, tac):
    """HTTP Basic and bearer tokens of users known only to the TACACS+ server carry the level its
    authorization gave: 15 may change the configuration, 1 may not."""
    import requests
    s = tac(users=["boss:Pw-15:15", "viewer:Pw-1:1"])
    d = start_daemon(config=NETWORK_AUTH + tacacs_lines("TAC1", s.port))
    base = "http://127.0.0.1:%d/restconf" % d.http_port
    h = {"Content-Type": "application/yang-data+json"}

    def patch(name, **kw):
        return requests.patch(base + "/data/Cisco-IOS-XE-native:native",
                              json={"Cisco-IOS-XE-native:native": {"hostname": name}},
                              headers=dict(h, **kw.pop("headers", {})), timeout=30, **kw)
    for user, pw, level in (("boss", "Pw-15", 15), ("viewer", "Pw-1", 1)):
        r = requests.post(base + "/operations/scpd:login", auth=(user, pw), timeout=30)
        assert r.status_code == 200, r.text
        out = r.json()["scpd:output"]
        assert out["privilege"] == level
        bearer = {"Authorization": "Bearer " + out["token"]}
        rb = patch("R%d" % level, headers=bearer)
        rp = patch("P%d" % level, auth=(user, pw))
        if level == 15:
            assert rb.status_code in (200, 204) and rp.status_code in (200, 204), rb.text + rp.text
        else:
            assert rb.status_code == 403 and rp.status_code == 403, rb.text + rp.text
    assert "hostname P15" in run_ssh(d.ssh_port, "show running-config", user="boss",
                                     password="Pw-15").stdout

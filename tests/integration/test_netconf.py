"""NETCONF over SSH (RFC 6241, RFC 6242) with a real client, ncclient: the `netconf` subsystem of
the SSH door, each operation, the errors a careless or hostile client gets, and the one model:
a change made through NETCONF is what RESTCONF, the CLI's show running-config and SCP's
running-config show at once, and a change refused changes nothing anywhere."""
import os
import socket
import subprocess
import time

import paramiko
import pytest
import requests
from ncclient import manager
from ncclient.operations.rpc import RPCError
from ncclient.xml_ import to_ele

from clients import run_ssh, download, upload, paramiko_client
from conftest import LOCAL_AUTH

NS = "http://cisco.com/ns/yang/Cisco-IOS-XE-native"
NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
# ncclient 0.6.13 (Debian) calls threading APIs Python 3.11 deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ncclient")

CONFIG = LOCAL_AUTH.replace("ip scp server enable\n", "") + "username op privilege 5 password 0 oppw\n"


def nc(daemon, user="tiger", password="lab", port=None):
    return manager.connect(host="127.0.0.1", port=port or daemon.ssh_port, username=user,
                           password=password, hostkey_verify=False, allow_agent=False,
                           look_for_keys=False, timeout=30)


def cfg(inner):
    return '<config><native xmlns="%s">%s</native></config>' % (NS, inner)


def rest(daemon, path, **kw):
    return requests.get("http://127.0.0.1:%d%s" % (daemon.http_port, path), auth=("tiger", "lab"),
                        timeout=30, **kw)


def version(daemon):
    return rest(daemon, NATIVE).headers["ETag"]


@pytest.fixture
def d(start_daemon):
    return start_daemon(config=CONFIG)


def test_acceptance_scp_on_visible_in_restconf_cli_and_scp(d, workdir):
    """The issue's acceptance: ncclient on the SSH port turns SCP on; RESTCONF sees it at once,
    so does the CLI's show running-config and SCP's running-config; the audit names netconf."""
    etag = version(d)
    assert rest(d, NATIVE + "/ip/scp/server/enable").status_code == 404
    with nc(d) as m:
        assert ":base:1.1" in " ".join(m.server_capabilities)
        r = m.edit_config(target="running", config=cfg("<ip><scp><server><enable/></server></scp></ip>"))
        assert r.ok
    assert rest(d, NATIVE + "/ip/scp/server/enable").json() == {"Cisco-IOS-XE-native:enable": [None]}
    assert version(d) != etag   # RESTCONF's ETag moved with the NETCONF commit
    out = run_ssh(d.ssh_port, "show running-config").stdout
    assert "ip scp server enable" in out
    local = os.path.join(workdir, "rc.txt")
    download(d.ssh_port, "running-config", local).check_returncode()
    assert "ip scp server enable" in open(local).read()
    audit = rest(d, "/restconf/data/scpd:audit-log").json()["scpd:audit-log"]["entry"][-1]
    assert audit["source"] == "netconf" and audit["user"] == "tiger" and audit["peer"].startswith("127.0.0.1:")


def test_bad_value_is_rpc_error_and_changes_nothing(d):
    etag = version(d)
    with nc(d) as m:
        for bad, tag, words in [
            ("<hostname>R7</hostname><ip><ssh><time-out>500</time-out></ssh></ip>", "invalid-value",
             "value out of range 1-120"),
            ("<ip><ssh><time-out>abc</time-out></ssh></ip>", "invalid-value", "abc"),
            ("<hostname>R7</hostname><colour>red</colour>", "unknown-element", "colour"),
            ("<hostname>a b</hostname>", "invalid-value", "space"),
        ]:
            with pytest.raises(RPCError) as ei:
                m.edit_config(target="running", config=cfg(bad))
            assert ei.value.tag == tag, (bad, ei.value.tag, ei.value.message)
            assert words in ei.value.message, (bad, ei.value.message)
        # wrong namespace: the element is not the native model's
        with pytest.raises(RPCError) as ei:
            m.edit_config(target="running",
                          config='<config><native xmlns="urn:example:other"><hostname>X</hostname></native></config>')
        assert ei.value.tag == "unknown-element"
    assert version(d) == etag
    assert rest(d, NATIVE + "/hostname").status_code == 404


def test_get_config_filters_and_defaults(d):
    with nc(d) as m:
        data = m.get_config("running").data_xml
        assert "<username><name>tiger</name>" in data and "<password>" not in data
        sub = m.get_config("running", filter=("subtree", '<native xmlns="%s"><username><name>op</name></username></native>' % NS)).data_xml
        assert "<name>op</name>" in sub and "tiger" not in sub and "<privilege>5</privilege>" in sub
        sel = m.get_config("running", filter=("subtree", '<native xmlns="%s"><hostname/></native>' % NS)).data_xml
        assert "<hostname>" not in sel   # the default hostname is not explicit
        xp = m.get_config("running", filter=("xpath", "/Cisco-IOS-XE-native:native/username[name='tiger']/privilege")).data_xml
        assert "<privilege>15</privilege>" in xp and "oppw" not in xp and "<name>op</name>" not in xp
        wd = m.get_config("running", with_defaults="report-all").data_xml
        assert "<hostname>scpd</hostname>" in wd and "<time-out>120</time-out>" in wd
        g = m.get(filter=("subtree", '<native xmlns="%s"><aaa/></native>' % NS)).data_xml
        assert "new-model" in g and "username" not in g


def test_edit_operations(d):
    with nc(d) as m:
        m.edit_config(target="running", config=cfg("<hostname>R1</hostname><username><name>u1</name><privilege>3</privilege></username>"))
        with pytest.raises(RPCError) as ei:
            m.edit_config(target="running", config=cfg('<username xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="create"><name>u1</name></username>'))
        assert ei.value.tag == "data-exists"
        m.edit_config(target="running", config=cfg('<hostname xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"/>'))
        assert rest(d, NATIVE + "/hostname").status_code == 404
        with pytest.raises(RPCError) as ei:
            m.edit_config(target="running", config=cfg('<hostname xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"/>'))
        assert ei.value.tag == "data-missing"
        m.edit_config(target="running", config=cfg('<hostname xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="remove"/>'))
        m.edit_config(target="running", config=cfg('<username xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"><name>u1</name></username>'))
        assert rest(d, NATIVE + "/username=u1").status_code == 404
        # replace a list entry: privilege goes back to what the new entry says
        m.edit_config(target="running", config=cfg('<username xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="replace"><name>op</name><privilege>7</privilege></username>'))
        assert rest(d, NATIVE + "/username=op/privilege").json() == {"Cisco-IOS-XE-native:privilege": 7}
        # test-only validates, changes nothing
        etag = version(d)
        m.edit_config(target="running", test_option="test-only", config=cfg("<hostname>T1</hostname>"))
        assert version(d) == etag
        # rollback-on-error: one bad element among good ones changes nothing
        with pytest.raises(RPCError):
            m.edit_config(target="running", error_option="rollback-on-error",
                          config=cfg("<hostname>R2</hostname><login><block-for><seconds>60</seconds></block-for></login>"))
        assert version(d) == etag
        # default-operation replace: the whole configuration is the one given
        # tiger keeps its stored secret: a new hash would re-key the account, and access
        # follows the account (this very session would be ended)
        sec = rest(d, NATIVE + "/username=tiger").json()["Cisco-IOS-XE-native:username"][0]["secret"]
        keep = ('<username><name>tiger</name><privilege>15</privilege><secret><encryption>%s</encryption><secret>%s</secret></secret></username>'
                % (sec["encryption"], sec["secret"]) +
                '<aaa><new-model xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-aaa"/>'
                '<authentication xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-aaa"><login><name>default</name><a1><local/></a1></login></authentication>'
                '<authorization xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-aaa"><exec><name>default</name><a1><local/></a1></exec></authorization></aaa>')
        m.edit_config(target="running", default_operation="replace", config=cfg("<hostname>R3</hostname>" + keep))
        assert rest(d, NATIVE + "/username=op").status_code == 404
        assert rest(d, NATIVE + "/hostname").json() == {"Cisco-IOS-XE-native:hostname": "R3"}
        m.validate(source="running")
        m.validate(source=to_ele(cfg("<hostname>V1</hostname>" + keep)))


def test_copy_delete_save_and_schema(d):
    with nc(d) as m:
        m.edit_config(target="running", config=cfg("<hostname>SAVED</hostname>"))
        m.copy_config(source="running", target="startup")
        assert "<hostname>SAVED</hostname>" in m.get_config("startup").data_xml
        m.edit_config(target="running", config=cfg("<hostname>UNSAVED</hostname>"))
        m.copy_config(source="startup", target="running")
        assert "SAVED</hostname>" in m.get_config("running").data_xml and "UNSAVED" not in m.get_config("running").data_xml
        r = m.dispatch(to_ele('<save-config xmlns="http://cisco.com/yang/cisco-ia"/>'))
        assert "Save running-config successful" in r.xml
        schema = m.get_schema("Cisco-IOS-XE-native")
        assert 'namespace "http://cisco.com/ns/yang/Cisco-IOS-XE-native"' in schema.data
        m.delete_config(target="startup")
        assert "SAVED" not in m.get_config("startup").data_xml
        with pytest.raises(RPCError) as ei:
            m.delete_config(target="running")
        assert ei.value.tag == "invalid-value"


def test_lock_held_elsewhere_refuses_other_doors(d, workdir):
    a = nc(d)
    b = nc(d)
    try:
        a.edit_config(target="running", config=cfg("<ip><scp><server><enable/></server></scp></ip>"))
        a.lock("running")
        with pytest.raises(RPCError) as ei:
            b.lock("running")
        assert ei.value.tag == "lock-denied" and "session %s" % a.session_id in ei.value.message
        with pytest.raises(RPCError) as ei:
            b.edit_config(target="running", config=cfg("<hostname>B</hostname>"))
        assert ei.value.tag == "lock-denied"
        r = requests.put("http://127.0.0.1:%d%s/hostname" % (d.http_port, NATIVE), auth=("tiger", "lab"),
                         json={"Cisco-IOS-XE-native:hostname": "H"},
                         headers={"Content-Type": "application/yang-data+json"}, timeout=30)
        assert r.status_code == 409 and r.json()["ietf-restconf:errors"]["error"][0]["error-tag"] == "lock-denied"
        assert "NETCONF session %s" % a.session_id in r.text
        # SCP's copy to running-config is refused too, naming the holder
        src = os.path.join(workdir, "merge.cfg")
        with open(src, "w") as f:
            f.write("hostname FROMSCP\n")
        up = upload(d.ssh_port, src, "running-config")
        assert up.returncode != 0 and "locked by NETCONF session %s" % a.session_id in up.stderr, up.stderr
        a.edit_config(target="running", config=cfg("<hostname>A</hostname>"))   # the holder may
        a.unlock("running")
        b.edit_config(target="running", config=cfg("<hostname>B</hostname>"))
        a.lock("running")
    finally:
        a.close_session()   # the session's end releases its lock
    b.edit_config(target="running", config=cfg("<hostname>C</hostname>"))
    b.lock("running")
    b.close_session()


def test_lock_released_when_session_dies(d):
    a = nc(d)
    a.lock("running")
    a._session.close()   # the transport goes away without close-session
    deadline = time.time() + 20
    while time.time() < deadline:
        r = requests.put("http://127.0.0.1:%d%s/hostname" % (d.http_port, NATIVE), auth=("tiger", "lab"),
                         json={"Cisco-IOS-XE-native:hostname": "H"},
                         headers={"Content-Type": "application/yang-data+json"}, timeout=30)
        if r.status_code != 409:
            break
        time.sleep(0.2)
    assert r.status_code in (201, 204)


def test_kill_session_releases_its_lock(d):
    a = nc(d)
    b = nc(d)
    a.lock("running")
    b.kill_session(a.session_id)
    b.edit_config(target="running", config=cfg("<hostname>K</hostname>"))
    b.close_session()


def test_privilege(d):
    with nc(d, user="op", password="oppw") as m:
        with pytest.raises(RPCError) as ei:
            m.edit_config(target="running", config=cfg("<hostname>X</hostname>"))
        assert ei.value.tag == "access-denied"
        with pytest.raises(RPCError) as ei:
            m.get_config("running")
        assert ei.value.tag == "access-denied"
        assert "module Cisco-IOS-XE-aaa" in m.get_schema("Cisco-IOS-XE-aaa").data
        # state from privilege 1: get answers the monitoring state, not the configuration
        g = m.get().data_xml
        assert "<netconf-state" in g and "<native" not in g and "<username>op</username>" in g


def test_monitoring_sessions_and_statistics(d):
    MON = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
    with nc(d) as a, nc(d) as b:
        with pytest.raises(RPCError):
            a.dispatch(to_ele('<frobnicate xmlns="urn:example"/>'))
        g = b.get(filter=("subtree", '<netconf-state xmlns="%s"/>' % MON)).data_xml
        assert "<native" not in g
        assert g.count("<session>") == 2 and "<transport>netconf-ssh</transport>" in g
        assert "<session-id>%s</session-id>" % a.session_id in g and "<source-host>127.0.0.1</source-host>" in g
        assert "<out-rpc-errors>1</out-rpc-errors>" in g
        assert "<identifier>Cisco-IOS-XE-native</identifier><version>2021-11-01</version>" in g
        x = b.get(filter=("xpath", "/ietf-netconf-monitoring:netconf-state")).data_xml
        assert "<statistics>" in x and "<in-sessions>" in x and "<native" not in x
        # no filter: configuration and state
        full = b.get().data_xml
        assert "<native" in full and "<netconf-state" in full


# ---- the wire: framing and malformed messages, with a raw SSH channel -------------------------

HELLO10 = ('<?xml version="1.0"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>'
           '<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>')
HELLO11 = HELLO10.replace("base:1.0</capability>", "base:1.1</capability>")


class Raw:
    def __init__(self, d):
        self.c = paramiko_client(d.ssh_port, user="tiger", password="lab")
        self.ch = self.c.get_transport().open_session()
        self.ch.settimeout(30)
        self.ch.invoke_subsystem("netconf")
        self.buf = b""
        self.hello = self.read_eom()

    def read_eom(self):
        while b"]]>]]>" not in self.buf:
            chunk = self.ch.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        msg, self.buf = self.buf.split(b"]]>]]>", 1)
        return msg.decode()

    def read_chunked(self):
        while not self.buf.endswith(b"\n##\n"):
            chunk = self.ch.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        out, rest = b"", self.buf
        while rest.startswith(b"\n#") and not rest.startswith(b"\n##\n"):
            size, rest = rest[2:].split(b"\n", 1)
            out += rest[:int(size)]
            rest = rest[int(size):]
        self.buf = b""
        return out.decode()

    def close(self):
        self.c.close()


def test_framing_10_and_11(d):
    r = Raw(d)
    assert "urn:ietf:params:netconf:base:1.1" in r.hello and "<session-id>" in r.hello
    r.ch.sendall(HELLO10.encode())
    r.ch.sendall(b'<rpc message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-config><source><running/></source></get-config></rpc>]]>]]>')
    reply = r.read_eom()
    assert 'message-id="7"' in reply and "<data>" in reply
    r.close()
    r = Raw(d)
    r.ch.sendall(HELLO11.encode())
    msg = b'<rpc message-id="8" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-config><source><running/></source></get-config></rpc>'
    # one message in two chunks
    r.ch.sendall(b"\n#%d\n%s\n#%d\n%s\n##\n" % (20, msg[:20], len(msg) - 20, msg[20:]))
    reply = r.read_chunked()
    assert 'message-id="8"' in reply and "<data>" in reply
    # malformed XML and an unknown operation are rpc-errors; the session goes on
    bad = b'<rpc message-id="9" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-config>'
    r.ch.sendall(b"\n#%d\n%s\n##\n" % (len(bad), bad))
    reply = r.read_chunked()
    assert "<error-tag>malformed-message</error-tag>" in reply
    unk = b'<rpc message-id="10" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><frobnicate/></rpc>'
    r.ch.sendall(b"\n#%d\n%s\n##\n" % (len(unk), unk))
    reply = r.read_chunked()
    assert 'message-id="10"' in reply and "<error-tag>operation-not-supported</error-tag>" in reply
    # a framing error ends the session
    r.ch.sendall(b"\n#x\n")
    reply = r.read_chunked()
    assert "malformed-message" in reply
    r.close()


def test_message_over_the_size_limit(d):
    r = Raw(d)
    r.ch.sendall(HELLO10.encode())
    big = b"<rpc>" + b" " * (4 * 1024 * 1024 + 128 * 1024)
    try:
        r.ch.sendall(big)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    reply = r.read_eom()
    assert "<error-tag>too-big</error-tag>" in reply
    r.close()


def test_doctype_refused(d):
    r = Raw(d)
    r.ch.sendall(HELLO10.encode())
    r.ch.sendall(b'<?xml version="1.0"?><!DOCTYPE rpc [<!ENTITY a "aaaa">]><rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>]]>]]>')
    reply = r.read_eom()
    assert "malformed-message" in reply and "document type" in reply
    r.close()


def test_netconf_listen(start_daemon):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = start_daemon(config=CONFIG, args=["--netconf-listen", "127.0.0.1:%d" % port])
    with nc(d, port=port) as m:
        assert "<username><name>tiger</name>" in m.get_config("running").data_xml


# ---- one model: yanglint checks the modules served and the data both doors return ------------

YANG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "api", "yang")


def yanglint(*args):
    return subprocess.run(["yanglint", "-p", YANG_DIR] + list(args), capture_output=True, text=True, timeout=60)


def test_yanglint_modules_and_both_doors_data(d, workdir):
    mods = sorted(f for f in os.listdir(YANG_DIR) if f.endswith(".yang"))
    assert {"Cisco-IOS-XE-native.yang", "Cisco-IOS-XE-aaa.yang", "Cisco-IOS-XE-ip.yang", "scpd.yang"} <= set(mods)
    for f in mods:
        if f in ("Cisco-IOS-XE-ip.yang", "Cisco-IOS-XE-line.yang"):
            continue   # submodules: checked as includes of Cisco-IOS-XE-native
        r = yanglint(os.path.join(YANG_DIR, f))
        assert r.returncode == 0, (f, r.stderr)
    native = os.path.join(YANG_DIR, "Cisco-IOS-XE-native.yang")
    aaa = os.path.join(YANG_DIR, "Cisco-IOS-XE-aaa.yang")
    with nc(d) as m:
        m.edit_config(target="running", config=cfg("<hostname>Y1</hostname><ip><ssh><time-out>60</time-out></ssh></ip>"))
        xml = m.get_config("running").data_xml
    body = xml[xml.index("<native"):xml.rindex("</data>")]
    p = os.path.join(workdir, "nc.xml")
    with open(p, "w") as f:
        f.write(body)
    r = yanglint("-t", "getconfig", native, aaa, p)
    assert r.returncode == 0, r.stderr
    p = os.path.join(workdir, "rc.json")
    with open(p, "w") as f:
        f.write(rest(d, NATIVE).text)
    r = yanglint("-t", "config", native, aaa, p)
    assert r.returncode == 0, r.stderr
    # an invalid document is caught, so the checks above can fail
    with open(p, "w") as f:
        f.write('{"Cisco-IOS-XE-native:native": {"ip": {"ssh": {"time-out": "x"}}}}')
    assert yanglint("-t", "config", native, aaa, p).returncode != 0


def test_create_subscription_streams(d, workdir):
    """RFC 5277: scp-debug carries `debug ip scp` lines, security a failed login, transfers an
    SCP download; with :interleave the session still answers rpcs."""
    with nc(d) as m, nc(d) as sec, nc(d) as xf:
        m.create_subscription(stream_name="scp-debug")
        sec.create_subscription(stream_name="security")
        xf.create_subscription(stream_name="transfers")
        assert "<username><name>tiger</name>" in m.get_config("running").data_xml   # interleave
        r = requests.put("http://127.0.0.1:%d/restconf/data/scpd:debug/scp" % d.http_port,
                         auth=("tiger", "lab"), json={"scpd:scp": True},
                         headers={"Content-Type": "application/yang-data+json"}, timeout=30)
        assert r.status_code == 204
        m.edit_config(target="running", config=cfg("<ip><scp><server><enable/></server></scp></ip>"))
        local = os.path.join(workdir, "rc.txt")
        download(d.ssh_port, "running-config", local).check_returncode()
        n = m.take_notification(timeout=20)
        assert n is not None and "trace-event" in n.notification_xml and "SCP:" in n.notification_xml
        notes = [n.notification_xml]
        n = xf.take_notification(timeout=20)
        assert n is not None and "<transfer-event" in n.notification_xml and "<kind>start</kind>" in n.notification_xml
        notes.append(n.notification_xml)
        run_ssh(d.ssh_port, "show version", password="wrong")
        n = sec.take_notification(timeout=20)
        assert n is not None and "<kind>login-failed</kind>" in n.notification_xml
        notes.append(n.notification_xml)
        with pytest.raises(RPCError) as ei:
            m.create_subscription(stream_name="nothing")
        assert ei.value.tag in ("operation-failed", "invalid-value")
    # each notification is valid against scpd.yang, envelope included
    for i, x in enumerate(notes):
        p = os.path.join(workdir, "notif%d.xml" % i)
        with open(p, "w") as f:
            f.write(x)
        r = yanglint("-t", "nc-notif", os.path.join(YANG_DIR, "scpd.yang"), p)
        assert r.returncode == 0, (x, r.stderr)


def test_kill_session_ends_the_other_session(d):
    a = nc(d)
    b = nc(d)
    b.kill_session(a.session_id)
    deadline = time.time() + 20
    while a.connected and time.time() < deadline:
        time.sleep(0.1)
    assert not a.connected
    b.close_session()

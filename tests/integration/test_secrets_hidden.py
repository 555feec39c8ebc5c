"""Secrets are never echoed and the same password is no change (issue 15, item 3).

A: every message that carries config text (refusals, the log, the transfer history, the
`transfers` stream, audit entries and diffs, RESTCONF and NETCONF errors, configuration mode) shows
a secret's value as `<hidden>` (IOS's `archive log config hidekeys`), a hash as well as plaintext;
`show running-config` at level 15 keeps the hashes, as IOS does.
B: a write of a password that verifies against the stored hash of the same user (RESTCONF PUT and
PATCH, apply-config, NETCONF edit-config, a configuration-mode line) is no change: no commit, no new
version, the same ETag, no audit entry, and the account's tokens and sessions stay."""
import os
import re

import pytest
import requests
from ncclient import manager
from ncclient.operations.rpc import RPCError

import clients
from conftest import LOCAL_AUTH
from obs_util import SSE

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
OPS = "/restconf/operations"
YJ = "application/yang-data+json"
NS = "http://cisco.com/ns/yang/Cisco-IOS-XE-native"
PLAIN = "NotAHashPLAIN"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ncclient")

CONFIG = LOCAL_AUTH.replace("username tiger privilege 15 password 0 lab\n",
                            "hostname R1\nusername tiger privilege 15 password 0 lab\n") + \
    "username low privilege 1 password 0 lowpw\nenable secret 0 En-Secret\n" \
    "tacacs server TAC1\n address ipv4 127.0.0.1\n key 0 Tac-Key-1\n"


@pytest.fixture
def d(start_daemon):
    return start_daemon(config=CONFIG)


def url(d, path):
    return "http://127.0.0.1:%d%s" % (d.http_port, path)


def req(d, method, path, body=None, auth=("tiger", "lab"), headers=None):
    h = {"Content-Type": YJ}
    h.update(headers or {})
    return requests.request(method, url(d, path), auth=auth, json=body, headers=h, timeout=60)


def etag(d):
    r = req(d, "GET", NATIVE)
    assert r.status_code == 200, r.text
    return r.headers["ETag"]


def audit(d):
    r = req(d, "GET", "/restconf/data/scpd:audit-log")
    assert r.status_code == 200, r.text
    return r.json()["scpd:audit-log"]["entry"]


def no_hash(text):
    """No secret hash and no type-6 key text in text."""
    return not re.search(r"\$[1589]\$|key 6 [A-Za-z0-9+/]{20,}", text)


# ---- A: secrets hidden ---------------------------------------------------------------------------

def test_refused_secret_is_hidden_in_log_history_and_stream(d, workdir):
    """The finding: `username x secret 9 NotAHash` refused with the value in the error, which
    reached the log, the transfer history and the `transfers` stream (privilege 1 reads both)."""
    sse = SSE(d, "transfers", user="low", password="lowpw")
    assert sse.status == 200
    try:
        bad = os.path.join(workdir, "bad.cfg")
        with open(bad, "w") as f:
            f.write("username x secret 9 %s\n" % PLAIN)
        r = clients.upload(d.ssh_port, bad, "running-config")
        assert r.returncode != 0
        assert PLAIN not in r.stderr and "username x secret 9 <hidden>" in r.stderr, r.stderr
        sse.wait(lambda n: n.get("scpd:transfer-event", {}).get("kind") == "end")   # or raises
        events = repr(sse.snapshot())
        assert PLAIN not in events and "secret 9 <hidden>" in events, events
    finally:
        sse.close()
    hist = req(d, "GET", "/restconf/data/scpd:scp-state/transfers", auth=("low", "lowpw"))
    assert hist.status_code == 200
    assert PLAIN not in hist.text and "username x secret 9 <hidden>" in hist.text, hist.text
    assert PLAIN not in d.log()


def test_api_and_netconf_errors_hide_secrets(d):
    body = {"scpd:input": {"config": "username x secret 9 %s\nenable secret 5 %s\n" % (PLAIN, PLAIN)}}
    r = req(d, "POST", OPS + "/scpd:apply-config", body)
    assert r.status_code == 400
    assert PLAIN not in r.text and "username x secret 9 <hidden>" in r.text, r.text
    assert "enable secret 5 <hidden>" in r.text
    r = req(d, "PATCH", NATIVE, {"Cisco-IOS-XE-native:native": {"username": [
        {"name": "x", "secret": {"encryption": "9", "secret": PLAIN}}]}})
    assert r.status_code == 400
    assert PLAIN not in r.text and "secret 9 <hidden>" in r.text, r.text
    # a value the YANG type refuses is not quoted either
    r = req(d, "PATCH", NATIVE, {"Cisco-IOS-XE-native:native": {"username": [
        {"name": "x", "password": {"encryption": "0", "password": PLAIN * 30}}]}})
    assert r.status_code == 400 and PLAIN not in r.text, r.text
    # nor one so long that the message is cut inside it (no closing quote to find)
    r = req(d, "PATCH", NATIVE, {"Cisco-IOS-XE-native:native": {"username": [
        {"name": "x", "password": {"encryption": "0", "password": PLAIN * 100}}]}})
    assert r.status_code == 400 and PLAIN not in r.text, r.text
    with manager.connect(host="127.0.0.1", port=d.ssh_port, username="tiger", password="lab",
                         hostkey_verify=False, allow_agent=False, look_for_keys=False,
                         timeout=30) as m:
        with pytest.raises(RPCError) as ei:
            m.edit_config(target="running", config=(
                '<config><native xmlns="%s"><username><name>x</name><secret>'
                '<encryption>9</encryption><secret>%s</secret></secret></username></native>'
                '</config>' % (NS, PLAIN)))
        msg = str(ei.value) + repr(ei.value.info)
        assert PLAIN not in msg and "secret 9 <hidden>" in msg, msg
    assert PLAIN not in d.log()


def test_config_mode_refusal_hides_the_secret_in_the_log(d):
    c = clients.paramiko_client(d.ssh_port)
    try:
        sh = c.invoke_shell()
        out = _run_lines(sh, ["configure terminal", "username x secret 9 " + PLAIN,
                              "username x privilege 99 passwrd 0 " + PLAIN, "end"])
        assert "Invalid input" in out
    finally:
        c.close()
    log = d.log()
    assert PLAIN not in log, log
    # the refusals are logged, with the value hidden (not merely left out)
    assert "cli: config line refused" in log and "<hidden>" in log, log


def _run_lines(sh, lines, prompt=rb"R1(\([a-z-]+\))?#$"):
    out = b""
    sh.settimeout(30)
    for line in [""] + lines:
        if line:
            sh.send(line + "\r")
        buf = b""
        while not re.search(prompt, buf):
            chunk = sh.recv(65536)
            assert chunk, buf
            buf += chunk
        out += buf
    return out.decode(errors="replace")


def test_audit_and_diffs_hide_hashes_show_running_keeps_them(d):
    r = req(d, "POST", OPS + "/scpd:apply-config", {"scpd:input": {
        "config": "username dave privilege 2 password 0 pw-d\nenable secret 0 Other-En\n"
                  "tacacs server TAC1\n key 0 Tac-Key-2\n", "dry-run": True}})
    assert r.status_code == 200, r.text
    diff = r.json()["scpd:output"]["diff"]
    assert "+ username dave privilege 2 secret 9 <hidden>" in diff
    assert "+ enable secret 9 <hidden>" in diff and "+  key 6 <hidden>" in diff, diff
    assert no_hash(diff), diff
    r = req(d, "POST", OPS + "/scpd:apply-config", {"scpd:input": {
        "config": "username dave privilege 2 password 0 pw-d\n"}})
    assert r.status_code == 200, r.text
    entries = audit(d)
    text = repr(entries)
    assert no_hash(text), text
    assert "+ username tiger privilege 15 secret 9 <hidden>" in entries[0]["diff"]
    assert "+  key 6 <hidden>" in entries[0]["diff"]
    assert entries[-1]["diff"] == "+ username dave privilege 2 secret 9 <hidden>\n"
    # running-config at level 15 keeps the stored hashes, as IOS's show running-config does
    r = req(d, "POST", OPS + "/scpd:show", {"scpd:input": {"command": "running-config"}})
    shown = r.json()["scpd:output"]["text"]
    assert re.search(r"username dave privilege 2 secret 9 \$9\$\S+", shown)
    assert re.search(r" key 6 \S{20,}", shown)


# ---- B: the same password again is no change -----------------------------------------------------

def token(d, user="tiger", pw="lab"):
    r = requests.post(url(d, OPS + "/scpd:login"), auth=(user, pw), timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["scpd:output"]["token"]}


def test_restconf_put_of_the_same_user_twice_is_no_change(d):
    """The finding: every PUT of the same user committed a new version (new salt), so every
    Ansible run reported `changed`."""
    body = {"Cisco-IOS-XE-native:username": [
        {"name": "y", "privilege": 15, "password": {"encryption": "0", "password": "ypw"}}]}
    r = req(d, "PUT", NATIVE + "/username=y", body)
    assert r.status_code == 201, r.text
    tag, n = r.headers["ETag"], len(audit(d))
    tok = token(d, "y", "ypw")
    for method in ("PUT", "PATCH"):
        r = req(d, method, NATIVE + "/username=y", body)
        assert r.status_code == 204, r.text
        assert r.headers["ETag"] == tag and etag(d) == tag
        assert len(audit(d)) == n
    # the same for tiger with its stored secret from the boot config, through the whole tree
    r = req(d, "PATCH", NATIVE, {"Cisco-IOS-XE-native:native": {"username": [
        {"name": "tiger", "privilege": 15, "secret": {"encryption": "0", "secret": "lab"}}]}})
    assert r.status_code == 204, r.text
    assert etag(d) == tag and len(audit(d)) == n
    # the account was not re-keyed: its token works
    assert requests.get(url(d, NATIVE), headers=tok, timeout=30).status_code == 200
    # another password is a change (and ends the token, as the account's secret changed)
    body["Cisco-IOS-XE-native:username"][0]["password"]["password"] = "ypw2"
    r = req(d, "PUT", NATIVE + "/username=y", body)
    assert r.status_code == 204 and r.headers["ETag"] != tag
    assert len(audit(d)) == n + 1
    assert requests.get(url(d, NATIVE), headers=tok, timeout=30).status_code == 401


def test_apply_config_same_secrets_is_no_change(d):
    tag, n = etag(d), len(audit(d))
    same = ("username tiger privilege 15 password 0 lab\nusername low secret 0 lowpw\n"
            "enable secret 0 En-Secret\ntacacs server TAC1\n key 0 Tac-Key-1\n")
    for mode in ("merge", "replace"):
        text = same
        if mode == "replace":
            shown = req(d, "POST", OPS + "/scpd:show",
                        {"scpd:input": {"command": "running-config"}}).json()["scpd:output"]["text"]
            # the running config with every secret given again in plaintext
            text = re.sub(r"username tiger privilege 15 secret 9 \S+",
                          "username tiger privilege 15 password 0 lab", shown)
            text = re.sub(r"username low secret 9 \S+",
                          "username low password 7 " + _type7("lowpw"), text)
            text = re.sub(r"enable secret 9 \S+", "enable secret 0 En-Secret", text)
            text = re.sub(r" key 6 \S+", " key 7 " + _type7("Tac-Key-1"), text)
        r = req(d, "POST", OPS + "/scpd:apply-config", {"scpd:input": {"config": text,
                                                                        "mode": mode}})
        assert r.status_code == 200, r.text
        out = r.json()["scpd:output"]
        assert out["changed"] is False and out["diff"] == "", (mode, out)
        assert etag(d) == tag and len(audit(d)) == n
    # a new value is a change
    r = req(d, "POST", OPS + "/scpd:apply-config",
            {"scpd:input": {"config": "enable secret 0 En-Secret-2\n"}})
    assert r.json()["scpd:output"]["changed"] is True and etag(d) != tag


def _type7(plain, seed=2):
    """Cisco type 7 of plain (the well-known xlat table)."""
    xlat = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
    return "%02d" % seed + "".join("%02X" % (ord(ch) ^ xlat[(seed + i) % len(xlat)])
                                   for i, ch in enumerate(plain))


def test_netconf_edit_config_same_password_is_no_change(d):
    tag, n = etag(d), len(audit(d))
    with manager.connect(host="127.0.0.1", port=d.ssh_port, username="tiger", password="lab",
                         hostkey_verify=False, allow_agent=False, look_for_keys=False,
                         timeout=30) as m:
        for op in ("merge", "replace"):
            r = m.edit_config(target="running", default_operation=op if op == "merge" else None,
                              config=(
                '<config><native xmlns="%s"><username%s><name>low</name>'
                '<privilege>1</privilege><password><encryption>0</encryption>'
                '<password>lowpw</password></password></username></native></config>' % (
                    NS, ' xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="replace"'
                    if op == "replace" else "")))
            assert r.ok
            assert etag(d) == tag and len(audit(d)) == n, op
        m.edit_config(target="running", config=(
            '<config><native xmlns="%s"><username><name>low</name><password>'
            '<encryption>0</encryption><password>newpw</password></password></username>'
            '</native></config>' % NS))
    assert etag(d) != tag


def test_config_mode_same_password_keeps_session(d):
    """A configuration-mode line giving the logged-in user its own password again: no commit, and
    the session (which main ends when the account's secret changes) stays."""
    tag, n = etag(d), len(audit(d))
    c = clients.paramiko_client(d.ssh_port)
    try:
        sh = c.invoke_shell()
        out = _run_lines(sh, ["configure terminal", "username tiger privilege 15 secret 0 lab",
                              "username tiger password lab", "enable secret En-Secret", "end",
                              "show privilege"])
        assert "Invalid" not in out and "Current privilege level is 15" in out, out
    finally:
        c.close()
    assert etag(d) == tag and len(audit(d)) == n

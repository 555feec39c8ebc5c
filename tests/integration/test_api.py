"""The RESTCONF API as an orchestration script or an admin with curl uses it: discovery, the
Cisco-IOS-XE-native configuration paths with RFC 8040 semantics, datastores, operations on config
text, the audit log, ETag/If-Match, bearer tokens, privilege levels, HTTPS, several listen
addresses, and the connection limits. The real daemon on loopback; requests and curl as clients."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import LOCAL_AUTH, ROOT

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
OPS = "/restconf/operations"
YJ = "application/yang-data+json"
YANG = os.path.join(ROOT, "api", "yang", "scpd.yang")


class Api:
    """requests against one daemon, as tiger (privilege 15) unless told otherwise."""

    def __init__(self, daemon, auth=("tiger", "lab"), scheme="http", verify=True):
        self.base = "%s://127.0.0.1:%d" % (scheme, daemon.http_port)
        self.s = requests.Session()
        self.s.auth = auth
        self.s.verify = verify

    def url(self, path):
        return self.base + path

    def get(self, path, **kw):
        # verify per request: REQUESTS_CA_BUNDLE in the environment would override the session's
        return self.s.get(self.url(path), verify=self.s.verify, **kw)

    def send(self, method, path, body=None, headers=None, **kw):
        h = {"Content-Type": YJ}
        h.update(headers or {})
        data = json.dumps(body) if body is not None else None
        return self.s.request(method, self.url(path), data=data, headers=h, verify=self.s.verify, **kw)

    def version(self):
        r = self.get(NATIVE)
        assert r.status_code == 200
        return int(r.headers["ETag"].strip('"'))

    def show(self, command="running-config"):
        r = self.send("POST", OPS + "/scpd:show", {"scpd:input": {"command": command}})
        assert r.status_code == 200, r.text
        return r.json()["scpd:output"]["text"]


@pytest.fixture
def api(daemon):
    return Api(daemon)


def config_lines(text):
    return [l for l in text.splitlines() if l and not l.startswith("!")]


# ---- discovery ------------------------------------------------------------------------------

def test_discovery(daemon, api):
    r = requests.get(api.url("/.well-known/host-meta"))  # no credentials needed
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/xrd+xml"
    assert "<Link rel='restconf' href='/restconf'/>" in r.text
    r = api.get("/restconf")
    assert r.status_code == 200
    root = r.json()["ietf-restconf:restconf"]
    assert set(root) == {"data", "operations", "yang-library-version"}
    r = api.get("/restconf/yang-library-version")
    assert r.json() == {"ietf-restconf:yang-library-version": "2016-06-21"}
    ops = api.get(OPS).json()["ietf-restconf:operations"]
    assert "cisco-ia:save-config" in ops and "scpd:apply-config" in ops and "scpd:show" in ops
    r = api.s.options(api.url(NATIVE))
    assert r.status_code == 200 and "PATCH" in r.headers["Allow"]


CAPS = ["urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit",
        "urn:ietf:params:restconf:capability:depth:1.0",
        "urn:ietf:params:restconf:capability:fields:1.0",
        "urn:ietf:params:restconf:capability:with-defaults:1.0"]
MON = "/restconf/data/ietf-restconf-monitoring:restconf-state"
YLIB = "/restconf/data/ietf-yang-library:modules-state"
LIBYANG_YLIB = "/usr/share/yang/modules/libyang/ietf-yang-library@2019-01-04.yang"


def test_restconf_capabilities(api):
    """RFC 8040 section 9.1: restconf-state lists the capabilities next to the streams."""
    st = api.get(MON).json()["ietf-restconf-monitoring:restconf-state"]
    assert st["capabilities"] == {"capability": CAPS}
    assert {s["name"] for s in st["streams"]["stream"]} >= {"scp-debug", "transfers", "security"}
    assert api.get(MON + "/capabilities").json() == {"ietf-restconf-monitoring:capabilities": {"capability": CAPS}}
    assert api.get(MON + "/capabilities/capability").json() == {"ietf-restconf-monitoring:capability": CAPS}
    assert api.get(MON + "/capabilities/colour").status_code == 404
    root = api.get("/restconf/data").json()["ietf-restconf:data"]
    assert root["ietf-restconf-monitoring:restconf-state"]["capabilities"]["capability"] == CAPS


def test_yang_library_modules_state(api, workdir):
    """RFC 7895 (the yang-library-version /restconf names): the modules served, each with its
    revision, namespace and conformance; valid against ietf-yang-library's modules-state."""
    r = api.get(YLIB)
    assert r.status_code == 200
    ms = r.json()["ietf-yang-library:modules-state"]
    assert len(ms["module-set-id"]) == 16 and api.get(YLIB).json() == r.json()
    mods = {m["name"]: m for m in ms["module"]}
    for name in ("Cisco-IOS-XE-native", "Cisco-IOS-XE-aaa", "scpd", "ietf-restconf-monitoring",
                 "ietf-yang-library"):
        assert mods[name]["conformance-type"] == "implement", name
    with open(YANG) as f:
        text = f.read()
    assert mods["scpd"]["namespace"] == "urn:scpd:yang:scpd" and 'namespace "urn:scpd:yang:scpd"' in text
    assert "revision %s {" % mods["scpd"]["revision"] in text
    assert mods["ietf-yang-library"]["revision"] == "2016-06-21"
    assert mods["Cisco-IOS-XE-aaa"]["namespace"] == "http://cisco.com/ns/yang/Cisco-IOS-XE-aaa"
    assert "Cisco-IOS-XE-ip" in [s["name"] for s in mods["Cisco-IOS-XE-native"]["submodule"]]
    # every module prefix the API's JSON uses is listed
    native = api.get(NATIVE).text + api.get(MON).text + api.get("/restconf/data/scpd:scp-state").text
    for prefix in ("Cisco-IOS-XE-native:", "Cisco-IOS-XE-aaa:", "scpd:", "ietf-restconf-monitoring:"):
        assert prefix in native and prefix[:-1] in mods
    one = api.get(YLIB + "/module=scpd," + mods["scpd"]["revision"]).json()
    assert one == {"ietf-yang-library:module": [mods["scpd"]]}
    assert api.get(YLIB + "/module=scpd,1999-01-01").status_code == 404
    assert api.get("/restconf/data").json()["ietf-restconf:data"]["ietf-yang-library:modules-state"] == ms
    # the RFC 7895 container is kept (deprecated) in the ietf-yang-library that libyang ships;
    # "get" data: that revision's mandatory yang-library container is not ours to send
    p = os.path.join(workdir, "ylib.json")
    with open(p, "w") as f:
        f.write(r.text)
    out = subprocess.run(["yanglint", "-t", "get", LIBYANG_YLIB, p], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_get_native_shape_and_hashes(api):
    r = api.get(NATIVE)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == YJ
    assert r.headers["ETag"].startswith('"') and "Last-Modified" in r.headers
    n = r.json()["Cisco-IOS-XE-native:native"]
    assert n["username"] == [{"name": "tiger", "privilege": 15,
                              "secret": {"encryption": "9", "secret": n["username"][0]["secret"]["secret"]}}]
    assert n["username"][0]["secret"]["secret"].startswith("$9$")
    assert n["aaa"]["Cisco-IOS-XE-aaa:new-model"] == [None]
    assert n["aaa"]["Cisco-IOS-XE-aaa:authentication"]["login"] == [{"name": "default", "a1": {"local": [None]}}]
    assert n["aaa"]["Cisco-IOS-XE-aaa:authorization"]["exec"] == [{"name": "default", "a1": {"local": [None]}}]
    assert n["ip"]["scp"] == {"server": {"enable": [None]}}
    assert '"lab"' not in r.text     # as a value: the hash itself may contain the letters "lab"
    # the same through the datastore path and under /restconf/data
    r2 = api.get("/restconf/ds/ietf-datastores:running")
    assert r2.json()["ietf-restconf:data"]["Cisco-IOS-XE-native:native"] == n
    assert r2.headers["ETag"] == r.headers["ETag"]
    # ... with the query parameters of /restconf/data at its root too
    ds = "/restconf/ds/ietf-datastores:running"
    assert api.get(ds + "?depth=1").json() == {"ietf-restconf:data": {"Cisco-IOS-XE-native:native": {}}}
    assert api.get(ds + "?fields=hostname").json() == {"ietf-restconf:data": {
        "Cisco-IOS-XE-native:native": api.get(NATIVE + "?fields=hostname").json()["Cisco-IOS-XE-native:native"]}}
    assert api.get(ds + "?with-defaults=report-all").json()["ietf-restconf:data"][
        "Cisco-IOS-XE-native:native"]["ip"]["ssh"]["time-out"] == 120
    r3 = api.get("/restconf/data")
    assert r3.json()["ietf-restconf:data"]["Cisco-IOS-XE-native:native"] == n


def test_subpaths(api):
    assert api.get(NATIVE + "/ip/scp").json() == {"Cisco-IOS-XE-native:scp": {"server": {"enable": [None]}}}
    assert api.get(NATIVE + "/ip/scp/server/enable").json() == {"Cisco-IOS-XE-native:enable": [None]}
    assert api.get(NATIVE + "/aaa/Cisco-IOS-XE-aaa:new-model").json() == {"Cisco-IOS-XE-aaa:new-model": [None]}
    assert api.get(NATIVE + "/aaa/authentication/login=default").json() == {
        "Cisco-IOS-XE-aaa:login": [{"name": "default", "a1": {"local": [None]}}]}
    u = api.get(NATIVE + "/username=tiger").json()["Cisco-IOS-XE-native:username"]
    assert len(u) == 1 and u[0]["name"] == "tiger"
    # defaults appear only when asked (RFC 8040 with-defaults)
    assert api.get(NATIVE + "/ip/ssh/time-out").status_code == 404
    assert api.get(NATIVE + "/ip/ssh/time-out?with-defaults=report-all").json() == {"Cisco-IOS-XE-native:time-out": 120}
    assert api.get(NATIVE + "/hostname?with-defaults=report-all").json() == {"Cisco-IOS-XE-native:hostname": "scpd"}


DEFAULT_TAG = {"ietf-netconf-with-defaults:default": True}


def test_with_defaults_report_all_tagged(api):
    """RFC 6243 report-all-tagged in RFC 7952 JSON: each leaf holding its default gets the
    sibling annotation "@leaf"; a leaf set to another value does not."""
    assert api.send("PUT", NATIVE + "/ip/ssh/time-out", {"Cisco-IOS-XE-native:time-out": 60}).status_code == 201
    ssh = api.get(NATIVE + "/ip/ssh?with-defaults=report-all-tagged").json()
    assert ssh == {"Cisco-IOS-XE-native:ssh": {
        "time-out": 60, "authentication-retries": 3, "@authentication-retries": DEFAULT_TAG,
        "version": 2, "@version": DEFAULT_TAG}}
    # a target that is a default leaf: the annotation is its top-level sibling
    assert api.get(NATIVE + "/hostname?with-defaults=report-all-tagged").json() == {
        "Cisco-IOS-XE-native:hostname": "scpd", "@Cisco-IOS-XE-native:hostname": DEFAULT_TAG}
    assert api.get(NATIVE + "/ip/ssh/time-out?with-defaults=report-all-tagged").json() == {
        "Cisco-IOS-XE-native:time-out": 60}
    n = api.get(NATIVE + "?with-defaults=report-all-tagged").json()["Cisco-IOS-XE-native:native"]
    assert n["@hostname"] == DEFAULT_TAG and n["hostname"] == "scpd"
    assert not any(k.startswith("@") for k in n["username"][0])
    assert n["ip"]["scp"] == {"server": {"enable": [None]}}
    # with fields and depth the tags follow what is sent
    f = api.get(NATIVE + "?with-defaults=report-all-tagged&fields=ip/ssh/authentication-retries").json()
    assert f == {"Cisco-IOS-XE-native:native": {"ip": {"ssh": {
        "authentication-retries": 3, "@authentication-retries": DEFAULT_TAG}}}}
    # report-all: the same values, no annotations
    plain = api.get(NATIVE + "/ip/ssh?with-defaults=report-all").json()["Cisco-IOS-XE-native:ssh"]
    assert plain == {"time-out": 60, "authentication-retries": 3, "version": 2}


def test_query_depth_fields_content(api):
    assert api.get(NATIVE + "?depth=1").json() == {"Cisco-IOS-XE-native:native": {}}
    d2 = api.get(NATIVE + "?depth=2").json()["Cisco-IOS-XE-native:native"]
    assert set(d2) == {"username", "aaa", "ip"} and d2["ip"] == {}
    f = api.get(NATIVE + "?fields=ip/scp;aaa/Cisco-IOS-XE-aaa:new-model").json()
    assert f == {"Cisco-IOS-XE-native:native": {"ip": {"scp": {"server": {"enable": [None]}}},
                                                "aaa": {"Cisco-IOS-XE-aaa:new-model": [None]}}}
    f = api.get(NATIVE + "/username?fields=privilege").json()
    assert f == {"Cisco-IOS-XE-native:username": [{"name": "tiger", "privilege": 15}]}
    # the parenthesised form: several children below one path, nested
    f = api.get(NATIVE + "?fields=ip(scp/server;ssh);username(privilege)").json()
    assert f == {"Cisco-IOS-XE-native:native": {"ip": {"scp": {"server": {"enable": [None]}}},
                                                "username": [{"name": "tiger", "privilege": 15}]}}
    assert api.get(NATIVE + "?fields=ip(scp(server(enable)))").json() == api.get(
        NATIVE + "?fields=ip/scp/server/enable").json()
    assert api.get(NATIVE + "?content=nonconfig").json() == {"Cisco-IOS-XE-native:native": {}}
    assert api.get(NATIVE + "?content=config").json() == api.get(NATIVE).json()


def test_content_on_state_resources(api):
    """RFC 8040 4.8.1 content=: state resources (config false in their YANG) answer config with
    their member empty, as the native tree answers nonconfig; scpd:debug holds both kinds."""
    for path, member, empty in [("/restconf/data/scpd:scp-state", "scpd:scp-state", {}),
                                ("/restconf/data/scpd:scp-state/transfers", "scpd:transfers", {}),
                                ("/restconf/data/scpd:file-systems", "scpd:file-systems", {}),
                                ("/restconf/data/scpd:debug/traces", "scpd:traces", {}),
                                (MON, "ietf-restconf-monitoring:restconf-state", {}),
                                (MON + "/streams", "ietf-restconf-monitoring:streams", {}),
                                (YLIB, "ietf-yang-library:modules-state", {}),
                                ("/restconf/data/scpd:audit-log", "scpd:audit-log", {})]:
        full = api.get(path).json()
        assert full[member], path
        for content in ("nonconfig", "all"):   # live numbers move: compare the shape
            got = api.get(path + "?content=" + content).json()
            assert got.keys() == full.keys() and got[member].keys() == full[member].keys(), path
        assert api.get(path + "?content=config").json() == {member: empty}, path
    state = api.get("/restconf/data/scpd:scp-state?content=nonconfig").json()["scpd:scp-state"]
    assert "counters" in state
    dbg = api.get("/restconf/data/scpd:debug").json()["scpd:debug"]
    assert set(dbg) == {"scp", "traces"}
    assert api.get("/restconf/data/scpd:debug?content=config").json() == {"scpd:debug": {"scp": dbg["scp"]}}
    assert set(api.get("/restconf/data/scpd:debug?content=nonconfig").json()["scpd:debug"]) == {"traces"}
    assert api.get("/restconf/data/scpd:debug/scp?content=config").json() == {"scpd:scp": dbg["scp"]}
    assert api.get("/restconf/data/scpd:debug/scp?content=nonconfig").json() == {}
    # the data root holds only what the content asks for
    cfg = api.get("/restconf/data?content=config").json()["ietf-restconf:data"]
    assert set(cfg) == {"Cisco-IOS-XE-native:native", "scpd:debug"}
    assert set(cfg["scpd:debug"]) == {"scp"}
    st = api.get("/restconf/data?content=nonconfig").json()["ietf-restconf:data"]
    assert "Cisco-IOS-XE-native:native" not in st
    assert {"scpd:scp-state", "scpd:file-systems", "ietf-restconf-monitoring:restconf-state",
            "ietf-yang-library:modules-state"} <= set(st)
    assert set(st["scpd:debug"]) == {"traces"}


# ---- the acceptance commands of the issue, with curl -------------------------------------------

def curl(api, *args):
    out = subprocess.run(["curl", "-s", "-u", "tiger:lab", "-w", "\n%{http_code}"] + list(args),
                         capture_output=True, text=True, timeout=60)
    body, _, code = out.stdout.rpartition("\n")
    return int(code), body


def test_curl_put_and_delete_enable(api):
    url = api.url(NATIVE + "/ip/scp/server/enable")
    code, _ = curl(api, "-X", "DELETE", url)
    assert code == 204
    assert "ip scp server enable" not in api.show()
    assert api.get(NATIVE + "/ip/scp").status_code == 404
    code, _ = curl(api, "-X", "PUT", "-H", "Content-Type: application/yang-data+json",
                   "-d", '{"enable":[null]}', url)
    assert code == 201
    assert "ip scp server enable" in config_lines(api.show())
    # PUT again replaces what is there: 204
    code, _ = curl(api, "-X", "PUT", "-H", "Content-Type: application/yang-data+json",
                   "-d", '{"Cisco-IOS-XE-native:enable":[null]}', url)
    assert code == 204
    # the fleet-script form: PATCH the scp container
    assert curl(api, "-X", "DELETE", url)[0] == 204
    code, _ = curl(api, "-X", "PATCH", "-H", "Content-Type: application/yang-data+json", "-d",
                   '{"Cisco-IOS-XE-native:scp":{"server":{"enable":[null]}}}', api.url(NATIVE + "/ip/scp"))
    assert code == 204
    assert api.get(NATIVE + "/ip/scp").json() == {"Cisco-IOS-XE-native:scp": {"server": {"enable": [None]}}}


# ---- users -------------------------------------------------------------------------------------

def test_post_user_hashes_and_logs_in(api, daemon):
    v0 = api.version()
    r = api.send("POST", NATIVE + "/username",
                 {"Cisco-IOS-XE-native:username": [{"name": "bob", "privilege": 15,
                                                    "password": {"encryption": "0", "password": "s3cret-pw"}}]})
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith("/username=bob")
    assert int(r.headers["ETag"].strip('"')) == v0 + 1
    u = api.get(NATIVE + "/username=bob").json()["Cisco-IOS-XE-native:username"][0]
    assert u["privilege"] == 15 and "password" not in u
    assert u["secret"]["encryption"] == "9" and u["secret"]["secret"].startswith("$9$")
    # the plaintext appears nowhere: GETs, rendered config, audit log, the data directory
    for path in (NATIVE, "/restconf/data/scpd:audit-log", "/restconf/data"):
        assert "s3cret-pw" not in api.get(path).text
    assert "s3cret-pw" not in api.show()
    for dirpath, _, files in os.walk(daemon.data_dir):
        for f in files:
            if not os.path.isfile(os.path.join(dirpath, f)):
                continue   # console.sock
            with open(os.path.join(dirpath, f), "rb") as fh:
                assert b"s3cret-pw" not in fh.read()
    # the new user logs in at once (HTTP door; SSH in test_api_scp.py)
    bob = requests.get(api.url(NATIVE + "/hostname?with-defaults=report-all"), auth=("bob", "s3cret-pw"))
    assert bob.status_code == 200


def test_delete_privilege_of_user_without_secret(api):
    """A user with neither password nor secret is said `username NAME privilege N`; deleting its
    privilege leaves the user at the default privilege 1 (not an invalid `username NAME`)."""
    r = api.send("POST", NATIVE, {"Cisco-IOS-XE-native:username": [{"name": "u2", "privilege": 3}]})
    assert r.status_code == 201, r.text
    assert "username u2 privilege 3" in config_lines(api.show())
    r = api.send("DELETE", NATIVE + "/username=u2/privilege")
    assert r.status_code == 204, r.text
    assert api.get(NATIVE + "/username=u2").json() == {
        "Cisco-IOS-XE-native:username": [{"name": "u2", "privilege": 1}]}
    assert "username u2 privilege 1" in config_lines(api.show())
    # a user with a secret loses the privilege to the default too, and keeps the secret
    r = api.send("POST", NATIVE, {"Cisco-IOS-XE-native:username": [
        {"name": "u3", "privilege": 4, "secret": {"encryption": "0", "secret": "pw-u3"}}]})
    assert r.status_code == 201, r.text
    assert api.send("DELETE", NATIVE + "/username=u3/privilege").status_code == 204
    u3 = api.get(NATIVE + "/username=u3").json()["Cisco-IOS-XE-native:username"][0]
    assert u3["privilege"] == 1 and u3["secret"]["secret"].startswith("$9$")
    assert api.send("DELETE", NATIVE + "/username=u2").status_code == 204
    assert api.get(NATIVE + "/username=u2").status_code == 404


def test_user_put_patch_delete(api):
    r = api.send("PUT", NATIVE + "/username=carol",
                 {"Cisco-IOS-XE-native:username": [{"name": "carol", "privilege": 3,
                                                    "secret": {"encryption": "0", "secret": "pw-carol"}}]})
    assert r.status_code == 201
    assert "username carol privilege 3 secret 9 $9$" in api.show()
    r = api.send("PATCH", NATIVE + "/username=carol",
                 {"Cisco-IOS-XE-native:username": [{"name": "carol", "privilege": 7}]})
    assert r.status_code == 204
    u = api.get(NATIVE + "/username=carol").json()["Cisco-IOS-XE-native:username"][0]
    assert u["privilege"] == 7 and u["secret"]["secret"].startswith("$9$")  # secret kept by the merge
    assert requests.get(api.url("/restconf"), auth=("carol", "pw-carol")).status_code == 200
    # a type-7 password is decoded and hashed like IOS does
    r = api.send("PATCH", NATIVE + "/username=carol",
                 {"Cisco-IOS-XE-native:username": [{"name": "carol", "password": {"encryption": "7", "password": "094F471A1A0A"}}]})
    assert r.status_code == 204, r.text
    assert requests.get(api.url("/restconf"), auth=("carol", "cisco")).status_code == 200
    assert api.send("DELETE", NATIVE + "/username=carol").status_code == 204
    assert api.get(NATIVE + "/username=carol").status_code == 404
    assert requests.get(api.url("/restconf"), auth=("carol", "cisco")).status_code == 401


def test_aaa_ssh_login_settings(api):
    r = api.send("PATCH", NATIVE, {"Cisco-IOS-XE-native:native": {
        "hostname": "R1",
        "aaa": {"Cisco-IOS-XE-aaa:authentication": {"login": [
            {"name": "VTY", "a1": {"group": "tacacs+"}, "a2": {"local": [None]}}]},
            "Cisco-IOS-XE-aaa:authorization": {"exec": [
                {"name": "VTY", "a1": {"if-authenticated": [None]}}]}},
        "ip": {"ssh": {"time-out": 60, "authentication-retries": 2,
                       "pubkey-chain": {"username": [{"name": "tiger", "key-hash": [
                           {"key-type": "ssh-rsa", "key-hash-value": "0123456789ABCDEF0123456789ABCDEF"}]}]}}},
        "login": {"block-for": {"seconds": 120, "attempts": 5, "within": 60}}}})
    assert r.status_code == 204, r.text
    lines = config_lines(api.show())
    for want in ("hostname R1", "aaa authentication login VTY group tacacs+ local",
                 "aaa authorization exec VTY if-authenticated", "ip ssh time-out 60",
                 "ip ssh authentication-retries 2", "login block-for 120 attempts 5 within 60"):
        assert want in lines, (want, lines)
    ssh = api.get(NATIVE + "/ip/ssh").json()["Cisco-IOS-XE-native:ssh"]
    assert ssh["pubkey-chain"]["username"][0]["key-hash"][0]["key-hash-value"] == "0123456789ABCDEF0123456789ABCDEF"
    assert api.get(NATIVE + "/login/block-for").json() == {
        "Cisco-IOS-XE-native:block-for": {"seconds": 120, "attempts": 5, "within": 60}}
    # DELETE each again
    for p in ("/login/block-for", "/ip/ssh/time-out", "/aaa/authentication/login=VTY",
              "/aaa/Cisco-IOS-XE-aaa:authorization/exec=VTY", "/hostname", "/ip/ssh/pubkey-chain"):
        assert api.send("DELETE", NATIVE + p).status_code == 204, p
    lines = config_lines(api.show())
    # whole words: a secret 9 hash is random base64 and may well contain "R1"
    gone = {"VTY", "block-for", "time-out", "R1", "pubkey-chain"}
    assert not [l for l in lines if gone & set(l.split())]


def test_put_whole_native_replaces(api):
    cur = api.get(NATIVE).json()
    cur["Cisco-IOS-XE-native:native"]["hostname"] = "EDGE"
    del cur["Cisco-IOS-XE-native:native"]["ip"]
    assert api.send("PUT", NATIVE, cur).status_code == 204
    lines = config_lines(api.show())
    assert "hostname EDGE" in lines and "ip scp server enable" not in lines
    assert "username tiger privilege 15 secret 9 " + cur["Cisco-IOS-XE-native:native"]["username"][0]["secret"]["secret"] in lines


# ---- concurrency ---------------------------------------------------------------------------------

def test_etag_if_match(api):
    r = api.get(NATIVE)
    tag = r.headers["ETag"]
    r = api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "A1"}, headers={"If-Match": tag})
    assert r.status_code == 201
    new = r.headers["ETag"]
    assert new != tag
    # a second writer holding the old tag loses
    r = api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "B1"}, headers={"If-Match": tag})
    assert r.status_code == 412
    assert api.get(NATIVE + "/hostname").json() == {"Cisco-IOS-XE-native:hostname": "A1"}
    r = api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "B1"},
                 headers={"If-Unmodified-Since": api.get(NATIVE).headers["Last-Modified"]})
    assert r.status_code == 204
    # a write that changes nothing keeps the version
    v = api.version()
    assert api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "B1"}).status_code == 204
    assert api.version() == v


# ---- datastores and operations -----------------------------------------------------------------

def test_save_config_and_startup(api):
    assert api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "SAVED"}).status_code == 201
    start = api.get("/restconf/ds/ietf-datastores:startup").json()["ietf-restconf:data"]["Cisco-IOS-XE-native:native"]
    assert "hostname" not in start
    r = api.send("POST", OPS + "/cisco-ia:save-config")
    assert r.status_code == 200
    assert r.json() == {"cisco-ia:output": {"result": "Save running-config successful"}}
    start = api.get("/restconf/ds/ietf-datastores:startup").json()["ietf-restconf:data"]["Cisco-IOS-XE-native:native"]
    assert start == api.get(NATIVE).json()["Cisco-IOS-XE-native:native"]
    assert config_lines(api.show("startup-config"))[-1] == "end"
    assert "hostname SAVED" in config_lines(api.show("startup-config"))


STARTUP = "/restconf/ds/ietf-datastores:startup"


def test_startup_datastore_paths_queries_and_validators(api):
    """The startup datastore is read like the running one: paths below native, depth, fields,
    with-defaults; its ETag changes exactly when the saved text changes and Last-Modified is the
    time of the last save (stable between saves); writes are 405."""
    r1, r2 = api.get(STARTUP), api.get(STARTUP)
    assert r1.status_code == 200
    assert r1.headers["ETag"].startswith('"') and r1.headers["ETag"] == r2.headers["ETag"]
    assert r1.headers["Last-Modified"] == r2.headers["Last-Modified"]
    assert api.get(STARTUP + "/Cisco-IOS-XE-native:native/ip/scp").json() == {
        "Cisco-IOS-XE-native:scp": {"server": {"enable": [None]}}}
    assert api.get(STARTUP + "/Cisco-IOS-XE-native:native/ip/scp/server/enable").json() == {
        "Cisco-IOS-XE-native:enable": [None]}
    u = api.get(STARTUP + "/Cisco-IOS-XE-native:native/username=tiger?fields=privilege").json()
    assert u == {"Cisco-IOS-XE-native:username": [{"name": "tiger", "privilege": 15}]}
    d = api.get(STARTUP + "/Cisco-IOS-XE-native:native?depth=1").json()
    assert d == {"Cisco-IOS-XE-native:native": {}}
    assert api.get(STARTUP + "/Cisco-IOS-XE-native:native/hostname").status_code == 404
    assert api.get(STARTUP + "/Cisco-IOS-XE-native:native/hostname?with-defaults=report-all").json() == {
        "Cisco-IOS-XE-native:hostname": "scpd"}
    miss = api.get(STARTUP + "/Cisco-IOS-XE-native:native/ip/colour")
    assert miss.status_code == 404 and miss.headers["ETag"] == r1.headers["ETag"]
    assert api.send("PUT", STARTUP + "/Cisco-IOS-XE-native:native/hostname",
                    {"Cisco-IOS-XE-native:hostname": "X"}).status_code == 405
    # a change of running alone leaves startup's validators as they were
    assert api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "ST1"}).status_code == 201
    r3 = api.get(STARTUP)
    assert (r3.headers["ETag"], r3.headers["Last-Modified"]) == (r1.headers["ETag"], r1.headers["Last-Modified"])
    assert api.send("POST", OPS + "/cisco-ia:save-config").status_code == 200
    r4 = api.get(STARTUP + "/Cisco-IOS-XE-native:native/hostname")
    assert r4.json() == {"Cisco-IOS-XE-native:hostname": "ST1"}
    assert r4.headers["ETag"] != r1.headers["ETag"]
    assert api.get(STARTUP).headers["ETag"] == r4.headers["ETag"]


def test_apply_config_merge_replace_dry_run(api):
    v = api.version()
    r = api.send("POST", OPS + "/scpd:apply-config",
                 {"scpd:input": {"config": "hostname DRY\n", "dry-run": True}})
    assert r.status_code == 200
    out = r.json()["scpd:output"]
    assert out["diff"] == "- hostname scpd\n+ hostname DRY\n"
    assert out["dry-run"] is True and out["changed"] is True
    assert api.version() == v
    r = api.send("POST", OPS + "/scpd:apply-config",
                 {"scpd:input": {"config": "hostname MERGED\nusername dave privilege 2 password 0 pw-d\n"}})
    assert r.status_code == 200
    assert int(r.json()["scpd:output"]["version"]) == v + 1
    assert "username dave privilege 2 secret 9 <hidden>" in r.json()["scpd:output"]["diff"]
    assert "pw-d" not in r.text
    lines = config_lines(api.show())
    assert "hostname MERGED" in lines and "ip scp server enable" in lines
    # replace: the result is exactly the text
    text = api.show()
    r = api.send("POST", OPS + "/scpd:apply-config",
                 {"scpd:input": {"config": text.replace("ip scp server enable\n", ""), "mode": "replace"}})
    assert r.status_code == 200, r.text
    diff = r.json()["scpd:output"]["diff"].splitlines()
    assert "- ip scp server enable" in diff and not [l for l in diff if l.startswith("+")]
    # the parser's line errors, in the IOS marker form
    r = api.send("POST", OPS + "/scpd:apply-config",
                 {"scpd:input": {"config": "hostname X\nip ssh time-out 500\n"}})
    assert r.status_code == 400
    err = r.json()["ietf-restconf:errors"]["error"][0]
    assert err["error-info"]["scpd:line"] == 2
    assert "% Invalid input detected at '^' marker" in err["error-message"]
    assert "value out of range 1-120" in err["error-message"]


def test_show_text_plain(api):
    r = api.send("POST", OPS + "/scpd:show", {"scpd:input": {"command": "running-config"}},
                 headers={"Accept": "text/plain"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert r.text.startswith("Building configuration...\n\nCurrent configuration : ")
    assert r.text.endswith("end\n")
    n = int(r.text.split("Current configuration : ")[1].split(" ")[0])
    assert r.text == api.show()
    allv = api.show("running-config-all")
    assert "ip ssh time-out 120" in allv and "ip ssh time-out 120" not in r.text
    assert n > 0


def test_audit_log_records_api_changes(api):
    assert api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "AUD"}).status_code == 201
    log = api.get("/restconf/data/scpd:audit-log").json()["scpd:audit-log"]["entry"]
    last = log[-1]
    assert last["user"] == "tiger" and last["source"] == "api" and last["target"] == "running"
    assert last["peer"].startswith("127.0.0.1:")
    assert "+ hostname AUD" in last["diff"]
    since = log[-2]["id"]
    tail = api.get("/restconf/data/scpd:audit-log?since=%s" % since).json()["scpd:audit-log"]["entry"]
    assert [e["id"] for e in tail] == [last["id"]]


def test_audit_log_limit_is_the_newest_and_since_pages_forward(api):
    """limit=N alone is the tail (the newest N, oldest first); since=ID&limit=N pages forward
    from ID, and paging from since=0 visits every entry once, in order."""
    for i in range(5):
        r = api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "P%d" % i})
        assert r.status_code in (201, 204), r.text
    url = "/restconf/data/scpd:audit-log"
    every = api.get(url).json()["scpd:audit-log"]["entry"]
    ids = [int(e["id"]) for e in every]
    assert ids == sorted(ids) and len(ids) >= 6
    newest = api.get(url + "?limit=2").json()["scpd:audit-log"]["entry"]
    assert [int(e["id"]) for e in newest] == ids[-2:]
    assert "+ hostname P4" in newest[-1]["diff"]
    seen, since = [], 0
    while True:
        page = api.get(url + "?since=%d&limit=2" % since).json()["scpd:audit-log"]["entry"]
        if not page:
            break
        assert len(page) <= 2
        seen += [int(e["id"]) for e in page]
        since = seen[-1]
    assert seen == ids


def test_yanglint_validates_scpd_json(api, workdir):
    """Our module is valid YANG, and what the API returns for scpd: resources is valid data."""
    subprocess.run(["yanglint", YANG], check=True)
    api.send("PUT", NATIVE + "/hostname", {"Cisco-IOS-XE-native:hostname": "Y"})
    docs = [api.get("/restconf/data/scpd:audit-log").json(),
            api.get("/restconf/data/scpd:file-systems").json()]
    for i, doc in enumerate(docs):
        p = os.path.join(workdir, "data%d.json" % i)
        with open(p, "w") as f:
            json.dump(doc, f)
        r = subprocess.run(["yanglint", "-t", "data", YANG, p], capture_output=True, text=True)
        assert r.returncode == 0, (doc, r.stderr)
    # operation outputs: RFC 8040 sends {"scpd:output": X}; yanglint reads a reply as {"scpd:OP": X}
    replies = {
        "apply-config": api.send("POST", OPS + "/scpd:apply-config",
                                 {"scpd:input": {"config": "hostname Z\n", "dry-run": True}}),
        "show": api.send("POST", OPS + "/scpd:show", {"scpd:input": {"command": "running-config"}}),
        "login": requests.post(api.url(OPS + "/scpd:login"), auth=("tiger", "lab")),
    }
    for op, r in replies.items():
        assert r.status_code == 200, r.text
        p = os.path.join(workdir, "reply-%s.json" % op)
        with open(p, "w") as f:
            json.dump({"scpd:" + op: r.json()["scpd:output"]}, f)
        out = subprocess.run(["yanglint", "-t", "reply", YANG, p], capture_output=True, text=True)
        assert out.returncode == 0, (op, r.text, out.stderr)
    # a deliberately wrong document is refused, so the check above means something
    p = os.path.join(workdir, "bad.json")
    with open(p, "w") as f:
        json.dump({"scpd:audit-log": {"entry": [{"id": "1", "source": "telnet"}]}}, f)
    assert subprocess.run(["yanglint", "-t", "data", YANG, p], capture_output=True).returncode != 0


# ---- authentication and privilege ---------------------------------------------------------------

LOW = LOCAL_AUTH + "username op privilege 5 password 0 oppw\n"


def test_tokens_and_privilege(start_daemon):
    d = start_daemon(config=LOW)
    api = Api(d)
    r = requests.post(api.url(OPS + "/scpd:login"), auth=("tiger", "lab"))
    assert r.status_code == 200
    out = r.json()["scpd:output"]
    tok = out["token"]
    assert len(tok) == 64 and out["privilege"] == 15 and out["expires-in"] == 3600
    bearer = {"Authorization": "Bearer " + tok}
    assert requests.get(api.url(NATIVE), headers=bearer).status_code == 200
    # blanks after the token are trimmed as after Basic credentials; more than blanks is refused
    for tail, code in (("  ", 200), ("\t ", 200), (" x", 401), ("0", 401)):
        h = {"Authorization": "Bearer " + tok + tail}
        assert requests.get(api.url(NATIVE), headers=h).status_code == code, repr(tail)
    # a token cannot mint tokens; no cookies are ever set
    r = requests.post(api.url(OPS + "/scpd:login"), headers=bearer)
    assert r.status_code == 403 and "Set-Cookie" not in r.headers
    # privilege 5: operational reads only
    op = requests.post(api.url(OPS + "/scpd:login"), auth=("op", "oppw")).json()["scpd:output"]
    assert op["privilege"] == 5
    opb = {"Authorization": "Bearer " + op["token"]}
    assert requests.get(api.url("/restconf"), headers=opb).status_code == 200
    assert requests.get(api.url(NATIVE), headers=opb).status_code == 403
    data = requests.get(api.url("/restconf/data"), headers=opb)
    assert data.status_code == 200 and "Cisco-IOS-XE-native:native" not in data.json()["ietf-restconf:data"]
    r = requests.put(api.url(NATIVE + "/hostname"), headers=dict(opb, **{"Content-Type": YJ}),
                     data='{"hostname":"X"}')
    assert r.status_code == 403
    # raising op's privilege applies to its token at once
    assert api.send("PATCH", NATIVE + "/username=op",
                    {"Cisco-IOS-XE-native:username": [{"name": "op", "privilege": 15}]}).status_code == 204
    assert requests.get(api.url(NATIVE), headers=opb).status_code == 200
    # deleting the user ends its token's rights
    assert api.send("DELETE", NATIVE + "/username=op").status_code == 204
    assert requests.get(api.url(NATIVE), headers=opb).status_code == 401   # bound to the account
    # logout revokes
    assert requests.post(api.url(OPS + "/scpd:logout"), headers=bearer).status_code == 204
    r = requests.get(api.url(NATIVE), headers=bearer)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="scpd"'
    # a logout whose token has blanks after it revokes that token too (it is trimmed as for any
    # request, not only to authenticate the logout)
    tok2 = requests.post(api.url(OPS + "/scpd:login"), auth=("tiger", "lab")).json()
    b2 = {"Authorization": "Bearer " + tok2["scpd:output"]["token"]}
    assert requests.get(api.url(NATIVE), headers=b2).status_code == 200
    blank = {"Authorization": b2["Authorization"] + "  "}
    assert requests.post(api.url(OPS + "/scpd:logout"), headers=blank).status_code == 204
    assert requests.get(api.url(NATIVE), headers=b2).status_code == 401


def test_logging_in_again_and_again_replaces_only_ones_own_tokens(start_daemon):
    # A user holds at most LIM_TOKENS_PER_USER (16) tokens: the 17th login evicts that user's
    # oldest, never another user's.
    d = start_daemon(config=LOW)
    api = Api(d)

    def login(user, pw):
        r = requests.post(api.url(OPS + "/scpd:login"), auth=(user, pw))
        assert r.status_code == 200, r.text
        return {"Authorization": "Bearer " + r.json()["scpd:output"]["token"]}

    def works(h):
        return requests.get(api.url("/restconf"), headers=h).status_code == 200

    other = login("op", "oppw")
    mine = [login("tiger", "lab") for _ in range(20)]
    assert [works(h) for h in mine] == [False] * 4 + [True] * 16
    assert works(other)


def test_http_login_failures_count_towards_block_for(start_daemon):
    d = start_daemon(config=LOCAL_AUTH + "login block-for 60 attempts 3 within 60\n")
    api = Api(d)
    for _ in range(3):
        assert requests.get(api.url(NATIVE), auth=("tiger", "wrong")).status_code == 401
    r = requests.get(api.url(NATIVE), auth=("tiger", "lab"))
    assert r.status_code == 429
    assert "login block-for" in r.json()["ietf-restconf:errors"]["error"][0]["error-message"]
    assert int(r.headers["Retry-After"]) > 0


# ---- listeners -----------------------------------------------------------------------------------

def test_https(start_daemon, workdir):
    cert, key = os.path.join(workdir, "c.pem"), os.path.join(workdir, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    d = start_daemon(args=["--tls-cert", cert, "--tls-key", key])
    api = Api(d, scheme="https", verify=cert)
    r = api.get(NATIVE + "/ip/scp")
    assert r.status_code == 200 and r.json() == {"Cisco-IOS-XE-native:scp": {"server": {"enable": [None]}}}
    out = subprocess.run(["curl", "-s", "--cacert", cert, "-u", "tiger:lab",
                          api.url("/restconf/yang-library-version")], capture_output=True, text=True)
    assert "2016-06-21" in out.stdout
    # plain HTTP to the TLS port gets no answer
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://127.0.0.1:%d/restconf" % d.http_port, auth=("tiger", "lab"), timeout=10)


def test_several_listen_addresses(start_daemon):
    args = ["--http-listen", "127.0.0.1:0"]
    v6 = socket.has_ipv6
    if v6:
        try:
            s = socket.socket(socket.AF_INET6)
            s.bind(("::1", 0))
            s.close()
            args += ["--http-listen", "[::1]:0"]
        except OSError:
            v6 = False
    d = start_daemon(args=args)
    lines = [l for l in d.stdout_lines if l.startswith("http listening on ")]
    assert len(lines) == (3 if v6 else 2)
    for l in lines:
        addr = l[len("http listening on "):]
        r = requests.get("http://%s/restconf/yang-library-version" % addr, auth=("tiger", "lab"))
        assert r.status_code == 200


def test_bad_listen_address_is_a_clear_error(workdir):
    from conftest import SCPD_BIN
    cfg = os.path.join(workdir, "s.cfg")
    with open(cfg, "w") as f:
        f.write(LOCAL_AUTH)
    out = subprocess.run([SCPD_BIN, "--data-dir", os.path.join(workdir, "d"), "--startup-config", cfg,
                          "--ssh-listen", "127.0.0.1:0", "--http-listen", "256.1.1.1:80"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "256.1.1.1:80" in out.stderr


# ---- limits --------------------------------------------------------------------------------------

def test_slow_clients_do_not_starve_others(api, daemon):
    port = daemon.http_port
    slow = []
    for i in range(20):   # from two other sources: LIM_HTTP_PER_SOURCE is 16
        s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.%d" % (2 + i % 2), 0))
        s.sendall(b"GET /restconf HTTP/1.1\r\nHost: x\r\n")   # never finishes its headers
        slow.append(s)
    r = api.get("/restconf/yang-library-version", timeout=10)
    assert r.status_code == 200
    # the server drops a client whose headers are not complete within LIM_HTTP_HEADER_SECS (10 s)
    slow[0].settimeout(60)
    assert slow[0].recv(100) == b""
    for s in slow:
        s.close()


def test_connections_per_source_are_bounded(api, daemon):
    port = daemon.http_port
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
    extra = socket.create_connection(("127.0.0.1", port))
    extra.settimeout(10)
    extra.sendall(b"GET /.well-known/host-meta HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        got = extra.recv(100)
    except ConnectionResetError:
        got = b""
    assert got == b""          # refused: the source already has LIM_HTTP_PER_SOURCE connections
    extra.close()
    for s in held:
        s.close()
    # the server notices the closed connections on its own threads; then the source may connect
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(api.url("/.well-known/host-meta"), timeout=10).status_code == 200:
                break
        except requests.exceptions.ConnectionError:
            pass
        time.sleep(0.1)
    assert requests.get(api.url("/.well-known/host-meta"), timeout=10).status_code == 200


def test_header_limits_get_json_431(api, daemon):
    def raw(headers):
        s = socket.create_connection(("127.0.0.1", daemon.http_port), timeout=30)
        s.sendall(b"GET /.well-known/host-meta HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data and data.split(b"\r\n\r\n", 1)[1].count(b"}") >= 3:
                break
        s.close()
        return data
    big = raw(b"X-Big: " + b"a" * 40000 + b"\r\n")
    assert big.startswith(b"HTTP/1.1 431"), big[:100]
    body = json.loads(big.split(b"\r\n\r\n", 1)[1])
    assert body["ietf-restconf:errors"]["error"][0]["error-tag"] == "too-big"
    many = raw(b"".join(b"X-H%d: v\r\n" % i for i in range(100)))
    assert many.startswith(b"HTTP/1.1 431"), many[:100]
    assert requests.get(api.url("/.well-known/host-meta")).status_code == 200


def test_concurrent_writers_lose_nothing(api):
    """Eight clients add users at once without If-Match: every request is one commit, none is
    lost and none fails because another writer got in first."""
    import threading
    token = requests.post(api.url(OPS + "/scpd:login"), auth=("tiger", "lab")).json()["scpd:output"]["token"]
    h = {"Authorization": "Bearer " + token, "Content-Type": YJ}
    v0 = api.version()
    codes = []

    def worker(n):
        for i in range(3):
            body = {"Cisco-IOS-XE-native:username": [{"name": "u%d-%d" % (n, i), "privilege": 1}]}
            r = requests.post(api.url(NATIVE + "/username"), headers=h, data=json.dumps(body))
            codes.append(r.status_code)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [201] * 24
    names = {u["name"] for u in api.get(NATIVE + "/username").json()["Cisco-IOS-XE-native:username"]}
    assert {"u%d-%d" % (n, i) for n in range(8) for i in range(3)} <= names
    assert api.version() == v0 + 24

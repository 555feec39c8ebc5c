"""Bad requests to the RESTCONF API, as data: each row is one request a careless script or a hostile
client could send, with the status RFC 8040 gives it and the error-tag of the
{"ietf-restconf:errors": ...} body. After every row the running datastore is still at the same
version (its ETag), so nothing was half-applied. One daemon serves the whole table."""
import http.client
import json
import os
import shutil
import socket
import tempfile

import pytest
import requests

from conftest import Daemon, LOCAL_AUTH

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
OPS = "/restconf/operations"
JSON = {"Content-Type": "application/yang-data+json"}
CONFIG = LOCAL_AUTH + "username op privilege 5 password 0 oppw\n"


def j(obj):
    return json.dumps(obj)


# (id, method, path, headers, body, status, error-tag or None, who)
# who: "admin" (bearer token of tiger, privilege 15), "op" (Basic op:oppw, privilege 5), "none",
# or a literal Authorization header value.
CASES = [
    # malformed JSON and duplicate members
    ("truncated-json", "PUT", NATIVE + "/hostname", JSON, '{"hostname": ', 400, "malformed-message", "admin"),
    ("trailing-garbage", "PUT", NATIVE + "/hostname", JSON, '{"hostname":"a"} x', 400, "malformed-message", "admin"),
    ("not-json", "PATCH", NATIVE, JSON, "hostname R1", 400, "malformed-message", "admin"),
    ("duplicate-keys", "PUT", NATIVE + "/hostname", JSON,
     '{"Cisco-IOS-XE-native:hostname":"a","Cisco-IOS-XE-native:hostname":"b"}', 400, "malformed-message", "admin"),
    ("duplicate-keys-nested", "PATCH", NATIVE, JSON,
     '{"Cisco-IOS-XE-native:native":{"ip":{"ssh":{"time-out":5,"time-out":6}}}}', 400, "malformed-message", "admin"),
    ("duplicate-after-prefix", "PATCH", NATIVE, JSON,
     j({"Cisco-IOS-XE-native:native": {"hostname": "a", "Cisco-IOS-XE-native:hostname": "b"}}), 400, "invalid-value", "admin"),
    # wrong types
    ("hostname-number", "PUT", NATIVE + "/hostname", JSON, j({"Cisco-IOS-XE-native:hostname": 5}), 400, "invalid-value", "admin"),
    ("timeout-string", "PUT", NATIVE + "/ip/ssh/time-out", JSON, j({"Cisco-IOS-XE-native:time-out": "60"}), 400, "invalid-value", "admin"),
    ("privilege-string", "PATCH", NATIVE + "/username=tiger", JSON,
     j({"Cisco-IOS-XE-native:username": [{"name": "tiger", "privilege": "15"}]}), 400, "invalid-value", "admin"),
    ("enable-true", "PUT", NATIVE + "/ip/scp/server/enable", JSON, j({"Cisco-IOS-XE-native:enable": True}), 400, "invalid-value", "admin"),
    ("enable-one", "PUT", NATIVE + "/ip/scp/server/enable", JSON, j({"enable": [1]}), 400, "invalid-value", "admin"),
    ("list-as-object", "POST", NATIVE, JSON, j({"username": {"name": "x"}}), 400, "invalid-value", "admin"),
    ("container-as-string", "PATCH", NATIVE, JSON, j({"Cisco-IOS-XE-native:native": {"ip": "x"}}), 400, "invalid-value", "admin"),
    ("encryption-number", "POST", NATIVE, JSON,
     j({"username": [{"name": "x", "secret": {"encryption": 0, "secret": "a"}}]}), 400, "invalid-value", "admin"),
    # unknown leaves and modules
    ("unknown-leaf", "PATCH", NATIVE, JSON, j({"Cisco-IOS-XE-native:native": {"colour": "red"}}), 400, "unknown-element", "admin"),
    ("unknown-leaf-in-entry", "POST", NATIVE, JSON, j({"username": [{"name": "x", "colour": "red"}]}), 400, "unknown-element", "admin"),
    ("wrong-module", "PATCH", NATIVE, JSON, j({"Cisco-IOS-XE-native:native": {"Cisco-IOS-XE-aaa:hostname": "a"}}), 400, "unknown-element", "admin"),
    ("body-other-member", "PUT", NATIVE + "/hostname", JSON, j({"Cisco-IOS-XE-native:time-out": 5}), 400, "unknown-element", "admin"),
    ("apply-unknown-input", "POST", OPS + "/scpd:apply-config", JSON, j({"scpd:input": {"config": "", "force": True}}), 400, "unknown-element", "admin"),
    # values the config language refuses
    ("timeout-500", "PUT", NATIVE + "/ip/ssh/time-out", JSON, j({"Cisco-IOS-XE-native:time-out": 500}), 400, "invalid-value", "admin"),
    ("retries-9", "PUT", NATIVE + "/ip/ssh/authentication-retries", JSON, j({"Cisco-IOS-XE-native:authentication-retries": 9}), 400, "invalid-value", "admin"),
    ("privilege-16", "PATCH", NATIVE + "/username=tiger", JSON,
     j({"Cisco-IOS-XE-native:username": [{"name": "tiger", "privilege": 16}]}), 400, "invalid-value", "admin"),
    ("ssh-version-1", "PUT", NATIVE + "/ip/ssh/version", JSON, j({"Cisco-IOS-XE-native:version": 1}), 400, "invalid-value", "admin"),
    ("block-for-partial", "PUT", NATIVE + "/login/block-for", JSON, j({"Cisco-IOS-XE-native:block-for": {"seconds": 60}}), 400, "missing-element", "admin"),
    ("hostname-space", "PUT", NATIVE + "/hostname", JSON, j({"Cisco-IOS-XE-native:hostname": "R 1"}), 400, "invalid-value", "admin"),
    ("name-newline-injection", "POST", NATIVE, JSON,
     j({"username": [{"name": "x\nip scp server enable", "privilege": 15}]}), 400, "invalid-value", "admin"),
    ("password-newline-injection", "POST", NATIVE, JSON,
     j({"username": [{"name": "x", "password": {"encryption": "0", "password": "a\nno aaa new-model"}}]}), 400, "invalid-value", "admin"),
    ("secret5-malformed", "POST", NATIVE, JSON,
     j({"username": [{"name": "x", "secret": {"encryption": "5", "secret": "nohash"}}]}), 400, "invalid-value", "admin"),
    ("key-mismatch", "PUT", NATIVE + "/username=bob", JSON, j({"Cisco-IOS-XE-native:username": [{"name": "alice"}]}), 400, "invalid-value", "admin"),
    ("duplicate-entries", "POST", NATIVE, JSON, j({"username": [{"name": "a"}, {"name": "a"}]}), 400, "invalid-value", "admin"),
    ("entry-without-key", "POST", NATIVE, JSON, j({"username": [{"privilege": 3}]}), 400, "missing-element", "admin"),
    ("method-slot-two", "PATCH", NATIVE, JSON,
     j({"Cisco-IOS-XE-native:native": {"aaa": {"Cisco-IOS-XE-aaa:authentication": {"login": [
         {"name": "default", "a1": {"local": [None], "none": [None]}}]}}}}), 400, "invalid-value", "admin"),
    ("key-on-container", "GET", NATIVE + "/ip=x", {}, None, 400, "invalid-value", "admin"),
    ("no-body-put", "PUT", NATIVE + "/hostname", JSON, None, 400, "malformed-message", "admin"),
    ("two-members", "PUT", NATIVE + "/hostname", JSON, j({"hostname": "a", "x": 1}), 400, "malformed-message", "admin"),
    # query parameters
    ("depth-0", "GET", NATIVE + "?depth=0", {}, None, 400, "invalid-value", "admin"),
    ("with-defaults-bogus", "GET", NATIVE + "?with-defaults=sometimes", {}, None, 400, "invalid-value", "admin"),
    ("unknown-query", "GET", NATIVE + "?colour=red", {}, None, 400, "invalid-value", "admin"),
    ("fields-unknown", "GET", NATIVE + "?fields=colour", {}, None, 400, "invalid-value", "admin"),
    ("fields-unbalanced", "GET", NATIVE + "?fields=ip(scp", {}, None, 400, "invalid-value", "admin"),
    ("fields-stray-close", "GET", NATIVE + "?fields=ip)", {}, None, 400, "invalid-value", "admin"),
    ("fields-empty-group", "GET", NATIVE + "?fields=ip()", {}, None, 400, "invalid-value", "admin"),
    ("fields-empty-path", "GET", NATIVE + "?fields=ip;;aaa", {}, None, 400, "invalid-value", "admin"),
    ("fields-too-deep", "GET", NATIVE + "?fields=" + "ip(" * 9 + "scp" + ")" * 9, {}, None, 400,
     "invalid-value", "admin"),
    ("fields-unknown-inside", "GET", NATIVE + "?fields=ip(scp;colour)", {}, None, 400,
     "invalid-value", "admin"),
    ("content-bogus", "GET", NATIVE + "?content=some", {}, None, 400, "invalid-value", "admin"),
    ("audit-limit-0", "GET", "/restconf/data/scpd:audit-log?limit=0", {}, None, 400, "invalid-value", "admin"),
    ("bad-percent", "GET", NATIVE + "/username=%zz", {}, None, 400, "invalid-value", "admin"),
    # a decoded name that is not UTF-8 still gets its JSON error body (jansson refuses such text)
    ("stream-name-not-utf8", "GET", "/restconf/streams/%ff", {}, None, 404, "invalid-value", "admin"),
    # operations
    ("apply-missing-config", "POST", OPS + "/scpd:apply-config", JSON, j({"scpd:input": {"mode": "merge"}}), 400, "missing-element", "admin"),
    ("apply-bad-mode", "POST", OPS + "/scpd:apply-config", JSON, j({"scpd:input": {"config": "", "mode": "append"}}), 400, "invalid-value", "admin"),
    ("apply-dry-run-string", "POST", OPS + "/scpd:apply-config", JSON, j({"scpd:input": {"config": "", "dry-run": "yes"}}), 400, "invalid-value", "admin"),
    ("apply-parse-error", "POST", OPS + "/scpd:apply-config", JSON,
     j({"scpd:input": {"config": "hostname R2\nip ssh time-out 500\n"}}), 400, "invalid-value", "admin"),
    ("apply-unknown-line", "POST", OPS + "/scpd:apply-config", JSON,
     j({"scpd:input": {"config": "ip scp server enable\nshutdown everything\n", "mode": "replace"}}), 400, "invalid-value", "admin"),
    ("show-unknown", "POST", OPS + "/scpd:show", JSON, j({"scpd:input": {"command": "tech-support"}}), 400, "invalid-value", "admin"),
    ("op-input-not-object", "POST", OPS + "/scpd:show", JSON, j({"scpd:input": "running-config"}), 400, "malformed-message", "admin"),
    # media type
    ("content-type-text", "PUT", NATIVE + "/hostname", {"Content-Type": "text/plain"}, j({"hostname": "a"}), 415, "invalid-value", "admin"),
    ("content-type-xml", "PATCH", NATIVE, {"Content-Type": "application/yang-data+xml"}, "<native/>", 415, "invalid-value", "admin"),
    ("content-type-missing", "POST", NATIVE, {"Content-Type": ""}, j({"username": [{"name": "x"}]}), 415, "invalid-value", "admin"),
    # unknown resources and missing data
    ("unknown-subtree", "GET", NATIVE + "/interface", {}, None, 404, "invalid-value", "admin"),
    ("unknown-module", "GET", "/restconf/data/foo:bar", {}, None, 404, "invalid-value", "admin"),
    ("unknown-root", "GET", "/restconf/nothing", {}, None, 404, "invalid-value", "admin"),
    ("unknown-top", "GET", "/index.php", {}, None, 404, "invalid-value", "none"),
    ("get-missing-user", "GET", NATIVE + "/username=nobody", {}, None, 404, "invalid-value", "admin"),
    ("delete-missing-user", "DELETE", NATIVE + "/username=nobody", {}, None, 404, "data-missing", "admin"),
    ("delete-default-leaf", "DELETE", NATIVE + "/ip/ssh/time-out", {}, None, 404, "data-missing", "admin"),
    ("patch-missing-user", "PATCH", NATIVE + "/username=nobody", JSON,
     j({"Cisco-IOS-XE-native:username": [{"name": "nobody", "privilege": 2}]}), 404, "data-missing", "admin"),
    ("startup-subtree", "GET", "/restconf/ds/ietf-datastores:startup/foo", {}, None, 404, "invalid-value", "admin"),
    ("startup-bad-depth", "GET", "/restconf/ds/ietf-datastores:startup/Cisco-IOS-XE-native:native?depth=0", {}, None, 400, "invalid-value", "admin"),
    ("startup-unknown-query", "GET", "/restconf/ds/ietf-datastores:startup?colour=red", {}, None, 400, "invalid-value", "admin"),
    ("startup-unknown-leaf", "GET", "/restconf/ds/ietf-datastores:startup/Cisco-IOS-XE-native:native/ip/colour", {}, None, 404, "invalid-value", "admin"),
    # RFC 8040 4.8: each query parameter at most once; unknown ones refused on every resource
    ("depth-twice", "GET", NATIVE + "?depth=1&depth=2", {}, None, 400, "invalid-value", "admin"),
    ("fields-twice", "GET", NATIVE + "?fields=hostname&depth=1&fields=ip", {}, None, 400, "invalid-value", "admin"),
    ("history-limit-twice", "GET", "/restconf/data/scpd:scp-state/transfers?limit=1&limit=2", {}, None, 400, "invalid-value", "admin"),
    ("history-unknown-query", "GET", "/restconf/data/scpd:scp-state/transfers?foo=bar", {}, None, 400, "invalid-value", "admin"),
    ("state-unknown-query", "GET", "/restconf/data/scpd:scp-state?depth=1", {}, None, 400, "invalid-value", "admin"),
    ("traces-unknown-query", "GET", "/restconf/data/scpd:debug/traces?user=x", {}, None, 400, "invalid-value", "admin"),
    ("fs-unknown-query", "GET", "/restconf/data/scpd:file-systems?foo=bar", {}, None, 400, "invalid-value", "op"),
    ("monitoring-unknown-query", "GET", "/restconf/data/ietf-restconf-monitoring:restconf-state?foo=1", {}, None, 400, "invalid-value", "admin"),
    ("ylib-unknown-query", "GET", "/restconf/data/ietf-yang-library:modules-state?depth=1", {}, None, 400, "invalid-value", "admin"),
    ("root-unknown-query", "GET", "/restconf?foo=1", {}, None, 400, "invalid-value", "admin"),
    ("data-unknown-query", "GET", "/restconf/data?limit=1", {}, None, 400, "invalid-value", "admin"),
    ("audit-unknown-query", "GET", "/restconf/data/scpd:audit-log?user=x", {}, None, 400, "invalid-value", "admin"),
    ("op-query", "POST", OPS + "/cisco-ia:save-config?depth=1", {}, None, 400, "invalid-value", "admin"),
    ("metrics-query", "GET", "/metrics?foo=1", {}, None, 400, "invalid-value", "admin"),
    ("state-content-bogus", "GET", "/restconf/data/scpd:scp-state?content=state", {}, None, 400, "invalid-value", "admin"),
    ("debug-content-twice", "GET", "/restconf/data/scpd:debug?content=config&content=all", {}, None, 400, "invalid-value", "admin"),
    # existing data
    ("post-existing-user", "POST", NATIVE + "/username", JSON,
     j({"Cisco-IOS-XE-native:username": [{"name": "tiger", "privilege": 1}]}), 409, "data-exists", "admin"),
    ("post-existing-scp", "POST", NATIVE + "/ip", JSON, j({"Cisco-IOS-XE-native:scp": {"server": {"enable": [None]}}}), 409, "data-exists", "admin"),
    # methods
    ("delete-operation", "DELETE", OPS + "/cisco-ia:save-config", {}, None, 405, "operation-not-supported", "admin"),
    ("put-audit-log", "PUT", "/restconf/data/scpd:audit-log", JSON, "{}", 405, "operation-not-supported", "admin"),
    ("post-host-meta", "POST", "/.well-known/host-meta", {}, None, 405, "operation-not-supported", "none"),
    ("get-operation", "GET", OPS + "/scpd:apply-config", {}, None, 405, "operation-not-supported", "admin"),
    ("unknown-method", "BREW", NATIVE, {}, None, 405, "operation-not-supported", "admin"),
    ("delete-whole-config", "DELETE", NATIVE, {}, None, 405, "operation-not-supported", "admin"),
    # authentication and authorization
    ("no-credentials", "GET", NATIVE, {}, None, 401, "access-denied", "none"),
    ("no-credentials-write", "PUT", NATIVE + "/hostname", JSON, j({"hostname": "evil"}), 401, "access-denied", "none"),
    ("wrong-password", "GET", NATIVE, {}, None, 401, "access-denied", "Basic dGlnZXI6d3Jvbmc="),
    ("unknown-user", "GET", NATIVE, {}, None, 401, "access-denied", "Basic bm9ib2R5OnB3"),
    ("malformed-basic", "GET", NATIVE, {}, None, 401, "access-denied", "Basic %%%"),
    ("bad-bearer", "GET", NATIVE, {}, None, 401, "access-denied", "Bearer " + "ab" * 32),
    ("unknown-scheme", "GET", NATIVE, {}, None, 401, "access-denied", "Digest username=tiger"),
    ("low-privilege-write", "PUT", NATIVE + "/hostname", JSON, j({"hostname": "R9"}), 403, "access-denied", "op"),
    ("low-privilege-read-config", "GET", NATIVE, {}, None, 403, "access-denied", "op"),
    ("low-privilege-save", "POST", OPS + "/cisco-ia:save-config", {}, None, 403, "access-denied", "op"),
    ("low-privilege-audit", "GET", "/restconf/data/scpd:audit-log", {}, None, 403, "access-denied", "op"),
    # preconditions
    ("if-match-stale", "PUT", NATIVE + "/hostname", dict(JSON, **{"If-Match": '"999"'}), j({"hostname": "R2"}), 412, "operation-failed", "admin"),
    ("if-match-stale-delete", "DELETE", NATIVE + "/ip/scp/server/enable", {"If-Match": '"12345"'}, None, 412, "operation-failed", "admin"),
    ("if-unmodified-since-old", "PATCH", NATIVE, dict(JSON, **{"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}),
     j({"Cisco-IOS-XE-native:native": {"hostname": "R2"}}), 412, "operation-failed", "admin"),
    ("if-match-apply", "POST", OPS + "/scpd:apply-config", dict(JSON, **{"If-Match": '"999"'}),
     j({"scpd:input": {"config": "hostname R3\n"}}), 412, "operation-failed", "admin"),
    ("if-match-malformed", "PUT", NATIVE + "/hostname", dict(JSON, **{"If-Match": "999"}), j({"hostname": "R2"}), 400, "invalid-value", "admin"),
]


@pytest.fixture(scope="module")
def api():
    d = tempfile.mkdtemp(prefix="scpd-test-")
    daemon = Daemon(os.path.join(d, "data"), config=CONFIG)
    base = "http://127.0.0.1:%d" % daemon.http_port
    r = requests.post(base + OPS + "/scpd:login", auth=("tiger", "lab"))
    assert r.status_code == 200, r.text
    token = r.json()["scpd:output"]["token"]
    yield base, token, daemon
    rc = daemon.stop()
    shutil.rmtree(d, ignore_errors=True)
    assert rc == 0, daemon.log()


def etag(base, token):
    r = requests.get(base + NATIVE, headers={"Authorization": "Bearer " + token})
    assert r.status_code == 200
    return r.headers["ETag"]


def send(base, token, method, path, headers, body, who):
    """Sends the request as given (raw, so odd methods and headers go out unchanged)."""
    h = {k: v for k, v in headers.items() if v != ""}
    if who == "admin":
        h["Authorization"] = "Bearer " + token
    elif who == "op":
        h["Authorization"] = "Basic b3A6b3Bwdw=="
    elif who != "none":
        h["Authorization"] = who
    conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
    data = body.encode() if body is not None else None
    conn.putrequest(method, path, skip_accept_encoding=True)
    for k, v in h.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(data)) if data is not None else "0")
    conn.endheaders()
    if data:
        conn.send(data)
    resp = conn.getresponse()
    out = resp.status, dict(resp.getheaders()), resp.read()
    conn.close()
    return out


def test_table_has_at_least_40_cases():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_request(api, case):
    base, token, _ = api
    name, method, path, headers, body, status, tag, who = case
    before = etag(base, token)
    got, hdrs, raw = send(base, token, method, path, headers, body, who)
    assert got == status, (name, got, raw)
    assert hdrs.get("Content-Type", "").startswith("application/yang-data+json"), hdrs
    doc = json.loads(raw)
    errs = doc["ietf-restconf:errors"]["error"]
    assert errs and all(e["error-message"] for e in errs)
    assert errs[0]["error-type"] in ("transport", "rpc", "protocol", "application")
    if tag is not None:
        assert errs[0]["error-tag"] == tag, errs
    if status == 401:
        assert hdrs.get("WWW-Authenticate") == 'Basic realm="scpd"'
    if status == 405:
        assert "Allow" in hdrs
    if name.endswith("-query") or name.endswith("-twice"):
        param = path.split("?")[1].split("&")[-1].split("=")[0]
        assert param in errs[0]["error-message"], errs
    assert etag(base, token) == before, "store changed by a rejected request"


def test_body_too_large_refused_before_reading(api):
    """A Content-Length over the limit gets 413 at once, without sending the body."""
    base, token, _ = api
    before = etag(base, token)
    port = int(base.rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(("PUT %s/hostname HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/yang-data+json\r\nContent-Length: %d\r\n\r\n"
               % (NATIVE, token, 5 * 1024 * 1024)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    assert etag(base, token) == before


def test_chunked_body_too_large(api):
    """Without Content-Length the body is counted as it arrives."""
    base, token, _ = api
    before = etag(base, token)

    def gen():
        block = b" " * 65536
        for _ in range(80):  # 5 MiB of whitespace: valid JSON padding, but over the limit
            yield block
    try:
        r = requests.patch(base + NATIVE, data=gen(),
                           headers={"Authorization": "Bearer " + token,
                                    "Content-Type": "application/yang-data+json"}, timeout=30)
        assert r.status_code == 413
        assert r.json()["ietf-restconf:errors"]["error"][0]["error-tag"] == "too-big"
    except requests.exceptions.ConnectionError:
        pass  # the server may close the connection after its 413 while the client still sends
    assert etag(base, token) == before

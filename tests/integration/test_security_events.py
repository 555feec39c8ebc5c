"""The `security` event stream as an administrator watches it: a wrong scp password, an SCP
refusal, a failed HTTP Basic login and a login block-for each arrive as an event naming the door,
the user, the peer and the reason. Real OpenSSH scp -O and curl-like HTTP (requests); the stream
is read with the SSE client of obs_util."""
import os

import requests

from obs_util import SSE, Api, make_file, remote, scp

LOGIN = ("aaa new-model\naaa authentication login default local\n"
         "aaa authorization exec default local\n"
         "username tiger privilege 15 password 0 lab\n")


def sec(n):
    return n["scpd:security-event"]


def test_ssh_login_failure_and_scp_refusal_on_the_security_stream(start_daemon, workdir):
    d = start_daemon(config=LOGIN)   # no `ip scp server enable`
    sub = SSE(d, "security")
    assert sub.status == 200
    try:
        src = make_file(workdir, "f.bin", 1000)
        r = scp(d, [src, remote("bootflash:f.bin")], password="wrong",
                extra=["-o", "NumberOfPasswordPrompts=1", "-o", "PreferredAuthentications=password"])
        assert r.returncode != 0
        ev = sub.wait(lambda n: "scpd:security-event" in n and
                      sec(n)["kind"] == "login-failed", what="login-failed event")[0][1]
        e = sec(ev)
        assert (e["door"], e["user"], e["message"]) == ("ssh", "tiger", "wrong password")
        assert e["peer"].startswith("127.0.0.1:")

        r = scp(d, [src, remote("bootflash:f.bin")])
        assert r.returncode != 0 and "SCP server is disabled" in r.stdout + r.stderr
        ev = sub.wait(lambda n: sec(n)["kind"] == "refused", what="refused event")[0][1]
        e = sec(ev)
        assert (e["door"], e["user"]) == ("ssh", "tiger")
        assert "SCP server is disabled (ip scp server enable)" in e["message"]
        assert e["peer"].startswith("127.0.0.1:")
    finally:
        sub.close()


def test_http_login_failure_and_block_on_the_security_stream(start_daemon):
    d = start_daemon(config=LOGIN + "login block-for 60 attempts 2 within 60\n")
    sub = SSE(d, "security")
    assert sub.status == 200
    try:
        bad = Api(d, password="nope")
        assert bad.get("/restconf/data/scpd:scp-state").status_code == 401
        ev = sub.wait(lambda n: sec(n)["kind"] == "login-failed", what="login-failed event")[0][1]
        e = sec(ev)
        assert (e["door"], e["user"], e["message"]) == ("http", "tiger", "wrong password")
        assert e["peer"].startswith("127.0.0.1:")
        # the second failure starts the quiet period; the next request is refused as blocked
        assert bad.get("/restconf/data/scpd:scp-state").status_code == 401
        assert bad.get("/restconf/data/scpd:scp-state").status_code == 429
        blocked = sub.wait(lambda n: sec(n)["kind"] == "login-blocked", what="blocked events")
        msgs = [sec(n)["message"] for _, n in blocked]
        assert any("2 failed logins within 60 s from 127.0.0.1" in m for m in msgs), msgs
        sub.wait(lambda n: sec(n)["kind"] == "login-blocked" and
                 "blocked for" in sec(n)["message"], what="refusal while blocked")
    finally:
        sub.close()


def test_path_escape_is_one_security_event(start_daemon, workdir):
    d = start_daemon()
    sub = SSE(d, "security")
    try:
        tree = os.path.join(workdir, "tree")
        os.mkdir(tree)
        for i in range(3):
            make_file(tree, "f%d" % i, 10)
        r = scp(d, [os.path.join(tree, "f0"), remote("bootflash:../../etc/x")])
        assert r.returncode != 0
        ev = sub.wait(lambda n: sec(n)["kind"] == "refused", what="refused event")[0][1]
        assert "'..' is not allowed" in sec(ev)["message"], ev
        assert sec(ev)["user"] == "tiger"
        # a successful copy afterwards adds nothing
        assert scp(d, [os.path.join(tree, "f1"), remote("bootflash:f1")]).returncode == 0
        assert len([e for e in sub.snapshot() if sec(e[1])["kind"] == "refused"]) == 1
    finally:
        sub.close()

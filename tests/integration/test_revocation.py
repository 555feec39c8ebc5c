"""Authorization follows the account (issue 15): a user deleted, demoted or given a new secret
while its SSH sessions are open loses, at its next operation, what it may no longer do, and is
told why (SFTP status message, SCP error line, CLI message); bearer tokens are bound to the
account, not to the name; `ip ssh session-lifetime` bounds a session's life."""
import logging
import os
import re
import shutil
import subprocess
import threading
import time

import paramiko
import pytest
import requests

import clients
from clients import read_reply
from conftest import TWO_ADMINS

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
OPS = "/restconf/operations"
YJ = "application/yang-data+json"

CONFIG = TWO_ADMINS + "username low privilege 1 password 0 lowpw\n"


@pytest.fixture
def d(start_daemon):
    return start_daemon(config=CONFIG)


def admin(d, method, path, body=None):
    r = requests.request(method, "http://127.0.0.1:%d%s" % (d.http_port, path),
                         auth=("boss", "bosspw"), headers={"Content-Type": YJ},
                         json=body, timeout=30)
    assert r.status_code in (200, 201, 204), r.text
    return r


def delete_user(d, name):
    admin(d, "DELETE", NATIVE + "/username=%s" % name)


def set_privilege(d, name, level):
    admin(d, "PATCH", NATIVE + "/username=%s" % name,
          {"Cisco-IOS-XE-native:username": [{"name": name, "privilege": level}]})


def set_password(d, name, pw):
    admin(d, "PATCH", NATIVE + "/username=%s" % name,
          {"Cisco-IOS-XE-native:username": [{"name": name, "password": {"encryption": "0",
                                                                         "password": pw}}]})


class Shell:
    def __init__(self, port, user="tiger", password="lab"):
        self.client = clients.paramiko_client(port, user=user, password=password)
        self.ch = self.client.invoke_shell()
        self.ch.settimeout(30)
        self.buf = b""

    def until(self, pattern):
        while not re.search(pattern, self.buf):
            chunk = self.ch.recv(65536)
            assert chunk, "channel closed; got %r" % self.buf
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out.decode()

    def rest(self):
        """Everything until the channel closes."""
        while True:
            chunk = self.ch.recv(65536)
            if not chunk:
                out, self.buf = self.buf, b""
                return out.decode()
            self.buf += chunk

    def cmd(self, line, prompt=rb"R1[#>]$"):
        self.ch.send(line + "\r")
        return self.until(prompt)

    def close(self):
        self.client.close()


# ---- SFTP --------------------------------------------------------------------------------------

def test_deleted_user_open_sftp_session_loses_access(d, workdir):
    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        with s.open("bootflash:before.txt", "w") as f:
            f.write(b"ok")
        delete_user(d, "tiger")
        # no write, no read of the startup config, no merge of a new user into running-config
        with pytest.raises(IOError) as e:
            with s.open("bootflash:after.txt", "w") as f:
                f.write(b"no")
        assert "user tiger was deleted" in str(e.value)
        with pytest.raises((IOError, EOFError, paramiko.SSHException)):
            with s.open("running-config", "w") as f:
                f.write(b"username evil privilege 15 password 0 x\n")
        with pytest.raises((IOError, EOFError, paramiko.SSHException)):
            s.open("startup-config").read()
    finally:
        c.close()
    import os
    assert os.path.exists(os.path.join(d.bootflash, "before.txt"))
    assert not os.path.exists(os.path.join(d.bootflash, "after.txt"))
    run = requests.get("http://127.0.0.1:%d%s" % (d.http_port, NATIVE), auth=("boss", "bosspw"))
    assert "evil" not in run.text
    assert "access revoked" in d.log()


def test_demoted_user_sftp_refused_with_reason(d, workdir):
    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        assert "running-config" in s.listdir("/")
        set_privilege(d, "tiger", 1)
        with pytest.raises(IOError) as e:
            s.open("startup-config").read()
        assert "privilege level 1 is below 15" in str(e.value)
    finally:
        c.close()


# ---- SCP: each file re-checked -----------------------------------------------------------------

def test_scp_sink_next_file_refused_after_delete(d):
    c, ch = clients.raw_scp(d.ssh_port, "scp -t bootflash:")
    try:
        assert read_reply(ch) == (0, "")
        ch.sendall(b"C0644 3 one.txt\n")
        assert read_reply(ch) == (0, "")
        ch.sendall(b"abc\0")
        assert read_reply(ch) == (0, "")
        delete_user(d, "tiger")
        ch.sendall(b"C0644 3 two.txt\n")
        code, msg = read_reply(ch)
        assert code in (1, 2) and "user tiger was deleted" in msg, (code, msg)
        assert ch.recv_exit_status() == 1
    finally:
        c.close()
    import os
    assert os.path.exists(os.path.join(d.bootflash, "one.txt"))
    assert not os.path.exists(os.path.join(d.bootflash, "two.txt"))


# ---- CLI ---------------------------------------------------------------------------------------

def test_demoted_shell_loses_level_15_at_next_command(d):
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        assert "Current privilege level is 15" in sh.cmd("show privilege")
        set_privilege(d, "tiger", 1)
        out = sh.cmd("show running-config")
        assert "privilege level is now 1" in out and "% Invalid input" in out, out
        assert out.endswith("R1>")
        assert "Current privilege level is 1" in sh.cmd("show privilege")
    finally:
        sh.close()


def test_deleted_user_shell_is_told_and_closed(d):
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        delete_user(d, "tiger")
        sh.ch.send("show privilege\r")
        out = sh.rest()
        assert "user tiger was deleted" in out and "Current privilege" not in out, out
    finally:
        sh.close()


def test_new_password_closes_open_shell(d):
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        set_password(d, "tiger", "newpw")
        sh.ch.send("show privilege\r")
        out = sh.rest()
        assert "secret of user tiger changed" in out, out
    finally:
        sh.close()


def test_exec_command_after_delete_refused_on_same_connection(d):
    c = clients.paramiko_client(d.ssh_port)
    try:
        ch = c.get_transport().open_session()
        ch.exec_command("show privilege")
        assert b"level is 15" in ch.makefile().read()
        ch.close()
        delete_user(d, "tiger")
        ch = c.get_transport().open_session()
        ch.settimeout(30)
        ch.exec_command("show privilege")
        err = ch.makefile_stderr().read().decode()
        assert "user tiger was deleted" in err
        assert ch.recv_exit_status() == 1
    except (EOFError, paramiko.SSHException):
        pass   # the connection may already be gone: also fine, nothing ran
    finally:
        c.close()


# ---- session lifetime ----------------------------------------------------------------------------

def test_session_lifetime_closes_with_reason(start_daemon):
    d = start_daemon(config=CONFIG + "ip ssh session-lifetime 2\n")
    t = paramiko.Transport(("127.0.0.1", d.ssh_port))
    try:
        t.connect(username="tiger", password="lab")
        deadline = time.time() + 60
        while t.is_active() and time.time() < deadline:
            time.sleep(0.2)
        assert not t.is_active()
    finally:
        t.close()
    assert "Session lifetime of 2 seconds reached (ip ssh session-lifetime)" in d.log()


def test_session_lifetime_config_line(start_daemon):
    d = start_daemon(config=CONFIG + "ip ssh session-lifetime 600\n")
    r = requests.post("http://127.0.0.1:%d%s/scpd:show" % (d.http_port, OPS),
                      auth=("boss", "bosspw"), headers={"Content-Type": YJ},
                      json={"scpd:input": {"command": "running-config"}})
    assert "ip ssh session-lifetime 600" in r.json()["scpd:output"]["text"]


# ---- bearer tokens -------------------------------------------------------------------------------

def login(d, user, pw):
    r = requests.post("http://127.0.0.1:%d%s/scpd:login" % (d.http_port, OPS), auth=(user, pw))
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["scpd:output"]["token"]}


def test_token_of_deleted_then_recreated_user_is_dead(d):
    tok = login(d, "low", "lowpw")
    url = "http://127.0.0.1:%d%s" % (d.http_port, NATIVE)
    assert requests.get(url, headers=tok).status_code == 403
    delete_user(d, "low")
    admin(d, "POST", NATIVE, {"Cisco-IOS-XE-native:username": [
        {"name": "low", "privilege": 15, "password": {"encryption": "0", "password": "other"}}]})
    r = requests.get(url, headers=tok)
    assert r.status_code == 401 and "account" in r.text, r.text
    # the new low logs in and works
    assert requests.get(url, headers=login(d, "low", "other")).status_code == 200


def test_password_change_revokes_tokens(d):
    tok = login(d, "tiger", "lab")
    url = "http://127.0.0.1:%d%s" % (d.http_port, NATIVE)
    assert requests.get(url, headers=tok).status_code == 200
    set_password(d, "tiger", "fresh")
    assert requests.get(url, headers=tok).status_code == 401
    # a privilege change is not a new account: the token stays, with the new level
    tok2 = login(d, "tiger", "fresh")
    set_privilege(d, "tiger", 14)
    assert requests.get(url, headers=tok2).status_code == 403


# ---- the reason reaches each client, whatever it was doing (soak finding) ------------------------
# A revoked account's channels refuse their next operation in their protocol's words; a channel
# that makes none within a second is told on its stream (a shell's terminal, stderr otherwise), and
# the SSH_MSG_DISCONNECT that ends the session carries the reason before any channel closes.

class TransportLog(logging.Handler):
    """What paramiko's transport logged, "Disconnect (code 2): REASON" included: paramiko keeps
    the peer's disconnect reason out of its exceptions."""

    def __init__(self, name):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.log = logging.getLogger(name)
        self.log.addHandler(self)
        self.log.setLevel(logging.INFO)

    def emit(self, record):
        self.lines.append(record.getMessage())

    def text(self):
        return " | ".join(self.lines)

    def close(self):
        self.log.removeHandler(self)
        super().close()


def logged_client(d, name, user="tiger", password="lab"):
    c = paramiko.SSHClient()
    c.set_log_channel(name)
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=d.ssh_port, username=user, password=password,
              look_for_keys=False, allow_agent=False, timeout=30)
    return c


def seen_when_failed(fn, tlog, limit=60):
    """Runs fn until it raises: what the client had seen at that moment (exception text and the
    transport's log as it stood)."""
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - its text is the point
            return "%s: %s | %s" % (type(e).__name__, e, tlog.text())
    return "no failure in %d s" % limit


def test_paramiko_sftp_busy_when_deleted_sees_reason(d):
    tlog = TransportLog("rev.sftp.busy")
    c = logged_client(d, "rev.sftp.busy")
    try:
        s = c.open_sftp()
        n = [0]

        def op():
            n[0] += 1
            with s.open("bootflash:busy-%d.txt" % n[0], "w") as f:
                f.write(b"x" * 1000)
            s.stat("bootflash:busy-%d.txt" % n[0])
            if n[0] == 20:
                threading.Thread(target=delete_user, args=(d, "tiger")).start()
        seen = seen_when_failed(op, tlog)
        assert "access revoked: user tiger was deleted" in seen, seen
    finally:
        c.close()
        tlog.close()


def test_paramiko_sftp_idle_when_deleted_sees_reason(d):
    tlog = TransportLog("rev.sftp.idle")
    c = logged_client(d, "rev.sftp.idle")
    try:
        s = c.open_sftp()
        s.stat("bootflash:")
        delete_user(d, "tiger")
        time.sleep(3)   # idle: the session ends with the reason after its grace second
        seen = seen_when_failed(lambda: s.stat("bootflash:"), tlog)
        assert "access revoked: user tiger was deleted" in seen, seen
    finally:
        c.close()
        tlog.close()


def test_paramiko_sftp_opened_while_scp_disabled_sees_reason(d):
    tlog = TransportLog("rev.sftp.off")
    c = logged_client(d, "rev.sftp.off")
    try:
        admin(d, "DELETE", NATIVE + "/ip/scp/server/enable")
        seen = seen_when_failed(c.open_sftp, tlog, limit=1)
        assert "SCP server is disabled (ip scp server enable)" in seen, seen
    finally:
        c.close()
        tlog.close()


def test_paramiko_shell_idle_at_prompt_when_deleted_is_told(d):
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        delete_user(d, "tiger")
        out = sh.rest()   # nothing typed: the reason comes on the terminal, then the close
        assert "access revoked: user tiger was deleted" in out, out
    finally:
        sh.close()


def openssh(d, argv, workdir, stdin=subprocess.PIPE):
    return subprocess.Popen(argv[:1] + argv[1] + clients.ssh_opts(d.ssh_port) + argv[2],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clients._env("lab"), cwd=workdir)


def wait_for(pred, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline and not pred():
        time.sleep(0.1)
    return pred()


def sessions_active(d):
    r = requests.get("http://127.0.0.1:%d/restconf/data/scpd:scp-state?limit=1" % d.http_port,
                     auth=("boss", "bosspw"), timeout=30)
    return int(r.json()["scpd:scp-state"]["sessions-active"])


def test_openssh_sftp_and_shell_idle_when_deleted_print_reason(d, workdir):
    sftp = openssh(d, ["sftp", ["-P", str(d.ssh_port)], ["tiger@127.0.0.1"]], workdir)
    shell = openssh(d, ["ssh", ["-tt", "-p", str(d.ssh_port)], ["tiger@127.0.0.1"]], workdir)
    try:
        assert wait_for(lambda: sessions_active(d) >= 2), "the two sessions did not open"
        time.sleep(0.5)
        delete_user(d, "tiger")
        # stdin stays open until the sessions are gone: the clients do not quit by themselves
        assert wait_for(lambda: sessions_active(d) == 0), "the sessions did not end"
        for p in (sftp, shell):
            p.stdin.close()   # sftp at its prompt notices the lost connection at the next read
            p.wait(timeout=60)
            out, err = p.stdout.read(), p.stderr.read()
            text = (out + err).decode(errors="replace")
            assert "access revoked: user tiger was deleted" in text, (p.args[0], text)
        assert shell.returncode != 0   # sftp ends 0 at the end of its input
    finally:
        for p in (sftp, shell):
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.mark.parametrize("direction", ["download", "upload"])
def test_openssh_scp_mid_file_when_deleted_prints_reason(d, workdir, direction):
    big = os.path.join(workdir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(8 << 20))
    if direction == "download":
        shutil.copy(big, os.path.join(d.bootflash, "big.bin"))
        args = ["tiger@127.0.0.1:bootflash:big.bin", os.path.join(workdir, "got.bin")]
    else:
        args = [big, "tiger@127.0.0.1:bootflash:up.bin"]
    # -l: 800 kbit/s, so the file is still moving when the user goes
    scp = openssh(d, ["scp", ["-O", "-l", "800", "-P", str(d.ssh_port)], args], workdir,
                  stdin=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: sessions_active(d) >= 1), "scp did not log in"
        time.sleep(1)
        delete_user(d, "tiger")
        out, err = scp.communicate(timeout=60)
        text = (out + err).decode(errors="replace")
        assert scp.returncode != 0, text
        assert "access revoked: user tiger was deleted" in text, text
    finally:
        if scp.poll() is None:
            scp.kill()
            scp.wait()
    assert not os.path.exists(os.path.join(d.bootflash, "up.bin"))

"""Authorization follows the account (issue 15): a user deleted, demoted or given a new secret
while its SSH sessions are open loses, at its next operation, what it may no longer do, and is
told why (SFTP status message, SCP error line, CLI message); bearer tokens are bound to the
account, not to the name; `ip ssh session-lifetime` bounds a session's life."""
import re
import time

import paramiko
import pytest
import requests

import clients
from clients import read_reply

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
OPS = "/restconf/operations"
YJ = "application/yang-data+json"

CONFIG = """\
hostname R1
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username boss privilege 15 password 0 bosspw
username tiger privilege 15 password 0 lab
username low privilege 1 password 0 lowpw
ip scp server enable
"""


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

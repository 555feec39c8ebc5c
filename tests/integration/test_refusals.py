"""Refusals as the user sees them: each one must print a message naming the reason, leave the
file system as it was, and be logged. Real OpenSSH scp -O unless a hostile client is the point
(then a raw SCP channel over paramiko)."""
import logging
import os
import re
import signal
import time

import paramiko
import pytest

import clients
from clients import download, make_file, sha256, upload

LOGIN = ("aaa new-model\naaa authentication login default local\n"
         "aaa authorization exec default local\n")
TIGER = "username tiger privilege 15 password 0 lab\n"


def start(start_daemon, config):
    return start_daemon(config=config)


def refused(r, *needles):
    """The client failed and printed every needle (the reason)."""
    out = r.stdout + r.stderr
    assert r.returncode != 0, "expected a refusal, client succeeded:\n" + out
    for n in needles:
        assert n in out, "%r not in client output:\n%s" % (n, out)


@pytest.fixture
def small(workdir):
    return make_file(os.path.join(workdir, "small.bin"), 2000, seed=1)


# ---- authorization order: scp enable, aaa new-model + authorization exec, privilege 15 ---------

def test_scp_disabled(start_daemon, small, workdir):
    d = start(start_daemon, LOGIN + TIGER)
    refused(upload(d.ssh_port, small, "bootflash:x"),
            "SCP server is disabled (ip scp server enable)")
    refused(download(d.ssh_port, "running-config", os.path.join(workdir, "r")),
            "SCP server is disabled")
    assert not os.path.exists(os.path.join(d.bootflash, "x"))
    assert "scp refused: SCP server is disabled" in d.log()


def test_no_aaa_new_model(start_daemon, small):
    d = start(start_daemon, TIGER + "ip scp server enable\n")
    refused(upload(d.ssh_port, small, "bootflash:x"), "authorization failed", "aaa new-model")
    assert not os.path.exists(os.path.join(d.bootflash, "x"))


def test_no_exec_authorization(start_daemon, small):
    d = start(start_daemon, "aaa new-model\naaa authentication login default local\n" + TIGER +
              "ip scp server enable\n")
    refused(upload(d.ssh_port, small, "bootflash:x"),
            "authorization failed: aaa authorization exec is not configured")


def test_privilege_14(start_daemon, small):
    d = start(start_daemon, LOGIN + "username pleb privilege 14 password 0 lab\n"
              "ip scp server enable\n")
    refused(upload(d.ssh_port, small, "bootflash:x", user="pleb"),
            "privilege level 14 is below 15 required for SCP")
    assert not os.path.exists(os.path.join(d.bootflash, "x"))


def test_disabled_checked_before_authorization(start_daemon, small):
    d = start(start_daemon, TIGER)   # neither scp enable nor aaa: the first reason is reported
    refused(upload(d.ssh_port, small, "bootflash:x"), "SCP server is disabled")


# ---- authentication ----------------------------------------------------------------------------

def test_wrong_password(daemon_ssh, small):
    d = daemon_ssh
    r = upload(d.ssh_port, small, "bootflash:x", password="wrong",
               extra=["-o", "NumberOfPasswordPrompts=1"], auth="password")
    refused(r, "Permission denied")
    assert not os.path.exists(os.path.join(d.bootflash, "x"))
    assert "ssh login failed (local): wrong password" in d.log()
    assert "lab" not in re.sub(r"\blab\w", "", d.log().replace("wrong", ""))


@pytest.fixture
def daemon_ssh(start_daemon):
    return start_daemon()


def test_authentication_retries(start_daemon, small):
    d = start(start_daemon, LOGIN + TIGER + "ip scp server enable\n"
              "ip ssh authentication-retries 1\n")
    r = upload(d.ssh_port, small, "bootflash:x", password="wrong", auth="password",
               extra=["-o", "NumberOfPasswordPrompts=5"])
    refused(r, "Too many authentication failures", "ip ssh authentication-retries 1")
    # one failed attempt, then the disconnect: the client's other prompts never ran
    assert d.log().count("ssh login failed (local): wrong password") == 1


class _AuthFailures(logging.Handler):
    """Counts the USERAUTH_FAILURE replies paramiko receives (it logs each one)."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def emit(self, record):
        if "Authentication (password) failed" in record.getMessage():
            self.n += 1


@pytest.mark.parametrize("retries,allowed", [(0, 1), (2, 2), (3, 3)])
def test_authentication_retries_counted_by_paramiko(start_daemon, retries, allowed):
    """ip ssh authentication-retries N: exactly N failed attempts per connection, then the
    disconnect (0, IOS's "no retry", still allows the one attempt)."""
    d = start(start_daemon, LOGIN + TIGER + "ip scp server enable\n"
              "ip ssh authentication-retries %d\n" % retries)
    counter = _AuthFailures()
    log = logging.getLogger("paramiko.transport")
    log.addHandler(counter)
    old_level = log.level
    log.setLevel(logging.INFO)
    t = paramiko.Transport(("127.0.0.1", d.ssh_port))
    try:
        t.connect()
        attempts = 0
        for _ in range(allowed + 5):
            if not t.is_active():
                break
            attempts += 1
            try:
                t.auth_password("tiger", "wrong%d" % attempts)
                raise AssertionError("a wrong password was accepted")
            except paramiko.AuthenticationException:
                pass
            except (paramiko.SSHException, EOFError, OSError):
                # the session is gone: the server's disconnect can arrive after is_active() was
                # checked, and paramiko's send then raises EOFError (not an SSHException)
                break
        # the server answered exactly `allowed` failures and then closed the connection
        assert counter.n == allowed
        clients_wait = time.time() + 30
        while t.is_active() and time.time() < clients_wait:
            time.sleep(0.05)
        assert not t.is_active()
    finally:
        t.close()
        log.removeHandler(counter)
        log.setLevel(old_level)
    assert d.log().count("ssh login failed (local): wrong password") == allowed
    assert "Too many authentication failures: %d failed attempts" % allowed in d.log()


def test_login_block_for(start_daemon, small):
    d = start(start_daemon, LOGIN + TIGER + "ip scp server enable\n"
              "login block-for 120 attempts 2 within 60\n")
    for _ in range(2):
        refused(upload(d.ssh_port, small, "bootflash:x", password="wrong", auth="password",
                       extra=["-o", "NumberOfPasswordPrompts=1"]), "Permission denied")
    # the right password from the blocked source is refused, with the reason
    r = upload(d.ssh_port, small, "bootflash:x")
    refused(r, "blocked", "login block-for")
    assert not os.path.exists(os.path.join(d.bootflash, "x"))
    assert "login block-for: 2 failed logins" in d.log()


def test_login_timeout(start_daemon):
    """ip ssh time-out bounds negotiation + authentication: a client that connects and then says
    nothing is disconnected (not a timing assertion: only that it happens at all)."""
    import socket
    d = start(start_daemon, LOGIN + TIGER + "ip scp server enable\nip ssh time-out 1\n")
    s = socket.create_connection(("127.0.0.1", d.ssh_port), timeout=60)
    try:
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"SSH-2.0-")
    finally:
        s.close()
    assert "timed out (ip ssh time-out 1)" in d.log()


# ---- other requests ------------------------------------------------------------------------------

def test_sftp_refused_with_message(start_daemon, small):
    # the sftp subsystem exists (test_sftp.py); its refusals name the reason as SCP's do
    d = start(start_daemon, LOGIN + TIGER)
    r = clients.run_scp(d.ssh_port, [small, clients.remote("bootflash:x")], legacy=False)
    refused(r, "SCP server is disabled (ip scp server enable)")


def test_other_commands_are_cli_commands(daemon_ssh):
    # an exec request that is not scp runs as one IOS EXEC command (test_cli.py): a host command
    # is an invalid one, never run
    r = clients.run_ssh(daemon_ssh.ssh_port, "cat /etc/passwd")
    refused(r, "% Invalid input detected at '^' marker.")
    assert "root:" not in r.stdout


def test_weak_algorithms_refused(daemon_ssh, small):
    # (a MAC only matters with a non-AEAD cipher)
    for opts in (["Ciphers=aes128-cbc"], ["Ciphers=aes128-ctr", "MACs=hmac-sha1"],
                 ["KexAlgorithms=diffie-hellman-group14-sha1"], ["HostKeyAlgorithms=ssh-rsa"]):
        extra = [x for o in opts for x in ("-o", o)]
        refused(upload(daemon_ssh.ssh_port, small, "bootflash:x", extra=extra), "no matching")


# ---- paths ------------------------------------------------------------------------------------

def test_dotdot_escape(daemon_ssh, small):
    d = daemon_ssh
    refused(upload(d.ssh_port, small, "bootflash:../escape"), "'..' is not allowed")
    refused(upload(d.ssh_port, small, "bootflash:/a/../../escape"), "'..' is not allowed")
    assert not os.path.exists(os.path.join(d.data_dir, "fs", "escape"))
    assert not os.path.exists(os.path.join(d.data_dir, "escape"))


def test_absolute_host_path(daemon_ssh, small, workdir):
    d = daemon_ssh
    refused(download(d.ssh_port, "/etc/passwd", os.path.join(workdir, "passwd")),
            "absolute host paths are not allowed")
    assert not os.path.exists(os.path.join(workdir, "passwd"))
    target = os.path.join(workdir, "abs-target")
    refused(upload(d.ssh_port, small, target), "absolute host paths are not allowed")
    assert not os.path.exists(target)


def test_symlink_out_of_root(daemon_ssh, small, workdir):
    d = daemon_ssh
    outside = os.path.join(workdir, "outside")
    os.mkdir(outside)
    with open(os.path.join(outside, "secret"), "w") as f:
        f.write("secret\n")
    os.symlink(outside, os.path.join(d.bootflash, "link"))
    refused(upload(d.ssh_port, small, "bootflash:link/evil"), "symbolic links are not followed")
    refused(download(d.ssh_port, "bootflash:/link/secret", os.path.join(workdir, "got")),
            "symbolic links are not followed")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert not os.path.exists(os.path.join(workdir, "got"))


# ---- hostile protocol input (raw SCP channel) -------------------------------------------------

@pytest.mark.parametrize("record,reason", [
    (b"C0644 5 a/b\n", "file name contains '/'"),
    (b"C0644 5 ..\n", "'..' not allowed"),
    (b"C0644 5 a\x01b\n", "control character"),
])
def test_hostile_file_names(daemon_ssh, record, reason):
    d = daemon_ssh
    c, ch = clients.raw_scp(d.ssh_port, "scp -t bootflash:")
    try:
        assert clients.read_reply(ch) == (0, "")
        ch.sendall(record)
        code, msg = clients.read_reply(ch)
        assert code in (1, 2), (code, msg)
        assert reason in msg, msg
    finally:
        c.close()
    assert os.listdir(d.bootflash) == []


def test_upload_larger_than_file_system(daemon_ssh):
    d = daemon_ssh
    c, ch = clients.raw_scp(d.ssh_port, "scp -t bootflash:huge.bin")
    try:
        assert clients.read_reply(ch) == (0, "")
        ch.sendall(b"C0644 %d huge.bin\n" % (1 << 60))
        code, msg = clients.read_reply(ch)
        assert code in (1, 2), (code, msg)
        assert "space" in msg or "larger" in msg, msg
    finally:
        c.close()
    assert os.listdir(d.bootflash) == []


# ---- interrupted upload ---------------------------------------------------------------------------

def test_client_killed_mid_upload(daemon_ssh, workdir):
    d = daemon_ssh
    old = os.path.join(d.bootflash, "image.bin")
    make_file(old, 1000, seed=2)
    old_hash = sha256(old)
    big = make_file(os.path.join(workdir, "new.bin"), 16 << 20, seed=3)
    # -l: 8 Mbit/s, so the transfer is surely running when it is killed
    p = clients.start_scp(d.ssh_port, ["-l", "8000", big, clients.remote("bootflash:image.bin")])
    try:
        deadline = time.time() + 60
        while time.time() < deadline and "scp: upload to bootflash:image.bin" not in d.log():
            time.sleep(0.05)
        assert "scp: upload to bootflash:image.bin" in d.log()
        time.sleep(0.5)
        assert p.poll() is None, "upload finished before it could be killed"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    deadline = time.time() + 60
    while time.time() < deadline and "ssh connection closed" not in d.log():
        time.sleep(0.05)
    assert "ssh connection closed" in d.log()
    assert sha256(old) == old_hash
    assert os.listdir(d.bootflash) == ["image.bin"]


# ---- counted: what a dashboard sees ---------------------------------------------------------------

def test_refusals_and_failures_are_counted(start_daemon, small):
    import requests
    d = start_daemon(config=LOGIN + TIGER + "username pleb privilege 14 password 0 lab\n")
    refused(upload(d.ssh_port, small, "bootflash:x"), "SCP server is disabled")
    refused(upload(d.ssh_port, small, "bootflash:x", password="wrong", auth="password",
                   extra=["-o", "NumberOfPasswordPrompts=1"]), "Permission denied")
    r = requests.get("http://127.0.0.1:%d/metrics" % d.http_port, auth=("tiger", "lab"),
                     timeout=30)
    assert r.status_code == 200, r.text
    metrics = dict(l.rsplit(" ", 1) for l in r.text.splitlines() if l and l[0] != "#")
    assert float(metrics['scpd_scp_refusals_total{reason="disabled"}']) == 1
    assert float(metrics['scpd_logins_total{result="failed"}']) >= 1
    assert float(metrics["scpd_sessions_accepted_total"]) >= 2

"""Copies the device starts (`copy scp://... bootflash:x`, `copy bootflash:x scp://...`, and the
same with sftp://) against a private OpenSSH sshd that the test starts (own config, own host key,
127.0.0.1, a free port): files checked with SHA-256, the 256 MiB pull of the acceptance, a remote
killed mid-transfer (no file, a history row with the error), an unknown and a changed host key
refused with the line that would trust it, ^C, IOS's questions, hostile URLs refused."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import clients
from clients import Shell, make_file, sha256
from obs_util import Api

SSHD_BIN = "/usr/sbin/sshd"

CONFIG = """\
hostname R1
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
ip scp server enable
"""

SSHD_CONFIG = """\
# Private sshd of test_copy_remote.py: loopback only, own host key, this test's authorized key.
Port %(port)d
ListenAddress 127.0.0.1
HostKey %(hostkey)s
PidFile %(dir)s/sshd.pid
AuthorizedKeysFile %(authkeys)s
AllowUsers root
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
Subsystem sftp internal-sftp
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SSHD_BIN),
                                reason="needs root and OpenSSH's sshd (openssh-server)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sshd:
    """A private OpenSSH server; .port, .files (a directory it serves), .md5 (host key hash)."""

    def __init__(self, work, authorized_pub):
        self.dir = os.path.join(work, "sshd")
        os.makedirs(self.dir)
        self.files = os.path.join(self.dir, "files")
        os.makedirs(self.files)
        self.hostkey = os.path.join(self.dir, "ssh_host_ed25519_key")
        self.keygen()
        self.authkeys = os.path.join(self.dir, "authorized_keys")
        shutil.copy(authorized_pub, self.authkeys)
        self.port = free_port()
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(SSHD_CONFIG % dict(port=self.port, hostkey=self.hostkey, dir=self.dir,
                                       authkeys=self.authkeys))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.start()

    def start(self):
        self.err = open(os.path.join(self.dir, "sshd.stderr"), "ab")
        self.proc = subprocess.Popen([SSHD_BIN, "-D", "-e", "-f", self.config],
                                     stdout=self.err, stderr=self.err)
        deadline = time.time() + 20
        while True:
            assert self.proc.poll() is None and time.time() < deadline, "sshd did not start"
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                time.sleep(0.05)

    def keygen(self):
        for p in (self.hostkey, self.hostkey + ".pub"):
            if os.path.exists(p):
                os.unlink(p)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey],
                       check=True)
        out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", self.hostkey + ".pub"],
                             capture_output=True, text=True, check=True).stdout
        self.md5 = out.split()[1].split(":", 1)[1].replace(":", "").upper()

    def children(self):
        """The per-connection sshd processes (this server's, found through /proc)."""
        kids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                    found = [int(x) for x in f.read().split()]
            except OSError:
                found = []
            kids += found
            todo += found
        return kids

    def path(self, name):
        return os.path.join(self.files, name)

    def url(self, name, scheme="scp"):
        return "%s://root@127.0.0.1:%d/%s" % (scheme, self.port, self.path(name))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.err.close()


def trust(d, workdir, sshd, md5=None):
    """Puts the sshd's host key into `ip ssh pubkey-chain` / `server 127.0.0.1`."""
    cfg = os.path.join(workdir, "trust.cfg")
    with open(cfg, "w") as f:
        f.write("ip ssh pubkey-chain\n server 127.0.0.1\n  key-hash ssh-ed25519 %s\n"
                % (md5 or sshd.md5))
    clients.ok(clients.upload(d.ssh_port, cfg, "running-config"))


@pytest.fixture
def env(start_daemon, workdir):
    d = start_daemon(config=CONFIG)
    pub = os.path.join(d.data_dir, "keys", "ssh_host_ed25519_key.pub")
    sshd = Sshd(workdir, pub)
    yield d, sshd
    sshd.stop()


def remote_rows(d, sshd, n):
    """(direction, result) of the history rows whose peer is the sshd, once n are there (the
    statistics thread writes the history shortly after a transfer ends)."""
    deadline = time.time() + 30
    while True:
        rows = [x for x in Api(d).history() if x["peer"] == "127.0.0.1:%d" % sshd.port]
        if len(rows) >= n or time.time() > deadline:
            return sorted((x["direction"], x["result"]) for x in rows)
        time.sleep(0.1)


def run(d, command, timeout=300):
    return clients.run_ssh(d.ssh_port, command, timeout=timeout)


def test_host_key_unknown_then_trusted_then_changed(env, workdir):
    d, sshd = env
    make_file(sshd.path("k.bin"), 1000, seed=1)
    r = run(d, "copy %s bootflash:k.bin" % sshd.url("k.bin"))
    assert r.returncode == 1, r
    assert "the host key of 127.0.0.1 is not known" in r.stdout, r.stdout
    assert "key-hash ssh-ed25519 %s" % sshd.md5 in r.stdout and "server 127.0.0.1" in r.stdout
    assert not os.path.exists(os.path.join(d.bootflash, "k.bin"))
    trust(d, workdir, sshd)
    r = run(d, "copy %s bootflash:k.bin" % sshd.url("k.bin"))
    assert r.returncode == 0 and "1000 bytes copied" in r.stdout, r
    assert sha256(os.path.join(d.bootflash, "k.bin")) == sha256(sshd.path("k.bin"))
    # the remote's key changes: refused, with the new key's line
    sshd.stop()
    sshd.keygen()
    sshd.start()
    r = run(d, "copy %s bootflash:k2.bin" % sshd.url("k.bin"))
    assert r.returncode == 1 and "CHANGED" in r.stdout and sshd.md5 in r.stdout, r
    assert not os.path.exists(os.path.join(d.bootflash, "k2.bin"))


def test_pull_256mib_push_back_and_sftp(env, workdir):
    d, sshd = env
    trust(d, workdir, sshd)
    big = make_file(sshd.path("big.bin"), 256 * 1024 * 1024, seed=2)
    r = run(d, "copy %s bootflash:big.bin" % sshd.url("big.bin"), timeout=600)
    assert r.returncode == 0 and "268435456 bytes copied in" in r.stdout, r
    assert "!" in r.stdout
    assert sha256(os.path.join(d.bootflash, "big.bin")) == sha256(big)
    # push it back under another name
    r = run(d, "copy bootflash:big.bin %s" % sshd.url("back.bin"), timeout=600)
    assert r.returncode == 0 and "268435456 bytes copied" in r.stdout, r
    assert sha256(sshd.path("back.bin")) == sha256(big)
    # sftp:// both ways (a smaller file)
    small = make_file(sshd.path("s.bin"), 3 * 1024 * 1024 + 5, seed=3)
    r = run(d, "copy %s nvram:s.bin" % sshd.url("s.bin", "sftp"))
    assert r.returncode == 0 and "bytes copied" in r.stdout, r
    assert sha256(os.path.join(d.data_dir, "fs", "nvram", "s.bin")) == sha256(small)
    r = run(d, "copy nvram:s.bin %s" % sshd.url("s2.bin", "sftp"))
    assert r.returncode == 0, r
    assert sha256(sshd.path("s2.bin")) == sha256(small)
    # statistics: history rows with direction pull/push and the remote as peer
    want = [("pull", "ok"), ("pull", "ok"), ("push", "ok"), ("push", "ok")]
    assert remote_rows(d, sshd, len(want)) == want
    # a missing remote file: the remote's own words
    r = run(d, "copy %s bootflash:none.bin" % sshd.url("none.bin"))
    assert r.returncode == 1 and "No such file" in r.stdout, r


def test_remote_killed_mid_transfer_leaves_nothing(env, workdir):
    d, sshd = env
    trust(d, workdir, sshd)
    make_file(sshd.path("big.bin"), 256 * 1024 * 1024, seed=4)
    api = Api(d)
    p = subprocess.Popen(["ssh", "-p", str(d.ssh_port)] + clients.ssh_opts(d.ssh_port) +
                         ["%s@%s" % (clients.USER, clients.HOST),
                          "copy %s bootflash:big.bin" % sshd.url("big.bin")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=clients._env(clients.PASSWORD))
    deadline = time.time() + 60
    while not any(n.startswith(".scpd-") and os.path.getsize(os.path.join(d.bootflash, n)) > 0
                  for n in os.listdir(d.bootflash)):   # the upload's temporary file is growing
        assert time.time() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.005)
    for pid in sshd.children():
        os.kill(pid, signal.SIGKILL)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 1 and "%Error copying" in out, (out, err)
    assert not os.path.exists(os.path.join(d.bootflash, "big.bin"))
    assert [n for n in os.listdir(d.bootflash) if n.startswith(".")] == []
    assert remote_rows(d, sshd, 1) == [("pull", "failed")]
    rows = [x for x in api.history() if x["direction"] == "pull"]
    assert "closed" in rows[0]["error"] and rows[0]["path"] == "bootflash:big.bin", rows


def test_shell_questions_password_and_ctrl_c(env, workdir):
    d, sshd = env
    trust(d, workdir, sshd)
    make_file(sshd.path("q.bin"), 64 * 1024 * 1024, seed=5)
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        out = sh.ask("copy scp: bootflash:", rb"\? $")
        assert out.endswith("Address or name of remote host []? "), out
        assert sh.ask("127.0.0.1", rb"\? $").endswith("Source username []? ")
        assert sh.ask("root", rb"\? $").endswith("Source filename []? ")
        out = sh.ask("/" + sshd.path("q.bin").lstrip("/"), rb"\? $")
        assert out.endswith("Destination filename [q.bin]? "), out
        out = sh.ask("", rb"Password: $")
        # the port is not asked (IOS's URL has it); set it through a URL instead
        sh.ch.send("\x03")
        sh.until(rb"R1#$")
        # password typed: not echoed, not logged (the device's key logs in first)
        sh.ask("copy scp://root@127.0.0.1:%d/%s bootflash:q.bin" % (sshd.port, sshd.path("q.bin")),
               rb"\? $")
        sh.ask("", rb"Password: $")
        sh.ch.send("NotThisSecret42\r")
        out = sh.until(rb"!")
        assert "NotThisSecret42" not in out
        sh.ch.send("\x03")   # ^C mid-copy
        out = sh.until(rb"R1#$", timeout=60)
        assert "Interrupted" in out, out
        assert not os.path.exists(os.path.join(d.bootflash, "q.bin"))
    finally:
        sh.close()
    assert "NotThisSecret42" not in d.log()


@pytest.mark.parametrize("url,words", [
    ("scp://root@127.0.0.1:22/a/../../etc/shadow", "'..' is not allowed"),
    ("scp://root@127.0.0.1:0/x", "port 0 is not a valid port"),
    ("scp://root@[::1]:22/x", "IPv6 addresses are not supported"),
    ("scp://root@::1/x", "IPv6 addresses are not supported"),
    ("scp://root@127.0.0.1:99999/x", "port 99999 is not a valid port"),
    ("scp://root@127.0.0.1:2x/x", "port must be a number from 1 to 65535"),
    ("scp://root@127.0.0.1/" + "a" * 1100, "too long"),
    ("ftp://root@127.0.0.1/x", "Invalid file system"),
    ("scp://root:pw@127.0.0.1:22/%00x", "NUL or control character"),
])
def test_hostile_urls_refused(env, url, words):
    d, _ = env
    r = run(d, "copy %s bootflash:x" % url)
    assert r.returncode == 1 and words in r.stdout, r
    assert not os.path.exists(os.path.join(d.bootflash, "x"))
    assert ":pw@" not in d.log()


def test_api_pull(env, workdir):
    """The dashboard's way: Cisco-IOS-XE-rpc:copy with a URL source; the history says pull."""
    from test_copy import rpc
    d, sshd = env
    trust(d, workdir, sshd)
    src = make_file(sshd.path("a.bin"), 5 * 1024 * 1024, seed=7)
    r = rpc(d, "copy", {"source-drop-node-name": sshd.url("a.bin"),
                        "destination-drop-node-name": "bootflash:"})
    assert r.status_code == 200, r.text
    assert sha256(os.path.join(d.bootflash, "a.bin")) == sha256(src)
    assert remote_rows(d, sshd, 1) == [("pull", "ok")]
    r = rpc(d, "copy", {"source-drop-node-name": "scp://127.0.0.1/x",
                        "destination-drop-node-name": "bootflash:"})
    assert r.status_code == 400 and "needs a user" in r.text, r.text

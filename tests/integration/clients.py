"""Real SSH/SCP clients driven the way a user drives them, for the integration tests.

OpenSSH `scp -O` (password through SSH_ASKPASS, no tty), PuTTY `pscp -scp`, curl `scp://`,
paramiko + scp.py, and a raw SCP protocol channel (paramiko exec) for what no well-behaved client
sends. Every function returns what the user would see (exit code, stdout, stderr).
"""
import hashlib
import re
import time
import os
import socket
import subprocess
import tempfile

import paramiko

USER = "tiger"
PASSWORD = "lab"
HOST = "127.0.0.1"

_ASKPASS = None


def askpass():
    """A script that prints $SCPD_TEST_PW: OpenSSH reads the password from it without a tty."""
    global _ASKPASS
    if _ASKPASS is None:
        fd, path = tempfile.mkstemp(prefix="scpd-askpass-", suffix=".sh")
        with os.fdopen(fd, "w") as f:
            f.write('#!/bin/sh\nprintf \'%s\\n\' "$SCPD_TEST_PW"\n')
        os.chmod(path, 0o700)
        _ASKPASS = path
    return _ASKPASS


def ssh_opts(port, key=None, auth=None, extra=()):
    """Options common to ssh and scp: no host key checks, password or the given key only."""
    opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=no", "-o", "ConnectTimeout=30"]
    if key:
        opts += ["-i", key, "-o", "IdentitiesOnly=yes", "-o", "PubkeyAuthentication=yes",
                 "-o", "PreferredAuthentications=publickey"]
    else:
        opts += ["-o", "PubkeyAuthentication=no"]
        if auth:
            opts += ["-o", "PreferredAuthentications=" + auth]
    return opts + list(extra)


def _env(password):
    env = dict(os.environ)
    env.update(SSH_ASKPASS=askpass(), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
               SCPD_TEST_PW=password)
    return env


def run_scp(port, args, password=PASSWORD, key=None, auth=None, extra=(), legacy=True,
            timeout=300):
    """scp [-O] -P port OPTIONS args... -> CompletedProcess (text)."""
    cmd = ["scp"] + (["-O"] if legacy else []) + ["-P", str(port)]
    cmd += ssh_opts(port, key=key, auth=auth, extra=extra) + list(args)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=_env(password), timeout=timeout)


def start_scp(port, args, password=PASSWORD, extra=()):
    """scp -O running in the background (Popen), e.g. to kill it mid-transfer."""
    cmd = ["scp", "-O", "-P", str(port)] + ssh_opts(port, extra=extra) + list(args)
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(password))


def remote(path, user=USER, host=HOST):
    return "%s@%s:%s" % (user, "[%s]" % host if ":" in host else host, path)


def upload(port, local, path, user=USER, **kw):
    return run_scp(port, [local, remote(path, user)], **kw)


def download(port, path, local, user=USER, **kw):
    return run_scp(port, [remote(path, user), local], **kw)


def run_ssh(port, command, password=PASSWORD, user=USER, extra=(), timeout=60):
    cmd = ["ssh", "-p", str(port)] + ssh_opts(port, extra=extra) + ["%s@%s" % (user, HOST)]
    if command:
        cmd.append(command)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=_env(password), timeout=timeout)


# ---- PuTTY ------------------------------------------------------------------------------------

def host_fingerprint(data_dir, kind="ed25519"):
    """SHA256 fingerprint of the daemon's host key, the form pscp -hostkey accepts."""
    pub = os.path.join(data_dir, "keys", "ssh_host_%s_key.pub" % kind)
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1]


def run_pscp(port, data_dir, args, password=PASSWORD, timeout=300):
    cmd = ["pscp", "-scp", "-batch", "-P", str(port), "-pw", password,
           "-hostkey", host_fingerprint(data_dir)] + list(args)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


# ---- curl -------------------------------------------------------------------------------------

def curl_url(port, path):
    """curl sends the URL path after "/~/" as the scp path as is ("/~/bootflash:x" ->
    "bootflash:x"); a plain "/bootflash:x" arrives as "/bootflash:x"."""
    return "scp://%s:%d/~/%s" % (HOST, port, path)


def curl_upload(port, local, path, user=USER, password=PASSWORD, timeout=300):
    return subprocess.run(["curl", "-sS", "-k", "--insecure", "-u", "%s:%s" % (user, password),
                           "-T", local, curl_url(port, path)], capture_output=True, text=True,
                          timeout=timeout)


def curl_download(port, path, local, user=USER, password=PASSWORD, timeout=300):
    return subprocess.run(["curl", "-sS", "-k", "--insecure", "-u", "%s:%s" % (user, password),
                           "-o", local, curl_url(port, path)], capture_output=True, text=True,
                          timeout=timeout)


# ---- paramiko ---------------------------------------------------------------------------------

def paramiko_client(port, user=USER, password=PASSWORD, timeout=30):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect(HOST, port=port, username=user, password=password, look_for_keys=False,
              allow_agent=False, timeout=timeout, banner_timeout=timeout, auth_timeout=timeout)
    return c


def connect_from(port, source):
    """A raw TCP connection to the SSH port from a given loopback address (127.0.0.0/8 is all
    local), for the per-source limits."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    s.bind((source, 0))
    s.connect((HOST, port))
    return s


def raw_scp(port, command, user=USER, password=PASSWORD):
    """An exec channel running `command` for hand-written SCP protocol bytes."""
    c = paramiko_client(port, user, password)
    ch = c.get_transport().open_session()
    ch.settimeout(30)
    ch.exec_command(command)
    return c, ch


def read_reply(ch):
    """One SCP reply: (code, message) with code 0, 1 or 2."""
    first = ch.recv(1)
    if not first:
        return None, ""
    if first == b"\0":
        return 0, ""
    msg = b""
    while not msg.endswith(b"\n"):
        b = ch.recv(1)
        if not b:
            break
        msg += b
    return first[0], msg.decode(errors="replace").strip()


# ---- files ------------------------------------------------------------------------------------

def make_file(path, size, seed=0):
    """A file of pseudo-random bytes (distinct per seed), written in 1 MiB blocks."""
    block = hashlib.sha256(b"scpd-%d" % seed).digest() * (1 << 15)   # 1 MiB
    with open(path, "wb") as f:
        left = size
        n = 0
        while left > 0:
            chunk = hashlib.sha256(b"%d-%d" % (seed, n)).digest() + block[32:]
            f.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))
            n += 1
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ok(r):
    """r (a CompletedProcess) succeeded; the client's output in the failure message."""
    assert r.returncode == 0, "client failed (%s):\n%s%s" % (r.returncode, r.stdout, r.stderr)
    return r


# ---- a terminal user (paramiko invoke_shell: a pty, as netmiko and PuTTY request) ---------------

class Shell:
    def __init__(self, port, user=USER):
        self.client = paramiko_client(port, user=user)
        self.ch = self.client.invoke_shell()
        self.ch.settimeout(30)
        self.buf = b""

    def until(self, pattern, timeout=30):
        """Reads until pattern (bytes regex) is in what arrived since the last call."""
        deadline = time.time() + timeout
        while not re.search(pattern, self.buf):
            assert time.time() < deadline, "no %r in %r" % (pattern, self.buf)
            try:
                chunk = self.ch.recv(65536)
            except socket.timeout:
                raise AssertionError("no %r in %r" % (pattern, self.buf))
            assert chunk, "channel closed; got %r" % self.buf
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out.decode()

    def cmd(self, line, prompt=rb"R1[#>]$"):
        self.ch.send(line + "\r")
        return self.until(prompt)

    def ask(self, line, question):
        """Sends line and reads up to IOS's question (a regex of its end, e.g. rb"\\? $")."""
        self.ch.send(line + "\r")
        return self.until(question)

    def close(self):
        self.client.close()

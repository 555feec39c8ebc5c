"""Shared fixtures of the integration suite: start the real scpd on free loopback ports.

Every test gets its own data directory and daemon (fast: the daemon starts in milliseconds), so
tests are independent and can run in any order. SCPD_BIN selects the binary (plain or ASan build).
"""
import os
import re
import select
import signal
import subprocess
import tempfile
import time
import shutil

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCPD_BIN = os.environ.get("SCPD_BIN", os.path.join(ROOT, "build", "scpd"))
SANITIZED = os.environ.get("SCPD_ASAN") == "1"

LOCAL_AUTH = """\
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
ip ssh time-out 120
ip ssh authentication-retries 3
ip scp server enable
"""

# Two level-15 local accounts: boss for what a test does through the API, tiger for its SSH
# clients (the revocation and teardown tests add what they need).
TWO_ADMINS = """\
hostname R1
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username boss privilege 15 password 0 bosspw
username tiger privilege 15 password 0 lab
ip scp server enable
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "nosan: too slow or meaningless under ASan; plain run only")
    config.addinivalue_line("markers", "slow: long test")
    config.addinivalue_line("markers", "fs_size(BYTES): test_pg cluster with --fs-size bootflash=BYTES")
    # netmiko 2.4 (Debian) imports telnetlib, which Python 3.11 deprecates: not ours to fix
    config.addinivalue_line("filterwarnings",
                            "ignore:'telnetlib' is deprecated:DeprecationWarning")


class Daemon:
    """A running scpd: .ssh_port, .http_port, .data_dir, .log() (its stderr so far)."""

    def __init__(self, data_dir, config=LOCAL_AUTH, args=(), ssh=True, http=True, env=None):
        self.data_dir = data_dir
        self.cfg_path = None
        cmd = [SCPD_BIN, "--data-dir", data_dir]
        if config is not None:
            self.cfg_path = os.path.join(os.path.dirname(data_dir), "startup.cfg")
            with open(self.cfg_path, "w") as f:
                f.write(config)
            cmd += ["--startup-config", self.cfg_path]
        # A door a test does not use still gets a free port, never its fixed default (2222, 8080),
        # so daemons of concurrent test runs on one machine never collide.
        if ssh or "--ssh-listen" not in args:
            cmd += ["--ssh-listen", "127.0.0.1:0"]
        if http or "--http-listen" not in args:
            cmd += ["--http-listen", "127.0.0.1:0"]
        cmd += list(args)
        self.cmd = cmd
        self.errpath = os.path.join(os.path.dirname(data_dir), "scpd.stderr")
        self._err = open(self.errpath, "ab")
        self._log_start = self._err.tell()   # the file may hold earlier runs on this data dir
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err,
                                     env=dict(os.environ, **(env or {})))
        self.ssh_port = None
        self.http_port = None
        self.stdout_lines = []
        self._wait_ready(ssh, http)

    def _wait_ready(self, ssh, http, timeout=30):
        deadline = time.time() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while time.time() < deadline:
            if (ssh or http) and (self.ssh_port or not ssh) and (self.http_port or not http):
                return
            # Without a door to wait for, "scpd ready" on stderr says the start-up is done.
            if not ssh and not http and "scpd ready" in self.log(since_start=True):
                return
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.decode(errors="replace")
                    self.stdout_lines.append(line)
                    m = re.match(r"ssh listening on (\S+):(\d+)$", line)
                    if m:
                        self.ssh_port = int(m.group(2))
                    m = re.match(r"http listening on (\S+):(\d+)$", line)
                    if m:
                        self.http_port = int(m.group(2))
            elif self.proc.poll() is not None:
                break
        raise RuntimeError("scpd did not start: rc=%s stdout=%r stderr=%s" % (
            self.proc.poll(), self.stdout_lines, self.log()))

    def log(self, since_start=False):
        if not self._err.closed:   # also readable after stop()
            self._err.flush()
        with open(self.errpath, "rb") as f:
            if since_start:
                f.seek(self._log_start)
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("scpd did not stop on %s" % sig)
        self._err.close()
        return self.proc.returncode

    @property
    def bootflash(self):
        return os.path.join(self.data_dir, "fs", "bootflash")

    @property
    def nvram(self):
        return os.path.join(self.data_dir, "fs", "nvram")


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="scpd-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def start_daemon(workdir):
    """start_daemon(config=..., args=...) -> Daemon; stopped (and checked to exit 0) after the test."""
    started = []

    def start(config=LOCAL_AUTH, args=(), name="data", **kw):
        d = Daemon(os.path.join(workdir, name), config=config, args=args, **kw)
        started.append(d)
        return d

    yield start
    for d in started:
        rc = d.stop()
        assert rc == 0, "scpd exited %s; log:\n%s" % (rc, d.log())


@pytest.fixture
def daemon(start_daemon):
    """scpd with the local-authentication reference configuration (docs/config.md)."""
    return start_daemon()

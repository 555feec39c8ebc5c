"""Start-up of scpd as an operator sees it: the command line, --check-config, the first start on an
empty data directory (store, host keys, no plaintext at rest), a second start that keeps
everything, clean stops on SIGTERM/SIGINT, and kill -9 during commits that never loses a committed
version (tests/tools/store_torture)."""
import os
import random
import re
import select
import signal
import sqlite3
import stat
import subprocess
import time

import pytest

from conftest import ROOT, SCPD_BIN, LOCAL_AUTH

EXAMPLES = os.path.join(ROOT, "examples")
TORTURE = os.path.join(ROOT, "build", "tools", "store_torture")
# Free ports, so the start-up tests also run once the doors exist (readiness: "scpd ready").
PORTS = ["--ssh-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]

# The two reference configurations of docs/config.md, verbatim (with their comment lines).
SPEC_LOCAL = """\
    ! local authentication
    aaa new-model
    aaa authentication login default local
    aaa authorization exec default local
    username tiger privilege 15 password 0 lab
    ip ssh time-out 120
    ip ssh authentication-retries 3
    ip scp server enable
"""
SPEC_NETWORK = """\
    ! network-based authentication
    aaa new-model
    aaa authentication login default group tacacs+
    aaa authorization exec default group tacacs+
    ip ssh time-out 120
    ip ssh authentication-retries 3
    ip scp server enable
"""


def scpd(*args, timeout=60):
    return subprocess.run([SCPD_BIN, *args], capture_output=True, text=True, timeout=timeout)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def dump(db):
    return subprocess.run(["sqlite3", db, ".dump"], capture_output=True, text=True,
                          check=True).stdout


def query(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---- command line --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["local-auth.cfg", "network-auth.cfg"])
def test_check_config_accepts_the_examples(name):
    r = scpd("--check-config", os.path.join(EXAMPLES, name))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid" in r.stdout


@pytest.mark.parametrize("text", [SPEC_LOCAL, SPEC_NETWORK])
def test_check_config_accepts_the_spec_text_verbatim(workdir, text):
    r = scpd("--check-config", write(os.path.join(workdir, "ref.cfg"), text))
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_config_rejects_out_of_range_timeout(workdir):
    text = "hostname R1\naaa new-model\n!\nip ssh time-out 500\nip scp server enable\n"
    r = scpd("--check-config", write(os.path.join(workdir, "bad.cfg"), text))
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    lines = out.splitlines()
    i = next(n for n, l in enumerate(lines) if l.startswith("line 4: ip ssh time-out 500"))
    # the marker stands under the bad value
    assert lines[i + 1].index("^") == lines[i].index("500"), out
    assert "% Invalid input detected at '^' marker" in lines[i + 2], out
    assert "1-120" in lines[i + 2], out


def test_check_config_unreadable_file_is_usage_error(workdir):
    r = scpd("--check-config", os.path.join(workdir, "missing.cfg"))
    assert r.returncode == 2
    assert "missing.cfg" in r.stdout + r.stderr


@pytest.mark.parametrize("args", [["--bogus"], ["--check-config"], ["extra-arg"],
                                  ["--ssh-listen", "nocolon"], ["--log-level", "loud"],
                                  ["--tls-cert", "/x/cert.pem"]])
def test_bad_command_line_is_usage_error(args):
    r = scpd(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "usage: scpd" in r.stderr
    assert r.stdout == ""


def test_help_and_version():
    r = scpd("--help")
    assert r.returncode == 0
    for opt in ("--data-dir", "--ssh-listen", "--http-listen", "--startup-config", "--tls-cert",
                "--tls-key", "--log-level", "--check-config", "--version"):
        assert opt in r.stdout
    r = scpd("--version")
    assert r.returncode == 0
    assert re.match(r"scpd \d+\.\d+\.\d+$", r.stdout.strip())


# ---- first and second start ----------------------------------------------------------------------

def test_first_start_creates_store_and_keys(start_daemon):
    d = start_daemon(args=PORTS, ssh=False, http=False)
    data = d.data_dir
    for sub in ("", "fs", "fs/bootflash", "fs/nvram", "keys"):
        st = os.stat(os.path.join(data, sub))
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, sub
    assert os.path.exists(os.path.join(data, "scpd.db"))
    for key in ("ssh_host_rsa_key", "ssh_host_ed25519_key"):
        path = os.path.join(data, "keys", key)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, key
    out = subprocess.run(["ssh-keygen", "-l", "-f", os.path.join(data, "keys", "ssh_host_rsa_key")],
                         capture_output=True, text=True, check=True).stdout
    assert out.endswith("(RSA)\n") and int(out.split()[0]) >= 2048, out
    out = subprocess.run(["ssh-keygen", "-l", "-f",
                          os.path.join(data, "keys", "ssh_host_ed25519_key")],
                         capture_output=True, text=True, check=True).stdout
    assert "(ED25519)" in out
    log = d.log()
    for what in ("created directory", "store: created", "generated RSA 3072 host key",
                 "generated Ed25519 host key", "scpd ready"):
        assert what in log, log
    assert d.stop() == 0
    # stdout carries nothing but the doors' "listening" lines
    rest = d.proc.stdout.read().decode()
    for line in d.stdout_lines + rest.splitlines():
        assert re.match(r"(ssh|http) listening on \S+:\d+$", line), line
    # the configuration is the given one, with the password hashed
    db = os.path.join(data, "scpd.db")
    assert query(db, "SELECT name, privilege, secret_type FROM users") == [("tiger", 15, 9)]
    assert query(db, "SELECT version FROM meta") == [(1,)]
    text = dump(db)
    assert "password 0 lab" not in text
    assert not re.search(r"(?<![A-Za-z0-9./$])lab(?![A-Za-z0-9./])", text)


def test_no_plaintext_password_at_rest(start_daemon):
    cfg = LOCAL_AUTH.replace("password 0 lab", "password 0 Plain-Text-Pw-42") + \
        "username lion secret 0 Other-Plain-Pw-43\n"
    d = start_daemon(config=cfg, args=PORTS, ssh=False, http=False)
    assert d.stop() == 0
    text = dump(os.path.join(d.data_dir, "scpd.db"))
    assert "Plain-Text-Pw-42" not in text and "Other-Plain-Pw-43" not in text
    assert "$9$" in text
    for name in os.listdir(d.data_dir):
        path = os.path.join(d.data_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                blob = f.read()
            assert b"Plain-Text-Pw-42" not in blob and b"Other-Plain-Pw-43" not in blob, name
    assert "Plain-Text-Pw-42" not in d.log()


def test_second_start_keeps_everything(start_daemon):
    d1 = start_daemon(args=PORTS, ssh=False, http=False)
    assert d1.stop() == 0
    db = os.path.join(d1.data_dir, "scpd.db")
    snapshot = [query(db, "SELECT * FROM " + t + " ORDER BY 1")
                for t in ("meta", "setting", "users", "mlist", "startup")]
    keys = {}
    for name in sorted(os.listdir(os.path.join(d1.data_dir, "keys"))):
        with open(os.path.join(d1.data_dir, "keys", name), "rb") as f:
            keys[name] = f.read()
    # a different --startup-config on a later start is ignored, and the log says so
    d2 = start_daemon(config="hostname Other\n", args=PORTS, ssh=False, http=False)
    assert d2.data_dir == d1.data_dir
    log = d2.log(since_start=True)
    assert "ignored" in log and "first start only" in log, log
    assert "generated" not in log and "store: opened" in log, log
    assert d2.stop() == 0
    assert [query(db, "SELECT * FROM " + t + " ORDER BY 1")
            for t in ("meta", "setting", "users", "mlist", "startup")] == snapshot
    for name, blob in keys.items():
        with open(os.path.join(d1.data_dir, "keys", name), "rb") as f:
            assert f.read() == blob, name


def test_invalid_startup_config_aborts_the_first_start(workdir):
    data = os.path.join(workdir, "data")
    cfg = write(os.path.join(workdir, "bad.cfg"), "hostname R1\nip ssh time-out 500\n")
    r = scpd("--data-dir", data, "--startup-config", cfg, *PORTS, timeout=30)
    assert r.returncode == 1
    assert "line 2: ip ssh time-out 500" in r.stderr
    assert "1-120" in r.stderr
    assert not os.path.exists(os.path.join(data, "scpd.db"))
    assert r.stdout == ""


def test_default_config_without_startup_file(start_daemon):
    d = start_daemon(config=None, args=PORTS, ssh=False, http=False)
    assert "built-in default" in d.log()
    assert d.stop() == 0
    db = os.path.join(d.data_dir, "scpd.db")
    assert query(db, "SELECT count(*) FROM users") == [(0,)]
    assert query(db, "SELECT value FROM setting WHERE name = 'scp_enable'") == [(0,)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signal(start_daemon, sig):
    d = start_daemon(args=PORTS, ssh=False, http=False)
    assert d.stop(sig) == 0
    assert "scpd stopped" in d.log()


def test_first_start_interrupted_before_its_commit_is_redone(start_daemon, workdir):
    # A first start killed before the store's first commit leaves an empty database file: the next
    # start is still a first start and loads --startup-config.
    data = os.path.join(workdir, "data")
    os.makedirs(data)
    open(os.path.join(data, "scpd.db"), "w").close()
    d = start_daemon(args=PORTS, ssh=False, http=False)
    assert "ignored" not in d.log(), d.log()
    assert d.stop() == 0
    db = os.path.join(data, "scpd.db")
    assert query(db, "SELECT name, privilege FROM users") == [("tiger", 15)]


def test_second_daemon_on_the_same_data_dir_is_refused(start_daemon):
    d = start_daemon(args=PORTS, ssh=False, http=False)
    r = scpd("--data-dir", d.data_dir, *PORTS, timeout=30)
    assert r.returncode == 1
    assert "in use by another scpd" in r.stderr
    assert d.proc.poll() is None   # the first one is unharmed


# ---- kill -9 during commits ----------------------------------------------------------------------

def _read_for(proc, seconds):
    """Reads the torture program's stdout for about `seconds`."""
    buf = b""
    fd = proc.stdout.fileno()
    end = time.time() + seconds
    while True:
        left = end - time.time()
        if left <= 0:
            return buf
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                return buf
            buf += chunk


@pytest.mark.nosan
def test_kill9_during_commits_never_loses_a_version(workdir):
    assert os.access(TORTURE, os.X_OK), "missing %s: make build/tools/store_torture" % TORTURE
    data = os.path.join(workdir, "torture")
    os.mkdir(data)
    seed = int(time.time())
    rng = random.Random(seed)
    last = 0
    for i in range(25):
        p = subprocess.Popen([TORTURE, "run", data], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        buf = _read_for(p, rng.uniform(0.01, 0.2))
        p.send_signal(signal.SIGKILL)
        p.wait()
        buf += p.stdout.read()   # what was printed before the kill is in the pipe
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        assert "commit" not in err, "seed %d round %d: %s" % (seed, i, err)
        done = [int(x) for x in buf.decode().split("\n")[:-1]]   # whole lines only
        if done:
            assert done == sorted(done), done
            last = max(last, done[-1])
        con = sqlite3.connect(os.path.join(data, "scpd.db"))
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            con.close()
        r = subprocess.run([TORTURE, "check", data, str(last)], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, "seed %d round %d: %s" % (seed, i, r.stderr)
        assert int(r.stdout) >= last
    assert last > 25, "the torture program made too little progress (%d commits)" % last


#!/usr/bin/python3
"""make soak: the ASan+UBSan daemon under 200 concurrent SSH sessions for SOAK_SECONDS (60).

The sessions are a mix of real clients: OpenSSH `scp -O` uploads and downloads, OpenSSH `sftp -b`
batches, long-lived paramiko SFTP sessions, paramiko interactive shells and OpenSSH exec commands
(IOS CLI). Beside them: RESTCONF writes, deletions and re-creations of the "victim" users (whose
open sessions must be refused with the reason) and toggles of `ip scp server enable`.

It fails (exit 1) on: a daemon crash or non-zero exit, any sanitizer report (LeakSanitizer runs at
the clean shutdown), a lost transfer (an upload the client saw acknowledged that is not on disk
with its checksum, a download with the wrong bytes), a failure the client saw no reason for, a
refusal no deliberate deletion or toggle explains, an API write answered 5xx, or fewer concurrent
sessions than asked. It prints a summary table of figures either way.

Sessions come from 40 loopback sources (127.0.0.2...), as many hosts would: the per-source limits
(LIM_SESSIONS_PER_SOURCE, LIM_PENDING_PER_SOURCE) stay what they are.

Holding --sessions at once: --sessions workers hold a session each for the whole run (paramiko
SFTP and shells, OpenSSH shells fed through stdin), doing an operation every second or so; about a
quarter more run OpenSSH one-shots on top (scp -O up and down, sftp -b batches, exec), a new
session each. The stable users log in with a public key (as IOS admins and automation do), so the
ramp is not a queue of type-9 scrypt verifications under ASan; the victims use passwords. The
holders are started first (the ramp, counted as set-up); then the timed run with deletions and
toggles. The peak of the daemon's sessions-active is measured every half second.
"""
import argparse
import collections
import hashlib
import logging
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import paramiko  # noqa: E402
import requests  # noqa: E402

import clients  # noqa: E402
from conftest import Daemon  # noqa: E402

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
OPS = "/restconf/operations"
YJ = "application/yang-data+json"
ADMIN, ADMIN_PW = "admin", "soak-admin-pw"
N_STABLE = 24            # users never deleted
N_VICTIMS = 6            # users deleted and re-created during the run
SOURCES = ["127.0.0.%d" % i for i in range(2, 42)]   # 40 sources: 5 holders each at 200
ASAN_OPTIONS = "detect_leaks=1:abort_on_error=0"
OP_TIMEOUT = 180         # one client command; more is a hang (counted as unexplained)
ONESHOT_SHARE = 0.25     # one-shot OpenSSH workers on top of the holders
KEY = None               # the stable users' private key file (main)
PKEY = None              # the same, loaded for paramiko

# What the clients may see as the reason of a refusal, and what explains it.
REASONS = [
    (r"SCP server is disabled \(ip scp server enable\)", "scp disabled", "toggle"),
    (r"access revoked: user \S+ was deleted", "user deleted", "delete"),
    (r"access revoked: the secret of user \S+ changed", "user re-created", "delete"),
    (r"access revoked: [^\n]*", "access revoked", "delete"),
    (r"authorization failed: user \S+ is not in the local database", "user deleted", "delete"),
    (r"Permission denied \((password|publickey|keyboard)", "login refused", "delete"),
    (r"Authentication failed", "login refused", "delete"),
    (r"Session lifetime of \d+ seconds reached", "session lifetime", None),
    (r"%[^\n]{3,}", None, None),
    # scpd closes a connection over its pending-handshake limits before the SSH banner: the
    # client sees a reset, the reason is only in scpd's log (checked in log_refusals)
    (r"kex_exchange_identification: (read: Connection reset by peer|Connection closed by remote "
     r"host)|Error reading SSH protocol banner", "reset before banner (scpd log: too many unauthenticated)", "log"),
]
# Clients that drop the server's words: OpenSSH sftp prints the SFTP status code only ("not
# found" from a refused stat, "Permission denied"), whatever the status message said. Accepted
# only while a toggle or a deletion of the user was under way.
GENERIC = [
    (r'File "[^"]*" not found|Can\'t ls: "[^"]*" not found|remote open\([^)]*\): Permission denied'
     r'|[Cc]ouldn\'t [^\n]*: Permission denied|dest open "[^"]*": Permission denied'
     r'|Connection closed',
     "no message shown (OpenSSH sftp)"),
]


def password(user):
    return "pw-" + user


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


class Run:
    """The shared record of a soak run: events, results, figures."""

    def __init__(self, seconds):
        self.lock = threading.Lock()
        self.seconds = seconds
        self.stop = threading.Event()
        self.t0 = None
        self.results = collections.Counter()      # (kind, outcome) -> count
        self.reasons = collections.Counter()      # (kind, reason) -> count
        self.problems = []                        # strings: what fails the run
        self.uploads = []                         # (name, sha256, size): acknowledged uploads
        self.bytes_up = 0
        self.bytes_down = 0
        self.deletions = []                       # (user, t_delete, t_recreated)
        self.deleting = {}                        # user -> t_delete while deleted
        self.toggles = []                         # (t_off, t_on)
        self.toggle_off = None
        self.api = collections.Counter()          # status -> count
        self.api_slowest = 0.0
        self.sessions = 0                         # SSH sessions opened by the clients
        self.live = 0                             # client sessions open now
        self.peak_live = 0
        self.peak_active = 0                      # the daemon's sessions-active
        self.low_active = None                    # its lowest after the ramp
        self.ramp_s = 0.0
        self.t_start = time.time()
        self.peak_rss_kb = 0
        self.peak_fds = 0
        self.fds_start = 0

    def problem(self, msg):
        with self.lock:
            self.problems.append(msg)
        print("PROBLEM: " + msg, flush=True)

    def session(self, delta):
        with self.lock:
            if delta > 0:
                self.sessions += 1
            self.live += delta
            self.peak_live = max(self.peak_live, self.live)

    def explained(self, cause, user, t0, t1):
        """A deliberate deletion of user, or toggle, overlaps [t0, t1] (a second of slack)."""
        if cause == "log":
            return True     # counted here, matched against scpd's log at the end
        with self.lock:
            if cause == "toggle":
                spans = list(self.toggles)
                if self.toggle_off is not None:
                    spans.append((self.toggle_off, time.time()))
            else:
                spans = [(a, b) for u, a, b in self.deletions if u == user]
                if user in self.deleting:
                    spans.append((self.deleting[user], time.time()))
        # slack: a revoked session's channels get a second to refuse in their protocol
        # (SSH_REVOKE_GRACE_MS), and the daemon notices within a slice, slower under ASan
        return any(a - 1 <= t1 and t0 <= b + 3 for a, b in spans)

    def outcome(self, kind, user, t0, ok, text="", nbytes=0, up=False):
        """One client operation's end: ok, or a failure classified by what the client saw."""
        t1 = time.time()
        if ok:
            with self.lock:
                self.results[(kind, "ok")] += 1
                if up:
                    self.bytes_up += nbytes
                else:
                    self.bytes_down += nbytes
            return
        for pattern, label, cause in REASONS:
            m = re.search(pattern, text)
            if not m:
                continue
            label = label or m.group(0).strip()[:60]
            if cause and not self.explained(cause, user, t0, t1):
                self.problem("%s by %s refused with '%s' but no %s explains it: %s" % (
                    kind, user, label, cause, text.strip()[-300:]))
                outcome = "unexplained"
            else:
                outcome = "refused"
            with self.lock:
                self.results[(kind, outcome)] += 1
                self.reasons[(kind, label)] += 1
            return
        for pattern, label in GENERIC:
            if re.search(pattern, text) and (self.explained("toggle", user, t0, t1) or
                                             self.explained("delete", user, t0, t1)):
                with self.lock:
                    self.results[(kind, "refused")] += 1
                    self.reasons[(kind, label)] += 1
                return
        self.problem("%s by %s failed with no reason the client saw: %r" % (
            kind, user, text.strip()[-400:]))
        with self.lock:
            self.results[(kind, "unexplained")] += 1


# ---- OpenSSH clients ----------------------------------------------------------------------------

def openssh(run, d, argv, user, source, kind):
    """scp/sftp/ssh with the user's password; (ok, text). A hang past OP_TIMEOUT is a failure."""
    key = KEY if user.startswith("soak") else None
    opts = clients.ssh_opts(d.ssh_port, key=key, extra=["-o", "BindAddress=" + source])
    cmd = [argv[0]] + argv[1] + opts + argv[2]
    run.session(1)
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           env=clients._env(password(user)), timeout=OP_TIMEOUT, cwd=argv[3])
        out = (r.stdout + r.stderr).decode(errors="replace")
        return r.returncode == 0, out, r.stdout
    except subprocess.TimeoutExpired as e:
        return False, "HANG: %s did not end in %d s (%s)" % (kind, OP_TIMEOUT, e), b""
    finally:
        run.session(-1)


def w_scp_upload(run, d, wid, user, source, tmp, files):
    n = 0
    while not run.stop.is_set():
        n += 1
        name = "up-%03d-%05d.bin" % (wid, n)
        size = random.choice([1, 1000, 4096, 65536, 200000, 1 << 20])
        data = os.urandom(size)
        local = os.path.join(tmp, name)
        with open(local, "wb") as f:
            f.write(data)
        t0 = time.time()
        ok, text, _ = openssh(run, d, ["scp", ["-O", "-P", str(d.ssh_port)],
                                       [local, "%s@127.0.0.1:bootflash:%s" % (user, name)], tmp],
                              user, source, "scp upload")
        if ok:
            with run.lock:
                run.uploads.append((name, sha256_bytes(data), size))
        run.outcome("scp upload", user, t0, ok, text, size, up=True)
        os.unlink(local)


def w_scp_download(run, d, wid, user, source, tmp, files):
    while not run.stop.is_set():
        name, digest, size = random.choice(files)
        local = os.path.join(tmp, "dl-%03d.bin" % wid)
        t0 = time.time()
        ok, text, _ = openssh(run, d, ["scp", ["-O", "-P", str(d.ssh_port)],
                                       ["%s@127.0.0.1:bootflash:%s" % (user, name), local], tmp],
                              user, source, "scp download")
        if ok:
            got = open(local, "rb").read()
            if sha256_bytes(got) != digest:
                run.problem("scp download of %s: %d bytes, checksum differs (want %d)" % (
                    name, len(got), size))
                ok, text = False, "corrupt"
        run.outcome("scp download", user, t0, ok, text, size)
        if os.path.exists(local):
            os.unlink(local)


def w_sftp_batch(run, d, wid, user, source, tmp, files):
    n = 0
    batch = os.path.join(tmp, "batch-%03d.txt" % wid)
    while not run.stop.is_set():
        n += 1
        name = "sf-%03d-%05d.bin" % (wid, n)
        data = os.urandom(random.choice([100, 8192, 100000, 700000]))
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
        dname, digest, dsize = random.choice(files)
        got = "got-%03d.bin" % wid
        with open(batch, "w") as f:
            f.write("put %s /bootflash/%s\nget /bootflash/%s %s\nls /bootflash\n" % (
                name, name, dname, got))
        t0 = time.time()
        # the options first: sftp -b adds BatchMode=yes, and ssh takes the first value it sees
        ok, text, _ = openssh(run, d, ["sftp", ["-P", str(d.ssh_port)],
                                       ["-b", batch, "%s@127.0.0.1" % user], tmp],
                              user, source, "sftp batch")
        # sftp -b stops at the first failed command: the put was acknowledged when the get ran
        if ok or re.search(r"sftp> get ", text):
            with run.lock:
                run.uploads.append((name, sha256_bytes(data), len(data)))
        if ok:
            gotb = open(os.path.join(tmp, got), "rb").read()
            if sha256_bytes(gotb) != digest:
                run.problem("sftp get of %s: checksum differs" % dname)
                ok, text = False, "corrupt"
        run.outcome("sftp batch", user, t0, ok, text, len(data) + dsize, up=True)
        for p in (name, got):
            if os.path.exists(os.path.join(tmp, p)):
                os.unlink(os.path.join(tmp, p))


def w_exec(run, d, wid, user, source, tmp, files):
    cmds = ["show version", "show clock", "dir bootflash:", "show ip ssh", "show users",
            "show running-config | include username"]
    while not run.stop.is_set():
        c = random.choice(cmds)
        t0 = time.time()
        ok, text, out = openssh(run, d, ["ssh", ["-p", str(d.ssh_port)],
                                         ["%s@127.0.0.1" % user, c], tmp], user, source, "exec")
        if ok and not out:
            ok, text = False, "exec %r: exit 0 without output" % c
        run.outcome("exec", user, t0, ok, text, len(out))


# ---- paramiko clients ---------------------------------------------------------------------------

class TransportLog(logging.Handler):
    """paramiko logs the peer's disconnect reason ("Disconnect (code 2): ...") but does not put
    it in the exception: each worker's transport logs to soak.wNNN, kept here."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = collections.defaultdict(lambda: collections.deque(maxlen=8))

    def emit(self, record):
        self.lines[record.name].append(record.getMessage())

    def text(self, wid):
        return " | ".join(self.lines.pop("soak.w%03d" % wid, ()))


TLOG = TransportLog()
logging.getLogger("soak").addHandler(TLOG)
logging.getLogger("soak").setLevel(logging.INFO)
logging.getLogger("soak").propagate = False


def paramiko_connect(d, user, source, wid):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(60)
    s.bind((source, 0))
    s.connect(("127.0.0.1", d.ssh_port))
    c = paramiko.SSHClient()
    c.set_log_channel("soak.w%03d" % wid)
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    kw = dict(password=password(user))
    if user.startswith("soak"):
        kw = dict(pkey=PKEY)
    try:
        c.connect("127.0.0.1", port=d.ssh_port, username=user, sock=s, look_for_keys=False,
                  allow_agent=False, timeout=60, banner_timeout=60, auth_timeout=60, **kw)
    except Exception:
        # paramiko keeps the transport (and the socket) open after a refused login: the daemon
        # then holds the unauthenticated session until ip ssh time-out (last soak: "5 sessions
        # and 19 descriptors still held")
        c.close()
        s.close()
        raise
    return c


def err_text(e, wid=None):
    tail = TLOG.text(wid) if wid is not None else ""
    return "%s: %s%s" % (type(e).__name__, e, (" (transport: %s)" % tail) if tail else "")


def pause(run):
    """A holder's think time between operations: the sessions stay open, the CPU is not all
    spent on transfers."""
    run.stop.wait(random.uniform(0.3, 1.5))


def w_paramiko_sftp(run, d, wid, user, source, tmp, files):
    """Holds an SFTP session for the run; a refused request (status with the reason) leaves the
    session open, a lost session is reconnected."""
    n = 0
    while not run.stop.is_set():
        t0 = time.time()
        try:
            c = paramiko_connect(d, user, source, wid)
        except Exception as e:  # noqa: BLE001 - classified by its text
            run.outcome("paramiko sftp", user, t0, False, err_text(e, wid))
            run.stop.wait(0.5)
            continue
        run.session(1)
        try:
            s = c.open_sftp()
            s.get_channel().settimeout(OP_TIMEOUT)
            while not run.stop.is_set():
                try:
                    if random.random() < 0.5:
                        n += 1
                        name = "ps-%03d-%05d.bin" % (wid, n)
                        data = os.urandom(random.choice([10, 5000, 65536, 300000]))
                        with s.open("/bootflash/" + name, "wb") as f:
                            f.write(data)
                        with run.lock:   # the close was answered: acknowledged
                            run.uploads.append((name, sha256_bytes(data), len(data)))
                        run.outcome("paramiko sftp", user, t0, True, nbytes=len(data), up=True)
                    else:
                        name, digest, size = random.choice(files)
                        with s.open("/bootflash/" + name, "rb") as f:
                            got = f.read()
                        if sha256_bytes(got) != digest:
                            run.problem("paramiko sftp read of %s: checksum differs" % name)
                            run.outcome("paramiko sftp", user, t0, False, "corrupt")
                        else:
                            run.outcome("paramiko sftp", user, t0, True, nbytes=size)
                except IOError as e:
                    if not c.get_transport().is_active():
                        raise
                    text = err_text(e, wid)
                    run.outcome("paramiko sftp", user, t0, False, text)
                    if "access revoked" in text:
                        break   # told: the daemon ends the session, a new login follows
                    # (a refusal such as "SCP server is disabled" leaves the session usable)
                t0 = time.time()   # the session's end may come during the pause
                pause(run)
        except Exception as e:  # noqa: BLE001
            run.outcome("paramiko sftp", user, t0, False, err_text(e, wid))
        finally:
            run.session(-1)
            c.close()


def w_shell(run, d, wid, user, source, tmp, files):
    """Holds an interactive paramiko shell for the run, a command every second or so."""
    prompt = re.compile(rb"(^|\n)[\w.-]+[#>] ?$")
    cmds = ["show version", "show clock", "dir bootflash:", "show users", "show ip ssh",
            "terminal length 0"]
    while not run.stop.is_set():
        t0 = time.time()
        buf = b""
        try:
            c = paramiko_connect(d, user, source, wid)
        except Exception as e:  # noqa: BLE001
            run.outcome("shell", user, t0, False, err_text(e, wid))
            run.stop.wait(0.5)
            continue
        run.session(1)
        try:
            ch = c.invoke_shell()
            ch.settimeout(OP_TIMEOUT)
            first = True
            while not run.stop.is_set():
                if not first:
                    ch.send(random.choice(cmds) + "\r")
                first = False
                buf = b""
                while not prompt.search(buf):
                    chunk = ch.recv(65536)
                    if not chunk:
                        raise EOFError("shell closed: %r" % buf[-300:].decode(errors="replace"))
                    buf += chunk
                run.outcome("shell", user, t0, True, nbytes=len(buf))
                t0 = time.time()   # the session's end may come during the pause
                pause(run)
            ch.send("exit\r")
        except Exception as e:  # noqa: BLE001
            run.outcome("shell", user, t0, False, err_text(e, wid) + " " +
                        buf[-300:].decode(errors="replace"))
        finally:
            run.session(-1)
            c.close()


def w_openssh_shell(run, d, wid, user, source, tmp, files):
    """Holds an OpenSSH session for the run: `ssh user@host` with the EXEC CLI on stdin (no
    terminal), a command every second or so; `exit` at the end, exit status 0 expected."""
    cmds = ["show clock", "show version", "dir bootflash:", "show users"]
    while not run.stop.is_set():
        key = KEY if user.startswith("soak") else None
        cmd = ["ssh", "-p", str(d.ssh_port)] + clients.ssh_opts(
            d.ssh_port, key=key, extra=["-o", "BindAddress=" + source]) + ["%s@127.0.0.1" % user]
        t0 = time.time()
        log = open(os.path.join(tmp, "ssh-out.txt"), "w+b")   # a file: no pipe to drain
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                             env=clients._env(password(user)), cwd=tmp)
        run.session(1)
        sent = 0
        try:
            while not run.stop.is_set() and p.poll() is None:
                try:
                    p.stdin.write((random.choice(cmds) + "\n").encode())
                    p.stdin.flush()
                    sent += 1
                except (BrokenPipeError, OSError):
                    break
                pause(run)
            try:
                p.stdin.write(b"exit\n")
                p.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            hang = b""
            try:
                p.wait(timeout=OP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                hang = b"HANG: ssh shell did not end"
            log.seek(0)
            out = log.read() + hang
            text = out.decode(errors="replace")
            ok = p.returncode == 0 and not hang
            run.outcome("openssh shell", user, t0, ok, text[-2000:], len(out))
        finally:
            run.session(-1)
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()


# ---- API, deletions, toggles, monitor -----------------------------------------------------------

class Api:
    def __init__(self, d, run):
        self.base = "http://127.0.0.1:%d" % d.http_port
        self.run = run
        r = requests.post(self.base + OPS + "/scpd:login", auth=(ADMIN, ADMIN_PW), timeout=60)
        r.raise_for_status()
        self.tok = r.json()["scpd:output"]["token"]

    def call(self, method, path, body=None, count=True, expect=(200, 201, 204)):
        t0 = time.time()
        try:
            r = requests.request(method, self.base + path, json=body, timeout=120,
                                 headers={"Authorization": "Bearer " + self.tok,
                                          "Content-Type": YJ, "Accept": YJ})
        except requests.RequestException as e:
            self.run.problem("API %s %s: %s" % (method, path, e))
            return None
        with self.run.lock:
            self.run.api_slowest = max(self.run.api_slowest, time.time() - t0)
            if count:
                self.run.api[r.status_code] += 1
        if r.status_code >= 500 or r.status_code not in expect + (409, 412, 429):
            self.run.problem("API %s %s: %d %s" % (method, path, r.status_code, r.text[:300]))
        return r


def user_body(name, privilege=15):
    return {"Cisco-IOS-XE-native:username": [{
        "name": name, "privilege": privilege,
        "secret": {"encryption": "0", "secret": password(name)}}]}


def t_api_writes(run, d, api, k):
    i = 0
    while not run.stop.is_set():
        i += 1
        choice = i % 3
        if choice == 0:
            api.call("PUT", NATIVE + "/ip/ssh/time-out",
                     {"Cisco-IOS-XE-native:time-out": random.randint(60, 120)})
        elif choice == 1:
            name = "api%d-%d" % (k, i % 5)
            api.call("PUT", NATIVE + "/username=" + name, user_body(name, random.randint(1, 15)))
        else:
            api.call("DELETE", NATIVE + "/username=api%d-%d" % (k, (i + 2) % 5),
                     expect=(204, 404))
        time.sleep(0.2)


def t_deletions(run, d, api, victims):
    while not run.stop.wait(2.5):
        user = random.choice(victims)
        with run.lock:
            run.deleting[user] = time.time()
        api.call("DELETE", NATIVE + "/username=" + user)
        run.stop.wait(1.5)
        api.call("PUT", NATIVE + "/username=" + user, user_body(user))
        with run.lock:
            run.deletions.append((user, run.deleting.pop(user), time.time()))


def t_toggles(run, d, api):
    url = NATIVE + "/ip/scp/server/enable"
    while not run.stop.wait(6):
        with run.lock:
            run.toggle_off = time.time()
        api.call("DELETE", url)
        run.stop.wait(1.5)
        api.call("PUT", url, {"Cisco-IOS-XE-native:enable": [None]})
        with run.lock:
            run.toggles.append((run.toggle_off, time.time()))
            run.toggle_off = None


def proc_figures(pid):
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm, len(os.listdir("/proc/%d/fd" % pid))


def t_monitor(run, d, api):
    while not run.stop.wait(0.5):
        if d.proc.poll() is not None:
            run.problem("scpd exited during the run: %s" % d.proc.returncode)
            run.stop.set()
            return
        try:
            _, hwm, fds = proc_figures(d.proc.pid)
        except OSError:
            continue
        r = api.call("GET", "/restconf/data/scpd:scp-state?limit=1", count=False)
        active = 0
        if r is not None and r.status_code == 200:
            active = int(r.json().get("scpd:scp-state", {}).get("sessions-active", 0))
        with run.lock:
            run.peak_rss_kb = max(run.peak_rss_kb, hwm)
            run.peak_fds = max(run.peak_fds, fds)
            run.peak_active = max(run.peak_active, active)
            if run.t0 is not None and r is not None and r.status_code == 200:
                run.low_active = active if run.low_active is None else min(run.low_active, active)


# ---- the run ------------------------------------------------------------------------------------

HOLDERS = [  # (kind, function, share of --sessions): a session each for the whole run
    ("paramiko sftp", w_paramiko_sftp, 0.45),
    ("shell", w_shell, 0.35),
    ("openssh shell", w_openssh_shell, 0.20),
]
ONESHOTS = [  # (kind, function, share of the one-shot workers): a new session per operation
    ("scp upload", w_scp_upload, 0.35),
    ("scp download", w_scp_download, 0.25),
    ("sftp batch", w_sftp_batch, 0.25),
    ("exec", w_exec, 0.15),
]
WORKERS = HOLDERS + ONESHOTS


def config(stable, victims, key_hash):
    lines = ["hostname SOAK", "aaa new-model", "aaa authentication login default local",
             "aaa authorization exec default local",
             "username %s privilege 15 password 0 %s" % (ADMIN, ADMIN_PW)]
    lines += ["username %s privilege 15 password 0 %s" % (u, password(u))
              for u in stable + victims]
    lines += ["ip ssh time-out 120", "ip scp server enable", "ip ssh pubkey-chain"]
    for u in stable:
        lines += [" username " + u, "  key-hash ssh-ed25519 " + key_hash, " exit"]
    lines += ["exit", ""]
    return "\n".join(lines)


def seed_files(d, tmp):
    """Files to download, uploaded once before the run: (name, sha256, size)."""
    files = []
    for i, size in enumerate([0, 1, 999, 4096, 65537, 250000, 1 << 20, 3 << 20]):
        name = "seed-%d.bin" % i
        data = os.urandom(size)
        local = os.path.join(tmp, name)
        with open(local, "wb") as f:
            f.write(data)
        r = clients.run_scp(d.ssh_port, [local, "%s@127.0.0.1:bootflash:%s" % (ADMIN, name)],
                            password=ADMIN_PW)
        if r.returncode != 0:
            raise RuntimeError("seeding %s: %s" % (name, r.stderr))
        files.append((name, sha256_bytes(data), size))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "asan", "scpd"))
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "60")))
    ap.add_argument("--sessions", type=int, default=int(os.environ.get("SOAK_SESSIONS", "200")))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 16384)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 4 * a.sessions + 256:
        print("soak: the fd limit %d is too low for %d sessions (ulimit -Hn)" % (want, a.sessions))
        return 1

    work = tempfile.mkdtemp(prefix="scpd-soak-")
    os.environ["ASAN_OPTIONS"] = ASAN_OPTIONS + ":log_path=" + os.path.join(work, "asan.log")
    os.environ["UBSAN_OPTIONS"] = "print_stacktrace=1:log_path=" + os.path.join(work, "ubsan.log")
    os.environ["SCPD_TEST_PW"] = ""
    stable = ["soak%02d" % i for i in range(N_STABLE)]
    victims = ["victim%d" % i for i in range(N_VICTIMS)]
    run = Run(a.seconds)
    print("soak: %s, %d sessions, %d s, work directory %s" % (a.bin, a.sessions, a.seconds, work),
          flush=True)
    import conftest
    conftest.SCPD_BIN = a.bin
    global KEY, PKEY
    KEY = os.path.join(work, "soak_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", KEY], check=True)
    PKEY = paramiko.Ed25519Key.from_private_key_file(KEY)
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", KEY + ".pub"], check=True,
                        capture_output=True, text=True).stdout
    key_hash = fp.split()[1].split(":", 1)[1].replace(":", "").upper()
    d = Daemon(os.path.join(work, "data"), config=config(stable, victims, key_hash))
    rc = None
    try:
        tmp = os.path.join(work, "client")
        os.makedirs(tmp)
        files = seed_files(d, tmp)
        api = Api(d, run)
        run.fds_start = proc_figures(d.proc.pid)[2]
        threads = []
        wid = 0
        plan = []
        for kind, fn, share in HOLDERS:
            plan += [(kind, fn)] * int(round(share * a.sessions))
        plan = (plan + [HOLDERS[0][:2]] * a.sessions)[:a.sessions]
        random.shuffle(plan)   # every kind starts early in the ramp
        n_one = int(round(ONESHOT_SHARE * a.sessions))
        oneshots = []
        for kind, fn, share in ONESHOTS:
            oneshots += [(kind, fn)] * int(round(share * n_one))
        plan += oneshots[:n_one]
        for kind, fn in plan:
            # a quarter of the sessions belong to the victims; the rest to stable users
            user = victims[wid % N_VICTIMS] if wid % 4 == 3 else stable[wid % N_STABLE]
            source = SOURCES[wid % len(SOURCES)]
            wdir = os.path.join(tmp, "w%03d" % wid)
            os.makedirs(wdir)
            threads.append(threading.Thread(target=worker_guard, name="w%d" % wid,
                                            args=(run, fn, d, wid, user, source, wdir, files)))
            wid += 1
        side = [threading.Thread(target=t_api_writes, args=(run, d, api, k)) for k in range(2)]
        side += [threading.Thread(target=t_deletions, args=(run, d, api, victims)),
                 threading.Thread(target=t_toggles, args=(run, d, api)),
                 threading.Thread(target=t_monitor, args=(run, d, api))]
        t_ramp = time.time()
        side[-1].start()   # the monitor: the peak counts from the first session
        # the ramp (set-up): the holders at ~12 a second (public-key logins), then the one-shots
        for i, t in enumerate(threads):
            t.start()
            time.sleep(0.08)
        ramp_deadline = time.time() + 60
        while time.time() < ramp_deadline and run.peak_active < a.sessions and \
                not run.stop.is_set():
            time.sleep(0.5)
        run.ramp_s = time.time() - t_ramp
        print("soak: %d workers started, %d sessions open (daemon) after %.0f s of ramp" % (
            len(threads), run.peak_active, run.ramp_s), flush=True)
        run.t0 = time.time()
        for t in side[:-1]:
            t.start()
        end = time.time() + a.seconds
        while time.time() < end and not run.stop.is_set():
            time.sleep(0.5)
        run.stop.set()
        print("soak: %d s done, waiting for the clients to finish" % a.seconds, flush=True)
        for t in threads + side:
            t.join(OP_TIMEOUT + 30)
            if t.is_alive():
                run.problem("client thread %s did not end" % t.name)
        # the scp toggle and the victims are back: every session ends (ASan makes the last
        # ones slow: up to 30 s), no fd left behind
        for _ in range(60):
            r = api.call("GET", "/restconf/data/scpd:scp-state?limit=1", count=False)
            if r is None or r.status_code != 200 or \
                    int(r.json()["scpd:scp-state"].get("sessions-active", 0)) == 0:
                break
            time.sleep(0.5)
        if d.proc.poll() is None:
            rss, hwm, fds = proc_figures(d.proc.pid)
            run.peak_rss_kb = max(run.peak_rss_kb, hwm)
            fds_end = fds
        else:
            fds_end = -1
        state = api.call("GET", "/restconf/data/scpd:scp-state", count=False)
        counters = state.json()["scpd:scp-state"].get("counters", {}) if state is not None \
            and state.status_code == 200 else {}
        active_end = int(state.json()["scpd:scp-state"].get("sessions-active", -1)) \
            if state is not None and state.status_code == 200 else -1
        rc = d.stop(timeout=120)
    except Exception as e:  # noqa: BLE001
        run.stop.set()
        run.problem("driver: %s" % err_text(e))
        if d.proc.poll() is None:
            rc = d.stop(timeout=120)
        counters, fds_end, active_end = {}, -1, -1
    if rc != 0:
        run.problem("scpd exit status %s (LeakSanitizer exits 23); log tail:\n%s" % (
            rc, d.log()[-3000:]))
    for f in sorted(os.listdir(work)):
        if f.startswith(("asan.log", "ubsan.log")):
            run.problem("sanitizer report %s:\n%s" % (f, open(os.path.join(work, f)).read()[:6000]))
    resets = sum(n for (k, reason), n in run.reasons.items() if reason.startswith("reset"))
    logged = d.log().count("ssh connection refused: ")
    if resets > logged:
        run.problem("%d connections reset before the banner, scpd logged %d refusals" % (
            resets, logged))
    if active_end > 0:
        run.problem("%d sessions still active after every client ended" % active_end)
    if fds_end > run.fds_start + 8:
        run.problem("scpd holds %d fds after every client ended, %d before the run" % (
            fds_end, run.fds_start))

    # every acknowledged upload is on disk, intact
    lost = 0
    for name, digest, size in run.uploads:
        p = os.path.join(d.bootflash, name)
        try:
            with open(p, "rb") as f:
                ok = sha256_bytes(f.read()) == digest
        except OSError:
            ok = False
        if not ok:
            lost += 1
            if lost <= 10:
                run.problem("acknowledged upload %s (%d bytes) is missing or differs" % (name, size))
    if run.peak_active < a.sessions:
        run.problem("at most %d sessions were open at once (scpd sessions-active), not %d" % (
            run.peak_active, a.sessions))

    report(run, a, counters, fds_end, lost)
    if run.problems:
        print("\nsoak FAILED: %d problem(s); first ones:" % len(run.problems))
        for p in run.problems[:20]:
            print(" - " + p[:2000])
        print("work directory kept: " + work)
        return 1
    print("\nsoak passed")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def worker_guard(run, fn, d, wid, user, source, wdir, files):
    try:
        fn(run, d, wid, user, source, wdir, files)
    except Exception as e:  # noqa: BLE001
        run.problem("worker %d (%s) crashed: %s" % (wid, fn.__name__, err_text(e)))


def report(run, a, counters, fds_end, lost):
    kinds = [k for k, _, _ in WORKERS]
    if run.low_active is None:
        run.low_active = 0
    print("\n== soak figures (%d s, %d sessions, binary %s)" % (a.seconds, a.sessions, a.bin))
    print("%-16s %8s %8s %12s" % ("client", "ok", "refused", "unexplained"))
    for k in kinds:
        print("%-16s %8d %8d %12d" % (k, run.results[(k, "ok")], run.results[(k, "refused")],
                                      run.results[(k, "unexplained")]))
    print("\nrefusals by reason (what the client saw):")
    for (k, reason), n in sorted(run.reasons.items()):
        print("  %-16s %-40s %6d" % (k, reason, n))
    if not run.reasons:
        print("  none")
    rows = [
        ("SSH sessions opened by the clients", run.sessions),
        ("client sessions open at once, peak", run.peak_live),
        ("scpd sessions-active, peak (must reach --sessions)", run.peak_active),
        ("scpd sessions-active, lowest during the timed run", run.low_active),
        ("ramp (set-up) until --sessions were open, s", "%.0f" % run.ramp_s),
        ("acknowledged uploads checked on disk", len(run.uploads)),
        ("  of which lost or corrupt", lost),
        ("bytes uploaded (acknowledged)", run.bytes_up),
        ("bytes downloaded (checked)", run.bytes_down),
        ("API requests (writes, deletions, toggles)", sum(run.api.values())),
        ("  by status", " ".join("%d:%d" % kv for kv in sorted(run.api.items()))),
        ("API slowest answer, s", "%.1f" % run.api_slowest),
        ("user deletions + re-creations", len(run.deletions)),
        ("ip scp server enable toggles", len(run.toggles)),
        ("scpd peak RSS, MiB (ASan)", "%.0f" % (run.peak_rss_kb / 1024.0)),
        ("scpd fds: before / peak / after", "%d / %d / %d" % (run.fds_start, run.peak_fds,
                                                             fds_end)),
        ("scpd counters sessions-accepted / -rejected", "%s / %s" % (
            counters.get("sessions-accepted", "?"), counters.get("sessions-rejected", "?"))),
        ("scpd counters refused-disabled / -no-authorization", "%s / %s" % (
            counters.get("refused-disabled", "?"), counters.get("refused-no-authorization", "?"))),
        ("wall time of the soak (set-up, ramp, run, teardown), s", "%.0f" % (
            time.time() - run.t_start)),
        ("problems", len(run.problems)),
    ]
    print()
    for k, v in rows:
        print("%-52s %s" % (k, v))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())

#!/usr/bin/python3
"""bench: scpd against a private OpenSSH sshd on the same machine, same client, same run.

Design: both servers are started by this script on loopback ports with their data on tmpfs and are
driven by the same client (OpenSSH `scp -O`, or `ssh ... scp -t` for the idle sessions) with the
same pinned handshake (curve25519-sha256, ssh-ed25519 host keys) and the same cipher. Every figure
is measured for scpd then OpenSSH (A B) in each round, rounds repeat A B A B ..., and the table
reports per-figure medians and the scpd/OpenSSH ratio of the medians (plus the range of the
per-round ratios, which hold when the shared machine's speed drifts between rounds).

Fairness (see bench/README.md and docs/libssh.md):
- OpenSSH runs the copy as a dedicated user whose login shell is /bin/sh with no start-up files
  (root's shell start-up here costs ~115 ms per session); scpd runs as root and authenticates its
  own configured user `tiger`.
- Uploads always write a new file (the target is removed first) on both servers: scpd's atomic
  upload writes a new temporary file anyway, and fresh tmpfs pages cost ~3 s/GiB here. Downloads
  write a new file on the client.
- sshd's MaxStartups is raised; multi-session figures spread their connections over several
  loopback source addresses so that neither server's per-source limit is what gets measured.
- Server CPU is utime+stime of the server process and its reaped children (from /proc), read when
  no session is left; server memory is RSS summed over the server's process tree.
Only loopback is used. Needs root (it starts sshd and creates the benchmark user).
"""
import argparse
import json
import os
import platform
import pwd
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCPD_BIN = os.environ.get("SCPD_BIN", os.path.join(ROOT, "build", "scpd"))
SCPD_CFG = os.path.join(ROOT, "examples", "local-auth.cfg")
SCPD_EXTRA_ARGS = []   # bench_wan.py: --log-level debug for the window trace
SSHD_BIN = "/usr/sbin/sshd"
BENCH_USER = "scpdbench"
SCPD_USER, SCPD_PASSWORD = "tiger", "lab"
CIPHERS = ["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"]
KEX, HOSTKEY = "curve25519-sha256", "ssh-ed25519"
SOURCES = ["127.0.0.%d" % i for i in range(2, 10)]   # client source addresses for many sessions
MiB, GiB = 1 << 20, 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
CMD_TIMEOUT = 600


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def cipher_tag(c):
    return c.split("@")[0].split("-poly")[0]   # aes128-gcm, chacha20


# ---- /proc ------------------------------------------------------------------------------------
def proc_tree(pid):
    """pid and all its descendants (through /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def proc_kib(pid, field, fname="status"):
    try:
        with open("/proc/%d/%s" % (pid, fname)) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_cpu(pid):
    """utime+stime of pid (all threads) plus its reaped children, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after ")": state=0 ... utime=11 stime=12 cutime=13 cstime=14 (stat fields 14-17)
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


class CpuGroup:
    """CPU time of a server and every process it ever started, exited ones included: a cgroup's
    CPU accounting (v1 cpuacct or v2 cpu.stat). /proc's cutime is not enough for sshd: its
    privilege-separation monitor exits before reaping the session process, whose CPU time is then
    lost to init. Without cgroups, falls back to /proc (exact for scpd's single process)."""

    def __init__(self, name):
        self.path, self.kind = None, "proc"
        for base, kind in (("/sys/fs/cgroup/cpuacct", "v1"), ("/sys/fs/cgroup", "v2"),
                           ("/sys/fs/cgroup/unified", "v2")):
            probe = "cpuacct.usage" if kind == "v1" else "cgroup.controllers"
            if not os.path.exists(os.path.join(base, probe)):
                continue
            for old in os.listdir(base):   # left by a killed run; rmdir fails while in use
                if old.startswith("scpd-bench-") and not old.endswith("-%d" % os.getpid()):
                    try:
                        os.rmdir(os.path.join(base, old))
                    except OSError:
                        pass
            path = os.path.join(base, "scpd-bench-%s-%d" % (name, os.getpid()))
            try:
                os.makedirs(path, exist_ok=True)
                self.path, self.kind = path, kind
                self.read()
                break
            except OSError:
                self.path, self.kind = None, "proc"
        self.pids = []

    def add(self, pid):
        self.pids.append(pid)
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write("%d\n" % pid)

    def read(self):
        if self.kind == "v1":
            with open(os.path.join(self.path, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        with open(os.path.join(self.path, "cpu.stat")) as f:
            return int(f.readline().split()[1]) / 1e6   # usage_usec

    def seconds(self, pid):
        return self.read() if self.path else proc_cpu(pid)

    def remove(self):
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError:
                pass


def tcp_sessions(port):
    """Server-side TCP connections of a local port that are not yet fully closed by the server
    (every state but LISTEN and TIME_WAIT), from /proc/net/tcp."""
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] not in ("0A", "06"):
                n += 1
    return n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


# ---- servers ----------------------------------------------------------------------------------
class Server:
    """What the figures need from a server: start/stop, where files live, how to log in."""
    name = ""

    def __init__(self, work, client):
        self.work, self.client, self.proc, self.port = work, client, None, None
        self.cgroup = CpuGroup(self.name)

    def ssh_opts(self, cipher, source=None):
        o = ["-F", "/dev/null", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR",
             "-o", "Ciphers=" + cipher, "-o", "KexAlgorithms=" + KEX,
             "-o", "HostKeyAlgorithms=" + HOSTKEY, "-o", "Compression=no",
             "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "ConnectTimeout=60"]
        if source:
            o += ["-o", "BindAddress=" + source]
        if self.auth == "publickey":
            o += ["-i", self.client.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                  "-o", "PreferredAuthentications=publickey"]
        else:
            o += ["-o", "PreferredAuthentications=password,keyboard-interactive",
                  "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"]
        return o

    def env(self):
        if self.auth == "publickey":
            return None
        return dict(os.environ, SSH_ASKPASS=self.client.askpass, SSH_ASKPASS_REQUIRE="force",
                    DISPLAY="x")

    def scp_cmd(self, cipher, src, dst, source=None):
        return ["scp", "-O", "-q", "-P", str(self.port)] + self.ssh_opts(cipher, source) + [src, dst]

    def remote(self, name):
        return "%s@127.0.0.1:%s" % (self.user, self.rpath(name))

    def ssh_cmd(self, cipher, command, source=None):
        return (["ssh", "-T", "-p", str(self.port)] + self.ssh_opts(cipher, source) +
                ["%s@127.0.0.1" % self.user, command])

    def rss(self):
        pids = proc_tree(self.proc.pid)
        return (sum(proc_kib(p, "VmRSS") for p in pids),
                sum(proc_kib(p, "Pss", "smaps_rollup") for p in pids), len(pids))

    def cpu(self):
        return self.cgroup.seconds(self.proc.pid)

    def settle(self, timeout=20):
        """Waits until no session is left (so reaped children's CPU is counted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.idle():
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        self.cgroup.remove()


class Scpd(Server):
    name = "scpd"

    def __init__(self, work, client):
        super().__init__(work, client)
        self.dir = os.path.join(work, "scpd")
        self.data = os.path.join(self.dir, "data")
        self.files = os.path.join(self.data, "fs", "bootflash")
        self.user = SCPD_USER
        self.auth = "password"
        self.cfg = os.path.join(self.dir, "startup.cfg")
        os.makedirs(self.dir)
        with open(SCPD_CFG) as f:
            base = f.read()
        # Public-key login when scpd accepts an `ip ssh pubkey-chain` (key-hash = MD5 of the blob).
        keyed = base.replace("\nend", "") + (
            "ip ssh pubkey-chain\n username %s\n  key-hash ssh-ed25519 %s bench\n  exit\n exit\nend\n"
            % (SCPD_USER, client.key_md5))
        with open(self.cfg, "w") as f:
            f.write(keyed)
        chk = subprocess.run([SCPD_BIN, "--check-config", self.cfg], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        self.try_keys = chk.returncode == 0
        if not self.try_keys:
            shutil.copy(SCPD_CFG, self.cfg)
        self.errlog = open(os.path.join(self.dir, "scpd.stderr"), "ab")

    def rpath(self, name):
        return "bootflash:" + name

    def start(self):
        self.proc = subprocess.Popen(
            [SCPD_BIN, "--data-dir", self.data, "--startup-config", self.cfg,
             "--ssh-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"] + SCPD_EXTRA_ARGS,
            stdout=subprocess.PIPE, stderr=self.errlog)
        self.cgroup.add(self.proc.pid)
        fd, buf, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + 30
        while self.port is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("scpd did not start:\n" + log_tail(self.errlog))
            if select.select([fd], [], [], 0.2)[0]:
                chunk = os.read(fd, 4096)
                buf += chunk
                m = re.search(rb"ssh listening on \S+:(\d+)\n", buf)
                if m:
                    self.port = int(m.group(1))
                    break
        # Keep reading stdout so that the daemon never blocks on a full pipe.
        threading.Thread(target=lambda f: [None for _ in f], args=(self.proc.stdout,),
                         daemon=True).start()
        os.makedirs(self.files, exist_ok=True)

    def stop(self):
        super().stop()
        self.port = None

    def idle(self):
        return tcp_sessions(self.port) == 0


class OpenSSH(Server):
    name = "openssh"

    def __init__(self, work, client):
        super().__init__(work, client)
        self.dir = os.path.join(work, "openssh")
        self.files = os.path.join(self.dir, "home")
        self.user = BENCH_USER
        self.auth = "publickey"
        os.makedirs(self.files)
        os.chmod(self.dir, 0o755)
        self.made_user = ensure_user(self.files)
        pw = pwd.getpwnam(BENCH_USER)
        os.chown(self.files, pw.pw_uid, pw.pw_gid)
        self.hostkey = os.path.join(self.dir, "ssh_host_ed25519_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey])
        self.authkeys = os.path.join(self.dir, "authorized_keys")
        shutil.copy(client.key + ".pub", self.authkeys)
        os.chmod(self.authkeys, 0o644)
        self.config = os.path.join(self.dir, "sshd_config")
        self.port = free_port()
        with open(self.config, "w") as f:
            f.write(SSHD_CONFIG % dict(port=self.port, hostkey=self.hostkey, dir=self.dir,
                                       authkeys=self.authkeys, user=BENCH_USER))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # sshd's privilege-separation chroot
        run([SSHD_BIN, "-t", "-f", self.config])
        self.errlog = open(os.path.join(self.dir, "sshd.stderr"), "ab")

    def rpath(self, name):
        return os.path.join(self.files, name)

    def start(self):
        self.proc = subprocess.Popen([SSHD_BIN, "-D", "-e", "-f", self.config],
                                     stdout=self.errlog, stderr=self.errlog)
        self.cgroup.add(self.proc.pid)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sshd did not start:\n" + log_tail(self.errlog))
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        self.settle()

    def idle(self):
        return tcp_sessions(self.port) == 0 and len(proc_tree(self.proc.pid)) == 1


SSHD_CONFIG = """\
# Private sshd of the scpd benchmark: loopback only, own host key, started and stopped by bench.py.
Port %(port)d
ListenAddress 127.0.0.1
HostKey %(hostkey)s
PidFile %(dir)s/sshd.pid
AuthorizedKeysFile %(authkeys)s
AllowUsers %(user)s
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
MaxStartups 1000
MaxSessions 10
MaxAuthTries 6
LoginGraceTime 120
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitUserEnvironment no
PermitUserRC no
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def ensure_user(home):
    """The OpenSSH side logs in as BENCH_USER: shell /bin/sh (dash reads no start-up file for
    `sh -c`), home on tmpfs, not locked (UsePAM no refuses a '!' password field)."""
    try:
        pwd.getpwnam(BENCH_USER)
        run(["usermod", "-d", home, "-s", "/bin/sh", "-p", "*", BENCH_USER])
    except KeyError:
        run(["useradd", "-M", "-d", home, "-s", "/bin/sh", "-p", "*", "-U", BENCH_USER])
    return True


def remove_user():
    subprocess.run(["userdel", BENCH_USER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Client:
    """The client side: one Ed25519 key, an askpass script, source files on tmpfs."""

    def __init__(self, work):
        self.dir = os.path.join(work, "client")
        os.makedirs(self.dir)
        self.key = os.path.join(self.dir, "id_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", self.key])
        out = run(["ssh-keygen", "-l", "-E", "md5", "-f", self.key + ".pub"]).stdout
        self.key_md5 = out.split()[1].split(":", 1)[1].replace(":", "").upper()
        self.askpass = os.path.join(self.dir, "askpass")
        with open(self.askpass, "w") as f:
            f.write("#!/bin/sh\necho %s\n" % SCPD_PASSWORD)
        os.chmod(self.askpass, 0o755)
        self.files = {}

    def source(self, size):
        """A client-side file of size bytes (random data, made once)."""
        if size not in self.files:
            path = os.path.join(self.dir, "src-%d" % size)
            block = os.urandom(min(size, 16 * MiB))
            with open(path, "wb") as f:
                left = size
                while left:
                    n = min(left, len(block))
                    f.write(block[:n])
                    left -= n
            self.files[size] = path
        return self.files[size]


# ---- running clients --------------------------------------------------------------------------
def timed(procs_cmds, env=None):
    """Starts every command at once; returns (wall s, client CPU s, failures, first error)."""
    t0 = time.monotonic()
    procs = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=env) for c in procs_cmds]
    cpu, failures, err = 0.0, 0, ""
    deadline = t0 + CMD_TIMEOUT
    for p in procs:
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
            time.sleep(0.002)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu += ru.ru_utime + ru.ru_stime
        if p.returncode != 0:
            failures += 1
            err = err or p.stderr.read().decode(errors="replace").strip()
        p.stderr.close()
    return time.monotonic() - t0, cpu, failures, err


def check(server, what, failures, err):
    if failures:
        log("%s: %s: %d command(s) failed: %s" % (server.name, what, failures, err[:300]))


def log_tail(f, lines=15):
    f.flush()
    with open(f.name, errors="replace") as r:
        return "".join(r.readlines()[-lines:])


def give(server, path):
    """Files the OpenSSH side reads or overwrites belong to its user."""
    if server.name == "openssh":
        pw = pwd.getpwnam(BENCH_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


SAMPLE = 65536


def sample_offsets(size):
    return sorted({0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)})


def scribble(path, size):
    """Zeroes the sampled ranges of an existing file, so that a copy over it can be checked."""
    with open(path, "r+b") as f:
        for off in sample_offsets(size):
            f.seek(off)
            f.write(b"\0" * min(SAMPLE, size - off))


def same(a, b, size):
    """Size and three 64 KiB samples equal: a cheap check that the copy arrived."""
    if not os.path.exists(b) or os.path.getsize(b) != size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for off in sample_offsets(size):
            fa.seek(off)
            fb.seek(off)
            if fa.read(SAMPLE) != fb.read(SAMPLE):
                return False
    return True


def rm(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# ---- figures ----------------------------------------------------------------------------------
# Each figure runs on one server and returns {key: value}; keys become table rows.
def fig_upload(server, cfg, cipher, existing=False):
    src = server.client.source(cfg.size)
    target = os.path.join(server.files, "up.bin")
    rm(target)
    if existing:
        # The other case of docs/libssh.md (benchmarking): the target exists (OpenSSH's scp overwrites it in place;
        # scpd's atomic upload still writes a new temporary file and renames it over).
        shutil.copy(src, target)
        scribble(target, cfg.size)
        give(server, target)
    server.settle()
    c0 = server.cpu()
    wall, ccpu, fail, err = timed([server.scp_cmd(cipher, src, server.remote("up.bin"))],
                                  server.env())
    server.settle()
    scpu = server.cpu() - c0
    check(server, "upload", fail, err)
    ok = not fail and same(src, target, cfg.size)
    rm(target)
    t = cipher_tag(cipher)
    if existing:
        return {"upload existing " + t: cfg.size / wall / 1e6} if ok else \
            {"fail:upload existing " + t: 1}
    if not ok:
        return {"fail:upload " + t: 1}
    return {"upload " + t: cfg.size / wall / 1e6, "cpu up " + t: scpu / (cfg.size / GiB),
            "client cpu up " + t: ccpu / (cfg.size / GiB)}


def fig_download(server, cfg, cipher):
    name = "down-%d.bin" % cfg.size
    path = os.path.join(server.files, name)
    if not os.path.exists(path):
        shutil.copy(server.client.source(cfg.size), path)
        give(server, path)
    # The client writes over an existing file of the same size (scp's sink opens without O_TRUNC):
    # fresh tmpfs pages would cost the client ~3 s/GiB and cap both servers alike.
    dst = os.path.join(server.client.dir, "down-%d.bin" % cfg.size)
    if not os.path.exists(dst):
        shutil.copy(server.client.source(cfg.size), dst)
    scribble(dst, cfg.size)
    server.settle()
    c0 = server.cpu()
    wall, ccpu, fail, err = timed([server.scp_cmd(cipher, server.remote(name), dst)], server.env())
    server.settle()
    scpu = server.cpu() - c0
    check(server, "download", fail, err)
    ok = not fail and same(path, dst, cfg.size)
    t = cipher_tag(cipher)
    if not ok:
        return {"fail:download " + t: 1}
    return {"download " + t: cfg.size / wall / 1e6, "cpu down " + t: scpu / (cfg.size / GiB),
            "client cpu down " + t: ccpu / (cfg.size / GiB)}


def fig_concurrent(server, cfg, n):
    src = server.client.source(cfg.conc_size)
    names = ["c%d.bin" % i for i in range(n)]
    for nm in names:
        rm(os.path.join(server.files, nm))
    server.settle()
    cmds = [server.scp_cmd(CIPHERS[0], src, server.remote(nm), SOURCES[i % len(SOURCES)])
            for i, nm in enumerate(names)]
    wall, _, fail, err = timed(cmds, server.env())
    check(server, "%d concurrent uploads" % n, fail, err)
    good = sum(1 for nm in names if same(src, os.path.join(server.files, nm), cfg.conc_size))
    for nm in names:
        rm(os.path.join(server.files, nm))
    server.settle()
    if good < n:
        return {"fail:concurrent %d" % n: n - good}
    return {"concurrent %d" % n: n * cfg.conc_size / wall / 1e6}


def session_loop(server, src, count, prefix, source, out):
    for i in range(count):
        cmd = server.scp_cmd(CIPHERS[0], src, server.remote("%s%d.bin" % (prefix, i)), source)
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=server.env(), timeout=CMD_TIMEOUT)
        if r.returncode != 0:
            out.append(r.stderr.decode(errors="replace").strip())


def fig_sessions(server, cfg, workers):
    src = server.client.source(1024)
    total = cfg.seq_sessions if workers == 1 else cfg.par_sessions
    per = max(1, total // workers)
    server.settle()
    c0, r0 = server.cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    errors = []
    threads = [threading.Thread(target=session_loop,
                                args=(server, src, per, "s%d-" % w, SOURCES[w % len(SOURCES)],
                                      errors)) for w in range(workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    for f in os.listdir(server.files):
        if f.startswith("s") and f.endswith(".bin"):
            rm(os.path.join(server.files, f))
    key = "sessions seq" if workers == 1 else "sessions par%d" % workers
    check(server, key, len(errors), errors[0] if errors else "")
    if errors:
        return {"fail:" + key: len(errors)}
    server.settle()
    r1, n = resource.getrusage(resource.RUSAGE_CHILDREN), workers * per
    ccpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return {key: n / wall, key + " server ms": (server.cpu() - c0) * 1000 / n,
            key + " client ms": ccpu * 1000 / n}


def open_idle(server, i, source):
    """An authenticated scp upload stalled mid-file: what an admin's slow copy looks like."""
    p = subprocess.Popen(server.ssh_cmd(CIPHERS[0], "scp -t %s" % server.rpath("idle%d.bin" % i),
                                        source),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=server.env())
    return p


def read_ack(p, timeout=60):
    fd = p.stdout.fileno()
    if not select.select([fd], [], [], timeout)[0]:
        return False
    return os.read(fd, 1) == b"\0"


def fig_idle(server, cfg):
    server.settle()
    time.sleep(0.2)
    rss0, pss0, n0 = server.rss()
    procs, bad = [], 0
    batch = 10
    for start in range(0, cfg.idle_sessions, batch):
        group = [open_idle(server, i, SOURCES[i % len(SOURCES)])
                 for i in range(start, min(start + batch, cfg.idle_sessions))]
        for p in group:
            ok = read_ack(p)
            if ok:
                p.stdin.write(b"C0644 %d idle\n" % (1 << 20))
                p.stdin.flush()
                ok = read_ack(p)
            if ok:
                p.stdin.write(b"\0" * 65536)
                p.stdin.flush()
            bad += not ok
        procs += group
    time.sleep(1.0)   # let the servers take in the 64 KiB each session sent
    rss1, pss1, n1 = server.rss()
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
        for s in (p.stdin, p.stdout, p.stderr):
            s.close()
    for f in os.listdir(server.files):
        if f.startswith("idle"):
            rm(os.path.join(server.files, f))
    if bad:
        log("%s: %d of %d idle sessions did not start" % (server.name, bad, cfg.idle_sessions))
        return {"fail:idle": bad}
    server.settle()
    n = cfg.idle_sessions
    return {"idle rss": (rss1 - rss0) / n, "idle pss": (pss1 - pss0) / n,
            "idle rss total": rss1, "idle procs": n1 - n0}


# ---- the table --------------------------------------------------------------------------------
# key, label, unit, better ("hi"/"lo"), target ratio or None
ROWS = []
for _c in CIPHERS:
    _t = cipher_tag(_c)
    ROWS += [("upload " + _t, "single-stream upload, " + _t, "MB/s", "hi", 1.2),
             ("download " + _t, "single-stream download, " + _t, "MB/s", "hi", 1.2)]
ROWS += [("upload existing aes128-gcm", "upload onto an existing file, aes128-gcm (info)", "MB/s",
          "hi", None),
         ("concurrent 16", "16 x 16 MiB uploads, aggregate", "MB/s", "hi", None),
         ("concurrent 64", "64 x 16 MiB uploads, aggregate", "MB/s", "hi", 1.2),
         ("sessions seq", "sessions/s, sequential 1 KiB scp", "1/s", "hi", 2.0),
         ("sessions par8", "sessions/s, 8 parallel 1 KiB scp", "1/s", "hi", 2.0),
         ("sessions seq server ms", "server CPU per session, sequential (info)", "ms", "lo",
          None),
         ("sessions seq client ms", "client CPU per session, sequential (info)", "ms", "lo",
          None),
         ("idle rss", "RSS per idle session", "KiB", "lo", 0.25),
         ("idle pss", "PSS per idle session (info)", "KiB", "lo", None)]
for _c in CIPHERS:
    _t = cipher_tag(_c)
    ROWS += [("cpu up " + _t, "server CPU per GiB up, " + _t, "s", "lo", 0.9),
             ("cpu down " + _t, "server CPU per GiB down, " + _t, "s", "lo", 0.9)]
for _c in CIPHERS:
    _t = cipher_tag(_c)
    ROWS += [("client cpu up " + _t, "client CPU per GiB up, " + _t + " (info)", "s", "lo", None),
             ("client cpu down " + _t, "client CPU per GiB down, " + _t + " (info)", "s", "lo",
              None)]


def median(v):
    return statistics.median(v) if v else None


def build_table(results, names):
    rows = []
    for key, label, unit, better, target in ROWS:
        vals = {n: [r[key] for r in results[n] if key in r] for n in names}
        fails = {n: sum(r.get("fail:" + key, 0) for r in results[n]) for n in names}
        if not any(vals.values()) and not any(fails.values()):
            continue
        row = {"key": key, "figure": label, "unit": unit, "better": better, "target": target}
        for n in names:
            row[n] = {"median": median(vals[n]), "values": vals[n], "failures": fails[n]}
        if len(names) == 2 and row["scpd"]["median"] and row["openssh"]["median"]:
            row["ratio"] = row["scpd"]["median"] / row["openssh"]["median"]
            pairs = [a[key] / b[key] for a, b in zip(results["scpd"], results["openssh"])
                     if key in a and key in b and b[key]]
            row["round_ratios"] = pairs
            if target is not None:
                row["met"] = row["ratio"] >= target if better == "hi" else row["ratio"] <= target
        rows.append(row)
    return rows


def fmt(v):
    if v is None:
        return "-"
    return "%.0f" % v if abs(v) >= 100 else "%.2f" % v if abs(v) < 10 else "%.1f" % v


def fmt_ratio(v):
    return "%.3f" % v if v < 0.1 else "%.2f" % v


def print_table(rows, names, rounds):
    head = ["figure", "unit"] + names + ["n"] + (["ratio", "round ratios", "target", "met"]
                                                 if len(names) == 2 else [])
    lines = [head]
    for r in rows:
        line = [r["figure"], r["unit"]]
        for n in names:
            cell = fmt(r[n]["median"])
            if r[n]["failures"]:
                cell += " (%d failed)" % r[n]["failures"]
            line.append(cell)
        line.append(str(min(len(r[n]["values"]) for n in names)))
        if len(names) == 2:
            rr = r.get("round_ratios") or []
            line += [fmt_ratio(r["ratio"]) + "x" if "ratio" in r else "-",
                     ("%s-%s" % (fmt_ratio(min(rr)), fmt_ratio(max(rr)))) if rr else "-",
                     ("%s%.2fx" % (">=" if r["better"] == "hi" else "<=", r["target"]))
                     if r["target"] else "",
                     {True: "yes", False: "NO"}.get(r.get("met"), "")]
        lines.append(line)
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    out = ["medians of %d round(s) (n: rounds with a value); ratio = scpd/OpenSSH of the medians; "
           "round ratios: range of the per-round ratios" % rounds]
    for i, l in enumerate(lines):
        out.append("  ".join(c.ljust(w) if j < 2 else c.rjust(w)
                             for j, (c, w) in enumerate(zip(l, widths))))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    print("\n".join(out), flush=True)


# ---- main -------------------------------------------------------------------------------------
def plan(cfg):
    """The figures of one round, in order: (name, function, args)."""
    steps = []
    want = set(cfg.only.split(",")) if cfg.only else None

    def add(group, name, fn, *args):
        if want is None or group in want:
            steps.append((name, fn, args))
    add("idle", "idle sessions", fig_idle)
    for c in CIPHERS:
        add("throughput", "upload " + cipher_tag(c), fig_upload, c)
        add("throughput", "download " + cipher_tag(c), fig_download, c)
    add("existing", "upload onto existing", fig_upload, CIPHERS[0], True)
    add("concurrent", "16 concurrent", fig_concurrent, 16)
    add("concurrent", "64 concurrent", fig_concurrent, 64)
    add("sessions", "sequential sessions", fig_sessions, 1)
    add("sessions", "8-parallel sessions", fig_sessions, 8)
    return steps


def pick_auth(server):
    """scpd: public keys when it takes them (so both servers log in the same way), else password."""
    if not getattr(server, "try_keys", False):
        return
    server.auth = "publickey"
    src = server.client.source(1024)
    r = subprocess.run(server.scp_cmd(CIPHERS[0], src, server.remote("probe.bin")),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    rm(os.path.join(server.files, "probe.bin"))
    if r.returncode != 0:
        server.auth = "password"


def smoke(server):
    src = server.client.source(1024)
    r = subprocess.run(server.scp_cmd(CIPHERS[0], src, server.remote("probe.bin")),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=server.env(), timeout=60)
    rm(os.path.join(server.files, "probe.bin"))
    if r.returncode != 0:
        raise RuntimeError("%s: a 1 KiB scp -O upload fails: %s" %
                           (server.name, r.stderr.decode(errors="replace").strip()))


SYSCALLS = ("recvfrom", "sendto", "read", "write", "poll", "ppoll", "epoll_wait", "futex",
            "pread64", "pwrite64", "readv", "writev", "splice")


def syscalls_per_mib(server, cfg, fn, base):
    """System calls of the server (and its children) during one more copy, per MiB copied."""
    events = ",".join("syscalls:sys_enter_" + c for c in SYSCALLS)
    stat = subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-o", base + ".syscalls",
                             "-p", str(server.proc.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    fn(server, cfg, cfg.profile_cipher)
    stat.send_signal(signal.SIGINT)
    stat.wait()
    counts = []
    try:
        with open(base + ".syscalls") as f:
            for line in f:
                parts = line.split(",")
                if len(parts) > 2 and parts[2].startswith("syscalls:") and parts[0].isdigit():
                    if int(parts[0]):
                        counts.append("%s %.1f" % (parts[2].split("sys_enter_")[1],
                                                    int(parts[0]) / (cfg.size / MiB)))
    except OSError:
        pass
    return ", ".join(counts) or "(no syscall tracepoints)"


def comm_cpu(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return comm, (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError):
        return None, None


def cpu_split(server, cfg, fn):
    """Who is busy during one more copy: CPU of each server and client process (by name) as a
    share of the copy's wall time, sampled from /proc every 20 ms (a process that ends loses at
    most its last 20 ms). A process near 100% is the one that bounds the copy."""
    me, first, last, done = os.getpid(), {}, {}, threading.Event()
    before = set(proc_tree(me))

    def sample():
        while not done.is_set():
            ours = set(proc_tree(server.proc.pid))
            for pid in proc_tree(me):
                if pid == me:
                    continue
                comm, t = comm_cpu(pid)
                if t is not None:
                    first.setdefault(pid, t if pid in before else 0.0)
                    last[pid] = (("server " if pid in ours else "client ") + comm, t)
            time.sleep(0.02)
    th = threading.Thread(target=sample)
    th.start()
    t0 = time.monotonic()
    fn(server, cfg, cfg.profile_cipher)
    wall = time.monotonic() - t0
    done.set()
    th.join()
    share = {}
    for pid, (comm, t) in last.items():
        share[comm] = share.get(comm, 0.0) + (t - first[pid]) / wall * 100
    return ", ".join("%s %.0f%%" % kv for kv in sorted(share.items(), key=lambda kv: -kv[1])
                     if kv[1] >= 1)


def profile(servers, cfg):
    """perf record on each server during one upload and one download (--profile-cipher); writes
    perf.data and a flat report per case to the results directory and prints the top entries."""
    if not shutil.which("perf"):
        sys.exit("bench: --profile needs perf (Debian package linux-perf)")
    os.makedirs(cfg.out, exist_ok=True)
    for s in servers.values():
        for what, fn in (("upload", fig_upload), ("download", fig_download)):
            base = os.path.join(cfg.out, "profile-%s-%s" % (s.name, what))
            fn(s, cfg, cfg.profile_cipher)   # warm-up: source files exist, caches are hot
            # DWARF unwinding: Debian's libc, libssh and libcrypto have no frame pointers.
            rec = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,32768", "-F", "1999",
                                    "-o", base + ".data", "-p", str(s.proc.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            figures = fn(s, cfg, cfg.profile_cipher)
            rec.send_signal(signal.SIGINT)
            rec.wait()
            rep = subprocess.run(["perf", "report", "-i", base + ".data", "--stdio",
                                  "--no-children", "-g", "none", "--percent-limit", "0.5",
                                  "--sort", "comm,dso,sym"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True).stdout
            by_dso = subprocess.run(["perf", "report", "-i", base + ".data", "--stdio",
                                     "--no-children", "-g", "none", "--sort", "dso"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True).stdout
            graph = subprocess.run(["perf", "report", "-i", base + ".data", "--stdio",
                                    "--children", "--percent-limit", "3", "-g",
                                    "caller,1,callee", "--sort", "sym"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True).stdout
            with open(base + ".txt", "w") as f:
                f.write(by_dso + rep + graph)
            top = [l for l in (by_dso + rep).splitlines()
                   if "%" in l and not l.startswith("#")][:28]
            print("== %s %s (%s)\n%s" % (s.name, what, ", ".join(
                "%s %.2f" % kv for kv in figures.items()), "\n".join(top)), flush=True)
            print("   system calls per MiB: " + syscalls_per_mib(s, cfg, fn, base), flush=True)
            print("   CPU of each process, % of the copy's wall time: " + cpu_split(s, cfg, fn),
                  flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=540,
                    help="seconds: no new round starts when it would end after this (min. 1 round)")
    ap.add_argument("--size-mib", type=int, default=1024, help="single-stream file size")
    ap.add_argument("--conc-mib", type=int, default=16, help="size of each concurrent upload")
    ap.add_argument("--seq-sessions", type=int, default=40)
    ap.add_argument("--par-sessions", type=int, default=160)
    ap.add_argument("--idle-sessions", type=int, default=100)
    ap.add_argument("--servers", default="scpd,openssh", help="scpd,openssh or one of them")
    ap.add_argument("--only", default="", help="groups: idle,throughput,existing,concurrent,sessions")
    ap.add_argument("--quick", action="store_true",
                    help="development run: 64 MiB files, 1 round, fewer sessions")
    ap.add_argument("--profile", action="store_true",
                    help="instead of the table: perf profiles of one upload and one download")
    ap.add_argument("--profile-cipher", default=CIPHERS[0], choices=CIPHERS)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.size_mib, cfg.rounds, cfg.seq_sessions, cfg.par_sessions = 64, 1, 16, 48
    cfg.size, cfg.conc_size = cfg.size_mib * MiB, cfg.conc_mib * MiB
    names = [n for n in cfg.servers.split(",") if n]
    if os.geteuid() != 0:
        sys.exit("bench: needs root (it starts a private sshd and creates the user %s)" % BENCH_USER)
    if "scpd" in names and not os.access(SCPD_BIN, os.X_OK):
        sys.exit("bench: %s not built (make build/scpd)" % SCPD_BIN)

    # A SIGTERM (make interrupted, a CI timeout) still stops both servers and removes the user.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))
    t_start = time.monotonic()
    work = tempfile.mkdtemp(prefix="scpd-bench-", dir="/dev/shm")
    os.chmod(work, 0o755)
    servers = {}
    try:
        client = Client(work)
        for n in names:
            servers[n] = {"scpd": Scpd, "openssh": OpenSSH}[n](work, client)
        for s in servers.values():
            s.start()
            pick_auth(s)
            smoke(s)
            log("%s on port %d, user %s, %s authentication" % (s.name, s.port, s.user, s.auth))
        client.source(cfg.size)
        if cfg.profile:
            profile(servers, cfg)
            return
        results = {n: [] for n in names}
        steps = plan(cfg)
        done, round_s = 0, 0.0
        for rnd in range(cfg.rounds):
            if done and time.monotonic() - t_start + round_s > cfg.budget:
                log("stopping after %d round(s): another would pass the %d s budget" %
                    (done, cfg.budget))
                break
            t_round = time.monotonic()
            # Fresh servers each round: the idle-memory figure then starts from a clean process
            # (glibc keeps freed memory, which would hide a later round's growth).
            for s in servers.values():
                s.stop()
                s.start()
            merged = {n: {} for n in names}
            for label, fn, args in steps:
                for n in names:
                    t0 = time.monotonic()
                    merged[n].update(fn(servers[n], cfg, *args))
                    log("round %d/%d %-20s %-8s %5.1f s" % (rnd + 1, cfg.rounds, label, n,
                                                          time.monotonic() - t0))
            for n in names:
                results[n].append(merged[n])
            done, round_s = done + 1, max(round_s, time.monotonic() - t_round)
        cfg.rounds = done
        rows = build_table(results, names)
        elapsed = time.monotonic() - t_start
        print_table(rows, names, cfg.rounds)
        print("single-stream: %d MiB, uploads into a new file on both servers (the info row: onto an "
              "existing file), downloads onto an existing client file; concurrent: %d MiB each, aes128-gcm; sessions: 1 KiB uploads, "
              "aes128-gcm; idle: %d stalled scp uploads" % (cfg.size_mib, cfg.conc_mib,
                                                           cfg.idle_sessions))
        for s in servers.values():
            print("%s: copies as user %s (%s authentication)%s" % (
                s.name, s.user, s.auth, ", shell /bin/sh without start-up files, "
                "privilege-separated session" if s.name == "openssh" else ", one process"))
        load = os.getloadavg()
        print("elapsed %.0f s; load average at the end %.1f %.1f %.1f on %d CPUs (other work "
              "shares the machine: compare the ratios)" % ((elapsed,) + load + (os.cpu_count(),)))
        os.makedirs(cfg.out, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        doc = {"when": stamp, "elapsed_s": elapsed, "rounds": cfg.rounds,
               "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                           "loadavg_end": load,
                           "openssh": subprocess.run(["ssh", "-V"], stderr=subprocess.PIPE,
                                                     text=True).stderr.strip()},
               "settings": {k: v for k, v in vars(cfg).items() if k not in ("out",)},
               "kex": KEX, "hostkey": HOSTKEY, "ciphers": CIPHERS,
               "servers": {s.name: {"user": s.user, "auth": s.auth} for s in servers.values()},
               "upload_case": "new file (plus the info row onto an existing file)", "rows": rows, "rounds_raw": results}
        path = os.path.join(cfg.out, "bench-%s.json" % stamp)
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        shutil.copy(path, os.path.join(cfg.out, "latest.json"))
        print("wrote %s" % os.path.relpath(path, ROOT))
    finally:
        for s in servers.values():
            s.close()
            # The servers' own logs (why a session was refused or dropped) outlive the run.
            try:
                os.makedirs(cfg.out, exist_ok=True)
                shutil.copy(s.errlog.name, os.path.join(cfg.out, "%s.log" % s.name))
            except OSError:
                pass
        if "openssh" in servers:
            remove_user()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

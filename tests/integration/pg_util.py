"""Real PostgreSQL 15 and HAProxy for the multi-instance tests (test_pg.py) and bench/pg_bench.py.

PostgreSQL: `initdb` in a temporary directory owned by the `postgres` user (run through
`runuser -u postgres`, so the tests run as root, as CI does), listening on 127.0.0.1 on a free
port with its unix socket in that directory. HAProxy: `haproxy -db -f CFG` in TCP mode in front
of the SSH and HTTP ports of the instances, round robin.
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def available():
    """Why PostgreSQL tests cannot run here, or None."""
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        return "PostgreSQL 15 is not installed (make deps)"
    if not shutil.which("haproxy"):
        return "haproxy is not installed (make deps)"
    if os.geteuid() != 0:
        return "needs root (runuser -u postgres)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user"
    return None


class Postgres:
    """A private PostgreSQL cluster: .port, .uri(db), .stop(), .start(), .create_db(name)."""

    def __init__(self, fsync=True):
        self.dir = tempfile.mkdtemp(prefix="scpd-pg-")
        os.chmod(self.dir, 0o700)
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.fsync = fsync
        self._as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust",
                           "-U", "postgres", "--locale=C.UTF-8", "-E", "UTF8"])
        self.running = False
        self.start()

    def _as_postgres(self, cmd, **kw):
        return subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True,
                              capture_output=True, text=True, cwd=self.dir, **kw)

    def _pg_ctl(self, *args):
        return self._as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data] + list(args))

    def start(self):
        opts = "-p %d -h 127.0.0.1 -k %s -c max_connections=200" % (self.port, self.dir)
        if not self.fsync:
            opts += " -c fsync=off -c synchronous_commit=off"
        try:
            self._pg_ctl("start", "-w", "-t", "60", "-l", self.log, "-o", opts)
        except subprocess.CalledProcessError as e:
            raise RuntimeError("postgres did not start: %s %s" % (e.stderr, open(self.log).read()[-2000:]))
        self.running = True

    def stop(self):
        """Fast shutdown: clients are disconnected, as when the server fails over."""
        if self.running:
            self._pg_ctl("stop", "-w", "-m", "fast")
        self.running = False

    def psql(self, sql, db="postgres", check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "psql"),
                               "-X", "-q", "-A", "-t", "-h", self.dir, "-p", str(self.port),
                               "-U", "postgres", "-d", db, "-c", sql],
                              capture_output=True, text=True, check=check, cwd=self.dir)

    def create_db(self, name):
        self.psql('CREATE DATABASE "%s"' % name)
        return self.uri(name)

    def uri(self, db):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class HAProxy:
    """haproxy in TCP mode: .ssh_port and .http_port spread over the instances' ports."""

    def __init__(self, backends, workdir):
        self.ssh_port, self.http_port = free_port(), free_port()
        lines = ["global", "  maxconn 4096",
                 "defaults", "  mode tcp", "  timeout connect 5s", "  retries 3",
                 "  option redispatch",
                 "  timeout client 120s", "  timeout server 120s"]
        for name, port, key in (("ssh", self.ssh_port, "ssh_port"),
                                ("http", self.http_port, "http_port")):
            lines += ["frontend %s_in" % name, "  bind 127.0.0.1:%d" % port,
                      "  default_backend %s_out" % name,
                      "backend %s_out" % name, "  balance roundrobin"]
            for i, b in enumerate(backends):
                lines.append("  server s%d 127.0.0.1:%d" % (i, getattr(b, key)))
        self.cfg = os.path.join(workdir, "haproxy.cfg")
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.logpath = os.path.join(workdir, "haproxy.log")
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg], stdout=logf,
                                     stderr=logf)
        logf.close()
        wait_port(self.ssh_port, proc=self.proc)
        wait_port(self.http_port, proc=self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

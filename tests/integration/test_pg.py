"""Several scpd as one (docs/postgresql.md): two instances on one PostgreSQL 15 store and one
shared file-system directory, HAProxy in TCP mode in front of their SSH and HTTP ports. All parts
are real and started here: PostgreSQL (initdb as the postgres user, loopback, free port), the two
daemons, HAProxy. Needs root (runuser), as CI has; skipped with the reason otherwise."""
import concurrent.futures
import hashlib
import os
import re
import subprocess
import time

import pytest
import requests

import pg_util
from clients import download, remote, run_ssh, start_scp, upload
from conftest import LOCAL_AUTH, Daemon
from obs_util import SSE

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"
YJ = "application/yang-data+json"
WHY_NOT = pg_util.available()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")

# Acceptance sizes of the issue are 100 uploads and 1000 PATCHes; `make test` runs fewer to stay
# quick on a shared machine (the full sizes: SCPD_PG_UPLOADS=100 SCPD_PG_PATCHES=1000).
N_UPLOADS = int(os.environ.get("SCPD_PG_UPLOADS", "40"))
N_PATCHES = int(os.environ.get("SCPD_PG_PATCHES", "200"))
DEADLINE = 15  # seconds: generous bound of "live on every instance" (the design: < 1 s)


@pytest.fixture(scope="module")
def pg():
    p = pg_util.Postgres()
    yield p
    p.close()


class Cluster:
    def __init__(self, a, b, hp, fs_dir):
        self.a, self.b, self.hp, self.fs_dir = a, b, hp, fs_dir

    def http(self, d, auth=("tiger", "lab")):
        s = requests.Session()
        s.auth = auth
        s.base = "http://127.0.0.1:%d" % (d if isinstance(d, int) else d.http_port)
        return s


@pytest.fixture
def cluster(pg, workdir, request):
    db = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    uri = pg.create_db(db)
    fs_dir = os.path.join(workdir, "shared-fs")
    args = ["--store", uri, "--fs-dir", fs_dir]
    marker = request.node.get_closest_marker("fs_size")
    if marker:
        args += ["--fs-size", "bootflash=%d" % marker.args[0]]
    a = Daemon(os.path.join(workdir, "a"), config=LOCAL_AUTH, args=args)
    b = Daemon(os.path.join(workdir, "b"), config=LOCAL_AUTH, args=args)
    hp = pg_util.HAProxy([a, b], workdir)
    c = Cluster(a, b, hp, fs_dir)
    c.args = args
    c.db = db
    yield c
    hp.stop()
    for d in (c.a, c.b):   # a test may have replaced one (killed and restarted)
        rc = d.stop()
        assert rc == 0, "scpd exited %s; log:\n%s" % (rc, d.log())


def version(s):
    r = s.get(s.base + NATIVE + "/hostname?with-defaults=report-all")
    assert r.status_code == 200, r.text
    return int(r.headers["ETag"].strip('"'))


def accepted_sessions(s):
    text = s.get(s.base + "/metrics").text
    m = re.search(r"^scpd_sessions_accepted_total(?:\{[^}]*\})? (\d+)", text, re.M)
    assert m, text[:500]
    return int(m.group(1))


def wait_for(pred, deadline=DEADLINE, step=0.05):
    t0 = time.time()
    while time.time() - t0 < deadline:
        if pred():
            return time.time() - t0
        time.sleep(step)
    raise AssertionError("not within %s s" % deadline)


def test_one_identity_and_a_user_from_a_logs_in_on_b(cluster, workdir):
    a, b = cluster.a, cluster.b
    # one host identity: the second instance took the first's keys from the store
    for kind in ("rsa", "ed25519"):
        ka = open(os.path.join(a.data_dir, "keys", "ssh_host_%s_key.pub" % kind)).read()
        kb = open(os.path.join(b.data_dir, "keys", "ssh_host_%s_key.pub" % kind)).read()
        assert ka == kb
    sa = cluster.http(a)
    r = sa.post(sa.base + NATIVE + "/username", headers={"Content-Type": YJ},
                json={"Cisco-IOS-XE-native:username": [
                    {"name": "bob", "privilege": 15,
                     "password": {"encryption": "0", "password": "s3cret-pw"}}]})
    assert r.status_code == 201, r.text
    created = int(r.headers["ETag"].strip('"'))
    # bob logs in with scp -O on B (directly, so it is B)
    local = os.path.join(workdir, "bob.bin")
    with open(local, "wb") as f:
        f.write(os.urandom(4096))

    def bob_on_b():
        return upload(b.ssh_port, local, "bootflash:bob.bin", user="bob",
                      password="s3cret-pw", timeout=30).returncode == 0

    took = wait_for(bob_on_b, step=0.02)
    print("user created on A logged in on B after %.3f s" % took)
    # the API, the ETag and the audit log of B show A's commit
    sb = cluster.http(b)
    assert version(sb) == created
    audit = sb.get(sb.base + "/restconf/data/scpd:audit-log").text
    assert "username bob" in audit
    # and through HAProxy (either instance): the file is on the shared directory
    back = os.path.join(workdir, "back.bin")
    res = download(cluster.hp.ssh_port, "bootflash:bob.bin", back, user="bob",
                   password="s3cret-pw", timeout=60)
    assert res.returncode == 0, res.stderr
    assert open(back, "rb").read() == open(local, "rb").read()
    # the transfer history is one: B's upload is in A's history
    h = sa.get(sa.base + "/restconf/data/scpd:scp-state/transfers")
    assert h.status_code == 200 and "bob.bin" in h.text, h.text


def presented_rsa_key(d):
    """The RSA host key d presents on the wire ("ssh-rsa BASE64"), or None."""
    r = subprocess.run(["ssh-keyscan", "-t", "rsa", "-T", "10", "-p", str(d.ssh_port),
                        "127.0.0.1"], capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 3 and f[1] == "ssh-rsa":
            return "ssh-rsa " + f[2]
    return None


def rsa_key_file(d):
    with open(os.path.join(d.data_dir, "keys", "ssh_host_rsa_key.pub")) as f:
        return " ".join(f.read().split()[:2])


def test_crypto_key_generate_on_a_is_every_instances_host_key(cluster):
    """`crypto key generate rsa` on A replaces the store's key: B adopts it without a restart
    (its file and what it presents), and a restart of B keeps it."""
    a, b = cluster.a, cluster.b
    old = presented_rsa_key(b)
    assert old and old == presented_rsa_key(a) == rsa_key_file(b)
    r = run_ssh(a.ssh_port, "crypto key generate rsa modulus 2048")
    assert r.returncode == 0 and "[OK]" in r.stdout, r.stdout + r.stderr
    new = presented_rsa_key(a)
    assert new and new != old and new == rsa_key_file(a)
    took = wait_for(lambda: rsa_key_file(b) == new and presented_rsa_key(b) == new, step=0.1)
    print("A's new host key presented by B after %.3f s" % took)
    assert "crypto key generate on another instance" in b.log()
    assert "PRIVATE KEY" not in a.log() + b.log()   # key material is never logged
    # a restart of B (or of A) keeps the new key: the store's is the key
    assert b.stop() == 0
    cluster.b = Daemon(b.data_dir, config=LOCAL_AUTH, args=cluster.args)
    assert presented_rsa_key(cluster.b) == new
    assert a.stop() == 0
    cluster.a = Daemon(a.data_dir, config=LOCAL_AUTH, args=cluster.args)
    assert presented_rsa_key(cluster.a) == new


def test_a_host_key_replaced_without_notification_is_adopted(cluster, pg, workdir):
    """The NOTIFY of a replaced key can be lost (an instance reconnecting); the watcher's poll
    finds the change all the same: here the row is replaced behind the instances' backs."""
    key = os.path.join(workdir, "other_rsa")
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", key],
                   check=True, capture_output=True)
    with open(key) as f:
        priv = f.read()
    with open(key + ".pub") as f:
        new = " ".join(f.read().split()[:2])
    assert "$k$" not in priv
    pg.psql("UPDATE secret SET value = $k$%s$k$ WHERE name = 'hostkey/ssh_host_rsa_key'" % priv,
            db=cluster.db)
    for d in (cluster.a, cluster.b):
        wait_for(lambda: presented_rsa_key(d) == new and rsa_key_file(d) == new, step=0.1)


def test_api_tokens_are_shared_by_the_instances(cluster, pg):
    """A bearer token lives in the store: issued on A it works on B, a logout on B is refused on
    A at once, the per-user cap holds across instances, and the database has only its hash."""
    a, b = cluster.a, cluster.b
    ops = "/restconf/operations"

    def url(d, path):
        return "http://127.0.0.1:%d%s" % (d.http_port, path)

    def login(d):
        r = requests.post(url(d, ops + "/scpd:login"), auth=("tiger", "lab"))
        assert r.status_code == 200, r.text
        return {"Authorization": "Bearer " + r.json()["scpd:output"]["token"]}

    def status(d, h):
        return requests.get(url(d, NATIVE + "/hostname?with-defaults=report-all"),
                            headers=h).status_code

    bearer = login(a)
    assert status(b, bearer) == 200
    assert status(a, bearer) == 200
    r = requests.post(url(b, ops + "/scpd:logout"), headers=bearer)
    assert r.status_code == 204, r.text
    r = requests.get(url(a, NATIVE + "/hostname"), headers=bearer)
    assert r.status_code == 401 and "invalid or expired bearer token" in r.text, r.text
    assert status(b, bearer) == 401
    # LIM_TOKENS_PER_USER (16): logins on both instances share one cap, the oldest goes first
    mine = [login(a if i % 2 else b) for i in range(18)]
    assert [status(a, h) == 200 for h in mine] == [False] * 2 + [True] * 16
    assert [status(b, h) == 200 for h in mine] == [False] * 2 + [True] * 16
    # only the SHA-256 of a token is in the database
    tok = mine[-1]["Authorization"].split()[1]
    rows = pg.psql("SELECT encode(hash, 'hex') FROM token", db=cluster.db).stdout.split()
    assert len(rows) == 16
    assert hashlib.sha256(tok.encode()).hexdigest() in rows
    assert tok not in rows


def test_login_block_for_counts_the_failures_of_every_instance(cluster):
    """`login block-for 60 attempts 4 within 60`: two failed logins on A and two on B are four
    from that source, so the quiet period starts (reported once, by the instance that saw the
    fourth) and holds on both instances and both doors, even with the right password."""
    sa, sb = cluster.http(cluster.a), cluster.http(cluster.b)
    r = sa.patch(sa.base + NATIVE, headers={"Content-Type": YJ}, json={
        "Cisco-IOS-XE-native:native": {
            "login": {"block-for": {"seconds": 60, "attempts": 4, "within": 60}}}})
    assert r.status_code == 204, r.text
    wait_for(lambda: sb.get(sb.base + NATIVE + "/login/block-for").status_code == 200)
    for s in (sa, sb, sa):
        r = s.get(s.base + NATIVE + "/login/block-for", auth=("tiger", "wrong"))
        assert r.status_code == 401, r.text
    # neither instance has seen four: each would let the right password in
    assert sa.get(sa.base + NATIVE + "/login/block-for").status_code == 200
    assert sb.get(sb.base + NATIVE + "/login/block-for").status_code == 200
    r = sb.get(sb.base + NATIVE + "/login/block-for", auth=("tiger", "wrong"))
    assert r.status_code == 401, r.text
    # B, which saw the fourth, refuses at once; A once its cached "not blocked" is a second old
    r = sb.get(sb.base + NATIVE + "/login/block-for")
    assert r.status_code == 429, r.text
    wait_for(lambda: sa.get(sa.base + NATIVE + "/login/block-for").status_code == 429)
    for s in (sb, sa):
        r = s.get(s.base + NATIVE + "/login/block-for")
        assert r.status_code == 429, r.text
        assert "login block-for" in r.text and 40 <= int(r.headers["Retry-After"]) <= 60
    res = run_ssh(cluster.a.ssh_port, "show clock", timeout=30)
    assert res.returncode != 0
    log = cluster.a.log()   # both instances write to one file (the test's workdir)
    assert log.count("login block-for: 4 failed logins within 60 s from 127.0.0.1") == 1, log
    assert "ssh connection refused: logins from 127.0.0.1 are blocked for" in log, log


def test_a_netconf_lock_holds_on_every_instance(cluster):
    """A NETCONF <lock> on A's running datastore refuses commits through B (RESTCONF) and a lock
    taken on B, naming the holder and its instance; after <unlock> B commits and locks. A lock
    whose session ends goes with it."""
    from ncclient import manager
    from ncclient.operations import RPCError

    def nc(d):
        return manager.connect(host="127.0.0.1", port=d.ssh_port, username="tiger",
                               password="lab", hostkey_verify=False, allow_agent=False,
                               look_for_keys=False, timeout=30)

    sb = cluster.http(cluster.b)

    def patch_b(name):
        return sb.patch(sb.base + NATIVE, headers={"Content-Type": YJ},
                        json={"Cisco-IOS-XE-native:native": {"hostname": name}})

    with nc(cluster.a) as ma:
        ma.lock("running")
        r = patch_b("R-B")
        assert r.status_code == 409, r.text
        assert "locked by NETCONF session" in r.text and "on instance" in r.text, r.text
        with nc(cluster.b) as mb:
            with pytest.raises(RPCError) as ei:
                mb.lock("running")
            assert ei.value.tag == "lock-denied"
        ma.edit_config(target="running", config=(
            '<config><native xmlns="http://cisco.com/ns/yang/Cisco-IOS-XE-native">'
            '<hostname>R-A</hostname></native></config>'))   # the holder commits
        ma.unlock("running")
        assert patch_b("R-B").status_code == 204
        with nc(cluster.b) as mb:
            mb.lock("running")
            sa = cluster.http(cluster.a)
            r = sa.patch(sa.base + NATIVE, headers={"Content-Type": YJ},
                         json={"Cisco-IOS-XE-native:native": {"hostname": "R-A2"}})
            assert r.status_code == 409, r.text
        # B's session ended without <unlock>: its lock went with it
        wait_for(lambda: sa.patch(sa.base + NATIVE, headers={"Content-Type": YJ}, json={
            "Cisco-IOS-XE-native:native": {"hostname": "R-A3"}}).status_code == 204)


def test_concurrent_uploads_through_haproxy(cluster, workdir):
    files = []
    for i in range(N_UPLOADS):
        p = os.path.join(workdir, "up%03d.bin" % i)
        data = os.urandom(32 * 1024 + i * 97)
        with open(p, "wb") as f:
            f.write(data)
        files.append((p, "up%03d.bin" % i, hashlib.sha256(data).hexdigest()))

    def one(f):
        return upload(cluster.hp.ssh_port, f[0], "bootflash:" + f[1], timeout=300)

    with concurrent.futures.ThreadPoolExecutor(N_UPLOADS) as ex:
        results = list(ex.map(one, files))
    bad = [(f[1], r.returncode, r.stderr) for f, r in zip(files, results) if r.returncode != 0]
    assert not bad, bad
    boot = os.path.join(cluster.fs_dir, "bootflash")
    for _, name, digest in files:
        with open(os.path.join(boot, name), "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == digest, name
    assert not [n for n in os.listdir(boot) if n.startswith(".scpd-tmp.")]
    # HAProxy spread them: each instance accepted some of the sessions
    counts = [accepted_sessions(cluster.http(d)) for d in (cluster.a, cluster.b)]
    assert sum(counts) >= N_UPLOADS and min(counts) > 0, counts


def test_concurrent_if_match_patches(cluster):
    sessions = [cluster.http(cluster.a), cluster.http(cluster.b)]
    for s in sessions:
        s.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    v0 = version(sessions[0])
    wait_for(lambda: version(sessions[1]) == v0)

    def one(i):
        s = sessions[i % 2]
        etag = s.get(s.base + NATIVE + "/hostname?with-defaults=report-all").headers["ETag"]
        r = s.patch(s.base + NATIVE, headers={"Content-Type": YJ, "If-Match": etag},
                    json={"Cisco-IOS-XE-native:native": {"hostname": "h%d" % i}})
        return r.status_code, r.text

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(one, range(N_PATCHES)))
    ok = sum(1 for st, _ in results if st in (200, 204))
    conflicts = sum(1 for st, _ in results if st == 412)
    other = [(st, t) for st, t in results if st not in (200, 204, 412)]
    assert not other, other[:5]
    assert ok + conflicts == N_PATCHES and ok >= 1
    print("%d PATCHes: %d succeeded, %d got 412" % (N_PATCHES, ok, conflicts))
    # every success is one version, on both instances: no lost update, no double count
    final = v0 + ok
    wait_for(lambda: version(sessions[0]) == final and version(sessions[1]) == final)
    hn = sessions[1].get(sessions[1].base + NATIVE + "/hostname").json()
    assert hn["Cisco-IOS-XE-native:hostname"].startswith("h")


def test_database_outage(cluster, pg, workdir):
    a, b = cluster.a, cluster.b
    sa, sb = cluster.http(a), cluster.http(b)
    v0 = version(sa)
    r = sa.post(sa.base + "/restconf/operations/scpd:login")
    assert r.status_code == 200, r.text
    bearer = {"Authorization": "Bearer " + r.json()["scpd:output"]["token"]}
    pg.stop()
    stopped = time.time()
    try:
        # logins go on from the last snapshot, on both doors of both instances
        for d in (a, b):
            r = run_ssh(d.ssh_port, "show version")
            assert r.returncode == 0, r.stderr
            s = cluster.http(d)
            assert version(s) == v0
        local = os.path.join(workdir, "during.bin")
        with open(local, "wb") as f:
            f.write(os.urandom(10000))
        r = upload(cluster.hp.ssh_port, local, "bootflash:during.bin")
        assert r.returncode == 0, r.stderr
        # writes fail cleanly, naming the cause: 503 in the API, an scp error line
        r = sa.patch(sa.base + NATIVE, headers={"Content-Type": YJ},
                     json={"Cisco-IOS-XE-native:native": {"hostname": "during"}})
        assert r.status_code == 503, r.text
        assert "unreachable" in r.text
        cfg = os.path.join(workdir, "change.cfg")
        with open(cfg, "w") as f:
            f.write("hostname during-scp\n")
        r = upload(b.ssh_port, cfg, "running-config")
        assert r.returncode != 0
        assert "unreachable" in r.stderr, r.stderr
        assert version(sb) == v0
        # a bearer token is checked in the database: 503 naming the cause, not 401
        r = requests.get(sb.base + NATIVE + "/hostname?with-defaults=report-all", headers=bearer)
        assert r.status_code == 503 and "unreachable" in r.text, r.text
        time.sleep(max(0.0, 10 - (time.time() - stopped)))
    finally:
        pg.start()
    # recovery without a restart: the next write goes through, and both see it

    def write_ok():
        r = sa.patch(sa.base + NATIVE, headers={"Content-Type": YJ},
                     json={"Cisco-IOS-XE-native:native": {"hostname": "after"}})
        return r.status_code in (200, 204)

    took = wait_for(write_ok, step=0.2)
    print("writes recovered %.2f s after PostgreSQL came back" % took)
    wait_for(lambda: version(sb) == v0 + 1)
    assert "unreachable" in a.log() and "reachable again" in a.log()


def test_kill9_during_uploads_loses_nothing_acknowledged(cluster, workdir):
    a, b = cluster.a, cluster.b
    boot = os.path.join(cluster.fs_dir, "bootflash")
    digests = {}

    def make(name, size):
        p = os.path.join(workdir, name)
        data = os.urandom(size)
        with open(p, "wb") as f:
            f.write(data)
        digests[name] = hashlib.sha256(data).hexdigest()
        return p

    # acknowledged by A before it dies
    for i in range(3):
        r = upload(a.ssh_port, make("done%d.bin" % i, 100000), "bootflash:done%d.bin" % i)
        assert r.returncode == 0, r.stderr
    # in flight on A when it dies: 4 MiB at 1 MB/s (scp -l is in Kbit/s)
    slow = [start_scp(a.ssh_port, [make("slow%d.bin" % i, 4 << 20),
                                   remote("bootflash:slow%d.bin" % i)], extra=("-l", "8000"))
            for i in range(4)]

    def temps():
        return [n for n in os.listdir(boot) if n.startswith(".scpd-tmp.")]

    wait_for(lambda: len(temps()) >= 4)
    a.proc.kill()
    a.proc.wait()
    for p in slow:
        p.communicate(timeout=60)
        assert p.returncode != 0   # none of them was acknowledged
    # through HAProxy the service goes on (B, redispatched from the dead A)
    for i in range(4):
        r = upload(cluster.hp.ssh_port, make("after%d.bin" % i, 50000), "bootflash:after%d.bin" % i)
        assert r.returncode == 0, r.stderr
    # every acknowledged upload is whole; no upload of the dead A left a visible (partial) file
    listed = set(os.listdir(boot)) - set(temps())
    assert listed == {n for n in digests if not n.startswith("slow")}, sorted(listed)
    for n in listed:
        with open(os.path.join(boot, n), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digests[n], n
    sb = cluster.http(b)
    names = sb.get(sb.base + "/restconf/data/scpd:file-systems").text
    assert ".scpd-tmp." not in names
    # A's temporary files are leftovers; once stale they are reaped (here: by A's restart)
    left = temps()
    assert left
    old = time.time() - 3600
    for n in left:
        os.utime(os.path.join(boot, n), (old, old))
    assert a.stop() == -9
    cluster.a = Daemon(a.data_dir, config=LOCAL_AUTH, args=cluster.args)
    assert temps() == []


@pytest.mark.fs_size(6 << 20)
def test_space_reservations_shared_and_reaped(cluster, pg, workdir):
    """--fs-size holds for the instances together: an upload in flight on A keeps its space
    reserved in the database, so B refuses what would overfill bootflash:; once A is killed its
    reservation is reaped (no heartbeat for LIM_PG_DEAD_MS) and B's upload fits."""
    a, b = cluster.a, cluster.b
    big = os.path.join(workdir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(4 << 20))
    boot = os.path.join(cluster.fs_dir, "bootflash")
    slow = start_scp(a.ssh_port, [big, remote("bootflash:slow.bin")], extra=("-l", "4000"))
    wait_for(lambda: any(n.startswith(".scpd-tmp.") for n in os.listdir(boot)))
    rows = pg.psql("SELECT count(*) FROM fs_resv WHERE bytes > 0", db=cluster.db).stdout
    assert int(rows) == 1
    r = upload(b.ssh_port, big, "bootflash:other.bin")
    assert r.returncode != 0
    assert "not enough space" in r.stdout + r.stderr
    a.proc.kill()
    a.proc.wait()
    slow.communicate(timeout=60)

    def fits():
        return upload(b.ssh_port, big, "bootflash:other.bin").returncode == 0

    took = wait_for(fits, deadline=40, step=1)
    print("a killed instance's reservation was reaped after %.1f s" % took)
    left = pg.psql("SELECT count(*) FROM fs_resv r JOIN instance i ON i.id = r.instance"
                   " WHERE r.bytes > 0", db=cluster.db).stdout
    assert int(left) == 0
    assert a.stop() == -9
    cluster.a = Daemon(a.data_dir, config=LOCAL_AUTH, args=cluster.args)


def test_streams_carry_the_events_of_every_instance(cluster, workdir):
    a, b = cluster.a, cluster.b
    sub = SSE(b, "transfers")
    sec = SSE(b, "security")
    assert sub.status == 200 and sec.status == 200
    try:
        src = os.path.join(workdir, "ev.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(5000))
        r = upload(a.ssh_port, src, "bootflash:on-a.bin")
        assert r.returncode == 0, r.stderr
        sub.wait(lambda n: "scpd:transfer-event" in n and
                 n["scpd:transfer-event"].get("kind") == "end" and
                 "on-a.bin" in str(n["scpd:transfer-event"]), what="A's transfer on B's stream")
        r = upload(a.ssh_port, src, "bootflash:x.bin", password="wrong", timeout=30)
        assert r.returncode != 0
        sec.wait(lambda n: "scpd:security-event" in n and
                 n["scpd:security-event"]["kind"] == "login-failed", what="A's failed login")
    finally:
        sub.close()
        sec.close()

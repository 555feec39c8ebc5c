"""The sftp subsystem with real clients, as a user drives them: OpenSSH scp without -O (its SFTP
mode, the default since OpenSSH 9), OpenSSH sftp -b, curl sftp://, paramiko's SFTPClient.
Transfers are checked end to end with SHA-256; refusals must print their reason; path escapes
must fail and leave everything as it was."""
import os
import signal
import stat
import subprocess

import pytest

import clients
from clients import make_file, ok, sha256
from obs_util import Api, wait_for

MiB = 1 << 20
LOGIN = ("aaa new-model\naaa authentication login default local\n"
         "aaa authorization exec default local\n")


@pytest.fixture
def d(start_daemon):
    return start_daemon()


def failed(r, *needles):
    out = r.stdout + r.stderr
    assert r.returncode != 0, "expected a failure, client succeeded:\n" + out
    for n in needles:
        assert n in out, "%r not in client output:\n%s" % (n, out)


def scp(port, args, **kw):
    """OpenSSH scp in its default (SFTP) mode."""
    return clients.run_scp(port, args, legacy=False, **kw)


def sftp_batch(port, workdir, commands, user=clients.USER, password=clients.PASSWORD):
    """sftp -b with the commands; runs in workdir (lcd). Password through SSH_ASKPASS."""
    batch = os.path.join(workdir, "batch.txt")
    with open(batch, "w") as f:
        f.write("\n".join(commands) + "\n")
    # the options first: sftp -b adds BatchMode=yes, and ssh takes the first value it sees
    cmd = ["sftp", "-P", str(port)] + clients.ssh_opts(port) + ["-b", batch] + [
        "%s@%s" % (user, clients.HOST)]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=clients._env(password), cwd=workdir, timeout=120)


def curl(port, args, path, user=clients.USER, password=clients.PASSWORD):
    url = "sftp://%s:%d/%s" % (clients.HOST, port, path)
    return subprocess.run(["curl", "-sS", "-k", "-u", "%s:%s" % (user, password)] + args + [url],
                          capture_output=True, text=True, timeout=120)


def temps(d):
    found = []
    for root, _, files in os.walk(os.path.join(d.data_dir, "fs")):
        found += [f for f in files if f.startswith(".scpd-tmp.")]
    return found


# ---- OpenSSH scp (SFTP mode) -------------------------------------------------------------------

def test_openssh_scp_default_mode(d, workdir):
    src = make_file(os.path.join(workdir, "image.bin"), 3 * MiB + 17, seed=1)
    ok(scp(d.ssh_port, [src, clients.remote("bootflash:image.bin")]))
    assert sha256(os.path.join(d.bootflash, "image.bin")) == sha256(src)
    ok(scp(d.ssh_port, [src, clients.remote("plain.bin")]))          # relative to bootflash:
    ok(scp(d.ssh_port, [src, clients.remote("nvram:n.bin")]))
    assert sha256(os.path.join(d.data_dir, "fs", "nvram", "n.bin")) == sha256(src)
    ok(scp(d.ssh_port, [src, clients.remote("/bootflash/dir.bin")]))   # the README's form
    assert sha256(os.path.join(d.bootflash, "dir.bin")) == sha256(src)
    for path in ("bootflash:image.bin", "plain.bin", "/plain.bin", "nvram:n.bin", "/nvram/n.bin",
                 "/flash/dir.bin"):
        got = os.path.join(workdir, "got.bin")
        ok(scp(d.ssh_port, [clients.remote(path), got]))
        assert sha256(got) == sha256(src), path
        os.unlink(got)
    assert temps(d) == []
    log = d.log()
    assert "sftp: received bootflash:image.bin (3145745 bytes)" in log
    assert "sftp: sent nvram:n.bin (3145745 bytes)" in log


def test_openssh_scp_recursive_and_running_config(d, workdir):
    tree = os.path.join(workdir, "tree")
    os.makedirs(os.path.join(tree, "sub"))
    make_file(os.path.join(tree, "a.bin"), 1000, seed=2)
    make_file(os.path.join(tree, "sub", "b.bin"), 70000, seed=3)
    ok(scp(d.ssh_port, ["-r", tree, clients.remote("bootflash:")]))
    assert sha256(os.path.join(d.bootflash, "tree", "sub", "b.bin")) == \
        sha256(os.path.join(tree, "sub", "b.bin"))
    back = os.path.join(workdir, "back")
    ok(scp(d.ssh_port, ["-r", clients.remote("tree"), back]))
    assert sha256(os.path.join(back, "sub", "b.bin")) == sha256(os.path.join(tree, "sub", "b.bin"))
    rc = os.path.join(workdir, "rc.txt")
    ok(scp(d.ssh_port, [clients.remote("running-config"), rc]))
    assert "ip scp server enable" in open(rc).read()


def test_openssh_scp_config_upload_merges(d, workdir):
    cfg = os.path.join(workdir, "merge.cfg")
    with open(cfg, "w") as f:
        f.write("hostname SFTP-EDGE\n")
    ok(scp(d.ssh_port, [cfg, clients.remote("running-config")]))
    rc = os.path.join(workdir, "rc.txt")
    ok(scp(d.ssh_port, [clients.remote("running-config"), rc]))
    text = open(rc).read()
    assert "hostname SFTP-EDGE" in text and "username tiger" in text
    with open(cfg, "w") as f:
        f.write("hostname OK\nip ssh time-out 500\n")
    r = scp(d.ssh_port, [cfg, clients.remote("running-config")])
    # scp shows only "close remote: Failure" for a status: the parser's errors come on stderr
    failed(r, "ip ssh time-out 500", "Invalid input detected", "value out of range 1-120")
    ok(scp(d.ssh_port, [clients.remote("running-config"), rc]))
    assert "hostname SFTP-EDGE" in open(rc).read()
    # the audit log names the door: sftp, with the user and peer (valid scpd.yang data)
    log = Api(d).get("/restconf/data/scpd:audit-log").json()["scpd:audit-log"]["entry"]
    last = log[-1]
    assert last["source"] == "sftp" and last["user"] == "tiger", last
    assert last["peer"].startswith("127.0.0.1:") and "+ hostname SFTP-EDGE" in last["diff"]


# ---- OpenSSH sftp ------------------------------------------------------------------------------

def test_sftp_batch(d, workdir):
    make_file(os.path.join(workdir, "up.bin"), 200000, seed=4)
    r = ok(sftp_batch(d.ssh_port, workdir, [
        "pwd", "put up.bin", "mkdir dir1", "put up.bin dir1/copy.bin", "ls -l dir1",
        "get dir1/copy.bin down.bin", "rm dir1/copy.bin", "ls dir1", "ls -l",
        "cd nvram:", "pwd", "ls", "cd ..", "get running-config rc.txt", "df"]))
    out = r.stdout
    assert "Remote working directory: /\n" in out
    assert "Remote working directory: /nvram:" in out
    assert "copy.bin" in out and "200000" in out
    assert "startup-config" in out and "running-config" in out
    assert sha256(os.path.join(workdir, "down.bin")) == sha256(os.path.join(workdir, "up.bin"))
    assert not os.path.exists(os.path.join(d.bootflash, "dir1", "copy.bin"))
    assert os.path.isdir(os.path.join(d.bootflash, "dir1"))
    assert "ip scp server enable" in open(os.path.join(workdir, "rc.txt")).read()


def test_sftp_rename_rmdir_and_unsupported_operations(d, workdir):
    make_file(os.path.join(d.bootflash, "f.bin"), 1000, seed=5)
    os.mkdir(os.path.join(d.bootflash, "dd"))
    ino = os.stat(os.path.join(d.bootflash, "f.bin")).st_ino
    ok(sftp_batch(d.ssh_port, workdir, ["rename f.bin dd/g.bin"]))   # posix-rename@openssh.com
    assert not os.path.exists(os.path.join(d.bootflash, "f.bin"))
    assert os.path.getsize(os.path.join(d.bootflash, "dd", "g.bin")) == 1000
    assert os.stat(os.path.join(d.bootflash, "dd", "g.bin")).st_ino == ino   # renamed, not copied
    r = sftp_batch(d.ssh_port, workdir, ["rmdir dd"])
    assert r.returncode != 0
    assert "directory not empty" in d.log()
    r = sftp_batch(d.ssh_port, workdir, ["chmod 777 dd/g.bin"])
    assert r.returncode != 0
    assert "changing the mode of an existing file is not supported" in d.log()
    ok(sftp_batch(d.ssh_port, workdir, ["rename dd ee", "rm ee/g.bin", "rmdir ee"]))
    assert os.listdir(d.bootflash) == []
    r = sftp_batch(d.ssh_port, workdir, ["mkdir x", "rename x nvram:x"])
    assert r.returncode != 0
    assert os.path.isdir(os.path.join(d.bootflash, "x"))
    assert temps(d) == []


def test_sftp_upload_leaves_nothing_in_tmpdir(start_daemon, workdir):
    tmp = os.path.join(workdir, "tmp")
    os.mkdir(tmp)
    d = start_daemon(env={"TMPDIR": tmp})
    src = make_file(os.path.join(workdir, "t.bin"), 2 * MiB + 1, seed=13)
    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        with s.open("bootflash:t.bin", "wb") as f:
            f.write(open(src, "rb").read(MiB))
            f.flush()
            # in flight: the data is in the target directory's temporary file, nowhere else
            assert len(temps(d)) == 1 and os.listdir(tmp) == []
            assert os.path.getsize(os.path.join(d.bootflash, temps(d)[0])) == MiB
            f.write(open(src, "rb").read()[MiB:])
        s.close()
    finally:
        c.close()
    ok(scp(d.ssh_port, [src, clients.remote("bootflash:u.bin")]))
    assert sha256(os.path.join(d.bootflash, "t.bin")) == sha256(src)
    assert sha256(os.path.join(d.bootflash, "u.bin")) == sha256(src)
    assert os.listdir(tmp) == [] and temps(d) == []


@pytest.fixture
def small_fs(workdir):
    """A data directory whose bootflash: is a 1 MiB tmpfs (root only: skipped elsewhere)."""
    mnt = os.path.join(workdir, "data", "fs", "bootflash")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a small tmpfs: " + r.stderr.strip())
    yield mnt
    subprocess.run(["umount", "-l", mnt])


def test_sftp_upload_over_small_file_system(small_fs, start_daemon, workdir):
    with open(os.path.join(small_fs, "keep.bin"), "wb") as f:
        f.write(b"old" * 1000)
    d = start_daemon()
    src = make_file(os.path.join(workdir, "big.bin"), 2 * MiB, seed=14)
    r = scp(d.ssh_port, [src, clients.remote("bootflash:keep.bin")])
    failed(r, "%Error writing bootflash:keep.bin (not enough space")
    assert open(os.path.join(small_fs, "keep.bin"), "rb").read() == b"old" * 1000
    assert temps(d) == []
    r = sftp_batch(d.ssh_port, workdir, ["put big.bin new.bin"])
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(small_fs, "new.bin")) and temps(d) == []
    # what fits still goes through
    small = make_file(os.path.join(workdir, "small.bin"), 200000, seed=15)
    ok(scp(d.ssh_port, [small, clients.remote("bootflash:keep.bin")]))
    assert sha256(os.path.join(small_fs, "keep.bin")) == sha256(small)
    assert temps(d) == []


def test_sftp_killed_client_mid_upload(d, workdir):
    with open(os.path.join(d.bootflash, "keep.bin"), "wb") as f:
        f.write(b"old")
    src = make_file(os.path.join(workdir, "big.bin"), 8 * MiB, seed=16)
    # scp without -O, with its ssh, in a session of its own: SIGKILL to the whole group
    cmd = (["scp", "-P", str(d.ssh_port)] + clients.ssh_opts(d.ssh_port) +
           ["-l", "1000", src, clients.remote("bootflash:keep.bin")])   # 125 KB/s: in flight
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=clients._env(clients.PASSWORD),
                         start_new_session=True)
    def in_flight():
        try:
            return any(os.path.getsize(os.path.join(d.bootflash, t)) > 0 for t in temps(d))
        except FileNotFoundError:
            return False
    try:
        wait_for(in_flight, what="upload in flight")
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    wait_for(lambda: "upload(s) not closed" in d.log(), what="session end")
    assert open(os.path.join(d.bootflash, "keep.bin"), "rb").read() == b"old"
    assert temps(d) == []


def test_putty_sftp(d, workdir):
    src = make_file(os.path.join(workdir, "w.bin"), 700000, seed=12)
    fp = clients.host_fingerprint(d.data_dir)
    base = ["-batch", "-P", str(d.ssh_port), "-pw", clients.PASSWORD, "-hostkey", fp]
    run = lambda args: subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                                      text=True, timeout=120, cwd=workdir)
    ok(run(["pscp", "-sftp"] + base + [src, clients.remote("bootflash:w.bin")]))
    assert sha256(os.path.join(d.bootflash, "w.bin")) == sha256(src)
    got = os.path.join(workdir, "got.bin")
    ok(run(["pscp", "-sftp"] + base + [clients.remote("w.bin"), got]))
    assert sha256(got) == sha256(src)
    with open(os.path.join(workdir, "psftp.txt"), "w") as f:
        f.write("ls\ncd nvram:\npwd\nget startup-config s.txt\n")
    r = ok(run(["psftp"] + base + ["-b", "psftp.txt", "%s@%s" % (clients.USER, clients.HOST)]))
    assert "w.bin" in r.stdout and "/nvram:" in r.stdout
    assert "hostname" in open(os.path.join(workdir, "s.txt")).read()


# ---- curl sftp:// ------------------------------------------------------------------------------

def test_curl_sftp(d, workdir):
    src = make_file(os.path.join(workdir, "c.bin"), 2 * MiB + 5, seed=6)
    ok(curl(d.ssh_port, ["-T", src], "~/bootflash:c1.bin"))
    ok(curl(d.ssh_port, ["-T", src], "c2.bin"))
    for name in ("c1.bin", "c2.bin"):
        assert sha256(os.path.join(d.bootflash, name)) == sha256(src)
    for path in ("bootflash:c1.bin", "~/c2.bin", "c1.bin"):
        got = os.path.join(workdir, "got.bin")
        ok(curl(d.ssh_port, ["-o", got], path))
        assert sha256(got) == sha256(src), path
    r = ok(curl(d.ssh_port, [], "running-config"))
    assert "ip scp server enable" in r.stdout
    r = curl(d.ssh_port, ["-o", os.path.join(workdir, "x")], "nonexistent.bin")
    assert r.returncode != 0


# ---- paramiko ----------------------------------------------------------------------------------

def test_root_lists_the_file_systems(d, workdir):
    """`ls /` shows the file systems a user can cd into (/bootflash, /flash, /nvram) as
    directories beside the configurations, in OpenSSH sftp and in paramiko; inside /bootflash they
    are not repeated (there they would be ordinary names)."""
    os.mkdir(os.path.join(d.bootflash, "sub"))
    with open(os.path.join(d.nvram, "n.txt"), "w") as f:
        f.write("nv")
    r = ok(sftp_batch(d.ssh_port, workdir, ["ls -l /", "cd /nvram", "pwd", "ls", "cd /flash",
                                            "ls", "ls /bootflash"]))
    lines = r.stdout.splitlines()
    listing = lines[lines.index("sftp> ls -l /") + 1:lines.index("sftp> cd /nvram")]
    names = {ln.split()[-1]: ln for ln in listing}
    for fs in ("bootflash", "flash", "nvram"):
        assert names[fs].startswith("d"), listing
    assert "running-config" in names and "startup-config" in names and "sub" in names
    after = "\n".join(lines[lines.index("sftp> cd /nvram"):])
    assert "n.txt" in after and "Remote working directory: /nvram:" in after
    inner = lines[lines.index("sftp> ls /bootflash") + 1:]
    # sftp prints a plain ls in columns: look at every name, not only each line's last
    names_inner = " ".join(inner).split()
    assert not any(t.endswith(("/nvram", "/flash", "/bootflash")) for t in names_inner), inner

    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        attrs = {a.filename: a for a in s.listdir_attr("/")}
        for fs in ("bootflash", "flash", "nvram"):
            assert stat.S_ISDIR(attrs[fs].st_mode), attrs
        assert "n.txt" in s.listdir("/nvram") and "nvram" not in s.listdir("/nvram")
        assert "sub" in s.listdir("/flash")
        assert "nvram" not in s.listdir("/bootflash")
        s.close()
    finally:
        c.close()


def test_paramiko_sftp(d, workdir):
    src = make_file(os.path.join(workdir, "p.bin"), MiB + 3, seed=7)
    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        assert s.normalize(".") == "/"
        s.put(src, "bootflash:p.bin")
        assert s.stat("p.bin").st_size == MiB + 3
        got = os.path.join(workdir, "got.bin")
        s.get("/p.bin", got)
        assert sha256(got) == sha256(src)
        s.mkdir("pdir")
        s.put(src, "pdir/q.bin")
        assert s.listdir("pdir") == ["q.bin"]
        assert "running-config" in s.listdir("/")
        s.remove("pdir/q.bin")
        assert s.listdir("pdir") == []
        with pytest.raises(IOError):
            s.stat("missing.bin")
        s.rename("p.bin", "r.bin")
        with pytest.raises(IOError) as e:
            s.rename("r.bin", "pdir")          # SFTP v3: an existing target is refused
        assert "exists" in str(e.value)
        s.put(src, "q.bin")
        s.posix_rename("q.bin", "r.bin")       # the OpenSSH extension replaces it
        s.rename("r.bin", "p.bin")
        with s.open("running-config") as f:
            assert b"ip scp server enable" in f.read()
        s.close()
    finally:
        c.close()
    assert sha256(os.path.join(d.bootflash, "p.bin")) == sha256(src)


def test_interrupted_upload_leaves_target(d, workdir):
    with open(os.path.join(d.bootflash, "keep.bin"), "wb") as f:
        f.write(b"old")
    c = clients.paramiko_client(d.ssh_port)
    s = c.open_sftp()
    f = s.open("keep.bin", "wb")
    f.write(b"x" * 300000)
    f.flush()
    c.close()   # gone without CLOSE
    clients.paramiko_client(d.ssh_port).close()   # the daemon is still serving
    for _ in range(50):
        if "upload(s) not closed" in d.log():
            break
        import time
        time.sleep(0.1)
    assert open(os.path.join(d.bootflash, "keep.bin"), "rb").read() == b"old"
    assert temps(d) == []


# ---- refusals ----------------------------------------------------------------------------------

def test_refused_privilege_14(start_daemon, workdir):
    d = start_daemon(config=LOGIN + "username pleb privilege 14 password 0 lab\n"
                     "ip scp server enable\n")
    src = make_file(os.path.join(workdir, "s.bin"), 100, seed=8)
    failed(scp(d.ssh_port, [src, clients.remote("x.bin", user="pleb")]),
           "privilege level 14 is below 15 required for SCP")
    failed(sftp_batch(d.ssh_port, workdir, ["ls"], user="pleb"), "privilege level 14")
    assert not os.path.exists(os.path.join(d.bootflash, "x.bin"))
    assert "sftp refused: privilege level 14" in d.log()


def test_refused_scp_disabled(start_daemon, workdir):
    d = start_daemon(config=LOGIN + "username tiger privilege 15 password 0 lab\n")
    src = make_file(os.path.join(workdir, "s.bin"), 100, seed=9)
    failed(scp(d.ssh_port, [src, clients.remote("x.bin")]),
           "SCP server is disabled (ip scp server enable)")
    r = curl(d.ssh_port, ["-T", src], "x.bin")   # libssh2 sees the session end (no hang)
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(d.bootflash, "x.bin"))


def test_path_escapes(d, workdir):
    outside = os.path.join(workdir, "outside")
    os.mkdir(outside)
    with open(os.path.join(outside, "secret"), "w") as f:
        f.write("secret\n")
    os.symlink(outside, os.path.join(d.bootflash, "link"))
    src = make_file(os.path.join(workdir, "s.bin"), 100, seed=10)
    for path in ("../../etc/passwd", "/etc/passwd", "link/secret", "bootflash:link/secret"):
        got = os.path.join(workdir, "got")
        assert scp(d.ssh_port, [clients.remote(path), got]).returncode != 0, path
        assert not os.path.exists(got)
    for path in ("../escape", "link/evil", "/../escape"):
        assert scp(d.ssh_port, [src, clients.remote(path)]).returncode != 0, path
    r = sftp_batch(d.ssh_port, workdir, ["get ../../etc/passwd pw"])
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(workdir, "pw"))
    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        with pytest.raises(IOError) as e:
            s.open("../../etc/passwd")
        assert "'..' is not allowed" in str(e.value)
        with pytest.raises(IOError) as e:
            s.open("link/secret")
        assert "symbolic links are not followed" in str(e.value)
    finally:
        c.close()
    assert sorted(os.listdir(outside)) == ["secret"]
    assert not os.path.exists(os.path.join(d.data_dir, "escape"))
    assert not os.path.exists(os.path.join(d.data_dir, "fs", "escape"))


# ---- statistics and `debug ip scp` -------------------------------------------------------------

def test_trace_history_and_counters(d, workdir):
    api = Api(d)
    api.debug(True)
    src = make_file(os.path.join(workdir, "t.bin"), 100000, seed=11)
    ok(scp(d.ssh_port, [src, clients.remote("bootflash:t.bin")]))
    ok(scp(d.ssh_port, [clients.remote("t.bin"), os.path.join(workdir, "back.bin")]))
    assert scp(d.ssh_port, [clients.remote("../x"), os.path.join(workdir, "x")]).returncode != 0
    hist = wait_for(lambda: len(api.history()) >= 2 and api.history(), what="history")
    up = [h for h in hist if h["direction"] == "in"]
    down = [h for h in hist if h["direction"] == "out"]
    assert up[0]["path"] == "bootflash:t.bin" and up[0]["result"] == "ok"
    assert int(up[0]["bytes"]) == 100000 and int(down[0]["bytes"]) == 100000
    text = "\n".join(t["text"] for t in api.traces()["trace"])
    for want in ("sftp start user tiger subsystem sftp", "sftp recv INIT version 3",
                 "sftp recv OPEN bootflash:t.bin write creat", "sftp send HANDLE",
                 "sftp recv FSETSTAT bootflash:t.bin flags 0x1",   # scp sets the size last
                 "sftp recv CLOSE bootflash:t.bin: 100000 bytes in 1 writes",
                 "sftp recv CLOSE bootflash:t.bin: 100000 bytes in 1 reads",
                 "'..' is not allowed"):
        assert want in text, want
    m = api.metrics()
    assert 'scpd_transfers_total{direction="in",result="ok"} 1' in m
    assert 'scpd_transfers_total{direction="out",result="ok"} 1' in m
    assert 'scpd_scp_refusals_total{reason="path"} 0' not in m


def test_stop_with_idle_sftp_session(d):
    c = clients.paramiko_client(d.ssh_port)
    s = c.open_sftp()
    assert "running-config" in s.listdir("/")   # then the sftp prompt sits idle
    try:
        assert d.stop() == 0
    finally:
        c.close()
    log = d.log()
    assert "sftp session idle at stop, closing" in log
    assert "still running after" not in log   # not held for the transfers' grace period

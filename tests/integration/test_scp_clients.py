"""Real SCP clients against the real daemon: OpenSSH scp -O, PuTTY pscp -scp, curl scp://,
paramiko + scp.py. Every transfer is checked end to end with SHA-256."""
import os
import select
import sqlite3
import subprocess
import time

import pytest
import scp as scplib

import clients
from clients import download, make_file, ok, sha256, upload

MiB = 1 << 20


@pytest.fixture
def d(start_daemon):
    return start_daemon()


def test_openssh_upload_download(d, workdir):
    src = make_file(os.path.join(workdir, "image.bin"), 3 * MiB + 17, seed=1)
    ok(upload(d.ssh_port, src, "bootflash:image.bin"))
    assert sha256(os.path.join(d.bootflash, "image.bin")) == sha256(src)
    back = os.path.join(workdir, "back.bin")
    ok(download(d.ssh_port, "bootflash:/image.bin", back))
    assert sha256(back) == sha256(src)
    # without the '/': OpenSSH checks the C record's name against "bootflash:image.bin"
    back2 = os.path.join(workdir, "back2.bin")
    ok(download(d.ssh_port, "bootflash:image.bin", back2))
    assert sha256(back2) == sha256(src)


@pytest.mark.parametrize("auth", ["password", "keyboard-interactive"])
def test_openssh_login_methods(d, workdir, auth):
    src = make_file(os.path.join(workdir, "a.bin"), 1000, seed=2)
    ok(upload(d.ssh_port, src, "flash:a.bin", auth=auth))
    assert sha256(os.path.join(d.bootflash, "a.bin")) == sha256(src)


def _all_listeners(d, n, timeout=30):
    """The "ssh listening" lines; conftest returns after the first one."""
    buf = b""
    deadline = time.time() + timeout
    fd = d.proc.stdout.fileno()
    while sum("ssh listening" in l for l in d.stdout_lines) < n and time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            buf += os.read(fd, 4096)
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                d.stdout_lines.append(line.decode())
    return [l for l in d.stdout_lines if "ssh listening" in l]


def test_openssh_ipv6_listener(start_daemon, workdir):
    d = start_daemon(args=["--ssh-listen", "[::1]:0"])
    _all_listeners(d, 2)
    assert any(l.startswith("ssh listening on 127.0.0.1:") for l in d.stdout_lines)
    assert any(l.startswith("ssh listening on [::1]:") for l in d.stdout_lines)
    port6 = [int(l.rsplit(":", 1)[1]) for l in d.stdout_lines if "[::1]" in l][0]
    src = make_file(os.path.join(workdir, "v6.bin"), 100000, seed=3)
    ok(clients.run_scp(port6, [src, clients.remote("bootflash:v6.bin", host="::1")]))
    assert sha256(os.path.join(d.bootflash, "v6.bin")) == sha256(src)


def test_openssh_recursive_tree(d, workdir):
    tree = os.path.join(workdir, "tree")
    files = {}
    for i, rel in enumerate(["a.txt", "sub/b.bin", "sub/deeper/c.bin", "other/d.txt"]):
        p = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        files[rel] = sha256(make_file(p, 1000 * (i + 1) + i, seed=10 + i))
    ok(clients.run_scp(d.ssh_port, ["-r", tree, clients.remote("bootflash:")]))
    for rel, h in files.items():
        assert sha256(os.path.join(d.bootflash, "tree", rel)) == h
    back = os.path.join(workdir, "back")
    os.mkdir(back)
    ok(clients.run_scp(d.ssh_port, ["-r", clients.remote("bootflash:/tree"), back]))
    for rel, h in files.items():
        assert sha256(os.path.join(back, "tree", rel)) == h


def test_openssh_preserve_times(d, workdir):
    src = make_file(os.path.join(workdir, "old.bin"), 5000, seed=4)
    os.utime(src, (1500000000, 1600000000))
    ok(clients.run_scp(d.ssh_port, ["-p", src, clients.remote("bootflash:old.bin")]))
    st = os.stat(os.path.join(d.bootflash, "old.bin"))
    assert int(st.st_mtime) == 1600000000
    back = os.path.join(workdir, "old-back.bin")
    ok(clients.run_scp(d.ssh_port, ["-p", clients.remote("bootflash:/old.bin"), back]))
    assert int(os.stat(back).st_mtime) == 1600000000
    assert sha256(back) == sha256(src)


def test_running_config_download(d, workdir):
    out = os.path.join(workdir, "running.cfg")
    ok(download(d.ssh_port, "running-config", out))
    text = open(out).read()
    assert "ip scp server enable" in text.splitlines()
    assert "username tiger privilege 15 secret 9 $9$" in text
    assert "password 0 lab" not in text
    ok(download(d.ssh_port, "system:running-config", out))
    assert "ip scp server enable" in open(out).read()


def test_config_upload_merges_running_and_is_audited(d, workdir):
    merge = os.path.join(workdir, "merge.cfg")
    with open(merge, "w") as f:
        f.write("hostname R2\nusername lion privilege 15 password 0 roar\n")
    ok(upload(d.ssh_port, merge, "running-config"))
    out = os.path.join(workdir, "running.cfg")
    ok(download(d.ssh_port, "running-config", out))
    lines = open(out).read().splitlines()
    assert "hostname R2" in lines
    assert "ip scp server enable" in lines          # merged, not replaced
    assert any(l.startswith("username lion privilege 15 secret 9 ") for l in lines)
    # the new user logs in at once (config applies to the next login)
    ok(download(d.ssh_port, "running-config", out, user="lion", password="roar"))
    db = sqlite3.connect(os.path.join(d.data_dir, "scpd.db"))
    rows = db.execute("SELECT user, source, peer, target, diff FROM audit WHERE source = 'scp'"
                      ).fetchall()
    db.close()
    assert rows, "no audit row for the scp config copy"
    user, source, peer, target, diff = rows[-1]
    assert (user, target) == ("tiger", "running")
    assert peer.startswith("127.0.0.1:")
    assert "+ hostname R2" in diff


def test_invalid_config_upload_refused_store_untouched(d, workdir):
    bad = os.path.join(workdir, "bad.cfg")
    with open(bad, "w") as f:
        f.write("hostname R3\nip ssh time-out 500\n")
    r = upload(d.ssh_port, bad, "running-config")
    assert r.returncode != 0
    assert "Invalid input" in r.stderr or "out of range" in r.stderr, r.stderr
    out = os.path.join(workdir, "running.cfg")
    ok(download(d.ssh_port, "running-config", out))
    assert "hostname R3" not in open(out).read()


def test_invalid_config_upload_prints_ios_marker_lines(d, workdir):
    """The \\1 line is one line; the full parser errors (line, ^ marker, reason) reach the
    terminal on the channel's stderr, as IOS prints them."""
    bad = os.path.join(workdir, "bad.cfg")
    with open(bad, "w") as f:
        f.write("hostname R3\n!\nip ssh time-out 500\n")
    r = upload(d.ssh_port, bad, "running-config")
    assert r.returncode != 0
    lines = r.stderr.splitlines()
    at = [i for i, l in enumerate(lines) if l.startswith("line 3: ip ssh time-out 500")]
    assert at, r.stderr
    marker = lines[at[0] + 1]
    assert marker.strip() == "^", r.stderr
    # the marker stands under the bad value
    assert marker.index("^") == lines[at[0]].index("500"), r.stderr
    assert "% Invalid input detected at '^' marker" in lines[at[0] + 2], r.stderr


def test_startup_config_both_ways(d, workdir):
    start = os.path.join(workdir, "startup.cfg")
    ok(download(d.ssh_port, "startup-config", start))
    text = open(start).read()
    assert "ip scp server enable" in text
    with open(start, "w") as f:
        f.write(text.replace("hostname scpd", "hostname R9") if "hostname scpd" in text
                else "hostname R9\n" + text)
    ok(upload(d.ssh_port, start, "nvram:startup-config"))
    again = os.path.join(workdir, "startup2.cfg")
    ok(download(d.ssh_port, "startup-config", again))
    assert "hostname R9" in open(again).read().splitlines()
    running = os.path.join(workdir, "running.cfg")
    ok(download(d.ssh_port, "running-config", running))
    assert "hostname R9" not in open(running).read()   # startup replaced, running untouched


def test_pscp_upload_download(d, workdir):
    src = make_file(os.path.join(workdir, "p.bin"), 2 * MiB + 5, seed=5)
    ok(clients.run_pscp(d.ssh_port, d.data_dir, [src, "tiger@127.0.0.1:bootflash:p.bin"]))
    assert sha256(os.path.join(d.bootflash, "p.bin")) == sha256(src)
    back = os.path.join(workdir, "p-back.bin")
    ok(clients.run_pscp(d.ssh_port, d.data_dir, ["tiger@127.0.0.1:bootflash:/p.bin", back]))
    assert sha256(back) == sha256(src)


def test_pscp_wrong_password(d, workdir):
    src = make_file(os.path.join(workdir, "p.bin"), 10, seed=6)
    r = clients.run_pscp(d.ssh_port, d.data_dir, [src, "tiger@127.0.0.1:bootflash:p.bin"],
                         password="nope")
    assert r.returncode != 0
    assert "denied" in (r.stdout + r.stderr).lower()
    assert not os.path.exists(os.path.join(d.bootflash, "p.bin"))


def test_curl_download(d, workdir):
    src = make_file(os.path.join(d.bootflash, "c.bin"), 1 * MiB + 3, seed=7)
    back = os.path.join(workdir, "c-back.bin")
    ok(clients.curl_download(d.ssh_port, "bootflash:c.bin", back))
    assert sha256(back) == sha256(src)
    cfg = os.path.join(workdir, "c-running.cfg")
    ok(clients.curl_download(d.ssh_port, "running-config", cfg))
    assert "ip scp server enable" in open(cfg).read()


# libssh2 (curl) ends an upload with EOF instead of the final "\0" status byte after the data.
def test_curl_upload(d, workdir):
    src = make_file(os.path.join(workdir, "c.bin"), 1 * MiB + 3, seed=7)
    ok(clients.curl_upload(d.ssh_port, src, "bootflash:c.bin"))
    assert sha256(os.path.join(d.bootflash, "c.bin")) == sha256(src)


def test_paramiko_scp_upload_download(d, workdir):
    src = make_file(os.path.join(workdir, "k.bin"), 2 * MiB + 11, seed=8)
    c = clients.paramiko_client(d.ssh_port)
    try:
        with scplib.SCPClient(c.get_transport()) as s:
            s.put(src, "bootflash:k.bin")
        assert sha256(os.path.join(d.bootflash, "k.bin")) == sha256(src)
        back = os.path.join(workdir, "k-back.bin")
        with scplib.SCPClient(c.get_transport()) as s:
            s.get("bootflash:k.bin", back)
        assert sha256(back) == sha256(src)
    finally:
        c.close()


def _key_hash(pub):
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", pub], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1].split(":", 1)[1].replace(":", "").upper()


def test_openssh_publickey(start_daemon, workdir):
    keys = {}
    for name in ("good", "other"):
        path = os.path.join(workdir, name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
        keys[name] = path
    config = ("aaa new-model\naaa authentication login default local\n"
              "aaa authorization exec default local\n"
              "username tiger privilege 15 password 0 lab\nip scp server enable\n"
              "ip ssh pubkey-chain\n username tiger\n  key-hash ssh-ed25519 %s\n exit\nexit\n"
              % _key_hash(keys["good"] + ".pub"))
    d = start_daemon(config=config)
    src = make_file(os.path.join(workdir, "pk.bin"), 4000, seed=9)
    ok(upload(d.ssh_port, src, "bootflash:pk.bin", key=keys["good"], password="unused"))
    assert sha256(os.path.join(d.bootflash, "pk.bin")) == sha256(src)
    r = upload(d.ssh_port, src, "bootflash:pk2.bin", key=keys["other"], password="unused")
    assert r.returncode != 0
    assert "Permission denied" in r.stderr
    assert not os.path.exists(os.path.join(d.bootflash, "pk2.bin"))
    assert "login ok (publickey)" in d.log()

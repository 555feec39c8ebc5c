"""The size of a file system, as an admin sets and meets it: scpd started with
`--fs-size bootflash=1M`, OpenSSH `scp -O` uploads that fit and one that does not, two concurrent
uploads that fit one at a time but not together, and the numbers as the API (scpd:file-systems,
checked with yanglint), /metrics (checked with promtool) and the command line show them."""
import json
import os
import subprocess

import clients
from clients import make_file, sha256
from conftest import LOCAL_AUTH, ROOT, SCPD_BIN
from obs_util import Api, metric

KiB = 1 << 10
MiB = 1 << 20
YANG = os.path.join(ROOT, "api", "yang", "scpd.yang")


def file_systems(api):
    r = api.get("/restconf/data/scpd:file-systems")
    assert r.status_code == 200, r.text
    return {fs["name"]: fs for fs in r.json()["scpd:file-systems"]["file-system"]}


def test_fs_size_limits_uploads_and_shows_in_the_api(start_daemon, workdir):
    d = start_daemon(config=LOCAL_AUTH + "username op privilege 1 password 0 oppw\n",
                     args=["--fs-size", "bootflash=1M", "--fs-size", "nvram=64K"])
    api = Api(d)
    fs = file_systems(api)
    boot = fs["bootflash"]
    assert boot["prefix"] == ["bootflash:", "flash:"] and boot["type"] == "disk"
    assert int(boot["size"]) == MiB and boot["size-set"] is True and boot["read-write"] is True
    assert int(boot["used"]) == 0 and int(boot["free"]) == MiB and int(boot["reserved"]) == 0
    assert int(fs["nvram"]["size"]) == 64 * KiB
    assert fs["system"]["type"] == "opaque" and "size" not in fs["system"]

    # a file that fits; then one that does not: refused with the space named, the old file intact
    old = make_file(os.path.join(workdir, "old.bin"), 100 * KiB, seed=1)
    r = clients.upload(d.ssh_port, old, "bootflash:image.bin")
    assert r.returncode == 0, r.stderr
    big = make_file(os.path.join(workdir, "big.bin"), 2 * MiB, seed=2)
    r = clients.upload(d.ssh_port, big, "flash:image.bin")
    assert r.returncode != 0
    assert "not enough space: 2097152 bytes needed, 946176 free on bootflash:" in r.stderr, r.stderr
    assert "the 102400-byte file it replaces is kept" in r.stderr, r.stderr
    assert sha256(os.path.join(d.bootflash, "image.bin")) == sha256(old)
    assert [n for n in os.listdir(d.bootflash) if n.startswith(".scpd-tmp.")] == []
    boot = file_systems(api)["bootflash"]
    assert int(boot["used"]) == 100 * KiB and int(boot["free"]) == MiB - 100 * KiB

    # the same numbers in /metrics (promtool-valid) and in GET /restconf/data
    text = api.metrics()
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert metric(text, "scpd_fs_size_bytes", '{fs="bootflash"}') == MiB
    assert metric(text, "scpd_fs_used_bytes", '{fs="bootflash"}') == 100 * KiB
    assert metric(text, "scpd_fs_free_bytes", '{fs="bootflash"}') == MiB - 100 * KiB
    assert metric(text, "scpd_fs_size_bytes", '{fs="nvram"}') == 64 * KiB
    data = api.get("/restconf/data").json()["ietf-restconf:data"]
    assert "scpd:file-systems" in data

    # the document is valid scpd.yang data
    path = os.path.join(workdir, "fs.json")
    with open(path, "w") as f:
        json.dump(api.get("/restconf/data/scpd:file-systems").json(), f)
    out = subprocess.run(["yanglint", "-t", "data", YANG, path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr

    # any privilege level may read it (operational state), no credentials may not
    assert Api(d, user="op", password="oppw").get("/restconf/data/scpd:file-systems").status_code == 200
    assert Api(d, user=None).get("/restconf/data/scpd:file-systems").status_code == 401


def test_concurrent_uploads_cannot_share_the_space(start_daemon, workdir):
    """924 KiB free, two 600 KiB uploads at once: exactly one succeeds, whichever is first."""
    d = start_daemon(args=["--fs-size", "bootflash=1M"])
    api = Api(d)
    first = make_file(os.path.join(workdir, "first.bin"), 100 * KiB, seed=3)
    assert clients.upload(d.ssh_port, first, "bootflash:first.bin").returncode == 0
    srcs = [make_file(os.path.join(workdir, "c%d.bin" % i), 600 * KiB, seed=10 + i)
            for i in range(2)]
    procs = [clients.start_scp(d.ssh_port, [src, clients.remote("bootflash:c%d.bin" % i)])
             for i, src in enumerate(srcs)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    ok = [i for i, (rc, _) in enumerate(results) if rc == 0]
    assert len(ok) == 1, results
    lost = 1 - ok[0]
    assert "not enough space: 614400 bytes needed" in results[lost][1], results[lost][1]
    assert sha256(os.path.join(d.bootflash, "c%d.bin" % ok[0])) == sha256(srcs[ok[0]])
    assert not os.path.exists(os.path.join(d.bootflash, "c%d.bin" % lost))
    assert [n for n in os.listdir(d.bootflash) if n.startswith(".scpd-tmp.")] == []
    boot = file_systems(api)["bootflash"]
    assert int(boot["used"]) == 700 * KiB and int(boot["reserved"]) == 0
    assert int(boot["free"]) == MiB - 700 * KiB


def test_fs_size_bad_values_are_usage_errors(workdir):
    for arg in ["bootflash", "system=1M", "running-config=1M", "bootflash=0", "bootflash=1T",
                "bootflash=-1", "nvram=99999999999G", "bootflash=1 G", "bootflash=1 "]:
        # port 0: a value wrongly accepted starts a daemon, which must not take the default ports
        r = subprocess.run([SCPD_BIN, "--data-dir", os.path.join(workdir, "d"),
                            "--ssh-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                            "--fs-size", arg], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (arg, r.stderr)
        assert "--fs-size" in r.stderr, (arg, r.stderr)
    r = subprocess.run([SCPD_BIN, "--help"], capture_output=True, text=True, timeout=30)
    assert "--fs-size NAME=SIZE" in r.stdout


def test_replacing_a_file_over_half_the_size_says_why(start_daemon, workdir):
    """Uploads are atomic, so the file being replaced keeps its space until the new one is
    complete: a file over half the file system cannot be uploaded over itself. The refusal says
    so (and what to do), the old file stays, and after deleting it the upload fits."""
    d = start_daemon(args=["--fs-size", "bootflash=1M"])
    src = make_file(os.path.join(workdir, "img.bin"), 700000, seed=3)
    assert clients.upload(d.ssh_port, src, "bootflash:img.bin").returncode == 0
    src2 = make_file(os.path.join(workdir, "img2.bin"), 700000, seed=4)
    r = clients.upload(d.ssh_port, src2, "bootflash:img.bin")
    assert r.returncode != 0
    assert ("not enough space: 700000 bytes needed, 348576 free on bootflash:; the 700000-byte "
            "file it replaces is kept until the new one is complete: delete it first") in r.stderr, \
        r.stderr
    assert sha256(os.path.join(d.bootflash, "img.bin")) == sha256(src)
    assert os.listdir(d.bootflash) == ["img.bin"]   # no temporary file left behind
    # a new name gets the plain message
    r = clients.upload(d.ssh_port, src2, "bootflash:other.bin")
    assert r.returncode != 0 and "file it replaces" not in r.stderr, r.stderr
    c = clients.paramiko_client(d.ssh_port)   # deleted through scpd (sftp rm), as an admin would
    try:
        c.open_sftp().remove("/bootflash/img.bin")
    finally:
        c.close()
    assert clients.upload(d.ssh_port, src2, "bootflash:img.bin").returncode == 0
    assert sha256(os.path.join(d.bootflash, "img.bin")) == sha256(src2)


def test_start_up_walk_counts_and_cleans_any_depth(start_daemon, workdir):
    """A tree 100 directories deep (deeper than the 64 levels the walk once stopped at), made
    through SFTP, with a file at the bottom and a temporary file a crash left there: after a
    restart the file counts in `used`, the leftover is gone, and the size is enforced with it."""
    d = start_daemon(args=["--fs-size", "bootflash=1M"])
    deep = "/".join(["d"] * 100)
    c = clients.paramiko_client(d.ssh_port)
    sftp = c.open_sftp()
    path = "/bootflash"
    for part in deep.split("/"):
        path += "/" + part
        sftp.mkdir(path)
    with sftp.open(path + "/deep.bin", "wb") as f:
        f.write(b"x" * (600 * KiB))
    sftp.close()
    c.close()
    assert d.stop() == 0
    bottom = os.path.join(d.bootflash, *deep.split("/"))
    leftover = os.path.join(bottom, ".scpd-tmp.crashed")
    with open(leftover, "wb") as f:
        f.write(b"y" * (300 * KiB))

    d = start_daemon(args=["--fs-size", "bootflash=1M"])
    assert not os.path.exists(leftover)
    assert os.path.getsize(os.path.join(bottom, "deep.bin")) == 600 * KiB
    boot = file_systems(Api(d))["bootflash"]
    assert int(boot["used"]) == 600 * KiB and int(boot["free"]) == MiB - 600 * KiB
    src = make_file(os.path.join(workdir, "more.bin"), 500 * KiB, seed=5)
    r = clients.upload(d.ssh_port, src, "bootflash:more.bin")
    assert r.returncode != 0
    assert "not enough space: 512000 bytes needed, 434176 free on bootflash:" in r.stderr, r.stderr

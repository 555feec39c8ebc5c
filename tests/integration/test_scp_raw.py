"""Hostile SCP protocol bytes over a real SSH exec channel (paramiko) against the real daemon:
what no well-behaved client sends. Each case checks the \\1/\\2 reply the client would print and
that nothing was written outside (or, for refusals, inside) the file system's root."""
import os
import time

import pytest

import clients
from clients import raw_scp, read_reply


@pytest.fixture
def d(start_daemon):
    return start_daemon(http=False)


def tree(root):
    """Every path below root (relative), for 'nothing was written' checks."""
    out = set()
    for base, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(base, n), root))
    return out


def session(d, command):
    c, ch = raw_scp(d.ssh_port, command)
    return c, ch


def finish(c, ch):
    """Exit status of the channel (the SCP session's result), then close."""
    ch.shutdown_write()
    status = ch.recv_exit_status()
    c.close()
    return status


def wait_until(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


HOSTILE = [
    (b"C0644 4 ../evil\n", "file name contains '/'"),
    (b"C0644 4 sub/evil\n", "file name contains '/'"),
    (b"C0644 4 /etc/evil\n", "file name contains '/'"),
    (b"C0644 4 ..\n", "'.' or '..'"),
    (b"C0644 4 a\x1bb\n", "control character"),
    (b"C0644 99999999999999999999 x\n", "bad size"),
    (b"C0644 -4 x\n", "bad size"),
    (b"C644 4 x\n", "bad mode"),
    (b"Cxyz\n", "bad mode"),
    (b"D0755 0 d\n", "without -r"),
    (b"\x00\x00garbage", "unknown record type"),
    (b"Q" * 5000, "unknown record"),
]


@pytest.mark.parametrize("record,reason", HOSTILE, ids=[r[1] + "-%d" % i for i, r in
                                                        enumerate(HOSTILE)])
def test_hostile_record_refused(d, record, reason):
    before = tree(d.data_dir)
    c, ch = session(d, "scp -t bootflash:")
    assert read_reply(ch) == (0, "")
    ch.sendall(record + b"data")
    code, msg = read_reply(ch)
    assert code == 2, msg
    assert reason in msg
    assert msg.startswith("scp: protocol error")
    assert finish(c, ch) == 1
    assert tree(d.data_dir) - before <= {"scpd.db-wal", "scpd.db-shm"}
    assert os.listdir(d.bootflash) == []


def test_name_with_newline_cannot_smuggle(d):
    """A newline ends the record: 'a' is announced with 1 byte ('b'), then '\\n' is not a status."""
    c, ch = session(d, "scp -t bootflash:")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"C0644 1 a\nb\nc\n\x00")
    assert read_reply(ch) == (0, "")
    code, msg = read_reply(ch)
    assert code == 2 and "instead of a status" in msg
    assert finish(c, ch) == 1
    assert os.listdir(d.bootflash) == []


def test_depth_bomb(d):
    c, ch = session(d, "scp -r -t bootflash:")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"D0755 0 d\n" * 40)
    for _ in range(32):
        assert read_reply(ch) == (0, "")
    code, msg = read_reply(ch)
    assert code == 2 and "deeper than 32" in msg
    assert finish(c, ch) == 1
    # the 32 directories that were accepted stay, nothing deeper
    depth = 0
    p = d.bootflash
    while os.path.isdir(os.path.join(p, "d")):
        p = os.path.join(p, "d")
        depth += 1
    assert depth == 32


@pytest.mark.parametrize("command,reason", [
    ("scp -t ../x", "'..' is not allowed"),
    ("scp -t bootflash:../../x", "'..' is not allowed"),
    ("scp -t /etc", "absolute host paths are not allowed"),
    ("scp -f /etc/passwd", "absolute host paths are not allowed"),
    ("scp -f bootflash:../scpd.db", "'..' is not allowed"),
    ("scp -f tftp:x", "Invalid file system"),
    ("scp -t 'bootflash:a\x01b'", "control character"),
])
def test_path_escape_refused(d, command, reason):
    c, ch = session(d, command)
    if " -f " in command:
        ch.sendall(b"\x00")
    code, msg = read_reply(ch)
    assert code == 1, msg
    assert reason in msg
    assert finish(c, ch) == 1


def test_symlink_out_of_root_refused(d, workdir):
    outside = os.path.join(workdir, "outside")
    os.mkdir(outside)
    with open(os.path.join(outside, "secret"), "w") as f:
        f.write("secret")
    os.symlink(outside, os.path.join(d.bootflash, "link"))
    # download through the link
    c, ch = session(d, "scp -f bootflash:link/secret")
    ch.sendall(b"\x00")
    code, msg = read_reply(ch)
    assert code == 1 and "symbolic link" in msg
    assert finish(c, ch) == 1
    # upload through the link, and onto the link itself
    for command, record in (("scp -t bootflash:link", b"C0644 1 x\n"),
                            ("scp -t bootflash:", b"C0644 1 link\n")):
        c, ch = session(d, command)
        code, msg = read_reply(ch)
        if code == 0:
            ch.sendall(record)
            code, msg = read_reply(ch)
        assert code == 1 and "symbolic link" in msg, msg
        assert finish(c, ch) == 1
    assert os.listdir(outside) == ["secret"]
    assert os.path.islink(os.path.join(d.bootflash, "link"))


def test_upload_larger_than_file_system(d):
    c, ch = session(d, "scp -t bootflash:")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"C0644 9000000000000000000 huge.bin\n")
    code, msg = read_reply(ch)
    assert code == 1 and "not enough space" in msg
    # the session goes on: a small file after the refused one is accepted
    ch.sendall(b"C0644 2 ok.bin\n")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"ok\x00")
    assert read_reply(ch) == (0, "")
    assert finish(c, ch) == 1
    assert sorted(os.listdir(d.bootflash)) == ["ok.bin"]


def test_connection_dropped_mid_upload(d):
    with open(os.path.join(d.bootflash, "image.bin"), "wb") as f:
        f.write(b"old image")
    c, ch = session(d, "scp -t bootflash:")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"C0644 1000000 image.bin\n")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"x" * 100000)
    assert wait_until(lambda: any(n.startswith(".scpd-tmp.") for n in os.listdir(d.bootflash)))
    c.get_transport().sock.close()   # the client dies: no EOF, no status
    c.close()
    assert wait_until(lambda: os.listdir(d.bootflash) == ["image.bin"])
    with open(os.path.join(d.bootflash, "image.bin"), "rb") as f:
        assert f.read() == b"old image"


def test_client_error_after_data_keeps_old_file(d):
    with open(os.path.join(d.bootflash, "f.txt"), "wb") as f:
        f.write(b"old")
    c, ch = session(d, "scp -t bootflash:f.txt")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"C0644 3 f.txt\n")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"new\x01scp: f.txt: read error\n")
    code, msg = read_reply(ch)
    assert code == 1 and "not changed" in msg
    assert finish(c, ch) == 1
    with open(os.path.join(d.bootflash, "f.txt"), "rb") as f:
        assert f.read() == b"old"
    assert os.listdir(d.bootflash) == ["f.txt"]


def test_raw_upload_and_download_round_trip(d):
    """The protocol as OpenSSH speaks it, byte for byte, including -p times and a tree."""
    c, ch = session(d, "scp -r -p -t bootflash:")
    assert read_reply(ch) == (0, "")
    for rec in (b"T1500000000 0 1500000000 0\n", b"D0750 0 top\n",
                b"T1600000000 0 1600000000 0\n", b"C0640 5 a.txt\n"):
        ch.sendall(rec)
        assert read_reply(ch) == (0, ""), rec
    ch.sendall(b"hello\x00")
    assert read_reply(ch) == (0, "")
    ch.sendall(b"E\n")
    assert read_reply(ch) == (0, "")
    assert finish(c, ch) == 0
    st = os.stat(os.path.join(d.bootflash, "top", "a.txt"))
    assert st.st_mtime == 1600000000 and (st.st_mode & 0o777) == 0o640
    assert os.stat(os.path.join(d.bootflash, "top")).st_mtime == 1500000000

    c, ch = session(d, "scp -r -p -f bootflash:top")
    got = b""
    ch.sendall(b"\x00")
    while True:
        rec = b""
        while not rec.endswith(b"\n"):
            b = ch.recv(1)
            if not b:
                break
            rec += b
        if not rec:
            break
        got += rec
        ch.sendall(b"\x00")
        if rec.startswith(b"C"):
            size = int(rec.split()[1])
            data = b""
            while len(data) < size + 1:
                data += ch.recv(size + 1 - len(data))
            got += data
            ch.sendall(b"\x00")
    assert finish(c, ch) == 0
    assert got == (b"T1500000000 0 1500000000 0\nD0750 0 top\n"
                   b"T1600000000 0 1600000000 0\nC0640 5 a.txt\nhello\x00E\n")


@pytest.mark.parametrize("path,name", [
    ("bootflash:f.txt", b"f.txt"),
    ("flash:f.txt", b"f.txt"),
    ("bootflash:sub/g.txt", b"g.txt"),
    ("bootflash:running-config", b"running-config"),   # the disk file of that name
    ("running-config", b"running-config"),
    ("system:running-config", b"running-config"),
])
def test_download_record_name_is_the_basename(d, path, name):
    """A client other than OpenSSH's scp (here paramiko) gets the file's own name in the C record,
    without file system or directories: what it may create locally (no ':' on Windows)."""
    os.mkdir(os.path.join(d.bootflash, "sub"))
    for rel in ("f.txt", "sub/g.txt", "running-config"):
        with open(os.path.join(d.bootflash, rel), "w") as f:
            f.write("content of %s\n" % rel)
    c, ch = session(d, "scp -f " + path)
    ch.sendall(b"\x00")
    rec = b""
    while not rec.endswith(b"\n"):
        b = ch.recv(1)
        assert b, rec
        rec += b
    assert rec.startswith(b"C0") and rec.split(b" ", 2)[2] == name + b"\n", rec
    c.close()


@pytest.mark.parametrize("path,local_name", [
    ("bootflash:f.txt", "bootflash:f.txt"),   # OpenSSH names the copy after the whole request
    ("bootflash:/f.txt", "f.txt"),
    ("flash:sub/g.txt", "g.txt"),
    ("bootflash:sub/g.txt", "g.txt"),
    ("running-config", "running-config"),
])
def test_openssh_download_name_check(d, workdir, path, local_name):
    """OpenSSH's scp -O refuses a file whose name is not the one it asked for ("filename does not
    match request", the CVE-2019-6111 check, its scp.c sink()): every path form must pass it, so
    OpenSSH alone gets the last '/'-component of its request ("bootflash:f.txt") as the name."""
    os.mkdir(os.path.join(d.bootflash, "sub"))
    for rel in ("f.txt", "sub/g.txt"):
        with open(os.path.join(d.bootflash, rel), "w") as f:
            f.write("content of %s\n" % rel)
    dest = os.path.join(workdir, "dl")
    os.mkdir(dest)
    r = clients.download(d.ssh_port, path, dest)
    assert r.returncode == 0, r.stderr
    assert os.listdir(dest) == [local_name]

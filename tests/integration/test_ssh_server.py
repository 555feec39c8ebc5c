"""The SSH door itself: clean stop with transfers running, a stalled client at stop, per-session
channel limit, over-long exec commands, the config read per login, and the share of
unauthenticated sessions one source may hold."""
import os
import re
import signal
import socket
import time

import paramiko
import pytest

import clients
from clients import make_file, sha256

MiB = 1 << 20


@pytest.fixture
def d(start_daemon):
    return start_daemon()


def _wait_log(d, text, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in d.log():
            return True
        time.sleep(0.05)
    return False


def test_stop_lets_running_transfer_finish(start_daemon, workdir):
    """SIGTERM while an upload is half sent: the upload goes on and completes intact within the
    stop grace period. The client sends the first half, waits for the daemon to say it is
    stopping, then sends the rest, so the transfer is running at SIGTERM by construction."""
    d = start_daemon()
    src = make_file(os.path.join(workdir, "slow.bin"), 2 * MiB, seed=1)
    with open(src, "rb") as f:
        data = f.read()
    half = len(data) // 2
    c, ch = clients.raw_scp(d.ssh_port, "scp -t bootflash:slow.bin")
    try:
        assert clients.read_reply(ch) == (0, "")
        ch.sendall(b"C0644 %d slow.bin\n" % len(data))
        assert clients.read_reply(ch) == (0, "")
        ch.sendall(data[:half])
        d.proc.send_signal(signal.SIGTERM)
        assert _wait_log(d, "SIGTERM received, stopping")
        assert d.proc.poll() is None
        assert not os.path.exists(os.path.join(d.bootflash, "slow.bin"))  # not finished yet
        ch.sendall(data[half:])
        ch.sendall(b"\0")
        assert clients.read_reply(ch) == (0, "")
        ch.shutdown_write()
        assert ch.recv_exit_status() == 0
    finally:
        c.close()
    assert d.proc.wait(timeout=60) == 0
    assert sha256(os.path.join(d.bootflash, "slow.bin")) == sha256(src)
    assert "still running after" not in d.log()
    # no new sessions after the stop
    r = clients.upload(d.ssh_port, src, "bootflash:late.bin", extra=["-o", "ConnectTimeout=5"])
    assert r.returncode != 0


def test_stop_with_a_stalled_reader(start_daemon, workdir):
    """A client that stops reading a download cannot hold the daemon: after the grace period the
    session is cut and the daemon exits 0 (the fixture checks the exit code)."""
    d = start_daemon()
    make_file(os.path.join(d.bootflash, "big.bin"), 64 * MiB, seed=2)
    c, ch = clients.raw_scp(d.ssh_port, "scp -f bootflash:big.bin")
    try:
        ch.sendall(b"\0")                    # ready: the server sends the C record and data
        assert ch.recv(1) == b"C"
        time.sleep(1)                        # ... and we never read again: windows fill up
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=60) == 0
    finally:
        c.close()
    assert "still running after" in d.log()


def test_channel_limit_per_session(d):
    c = clients.paramiko_client(d.ssh_port)
    try:
        t = c.get_transport()
        chans = [t.open_session() for _ in range(4)]   # LIM_CHANNELS_PER_SESSION
        with pytest.raises(paramiko.ChannelException):
            t.open_session()
        for ch in chans:
            ch.close()
        # closed channels free their slots
        deadline = time.time() + 30
        while True:
            try:
                t.open_session().close()
                break
            except paramiko.ChannelException:
                assert time.time() < deadline, "channel slots not released"
                time.sleep(0.2)
    finally:
        c.close()
    assert "ssh channel refused: limit of 4 channels per session" in d.log()


def test_overlong_exec_command(d):
    c, ch = clients.raw_scp(d.ssh_port, "scp -t bootflash:" + "a" * 5000)
    try:
        code, msg = clients.read_reply(ch)
        assert code == 1 and "command line too long" in msg, (code, msg)
        assert ch.recv_exit_status() == 1
    finally:
        c.close()


def test_sequential_channels_on_one_session(d, workdir):
    """scp.py opens a new channel per transfer on one connection: each is served in turn."""
    import scp as scplib
    src = make_file(os.path.join(workdir, "s.bin"), 50000, seed=3)
    c = clients.paramiko_client(d.ssh_port)
    try:
        for i in range(3):
            with scplib.SCPClient(c.get_transport()) as s:
                s.put(src, "bootflash:s%d.bin" % i)
    finally:
        c.close()
    for i in range(3):
        assert sha256(os.path.join(d.bootflash, "s%d.bin" % i)) == sha256(src)


def test_config_change_applies_to_next_login(d, workdir):
    """Disabling SCP through a config copy refuses the next session, without a restart."""
    off = os.path.join(workdir, "off.cfg")
    with open(off, "w") as f:
        f.write("no ip scp server enable\n")
    r = clients.upload(d.ssh_port, off, "running-config")
    assert r.returncode == 0, r.stderr
    src = make_file(os.path.join(workdir, "x.bin"), 100, seed=4)
    r = clients.upload(d.ssh_port, src, "bootflash:x.bin")
    assert r.returncode != 0
    assert "SCP server is disabled (ip scp server enable)" in r.stderr


# ---- unauthenticated sessions per source (base/lim.h: LIM_PENDING_PER_SOURCE 8) ---------------

PENDING_PER_SOURCE = 8


def _login_from(port, source):
    sock = clients.connect_from(port, source)
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=port, username=clients.USER, password=clients.PASSWORD, sock=sock,
              look_for_keys=False, allow_agent=False, timeout=30, banner_timeout=30,
              auth_timeout=30)
    return c


def test_one_source_cannot_fill_the_unauthenticated_pool(d, workdir):
    """A source holding idle connections takes its own share of the pre-auth pool only: others
    log in and copy at once; its next connection waits, unread, until one of its own ends."""
    conns = []
    try:
        for _ in range(PENDING_PER_SOURCE):
            conns.append(clients.connect_from(d.ssh_port, "127.0.0.2"))
        for s in conns:
            assert s.recv(100).startswith(b"SSH-2.0-")
        extra = clients.connect_from(d.ssh_port, "127.0.0.2")
        conns.append(extra)
        assert _wait_log(d, "ssh connection waits: 8 unauthenticated sessions from 127.0.0.2")
        src = make_file(os.path.join(workdir, "other.bin"), 5000, seed=3)
        r = clients.upload(d.ssh_port, src, "bootflash:other.bin")
        assert r.returncode == 0, r.stderr
        assert sha256(os.path.join(d.bootflash, "other.bin")) == sha256(src)
        c = _login_from(d.ssh_port, "127.0.0.3")
        c.close()
        # all that while, the ninth connection of 127.0.0.2 got no byte
        extra.setblocking(False)
        with pytest.raises(BlockingIOError):
            extra.recv(100)
        extra.setblocking(True)
        conns[0].close()
        assert extra.recv(100).startswith(b"SSH-2.0-")   # its turn came
    finally:
        for s in conns:
            s.close()
    # the source is not punished afterwards
    c = _login_from(d.ssh_port, "127.0.0.2")
    c.close()
    assert "ssh connection refused" not in d.log()


PENDING_HANDSHAKES = 64   # base/lim.h: LIM_PENDING_HANDSHAKES


def test_a_full_unauthenticated_pool_says_why(d):
    """Over LIM_PENDING_HANDSHAKES the connection is refused before the key exchange, and the
    client is told why: OpenSSH prints the SSH_MSG_DISCONNECT (reason 5, too many connections)."""
    conns = []
    try:
        # 8 sources x 8 idle connections that never send a version string fill the pool
        for i in range(PENDING_HANDSHAKES // PENDING_PER_SOURCE):
            for _ in range(PENDING_PER_SOURCE):
                conns.append(clients.connect_from(d.ssh_port, "127.0.0.%d" % (2 + i)))
        for s in conns:
            assert s.recv(100).startswith(b"SSH-2.0-")
        r = clients.run_ssh(d.ssh_port, "show clock", extra=("-o", "BatchMode=yes"))
        assert r.returncode != 0
        assert ("Received disconnect from 127.0.0.1 port %d:5: too many unauthenticated SSH "
                "sessions (limit 64), try again later" % d.ssh_port) in r.stderr, r.stderr
        # a raw client reads our version string, then the disconnect packet
        s = clients.connect_from(d.ssh_port, "127.0.0.1")
        data = b""
        while True:
            b = s.recv(1000)
            if not b:
                break
            data += b
        s.close()
        ident, _, pkt = data.partition(b"\r\n")
        assert ident.startswith(b"SSH-2.0-libssh_")
        assert len(pkt) % 8 == 0 and pkt[5] == 1 and pkt[6:10] == b"\0\0\0\5"
        # paramiko reports the same text
        with pytest.raises(paramiko.SSHException):
            _login_from(d.ssh_port, "127.0.0.1")
        assert "ssh connection refused: too many unauthenticated SSH sessions" in d.log()
    finally:
        for s in conns:
            s.close()


def test_an_ipv6_source_is_its_64(start_daemon):
    """Per-source limits count an IPv6 client by its /64 (one host's share of a LAN)."""
    d = start_daemon(args=["--ssh-listen", "[::1]:0"])
    port = next(int(m.group(1)) for m in (re.match(r"ssh listening on \[::1\]:(\d+)$", line)
                                          for line in d.stdout_lines) if m)
    conns = []
    try:
        for _ in range(PENDING_PER_SOURCE + 1):
            s = socket.create_connection(("::1", port), timeout=30)
            conns.append(s)
        for s in conns[:PENDING_PER_SOURCE]:
            assert s.recv(100).startswith(b"SSH-2.0-")
        assert _wait_log(d, "ssh connection waits: 8 unauthenticated sessions from ::/64")
    finally:
        for s in conns:
            s.close()

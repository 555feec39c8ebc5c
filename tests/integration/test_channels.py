"""Channels of one SSH connection are served at the same time (issue 15): an exec or a second scp
while an SFTP channel is open, as OpenSSH ControlMaster, Ansible's persistent connections and
paramiko clients that open several channels do. Up to LIM_CHANNELS_PER_SESSION (4)."""
import os
import subprocess
import tempfile
import time

import pytest

import clients
from clients import make_file, ok, read_reply, sha256

MiB = 1 << 20


@pytest.fixture
def d(start_daemon):
    return start_daemon()


def test_paramiko_exec_while_sftp_open(d, workdir):
    src = make_file(os.path.join(workdir, "a.bin"), MiB + 5, seed=3)
    c = clients.paramiko_client(d.ssh_port)
    try:
        s = c.open_sftp()
        s.put(src, "bootflash:a.bin")
        # a second channel while the SFTP channel stays open
        ch = c.get_transport().open_session()
        ch.settimeout(30)
        ch.exec_command("show privilege")
        assert b"Current privilege level is 15" in ch.makefile().read()
        assert ch.recv_exit_status() == 0
        # and a download over raw SCP on a third channel, still with SFTP open
        ch2 = c.get_transport().open_session()
        ch2.settimeout(30)
        ch2.exec_command("scp -f bootflash:a.bin")
        ch2.sendall(b"\0")
        hdr = b""
        while not hdr.endswith(b"\n"):
            hdr += ch2.recv(1)
        assert hdr.startswith(b"C0") and hdr.rstrip().endswith(b"a.bin"), hdr
        size = int(hdr.split()[1])
        ch2.sendall(b"\0")
        got = b""
        while len(got) < size + 1:
            chunk = ch2.recv(1 << 20)
            assert chunk
            got += chunk
        ch2.sendall(b"\0")
        assert ch2.recv_exit_status() == 0
        with open(src, "rb") as f:
            assert got[:size] == f.read()
        # the SFTP channel still works
        assert s.stat("a.bin").st_size == MiB + 5
        s.close()
    finally:
        c.close()


def test_paramiko_two_uploads_interleaved(d, workdir):
    """Two SFTP channels of one connection, each with a file open for writing at once."""
    c = clients.paramiko_client(d.ssh_port)
    try:
        s1 = c.open_sftp()
        s2 = c.open_sftp()
        f1 = s1.open("bootflash:one.bin", "w")
        f2 = s2.open("bootflash:two.bin", "w")
        for i in range(64):
            f1.write(b"1" * 4096)
            f2.write(b"2" * 4096)
        f1.close()
        f2.close()
        assert s1.stat("two.bin").st_size == s2.stat("one.bin").st_size == 64 * 4096
    finally:
        c.close()


def test_channel_limit_refused_then_served(d):
    """A fifth channel over LIM_CHANNELS_PER_SESSION is refused; the four open ones work."""
    import paramiko
    c = clients.paramiko_client(d.ssh_port)
    try:
        sftps = [c.open_sftp() for _ in range(4)]
        with pytest.raises(paramiko.ChannelException):
            c.get_transport().open_session(timeout=30)
        for s in sftps:
            assert "running-config" in s.listdir("/")
    finally:
        c.close()


def test_openssh_controlmaster_sftp_then_scp(d, workdir):
    sock = os.path.join(tempfile.mkdtemp(prefix="cm-"), "m")
    opts = clients.ssh_opts(d.ssh_port) + ["-o", "ControlPath=" + sock]
    dest = "%s@%s" % (clients.USER, clients.HOST)
    master = subprocess.Popen(["ssh", "-p", str(d.ssh_port), "-M", "-N"] + opts + [dest],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=clients._env(clients.PASSWORD))
    sftp = None
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            assert master.poll() is None, master.stderr.read()
            assert time.time() < deadline, "no control socket"
            time.sleep(0.1)
        src = make_file(os.path.join(workdir, "cm.bin"), 3 * MiB, seed=9)
        # an interactive sftp through the master; it stays open
        sftp = subprocess.Popen(["sftp", "-P", str(d.ssh_port)] + opts + [dest],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=workdir,
                                env=clients._env(clients.PASSWORD))
        sftp.stdin.write("put cm.bin bootflash:cm.bin\n")
        sftp.stdin.flush()
        deadline = time.time() + 60
        while not (os.path.exists(os.path.join(d.bootflash, "cm.bin")) and
                   os.path.getsize(os.path.join(d.bootflash, "cm.bin")) == 3 * MiB):
            assert sftp.poll() is None, sftp.stderr.read()
            assert time.time() < deadline, "sftp put did not finish"
            time.sleep(0.1)
        # scp -O through the same master while sftp is still open
        got = os.path.join(workdir, "back.bin")
        r = subprocess.run(["scp", "-O", "-P", str(d.ssh_port)] + opts +
                           [clients.remote("bootflash:cm.bin"), got],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           env=clients._env(clients.PASSWORD), timeout=120)
        ok(r)
        assert sha256(got) == sha256(src)
        out, err = sftp.communicate("bye\n", timeout=60)
        assert sftp.returncode == 0, err
    finally:
        if sftp and sftp.poll() is None:
            sftp.kill()
        subprocess.run(["ssh", "-S", sock, "-O", "exit", dest], capture_output=True, timeout=30)
        master.kill()
        master.wait()

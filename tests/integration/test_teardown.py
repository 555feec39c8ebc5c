"""Sessions ended abruptly leave nothing behind (issue 15, soak finding: sessions and descriptors
still held after every client had gone): OpenSSH scp, sftp and shells killed with SIGKILL
mid-transfer or at the prompt, paramiko SFTP, shells and multi-channel connections whose socket
is closed under them, connections dropped during the key exchange. The daemon's session count
(`sessions-active`, what `show users` lists) and its open descriptors (/proc/PID/fd) come back to
what they were before, within a deadline: 90 s, beyond `ip ssh time-out 20`, the bound the daemon
keeps a connection that has not logged in (one whose client vanished included) by design."""
import os
import signal
import socket
import subprocess
import threading
import time

import paramiko
import requests

import clients
from conftest import TWO_ADMINS

CONFIG = TWO_ADMINS + "ip ssh time-out 20\n"


# One keep-alive HTTP connection for every count: a new connection per request left the daemon's
# side of the last one open for a moment after the client closed it, and the descriptor count read
# right after included it (one socket over the baseline, every time, on a loaded machine).
HTTP = requests.Session()


def active(d):
    r = HTTP.get("http://127.0.0.1:%d/restconf/data/scpd:scp-state?limit=1" % d.http_port,
                 auth=("boss", "bosspw"), timeout=30)
    return int(r.json()["scpd:scp-state"]["sessions-active"])


def fds(d):
    return len(os.listdir("/proc/%d/fd" % d.proc.pid))


def fd_list(d):
    out = []
    for f in os.listdir("/proc/%d/fd" % d.proc.pid):
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (d.proc.pid, f)))
        except OSError:
            pass
    return sorted(out)


def wait_for(pred, limit):
    deadline = time.time() + limit
    while time.time() < deadline and not pred():
        time.sleep(0.2)
    return pred()


def openssh(d, workdir, prog, args, source):
    """An OpenSSH client in a process group of its own (killpg reaches scp's ssh too)."""
    cmd = [prog] + args[0] + clients.ssh_opts(d.ssh_port, extra=["-o", "BindAddress=" + source])
    cmd += args[1]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=clients._env("lab"), cwd=workdir,
                            start_new_session=True)


def paramiko_on(d, source):
    s = socket.socket()
    s.settimeout(30)
    s.bind((source, 0))
    s.connect(("127.0.0.1", d.ssh_port))
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=d.ssh_port, username="tiger", password="lab", sock=s,
              look_for_keys=False, allow_agent=False, timeout=30)
    return c, s


def sftp_writer(c, name):
    """Writes a large file until the socket goes away under it."""
    try:
        with c.open_sftp().open("bootflash:" + name, "wb") as f:
            for _ in range(4096):
                f.write(b"x" * 32768)
    except Exception:  # noqa: BLE001 - the abrupt end is the point
        pass


def test_abrupt_ends_leave_no_session_and_no_descriptor(start_daemon, workdir):
    d = start_daemon(config=CONFIG)
    big = os.path.join(workdir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(4 << 20))
    with open(big, "rb") as src, open(os.path.join(d.bootflash, "big.bin"), "wb") as dst:
        dst.write(src.read())
    # one complete transfer first: descriptors the daemon opens once (logs, store) are in the
    # baseline
    assert clients.upload(d.ssh_port, big, "bootflash:warm.bin").returncode == 0
    assert wait_for(lambda: active(d) == 0, 60)
    base_fds = fds(d)
    base_list = fd_list(d)

    sources = ["127.0.0.%d" % i for i in range(20, 28)]
    procs, socks, threads = [], [], []
    for i in range(4):   # throttled scp: still moving when killed
        procs.append(openssh(d, workdir, "scp", (["-O", "-l", "800", "-P", str(d.ssh_port)],
                             [big, "tiger@127.0.0.1:bootflash:up%d.bin" % i]), sources[i % 8]))
        procs.append(openssh(d, workdir, "scp", (["-O", "-l", "800", "-P", str(d.ssh_port)],
                             ["tiger@127.0.0.1:bootflash:big.bin", "dl%d.bin" % i]),
                             sources[(i + 1) % 8]))
    for i in range(3):
        procs.append(openssh(d, workdir, "sftp", (["-P", str(d.ssh_port)], ["tiger@127.0.0.1"]),
                             sources[(i + 2) % 8]))
        procs.append(openssh(d, workdir, "ssh", (["-tt", "-p", str(d.ssh_port)],
                                                 ["tiger@127.0.0.1"]), sources[(i + 3) % 8]))
    for i in range(4):   # paramiko SFTP mid-upload
        c, s = paramiko_on(d, sources[(i + 4) % 8])
        socks.append((c, s))
        t = threading.Thread(target=sftp_writer, args=(c, "pw%d.bin" % i), daemon=True)
        t.start()
        threads.append(t)
    for i in range(3):   # shells, and connections with several channels at once
        c, s = paramiko_on(d, sources[(i + 5) % 8])
        socks.append((c, s))
        c.invoke_shell()
        if i:
            c.open_sftp()
            ch = c.get_transport().open_session()
            ch.exec_command("show version")
    raw = []
    for i in range(3):   # dropped during the key exchange
        s = clients.connect_from(d.ssh_port, sources[(i + 6) % 8])
        s.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        raw.append(s)

    want = len(procs) + len(socks)
    assert wait_for(lambda: active(d) >= want, 120), "only %d of %d sessions opened" % (
        active(d), want)
    time.sleep(1)   # transfers under way
    for p in procs:
        os.killpg(p.pid, signal.SIGKILL)
    for c, s in socks:
        s.shutdown(socket.SHUT_RDWR)
        s.close()
    for s in raw:
        s.close()
    for p in procs:
        p.wait(timeout=30)
    for c, s in socks:
        c.close()

    ok = wait_for(lambda: active(d) == 0 and fds(d) <= base_fds, 90)
    assert ok, "after the clients ended: %d sessions, %d descriptors %s (before: 0, %d %s)" % (
        active(d), fds(d), fd_list(d), base_fds, base_list)
    # and the daemon still serves
    r = clients.upload(d.ssh_port, big, "bootflash:after.bin")
    assert r.returncode == 0, r.stderr

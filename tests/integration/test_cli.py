"""The EXEC command line over SSH, as scripts and admins use it: netmiko's ConnectHandler and
file_transfer (cisco_ios) for puts and gets, with and without overwrite and MD5 verification,
paramiko's invoke_shell for what a terminal user sees, OpenSSH's ssh for one-command exec
requests. Every transferred file is checked end to end with SHA-256."""
import os
import re
import subprocess
import time

import paramiko
import pytest

import clients
from clients import download, make_file, sha256

CONFIG = """\
hostname R1
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
username guest privilege 1 password 0 lab
ip scp server enable
"""


@pytest.fixture
def d(start_daemon):
    return start_daemon(config=CONFIG)


# ---- netmiko ------------------------------------------------------------------------------------

def test_netmiko_file_transfer(d, workdir):
    """One netmiko session: every branch of file_transfer that a cisco_ios device takes."""
    from netmiko import ConnectHandler, file_transfer
    cwd = os.getcwd()   # restored: a later test's tools must not run in a removed directory
    conn = ConnectHandler(device_type="cisco_ios", host=clients.HOST, port=d.ssh_port,
                          username=clients.USER, password=clients.PASSWORD)
    try:
        assert conn.base_prompt == "R1"
        src = make_file(os.path.join(workdir, "img.bin"), 300000, seed=7)
        os.chdir(workdir)   # file_transfer's get checks the free space of "."

        # put a new file: dir (exists? free space), scp, verify /md5
        r = file_transfer(conn, source_file=src, dest_file="img.bin", file_system="bootflash:",
                          direction="put")
        assert r == {"file_exists": True, "file_transferred": True, "file_verified": True}
        assert sha256(os.path.join(d.bootflash, "img.bin")) == sha256(src)

        # the same file again: the MD5 matches, nothing is sent (file system auto-detected)
        mtime = os.stat(os.path.join(d.bootflash, "img.bin")).st_mtime_ns
        r = file_transfer(conn, source_file=src, dest_file="img.bin", direction="put")
        assert r == {"file_exists": True, "file_transferred": False, "file_verified": True}
        assert os.stat(os.path.join(d.bootflash, "img.bin")).st_mtime_ns == mtime

        # a changed local file: refused without overwrite, sent and verified with it
        src2 = make_file(os.path.join(workdir, "img2.bin"), 200000, seed=8)
        with pytest.raises(ValueError, match="overwrite_file is disabled"):
            file_transfer(conn, source_file=src2, dest_file="img.bin", file_system="bootflash:",
                          direction="put")
        assert sha256(os.path.join(d.bootflash, "img.bin")) == sha256(src)
        r = file_transfer(conn, source_file=src2, dest_file="img.bin", file_system="bootflash:",
                          direction="put", overwrite_file=True)
        assert r == {"file_exists": True, "file_transferred": True, "file_verified": True}
        assert sha256(os.path.join(d.bootflash, "img.bin")) == sha256(src2)

        # overwrite without MD5: sent, not verified
        r = file_transfer(conn, source_file=src, dest_file="img.bin", file_system="bootflash:",
                          direction="put", overwrite_file=True, disable_md5=True)
        assert r == {"file_exists": True, "file_transferred": True, "file_verified": False}
        assert sha256(os.path.join(d.bootflash, "img.bin")) == sha256(src)

        # get: verify /md5 and dir (size) of the remote file, scp -f, local MD5
        got = os.path.join(workdir, "got.bin")
        r = file_transfer(conn, source_file="img.bin", dest_file=got, file_system="bootflash:",
                          direction="get")
        assert r == {"file_exists": True, "file_transferred": True, "file_verified": True}
        assert sha256(got) == sha256(src)
        # a get of a missing file fails on the device's answer, leaving nothing behind
        with pytest.raises(ValueError, match="Invalid output from MD5 command"):
            file_transfer(conn, source_file="nope.bin", dest_file=os.path.join(workdir, "n"),
                          file_system="bootflash:", direction="get")
        assert not os.path.exists(os.path.join(workdir, "n"))

        out = conn.send_command("show running-config")
        assert "ip scp server enable" in out and "hostname R1" in out
        # the output modifiers scripts use to pick one line
        out = conn.send_command("show running-config | include ^hostname")
        assert out.strip() == "hostname R1", out
        out = conn.send_command("sh run | section ^aaa")
        assert out.splitlines()[0].startswith("aaa ") and "hostname" not in out, out
        out = conn.send_command("dir bootflash:")
        assert re.search(r"^\s*\d+\s+-rw-\s+300000\s+.*\simg\.bin$", out, re.M), out
        assert re.search(r"^\d+ bytes total \((\d+) bytes free\)$", out, re.M), out
        out = conn.save_config()   # netmiko's IOS default: "write mem"
        assert "[OK]" in out
    finally:
        conn.disconnect()
        os.chdir(cwd)
    log = d.log()
    for cmd in ("cli: terminal length 0", "cli: terminal width 511", "cli: dir bootflash:/img.bin",
                "cli: verify /md5 bootflash:/img.bin", "cli: write mem"):
        assert cmd in log, cmd
    assert "user=tiger" in log


# ---- a terminal user (paramiko invoke_shell: a pty, as netmiko and PuTTY request) ---------------

Shell = clients.Shell   # moved to clients.py (test_copy.py and test_debug_cli.py use it)


def test_shell_prompt_echo_and_marker(d):
    sh = Shell(d.ssh_port)
    try:
        assert sh.until(rb"R1#$") == "R1#"
        # IOS echoes, ends lines with CRLF, and puts the caret under the offending word
        assert sh.cmd("show privilege") == "show privilege\r\nCurrent privilege level is 15\r\nR1#"
        assert sh.cmd("show  foo") == ("show  foo\r\n" + " " * len("R1#show  ") + "^\r\n"
                                       "% Invalid input detected at '^' marker.\r\n\r\nR1#")
        assert "% Ambiguous command:  \"e\"" in sh.cmd("e")
        # editing: DEL erases what was typed
        assert "Current privilege level is 15" in sh.cmd("sh privx\x7f")
        # ? is context help: the choices, then the prompt and the line again
        sh.ch.send("sh ?")
        out = sh.until(rb"R1#sh $")
        assert "  running-config  Current operating configuration\r\n" in out
        assert "Current privilege level is 15" in sh.cmd("priv")
        out = sh.cmd("dir nvram:")
        assert "Directory of nvram:/" in out and "bytes total" in out
        out = sh.cmd("show file systems")
        assert re.search(r"^\*\s+\d+\s+\d+\s+disk\s+rw\s+bootflash: flash:\r$", out, re.M), out
        sh.ch.send("exit\r")
        assert sh.ch.recv_exit_status() == 0
    finally:
        sh.close()


def test_privilege_1_user(d, workdir):
    make_file(os.path.join(d.bootflash, "secret.bin"), 100, seed=1)
    sh = Shell(d.ssh_port, user="guest")
    try:
        assert sh.until(rb"R1>$") == "R1>"
        assert sh.cmd("show privilege") == "show privilege\r\nCurrent privilege level is 1\r\nR1>"
        # commands of level 15 are not there for this user (IOS's parser hides them)
        out = sh.cmd("dir bootflash:")
        assert out == ("dir bootflash:\r\n   ^\r\n% Invalid input detected at '^' marker.\r\n"
                       "\r\nR1>")
        assert "secret.bin" not in out
        assert "% Invalid input" in sh.cmd("show running-config")
        assert "% No password set" in sh.cmd("enable")
        assert sh.cmd("show privilege").endswith("Current privilege level is 1\r\nR1>")
    finally:
        sh.close()
    assert "cli: refused (privilege 1, the command needs 15): dir bootflash:" in d.log()


def test_shell_refused_without_exec_authorization(start_daemon):
    d = start_daemon(config=CONFIG.replace("aaa authorization exec default local\n", ""))
    c = clients.paramiko_client(d.ssh_port)
    try:
        ch = c.invoke_shell()
        ch.settimeout(30)
        assert ch.recv_exit_status() == 1
        err = b""
        while True:
            chunk = ch.recv_stderr(4096)
            if not chunk:
                break
            err += chunk
        assert b"EXEC refused: authorization failed" in err, err
        assert ch.recv(100) == b""   # no prompt
    finally:
        c.close()
    r = clients.run_ssh(d.ssh_port, None, extra=["-T"])
    assert r.returncode != 0 and "EXEC refused" in r.stderr, r


def test_copy_running_startup(d, workdir):
    # a change to running-config that startup-config does not have until the copy
    change = os.path.join(workdir, "change.cfg")
    with open(change, "w") as f:
        f.write("username copied privilege 1 password 0 later\n")
    assert clients.upload(d.ssh_port, change, "running-config").returncode == 0
    start = os.path.join(workdir, "start.cfg")
    assert download(d.ssh_port, "nvram:startup-config", start).returncode == 0
    assert "username copied" not in open(start).read()
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        out = sh.ask("copy running-config startup-config", rb"\? $")
        assert out == ("copy running-config startup-config\r\n"
                       "Destination filename [startup-config]? ")
        out = sh.cmd("")
        assert out == "\r\nBuilding configuration...\r\n[OK]\r\nR1#"
        assert "Using " in sh.cmd("show startup-config")
    finally:
        sh.close()
    run, start = os.path.join(workdir, "run.cfg"), os.path.join(workdir, "start.cfg")
    assert download(d.ssh_port, "running-config", run).returncode == 0
    assert download(d.ssh_port, "nvram:startup-config", start).returncode == 0
    running, startup = open(run).read(), open(start).read()
    # the same configuration; running-config has the show command's header on top
    assert "username copied" in startup and running.endswith(startup)
    for line in running[:-len(startup)].splitlines():
        assert line == "" or re.match(r"(Building configuration|Current configuration|!)", line)
    assert "cli: copy running-config startup-config" in d.log()


# ---- one command per exec request (OpenSSH ssh) -------------------------------------------------

def test_exec_command(d):
    r = clients.run_ssh(d.ssh_port, "show running-config")
    assert r.returncode == 0, r
    assert "hostname R1" in r.stdout and "\r" not in r.stdout   # no pty: plain lines
    r = clients.run_ssh(d.ssh_port, "show running-config | include ^ip scp|^hostname")
    assert r.returncode == 0 and r.stdout == "hostname R1\nip scp server enable\n", r
    r = clients.run_ssh(d.ssh_port, "show running-config | count ^username")
    assert r.returncode == 0 and r.stdout == "Number of lines which match regexp = 2\n", r
    r = clients.run_ssh(d.ssh_port, "cat /etc/passwd")
    assert r.returncode == 1
    assert r.stdout == "cat /etc/passwd\n^\n% Invalid input detected at '^' marker.\n\n"
    r = clients.run_ssh(d.ssh_port, "dir", user="guest")
    assert r.returncode == 1 and "% Invalid input" in r.stdout
    r = clients.run_ssh(d.ssh_port, "show version", user="guest")
    assert r.returncode == 0 and "R1 uptime is" in r.stdout


def test_openssh_shell_with_piped_commands(d):
    """`ssh -T dev < script`: a shell without a pty reads lines from stdin (no echo, plain LF)."""
    cmd = (["ssh", "-p", str(d.ssh_port)] + clients.ssh_opts(d.ssh_port) +
           ["-T", "%s@%s" % (clients.USER, clients.HOST)])
    r = subprocess.run(cmd, input="show privilege\r\ndir bootflash:\nexit\nshow version\n",
                       capture_output=True, text=True, env=clients._env(clients.PASSWORD),
                       timeout=60)
    assert r.returncode == 0, r
    assert r.stdout.startswith("R1#Current privilege level is 15\nR1#Directory of bootflash:/\n")
    assert r.stdout.endswith("bytes free)\nR1#")   # nothing after exit ran

"""Configuration mode over SSH, as an administrator types it and as scripts drive it: the
feature's own procedure typed line by line over `ssh -tt` (pexpect) and over paramiko's
invoke_shell; sub-mode prompts, `do`, `exit`, `end`, Ctrl-Z, `no`, `?`, abbreviations; a bad line
changes nothing; each line is one commit audited as source cli; a paste of 200 lines."""
import os
import re
import time

import pexpect
import pytest
import requests

import clients

CONFIG = """\
hostname R1
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
"""

# The procedure of the feature's documentation, exactly as written.
PROCEDURE = [
    "enable",
    "configure terminal",
    "aaa new-model",
    "aaa authentication login default local",
    "aaa authorization exec default local",
    "username superuser privilege 2 password 0 superpassword",
    "ip scp server enable",
    "end",
]


def ssh_tt(port, user="tiger", password="lab"):
    cmd = "ssh -tt -p %d %s %s@127.0.0.1" % (port, " ".join(clients.ssh_opts(port)), user)
    child = pexpect.spawn(cmd, encoding="utf-8", timeout=30)
    child.expect("assword:")
    child.sendline(password)
    return child


def audit(d):
    r = requests.get("http://127.0.0.1:%d/restconf/data/scpd:audit-log" % d.http_port,
                     auth=("tiger", "lab"), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_procedure_typed_over_ssh_tt(start_daemon, workdir):
    d = start_daemon(config=CONFIG)
    child = ssh_tt(d.ssh_port)
    child.expect_exact("R1#")
    prompts = ["R1#", "R1(config)#", "R1(config)#", "R1(config)#", "R1(config)#", "R1(config)#",
               "R1(config)#", "R1#"]
    for line, want in zip(PROCEDURE, prompts):
        child.sendline(line)
        child.expect_exact(want)
        assert "Invalid" not in child.before, (line, child.before)
    child.sendline("show running-config")
    child.expect_exact("\r\nend\r\n")
    text = child.before
    child.expect_exact("R1#")
    assert "ip scp server enable" in text
    assert re.search(r"username superuser privilege 2 secret 9 \$9\$\S+", text), text
    assert "superpassword" not in text
    child.sendline("exit")
    child.expect(pexpect.EOF)

    # the next login sees it: SCP for the level-15 user, a shell for the new level-2 user
    src = clients.make_file(os.path.join(workdir, "a.bin"), 5000, seed=1)
    r = clients.upload(d.ssh_port, src, "bootflash:a.bin")
    assert r.returncode == 0, r.stderr
    r = clients.run_ssh(d.ssh_port, "show privilege", user="superuser", password="superpassword")
    assert r.returncode == 0 and "Current privilege level is 2" in r.stdout, r
    # superuser (level 2) may not copy
    r = clients.upload(d.ssh_port, src, "bootflash:b.bin", user="superuser",
                       password="superpassword")
    assert r.returncode != 0

    # each line was one commit, audited as source cli with the user and the peer
    rows = [a for a in audit(d)["scpd:audit-log"]["entry"] if a["source"] == "cli"]
    assert len(rows) == 2, rows   # the three aaa lines changed nothing; username; ip scp
    assert all(a["user"] == "tiger" and a["peer"].startswith("127.0.0.1") for a in rows)
    assert "superpassword" not in str(rows)


def test_procedure_over_paramiko(start_daemon):
    d = start_daemon(config=CONFIG)
    c = clients.paramiko_client(d.ssh_port)
    try:
        sh = c.invoke_shell()
        out = read_until(sh, "R1#")
        for line in PROCEDURE:
            sh.send(line + "\r")
            out = read_until(sh, "#")
            assert "Invalid" not in out, out
        sh.send("show running-config\r")
        out = read_until(sh, "\nend\r\n")
        assert "username superuser privilege 2 secret 9 $9$" in out
        assert "ip scp server enable" in out
    finally:
        c.close()


def read_until(ch, marker, timeout=30):
    buf = ""
    end = time.time() + timeout
    while marker not in buf:
        if time.time() > end:
            raise AssertionError("no %r in %r" % (marker, buf))
        if ch.recv_ready():
            buf += ch.recv(65536).decode(errors="replace")
        else:
            time.sleep(0.01)
    return buf


def test_submodes_exit_end_ctrl_z_do_no_help(start_daemon):
    d = start_daemon(config=CONFIG)
    child = ssh_tt(d.ssh_port)
    child.expect_exact("R1#")
    child.sendline("conf t")
    child.expect_exact("End with CNTL/Z.")
    child.expect_exact("R1(config)#")
    # sub-modes from the config table's blocks; exit goes up one, an outer command leaves them
    child.sendline("ip ssh pubkey-chain")
    child.expect_exact("R1(config-pubkey-chain)#")
    child.sendline("username tiger")
    child.expect_exact("R1(config-pubkey-key)#")
    child.sendline("key-hash ssh-rsa 0123456789ABCDEF0123456789ABCDEF laptop")
    child.expect_exact("R1(config-pubkey-key)#")
    child.sendline("exit")
    child.expect_exact("R1(config-pubkey-chain)#")
    child.sendline("hostname R2")       # a top-level command leaves the sub-mode (IOS)
    child.expect_exact("R2(config)#")
    # abbreviations of the config keywords, and an ambiguous one
    child.sendline("ip ssh time 60")
    child.expect_exact("R2(config)#")
    child.sendline("ip ssh a 2")
    child.expect_exact("R2(config)#")
    child.sendline("ip ssh")
    child.expect_exact("% Invalid input")
    child.expect_exact("R2(config)#")
    # a bad line: the marker under the word, nothing changed
    child.sendline("ip ssh time-out 500")
    child.expect(r"\n {27}\^\r\n% Invalid input detected at '\^' marker: value out of range 1-120")
    child.expect_exact("R2(config)#")
    # do EXEC-COMMAND, with a modifier
    child.sendline("do show running-config | include time-out")
    child.expect_exact("ip ssh time-out 60")
    child.expect_exact("R2(config)#")
    # `?`
    child.send("ip ssh ?")
    child.expect_exact("time-out")
    child.expect_exact("R2(config)#ip ssh ")
    child.sendline("\x15no ip ssh time-out")
    child.expect_exact("R2(config)#")
    child.sendline("do show running-config | include time-out|retries")
    child.expect_exact("ip ssh authentication-retries 2")
    child.expect_exact("R2(config)#")
    # Ctrl-Z leaves configuration mode; exit at the top too
    child.send("\x1a")
    child.expect_exact("R2#")
    child.sendline("configure terminal")
    child.expect_exact("R2(config)#")
    child.sendline("exit")
    child.expect_exact("R2#")
    child.sendline("show running-config")
    child.expect_exact("\r\nend\r\n")
    text = child.before
    assert "ip ssh time-out" not in text and "ip ssh authentication-retries 2" in text
    assert "key-hash ssh-rsa 0123456789ABCDEF0123456789ABCDEF laptop" in text
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_configure_needs_level_15(start_daemon):
    d = start_daemon(config=CONFIG + "username guest privilege 1 password 0 lab\n")
    r = clients.run_ssh(d.ssh_port, "configure terminal", user="guest")
    assert r.returncode == 1 and "Invalid input" in r.stdout


def test_paste_of_200_lines_keeps_up(start_daemon):
    """200 lines in one write: every line applied, each one commit; the time is printed."""
    d = start_daemon(config=CONFIG)
    c = clients.paramiko_client(d.ssh_port)
    try:
        sh = c.invoke_shell()
        read_until(sh, "R1#")
        sh.send("configure terminal\r")
        read_until(sh, "(config)#")
        lines = ["username u%03d privilege 1 secret 5 $1$abcd$VS53wb6DSZOa1RKUJXmJL/" % i
                 for i in range(200)]
        t0 = time.time()
        sh.send("".join(l + "\r" for l in lines) + "end\r")
        out = read_until(sh, "\nR1#", timeout=120)
        took = time.time() - t0
        print("paste of 200 config lines: %.3f s (%.1f ms a line)" % (took, took * 5))
        assert "Invalid" not in out
        sh.send("show running-config | count ^username u\r")
        out = read_until(sh, "R1#")
        assert "Number of lines which match regexp = 200" in out
    finally:
        c.close()

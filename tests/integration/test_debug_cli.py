"""Troubleshooting at the EXEC command line as on an IOS vty: `debug ip scp` with `terminal
monitor` shows, live in a paramiko shell, the trace of an upload that OpenSSH `scp -O` makes on
another connection; `show debugging`, `undebug all`, `show logging` / `logging buffered` /
`clear logging` (no secret ever in the buffer), `show ip ssh`, `show clock`."""
import os
import re
import time

import pytest

import clients
from clients import Shell, make_file, sha256

CONFIG = """\
hostname R1
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
ip scp server enable
"""


@pytest.fixture
def d(start_daemon):
    return start_daemon(config=CONFIG)


def test_terminal_monitor_shows_upload_trace(d, workdir):
    src = make_file(os.path.join(workdir, "up.bin"), 123456, seed=9)
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        assert sh.cmd("show debugging").endswith("show debugging\r\nR1#")
        assert "SCP protocol debugging is on" in sh.cmd("debug ip scp")
        assert sh.cmd("terminal monitor").endswith("R1#")
        out = sh.cmd("show debugging")
        assert "SCP protocol debugging is on" in out and "Terminal monitor is on" in out, out
        clients.ok(clients.upload(d.ssh_port, src, "bootflash:up.bin"))
        # the lines arrive on their own, while this shell types nothing
        out = sh.until(rb"recv C0644 123456 up\.bin[^\n]*\n(.|\n)*R1#$")
        line = re.search(r"[A-Z][a-z]{2} +\d+ [\d:.]+: SCP: \[\d+ <- 127\.0\.0\.1:\d+\] "
                         r"recv C0644 123456 up\.bin", out)
        assert line, out
        assert sha256(os.path.join(d.bootflash, "up.bin")) == sha256(src)
        # a half-typed line survives the interruption: it is shown again after the traces
        sh.ch.send("show cl")
        sh.until(rb"show cl$")
        clients.ok(clients.upload(d.ssh_port, src, "bootflash:up2.bin"))
        sh.until(rb"scp -t bootflash:up2\.bin(.|\n)*end 123456 bytes, ok\r\nR1#show cl$")
        out = sh.cmd("ock")
        assert re.search(r"\d\d:\d\d:\d\d\.\d{3} UTC \w{3} \w{3} +\d+ \d{4}", out), out
        # off: no more lines
        assert "All possible debugging has been turned off" in sh.cmd("undebug all")
        sh.cmd("terminal no monitor")
        clients.ok(clients.upload(d.ssh_port, src, "bootflash:up3.bin"))
        out = sh.cmd("show debugging")
        assert "up3.bin" not in out and "SCP protocol" not in out, out
    finally:
        sh.close()


def test_show_logging_buffer(d, workdir):
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        out = sh.cmd("show logging")
        assert "Log Buffer (65536 bytes):" in out and "cli: show logging" not in out.split(
            "Log Buffer")[0], out
        assert "EXEC session started" in out, out
        # a failed login: the user is named, the password is not
        r = clients.run_ssh(d.ssh_port, "show clock", password="Sekr3tPassw0rd")
        assert r.returncode != 0
        out = sh.cmd("show logging")
        assert "Sekr3tPassw0rd" not in out and "lab" not in re.sub(r"[a-z]lab|lab[a-z]", "", out)
        sh.ask("clear logging", rb"\[confirm\]$")
        sh.cmd("")
        out = sh.cmd("show logging")
        assert "EXEC session started" not in out, out
        assert "Log Buffer" in out
        out = sh.cmd("show ip ssh")
        assert "SSH Enabled - version 2.0" in out and "Authentication timeout: 120 secs" in out
    finally:
        sh.close()
    with open(os.path.join(workdir, "nolog.cfg"), "w") as f:
        f.write("no logging buffered\n")
    clients.ok(clients.upload(d.ssh_port, os.path.join(workdir, "nolog.cfg"), "running-config"))
    r = clients.run_ssh(d.ssh_port, "show logging")
    assert r.returncode == 0 and "Buffer logging:  disabled" in r.stdout, r


def test_show_users(d):
    import requests
    a, b = Shell(d.ssh_port), Shell(d.ssh_port)
    try:
        a.until(rb"R1#$")
        b.until(rb"R1#$")
        r = requests.get("http://127.0.0.1:%d/restconf/data/scpd:scp-state" % d.http_port,
                         auth=("tiger", "lab"), timeout=30)
        assert r.status_code == 200
        out = a.cmd("show users")
        rows = [l for l in out.splitlines() if "tiger" in l]
        assert len([l for l in rows if " ssh " in l]) == 2, out
        assert len([l for l in rows if l.startswith("*") and " ssh " in l]) == 1, out
        assert any(" http " in l and l.rstrip().endswith("127.0.0.1") for l in rows), out
        assert re.search(r"\d\d:\d\d:\d\d +127\.0\.0\.1:\d+", out), out
    finally:
        b.close()
        a.close()
    # a session that left is no longer listed
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        deadline = time.time() + 10
        while True:
            out = sh.cmd("show users")
            if len([l for l in out.splitlines() if " ssh " in l]) == 1 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert len([l for l in out.splitlines() if " ssh " in l]) == 1, out
    finally:
        sh.close()

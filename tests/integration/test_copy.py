"""`copy` and the file commands at the EXEC command line, as an admin types them (paramiko shell
with a pty, IOS's questions answered) and as scripts run them (netmiko send_command_timing,
OpenSSH exec requests), every copied file checked with SHA-256; and the API's
Cisco-IOS-XE-rpc:copy/delete over the same engine."""
import os
import re

import pytest

import clients
from clients import Shell, make_file, sha256

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


def bf(d, name):
    return os.path.join(d.bootflash, name)


def test_copy_file_to_file_with_prompts(d, workdir):
    src = make_file(bf(d, "a.bin"), 3 * 1024 * 1024 + 17, seed=1)
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        out = sh.ask("copy bootflash:a.bin bootflash:b.bin", rb"\? $")
        assert out.endswith("Destination filename [b.bin]? "), out
        out = sh.cmd("")
        assert "Copy in progress...C" in out, out
        assert re.search(r"\r\n3145745 bytes copied in \d+\.\d{3} secs \(\d+ bytes/sec\)\r\nR1#$",
                         out), out
        assert sha256(bf(d, "b.bin")) == sha256(src)

        # onto an existing file: IOS's overwrite question; "n" keeps the old file
        make_file(bf(d, "c.bin"), 1000, seed=2)
        old = sha256(bf(d, "c.bin"))
        sh.ask("copy bootflash:a.bin flash:c.bin", rb"\? $")
        out = sh.ask("", rb"\[confirm\]$")
        assert "%Warning:There is a file already existing with this name" in out, out
        out = sh.cmd("n")
        assert "%Copy aborted" in out and sha256(bf(d, "c.bin")) == old
        # ... Enter confirms
        sh.ask("copy bootflash:a.bin flash:c.bin", rb"\? $")
        sh.ask("", rb"\[confirm\]$")
        assert "bytes copied" in sh.cmd("")
        assert sha256(bf(d, "c.bin")) == sha256(src)

        # another name given at the question, into nvram:, and into a directory
        sh.ask("copy bootflash:a.bin nvram:", rb"\? $")
        assert "bytes copied" in sh.cmd("n.bin")
        assert sha256(os.path.join(d.nvram, "n.bin")) == sha256(src)
        os.mkdir(bf(d, "sub"))
        out = sh.ask("copy nvram:n.bin bootflash:sub", rb"\? $")
        assert "[n.bin]?" in out
        assert "bytes copied" in sh.cmd("")
        assert sha256(bf(d, "sub/n.bin")) == sha256(src)

        # refusals, with IOS's words
        assert "same file" in sh.cmd("copy bootflash:a.bin bootflash:a.bin")
        out = sh.cmd("copy bootflash:nope bootflash:x")
        assert "%Error" in out and "nope" in out, out
        assert "Incomplete" in sh.cmd("copy bootflash:a.bin")
        out = sh.cmd("copy bootflash:../x bootflash:y")
        assert "%" in out and ".." in out, out

        # ^C at a question: nothing copied
        sh.ask("copy bootflash:a.bin bootflash:ctrlc.bin", rb"\? $")
        sh.ch.send("\x03")
        sh.until(rb"R1#$")
        assert not os.path.exists(bf(d, "ctrlc.bin"))
    finally:
        sh.close()
    assert "cli: copied bootflash:a.bin to bootflash:b.bin" in d.log()


def test_copy_configs(d, workdir):
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        # running-config to a file and back, startup-config to running-config
        sh.ask("copy running-config bootflash:run.cfg", rb"\? $")
        assert "bytes copied" in sh.cmd("")
        text = open(bf(d, "run.cfg")).read()
        assert "hostname R1" in text
        with open(bf(d, "add.cfg"), "w") as f:
            f.write("username added privilege 1 password 0 x\n")
        out = sh.ask("copy bootflash:add.cfg running-config", rb"\? $")
        assert out.endswith("Destination filename [running-config]? "), out
        out = sh.cmd("")
        assert "bytes copied" in out, out
        assert "username added" in sh.cmd("show running-config")
        # an invalid file is refused whole: nothing of it applied
        with open(bf(d, "bad.cfg"), "w") as f:
            f.write("username partial privilege 1 password 0 x\nbogus line here\n")
        sh.ask("copy bootflash:bad.cfg running-config", rb"\? $")
        out = sh.cmd("")
        assert "%" in out and "bogus" in out, out
        assert "username partial" not in sh.cmd("show running-config")
        # `copy run start` (IOS abbreviations): the store's save
        sh.ask("copy run start", rb"\? $")
        out = sh.cmd("")
        assert "Building configuration...\r\n[OK]\r\n" in out, out
        assert "username added" in sh.cmd("show startup-config")
        # a file onto startup-config replaces it
        sh.ask("copy bootflash:run.cfg startup-config", rb"\? $")
        assert "bytes copied" in sh.cmd("")
        assert "username added" not in sh.cmd("show startup-config")
        # startup-config onto running-config merges (username added stays)
        sh.ask("copy startup-config running-config", rb"\? $")
        assert "bytes copied" in sh.cmd("")
        assert "username added" in sh.cmd("show running-config")
    finally:
        sh.close()


def test_file_prompt_quiet_and_exec(d, workdir):
    src = make_file(bf(d, "a.bin"), 5000, seed=3)
    # an exec request takes the defaults (nobody is there to answer)
    r = clients.run_ssh(d.ssh_port, "copy bootflash:a.bin bootflash:e.bin")
    assert r.returncode == 0 and "bytes copied" in r.stdout, r
    assert sha256(bf(d, "e.bin")) == sha256(src)
    with open(os.path.join(workdir, "q.cfg"), "w") as f:
        f.write("file prompt quiet\n")
    assert clients.upload(d.ssh_port, os.path.join(workdir, "q.cfg"), "running-config").returncode == 0
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        out = sh.cmd("copy bootflash:a.bin bootflash:e.bin")   # no question, no confirm
        assert "Destination" not in out and "bytes copied" in out, out
        out = sh.cmd("delete bootflash:e.bin")
        assert not os.path.exists(bf(d, "e.bin"))
        assert "file prompt quiet" in sh.cmd("show running-config")
        assert "file prompt quiet" in sh.cmd("show running-config all")
    finally:
        sh.close()


def test_file_commands(d, workdir):
    make_file(bf(d, "f.bin"), 40, seed=4)
    with open(bf(d, "t.txt"), "w") as f:
        f.write("hello\x1b[31m world\n")
    sh = Shell(d.ssh_port)
    try:
        sh.until(rb"R1#$")
        # mkdir / rename / rmdir / delete with IOS's questions
        sh.ask("mkdir bootflash:d1", rb"\? $")
        assert "Created dir bootflash:d1" in sh.cmd("")
        assert os.path.isdir(bf(d, "d1"))
        sh.ask("rename bootflash:f.bin bootflash:d1/g.bin", rb"\? $")
        sh.cmd("")
        assert os.path.exists(bf(d, "d1/g.bin")) and not os.path.exists(bf(d, "f.bin"))
        out = sh.cmd("dir /recursive bootflash:")
        assert "Directory of bootflash:/d1" in out and "g.bin" in out, out
        sh.ask("rmdir bootflash:d1", rb"\? $")
        sh.ask("", rb"\[confirm\]$")
        out = sh.cmd("")
        assert "%" in out and os.path.isdir(bf(d, "d1")), out   # not empty
        out = sh.ask("delete bootflash:d1", rb"\? $")
        assert out.endswith("Delete filename [d1]? "), out
        out = sh.ask("", rb"\[confirm\]$")
        assert "Delete bootflash:d1? [confirm]" in out, out
        assert "Is a directory" in sh.cmd("")
        sh.cmd("delete /force /recursive bootflash:d1")
        assert not os.path.exists(bf(d, "d1"))
        # delete: "n" at the confirm keeps the file
        sh.ask("delete bootflash:t.txt", rb"\? $")
        sh.ask("", rb"\[confirm\]$")
        sh.cmd("n")
        assert os.path.exists(bf(d, "t.txt"))
        # more: text (terminal escapes neutralised) and /binary
        out = sh.cmd("more bootflash:t.txt")
        assert "hello.[31m world" in out and "\x1b" not in out, out
        out = sh.cmd("more /binary bootflash:t.txt")
        assert "00000000:  68656C6C 6F1B5B33 316D2077 6F726C64  hello.[31m world" in out, out
        # verify: both digests, the compare form
        import hashlib
        data = open(bf(d, "t.txt"), "rb").read()
        md5, sha = hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest()
        assert "verify /md5 (bootflash:/t.txt) = %s" % md5 in sh.cmd("verify /md5 bootflash:t.txt")
        assert "= %s" % sha in sh.cmd("verify /sha512 bootflash:t.txt")
        assert "Verified (bootflash:/t.txt) = %s" % sha in sh.cmd("verify /sha512 bootflash:t.txt " + sha)
        out = sh.cmd("verify /md5 bootflash:t.txt " + "0" * 32)
        assert "%Error verifying" in out and "Computed signature" in out, out
        out = sh.cmd("show file information bootflash:t.txt")
        assert "bootflash:/t.txt:" in out and "size is 17 bytes" in out, out
        # hostile paths go through the one resolver
        for bad in ("delete /force bootflash:../../etc/passwd", "more /etc/passwd",
                    "mkdir bootflash:a/../../x"):
            out = sh.cmd(bad)
            assert "%" in out, (bad, out)
    finally:
        sh.close()


def test_netmiko_send_command_timing_through_prompts(d, workdir):
    from netmiko import ConnectHandler
    src = make_file(bf(d, "n.bin"), 100000, seed=5)
    conn = ConnectHandler(device_type="cisco_ios", host=clients.HOST, port=d.ssh_port,
                          username=clients.USER, password=clients.PASSWORD)
    try:
        out = conn.send_command_timing("copy bootflash:n.bin bootflash:m.bin")
        assert "Destination filename" in out, out
        out = conn.send_command_timing("\n")
        assert "bytes copied" in out, out
        out = conn.send_command_timing("delete bootflash:m.bin")
        assert "Delete filename" in out
        out = conn.send_command_timing("\n")
        assert "[confirm]" in out
        conn.send_command_timing("\n")
    finally:
        conn.disconnect()
    assert sha256(bf(d, "n.bin")) == sha256(src) and not os.path.exists(bf(d, "m.bin"))


def test_level_1_sees_no_file_commands(d):
    for cmd in ("copy bootflash:a bootflash:b", "delete bootflash:a", "debug ip scp", "more x"):
        r = clients.run_ssh(d.ssh_port, cmd, user="guest")
        assert r.returncode == 1 and "% Invalid input" in r.stdout, r


# ---- the API: IOS XE's RPCs over the same engine --------------------------------------------------

def rpc(d, name, body, user="tiger"):
    import requests
    return requests.post("http://127.0.0.1:%d/restconf/operations/Cisco-IOS-XE-rpc:%s"
                         % (d.http_port, name), json={"Cisco-IOS-XE-rpc:input": body},
                         auth=(user, "lab"), timeout=120,
                         headers={"Content-Type": "application/yang-data+json",
                                  "Accept": "application/yang-data+json"})


def test_api_copy_and_delete(d, workdir):
    import requests
    src = make_file(bf(d, "api.bin"), 2 * 1024 * 1024 + 3, seed=6)
    ops = requests.get("http://127.0.0.1:%d/restconf/operations" % d.http_port,
                       auth=("tiger", "lab"), timeout=30).json()["ietf-restconf:operations"]
    assert "Cisco-IOS-XE-rpc:copy" in ops and "Cisco-IOS-XE-rpc:delete" in ops
    r = rpc(d, "copy", {"source-drop-node-name": "bootflash:api.bin",
                        "destination-drop-node-name": "nvram:api2.bin"})
    assert r.status_code == 200, r.text
    assert r.json()["Cisco-IOS-XE-rpc:output"]["result"] == \
        "Copy successful: 2097155 bytes copied"
    assert sha256(os.path.join(d.nvram, "api2.bin")) == sha256(src)
    # config: running-config to a file, a file merged into running-config, an invalid one refused
    r = rpc(d, "copy", {"source-drop-node-name": "running-config",
                        "destination-drop-node-name": "bootflash:run.cfg"})
    assert r.status_code == 200 and "hostname R1" in open(bf(d, "run.cfg")).read(), r.text
    with open(bf(d, "bad.cfg"), "w") as f:
        f.write("username x privilege 1 password 0 y\nnonsense here\n")
    r = rpc(d, "copy", {"source-drop-node-name": "bootflash:bad.cfg",
                        "destination-drop-node-name": "running-config"})
    assert r.status_code == 400 and "nonsense" in r.text, r.text
    # refusals
    r = rpc(d, "copy", {"source-drop-node-name": "bootflash:../x",
                        "destination-drop-node-name": "bootflash:y"})
    assert r.status_code in (400, 403) and "ietf-restconf:errors" in r.text, r.text
    r = rpc(d, "copy", {"source-drop-node-name": "bootflash:api.bin"})
    assert r.status_code == 400 and "destination-drop-node-name is required" in r.text
    r = rpc(d, "copy", {"source-drop-node-name": "scp://u@[::1]/x",
                        "destination-drop-node-name": "bootflash:y"})
    assert r.status_code == 400 and "IPv6" in r.text, r.text
    r = rpc(d, "copy", {"source-drop-node-name": "bootflash:api.bin",
                        "destination-drop-node-name": "nvram:z"}, user="guest")
    assert r.status_code == 403, r.text
    # delete
    r = rpc(d, "delete", {"filename-drop-node-name": "nvram:api2.bin"})
    assert r.status_code == 200 and not os.path.exists(os.path.join(d.nvram, "api2.bin")), r.text
    r = rpc(d, "delete", {"filename-drop-node-name": "nvram:api2.bin"})
    assert r.status_code == 404, r.text

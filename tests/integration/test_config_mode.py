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


# ---- enable secret, enable, disable -------------------------------------------------------------

def test_enable_secret_enable_disable(start_daemon):
    d = start_daemon(config=CONFIG + "username op privilege 1 password 0 oppw\n")
    child = ssh_tt(d.ssh_port)
    child.expect_exact("R1#")
    child.sendline("configure terminal")
    child.expect_exact("R1(config)#")
    child.sendline("enable secret 0 Top-Secret")
    child.expect_exact("R1(config)#")
    child.sendline("end")
    child.expect_exact("R1#")
    child.sendline("show running-config | include ^enable")
    child.expect(r"enable secret 9 \$9\$\S+")
    child.expect_exact("R1#")
    assert "Top-Secret" not in child.before
    child.sendline("exit")
    child.expect(pexpect.EOF)

    op = ssh_tt(d.ssh_port, user="op", password="oppw")
    op.expect_exact("R1>")
    op.sendline("enable")
    op.expect_exact("Password: ")
    op.sendline("wrong")            # not echoed; counted as a failed login
    op.expect_exact("Password: ")
    op.sendline("Top-Secret")
    op.expect_exact("R1#")
    assert "wrong" not in op.before and "Top-Secret" not in op.before
    op.sendline("show privilege")
    op.expect_exact("Current privilege level is 15")
    op.sendline("disable")
    op.expect_exact("R1>")
    op.sendline("enable")
    for _ in range(3):
        op.expect_exact("Password: ")
        op.sendline("bad")
    op.expect_exact("% Bad secrets")
    op.expect_exact("R1>")
    op.sendline("exit")
    op.expect(pexpect.EOF)
    assert "login failed (enable)" in d.log()


# ---- the way back from a lockout ----------------------------------------------------------------

def console(d):
    binary = os.environ.get("SCPD_BIN", os.path.join(clients.__file__, "..", "..", "..",
                                                     "build", "scpd"))
    return pexpect.spawn(binary, ["console", "--data-dir", d.data_dir], encoding="utf-8",
                         timeout=30)


def test_lockout_undone_by_console_and_reload(start_daemon):
    d = start_daemon(config=CONFIG)
    sock = os.path.join(d.data_dir, "console.sock")
    assert os.stat(sock).st_mode & 0o777 == 0o600
    # one API merge that locks everybody out: no TACACS+ server exists
    r = requests.post("http://127.0.0.1:%d/restconf/operations/scpd:apply-config" % d.http_port,
                      auth=("tiger", "lab"), timeout=30,
                      json={"scpd:input": {"config":
                                           "aaa authentication login default group tacacs+\n",
                                           "mode": "merge"}})
    assert r.status_code == 200, r.text
    # taken, as IOS takes it, but not silently
    assert "every method of login list default is a server group" in \
        r.json()["scpd:output"]["warning"]
    assert "SSH logins fail" in d.log()
    assert clients.run_ssh(d.ssh_port, "show privilege").returncode != 0
    assert requests.get("http://127.0.0.1:%d/restconf/data/scpd:audit-log" % d.http_port,
                        auth=("tiger", "lab"), timeout=30).status_code in (401, 503)

    # the console: level 15 without AAA; reload brings back the saved startup-config
    con = console(d)
    con.expect_exact("R1#")
    con.sendline("show privilege")
    con.expect_exact("Current privilege level is 15")
    con.sendline("reload")
    con.expect_exact("Proceed with reload? [confirm]")
    con.sendline("")
    con.expect_exact("Reload complete")
    con.expect(pexpect.EOF)
    r = clients.run_ssh(d.ssh_port, "show running-config")
    assert r.returncode == 0 and "group tacacs+" not in r.stdout, r
    assert "console: session started" in d.log()


def test_reload_over_the_api_and_console_config_mode(start_daemon):
    d = start_daemon(config=CONFIG)
    con = console(d)
    con.expect_exact("R1#")
    con.sendline("conf t")
    con.expect_exact("R1(config)#")
    con.sendline("hostname CHANGED")
    con.expect_exact("CHANGED(config)#")
    con.sendline("end")
    con.expect_exact("CHANGED#")
    con.sendline("exit")
    con.expect(pexpect.EOF)
    r = requests.post("http://127.0.0.1:%d/restconf/operations/Cisco-IOS-XE-rpc:reload"
                      % d.http_port, auth=("tiger", "lab"), timeout=30)
    assert r.status_code == 200, r.text
    r = clients.run_ssh(d.ssh_port, "show running-config | include ^hostname")
    assert "hostname R1" in r.stdout
    rows = audit(d)["scpd:audit-log"]["entry"]
    assert [a["source"] for a in rows][-2:] == ["cli", "api"]
    assert rows[-2]["user"] == "console"


# ---- Ansible (cisco.ios over network_cli) and netmiko -------------------------------------------

def run_playbook(d, workdir, name):
    import json
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    inv = os.path.join(workdir, "inventory-cli.ini")
    with open(inv, "w") as f:
        f.write("[scpd]\nrouter ansible_host=127.0.0.1 ansible_port=%d\n\n[scpd:vars]\n"
                "ansible_connection=ansible.netcommon.network_cli\n"
                "ansible_network_os=cisco.ios.ios\n"
                "ansible_network_cli_ssh_type=paramiko\n"
                "ansible_user=tiger\nansible_password=lab\n"
                "ansible_python_interpreter=/usr/bin/python3\n" % d.ssh_port)
    home = os.path.join(workdir, "ansible-home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"),
               ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=os.path.join(home, "pc"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
               ANSIBLE_PARAMIKO_LOOK_FOR_KEYS="False")
    out = subprocess.run(["ansible-playbook", "-i", inv, os.path.join(root, "tests", "ansible",
                                                                      name)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    res = json.loads(out.stdout)
    return {t["task"]["name"]: t["hosts"]["router"] for t in res["plays"][0]["tasks"]}


def test_ansible_ios_config_twice(start_daemon, workdir):
    d = start_daemon(config=CONFIG + "ip ssh pubkey-chain\n username tiger\n")
    first = run_playbook(d, workdir, "ios_cli.yml")
    facts = first["Facts (minimal subset)"]["ansible_facts"]
    assert facts["ansible_net_hostname"] == "R1"
    assert facts["ansible_net_version"] == "0.1.0"
    shown = first["EXEC commands"]["stdout"]
    assert "Current privilege level is 15" in shown[1]
    assert first["Top-level lines"]["changed"] is True
    assert first["Lines under parents, saved when modified"]["changed"] is True
    r = clients.run_ssh(d.ssh_port, "show startup-config")
    assert "key-hash ssh-rsa 0123456789ABCDEF0123456789ABCDEF laptop" in r.stdout
    assert "ip ssh time-out 60" in r.stdout
    second = run_playbook(d, workdir, "ios_cli.yml")
    assert second["Top-level lines"]["changed"] is False
    assert second["Lines under parents, saved when modified"]["changed"] is False


def test_netmiko_send_config_set_and_save(start_daemon):
    from netmiko import ConnectHandler
    d = start_daemon(config=CONFIG)
    conn = ConnectHandler(device_type="cisco_ios", host=clients.HOST, port=d.ssh_port,
                          username="tiger", password="lab")
    try:
        out = conn.send_config_set(["ip ssh time-out 45", "ip scp server enable"])
        assert "Invalid" not in out
        assert conn.check_config_mode() is False
        # a bad line: IOS's marker and message in what netmiko returns (Debian's netmiko 2.4 has
        # no error_pattern; newer ones raise ConfigInvalidException on this text); nothing changed
        out = conn.send_config_set(["ip ssh time-out 500"])
        assert re.search(r"\n +\^\n% Invalid input detected at '\^' marker", out), out
        assert conn.check_config_mode() is False
        out = conn.save_config()
        assert "[OK]" in out
        run = conn.send_command("show running-config")
        assert "ip ssh time-out 45" in run and "ip scp server enable" in run
    finally:
        conn.disconnect()
    r = clients.run_ssh(d.ssh_port, "show startup-config")
    assert "ip ssh time-out 45" in r.stdout


# ---- the template lines and their effects ------------------------------------------------------

TEMPLATE = [
    "service password-encryption",
    "ip domain name example.net",
    "ip ssh version 2",
    "aaa authentication login VTY-LIST local",
    "aaa authentication login default none",
    "username vtyonly privilege 15 secret 0 vty-pw",
    "ip access-list standard MGMT",
    "permit host 127.0.0.1",
    "deny any",
    "exit",
    "banner login #",
    "Authorized access only.",
    "#",
    "banner motd ^CToday: maintenance^C",
    "line vty 0 4",
    "access-class MGMT in",
    "exec-timeout 0 3",
    "login authentication VTY-LIST",
    "transport input ssh",
    "end",
]


def test_template_typed_and_its_effects(start_daemon):
    d = start_daemon(config=CONFIG)
    child = ssh_tt(d.ssh_port)
    child.expect_exact("R1#")
    child.sendline("configure terminal")
    child.expect_exact("R1(config)#")
    for line in TEMPLATE:
        child.sendline(line)
        if line == "banner login #":
            child.expect_exact("Enter TEXT message.  End with the character '#'.")
        elif line == "ip access-list standard MGMT":
            child.expect_exact("R1(config-std-nacl)#")
        elif line == "line vty 0 4":
            child.expect_exact("R1(config-line)#")
        elif line == "end":
            child.expect_exact("R1#")
        assert "Invalid" not in child.before, (line, child.before)
    child.sendline("show running-config | begin ip access-list")
    child.expect_exact("\r\nend\r\n")
    text = child.before.replace("\r\n", "\n")
    assert ("ip access-list standard MGMT\n permit 127.0.0.1\n deny any\n" in text), text
    assert "banner login ^C\nAuthorized access only.\n^C\n" in text
    assert "banner motd ^CToday: maintenance^C\n" in text
    assert ("line vty 0 4\n access-class MGMT in\n exec-timeout 0 3\n"
            " login authentication VTY-LIST\n transport input ssh\n") in text
    child.sendline("exit")
    child.expect(pexpect.EOF)

    # the named list (local) is used for SSH, not the default (none): a wrong password fails
    r = clients.run_ssh(d.ssh_port, "show privilege", user="vtyonly", password="wrong")
    assert r.returncode != 0
    r = clients.run_ssh(d.ssh_port, "show privilege", user="vtyonly", password="vty-pw")
    assert r.returncode == 0 and "Current privilege level is 15" in r.stdout
    # ... while HTTP logins keep the default list (none: any password)
    assert requests.get("http://127.0.0.1:%d/restconf/data/scpd:audit-log" % d.http_port,
                        auth=("tiger", "anything"), timeout=30).status_code == 200

    # access-class: 127.0.0.2 is refused before the key exchange, 127.0.0.1 logs in
    # ... told why: OpenSSH prints the SSH_MSG_DISCONNECT (reason 1, host not allowed), no ACL
    r = clients.run_ssh(d.ssh_port, "show privilege", user="vtyonly", password="vty-pw",
                        extra=("-b", "127.0.0.2"))
    assert r.returncode != 0
    assert ("Received disconnect from 127.0.0.1 port %d:1: SSH connection not permitted by "
            "access-class" % d.ssh_port) in r.stderr, r.stderr
    assert "MGMT" not in r.stderr
    assert "ssh connection refused: line vty: access-class denies this source MGMT" in d.log()

    # banner login before the password (the SSH banner), motd as the shell's first line;
    # exec-timeout closes an idle shell
    c = clients.paramiko_client(d.ssh_port, user="vtyonly", password="vty-pw")
    try:
        assert c.get_transport().get_banner() == b"Authorized access only.\n"
        sh = c.invoke_shell()
        out = read_until(sh, "R1#")
        assert out.startswith("Today: maintenance\r\n"), out
        t0 = time.time()
        while not sh.exit_status_ready() and time.time() - t0 < 30:
            time.sleep(0.2)
        assert sh.exit_status_ready()
    finally:
        c.close()
    assert "(exec-timeout), disconnecting" in d.log()

    # transport input none: no SSH at all (the console is the way back)
    con = console(d)
    con.expect_exact("R1#")
    con.sendline("show running-config | include ^ip domain|^service")
    con.expect_exact("R1#")
    con.sendline("configure terminal")
    con.expect_exact("R1(config)#")
    con.sendline("line vty 0 4")
    con.expect_exact("R1(config-line)#")
    con.sendline("transport input none")
    con.expect_exact("R1(config-line)#")
    con.sendline("end")
    con.expect_exact("R1#")
    r = clients.run_ssh(d.ssh_port, "show privilege", user="vtyonly", password="vty-pw")
    assert r.returncode != 0
    assert ("port %d:7: SSH not permitted by line vty transport input" % d.ssh_port) in r.stderr
    assert "transport input does not allow ssh" in d.log()
    con.sendline("exit")
    con.expect(pexpect.EOF)


def rsa_host_key_bits(port):
    import paramiko
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    t = paramiko.Transport(s)
    t.disabled_algorithms = {"keys": ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                      "ecdsa-sha2-nistp521"]}
    try:
        t.start_client(timeout=30)
        return t.get_remote_server_key().get_bits()
    finally:
        t.close()


def test_crypto_key_generate_rsa_and_show(start_daemon):
    d = start_daemon(config=CONFIG + "ip domain name example.net\n")
    assert rsa_host_key_bits(d.ssh_port) == 3072
    child = ssh_tt(d.ssh_port)
    child.expect_exact("R1#")
    child.sendline("configure terminal")
    child.expect_exact("R1(config)#")
    child.sendline("crypto key generate rsa modulus 2048")   # typed where IOS takes it
    child.expect_exact("The name for the keys will be: R1.example.net")
    child.expect_exact("[OK]")
    child.expect_exact("R1(config)#")
    child.sendline("end")
    child.expect_exact("R1#")
    child.sendline("show crypto key mypubkey rsa")
    child.expect_exact("Key name: R1.example.net")
    child.expect(r"Key Data:\r\n  30820122 ")   # SubjectPublicKeyInfo of a 2048-bit key
    child.expect_exact("R1#")
    child.sendline("crypto key generate rsa modulus 1024")
    child.expect_exact("% Invalid input")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    assert rsa_host_key_bits(d.ssh_port) == 2048

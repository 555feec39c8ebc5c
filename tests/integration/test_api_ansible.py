"""Ansible against scpd: the playbook tests/ansible/scpd.yml enables the SCP server, adds a user
and saves the configuration through ansible.netcommon's RESTCONF modules (Debian's ansible), as it
would on an IOS XE router. Afterwards the user logs in over SSH and the startup config holds it."""
import os
import subprocess

import pytest
import requests

import clients
from conftest import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "ansible", "scpd.yml")

# The reference configuration without `ip scp server enable`, so the playbook has work to do.
CONFIG = """\
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
"""


@pytest.mark.nosan
def test_playbook_enables_scp_adds_user_and_saves(start_daemon, workdir):
    d = start_daemon(config=CONFIG)
    inv = os.path.join(workdir, "inventory.ini")
    with open(inv, "w") as f:
        f.write("[scpd]\nrouter ansible_host=127.0.0.1 ansible_port=%d ansible_httpapi_port=%d\n\n"
                "[scpd:vars]\n"
                "ansible_connection=ansible.netcommon.httpapi\n"
                "ansible_network_os=ansible.netcommon.restconf\n"
                "ansible_user=tiger\nansible_password=lab\n"
                "ansible_httpapi_use_ssl=false\nansible_httpapi_validate_certs=false\n"
                "ansible_python_interpreter=/usr/bin/python3\n" % (d.http_port, d.http_port))
    home = os.path.join(workdir, "ansible-home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home, ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"),
               ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=os.path.join(home, "pc"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False",
               ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")
    out = subprocess.run(["ansible-playbook", "-i", inv, PLAYBOOK,
                          "-e", "new_user=ansible", "-e", "new_password=Ans1ble-pw"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "failed=0" in out.stdout
    # what the playbook did is real: the new user copies a file over SCP at once
    src = os.path.join(workdir, "a.txt")
    with open(src, "w") as f:
        f.write("ansible\n")
    up = clients.upload(d.ssh_port, src, "bootflash:a.txt", user="ansible", password="Ans1ble-pw")
    assert up.returncode == 0, up.stderr
    text = requests.post("http://127.0.0.1:%d/restconf/operations/scpd:show" % d.http_port,
                         auth=("tiger", "lab"),
                         headers={"Content-Type": "application/yang-data+json", "Accept": "text/plain"},
                         data='{"scpd:input":{"command":"startup-config"}}').text
    assert "ip scp server enable" in text and "username ansible privilege 15 secret 9 $9$" in text
    assert "Ans1ble-pw" not in text

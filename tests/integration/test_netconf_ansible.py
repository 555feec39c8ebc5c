"""Ansible against scpd over NETCONF: tests/ansible/netconf.yml (ansible.netcommon netconf_config
and netconf_get on the ansible.netcommon.netconf connection, Debian's ansible and ncclient) turns
SCP on and sets the SSH time-out; RESTCONF sees the change; a second run is idempotent."""
import os
import subprocess

import pytest
import requests

from conftest import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "ansible", "netconf.yml")

CONFIG = """\
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
"""


@pytest.mark.nosan
def test_netconf_playbook_twice(start_daemon, workdir):
    d = start_daemon(config=CONFIG)
    inv = os.path.join(workdir, "inventory.ini")
    with open(inv, "w") as f:
        f.write("[scpd]\nrouter ansible_host=127.0.0.1 ansible_port=%d\n\n"
                "[scpd:vars]\n"
                "ansible_connection=ansible.netcommon.netconf\n"
                "ansible_network_os=ansible.netcommon.default\n"
                "ansible_user=tiger\nansible_password=lab\n"
                "ansible_host_key_checking=false\n"
                "ansible_python_interpreter=/usr/bin/python3\n" % d.ssh_port)
    home = os.path.join(workdir, "ansible-home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home, ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"),
               ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=os.path.join(home, "pc"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False",
               ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")

    def play():
        out = subprocess.run(["ansible-playbook", "-i", inv, PLAYBOOK], capture_output=True,
                             text=True, env=env, timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "failed=0" in out.stdout
        return out.stdout

    first = play()
    assert "changed=True" in first and "<time-out>60</time-out>" in first
    r = requests.get("http://127.0.0.1:%d/restconf/data/Cisco-IOS-XE-native:native/ip" % d.http_port,
                     auth=("tiger", "lab"), timeout=30)
    assert r.json() == {"Cisco-IOS-XE-native:ip": {"ssh": {"time-out": 60}, "scp": {"server": {"enable": [None]}}}}
    second = play()
    assert "changed=False" in second, second

"""The acceptance of the RESTCONF issue, end to end with the SSH side: what an admin changes with
curl takes effect for the next `scp -O` at once (no restart), a user created over the API logs in
over SSH immediately, and save-config makes nvram:startup-config (downloaded over SCP) match the
running config the API shows."""
import json
import os
import subprocess

import requests

import clients

NATIVE = "/restconf/data/Cisco-IOS-XE-native:native"


def curl(daemon, *args):
    out = subprocess.run(["curl", "-s", "-u", "tiger:lab", "-w", "\n%{http_code}"] + list(args),
                         capture_output=True, text=True, timeout=60)
    return int(out.stdout.rpartition("\n")[2])


def test_curl_toggles_scp_for_the_next_copy(daemon, workdir):
    url = "http://127.0.0.1:%d%s/ip/scp/server/enable" % (daemon.http_port, NATIVE)
    src = os.path.join(workdir, "f.txt")
    with open(src, "w") as f:
        f.write("hello\n")
    assert clients.upload(daemon.ssh_port, src, "bootflash:f1.txt").returncode == 0

    assert curl(daemon, "-X", "DELETE", url) == 204
    r = clients.upload(daemon.ssh_port, src, "bootflash:f2.txt")
    assert r.returncode != 0
    assert "scp server" in r.stderr.lower() or "disabled" in r.stderr.lower(), r.stderr
    assert not os.path.exists(os.path.join(daemon.bootflash, "f2.txt"))

    assert curl(daemon, "-X", "PUT", "-H", "Content-Type: application/yang-data+json",
                "-d", '{"enable":[null]}', url) == 201
    assert clients.upload(daemon.ssh_port, src, "bootflash:f3.txt").returncode == 0
    with open(os.path.join(daemon.bootflash, "f3.txt")) as f:
        assert f.read() == "hello\n"


def test_user_posted_logs_in_over_ssh(daemon, workdir):
    base = "http://127.0.0.1:%d" % daemon.http_port
    r = requests.post(base + NATIVE, auth=("tiger", "lab"),
                      headers={"Content-Type": "application/yang-data+json"},
                      data=json.dumps({"Cisco-IOS-XE-native:username": [
                          {"name": "newadmin", "privilege": 15,
                           "password": {"encryption": "0", "password": "N3w-pass"}}]}))
    assert r.status_code == 201, r.text
    src = os.path.join(workdir, "n.txt")
    with open(src, "w") as f:
        f.write("from newadmin\n")
    up = clients.upload(daemon.ssh_port, src, "bootflash:n.txt", user="newadmin",
                        password="N3w-pass")
    assert up.returncode == 0, up.stderr
    assert clients.upload(daemon.ssh_port, src, "bootflash:x.txt", user="newadmin",
                          password="wrong").returncode != 0
    for path in (NATIVE, NATIVE + "/username=newadmin"):
        body = requests.get(base + path, auth=("tiger", "lab")).text
        assert "N3w-pass" not in body and "$9$" in body


def test_save_config_matches_startup_over_scp(daemon, workdir):
    base = "http://127.0.0.1:%d" % daemon.http_port
    auth = ("tiger", "lab")
    hj = {"Content-Type": "application/yang-data+json"}
    assert requests.put(base + NATIVE + "/hostname", auth=auth, headers=hj,
                        data='{"Cisco-IOS-XE-native:hostname":"SAVEME"}').status_code == 201
    r = requests.post(base + "/restconf/operations/cisco-ia:save-config", auth=auth)
    assert r.status_code == 200
    running = requests.post(base + "/restconf/operations/scpd:show", auth=auth,
                            headers=dict(hj, Accept="text/plain"),
                            data='{"scpd:input":{"command":"running-config"}}').text
    dst = os.path.join(workdir, "startup.txt")
    dl = clients.download(daemon.ssh_port, "nvram:startup-config", dst)
    assert dl.returncode == 0, dl.stderr

    def body(text):
        # the configuration lines; the header and comments carry times and byte counts
        return [l for l in text.splitlines() if l and not l.startswith("!")
                and not l.startswith("Building") and not l.startswith("Current configuration")]

    with open(dst) as f:
        startup = f.read()
    assert "hostname SAVEME" in body(startup)
    assert body(startup) == body(running)

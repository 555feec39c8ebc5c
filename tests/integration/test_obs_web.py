"""The dashboard in headless Chromium (playwright-core from npm, Debian's /usr/bin/chromium):
log in, watch a slow upload appear with a progress bar, see its debug lines and the space it takes
in the file systems panel, switch the SCP server off and on, add a user and change its privilege. Screenshots go to tests/web/artifacts/."""
import os
import subprocess
import threading

import pytest

from obs_util import Api, slow_upload, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
WEB = os.path.join(os.path.dirname(HERE), "web")
MiB = 1 << 20


@pytest.mark.nosan
def test_dashboard_in_chromium(start_daemon):
    daemon = start_daemon(args=["--fs-size", "bootflash=64M"])
    assert os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")), \
        "run `make deps` (npm install in tests/web)"
    env = dict(os.environ, SCPD_URL="http://127.0.0.1:%d" % daemon.http_port,
               SCPD_ARTIFACTS=os.path.join(WEB, "artifacts"))
    p = subprocess.Popen(["node", "dashboard.mjs"], cwd=WEB, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    seen, upload = [], {}
    try:
        for line in p.stdout:
            line = line.strip()
            seen.append(line)
            if line == "READY":
                th = threading.Thread(target=lambda: upload.update(
                    rc=slow_upload(daemon, "bootflash:slow.bin", 6 * MiB, seconds=8)))
                th.start()
            elif line == "SCP-OFF":
                st = Api(daemon).state()
                assert st["enabled"] is False
        rc = p.wait(120)
    finally:
        if p.poll() is None:
            p.kill()
    err = p.stderr.read()
    assert rc == 0 and seen[-1] == "DONE", "stdout: %s\nstderr: %s" % (seen, err)
    assert "FS-PANEL" in seen
    assert upload.get("rc") == 0
    api = Api(daemon)
    assert api.state()["enabled"] is True
    r = api.get("/restconf/data/Cisco-IOS-XE-native:native/username=lion")
    assert r.status_code == 200, r.text
    assert r.json()["Cisco-IOS-XE-native:username"][0]["privilege"] == 7
    h = wait_for(lambda: api.history(), what="history")[0]
    assert (h["path"], h["result"], h["bytes"]) == ("bootflash:slow.bin", "ok", str(6 * MiB))

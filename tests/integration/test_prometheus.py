"""A real Prometheus server (Debian's prometheus) scrapes scpd's /metrics, as a dashboard's
Prometheus/Grafana would: with basic_auth as a privilege-1 user, and without credentials when scpd
runs with --metrics-public. The scraped byte counter must equal the bytes uploaded."""
import os
import socket
import subprocess
import time

import pytest
import requests

from conftest import LOCAL_AUTH
from obs_util import make_file, remote, scp, wait_for

MONITOR = "username monitor privilege 1 password 0 watch-only\n"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, workdir, jobs):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n")
            for name, port, auth in jobs:
                f.write("  - job_name: %s\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                        % (name, port))
                if auth:
                    f.write("    basic_auth: {username: %s, password: %s}\n" % auth)
        self.errpath = os.path.join(self.dir, "stderr")
        # Prometheus cannot report a port it picked itself: take a free one, retry if it was lost.
        for _ in range(5):
            self.port = _free_port()
            err = open(self.errpath, "wb")
            self.proc = subprocess.Popen(
                ["prometheus", "--config.file=" + conf, "--storage.tsdb.path=" + self.dir + "/data",
                 "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
                stdout=subprocess.DEVNULL, stderr=err)
            err.close()
            if self._ready():
                return
            self.stop()
        raise AssertionError("prometheus did not start: " + open(self.errpath).read()[-2000:])

    def _ready(self):
        deadline = time.time() + 60
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if requests.get(self.url("/-/ready"), timeout=5).status_code == 200:
                    return True
            except requests.exceptions.ConnectionError:
                pass
            time.sleep(0.2)
        return False

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def query(self, q):
        r = requests.get(self.url("/api/v1/query"), params={"query": q}, timeout=30)
        assert r.status_code == 200, r.text
        return {tuple(sorted(x["metric"].items())): x["value"][1]
                for x in r.json()["data"]["result"]}

    def value(self, q):
        """The single sample of q, or None while there is none."""
        res = self.query(q)
        return next(iter(res.values())) if len(res) == 1 else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def prometheus_for(workdir):
    started = []

    def start(jobs):
        p = Prometheus(workdir, jobs)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def test_prometheus_scrapes_metrics(start_daemon, workdir, prometheus_for):
    auth = start_daemon(config=LOCAL_AUTH + MONITOR, name="auth")
    public = start_daemon(config=LOCAL_AUTH, name="public", args=["--metrics-public"])
    prom = prometheus_for([("scpd", auth.http_port, ("monitor", "watch-only")),
                           ("scpd-public", public.http_port, None),
                           ("scpd-no-login", auth.http_port, None)])
    size = 3 * (1 << 20) + 17
    src = make_file(workdir, "image.bin", size)
    r = scp(auth, [src, remote("bootflash:image.bin")])
    assert r.returncode == 0, r.stderr

    # both scrapes succeed; the one without credentials against a daemon without
    # --metrics-public is refused (up 0), so a misconfigured scraper shows as down
    wait_for(lambda: prom.value('up{job="scpd"}') == "1", timeout=60, what="scpd job up")
    wait_for(lambda: prom.value('up{job="scpd-public"}') == "1", timeout=60,
             what="scpd-public job up")
    wait_for(lambda: prom.value('up{job="scpd-no-login"}') == "0", timeout=60,
             what="scpd-no-login job down")
    # the scraped counter is the bytes uploaded
    wait_for(lambda: prom.value('scpd_transfer_bytes_total{job="scpd",direction="in"}')
             == str(size), timeout=60, what="scraped byte counter")
    assert prom.value('scpd_scp_server_enabled{job="scpd"}') == "1"
    assert prom.value('scpd_scp_server_enabled{job="scpd-public"}') == "1"
    wait_for(lambda: prom.value('sum(scpd_transfers_total{job="scpd",direction="in",result="ok"})')
             == "1", timeout=60, what="scraped transfer counter")

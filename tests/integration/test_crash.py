"""kill -9 of the real daemon while clients commit through the API, repeated: a committed
version (one the API acknowledged) is never lost, and the database is never corrupt.

Each round restarts scpd on the same data directory, lets a client PUT the hostname in a loop
(h1, h2, ...: each acknowledged PUT is a committed version), kills scpd with SIGKILL at a random
moment, and checks after the restart that the store holds at least the last acknowledged version
and that its config is the one that version (or the one in flight) committed.
"""
import os
import random
import signal
import sqlite3
import threading
import time

import requests

from conftest import LOCAL_AUTH, Daemon

AUTH = ("tiger", "lab")
HOST = "/restconf/data/Cisco-IOS-XE-native:native/hostname"
HDR = {"Content-Type": "application/yang-data+json"}


def _url(d, path):
    return "http://127.0.0.1:%d%s" % (d.http_port, path)


def _committer(d, start, acked, errors, stop):
    """PUTs hostname h<start>, h<start+1>, ... until the daemon dies; records acknowledged n, and
    a refusal in errors (an AssertionError raised in this thread would not fail the test)."""
    s = requests.Session()
    n = start
    while not stop.is_set():
        try:
            r = s.put(_url(d, HOST), json={"Cisco-IOS-XE-native:hostname": "h%d" % n},
                      headers=HDR, auth=AUTH, timeout=5)
        except requests.RequestException:
            return
        if r.status_code in (200, 201, 204):
            acked.append((n, int(r.headers["ETag"].strip('"'))))
            n += 1
        else:
            errors.append("PUT hostname: %d %s" % (r.status_code, r.text))
            return


def test_kill9_of_scpd_during_api_commits_never_loses_a_version(workdir):
    data = os.path.join(workdir, "data")
    rng = random.Random(int(time.time()))
    first = True
    next_n = 1
    total = 0
    rounds = 8
    for rnd in range(rounds + 1):
        d = Daemon(data, args=(), ssh=False, http=True,
                   config=(LOCAL_AUTH + "hostname h0\n") if first else None)
        first = False
        # After a restart: the last acknowledged version (if any) survived.
        r = requests.get(_url(d, HOST), auth=AUTH, timeout=10)
        assert r.status_code == 200, r.text
        version = int(r.headers["ETag"].strip('"'))
        if total:
            name = r.json()["Cisco-IOS-XE-native:hostname"]
            assert version >= last_version, "round %d: version %d < acknowledged %d" % (
                rnd, version, last_version)
            assert name in ("h%d" % last_n, "h%d" % (last_n + 1)), (
                "round %d: hostname %s, last acknowledged h%d" % (rnd, name, last_n))
            next_n = int(name[1:]) + 1
        if rnd == rounds:
            assert d.stop() == 0, d.log()
            break
        acked, errors, stop = [], [], threading.Event()
        t = threading.Thread(target=_committer, args=(d, next_n, acked, errors, stop))
        t.start()
        time.sleep(rng.uniform(0.3, 1.2))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        stop.set()
        t.join(30)
        d.stop()
        assert not errors, "round %d: %s" % (rnd, errors)
        assert acked, "round %d: no commit was acknowledged before the kill" % rnd
        last_n, last_version = acked[-1]
        total += len(acked)
        db = sqlite3.connect(os.path.join(data, "scpd.db"))
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
    assert total >= 8

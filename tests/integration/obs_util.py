"""Helpers of the observability tests: the RESTCONF API over HTTP (requests), an SSE client for
the RFC 8040 event streams, and transfers with the real OpenSSH scp -O (through clients.py) and a
deliberately slow paramiko SCP upload (so a transfer stays visible for a few seconds).
"""
import base64
import http.client
import os
import re
import threading
import time

import paramiko
import requests

import clients

USER, PASSWORD = "tiger", "lab"
JSON = "application/yang-data+json"


class Api:
    """requests against the daemon's HTTP door with Basic credentials."""

    def __init__(self, daemon, user=USER, password=PASSWORD):
        self.base = "http://127.0.0.1:%d" % daemon.http_port
        self.auth = (user, password) if user else None

    def get(self, path, **kw):
        return requests.get(self.base + path, auth=self.auth, timeout=30, **kw)

    def put(self, path, body, **kw):
        return requests.put(self.base + path, json=body, auth=self.auth, timeout=30,
                            headers={"Content-Type": JSON}, **kw)

    def debug(self, on):
        r = self.put("/restconf/data/scpd:debug/scp", {"scpd:scp": on})
        assert r.status_code == 204, r.text

    def state(self):
        r = self.get("/restconf/data/scpd:scp-state")
        assert r.status_code == 200, r.text
        return r.json()["scpd:scp-state"]

    def history(self, **params):
        r = self.get("/restconf/data/scpd:scp-state/transfers", params=params)
        assert r.status_code == 200, r.text
        return r.json()["scpd:transfers"]["transfer"]

    def traces(self, since=0):
        r = self.get("/restconf/data/scpd:debug/traces", params={"since": since})
        assert r.status_code == 200, r.text
        return r.json()["scpd:traces"]

    def metrics(self):
        r = self.get("/metrics")
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.text


def wait_for(pred, timeout=30, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


class SSE:
    """A Server-Sent Events subscriber on its own thread: .events is a list of
    (id, notification dict), .comments the comment lines, in arrival order."""

    def __init__(self, daemon, stream, user=USER, password=PASSWORD, last_event_id=None):
        import json
        self._json = json
        self.conn = http.client.HTTPConnection("127.0.0.1", daemon.http_port, timeout=60)
        headers = {"Accept": "text/event-stream",
                   "Authorization": "Basic " + base64.b64encode(
                       ("%s:%s" % (user, password)).encode()).decode()}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/restconf/streams/" + stream, headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.content_type = self.resp.getheader("Content-Type")
        self.events, self.comments = [], []
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        if self.status == 200:
            self.thread.start()

    def _run(self):
        ev_id, data = None, []
        try:
            while not self.closed:
                line = self.resp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\r\n")
                if line == "":
                    if data:
                        n = self._json.loads("\n".join(data))["ietf-restconf:notification"]
                        with self.lock:
                            self.events.append((ev_id, n))
                    ev_id, data = None, []
                elif line.startswith(":"):
                    with self.lock:
                        self.comments.append(line[1:].strip())
                elif line.startswith("id:"):
                    ev_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        except Exception:  # noqa: BLE001 - closing the connection ends the reader anyhow
            return

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait(self, pred, timeout=30, what="event"):
        return wait_for(lambda: [e for e in self.snapshot() if pred(e[1])] or None,
                        timeout=timeout, what=what)

    def close(self):
        self.closed = True
        try:
            self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()


def scp(daemon, args, password=PASSWORD, extra=()):
    """OpenSSH scp -O (clients.py: password through SSH_ASKPASS, no tty)."""
    return clients.run_scp(daemon.ssh_port, list(args), password=password,
                           extra=["-o", "LogLevel=ERROR"] + list(extra))


def remote(path, user=USER):
    return "%s@127.0.0.1:%s" % (user, path)


def make_file(dirpath, name, size):
    p = os.path.join(dirpath, name)
    with open(p, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    return p


def slow_upload(daemon, target, size, seconds, user=USER, password=PASSWORD):
    """Uploads size bytes over the SCP protocol (paramiko exec "scp -t") spread over about
    `seconds`, so the transfer stays live long enough to be watched. Returns the scp exit
    status the server sent."""
    t = paramiko.Transport(("127.0.0.1", daemon.ssh_port))
    try:
        t.connect(username=user, password=password)
        ch = t.open_session()
        ch.exec_command("scp -t %s" % target)

        def ack():
            b = ch.recv(1)
            if b != b"\0":
                raise AssertionError("scp refused: %r %r" % (b, ch.recv(1024)))
        ack()
        ch.sendall(b"C0644 %d %s\n" % (size, os.path.basename(target.split(":")[-1]).encode()))
        ack()
        steps = max(1, int(seconds * 10))
        chunk = (size + steps - 1) // steps
        sent = 0
        while sent < size:
            n = min(chunk, size - sent)
            ch.sendall(os.urandom(n))
            sent += n
            time.sleep(seconds / steps)
        ch.sendall(b"\0")
        ack()
        ch.shutdown_write()
        return ch.recv_exit_status()
    finally:
        t.close()


def metric(text, name, labels=""):
    """The value of one sample of /metrics text (name plus its exact label set)."""
    m = re.search(r"^%s%s (\d+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    assert m, "%s%s missing from /metrics" % (name, labels)
    return int(m.group(1))

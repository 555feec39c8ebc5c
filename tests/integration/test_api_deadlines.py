"""Slow HTTP clients (slowloris): a request line and headers must arrive within
LIM_HTTP_HEADER_SECS (10 s) and a body within LIM_HTTP_BODY_SECS (120 s) however steadily they
trickle; clients that trickle are cut while others are served, and an event stream or a slow but
steady config upload is not cut. The real daemon on loopback; raw sockets, requests, SSE."""
import json
import socket
import threading
import time

import requests

from obs_util import SSE, wait_for

HEADER_SECS = 10


def _from(source, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def test_trickling_clients_are_cut_while_others_are_served(daemon):
    port = daemon.http_port
    # 200 clients from 13 loopback sources (LIM_HTTP_PER_SOURCE is 16), each sending one more
    # header byte every 2 s: never idle long enough for the idle timeout
    socks = [_from("127.0.0.%d" % (2 + i % 13), port) for i in range(200)]
    for s in socks:
        s.sendall(b"GET /restconf HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    silent = _from("127.0.0.15", port)   # connects and sends nothing
    live = set(range(len(socks)))
    stop = threading.Event()

    def trickle():
        while not stop.is_set() and live:
            for i in list(live):
                try:
                    socks[i].sendall(b"a")
                    socks[i].setblocking(False)
                    try:
                        if socks[i].recv(4096) == b"":
                            live.discard(i)
                    except BlockingIOError:
                        pass
                    finally:
                        socks[i].setblocking(True)
                except OSError:   # reset or broken pipe: the server closed it
                    live.discard(i)
            stop.wait(2)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        # while they trickle, a normal client from another source gets its answer
        r = requests.get("http://127.0.0.1:%d/restconf" % port, auth=("tiger", "lab"), timeout=30)
        assert r.status_code == 200
        # every trickler is cut, well before three times the deadline
        wait_for(lambda: not live, timeout=3 * HEADER_SECS, interval=0.5,
                 what="the trickling clients to be disconnected")
    finally:
        stop.set()
        t.join(10)
        for s in socks:
            s.close()
    silent.settimeout(3 * HEADER_SECS)
    assert silent.recv(100) == b""
    silent.close()
    log = daemon.log()
    assert "http connection closed: request headers not complete within 10 s (slow client)" in log
    assert "http connection closed: no request line within 10 s" in log
    r = requests.get("http://127.0.0.1:%d/restconf" % port, auth=("tiger", "lab"), timeout=30)
    assert r.status_code == 200


def test_event_stream_and_slow_body_outlive_the_header_deadline(daemon):
    port = daemon.http_port
    sub = SSE(daemon, "security")
    assert sub.status == 200
    body = json.dumps({"scpd:input": {"config": "hostname SLOWBODY\n"}}).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(b"POST /restconf/operations/scpd:apply-config HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Basic dGlnZXI6bGFi\r\n"
                  b"Content-Type: application/yang-data+json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        # the body takes longer than the header deadline, at a steady pace
        pieces = 13
        step = (len(body) + pieces - 1) // pieces
        for i in range(0, len(body), step):
            s.sendall(body[i:i + step])
            time.sleep(1)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = s.recv(4096)
            assert chunk, "connection closed without a reply: %r" % reply
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
    finally:
        s.close()
    r = requests.get("http://127.0.0.1:%d/restconf/data/Cisco-IOS-XE-native:native/hostname"
                     % port, auth=("tiger", "lab"), timeout=30)
    assert r.json() == {"Cisco-IOS-XE-native:hostname": "SLOWBODY"}
    # the stream, older than the header deadline, still delivers events
    r = requests.get("http://127.0.0.1:%d/restconf" % port, auth=("tiger", "wrong"), timeout=30)
    assert r.status_code == 401
    sub.wait(lambda n: True, timeout=30, what="a security event on the old stream")
    sub.close()
    assert "http connection closed" not in daemon.log()

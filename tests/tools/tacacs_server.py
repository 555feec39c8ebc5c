#!/usr/bin/python3
"""A small TACACS+ server (RFC 8907) for the integration tests: authentication (ASCII login with
GETPASS, and PAP), authorization (service=shell answered with the user's priv-lvl) and accounting
(each record appended to a JSON-lines file the tests read). Its wire format is checked against an
independent client, Debian's Authen::TacacsPlus (tests/integration/test_tacacs.py).

    tacacs_server.py --key KEY --user NAME:PASSWORD:PRIV [--user ...] --acct-log FILE
                     [--events FILE] [--blackhole] [--otp NAME:CODE] [--delay SECONDS]

Listens on 127.0.0.1, port chosen by the system; prints "listening on PORT" and flushes.
--blackhole accepts connections and never answers (a server that times out). Every connection and
every request is one JSON line in --events, so tests count what reached the server.
--otp NAME:CODE makes the ASCII login of NAME a one-time-password server's: after the right
password it asks GETDATA "OTP: " (echo on) and passes only when the answer is CODE.
--delay SECONDS waits that long before each authentication reply (a slow server).
"""
import argparse
import hashlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time

AUTHEN, AUTHOR, ACCT = 1, 2, 3
FLAG_UNENCRYPTED, FLAG_SINGLE = 0x01, 0x04
PASS, FAIL, GETDATA, GETUSER, GETPASS, ERROR = 0x01, 0x02, 0x03, 0x04, 0x05, 0x07
AUTHOR_PASS_ADD, AUTHOR_FAIL = 0x01, 0x10
ACCT_SUCCESS = 0x01

ARGS = None
LOCK = threading.Lock()


def log_event(path, rec):
    if not path:
        return
    with LOCK, open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def pad(session_id, key, version, seq, length):
    out, prev = b"", b""
    base = struct.pack("!I", session_id) + key + bytes([version, seq])
    while len(out) < length:
        prev = hashlib.md5(base + prev).digest()
        out += prev
    return out[:length]


def crypt(hdr, body, key):
    if hdr["flags"] & FLAG_UNENCRYPTED or not key:
        return body
    p = pad(hdr["session_id"], key, hdr["version"], hdr["seq"], len(body))
    return bytes(a ^ b for a, b in zip(body, p))


def recv_n(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_packet(sock, key):
    raw = recv_n(sock, 12)
    if raw is None:
        return None, None
    version, typ, seq, flags, sid, length = struct.unpack("!BBBBII", raw)
    if version >> 4 != 0xC or length > 65536:
        raise ValueError("bad header")
    hdr = dict(version=version, type=typ, seq=seq, flags=flags, session_id=sid)
    body = recv_n(sock, length)
    if body is None:
        return None, None
    return hdr, crypt(hdr, body, key)


def send_packet(sock, req_hdr, body, key, single):
    hdr = dict(req_hdr)
    hdr["seq"] = req_hdr["seq"] + 1
    flags = req_hdr["flags"] & FLAG_UNENCRYPTED
    if single:
        flags |= FLAG_SINGLE
    hdr["flags"] = flags
    enc = crypt(hdr, body, key)
    sock.sendall(struct.pack("!BBBBII", hdr["version"], hdr["type"], hdr["seq"], flags,
                             hdr["session_id"], len(enc)) + enc)


def authen_reply(status, msg=b"", flags=0):
    return struct.pack("!BBHH", status, flags, len(msg), 0) + msg


def fields(body, off, lens):
    out = []
    for n in lens:
        out.append(body[off:off + n])
        off += n
    return out, off


def check_user(user, password):
    u = ARGS.users.get(user)
    return u is not None and u[0] == password


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        log_event(ARGS.events, {"event": "connection", "peer": self.client_address[0]})
        if ARGS.blackhole:
            try:
                while sock.recv(4096):
                    pass
            except OSError:
                pass
            return
        key = ARGS.key.encode()
        single = False
        pending = {}   # session_id -> user of an ASCII login waiting for its password
        while True:
            try:
                hdr, body = read_packet(sock, key)
            except (ValueError, OSError):
                return
            if hdr is None:
                return
            if hdr["seq"] == 1 and hdr["flags"] & FLAG_SINGLE:
                single = True
            try:
                self.dispatch(sock, hdr, body, key, single, pending)
            except (IndexError, struct.error):
                # what a real server does with a body it cannot read (a wrong key): drop it
                log_event(ARGS.events, {"event": "undecodable", "type": hdr["type"]})
                return
            if not single and hdr["session_id"] not in pending:
                return

    def dispatch(self, sock, hdr, body, key, single, pending):
        sid = hdr["session_id"]
        if hdr["type"] == AUTHEN and hdr["seq"] == 1:
            action, priv, atype, svc, ul, pl, rl, dl = struct.unpack("!8B", body[:8])
            (user, port, rem, data), end = fields(body, 8, [ul, pl, rl, dl])
            if end != len(body):
                raise IndexError("lengths")
            user = user.decode(errors="replace")
            log_event(ARGS.events, {"event": "authen-start", "user": user, "type": atype,
                                    "rem_addr": rem.decode(errors="replace")})
            if atype == 2:   # PAP: the password is the data
                ok = check_user(user, data.decode(errors="replace"))
                self.authen_done(sock, hdr, key, single, user, ok)
            elif user:
                pending[sid] = user
                send_packet(sock, hdr, authen_reply(GETPASS, b"Password: ", 1), key, single)
            else:   # no user in START (Authen::TacacsPlus): ask for it first
                pending[sid] = None
                send_packet(sock, hdr, authen_reply(GETUSER, b"Username: "), key, single)
        elif hdr["type"] == AUTHEN:
            ml, dl, flags = struct.unpack("!HHB", body[:5])
            if 5 + ml + dl != len(body):
                raise IndexError("lengths")
            msg = body[5:5 + ml].decode(errors="replace")
            user = pending.pop(sid, "")
            if user is None:   # the answer to GETUSER
                pending[sid] = msg
                send_packet(sock, hdr, authen_reply(GETPASS, b"Password: ", 1), key, single)
                return
            if isinstance(user, tuple):   # the answer to the OTP prompt
                ok = msg == ARGS.otp[user[1]]
                log_event(ARGS.events, {"event": "otp", "user": user[1], "ok": ok})
                self.authen_done(sock, hdr, key, single, user[1], ok)
                return
            if user in ARGS.otp and check_user(user, msg):
                pending[sid] = ("otp", user)
                self.delay()
                send_packet(sock, hdr, authen_reply(GETDATA, b"OTP: ", 0), key, single)
                return
            self.authen_done(sock, hdr, key, single, user, check_user(user, msg))
        elif hdr["type"] == AUTHOR:
            meth, priv, atype, svc, ul, pl, rl, n = struct.unpack("!8B", body[:8])
            alens = list(body[8:8 + n])
            (user, port, rem), off = fields(body, 8 + n, [ul, pl, rl])
            args, end = fields(body, off, alens)
            if end != len(body):
                raise IndexError("lengths")
            user = user.decode(errors="replace")
            args = [a.decode(errors="replace") for a in args]
            log_event(ARGS.events, {"event": "author", "user": user, "args": args})
            u = ARGS.users.get(user)
            if u is None:
                rep = struct.pack("!BBHH", AUTHOR_FAIL, 0, 12, 0) + b"unknown user"
            else:
                av = ("priv-lvl=%d" % u[1]).encode()
                rep = struct.pack("!BBHHB", AUTHOR_PASS_ADD, 1, 0, 0, len(av)) + av
            send_packet(sock, hdr, rep, key, single)
        elif hdr["type"] == ACCT:
            flags, meth, priv, atype, svc, ul, pl, rl, n = struct.unpack("!9B", body[:9])
            alens = list(body[9:9 + n])
            (user, port, rem), off = fields(body, 9 + n, [ul, pl, rl])
            args, end = fields(body, off, alens)
            if end != len(body):
                raise IndexError("lengths")
            rec = {"flags": "start" if flags & 0x02 else "stop" if flags & 0x04 else str(flags),
                   "user": user.decode(errors="replace"), "port": port.decode(errors="replace"),
                   "rem_addr": rem.decode(errors="replace"), "priv_lvl": priv}
            for a in args:
                k, _, v = a.decode(errors="replace").partition("=")
                rec[k] = v
            log_event(ARGS.acct_log, rec)
            log_event(ARGS.events, {"event": "acct", "user": rec["user"], "flags": rec["flags"]})
            send_packet(sock, hdr, struct.pack("!HHB", 0, 0, ACCT_SUCCESS), key, single)

    def delay(self):
        if ARGS.delay:
            time.sleep(ARGS.delay)

    def authen_done(self, sock, hdr, key, single, user, ok):
        log_event(ARGS.events, {"event": "authen", "user": user, "ok": ok})
        self.delay()
        send_packet(sock, hdr, authen_reply(PASS if ok else FAIL,
                                            b"" if ok else b"bad credentials"), key, single)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", default="")
    ap.add_argument("--user", action="append", default=[])
    ap.add_argument("--acct-log")
    ap.add_argument("--events")
    ap.add_argument("--blackhole", action="store_true")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--otp", action="append", default=[])
    ap.add_argument("--delay", type=float, default=0)
    ARGS = ap.parse_args()
    ARGS.otp = dict(o.split(":", 1) for o in ARGS.otp)
    ARGS.users = {}
    for u in ARGS.user:
        name, pw, priv = u.split(":", 2)
        ARGS.users[name] = (pw, int(priv))
    srv = Server((ARGS.host, 0), Handler)
    print("listening on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

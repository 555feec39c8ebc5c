"""The daemon's log as an administrator reads it (stderr and `show logging`): a user name and a
path a peer chose, holding C0 and C1 control characters and bytes that are not UTF-8, arrive
escaped (\\xHH, \\u00HH), never raw, so a peer cannot forge lines or drive the reader's terminal."""
import paramiko

import clients
from obs_util import wait_for

# (a name with C0 controls is refused before it is logged: the log shows it empty)
EVIL_USER = b"ev\xc2\x9b2Jil\x85\xff"   # U+009B CSI, a raw C1 byte, 0xff
EVIL_USER_LOGGED = "user=ev\\u009b2Jil\\x85\\xff "
EVIL_PATH = b"bootflash:n\xc2\x85ame\r\xc3(.bin"          # U+0085 NEL, CR, a cut sequence
EVIL_PATH_LOGGED = "download of bootflash:n\\u0085ame\\x0d\\xc3(.bin"


def test_user_name_and_path_reach_the_log_escaped(daemon):
    t = paramiko.Transport(("127.0.0.1", daemon.ssh_port))
    t.start_client(timeout=30)
    try:
        t.auth_password(EVIL_USER, "wrong")
    except paramiko.AuthenticationException:
        pass
    t.close()
    wait_for(lambda: EVIL_USER_LOGGED in daemon.log(), what="the failed login in the log")

    c, ch = clients.raw_scp(daemon.ssh_port, b"scp -f " + EVIL_PATH)
    ch.sendall(b"\0")
    code, msg = clients.read_reply(ch)
    assert code == 1, msg
    c.close()
    wait_for(lambda: EVIL_PATH_LOGGED in daemon.log(), what="the download in the log")

    raw = open(daemon.errpath, "rb").read()
    for b in (b"\xc2\x9b", b"\xc2\x85", b"\x85", b"\xff", b"\r", b"\xc3("):
        assert b not in raw, (b, raw[-2000:])

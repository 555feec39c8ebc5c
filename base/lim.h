/* limits: every bound a remote peer (SSH client, HTTP client, config file) could push against,
 * in one place, each with its reason. Modules include this; nobody hard-codes a bound elsewhere. */
#ifndef SCPD_LIM_H
#define SCPD_LIM_H

/* A limit's value inside a message literal: "(limit " LIM_STR(LIM_X) ")". */
#define LIM_STR_(x) #x
#define LIM_STR(x) LIM_STR_(x)

/* ---- SSH sessions ---------------------------------------------------------------------------- */
#define LIM_SESSIONS_TOTAL        256   /* concurrent SSH sessions; memory per session is small */
#define LIM_SESSIONS_PER_SOURCE   64    /* one source cannot take every slot. A "source" is an
                                         * IPv4 address, or an IPv6 /64 (one host's share of a
                                         * LAN: an attacker holds a whole /64) */
#define LIM_CHANNELS_PER_SESSION  4     /* scp uses one; OpenSSH multiplexing a few */
#define LIM_CONSOLE_SESSIONS      4     /* `scpd console` sessions at once: a way back for an admin,
                                              * not a second door */
/* Receive windows (daemon/ssh_window.h, docs/ssh-window.md): what a channel lets its peer send
 * ahead of what was read, i.e. what it may hold unread. */
#define LIM_SSH_WINDOW_MAX        (7936u << 10) /* one channel: 7.75 MiB. OpenSSH's client reads
                                              * ahead into its channel buffer (16 MiB at most) up
                                              * to the window and moves that buffer's content on
                                              * every read once twice the window passes 16 MiB:
                                              * with 8 MiB its CPU per GiB doubled, from 10 MiB
                                              * uploads crawled (docs/ssh-window.md). 7.75 MiB
                                              * holds a 1 Gbit/s link at 50 ms RTT with room for
                                              * the top-up step */
#define LIM_SSH_WINDOW_SESSION    (16u << 20) /* all channels of a session */
#define LIM_SSH_WINDOW_TOTAL      (512u << 20) /* all sessions: LIM_SESSIONS_TOTAL x 2 MiB (the
                                                * first window); growth takes what is left */
#define LIM_SSH_IDLE_SECS         600   /* no byte in either direction for this long: disconnect */
#define LIM_SSH_LIFETIME_SECS     86400 /* default `ip ssh session-lifetime`: a session older than
                                           this ends, busy or not (a forgotten session holds no
                                           access for ever; the account is re-checked anyway) */
#define LIM_SSH_LIFETIME_MAX_SECS 604800 /* the largest `ip ssh session-lifetime` (a week) */
#define LIM_AUTH_USER_LEN         64    /* IOS usernames are at most 64 characters */
#define LIM_PASSWORD_LEN          256
#define LIM_PENDING_HANDSHAKES    64    /* unauthenticated sessions at once (pre-auth DoS bound) */
#define LIM_PENDING_PER_SOURCE    8     /* unauthenticated sessions of one source at once: well
                                         * below LIM_PENDING_HANDSHAKES, so one source (idle TCP
                                         * connections held for `ip ssh time-out`) cannot fill
                                         * the pool; it takes 8 sources. More connections of a
                                         * source wait, unread, for one of its 8 to finish, so a
                                         * burst of scp from one host is served, not refused */
#define LIM_PENDING_WAITING       128   /* connections waiting so, in total; with the pool
                                         * (64 + 128 < LIM_SESSIONS_TOTAL) unauthenticated
                                         * sessions never take the last slots from logged-in ones */

/* ---- SCP protocol ---------------------------------------------------------------------------- */
#define LIM_SCP_RECORD_LEN        4096  /* one C/D/E/T line incl. newline; a name is <= 255 */
#define LIM_SCP_COMMAND_LEN       4096  /* exec command line "scp -t ..." */
#define LIM_SCP_DEPTH             32    /* nested D records in -r uploads */
#define LIM_SCP_ERRMSG_LEN        1024  /* \1 / \2 message line from a client */

/* ---- SFTP (draft-ietf-secsh-filexfer-02, version 3) ----------------------------------------- */
#define LIM_SFTP_DATA             ((256u << 10) - 1024) /* data of one READ/WRITE (advertised
                                                * through limits@openssh.com); larger READs are
                                                * answered short. OpenSSH's sftp refuses messages
                                                * over 256 KiB, header included: its own server
                                                * advertises the same 261120 */
#define LIM_SFTP_PACKET           (LIM_SFTP_DATA + 1024) /* one request: header, handle, data */
#define LIM_SFTP_HANDLES          64    /* open files and directories per session. OpenSSH's
                                         * client keeps min(64, this) requests in flight (its
                                         * sftp-client.c do_init): fewer than 64 would cap an
                                         * SFTP copy across a WAN below what the window allows */
#define LIM_SFTP_HANDLE_LEN       256   /* a handle string from the client (the draft's bound) */

/* ---- EXEC command line (cli) --------------------------------------------------------------- */
#define LIM_CLI_LINE_LEN          2048  /* one command line: "verify /md5 " and a LIM_PATH_LEN path
                                         * fit; a longer line is refused whole, never cut */
#define LIM_CLI_WORDS             8     /* words of one command line (the longest command has 4) */
#define LIM_CLI_REGEX_LEN         256   /* the expression of an output modifier (| include RE) */
#define LIM_CLI_REGEX_DEPTH       16    /* its nested groups: glibc's regcomp recurses per level
                                         * (1020 levels overflow a 256 KiB stack) */

/* ---- IOS file system ------------------------------------------------------------------------- */
#define LIM_PATH_LEN              1024  /* whole IFS path, e.g. "bootflash:/dir/file" */
#define LIM_NAME_LEN              255   /* one path component (NAME_MAX) */
#define LIM_CONFIG_FILE_BYTES     (4u << 20) /* config text copied to running/startup-config */

/* ---- device-initiated copies (copy scp://..., copy sftp://...) ------------------------------- */
#define LIM_URL_LEN               2048  /* one copy URL as typed; user, password, host, port and a
                                         * LIM_PATH_LEN path fit */
#define LIM_URL_HOST_LEN          253   /* a DNS name (RFC 1035) */
#define LIM_RCOPY_CONCURRENT      4     /* device-initiated copies at once, all sessions together:
                                         * each holds an outgoing SSH connection and a thread */
#define LIM_RCOPY_CONNECT_SECS    15    /* TCP connect + key exchange + authentication */
#define LIM_RCOPY_IDLE_SECS       30    /* no byte from the remote for this long: the copy fails */

/* ---- configuration language ------------------------------------------------------------------ */
#define LIM_CFG_LINE_LEN          1024  /* one config line */
#define LIM_CFG_USERS             20000 /* rendered (at most ~175 B a user) they fit in
                                           LIM_CONFIG_FILE_BYTES, so any legal running config
                                           can be copied back in */
#define LIM_CFG_METHODS           4     /* methods per AAA list (IOS allows 4) */
#define LIM_CFG_LISTS             64    /* named method lists per kind */
#define LIM_CFG_KEYS_PER_USER     16    /* pubkey-chain key hashes per user */
#define LIM_CFG_AAA_SERVERS       64    /* tacacs/radius servers: IOS boxes use a handful */
#define LIM_CFG_GROUP_SERVERS     8     /* servers per aaa group server: each may cost a timeout */
#define LIM_AAA_RADIUS_SESSIONS   256   /* sessions whose RADIUS Access-Accept level is kept
                                         * for their exec authorizations (least recent reused:
                                         * LIM_SESSIONS_TOTAL SSH sessions fit) */
#define LIM_TACACS_PROMPTS        4     /* TACACS+ prompts after the password passed to one
                                         * keyboard-interactive login (a one-time password needs
                                         * one; a server asking on and on is refused) */
#define LIM_CFG_GROUPS            32    /* aaa group server blocks */
#define LIM_CFG_ERRORS            100   /* errors reported for one file; the rest are counted */
#define LIM_CFG_ACLS              16    /* ip access-list standard NAME (for access-class: a few) */
#define LIM_CFG_ACES              64    /* entries of one standard access list */
#define LIM_CFG_BANNER_LEN        2048  /* text of one banner (IOS allows about 2 KB too) */
#define LIM_CFG_VTY_LAST          98    /* line vty 0 N: N at most (IOS XE: 0-98 by default) */
#define LIM_CFG_KEYSTRING_LEN     16384 /* base64 of one pubkey-chain key-string: a 16384-bit RSA
                                         * key is ~2.8 KB of base64, so any real key fits */

/* ---- NETCONF (RFC 6241/6242 over SSH) -------------------------------------------------------- */
#define LIM_NETCONF_MSG_BYTES     (LIM_CONFIG_FILE_BYTES + (64u << 10)) /* one message (rpc and
                                         * framing): the largest config as XML fits, with room
                                         * for its markup; more is refused with too-big and the
                                         * session ends (the stream cannot be resynchronized) */
#define LIM_NETCONF_SESSIONS      16    /* NETCONF sessions at once: each may hold a parsed
                                         * message of LIM_NETCONF_MSG_BYTES and its XML tree */
#define LIM_NETCONF_CHUNK_DIGITS  10    /* RFC 6242 section 4.2: chunk-size is 1..4294967295 */
#define LIM_NETCONF_NOTIFY_QUEUE  256   /* notifications pending for one subscriber (RFC 5277)
                                         * before it loses the oldest (told in <lost>): a few
                                         * seconds of a busy daemon, ~2 KiB each */

/* ---- HTTP API -------------------------------------------------------------------------------- */
#define LIM_HTTP_CONNECTIONS      256
#define LIM_HTTP_PER_SOURCE       16    /* a source that holds its connections open (slowloris,
                                         * cut after LIM_HTTP_HEADER_SECS but reconnecting)
                                         * needs 16 addresses to fill LIM_HTTP_CONNECTIONS;
                                         * browsers open 6 per host */
#define LIM_HTTP_BODY_BYTES       (4u << 20) /* JSON body or config text */
#define LIM_HTTP_HEADERS          64    /* request header fields; browsers send ~20 */
#define LIM_HTTP_HEADER_BYTES     (32u << 10) /* request line + headers, as nginx's large buffers */
#define LIM_HTTP_TIMEOUT_SECS     15    /* a connection idle this long is closed */
#define LIM_HTTP_HEADER_SECS      10    /* request line + headers complete within this, from the
                                         * accept or the previous response, however steadily
                                         * they trickle (slowloris) */
#define LIM_HTTP_BODY_SECS        120   /* a body complete within this from its headers: the
                                         * largest (LIM_HTTP_BODY_BYTES) at >= 35 KB/s. An event
                                         * stream's response has no deadline */
#define LIM_HTTP_SSE_CLIENTS      64    /* event-stream subscribers */
#define LIM_HTTP_SSE_PER_USER     16    /* event-stream subscribers of one user: a quarter of
                                         * LIM_HTTP_SSE_CLIENTS, so one account (from any number
                                         * of addresses) cannot hold every slot */
#define LIM_API_FIELDS_LEN        512   /* a fields= query value, and each path it expands to */
#define LIM_API_FIELDS_DEPTH 8 /* nesting of '(' in fields= (the native tree is shallower) */
#define LIM_TOKEN_TTL_SECS        3600  /* bearer tokens of the dashboard */
#define LIM_TOKENS                1024
#define LIM_TOKENS_PER_USER       16    /* a user's new token evicts that user's oldest, so no user
                                         * can push others' tokens out of the LIM_TOKENS table */

/* ---- traces and statistics ------------------------------------------------------------------- */
#define LIM_TRACE_RING            4096  /* trace events kept in memory */
#define LIM_TRACE_LINE            512
#define LIM_HISTORY_ROWS          10000 /* transfer history rows kept in sqlite */
#define LIM_HISTORY_DAYS          30
#define LIM_AUDIT_ROWS            10000
/* --fs-dir shared by instances: a temporary upload file untouched this long is a crash's
 * leftover (an upload in flight writes far more often; a silent session is cut at
 * LIM_SSH_IDLE_SECS, half of it). The running instances look for such files this often. */
#define LIM_IFS_TMP_STALE_SECS    1200
#define LIM_IFS_REAP_SECS         60
/* Reservations held in a shared store (--fs-size with --store postgresql://): an upload of
 * unknown size (SFTP) reserves this much ahead of its end, so it asks the store once per 4 MiB,
 * not once per write (it falls back to exactly what it needs when that much is not free). */
#define LIM_IFS_RESV_AHEAD        (4u << 20)
/* PostgreSQL store (store_pg.c): a commit of another instance is loaded within LIM_PG_POLL_MS
 * even if its notification is lost; an unreachable server is retried after a backoff doubling
 * from MIN to MAX, so an outage costs at most MAX after the server is back. */
#define LIM_PG_POLL_MS            500
#define LIM_PG_BACKOFF_MIN_MS     250
#define LIM_PG_BACKOFF_MAX_MS     2000
/* Each instance says it is alive every LIM_PG_HEARTBEAT_MS; one silent for LIM_PG_DEAD_MS (a
 * kill -9, a lost host) is dead and the others drop its space reservations. Ten heartbeats: a
 * busy server or a short network hiccup is not a death. */
#define LIM_PG_HEARTBEAT_MS       1000
#define LIM_PG_DEAD_MS            10000
/* Transfer and security events carried to the other instances (NOTIFY scpd_events): queued
 * this many at most while the database is slow or away (then dropped, counted in the log), each
 * at most this long (PostgreSQL's NOTIFY payload limit is 8000 bytes). */
#define LIM_PG_EVENT_QUEUE        1024
#define LIM_PG_EVENT_BYTES        2048

/* ---- login block-for ------------------------------------------------------------------------- */
#define LIM_BLOCK_SOURCES         4096  /* source addresses tracked for block-for */
#define LIM_BLOCK_FAIL_TIMES      32    /* failure times kept per source for the sliding window
                                         * (256 bytes each); `attempts N` above this is sampled */

#endif

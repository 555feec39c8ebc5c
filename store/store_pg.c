/* store_pg: the PostgreSQL backend (`--store postgresql://...`), for several scpd instances on one
 * database behind a load balancer (docs/postgresql.md).
 *
 * Schema. `scpd_schema` holds the version; the ordered list `migrations` brings it forward, all
 * in one transaction under an advisory lock, so instances starting together migrate once and a
 * crash leaves the previous schema. Names that are compared with strcmp() in memory (users, pubkey
 * users, method lists) are COLLATE "C", so ORDER BY gives the order the config arrays are kept in,
 * whatever the database's locale.
 *
 * Connections. The core's connection (`conn`) is used under db_lock with PQexecParams (text
 * parameters, no server-side prepared statements, so a reconnect needs no re-preparing). When the
 * server cannot be reached it is dropped and reconnected on a later call, at most once per backoff
 * (250 ms doubling to LIM_PG_BACKOFF_MAX_MS); meanwhile every call fails at once with
 * SCPD_E_UNAVAILABLE naming the reason, while readers go on with the last snapshot.
 *
 * Following other instances. A commit runs pg_notify('scpd_config', version) inside its
 * transaction (delivered at COMMIT). The watcher thread keeps its own connection with LISTEN
 * scpd_config and also reads the version every LIM_PG_POLL_MS (the bound if a notification is
 * lost, e.g. across a reconnect); a version above memory's is loaded by store_refresh(), which
 * tells the listeners as a local commit does. A replaced secret (a new host key) is announced as
 * an event of stream STORE_EVENT_SECRET on the events' channel, and the same poll reads a
 * fingerprint of the secret rows, so a lost notification is made up for. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

#define PG_CHANNEL "scpd_config"
#define PG_EVENTS "scpd_events" /* payload: "INSTANCE STREAM TEXT" */
#define PG_RESV_FS 8            /* file systems with reservations (bootflash, nvram, ...) */
#define PG_LOCK_KEY "7362706400" /* advisory lock of migrations and first content ("scpd") */

struct pg {
    char *uri;
    PGconn *conn; /* the core's, under db_lock */
    int64_t retry_at_ms;
    int backoff_ms;
    bool down; /* logged as unreachable; logged again when back */
    char why[256];
    pthread_t watcher;
    bool watching;
    int stop; /* __atomic */
    /* this instance's reservation total per file system, as last written (or to be written:
     * dirty) to fs_resv; resv_mu also orders the writes of the core and of the heartbeat */
    pthread_mutex_t resv_mu;
    struct pg_resv {
        char fs[24];
        uint64_t total;
        bool dirty;
    } resv[PG_RESV_FS];
    /* events to NOTIFY, sent by the watcher (woken through wake[1]) */
    pthread_mutex_t evq_mu;
    char *evq[LIM_PG_EVENT_QUEUE];
    size_t evq_head, evq_n;
    uint64_t ev_dropped;
    int wake[2];
};

static struct pg *pg_of(struct store *st)
{
    return st->bd;
}

/* A message of libpq without its trailing newline. */
static void pg_msg(char *dst, size_t cap, const char *m)
{
    snprintf(dst, cap, "%s", m && *m ? m : "unknown error");
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

/* What errors and logs name: the URI without user and password. */
static void pg_where(char *dst, size_t cap, const char *uri)
{
    const char *scheme = strstr(uri, "://");
    const char *rest = scheme ? scheme + 3 : uri;
    const char *at = strchr(rest, '@');
    const char *host = at ? at + 1 : rest;
    size_t hl = strcspn(host, "?");
    snprintf(dst, cap, "postgresql://%.*s", (int)hl, host);
}

/* Connects with bounded waits: a dead server must not hold a writer (or the shutdown) for long.
 * The URI's own settings win over these defaults (they come after them). */
static PGconn *pg_connect(const char *uri, char *why, size_t cap)
{
    static const char *const keys[] = {"connect_timeout", "keepalives", "keepalives_idle",
                                       "keepalives_interval", "keepalives_count",
                                       "application_name", "dbname", NULL};
    const char *vals[] = {"3", "1", "10", "5", "3", "scpd", uri, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, "SET client_min_messages = warning");
        PQclear(r);
        return c;
    }
    pg_msg(why, cap, c ? PQerrorMessage(c) : "out of memory");
    PQfinish(c);
    return NULL;
}

static int pg_unavailable(struct store *st, struct scpd_err *err)
{
    struct pg *p = pg_of(st);
    return scpd_err_set(err, SCPD_E_UNAVAILABLE,
                        "configuration database %s unreachable (%s); nothing was changed, scpd "
                        "reconnects by itself",
                        st->where, p->why);
}

/* The connection has failed: drop it, and log the outage once. */
static void pg_down(struct store *st, const char *why)
{
    struct pg *p = pg_of(st);
    if (why)
        pg_msg(p->why, sizeof(p->why), why);
    if (p->conn) {
        PQfinish(p->conn);
        p->conn = NULL;
    }
    p->retry_at_ms = clock_mono_ms() + p->backoff_ms;
    p->backoff_ms = p->backoff_ms * 2 > LIM_PG_BACKOFF_MAX_MS ? LIM_PG_BACKOFF_MAX_MS
                                                               : p->backoff_ms * 2;
    if (!p->down) {
        p->down = true;
        log_warn(NULL,
                 "store: PostgreSQL %s unreachable (%s): logins go on with the last "
                 "configuration, changes are refused until it is back",
                 st->where, p->why);
    }
}

/* The core's connection, (re)connected if the backoff allows. */
static PGconn *pg_ready(struct store *st, struct scpd_err *err)
{
    struct pg *p = pg_of(st);
    if (p->conn && PQstatus(p->conn) == CONNECTION_OK)
        return p->conn;
    if (p->conn) { /* lost since the last call: one attempt now, then the backoff */
        pg_msg(p->why, sizeof(p->why), PQerrorMessage(p->conn));
        PQfinish(p->conn);
        p->conn = NULL;
    }
    if (clock_mono_ms() < p->retry_at_ms) {
        pg_unavailable(st, err);
        return NULL;
    }
    char why[256];
    p->conn = pg_connect(p->uri, why, sizeof(why));
    if (!p->conn) {
        pg_down(st, why);
        pg_unavailable(st, err);
        return NULL;
    }
    p->backoff_ms = LIM_PG_BACKOFF_MIN_MS;
    if (p->down) {
        p->down = false;
        log_notice(NULL, "store: PostgreSQL %s reachable again", st->where);
    }
    return p->conn;
}

/* A failed result: the connection's loss (SCPD_E_UNAVAILABLE) or the statement's error. */
static int pg_fail(struct store *st, PGresult *r, struct scpd_err *err)
{
    struct pg *p = pg_of(st);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        pg_down(st, p->conn ? PQerrorMessage(p->conn) : NULL);
        return pg_unavailable(st, err);
    }
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[256];
    pg_msg(msg, sizeof(msg),
           r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(p->conn));
    /* 40001 serialization failure, 40P01 deadlock, 23505 a unique row another instance wrote */
    enum scpd_errcode ec = state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                                     strcmp(state, "23505") == 0)
                               ? SCPD_E_CONFLICT
                               : SCPD_E_IO;
    return scpd_err_set(err, ec, "store: %s (%s)", msg, st->where);
}

static PGresult *pg_run(struct store *st, enum store_stmt id, const char *sql,
                        const struct store_val *v, int n, struct scpd_err *err)
{
    PGconn *c = pg_ready(st, err);
    if (!c)
        return NULL;
    if (n > STORE_MAX_PARAMS) {
        scpd_err_set(err, SCPD_E_INTERNAL, "store: too many parameters");
        return NULL;
    }
    char nums[STORE_MAX_PARAMS][24];
    const char *vals[STORE_MAX_PARAMS];
    for (int i = 0; i < n; i++) {
        if (v[i].s) {
            vals[i] = v[i].s;
        } else {
            snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v[i].i);
            vals[i] = nums[i];
        }
    }
    const char *text = id == ST_DYNAMIC ? sql : store_sql[id];
    /* without parameters PQexec, which also takes several statements (the migrations) */
    PGresult *r = n == 0 ? PQexec(c, text) : PQexecParams(c, text, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        pg_fail(st, r, err);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int pg_exec(struct store *st, enum store_stmt id, const char *sql,
                   const struct store_val *v, int n, int64_t *changes, struct scpd_err *err)
{
    PGresult *r = pg_run(st, id, sql, v, n, err);
    if (!r)
        return -1;
    if (changes)
        *changes = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

static int pg_query(struct store *st, enum store_stmt id, const char *sql,
                    const struct store_val *v, int n, store_row_fn fn, void *arg,
                    struct scpd_err *err)
{
    PGresult *r = pg_run(st, id, sql, v, n, err);
    if (!r)
        return -1;
    int out = 0, rows = PQntuples(r);
    for (int i = 0; i < rows && out == 0; i++) {
        struct store_row row = {.st = st, .res = r, .idx = i};
        out = fn(arg, &row, err);
    }
    PQclear(r);
    return out;
}

static const char *pg_col_text(const struct store_row *r, int col)
{
    return PQgetvalue(r->res, r->idx, col); /* "" for NULL */
}

static int64_t pg_col_int(const struct store_row *r, int col)
{
    return strtoll(PQgetvalue(r->res, r->idx, col), NULL, 10);
}

static bool pg_col_null(const struct store_row *r, int col)
{
    return PQgetisnull(r->res, r->idx, col) != 0;
}

static int pg_simple(struct store *st, const char *sql, struct scpd_err *err)
{
    return pg_exec(st, ST_DYNAMIC, sql, NULL, 0, NULL, err);
}

static void pg_rollback(struct store *st)
{
    struct pg *p = pg_of(st);
    if (p && p->conn && PQstatus(p->conn) == CONNECTION_OK &&
        PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        PQclear(PQexec(p->conn, "ROLLBACK"));
}

static int pg_begin(struct store *st, enum store_tx tx, struct scpd_err *err)
{
    pg_rollback(st); /* a transaction a lost connection left open is gone anyway */
    if (tx == STORE_TX_READ)
        return pg_simple(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
    if (pg_simple(st, "BEGIN", err) != 0)
        return -1;
    if (tx == STORE_TX_INIT &&
        pg_simple(st, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")", err) != 0) {
        pg_rollback(st);
        return -1;
    }
    return 0;
}

static int pg_commit(struct store *st, struct scpd_err *err)
{
    if (pg_simple(st, "COMMIT", err) == 0)
        return 0;
    pg_rollback(st);
    return -1;
}

static int pg_announce(struct store *st, uint64_t version, struct scpd_err *err)
{
    char v[24];
    snprintf(v, sizeof(v), "%llu", (unsigned long long)version);
    return pg_exec(st, ST_DYNAMIC, "SELECT pg_notify('" PG_CHANNEL "', $1)", &SV_TEXT(v), 1, NULL,
                   err);
}

/* ---- schema ---------------------------------------------------------------------------------- */

/* Forward migrations, in order; entry i brings scpd_schema.version from i to i+1. Never edit a
 * published entry: append a new one. secret_type has no CHECK here: the set of Cisco types grows
 * (type 6), and cfg validates it on every input. */
static const char *const migrations[] = {
    /* 1: the first schema (sqlite's schema 1 and 2) */
    "CREATE TABLE meta(id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL,"
    "  changed_at BIGINT NOT NULL, changed_by TEXT NOT NULL);"
    "CREATE TABLE setting(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE mlist(kind TEXT NOT NULL CHECK (kind IN ('authn', 'authz')),"
    "  name TEXT COLLATE \"C\" NOT NULL, pos INTEGER NOT NULL, method TEXT NOT NULL,"
    "  grp TEXT NOT NULL, PRIMARY KEY (kind, name, pos));"
    "CREATE TABLE users(name TEXT COLLATE \"C\" PRIMARY KEY,"
    "  privilege INTEGER NOT NULL CHECK (privilege BETWEEN 0 AND 15),"
    "  secret_type INTEGER NOT NULL, secret TEXT NOT NULL);"
    "CREATE TABLE pkuser(name TEXT COLLATE \"C\" PRIMARY KEY);"
    "CREATE TABLE pkey(\"user\" TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES pkuser(name) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL, type TEXT NOT NULL, hash TEXT NOT NULL, comment TEXT NOT NULL,"
    "  PRIMARY KEY (\"user\", pos));"
    "CREATE TABLE startup(id INTEGER PRIMARY KEY CHECK (id = 1), text TEXT NOT NULL,"
    "  saved_at BIGINT NOT NULL);"
    "CREATE TABLE audit(id BIGSERIAL PRIMARY KEY, \"time\" BIGINT NOT NULL,"
    "  \"user\" TEXT NOT NULL, source TEXT NOT NULL, peer TEXT NOT NULL, version BIGINT NOT NULL,"
    "  target TEXT NOT NULL CHECK (target IN ('running', 'startup')), diff TEXT NOT NULL);"
    "CREATE TABLE history(id BIGSERIAL PRIMARY KEY, \"user\" TEXT NOT NULL,"
    "  peer TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
    "  path TEXT NOT NULL, bytes BIGINT NOT NULL, size BIGINT NOT NULL,"
    "  start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL, result TEXT NOT NULL,"
    "  error TEXT NOT NULL);"
    "CREATE INDEX history_end ON history(end_ms);"
    "CREATE TABLE secret(name TEXT PRIMARY KEY, value TEXT NOT NULL);",
    /* 2: standard access lists, and copies the device starts in the history (sqlite's 2, 3) */
    "CREATE TABLE acl(name TEXT COLLATE \"C\" PRIMARY KEY);"
    "CREATE TABLE ace(acl TEXT COLLATE \"C\" NOT NULL REFERENCES acl(name) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL, permit INTEGER NOT NULL CHECK (permit IN (0, 1)),"
    "  addr BIGINT NOT NULL, wildcard BIGINT NOT NULL, PRIMARY KEY (acl, pos));"
    "ALTER TABLE history DROP CONSTRAINT history_direction_check;"
    "ALTER TABLE history ADD CONSTRAINT history_direction_check"
    "  CHECK (direction IN ('in', 'out', 'pull', 'push'));",
    /* 3: the live instances (heartbeat) and the space reservations of their uploads */
    "CREATE TABLE instance(id BIGSERIAL PRIMARY KEY, seen TIMESTAMPTZ NOT NULL DEFAULT now(),"
    "  started TIMESTAMPTZ NOT NULL DEFAULT now());"
    "CREATE TABLE fs_space(fs TEXT PRIMARY KEY);"
    "CREATE TABLE fs_resv(instance BIGINT NOT NULL REFERENCES instance(id) ON DELETE CASCADE,"
    "  fs TEXT NOT NULL, bytes BIGINT NOT NULL CHECK (bytes >= 0), PRIMARY KEY (instance, fs));",
    /* 4: the API's bearer tokens, shared by the instances (only the token's SHA-256) */
    "CREATE TABLE token(hash BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),"
    "  username TEXT COLLATE \"C\" NOT NULL, account BIGINT NOT NULL,"
    "  privilege INTEGER NOT NULL, expires BIGINT NOT NULL,"
    "  serial BIGINT GENERATED ALWAYS AS IDENTITY NOT NULL);"
    "CREATE INDEX token_user ON token(username, serial);",
    /* 5: login block-for, shared: failed logins per source and the sources in a quiet period */
    "CREATE TABLE login_fail(addr TEXT NOT NULL, at_ms BIGINT NOT NULL);"
    "CREATE INDEX login_fail_addr ON login_fail(addr, at_ms);"
    "CREATE INDEX login_fail_at ON login_fail(at_ms);"
    "CREATE TABLE login_block(addr TEXT PRIMARY KEY, until_s BIGINT NOT NULL);"
    "CREATE INDEX login_block_until ON login_block(until_s);"
    /* and the running datastore's lock (NETCONF <lock>), held for every instance; a dead
     * instance's lock goes with its row (the reaping of migration 3) */
    "CREATE TABLE ds_lock(id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  instance BIGINT NOT NULL REFERENCES instance(id) ON DELETE CASCADE,"
    "  sid BIGINT NOT NULL, holder TEXT NOT NULL);",
};
#define PG_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int pg_migrate(struct store *st, struct scpd_err *err)
{
    int64_t have = -1;
    if (pg_begin(st, STORE_TX_INIT, err) != 0)
        return -1;
    if (pg_simple(st, "CREATE TABLE IF NOT EXISTS scpd_schema(id INTEGER PRIMARY KEY"
                      " CHECK (id = 1), version INTEGER NOT NULL)", err) != 0 ||
        pg_simple(st, "INSERT INTO scpd_schema(id, version) VALUES (1, 0)"
                      " ON CONFLICT(id) DO NOTHING", err) != 0 ||
        pg_query(st, ST_DYNAMIC, "SELECT version FROM scpd_schema WHERE id = 1", NULL, 0,
                 store_row_int, &have, err) < 0)
        goto fail;
    if (have > PG_SCHEMA_VERSION) {
        scpd_err_set(err, SCPD_E_IO,
                     "store: %s has schema version %lld, newer than this scpd knows (%d); use a "
                     "newer scpd or another database",
                     st->where, (long long)have, PG_SCHEMA_VERSION);
        goto fail;
    }
    for (int64_t v = have; v < PG_SCHEMA_VERSION; v++) {
        if (pg_simple(st, migrations[v], err) != 0)
            goto fail;
        log_info(NULL, "store: PostgreSQL schema migrated to version %lld", (long long)(v + 1));
    }
    char bump[64];
    snprintf(bump, sizeof(bump), "UPDATE scpd_schema SET version = %d WHERE id = 1",
             PG_SCHEMA_VERSION);
    if (pg_simple(st, bump, err) != 0 || pg_commit(st, err) != 0)
        goto fail;
    return 0;
fail:
    pg_rollback(st);
    return -1;
}

/* ---- space reservations ---------------------------------------------------------------------- */

static struct pg_resv *resv_slot(struct pg *p, const char *fs)
{
    for (int i = 0; i < PG_RESV_FS; i++)
        if (strcmp(p->resv[i].fs, fs) == 0)
            return &p->resv[i];
    for (int i = 0; i < PG_RESV_FS; i++)
        if (!p->resv[i].fs[0]) {
            snprintf(p->resv[i].fs, sizeof(p->resv[i].fs), "%s", fs);
            return &p->resv[i];
        }
    return NULL;
}

/* With db_lock held (the core's connection). The fs_space row lock serializes the checks of
 * every instance on one file system; inside it (READ COMMITTED: each statement sees what the
 * others committed before it) the files are counted and the others' reservations summed. An
 * upload's commit renames its file before it lowers its reservation, so a check in between
 * counts it twice (never zero times). */
static int pg_space_set(struct store *st, const char *fs, uint64_t total, uint64_t limit,
                        bool check, uint64_t grow, store_used_fn used, void *arg, uint64_t *avail,
                        struct scpd_err *err)
{
    struct pg *p = pg_of(st);
    char inst[24], tot[24], dead[24];
    snprintf(inst, sizeof(inst), "%lld", (long long)st->instance);
    snprintf(tot, sizeof(tot), "%llu", (unsigned long long)total);
    snprintf(dead, sizeof(dead), "%.3f", LIM_PG_DEAD_MS / 1000.0);
    pthread_mutex_lock(&p->resv_mu);
    struct pg_resv *r = resv_slot(p, fs);
    int rc = -1;
    if (!r) {
        scpd_err_set(err, SCPD_E_INTERNAL, "store: too many file systems with reservations");
        goto out;
    }
    if (pg_begin(st, STORE_TX_WRITE, err) != 0)
        goto fail;
    if (check) {
        int64_t others = 0;
        uint64_t u = 0;
        struct store_val v2[2] = {SV_TEXT(fs), SV_TEXT(inst)};
        struct store_val vd[2] = {SV_TEXT(inst), SV_TEXT(dead)};
        if (pg_exec(st, ST_DYNAMIC, "INSERT INTO fs_space(fs) VALUES ($1) ON CONFLICT DO NOTHING",
                    &SV_TEXT(fs), 1, NULL, err) != 0 ||
            pg_exec(st, ST_DYNAMIC, "SELECT fs FROM fs_space WHERE fs = $1 FOR UPDATE",
                    &SV_TEXT(fs), 1, NULL, err) != 0 ||
            /* the reaping: a dead instance's reservations go with it (ON DELETE CASCADE) */
            pg_exec(st, ST_DYNAMIC, "DELETE FROM instance WHERE id <> $1"
                    " AND seen < now() - make_interval(secs => $2::float8)", vd, 2, NULL,
                    err) != 0 ||
            pg_query(st, ST_DYNAMIC, "SELECT coalesce(sum(bytes), 0) FROM fs_resv"
                     " WHERE fs = $1 AND instance <> $2", v2, 2, store_row_int, &others,
                     err) != 0)
            goto fail;
        if (used(arg, &u) != 0) {
            scpd_err_set(err, SCPD_E_IO, "cannot add up the files of %s:", fs);
            goto fail;
        }
        uint64_t base = u + (uint64_t)others + (total - grow);
        if (avail)
            *avail = limit > base ? limit - base : 0;
        if (base + grow > limit) {
            scpd_err_set(err, SCPD_E_LIMIT, "not enough space on %s:", fs);
            goto fail;
        }
    }
    struct store_val v3[3] = {SV_TEXT(inst), SV_TEXT(fs), SV_TEXT(tot)};
    if (pg_exec(st, ST_DYNAMIC, "INSERT INTO instance(id) VALUES ($1)"
                " ON CONFLICT (id) DO UPDATE SET seen = now()", &SV_TEXT(inst), 1, NULL,
                err) != 0 ||
        pg_exec(st, ST_DYNAMIC, "INSERT INTO fs_resv(instance, fs, bytes) VALUES ($1, $2, $3)"
                " ON CONFLICT (instance, fs) DO UPDATE SET bytes = excluded.bytes", v3, 3, NULL,
                err) != 0 ||
        pg_commit(st, err) != 0)
        goto fail;
    r->total = total;
    r->dirty = false;
    rc = 0;
    goto out;
fail:
    pg_rollback(st);
    if (!check) { /* a decrease is true whatever the database says: the heartbeat writes it */
        r->total = total;
        r->dirty = true;
    }
out:
    pthread_mutex_unlock(&p->resv_mu);
    return rc;
}

/* The watcher's heartbeat on its connection w: this instance is alive; if it had been taken for
 * dead (its rows reaped) or a decrease could not be written, its totals are written again.
 * false if the connection failed. */
static bool pg_heartbeat(struct store *st, PGconn *w)
{
    struct pg *p = pg_of(st);
    char inst[24];
    snprintf(inst, sizeof(inst), "%lld", (long long)st->instance);
    const char *v1[1] = {inst};
    PGresult *r = PQexecParams(w, "INSERT INTO instance(id) VALUES ($1) ON CONFLICT (id)"
                               " DO UPDATE SET seen = now() RETURNING (xmax = 0)",
                               1, NULL, v1, NULL, NULL, 0);
    bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    bool reborn = ok && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!ok)
        return PQstatus(w) == CONNECTION_OK;
    if (reborn)
        log_warn(NULL, "store: this instance (%s) had been taken for dead by the others "
                 "(no heartbeat for %d ms); its reservations are written again", inst,
                 LIM_PG_DEAD_MS);
    pthread_mutex_lock(&p->resv_mu);
    for (int i = 0; i < PG_RESV_FS && ok; i++) {
        struct pg_resv *s = &p->resv[i];
        if (!s->fs[0] || (!reborn && !s->dirty))
            continue;
        char tot[24];
        snprintf(tot, sizeof(tot), "%llu", (unsigned long long)s->total);
        const char *v3[3] = {inst, s->fs, tot};
        r = PQexecParams(w, "INSERT INTO fs_resv(instance, fs, bytes) VALUES ($1, $2, $3)"
                         " ON CONFLICT (instance, fs) DO UPDATE SET bytes = excluded.bytes",
                         3, NULL, v3, NULL, NULL, 0);
        ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (ok)
            s->dirty = false;
        PQclear(r);
    }
    pthread_mutex_unlock(&p->resv_mu);
    return ok || PQstatus(w) == CONNECTION_OK;
}

/* ---- events of the streams ------------------------------------------------------------------- */

static void pg_publish(struct store *st, const char *stream, const char *text)
{
    struct pg *p = pg_of(st);
    size_t n = strlen(stream) + strlen(text) + 32;
    char *m = n <= LIM_PG_EVENT_BYTES ? malloc(n) : NULL;
    if (!m) {   /* too long for a notification, or no memory: counted, as a full queue is */
        pthread_mutex_lock(&p->evq_mu);
        p->ev_dropped++;
        pthread_mutex_unlock(&p->evq_mu);
        return;
    }
    snprintf(m, n, "%lld %s %s", (long long)st->instance, stream, text);
    pthread_mutex_lock(&p->evq_mu);
    if (p->evq_n == LIM_PG_EVENT_QUEUE) {
        p->ev_dropped++;
        free(m);
        m = NULL;
    } else {
        p->evq[(p->evq_head + p->evq_n++) % LIM_PG_EVENT_QUEUE] = m;
    }
    pthread_mutex_unlock(&p->evq_mu);
    if (m && write(p->wake[1], "", 1) < 0) {
        /* the pipe is full: the watcher is awake anyway */
    }
}

/* Sends the events queued when it starts on w (those queued meanwhile wait for the watcher's
 * next pass, so a steady stream of events cannot keep it from its heartbeat and its poll);
 * false if the connection failed (the rest stay queued). */
static bool pg_send_events(struct store *st, PGconn *w)
{
    struct pg *p = pg_of(st);
    char buf[64];
    while (read(p->wake[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&p->evq_mu);
    size_t batch = p->evq_n;
    uint64_t dropped = p->ev_dropped;
    p->ev_dropped = 0;
    pthread_mutex_unlock(&p->evq_mu);
    if (dropped)
        log_warn(NULL, "store: %llu stream events not carried to the other instances "
                 "(queue full or event too long)", (unsigned long long)dropped);
    for (; batch > 0; batch--) {
        pthread_mutex_lock(&p->evq_mu);
        char *m = p->evq[p->evq_head];
        pthread_mutex_unlock(&p->evq_mu);
        const char *v[1] = {m};
        PGresult *r = PQexecParams(w, "SELECT pg_notify('" PG_EVENTS "', $1)", 1, NULL, v, NULL,
                                   NULL, 0);
        bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (!ok && PQstatus(w) != CONNECTION_OK)
            return false;
        pthread_mutex_lock(&p->evq_mu);
        p->evq_head = (p->evq_head + 1) % LIM_PG_EVENT_QUEUE;
        p->evq_n--;
        pthread_mutex_unlock(&p->evq_mu);
        free(m);
    }
    return true;
}

/* An event notification of another instance, to the store's event listeners. */
static void pg_event_in(struct store *st, const char *payload)
{
    char *end = NULL;
    long long inst = strtoll(payload, &end, 10);
    if (!end || *end != ' ' || inst == st->instance)
        return;
    const char *stream = end + 1, *sp = strchr(stream, ' ');
    if (!sp || sp - stream >= 32)
        return;
    char name[32];
    snprintf(name, sizeof(name), "%.*s", (int)(sp - stream), stream);
    store_event_deliver(st, inst, name, sp + 1);
}

/* ---- the watcher ----------------------------------------------------------------------------- */

/* The version in the database, -1 if the connection failed. With it, a fingerprint of the
 * secrets' row versions (their names and xmin: no value is read), into fp: a secret replaced
 * while a notification was lost changes it. */
static int64_t watch_version(PGconn *w, char *fp, size_t cap)
{
    PGresult *r = PQexec(w, "SELECT version, (SELECT coalesce(md5(string_agg(name || ' ' ||"
                            " xmin::text, ' ' ORDER BY name)), '') FROM secret)"
                            " FROM meta WHERE id = 1");
    int64_t v = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(fp, cap, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return v;
}

/* A secret changed without a notification reaching us (or with one: the check is cheap and the
 * listeners compare before they act): tell the event listeners, as instance 0. */
static void watch_secrets(struct store *st, char *seen, size_t cap, const char *fp)
{
    if (seen[0] && strcmp(seen, fp) != 0)
        store_event_deliver(st, 0, STORE_EVENT_SECRET, "");
    snprintf(seen, cap, "%s", fp);
}

static void *pg_watch_main(void *arg)
{
    struct store *st = arg;
    struct pg *p = pg_of(st);
    PGconn *w = NULL;
    int64_t retry_at = 0, last_check = 0, next_beat = 0;
    int backoff = LIM_PG_BACKOFF_MIN_MS;
    char why[256], fp[40], seen_fp[40] = "";
    while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
        int64_t now = clock_mono_ms();
        if (!w) {
            if (now < retry_at) {
                usleep(100 * 1000);
                continue;
            }
            w = pg_connect(p->uri, why, sizeof(why));
            PGresult *r = w ? PQexec(w, "LISTEN " PG_CHANNEL "; LISTEN " PG_EVENTS) : NULL;
            bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (!ok) {
                log_debug(NULL, "store: watcher cannot reach %s: %s", st->where,
                          w ? PQerrorMessage(w) : why);
                PQfinish(w);
                w = NULL;
                retry_at = now + backoff;
                backoff = backoff * 2 > LIM_PG_BACKOFF_MAX_MS ? LIM_PG_BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            backoff = LIM_PG_BACKOFF_MIN_MS;
            last_check = 0; /* notifications may have been missed while away */
        }
        struct pollfd pfd[2] = {{.fd = PQsocket(w), .events = POLLIN},
                                {.fd = p->wake[0], .events = POLLIN}};
        poll(pfd, 2, 200);
        bool got = false;
        now = clock_mono_ms();
        if (now >= next_beat) {
            next_beat = now + LIM_PG_HEARTBEAT_MS;
            if (!pg_heartbeat(st, w)) {
                PQfinish(w);
                w = NULL;
                continue;
            }
        }
        if (!pg_send_events(st, w) || PQconsumeInput(w) == 0) {
            PQfinish(w);
            w = NULL;
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies(w)) != NULL) {
            if (strcmp(n->relname, PG_EVENTS) == 0)
                pg_event_in(st, n->extra);
            else
                got = true;
            PQfreemem(n);
        }
        now = clock_mono_ms();
        if (!got && now - last_check < LIM_PG_POLL_MS)
            continue;
        last_check = now;
        int64_t v = watch_version(w, fp, sizeof(fp));
        if (v < 0) {
            PQfinish(w);
            w = NULL;
            continue;
        }
        watch_secrets(st, seen_fp, sizeof(seen_fp), fp);
        if ((uint64_t)v > store_version(st)) {
            struct scpd_err err = {0};
            if (store_refresh(st, &err) != 0)
                log_debug(NULL, "store: cannot load version %lld yet: %s", (long long)v, err.msg);
        }
    }
    PQfinish(w);
    return NULL;
}

static int pg_watch(struct store *st, struct scpd_err *err)
{
    struct pg *p = pg_of(st);
    int rc = pthread_create(&p->watcher, NULL, pg_watch_main, st);
    if (rc != 0)
        return scpd_err_set(err, SCPD_E_INTERNAL, "store: cannot start the watcher thread: %s",
                            strerror(rc));
    p->watching = true;
    return 0;
}

/* ---- open / close ---------------------------------------------------------------------------- */

static int pg_open(struct store *st, const char *uri, struct scpd_err *err)
{
    struct pg *p = calloc(1, sizeof(*p));
    if (!p || !(p->uri = strdup(uri))) {
        free(p);
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    }
    st->bd = p;
    p->backoff_ms = LIM_PG_BACKOFF_MIN_MS;
    pthread_mutex_init(&p->resv_mu, NULL);
    pthread_mutex_init(&p->evq_mu, NULL);
    p->wake[0] = p->wake[1] = -1;
    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        return scpd_err_set(err, SCPD_E_INTERNAL, "store: cannot make a pipe: %s",
                            strerror(errno));
    pg_where(st->where, sizeof(st->where), uri);
    char why[256];
    if (!(p->conn = pg_connect(uri, why, sizeof(why))))
        return scpd_err_set(err, SCPD_E_UNAVAILABLE, "store: cannot connect to %s: %s",
                            st->where, why);
    int64_t id = 0;
    if (pg_migrate(st, err) != 0 ||
        pg_query(st, ST_DYNAMIC, "INSERT INTO instance DEFAULT VALUES RETURNING id", NULL, 0,
                 store_row_int, &id, err) != 0)
        return -1;
    st->instance = id;
    log_info(NULL, "store: this is instance %lld of %s", (long long)id, st->where);
    return 0;
}

static void pg_close(struct store *st)
{
    struct pg *p = pg_of(st);
    if (!p)
        return;
    if (p->watching) {
        __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
        pthread_join(p->watcher, NULL);
    }
    if (st->instance > 0 && p->conn && PQstatus(p->conn) == CONNECTION_OK) {
        /* a clean stop: its reservations go now, not after LIM_PG_DEAD_MS */
        char inst[24];
        snprintf(inst, sizeof(inst), "%lld", (long long)st->instance);
        const char *v[1] = {inst};
        pg_rollback(st);
        PQclear(PQexecParams(p->conn, "DELETE FROM instance WHERE id = $1", 1, NULL, v, NULL,
                             NULL, 0));
    }
    PQfinish(p->conn);
    for (size_t i = 0; i < p->evq_n; i++)
        free(p->evq[(p->evq_head + i) % LIM_PG_EVENT_QUEUE]);
    if (p->wake[0] >= 0)
        close(p->wake[0]);
    if (p->wake[1] >= 0)
        close(p->wake[1]);
    pthread_mutex_destroy(&p->resv_mu);
    pthread_mutex_destroy(&p->evq_mu);
    free(p->uri);
    free(p);
    st->bd = NULL;
}

static int pg_initialized(const char *uri, struct scpd_err *err)
{
    char why[256], where[512];
    pg_where(where, sizeof(where), uri);
    PGconn *c = pg_connect(uri, why, sizeof(why));
    if (!c)
        return scpd_err_set(err, SCPD_E_UNAVAILABLE, "store: cannot connect to %s: %s", where,
                            why);
    int rc = 0;
    PGresult *r = PQexec(c, "SELECT to_regclass('meta') IS NOT NULL");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_msg(why, sizeof(why), PQerrorMessage(c));
        rc = scpd_err_set(err, SCPD_E_IO, "store: cannot read %s: %s", where, why);
    } else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
        PQclear(r);
        r = PQexec(c, "SELECT count(*) FROM meta");
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
            pg_msg(why, sizeof(why), PQerrorMessage(c));
            rc = scpd_err_set(err, SCPD_E_IO, "store: cannot read %s: %s", where, why);
        } else {
            rc = strtoll(PQgetvalue(r, 0, 0), NULL, 10) > 0;
        }
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

const struct store_backend store_pg_backend = {
    .name = "postgresql",
    .shared = true,
    .open = pg_open,
    .close = pg_close,
    .initialized = pg_initialized,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .query = pg_query,
    .col_text = pg_col_text,
    .col_int = pg_col_int,
    .col_null = pg_col_null,
    .announce = pg_announce,
    .watch = pg_watch,
    .space_set = pg_space_set,
    .publish = pg_publish,
};

/* store_sqlite: the embedded backend, DIR/scpd.db (the default).
 *
 * One connection (WAL, synchronous=FULL, foreign keys, busy timeout), used under the core's
 * db_lock. Its schema is the ordered list `migrations` below: PRAGMA user_version says how many
 * have run, and each runs in its own transaction together with the user_version bump, so a crash
 * during a migration leaves the previous schema. The core's statements are prepared once at open
 * (PERSISTENT), with the core's $N placeholders turned into sqlite's ?N. One process per data
 * directory (flock on DIR/scpd.lock): two would each trust their own snapshot. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/log.h"

struct sq {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__COUNT];
    int lock_fd; /* flock on DIR/scpd.lock */
};

/* Forward migrations, in order. Entry i brings the schema from user_version i to i+1. Never edit
 * a published entry: append a new one. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE meta(id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL,"
    "  changed_at INTEGER NOT NULL, changed_by TEXT NOT NULL);"
    "CREATE TABLE setting(name TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE mlist(kind TEXT NOT NULL CHECK (kind IN ('authn', 'authz')),"
    "  name TEXT NOT NULL, pos INTEGER NOT NULL, method TEXT NOT NULL, grp TEXT NOT NULL,"
    "  PRIMARY KEY (kind, name, pos)) WITHOUT ROWID;"
    "CREATE TABLE users(name TEXT PRIMARY KEY,"
    "  privilege INTEGER NOT NULL CHECK (privilege BETWEEN 0 AND 15),"
    "  secret_type INTEGER NOT NULL CHECK (secret_type IN (0, 5, 8, 9)),"
    "  secret TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE pkuser(name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE pkey(user TEXT NOT NULL REFERENCES pkuser(name) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL, type TEXT NOT NULL, hash TEXT NOT NULL, comment TEXT NOT NULL,"
    "  PRIMARY KEY (user, pos)) WITHOUT ROWID;"
    "CREATE TABLE startup(id INTEGER PRIMARY KEY CHECK (id = 1), text TEXT NOT NULL,"
    "  saved_at INTEGER NOT NULL);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
    "  user TEXT NOT NULL, source TEXT NOT NULL, peer TEXT NOT NULL, version INTEGER NOT NULL,"
    "  target TEXT NOT NULL CHECK (target IN ('running', 'startup')), diff TEXT NOT NULL);"
    "CREATE TABLE history(id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,"
    "  peer TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
    "  path TEXT NOT NULL, bytes INTEGER NOT NULL, size INTEGER NOT NULL,"
    "  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, result TEXT NOT NULL,"
    "  error TEXT NOT NULL);"
    "CREATE INDEX history_end ON history(end_ms);",
    /* 2: standard access lists (ip access-list standard NAME) */
    "CREATE TABLE acl(name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE ace(acl TEXT NOT NULL REFERENCES acl(name) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL, permit INTEGER NOT NULL CHECK (permit IN (0, 1)),"
    "  addr INTEGER NOT NULL, wildcard INTEGER NOT NULL, PRIMARY KEY (acl, pos)) WITHOUT ROWID;",
    /* 3: copies the device starts (issue 12): direction 'pull' and 'push' in the history */
    "CREATE TABLE history2(id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'pull', 'push')),"
    "  path TEXT NOT NULL, bytes INTEGER NOT NULL, size INTEGER NOT NULL,"
    "  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, result TEXT NOT NULL,"
    "  error TEXT NOT NULL);"
    "INSERT INTO history2 SELECT * FROM history;"
    "DROP TABLE history;"
    "ALTER TABLE history2 RENAME TO history;"
    "CREATE INDEX history_end ON history(end_ms);",
    /* 4: shared secrets (store_secret_*) */
    "CREATE TABLE secret(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
};
#define SQ_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static struct sq *sq_of(struct store *st)
{
    return st->bd;
}

static int sq_err(struct store *st, struct scpd_err *err, const char *what)
{
    sqlite3 *db = sq_of(st)->db;
    int code = sqlite3_extended_errcode(db);
    enum scpd_errcode ec = (code & 0xff) == SQLITE_BUSY    ? SCPD_E_CONFLICT
                           : (code & 0xff) == SQLITE_NOMEM ? SCPD_E_NOMEM
                           : (code & 0xff) == SQLITE_FULL  ? SCPD_E_LIMIT
                                                           : SCPD_E_IO;
    return scpd_err_set(err, ec, "store: %s: %s (%s)", what, sqlite3_errmsg(db), st->where);
}

static int sq_run(struct store *st, const char *sql, struct scpd_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(sq_of(st)->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    scpd_err_set(err, SCPD_E_IO, "store: %s: %s (%s)", sql, msg ? msg : "error", st->where);
    sqlite3_free(msg);
    return -1;
}

/* The core's $N placeholders as sqlite's ?N (the core's SQL has no '$' inside literals). */
static int sq_prepare(sqlite3 *db, const char *sql, unsigned flags, sqlite3_stmt **q)
{
    size_t n = strlen(sql);
    char *s = malloc(n + 1);
    if (!s)
        return SQLITE_NOMEM;
    for (size_t i = 0; i <= n; i++)
        s[i] = sql[i] == '$' ? '?' : sql[i];
    int rc = sqlite3_prepare_v3(db, s, -1, flags, q, NULL);
    free(s);
    return rc;
}

static void sq_bind(sqlite3_stmt *q, const struct store_val *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (v[i].s)
            sqlite3_bind_text(q, i + 1, v[i].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(q, i + 1, v[i].i);
    }
}

/* A cached statement (reset, bindings cleared) or a new one for dynamic SQL (*own set). */
static sqlite3_stmt *sq_stmt(struct store *st, enum store_stmt id, const char *sql, bool *own,
                             struct scpd_err *err)
{
    struct sq *s = sq_of(st);
    sqlite3_stmt *q = NULL;
    *own = id == ST_DYNAMIC;
    if (!*own) {
        q = s->stmt[id];
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        return q;
    }
    if (sq_prepare(s->db, sql, 0, &q) != SQLITE_OK) {
        sq_err(st, err, "preparing a query");
        return NULL;
    }
    return q;
}

static int sq_exec(struct store *st, enum store_stmt id, const char *sql,
                   const struct store_val *v, int n, int64_t *changes, struct scpd_err *err)
{
    bool own;
    sqlite3_stmt *q = sq_stmt(st, id, sql, &own, err);
    if (!q)
        return -1;
    sq_bind(q, v, n);
    int rc = sqlite3_step(q);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    int out = rc == SQLITE_DONE ? 0 : sq_err(st, err, "writing");
    if (out == 0 && changes)
        *changes = sqlite3_changes(sq_of(st)->db);
    if (own)
        sqlite3_finalize(q);
    else
        sqlite3_reset(q);
    return out;
}

static int sq_query(struct store *st, enum store_stmt id, const char *sql,
                    const struct store_val *v, int n, store_row_fn fn, void *arg,
                    struct scpd_err *err)
{
    bool own;
    sqlite3_stmt *q = sq_stmt(st, id, sql, &own, err);
    if (!q)
        return -1;
    sq_bind(q, v, n);
    struct store_row row = {.st = st, .res = q};
    int rc, out = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if ((out = fn(arg, &row, err)) != 0)
            break;
    }
    if (out == 0 && rc != SQLITE_DONE)
        out = sq_err(st, err, "reading");
    if (own)
        sqlite3_finalize(q);
    else
        sqlite3_reset(q);
    return out;
}

static const char *sq_col_text(const struct store_row *r, int col)
{
    const unsigned char *t = sqlite3_column_text(r->res, col);
    return t ? (const char *)t : "";
}

static int64_t sq_col_int(const struct store_row *r, int col)
{
    return sqlite3_column_int64(r->res, col);
}

static bool sq_col_null(const struct store_row *r, int col)
{
    return sqlite3_column_type(r->res, col) == SQLITE_NULL;
}

static int sq_begin(struct store *st, enum store_tx tx, struct scpd_err *err)
{
    /* IMMEDIATE: a writer takes the write lock at once (no upgrade deadlock with a reader). */
    return sq_run(st, tx == STORE_TX_READ ? "BEGIN" : "BEGIN IMMEDIATE", err);
}

static int sq_commit(struct store *st, struct scpd_err *err)
{
    if (sq_run(st, "COMMIT", err) == 0)
        return 0;
    sqlite3_exec(sq_of(st)->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static void sq_rollback(struct store *st)
{
    struct sq *s = sq_of(st);
    if (s && s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_migrate(struct store *st, struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    int have = -1;
    if (sqlite3_prepare_v2(sq_of(st)->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        have = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (have < 0)
        return sq_err(st, err, "reading the schema version");
    if (have > SQ_SCHEMA_VERSION)
        return scpd_err_set(err, SCPD_E_IO,
                            "store: %s has schema version %d, newer than this scpd knows (%d); "
                            "use a newer scpd or another --data-dir",
                            st->where, have, SQ_SCHEMA_VERSION);
    for (int v = have; v < SQ_SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        if (sq_begin(st, STORE_TX_WRITE, err) != 0)
            return -1;
        if (sq_run(st, migrations[v], err) != 0 || sq_run(st, bump, err) != 0 ||
            sq_commit(st, err) != 0) {
            sq_rollback(st);
            return -1;
        }
        log_info(NULL, "store: schema migrated to version %d", v + 1);
    }
    return 0;
}

/* Two processes on one data directory would each trust their own snapshot and write deltas
 * against it, so the second is refused. flock() dies with its process (kill -9 included). */
static int sq_lock(struct sq *s, const char *dir, struct scpd_err *err)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/scpd.lock", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return scpd_err_set(err, SCPD_E_INVALID, "store: data directory path too long");
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0)
        return scpd_err_set(err, SCPD_E_IO, "store: cannot open %s: %s", path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return scpd_err_set(err, errno == EWOULDBLOCK ? SCPD_E_CONFLICT : SCPD_E_IO,
                            "store: %s is in use by another scpd (lock %s: %s)", dir, path,
                            strerror(errno));
    return 0;
}

static int sq_open(struct store *st, const char *dir, struct scpd_err *err)
{
    struct sq *s = calloc(1, sizeof(*s));
    if (!s)
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    s->lock_fd = -1;
    st->bd = s;
    if (sq_lock(s, dir, err) != 0)
        return -1;
    int n = snprintf(st->where, sizeof(st->where), "%s/scpd.db", dir);
    if (n < 0 || (size_t)n >= sizeof(st->where))
        return scpd_err_set(err, SCPD_E_INVALID, "store: data directory path too long");
    if (sqlite3_open_v2(st->where, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK)
        return scpd_err_set(err, SCPD_E_IO, "store: cannot open %s: %s", st->where,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    /* WAL: readers of other connections (sqlite3 CLI, backups) never block the daemon.
     * synchronous=FULL: a commit is on disk when store_commit returns, even across power loss. */
    if (sq_run(st, "PRAGMA journal_mode = WAL", err) != 0 ||
        sq_run(st, "PRAGMA synchronous = FULL", err) != 0 ||
        sq_run(st, "PRAGMA foreign_keys = ON", err) != 0 ||
        sq_run(st, "PRAGMA secure_delete = ON", err) != 0 || sq_migrate(st, err) != 0)
        return -1;
    for (int i = 0; i < ST__COUNT; i++)
        if (sq_prepare(s->db, store_sql[i], SQLITE_PREPARE_PERSISTENT, &s->stmt[i]) != SQLITE_OK)
            return sq_err(st, err, "preparing statements");
    return 0;
}

static void sq_close(struct store *st)
{
    struct sq *s = sq_of(st);
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db)
        sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    free(s);
    st->bd = NULL;
}

static int sq_initialized(const char *dir, struct scpd_err *err)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/scpd.db", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return scpd_err_set(err, SCPD_E_INVALID, "store: data directory path too long");
    if (access(path, F_OK) != 0)
        return 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        scpd_err_set(err, SCPD_E_IO, "store: cannot open %s: %s", path,
                     db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    /* No meta table (an empty or unmigrated file) is the same as no meta row. */
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        scpd_err_set(err, SCPD_E_IO, "store: cannot read %s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_column_int(q, 0) > 0;
    sqlite3_finalize(q);
    q = NULL;
    if (rc == 1) {
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM meta", -1, &q, NULL) != SQLITE_OK ||
            sqlite3_step(q) != SQLITE_ROW) {
            rc =
                scpd_err_set(err, SCPD_E_IO, "store: cannot read %s: %s", path, sqlite3_errmsg(db));
            goto out;
        }
        rc = sqlite3_column_int(q, 0) > 0;
    }
out:
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .shared = false,
    .open = sq_open,
    .close = sq_close,
    .initialized = sq_initialized,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .query = sq_query,
    .col_text = sq_col_text,
    .col_int = sq_col_int,
    .col_null = sq_col_null,
    .announce = NULL,
    .watch = NULL,
};

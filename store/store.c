/* store: the sqlite store behind both doors.
 *
 * Design. DIR/scpd.db is opened once with one connection (WAL, synchronous=FULL, foreign keys,
 * busy timeout). Its schema is the ordered list `migrations` below: PRAGMA user_version says how
 * many have run, and each runs in its own transaction together with the user_version bump, so a
 * crash during a migration leaves the previous schema.
 *
 * The running datastore is kept as structured rows (setting, mlist, users, pkuser/pkey), described
 * by tables here (`settings`, `methods`, `rowsets`) rather than by code per field. A commit writes
 * only the difference between the current snapshot and the next config (a merge walk over the
 * sorted user and pubkey arrays), the meta row (version, time, user) and the audit row, all inside
 * one BEGIN IMMEDIATE ... COMMIT; any sqlite error rolls the whole transaction back and leaves the
 * in-memory snapshot untouched. So the version in memory always equals the version on disk.
 * The audit row's insert trims the audit log to LIM_AUDIT_ROWS in the same transaction.
 *
 * Readers never touch sqlite: the running config lives in memory as an immutable, reference-
 * counted snapshot. `snap_lock` is held only to read or swap the pointer and count a reference,
 * never during I/O, so a reader never waits for a writer's transaction. Writers are serialized by
 * `db_lock`. Listeners are called after both locks are released, on the committing thread.
 *
 * The startup datastore is config text, always the canonical rendering of a validated config, so
 * plaintext passwords given in a file never reach the database (they are hashed by cfg on input).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

struct store_snap_impl {
    struct store_snap pub; /* first: a struct store_snap * is a struct store_snap_impl * */
    struct cfg *own;
    int refs; /* __atomic */
};

/* ---- schema ---------------------------------------------------------------------------------- */

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
};
#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[ST__COUNT] = {
    [ST_SET_PUT] = "INSERT INTO setting(name, value) VALUES (?1, ?2)"
                   " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    [ST_MLIST_DEL_KIND] = "DELETE FROM mlist WHERE kind = ?1",
    [ST_MLIST_PUT] = "INSERT INTO mlist(kind, name, pos, method, grp) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_USER_DEL] = "DELETE FROM users WHERE name = ?1",
    [ST_USER_PUT] =
        "INSERT INTO users(name, privilege, secret_type, secret) VALUES (?1, ?2, ?3, ?4)",
    [ST_PKUSER_DEL] = "DELETE FROM pkuser WHERE name = ?1",
    [ST_PKUSER_PUT] = "INSERT INTO pkuser(name) VALUES (?1)",
    [ST_PKEY_PUT] = "INSERT INTO pkey(user, pos, type, hash, comment) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_META_PUT] = "INSERT INTO meta(id, version, changed_at, changed_by) VALUES (1, ?1, ?2, ?3)"
                    " ON CONFLICT(id) DO UPDATE SET version = excluded.version,"
                    " changed_at = excluded.changed_at, changed_by = excluded.changed_by",
    [ST_AUDIT_PUT] = "INSERT INTO audit(time, user, source, peer, version, target, diff)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_STARTUP_GET] = "SELECT text, saved_at FROM startup WHERE id = 1",
    [ST_STARTUP_PUT] = "INSERT INTO startup(id, text, saved_at) VALUES (1, ?1, ?2)"
                       " ON CONFLICT(id) DO UPDATE SET text = excluded.text,"
                       " saved_at = excluded.saved_at",
    [ST_HIST_PUT] = "INSERT INTO history(user, peer, direction, path, bytes, size, start_ms,"
                    " end_ms, result, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_HIST_TRIM_ROWS] = "DELETE FROM history WHERE id <="
                          " (SELECT id FROM history ORDER BY id DESC LIMIT 1 OFFSET ?1)",
    [ST_HIST_TRIM_AGE] = "DELETE FROM history WHERE end_ms < ?1",
    [ST_AUDIT_TRIM] = "DELETE FROM audit WHERE id <="
                      " (SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?1)",
    [ST_AUDIT_GET] = "SELECT id, time, user, source, peer, version, target, diff FROM audit"
                     " WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_AUDIT_NEWEST] = "SELECT * FROM (SELECT id, time, user, source, peer, version, target, diff"
                        " FROM audit ORDER BY id DESC LIMIT ?2) ORDER BY id",
};

/* ---- the running datastore as rows: global settings ----------------------------------------- */

enum set_type { SET_STR, SET_INT, SET_BOOL };

static const struct setting {
    const char *name;
    enum set_type type;
    size_t off;
    size_t cap; /* SET_STR: the field's size (0: CFG_NAME_MAX) */
} settings[] = {
    {"hostname", SET_STR, offsetof(struct cfg, hostname), 0},
    {"aaa_new_model", SET_BOOL, offsetof(struct cfg, aaa_new_model), 0},
    {"ssh_version", SET_INT, offsetof(struct cfg, ssh_version), 0},
    {"ssh_timeout", SET_INT, offsetof(struct cfg, ssh_timeout), 0},
    {"ssh_retries", SET_INT, offsetof(struct cfg, ssh_retries), 0},
    {"scp_enable", SET_BOOL, offsetof(struct cfg, scp_enable), 0},
    {"block_secs", SET_INT, offsetof(struct cfg, block_secs), 0},
    {"block_attempts", SET_INT, offsetof(struct cfg, block_attempts), 0},
    {"block_within", SET_INT, offsetof(struct cfg, block_within), 0},
    {"ssh_version_set", SET_BOOL, offsetof(struct cfg, ssh_version_set), 0},
    {"enable_type", SET_INT, offsetof(struct cfg, enable_type), 0},
    {"enable_secret", SET_STR, offsetof(struct cfg, enable_secret),
     sizeof(((struct cfg *)0)->enable_secret)},
    {"password_encryption", SET_BOOL, offsetof(struct cfg, password_encryption), 0},
    {"domain_name", SET_STR, offsetof(struct cfg, domain_name), 0},
    {"vty_first", SET_INT, offsetof(struct cfg, vty.first), 0},
    {"vty_last", SET_INT, offsetof(struct cfg, vty.last), 0},
    {"vty_login_list", SET_STR, offsetof(struct cfg, vty.login_list), 0},
    {"vty_exec_timeout", SET_INT, offsetof(struct cfg, vty.exec_timeout), 0},
    {"vty_transport", SET_INT, offsetof(struct cfg, vty.transport), 0},
    {"vty_access_class", SET_STR, offsetof(struct cfg, vty.access_class), 0},
    {"banner_motd", SET_STR, offsetof(struct cfg, banner_motd), LIM_CFG_BANNER_LEN + 1},
    {"banner_login", SET_STR, offsetof(struct cfg, banner_login), LIM_CFG_BANNER_LEN + 1},
    {"file_prompt_quiet", SET_BOOL, offsetof(struct cfg, file_prompt_quiet), 0},
    {"log_buffer", SET_INT, offsetof(struct cfg, log_buffer), 0},
    {"ssh_lifetime", SET_INT, offsetof(struct cfg, ssh_lifetime), 0},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static bool setting_same(const struct setting *s, const struct cfg *a, const struct cfg *b)
{
    const char *pa = (const char *)a + s->off, *pb = (const char *)b + s->off;
    switch (s->type) {
    case SET_STR:
        return strcmp(pa, pb) == 0;
    case SET_INT:
        return *(const int *)pa == *(const int *)pb;
    case SET_BOOL:
        return *(const bool *)pa == *(const bool *)pb;
    }
    return false;
}

static int setting_put(struct store *st, const struct setting *s, const struct cfg *c)
{
    sqlite3_stmt *q = store_stmt(st, ST_SET_PUT);
    const char *p = (const char *)c + s->off;
    sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
    switch (s->type) {
    case SET_STR:
        sqlite3_bind_text(q, 2, p, -1, SQLITE_STATIC);
        break;
    case SET_INT:
        sqlite3_bind_int(q, 2, *(const int *)p);
        break;
    case SET_BOOL:
        sqlite3_bind_int(q, 2, *(const bool *)p ? 1 : 0);
        break;
    }
    return sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
}

static void setting_load(const struct setting *s, struct cfg *c, sqlite3_stmt *row)
{
    char *p = (char *)c + s->off;
    switch (s->type) {
    case SET_STR:
        snprintf(p, s->cap ? s->cap : CFG_NAME_MAX, "%s",
                 (const char *)sqlite3_column_text(row, 1));
        break;
    case SET_INT:
        *(int *)p = sqlite3_column_int(row, 1);
        break;
    case SET_BOOL:
        *(bool *)p = sqlite3_column_int(row, 1) != 0;
        break;
    }
}

/* ---- method lists ---------------------------------------------------------------------------- */

/* Methods are stored by name, not by enum value, so reordering the enum never changes the data. */
static const struct {
    enum cfg_method_kind kind;
    const char *name;
} methods[] = {
    {CFG_M_LOCAL, "local"},
    {CFG_M_NONE, "none"},
    {CFG_M_IF_AUTHENTICATED, "if-authenticated"},
    {CFG_M_GROUP, "group"},
};

static const char *method_name(enum cfg_method_kind k)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (methods[i].kind == k)
            return methods[i].name;
    return NULL;
}

static int method_kind(const char *name)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(methods[i].name, name) == 0)
            return (int)methods[i].kind;
    return -1;
}

/* The two kinds of method lists and where they live in struct cfg. */
static const struct mlkind {
    const char *kind;
    size_t n_off, arr_off;
} mlkinds[] = {
    {"authn", offsetof(struct cfg, n_authn), offsetof(struct cfg, authn)},
    {"authz", offsetof(struct cfg, n_authz), offsetof(struct cfg, authz)},
};
#define N_MLKINDS (sizeof(mlkinds) / sizeof(mlkinds[0]))

#define CFG_FIELD(c, off, type) (*(type *)((char *)(c) + (off)))
#define CFG_CFIELD(c, off, type) (*(const type *)((const char *)(c) + (off)))

static bool mlkind_same(const struct mlkind *k, const struct cfg *a, const struct cfg *b)
{
    size_t na = CFG_CFIELD(a, k->n_off, size_t), nb = CFG_CFIELD(b, k->n_off, size_t);
    const struct cfg_mlist *la = CFG_CFIELD(a, k->arr_off, struct cfg_mlist *);
    const struct cfg_mlist *lb = CFG_CFIELD(b, k->arr_off, struct cfg_mlist *);
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!cfg_mlist_equal(&la[i], &lb[i]))
            return false;
    return true;
}

/* Method lists are few and short: a changed kind is rewritten whole. */
static int mlkind_put(struct store *st, const struct mlkind *k, const struct cfg *c)
{
    sqlite3_stmt *q = store_stmt(st, ST_MLIST_DEL_KIND);
    sqlite3_bind_text(q, 1, k->kind, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        return -1;
    size_t n = CFG_CFIELD(c, k->n_off, size_t);
    const struct cfg_mlist *l = CFG_CFIELD(c, k->arr_off, struct cfg_mlist *);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < l[i].n; j++) {
            const char *mname = method_name(l[i].m[j].kind);
            if (!mname)
                return -1;
            q = store_stmt(st, ST_MLIST_PUT);
            sqlite3_bind_text(q, 1, k->kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 2, l[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_int(q, 3, j);
            sqlite3_bind_text(q, 4, mname, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 5, l[i].m[j].kind == CFG_M_GROUP ? l[i].m[j].group : "", -1,
                              SQLITE_STATIC);
            if (sqlite3_step(q) != SQLITE_DONE)
                return -1;
        }
    }
    return 0;
}

/* ---- users and pubkey users: sorted arrays, written by a merge walk ------------------------- */

static bool user_same(const void *a, const void *b)
{
    return cfg_user_equal(a, b);
}

static int user_del(struct store *st, const void *row)
{
    sqlite3_stmt *q = store_stmt(st, ST_USER_DEL);
    sqlite3_bind_text(q, 1, ((const struct cfg_user *)row)->name, -1, SQLITE_STATIC);
    return sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
}

static int user_put(struct store *st, const void *row)
{
    const struct cfg_user *u = row;
    sqlite3_stmt *q = store_stmt(st, ST_USER_PUT);
    sqlite3_bind_text(q, 1, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, u->privilege);
    sqlite3_bind_int(q, 3, (int)u->secret_type);
    sqlite3_bind_text(q, 4, u->secret, -1, SQLITE_STATIC);
    return sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
}

static bool pkuser_same(const void *a, const void *b)
{
    return cfg_pkuser_equal(a, b);
}

static int pkuser_del(struct store *st, const void *row)
{
    sqlite3_stmt *q = store_stmt(st, ST_PKUSER_DEL); /* its keys go by ON DELETE CASCADE */
    sqlite3_bind_text(q, 1, ((const struct cfg_pkuser *)row)->name, -1, SQLITE_STATIC);
    return sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
}

static int pkuser_put(struct store *st, const void *row)
{
    const struct cfg_pkuser *p = row;
    sqlite3_stmt *q = store_stmt(st, ST_PKUSER_PUT);
    sqlite3_bind_text(q, 1, p->name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        return -1;
    for (int i = 0; i < p->nkeys; i++) {
        q = store_stmt(st, ST_PKEY_PUT);
        sqlite3_bind_text(q, 1, p->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 2, i);
        sqlite3_bind_text(q, 3, p->keys[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, p->keys[i].hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, p->keys[i].comment, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            return -1;
    }
    return 0;
}

/* A sorted array of rows whose first member is the name (cfg_user, cfg_pkuser). */
static const struct rowset {
    const char *what;
    size_t n_off, arr_off, elem;
    bool (*same)(const void *a, const void *b);
    int (*del)(struct store *st, const void *row);
    int (*put)(struct store *st, const void *row);
} rowsets[] = {
    {"users", offsetof(struct cfg, n_users), offsetof(struct cfg, users), sizeof(struct cfg_user),
     user_same, user_del, user_put},
    {"pubkey users", offsetof(struct cfg, n_pkusers), offsetof(struct cfg, pkusers),
     sizeof(struct cfg_pkuser), pkuser_same, pkuser_del, pkuser_put},
};
#define N_ROWSETS (sizeof(rowsets) / sizeof(rowsets[0]))

static const char *rowset_name(const struct rowset *r, const struct cfg *c, size_t i)
{
    const char *arr; /* the field is a struct pointer: copy its bytes rather than alias it */
    memcpy(&arr, (const char *)c + r->arr_off, sizeof(arr));
    return arr + i * r->elem;
}

static bool rowset_sorted(const struct rowset *r, const struct cfg *c)
{
    size_t n = CFG_CFIELD(c, r->n_off, size_t);
    for (size_t i = 1; i < n; i++)
        if (strcmp(rowset_name(r, c, i - 1), rowset_name(r, c, i)) >= 0)
            return false;
    return true;
}

/* Writes the rows that differ between from (what the database holds) and to. */
static int rowset_write(struct store *st, const struct rowset *r, const struct cfg *from,
                        const struct cfg *to, struct scpd_err *err)
{
    if (!rowset_sorted(r, from) || !rowset_sorted(r, to))
        return scpd_err_set(err, SCPD_E_INTERNAL, "store: %s of the config are not sorted",
                            r->what);
    size_t na = CFG_CFIELD(from, r->n_off, size_t), nb = CFG_CFIELD(to, r->n_off, size_t);
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        const char *a = i < na ? rowset_name(r, from, i) : NULL;
        const char *b = j < nb ? rowset_name(r, to, j) : NULL;
        int cmp = !a ? 1 : !b ? -1 : strcmp(a, b);
        int rc = 0;
        if (cmp < 0) {
            rc = r->del(st, a);
            i++;
        } else if (cmp > 0) {
            rc = r->put(st, b);
            j++;
        } else {
            if (!r->same(a, b))
                rc = (r->del(st, a) == 0 && r->put(st, b) == 0) ? 0 : -1;
            i++;
            j++;
        }
        if (rc != 0)
            return store_sql_err(st, err, r->what);
    }
    return 0;
}

/* The network-AAA part (servers, server groups, accounting lists: cfg_aaa.c) is one setting row,
 * AAA_NET_SETTING, holding its canonical rendering (server keys only as type 6): a few blocks that
 * change together, and the config language already says all of it. */
#define AAA_NET_SETTING "aaa_net"

static int aaa_net_put(struct store *st, const struct cfg *c)
{
    char *text = cfg_aaa_render(c);
    if (text == NULL)
        return -1;
    sqlite3_stmt *q = store_stmt(st, ST_SET_PUT);
    sqlite3_bind_text(q, 1, AAA_NET_SETTING, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    free(text);
    return rc;
}

/* Moves the network-AAA part of the stored text into c (whose own part is empty). */
static int aaa_net_load(struct cfg *c, const char *text, struct scpd_err *err)
{
    struct cfg_errors errs;
    struct cfg *n = cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, &errs);
    if (n == NULL)
        return scpd_err_set(err, SCPD_E_IO, "store: the stored AAA servers do not parse "
                            "(line %d: %s)", errs.n ? errs.e[0].line : 0,
                            errs.n ? errs.e[0].reason : "?");
    c->n_servers = n->n_servers, c->servers = n->servers;
    c->n_groups = n->n_groups, c->groups = n->groups;
    c->n_acct = n->n_acct, c->acct = n->acct;
    c->rad_dead_time = n->rad_dead_time, c->rad_dead_tries = n->rad_dead_tries;
    c->rad_deadtime = n->rad_deadtime;
    n->servers = NULL, n->groups = NULL, n->acct = NULL;
    n->n_servers = n->n_groups = n->n_acct = 0;
    cfg_free(n);
    return 0;
}

/* ---- access lists: rewritten whole when they differ (a few short lists) --------------------- */

static int acls_put(struct store *st, const struct cfg *c)
{
    sqlite3_stmt *qa = NULL, *qe = NULL;
    int rc = -1;
    if (sqlite3_exec(st->db, "DELETE FROM acl", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT INTO acl(name) VALUES (?1)", -1, &qa, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT INTO ace(acl, pos, permit, addr, wildcard)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &qe, NULL) != SQLITE_OK)
        goto out;
    for (int k = 0; k < c->n_acls; k++) {
        const struct cfg_acl *a = &c->acls[k];
        sqlite3_reset(qa);
        sqlite3_bind_text(qa, 1, a->name, -1, SQLITE_STATIC);
        if (sqlite3_step(qa) != SQLITE_DONE)
            goto out;
        for (int j = 0; j < a->n; j++) {
            sqlite3_reset(qe);
            sqlite3_bind_text(qe, 1, a->name, -1, SQLITE_STATIC);
            sqlite3_bind_int(qe, 2, j);
            sqlite3_bind_int(qe, 3, a->e[j].permit ? 1 : 0);
            sqlite3_bind_int64(qe, 4, a->e[j].addr);
            sqlite3_bind_int64(qe, 5, a->e[j].wild);
            if (sqlite3_step(qe) != SQLITE_DONE)
                goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(qa);
    sqlite3_finalize(qe);
    return rc;
}

static int load_acls(struct store *st, struct cfg *c, struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT a.name, e.permit, e.addr, e.wildcard FROM acl a"
                           " LEFT JOIN ace e ON e.acl = a.name ORDER BY a.name, e.pos",
                           -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "loading access lists");
    int rc;
    struct cfg_acl *a = NULL;
    c->n_acls = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (a == NULL || strcmp(a->name, name) != 0) {
            if (c->n_acls >= LIM_CFG_ACLS) {
                sqlite3_finalize(q);
                return scpd_err_set(err, SCPD_E_IO, "store: too many access lists");
            }
            a = &c->acls[c->n_acls++];
            memset(a, 0, sizeof *a);
            snprintf(a->name, sizeof a->name, "%s", name);
        }
        if (sqlite3_column_type(q, 1) == SQLITE_NULL)
            continue;
        if (a->n >= LIM_CFG_ACES) {
            sqlite3_finalize(q);
            return scpd_err_set(err, SCPD_E_IO, "store: too many entries in access list %s",
                                name);
        }
        a->e[a->n].permit = sqlite3_column_int(q, 1) != 0;
        a->e[a->n].addr = (uint32_t)sqlite3_column_int64(q, 2);
        a->e[a->n].wild = (uint32_t)sqlite3_column_int64(q, 3);
        a->n++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, err, "loading access lists");
}

/* Writes the difference between from (the rows in the database) and to; all_settings writes
 * every global setting (a new database holds none). Inside the caller's transaction. */
static int store_write_running(struct store *st, const struct cfg *from, const struct cfg *to,
                               bool all_settings, struct scpd_err *err)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if ((all_settings || !setting_same(&settings[i], from, to)) &&
            setting_put(st, &settings[i], to) != 0)
            return store_sql_err(st, err, "settings");
    for (size_t i = 0; i < N_MLKINDS; i++)
        if (!mlkind_same(&mlkinds[i], from, to) && mlkind_put(st, &mlkinds[i], to) != 0)
            return store_sql_err(st, err, "method lists");
    for (size_t i = 0; i < N_ROWSETS; i++)
        if (rowset_write(st, &rowsets[i], from, to, err) != 0)
            return -1;
    if ((all_settings || !cfg_aaa_equal(from, to)) && aaa_net_put(st, to) != 0)
        return store_sql_err(st, err, "AAA servers");
    if (!cfg_acls_equal(from, to) && acls_put(st, to) != 0)
        return store_sql_err(st, err, "access lists");
    return 0;
}

/* ---- loading the running datastore ----------------------------------------------------------- */

/* A growable array for loading rows. */
struct grow {
    void *p;
    size_t n, cap, elem;
};

static void *grow_add(struct grow *g)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        void *p = realloc(g->p, cap * g->elem);
        if (!p)
            return NULL;
        g->p = p;
        g->cap = cap;
    }
    void *e = (char *)g->p + g->n++ * g->elem;
    memset(e, 0, g->elem);
    return e;
}

static int load_settings(struct store *st, struct cfg *c, char **aaa_net, struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT name, value FROM setting", -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "loading settings");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        size_t i = 0;
        while (i < N_SETTINGS && strcmp(settings[i].name, name) != 0)
            i++;
        if (i < N_SETTINGS)
            setting_load(&settings[i], c, q);
        else if (strcmp(name, AAA_NET_SETTING) == 0 && *aaa_net == NULL)
            *aaa_net = strdup((const char *)sqlite3_column_text(q, 1));
        else
            log_warn(NULL, "store: ignoring unknown setting '%s' (written by a newer scpd?)", name);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, err, "loading settings");
}

static int load_mlists(struct store *st, const struct mlkind *k, struct grow *g,
                       struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT name, method, grp FROM mlist WHERE kind = ?1 ORDER BY name, pos",
                           -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "loading method lists");
    sqlite3_bind_text(q, 1, k->kind, -1, SQLITE_STATIC);
    int rc;
    struct cfg_mlist *l = NULL;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        int mk = method_kind((const char *)sqlite3_column_text(q, 1));
        if (!l || strcmp(l->name, name) != 0) {
            if (!(l = grow_add(g))) {
                sqlite3_finalize(q);
                return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
            }
            snprintf(l->name, sizeof(l->name), "%s", name);
        }
        if (mk < 0 || l->n >= LIM_CFG_METHODS) {
            sqlite3_finalize(q);
            return scpd_err_set(err, SCPD_E_IO, "store: bad method in list %s %s", k->kind, name);
        }
        l->m[l->n].kind = (enum cfg_method_kind)mk;
        snprintf(l->m[l->n].group, sizeof(l->m[l->n].group), "%s",
                 (const char *)sqlite3_column_text(q, 2));
        l->n++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, err, "loading method lists");
}

static int load_users(struct store *st, struct grow *g, struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT name, privilege, secret_type, secret FROM users ORDER BY name",
                           -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "loading users");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct cfg_user *u = grow_add(g);
        if (!u) {
            sqlite3_finalize(q);
            return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        }
        snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(q, 0));
        u->privilege = sqlite3_column_int(q, 1);
        u->secret_type = (enum cfg_secret_type)sqlite3_column_int(q, 2);
        snprintf(u->secret, sizeof(u->secret), "%s", (const char *)sqlite3_column_text(q, 3));
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, err, "loading users");
}

static int load_pkusers(struct store *st, struct grow *g, struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT p.name, k.type, k.hash, k.comment FROM pkuser p"
                           " LEFT JOIN pkey k ON k.user = p.name ORDER BY p.name, k.pos",
                           -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "loading public keys");
    int rc;
    struct cfg_pkuser *p = NULL;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (!p || strcmp(p->name, name) != 0) {
            if (!(p = grow_add(g))) {
                sqlite3_finalize(q);
                return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
            }
            snprintf(p->name, sizeof(p->name), "%s", name);
        }
        if (sqlite3_column_type(q, 1) == SQLITE_NULL)
            continue; /* a pubkey user without keys */
        if (p->nkeys >= LIM_CFG_KEYS_PER_USER) {
            sqlite3_finalize(q);
            return scpd_err_set(err, SCPD_E_IO, "store: too many keys for %s", name);
        }
        struct cfg_key *k = &p->keys[p->nkeys++];
        snprintf(k->type, sizeof(k->type), "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(k->hash, sizeof(k->hash), "%s", (const char *)sqlite3_column_text(q, 2));
        snprintf(k->comment, sizeof(k->comment), "%s", (const char *)sqlite3_column_text(q, 3));
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, err, "loading public keys");
}

/* Builds the running config from the rows. The arrays are assembled here and handed to
 * cfg_clone(), so the result is allocated the way cfg_free() expects. */
static struct cfg *store_load_running(struct store *st, struct scpd_err *err)
{
    struct cfg *def = cfg_new_default(), *out = NULL;
    char *aaa_net = NULL;
    struct cfg tmp = {0};
    struct grow lists[N_MLKINDS];
    struct grow users = {.elem = sizeof(struct cfg_user)};
    struct grow pk = {.elem = sizeof(struct cfg_pkuser)};
    for (size_t i = 0; i < N_MLKINDS; i++)
        lists[i] = (struct grow){.elem = sizeof(struct cfg_mlist)};
    if (!def) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto out;
    }
    tmp = *def;
    if (load_settings(st, &tmp, &aaa_net, err) != 0 || load_acls(st, &tmp, err) != 0 ||
        load_users(st, &users, err) != 0 || load_pkusers(st, &pk, err) != 0 ||
        (aaa_net != NULL && aaa_net_load(&tmp, aaa_net, err) != 0))
        goto out;
    for (size_t i = 0; i < N_MLKINDS; i++) {
        if (load_mlists(st, &mlkinds[i], &lists[i], err) != 0)
            goto out;
        CFG_FIELD(&tmp, mlkinds[i].n_off, size_t) = lists[i].n;
        CFG_FIELD(&tmp, mlkinds[i].arr_off, struct cfg_mlist *) = lists[i].p;
    }
    tmp.n_users = users.n;
    tmp.users = users.p;
    tmp.n_pkusers = pk.n;
    tmp.pkusers = pk.p;
    if (!(out = cfg_clone(&tmp)))
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
out:
    for (size_t i = 0; i < N_MLKINDS; i++)
        free(lists[i].p);
    free(users.p);
    free(pk.p);
    free(tmp.servers);   /* the network-AAA arrays are aaa_net_load's, copied by cfg_clone */
    free(tmp.groups);
    free(tmp.acct);
    free(aaa_net);
    cfg_free(def);
    return out;
}

/* ---- helpers --------------------------------------------------------------------------------- */

sqlite3_stmt *store_stmt(struct store *st, enum store_stmt which)
{
    sqlite3_stmt *q = st->stmt[which];
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return q;
}

int store_sql_err(struct store *st, struct scpd_err *err, const char *what)
{
    int code = sqlite3_extended_errcode(st->db);
    enum scpd_errcode ec = (code & 0xff) == SQLITE_BUSY    ? SCPD_E_CONFLICT
                           : (code & 0xff) == SQLITE_NOMEM ? SCPD_E_NOMEM
                           : (code & 0xff) == SQLITE_FULL  ? SCPD_E_LIMIT
                                                           : SCPD_E_IO;
    return scpd_err_set(err, ec, "store: %s: %s (%s)", what, sqlite3_errmsg(st->db), st->path);
}

static int store_exec(struct store *st, const char *sql, struct scpd_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    scpd_err_set(err, SCPD_E_IO, "store: %s: %s (%s)", sql, msg ? msg : "error", st->path);
    sqlite3_free(msg);
    return -1;
}

static int store_begin(struct store *st, struct scpd_err *err)
{
    return store_exec(st, "BEGIN IMMEDIATE", err);
}

static int store_end(struct store *st, struct scpd_err *err)
{
    if (store_exec(st, "COMMIT", err) == 0)
        return 0;
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The audit sources of store_who; anything else is a programming error caught early. */
static const char *const who_sources[] = {"boot", "scp", "sftp", "api", "cli", "netconf"};

static int who_check(const struct store_who *who, struct scpd_err *err)
{
    const char *src = who && who->source ? who->source : "";
    for (size_t i = 0; i < sizeof(who_sources) / sizeof(who_sources[0]); i++)
        if (strcmp(src, who_sources[i]) == 0)
            return 0;
    return scpd_err_set(err, SCPD_E_INTERNAL, "store: unknown change source '%s'", src);
}

static const char *who_user(const struct store_who *who)
{
    return who && who->user ? who->user : "";
}

int store_audit_add(struct store *st, const struct store_who *who, int64_t when, uint64_t version,
                    const char *target, const char *diff, struct scpd_err *err)
{
    sqlite3_stmt *q = store_stmt(st, ST_AUDIT_PUT);
    sqlite3_bind_int64(q, 1, when);
    sqlite3_bind_text(q, 2, who_user(who), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, who->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, who->peer ? who->peer : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)version);
    sqlite3_bind_text(q, 6, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, diff ? diff : "", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        return store_sql_err(st, err, "audit log");
    /* Bounded in the same transaction as the change: the oldest rows beyond LIM_AUDIT_ROWS go
     * (an index walk on the primary key; usually one row). */
    q = store_stmt(st, ST_AUDIT_TRIM);
    sqlite3_bind_int(q, 1, LIM_AUDIT_ROWS);
    return sqlite3_step(q) == SQLITE_DONE ? 0 : store_sql_err(st, err, "audit log trim");
}

static int meta_put(struct store *st, uint64_t version, int64_t when, const char *user,
                    struct scpd_err *err)
{
    sqlite3_stmt *q = store_stmt(st, ST_META_PUT);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)version);
    sqlite3_bind_int64(q, 2, when);
    sqlite3_bind_text(q, 3, user, -1, SQLITE_STATIC);
    return sqlite3_step(q) == SQLITE_DONE ? 0 : store_sql_err(st, err, "meta");
}

static int startup_put(struct store *st, const char *text, int64_t when, struct scpd_err *err)
{
    sqlite3_stmt *q = store_stmt(st, ST_STARTUP_PUT);
    sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, when);
    return sqlite3_step(q) == SQLITE_DONE ? 0 : store_sql_err(st, err, "startup-config");
}

/* The canonical text kept in the startup datastore. */
static char *startup_render(const struct cfg *c)
{
    struct cfg_render_opts o = {0};
    return cfg_render(c, &o, NULL);
}

/* ---- snapshots ------------------------------------------------------------------------------- */

static struct store_snap_impl *snap_new(struct cfg *c, uint64_t version, time_t at,
                                        const char *user)
{
    struct store_snap_impl *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->own = c;
    s->pub.cfg = c;
    s->pub.version = version;
    s->pub.changed_at = at;
    snprintf(s->pub.changed_by, sizeof(s->pub.changed_by), "%s", user ? user : "");
    s->refs = 1;
    return s;
}

const struct store_snap *store_snapshot(struct store *st)
{
    pthread_mutex_lock(&st->snap_lock);
    struct store_snap_impl *s = st->cur;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&st->snap_lock);
    return &s->pub;
}

void store_snap_release(const struct store_snap *snap)
{
    if (!snap)
        return;
    struct store_snap_impl *s = (struct store_snap_impl *)snap;
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        cfg_free(s->own);
        free(s);
    }
}

uint64_t store_version(struct store *st)
{
    pthread_mutex_lock(&st->snap_lock);
    uint64_t v = st->cur->pub.version;
    pthread_mutex_unlock(&st->snap_lock);
    return v;
}

/* Publishes s as the current snapshot (the store takes over the caller's reference). */
static void snap_swap(struct store *st, struct store_snap_impl *s)
{
    pthread_mutex_lock(&st->snap_lock);
    struct store_snap_impl *old = st->cur;
    st->cur = s;
    pthread_mutex_unlock(&st->snap_lock);
    if (old)
        store_snap_release(&old->pub);
}

static void notify(struct store *st, const struct store_snap *snap)
{
    int n;
    struct {
        store_listener_fn fn;
        void *arg;
    } l[STORE_MAX_LISTENERS];
    pthread_mutex_lock(&st->lsn_lock);
    n = st->n_listeners;
    memcpy(l, st->listeners, sizeof(l[0]) * (size_t)n);
    pthread_mutex_unlock(&st->lsn_lock);
    for (int i = 0; i < n; i++)
        l[i].fn(l[i].arg, snap);
}

int store_listen(struct store *st, store_listener_fn fn, void *arg)
{
    int rc = -1;
    pthread_mutex_lock(&st->lsn_lock);
    if (st->n_listeners < STORE_MAX_LISTENERS) {
        st->listeners[st->n_listeners].fn = fn;
        st->listeners[st->n_listeners].arg = arg;
        st->n_listeners++;
        rc = 0;
    }
    pthread_mutex_unlock(&st->lsn_lock);
    return rc;
}

/* ---- open / create / migrate ----------------------------------------------------------------- */

static int store_migrate(struct store *st, struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    int have = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        have = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (have < 0)
        return store_sql_err(st, err, "reading the schema version");
    if (have > STORE_SCHEMA_VERSION)
        return scpd_err_set(err, SCPD_E_IO,
                            "store: %s has schema version %d, newer than this scpd knows (%d); "
                            "use a newer scpd or another --data-dir",
                            st->path, have, STORE_SCHEMA_VERSION);
    for (int v = have; v < STORE_SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        if (store_begin(st, err) != 0)
            return -1;
        if (store_exec(st, migrations[v], err) != 0 || store_exec(st, bump, err) != 0 ||
            store_end(st, err) != 0) {
            store_rollback(st);
            return -1;
        }
        log_info(NULL, "store: schema migrated to version %d", v + 1);
    }
    return 0;
}

/* Reads the meta row: 1 if present (fills out params), 0 if absent, -1 on error. */
static int meta_get(struct store *st, uint64_t *version, time_t *at, char *by, size_t bycap,
                    struct scpd_err *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT version, changed_at, changed_by FROM meta WHERE id = 1",
                           -1, &q, NULL) != SQLITE_OK)
        return store_sql_err(st, err, "reading meta");
    int rc = sqlite3_step(q), found = 0;
    if (rc == SQLITE_ROW) {
        *version = (uint64_t)sqlite3_column_int64(q, 0);
        *at = (time_t)sqlite3_column_int64(q, 1);
        snprintf(by, bycap, "%s", (const char *)sqlite3_column_text(q, 2));
        found = 1;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_sql_err(st, err, "reading meta");
    return found;
}

/* First start: the running and startup datastores from initial, version 1, one transaction.
 * A crash before COMMIT leaves no meta row, so the next open does this again. */
static int store_init_content(struct store *st, const struct cfg *initial, struct scpd_err *err)
{
    static const struct store_who boot = {.user = "", .source = "boot", .peer = ""};
    struct cfg *def = cfg_new_default(), *copy = initial ? cfg_clone(initial) : cfg_new_default();
    char *diff = NULL, *text = NULL;
    struct store_snap_impl *s = NULL;
    int rc = -1;
    time_t now = time(NULL);
    if (!def || !copy || !(diff = cfg_diff(def, copy)) || !(text = startup_render(copy))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto out;
    }
    if (store_begin(st, err) != 0)
        goto out;
    /* The tables are empty (an earlier first start that crashed rolled back), so writing the
     * difference from the defaults plus every setting is exact. */
    if (store_write_running(st, def, copy, true, err) != 0 || meta_put(st, 1, now, "", err) != 0 ||
        startup_put(st, text, now, err) != 0 ||
        store_audit_add(st, &boot, now, 1, "running", diff, err) != 0 || store_end(st, err) != 0) {
        store_rollback(st);
        goto out;
    }
    if (!(s = snap_new(copy, 1, now, ""))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto out;
    }
    copy = NULL;
    snap_swap(st, s);
    rc = 0;
out:
    cfg_free(def);
    cfg_free(copy);
    free(diff);
    free(text);
    return rc;
}

static int store_load(struct store *st, struct scpd_err *err)
{
    uint64_t version = 0;
    time_t at = 0;
    char by[CFG_NAME_MAX] = "";
    if (meta_get(st, &version, &at, by, sizeof(by), err) != 1)
        return -1;
    struct cfg *c = store_load_running(st, err);
    if (!c)
        return -1;
    struct store_snap_impl *s = snap_new(c, version, at, by);
    if (!s) {
        cfg_free(c);
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    }
    snap_swap(st, s);
    return 0;
}

/* Two processes on one data directory would each trust their own snapshot and write deltas
 * against it, so the second is refused. flock() dies with its process (kill -9 included). */
static int store_lock(struct store *st, const char *dir, struct scpd_err *err)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/scpd.lock", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return scpd_err_set(err, SCPD_E_INVALID, "store: data directory path too long");
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->lock_fd < 0)
        return scpd_err_set(err, SCPD_E_IO, "store: cannot open %s: %s", path, strerror(errno));
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return scpd_err_set(err, errno == EWOULDBLOCK ? SCPD_E_CONFLICT : SCPD_E_IO,
                            "store: %s is in use by another scpd (lock %s: %s)", dir, path,
                            strerror(errno));
    return 0;
}

struct store *store_open(const char *dir, const struct cfg *initial, bool *created,
                         struct scpd_err *err)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->db_lock, NULL);
    pthread_mutex_init(&st->snap_lock, NULL);
    pthread_mutex_init(&st->lsn_lock, NULL);
    st->lock_fd = -1;
    if (created)
        *created = false;
    if (store_lock(st, dir, err) != 0)
        goto fail;
    int n = snprintf(st->path, sizeof(st->path), "%s/scpd.db", dir);
    if (n < 0 || (size_t)n >= sizeof(st->path)) {
        scpd_err_set(err, SCPD_E_INVALID, "store: data directory path too long");
        goto fail;
    }
    if (sqlite3_open_v2(st->path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        scpd_err_set(err, SCPD_E_IO, "store: cannot open %s: %s", st->path,
                     st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_extended_result_codes(st->db, 1);
    /* WAL: readers of other connections (sqlite3 CLI, backups) never block the daemon.
     * synchronous=FULL: a commit is on disk when store_commit returns, even across power loss. */
    if (store_exec(st, "PRAGMA journal_mode = WAL", err) != 0 ||
        store_exec(st, "PRAGMA synchronous = FULL", err) != 0 ||
        store_exec(st, "PRAGMA foreign_keys = ON", err) != 0 ||
        store_exec(st, "PRAGMA secure_delete = ON", err) != 0 || store_migrate(st, err) != 0)
        goto fail;
    for (int i = 0; i < ST__COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            store_sql_err(st, err, "preparing statements");
            goto fail;
        }
    }
    uint64_t v;
    time_t at;
    char by[CFG_NAME_MAX];
    int have = meta_get(st, &v, &at, by, sizeof(by), err);
    if (have < 0)
        goto fail;
    if (have == 0) {
        if (store_init_content(st, initial, err) != 0)
            goto fail;
        if (created)
            *created = true;
        log_info(NULL, "store: created %s (version 1)", st->path);
    } else {
        if (store_load(st, err) != 0)
            goto fail;
        log_info(NULL, "store: opened %s (version %llu)", st->path,
                 (unsigned long long)st->cur->pub.version);
    }
    return st;
fail:
    store_close(st);
    return NULL;
}

int store_initialized(const char *dir, struct scpd_err *err)
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

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db)
        sqlite3_close(st->db);
    if (st->cur)
        store_snap_release(&st->cur->pub);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&st->db_lock);
    pthread_mutex_destroy(&st->snap_lock);
    pthread_mutex_destroy(&st->lsn_lock);
    free(st);
}

/* ---- commit ---------------------------------------------------------------------------------- */

int store_commit(struct store *st, const struct cfg *next, uint64_t expect_version,
                 const struct store_who *who, uint64_t *new_version, struct scpd_err *err)
{
    if (who_check(who, err) != 0)
        return -1;
    struct cfg *copy = NULL;
    char *diff = NULL;
    struct store_snap_impl *s = NULL;
    int rc = -1;
    pthread_mutex_lock(&st->db_lock);
    /* Only writers replace cur, and they hold db_lock: cur is stable here without snap_lock. */
    struct store_snap_impl *cur = st->cur;
    uint64_t v = cur->pub.version;
    if (st->ds_lock_sid != 0 && st->ds_lock_sid != who->session) {
        scpd_err_set(err, SCPD_E_LOCKED, "the running configuration is locked by %s",
                     st->ds_lock_holder);
        goto unlock;
    }
    if (expect_version && expect_version != v) {
        scpd_err_set(err, SCPD_E_CONFLICT,
                     "configuration changed meanwhile: version is %llu, expected %llu",
                     (unsigned long long)v, (unsigned long long)expect_version);
        goto unlock;
    }
    if (cfg_equal(cur->own, next)) {
        if (new_version)
            *new_version = v;
        rc = 0;
        goto unlock;
    }
    time_t now = time(NULL);
    if (!(copy = cfg_clone(next)) || !(diff = cfg_diff(cur->own, copy))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto unlock;
    }
    if (store_begin(st, err) != 0)
        goto unlock;
    if (store_write_running(st, cur->own, copy, false, err) != 0 ||
        meta_put(st, v + 1, now, who_user(who), err) != 0 ||
        store_audit_add(st, who, now, v + 1, "running", diff, err) != 0 ||
        store_end(st, err) != 0) {
        store_rollback(st);
        goto unlock;
    }
    /* Committed. Publishing cannot fail after this point except for memory; if it does, the
     * database is ahead of memory, so reload it rather than serve a stale version. */
    if (!(s = snap_new(copy, v + 1, now, who_user(who)))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory after commit; reloading");
        store_load(st, NULL);
        goto unlock;
    }
    copy = NULL;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED); /* ours, for the listeners */
    snap_swap(st, s);
    if (new_version)
        *new_version = v + 1;
    rc = 0;
unlock:
    pthread_mutex_unlock(&st->db_lock);
    if (s) {
        struct log_ctx lc = {.user = who_user(who), .peer = who->peer};
        char why[256];
        log_info(&lc, "store: committed version %llu (source %s)", (unsigned long long)(v + 1),
                 who->source);
        /* not refused (IOS takes such a line too), but never silent: every door's commit */
        if (cfg_login_warning(s->pub.cfg, why, sizeof why) != NULL)
            log_warn(&lc, "store: version %llu: %s", (unsigned long long)(v + 1), why);
        notify(st, &s->pub);
        store_snap_release(&s->pub);
    }
    cfg_free(copy);
    free(diff);
    return rc;
}

/* cfg_apply_text() takes any length: the text doors of the store bound it here, once for every
 * caller (SCP/SFTP copies through ifs, the API's apply-config), with LIM_CONFIG_FILE_BYTES. */
static int store_text_size_check(size_t len, struct scpd_err *err)
{
    if (len <= LIM_CONFIG_FILE_BYTES)
        return 0;
    return scpd_err_set(err, SCPD_E_LIMIT, "configuration text of %zu bytes is larger than the "
                        "limit of %u bytes; nothing was changed", len,
                        (unsigned)LIM_CONFIG_FILE_BYTES);
}

int store_ds_lock(struct store *st, uint64_t sid, const char *holder, struct scpd_err *err)
{
    int rc = 0;

    pthread_mutex_lock(&st->db_lock);
    if (st->ds_lock_sid == sid) {
        rc = scpd_err_set(err, SCPD_E_EXISTS, "this session holds the lock already");
    } else if (st->ds_lock_sid != 0) {
        rc = scpd_err_set(err, SCPD_E_LOCKED, "the running configuration is locked by %s",
                          st->ds_lock_holder);
    } else {
        st->ds_lock_sid = sid;
        snprintf(st->ds_lock_holder, sizeof st->ds_lock_holder, "%s", holder);
    }
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

int store_ds_unlock(struct store *st, uint64_t sid, struct scpd_err *err)
{
    int rc = 0;

    pthread_mutex_lock(&st->db_lock);
    if (st->ds_lock_sid != sid)
        rc = scpd_err_set(err, SCPD_E_DENIED, "this session does not hold the lock");
    else
        st->ds_lock_sid = 0;
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

void store_ds_unlock_session(struct store *st, uint64_t sid)
{
    pthread_mutex_lock(&st->db_lock);
    if (sid != 0 && st->ds_lock_sid == sid)
        st->ds_lock_sid = 0;
    pthread_mutex_unlock(&st->db_lock);
}

int store_apply_text(struct store *st, const char *text, size_t len, enum cfg_mode mode,
                     bool dry_run, uint64_t expect_version, const struct store_who *who,
                     struct cfg_errors *errs, char **diff, struct scpd_err *err)
{
    if (diff)
        *diff = NULL;
    if (store_text_size_check(len, err) != 0)
        return -1;
    /* A merge is computed on one version; if another commit lands meanwhile, apply again on the
     * new version rather than overwrite it (unless the caller pinned a version). */
    for (int attempt = 0; attempt < 8; attempt++) {
        const struct store_snap *snap = store_snapshot(st);
        if (expect_version && expect_version != snap->version) {
            store_snap_release(snap);
            return scpd_err_set(err, SCPD_E_CONFLICT,
                                "configuration changed meanwhile: version is %llu, expected %llu",
                                (unsigned long long)snap->version,
                                (unsigned long long)expect_version);
        }
        struct cfg *next = cfg_apply_text(snap->cfg, text, len, mode, errs);
        if (!next) {
            int nerr = errs ? errs->total : 0;
            store_snap_release(snap);
            return scpd_err_set(err, SCPD_E_INVALID,
                                "configuration rejected (%d error%s); nothing was changed", nerr,
                                nerr == 1 ? "" : "s");
        }
        int rc = 0;
        if (diff && !(*diff = cfg_diff(snap->cfg, next)))
            rc = scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        if (rc == 0 && !dry_run)
            rc = store_commit(st, next, snap->version, who, NULL, err);
        uint64_t seen = snap->version;
        store_snap_release(snap);
        cfg_free(next);
        if (rc == 0 || expect_version || err == NULL || err->code != SCPD_E_CONFLICT ||
            store_version(st) == seen)
            return rc;
        if (diff) {
            free(*diff);
            *diff = NULL;
        }
    }
    return scpd_err_set(err, SCPD_E_CONFLICT, "configuration keeps changing; try again");
}

/* ---- startup datastore ---------------------------------------------------------------------- */

/* Reads the startup text; the caller holds db_lock. */
static char *startup_read(struct store *st, time_t *saved_at, struct scpd_err *err)
{
    char *out = NULL;
    sqlite3_stmt *q = store_stmt(st, ST_STARTUP_GET);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out = strdup((const char *)sqlite3_column_text(q, 0));
        if (saved_at)
            *saved_at = (time_t)sqlite3_column_int64(q, 1);
        if (!out)
            scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    } else if (rc == SQLITE_DONE) {
        scpd_err_set(err, SCPD_E_NOTFOUND, "startup-config is not present");
    } else {
        store_sql_err(st, err, "reading startup-config");
    }
    sqlite3_reset(q);
    return out;
}

char *store_startup_get(struct store *st, time_t *saved_at, struct scpd_err *err)
{
    pthread_mutex_lock(&st->db_lock);
    char *out = startup_read(st, saved_at, err);
    pthread_mutex_unlock(&st->db_lock);
    return out;
}

/* Stores c (already validated) as the startup config and audits the change against the previous
 * startup text. */
static int startup_store(struct store *st, const struct cfg *c, const struct store_who *who,
                         struct scpd_err *err)
{
    char *text = startup_render(c), *diff = NULL, *old = NULL;
    struct cfg *oldc = NULL;
    int rc = -1;
    if (!text)
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    time_t now = time(NULL);
    /* The previous text is read under the same lock as the write, so the audited diff is
     * against exactly what this change replaces. */
    pthread_mutex_lock(&st->db_lock);
    old = startup_read(st, NULL, NULL);
    if (old)
        oldc = cfg_apply_text(c, old, strlen(old), CFG_REPLACE, NULL);
    if (!oldc)
        oldc = cfg_new_default();
    if (!oldc || !(diff = cfg_diff(oldc, c))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    } else if (store_begin(st, err) == 0) {
        if (startup_put(st, text, now, err) != 0 ||
            store_audit_add(st, who, now, 0, "startup", diff, err) != 0 || store_end(st, err) != 0)
            store_rollback(st);
        else
            rc = 0;
    }
    pthread_mutex_unlock(&st->db_lock);
    if (rc == 0)
        log_info(&(struct log_ctx){.user = who_user(who), .peer = who->peer},
                 "store: startup-config saved (source %s)", who->source);
    cfg_free(oldc);
    free(old);
    free(diff);
    free(text);
    return rc;
}

int store_startup_set(struct store *st, const char *text, size_t len, const struct store_who *who,
                      struct cfg_errors *errs, struct scpd_err *err)
{
    if (who_check(who, err) != 0 || store_text_size_check(len, err) != 0)
        return -1;
    const struct store_snap *snap = store_snapshot(st);
    struct cfg *c = cfg_apply_text(snap->cfg, text, len, CFG_REPLACE, errs);
    store_snap_release(snap);
    if (!c) {
        int nerr = errs ? errs->total : 0;
        return scpd_err_set(err, SCPD_E_INVALID,
                            "startup-config rejected (%d error%s); nothing was changed", nerr,
                            nerr == 1 ? "" : "s");
    }
    int rc = startup_store(st, c, who, err);
    cfg_free(c);
    return rc;
}

int store_save_config(struct store *st, const struct store_who *who, struct scpd_err *err)
{
    if (who_check(who, err) != 0)
        return -1;
    const struct store_snap *snap = store_snapshot(st);
    int rc = startup_store(st, snap->cfg, who, err);
    store_snap_release(snap);
    return rc;
}

int store_reload(struct store *st, const struct store_who *who, struct scpd_err *err)
{
    struct cfg_errors *errs = NULL;
    if (who_check(who, err) != 0)
        return -1;
    char *text = store_startup_get(st, NULL, err);
    if (text == NULL)
        return -1;
    int rc = -1;
    struct cfg *c = NULL;
    if ((errs = malloc(sizeof *errs)) == NULL) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto out;
    }
    if ((c = cfg_apply_text(NULL, text, strlen(text), CFG_REPLACE, errs)) == NULL) {
        scpd_err_set(err, SCPD_E_INVALID, "reload: startup-config is not valid (%d errors); "
                     "running-config left as it is", errs->total);
        goto out;
    }
    rc = store_commit(st, c, 0, who, NULL, err);
    if (rc == 0)
        log_notice(&(struct log_ctx){.user = who_user(who), .peer = who->peer},
                   "store: reload: running-config is the startup-config again (source %s)",
                   who->source);
out:
    cfg_free(c);
    free(errs);
    free(text);
    return rc;
}

/* Unit tests of store/: create, migrate, commit, snapshots, listeners, conflicts, a commit that
 * fails half-way (a trigger raising on one row), persistence of every setting across a reopen,
 * the audit log, the transfer history and the absence of plaintext secrets in the files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/cfg.h"
#include "store/store.h"
#include "tests/unit/tmpdir.h"

static const struct store_who WHO_API = {.user = "tiger", .source = "api", .peer = "10.0.0.1:5555"};

struct fx {
    char dir[256];
    struct store *st;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static struct store *open_ok(struct fx *f, const struct cfg *initial, bool *created)
{
    struct scpd_err err = {0};
    struct store *st = store_open(f->dir, initial, created, &err);
    if (!st)
        fail_msg("store_open: %s", err.msg);
    return st;
}

static void reopen(struct fx *f)
{
    store_close(f->st);
    f->st = open_ok(f, NULL, NULL);
}

/* A raw sqlite connection to the test's database, for inspection and fault injection. */
static sqlite3 *raw_db(struct fx *f)
{
    char p[300];
    sqlite3 *db = NULL;
    snprintf(p, sizeof(p), "%s/scpd.db", f->dir);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long long v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* A config with every setting away from its default, n users, method lists and public keys.
 * Built as a plain value and cloned, so cfg_free() owns the result. */
static struct cfg *mk_cfg(int nusers, const char *host, int salt)
{
    struct cfg *d = cfg_new_default();
    struct cfg t = *d;
    struct cfg_user *u = calloc((size_t)nusers + 1, sizeof(*u));
    struct cfg_mlist authn[2], authz[1];
    struct cfg_pkuser pk[2];
    memset(authn, 0, sizeof(authn));
    memset(authz, 0, sizeof(authz));
    memset(pk, 0, sizeof(pk));
    snprintf(t.hostname, sizeof(t.hostname), "%s", host);
    t.aaa_new_model = true;
    snprintf(authn[0].name, sizeof(authn[0].name), "default");
    authn[0].n = 2;
    authn[0].m[0].kind = CFG_M_GROUP;
    snprintf(authn[0].m[0].group, sizeof(authn[0].m[0].group), "tacacs+");
    authn[0].m[1].kind = CFG_M_LOCAL;
    snprintf(authn[1].name, sizeof(authn[1].name), "vty");
    authn[1].n = 1;
    authn[1].m[0].kind = CFG_M_NONE;
    snprintf(authz[0].name, sizeof(authz[0].name), "default");
    authz[0].n = 2;
    authz[0].m[0].kind = CFG_M_LOCAL;
    authz[0].m[1].kind = CFG_M_IF_AUTHENTICATED;
    t.n_authn = 2;
    t.authn = authn;
    t.n_authz = 1;
    t.authz = authz;
    for (int i = 0; i < nusers; i++) {
        snprintf(u[i].name, sizeof(u[i].name), "user%05d", i);
        u[i].privilege = (i + salt) % 16;
        u[i].secret_type = CFG_SECRET_9;
        snprintf(u[i].secret, sizeof(u[i].secret), "$9$salt%d$hash%05d", salt, i);
    }
    t.n_users = (size_t)nusers;
    t.users = u;
    snprintf(pk[0].name, sizeof(pk[0].name), "alice");
    pk[0].nkeys = 2;
    snprintf(pk[0].keys[0].type, sizeof(pk[0].keys[0].type), "ssh-rsa");
    snprintf(pk[0].keys[0].hash, sizeof(pk[0].keys[0].hash), "0123456789ABCDEF0123456789ABCDEF");
    snprintf(pk[0].keys[0].comment, sizeof(pk[0].keys[0].comment), "alice@laptop");
    snprintf(pk[0].keys[1].type, sizeof(pk[0].keys[1].type), "ssh-ed25519");
    snprintf(pk[0].keys[1].hash, sizeof(pk[0].keys[1].hash), "FEDCBA9876543210FEDCBA98765432%02d",
             salt % 100);
    snprintf(pk[1].name, sizeof(pk[1].name), "bob");
    t.n_pkusers = 2;
    t.pkusers = pk;
    t.ssh_timeout = 30 + salt % 60;
    t.ssh_retries = 5;
    t.scp_enable = true;
    t.block_secs = 60;
    t.block_attempts = 3;
    t.block_within = 30;
    struct cfg *c = cfg_clone(&t);
    free(u);
    cfg_free(d);
    assert_non_null(c);
    return c;
}

/* ---- open, create, migrate ------------------------------------------------------------------- */

static void test_create_and_reopen(void **state)
{
    struct fx *f = *state;
    bool created = false;
    assert_int_equal(store_initialized(f->dir, NULL), 0);
    f->st = open_ok(f, NULL, &created);
    assert_true(created);
    assert_int_equal(store_initialized(f->dir, NULL), 1);
    assert_int_equal(store_version(f->st), 1);
    /* a second opener of the same directory is refused while the first holds it */
    struct scpd_err err = {0};
    assert_null(store_open(f->dir, NULL, NULL, &err));
    assert_int_equal(err.code, SCPD_E_CONFLICT);
    assert_non_null(strstr(err.msg, "in use"));
    const struct store_snap *s = store_snapshot(f->st);
    struct cfg *def = cfg_new_default();
    assert_true(cfg_equal(s->cfg, def));
    store_snap_release(s);
    store_close(f->st);
    f->st = open_ok(f, NULL, &created);
    assert_false(created);
    assert_int_equal(store_version(f->st), 1);
    s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, def));
    store_snap_release(s);
    cfg_free(def);

    sqlite3 *db = raw_db(f);
    assert_true(raw_int(db, "PRAGMA user_version") >= 1);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* Shared secrets: the first init wins, a set replaces, kept across a reopen; sqlite is not
 * shared. */
static void test_secrets_first_wins(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    f->st = open_ok(f, NULL, NULL);
    assert_false(store_is_shared(f->st));
    assert_null(store_secret_get(f->st, "master-key", &err));
    assert_int_equal(err.code, SCPD_E_NOTFOUND);
    char *v = store_secret_init(f->st, "master-key", "first", &err);
    assert_non_null(v);
    assert_string_equal(v, "first");
    free(v);
    v = store_secret_init(f->st, "master-key", "second", &err);
    assert_string_equal(v, "first");
    free(v);
    reopen(f);
    v = store_secret_get(f->st, "master-key", &err);
    assert_non_null(v);
    assert_string_equal(v, "first");
    free(v);
    /* store_secret_set replaces (crypto key generate rsa), and an init keeps the new value */
    assert_int_equal(store_secret_set(f->st, "hostkey/k", "old", &err), 0);
    assert_int_equal(store_secret_set(f->st, "hostkey/k", "new", &err), 0);
    v = store_secret_init(f->st, "hostkey/k", "other", &err);
    assert_string_equal(v, "new");
    free(v);
    reopen(f);
    v = store_secret_get(f->st, "hostkey/k", &err);
    assert_non_null(v);
    assert_string_equal(v, "new");
    free(v);
    /* secrets are not configuration: no version, no audit row */
    assert_int_equal(store_version(f->st), 1);
}

static void test_migrate_empty_and_refuse_newer(void **state)
{
    struct fx *f = *state;
    /* An existing empty database at schema version 0 is migrated forward. */
    sqlite3 *db = raw_db(f);
    raw_exec(db, "CREATE TABLE unrelated(x)");
    sqlite3_close(db);
    assert_int_equal(store_initialized(f->dir, NULL), 0);
    bool created = false;
    f->st = open_ok(f, NULL, &created);
    assert_true(created);
    store_close(f->st);
    f->st = NULL;
    db = raw_db(f);
    long long v = raw_int(db, "PRAGMA user_version");
    assert_true(v >= 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM meta"), 1);
    /* A database from a newer scpd is refused with a reason, and not touched. */
    raw_exec(db, "PRAGMA user_version = 999");
    sqlite3_close(db);
    struct scpd_err err = {0};
    assert_null(store_open(f->dir, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "newer"));
    db = raw_db(f);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 999);
    sqlite3_close(db);
}

static void test_initial_config(void **state)
{
    struct fx *f = *state;
    static const char ref[] = "aaa new-model\n"
                              "aaa authentication login default local\n"
                              "aaa authorization exec default local\n"
                              "username tiger privilege 15 password 0 lab\n"
                              "ip ssh time-out 120\n"
                              "ip ssh authentication-retries 3\n"
                              "ip scp server enable\n";
    struct cfg *def = cfg_new_default();
    struct cfg *c = cfg_apply_text(def, ref, strlen(ref), CFG_REPLACE, NULL);
    cfg_free(def);
    assert_non_null(c);
    f->st = open_ok(f, c, NULL);
    const struct store_snap *s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, c));
    assert_int_equal(s->version, 1);
    store_snap_release(s);
    /* the startup datastore holds the same config */
    struct scpd_err err = {0};
    time_t at = 0;
    char *text = store_startup_get(f->st, &at, &err);
    assert_non_null(text);
    assert_true(at > 0);
    struct cfg *back = cfg_apply_text(c, text, strlen(text), CFG_REPLACE, NULL);
    assert_non_null(back);
    assert_true(cfg_equal(back, c));
    cfg_free(back);
    free(text);
    cfg_free(c);
}

/* ---- commit, snapshots, listeners ------------------------------------------------------------ */

struct heard {
    struct store *st;
    uint64_t store_version_seen; /* a listener may use the store (no lock is held) */
    int calls;
    uint64_t version;
    char hostname[CFG_NAME_MAX];
};

static void listener(void *arg, const struct store_snap *snap)
{
    struct heard *h = arg;
    h->calls++;
    if (h->st)
        h->store_version_seen = store_version(h->st);
    h->version = snap->version;
    snprintf(h->hostname, sizeof(h->hostname), "%s", snap->cfg->hostname);
}

static void test_commit_snapshot_listener(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct heard h = {.st = f->st};
    assert_int_equal(store_listen(f->st, listener, &h), 0);
    const struct store_snap *old = store_snapshot(f->st);
    struct cfg *c = mk_cfg(2, "R1", 0);
    struct scpd_err err = {0};
    uint64_t v = 0;
    assert_int_equal(store_commit(f->st, c, 1, &WHO_API, &v, &err), 0);
    assert_int_equal(v, 2);
    assert_int_equal(store_version(f->st), 2);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.store_version_seen, 2);
    assert_string_equal(h.hostname, "R1");
    /* the old snapshot is unchanged and still valid */
    assert_int_equal(old->version, 1);
    assert_string_equal(old->cfg->hostname, CFG_DEFAULT_HOSTNAME);
    store_snap_release(old);
    const struct store_snap *now = store_snapshot(f->st);
    assert_true(cfg_equal(now->cfg, c));
    assert_string_equal(now->changed_by, "tiger");
    assert_true(now->changed_at > 0);
    store_snap_release(now);
    /* committing the same config makes no version and tells nobody */
    assert_int_equal(store_commit(f->st, c, 0, &WHO_API, &v, &err), 0);
    assert_int_equal(v, 2);
    assert_int_equal(h.calls, 1);
    /* a bad source is refused */
    struct store_who bad = {.user = "x", .source = "telnet"};
    assert_int_equal(store_commit(f->st, c, 0, &bad, NULL, &err), -1);
    cfg_free(c);
}

static void test_expect_version_conflict(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct cfg *a = mk_cfg(1, "A", 0), *b = mk_cfg(1, "B", 0);
    struct scpd_err err = {0};
    assert_int_equal(store_commit(f->st, a, 1, &WHO_API, NULL, &err), 0);
    assert_int_equal(store_commit(f->st, b, 1, &WHO_API, NULL, &err), -1);
    assert_int_equal(err.code, SCPD_E_CONFLICT);
    assert_non_null(strstr(err.msg, "version"));
    assert_int_equal(store_version(f->st), 2);
    const struct store_snap *s = store_snapshot(f->st);
    assert_string_equal(s->cfg->hostname, "A");
    store_snap_release(s);
    cfg_free(a);
    cfg_free(b);
}

/* A commit that fails half-way (the trigger raises on one row in the middle of 10,000 users)
 * leaves the previous version in the database and in memory. */
static void test_failed_commit_leaves_previous(void **state)
{
    struct fx *f = *state;
    struct cfg *before = mk_cfg(10, "before", 0);
    f->st = open_ok(f, before, NULL);
    sqlite3 *db = raw_db(f);
    raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON users WHEN NEW.name = 'user05000'"
                 " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    struct heard h = {0};
    store_listen(f->st, listener, &h);
    struct cfg *next = mk_cfg(10000, "after", 1);
    struct scpd_err err = {0};
    assert_int_equal(store_commit(f->st, next, 0, &WHO_API, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "injected failure"));
    assert_int_equal(h.calls, 0);
    assert_int_equal(store_version(f->st), 1);
    const struct store_snap *s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, before));
    store_snap_release(s);
    /* nothing of the failed commit reached the database */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM users"), 10);
    assert_int_equal(raw_int(db, "SELECT version FROM meta"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 1);
    raw_exec(db, "DROP TRIGGER boom");
    sqlite3_close(db);
    reopen(f);
    assert_int_equal(store_version(f->st), 1);
    s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, before));
    store_snap_release(s);
    /* and the store still commits */
    assert_int_equal(store_commit(f->st, next, 1, &WHO_API, NULL, &err), 0);
    assert_int_equal(store_version(f->st), 2);
    cfg_free(before);
    cfg_free(next);
}

/* Every setting, list, user and key survives a restart, also after partial changes. */
static void test_restart_persistence(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct scpd_err err = {0};
    struct cfg *c = mk_cfg(50, "R1", 3);
    assert_int_equal(store_commit(f->st, c, 0, &WHO_API, NULL, &err), 0);
    reopen(f);
    const struct store_snap *s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, c));
    assert_int_equal(s->version, 2);
    assert_string_equal(s->changed_by, "tiger");
    store_snap_release(s);
    /* a change of a few rows: one user removed, one changed, one added, keys changed,
     * lists changed, settings back to defaults */
    struct cfg *d = cfg_new_default();
    struct cfg t = *c;
    struct cfg_user u[50];
    memcpy(u, c->users, sizeof(u));
    memmove(&u[10], &u[11], sizeof(u[0]) * 39); /* drop user00010 */
    u[20].privilege = 15;
    snprintf(u[49].name, sizeof(u[49].name), "zz-new");
    t.users = u;
    t.n_users = 50;
    struct cfg_pkuser pk = c->pkusers[0];
    pk.nkeys = 1;
    t.pkusers = &pk;
    t.n_pkusers = 1;
    t.n_authn = 1;
    t.aaa_new_model = false;
    t.scp_enable = false;
    t.ssh_timeout = d->ssh_timeout;
    t.block_secs = 0;
    t.block_attempts = 0;
    t.block_within = 0;
    struct cfg *c2 = cfg_clone(&t);
    assert_int_equal(store_commit(f->st, c2, 2, &WHO_API, NULL, &err), 0);
    reopen(f);
    s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, c2));
    assert_int_equal(s->version, 3);
    store_snap_release(s);
    /* and back to the defaults */
    assert_int_equal(store_commit(f->st, d, 3, &WHO_API, NULL, &err), 0);
    reopen(f);
    s = store_snapshot(f->st);
    assert_true(cfg_equal(s->cfg, d));
    store_snap_release(s);
    sqlite3 *db = raw_db(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM users"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pkey"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    sqlite3_close(db);
    cfg_free(c);
    cfg_free(c2);
    cfg_free(d);
}

/* ---- text, startup, audit -------------------------------------------------------------------- */

struct audit_rows {
    int n;
    struct store_audit last;
    char diff[4096];
    char sources[256];
};

static int audit_cb(void *arg, const struct store_audit *row)
{
    struct audit_rows *a = arg;
    a->n++;
    a->last = *row;
    a->last.diff = NULL;
    snprintf(a->diff, sizeof(a->diff), "%s", row->diff);
    size_t l = strlen(a->sources);
    snprintf(a->sources + l, sizeof(a->sources) - l, "%s/%s/%llu ", row->source, row->target,
             (unsigned long long)row->version);
    return 0;
}

static void test_apply_text_and_audit(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct scpd_err err = {0};
    struct cfg_errors errs;
    char *diff = NULL;
    const char *t1 = "hostname R9\nip scp server enable\n";
    /* dry run: the diff, nothing committed */
    assert_int_equal(
        store_apply_text(f->st, t1, strlen(t1), CFG_MERGE, true, 0, &WHO_API, &errs, &diff, &err),
        0);
    assert_non_null(diff);
    assert_non_null(strstr(diff, "+ hostname R9"));
    assert_non_null(strstr(diff, "+ ip scp server enable"));
    free(diff);
    assert_int_equal(store_version(f->st), 1);
    /* for real */
    assert_int_equal(
        store_apply_text(f->st, t1, strlen(t1), CFG_MERGE, false, 1, &WHO_API, &errs, &diff, &err),
        0);
    free(diff);
    assert_int_equal(store_version(f->st), 2);
    /* invalid text: errors, nothing changed */
    const char *bad = "hostname X\nip ssh time-out 500\n";
    assert_int_equal(
        store_apply_text(f->st, bad, strlen(bad), CFG_MERGE, false, 0, &WHO_API, &errs, NULL, &err),
        -1);
    assert_int_equal(err.code, SCPD_E_INVALID);
    assert_true(errs.n >= 1);
    assert_int_equal(errs.e[0].line, 2);
    assert_int_equal(store_version(f->st), 2);
    /* a stale expect_version is a conflict */
    const char *t2 = "no ip scp server enable\n";
    assert_int_equal(
        store_apply_text(f->st, t2, strlen(t2), CFG_MERGE, false, 1, &WHO_API, &errs, NULL, &err),
        -1);
    assert_int_equal(err.code, SCPD_E_CONFLICT);
    /* startup: save-config, then an invalid startup text is refused */
    struct store_who cli = {.user = "admin", .source = "cli", .peer = NULL};
    assert_int_equal(store_save_config(f->st, &cli, &err), 0);
    char *st_text = store_startup_get(f->st, NULL, &err);
    assert_non_null(strstr(st_text, "hostname R9"));
    assert_int_equal(store_startup_set(f->st, bad, strlen(bad), &cli, &errs, &err), -1);
    assert_int_equal(err.code, SCPD_E_INVALID);
    char *st_text2 = store_startup_get(f->st, NULL, &err);
    assert_string_equal(st_text, st_text2);
    free(st_text);
    free(st_text2);
    const char *t3 = "hostname StartMe\n";
    assert_int_equal(store_startup_set(f->st, t3, strlen(t3), &cli, &errs, &err), 0);
    assert_int_equal(store_version(f->st), 2); /* running is not touched */

    struct audit_rows a;
    memset(&a, 0, sizeof(a));
    assert_int_equal(store_audit_query(f->st, 0, 0, audit_cb, &a, &err), 0);
    assert_int_equal(a.n, 4);
    assert_string_equal(a.sources, "boot/running/1 api/running/2 cli/startup/0 cli/startup/0 ");
    assert_string_equal(a.last.user, "admin");
    assert_non_null(strstr(a.diff, "+ hostname StartMe"));
    assert_non_null(strstr(a.diff, "- hostname R9"));
    assert_true(a.last.time > 0);
    /* since_id and limit */
    struct audit_rows b;
    memset(&b, 0, sizeof(b));
    assert_int_equal(store_audit_query(f->st, 1, 1, audit_cb, &b, &err), 0);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.last.peer, "10.0.0.1:5555");
    assert_string_equal(b.last.user, "tiger");
    assert_int_equal(b.last.version, 2);
    assert_non_null(strstr(b.diff, "+ ip scp server enable"));
    /* since_id < 0: the newest limit rows, oldest first */
    struct audit_rows c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_audit_query(f->st, -1, 2, audit_cb, &c, &err), 0);
    assert_string_equal(c.sources, "cli/startup/0 cli/startup/0 ");
    assert_non_null(strstr(c.diff, "+ hostname StartMe"));
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_audit_query(f->st, -1, 0, audit_cb, &c, &err), 0);
    assert_int_equal(c.n, 4);
}

/* The running datastore's lock (NETCONF <lock>): while session 7 holds it, every other writer's
 * commit is refused naming the holder and the store is unchanged; the holder commits; the lock
 * goes with unlock or the session's end. */
static void test_datastore_lock(void **state)
{
    struct fx *f = *state;
    struct scpd_err err = {0};
    struct cfg_errors errs;
    struct store_who nc7 = {.user = "a", .source = "netconf", .peer = "1.2.3.4:5", .session = 7};
    struct store_who nc8 = {.user = "b", .source = "netconf", .peer = "1.2.3.4:6", .session = 8};
    const char *t1 = "hostname L1\n", *t2 = "hostname L2\n";

    f->st = open_ok(f, NULL, NULL);
    assert_int_equal(store_ds_lock(f->st, 7, "NETCONF session 7 (a from 1.2.3.4:5)", &err), 0);
    assert_int_equal(store_ds_lock(f->st, 8, "NETCONF session 8", &err), -1);
    assert_int_equal(err.code, SCPD_E_LOCKED);
    assert_non_null(strstr(err.msg, "NETCONF session 7 (a from 1.2.3.4:5)"));
    uint64_t v = store_version(f->st);
    assert_int_equal(store_apply_text(f->st, t1, strlen(t1), CFG_MERGE, false, 0, &WHO_API, &errs,
                                      NULL, &err), -1);
    assert_int_equal(err.code, SCPD_E_LOCKED);
    assert_int_equal(store_apply_text(f->st, t1, strlen(t1), CFG_MERGE, false, 0, &nc8, &errs,
                                      NULL, &err), -1);
    assert_int_equal(store_version(f->st), v);
    assert_int_equal(store_apply_text(f->st, t1, strlen(t1), CFG_MERGE, false, 0, &nc7, &errs,
                                      NULL, &err), 0);
    assert_int_equal(store_ds_unlock(f->st, 8, &err), -1);   /* not the holder */
    assert_int_equal(store_ds_unlock(f->st, 7, &err), 0);
    assert_int_equal(store_ds_lock(f->st, 8, "NETCONF session 8", &err), 0);
    store_ds_unlock_session(f->st, 7);   /* not its lock: nothing happens */
    assert_int_equal(store_apply_text(f->st, t2, strlen(t2), CFG_MERGE, false, 0, &WHO_API, &errs,
                                      NULL, &err), -1);
    store_ds_unlock_session(f->st, 8);   /* session 8 ended */
    assert_int_equal(store_apply_text(f->st, t2, strlen(t2), CFG_MERGE, false, 0, &WHO_API, &errs,
                                      NULL, &err), 0);
}

/* The audit log keeps the newest LIM_AUDIT_ROWS rows: the commit that adds one trims the oldest. */
static void test_audit_bounded(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct scpd_err err = {0};
    sqlite3 *db = raw_db(f);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO audit(time, user, source, peer, version, target, diff)"
             " SELECT 0, 'bulk', 'api', '', 1, 'running', '+ x' FROM n",
             LIM_AUDIT_ROWS + 5);
    raw_exec(db, sql);
    long long first = raw_int(db, "SELECT min(id) FROM audit");
    const char *t = "hostname Trimmed\n";
    assert_int_equal(
        store_apply_text(f->st, t, strlen(t), CFG_MERGE, false, 0, &WHO_API, NULL, NULL, &err), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), LIM_AUDIT_ROWS);
    assert_true(raw_int(db, "SELECT min(id) FROM audit") > first + 5);
    /* the newest row is the change just made */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE id = (SELECT max(id) FROM audit)"
                                 " AND diff LIKE '%hostname Trimmed%'"),
                     1);
    sqlite3_close(db);
}

/* Config text beyond LIM_CONFIG_FILE_BYTES is refused by the store's text doors, whoever calls. */
static void test_config_text_size_limit(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct scpd_err err = {0};
    size_t len = LIM_CONFIG_FILE_BYTES + 1;
    char *big = malloc(len + 1);
    assert_non_null(big);
    memset(big, '!', len);   /* comment lines: valid text, only too long */
    for (size_t i = 79; i < len; i += 80)
        big[i] = '\n';
    big[len] = '\0';
    struct cfg_errors errs;
    assert_int_equal(
        store_apply_text(f->st, big, len, CFG_MERGE, true, 0, &WHO_API, &errs, NULL, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_non_null(strstr(err.msg, "larger than the limit"));
    struct store_who cli = {.user = "admin", .source = "cli", .peer = NULL};
    assert_int_equal(store_startup_set(f->st, big, len, &cli, &errs, &err), -1);
    assert_int_equal(err.code, SCPD_E_LIMIT);
    assert_int_equal(store_version(f->st), 1);
    /* at the limit it is accepted */
    assert_int_equal(store_apply_text(f->st, big, len - 1, CFG_MERGE, true, 0, &WHO_API, &errs,
                                      NULL, &err),
                     0);
    free(big);
}

/* No plaintext password reaches the database files, whatever door it came through. */
static void test_no_plaintext_at_rest(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct scpd_err err = {0};
    struct cfg_errors errs;
    const char *t = "username tiger privilege 15 password 0 Plain-Pw-Alpha\n"
                    "username lion secret 0 Plain-Pw-Beta\n"
                    "tacacs server T1\n address ipv4 127.0.0.1\n key 0 Plain-Key-Delta\n"
                    "radius server R1\n address ipv4 127.0.0.1\n key 7 0822455D0A16\n";
    assert_int_equal(
        store_apply_text(f->st, t, strlen(t), CFG_MERGE, false, 0, &WHO_API, &errs, NULL, &err), 0);
    struct store_who cli = {.user = "admin", .source = "cli"};
    assert_int_equal(store_save_config(f->st, &cli, &err), 0);
    const char *t2 = "username puma password 0 Plain-Pw-Gamma\n";
    assert_int_equal(store_startup_set(f->st, t2, strlen(t2), &cli, &errs, &err), 0);
    store_close(f->st);
    f->st = NULL;
    static const char *const files[] = {"scpd.db", "scpd.db-wal"};
    static const char *const secrets[] = {"Plain-Pw-Alpha", "Plain-Pw-Beta", "Plain-Pw-Gamma",
                                          "Plain-Key-Delta", "cisco"};
    int seen = 0;
    for (size_t i = 0; i < 2; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
        FILE *fp = fopen(p, "rb");
        if (!fp)
            continue;
        seen++;
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        rewind(fp);
        char *buf = malloc((size_t)n + 1);
        assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
        fclose(fp);
        for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
            assert_null(memmem(buf, (size_t)n, secrets[k], strlen(secrets[k])));
        assert_non_null(memmem(buf, (size_t)n, "$9$", 3));
        free(buf);
    }
    assert_true(seen >= 1);
}

/* The network-AAA part (servers, groups, accounting) survives a restart unchanged. */
static void test_aaa_servers_persist(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct scpd_err err = {0};
    struct cfg_errors errs;
    const char *t = "aaa new-model\naaa group server tacacs+ TAC\n server name T1\n deadtime 3\n"
                    "aaa accounting exec default start-stop group TAC\n"
                    "tacacs server T1\n address ipv6 ::1\n key Kk1\n port 4949\n"
                    "radius-server deadtime 2\n";
    assert_int_equal(
        store_apply_text(f->st, t, strlen(t), CFG_MERGE, false, 0, &WHO_API, &errs, NULL, &err), 0);
    const struct store_snap *s1 = store_snapshot(f->st);
    struct cfg *before = cfg_clone(s1->cfg);
    store_snap_release(s1);
    assert_int_equal(before->n_servers, 1);
    store_close(f->st);
    f->st = open_ok(f, NULL, NULL);
    const struct store_snap *s2 = store_snapshot(f->st);
    assert_true(cfg_equal(before, s2->cfg));
    assert_int_equal(s2->cfg->groups[0].deadtime, 3);
    assert_int_equal(s2->cfg->servers[0].port, 4949);
    store_snap_release(s2);
    /* a removal is written too */
    const char *t2 = "no tacacs server T1\n";
    assert_int_equal(
        store_apply_text(f->st, t2, strlen(t2), CFG_MERGE, false, 0, &WHO_API, &errs, NULL, &err),
        0);
    store_close(f->st);
    f->st = open_ok(f, NULL, NULL);
    const struct store_snap *s3 = store_snapshot(f->st);
    assert_int_equal(s3->cfg->n_servers, 0);
    assert_int_equal(s3->cfg->n_groups, 1);
    store_snap_release(s3);
    cfg_free(before);
}

/* ---- transfer history ------------------------------------------------------------------------ */

static void xfer(struct store *st, const char *user, const char *dir, const char *result,
                 int64_t end_ms)
{
    struct store_xfer x;
    memset(&x, 0, sizeof(x));
    snprintf(x.user, sizeof(x.user), "%s", user);
    snprintf(x.peer, sizeof(x.peer), "127.0.0.1:4000");
    snprintf(x.direction, sizeof(x.direction), "%s", dir);
    snprintf(x.path, sizeof(x.path), "bootflash:/f.bin");
    x.bytes = x.size = 1234;
    x.start_ms = end_ms - 10;
    x.end_ms = end_ms;
    snprintf(x.result, sizeof(x.result), "%s", result);
    struct scpd_err err = {0};
    if (store_history_add(st, &x, &err) != 0)
        fail_msg("history_add: %s", err.msg);
    assert_true(x.id > 0);
}

struct hist {
    int n;
    int64_t ids[64];
    char users[512];
};

static int hist_cb(void *arg, const struct store_xfer *x)
{
    struct hist *h = arg;
    if (h->n < 64)
        h->ids[h->n] = x->id;
    h->n++;
    size_t l = strlen(h->users);
    snprintf(h->users + l, sizeof(h->users) - l, "%s:%s:%s ", x->user, x->direction, x->result);
    return 0;
}

static struct hist query(struct store *st, int64_t since, const char *user, const char *result,
                         const char *dir, int limit)
{
    struct hist h;
    memset(&h, 0, sizeof(h));
    struct store_xfer_filter fl = {since, user, result, dir, limit};
    struct scpd_err err = {0};
    assert_int_equal(store_history_query(st, &fl, hist_cb, &h, &err), 0);
    return h;
}

struct walk {
    struct store *st;
    int n, add_at, stop_at;
    int64_t last;
    bool unordered, other_user;
};

static int walk_cb(void *arg, const struct store_xfer *x)
{
    struct walk *w = arg;
    if (x->id >= w->last)
        w->unordered = true;
    if (w->add_at > 0 && strcmp(x->user, "bulk") != 0)
        w->other_user = true;
    w->last = x->id;
    if (++w->n == w->add_at)
        xfer(w->st, "bulk", "in", "ok", (int64_t)time(NULL) * 1000);
    return w->n == w->stop_at ? 1 : 0;
}

static void test_history_filters_and_bounds(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    int64_t now = (int64_t)time(NULL) * 1000;
    xfer(f->st, "tiger", "in", "ok", now - 5000);
    xfer(f->st, "lion", "out", "ok", now - 4000);
    xfer(f->st, "tiger", "out", "failed", now - 3000);
    xfer(f->st, "tiger", "in", "refused", now - 2000);
    struct hist h = query(f->st, 0, NULL, NULL, NULL, 0);
    assert_int_equal(h.n, 4);
    assert_string_equal(h.users, "tiger:in:refused tiger:out:failed lion:out:ok tiger:in:ok ");
    assert_true(h.ids[0] > h.ids[1]); /* newest first */
    assert_string_equal(query(f->st, 0, "tiger", NULL, NULL, 0).users,
                        "tiger:in:refused tiger:out:failed tiger:in:ok ");
    assert_string_equal(query(f->st, 0, NULL, "ok", NULL, 0).users, "lion:out:ok tiger:in:ok ");
    assert_string_equal(query(f->st, 0, "tiger", NULL, "out", 0).users, "tiger:out:failed ");
    assert_string_equal(query(f->st, now - 3000, NULL, NULL, NULL, 0).users,
                        "tiger:in:refused tiger:out:failed ");
    assert_int_equal(query(f->st, 0, NULL, NULL, NULL, 2).n, 2);
    assert_int_equal(query(f->st, 0, "nobody", NULL, NULL, 0).n, 0);

    /* age bound: a row older than LIM_HISTORY_DAYS goes when the next one is added */
    xfer(f->st, "old", "in", "ok", now - ((int64_t)LIM_HISTORY_DAYS + 1) * 86400 * 1000);
    xfer(f->st, "tiger", "in", "ok", now);
    assert_int_equal(query(f->st, 0, "old", NULL, NULL, 0).n, 0);

    /* row bound: fill to the limit directly, then one more through the store */
    sqlite3 *db = raw_db(f);
    raw_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)"
                 " INSERT INTO history(user, peer, direction, path, bytes, size, start_ms, end_ms,"
                 " result, error) SELECT 'bulk', '', 'in', 'x', 0, 0, 0,"
                 " strftime('%s', 'now') * 1000, 'ok', '' FROM n");
    long long first = raw_int(db, "SELECT min(id) FROM history");
    xfer(f->st, "last", "out", "ok", now);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM history"), LIM_HISTORY_ROWS);
    assert_true(raw_int(db, "SELECT min(id) FROM history") > first);
    sqlite3_close(db);
    assert_string_equal(query(f->st, 0, NULL, NULL, NULL, 1).users, "last:out:ok ");

    /* the whole history, read in pages: every row once, newest first */
    struct walk w = {.st = f->st, .last = INT64_MAX};
    struct store_xfer_filter all = {.limit = LIM_HISTORY_ROWS};
    struct scpd_err err = {0};
    assert_int_equal(store_history_query(f->st, &all, walk_cb, &w, &err), 0);
    assert_int_equal(w.n, LIM_HISTORY_ROWS);
    assert_false(w.unordered);
    /* a callback may write to the store between pages; a row added meanwhile is not seen and
     * shifts nothing; stopping early stops the query */
    w = (struct walk){.st = f->st, .last = INT64_MAX, .add_at = 10, .stop_at = 150};
    struct store_xfer_filter bulk = {.user = "bulk", .limit = 1000};
    assert_int_equal(store_history_query(f->st, &bulk, walk_cb, &w, &err), 0);
    assert_int_equal(w.n, 150);
    assert_false(w.unordered);
    assert_false(w.other_user);
}

/* ---- concurrency: readers while a writer commits --------------------------------------------- */

struct reader {
    struct store *st;
    volatile int stop;
    long reads;
    int bad;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    while (!r->stop) {
        const struct store_snap *s = store_snapshot(r->st);
        /* every snapshot is internally consistent: hostname "v<version>" after the first */
        char want[32];
        snprintf(want, sizeof(want), "v%llu", (unsigned long long)s->version);
        if (s->version > 1 && strcmp(s->cfg->hostname, want) != 0)
            r->bad++;
        store_snap_release(s);
        r->reads++;
    }
    return NULL;
}

static void test_readers_during_commits(void **state)
{
    struct fx *f = *state;
    f->st = open_ok(f, NULL, NULL);
    struct reader r = {.st = f->st};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader_main, &r);
    struct scpd_err err = {0};
    for (int v = 2; v <= 30; v++) {
        char host[32];
        snprintf(host, sizeof(host), "v%d", v);
        struct cfg *c = mk_cfg(v, host, v);
        assert_int_equal(store_commit(f->st, c, (uint64_t)v - 1, &WHO_API, NULL, &err), 0);
        cfg_free(c);
    }
    r.stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r.bad, 0);
    assert_true(r.reads > 0);
    assert_int_equal(store_version(f->st), 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_reopen, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_empty_and_refuse_newer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_secrets_first_wins, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_initial_config, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_commit_snapshot_listener, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expect_version_conflict, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_leaves_previous, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_persistence, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_apply_text_and_audit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_audit_bounded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_config_text_size_limit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext_at_rest, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_aaa_servers_persist, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_history_filters_and_bounds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_readers_during_commits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_datastore_lock, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

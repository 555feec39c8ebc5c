/* store: the configuration store behind both doors, independent of the database that holds it.
 *
 * Design. The database is reached through a backend (store_int.h): sqlite in DIR/scpd.db, the
 * embedded default, or PostgreSQL shared by several scpd instances (docs/postgresql.md). Each
 * backend creates and migrates its own versioned schema; the core writes SQL once.
 *
 * The running datastore is kept as structured rows (setting, mlist, users, pkuser/pkey), described
 * by tables here (`settings`, `methods`, `rowsets`) rather than by code per field. A commit writes
 * only the difference between the current snapshot and the next config (a merge walk over the
 * sorted user and pubkey arrays), the meta row (version, time, user) and the audit row, all inside
 * one transaction; any error rolls the whole transaction back and leaves the in-memory snapshot
 * untouched. The meta row is written first and conditionally (UPDATE ... WHERE version = the
 * version the snapshot has): that row lock serializes the commits of every instance on one
 * database, and a commit based on an older version changes nothing and fails with
 * SCPD_E_CONFLICT (the API's 412) instead of overwriting a newer one. Because the version matched,
 * the rows in the database are the rows of the snapshot, so the difference is exact.
 *
 * Readers never touch the database: the running config lives in memory as an immutable, reference-
 * counted snapshot. `snap_lock` is held only to read or swap the pointer and count a reference,
 * never during I/O, so a reader never waits for a writer's transaction (and logins keep working
 * from the last snapshot while a shared database is unreachable). Writers are serialized by
 * `db_lock`. Listeners are called after both locks are released: on the committing thread for a
 * local commit, on the backend's watcher thread for a commit of another instance (store_refresh).
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
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/log.h"
#include "store/secret.h"

struct store_snap_impl {
    struct store_snap pub; /* first: a struct store_snap * is a struct store_snap_impl * */
    struct cfg *own;
    int refs; /* __atomic */
};

static int store_begin(struct store *st, enum store_tx tx, struct scpd_err *err);
static int store_end(struct store *st, struct scpd_err *err);
static void store_rollback(struct store *st);

/* ---- the statements -------------------------------------------------------------------------- */

const char *const store_sql[ST__COUNT] = {
    [ST_SET_PUT] = "INSERT INTO setting(name, value) VALUES ($1, $2)"
                   " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    [ST_MLIST_DEL_KIND] = "DELETE FROM mlist WHERE kind = $1",
    [ST_MLIST_PUT] = "INSERT INTO mlist(kind, name, pos, method, grp) VALUES ($1, $2, $3, $4, $5)",
    [ST_USER_DEL] = "DELETE FROM users WHERE name = $1",
    [ST_USER_PUT] =
        "INSERT INTO users(name, privilege, secret_type, secret) VALUES ($1, $2, $3, $4)",
    [ST_PKUSER_DEL] = "DELETE FROM pkuser WHERE name = $1",
    [ST_PKUSER_PUT] = "INSERT INTO pkuser(name) VALUES ($1)",
    [ST_PKEY_PUT] =
        "INSERT INTO pkey(\"user\", pos, type, hash, comment) VALUES ($1, $2, $3, $4, $5)",
    [ST_META_GET] = "SELECT version, changed_at, changed_by FROM meta WHERE id = 1",
    [ST_META_INIT] = "INSERT INTO meta(id, version, changed_at, changed_by) VALUES (1, $1, $2, $3)",
    [ST_META_CAS] = "UPDATE meta SET version = $1, changed_at = $2, changed_by = $3"
                    " WHERE id = 1 AND version = $4",
    [ST_META_LOCK] = "UPDATE meta SET version = version WHERE id = 1",
    [ST_AUDIT_PUT] = "INSERT INTO audit(\"time\", \"user\", source, peer, version, target, diff)"
                     " VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [ST_STARTUP_GET] = "SELECT text, saved_at FROM startup WHERE id = 1",
    [ST_STARTUP_PUT] = "INSERT INTO startup(id, text, saved_at) VALUES (1, $1, $2)"
                       " ON CONFLICT(id) DO UPDATE SET text = excluded.text,"
                       " saved_at = excluded.saved_at",
    [ST_HIST_PUT] = "INSERT INTO history(\"user\", peer, direction, path, bytes, size, start_ms,"
                    " end_ms, result, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    " RETURNING id",
    [ST_HIST_TRIM_ROWS] = "DELETE FROM history WHERE id <="
                          " (SELECT id FROM history ORDER BY id DESC LIMIT 1 OFFSET $1)",
    [ST_HIST_TRIM_AGE] = "DELETE FROM history WHERE end_ms < $1",
    [ST_AUDIT_TRIM] = "DELETE FROM audit WHERE id <="
                      " (SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET $1)",
    [ST_AUDIT_GET] = "SELECT id, \"time\", \"user\", source, peer, version, target, diff FROM audit"
                     " WHERE id > $1 ORDER BY id LIMIT $2",
    [ST_AUDIT_NEWEST] = "SELECT * FROM (SELECT id, \"time\", \"user\", source, peer, version,"
                        " target, diff FROM audit ORDER BY id DESC LIMIT $1) AS newest ORDER BY id",
    [ST_SET_ALL] = "SELECT name, value FROM setting",
    [ST_MLIST_ALL] = "SELECT name, method, grp FROM mlist WHERE kind = $1 ORDER BY name, pos",
    [ST_USER_ALL] = "SELECT name, privilege, secret_type, secret FROM users ORDER BY name",
    [ST_PKEY_ALL] = "SELECT p.name, k.type, k.hash, k.comment FROM pkuser p"
                    " LEFT JOIN pkey k ON k.\"user\" = p.name ORDER BY p.name, k.pos",
    [ST_SECRET_GET] = "SELECT value FROM secret WHERE name = $1",
    [ST_SECRET_INIT] = "INSERT INTO secret(name, value) VALUES ($1, $2)"
                       " ON CONFLICT(name) DO NOTHING",
    [ST_SECRET_SET] = "INSERT INTO secret(name, value) VALUES ($1, $2)"
                      " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    [ST_ACL_DEL_ALL] = "DELETE FROM acl",
    [ST_ACL_PUT] = "INSERT INTO acl(name) VALUES ($1)",
    [ST_ACE_PUT] = "INSERT INTO ace(acl, pos, permit, addr, wildcard) VALUES ($1, $2, $3, $4, $5)",
    [ST_ACL_ALL] = "SELECT a.name, e.permit, e.addr, e.wildcard FROM acl a"
                   " LEFT JOIN ace e ON e.acl = a.name ORDER BY a.name, e.pos",
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

static int setting_put(struct store *st, const struct setting *s, const struct cfg *c,
                       struct scpd_err *err)
{
    const char *p = (const char *)c + s->off;
    struct store_val v[2] = {SV_TEXT(s->name), SV_INT(0)};
    switch (s->type) {
    case SET_STR:
        v[1] = SV_TEXT(p);
        break;
    case SET_INT:
        v[1] = SV_INT(*(const int *)p);
        break;
    case SET_BOOL:
        v[1] = SV_INT(*(const bool *)p ? 1 : 0);
        break;
    }
    return store_exec(st, ST_SET_PUT, v, 2, err);
}

static void setting_load(const struct setting *s, struct cfg *c, const struct store_row *row)
{
    char *p = (char *)c + s->off;
    switch (s->type) {
    case SET_STR:
        snprintf(p, s->cap ? s->cap : CFG_NAME_MAX, "%s", store_col_text(row, 1));
        break;
    case SET_INT:
        *(int *)p = (int)store_col_int(row, 1);
        break;
    case SET_BOOL:
        *(bool *)p = store_col_int(row, 1) != 0;
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
static int mlkind_put(struct store *st, const struct mlkind *k, const struct cfg *c,
                      struct scpd_err *err)
{
    if (store_exec(st, ST_MLIST_DEL_KIND, &SV_TEXT(k->kind), 1, err) != 0)
        return -1;
    size_t n = CFG_CFIELD(c, k->n_off, size_t);
    const struct cfg_mlist *l = CFG_CFIELD(c, k->arr_off, struct cfg_mlist *);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < l[i].n; j++) {
            const char *mname = method_name(l[i].m[j].kind);
            if (!mname)
                return scpd_err_set(err, SCPD_E_INTERNAL, "store: unknown method in list %s",
                                    l[i].name);
            struct store_val v[5] = {
                SV_TEXT(k->kind), SV_TEXT(l[i].name), SV_INT(j), SV_TEXT(mname),
                SV_TEXT(l[i].m[j].kind == CFG_M_GROUP ? l[i].m[j].group : "")};
            if (store_exec(st, ST_MLIST_PUT, v, 5, err) != 0)
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

static int user_del(struct store *st, const void *row, struct scpd_err *err)
{
    return store_exec(st, ST_USER_DEL, &SV_TEXT(((const struct cfg_user *)row)->name), 1, err);
}

static int user_put(struct store *st, const void *row, struct scpd_err *err)
{
    const struct cfg_user *u = row;
    struct store_val v[4] = {SV_TEXT(u->name), SV_INT(u->privilege), SV_INT(u->secret_type),
                             SV_TEXT(u->secret)};
    return store_exec(st, ST_USER_PUT, v, 4, err);
}

static bool pkuser_same(const void *a, const void *b)
{
    return cfg_pkuser_equal(a, b);
}

static int pkuser_del(struct store *st, const void *row, struct scpd_err *err)
{
    /* its keys go by ON DELETE CASCADE */
    return store_exec(st, ST_PKUSER_DEL, &SV_TEXT(((const struct cfg_pkuser *)row)->name), 1,
                      err);
}

static int pkuser_put(struct store *st, const void *row, struct scpd_err *err)
{
    const struct cfg_pkuser *p = row;
    if (store_exec(st, ST_PKUSER_PUT, &SV_TEXT(p->name), 1, err) != 0)
        return -1;
    for (int i = 0; i < p->nkeys; i++) {
        struct store_val v[5] = {SV_TEXT(p->name), SV_INT(i), SV_TEXT(p->keys[i].type),
                                 SV_TEXT(p->keys[i].hash), SV_TEXT(p->keys[i].comment)};
        if (store_exec(st, ST_PKEY_PUT, v, 5, err) != 0)
            return -1;
    }
    return 0;
}

/* A sorted array of rows whose first member is the name (cfg_user, cfg_pkuser). */
static const struct rowset {
    const char *what;
    size_t n_off, arr_off, elem;
    bool (*same)(const void *a, const void *b);
    int (*del)(struct store *st, const void *row, struct scpd_err *err);
    int (*put)(struct store *st, const void *row, struct scpd_err *err);
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
            rc = r->del(st, a, err);
            i++;
        } else if (cmp > 0) {
            rc = r->put(st, b, err);
            j++;
        } else {
            if (!r->same(a, b))
                rc = (r->del(st, a, err) == 0 && r->put(st, b, err) == 0) ? 0 : -1;
            i++;
            j++;
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The network-AAA part (servers, server groups, accounting lists: cfg_aaa.c) is one setting row,
 * AAA_NET_SETTING, holding its canonical rendering (server keys only as type 6): a few blocks that
 * change together, and the config language already says all of it. */
#define AAA_NET_SETTING "aaa_net"

static int aaa_net_put(struct store *st, const struct cfg *c, struct scpd_err *err)
{
    char *text = cfg_aaa_render(c);
    if (text == NULL)
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory (AAA servers)");
    int rc = store_exec(st, ST_SET_PUT, (struct store_val[]){SV_TEXT(AAA_NET_SETTING),
                                                            SV_TEXT(text)}, 2, err);
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

static int acls_put(struct store *st, const struct cfg *c, struct scpd_err *err)
{
    if (store_exec(st, ST_ACL_DEL_ALL, NULL, 0, err) != 0)
        return -1;
    for (int k = 0; k < c->n_acls; k++) {
        const struct cfg_acl *a = &c->acls[k];
        if (store_exec(st, ST_ACL_PUT, &SV_TEXT(a->name), 1, err) != 0)
            return -1;
        for (int j = 0; j < a->n; j++) {
            struct store_val v[5] = {SV_TEXT(a->name), SV_INT(j), SV_INT(a->e[j].permit ? 1 : 0),
                                     SV_INT(a->e[j].addr), SV_INT(a->e[j].wild)};
            if (store_exec(st, ST_ACE_PUT, v, 5, err) != 0)
                return -1;
        }
    }
    return 0;
}

struct acl_load {
    struct cfg *c;
    struct cfg_acl *a;
};

static int load_acl_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct acl_load *al = arg;
    struct cfg *c = al->c;
    const char *name = store_col_text(row, 0);
    if (al->a == NULL || strcmp(al->a->name, name) != 0) {
        if (c->n_acls >= LIM_CFG_ACLS)
            return scpd_err_set(err, SCPD_E_IO, "store: too many access lists");
        al->a = &c->acls[c->n_acls++];
        memset(al->a, 0, sizeof *al->a);
        snprintf(al->a->name, sizeof al->a->name, "%s", name);
    }
    struct cfg_acl *a = al->a;
    if (store_col_null(row, 1))
        return 0; /* a list without entries */
    if (a->n >= LIM_CFG_ACES)
        return scpd_err_set(err, SCPD_E_IO, "store: too many entries in access list %s", name);
    a->e[a->n].permit = store_col_int(row, 1) != 0;
    a->e[a->n].addr = (uint32_t)store_col_int(row, 2);
    a->e[a->n].wild = (uint32_t)store_col_int(row, 3);
    a->n++;
    return 0;
}

static int load_acls(struct store *st, struct cfg *c, struct scpd_err *err)
{
    struct acl_load al = {.c = c};
    c->n_acls = 0;
    return store_query(st, ST_ACL_ALL, NULL, NULL, 0, load_acl_row, &al, err);
}

/* Writes the difference between from (the rows in the database) and to; all_settings writes
 * every global setting (a new database holds none). Inside the caller's transaction. */
static int store_write_running(struct store *st, const struct cfg *from, const struct cfg *to,
                               bool all_settings, struct scpd_err *err)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if ((all_settings || !setting_same(&settings[i], from, to)) &&
            setting_put(st, &settings[i], to, err) != 0)
            return -1;
    for (size_t i = 0; i < N_MLKINDS; i++)
        if (!mlkind_same(&mlkinds[i], from, to) && mlkind_put(st, &mlkinds[i], to, err) != 0)
            return -1;
    for (size_t i = 0; i < N_ROWSETS; i++)
        if (rowset_write(st, &rowsets[i], from, to, err) != 0)
            return -1;
    if ((all_settings || !cfg_aaa_equal(from, to)) && aaa_net_put(st, to, err) != 0)
        return -1;
    if (!cfg_acls_equal(from, to) && acls_put(st, to, err) != 0)
        return -1;
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

struct settings_load {
    struct cfg *c;
    char *aaa_net; /* the AAA_NET_SETTING row's text (caller frees) */
};

static int load_setting_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct settings_load *sl = arg;
    const char *name = store_col_text(row, 0);
    size_t i = 0;
    while (i < N_SETTINGS && strcmp(settings[i].name, name) != 0)
        i++;
    if (i < N_SETTINGS)
        setting_load(&settings[i], sl->c, row);
    else if (strcmp(name, AAA_NET_SETTING) == 0 && sl->aaa_net == NULL) {
        if ((sl->aaa_net = strdup(store_col_text(row, 1))) == NULL)
            return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    } else
        log_warn(NULL, "store: ignoring unknown setting '%s' (written by a newer scpd?)", name);
    return 0;
}

struct mlist_load {
    const struct mlkind *k;
    struct grow *g;
    struct cfg_mlist *l;
};

static int load_mlist_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct mlist_load *m = arg;
    const char *name = store_col_text(row, 0);
    int mk = method_kind(store_col_text(row, 1));
    if (!m->l || strcmp(m->l->name, name) != 0) {
        if (!(m->l = grow_add(m->g)))
            return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        snprintf(m->l->name, sizeof(m->l->name), "%s", name);
    }
    if (mk < 0 || m->l->n >= LIM_CFG_METHODS)
        return scpd_err_set(err, SCPD_E_IO, "store: bad method in list %s %s", m->k->kind, name);
    m->l->m[m->l->n].kind = (enum cfg_method_kind)mk;
    snprintf(m->l->m[m->l->n].group, sizeof(m->l->m[m->l->n].group), "%s",
             store_col_text(row, 2));
    m->l->n++;
    return 0;
}

static int load_user_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct cfg_user *u = grow_add(arg);
    if (!u)
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    snprintf(u->name, sizeof(u->name), "%s", store_col_text(row, 0));
    u->privilege = (int)store_col_int(row, 1);
    u->secret_type = (enum cfg_secret_type)store_col_int(row, 2);
    snprintf(u->secret, sizeof(u->secret), "%s", store_col_text(row, 3));
    return 0;
}

struct pk_load {
    struct grow *g;
    struct cfg_pkuser *p;
};

static int load_pkey_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct pk_load *m = arg;
    const char *name = store_col_text(row, 0);
    if (!m->p || strcmp(m->p->name, name) != 0) {
        if (!(m->p = grow_add(m->g)))
            return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        snprintf(m->p->name, sizeof(m->p->name), "%s", name);
    }
    if (store_col_null(row, 1))
        return 0; /* a pubkey user without keys */
    if (m->p->nkeys >= LIM_CFG_KEYS_PER_USER)
        return scpd_err_set(err, SCPD_E_IO, "store: too many keys for %s", name);
    struct cfg_key *k = &m->p->keys[m->p->nkeys++];
    snprintf(k->type, sizeof(k->type), "%s", store_col_text(row, 1));
    snprintf(k->hash, sizeof(k->hash), "%s", store_col_text(row, 2));
    snprintf(k->comment, sizeof(k->comment), "%s", store_col_text(row, 3));
    return 0;
}

/* Builds the running config from the rows (inside the caller's read transaction). The arrays are
 * assembled here and handed to cfg_clone(), so the result is allocated the way cfg_free()
 * expects. */
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
    struct pk_load pkl = {.g = &pk};
    struct settings_load sl = {.c = &tmp};
    int rc = store_query(st, ST_SET_ALL, NULL, NULL, 0, load_setting_row, &sl, err);
    aaa_net = sl.aaa_net;
    if (rc != 0 || load_acls(st, &tmp, err) != 0 ||
        store_query(st, ST_USER_ALL, NULL, NULL, 0, load_user_row, &users, err) != 0 ||
        store_query(st, ST_PKEY_ALL, NULL, NULL, 0, load_pkey_row, &pkl, err) != 0 ||
        (aaa_net != NULL && aaa_net_load(&tmp, aaa_net, err) != 0))
        goto out;
    for (size_t i = 0; i < N_MLKINDS; i++) {
        struct mlist_load ml = {.k = &mlkinds[i], .g = &lists[i]};
        if (store_query(st, ST_MLIST_ALL, NULL, &SV_TEXT(mlkinds[i].kind), 1, load_mlist_row, &ml,
                        err) != 0)
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

int store_exec(struct store *st, enum store_stmt id, const struct store_val *v, int n,
               struct scpd_err *err)
{
    return st->be->exec(st, id, NULL, v, n, NULL, err);
}

int store_query(struct store *st, enum store_stmt id, const char *sql, const struct store_val *v,
                int n, store_row_fn fn, void *arg, struct scpd_err *err)
{
    return st->be->query(st, id, sql, v, n, fn, arg, err);
}

const char *store_col_text(const struct store_row *r, int col)
{
    return r->st->be->col_text(r, col);
}

int64_t store_col_int(const struct store_row *r, int col)
{
    return r->st->be->col_int(r, col);
}

int store_row_int(void *arg, const struct store_row *r, struct scpd_err *err)
{
    *(int64_t *)arg = store_col_int(r, 0);
    return 0;
}

bool store_col_null(const struct store_row *r, int col)
{
    return r->st->be->col_null(r, col);
}

static int store_begin(struct store *st, enum store_tx tx, struct scpd_err *err)
{
    return st->be->begin(st, tx, err);
}

static int store_end(struct store *st, struct scpd_err *err)
{
    return st->be->commit(st, err);
}

static void store_rollback(struct store *st)
{
    st->be->rollback(st);
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
    struct store_val v[7] = {SV_INT(when),        SV_TEXT(who_user(who)),
                             SV_TEXT(who->source), SV_TEXT(who->peer ? who->peer : ""),
                             SV_INT(version),     SV_TEXT(target),
                             SV_TEXT(diff ? diff : "")};
    if (store_exec(st, ST_AUDIT_PUT, v, 7, err) != 0)
        return -1;
    /* Bounded in the same transaction as the change: the oldest rows beyond LIM_AUDIT_ROWS go
     * (an index walk on the primary key; usually one row). */
    return store_exec(st, ST_AUDIT_TRIM, &SV_INT(LIM_AUDIT_ROWS), 1, err);
}

static int startup_put(struct store *st, const char *text, int64_t when, struct scpd_err *err)
{
    struct store_val v[2] = {SV_TEXT(text), SV_INT(when)};
    return store_exec(st, ST_STARTUP_PUT, v, 2, err);
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

/* ---- open / create / load ------------------------------------------------------------------- */

struct meta {
    bool found;
    uint64_t version;
    time_t at;
    char by[CFG_NAME_MAX];
};

static int meta_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct meta *m = arg;
    m->found = true;
    m->version = (uint64_t)store_col_int(row, 0);
    m->at = (time_t)store_col_int(row, 1);
    snprintf(m->by, sizeof(m->by), "%s", store_col_text(row, 2));
    return 1;
}

/* Reads the meta row (m->found false if absent). 0 or -1. */
static int meta_get(struct store *st, struct meta *m, struct scpd_err *err)
{
    memset(m, 0, sizeof(*m));
    return store_query(st, ST_META_GET, NULL, NULL, 0, meta_row, m, err) < 0 ? -1 : 0;
}

/* First start: the running and startup datastores from initial, version 1, one transaction.
 * A crash before COMMIT leaves no meta row, so the next open does this again. Returns 1 when
 * another instance created the content first (nothing written here), 0 when created, -1. */
static int store_init_content(struct store *st, const struct cfg *initial, struct scpd_err *err)
{
    static const struct store_who boot = {.user = "", .source = "boot", .peer = ""};
    struct cfg *def = cfg_new_default(), *copy = initial ? cfg_clone(initial) : cfg_new_default();
    char *diff = NULL, *text = NULL;
    struct store_snap_impl *s = NULL;
    struct meta m;
    int rc = -1;
    time_t now = time(NULL);
    if (!def || !copy || !(diff = cfg_diff(def, copy)) || !(text = startup_render(copy))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto out;
    }
    if (store_begin(st, STORE_TX_INIT, err) != 0)
        goto out;
    if (meta_get(st, &m, err) != 0) {
        store_rollback(st);
        goto out;
    }
    if (m.found) { /* another instance of a shared store was first */
        store_rollback(st);
        rc = 1;
        goto out;
    }
    /* The tables are empty (an earlier first start that crashed rolled back), so writing the
     * difference from the defaults plus every setting is exact. */
    struct store_val mv[3] = {SV_INT(1), SV_INT(now), SV_TEXT("")};
    /* A shared store: the initial config's type-6 keys were made under this instance's master
     * key, so that key becomes every instance's in the same transaction (store_secret_init). */
    char mk[SECRET_MASTER_TEXT];
    if (st->be->shared && secret_master_export(mk, sizeof mk) == 0 &&
        store_exec(st, ST_SECRET_INIT, (struct store_val[]){SV_TEXT(STORE_SECRET_MASTER),
                                                            SV_TEXT(mk)}, 2, err) != 0) {
        OPENSSL_cleanse(mk, sizeof mk);
        store_rollback(st);
        goto out;
    }
    OPENSSL_cleanse(mk, sizeof mk);
    if (store_write_running(st, def, copy, true, err) != 0 ||
        store_exec(st, ST_META_INIT, mv, 3, err) != 0 || startup_put(st, text, now, err) != 0 ||
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

/* Loads meta and the running datastore in one read transaction into a new snapshot; NULL with
 * *absent set when the database holds no content yet. Called with db_lock held. */
static struct store_snap_impl *store_load_snap(struct store *st, bool *absent,
                                               struct scpd_err *err)
{
    struct meta m;
    struct cfg *c = NULL;
    struct store_snap_impl *s = NULL;
    if (absent)
        *absent = false;
    if (store_begin(st, STORE_TX_READ, err) != 0)
        return NULL;
    if (meta_get(st, &m, err) != 0)
        goto out;
    if (!m.found) {
        if (absent)
            *absent = true;
        scpd_err_set(err, SCPD_E_NOTFOUND, "store: the database holds no configuration");
        goto out;
    }
    if (!(c = store_load_running(st, err)))
        goto out;
    if (!(s = snap_new(c, m.version, m.at, m.by))) {
        cfg_free(c);
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto out;
    }
out:
    store_rollback(st); /* a read: nothing to keep */
    return s;
}

int store_refresh(struct store *st, struct scpd_err *err)
{
    pthread_mutex_lock(&st->db_lock);
    struct store_snap_impl *s = store_load_snap(st, NULL, err);
    if (s && s->pub.version <= st->cur->pub.version) {
        store_snap_release(&s->pub); /* nothing newer (or a local commit got there first) */
        s = NULL;
    } else if (s) {
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED); /* ours, for the listeners */
        snap_swap(st, s);
    }
    int rc = s || err == NULL || err->code == SCPD_E_OK ? 0 : -1;
    pthread_mutex_unlock(&st->db_lock);
    if (s) {
        log_info(&(struct log_ctx){.user = s->pub.changed_by},
                 "store: version %llu committed by another instance is live here",
                 (unsigned long long)s->pub.version);
        notify(st, &s->pub);
        store_snap_release(&s->pub);
    }
    return rc;
}

/* "postgresql://..." or "postgres://..." (libpq's URIs) name a PostgreSQL store. */
static const struct store_backend *backend_of(const char *target)
{
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0)
        return &store_pg_backend;
    return &store_sqlite_backend;
}

struct store *store_open(const char *target, const struct cfg *initial, bool *created,
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
    pthread_mutex_init(&st->evl_lock, NULL);
    st->be = backend_of(target);
    if (created)
        *created = false;
    if (st->be->open(st, target, err) != 0)
        goto fail;
    for (int attempt = 0; attempt < 2 && !st->cur; attempt++) {
        bool absent = false;
        pthread_mutex_lock(&st->db_lock);
        struct store_snap_impl *s = store_load_snap(st, &absent, err);
        int rc = 0;
        if (s)
            snap_swap(st, s);
        else if (absent && (rc = store_init_content(st, initial, err)) == 0 && created)
            *created = true;
        pthread_mutex_unlock(&st->db_lock);
        if ((!s && !absent) || rc < 0)
            goto fail;
        if (rc == 0 && !s)
            log_info(NULL, "store: created %s (version 1)", st->where);
    }
    if (!st->cur) {
        scpd_err_set(err, SCPD_E_IO, "store: %s holds no configuration after creating it",
                     st->where);
        goto fail;
    }
    log_info(NULL, "store: opened %s (%s, version %llu)", st->where, st->be->name,
             (unsigned long long)st->cur->pub.version);
    if (st->be->watch && st->be->watch(st, err) != 0)
        goto fail;
    return st;
fail:
    store_close(st);
    return NULL;
}

int store_initialized(const char *target, struct scpd_err *err)
{
    return backend_of(target)->initialized(target, err);
}

bool store_is_shared(const struct store *st)
{
    return st->be->shared;
}

int64_t store_instance(const struct store *st)
{
    return st->instance;
}

int store_space_set(struct store *st, const char *fs, uint64_t total, uint64_t limit, bool check,
                    uint64_t grow, store_used_fn used, void *arg, uint64_t *avail,
                    struct scpd_err *err)
{
    if (!st->be->space_set)
        return 0;
    pthread_mutex_lock(&st->db_lock);
    int rc = st->be->space_set(st, fs, total, limit, check, grow, used, arg, avail, err);
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

void store_event_publish(struct store *st, const char *stream, const char *text)
{
    if (st->be->publish)
        st->be->publish(st, stream, text);
}

int store_event_listen(struct store *st, store_event_fn fn, void *arg)
{
    int rc = -1;
    pthread_mutex_lock(&st->evl_lock);
    for (int i = 0; i < STORE_MAX_LISTENERS && rc < 0; i++)
        if (!st->evl[i].fn) {
            st->evl[i].fn = fn;
            st->evl[i].arg = arg;
            rc = i;
        }
    pthread_mutex_unlock(&st->evl_lock);
    return rc;
}

void store_event_unlisten(struct store *st, store_event_fn fn, void *arg)
{
    pthread_mutex_lock(&st->evl_lock);
    for (int i = 0; i < STORE_MAX_LISTENERS; i++)
        if (st->evl[i].fn == fn && st->evl[i].arg == arg)
            st->evl[i].fn = NULL;
    pthread_mutex_unlock(&st->evl_lock);
}

/* Under evl_lock, so that an unlisten waits for a call in progress (the listeners push to a ring,
 * or, for a replaced host key, read it and rewrite one file; none takes evl_lock). */
void store_event_deliver(struct store *st, int64_t instance, const char *stream,
                         const char *text)
{
    pthread_mutex_lock(&st->evl_lock);
    for (int i = 0; i < STORE_MAX_LISTENERS; i++)
        if (st->evl[i].fn)
            st->evl[i].fn(st->evl[i].arg, instance, stream, text);
    pthread_mutex_unlock(&st->evl_lock);
}

void store_close(struct store *st)
{
    if (!st)
        return;
    st->be->close(st); /* the watcher first: it may be refreshing */
    if (st->cur)
        store_snap_release(&st->cur->pub);
    pthread_mutex_destroy(&st->db_lock);
    pthread_mutex_destroy(&st->snap_lock);
    pthread_mutex_destroy(&st->lsn_lock);
    pthread_mutex_destroy(&st->evl_lock);
    free(st);
}

/* ---- shared secrets ------------------------------------------------------------------------- */

static int secret_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    char **out = arg;
    if (!(*out = strdup(store_col_text(row, 0))))
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    return 1;
}

char *store_secret_get(struct store *st, const char *name, struct scpd_err *err)
{
    char *out = NULL;
    pthread_mutex_lock(&st->db_lock);
    int rc = store_query(st, ST_SECRET_GET, NULL, &SV_TEXT(name), 1, secret_row, &out, err);
    pthread_mutex_unlock(&st->db_lock);
    if (rc < 0) {
        free(out);
        return NULL;
    }
    if (!out)
        scpd_err_set(err, SCPD_E_NOTFOUND, "store: no secret '%s'", name);
    return out;
}

char *store_secret_init(struct store *st, const char *name, const char *value,
                        struct scpd_err *err)
{
    char *out = NULL;
    struct store_val v[2] = {SV_TEXT(name), SV_TEXT(value)};
    pthread_mutex_lock(&st->db_lock);
    if (store_begin(st, STORE_TX_WRITE, err) == 0) {
        if (store_exec(st, ST_SECRET_INIT, v, 2, err) != 0 ||
            store_query(st, ST_SECRET_GET, NULL, &SV_TEXT(name), 1, secret_row, &out, err) < 0 ||
            store_end(st, err) != 0) {
            store_rollback(st);
            free(out);
            out = NULL;
        } else if (!out) {
            scpd_err_set(err, SCPD_E_IO, "store: secret '%s' vanished after it was written", name);
        }
    }
    pthread_mutex_unlock(&st->db_lock);
    return out;
}

int store_secret_set(struct store *st, const char *name, const char *value, struct scpd_err *err)
{
    struct store_val v[2] = {SV_TEXT(name), SV_TEXT(value)};
    int rc = -1;
    pthread_mutex_lock(&st->db_lock);
    if (store_begin(st, STORE_TX_WRITE, err) == 0) {
        rc = store_exec(st, ST_SECRET_SET, v, 2, err) == 0 && store_end(st, err) == 0 ? 0 : -1;
        if (rc != 0)
            store_rollback(st);
    }
    pthread_mutex_unlock(&st->db_lock);
    /* after COMMIT, so an instance told of it reads the new value; the name only, never the
     * value (a lost notification is made up for by the watcher's poll) */
    if (rc == 0)
        store_event_publish(st, STORE_EVENT_SECRET, name);
    return rc;
}

/* ---- API bearer tokens (a shared store only) --------------------------------------------------
 * PostgreSQL only (sqlite's single instance keeps them in memory), so the SQL is not among the
 * statements sqlite prepares at open. The hash travels as hex text and is stored as bytea. */

static const char sql_token_expire[] = "DELETE FROM token WHERE expires <= $1";
/* serializes issues across instances, so the caps hold under concurrent logins */
static const char sql_token_lock[] = "LOCK TABLE token IN SHARE ROW EXCLUSIVE MODE";
static const char sql_token_cap_user[] =
    "DELETE FROM token WHERE hash IN (SELECT hash FROM token WHERE username = $1"
    " ORDER BY serial DESC OFFSET $2)";
static const char sql_token_cap_all[] =
    "DELETE FROM token WHERE hash IN (SELECT hash FROM token ORDER BY serial DESC OFFSET $1)";
static const char sql_token_put[] =
    "INSERT INTO token(hash, username, account, privilege, expires)"
    " VALUES (decode($1, 'hex'), $2, $3, $4, $5)";
static const char sql_token_get[] =
    "SELECT username, account, privilege FROM token WHERE hash = decode($1, 'hex')"
    " AND expires > $2";
static const char sql_token_del[] = "DELETE FROM token WHERE hash = decode($1, 'hex')";

static int token_shared(struct store *st, struct scpd_err *err)
{
    if (st->be->shared)
        return 0;
    return scpd_err_set(err, SCPD_E_INTERNAL, "store: tokens are kept only in a shared store");
}

static int dyn_exec(struct store *st, const char *sql, const struct store_val *v, int n,
                      struct scpd_err *err)
{
    return st->be->exec(st, ST_DYNAMIC, sql, v, n, NULL, err);
}

int store_token_add(struct store *st, const char *hash_hex, const struct store_token *t,
                    int64_t now, int per_user, int total, struct scpd_err *err)
{
    if (token_shared(st, err) != 0)
        return -1;
    struct store_val put[5] = {SV_TEXT(hash_hex), SV_TEXT(t->user), SV_INT(t->account),
                               SV_INT(t->privilege), SV_INT(t->expires)};
    struct store_val cap_user[2] = {SV_TEXT(t->user), SV_INT(per_user - 1)};
    int rc = -1;
    pthread_mutex_lock(&st->db_lock);
    if (store_begin(st, STORE_TX_WRITE, err) == 0) {
        if (dyn_exec(st, sql_token_lock, NULL, 0, err) != 0 ||
            dyn_exec(st, sql_token_expire, &SV_INT(now), 1, err) != 0 ||
            dyn_exec(st, sql_token_cap_user, cap_user, 2, err) != 0 ||
            dyn_exec(st, sql_token_cap_all, &SV_INT(total - 1), 1, err) != 0 ||
            dyn_exec(st, sql_token_put, put, 5, err) != 0 || store_end(st, err) != 0)
            store_rollback(st);
        else
            rc = 0;
    }
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

static int token_row(void *arg, const struct store_row *r, struct scpd_err *err)
{
    (void)err;
    struct store_token *t = arg;
    snprintf(t->user, sizeof t->user, "%s", store_col_text(r, 0));
    t->account = (uint64_t)store_col_int(r, 1);
    t->privilege = (int)store_col_int(r, 2);
    t->expires = 1; /* found */
    return 1;
}

int store_token_get(struct store *st, const char *hash_hex, int64_t now, struct store_token *t,
                    struct scpd_err *err)
{
    if (token_shared(st, err) != 0)
        return -1;
    struct store_val v[2] = {SV_TEXT(hash_hex), SV_INT(now)};
    memset(t, 0, sizeof *t);
    pthread_mutex_lock(&st->db_lock);
    int rc = store_query(st, ST_DYNAMIC, sql_token_get, v, 2, token_row, t, err);
    pthread_mutex_unlock(&st->db_lock);
    if (rc < 0)
        return -1;
    return t->expires != 0 ? 1 : 0;
}

int store_token_del(struct store *st, const char *hash_hex, struct scpd_err *err)
{
    if (token_shared(st, err) != 0)
        return -1;
    pthread_mutex_lock(&st->db_lock);
    int rc = dyn_exec(st, sql_token_del, &SV_TEXT(hash_hex), 1, err);
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

/* ---- login block-for (a shared store only) ----------------------------------------------------
 * One transaction per failed login, serialized per source by an advisory lock, so failures that
 * reach two instances at once are both counted and one quiet period starts. Rows older than the
 * window go at each failure; every LOGIN_FAIL_PRUNE_EVERY-th failure of an instance also cuts
 * the table to LIM_BLOCK_SOURCES x LIM_BLOCK_FAIL_TIMES rows (the newest), the memory bound of
 * the in-memory table, so sources cycling addresses cannot grow it without bound. */

#define LOGIN_FAIL_PRUNE_EVERY 64
#define LOGIN_FAIL_ROWS ((int64_t)LIM_BLOCK_SOURCES * LIM_BLOCK_FAIL_TIMES)

static const char sql_block_lock[] = "SELECT pg_advisory_xact_lock(hashtext('login:' || $1))";
static const char sql_block_expire[] = "DELETE FROM login_block WHERE until_s <= $1";
static const char sql_fail_expire[] = "DELETE FROM login_fail WHERE at_ms <= $1";
static const char sql_block_get[] =
    "SELECT until_s FROM login_block WHERE addr = $1 AND until_s > $2";
static const char sql_fail_put[] = "INSERT INTO login_fail(addr, at_ms) VALUES ($1, $2)";
static const char sql_fail_count[] = "SELECT count(*) FROM login_fail WHERE addr = $1";
static const char sql_block_put[] =
    "INSERT INTO login_block(addr, until_s) VALUES ($1, $2)"
    " ON CONFLICT (addr) DO UPDATE SET until_s = EXCLUDED.until_s";
static const char sql_fail_clear[] = "DELETE FROM login_fail WHERE addr = $1";
static const char sql_fail_cap[] =
    "DELETE FROM login_fail WHERE at_ms < (SELECT at_ms FROM login_fail ORDER BY at_ms DESC"
    " OFFSET $1 LIMIT 1)";
static const char sql_block_cap[] =
    "DELETE FROM login_block WHERE addr IN (SELECT addr FROM login_block ORDER BY until_s DESC"
    " OFFSET $1)";

static int block_shared(struct store *st, struct scpd_err *err)
{
    if (st->be->shared)
        return 0;
    return scpd_err_set(err, SCPD_E_INTERNAL, "store: login block-for is shared only in a "
                        "shared store");
}

int store_block_fail(struct store *st, const char *addr, int64_t now_ms, int attempts,
                     int within_s, int block_s, int64_t *until_s, bool *started,
                     struct scpd_err *err)
{
    *until_s = 0;
    *started = false;
    if (block_shared(st, err) != 0)
        return -1;
    int64_t now_s = now_ms / 1000, count = 0;
    bool prune =
        __atomic_add_fetch(&st->login_fails, 1, __ATOMIC_RELAXED) % LOGIN_FAIL_PRUNE_EVERY == 0;
    struct store_val key[2] = {SV_TEXT(addr), SV_INT(now_s)};
    struct store_val put[2] = {SV_TEXT(addr), SV_INT(now_ms)};
    struct store_val block[2] = {SV_TEXT(addr), SV_INT(now_s + block_s)};
    int rc = -1;
    pthread_mutex_lock(&st->db_lock);
    if (store_begin(st, STORE_TX_WRITE, err) != 0)
        goto out;
    if (dyn_exec(st, sql_block_lock, &SV_TEXT(addr), 1, err) != 0 ||
        dyn_exec(st, sql_block_expire, &SV_INT(now_s), 1, err) != 0 ||
        dyn_exec(st, sql_fail_expire, &SV_INT(now_ms - (int64_t)within_s * 1000), 1, err) != 0 ||
        store_query(st, ST_DYNAMIC, sql_block_get, key, 2, store_row_int, until_s, err) < 0)
        goto fail;
    if (*until_s == 0) {
        if (dyn_exec(st, sql_fail_put, put, 2, err) != 0 ||
            store_query(st, ST_DYNAMIC, sql_fail_count, &SV_TEXT(addr), 1, store_row_int, &count,
                        err) < 0)
            goto fail;
        if (count >= attempts) {
            if (dyn_exec(st, sql_block_put, block, 2, err) != 0 ||
                dyn_exec(st, sql_fail_clear, &SV_TEXT(addr), 1, err) != 0)
                goto fail;
            *until_s = now_s + block_s;
            *started = true;
        }
    }
    if (prune && (dyn_exec(st, sql_fail_cap, &SV_INT(LOGIN_FAIL_ROWS), 1, err) != 0 ||
                  dyn_exec(st, sql_block_cap, &SV_INT(LIM_BLOCK_SOURCES), 1, err) != 0))
        goto fail;
    if (store_end(st, err) == 0) {
        rc = 0;
        goto out;
    }
fail:
    store_rollback(st);
    *until_s = 0;
    *started = false;
out:
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

int store_block_get(struct store *st, const char *addr, int64_t now_s, int64_t *until_s,
                    struct scpd_err *err)
{
    *until_s = 0;
    if (block_shared(st, err) != 0)
        return -1;
    struct store_val key[2] = {SV_TEXT(addr), SV_INT(now_s)};
    pthread_mutex_lock(&st->db_lock);
    int rc = store_query(st, ST_DYNAMIC, sql_block_get, key, 2, store_row_int, until_s, err);
    pthread_mutex_unlock(&st->db_lock);
    return rc < 0 ? -1 : 0;
}

/* ---- the running datastore's lock in a shared store ------------------------------------------
 * A row of ds_lock names the instance and session holding it. Taking it first locks the meta row,
 * as a commit does, so a lock is granted between two commits, never during one; the commit reads
 * the row inside its transaction (dsl_check). */

static const char sql_dsl_meta[] = "SELECT version FROM meta WHERE id = 1 FOR UPDATE";
static const char sql_dsl_take[] =
    "INSERT INTO ds_lock(id, instance, sid, holder) VALUES (1, $1, $2, $3)"
    " ON CONFLICT (id) DO NOTHING";
static const char sql_dsl_get[] = "SELECT instance, sid, holder FROM ds_lock WHERE id = 1";
static const char sql_dsl_drop[] =
    "DELETE FROM ds_lock WHERE id = 1 AND instance = $1 AND sid = $2";

struct dsl_row {
    bool found;
    int64_t instance, sid;
    char holder[160];
};

static int dsl_row(void *arg, const struct store_row *r, struct scpd_err *err)
{
    (void)err;
    struct dsl_row *d = arg;
    d->found = true;
    d->instance = store_col_int(r, 0);
    d->sid = store_col_int(r, 1);
    snprintf(d->holder, sizeof d->holder, "%s", store_col_text(r, 2));
    return 0;
}

/* In a write transaction (db_lock held): the lock's row, a stale row of this instance dropped
 * (its session ended while the database was unreachable; st->ds_lock_sid, the mirror, knows). */
static int dsl_get(struct store *st, struct dsl_row *d, struct scpd_err *err)
{
    memset(d, 0, sizeof *d);
    if (store_query(st, ST_DYNAMIC, sql_dsl_get, NULL, 0, dsl_row, d, err) < 0)
        return -1;
    if (d->found && d->instance == st->instance && (uint64_t)d->sid != st->ds_lock_sid) {
        struct store_val key[2] = {SV_INT(d->instance), SV_INT(d->sid)};
        if (dyn_exec(st, sql_dsl_drop, key, 2, err) != 0)
            return -1;
        d->found = false;
    }
    return 0;
}

/* In a write transaction: SCPD_E_LOCKED when a session other than sid of this instance holds the
 * lock. */
static int dsl_check(struct store *st, uint64_t sid, struct scpd_err *err)
{
    struct dsl_row d;
    if (dsl_get(st, &d, err) != 0)
        return -1;
    if (d.found && !(d.instance == st->instance && (uint64_t)d.sid == sid))
        return scpd_err_set(err, SCPD_E_LOCKED, "the running configuration is locked by %s",
                            d.holder);
    return 0;
}

static int dsl_lock(struct store *st, uint64_t sid, const char *holder, struct scpd_err *err)
{
    char named[160];
    snprintf(named, sizeof named, "%s on instance %lld", holder, (long long)st->instance);
    struct store_val take[3] = {SV_INT(st->instance), SV_INT((int64_t)sid), SV_TEXT(named)};
    struct dsl_row d = {0};
    int64_t took = 0;
    int rc = -1;
    pthread_mutex_lock(&st->db_lock);
    if (store_begin(st, STORE_TX_WRITE, err) == 0) {
        if (dyn_exec(st, sql_dsl_meta, NULL, 0, err) != 0 || dsl_get(st, &d, err) != 0 ||
            (!d.found && st->be->exec(st, ST_DYNAMIC, sql_dsl_take, take, 3, &took, err) != 0) ||
            store_end(st, err) != 0)
            store_rollback(st);
        else if (took == 1) {
            rc = 0;
            st->ds_lock_sid = sid;
        } else if (d.found && d.instance == st->instance && (uint64_t)d.sid == sid)
            scpd_err_set(err, SCPD_E_EXISTS, "this session holds the lock already");
        else
            scpd_err_set(err, SCPD_E_LOCKED, "the running configuration is locked by %s",
                         d.found ? d.holder : "another session");
    }
    pthread_mutex_unlock(&st->db_lock);
    return rc;
}

/* 1: sid's lock was released; 0: sid held none; -1: error. */
static int dsl_unlock(struct store *st, uint64_t sid, struct scpd_err *err)
{
    struct store_val key[2] = {SV_INT(st->instance), SV_INT((int64_t)sid)};
    int64_t gone = 0;
    pthread_mutex_lock(&st->db_lock);
    bool held = st->ds_lock_sid == sid;
    if (held)
        st->ds_lock_sid = 0;   /* even if the row cannot go now: dsl_get drops it later */
    int rc = st->be->exec(st, ST_DYNAMIC, sql_dsl_drop, key, 2, &gone, err);
    pthread_mutex_unlock(&st->db_lock);
    return rc != 0 ? (held ? 1 : -1) : gone > 0;
}

/* ---- commit ---------------------------------------------------------------------------------- */

/* The commit of another instance made ours stale: follow it, so the caller's next try (or the
 * client's next request) starts from the new version. */
static int conflict_after_refresh(struct store *st, uint64_t base, struct scpd_err *err)
{
    store_refresh(st, NULL);
    return scpd_err_set(err, SCPD_E_CONFLICT,
                        "configuration changed meanwhile (committed by another instance): version "
                        "is %llu, expected %llu",
                        (unsigned long long)store_version(st), (unsigned long long)base);
}

int store_commit(struct store *st, const struct cfg *next, uint64_t expect_version,
                 const struct store_who *who, uint64_t *new_version, struct scpd_err *err)
{
    if (who_check(who, err) != 0)
        return -1;
    /* A client may know a version this instance has not loaded yet (it read it from another). */
    if (st->be->shared && expect_version > store_version(st))
        store_refresh(st, NULL);
    struct cfg *copy = NULL;
    char *diff = NULL;
    struct store_snap_impl *s = NULL;
    int rc = -1;
    bool lost_race = false;
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
    if (store_begin(st, STORE_TX_WRITE, err) != 0)
        goto unlock;
    /* The conditional write first: it takes the meta row's lock, so the rows written after it are
     * written against exactly the version of the snapshot (see the head of this file). */
    struct store_val mv[4] = {SV_INT(v + 1), SV_INT(now), SV_TEXT(who_user(who)), SV_INT(v)};
    int64_t changed = 0;
    if (st->be->exec(st, ST_META_CAS, NULL, mv, 4, &changed, err) != 0) {
        store_rollback(st);
        goto unlock;
    }
    if (changed != 1) {
        store_rollback(st);
        lost_race = true;
        goto unlock;
    }
    if (st->be->shared && dsl_check(st, who->session, err) != 0) {
        store_rollback(st);
        goto unlock;
    }
    if (store_write_running(st, cur->own, copy, false, err) != 0 ||
        store_audit_add(st, who, now, v + 1, "running", diff, err) != 0 ||
        (st->be->announce && st->be->announce(st, v + 1, err) != 0) || store_end(st, err) != 0) {
        store_rollback(st);
        goto unlock;
    }
    /* Committed. Publishing cannot fail after this point except for memory; if it does, the
     * database is ahead of memory, so reload it rather than serve a stale version. */
    if (!(s = snap_new(copy, v + 1, now, who_user(who)))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory after commit; reloading");
        struct store_snap_impl *re = store_load_snap(st, NULL, NULL);
        if (re)
            snap_swap(st, re);
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
    if (lost_race)
        conflict_after_refresh(st, v, err);
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
    if (st->be->shared)
        return dsl_lock(st, sid, holder, err);

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
    if (st->be->shared) {
        rc = dsl_unlock(st, sid, err);
        return rc == 1 ? 0 : rc < 0 ? -1 : scpd_err_set(err, SCPD_E_DENIED, "this session does "
                                                        "not hold the lock");
    }

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
    if (st->be->shared) {
        struct scpd_err err = {0};
        if (sid != 0)
            dsl_unlock(st, sid, &err);   /* unreachable: the instance's reaping frees it */
        return;
    }
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

struct startup_out {
    char *text;
    time_t *saved_at;
};

static int startup_row(void *arg, const struct store_row *row, struct scpd_err *err)
{
    struct startup_out *o = arg;
    if (!(o->text = strdup(store_col_text(row, 0))))
        return scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
    if (o->saved_at)
        *o->saved_at = (time_t)store_col_int(row, 1);
    return 1;
}

/* Reads the startup text; the caller holds db_lock. */
static char *startup_read(struct store *st, time_t *saved_at, struct scpd_err *err)
{
    struct startup_out o = {.saved_at = saved_at};
    if (store_query(st, ST_STARTUP_GET, NULL, NULL, 0, startup_row, &o, err) < 0) {
        free(o.text);
        return NULL;
    }
    if (!o.text)
        scpd_err_set(err, SCPD_E_NOTFOUND, "startup-config is not present");
    return o.text;
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
    /* The previous text is read in the same transaction as the write, after taking the meta
     * row's lock (which every writer of every instance takes), so the audited diff is against
     * exactly what this change replaces. */
    pthread_mutex_lock(&st->db_lock);
    if (store_begin(st, STORE_TX_WRITE, err) != 0)
        goto unlock;
    if (store_exec(st, ST_META_LOCK, NULL, 0, err) != 0)
        goto rollback;
    struct scpd_err rerr = {0};
    old = startup_read(st, NULL, &rerr);
    if (!old && rerr.code != SCPD_E_NOTFOUND) {
        if (err)
            *err = rerr;
        goto rollback;
    }
    if (old)
        oldc = cfg_apply_text(c, old, strlen(old), CFG_REPLACE, NULL);
    if (!oldc)
        oldc = cfg_new_default();
    if (!oldc || !(diff = cfg_diff(oldc, c))) {
        scpd_err_set(err, SCPD_E_NOMEM, "store: out of memory");
        goto rollback;
    }
    if (startup_put(st, text, now, err) == 0 &&
        store_audit_add(st, who, now, 0, "startup", diff, err) == 0 && store_end(st, err) == 0) {
        rc = 0;
        goto unlock;
    }
rollback:
    store_rollback(st);
unlock:
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

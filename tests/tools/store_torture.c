/* store_torture: drives store/ for the kill -9 acceptance test and measures commit speed.
 *
 *   store_torture run DIR         commits config_for(v + 1) on top of version v forever, printing
 *                                 each committed version on stdout once store_commit() returned
 *   store_torture check DIR MINV  opens the store, checks version >= MINV and that the running
 *                                 config equals config_for(version); prints the version; exit 0/1
 *   store_torture bench DIR N     times commits with N users (first load, one user changed, all
 *                                 users changed, all removed) and a reopen; prints milliseconds
 *
 * config_for(v) is deterministic, so a checker can recompute what a version must hold. Successive
 * versions add, remove and change users, public keys, method lists and settings, so a commit
 * touches every table of the running datastore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/cfg.h"
#include "base/log.h"
#include "store/store.h"

static const struct store_who WHO = {.user = "torture", .source = "cli", .peer = "local"};

/* The config of version v. Built as a plain value and cloned (cfg_free owns the result). */
static struct cfg *config_for(uint64_t v)
{
    struct cfg *d = cfg_new_default();
    if (!d)
        return NULL;
    struct cfg t = *d;
    size_t nu = (size_t)((v * 7) % 40), first = (size_t)(v % 10);
    struct cfg_user *u = calloc(nu + 1, sizeof(*u));
    struct cfg_pkuser *pk = calloc(5, sizeof(*pk));
    struct cfg_mlist ml[2];
    memset(ml, 0, sizeof(ml));
    snprintf(t.hostname, sizeof(t.hostname), "h%llu", (unsigned long long)v);
    t.aaa_new_model = v % 3 == 0;
    t.ssh_timeout = (int)(1 + v % 120);
    t.ssh_retries = (int)(v % 6);
    t.scp_enable = v % 2 == 1;
    if (v % 4 == 1) {
        t.block_secs = 60;
        t.block_attempts = (int)(1 + v % 5);
        t.block_within = 30;
    }
    for (size_t i = 0; i < nu; i++) {
        snprintf(u[i].name, sizeof(u[i].name), "u%03zu", first + i);
        u[i].privilege = (int)((i + v) % 16);
        u[i].secret_type = CFG_SECRET_9;
        snprintf(u[i].secret, sizeof(u[i].secret), "$9$s%llu$h%zu", (unsigned long long)(v / 3),
                 first + i);
    }
    t.users = u;
    t.n_users = nu;
    size_t npk = (size_t)(v % 5);
    for (size_t i = 0; i < npk; i++) {
        snprintf(pk[i].name, sizeof(pk[i].name), "k%zu", i);
        pk[i].nkeys = (int)((v + i) % 3);
        for (int k = 0; k < pk[i].nkeys; k++) {
            snprintf(pk[i].keys[k].type, sizeof(pk[i].keys[k].type), "ssh-ed25519");
            snprintf(pk[i].keys[k].hash, sizeof(pk[i].keys[k].hash), "%032llX",
                     (unsigned long long)(v * 31 + (uint64_t)k));
            snprintf(pk[i].keys[k].comment, sizeof(pk[i].keys[k].comment), "c%d", k);
        }
    }
    t.pkusers = pk;
    t.n_pkusers = npk;
    snprintf(ml[0].name, sizeof(ml[0].name), "default");
    ml[0].n = (int)(1 + v % 3);
    for (int i = 0; i < ml[0].n; i++) {
        ml[0].m[i].kind = i == 0 ? CFG_M_GROUP : CFG_M_LOCAL;
        snprintf(ml[0].m[i].group, sizeof(ml[0].m[i].group), "%s", i == 0 ? "tacacs+" : "");
    }
    snprintf(ml[1].name, sizeof(ml[1].name), "list%llu", (unsigned long long)(v % 4));
    ml[1].n = 1;
    ml[1].m[0].kind = CFG_M_NONE;
    t.authn = ml;
    t.n_authn = v % 2 ? 2 : 1;
    t.authz = ml;
    t.n_authz = 1;
    struct cfg *c = cfg_clone(&t);
    free(u);
    free(pk);
    cfg_free(d);
    return c;
}

static int run(const char *dir)
{
    struct scpd_err err = {0};
    struct cfg *first = config_for(1);
    bool created = false;
    struct store *st = store_open(dir, first, &created, &err);
    cfg_free(first);
    if (!st) {
        fprintf(stderr, "store_torture: %s\n", err.msg);
        return 1;
    }
    if (created) {
        printf("1\n");
        fflush(stdout);
    }
    for (;;) {
        uint64_t v = store_version(st), nv = 0;
        struct cfg *c = config_for(v + 1);
        if (!c || store_commit(st, c, v, &WHO, &nv, &err) != 0) {
            fprintf(stderr, "store_torture: commit %llu: %s\n", (unsigned long long)v + 1, err.msg);
            cfg_free(c);
            store_close(st);
            return 1;
        }
        cfg_free(c);
        printf("%llu\n", (unsigned long long)nv);
        fflush(stdout);
    }
}

static int check(const char *dir, uint64_t minv)
{
    struct scpd_err err = {0};
    bool created = false;
    struct cfg *first = config_for(1); /* as run() would have created it */
    struct store *st = store_open(dir, first, &created, &err);
    cfg_free(first);
    if (!st) {
        fprintf(stderr, "store_torture: %s\n", err.msg);
        return 1;
    }
    const struct store_snap *s = store_snapshot(st);
    struct cfg *want = config_for(s->version);
    int rc = 0;
    if (created && minv > 0) {
        fprintf(stderr, "store_torture: the store was lost (created anew)\n");
        rc = 1;
    } else if (s->version < minv) {
        fprintf(stderr, "store_torture: version %llu < last printed %llu\n",
                (unsigned long long)s->version, (unsigned long long)minv);
        rc = 1;
    } else if (!cfg_equal(s->cfg, want)) {
        fprintf(stderr, "store_torture: config of version %llu differs from the committed one\n",
                (unsigned long long)s->version);
        rc = 1;
    }
    printf("%llu\n", (unsigned long long)s->version);
    cfg_free(want);
    store_snap_release(s);
    store_close(st);
    return rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* n users with names u000000..; secret differs by salt. */
static struct cfg *users_cfg(size_t n, int salt, int changed_priv_of)
{
    struct cfg *d = cfg_new_default();
    struct cfg t = *d;
    struct cfg_user *u = calloc(n + 1, sizeof(*u));
    for (size_t i = 0; i < n; i++) {
        snprintf(u[i].name, sizeof(u[i].name), "u%06zu", i);
        u[i].privilege = (int)i == changed_priv_of ? 15 : 1;
        u[i].secret_type = CFG_SECRET_9;
        snprintf(u[i].secret, sizeof(u[i].secret),
                 "$9$%014d$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%zu", salt, i);
    }
    t.users = u;
    t.n_users = n;
    struct cfg *c = cfg_clone(&t);
    free(u);
    cfg_free(d);
    return c;
}

static int bench(const char *dir, size_t n)
{
    struct scpd_err err = {0};
    log_set_level(LOG_LVL_WARN);
    struct store *st = store_open(dir, NULL, NULL, &err);
    if (!st) {
        fprintf(stderr, "store_torture: %s\n", err.msg);
        return 1;
    }
    struct {
        const char *what;
        struct cfg *c;
    } steps[] = {
        {"add all users", users_cfg(n, 1, -1)},
        {"change one user", users_cfg(n, 1, (int)n / 2)},
        {"change every user", users_cfg(n, 2, (int)n / 2)},
        {"remove all users", users_cfg(0, 0, -1)},
        {"add all users again", users_cfg(n, 3, -1)},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        double t0 = now_ms();
        if (store_commit(st, steps[i].c, 0, &WHO, NULL, &err) != 0) {
            fprintf(stderr, "store_torture: %s\n", err.msg);
            rc = 1;
        }
        printf("commit, %s (%zu users): %.1f ms\n", steps[i].what, n, now_ms() - t0);
        cfg_free(steps[i].c);
    }
    store_close(st);
    double t0 = now_ms();
    st = store_open(dir, NULL, NULL, &err);
    printf("reopen and load %zu users: %.1f ms\n", n, now_ms() - t0);
    store_close(st);
    return rc;
}

int main(int argc, char **argv)
{
    log_set_level(LOG_LVL_WARN); /* stderr is for failures only */
    if (argc == 3 && strcmp(argv[1], "run") == 0)
        return run(argv[2]);
    if (argc == 4 && strcmp(argv[1], "check") == 0)
        return check(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "bench") == 0)
        return bench(argv[2], strtoull(argv[3], NULL, 10));
    fprintf(stderr, "usage: store_torture run DIR | check DIR MINV | bench DIR NUSERS\n");
    return 2;
}

/* Unit tests of cfg: the model life cycle, merge and replace, whole-file validation that leaves the
 * base untouched, secrets that never appear in plaintext, the exact header byte count, diffs,
 * lookups and limits. Per-line cases (good renderings, bad lines and their errors) live in the
 * corpus (tests/config, test_cfg_corpus.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/cfg.h"
#include "store/cfg_int.h"
#include "store/secret.h"

static const char H9[] = "$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6";

static struct cfg *apply(const struct cfg *base, const char *text, enum cfg_mode mode)
{
    struct cfg_errors errs;
    struct cfg *c = cfg_apply_text(base, text, strlen(text), mode, &errs);
    if (c == NULL) {
        char *e = cfg_errors_format(&errs);
        fail_msg("rejected:\n%s", e);
    }
    return c;
}

static char *render(const struct cfg *c)
{
    char *r = cfg_render(c, NULL, NULL);
    assert_non_null(r);
    return r;
}

/* ---- configuration mode at a terminal (cfg_term) --------------------------------------------- */

/* Types one line onto *cur; returns the result and replaces *cur when the line changed it. */
static enum cfg_term_res type(struct cfg_term *t, struct cfg **cur, const char *line,
                              struct cfg_error *e)
{
    struct cfg *next = NULL;
    enum cfg_term_res r = cfg_term_line(t, *cur, line, strlen(line), &next, e);
    if (next != NULL) {
        cfg_free(*cur);
        *cur = next;
    }
    return r;
}

static void test_term_modes_abbreviations_errors(void **state)
{
    (void)state;
    struct cfg_term *t = cfg_term_new();
    struct cfg *c = cfg_new_default();
    struct cfg_error e;
    assert_string_equal(cfg_term_prompt(t), "config");
    assert_int_equal(type(t, &c, "hostn R2", &e), CFG_TERM_OK);   /* abbreviation */
    assert_string_equal(c->hostname, "R2");
    assert_int_equal(type(t, &c, "ip ssh a 2", &e), CFG_TERM_OK);
    assert_int_equal(c->ssh_retries, 2);
    assert_int_equal(type(t, &c, "ip ssh", &e), CFG_TERM_INVALID);
    assert_int_equal(type(t, &c, "ip s", &e), CFG_TERM_AMBIGUOUS);    /* ssh, scp */
    /* a bad line: column and reason, nothing changed */
    struct cfg *before = cfg_clone(c);
    assert_int_equal(type(t, &c, "ip ssh time-out 500", &e), CFG_TERM_INVALID);
    assert_int_equal(e.column, 17);
    assert_string_equal(e.reason, "value out of range 1-120");
    assert_true(cfg_equal(before, c));
    /* a password on a refused line is masked in the error */
    assert_int_equal(type(t, &c, "username x privilege 99 password 0 hunter2", &e),
                     CFG_TERM_INVALID);
    assert_null(strstr(e.text, "hunter2"));
    /* sub-modes, exit, implicit exit */
    assert_int_equal(type(t, &c, "line vty 0 4", &e), CFG_TERM_OK);
    assert_string_equal(cfg_term_prompt(t), "config-line");
    assert_int_equal(type(t, &c, "exec 5 30", &e), CFG_TERM_OK);
    assert_int_equal(c->vty.exec_timeout, 330);
    assert_int_equal(type(t, &c, "ip access-list standard MGMT", &e), CFG_TERM_OK);
    assert_string_equal(cfg_term_prompt(t), "config-std-nacl");
    assert_int_equal(type(t, &c, "permit 10.1.1.9 0.0.0.255", &e), CFG_TERM_OK);
    assert_int_equal(c->acls[0].e[0].addr, 0x0a010100);
    assert_int_equal(type(t, &c, "no permit 10.1.1.0 0.0.0.255", &e), CFG_TERM_OK);
    assert_int_equal(c->acls[0].n, 0);
    assert_int_equal(type(t, &c, "exit", &e), CFG_TERM_OK);
    assert_string_equal(cfg_term_prompt(t), "config");
    assert_int_equal(type(t, &c, "exit", &e), CFG_TERM_EXIT);
    /* a banner over lines: no change until its delimiter */
    cfg_term_reset(t);
    assert_int_equal(type(t, &c, "banner motd #", &e), CFG_TERM_OK);
    assert_null(cfg_term_prompt(t));
    assert_string_equal(cfg_term_banner_delim(t), "#");
    assert_int_equal(type(t, &c, "Hello", &e), CFG_TERM_OK);
    assert_string_equal(c->banner_motd, "");
    assert_int_equal(type(t, &c, "there# ignored", &e), CFG_TERM_OK);
    assert_string_equal(c->banner_motd, "\nHello\nthere");
    assert_string_equal(cfg_term_prompt(t), "config");
    cfg_free(before);
    cfg_free(c);
    cfg_term_free(t);
}

static void test_term_enable_secret_and_keystring(void **state)
{
    (void)state;
    struct cfg_term *t = cfg_term_new();
    struct cfg *c = cfg_new_default();
    struct cfg_error e;
    assert_int_equal(type(t, &c, "enable secret 0 s3cret", &e), CFG_TERM_OK);
    assert_int_equal(c->enable_type, CFG_SECRET_9);
    assert_int_equal(secret_verify(9, c->enable_secret, "s3cret"), 1);
    assert_int_equal(type(t, &c, "ip ssh pubkey-chain", &e), CFG_TERM_OK);
    assert_int_equal(type(t, &c, "username tiger", &e), CFG_TERM_OK);
    assert_string_equal(cfg_term_prompt(t), "config-pubkey-key");
    assert_int_equal(type(t, &c, "key-string", &e), CFG_TERM_OK);
    assert_string_equal(cfg_term_prompt(t), "config-pubkey");
    /* ssh-ed25519 public key blob, in two pieces */
    assert_int_equal(type(t, &c, "AAAAC3NzaC1lZDI1NTE5AAAAIGX3", &e), CFG_TERM_OK);
    assert_int_equal(c->n_pkusers, 1);
    assert_int_equal(c->pkusers[0].nkeys, 0);
    assert_int_equal(type(t, &c, "qWr3n4Hj0g7JvYF0kM3xL6mLrVhF2b3kQw0QkN1o", &e), CFG_TERM_OK);
    assert_int_equal(type(t, &c, "exit", &e), CFG_TERM_OK);
    assert_int_equal(c->pkusers[0].nkeys, 1);
    assert_string_equal(c->pkusers[0].keys[0].type, "ssh-ed25519");
    assert_string_equal(cfg_term_prompt(t), "config-pubkey-key");
    cfg_free(c);
    cfg_term_free(t);
}

static void test_defaults(void **state)
{
    (void)state;
    struct cfg *c = cfg_new_default();
    assert_non_null(c);
    assert_string_equal(c->hostname, "scpd");
    assert_false(c->aaa_new_model);
    assert_false(c->scp_enable);
    assert_int_equal(c->ssh_version, 2);
    assert_int_equal(c->ssh_timeout, 120);
    assert_int_equal(c->ssh_retries, 3);
    assert_int_equal(c->block_secs, 0);
    assert_false(c->file_prompt_quiet);
    assert_int_equal(c->log_buffer, CFG_DEFAULT_LOG_BUFFER);
    assert_int_equal(c->n_users, 0);
    char *r = render(c);
    assert_string_equal(r, "!\nhostname scpd\n!\nend\n");
    free(r);
    struct cfg_render_opts all = {.all = true};
    r = cfg_render(c, &all, NULL);
    assert_string_equal(r,
                        "!\nno service password-encryption\nhostname scpd\n!\nno aaa new-model\n!\n"
                        "ip ssh time-out 120\nip ssh authentication-retries 3\n"
                        "ip ssh session-lifetime 86400\n"
                        "no ip scp server enable\n!\nfile prompt alert\n"
                        "logging buffered 65536\n!\nend\n");
    free(r);
    struct cfg *e = apply(NULL, "", CFG_REPLACE);
    assert_true(cfg_equal(c, e));
    cfg_free(e);
    cfg_free(c);
    cfg_free(NULL);
}

/* "Current configuration : N bytes": N is the exact size of everything after that line. */
static void test_header_byte_count(void **state)
{
    (void)state;
    struct cfg *c = apply(NULL, "hostname R1\naaa new-model\nip scp server enable\n", CFG_REPLACE);
    struct cfg_render_opts o = {.header = true, .last_change = 1795515302, .last_user = "tiger"};
    size_t len;
    char *r = cfg_render(c, &o, &len);
    assert_int_equal(len, strlen(r));
    const char *hdr = "Building configuration...\n\nCurrent configuration : ";
    assert_memory_equal(r, hdr, strlen(hdr));
    unsigned long n = strtoul(r + strlen(hdr), NULL, 10);
    const char *body = strchr(r + strlen(hdr), '\n') + 1;
    assert_int_equal(n, strlen(body));
    assert_non_null(strstr(body, "!\n! Last configuration change at 10:15:02 UTC Tue Nov 24 2026 "
                                 "by tiger\n!\nhostname R1\n"));
    struct cfg *c2 = apply(NULL, r, CFG_REPLACE);
    assert_true(cfg_equal(c, c2));
    free(r);
    /* single-digit days are not padded, as IOS prints them; no user: no " by" */
    o.last_change = 1793707200; /* 2026-11-03 12:00:00 UTC */
    o.last_user = NULL;
    r = cfg_render(c, &o, NULL);
    assert_non_null(strstr(r, "! Last configuration change at 12:00:00 UTC Tue Nov 3 2026\n"));
    free(r);
    cfg_free(c);
    cfg_free(c2);
}

static void test_merge_and_replace(void **state)
{
    (void)state;
    struct cfg *base = apply(NULL,
                             "hostname R1\naaa new-model\nip scp server enable\n"
                             "username tiger privilege 15 secret 9 $9$2MJBozw/9R3UsU$"
                             "2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6\n",
                             CFG_REPLACE);
    struct cfg *m = apply(base, "username bob privilege 2\nip ssh time-out 30\n", CFG_MERGE);
    assert_string_equal(m->hostname, "R1");
    assert_true(m->scp_enable);
    assert_int_equal(m->n_users, 2);
    assert_int_equal(m->ssh_timeout, 30);
    assert_non_null(cfg_user_find(m, "tiger"));
    assert_int_equal(cfg_user_find(m, "bob")->privilege, 2);
    /* merge keeps attributes a line does not mention */
    struct cfg *m2 = apply(m, "username tiger secret 5 $1$28772684$iEwNOgGugqO9.bIz5sk8k/\n",
                           CFG_MERGE);
    assert_int_equal(cfg_user_find(m2, "tiger")->privilege, 15);
    assert_int_equal(cfg_user_find(m2, "tiger")->secret_type, CFG_SECRET_5);
    struct cfg *r = apply(base, "username bob privilege 2\n", CFG_REPLACE);
    assert_string_equal(r->hostname, "scpd");
    assert_false(r->scp_enable);
    assert_int_equal(r->n_users, 1);
    /* the base is a value: never modified */
    assert_int_equal(base->n_users, 1);
    assert_int_equal(base->ssh_timeout, 120);
    cfg_free(base);
    cfg_free(m);
    cfg_free(m2);
    cfg_free(r);
}

static void test_bad_file_changes_nothing(void **state)
{
    (void)state;
    struct cfg *base = apply(NULL, "hostname R1\nusername a privilege 3\n", CFG_REPLACE);
    struct cfg *copy = cfg_clone(base);
    struct cfg_errors errs;
    const char *text = "hostname R2\nno username a\nip ssh time-out 500\nip scp server enable\n";
    assert_null(cfg_apply_text(base, text, strlen(text), CFG_MERGE, &errs));
    assert_true(cfg_equal(base, copy));
    assert_int_equal(errs.n, 1);
    assert_int_equal(errs.total, 1);
    assert_int_equal(errs.e[0].line, 3);
    assert_int_equal(errs.e[0].column, 17);
    assert_string_equal(errs.e[0].text, "ip ssh time-out 500");
    assert_string_equal(errs.e[0].reason, "value out of range 1-120");
    char *f = cfg_errors_format(&errs);
    assert_string_equal(f, "line 3: ip ssh time-out 500\n"
                           "                        ^\n"
                           "% Invalid input detected at '^' marker: value out of range 1-120\n");
    free(f);
    /* errs may be NULL */
    assert_null(cfg_apply_text(base, text, strlen(text), CFG_MERGE, NULL));
    cfg_free(base);
    cfg_free(copy);
}

static void test_nul_and_control_bytes(void **state)
{
    (void)state;
    static const char text[] = "hostname R1\nhostname R\0X\n";
    struct cfg_errors errs;
    assert_null(cfg_apply_text(NULL, text, sizeof text - 1, CFG_REPLACE, &errs));
    assert_int_equal(errs.n, 1);
    assert_int_equal(errs.e[0].line, 2);
    assert_int_equal(errs.e[0].column, 11);
    assert_string_equal(errs.e[0].text, "hostname R?X");
    /* a file without a final newline still has its last line */
    struct cfg *c = apply(NULL, "hostname R1\nip scp server enable", CFG_REPLACE);
    assert_true(c->scp_enable);
    cfg_free(c);
}

static void test_plaintext_never_kept(void **state)
{
    (void)state;
    struct cfg *c = apply(NULL,
                          "username a password 0 Sup3rSecret words\n"
                          "username b password 7 0822455D0A16\n"
                          "username c secret 0 An0therOne\n"
                          "username d password Plain4\n",
                          CFG_REPLACE);
    char *r = render(c);
    assert_null(strstr(r, "Sup3rSecret"));
    assert_null(strstr(r, "0822455D0A16"));
    assert_null(strstr(r, "An0therOne"));
    assert_null(strstr(r, "Plain4"));
    for (size_t i = 0; i < c->n_users; i++)
        assert_int_equal(c->users[i].secret_type, CFG_SECRET_9);
    assert_int_equal(secret_verify(9, cfg_user_find(c, "a")->secret, "Sup3rSecret words"), 1);
    assert_int_equal(secret_verify(9, cfg_user_find(c, "b")->secret, "cisco"), 1);
    assert_int_equal(secret_verify(9, cfg_user_find(c, "c")->secret, "An0therOne"), 1);
    assert_int_equal(secret_verify(9, cfg_user_find(c, "d")->secret, "Plain4"), 1);
    free(r);
    cfg_free(c);

    /* errors on lines with plaintext mask it, wherever the marker is */
    static const char *const bad[] = {
        "username a privilege 16 password 0 Sup3rSecret\n",
        "username a password 7 Sup3rSecret\n",
        "username a secret 0 Sup3rSecret extra\n",
        "usrname a secret Sup3rSecret\n",
        "username a privilege x password Sup3rSecret\n",
        "username a\x01 password Sup3rSecret\n",
        "username a secret 5 $1$1234$BdIMOAWFOV2AQlLsrN/Sw. password 0 Sup3rSecret\n",
        NULL, /* a line of 70 words then a password: rejected for too many words */
    };
    char many[LIM_CFG_LINE_LEN];
    size_t o = 0;
    for (int i = 0; i < 70; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "w ");
    snprintf(many + o, sizeof many - o, "password 0 Sup3rSecret\n");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cfg_errors errs;
        const char *t = bad[i] ? bad[i] : many;
        assert_null(cfg_apply_text(NULL, t, strlen(t), CFG_REPLACE, &errs));
        char *f = cfg_errors_format(&errs);
        if (strstr(f, "Sup3rSecret") != NULL)
            fail_msg("plaintext echoed for case %zu:\n%s", i, f);
        assert_non_null(strstr(f, "<hidden>"));
        free(f);
    }
}

static void test_pubkey_key_string(void **state)
{
    (void)state;
    /* the MD5 fingerprint ssh-keygen -l -E md5 prints for this key: 08:eb:2a:d4:...:56:cb */
    struct cfg *c = apply(NULL,
                          "ip ssh pubkey-chain\n username tiger\n  key-string\n"
                          "AAAAC3NzaC1lZDI1NTE5AAAAIBYXcZxr+R4+Fg0Q\n"
                          "rl3jKOrLoGL7ZORVcun2SRRYUBRN\n  exit\n",
                          CFG_REPLACE);
    const struct cfg_pkuser *u = cfg_pkuser_find(c, "tiger");
    assert_non_null(u);
    assert_int_equal(u->nkeys, 1);
    assert_string_equal(u->keys[0].type, "ssh-ed25519");
    assert_string_equal(u->keys[0].hash, "08EB2AD473C87485F448CCC7C22256CB");
    assert_null(cfg_pkuser_find(c, "bob"));
    cfg_free(c);
}

/* The decoded length excludes the '=' padding (the MD5 is over the blob's own bytes), and base64
 * that is unpadded or has '=' inside is refused. */
static void test_keystring_padding(void **state)
{
    (void)state;
    struct cfg *c = apply(NULL,
                          "ip ssh pubkey-chain\n username tiger\n  key-string\n"
                          "AAAAB3NzaC1yc2E=\n  exit\n", /* the 11 bytes 0 0 0 7 "ssh-rsa" */
                          CFG_REPLACE);
    const struct cfg_pkuser *u = cfg_pkuser_find(c, "tiger");
    assert_non_null(u);
    assert_string_equal(u->keys[0].type, "ssh-rsa");
    assert_string_equal(u->keys[0].hash, "1507B5D4F7DC4A5814513862C740B755");
    cfg_free(c);
    static const char *const bad[] = {"AAAAB3NzaC1yc2E", "AAAA=B3NzaC1yc2E", "AAAAB3NzaC1yc2E=="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        struct cfg_errors errs;
        int n = snprintf(text, sizeof(text),
                         "ip ssh pubkey-chain\n username tiger\n  key-string\n%s\n  exit\n",
                         bad[i]);
        assert_null(cfg_apply_text(NULL, text, (size_t)n, CFG_REPLACE, &errs));
        assert_int_equal(errs.total, 1);
        if (strstr(errs.e[0].reason, "not valid base64") == NULL)
            fail_msg("%s: %s", bad[i], errs.e[0].reason);
    }
}

static void test_diff(void **state)
{
    (void)state;
    struct cfg *a = apply(NULL, "hostname R1\nusername a privilege 2\nusername c privilege 2\n",
                          CFG_REPLACE);
    struct cfg *b = apply(a, "hostname R2\nusername b privilege 2\nno username c\n"
                             "ip scp server enable\n", CFG_MERGE);
    char *d = cfg_diff(a, b);
    assert_string_equal(d, "- hostname R1\n+ hostname R2\n- username c privilege 2\n"
                           "+ username b privilege 2\n+ ip scp server enable\n+ !\n");
    free(d);
    d = cfg_diff(a, a);
    assert_string_equal(d, "");
    free(d);
    d = cfg_diff(NULL, a); /* NULL: the built-in default */
    assert_string_equal(d, "- hostname scpd\n+ hostname R1\n+ username a privilege 2\n"
                           "+ username c privilege 2\n+ !\n");
    free(d);
    /* a diff never carries a secret, not even its hash (IOS's archive log config hidekeys) */
    struct cfg *s = apply(a, "username z secret 0 Sup3rSecret\n", CFG_MERGE);
    d = cfg_diff(a, s);
    assert_null(strstr(d, "Sup3rSecret"));
    assert_string_equal(d, "+ username z secret 9 <hidden>\n");
    free(d);
    /* a new secret of the same user is a change: its line goes and comes back */
    struct cfg *s2 = apply(s, "username z secret 0 Other\nenable secret 0 En\n", CFG_MERGE);
    d = cfg_diff(s, s2);
    assert_string_equal(d, "+ enable secret 9 <hidden>\n- username z secret 9 <hidden>\n"
                           "+ username z secret 9 <hidden>\n");
    free(d);
    cfg_free(s2);
    cfg_free(a);
    cfg_free(b);
    cfg_free(s);
}

static void test_clone_equal_lookup(void **state)
{
    (void)state;
    char text[64 * 200];
    size_t o = 0;
    for (int i = 199; i >= 0; i--)
        o +=
            (size_t)snprintf(text + o, sizeof text - o, "username u%03d privilege %d\n", i, i % 16);
    struct cfg *c = apply(NULL, text, CFG_REPLACE);
    assert_int_equal(c->n_users, 200);
    for (size_t i = 1; i < c->n_users; i++)
        assert_true(strcmp(c->users[i - 1].name, c->users[i].name) < 0);
    assert_int_equal(cfg_user_find(c, "u123")->privilege, 123 % 16);
    assert_null(cfg_user_find(c, "u200"));
    assert_null(cfg_user_find(c, ""));
    struct cfg *d = cfg_clone(c);
    assert_true(cfg_equal(c, d));
    assert_true(d->users != c->users);
    d->users[5].privilege ^= 1;
    assert_false(cfg_equal(c, d));
    cfg_free(d);
    struct cfg *e = apply(c, "aaa authentication login default local\n"
                             "aaa authentication login B none\naaa authorization exec A local\n",
                          CFG_MERGE);
    assert_non_null(cfg_authn_find(e, "default"));
    assert_int_equal(cfg_authn_find(e, "B")->m[0].kind, CFG_M_NONE);
    assert_null(cfg_authn_find(e, "A"));
    assert_int_equal(cfg_authz_find(e, "A")->m[0].kind, CFG_M_LOCAL);
    assert_false(cfg_equal(c, e));
    assert_false(cfg_equal(c, NULL));
    assert_true(cfg_equal(NULL, NULL));
    cfg_free(c);
    cfg_free(e);
}

static void test_error_cap(void **state)
{
    (void)state;
    size_t cap = 150 * 32, o = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 150; i++)
        o += (size_t)snprintf(text + o, cap - o, "ip ssh time-out %d\n", 200 + i);
    struct cfg_errors errs;
    assert_null(cfg_apply_text(NULL, text, o, CFG_REPLACE, &errs));
    assert_int_equal(errs.n, LIM_CFG_ERRORS);
    assert_int_equal(errs.total, 150);
    char *f = cfg_errors_format(&errs);
    assert_non_null(strstr(f, "% 50 more errors not shown\n"));
    free(f);
    free(text);
}

/* A key-string is bounded by LIM_CFG_KEYSTRING_LEN characters of base64 over all its lines. */
static void test_keystring_limit(void **state)
{
    (void)state;
    size_t lines = LIM_CFG_KEYSTRING_LEN / 64 + 1, cap = lines * 70 + 200, o = 0;
    char *text = malloc(cap);
    o += (size_t)snprintf(text, cap, "ip ssh pubkey-chain\n username tiger\n  key-string\n");
    for (size_t i = 0; i < lines; i++) {
        memset(text + o, 'A', 64);
        o += 64;
        text[o++] = '\n';
    }
    o += (size_t)snprintf(text + o, cap - o, "  exit\n");
    struct cfg_errors errs;
    assert_null(cfg_apply_text(NULL, text, o, CFG_REPLACE, &errs));
    assert_int_equal(errs.total, 1);
    assert_int_equal(errs.e[0].line, (int)(3 + lines));   /* the line that goes over */
    char want[64];
    snprintf(want, sizeof(want), "at most %d characters", LIM_CFG_KEYSTRING_LEN);
    assert_non_null(strstr(errs.e[0].reason, want));
    free(text);
}

static void test_user_limit(void **state)
{
    (void)state;
    size_t n = LIM_CFG_USERS + 1, cap = n * 32, o = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, "username u%zu privilege 2\n", i);
    struct cfg_errors errs;
    assert_null(cfg_apply_text(NULL, text, o, CFG_REPLACE, &errs));
    assert_int_equal(errs.total, 1);
    assert_int_equal(errs.e[0].line, (int)n);
    assert_non_null(strstr(errs.e[0].reason, "too many users"));
    /* one fewer fits; deleting makes room again */
    o = 0;
    for (size_t i = 0; i < n - 1; i++)
        o += (size_t)snprintf(text + o, cap - o, "username u%zu privilege 2\n", i);
    o += (size_t)snprintf(text + o, cap - o, "no username u7\nusername extra privilege 2\n");
    struct cfg *c = cfg_apply_text(NULL, text, o, CFG_REPLACE, &errs);
    assert_non_null(c);
    assert_int_equal(c->n_users, LIM_CFG_USERS);
    assert_null(cfg_user_find(c, "u7"));
    assert_non_null(cfg_user_find(c, "extra"));
    cfg_free(c);
    free(text);
}

static void test_roundtrip_with_header_and_all(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "hostname R9\naaa new-model\naaa authentication login default group tacacs+ local\n"
             "username tiger privilege 15 secret 9 %s\nusername nopw privilege 1\n"
             "ip ssh time-out 5\nip ssh pubkey-chain\n username tiger\n"
             "  key-hash ssh-rsa 2AE2B4F52DFE7B6F5C43734862CB7DC9 a b  c\n"
             "login block-for 1 attempts 65535 within 65535\n",
             H9);
    struct cfg *c = apply(NULL, text, CFG_REPLACE);
    assert_string_equal(cfg_pkuser_find(c, "tiger")->keys[0].comment, "a b c");
    for (int h = 0; h < 2; h++)
        for (int a = 0; a < 2; a++) {
            struct cfg_render_opts o = {.header = h, .all = a, .last_change = h ? 1 : 0};
            char *r1 = cfg_render(c, &o, NULL);
            struct cfg *c2 = apply(NULL, r1, CFG_REPLACE);
            assert_true(cfg_equal(c, c2));
            char *r2 = cfg_render(c2, &o, NULL);
            assert_string_equal(r1, r2);
            free(r1);
            free(r2);
            cfg_free(c2);
        }
    cfg_free(c);
}

/* Issue 15: secrets hidden in every message; the same plaintext again keeps the stored hash. */
static void test_hide_and_same_secret(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"username x secret 9 NotAHash", "username x secret 9 <hidden>"},
        {"+ username key privilege 15 secret 9 $9$a$b",
         "+ username key privilege 15 secret 9 <hidden>"},
        {"- enable secret 5 $1$abcd$x", "- enable secret 5 <hidden>"},
        {" key 6 QUJDREVG", " key 6 <hidden>"},
        {"aaa authentication login key local", "aaa authentication login key local"},
        {"hostname password", "hostname password"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *h = cfg_hide(cases[i][0]);
        assert_string_equal(h, cases[i][1]);
        free(h);
    }
    char *h = cfg_hide("hostname R1\n+ username a password 0 pw words\n");
    assert_string_equal(h, "hostname R1\n+ username a password 0 <hidden>\n");
    free(h);
    /* every row of cfg_secrets names a command of the table, keyword by keyword */
    for (size_t r = 0; r < cfg_nsecrets; r++) {
        bool found = false;
        for (size_t k = 0; k < cfg_ncmds && !found; k++) {
            found = true;
            for (size_t w = 0; w < 4 && cfg_secrets[r].kw[w] && found; w++)
                found = cfg_cmds[k].kw[w] && strcmp(cfg_cmds[k].kw[w], cfg_secrets[r].kw[w]) == 0;
        }
        assert_true(found);
    }
    /* a mistyped secret word on a refused line: what follows is hidden */
    struct cfg_errors errs;
    const char *bad = "username x privilege 15 passwrd 0 Sup3rSecret\n";
    assert_null(cfg_apply_text(NULL, bad, strlen(bad), CFG_MERGE, &errs));
    assert_null(strstr(errs.e[0].text, "Sup3rSecret"));

    /* the same password again keeps the stored hash, in both modes; another one does not */
    struct cfg *a = apply(NULL, "username u privilege 2 password 0 pw1\nenable secret 0 en1\n",
                          CFG_REPLACE);
    const char *same = "username u privilege 2 secret 0 pw1\nenable secret en1\n";
    struct cfg *m = cfg_apply_text(a, same, strlen(same), CFG_MERGE, NULL);
    struct cfg *r = cfg_apply_text(a, same, strlen(same), CFG_REPLACE, NULL);
    assert_non_null(m);
    assert_non_null(r);
    assert_true(cfg_equal(a, m));
    assert_true(cfg_equal(a, r));
    const char *other = "username u password 0 pw2\n";
    struct cfg *o = cfg_apply_text(a, other, strlen(other), CFG_MERGE, NULL);
    assert_string_not_equal(cfg_user_find(o, "u")->secret, cfg_user_find(a, "u")->secret);
    assert_int_equal(secret_verify(9, cfg_user_find(o, "u")->secret, "pw2"), 1);
    cfg_free(a);
    cfg_free(m);
    cfg_free(r);
    cfg_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_header_byte_count),
        cmocka_unit_test(test_merge_and_replace),
        cmocka_unit_test(test_bad_file_changes_nothing),
        cmocka_unit_test(test_nul_and_control_bytes),
        cmocka_unit_test(test_plaintext_never_kept),
        cmocka_unit_test(test_pubkey_key_string),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_hide_and_same_secret),
        cmocka_unit_test(test_clone_equal_lookup),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_keystring_limit),
        cmocka_unit_test(test_keystring_padding),
        cmocka_unit_test(test_user_limit),
        cmocka_unit_test(test_roundtrip_with_header_and_all),
        cmocka_unit_test(test_term_modes_abbreviations_errors),
        cmocka_unit_test(test_term_enable_secret_and_keystring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

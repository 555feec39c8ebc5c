/* The configuration corpus as data (run from the repository root):
 *   tests/config/good/NAME.cfg  must apply (replace onto defaults) and render, without header,
 *                               exactly as NAME.out; the rendering must round-trip with and without
 *                               the header and in the "all" view.
 *   tests/config/bad/NAME.cfg   must be rejected; cfg_errors_format() must equal NAME.err.
 * In .out files the word "$9$*" stands for any well-formed type-9 hash, since plaintext passwords
 * are hashed with a random salt, and "$6$*" for any type-6 server key (encrypted with a random
 * nonce). Set CFG_CORPUS_SHOW=1 to print what a failing case produced. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/cfg.h"
#include "store/secret.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    for (size_t r; p != NULL && (r = fread(p + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap) {
            char *q = realloc(p, cap *= 2);
            if (q == NULL) {
                free(p);
                p = NULL;
            }
            p = q;
        }
    }
    fclose(f);
    if (p != NULL)
        p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

/* Compares a rendering with the expected text, "$9$*" matching one type-9 hash, "$6$*" one
 * type-6 key. */
static bool matches(const char *got, const char *want)
{
    while (*want) {
        if (strncmp(want, "$9$*", 4) == 0 || strncmp(want, "$6$*", 4) == 0) {
            size_t hl = strcspn(got, " \n");
            char h[240];
            if (hl >= sizeof h)
                return false;
            memcpy(h, got, hl);
            h[hl] = '\0';
            if (want[1] == '9' ? secret_check_format(9, h) != 0 : secret_check6(h) != 0)
                return false;
            got += hl;
            want += 4;
            continue;
        }
        if (*got++ != *want++)
            return false;
    }
    return *got == '\0';
}

static int list_cases(const char *dir, char names[][256], int max)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < max;) {
        size_t l = strlen(e->d_name);
        if (l > 4 && l < 250 && strcmp(e->d_name + l - 4, ".cfg") == 0) {
            snprintf(names[n], 256, "%.*s", (int)(l - 4), e->d_name);
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

static char names[512][256];

static void check_roundtrip(const char *name, const struct cfg *c, bool header, bool all)
{
    struct cfg_render_opts o = {
        .header = header, .all = all, .last_change = header ? 1795774502 : 0, .last_user = "tiger"};
    struct cfg_errors errs;
    size_t len;
    char *r1 = cfg_render(c, &o, &len);
    assert_non_null(r1);
    assert_int_equal(len, strlen(r1));
    struct cfg *c2 = cfg_apply_text(NULL, r1, len, CFG_REPLACE, &errs);
    if (c2 == NULL) {
        char *e = cfg_errors_format(&errs);
        fail_msg("%s: rendering (header=%d all=%d) does not parse:\n%s", name, header, all, e);
    }
    if (!cfg_equal(c, c2))
        fail_msg("%s: parse(render(c)) != c (header=%d all=%d)", name, header, all);
    char *r2 = cfg_render(c2, &o, NULL);
    assert_string_equal(r1, r2);
    free(r1);
    free(r2);
    cfg_free(c2);
}

static void test_good(void **state)
{
    (void)state;
    int n = list_cases("tests/config/good", names, 512);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        char path[600];
        size_t len;
        snprintf(path, sizeof path, "tests/config/good/%.255s.cfg", names[i]);
        char *text = slurp(path, &len);
        snprintf(path, sizeof path, "tests/config/good/%.255s.out", names[i]);
        char *want = slurp(path, NULL);
        if (text == NULL || want == NULL)
            fail_msg("%s: missing .cfg or .out", names[i]);
        struct cfg_errors errs;
        struct cfg *c = cfg_apply_text(NULL, text, len, CFG_REPLACE, &errs);
        if (c == NULL) {
            char *e = cfg_errors_format(&errs);
            fail_msg("%s: rejected:\n%s", names[i], e);
        }
        char *got = cfg_render(c, NULL, NULL);
        assert_non_null(got);
        if (!matches(got, want)) {
            if (getenv("CFG_CORPUS_SHOW"))
                fprintf(stderr, "---- %s got:\n%s", names[i], got);
            fail_msg("%s: rendering differs from %s.out", names[i], names[i]);
        }
        check_roundtrip(names[i], c, false, false);
        check_roundtrip(names[i], c, true, false);
        check_roundtrip(names[i], c, false, true);
        check_roundtrip(names[i], c, true, true);
        free(got);
        free(text);
        free(want);
        cfg_free(c);
    }
    print_message("%d good configurations\n", n);
}

static void test_bad(void **state)
{
    (void)state;
    int n = list_cases("tests/config/bad", names, 512), lines = 0;
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        char path[600];
        size_t len;
        snprintf(path, sizeof path, "tests/config/bad/%.255s.cfg", names[i]);
        char *text = slurp(path, &len);
        snprintf(path, sizeof path, "tests/config/bad/%.255s.err", names[i]);
        char *want = slurp(path, NULL);
        if (text == NULL || want == NULL)
            fail_msg("%s: missing .cfg or .err", names[i]);
        struct cfg_errors errs;
        struct cfg *base = cfg_new_default();
        struct cfg *c = cfg_apply_text(base, text, len, CFG_MERGE, &errs);
        if (c != NULL)
            fail_msg("%s: accepted", names[i]);
        char *got = cfg_errors_format(&errs);
        assert_non_null(got);
        if (strcmp(got, want) != 0) {
            if (getenv("CFG_CORPUS_SHOW"))
                fprintf(stderr, "---- %s got:\n%s", names[i], got);
            fail_msg("%s: errors differ from %s.err", names[i], names[i]);
        }
        lines += errs.total;
        free(got);
        free(text);
        free(want);
        cfg_free(base);
    }
    print_message("%d bad files, %d bad lines\n", n, lines);
    assert_true(lines >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Fuzz target of the configuration parser: any bytes through cfg_apply_text (replace onto the
 * defaults and merge onto a populated base). Accepted text must round-trip: parse(render(c)) == c
 * and render is stable; rejected text must leave the base unchanged and format its errors. The
 * same bytes then go line by line through cfg_term_line (configuration mode at a terminal); the
 * config they end with round-trips. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cfg *base_cfg(void)
{
    static const char base[] =
        "hostname R1\naaa new-model\naaa authentication login default local\n"
        "username tiger privilege 15 secret 9 "
        "$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6\n"
        "ip ssh pubkey-chain\n username tiger\n  key-hash ssh-rsa "
        "2AE2B4F52DFE7B6F5C43734862CB7DC9\n"
        "ip scp server enable\n";
    return cfg_apply_text(NULL, base, sizeof base - 1, CFG_REPLACE, NULL);
}

static void check_roundtrip(const struct cfg *c)
{
    struct cfg_render_opts o = {.header = true};
    size_t len;
    char *r1 = cfg_render(c, &o, &len);
    if (r1 == NULL)
        abort();
    struct cfg *c2 = cfg_apply_text(NULL, r1, len, CFG_REPLACE, NULL);
    if (c2 == NULL || !cfg_equal(c, c2))
        abort();
    char *r2 = cfg_render(c2, &o, NULL);
    if (r2 == NULL || strcmp(r1, r2) != 0)
        abort();
    free(r1);
    free(r2);
    cfg_free(c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cfg_errors errs;
    const char *text = (const char *)data;
    struct cfg *c = cfg_apply_text(NULL, text, size, CFG_REPLACE, &errs);
    if (c != NULL) {
        check_roundtrip(c);
        cfg_free(c);
    } else {
        free(cfg_errors_format(&errs));
    }
    struct cfg *base = base_cfg(), *copy = cfg_clone(base);
    c = cfg_apply_text(base, text, size, CFG_MERGE, &errs);
    if (!cfg_equal(base, copy))
        abort();
    if (c != NULL) {
        char *d = cfg_diff(base, c);
        if (d == NULL)
            abort();
        free(d);
        cfg_free(c);
    }
    /* the same bytes typed line by line in configuration mode: the config the accepted lines
     * make round-trips; the base is never touched */
    struct cfg_term *t = cfg_term_new();
    struct cfg *cur = cfg_clone(base);
    bool changed = false;
    for (size_t pos = 0; t != NULL && cur != NULL && pos < size;) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : size - pos;
        struct cfg *next = NULL;
        struct cfg_error e;
        enum cfg_term_res r = cfg_term_line(t, cur, text + pos, n, &next, &e);
        if (r != CFG_TERM_OK && next != NULL)
            abort();
        if (next != NULL) {
            changed = true;
            cfg_free(cur);
            cur = next;
        }
        if (r == CFG_TERM_EXIT)
            cfg_term_reset(t);
        pos += n + (nl ? 1 : 0);
    }
    /* once, on the last config: a round trip per line made the target quadratic in the lines of
     * an input (a state in the middle is the last one of a shorter input) */
    if (changed && cur != NULL)
        check_roundtrip(cur);
    if (!cfg_equal(base, copy))
        abort();
    cfg_free(cur);
    cfg_term_free(t);
    cfg_free(base);
    cfg_free(copy);
    return 0;
}

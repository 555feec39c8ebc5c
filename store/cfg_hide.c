/* cfg_hide: config text with its secrets hidden, for every message that carries config text
 * (errors, logs, the transfer history, event streams, audit diffs, API and NETCONF answers).
 * As IOS's `archive log config hidekeys`, the value after a secret-bearing word is shown as
 * "<hidden>", the type digit kept: `username x secret 9 <hidden>`, ` key 6 <hidden>`.
 * A hash is hidden as well as a plaintext: a hash is what an offline guesser needs.
 *
 * Which words carry a secret is the command table's knowledge (cfg_cmds.c, cfg_secrets: the secret
 * words of a row and where its arguments start, so `username key secret 9 ...` hides the hash, not
 * the name).
 * A line that no row knows (a refused line, a typo) is hidden from the first word that is a secret
 * word of any row: there the aim is never to echo, not to be exact. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/cfg_int.h"

#define HIDDEN "<hidden>"

struct word {
    size_t at, len;
};

/* The next word of s[0..n) at or after *i; false at the end. */
static bool next_word(const char *s, size_t n, size_t *i, struct word *w)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
    if (*i >= n)
        return false;
    w->at = *i;
    while (*i < n && s[*i] != ' ' && s[*i] != '\t')
        (*i)++;
    w->len = *i - w->at;
    return true;
}

/* The word abbreviates kw (case-insensitive; a whole word matches too): keywords may be
 * abbreviated at a terminal. */
static bool abbrev(const char *s, const struct word *w, const char *kw)
{
    return w->len > 0 && w->len <= strlen(kw) && strncasecmp(s + w->at, kw, w->len) == 0;
}

static bool exact(const char *s, const struct word *w, const char *kw)
{
    return w->len == strlen(kw) && strncasecmp(s + w->at, kw, w->len) == 0;
}

static bool is_type(const char *s, const struct word *w)
{
    return w->len == 1 && s[w->at] >= '0' && s[w->at] <= '9';
}

/* Where the value after the secret word ending at *i starts: after its type digit when one is
 * given and a value follows it. SIZE_MAX when nothing follows the word. */
static size_t value_at(const char *s, size_t n, size_t i)
{
    struct word v, v2;
    if (!next_word(s, n, &i, &v))
        return SIZE_MAX;
    size_t j = i;
    if (is_type(s, &v) && next_word(s, n, &j, &v2))
        return v2.at;
    return v.at;
}

/* The row with secrets whose keywords the line starts with (after `no`), the offset of the word
 * its secret words are looked for from and the end of its keywords; NULL if none. */
static const struct cfg_secret *secret_row(const char *s, size_t n, size_t *from, size_t *args)
{
    size_t i0 = 0;
    struct word w;
    if (!next_word(s, n, &i0, &w))
        return NULL;
    if (!exact(s, &w, "no"))
        i0 = w.at;
    for (size_t r = 0; r < cfg_nsecrets; r++) {
        const struct cfg_secret *c = &cfg_secrets[r];
        size_t i = i0;
        int k = 0;
        for (; k < 4 && c->kw[k] != NULL; k++)
            if (!next_word(s, n, &i, &w) || !abbrev(s, &w, c->kw[k]))
                break;
        if (k < 4 && c->kw[k] != NULL)
            continue;
        *args = i;
        /* the words before the row's secret_at-th word (keywords and a name) are skipped */
        i = i0;
        for (int m = 0; m < c->at; m++)
            next_word(s, n, &i, &w);
        *from = i;
        return c;
    }
    return NULL;
}

/* A secret word of the row: abbreviated at a terminal (typed), whole words otherwise. */
static bool row_secret(const struct cfg_secret *c, const char *s, const struct word *w, bool typed)
{
    for (int k = 0; k < 2 && c->words[k] != NULL; k++)
        if (typed ? abbrev(s, w, c->words[k]) : exact(s, w, c->words[k]))
            return true;
    return false;
}

/* A secret word of row, or with row NULL a whole secret word of any row. */
static bool secret_word(const struct cfg_secret *row, const char *s, const struct word *w,
                        bool typed)
{
    if (row != NULL)
        return row_secret(row, s, w, typed);
    for (size_t r = 0; r < cfg_nsecrets; r++)
        if (row_secret(&cfg_secrets[r], s, w, false))
            return true;
    return false;
}

/* The first value after a secret word of row (any row: NULL) from offset i, or SIZE_MAX. */
static size_t scan(const struct cfg_secret *row, const char *s, size_t n, size_t i, bool typed)
{
    struct word w;
    while (next_word(s, n, &i, &w)) {
        if (!secret_word(row, s, &w, typed))
            continue;
        size_t v = value_at(s, n, i);
        if (v != SIZE_MAX)
            return v;
    }
    return SIZE_MAX;
}

bool cfg_secret_word(const char *word)
{
    struct word w = {0, strlen(word)};
    for (size_t r = 0; r < cfg_nsecrets; r++)
        if (row_secret(&cfg_secrets[r], word, &w, false))
            return true;
    return false;
}

/* Offset in s[0..n) from which a config line's secret value runs (to the end of the line), or
 * SIZE_MAX (n for none also). err_col > 0: a line as typed and refused with the marker there (its
 * words may be abbreviated or unknown: hidden more eagerly); 0: a rendered line. */
static size_t cfg_hide_at(const char *s, size_t n, int err_col)
{
    size_t from = 0, args = 0, at;
    bool typed = err_col > 0;
    const struct cfg_secret *row = secret_row(s, n, &from, &args);
    at = row ? scan(row, s, n, from, typed) : SIZE_MAX;
    if (!typed)
        return at;
    /* a refused line: the word at the marker may be a mistyped secret word (`passwrd 0 X`), so
     * what follows it is hidden as a value; and a line no row knows may still hold one */
    size_t mark = (size_t)err_col - 1;
    struct word w;
    if (at == SIZE_MAX && row != NULL && mark >= from && mark >= args && mark < n &&
        next_word(s, n, &mark, &w))
        at = value_at(s, n, mark);
    if (at == SIZE_MAX)
        at = scan(NULL, s, n, 0, true);
    return at;
}

void cfg_hide_add(struct cfg_buf *b, const char *s, size_t n)
{
    size_t at = cfg_hide_at(s, n, 0);
    if (at >= n) {
        cfg_buf_add(b, s, n);
        return;
    }
    cfg_buf_add(b, s, at);
    cfg_buf_puts(b, HIDDEN);
}

void cfg_hide_typed(const char *raw, char *out, size_t cap, int *col)
{
    size_t n = strlen(raw), at = cfg_hide_at(raw, n, *col < 1 ? 1 : *col);
    size_t keep = at < n ? at : n;
    if (keep > cap - 1)
        keep = cap - 1;
    for (size_t i = 0; i < keep; i++) {
        unsigned char ch = (unsigned char)raw[i];
        out[i] = ch == '\t' ? ' ' : (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
    }
    out[keep] = '\0';
    if (at < n) {
        snprintf(out + keep, cap - keep, "%s", HIDDEN);
        if (*col > (int)at + 1)
            *col = (int)at + 1;
    }
}

char *cfg_hide(const char *text)
{
    struct cfg_buf b = {0};
    cfg_buf_puts(&b, "");
    for (const char *p = text ? text : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        /* a diff's "+ " / "- " is not a word of the line */
        size_t mark = len >= 2 && (p[0] == '+' || p[0] == '-') && p[1] == ' ' ? 2 : 0;
        cfg_buf_add(&b, p, mark);
        cfg_hide_add(&b, p + mark, len - mark);
        if (nl)
            cfg_buf_add(&b, "\n", 1);
        p += len + (nl != NULL);
    }
    return cfg_buf_take(&b, NULL);
}

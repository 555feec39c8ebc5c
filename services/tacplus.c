/* tacplus: TACACS+ packets (RFC 8907), client side, bytes in and fields out.
 *
 * Every packet is a 12-byte header (section 4.1) and a body whose layout depends on the type and
 * direction. Bodies travel obfuscated (section 4.5): XORed with a pad made of MD5 blocks,
 *     MD5_1 = MD5(session_id, key, version, seq_no), MD5_n = MD5(session_id, key, version, seq_no,
 *     MD5_n-1),
 * so the same function obfuscates and de-obfuscates. There is no integrity check in the protocol:
 * a wrong key shows only as a body whose inner lengths do not add up, which the parsers report as
 * TACPLUS_E_KEY so the log can say "wrong shared key?" rather than "malformed".
 *
 * Builders write into the caller's buffer through a small cursor (tp_w) that records overflow
 * once; parsers read through a cursor (tp_r) whose getters fail on the spot. */
#include "services/tacplus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

const char *tacplus_rc_str(int rc)
{
    switch (rc) {
    case TACPLUS_OK:
        return "ok";
    case TACPLUS_E_SHORT:
        return "truncated packet";
    case TACPLUS_E_BAD:
        return "malformed packet";
    case TACPLUS_E_KEY:
        return "reply does not decode (wrong shared key?)";
    }
    return "error";
}

/* ---- header and obfuscation ------------------------------------------------------------------ */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int tacplus_hdr_parse(const uint8_t *b, size_t n, struct tacplus_hdr *h)
{
    if (n < TACPLUS_HDR_LEN)
        return TACPLUS_E_SHORT;
    h->version = b[0];
    h->type = b[1];
    h->seq = b[2];
    h->flags = b[3];
    h->session_id = get32(b + 4);
    h->length = get32(b + 8);
    if ((h->version >> 4) != TACPLUS_MAJOR || h->type < TACPLUS_AUTHEN || h->type > TACPLUS_ACCT ||
        h->length > TACPLUS_MAX_BODY)
        return TACPLUS_E_BAD;
    return TACPLUS_OK;
}

void tacplus_crypt(uint8_t *body, const struct tacplus_hdr *h, const char *key, size_t keylen)
{
    uint8_t sid[4], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 16;
    if (keylen == 0 || h->length == 0)
        return;
    put32(sid, h->session_id);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return;
    for (size_t off = 0; off < h->length; off += 16) {
        EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
        EVP_DigestUpdate(ctx, sid, 4);
        EVP_DigestUpdate(ctx, key, keylen);
        EVP_DigestUpdate(ctx, &h->version, 1);
        EVP_DigestUpdate(ctx, &h->seq, 1);
        if (off > 0)
            EVP_DigestUpdate(ctx, md, 16);
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        for (size_t i = 0; i < 16 && off + i < h->length; i++)
            body[off + i] ^= md[i];
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(md, sizeof md);
}

/* ---- building -------------------------------------------------------------------------------- */

struct tp_w {
    uint8_t *p;
    size_t cap, len;
    bool over;
};

static void w_byte(struct tp_w *w, uint8_t b)
{
    if (w->len + 1 > w->cap) {
        w->over = true;
        return;
    }
    w->p[w->len++] = b;
}

static void w_u16(struct tp_w *w, size_t v)
{
    if (v > 0xffff)
        w->over = true;
    w_byte(w, (uint8_t)(v >> 8));
    w_byte(w, (uint8_t)v);
}

static void w_len8(struct tp_w *w, size_t v)
{
    if (v > 0xff)
        w->over = true;
    w_byte(w, (uint8_t)v);
}

static void w_bytes(struct tp_w *w, const void *s, size_t n)
{
    if (n > w->cap - w->len) {
        w->over = true;
        return;
    }
    if (n > 0)
        memcpy(w->p + w->len, s, n);
    w->len += n;
}

static size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

/* Starts a packet: the header with length 0 (filled by w_finish). */
static void w_header(struct tp_w *w, uint8_t minor, uint8_t type, uint8_t seq, uint8_t flags,
                     uint32_t sid)
{
    uint8_t h[TACPLUS_HDR_LEN] = {(uint8_t)(TACPLUS_MAJOR << 4 | minor), type, seq, flags};
    put32(h + 4, sid);
    w_bytes(w, h, sizeof h);
}

/* Sets the body length, obfuscates the body; the packet's length or -1. */
static int w_finish(struct tp_w *w, const char *key)
{
    if (w->over || w->len < TACPLUS_HDR_LEN || w->len > (size_t)TACPLUS_MAX_BODY + TACPLUS_HDR_LEN)
        return -1;
    struct tacplus_hdr h;
    put32(w->p + 8, (uint32_t)(w->len - TACPLUS_HDR_LEN));
    if (tacplus_hdr_parse(w->p, w->len, &h) != TACPLUS_OK)
        return -1;
    if (!(h.flags & TACPLUS_FLAG_UNENCRYPTED))
        tacplus_crypt(w->p + TACPLUS_HDR_LEN, &h, key, slen(key));
    return (int)w->len;
}

static void w_who_lens(struct tp_w *w, const struct tacplus_who *who)
{
    w_len8(w, slen(who->user));
    w_len8(w, slen(who->port));
    w_len8(w, slen(who->rem_addr));
}

static void w_who(struct tp_w *w, const struct tacplus_who *who)
{
    w_bytes(w, who->user, slen(who->user));
    w_bytes(w, who->port, slen(who->port));
    w_bytes(w, who->rem_addr, slen(who->rem_addr));
}

int tacplus_authen_start(uint8_t *out, size_t cap, uint32_t sid, uint8_t flags,
                         const char *key, uint8_t authen_type, const struct tacplus_who *who,
                         const uint8_t *data, size_t data_len)
{
    struct tp_w w = {out, cap, 0, false};
    /* PAP carries the password in data and needs minor version 1 (section 5.4.2.2) */
    uint8_t minor = authen_type == TACPLUS_AUTHEN_TYPE_ASCII ? TACPLUS_MINOR_DEFAULT
                                                             : TACPLUS_MINOR_ONE;
    w_header(&w, minor, TACPLUS_AUTHEN, 1, flags, sid);
    w_byte(&w, TACPLUS_AUTHEN_LOGIN);
    w_byte(&w, who->priv_lvl);
    w_byte(&w, authen_type);
    w_byte(&w, TACPLUS_AUTHEN_SVC_LOGIN);
    w_who_lens(&w, who);
    w_len8(&w, data_len);
    w_who(&w, who);
    w_bytes(&w, data, data_len);
    return w_finish(&w, key);
}

int tacplus_authen_continue(uint8_t *out, size_t cap, uint32_t sid, uint8_t seq, uint8_t flags,
                            const char *key, const char *user_msg, size_t msg_len, bool abort)
{
    struct tp_w w = {out, cap, 0, false};
    w_header(&w, TACPLUS_MINOR_DEFAULT, TACPLUS_AUTHEN, seq, flags, sid);
    w_u16(&w, msg_len);
    w_u16(&w, 0);
    w_byte(&w, abort ? TACPLUS_CONTINUE_ABORT : 0);
    w_bytes(&w, user_msg, msg_len);
    return w_finish(&w, key);
}

static void w_args(struct tp_w *w, const char *const *args, int nargs)
{
    for (int i = 0; i < nargs; i++)
        w_bytes(w, args[i], slen(args[i]));
}

int tacplus_author_request(uint8_t *out, size_t cap, uint32_t sid, uint8_t flags,
                           const char *key, const struct tacplus_who *who,
                           const char *const *args, int nargs)
{
    struct tp_w w = {out, cap, 0, false};
    if (nargs < 0 || nargs > TACPLUS_MAX_ARGS)
        return -1;
    w_header(&w, TACPLUS_MINOR_DEFAULT, TACPLUS_AUTHOR, 1, flags, sid);
    w_byte(&w, TACPLUS_AUTHEN_METH_TACACSPLUS);
    w_byte(&w, who->priv_lvl);
    w_byte(&w, TACPLUS_AUTHEN_TYPE_ASCII);
    w_byte(&w, TACPLUS_AUTHEN_SVC_LOGIN);
    w_who_lens(&w, who);
    w_byte(&w, (uint8_t)nargs);
    for (int i = 0; i < nargs; i++)
        w_len8(&w, slen(args[i]));
    w_who(&w, who);
    w_args(&w, args, nargs);
    return w_finish(&w, key);
}

int tacplus_acct_request(uint8_t *out, size_t cap, uint32_t sid, uint8_t flags, const char *key,
                         uint8_t acct_flags, const struct tacplus_who *who,
                         const char *const *args, int nargs)
{
    struct tp_w w = {out, cap, 0, false};
    if (nargs < 0 || nargs > TACPLUS_MAX_ARGS)
        return -1;
    w_header(&w, TACPLUS_MINOR_DEFAULT, TACPLUS_ACCT, 1, flags, sid);
    w_byte(&w, acct_flags);
    w_byte(&w, TACPLUS_AUTHEN_METH_TACACSPLUS);
    w_byte(&w, who->priv_lvl);
    w_byte(&w, TACPLUS_AUTHEN_TYPE_ASCII);
    w_byte(&w, TACPLUS_AUTHEN_SVC_LOGIN);
    w_who_lens(&w, who);
    w_byte(&w, (uint8_t)nargs);
    for (int i = 0; i < nargs; i++)
        w_len8(&w, slen(args[i]));
    w_who(&w, who);
    w_args(&w, args, nargs);
    return w_finish(&w, key);
}

/* ---- parsing --------------------------------------------------------------------------------- */

struct tp_r {
    const uint8_t *p;
    size_t len, off;
    bool bad;
};

static uint8_t r_byte(struct tp_r *r)
{
    if (r->off + 1 > r->len) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

static size_t r_u16(struct tp_r *r)
{
    size_t hi = r_byte(r);
    return hi << 8 | r_byte(r);
}

/* n bytes as a NUL-terminated string into out (truncated to cap - 1); control characters become
 * '?' so a server message can go to a log or a terminal as it is. */
static void r_str(struct tp_r *r, size_t n, char *out, size_t cap)
{
    if (n > r->len - r->off || r->off > r->len) {
        r->bad = true;
        out[0] = '\0';
        return;
    }
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) {
        uint8_t c = r->p[r->off + i];
        out[i] = (c < 0x20 && c != '\n') || c == 0x7f ? '?' : (char)c;
    }
    out[k] = '\0';
    r->off += n;
}

/* Checks the header of a reply of type for the session and de-obfuscates its body into *buf
 * (malloc'ed; reply_free). The body's length or a tacplus_rc. */
static int reply_open(const uint8_t *pkt, size_t n, const char *key, uint8_t type, uint32_t sid,
                      uint8_t req_seq, uint8_t **bufp)
{
    *bufp = NULL;
    struct tacplus_hdr h;
    int rc = tacplus_hdr_parse(pkt, n, &h);
    if (rc != TACPLUS_OK)
        return rc;
    if (n < TACPLUS_HDR_LEN + (size_t)h.length)
        return TACPLUS_E_SHORT;
    if (n != TACPLUS_HDR_LEN + (size_t)h.length || h.type != type || h.session_id != sid ||
        h.seq != (uint8_t)(req_seq + 1))
        return TACPLUS_E_BAD;
    uint8_t *buf = malloc(h.length + 1);
    if (buf == NULL)
        return TACPLUS_E_BAD;
    *bufp = buf;
    memcpy(buf, pkt + TACPLUS_HDR_LEN, h.length);
    /* an unobfuscated reply to an obfuscated session is refused (section 4.5: the flag is for
     * tests only; accepting it would let anyone on the path forge a PASS) */
    if ((h.flags & TACPLUS_FLAG_UNENCRYPTED) && key != NULL && key[0] != '\0')
        return TACPLUS_E_KEY;
    if (!(h.flags & TACPLUS_FLAG_UNENCRYPTED))
        tacplus_crypt(buf, &h, key, slen(key));
    return (int)h.length;
}

/* The body must be read exactly: a wrong key almost never yields lengths that add up. Frees the
 * body (cleansed: it may hold a server's prompt data). */
static int reply_close(struct tp_r *r, uint8_t *buf)
{
    int rc = r->bad || r->off != r->len ? TACPLUS_E_KEY : TACPLUS_OK;
    OPENSSL_cleanse(buf, r->len);
    free(buf);
    return rc;
}

int tacplus_authen_reply_parse(const uint8_t *pkt, size_t n, const char *key, uint32_t sid,
                               uint8_t req_seq, struct tacplus_authen_reply *out)
{
    uint8_t *buf;
    memset(out, 0, sizeof *out);
    int bl = reply_open(pkt, n, key, TACPLUS_AUTHEN, sid, req_seq, &buf);
    if (bl < 0) {
        free(buf);
        return bl;
    }
    struct tp_r r = {buf, (size_t)bl, 0, false};
    out->status = r_byte(&r);
    out->flags = r_byte(&r);
    size_t ml = r_u16(&r), dl = r_u16(&r);
    r_str(&r, ml, out->server_msg, sizeof out->server_msg);
    r_str(&r, dl, out->data, sizeof out->data);
    int rc = reply_close(&r, buf);
    if (rc == TACPLUS_OK && (out->status == 0 || (out->status > TACPLUS_AUTHEN_ERROR &&
                                                  out->status != TACPLUS_AUTHEN_FOLLOW)))
        rc = TACPLUS_E_KEY;
    return rc;
}

int tacplus_author_reply_parse(const uint8_t *pkt, size_t n, const char *key, uint32_t sid,
                               uint8_t req_seq, struct tacplus_author_reply *out)
{
    uint8_t *buf;
    memset(out, 0, sizeof *out);
    int bl = reply_open(pkt, n, key, TACPLUS_AUTHOR, sid, req_seq, &buf);
    if (bl < 0) {
        free(buf);
        return bl;
    }
    struct tp_r r = {buf, (size_t)bl, 0, false};
    out->status = r_byte(&r);
    size_t nargs = r_byte(&r);
    size_t ml = r_u16(&r), dl = r_u16(&r);
    uint8_t alen[255];
    for (size_t i = 0; i < nargs; i++)
        alen[i] = r_byte(&r);
    r_str(&r, ml, out->server_msg, sizeof out->server_msg);
    char skip[2];
    r_str(&r, dl, skip, sizeof skip);
    for (size_t i = 0; i < nargs && !r.bad; i++) {
        if (out->nargs < TACPLUS_MAX_ARGS)
            r_str(&r, alen[i], out->args[out->nargs++], sizeof out->args[0]);
        else
            r_str(&r, alen[i], skip, sizeof skip);
    }
    int rc = reply_close(&r, buf);
    if (rc == TACPLUS_OK && out->status != TACPLUS_AUTHOR_PASS_ADD &&
        out->status != TACPLUS_AUTHOR_PASS_REPL && out->status != TACPLUS_AUTHOR_FAIL &&
        out->status != TACPLUS_AUTHOR_ERROR && out->status != TACPLUS_AUTHOR_FOLLOW)
        rc = TACPLUS_E_KEY;
    return rc;
}

int tacplus_acct_reply_parse(const uint8_t *pkt, size_t n, const char *key, uint32_t sid,
                             uint8_t req_seq, struct tacplus_acct_reply *out)
{
    uint8_t *buf;
    memset(out, 0, sizeof *out);
    int bl = reply_open(pkt, n, key, TACPLUS_ACCT, sid, req_seq, &buf);
    if (bl < 0) {
        free(buf);
        return bl;
    }
    struct tp_r r = {buf, (size_t)bl, 0, false};
    size_t ml = r_u16(&r), dl = r_u16(&r);
    out->status = r_byte(&r);
    r_str(&r, ml, out->server_msg, sizeof out->server_msg);
    char skip[2];
    r_str(&r, dl, skip, sizeof skip);
    int rc = reply_close(&r, buf);
    if (rc == TACPLUS_OK && out->status != TACPLUS_ACCT_SUCCESS &&
        out->status != TACPLUS_ACCT_ERROR && out->status != 0x21)
        rc = TACPLUS_E_KEY;
    return rc;
}

const char *tacplus_arg_value(const struct tacplus_author_reply *r, const char *name)
{
    size_t nl = strlen(name);
    for (int i = 0; i < r->nargs; i++)
        if (strncmp(r->args[i], name, nl) == 0 &&
            (r->args[i][nl] == '=' || r->args[i][nl] == '*'))
            return r->args[i] + nl + 1;
    return NULL;
}

/* log: formats one event per line into a stack buffer and writes it with one write(2), so lines
 * from concurrent threads never interleave. Control characters (C0, DEL, C1) and invalid UTF-8 are
 * escaped. Each line also goes into the `logging buffered` ring (a byte ring under a mutex, held
 * for one memcpy). */
#include "base/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/scpd_err.h"
#include "base/utf8.h"

static enum log_level log_level_min = LOG_LVL_INFO;

/* The `logging buffered` ring: the byte ring holds whole lines, except that the oldest one may
 * have been cut by a wrap (a dump starts after the first line end then). */
static struct {
    pthread_mutex_t mu;
    char *buf;
    size_t cap, head, len;     /* head: where the oldest byte is */
    uint64_t logged, dropped;
    bool cut;                  /* the oldest line lost its beginning */
} log_ring = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void log_ring_put(const char *line, size_t n)
{
    pthread_mutex_lock(&log_ring.mu);
    if (log_ring.cap > 0) {
        if (n > log_ring.cap) {
            line += n - log_ring.cap;
            n = log_ring.cap;
        }
        size_t tail = (log_ring.head + log_ring.len) % log_ring.cap;
        size_t first = n < log_ring.cap - tail ? n : log_ring.cap - tail;
        memcpy(log_ring.buf + tail, line, first);
        memcpy(log_ring.buf, line + first, n - first);
        if (log_ring.len + n > log_ring.cap) {
            size_t over = log_ring.len + n - log_ring.cap;
            log_ring.head = (log_ring.head + over) % log_ring.cap;
            log_ring.len = log_ring.cap;
            log_ring.cut = true;
            log_ring.dropped++;   /* at least one line: an estimate, as IOS's counter */
        } else {
            log_ring.len += n;
        }
        log_ring.logged++;
    }
    pthread_mutex_unlock(&log_ring.mu);
}

void log_buffer_size(size_t bytes)
{
    pthread_mutex_lock(&log_ring.mu);
    if (bytes != log_ring.cap) {
        char *nb = bytes ? malloc(bytes) : NULL;
        size_t keep = 0;
        if (nb || bytes == 0) {
            keep = log_ring.len < bytes ? log_ring.len : bytes;   /* the newest bytes */
            for (size_t i = 0; i < keep; i++)
                nb[i] = log_ring.buf[(log_ring.head + log_ring.len - keep + i) % log_ring.cap];
            if (keep < log_ring.len)
                log_ring.cut = true;
            free(log_ring.buf);
            log_ring.buf = nb;
            log_ring.cap = bytes;
            log_ring.head = 0;
            log_ring.len = keep;
        }
    }
    pthread_mutex_unlock(&log_ring.mu);
}

char *log_buffer_dump(size_t *len, size_t *size, uint64_t *logged, uint64_t *dropped)
{
    pthread_mutex_lock(&log_ring.mu);
    char *out = log_ring.cap ? malloc(log_ring.len + 1) : NULL;
    size_t n = 0;
    if (out) {
        for (size_t i = 0; i < log_ring.len; i++)
            out[i] = log_ring.buf[(log_ring.head + i) % log_ring.cap];
        n = log_ring.len;
        if (log_ring.cut) {   /* drop the partial oldest line */
            char *nl = memchr(out, '\n', n);
            size_t skip = nl ? (size_t)(nl - out) + 1 : n;
            memmove(out, out + skip, n - skip);
            n -= skip;
        }
        out[n] = '\0';
    }
    *len = n;
    *size = log_ring.cap;
    *logged = log_ring.logged;
    *dropped = log_ring.dropped;
    pthread_mutex_unlock(&log_ring.mu);
    return out;
}

void log_buffer_clear(void)
{
    pthread_mutex_lock(&log_ring.mu);
    log_ring.head = log_ring.len = 0;
    log_ring.logged = log_ring.dropped = 0;
    log_ring.cut = false;
    pthread_mutex_unlock(&log_ring.mu);
}

static const char *const log_names[] = {"debug", "info", "notice", "warn", "error"};

void log_set_level(enum log_level lvl) { log_level_min = lvl; }

int log_parse_level(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
        if (strcasecmp(name, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "err") == 0 || strcasecmp(name, "warning") == 0) {
        *out = name[0] == 'e' ? LOG_LVL_ERR : LOG_LVL_WARN;
        return 0;
    }
    return -1;
}

/* Appends s to buf at *pos with what a peer could use to forge or hide lines escaped: C0 controls,
 * DEL and every byte that is not valid UTF-8 become \xHH, the C1 controls U+0080..U+009F (which
 * some terminals obey, e.g. U+009B as CSI) become \u00HH, and a backslash becomes \x5c, so an
 * escape in a line was always made here. An escape is written whole or not at all, and one byte
 * is always left for the line's newline. */
static void log_put(char *buf, size_t cap, size_t *pos, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        char esc[8];
        size_t n = utf8_len(s), elen = 0;
        if (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f)
            elen = (size_t)snprintf(esc, sizeof(esc), "\\u00%02x", s[1]);
        else if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f || *s == '\\')))
            elen = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *s);
        const char *out = elen ? esc : (const char *)s;
        size_t olen = elen ? elen : n;
        if (*pos + olen + 2 > cap)   /* room for the line's '\n' and a '\0' */
            break;
        memcpy(buf + *pos, out, olen);
        *pos += olen;
        s += n ? n : 1;
    }
    buf[*pos] = '\0';
}

void log_msg(enum log_level lvl, const struct log_ctx *ctx, const char *fmt, ...)
{
    if (lvl < log_level_min)
        return;
    char line[2048], msg[1536], tmp[128];
    size_t pos = 0;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, log_names[lvl]);
    pos = n > 0 ? (size_t)n : 0;
    if (ctx && (ctx->sid || ctx->user || ctx->peer)) {
        log_put(line, sizeof(line), &pos, "[");
        if (ctx->sid) {
            snprintf(tmp, sizeof(tmp), "sid=%llu", (unsigned long long)ctx->sid);
            log_put(line, sizeof(line), &pos, tmp);
        }
        if (ctx->user) {
            log_put(line, sizeof(line), &pos, ctx->sid ? " user=" : "user=");
            log_put(line, sizeof(line), &pos, ctx->user);
        }
        if (ctx->peer) {
            log_put(line, sizeof(line), &pos, (ctx->sid || ctx->user) ? " peer=" : "peer=");
            log_put(line, sizeof(line), &pos, ctx->peer);
        }
        log_put(line, sizeof(line), &pos, "] ");
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_put(line, sizeof(line), &pos, msg);
    line[pos++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, pos);
    (void)w;
    log_ring_put(line, pos);
}

int scpd_err_set(struct scpd_err *err, enum scpd_errcode code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

void scpd_err_clear(struct scpd_err *err)
{
    if (err) {
        err->code = SCPD_E_OK;
        err->msg[0] = '\0';
    }
}

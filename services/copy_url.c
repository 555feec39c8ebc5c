/* copy_url: the URLs of device-initiated copies (see copy.h), parsed without any I/O so that the
 * unit tests and the fuzzer (tests/fuzz/fuzz_copy_url.c) reach every branch. The rules are
 * IOS's URL form plus what a remote path must not carry here: no ".." component, no NUL or
 * control character (they would reach the remote's shell through `scp -f PATH`, quoted, and its
 * log), nothing longer than its limit. Host names are RFC 1123 names or IPv4 addresses; IPv6
 * literals ("[::1]") are refused by name, since the pubkey-chain has no form for them. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "services/copy.h"

bool copy_is_url(const char *s)
{
    return strncasecmp(s, "scp:", 4) == 0 || strncasecmp(s, "sftp:", 5) == 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL). A NUL or control character, decoded
 * or not, is refused. */
static int decode(const char *s, size_t n, char *out, size_t cap, const char *what,
                  struct scpd_err *err)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: a %% in the %s "
                                    "must be followed by two hex digits", what);
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0)
                return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: a %% in the %s "
                                    "must be followed by two hex digits", what);
            ch = a * 16 + b;
            i += 2;
        }
        if (ch < 0x20 || ch == 0x7f)
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: the %s holds a NUL "
                                "or control character", what);
        if (o + 1 >= cap)
            return scpd_err_set(err, SCPD_E_LIMIT, "%%Error parsing URL: the %s is too long "
                                "(at most %zu characters)", what, cap - 1);
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

int copy_url_host_ok(const char *h, struct scpd_err *err)
{
    size_t n = strlen(h);
    if (n == 0)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: no remote host");
    if (h[0] == '[' || strchr(h, ':'))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: IPv6 addresses are not "
                            "supported in copy URLs (use a host name or an IPv4 address)");
    if (n > LIM_URL_HOST_LEN)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error parsing URL: host name too long (at most "
                            LIM_STR(LIM_URL_HOST_LEN) " characters)");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!isalnum(c) && c != '.' && c != '-')
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: invalid character in "
                                "host name '%.64s' (letters, digits, '.', '-')", h);
    }
    if (h[0] == '-' || h[0] == '.')
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: invalid host name '%.64s'",
                            h);
    return 0;
}

/* A path of the remote: no ".." component (the device does not walk up anybody's tree). */
static int path_ok(const char *p, struct scpd_err *err)
{
    for (const char *c = p; *c;) {
        size_t k = strcspn(c, "/");
        if (k == 2 && c[0] == '.' && c[1] == '.')
            return scpd_err_set(err, SCPD_E_DENIED, "%%Error parsing URL: '..' is not allowed in "
                                "a remote path");
        c += k;
        if (*c == '/')
            c++;
    }
    return 0;
}

int copy_url_parse(const char *s, size_t len, struct copy_url *out, struct scpd_err *err)
{
    memset(out, 0, sizeof(*out));
    out->port = 22;
    if (len > LIM_URL_LEN)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error parsing URL: longer than "
                            LIM_STR(LIM_URL_LEN) " characters");
    if (memchr(s, '\0', len))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: it holds a NUL byte");
    size_t i;
    if (len >= 4 && strncasecmp(s, "scp:", 4) == 0) {
        out->scheme = COPY_SCP;
        i = 4;
    } else if (len >= 5 && strncasecmp(s, "sftp:", 5) == 0) {
        out->scheme = COPY_SFTP;
        i = 5;
    } else {
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: only scp:// and sftp:// "
                            "are supported");
    }
    if (i == len)
        return 0;   /* "scp:": everything is asked for */
    if (len - i < 2 || s[i] != '/' || s[i + 1] != '/')
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: '//' expected after '%.*s'",
                            (int)i, s);
    i += 2;
    size_t auth_end = i;
    while (auth_end < len && s[auth_end] != '/')
        auth_end++;
    /* userinfo: up to the last '@' before the path (a password may hold '@' only encoded, but a
     * last-'@' rule also takes it raw, as curl does) */
    size_t at = 0;
    bool has_at = false;
    for (size_t k = i; k < auth_end; k++)
        if (s[k] == '@') {
            at = k;
            has_at = true;
        }
    if (has_at) {
        const char *colon = memchr(s + i, ':', at - i);
        size_t ul = colon ? (size_t)(colon - (s + i)) : at - i;
        if (decode(s + i, ul, out->user, sizeof(out->user), "user name", err) < 0)
            return -1;
        if (colon) {
            out->has_password = true;
            if (decode(colon + 1, (size_t)(s + at - colon - 1), out->password,
                       sizeof(out->password), "password", err) < 0)
                return -1;
        }
        for (const char *c = out->user; *c; c++)
            if (strchr("/:@ ", *c))
                return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: invalid "
                                    "character '%c' in the user name", *c);
        i = at + 1;
    }
    /* host[:port]; "[...]" is an IPv6 literal */
    if (i < auth_end && s[i] == '[')
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: IPv6 addresses are not "
                            "supported in copy URLs (use a host name or an IPv4 address)");
    const char *pc = memchr(s + i, ':', auth_end - i);
    size_t hl = pc ? (size_t)(pc - (s + i)) : auth_end - i;
    if (pc && memchr(pc + 1, ':', (size_t)(s + auth_end - pc - 1)))
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: IPv6 addresses are not "
                            "supported in copy URLs (use a host name or an IPv4 address)");
    if (hl > LIM_URL_HOST_LEN)
        return scpd_err_set(err, SCPD_E_LIMIT, "%%Error parsing URL: host name too long (at most "
                            LIM_STR(LIM_URL_HOST_LEN) " characters)");
    memcpy(out->host, s + i, hl);
    out->host[hl] = '\0';
    if (hl > 0 && copy_url_host_ok(out->host, err) < 0)
        return -1;
    if (pc) {
        const char *ps = pc + 1;
        size_t pl = (size_t)(s + auth_end - ps);
        long port = 0;
        bool digits = pl > 0 && pl <= 5;
        for (size_t k = 0; k < pl && digits; k++)   /* s is not NUL-terminated: no strspn */
            digits = ps[k] >= '0' && ps[k] <= '9';
        if (!digits)
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: the port must be a "
                                "number from 1 to 65535");
        for (size_t k = 0; k < pl; k++)
            port = port * 10 + (ps[k] - '0');
        if (port < 1 || port > 65535)
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error parsing URL: port %ld is not a "
                                "valid port (1-65535)", port);
        out->port = (int)port;
    }
    if (auth_end < len) {
        if (decode(s + auth_end + 1, len - auth_end - 1, out->path, sizeof(out->path),
                   "remote path", err) < 0 ||
            path_ok(out->path, err) < 0)
            return -1;
    }
    return 0;
}

/* Appends s to buf[*at..cap) as a URL shows it: '%', control bytes and bytes outside ASCII
 * percent-encoded (what was decoded from "%1b" or "%d7" goes back to that form, so a message, a
 * log line or the terminal of whoever typed the command never gets the raw byte). A space stays:
 * IOS shows it as typed. Stops short of a byte or an escape that would not fit (false). */
static bool url_append(char *buf, size_t cap, size_t *at, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool esc = c < 0x20 || c >= 0x7f || c == '%';
        if (*at + (esc ? 3 : 1) >= cap)
            return false;
        if (esc) {
            buf[(*at)++] = '%';
            buf[(*at)++] = hex[c >> 4];
            buf[(*at)++] = hex[c & 15];
        } else {
            buf[(*at)++] = (char)c;
        }
        buf[*at] = '\0';
    }
    return true;
}

void copy_url_format(const struct copy_url *u, char *buf, size_t cap)
{
    char port[16];
    size_t at = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    snprintf(port, sizeof(port), ":%d/", u->port);
    (void)(url_append(buf, cap, &at, u->scheme == COPY_SFTP ? "sftp://" : "scp://") &&
           url_append(buf, cap, &at, u->user) &&
           url_append(buf, cap, &at, u->has_password ? ":*****" : "") &&
           url_append(buf, cap, &at, u->user[0] || u->has_password ? "@" : "") &&
           url_append(buf, cap, &at, u->host) && url_append(buf, cap, &at, port) &&
           url_append(buf, cap, &at, u->path));
}

int copy_scp_c_record(const char *line, size_t len, unsigned *mode, uint64_t *size,
                      struct scpd_err *err)
{
    /* C<4 octal digits> <decimal size> <name> */
    if (len < 8 || line[0] != 'C')
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: the remote sent no file (%.*s)",
                            (int)(len < 80 ? len : 80), line);
    unsigned m = 0;
    for (size_t k = 1; k < 5; k++) {
        if (line[k] < '0' || line[k] > '7')
            return scpd_err_set(err, SCPD_E_INVALID, "%%Error: bad file mode from the remote");
        m = m * 8 + (unsigned)(line[k] - '0');
    }
    if (line[5] != ' ')
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: bad file record from the remote");
    size_t k = 6;
    uint64_t v = 0;
    if (k >= len || line[k] < '0' || line[k] > '9')
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: bad file size from the remote");
    for (; k < len && line[k] >= '0' && line[k] <= '9'; k++) {
        if (v > (UINT64_MAX - 9) / 10)
            return scpd_err_set(err, SCPD_E_LIMIT, "%%Error: file size from the remote too large");
        v = v * 10 + (uint64_t)(line[k] - '0');
    }
    if (k >= len || line[k] != ' ' || k + 1 >= len)
        return scpd_err_set(err, SCPD_E_INVALID, "%%Error: bad file record from the remote");
    *mode = m;
    *size = v;
    return 0;
}

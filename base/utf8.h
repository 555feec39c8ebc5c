/* utf8: the one UTF-8 validity check (RFC 3629), for the places that pass text on to a reader: the
 * log's escaping (base/log.c) and the API's JSON strings (api/api_req.c). Header only: it is a
 * few lines on hot paths. */
#ifndef SCPD_BASE_UTF8_H
#define SCPD_BASE_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 sequence at p: 1 for an ASCII byte (NUL included), 2-4 for a valid
 * multi-byte sequence (no overlong forms, no surrogates, at most U+10FFFF), 0 if the bytes there
 * are not one. Never reads past a NUL (a NUL is no continuation byte). */
static inline size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;   /* the range of the second byte */
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

#endif

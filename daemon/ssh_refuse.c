#include "daemon/ssh_refuse.h"

#include <string.h>

#define SSH_REFUSE_TEXT_MAX 255
#define SSH_MSG_DISCONNECT 1

static uint8_t *ssh_refuse_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

size_t ssh_refuse_bytes(const char *ident, uint32_t reason, const char *text, uint8_t *out,
                        size_t cap)
{
    size_t il = strlen(ident);
    size_t tl = strnlen(text, SSH_REFUSE_TEXT_MAX);
    if (il > 253 || strncmp(ident, "SSH-2.0-", 8) != 0 || memchr(ident, '\r', il) ||
        memchr(ident, '\n', il))
        return 0;
    /* payload: byte 1, uint32 reason, string description, string language tag */
    size_t payload = 1 + 4 + 4 + tl + 4;
    /* 4 (packet_length) + 1 (padding_length) + payload + padding: a multiple of 8, padding >= 4 */
    size_t pad = 8 - (4 + 1 + payload) % 8;
    if (pad < 4)
        pad += 8;
    size_t total = il + 2 + 4 + 1 + payload + pad;
    if (total > cap)
        return 0;
    uint8_t *p = out;
    memcpy(p, ident, il);
    p += il;
    *p++ = '\r';
    *p++ = '\n';
    p = ssh_refuse_u32(p, (uint32_t)(1 + payload + pad));
    *p++ = (uint8_t)pad;
    *p++ = SSH_MSG_DISCONNECT;
    p = ssh_refuse_u32(p, reason);
    p = ssh_refuse_u32(p, (uint32_t)tl);
    memcpy(p, text, tl);
    p += tl;
    p = ssh_refuse_u32(p, 0);
    memset(p, 0, pad);
    p += pad;
    return (size_t)(p - out);
}

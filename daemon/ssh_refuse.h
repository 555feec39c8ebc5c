/* ssh_refuse: the bytes that tell a client why its connection is refused before the key exchange
 * (line vty access-class, the unauthenticated-session limits): our identification line and one
 * unencrypted SSH_MSG_DISCONNECT packet (RFC 4253 4.2, 6, 11.1). Pure: bytes out, no socket. */
#ifndef SCPD_SSH_REFUSE_H
#define SCPD_SSH_REFUSE_H

#include <stddef.h>
#include <stdint.h>

/* Reason codes of RFC 4253 11.1 that a refusal uses. */
#define SSH_REFUSE_HOST_NOT_ALLOWED    1   /* SSH2_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT */
#define SSH_REFUSE_TOO_MANY_CONNECTIONS 5  /* SSH2_DISCONNECT_TOO_MANY_CONNECTIONS */
#define SSH_REFUSE_SERVICE_NOT_AVAILABLE 7 /* SSH2_DISCONNECT_SERVICE_NOT_AVAILABLE */
#define SSH_REFUSE_BY_APPLICATION      11  /* SSH2_DISCONNECT_BY_APPLICATION */

/* Room for the identification line, the packet header, a description of up to 255 bytes and the
 * largest padding: one send of at most this many bytes. */
#define SSH_REFUSE_MAX 512

/* Writes ident (e.g. "SSH-2.0-libssh_0.10.6", without CRLF) + CRLF, then the disconnect packet with
 * the reason code and the description (cut at 255 bytes, an empty language tag, zero padding, no
 * MAC), into out. Returns the length, or 0 when ident is not an "SSH-2.0-" line of at most 253
 * bytes or cap is too small. */
size_t ssh_refuse_bytes(const char *ident, uint32_t reason, const char *text, uint8_t *out,
                        size_t cap);

#endif

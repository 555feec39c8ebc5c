/* b64: strict base64 decoding (RFC 4648 section 4, padded), for the API's Basic credentials and
 * the config's key-string. OpenSSL's EVP_DecodeBlock does the decoding; this adds what it leaves
 * to the caller: it accepts '=' anywhere and counts padding as zero bytes. Thread-safe. */
#ifndef SCPD_B64_H
#define SCPD_B64_H

#include <stddef.h>

/* Decodes the n characters of in (a multiple of 4, only the alphabet, '=' only as the last one or
 * two) into out; returns the number of bytes decoded, or -1 if in is not such base64 or cap is
 * less than n / 4 * 3. */
int b64_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif

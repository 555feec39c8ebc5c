/* secret: Cisco password and secret types with OpenSSL. Plaintext is only ever hashed (type 9,
 * scrypt N=16384 r=1 p=1 in Cisco's encoding); types 5 (MD5-crypt), 8 (PBKDF2-HMAC-SHA256, 20000
 * iterations) and 9 are verified in constant time; type 7 is only decoded (it is an obfuscation).
 * Thread-safe. */
#ifndef SCPD_SECRET_H
#define SCPD_SECRET_H

#include <stddef.h>

/* Hashes plain into a type-9 string "$9$SALT$HASH" (NUL-terminated) in out. 0 or -1. */
int secret_hash9(const char *plain, char *out, size_t cap);

/* 1 if plain matches the stored hash of the given type (5, 8 or 9), 0 if not, -1 if the hash is
 * malformed. Runs in constant time with respect to the hash comparison. */
int secret_verify(int type, const char *hash, const char *plain);

/* Checks the syntax of a stored hash of type 5, 8 or 9. 0 if well-formed, -1 otherwise. */
int secret_check_format(int type, const char *hash);

/* Decodes a type-7 string into out. 0 or -1 (malformed). */
int secret_decode7(const char *enc, char *out, size_t cap);

#endif

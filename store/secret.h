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

/* Type 6: reversible encryption of a secret the daemon must send (a TACACS+/RADIUS server key):
 * AES-256-GCM under the master key, written as base64 of nonce(12) | ciphertext | tag(16).
 * secret_master_init loads DIR/master.key (32 random bytes, created mode 0600 at first start);
 * until it is called (--check-config, unit tests) a random per-process key is used. */
struct scpd_err;
int secret_master_init(const char *dir, struct scpd_err *err);
/* Encrypts plain (at most SECRET6_PLAIN_MAX bytes) into out (NUL-terminated). 0 or -1. */
#define SECRET6_PLAIN_MAX 128
#define SECRET6_TEXT_MAX 216    /* base64 of 12 + 128 + 16 bytes, and its NUL */
int secret_encrypt6(const char *plain, char *out, size_t cap);
/* Decrypts a type-6 string into out (NUL-terminated; the caller cleanses it). 0, or -1 when it is
 * malformed or was made under another master key. */
int secret_decrypt6(const char *enc, char *out, size_t cap);
/* A shared store (several instances) holds one master key for all: the first instance's.
 * secret_master_export writes the loaded key as base64 (SECRET_MASTER_TEXT bytes with the NUL;
 * -1 before secret_master_init); secret_master_adopt makes the base64 key b64 this instance's,
 * replacing DIR/master.key (0600, atomically). */
#define SECRET_MASTER_TEXT 45
int secret_master_export(char *out, size_t cap);
int secret_master_adopt(const char *dir, const char *b64, struct scpd_err *err);
/* 0 if enc has the form of a type-6 string (it may still fail to decrypt here). */
int secret_check6(const char *enc);

#endif

/* secret: Cisco password and secret types.
 *
 * Type 9 is scrypt (N=16384, r=1, p=1, 32-byte key) over the password with the 14-character salt
 * used as given (its ASCII bytes, not decoded); type 8 is PBKDF2-HMAC-SHA256 with 20000 iterations
 * and the same salt rule. Both encode the key with standard base64 bit order but Cisco's alphabet
 * "./0-9A-Za-z" and no padding (43 characters for 32 bytes). Type 5 is the FreeBSD md5-crypt "$1$"
 * with its own little-endian base64 ("to64"). Type 7 is Cisco's reversible XOR obfuscation: two
 * decimal digits give the offset into a fixed 53-byte key, then each byte is two hex digits.
 *
 * Verification recomputes the encoded hash from the stored salt and compares the whole encoded
 * string with CRYPTO_memcmp, so the comparison does not leak where the strings first differ.
 */
#include "store/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/b64.h"
#include "base/scpd_err.h"

static const char cisco_b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define T9_SALT_LEN 14
#define T8_SALT_LEN 14
#define T89_HASH_LEN 43 /* 32 bytes in unpadded base64 */
#define T5_SALT_MAX 8
#define T5_HASH_LEN 22
/* SCPD_FUZZ_CHEAP_KDF is defined by the fuzz builds only (Makefile FUZZ_CFLAGS): scrypt N=16 and
 * 2 PBKDF2 iterations, so a fuzz input carrying a password costs microseconds instead of ~50 ms of
 * KDF; the parser, the formats and the verify path are the same code. Never in the daemon. */
#ifdef SCPD_FUZZ_CHEAP_KDF
#define T9_N 16
#define T8_ITER 2
#else
#define T9_N 16384
#define T8_ITER 20000
#endif

static int in_alphabet(char c)
{
    return c != '\0' && strchr(cisco_b64, c) != NULL;
}

/* Standard base64 bit order over Cisco's alphabet, no padding. out must hold 4*ceil(n/3)+1. */
static void cisco_b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t rem = n - i;
        if (rem > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (rem > 2)
            v |= in[i + 2];
        out[o++] = cisco_b64[(v >> 18) & 63];
        out[o++] = cisco_b64[(v >> 12) & 63];
        if (rem > 1)
            out[o++] = cisco_b64[(v >> 6) & 63];
        if (rem > 2)
            out[o++] = cisco_b64[v & 63];
    }
    out[o] = '\0';
}

/* "$T$" + salt of exactly salt_len alphabet characters + "$" + 43 alphabet characters. */
static int check_t89(const char *hash, char t, size_t salt_len)
{
    if (hash[0] != '$' || hash[1] != t || hash[2] != '$')
        return -1;
    const char *p = hash + 3;
    for (size_t i = 0; i < salt_len; i++)
        if (!in_alphabet(p[i]))
            return -1;
    p += salt_len;
    if (*p++ != '$')
        return -1;
    for (size_t i = 0; i < T89_HASH_LEN; i++)
        if (!in_alphabet(p[i]))
            return -1;
    return p[T89_HASH_LEN] == '\0' ? 0 : -1;
}

/* "$1$" + 0-8 salt characters (no '$') + "$" + 22 alphabet characters. Salt length out. */
static int check_t5(const char *hash, size_t *salt_len)
{
    if (strncmp(hash, "$1$", 3) != 0)
        return -1;
    const char *s = hash + 3, *d = strchr(s, '$');
    if (d == NULL || (size_t)(d - s) > T5_SALT_MAX)
        return -1;
    for (const char *q = s; q < d; q++)
        if (*q <= ' ' || *q > '~')
            return -1;
    for (size_t i = 0; i < T5_HASH_LEN; i++)
        if (!in_alphabet(d[1 + i]))
            return -1;
    if (d[1 + T5_HASH_LEN] != '\0')
        return -1;
    *salt_len = (size_t)(d - s);
    return 0;
}

int secret_check_format(int type, const char *hash)
{
    size_t sl;
    if (hash == NULL)
        return -1;
    switch (type) {
    case 5:
        return check_t5(hash, &sl);
    case 8:
        return check_t89(hash, '8', T8_SALT_LEN);
    case 9:
        return check_t89(hash, '9', T9_SALT_LEN);
    default:
        return -1;
    }
}

/* Builds "$T$SALT$HASH" from a derived 32-byte key. */
static int format_t89(char t, const char *salt, const unsigned char key[32], char *out, size_t cap)
{
    char enc[48];
    cisco_b64_encode(key, 32, enc);
    int n = snprintf(out, cap, "$%c$%s$%s", t, salt, enc);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int derive9(const char *plain, const char *salt, unsigned char key[32])
{
    return EVP_PBE_scrypt(plain, strlen(plain), (const unsigned char *)salt, strlen(salt), T9_N,
                          1, 1, 0, key, 32) == 1
               ? 0
               : -1;
}

static int derive8(const char *plain, const char *salt, unsigned char key[32])
{
    return PKCS5_PBKDF2_HMAC(plain, (int)strlen(plain), (const unsigned char *)salt,
                             (int)strlen(salt), T8_ITER, EVP_sha256(), 32, key) == 1
               ? 0
               : -1;
}

int secret_hash9(const char *plain, char *out, size_t cap)
{
    unsigned char rnd[T9_SALT_LEN], key[32];
    char salt[T9_SALT_LEN + 1];
    if (plain == NULL || RAND_bytes(rnd, sizeof rnd) != 1)
        return -1;
    for (size_t i = 0; i < T9_SALT_LEN; i++)
        salt[i] = cisco_b64[rnd[i] & 63];
    salt[T9_SALT_LEN] = '\0';
    int rc = derive9(plain, salt, key) == 0 ? format_t89('9', salt, key, out, cap) : -1;
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* ---- md5-crypt ($1$), the algorithm of FreeBSD's crypt-md5.c as Cisco uses it --------------- */

static void to64(char **p, uint32_t v, int n)
{
    while (n-- > 0) {
        *(*p)++ = cisco_b64[v & 63];
        v >>= 6;
    }
}

static int md5_of(EVP_MD_CTX *ctx, const void *a, size_t an, const void *b, size_t bn,
                  const void *c, size_t cn, unsigned char out[16])
{
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
        return -1;
    if (an && EVP_DigestUpdate(ctx, a, an) != 1)
        return -1;
    if (bn && EVP_DigestUpdate(ctx, b, bn) != 1)
        return -1;
    if (cn && EVP_DigestUpdate(ctx, c, cn) != 1)
        return -1;
    return EVP_DigestFinal_ex(ctx, out, NULL) == 1 ? 0 : -1;
}

/* Computes the full "$1$salt$hash" string into out (at least 3+8+1+22+1 bytes). */
static int md5crypt(const char *pw, const char *salt, size_t sl, char *out, size_t cap)
{
    size_t pl = strlen(pw);
    unsigned char fin[16], alt[16];
    int rc = -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new(), *c1 = EVP_MD_CTX_new();
    if (ctx == NULL || c1 == NULL || cap < 3 + sl + 1 + T5_HASH_LEN + 1)
        goto out;
    if (md5_of(c1, pw, pl, salt, sl, pw, pl, alt) != 0)
        goto out;
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(ctx, pw, pl) != 1 ||
        EVP_DigestUpdate(ctx, "$1$", 3) != 1 || EVP_DigestUpdate(ctx, salt, sl) != 1)
        goto out;
    for (size_t n = pl; n > 0; n -= n > 16 ? 16 : n)
        if (EVP_DigestUpdate(ctx, alt, n > 16 ? 16 : n) != 1)
            goto out;
    for (size_t i = pl; i; i >>= 1)
        if (EVP_DigestUpdate(ctx, (i & 1) ? "" : pw, 1) != 1)
            goto out;
    if (EVP_DigestFinal_ex(ctx, fin, NULL) != 1)
        goto out;
    /* 1000 rounds "to slow things down" (the original's words) */
    for (int i = 0; i < 1000; i++) {
        const void *a = (i & 1) ? (const void *)pw : fin;
        size_t an = (i & 1) ? pl : 16;
        if (EVP_DigestInit_ex(c1, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(c1, a, an) != 1)
            goto out;
        if ((i % 3) && EVP_DigestUpdate(c1, salt, sl) != 1)
            goto out;
        if ((i % 7) && pl && EVP_DigestUpdate(c1, pw, pl) != 1)
            goto out;
        if ((i & 1) ? EVP_DigestUpdate(c1, fin, 16) != 1
                    : (pl && EVP_DigestUpdate(c1, pw, pl) != 1))
            goto out;
        if (EVP_DigestFinal_ex(c1, fin, NULL) != 1)
            goto out;
    }
    char *p = out;
    memcpy(p, "$1$", 3);
    p += 3;
    memcpy(p, salt, sl);
    p += sl;
    *p++ = '$';
    static const int perm[5][3] = {{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}};
    for (int i = 0; i < 5; i++)
        to64(&p, ((uint32_t)fin[perm[i][0]] << 16) | ((uint32_t)fin[perm[i][1]] << 8) |
                     fin[perm[i][2]], 4);
    to64(&p, fin[11], 2);
    *p = '\0';
    rc = 0;
out:
    OPENSSL_cleanse(fin, sizeof fin);
    OPENSSL_cleanse(alt, sizeof alt);
    EVP_MD_CTX_free(ctx);
    EVP_MD_CTX_free(c1);
    return rc;
}

int secret_verify(int type, const char *hash, const char *plain)
{
    char calc[128], salt[T9_SALT_LEN + 1];
    unsigned char key[32];
    size_t sl, hl;
    int rc;
    if (hash == NULL || plain == NULL || secret_check_format(type, hash) != 0)
        return -1;
    hl = strlen(hash);
    if (type == 5) {
        check_t5(hash, &sl);
        rc = md5crypt(plain, hash + 3, sl, calc, sizeof calc);
    } else {
        memcpy(salt, hash + 3, T9_SALT_LEN);
        salt[T9_SALT_LEN] = '\0';
        rc = (type == 9 ? derive9(plain, salt, key) : derive8(plain, salt, key));
        if (rc == 0)
            rc = format_t89(type == 9 ? '9' : '8', salt, key, calc, sizeof calc);
        OPENSSL_cleanse(key, sizeof key);
    }
    if (rc != 0)
        return -1;
    /* equal lengths by construction of the format check; compare all bytes */
    int eq = strlen(calc) == hl && CRYPTO_memcmp(calc, hash, hl) == 0;
    OPENSSL_cleanse(calc, sizeof calc);
    return eq;
}

/* ---- type 7 --------------------------------------------------------------------------------- */

static const char xlat7[] = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87";

int secret_decode7(const char *enc, char *out, size_t cap)
{
    size_t n = enc ? strlen(enc) : 0;
    if (n < 4 || (n % 2) != 0 || cap == 0)
        return -1;
    if (enc[0] < '0' || enc[0] > '9' || enc[1] < '0' || enc[1] > '9')
        return -1;
    size_t seed = (size_t)((enc[0] - '0') * 10 + (enc[1] - '0'));
    size_t m = (n - 2) / 2;
    if (seed >= sizeof xlat7 - 1 || m + 1 > cap)
        return -1;
    for (size_t i = 0; i < m; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)enc[2 + 2 * i]);
        int lo = OPENSSL_hexchar2int((unsigned char)enc[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        char c = (char)((hi << 4 | lo) ^ xlat7[(seed + i) % (sizeof xlat7 - 1)]);
        if (c == '\0') {
            OPENSSL_cleanse(out, i);
            return -1;
        }
        out[i] = c;
    }
    out[m] = '\0';
    return 0;
}

/* ---- type 6: AES-256-GCM under the master key ------------------------------------------------ */

#define T6_NONCE 12
#define T6_TAG 16

static unsigned char master_key[32];
static pthread_once_t master_once = PTHREAD_ONCE_INIT;
static int master_loaded;   /* __atomic: 1 once DIR/master.key is in master_key */

/* Before secret_master_init (offline checks, unit tests): a key for this process only. */
static void master_ephemeral(void)
{
    if (!__atomic_load_n(&master_loaded, __ATOMIC_ACQUIRE) &&
        RAND_bytes(master_key, sizeof master_key) != 1)
        memset(master_key, 0x5a, sizeof master_key); /* never used for anything that persists */
}

int secret_master_init(const char *dir, struct scpd_err *err)
{
    char path[4096];
    unsigned char key[32];
    int n = snprintf(path, sizeof path, "%s/master.key", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return scpd_err_set(err, SCPD_E_INVALID, "data directory path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        /* first start: 32 random bytes, owner-only, created exclusively */
        if (RAND_bytes(key, sizeof key) != 1)
            return scpd_err_set(err, SCPD_E_INTERNAL, "cannot make the master key: no randomness");
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (wfd < 0)
            return scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", path, strerror(errno));
        ssize_t w = write(wfd, key, sizeof key);
        int syn = fsync(wfd);
        close(wfd);
        OPENSSL_cleanse(key, sizeof key);
        if (w != (ssize_t)sizeof key || syn != 0) {
            unlink(path);
            return scpd_err_set(err, SCPD_E_IO, "cannot write %s", path);
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return scpd_err_set(err, SCPD_E_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    ssize_t r = -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 32)
        r = read(fd, key, sizeof key);
    close(fd);
    if (r != (ssize_t)sizeof key)
        return scpd_err_set(err, SCPD_E_IO, "%s is not a 32-byte master key", path);
    if ((sb.st_mode & 077) != 0)
        return scpd_err_set(err, SCPD_E_DENIED, "%s must be readable by its owner only "
                            "(chmod 600)", path);
    pthread_once(&master_once, master_ephemeral);
    memcpy(master_key, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    __atomic_store_n(&master_loaded, 1, __ATOMIC_RELEASE);
    return 0;
}

int secret_master_export(char *out, size_t cap)
{
    if (!__atomic_load_n(&master_loaded, __ATOMIC_ACQUIRE) || cap < SECRET_MASTER_TEXT)
        return -1;
    return EVP_EncodeBlock((unsigned char *)out, master_key, sizeof master_key) ==
                   SECRET_MASTER_TEXT - 1
               ? 0
               : -1;
}

int secret_master_adopt(const char *dir, const char *b64, struct scpd_err *err)
{
    char path[4096], tmp[4200];
    unsigned char key[33];
    size_t n = strlen(b64);
    int rc = -1;
    if (n != SECRET_MASTER_TEXT - 1 || b64_decode(b64, n, key, sizeof key) != 32)
        return scpd_err_set(err, SCPD_E_IO, "the shared store's master key is malformed");
    int a = snprintf(path, sizeof path, "%s/master.key", dir);
    int b = snprintf(tmp, sizeof tmp, "%s/master.key.new", dir);
    if (a < 0 || (size_t)a >= sizeof path || b < 0 || (size_t)b >= sizeof tmp) {
        scpd_err_set(err, SCPD_E_INVALID, "data directory path too long");
        goto out;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    ssize_t w = write(fd, key, 32);
    int syn = fsync(fd);
    close(fd);
    if (w != 32 || syn != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        scpd_err_set(err, SCPD_E_IO, "cannot write %s", path);
        goto out;
    }
    pthread_once(&master_once, master_ephemeral);
    memcpy(master_key, key, 32);
    __atomic_store_n(&master_loaded, 1, __ATOMIC_RELEASE);
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* GCM seal (enc) or open (!enc) of in into out; tag is written or checked. 0 or -1. */
static int t6_gcm(bool enc, const unsigned char *nonce, const unsigned char *in, int n,
                  unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, ok = 0;
    pthread_once(&master_once, master_ephemeral);
    if (ctx != NULL &&
        EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc ? 1 : 0) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, T6_NONCE, NULL) == 1 &&
        EVP_CipherInit_ex(ctx, NULL, NULL, master_key, nonce, enc ? 1 : 0) == 1 &&
        EVP_CipherUpdate(ctx, out, &len, in, n) == 1 &&
        (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, T6_TAG, tag) == 1) &&
        EVP_CipherFinal_ex(ctx, out + len, &fin) == 1 &&
        (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, T6_TAG, tag) == 1))
        ok = 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int secret_encrypt6(const char *plain, char *out, size_t cap)
{
    unsigned char buf[T6_NONCE + SECRET6_PLAIN_MAX + T6_TAG];
    size_t n = strlen(plain);
    int rc = -1;
    if (n == 0 || n > SECRET6_PLAIN_MAX || cap < 4 * ((T6_NONCE + n + T6_TAG + 2) / 3) + 1)
        return -1;
    if (RAND_bytes(buf, T6_NONCE) == 1 &&
        t6_gcm(true, buf, (const unsigned char *)plain, (int)n, buf + T6_NONCE,
               buf + T6_NONCE + n) == 0 &&
        EVP_EncodeBlock((unsigned char *)out, buf, (int)(T6_NONCE + n + T6_TAG)) > 0)
        rc = 0;
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

/* The decoded bytes of a type-6 string into buf; their count or -1. */
static int t6_decode(const char *enc, unsigned char *buf, size_t cap)
{
    size_t n = strlen(enc);
    if (n < 4 || n % 4 != 0 || n >= SECRET6_TEXT_MAX)
        return -1;
    int dl = b64_decode(enc, n, buf, cap);
    if (dl < T6_NONCE + T6_TAG + 1)
        return -1;
    return dl;
}

int secret_check6(const char *enc)
{
    unsigned char buf[SECRET6_TEXT_MAX];
    return t6_decode(enc, buf, sizeof buf) < 0 ? -1 : 0;
}

int secret_decrypt6(const char *enc, char *out, size_t cap)
{
    unsigned char buf[SECRET6_TEXT_MAX];
    int dl = t6_decode(enc, buf, sizeof buf);
    if (dl < 0)
        return -1;
    size_t n = (size_t)dl - T6_NONCE - T6_TAG;
    if (n + 1 > cap)
        return -1;
    int rc = t6_gcm(false, buf, buf + T6_NONCE, (int)n, (unsigned char *)out,
                    buf + T6_NONCE + n);
    if (rc == 0 && memchr(out, '\0', n) != NULL)
        rc = -1;
    if (rc == 0)
        out[n] = '\0';
    else
        OPENSSL_cleanse(out, cap);
    return rc;
}

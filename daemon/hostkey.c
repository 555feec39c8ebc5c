/* hostkey: generates the SSH host keys with libssh's pki API on first start. The private key is
 * exported to memory and written by us (open O_EXCL with mode 0600, fsync, rename, fsync of the
 * directory), so the file is never readable by others, not even for a moment, and a crash leaves
 * either no key or a whole key. The .pub file is written first: the private key file is the
 * marker that a key is complete. */
#include "daemon/hostkey.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/log.h"
#include "store/store.h"

static const struct {
    const char *file;
    enum ssh_keytypes_e type;
    int bits;
    const char *what;
} hostkeys[HOSTKEY__COUNT] = {
    [HOSTKEY_RSA] = {"ssh_host_rsa_key", SSH_KEYTYPE_RSA, HOSTKEY_RSA_BITS, "RSA 3072"},
    [HOSTKEY_ED25519] = {"ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0, "Ed25519"},
};

int hostkey_path(const char *data_dir, enum hostkey_type t, char *buf, size_t cap,
                 struct scpd_err *err)
{
    int n = snprintf(buf, cap, "%s/keys/%s", data_dir, hostkeys[t].file);
    if (n < 0 || (size_t)n >= cap)
        return scpd_err_set(err, SCPD_E_INVALID, "host key path too long under %s", data_dir);
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes data to path atomically with the given mode (temp file in the same directory). */
static int write_atomic(const char *dir, const char *path, const char *data, mode_t mode,
                        struct scpd_err *err)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return scpd_err_set(err, SCPD_E_INVALID, "path too long: %s", path);
    unlink(tmp); /* left by a crash during an earlier first start */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    size_t len = strlen(data), off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            scpd_err_set(err, SCPD_E_IO, "cannot write %s: %s", tmp, strerror(errno));
            goto fail;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        scpd_err_set(err, SCPD_E_IO, "cannot sync %s: %s", tmp, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        scpd_err_set(err, SCPD_E_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    fsync_dir(dir);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

/* The private key text of a new key (caller frees with free()). */
static char *hostkey_new_text(int t, int bits, struct scpd_err *err)
{
    ssh_key key = NULL;
    char *priv = NULL, *out = NULL;
    if (ssh_pki_generate(hostkeys[t].type, bits, &key) != SSH_OK) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot generate the %s host key", hostkeys[t].what);
        goto out;
    }
    if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot export the %s host key", hostkeys[t].what);
        goto out;
    }
    if (!(out = strdup(priv)))
        scpd_err_set(err, SCPD_E_NOMEM, "out of memory");
out:
    if (priv) {
        explicit_bzero(priv, strlen(priv));
        ssh_string_free_char(priv);
    }
    ssh_key_free(key);
    return out;
}

/* Writes the key files of the private key text priv: path.pub first, then path (the marker that
 * the key is complete). */
static int hostkey_write(const char *dir, const char *path, int t, const char *priv,
                         struct scpd_err *err)
{
    ssh_key key = NULL;
    char *pub = NULL, *publine = NULL;
    char pubpath[4200];
    int rc = -1;
    if (ssh_pki_import_privkey_base64(priv, NULL, NULL, NULL, &key) != SSH_OK ||
        ssh_pki_export_pubkey_base64(key, &pub) != SSH_OK) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot read the %s host key", hostkeys[t].what);
        goto out;
    }
    size_t plen = strlen(pub) + 64;
    int n = snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
    if (n < 0 || (size_t)n >= sizeof(pubpath) || !(publine = malloc(plen))) {
        scpd_err_set(err, SCPD_E_NOMEM, "cannot format the %s public key", hostkeys[t].what);
        goto out;
    }
    n = snprintf(publine, plen, "%s %s scpd\n", ssh_key_type_to_char(ssh_key_type(key)), pub);
    if (n < 0 || (size_t)n >= plen) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot format the %s public key", hostkeys[t].what);
        goto out;
    }
    if (write_atomic(dir, pubpath, publine, 0644, err) != 0 ||
        write_atomic(dir, path, priv, 0600, err) != 0)
        goto out;
    rc = 0;
out:
    ssh_string_free_char(pub);
    free(publine);
    ssh_key_free(key);
    return rc;
}

/* The contents of a local key file (at most 64 KiB), NULL if unreadable. */
static char *read_key_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536 + 1);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf && (n == 0 || n == 65536)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Orders the writers of the key files: the CLI (`crypto key generate`) and the store's watcher
 * (hostkey_sync), which may run at once when two instances replace the key together. */
static pthread_mutex_t hostkey_mu = PTHREAD_MUTEX_INITIALIZER;

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* The store's name of a key: "hostkey/<file>". */
static void hostkey_secret_name(int t, char *buf, size_t cap)
{
    snprintf(buf, cap, "hostkey/%s", hostkeys[t].file);
}

/* A shared store: the store's key is the key. The first instance puts its own (the local file of
 * an earlier single-instance start, else a new one); instances starting together agree through
 * store_secret_init, which keeps the first. The local files are a cache libssh loads; *written
 * (if not NULL) is set when this call rewrote them. */
static int hostkey_shared(const char *dir, const char *path, int t, struct store *st,
                          int *created, bool *written, struct scpd_err *err)
{
    char name[96];
    hostkey_secret_name(t, name, sizeof(name));
    struct scpd_err gerr = {0};
    char *have = store_secret_get(st, name, &gerr), *local = read_key_file(path), *mine = NULL;
    int rc = -1;
    if (!have && gerr.code != SCPD_E_NOTFOUND) {
        if (err)
            *err = gerr;
        goto out;
    }
    if (!have) {
        mine = local ? strdup(local) : hostkey_new_text(t, hostkeys[t].bits, err);
        if (!mine || !(have = store_secret_init(st, name, mine, err)))
            goto out;
        if (!local && created && strcmp(have, mine) == 0)
            (*created)++;
    }
    if (!local || strcmp(local, have) != 0) {
        if (hostkey_write(dir, path, t, have, err) != 0)
            goto out;
        if (written)
            *written = true;
        log_info(NULL, "%s host key %s written from the shared store", hostkeys[t].what, path);
    } else if (!written) {
        log_info(NULL, "using %s host key %s (the shared store's)", hostkeys[t].what, path);
    }
    rc = 0;
out:
    free_secret(have);
    free_secret(local);
    free_secret(mine);
    return rc;
}

int hostkey_ensure(const char *data_dir, struct store *st, int *created, struct scpd_err *err)
{
    char dir[4096], path[4096];
    int n = snprintf(dir, sizeof(dir), "%s/keys", data_dir);
    if (created)
        *created = 0;
    if (n < 0 || (size_t)n >= sizeof(dir))
        return scpd_err_set(err, SCPD_E_INVALID, "data directory path too long: %s", data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", dir, strerror(errno));
    for (int t = 0; t < HOSTKEY__COUNT; t++) {
        if (hostkey_path(data_dir, (enum hostkey_type)t, path, sizeof(path), err) != 0)
            return -1;
        struct stat sb;
        if (lstat(path, &sb) == 0) {
            if (!S_ISREG(sb.st_mode))
                return scpd_err_set(err, SCPD_E_IO, "%s is not a regular file", path);
            if (sb.st_mode & 077)
                log_warn(NULL, "host key %s is readable by others (mode %03o)", path,
                         (unsigned)(sb.st_mode & 0777));
        } else if (errno != ENOENT) {
            return scpd_err_set(err, SCPD_E_IO, "cannot stat %s: %s", path, strerror(errno));
        }
        if (st) {
            if (hostkey_shared(dir, path, t, st, created, NULL, err) != 0)
                return -1;
            continue;
        }
        if (lstat(path, &sb) == 0) {
            log_info(NULL, "using %s host key %s", hostkeys[t].what, path);
            continue;
        }
        char *priv = hostkey_new_text(t, hostkeys[t].bits, err);
        int rc = priv ? hostkey_write(dir, path, t, priv, err) : -1;
        free_secret(priv);
        if (rc != 0)
            return -1;
        log_info(NULL, "generated %s host key %s", hostkeys[t].what, path);
        if (created)
            (*created)++;
    }
    return 0;
}

/* DIR/keys into dir and the key file of t into path. */
static int hostkey_paths(const char *data_dir, int t, char *dir, size_t dcap, char *path,
                         size_t pcap, struct scpd_err *err)
{
    int n = snprintf(dir, dcap, "%s/keys", data_dir);
    if (n < 0 || (size_t)n >= dcap)
        return scpd_err_set(err, SCPD_E_INVALID, "data directory path too long: %s", data_dir);
    return hostkey_path(data_dir, (enum hostkey_type)t, path, pcap, err);
}

/* Rewrites the key files from the store where they differ; under hostkey_mu. */
static int hostkey_sync_locked(const char *data_dir, struct store *st, int *changed,
                               struct scpd_err *err)
{
    char dir[4096], path[4096];
    for (int t = 0; t < HOSTKEY__COUNT; t++) {
        bool written = false;
        if (hostkey_paths(data_dir, t, dir, sizeof(dir), path, sizeof(path), err) != 0 ||
            hostkey_shared(dir, path, t, st, NULL, &written, err) != 0)
            return -1;
        if (written)
            (*changed)++;
    }
    return 0;
}

int hostkey_sync(const char *data_dir, struct store *st, int *changed, struct scpd_err *err)
{
    *changed = 0;
    pthread_mutex_lock(&hostkey_mu);
    int rc = hostkey_sync_locked(data_dir, st, changed, err);
    pthread_mutex_unlock(&hostkey_mu);
    if (rc == 0 && *changed)
        log_notice(NULL, "host key replaced by the shared store's (crypto key generate on "
                   "another instance)");
    return rc;
}

int hostkey_regenerate_rsa(const char *data_dir, struct store *st, int bits, struct scpd_err *err)
{
    char dir[4096], path[4096], name[96];
    if (hostkey_paths(data_dir, HOSTKEY_RSA, dir, sizeof(dir), path, sizeof(path), err) != 0)
        return -1;
    if (bits < 2048 || bits > 4096)
        return scpd_err_set(err, SCPD_E_INVALID, "modulus %d refused: 2048 to 4096 bits (OpenSSH "
                            "clients refuse RSA keys under 2048)", bits);
    char *priv = hostkey_new_text(HOSTKEY_RSA, bits, err);
    if (!priv)
        return -1;
    int rc, changed = 0;
    hostkey_secret_name(HOSTKEY_RSA, name, sizeof(name));
    pthread_mutex_lock(&hostkey_mu);
    if (st && store_is_shared(st)) {
        /* the store first: a key only this instance had would be lost at its next start. The
         * file is then the store's key, which is ours unless another instance replaced it
         * after us (then its key is every instance's). */
        rc = store_secret_set(st, name, priv, err) == 0 &&
                     hostkey_sync_locked(data_dir, st, &changed, err) == 0
                 ? 0
                 : -1;
    } else {
        rc = hostkey_write(dir, path, HOSTKEY_RSA, priv, err);
    }
    pthread_mutex_unlock(&hostkey_mu);
    free_secret(priv);
    if (rc != 0)
        return -1;
    log_notice(NULL, "RSA host key replaced: %d bits (%s)%s", bits, path,
               st && store_is_shared(st) ? ", in the shared store for every instance" : "");
    return 0;
}

/* The SSH wire form of an RSA public key (RFC 4253 6.6: string "ssh-rsa", mpint e, mpint n). */
static const unsigned char *wire_take(const unsigned char *p, const unsigned char *end,
                                      const unsigned char **s, size_t *len)
{
    if (end - p < 4)
        return NULL;
    size_t l = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if ((size_t)(end - p - 4) < l)
        return NULL;
    *s = p + 4;
    *len = l;
    return p + 4 + l;
}

int hostkey_rsa_public_der(const char *data_dir, unsigned char **der, size_t *len, int *bits,
                           time_t *generated, struct scpd_err *err)
{
    char path[4096];
    ssh_key key = NULL;
    char *b64 = NULL;
    unsigned char *blob = NULL;
    int bl = -1;
    BIGNUM *e = NULL, *nn = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    struct stat sb;
    int rc = -1;
    *der = NULL;
    if (hostkey_path(data_dir, HOSTKEY_RSA, path, sizeof(path), err) != 0)
        return -1;
    if (stat(path, &sb) != 0 || ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != 0 ||
        ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
        (blob = malloc(strlen(b64))) == NULL ||
        (bl = b64_decode(b64, strlen(b64), blob, strlen(b64))) < 0) {
        scpd_err_set(err, SCPD_E_IO, "cannot read the RSA host key %s", path);
        goto out;
    }
    const unsigned char *p = blob, *end = blob + bl, *s;
    size_t sl;
    if ((p = wire_take(p, end, &s, &sl)) == NULL || (p = wire_take(p, end, &s, &sl)) == NULL ||
        (e = BN_bin2bn(s, (int)sl, NULL)) == NULL || (p = wire_take(p, end, &s, &sl)) == NULL ||
        (nn = BN_bin2bn(s, (int)sl, NULL)) == NULL || (bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, "n", nn) || !OSSL_PARAM_BLD_push_BN(bld, "e", e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot convert the RSA host key");
        goto out;
    }
    int dl = i2d_PUBKEY(pk, der);
    if (dl <= 0) {
        scpd_err_set(err, SCPD_E_INTERNAL, "cannot encode the RSA host key");
        goto out;
    }
    *len = (size_t)dl;
    *bits = EVP_PKEY_get_bits(pk);
    *generated = sb.st_mtime;
    rc = 0;
out:
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(e);
    BN_free(nn);
    free(blob);
    ssh_string_free_char(b64);
    ssh_key_free(key);
    return rc;
}

/* hostkey: the SSH host keys in DIR/keys (RSA 3072 and Ed25519, OpenSSH private key files, mode
 * 0600), created on first start and replaced only by `crypto key generate rsa`: clients pin them
 * in known_hosts. hostkey_ensure() is called by main.c before any door starts; the SSH door loads
 * the files named by hostkey_path(). hostkey_regenerate_rsa() and hostkey_sync() may run on any
 * threads at once (they take one lock); hostkey_ensure() runs alone, at start. */
#ifndef SCPD_HOSTKEY_H
#define SCPD_HOSTKEY_H

#include <stddef.h>
#include <time.h>

#include "base/scpd_err.h"

enum hostkey_type { HOSTKEY_RSA = 0, HOSTKEY_ED25519, HOSTKEY__COUNT };

#define HOSTKEY_RSA_BITS 3072

/* Path of a host key's private key file (DIR/keys/ssh_host_rsa_key, ...) into buf. 0 or -1. */
int hostkey_path(const char *data_dir, enum hostkey_type t, char *buf, size_t cap,
                 struct scpd_err *err);

/* Creates DIR/keys (0700) and every missing key (written to a temporary file, fsync'ed, renamed;
 * a .pub file beside it). Existing keys are left untouched. *created (if not NULL) gets the number
 * of keys generated. With a shared store (st not NULL) the keys are the store's secrets
 * "hostkey/<file>" (the first instance puts its own), and the files are their local copies, so
 * every instance presents the same host identity. 0 or -1. */
struct store;
int hostkey_ensure(const char *data_dir, struct store *st, int *created, struct scpd_err *err);

/* `crypto key generate rsa [modulus BITS]`: replaces the RSA host key (and its .pub) atomically
 * with a new one of bits (2048-4096). With a shared store (st not NULL and shared) the new key
 * replaces the store's first (a database that cannot be reached: nothing changes), so it survives
 * a restart and the other instances adopt it (hostkey_sync). The SSH door loads it with
 * ssh_server_reload_hostkeys(). 0 or -1. */
int hostkey_regenerate_rsa(const char *data_dir, struct store *st, int bits,
                           struct scpd_err *err);

/* A shared store's key was replaced (by another instance): rewrites every local key file that
 * differs from the store's. *changed gets the number rewritten (reload the SSH door's keys when
 * it is not 0). 0 or -1. */
int hostkey_sync(const char *data_dir, struct store *st, int *changed, struct scpd_err *err);

/* `show crypto key mypubkey rsa`: the RSA host key's public half as DER SubjectPublicKeyInfo
 * (caller frees *der), its size in bits and when its file was written. 0 or -1. */
int hostkey_rsa_public_der(const char *data_dir, unsigned char **der, size_t *len, int *bits,
                           time_t *generated, struct scpd_err *err);

#endif

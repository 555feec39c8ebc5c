/* scpd: the daemon's one context struct, wired by main.c. Modules receive the parts they need;
 * nothing else is global. */
#ifndef SCPD_SCPD_H
#define SCPD_SCPD_H

#include <stdbool.h>
#include <stdint.h>

#define SCPD_VERSION "0.1.0"
#define SCPD_MAX_LISTEN 8
#define SCPD_MAX_FS_SIZE 8   /* --fs-size options (three names; a repeat overrides) */

struct store;
struct ifs;
struct aaa;
struct trace;
struct stats;
struct sessions;
struct ssh_server;
struct api;
struct console;

struct scpd_opts {
    const char *data_dir;                       /* default "./var" */
    const char *store;                          /* --store postgresql://...; NULL: sqlite in
                                                 * data_dir */
    const char *fs_dir;                         /* --fs-dir: the file systems' directory;
                                                 * NULL: data_dir/fs */
    const char *ssh_listen[SCPD_MAX_LISTEN];    /* "HOST:PORT", "[::1]:PORT" */
    int n_ssh_listen;
    const char *http_listen[SCPD_MAX_LISTEN];
    int n_http_listen;
    const char *startup_config;                 /* first start only */
    const char *tls_cert, *tls_key;
    struct {
        char fs[16];                            /* "bootflash", "flash", "nvram" (checked) */
        uint64_t bytes;                         /* > 0 */
    } fs_size[SCPD_MAX_FS_SIZE];                /* --fs-size NAME=SIZE, applied in order */
    int n_fs_size;
    bool metrics_public;                        /* --metrics-public: GET /metrics without login */
};

struct scpd {
    struct scpd_opts opts;
    struct store *store;
    struct ifs *ifs;
    struct aaa *aaa;
    struct trace *trace;
    struct stats *stats;
    struct sessions *sessions;   /* who is logged in (show users) */
    struct ssh_server *ssh;
    struct api *api;
    struct console *console;   /* DATA-DIR/console.sock: the CLI without AAA (console.h) */
    char client_key[4096];   /* the Ed25519 host key file: also the device's own identity for
                              * copies to remote hosts (copy scp://...); "" when unknown */
    int stopping;   /* set by the main thread at stop (sigwait: no signal handler); other
                     * threads read it with __atomic_load_n */
};

#endif

/* main: the scpd process (docs/overview.md).
 *
 * Parses the command line from one option table (which also prints the usage), then either
 * validates a config offline (--check-config) or runs the daemon: prepares the data directory,
 * opens (on first start: creates) the store, makes sure the host keys exist, starts the services
 * and doors, and waits for SIGTERM/SIGINT with sigwait() in the main thread. The signals are
 * blocked before any thread starts, so every thread inherits the mask and only the main thread
 * ever sees them. Stop runs in the reverse order of start.
 *
 * stdout carries only what tests and tools parse (the doors print "ssh listening on ADDR:PORT");
 * everything else goes to the log on stderr. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/aaa.h"
#include "api/api.h"
#include "store/cfg.h"
#include "base/scpd_err.h"
#include "daemon/console.h"
#include "daemon/hostkey.h"
#include "daemon/nc_proto.h"
#include "ifs/ifs.h"
#include "base/lim.h"
#include "base/log.h"
#include "base/scpd.h"
#include "model/model_yang.h"
#include "daemon/ssh_server.h"
#include "services/sessions.h"
#include "services/stats.h"
#include "store/secret.h"
#include "store/store.h"
#include "services/trace.h"

/* Exit codes of --check-config (and of the command line in general). */
enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

struct main_args {
    struct scpd_opts o;
    const char *netconf_listen[SCPD_MAX_LISTEN];   /* appended to o.ssh_listen */
    int n_netconf_listen;
    const char *check_config;
    enum log_level log_level;
    int help, version;
};

/* ---- command line ---------------------------------------------------------------------------- */

static int arg_listen(const char *v, const char **list, int *n, const char *opt,
                      struct scpd_err *err)
{
    const char *colon = strrchr(v, ':');
    char *end;
    if (!colon || colon == v || colon[1] == '\0')
        return scpd_err_set(err, SCPD_E_INVALID, "%s: expected HOST:PORT, got '%s'", opt, v);
    if (v[0] == '[' && colon[-1] != ']')
        return scpd_err_set(err, SCPD_E_INVALID, "%s: expected [ADDR]:PORT, got '%s'", opt, v);
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 0 || port > 65535)
        return scpd_err_set(err, SCPD_E_INVALID, "%s: port must be 0-65535, got '%s'", opt, v);
    if (*n >= SCPD_MAX_LISTEN)
        return scpd_err_set(err, SCPD_E_LIMIT, "%s: at most %d addresses", opt, SCPD_MAX_LISTEN);
    list[(*n)++] = v;
    return 0;
}

static int set_data_dir(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->o.data_dir = v;
    return 0;
}
static int set_store(struct main_args *a, const char *v, struct scpd_err *err)
{
    if (strncmp(v, "postgresql://", 13) != 0 && strncmp(v, "postgres://", 11) != 0)
        return scpd_err_set(err, SCPD_E_INVALID,
                            "--store: expected a PostgreSQL URI postgresql://USER@HOST:PORT/DB, "
                            "got '%s' (without --store the store is sqlite in --data-dir)",
                            v);
    a->o.store = v;
    return 0;
}
static int set_fs_dir(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->o.fs_dir = v;
    return 0;
}
static int set_ssh(struct main_args *a, const char *v, struct scpd_err *err)
{
    return arg_listen(v, a->o.ssh_listen, &a->o.n_ssh_listen, "--ssh-listen", err);
}
/* --netconf-listen: another listener of the one SSH server (IOS's port 830), for NETCONF clients
 * that connect there; it serves every subsystem as --ssh-listen does. */
static int set_netconf(struct main_args *a, const char *v, struct scpd_err *err)
{
    return arg_listen(v, a->netconf_listen, &a->n_netconf_listen, "--netconf-listen", err);
}
static int set_http(struct main_args *a, const char *v, struct scpd_err *err)
{
    return arg_listen(v, a->o.http_listen, &a->o.n_http_listen, "--http-listen", err);
}
static int set_startup(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->o.startup_config = v;
    return 0;
}
static int set_cert(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->o.tls_cert = v;
    return 0;
}
static int set_key(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->o.tls_key = v;
    return 0;
}
static int set_level(struct main_args *a, const char *v, struct scpd_err *err)
{
    enum log_level l;
    if (log_parse_level(v, &l) != 0)
        return scpd_err_set(err, SCPD_E_INVALID,
                            "--log-level: expected debug, info, notice, warn or error, got '%s'",
                            v);
    a->log_level = l;
    return 0;
}
/* SIZE: bytes with an optional binary suffix K, M or G (k, m, g too). */
static int parse_size(const char *v, uint64_t *out)
{
    static const struct {
        char suffix;
        unsigned shift;
    } units[] = {{'\0', 0}, {'K', 10}, {'M', 20}, {'G', 30}};
    char *end;
    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        /* toupper, not & ~0x20: that maps ' ' to '\0' and took "1 G" for 1 byte */
        if (toupper((unsigned char)*end) != units[i].suffix || (units[i].suffix && end[1]))
            continue;
        if (n > (UINT64_MAX >> units[i].shift))
            return -1;
        *out = (uint64_t)n << units[i].shift;
        return 0;
    }
    return -1;
}

static int set_fs_size(struct main_args *a, const char *v, struct scpd_err *err)
{
    const char *eq = strchr(v, '=');
    enum ifs_fs which;
    uint64_t bytes;
    int n = a->o.n_fs_size;
    if (!eq || (size_t)(eq - v) >= sizeof(a->o.fs_size[0].fs))
        return scpd_err_set(err, SCPD_E_INVALID, "--fs-size: expected NAME=SIZE, got '%s'", v);
    if (n >= SCPD_MAX_FS_SIZE)
        return scpd_err_set(err, SCPD_E_LIMIT, "--fs-size: at most %d times", SCPD_MAX_FS_SIZE);
    snprintf(a->o.fs_size[n].fs, sizeof(a->o.fs_size[n].fs), "%.*s", (int)(eq - v), v);
    if (ifs_fs_lookup(a->o.fs_size[n].fs, &which, err) < 0)
        return scpd_err_set(err, SCPD_E_INVALID,
                            "--fs-size: '%s' is not bootflash, flash or nvram",
                            a->o.fs_size[n].fs);
    if (parse_size(eq + 1, &bytes) < 0 || bytes == 0)
        return scpd_err_set(err, SCPD_E_INVALID,
                            "--fs-size: SIZE must be bytes > 0 with an optional K, M or G "
                            "(1024-based), got '%s'",
                            eq + 1);
    a->o.fs_size[n].bytes = bytes;
    a->o.n_fs_size++;
    return 0;
}
static int set_check(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->check_config = v;
    return 0;
}
static int set_help(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->help = 1;
    return 0;
}
static int set_metrics_public(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->o.metrics_public = true;
    return 0;
}
static int set_version(struct main_args *a, const char *v, struct scpd_err *err)
{
    a->version = 1;
    return 0;
}

static const struct main_opt {
    const char *name;
    const char *arg; /* NULL: no argument */
    int (*set)(struct main_args *a, const char *v, struct scpd_err *err);
    const char *help;
} main_opts[] = {
    {"data-dir", "DIR", set_data_dir, "data directory (default ./var)"},
    {"store", "URI", set_store,
     "keep the store in PostgreSQL (postgresql://USER@HOST:PORT/DB),\n"
     "                               shared by every instance given the same URI\n"
     "                               (default: sqlite in DIR/scpd.db)"},
    {"fs-dir", "DIR", set_fs_dir,
     "the file systems' directory (bootflash/, nvram/); may be\n"
     "                               shared by instances (default DIR/fs)"},
    {"ssh-listen", "HOST:PORT", set_ssh, "SSH address, repeatable (default 127.0.0.1:2222)"},
    {"netconf-listen", "HOST:PORT", set_netconf,
     "SSH address for NETCONF clients (IOS: port 830), repeatable"},
    {"http-listen", "HOST:PORT", set_http, "HTTP address, repeatable (default 127.0.0.1:8080)"},
    {"startup-config", "FILE", set_startup, "configuration loaded on first start only"},
    {"tls-cert", "FILE", set_cert, "serve HTTPS with this certificate (needs --tls-key)"},
    {"tls-key", "FILE", set_key, "private key of --tls-cert"},
    {"log-level", "LEVEL", set_level, "debug, info, notice, warn or error (default info)"},
    {"fs-size", "NAME=SIZE", set_fs_size,
     "size of bootflash|flash|nvram, e.g. bootflash=512M (K/M/G\n"
     "                               1024-based; default: the free space); repeatable"},
    {"metrics-public", NULL, set_metrics_public,
     "serve GET /metrics without credentials (for a Prometheus\n"
     "                               scraper without basic_auth; the rest of the API still\n"
     "                               needs a login)"},
    {"check-config", "FILE", set_check, "validate a configuration file and exit (1: invalid)"},
    {"help", NULL, set_help, "show this help and exit"},
    {"version", NULL, set_version, "show the version and exit"},
};
#define N_MAIN_OPTS (sizeof(main_opts) / sizeof(main_opts[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: scpd [--data-dir DIR] [--store URI] [--fs-dir DIR] "
               "[--ssh-listen HOST:PORT]...\n"
               "            [--netconf-listen HOST:PORT]... [--http-listen HOST:PORT]...\n"
               "            [--startup-config FILE] [--tls-cert FILE --tls-key FILE] "
               "[--log-level LEVEL]\n"
               "            [--fs-size NAME=SIZE]... [--metrics-public]\n"
               "       scpd --check-config FILE\n"
               "       scpd console [--data-dir DIR]   (the CLI at privilege 15, no AAA)\n"
               "       scpd --help | --version\n\n");
    for (size_t i = 0; i < N_MAIN_OPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", main_opts[i].name, main_opts[i].arg ? " " : "",
                 main_opts[i].arg ? main_opts[i].arg : "");
        fprintf(f, "  %-28s %s\n", left, main_opts[i].help);
    }
}

/* 0, or EXIT_USAGE with the reason in err. */
static int parse_args(int argc, char **argv, struct main_args *a, struct scpd_err *err)
{
    struct option lo[N_MAIN_OPTS + 1];
    memset(lo, 0, sizeof(lo));
    for (size_t i = 0; i < N_MAIN_OPTS; i++) {
        lo[i].name = main_opts[i].name;
        lo[i].has_arg = main_opts[i].arg ? required_argument : no_argument;
        lo[i].val = 256 + (int)i;
    }
    opterr = 0;
    int c, idx;
    while ((c = getopt_long(argc, argv, "", lo, &idx)) != -1) {
        if (c < 256) {
            scpd_err_set(err, SCPD_E_INVALID, "unknown option or missing argument: %s",
                         argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (main_opts[c - 256].set(a, optarg, err) != 0)
            return EXIT_USAGE;
    }
    if (optind < argc) {
        scpd_err_set(err, SCPD_E_INVALID, "unexpected argument: %s", argv[optind]);
        return EXIT_USAGE;
    }
    if (!a->o.tls_cert != !a->o.tls_key) {
        scpd_err_set(err, SCPD_E_INVALID, "--tls-cert and --tls-key go together");
        return EXIT_USAGE;
    }
    if (!a->o.data_dir)
        a->o.data_dir = "./var";
    if (a->o.n_ssh_listen == 0)
        a->o.ssh_listen[a->o.n_ssh_listen++] = "127.0.0.1:2222";
    for (int i = 0; i < a->n_netconf_listen; i++) {
        if (a->o.n_ssh_listen >= SCPD_MAX_LISTEN) {
            scpd_err_set(err, SCPD_E_LIMIT, "--ssh-listen and --netconf-listen: at most %d "
                         "addresses together", SCPD_MAX_LISTEN);
            return EXIT_USAGE;
        }
        a->o.ssh_listen[a->o.n_ssh_listen++] = a->netconf_listen[i];
    }
    if (a->o.n_http_listen == 0)
        a->o.http_listen[a->o.n_http_listen++] = "127.0.0.1:8080";
    return 0;
}

/* ---- configuration files --------------------------------------------------------------------- */

/* Reads a config file (at most LIM_CONFIG_FILE_BYTES). NULL with err on failure. */
static char *read_file(const char *path, size_t *len, struct scpd_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        scpd_err_set(err, SCPD_E_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(LIM_CONFIG_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, LIM_CONFIG_FILE_BYTES + 1, f) : 0;
    int bad =
        !buf        ? scpd_err_set(err, SCPD_E_NOMEM, "out of memory")
        : ferror(f) ? scpd_err_set(err, SCPD_E_IO, "cannot read %s: %s", path, strerror(errno))
        : n > LIM_CONFIG_FILE_BYTES ? scpd_err_set(err, SCPD_E_LIMIT, "%s is larger than %u bytes",
                                                   path, LIM_CONFIG_FILE_BYTES)
                                    : 0;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses a whole config file in replace mode. EXIT_VALID with *out (if out != NULL),
 * EXIT_INVALID with the IOS-style errors printed on errout, EXIT_USAGE if unreadable. */
static int load_config_file(const char *path, FILE *errout, struct cfg **out)
{
    struct scpd_err err = {0};
    size_t len = 0;
    char *text = read_file(path, &len, &err);
    if (!text) {
        fprintf(errout, "%% %s\n", err.msg);
        return err.code == SCPD_E_LIMIT ? EXIT_INVALID : EXIT_USAGE;
    }
    struct cfg_errors *errs = calloc(1, sizeof(*errs));
    struct cfg *c = errs ? cfg_apply_text(NULL, text, len, CFG_REPLACE, errs) : NULL;
    int rc = EXIT_VALID;
    if (!c) {
        char *msg = errs ? cfg_errors_format(errs) : NULL;
        fprintf(errout, "%s", msg ? msg : "% out of memory\n");
        if (errs)
            fprintf(errout, "%% %s: %d error%s\n", path, errs->total, errs->total == 1 ? "" : "s");
        free(msg);
        rc = EXIT_INVALID;
    } else if (out) {
        *out = c;
        c = NULL;
    }
    cfg_free(c);
    free(errs);
    /* the file may hold `password 0` lines: the plaintext does not outlive the parse */
    explicit_bzero(text, len);
    free(text);
    return rc;
}

static int check_config(const char *path)
{
    int rc = load_config_file(path, stdout, NULL);
    if (rc == EXIT_VALID)
        printf("%s: configuration is valid\n", path);
    fflush(stdout);
    return rc;
}

/* ---- data directory -------------------------------------------------------------------------- */

/* mkdir -p with mode 0700 for every directory it creates. */
static int mkdir_p(const char *path, struct scpd_err *err)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof(buf), "%s", path);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return scpd_err_set(err, SCPD_E_INVALID, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0700) == 0) {
        log_info(NULL, "created directory %s", buf);
        return 0;
    }
    if (errno != EEXIST)
        return scpd_err_set(err, SCPD_E_IO, "cannot create %s: %s", buf, strerror(errno));
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return scpd_err_set(err, SCPD_E_IO, "%s exists and is not a directory", buf);
    return 0;
}

/* The data directory itself; what lives inside is made by its owners (store: scpd.db, hostkey:
 * keys/, ifs_open: fs/bootflash and fs/nvram). */
static int prepare_data_dir(const char *dir, struct scpd_err *err)
{
    return mkdir_p(dir, err);
}

/* Opens the store; on first start loads --startup-config (or the built-in default). Returns
 * EXIT_VALID, or EXIT_INVALID after logging why. */
static int open_store(struct scpd *d)
{
    struct scpd_err err = {0};
    char db[PATH_MAX];
    struct cfg *initial = NULL;
    const char *target = d->opts.store ? d->opts.store : d->opts.data_dir;
    int n = d->opts.store ? snprintf(db, sizeof(db), "the PostgreSQL store")
                          : snprintf(db, sizeof(db), "%s/scpd.db", d->opts.data_dir);
    if (n < 0 || (size_t)n >= sizeof(db)) {
        log_err(NULL, "data directory path too long: %s", d->opts.data_dir);
        return EXIT_INVALID;
    }
    int exists = store_initialized(target, &err);
    if (exists < 0) {
        log_err(NULL, "%s", err.msg);
        return EXIT_INVALID;
    }
    if (d->opts.startup_config && exists) {
        log_notice(NULL,
                   "--startup-config %s ignored: %s exists (the file is used on first start "
                   "only; copy it to running-config or startup-config instead)",
                   d->opts.startup_config, db);
    } else if (d->opts.startup_config) {
        int rc = load_config_file(d->opts.startup_config, stderr, &initial);
        if (rc != EXIT_VALID) {
            log_err(NULL, "startup configuration %s rejected; nothing was created",
                    d->opts.startup_config);
            return EXIT_INVALID;
        }
        log_info(NULL, "loaded startup configuration %s", d->opts.startup_config);
    } else if (!exists) {
        log_info(NULL, "no --startup-config: using the built-in default (nothing remote enabled)");
    }
    /* the YANG model both management doors use: a broken model is a broken build, said at once */
    if (model_init(&err) != 0) {
        log_err(NULL, "%s", err.msg);
        cfg_free(initial);
        return EXIT_FAILURE;
    }
    nc_proto_init();
    bool created = false;
    d->store = store_open(target, initial, &created, &err);
    cfg_free(initial);
    if (!d->store) {
        log_err(NULL, "%s", err.msg);
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}

/* A shared store holds one master key (the instance that created its content put it): this
 * instance adopts it, so type-6 keys stored by any instance decrypt on every one. */
static int master_key_shared(struct scpd *d, struct scpd_err *err)
{
    char mine[SECRET_MASTER_TEXT];
    if (secret_master_export(mine, sizeof mine) != 0)
        return scpd_err_set(err, SCPD_E_INTERNAL, "no master key loaded");
    char *have = store_secret_init(d->store, STORE_SECRET_MASTER, mine, err);
    int rc = have ? 0 : -1;
    if (have && strcmp(have, mine) != 0) {
        rc = secret_master_adopt(d->opts.data_dir, have, err);
        if (rc == 0)
            log_notice(NULL, "master key: %s/master.key replaced by the shared store's",
                       d->opts.data_dir);
    }
    if (have) {
        explicit_bzero(have, strlen(have));
        free(have);
    }
    explicit_bzero(mine, sizeof mine);
    return rc;
}

/* ---- services and doors ---------------------------------------------------------------------- */

/* `logging buffered SIZE` follows the running configuration (the log buffer is base/'s). */
static void log_buffer_follow(void *arg, const struct store_snap *snap)
{
    log_buffer_size((size_t)snap->cfg->log_buffer);
}

/* A shared store's host key was replaced by another instance (`crypto key generate rsa`), or the
 * watcher saw some secret change: adopt the store's keys, and the next connections present them.
 * On the store's watcher thread. */
static void hostkey_follow(void *arg, int64_t instance, const char *stream, const char *text)
{
    struct scpd *d = arg;
    struct scpd_err err = {0};
    int changed = 0;
    if (strcmp(stream, STORE_EVENT_SECRET) != 0 ||
        (text[0] && strncmp(text, "hostkey/", 8) != 0))
        return;
    if (hostkey_sync(d->opts.data_dir, d->store, &changed, &err) != 0 ||
        (changed && ssh_server_reload_hostkeys(d->ssh, &err) != 0))
        log_err(NULL, "host keys: cannot adopt the shared store's: %s; the next change or a "
                "restart adopts them", err.msg);
}

/* Starts everything after the store, in dependency order. On failure err says why; whatever
 * started is stopped by services_stop(). */
static int services_start(struct scpd *d, struct scpd_err *err)
{
    const struct store_snap *snap = store_snapshot(d->store);
    log_buffer_follow(NULL, snap);
    store_snap_release(snap);
    if (store_listen(d->store, log_buffer_follow, NULL) < 0)
        return scpd_err_set(err, SCPD_E_INTERNAL, "logging buffered: no room for a listener");
    d->ifs = d->opts.fs_dir ? ifs_open_at(d->opts.fs_dir, true, d->store, err)
                            : ifs_open(d->opts.data_dir, d->store, err);
    if (!d->ifs)
        return -1;
    for (int i = 0; i < d->opts.n_fs_size; i++) {
        if (ifs_set_limit(d->ifs, d->opts.fs_size[i].fs, d->opts.fs_size[i].bytes, err) < 0)
            return -1;
        log_info(NULL, "%s: size set to %llu bytes (--fs-size)", d->opts.fs_size[i].fs,
                 (unsigned long long)d->opts.fs_size[i].bytes);
    }

    d->trace = trace_new(LIM_TRACE_RING);
    if (!d->trace)
        return scpd_err_set(err, SCPD_E_NOMEM, "debug ip scp: out of memory for the trace ring");

    d->stats = stats_new(d->store);
    if (!d->stats)
        return scpd_err_set(err, SCPD_E_NOMEM, "statistics: cannot start the sampler thread");

    d->sessions = sessions_new();
    if (!d->sessions)
        return scpd_err_set(err, SCPD_E_NOMEM, "sessions: out of memory");

    d->aaa = aaa_new(d->store, d->stats, d->trace);
    if (!d->aaa)
        return scpd_err_set(err, SCPD_E_NOMEM, "aaa: out of memory");

    /* before the doors: once their ports are printed, the way back exists too */
    d->console = console_start(d, err);
    if (!d->console)
        return -1;

    d->ssh = ssh_server_start(d, err);
    if (!d->ssh)
        return -1;
    if (store_is_shared(d->store)) {
        if (store_event_listen(d->store, hostkey_follow, d) < 0)
            return scpd_err_set(err, SCPD_E_INTERNAL, "host keys: no room for a listener");
        hostkey_follow(d, 0, STORE_EVENT_SECRET, ""); /* a key replaced since hostkey_ensure */
    }

    d->api = api_start(d, err);
    if (!d->api)
        return -1;

    return 0;
}

/* Stops in the reverse order of services_start; each stop accepts NULL. */
static void services_stop(struct scpd *d)
{
    console_stop(d->console);
    d->console = NULL;

    api_stop(d->api);
    d->api = NULL;

    if (d->store && store_is_shared(d->store)) /* before the SSH door it reloads goes */
        store_event_unlisten(d->store, hostkey_follow, d);
    ssh_server_stop(d->ssh);
    d->ssh = NULL;

    aaa_free(d->aaa);
    d->aaa = NULL;

    stats_free(d->stats);
    d->stats = NULL;

    sessions_free(d->sessions);
    d->sessions = NULL;

    trace_free(d->trace);
    d->trace = NULL;

    ifs_free(d->ifs);
    d->ifs = NULL;
}

/* ---- run ------------------------------------------------------------------------------------- */

static int run(struct scpd *d)
{
    struct scpd_err err = {0};
    int rc = EXIT_INVALID;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    /* Before any thread exists: every thread inherits the mask, only sigwait() sees them. */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a peer closing a socket is an error return, not a death */

    log_info(NULL, "scpd %s starting, data directory %s", SCPD_VERSION, d->opts.data_dir);
    if (prepare_data_dir(d->opts.data_dir, &err) != 0) {
        log_err(NULL, "%s", err.msg);
        return EXIT_INVALID;
    }
    /* before any config is parsed: server keys are encrypted under it as they are read */
    if (secret_master_init(d->opts.data_dir, &err) != 0) {
        log_err(NULL, "master key: %s", err.msg);
        return EXIT_INVALID;
    }
    if (open_store(d) != EXIT_VALID)
        return EXIT_INVALID;
    if (store_is_shared(d->store) && master_key_shared(d, &err) != 0) {
        log_err(NULL, "master key: %s", err.msg);
        goto out;
    }
    int nkeys = 0;
    /* a shared store holds the host keys, so every instance presents the same identity */
    if (hostkey_ensure(d->opts.data_dir, store_is_shared(d->store) ? d->store : NULL, &nkeys,
                       &err) != 0) {
        log_err(NULL, "host keys: %s", err.msg);
        goto out;
    }
    if (hostkey_path(d->opts.data_dir, HOSTKEY_ED25519, d->client_key, sizeof(d->client_key),
                     &err) != 0)
        d->client_key[0] = '\0';
    if (services_start(d, &err) != 0) {
        log_err(NULL, "start failed: %s", err.msg);
        goto out;
    }
    fflush(stdout);
    log_notice(NULL, "scpd ready (configuration version %llu)",
               (unsigned long long)store_version(d->store));

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    __atomic_store_n(&d->stopping, 1, __ATOMIC_RELAXED);
    log_notice(NULL, "%s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = EXIT_VALID;
out:
    services_stop(d);
    store_close(d->store);
    d->store = NULL;
    if (rc == EXIT_VALID)
        log_notice(NULL, "scpd stopped");
    return rc;
}

int main(int argc, char **argv)
{
    struct main_args a;
    struct scpd_err err = {0};
    memset(&a, 0, sizeof(a));
    a.log_level = LOG_LVL_INFO;
    if (argc > 1 && strcmp(argv[1], "console") == 0)   /* the client of the console line */
        return console_client(argc - 1, argv + 1);
    if (parse_args(argc, argv, &a, &err) != 0) {
        fprintf(stderr, "scpd: %s\n", err.msg);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (a.help) {
        usage(stdout);
        return 0;
    }
    if (a.version) {
        printf("scpd %s\n", SCPD_VERSION);
        return 0;
    }
    if (a.check_config)
        return check_config(a.check_config);
    log_set_level(a.log_level);
    umask(077); /* the store, keys and uploaded files are for this user only */
    struct scpd d;
    memset(&d, 0, sizeof(d));
    d.opts = a.o;
    return run(&d);
}

/* cli_admin: the EXEC commands that administer the device the way IOS's AAA/SSH templates assume:
 * `enable`'s password (against `enable secret`, through AAA), `disable`, `reload` (running-config
 * becomes the startup-config again: the way back from an unsaved bad change) and the RSA host key
 * (`crypto key generate rsa`, `show crypto key mypubkey rsa`). Rows in cli_cmds.c's table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "daemon/cli_int.h"
#include "daemon/hostkey.h"
#include "daemon/ssh_server.h"
#include "services/aaa.h"
#include "store/cfg.h"
#include "store/store.h"

void cli_enable_password(struct cli *c, const char *pw, size_t len)
{
    char plain[LIM_PASSWORD_LEN + 1];
    struct scpd_err err = {0};
    struct aaa_req req = {.door = "ssh", .user = c->env.user, .peer_addr = c->env.peer_addr,
                          .peer = c->env.peer, .sid = c->env.sid};
    if (len > LIM_PASSWORD_LEN)
        len = LIM_PASSWORD_LEN + 1;   /* refused by aaa_enable as too long */
    snprintf(plain, sizeof plain, "%.*s", (int)(len < sizeof plain ? len : sizeof plain - 1), pw);
    enum aaa_result r = aaa_enable(c->env.aaa, &req, len > LIM_PASSWORD_LEN ? NULL : plain, &err);
    OPENSSL_cleanse(plain, sizeof plain);
    if (r == AAA_OK) {
        log_notice(&c->lc, "cli: enable: privilege %d -> 15", c->privilege);
        c->privilege = 15;
        c->pw_tries = 0;
        return;
    }
    if (r == AAA_FAIL && --c->pw_tries > 0) {
        cli_out_str(c, "Password: ");
        return;
    }
    c->pw_tries = 0;
    cli_out_str(c, r == AAA_BLOCKED ? "% Login blocked (login block-for)\n" : "% Bad secrets\n\n");
}

/* `reload`: a router reboots into its startup-config; here the running config becomes the saved
 * startup-config again (store_reload), which is what undoes an unsaved bad change. IOS's
 * question first; then the session ends, as a reload ends every session. */
int cli_cmd_reload(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (c->env.store == NULL) {
        cli_out_str(c, "%Error: no configuration store on this device\n");
        return 1;
    }
    if (c->exec) {   /* nothing to answer the question with: IOS's `reload` needs a terminal */
        cli_out_str(c, "% Reload needs an interactive session to confirm\n");
        return 1;
    }
    cli_out_str(c, "Proceed with reload? [confirm]");
    c->confirm_reload = true;
    return 0;
}

void cli_reload_answer(struct cli *c, const char *line, size_t len)
{
    struct store_who who = {.user = c->env.user, .source = "cli", .peer = c->env.peer};
    struct scpd_err err = {0};
    size_t i = 0;
    c->confirm_reload = false;
    while (i < len && line[i] == ' ')
        i++;
    bool yes = i == len || line[i] == 'y' || line[i] == 'Y';
    if (!yes)
        return;
    if (store_reload(c->env.store, &who, &err) != 0) {
        cli_out_err(c, &err);
        return;
    }
    log_notice(&c->lc,
               "cli: %%SYS-5-RELOAD: Reload requested by %s. Reload Reason: Reload Command.",
               c->env.user ? c->env.user : "");
    cli_out_str(c, "Reload complete: running-config is the startup-config again\n");
    if (c->cfgt != NULL)
        cli_config_end(c);
    c->ended = true;
}

/* IOS names its key pair HOSTNAME.DOMAIN (ip domain name). */
static void cli_key_name(struct cli *c, char *host, size_t hcap, char *name, size_t ncap)
{
    const struct store_snap *snap = c->env.store ? store_snapshot(c->env.store) : NULL;
    cli_hostname(c, host, hcap);
    const char *dom = snap ? snap->cfg->domain_name : "";
    snprintf(name, ncap, "%s%s%s", host, dom[0] ? "." : "", dom);
    if (snap)
        store_snap_release(snap);
}

/* `crypto key generate rsa [modulus N]`: a new RSA host key (IOS's key pair for SSH), used by the
 * next connections; IOS asks before replacing keys, this device is `file prompt quiet` and
 * replaces them (clients that pinned the old key will warn, as with IOS). */
int cli_cmd_crypto_gen(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct scpd_err err = {0};
    int bits = arg != NULL ? (int)num : HOSTKEY_RSA_BITS;
    if (c->env.data_dir == NULL || c->env.ssh == NULL) {
        cli_out_str(c, "%Error: no SSH server on this device\n");
        return 1;
    }
    char host[CFG_NAME_MAX], name[2 * CFG_NAME_MAX + 1];
    cli_key_name(c, host, sizeof host, name, sizeof name);
    cli_out_fmt(c, "The name for the keys will be: %s\n", name);
    cli_out_fmt(c, "%% Generating %d bit RSA keys, keys will be non-exportable...\n", bits);
    if (hostkey_regenerate_rsa(c->env.data_dir, c->env.store, bits, &err) != 0 ||
        ssh_server_reload_hostkeys(c->env.ssh, &err) != 0)
        return cli_out_err(c, &err);
    log_notice(&c->lc, "cli: %%SSH-5-ENABLED: SSH 2.0 has been enabled (new %d bit RSA host key)",
               bits);
    cli_out_str(c, "[OK]\n");
    return 0;
}

/* `show crypto key mypubkey rsa`: IOS's layout, the key as DER hex in groups of 8 digits. */
int cli_cmd_show_mypubkey(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    struct scpd_err err = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    int bits = 0;
    time_t at = 0;
    char host[CFG_NAME_MAX], name[2 * CFG_NAME_MAX + 1], when[64];
    struct tm tm;
    if (c->env.data_dir == NULL) {
        cli_out_str(c, "%Error: no SSH server on this device\n");
        return 1;
    }
    if (hostkey_rsa_public_der(c->env.data_dir, &der, &len, &bits, &at, &err) != 0)
        return cli_out_err(c, &err);
    cli_key_name(c, host, sizeof host, name, sizeof name);
    gmtime_r(&at, &tm);
    strftime(when, sizeof when, "%H:%M:%S UTC %b %d %Y", &tm);
    cli_out_fmt(c, "%% Key pair was generated at: %s\nKey name: %s\nKey type: RSA KEYS\n"
                   " Storage Device: private-config\n Usage: General Purpose Key\n"
                   " Key is not exportable. Redundancy enabled.\n Key Data:\n", when, name);
    for (size_t i = 0; i < len; i += 32) {
        char line[128];
        size_t o = 0;
        for (size_t j = i; j < len && j < i + 32; j++) {
            if (j > i && (j - i) % 4 == 0)
                line[o++] = ' ';
            o += (size_t)snprintf(line + o, sizeof line - o, "%02X", der[j]);
        }
        line[o] = '\0';
        cli_out_fmt(c, "  %s\n", line);
    }
    (void)bits;
    OPENSSL_free(der);
    return 0;
}

/* IOS: back to user EXEC (level 1). */
int cli_cmd_disable(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num)
{
    if (c->privilege > 1)
        c->privilege = 1;
    return 0;
}

/* cfg_int: what the cfg_*.c files share and nobody else uses: the growable text buffer, the token
 * form of a line, the parse context, and the command table type. Not an interface of the store. */
#ifndef SCPD_CFG_INT_H
#define SCPD_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "store/cfg.h"

/* ---- growable text buffer (render, diff, error formatting) ----------------------------------- */
struct cfg_buf {
    char *p;
    size_t len, cap;
    bool oom;           /* an allocation failed; the buffer is unusable */
};
void cfg_buf_add(struct cfg_buf *b, const char *s, size_t n);
void cfg_buf_puts(struct cfg_buf *b, const char *s);
void cfg_buf_printf(struct cfg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *cfg_buf_take(struct cfg_buf *b, size_t *len); /* NUL-terminated; NULL if oom */

/* ---- a line split into words ----------------------------------------------------------------- */
#define CFG_MAX_TOKENS 64
struct cfg_tok {
    const char *s;      /* NUL-terminated (the line copy is split in place) */
    size_t len;
    int col;            /* 1-based column in the original line */
};
struct cfg_line {
    char raw[LIM_CFG_LINE_LEN + 1];   /* the line as given (for error text) */
    char buf[LIM_CFG_LINE_LEN + 1];   /* split copy the tokens point into */
    struct cfg_tok t[CFG_MAX_TOKENS];
    int n;
    int end_col;        /* column just after the last character (for "incomplete command") */
};

/* Parser modes: where a line is interpreted. A line that is not a command of the current
 * sub-mode is retried in the parent mode (IOS's implicit exit), so indentation is cosmetic. */
enum cfg_pmode {
    CFG_PM_TOP = 0, CFG_PM_PKCHAIN, CFG_PM_PKUSER, CFG_PM_KEYSTRING,
    CFG_PM_LINE,     /* line vty A B */
    CFG_PM_NACL,     /* ip access-list standard NAME */
    CFG_PM_BANNER,   /* the text lines of banner motd|login DELIM ... DELIM */
    CFG_PM_TACACS,   /* tacacs server NAME */
    CFG_PM_RADIUS,   /* radius server NAME */
    CFG_PM_SGROUP,   /* aaa group server tacacs+|radius NAME */
};

/* The sub-modes as a tree, for the parser (implicit exit to the parent) and for configuration mode
 * at a terminal (its prompt `HOST(config-line)#` and `exit`). A new block adds its mode here and
 * its rows to the command table; nothing else needs to know it (cfg_cmds.c). */
struct cfg_mode_info {
    enum cfg_pmode mode;
    enum cfg_pmode parent;
    const char *prompt;         /* "config", "config-pubkey-chain", ... */
};
extern const struct cfg_mode_info cfg_modes[];
extern const size_t cfg_nmodes;

struct cfg_work; /* the config being built, with indexes (cfg_parse.c) */

/* Parse context handed to every command's apply/no function. */
struct cfg_pctx {
    struct cfg_work *w;
    struct cfg *c;              /* == the work's config */
    const struct cfg *ref;      /* the config the change is made to (NULL: none): a plaintext
                                   secret that verifies against its stored form there keeps that
                                   form, so writing the same password again is no change */
    enum cfg_pmode mode;        /* current mode; apply functions may change it */
    struct cfg_buf ks;          /* base64 of the key-string being entered */
    char block[CFG_NAME_MAX];   /* name of the block being configured (ip access-list NAME, tacacs
                                   server NAME, ...) */
    struct cfg_buf banner;      /* CFG_PM_BANNER: the text so far */
    char bdelim[3];             /* its delimiter: one character, or "^C" */
    bool blogin;                /* banner login (else motd) */
    int err_col;                /* set by cfg_fail */
    char err_reason[256];
};

/* Records an error at token column col; returns -1. */
int cfg_fail(struct cfg_pctx *p, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One row of the command table. kw are the fixed leading keywords (exact, no abbreviations);
 * apply gets the line and the index of the first argument after the keywords; no is the `no` form
 * (argi points after "no" and the keywords); render writes this command's part of the model
 * (NULL for sub-mode commands, which their block's row renders). section groups rows between "!"
 * separators in the rendering. */
struct cfg_cmd {
    enum cfg_pmode mode;
    const char *kw[4];
    int (*apply)(struct cfg_pctx *p, const struct cfg_line *l, int argi);
    int (*no)(struct cfg_pctx *p, const struct cfg_line *l, int argi);
    void (*render)(struct cfg_buf *b, const struct cfg *c, bool all);
    int section;
    const char *help;
};
extern const struct cfg_cmd cfg_cmds[];
extern const size_t cfg_ncmds;

/* The commands of the table that carry a secret (kw: the row's keywords) and the words whose value
 * is one (`password`, `secret`, `key`), looked for from word `at` of the line (0: the first
 * keyword) on: hidden in every message (cfg_hide.c). A row with a secret argument adds one here. */
struct cfg_secret {
    const char *kw[4];
    const char *words[2];
    int at;
};
extern const struct cfg_secret cfg_secrets[];
extern const size_t cfg_nsecrets;

/* Banner mode: one raw line of banner text (cfg_cmds.c); at the delimiter the banner is set and
 * the mode returns to the top. */
int cfg_banner_data(struct cfg_pctx *p, const char *raw);

/* Key-string mode: base64 data lines collected until `exit` (cfg_cmds.c). */
int cfg_keystring_data(struct cfg_pctx *p, const struct cfg_line *l);
int cfg_keystring_end(struct cfg_pctx *p, int col);

/* ---- secrets in messages (cfg_hide.c) -------------------------------------------------------- */
/* Appends s[0..n) (one line, no newline) with its secret shown as "<hidden>". */
void cfg_hide_add(struct cfg_buf *b, const char *s, size_t n);
/* A refused line for an error report: controls as '?', tabs as blanks, the secret "<hidden>"; a
 * marker column *col inside the hidden part moves to its start. */
void cfg_hide_typed(const char *raw, char *out, size_t cap, int *col);

/* Working-set operations the commands use (cfg_parse.c): find or create by name. NULL + error
 * reason when a limit is hit. Pointers stay valid only until the next *_get call. */
struct cfg_user *cfg_work_user(struct cfg_pctx *p, const char *name, bool create, int col);
void cfg_work_user_del(struct cfg_pctx *p, const char *name);
struct cfg_pkuser *cfg_work_pkuser(struct cfg_pctx *p, const char *name, bool create, int col);
struct cfg_pkuser *cfg_work_pkuser_cur(struct cfg_pctx *p);
void cfg_work_pkuser_set_cur(struct cfg_pctx *p, const char *name);
void cfg_work_pkuser_del(struct cfg_pctx *p, const char *name);
void cfg_work_pkuser_clear(struct cfg_pctx *p);

/* Network AAA rows (cfg_aaa.c): apply, no and render functions of its table rows. */
int cfg_aaa_tacacs(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_tacacs_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_radius(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_radius_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_address(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_address_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_port(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_port_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_key(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_key_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_timeout(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_timeout_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_retransmit(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_retransmit_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_single(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_srv_single_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_group(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_group_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_grp_server(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_grp_server_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_grp_deadtime(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_grp_deadtime_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_dead_criteria(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_dead_criteria_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_rad_deadtime(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_rad_deadtime_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_acct(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_aaa_acct_no(struct cfg_pctx *p, const struct cfg_line *l, int i);
void cfg_aaa_tacacs_render(struct cfg_buf *b, const struct cfg *c, bool all);
void cfg_aaa_radius_render(struct cfg_buf *b, const struct cfg *c, bool all);
void cfg_aaa_group_render(struct cfg_buf *b, const struct cfg *c, bool all);
void cfg_aaa_acct_render(struct cfg_buf *b, const struct cfg *c, bool all);
void cfg_aaa_radglobal_render(struct cfg_buf *b, const struct cfg *c, bool all);
/* The argument helpers of cfg_cmds.c, for the row files beside it: word i must exist (else
 * "incomplete command: WHAT expected"), no word from i on, word t a number lo-hi, word t a safe
 * name, word t equals w. Each returns 0 or cfg_fail's -1 (is_word: a bool). */
int cfg_arg_need(struct cfg_pctx *p, const struct cfg_line *l, int i, const char *what);
int cfg_arg_end(struct cfg_pctx *p, const struct cfg_line *l, int i);
int cfg_arg_num(struct cfg_pctx *p, const struct cfg_tok *t, int lo, int hi, int *out);
int cfg_arg_name(struct cfg_pctx *p, const struct cfg_tok *t, const char *what);
bool cfg_arg_is(const struct cfg_tok *t, const char *w);
/* Model helpers (cfg.c). */
void cfg_sort_users(struct cfg *c);
void cfg_sort_pkusers(struct cfg *c);
void cfg_sort_mlists(struct cfg_mlist *l, size_t n);

#endif

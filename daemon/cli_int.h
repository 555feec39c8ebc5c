/* cli_int: what the EXEC command line's engine (cli.c) and its commands (cli_cmds.c: the table
 * and the system commands; cli_fs.c: the file commands) share. Private to daemon/cli*.c: the rest
 * of the program uses cli.h. */
#ifndef SCPD_CLI_INT_H
#define SCPD_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/lim.h"
#include "base/log.h"
#include "base/scpd_err.h"
#include "daemon/cli.h"
#include "store/cfg.h"

#define CLI_MAX_KW 5     /* keywords of the longest command (show crypto key mypubkey rsa) */
#define CLI_MAX_CMDS 256 /* rows of the table (the parser keeps a candidate flag per row) */

enum cli_esc { ESC_NONE = 0, ESC_START, ESC_CSI };

struct cli_word {
    const char *s;     /* into the line buffer; not terminated */
    size_t len;
    size_t col;        /* column of its first character in the line */
};

/* A question put by cli_ask(): the next line typed is its answer, not a command. */
typedef int (*cli_answer_fn)(struct cli *c, void *arg, const char *answer);
struct cli_question {
    cli_answer_fn fn;       /* NULL: no question pending */
    void *arg;
    void (*drop)(void *arg);   /* frees arg when the question is abandoned (Ctrl-C, close) */
    bool secret;            /* a password: typed characters are not echoed */
    char prompt[LIM_PATH_LEN + 64];   /* the question as shown */
};

/* A long operation started by cli_run_op(): cli_poll() calls step until it is done. */
struct cli_op {
    int (*step)(struct cli *c, void *arg);     /* CLI_OP_MORE, or 0 done / 1 failed (its output
                                                * written; arg freed by step) */
    void (*cancel)(struct cli *c, void *arg);  /* Ctrl-C or close: undo, say so, free arg */
    void *arg;                                 /* NULL: no operation */
};
#define CLI_OP_MORE 2

struct trace_sub;

struct cli {
    struct cli_env env;
    struct cli_question ask;
    struct cli_op op;
    int exec_status;        /* cli_exec: the status of the command (when it went busy) */
    struct trace_sub *monitor;   /* `terminal monitor` on: trace lines for this session */
    uint64_t monitor_lost;  /* trace lines this terminal was too slow for (show terminal) */
    int privilege;
    int granted;            /* the account's level as last seen by env.authz */
    char line[LIM_CLI_LINE_LEN + 1];
    size_t len;
    bool overflow;          /* the line went over LIM_CLI_LINE_LEN */
    bool after_cr;          /* the previous byte was CR: a following LF belongs to it */
    enum cli_esc esc;
    bool ended;
    bool exec;              /* cli_exec: no echo, so a caret needs the line printed above it */
    bool oom;
    size_t prompt_len;      /* of the prompt in front of the current line (the caret column) */
    int term_length, term_width;
    struct cfg_term *cfgt;  /* configuration mode (`configure terminal`); NULL in EXEC */
    int pw_tries;           /* `enable` is reading its password: attempts left (0: not) */
    bool confirm_reload;    /* `reload` asked "Proceed with reload? [confirm]" */
    char *out;
    size_t out_len, out_cap;
    struct log_ctx lc;
};

/* ---- the command table (cli_cmds.c) ---------------------------------------------------------- */

struct cli_cmd;
enum cli_arg {
    ARG_NONE = 0,   /* no argument */
    ARG_NUM,        /* one number in [min, max] */
    ARG_PATH_OPT,   /* an optional IFS path */
    ARG_PATH,       /* one IFS path */
    ARG_REST,       /* the rest of the line as it was typed (optional; the command parses it) */
};

typedef int (*cli_fn)(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);

struct cli_cmd {
    const char *kw[CLI_MAX_KW + 1];   /* NULL-terminated keywords */
    enum cli_arg arg;
    long min, max;                    /* ARG_NUM */
    int privilege;                    /* needed to see the command */
    cli_fn run;                       /* 0 done, 1 refused or failed */
    const char *help[CLI_MAX_KW];     /* `?`: what each keyword means (IOS's wording) */
    const char *arg_help;             /* `?`: what the argument is */
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

/* ---- output into the session's buffer (cli.c) ------------------------------------------------ */

/* Bytes as they are. */
void cli_out_raw(struct cli *c, const char *s, size_t n);
/* Text with "\n" line ends; a terminal gets "\r\n" (IOS sends CRLF on a vty). */
void cli_out_text(struct cli *c, const char *s, size_t n);
void cli_out_str(struct cli *c, const char *s);
void cli_out_fmt(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error from a module below, as IOS shows errors: on its own line. Returns 1 (refused). */
int cli_out_err(struct cli *c, const struct scpd_err *err);
/* The configured hostname (or the default) into buf. */
void cli_hostname(struct cli *c, char *buf, size_t cap);

/* Runs one EXEC line (output modifiers included) whatever the mode: `do` in configuration mode.
 * 0, or 1 when refused or failed. */
int cli_exec_line(struct cli *c, const char *line, size_t len, size_t caret_offset);
/* IOS's marker under column col of the line, and the reason ("" for IOS's plain message). */
void cli_invalid_at(struct cli *c, const char *line, size_t len, size_t col, const char *why);

/* ---- configuration mode (cli_config.c) ------------------------------------------------------- */

int cli_cmd_configure(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
/* One line typed in configuration mode: a config line (one commit), `do`, `end` or `exit`. */
int cli_config_line(struct cli *c, const char *line, size_t len, size_t caret_offset);
/* `?` in configuration mode. */
void cli_config_help(struct cli *c);
/* `end` or Ctrl-Z: back to EXEC (logged as IOS's CONFIG_I). */
void cli_config_end(struct cli *c);

/* ---- device administration (cli_admin.c) ---------------------------------------------------- */
int cli_cmd_reload(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_disable(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
/* crypto key generate rsa [modulus N], show crypto key mypubkey rsa. */
int cli_cmd_crypto_gen(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_mypubkey(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);

/* The answer to `reload`'s [confirm]: empty or y/yes confirms. */
void cli_reload_answer(struct cli *c, const char *line, size_t len);
/* The line typed after `enable`'s "Password: " (not echoed, never logged). */
void cli_enable_password(struct cli *c, const char *pw, size_t len);
/* ---- questions and long operations (cli.c) --------------------------------------------------- */

/* Puts a question (IOS's "Destination filename [x]? ", "[confirm]", "Password: "): it is shown
 * instead of the prompt and the next line goes to fn(c, arg, answer) (without its line end),
 * which then owns arg and returns 0 or 1 like a command; fn may ask again or start an operation.
 * drop(arg) runs instead if the question is abandoned. A secret answer is not echoed, never
 * logged, and wiped from the line buffer. In an exec request (no one to answer) fn gets "" at
 * once: the default. */
void cli_ask(struct cli *c, const char *question, bool secret, cli_answer_fn fn, void *arg,
             void (*drop)(void *arg));
/* Starts a long operation (see cli_op); the prompt returns when it is done. */
void cli_run_op(struct cli *c, int (*step)(struct cli *c, void *arg),
                void (*cancel)(struct cli *c, void *arg), void *arg);
/* The answer to "[confirm]": empty (Enter) or a prefix of "yes" confirms, as in IOS. */
bool cli_confirmed(const char *answer);

/* Output that arrives between commands (`terminal monitor`): begin puts it on a line of its
 * own, end shows the prompt (or question) and the half-typed line again, as IOS does. */
void cli_async_begin(struct cli *c);
void cli_async_end(struct cli *c);

/* Splits s (the ARG_REST text) into at most max words, in place (NUL-terminated). Returns the
 * count, or max + 1 when there are more. */
size_t cli_split(char *s, char **words, size_t max);

/* ---- the file commands (cli_fs.c) ------------------------------------------------------------ */

int cli_cmd_dir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_fs(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_running(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_startup(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_running_all(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_delete(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_mkdir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_rmdir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_rename(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_more(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_verify(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_file_info(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
/* The path an answer to "... filename [x]?" names: current (a canonical IFS name) when the answer
 * is empty, the answer as is when it names a file system, else the answer in current's
 * directory. 0, or -1 when it does not fit in cap. */
int cli_answer_path(const char *current, const char *answer, char *out, size_t cap);

/* ---- copy (cli_copy.c) ----------------------------------------------------------------------- */

int cli_cmd_copy(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
/* Whether `file prompt quiet` is configured (no questions from copy and delete). */
bool cli_prompt_quiet(struct cli *c);

/* ---- debugging and system information (cli_debug.c) ------------------------------------------ */

int cli_cmd_debug_scp(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_no_debug_scp(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_debugging(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_term_monitor(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_term_no_monitor(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_logging(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_clear_logging(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_ip_ssh(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_clock(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_users(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
/* Moves the trace lines that arrived for `terminal monitor` into the output. */
void cli_monitor_drain(struct cli *c);
void cli_monitor_stop(struct cli *c);

#endif

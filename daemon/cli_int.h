/* cli_int: what the EXEC command line's engine (cli.c) and its commands (cli_cmds.c: the table
 * and the system commands; cli_fs.c: the file commands) share. Private to daemon/cli*.c: the rest of
 * the program uses cli.h. */
#ifndef SCPD_CLI_INT_H
#define SCPD_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/lim.h"
#include "base/log.h"
#include "base/scpd_err.h"
#include "daemon/cli.h"

#define CLI_MAX_KW 3              /* keywords of the longest command (copy running startup) */
#define CLI_MAX_CMDS 256          /* rows of the table (the parser keeps a candidate flag per row) */

enum cli_esc { ESC_NONE = 0, ESC_START, ESC_CSI };

struct cli_word {
    const char *s;     /* into the line buffer; not terminated */
    size_t len;
    size_t col;        /* column of its first character in the line */
};

struct cli {
    struct cli_env env;
    int privilege;
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

/* ---- the file commands (cli_fs.c) ------------------------------------------------------------ */

int cli_cmd_dir(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_verify_md5(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_fs(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_running(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);
int cli_cmd_show_startup(struct cli *c, const struct cli_cmd *cmd, const char *arg, long num);

#endif

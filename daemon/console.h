/* console: the way back from a lockout, as a router's console line is. The daemon listens on a
 * Unix socket DATA-DIR/console.sock (mode 0600, and only its own user or root may connect:
 * SO_PEERCRED) and serves the EXEC CLI at privilege 15 without AAA; `scpd console` is the client
 * (the same binary) that relays a terminal to it. Start/stop on the main thread. */
#ifndef SCPD_CONSOLE_H
#define SCPD_CONSOLE_H

#include "base/scpd.h"
#include "base/scpd_err.h"

struct console;

/* Listens on DATA-DIR/console.sock. NULL with err on failure. */
struct console *console_start(struct scpd *d, struct scpd_err *err);
/* Stops listening, ends the sessions (they see end of input) and waits for them. NULL: no-op. */
void console_stop(struct console *con);

/* The client: `scpd console [--data-dir DIR]`. Relays stdin/stdout to the daemon's console (the
 * terminal in raw mode when stdin is one). Returns the process exit status. */
int console_client(int argc, char **argv);

#endif

/* err: the error record every module fills on failure.
 * Functions return 0 / a pointer on success and -1 / NULL on failure with *err filled by
 * scpd_err_set(); the message is for a user to act on (it may reach an SCP client or an API body).
 */
#ifndef SCPD_ERR_H
#define SCPD_ERR_H

#include <stdarg.h>

enum scpd_errcode {
    SCPD_E_OK = 0,
    SCPD_E_INVALID,     /* bad input from a peer, a file or the API */
    SCPD_E_NOTFOUND,
    SCPD_E_EXISTS,
    SCPD_E_DENIED,      /* privilege / authorization */
    SCPD_E_LIMIT,       /* a size, count or time limit was hit */
    SCPD_E_CONFLICT,    /* version mismatch (If-Match), concurrent commit */
    SCPD_E_IO,          /* file system or sqlite failure */
    SCPD_E_NOMEM,
    SCPD_E_INTERNAL,
    SCPD_E_UNAVAILABLE, /* a shared resource (the PostgreSQL store) cannot be reached now */
    SCPD_E_LOCKED,      /* the running datastore is locked by another session (NETCONF lock) */
};

struct scpd_err {
    enum scpd_errcode code;
    char msg[512];
};

/* Sets err (if not NULL) and returns -1, so `return scpd_err_set(err, ...)` reads naturally. */
int scpd_err_set(struct scpd_err *err, enum scpd_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void scpd_err_clear(struct scpd_err *err);

#endif

/* copy_int: what the copy engine's files share (copy.c: copies within the IOS File System;
 * copy_remote.c: copies the device starts to and from a remote SSH server). Private to
 * services/copy*.c. */
#ifndef SCPD_COPY_INT_H
#define SCPD_COPY_INT_H

#include "services/copy.h"

#define COPY_BUF (256u << 10)   /* one read/write; the ifs writer fsyncs only at the commit */

/* Every job starts with this; step and free are its kind's (free releases what the kind holds,
 * copy_free frees the rest). */
struct copy_job {
    int (*step)(struct copy_job *j, size_t budget, struct scpd_err *err);
    void (*free)(struct copy_job *j);
    uint64_t size, done;
    char *detail;
};

#endif

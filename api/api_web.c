/* api_web: the dashboard (web/) served at / without credentials (docs/api.md: the static dashboard
 * files are public; everything they show comes from authenticated API calls).
 * The files are a fixed table, not a directory listing: a request can only ever name one of these
 * rows, so no path from a client reaches the file system. They are read from the web/ directory of
 * the source tree, found next to the binary (build/scpd and build/asan/scpd are one and two levels
 * below it) or named by SCPD_WEB_DIR, at request time: a fresh clone works with `make run` and the
 * tests, and editing a file needs no rebuild. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_obs.h"

#define API_WEB_MAX_FILE (2u << 20)   /* largest dashboard file we serve */
#define API_WEB_PARENTS 3             /* levels above the binary searched for web/ */

static const struct {
    const char *url;       /* path below / */
    const char *file;      /* file in web/ */
    const char *ctype;
} api_web_files[] = {
    {"", "index.html", "text/html; charset=utf-8"},
    {"index.html", "index.html", "text/html; charset=utf-8"},
    {"app.js", "app.js", "text/javascript; charset=utf-8"},
    {"style.css", "style.css", "text/css; charset=utf-8"},
    {"favicon.svg", "favicon.svg", "image/svg+xml"},
    {"favicon.ico", "favicon.svg", "image/svg+xml"},
};

/* The web/ directory into dir; 0 or -1. */
static int api_web_dir(char *dir, size_t cap)
{
    const char *env = getenv("SCPD_WEB_DIR");
    if (env && *env)
        return snprintf(dir, cap, "%s", env) < (int)cap ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    for (int up = 0; up <= API_WEB_PARENTS; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return -1;
        *slash = '\0';
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/web/index.html", exe);
        if (access(probe, R_OK) == 0)
            return snprintf(dir, cap, "%s/web", exe) < (int)cap ? 0 : -1;
    }
    return -1;
}

/* The whole file, in a buffer of its own size (anonymous clients fetch these: no 2 MiB buffer per
 * request). A file that changes size while it is read is read again by the next request. */
static char *api_web_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f)
        return NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > API_WEB_MAX_FILE) {
        fclose(f);
        return NULL;
    }
    size_t size = (size_t)sb.st_size;
    char *buf = malloc(size + 1);   /* + 1: an empty file is a valid, empty body */
    bool whole = buf && fread(buf, 1, size, f) == size && fgetc(f) == EOF && !ferror(f);
    fclose(f);
    if (!whole) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

int api_h_web(struct api_req *r, struct api_resp *resp)
{
    const char *want = api_rest_count(r) == 0 ? "" : api_rest_count(r) == 1 ? api_rest(r, 0) : NULL;
    for (size_t i = 0; want && i < sizeof api_web_files / sizeof api_web_files[0]; i++) {
        if (strcmp(want, api_web_files[i].url) != 0)
            continue;
        char dir[PATH_MAX], path[PATH_MAX + 64];
        size_t len = 0;
        char *body = NULL;
        if (api_web_dir(dir, sizeof dir) == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, api_web_files[i].file);
            body = api_web_read(path, &len);
        }
        if (!body)
            return api_error(resp, 404, "application", "data-missing", r->path,
                             "dashboard file %s not found (web/ next to the scpd binary, or "
                             "set SCPD_WEB_DIR)", api_web_files[i].file);
        api_resp_header(resp, "X-Content-Type-Options", "nosniff");
        api_resp_header(resp, "Content-Security-Policy",
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                        "frame-ancestors 'none'");
        return api_text(resp, 200, api_web_files[i].ctype, body, len);
    }
    return api_error(resp, 404, "protocol", "invalid-value", r->path, "no resource at %s",
                     r->path);
}

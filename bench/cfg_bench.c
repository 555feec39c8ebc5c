/* cfg_bench: how long the configuration language takes on a large file (issue 2: a 10,000-user
 * configuration must parse and render each well under a second).
 *
 * The file has N users (default 10,000) with pre-hashed `secret 9` lines, 8 method lists and a
 * pubkey-chain with one key for every tenth user. Pre-hashed, because a plaintext `password 0`
 * line costs one scrypt run (N=16384): that is the cost of scrypt, measured separately below, not
 * of the parser. Each figure is the median of R runs (default 7).
 *
 *   make bench-cfg                    # or: build/bench/cfg_bench [USERS] [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/cfg.h"
#include "store/secret.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Deterministic well-formed (not verifiable) type-9 strings: the parser only checks the syntax. */
static void fake9(unsigned seed, char *out, size_t cap)
{
    static const char a[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char s[15], h[44];
    unsigned x = seed * 2654435761u + 12345u;
    for (int i = 0; i < 14; i++, x = x * 1103515245u + 12345u)
        s[i] = a[(x >> 16) & 63];
    for (int i = 0; i < 43; i++, x = x * 1103515245u + 12345u)
        h[i] = a[(x >> 16) & 63];
    s[14] = h[43] = '\0';
    snprintf(out, cap, "$9$%s$%s", s, h);
}

static char *make_text(int users, size_t *len)
{
    size_t cap = (size_t)users * 160 + 4096, o = 0;
    char *t = malloc(cap), h[80];
    if (t == NULL)
        return NULL;
    o += (size_t)snprintf(t + o, cap - o, "hostname bench\naaa new-model\n");
    for (int i = 0; i < 4; i++) {
        o += (size_t)snprintf(t + o, cap - o, "aaa authentication login L%d group tacacs+ local\n",
                              i);
        o += (size_t)snprintf(t + o, cap - o, "aaa authorization exec L%d group radius local\n", i);
    }
    /* users in reverse order, so the sort has work to do */
    for (int i = users - 1; i >= 0; i--) {
        fake9((unsigned)i, h, sizeof h);
        o += (size_t)snprintf(t + o, cap - o, "username user%06d privilege %d secret 9 %s\n", i,
                              i % 16, h);
    }
    o += (size_t)snprintf(t + o, cap - o, "ip ssh pubkey-chain\n");
    for (int i = 0; i < users; i += 10)
        o += (size_t)snprintf(t + o, cap - o,
                              " username user%06d\n  key-hash ssh-ed25519 %032X user%d@host\n", i,
                              (unsigned)i * 2654435761u, i);
    o += (size_t)snprintf(t + o, cap - o, "ip scp server enable\nend\n");
    *len = o;
    return t;
}

int main(int argc, char **argv)
{
    int users = argc > 1 ? atoi(argv[1]) : 10000, runs = argc > 2 ? atoi(argv[2]) : 7;
    if (users < 1 || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: cfg_bench [USERS] [RUNS]\n");
        return 2;
    }
    size_t len;
    char *text = make_text(users, &len);
    double tp[100], tr[100], td[100], th[100], tv[100];
    struct cfg_errors errs;
    struct cfg *c = NULL;
    struct cfg_render_opts o = {.header = true};
    size_t rlen = 0;
    if (text == NULL)
        return 1;
    for (int r = 0; r < runs; r++) {
        cfg_free(c);
        double t0 = now();
        c = cfg_apply_text(NULL, text, len, CFG_REPLACE, &errs);
        tp[r] = now() - t0;
        if (c == NULL) {
            char *e = cfg_errors_format(&errs);
            fprintf(stderr, "bench text rejected:\n%s", e ? e : "");
            return 1;
        }
        t0 = now();
        char *out = cfg_render(c, &o, &rlen);
        tr[r] = now() - t0;
        free(out);
    }
    /* diff against the same configuration with one user changed and one removed */
    struct cfg *d = cfg_apply_text(
        c, "no username user000005\nusername user000007 privilege 3\n",
        strlen("no username user000005\nusername user000007 privilege 3\n"), CFG_MERGE, &errs);
    for (int r = 0; r < runs && d != NULL; r++) {
        double t0 = now();
        free(cfg_diff(c, d));
        td[r] = now() - t0;
    }
    char hash[160];
    int hruns = runs < 5 ? runs : 5;
    for (int r = 0; r < hruns; r++) {
        double t0 = now();
        if (secret_hash9("bench-password", hash, sizeof hash) != 0)
            return 1;
        th[r] = now() - t0;
        t0 = now();
        if (secret_verify(9, hash, "bench-password") != 1)
            return 1;
        tv[r] = now() - t0;
    }
    printf("cfg_bench: %d users, %zu bytes of text, %zu bytes rendered, median of %d runs\n", users,
           len, rlen, runs);
    printf("  parse (cfg_apply_text, replace)  %8.1f ms\n", median(tp, runs) * 1e3);
    printf("  render (cfg_render, header)      %8.1f ms\n", median(tr, runs) * 1e3);
    if (d != NULL)
        printf("  diff (cfg_diff, 2 lines changed) %8.1f ms\n", median(td, runs) * 1e3);
    printf("  one type-9 hash (secret_hash9)   %8.1f ms  (median of %d)\n", median(th, hruns) * 1e3,
           hruns);
    printf("  one type-9 verify                %8.1f ms\n", median(tv, hruns) * 1e3);
    cfg_free(c);
    cfg_free(d);
    free(text);
    return 0;
}

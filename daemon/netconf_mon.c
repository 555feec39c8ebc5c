/* netconf_mon: NETCONF sessions and counters (see netconf_mon.h). The schema list is the served
 * modules (model_yang), each retrievable with get-schema (format yang, location NETCONF). */
#include "daemon/netconf_mon.h"

#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/lim.h"
#include "daemon/nc_proto.h"
#include "model/model_yang.h"

#define NC_NS_MON "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"

struct nc_mon_sess {
    uint64_t sid;
    bool killed;
    char user[64], peer[80];
    int64_t login_ms;
    uint64_t ctr[NC_MON__SESSION];
};

static pthread_mutex_t mon_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nc_mon_sess mon_sess[LIM_NETCONF_SESSIONS];
static uint64_t mon_total[NC_MON__COUNT];
static uint64_t mon_in_sessions, mon_dropped;

static struct nc_mon_sess *find(uint64_t sid)
{
    for (int i = 0; i < LIM_NETCONF_SESSIONS; i++)
        if (mon_sess[i].sid == sid && sid != 0)
            return &mon_sess[i];
    return NULL;
}

int nc_mon_add(uint64_t sid, const char *user, const char *peer)
{
    struct timespec ts;
    int rc = -1;

    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&mon_lock);
    for (int i = 0; i < LIM_NETCONF_SESSIONS; i++) {
        struct nc_mon_sess *m = &mon_sess[i];
        if (m->sid != 0)
            continue;
        memset(m, 0, sizeof *m);
        m->sid = sid;
        snprintf(m->user, sizeof m->user, "%s", user ? user : "");
        snprintf(m->peer, sizeof m->peer, "%s", peer ? peer : "");
        m->login_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        mon_in_sessions++;
        rc = 0;
        break;
    }
    if (rc < 0)
        mon_dropped++;
    pthread_mutex_unlock(&mon_lock);
    return rc;
}

void nc_mon_del(uint64_t sid)
{
    pthread_mutex_lock(&mon_lock);
    struct nc_mon_sess *m = find(sid);
    if (m != NULL)
        m->sid = 0;
    pthread_mutex_unlock(&mon_lock);
}

void nc_mon_count(uint64_t sid, enum nc_mon_ctr c)
{
    pthread_mutex_lock(&mon_lock);
    mon_total[c]++;
    struct nc_mon_sess *m = c < NC_MON__SESSION ? find(sid) : NULL;
    if (m != NULL)
        m->ctr[c]++;
    pthread_mutex_unlock(&mon_lock);
}

int nc_mon_kill(uint64_t sid)
{
    pthread_mutex_lock(&mon_lock);
    struct nc_mon_sess *m = find(sid);
    if (m != NULL)
        m->killed = true;
    pthread_mutex_unlock(&mon_lock);
    return m != NULL;
}

bool nc_mon_killed(uint64_t sid)
{
    pthread_mutex_lock(&mon_lock);
    struct nc_mon_sess *m = find(sid);
    bool k = m != NULL && m->killed;
    pthread_mutex_unlock(&mon_lock);
    return k;
}

static void when(FILE *f, const char *name, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "<%s>%s</%s>", name, buf, name);
}

/* The peer's host part ("10.0.0.5" of "10.0.0.5:51234", "::1" of "[::1]:2222"). */
static void host_of(FILE *f, const char *peer)
{
    char h[80];
    snprintf(h, sizeof h, "%s", peer[0] == '[' ? peer + 1 : peer);
    char *end = strrchr(h, peer[0] == '[' ? ']' : ':');
    if (end != NULL)
        *end = '\0';
    nc_xml_escape(f, h);
}

void nc_mon_state_xml(FILE *out, int64_t start_ms)
{
    static const char *const ctr_names[NC_MON__SESSION] = {"in-rpcs", "in-bad-rpcs",
                                                           "out-rpc-errors", "out-notifications"};
    fputs("<netconf-state xmlns=\"" NC_NS_MON "\"><schemas>", out);
    for (const struct model_yang_file *f = model_yang_files; f->name != NULL; f++) {
        /* the revision is the module's first revision statement */
        const char *r = strstr(f->text, "\n  revision ");
        char rev[16] = "";
        if (r != NULL)
            snprintf(rev, sizeof rev, "%.10s", r + 12);
        fprintf(out, "<schema><identifier>%s</identifier><version>%s</version>"
                     "<format>yang</format><namespace>", f->name, rev);
        const char *ns = strstr(f->text, "namespace \"");
        if (ns != NULL) {
            const char *e = strchr(ns + 11, '"');
            if (e != NULL)
                fprintf(out, "%.*s", (int)(e - ns - 11), ns + 11);
        }
        fputs("</namespace><location>NETCONF</location></schema>", out);
    }
    fputs("</schemas><sessions>", out);
    pthread_mutex_lock(&mon_lock);
    for (int i = 0; i < LIM_NETCONF_SESSIONS; i++) {
        const struct nc_mon_sess *m = &mon_sess[i];
        if (m->sid == 0)
            continue;
        fprintf(out, "<session><session-id>%" PRIu64 "</session-id>"
                     "<transport>netconf-ssh</transport><username>", m->sid);
        nc_xml_escape(out, m->user);
        fputs("</username><source-host>", out);
        host_of(out, m->peer);
        fputs("</source-host>", out);
        when(out, "login-time", m->login_ms);
        for (int c = 0; c < NC_MON__SESSION; c++)
            fprintf(out, "<%s>%" PRIu64 "</%s>", ctr_names[c], m->ctr[c], ctr_names[c]);
        fputs("</session>", out);
    }
    fputs("</sessions><statistics>", out);
    when(out, "netconf-start-time", start_ms);
    fprintf(out, "<in-bad-hellos>%" PRIu64 "</in-bad-hellos><in-sessions>%" PRIu64
                 "</in-sessions><dropped-sessions>%" PRIu64 "</dropped-sessions>",
            mon_total[NC_MON_IN_BAD_HELLOS], mon_in_sessions, mon_dropped);
    for (int c = 0; c < NC_MON__SESSION; c++)
        fprintf(out, "<%s>%" PRIu64 "</%s>", ctr_names[c], mon_total[c], ctr_names[c]);
    pthread_mutex_unlock(&mon_lock);
    fputs("</statistics></netconf-state>", out);
}

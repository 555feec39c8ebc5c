/* netconf_mon: the NETCONF sessions of the daemon and their counters (RFC 6022
 * ietf-netconf-monitoring: netconf-state/sessions and /statistics), which also bound their number
 * (LIM_NETCONF_SESSIONS) and carry kill-session's request to the session it names. Thread-safe:
 * one mutex over a small fixed table; every session thread calls in. */
#ifndef SCPD_NETCONF_MON_H
#define SCPD_NETCONF_MON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum nc_mon_ctr {
    NC_MON_IN_RPCS,
    NC_MON_IN_BAD_RPCS,
    NC_MON_OUT_RPC_ERRORS,
    NC_MON_OUT_NOTIFICATIONS,
    NC_MON__SESSION,           /* the counters above are per session and global */
    NC_MON_IN_BAD_HELLOS = NC_MON__SESSION,
    NC_MON__COUNT
};

/* Registers session sid; -1 when LIM_NETCONF_SESSIONS are running (counted as dropped). */
int nc_mon_add(uint64_t sid, const char *user, const char *peer);
void nc_mon_del(uint64_t sid);
void nc_mon_count(uint64_t sid, enum nc_mon_ctr c);
/* kill-session: marks sid; 1 when it runs, 0 when there is no such session. */
int nc_mon_kill(uint64_t sid);
bool nc_mon_killed(uint64_t sid);
/* <netconf-state xmlns=ietf-netconf-monitoring> with sessions, schemas and statistics.
 * start_ms: when the server started (netconf-start-time). */
void nc_mon_state_xml(FILE *out, int64_t start_ms);

#endif

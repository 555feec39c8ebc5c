/* api_aaa: GET /restconf/data/scpd:aaa-servers, the operational state of the TACACS+/RADIUS
 * servers as services/aaa.c counts them (requests, accepts, rejects, timeouts, errors, requests
 * skipped while dead, last round-trip time, dead or alive). One entry per server that has been
 * asked since start. Modelled by the aaa-servers container of api/yang/scpd.yang. */
#include "api/api_handlers.h"
#include "api/api_obs.h"
#include "base/lim.h"
#include "base/scpd.h"
#include "services/aaa.h"

int api_h_aaa_servers(struct api_req *r, struct api_resp *resp)
{
    struct aaa_server_state st[LIM_CFG_AAA_SERVERS];
    int n = r->d->aaa ? aaa_servers_state(r->d->aaa, st, LIM_CFG_AAA_SERVERS) : 0;
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "protocol", st[i].proto,
                            "name", st[i].name, "requests", api_obs_u64(st[i].requests),
                            "accepts", api_obs_u64(st[i].accepts), "rejects",
                            api_obs_u64(st[i].rejects), "timeouts", api_obs_u64(st[i].timeouts),
                            "errors", api_obs_u64(st[i].errors), "skipped",
                            api_obs_u64(st[i].skipped), "rtt-ms",
                            api_obs_u64((uint64_t)st[i].rtt_ms), "dead", st[i].dead));
    return api_json(resp, 200, json_pack("{s:{s:o}}", "scpd:aaa-servers", "server", list));
}

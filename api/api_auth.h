/* api_auth: who a request is (HTTP Basic through the one AAA entry point, door "http"; bearer
 * tokens of 256 bits of which only the SHA-256 is kept) and the login/logout resources. */
#ifndef SCPD_API_AUTH_H
#define SCPD_API_AUTH_H

#include "api/api_req.h"

/* Bearer tokens: POST/DELETE of the login resource. */
int api_h_login(struct api_req *r, struct api_resp *resp);
int api_h_logout(struct api_req *r, struct api_resp *resp);

/* Authenticates r from its Authorization header (Basic through aaa_login_password with door
 * "http", or Bearer token). On success fills r->authed/user/privilege and returns 0; otherwise
 * fills resp (401 with WWW-Authenticate, or 429 for a blocked source) and returns -1. */
int api_auth_request(struct api_req *r, struct api_resp *resp);

/* Token table (owned by struct api through api_shared; thread-safe). */
struct api_tokens *api_tokens_new(void);
void api_tokens_free(struct api_tokens *t);

#endif

#ifndef ROVE_SERVER_ADMIN_H
#define ROVE_SERVER_ADMIN_H

/*
 * The manager/admin JSON API under /v1/admin/ (used by rovectl):
 *   POST /v1/admin/login    {"user","password"} -> {"token","expires_at",...}
 *   GET  /v1/admin/users    POST /v1/admin/users {username,name,role,password,...}
 *   GET  /v1/admin/devices  GET /v1/admin/stats
 *   POST /v1/admin/devices/<id>/revoke
 *   POST /v1/admin/users/<username>/status {"status": "active|frozen|deactivated"}
 * Every call but login needs "Authorization: Bearer <session token>" of an
 * active manager or admin; creating users and changing statuses needs an admin.
 */

#include "roved.h"

struct mg_connection;

/* path is what follows "/v1/admin/". Returns the HTTP status sent. */
int roved_admin_handle(roved_server *srv, struct mg_connection *c, const char *method,
                       const char *path);

#endif

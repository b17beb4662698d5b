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

/* ---- for the area files (admin_<area>.c) ------------------------------- */

#include <jansson.h>

#include "store.h"

/* Sends j (consumed) as the JSON answer; returns status. */
int roved_admin_send_json(struct mg_connection *c, int status, json_t *j);
/* Sends the error answer for ROVE_E* code; returns the HTTP status sent. */
int roved_admin_error(struct mg_connection *c, int code, const char *msg);
/* Reads a JSON object body (at most 64 KiB); NULL with *code and *msg set. */
json_t *roved_admin_read_json(struct mg_connection *c, int *code, const char **msg);

/* 1 when s looks like a record id (26 characters of Crockford base 32). */
int roved_admin_valid_id(const char *s);
/* A positive decimal id (conflict log, quarantine entries), or 0. */
int64_t roved_admin_number_id(const char *s);
/* Splits "<collection>[/<id>[/<action>]]": 0 when path is not of that
 * collection, 1 for the collection itself, 2 for an item (id copied,
 * *action NULL or what follows its '/'), -1 for a malformed item id. */
int roved_admin_item_path(const char *path, const char *collection, char *id, size_t size,
                          const char **action);
/* 1 when actor (admin, or manager) may act on a record described by info:
 * admins on any, managers on their territories' records and their own. */
int roved_admin_manages_record(roved_db *db, const roved_user *actor, const roved_rowinfo *info,
                               int64_t now);
/* 1 when actor may act for user: admins always, managers for the people
 * of the territories they manage or who report to them. */
int roved_admin_manages_user(roved_db *db, const roved_user *actor, const roved_user *user,
                             int64_t now);
/* Sends the first element of arr (consumed), or 404 missing when empty. */
int roved_admin_send_first(struct mg_connection *c, json_t *arr, const char *missing);
/* Appends an audit event for a server command by actor (no device). */
int roved_admin_audit(roved_db *db, const roved_user *actor, const char *table,
                      const char *row_id, const char *op, json_t *diff, int64_t now);

/*
 * Area routers, called after the session is checked (actor is an active
 * manager or admin). Each returns 0 when path is not one of its endpoints,
 * else the HTTP status it sent.
 */
int roved_admin_org_route(roved_server *srv, struct mg_connection *c, const char *method,
                          const char *path, const roved_user *actor);
int roved_admin_scope_route(roved_server *srv, struct mg_connection *c, const char *method,
                            const char *path, const roved_user *actor);
int roved_admin_conflicts_route(roved_server *srv, struct mg_connection *c, const char *method,
                                const char *path, const roved_user *actor);
int roved_admin_quarantine_route(roved_server *srv, struct mg_connection *c, const char *method,
                                 const char *path, const roved_user *actor);
int roved_admin_transfer_route(roved_server *srv, struct mg_connection *c, const char *method,
                               const char *path, const roved_user *actor);
int roved_admin_tokens_route(roved_server *srv, struct mg_connection *c, const char *method,
                             const char *path, const roved_user *actor);
int roved_admin_leave_route(roved_server *srv, struct mg_connection *c, const char *method,
                            const char *path, const roved_user *actor);
/* The "while you were away" digest of delegation d at now, as JSON. */
int roved_admin_digest_json(roved_db *db, const roved_delegation *d, int64_t now, json_t **out);
int roved_admin_domain_route(roved_server *srv, struct mg_connection *c, const char *method,
                             const char *path, const roved_user *actor);

#endif

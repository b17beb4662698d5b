#ifndef ROVE_SERVER_ADMIN_H
#define ROVE_SERVER_ADMIN_H

/*
 * The manager/admin JSON API under /v1/admin/ (used by rovectl). Every route
 * is listed once, with who may call it, in routes.h; roved_admin_handle
 * dispatches from that list. Every call but login needs "Authorization:
 * Bearer <session token>" of an active manager or admin. What a manager
 * reaches is decided in admin_reach.c (docs/scope.md, "The permission model").
 */

#include "roved.h"

struct mg_connection;

/* path is what follows "/v1/admin/". Returns the HTTP status sent. */
int roved_admin_handle(roved_server *srv, struct mg_connection *c, const char *method,
                       const char *path);

/* ---- for the area files (admin_<area>.c) ------------------------------- */

#include <jansson.h>

#include "routes.h"
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
/*
 * Reach (admin_reach.c): 1 when actor (admin, or manager) may see and act on
 * the object; an object out of reach is answered like a missing one.
 */
/* A territory the actor manages (or a child of one). */
int roved_admin_reaches_territory(roved_db *db, const roved_user *actor,
                                  const char *territory_id, int64_t now);
/* A record (described by info) of the actor's territories, or owned by them. */
int roved_admin_manages_record(roved_db *db, const roved_user *actor, const roved_rowinfo *info,
                               int64_t now);
/* A record by table name and id (0 when there is no such record, tombstones
 * included); a table that is not a record table: admins only. */
int roved_admin_reaches_row(roved_db *db, const roved_user *actor, const char *table,
                            const char *row_id, int64_t now);
/* A person of the actor's territories, reporting to them, or the actor. */
int roved_admin_manages_user(roved_db *db, const roved_user *actor, const roved_user *user,
                             int64_t now);
int roved_admin_reaches_user_id(roved_db *db, const roved_user *actor, const char *user_id,
                                int64_t now);
/* Looks a user up by name: ROVE_ENOTFOUND also when out of reach. */
int roved_admin_find_user(roved_db *db, const roved_user *actor, const char *username,
                          int64_t now, roved_user *out);
/* A transfer whose leaver the actor reaches (a realignment: its planner's). */
int roved_admin_reaches_transfer(roved_db *db, const roved_user *actor, const roved_transfer *t,
                                 int64_t now);
/* A leave whose delegator the actor reaches. */
int roved_admin_reaches_delegation(roved_db *db, const roved_user *actor,
                                   const roved_delegation *d, int64_t now);
/* What a list handler collects: the entries the actor reaches, into arr. */
typedef struct roved_admin_lister {
    roved_db *db;
    const roved_user *actor;
    int64_t now;
    json_t *arr;
} roved_admin_lister;

/* Sends the first element of arr (consumed), or 404 missing when empty. */
int roved_admin_send_first(struct mg_connection *c, json_t *arr, const char *missing);
/* Appends an audit event for a server command by actor (no device). */
int roved_admin_audit(roved_db *db, const roved_user *actor, const char *table,
                      const char *row_id, const char *op, json_t *diff, int64_t now);

/*
 * The route handlers, one per line of ROVED_ADMIN_ROUTES (routes.h), called
 * after the session and the route's role are checked. arg holds the path's
 * ":name" segments in order (NULL past them); variant is the route's. Each
 * returns the HTTP status it sent.
 */
typedef int roved_admin_handler(roved_server *srv, struct mg_connection *c,
                                const roved_user *actor, const char *const *arg, int variant);
#define ROVED_ADMIN_DECLARE(method, pattern, who, handler, variant) roved_admin_handler handler;
ROVED_ADMIN_ROUTES(ROVED_ADMIN_DECLARE)
#undef ROVED_ADMIN_DECLARE

/* The "while you were away" digest of delegation d at now, as JSON. */
int roved_admin_digest_json(roved_db *db, const roved_delegation *d, int64_t now, json_t **out);

#endif

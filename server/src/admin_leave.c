/*
 * Admin API endpoints of delegations on leave (docs/delegation-transfer.md):
 *
 *   POST leaves                    {"user": USERNAME, "from": MS, "to": MS,
 *                                   "grace_hours": H (or "grace_seconds": S), "visits": "cover"|"reschedule"|"cancel",
 *                                   "reason": TEXT, "delegates": [{"user": USERNAME,
 *                                   "scope": "all"|"territory"|"accounts", "territory": ID|NAME,
 *                                   "accounts": [ID...], "actions": ["visits", "accounts",
 *                                   "tasks"]}]}
 *   GET  leaves[?user=USERNAME]    with each delegation's state and delegates
 *   GET  leaves/<id>
 *   POST leaves/<id>/end           the delegator is back early (state "ended")
 *   POST leaves/<id>/revoke        cancelled by a manager (state "revoked")
 *   GET  leaves/<id>/digest        "while you were away"
 *
 * Ownership never changes: the delegates' devices receive the delegated
 * records (from now until the end) and may work them between the start and
 * the end, for the actions allowed; the start and end steps run on server
 * time (delegation.h).
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "delegation.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"

#define MAX_DELEGATES 16

static const char *const all_actions[] = {"visits", "accounts", "tasks", NULL};

/* The actions list as "visits,accounts,tasks"; NULL when invalid. */
static const char *parse_actions(json_t *a, char *out, size_t size)
{
    out[0] = '\0';
    if (a == NULL) {
        snprintf(out, size, "visits,accounts,tasks");
        return out;
    }
    if (!json_is_array(a) || json_array_size(a) == 0)
        return NULL;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        int known = 0;
        for (size_t k = 0; s != NULL && all_actions[k] != NULL; k++)
            known |= strcmp(s, all_actions[k]) == 0;
        if (!known)
            return NULL;
        if (strstr(out, s) != NULL)
            continue;
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s%s", n ? "," : "", s);
    }
    return out;
}

typedef struct grant_in {
    roved_grant g;
    json_t *accounts;
} grant_in;

int roved_admin_leave_create(roved_server *srv, struct mg_connection *c,
                             const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    (void)arg;
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const char *user = json_string_value(json_object_get(j, "user"));
    json_t *from_j = json_object_get(j, "from"), *to_j = json_object_get(j, "to");
    json_t *grace_j = json_object_get(j, "grace_hours"),
           *dels = json_object_get(j, "delegates");
    json_t *grace_s = json_object_get(j, "grace_seconds");
    const char *visits = json_string_value(json_object_get(j, "visits"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    int64_t now = roved_util_now_ms();
    int64_t from = json_integer_value(from_j), to = json_integer_value(to_j);
    const char *bad = NULL;
    if (user == NULL)
        bad = "user (the delegator's user name) is required";
    else if (!json_is_integer(from_j) || !json_is_integer(to_j) || from >= to)
        bad = "from and to (ms) are required, from before to";
    else if (to <= now)
        bad = "the leave is over already";
    else if (to - from > (int64_t)srv->cfg->max_leave_days * 86400000)
        bad = "the leave is longer than the configured maximum (roved --max-leave-days)";
    else if (grace_j != NULL && (!json_is_integer(grace_j) || json_integer_value(grace_j) < 0 ||
                                 json_integer_value(grace_j) > 720))
        bad = "grace_hours must be 0 to 720";
    else if (grace_s != NULL && (!json_is_integer(grace_s) || json_integer_value(grace_s) < 0 ||
                                 json_integer_value(grace_s) > 720 * 3600))
        bad = "grace_seconds must be 0 to 2592000";
    else if (visits != NULL && strcmp(visits, "cover") && strcmp(visits, "reschedule") &&
             strcmp(visits, "cancel"))
        bad = "visits must be cover, reschedule or cancel";
    else if (json_object_get(j, "reason") != NULL && (reason == NULL || strlen(reason) > 190))
        bad = "reason must be a string of at most 190 bytes";
    else if (!json_is_array(dels) || json_array_size(dels) == 0 ||
             json_array_size(dels) > MAX_DELEGATES)
        bad = "delegates must be a list of 1 to 16 delegates";
    if (bad != NULL) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, bad);
    }
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    int status = 0, rc = 0, overlap = 0;
    roved_user delegator;
    rc = roved_admin_find_user(db, actor, user, now, &delegator);
    if (rc == ROVE_ENOTFOUND)
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such user (delegator)");
    else if (rc == 0 && delegator.status != ROVED_USER_ACTIVE)
        status = roved_admin_error(c, ROVE_ESTATE, "the delegator is not active");
    else if (rc == 0 && delegator.role != ROVE__ROLE_REP && delegator.role != ROVE__ROLE_TECH)
        status = roved_admin_error(c, ROVE_EBADVALUE,
                                   "only reps and technicians delegate their work");
    else if (rc == 0 &&
             (rc = roved_store_delegation_overlaps(db, delegator.id, from, to, &overlap)) ==
                 0 &&
             overlap)
        status = roved_admin_error(c, ROVE_EEXISTS,
                                   "the delegator already has a leave over these days");
    grant_in gs[MAX_DELEGATES];
    memset(gs, 0, sizeof(gs));
    size_t n = json_array_size(dels);
    int all_seen = 0;
    for (size_t i = 0; status == 0 && rc == 0 && i < n; i++) {
        json_t *d = json_array_get(dels, i);
        const char *dn = json_string_value(json_object_get(d, "user"));
        const char *scope = json_string_value(json_object_get(d, "scope"));
        const char *terr = json_string_value(json_object_get(d, "territory"));
        json_t *accs = json_object_get(d, "accounts");
        roved_user du;
        int away = 0, covering = 0;
        char actions[128];
        if (scope == NULL)
            scope = "all";
        if (!json_is_object(d) || dn == NULL)
            bad = "each delegate needs a user name";
        else if ((rc = roved_admin_find_user(db, actor, dn, now, &du)) != 0)
            bad = rc == ROVE_ENOTFOUND ? (rc = 0, "a delegate is not a known user") : NULL;
        else if (strcmp(du.id, delegator.id) == 0)
            bad = "the delegator cannot be their own delegate";
        else if (du.status != ROVED_USER_ACTIVE)
            bad = "a delegate is not active";
        else if (du.role != delegator.role)
            bad = "a delegate must have the delegator's role (rep for a rep, technician for a "
                  "technician)";
        else if ((rc = roved_store_user_delegating(db, du.id, from, to, &away)) == 0 && away)
            bad = "a delegate is on leave during the window";
        else if (rc == 0 && (rc = roved_store_absent_during(db, du.id, from, to, &away)) == 0 &&
                 away)
            bad = "a delegate is absent during the window";
        else if (rc == 0 &&
                 (rc = roved_store_user_covering(db, delegator.id, from, to, &covering)) == 0 &&
                 covering)
            bad = "the delegator is covering for someone else during the window: "
                  "re-delegation is not allowed";
        else if (parse_actions(json_object_get(d, "actions"), actions, sizeof(actions)) == NULL)
            bad = "actions must be a list of visits, accounts, tasks";
        else if (strcmp(scope, "all") && strcmp(scope, "territory") &&
                 strcmp(scope, "accounts"))
            bad = "scope must be all, territory or accounts";
        else if (!strcmp(scope, "territory") &&
                 (terr == NULL ||
                  roved_store_territory_find(db, terr, gs[i].g.territory_id) != 0 ||
                  !roved_admin_reaches_territory(db, actor, gs[i].g.territory_id, now)))
            bad = "scope territory needs a known territory";
        else if (!strcmp(scope, "accounts") &&
                 (!json_is_array(accs) || json_array_size(accs) == 0 ||
                  json_array_size(accs) > 10000))
            bad = "scope accounts needs a list of account ids";
        else if (delegator.role == ROVE__ROLE_TECH && (n != 1 || strcmp(scope, "all")))
            bad = "a technician's leave has one delegate with scope all";
        if (bad == NULL && rc == 0) {
            /* Scopes may not overlap: one "all" alone, distinct territories,
             * account lists disjoint and outside the delegated territories. */
            if (!strcmp(scope, "all"))
                all_seen++;
            for (size_t k = 0; k < i && bad == NULL; k++) {
                if (!strcmp(gs[k].g.delegate_id, du.id))
                    bad = "a delegate is named twice";
                else if (!strcmp(scope, "territory") && !strcmp(gs[k].g.scope, "territory") &&
                         !strcmp(gs[k].g.territory_id, gs[i].g.territory_id))
                    bad = "two delegates have the same territory: scopes must not overlap";
            }
            if (all_seen > 0 && n > 1)
                bad = "scope all covers everything: it cannot be split with other delegates";
        }
        if (bad != NULL || rc != 0)
            break;
        roved_util_copy(gs[i].g.delegate_id, sizeof(gs[i].g.delegate_id), du.id);
        roved_util_copy(gs[i].g.scope, sizeof(gs[i].g.scope), scope);
        roved_util_copy(gs[i].g.actions, sizeof(gs[i].g.actions), actions);
        gs[i].accounts = !strcmp(scope, "accounts") ? accs : NULL;
    }
    /* Listed accounts: the delegator's, once, and not in a delegated territory. */
    for (size_t i = 0; status == 0 && rc == 0 && bad == NULL && i < n; i++) {
        size_t k;
        json_t *v;
        json_array_foreach(gs[i].accounts, k, v)
        {
            const char *id = json_string_value(v);
            roved_rowinfo info;
            size_t nt;
            if (id == NULL || !roved_admin_valid_id(id) ||
                roved_store_row_info(db, &rove__schema_tables(&nt)[0], id, &info) != 0 ||
                info.deleted || strcmp(info.owner_id, delegator.id) != 0) {
                bad = "a listed account is not one of the delegator's accounts";
                break;
            }
            for (size_t o = 0; o < n && bad == NULL; o++) {
                if (!strcmp(gs[o].g.scope, "territory") &&
                    !strcmp(gs[o].g.territory_id, info.territory_id))
                    bad =
                        "a listed account is in a delegated territory: scopes must not overlap";
                if (o != i && gs[o].accounts != NULL) {
                    size_t q;
                    json_t *w;
                    json_array_foreach(gs[o].accounts, q,
                                       w) if (json_equal(v, w) && bad == NULL) bad =
                        "an account is listed for two delegates: scopes must not overlap";
                }
            }
            if (bad != NULL)
                break;
        }
    }
    if (status == 0 && rc == 0 && bad != NULL)
        status = roved_admin_error(c, ROVE_EBADVALUE, bad);
    roved_delegation d;
    memset(&d, 0, sizeof(d));
    if (status == 0 && rc == 0) {
        roved_util_new_id(d.id);
        roved_util_copy(d.delegator_id, sizeof(d.delegator_id), delegator.id);
        roved_util_copy(d.status, sizeof(d.status), "planned");
        d.starts_at = from;
        d.ends_at = to;
        d.grace_ms =
            grace_s ? json_integer_value(grace_s) * 1000
                    : (grace_j ? json_integer_value(grace_j) : srv->cfg->leave_grace_hours) *
                          3600 * 1000;
        roved_util_copy(d.visit_policy, sizeof(d.visit_policy), visits ? visits : "cover");
        roved_util_copy(d.created_by, sizeof(d.created_by), actor->id);
        d.created_at = now;
        roved_util_copy(d.reason, sizeof(d.reason), reason ? reason : "");
        rc = roved_store_delegation_put(db, &d);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            roved_util_copy(gs[i].g.delegation_id, sizeof(gs[i].g.delegation_id), d.id);
            rc = roved_store_grant_put(db, &gs[i].g);
            size_t k;
            json_t *v;
            json_array_foreach(gs[i].accounts, k, v) if (rc == 0) rc =
                roved_store_grant_account_put(db, d.id, gs[i].g.delegate_id,
                                              json_string_value(v));
        }
        char why[64];
        snprintf(why, sizeof(why), "leave %s", d.id);
        if (rc == 0)
            rc = roved_store_absence_add(db, delegator.id, from, to, why);
        if (rc == 0)
            rc = roved_store_scope_bump(db); /* the delegates receive the records now */
        if (rc == 0) {
            json_t *diff =
                json_pack("{s:s,s:I,s:I,s:I,s:s,s:O}", "delegator", delegator.id, "from",
                          (json_int_t)from, "to", (json_int_t)to, "grace_ms",
                          (json_int_t)d.grace_ms, "visits", d.visit_policy, "delegates", dels);
            rc = diff ? roved_admin_audit(db, actor, "delegation", d.id, "delegation_create",
                                          diff, now)
                      : ROVE_ENOMEM;
            json_decref(diff);
        }
    }
    json_decref(j);
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                                   "the leave could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the leave could not be committed");
    roved_log_info("delegation_created", "actor=%s delegation=%s delegator=%s delegates=%zu",
                   actor->id, d.id, delegator.id, n);
    return roved_admin_send_json(c, 201,
                                 json_pack("{s:s,s:s,s:I,s:I}", "id", d.id, "state",
                                           roved_delegation_state(&d, now), "from",
                                           (json_int_t)from, "to", (json_int_t)to));
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct reader {
    roved_db *db;
    json_t *arr;
    int64_t now;
    const roved_user *actor; /* lists: only the leaves it reaches */
} reader;

static int add_grant(const roved_grant *g, void *payload)
{
    reader *r = payload;
    roved_user u;
    const char *name =
        roved_store_user_by_id(r->db, g->delegate_id, &u) == 0 ? u.username : NULL;
    json_t *o = json_pack("{s:s,s:s?,s:s,s:s?,s:s}", "user_id", g->delegate_id, "user", name,
                          "scope", g->scope, "territory",
                          g->territory_id[0] ? g->territory_id : NULL, "actions", g->actions);
    return o && json_array_append_new(r->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

static json_t *delegation_json(roved_db *db, const roved_delegation *d, int64_t now)
{
    roved_user u;
    const char *name = roved_store_user_by_id(db, d->delegator_id, &u) == 0 ? u.username : NULL;
    json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:I,s:I,s:I,s:s,s:s?,s:s,s:I}", "id", d->id,
                          "delegator_id", d->delegator_id, "delegator", name, "state",
                          roved_delegation_state(d, now), "from", (json_int_t)d->starts_at,
                          "to", (json_int_t)d->ends_at, "grace_ms", (json_int_t)d->grace_ms,
                          "visits", d->visit_policy, "reason", d->reason[0] ? d->reason : NULL,
                          "created_by", d->created_by, "created_at", (json_int_t)d->created_at);
    reader r = {db, json_array(), now, NULL};
    if (o == NULL || r.arr == NULL || roved_store_grant_list(db, d->id, add_grant, &r) != 0) {
        json_decref(o);
        json_decref(r.arr);
        return NULL;
    }
    json_object_set_new(o, "delegates", r.arr);
    return o;
}

static int add_delegation(const roved_delegation *d, void *payload)
{
    reader *r = payload;
    if (!roved_admin_reaches_delegation(r->db, r->actor, d, r->now))
        return 0;
    json_t *o = delegation_json(r->db, d, r->now);
    return o && json_array_append_new(r->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

int roved_admin_leaves_list(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                            const char *const *arg, int variant)
{
    (void)variant;
    (void)arg;
    const struct mg_request_info *ri = mg_get_request_info(c);
    char user[64] = "";
    if (ri->query_string != NULL)
        mg_get_var(ri->query_string, strlen(ri->query_string), "user", user, sizeof(user));
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_user u;
    int64_t now = roved_util_now_ms();
    int rc = user[0] ? roved_admin_find_user(db, actor, user, now, &u) : 0;
    reader r = {db, json_array(), now, actor};
    if (rc == 0)
        rc = roved_store_delegation_list(db, user[0] ? u.id : NULL, add_delegation, &r);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(r.arr);
        return rc == ROVE_ENOTFOUND ? roved_admin_error(c, rc, "no such user")
                                    : roved_admin_error(c, ROVE_ESTORE, "store error");
    }
    return roved_admin_send_json(c, 200, json_pack("{s:o}", "leaves", r.arr));
}

/* The leave id if the actor reaches it, else ROVE_ENOTFOUND like a missing one. */
static int get_leave(roved_db *db, const roved_user *actor, const char *id, int64_t now,
                     roved_delegation *d)
{
    int rc = roved_store_delegation_get(db, id, d);
    if (rc == 0 && !roved_admin_reaches_delegation(db, actor, d, now))
        rc = ROVE_ENOTFOUND;
    return rc;
}

int roved_admin_leave_show(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                           const char *const *arg, int variant)
{
    (void)variant;
    const char *id = arg[0];
    if (!roved_admin_valid_id(id))
        return roved_admin_error(c, ROVE_EBADVALUE, "the leave id is not a valid id");
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_delegation d;
    int64_t now = roved_util_now_ms();
    int rc = get_leave(db, actor, id, now, &d);
    json_t *o = rc == 0 ? delegation_json(db, &d, now) : NULL;
    roved_store_read_end(srv->store, db);
    if (rc == ROVE_ENOTFOUND)
        return roved_admin_error(c, rc, "no such leave");
    if (o == NULL)
        return roved_admin_error(c, ROVE_ESTORE, "the leave could not be read");
    return roved_admin_send_json(c, 200, o);
}

int roved_admin_leave_stop(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                           const char *const *arg, int revoke)
{
    const char *id = arg[0];
    if (!roved_admin_valid_id(id))
        return roved_admin_error(c, ROVE_EBADVALUE, "the leave id is not a valid id");
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_delegation d;
    roved_user delegator;
    int status = 0;
    int rc = get_leave(db, actor, id, now, &d);
    if (rc == 0)
        rc = roved_store_user_by_id(db, d.delegator_id, &delegator);
    if (rc == ROVE_ENOTFOUND)
        status = roved_admin_error(c, rc, "no such leave");
    else if (rc == 0 && (rc = roved_store_delegation_stop(db, id, revoke ? "revoked" : "ended",
                                                          now)) == ROVE_ESTATE) {
        status = roved_admin_error(c, rc, "the leave is over already");
        rc = 0;
    }
    char why[64];
    snprintf(why, sizeof(why), "leave %s", id);
    if (status == 0 && rc == 0)
        rc = roved_store_absence_cut(db, d.delegator_id, why, now);
    if (status == 0 && rc == 0) {
        json_t *diff = json_pack("{s:s,s:I}", "state", revoke ? "revoked" : "ended", "at",
                                 (json_int_t)now);
        rc = diff ? roved_admin_audit(db, actor, "delegation", id,
                                      revoke ? "delegation_revoke" : "delegation_end_early",
                                      diff, now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, ROVE_ESTORE, "the change could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the change could not be committed");
    /* The end step (tasks and visits back, scopes) runs at once. */
    int steps = 0;
    roved_delegation_tick(srv, roved_util_now_ms(), &steps);
    roved_log_info(revoke ? "delegation_revoked" : "delegation_ended_early",
                   "actor=%s delegation=%s", actor->id, id);
    return roved_admin_send_json(c, 200,
                                 json_pack("{s:s,s:s,s:I}", "id", id, "state",
                                           revoke ? "revoked" : "ended", "at",
                                           (json_int_t)now));
}

/* ---- the "while you were away" digest ---------------------------------------- */

typedef struct digest {
    json_t *items;
} digest;

static int add_item(const char *table, const char *row_id, int64_t at, const char *who,
                    const char *detail, void *payload)
{
    digest *g = payload;
    json_t *o = json_pack("{s:s?,s:s?,s:I,s:s?,s:s?}", "table", table, "id", row_id, "at",
                          (json_int_t)at, "by", who, "detail", detail);
    return o && json_array_append_new(g->items, o) == 0 ? 0 : ROVE_ENOMEM;
}

int roved_admin_digest_json(roved_db *db, const roved_delegation *d, int64_t now, json_t **out)
{
    int64_t to = d->ends_at < now ? d->ends_at + d->grace_ms : now;
    json_t *o = delegation_json(db, d, now);
    int rc = o ? 0 : ROVE_ENOMEM;
    for (int k = 0; rc == 0 && k < ROVED_DIGEST_NKINDS; k++) {
        digest g = {json_array()};
        rc = roved_store_digest(db, (roved_digest_kind)k, d->delegator_id, d->starts_at, to,
                                now, add_item, &g);
        if (rc == 0)
            json_object_set_new(o, roved_delegation_digest_section((roved_digest_kind)k),
                                g.items);
        else
            json_decref(g.items);
    }
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int roved_admin_leave_digest(roved_server *srv, struct mg_connection *c,
                             const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    const char *id = arg[0];
    if (!roved_admin_valid_id(id))
        return roved_admin_error(c, ROVE_EBADVALUE, "the leave id is not a valid id");
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_delegation d;
    json_t *o = NULL;
    int64_t now = roved_util_now_ms();
    int rc = get_leave(db, actor, id, now, &d);
    if (rc == 0)
        rc = roved_admin_digest_json(db, &d, now, &o);
    roved_store_read_end(srv->store, db);
    if (rc == ROVE_ENOTFOUND)
        return roved_admin_error(c, rc, "no such leave");
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the digest could not be built");
    return roved_admin_send_json(c, 200, o);
}

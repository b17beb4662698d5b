/*
 * Admin API endpoints of the quarantine (docs/delegation-transfer.md):
 *
 *   GET  quarantine[?all=1]          pending entries (all=1: decided ones too)
 *   GET  quarantine/<id>             one entry
 *   POST quarantine/<id>/apply       apply the held change by the merge rules
 *   POST quarantine/<id>/discard     {"reason": TEXT}
 *
 * A held change is a device's change the server would not apply on its own
 * (made after the record left the device's scope, after a delegation ended,
 * after the device was revoked). Applying it runs the normal merge rules as
 * its author's change (conflict policies, state machines, audit); only the
 * scope check is the manager's. Every decision is audited and final.
 * Managers decide on records of the territories they manage; admins on any.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "log.h"
#include "rove/errors.h"
#include "sync.h"
#include "util.h"

/* 1 when actor reaches a held change: its record or, for an insert of a
 * record that does not exist, the account it belongs to. Held changes with
 * no account are for admins. */
static int reaches_held(roved_db *db, const roved_user *actor, const char *table,
                        const char *row_id, const char *op, const char *payload_json,
                        int64_t now)
{
    if (actor->role == ROVE__ROLE_ADMIN)
        return 1;
    const rove__table *t = table ? rove__schema_table(table, strlen(table)) : NULL;
    if (t == NULL || row_id == NULL)
        return 0;
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    int rc = roved_store_row_info(db, t, row_id, &info);
    if (rc == ROVE_ENOTFOUND && op != NULL && strcmp(op, "insert") == 0) {
        json_error_t jerr;
        json_t *cols = json_loads(payload_json ? payload_json : "{}", 0, &jerr);
        const char *acc = json_string_value(json_object_get(cols, "account_id"));
        size_t nt;
        const rove__table *tables = rove__schema_tables(&nt);
        rc = acc && strlen(acc) == 26 ? roved_store_row_info(db, &tables[0], acc, &info)
                                      : ROVE_ENOTFOUND;
        json_decref(cols);
    }
    return rc == 0 && roved_admin_manages_record(db, actor, &info, now);
}

static int add_quarantine_json(int64_t id, const roved_quarantine *q, void *payload)
{
    roved_admin_lister *l = payload;
    if (!reaches_held(l->db, l->actor, q->table, q->row_id, q->op, q->payload_json, l->now))
        return 0;
    json_error_t err;
    json_t *change = json_loads(q->payload_json ? q->payload_json : "{}", 0, &err);
    json_t *o =
        json_pack("{s:I,s:I,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:o?,s:s?,s:s?,s:s?,s:I}", "id",
                  (json_int_t)id, "at", (json_int_t)q->at, "device_id", q->device_id, "user_id",
                  q->user_id, "table", q->table, "row_id", q->row_id, "change_id", q->change_id,
                  "op", q->op, "change", change, "reason_code", q->reason_code, "reason",
                  q->reason, "status", q->status, "base_version", (json_int_t)q->base_version);
    if (o == NULL)
        return ROVE_ENOMEM;
    if (q->decided_by != NULL) {
        json_object_set_new(o, "decided_by", json_string(q->decided_by));
        json_object_set_new(o, "decided_at", json_integer(q->decided_at));
        json_object_set_new(o, "outcome", q->outcome ? json_string(q->outcome) : json_null());
    }
    return json_array_append_new(l->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

int roved_admin_quarantine_get(roved_server *srv, struct mg_connection *c,
                               const roved_user *actor, const char *const *arg, int variant)
{
    const char *one = arg[0];
    (void)variant;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *q = ri->query_string;
    char all[8] = "";
    if (q != NULL && mg_get_var(q, strlen(q), "all", all, sizeof(all)) > 0 &&
        strcmp(all, "1") != 0 && strcmp(all, "0") != 0)
        return roved_admin_error(c, ROVE_EBADVALUE, "all must be 0 or 1");
    int64_t id = 0;
    if (one != NULL && (id = roved_admin_number_id(one)) == 0)
        return roved_admin_error(c, ROVE_EBADVALUE, "the quarantine id must be a number");
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_admin_lister l = {db, actor, roved_util_now_ms(), json_array()};
    json_t *arr = l.arr;
    rc = roved_store_quarantine_query(db, id, one == NULL && all[0] != '1', 1000,
                                      add_quarantine_json, &l);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return roved_admin_error(c, ROVE_ESTORE, "the quarantine could not be read");
    }
    if (one != NULL)
        return roved_admin_send_first(c, arr, "no such quarantine entry");
    return roved_admin_send_json(c, 200, json_pack("{s:o}", "quarantine", arr));
}

/* The entry being decided on, copied out of the store. */
typedef struct held_copy {
    int found;
    char status[16], device_id[32], user_id[32], table[32], row_id[32], op[16], change_id[32];
    char *payload_json;
    int64_t client_hlc, base_version;
} held_copy;

static int keep_held(int64_t id, const roved_quarantine *q, void *payload)
{
    (void)id;
    held_copy *h = payload;
    h->found = 1;
    roved_util_copy(h->status, sizeof(h->status), q->status ? q->status : "");
    roved_util_copy(h->device_id, sizeof(h->device_id), q->device_id ? q->device_id : "");
    roved_util_copy(h->user_id, sizeof(h->user_id), q->user_id ? q->user_id : "");
    roved_util_copy(h->table, sizeof(h->table), q->table ? q->table : "");
    roved_util_copy(h->row_id, sizeof(h->row_id), q->row_id ? q->row_id : "");
    roved_util_copy(h->op, sizeof(h->op), q->op ? q->op : "");
    roved_util_copy(h->change_id, sizeof(h->change_id), q->change_id ? q->change_id : "");
    h->client_hlc = q->client_hlc;
    h->base_version = q->base_version;
    h->payload_json = strdup(q->payload_json ? q->payload_json : "{}");
    return h->payload_json ? 0 : ROVE_ENOMEM;
}

static const char *status_name(int st)
{
    static const char *const names[] = {"applied", "merged", "rejected", "quarantined",
                                        "overridden"};
    return st >= 0 && st <= 4 ? names[st] : "unknown";
}

int roved_admin_quarantine_decide(roved_server *srv, struct mg_connection *c,
                                  const roved_user *actor, const char *const *arg, int apply)
{
    const char *id_s = arg[0];
    int64_t id = roved_admin_number_id(id_s);
    if (id == 0)
        return roved_admin_error(c, ROVE_EBADVALUE, "the quarantine id must be a number");
    const char *reason = NULL;
    json_t *body = NULL;
    if (!apply) {
        int code = 0;
        const char *msg = NULL;
        body = roved_admin_read_json(c, &code, &msg);
        if (body == NULL)
            return roved_admin_error(c, code, msg);
        reason = json_string_value(json_object_get(body, "reason"));
        if (reason == NULL || reason[0] == '\0' || strlen(reason) > 500) {
            json_decref(body);
            return roved_admin_error(c, ROVE_EBADVALUE,
                                     "discarding needs a reason (text of 1 to 500 bytes)");
        }
    }
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0) {
        json_decref(body);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    held_copy h;
    memset(&h, 0, sizeof(h));
    int status = 0;
    int rc = roved_store_quarantine_query(db, id, 0, 1, keep_held, &h);
    const rove__table *t = h.found ? rove__schema_table(h.table, strlen(h.table)) : NULL;
    /* An entry out of reach answers like one that does not exist. */
    if (rc == 0 &&
        (!h.found || !reaches_held(db, actor, h.table, h.row_id, h.op, h.payload_json, now)))
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such quarantine entry");
    else if (rc == 0 && strcmp(h.status, "pending") != 0)
        status = roved_admin_error(c, ROVE_ESTATE, "this entry was decided already");
    else if (rc == 0 && t == NULL)
        status = roved_admin_error(c, ROVE_ESTATE, "the entry's table no longer exists");
    roved_receipt_row r;
    memset(&r, 0, sizeof(r));
    char outcome[300] = "";
    if (status == 0 && rc == 0 && apply) {
        roved_held held = {h.device_id, h.user_id,      h.table,      h.row_id,      h.op,
                           h.change_id, h.payload_json, h.client_hlc, h.base_version};
        char err[200] = "";
        rc = roved_sync_apply_held(srv, db, &held, actor->id, &r, err, sizeof(err));
        if (rc == ROVE_ESTATE) {
            status = roved_admin_error(c, ROVE_ESTATE, err);
            rc = 0;
        }
        snprintf(outcome, sizeof(outcome), "%s%s%s", status_name(r.status),
                 r.message[0] ? ": " : "", r.message);
    } else if (status == 0 && rc == 0) {
        roved_util_copy(outcome, sizeof(outcome), reason);
    }
    if (status == 0 && rc == 0)
        rc = roved_store_quarantine_decide(db, id, apply ? "applied" : "discarded", actor->id,
                                           now, outcome);
    if (status == 0 && rc == 0) {
        json_t *diff =
            json_pack("{s:I,s:s,s:s,s:s}", "quarantine", (json_int_t)id, "decision",
                      apply ? "apply" : "discard", "outcome", outcome, "author", h.user_id);
        rc = diff ? roved_admin_audit(db, actor, h.table, h.row_id,
                                      apply ? "quarantine_apply" : "quarantine_discard", diff,
                                      now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    free(h.payload_json);
    free(r.lost);
    json_decref(body);
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                                   "the decision could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the decision could not be committed");
    roved_log_info(apply ? "admin_quarantine_apply" : "admin_quarantine_discard",
                   "actor=%s entry=%lld record=%s outcome=\"%s\"", actor->id, (long long)id,
                   h.row_id, outcome);
    json_t *answer = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "status",
                               apply ? "applied" : "discarded", "table", h.table, "row_id",
                               h.row_id, "outcome", outcome);
    if (apply) {
        json_object_set_new(answer, "result", json_string(status_name(r.status)));
        json_object_set_new(answer, "version", json_integer(r.version));
    }
    return roved_admin_send_json(c, 200, answer);
}

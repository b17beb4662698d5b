/*
 * Admin API endpoints of the domain area (see admin.h, docs/data-model.md):
 *
 *   POST accounts/<id>/stage   {"stage": STAGE, "reason": TEXT}
 *   POST accounts/<id>/tier    {"tier": "VIP"|"A"|"B"|"C"}
 *
 * Lifecycle stage and value tier are server-authoritative: devices read them,
 * only these commands change them. A stage change appends a stage_change row
 * (who, when, from, to, why) that reps' devices pull as the account's
 * history; a tier change re-derives the account's next visit due and the SLA
 * due times of its open service tasks. Both are audited with the actor.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"

static const rove__table *table(const char *name)
{
    return rove__schema_table(name, strlen(name));
}

static int col(const rove__table *t, const char *name)
{
    return rove__schema_col(t, name, strlen(name));
}

static rove__value text(const char *s)
{
    rove__value v = {ROVE__T_TEXT, 0, 0, s, strlen(s)};
    return v;
}

static rove__value num(int64_t i)
{
    rove__value v = {ROVE__T_INT, i, 0, NULL, 0};
    return v;
}

static int valid_id(const char *s)
{
    if (s == NULL || strlen(s) != 26)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

static void copy_text(const rove__value *v, char *out, size_t size)
{
    out[0] = '\0';
    if (v->type == ROVE__T_TEXT && v->s != NULL) {
        size_t n = v->len < size - 1 ? v->len : size - 1;
        memcpy(out, v->s, n);
        out[n] = '\0';
    }
}

static int audit(roved_db *db, const roved_user *actor, const char *tbl, const char *row_id,
                 const char *op, json_t *diff, int64_t now)
{
    char *s = json_dumps(diff, JSON_COMPACT);
    if (s == NULL)
        return ROVE_ENOMEM;
    roved_audit a = {now, actor->id, NULL, tbl, row_id, op, 0, s};
    int rc = roved_store_audit_put(db, &a);
    free(s);
    return rc;
}

typedef struct open_tasks {
    roved_open_task *v;
    size_t n, cap;
} open_tasks;

static int collect_task(const roved_open_task *t, void *payload)
{
    open_tasks *o = payload;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        roved_open_task *v = realloc(o->v, cap * sizeof(*v));
        if (v == NULL)
            return ROVE_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = *t;
    return 0;
}

/* Re-derives the SLA due times of the account's open tasks for a new tier,
 * each with a new version so the devices pull them. */
static int retier_tasks(roved_server *srv, roved_db *db, const roved_user *actor,
                        const char *account_id, const char *tier, int64_t now)
{
    open_tasks o = {0};
    int rc = roved_store_open_tasks(db, account_id, collect_task, &o);
    const rove__table *t = table("service_task");
    for (size_t i = 0; rc == 0 && i < o.n; i++) {
        const roved_open_task *ot = &o.v[i];
        int64_t resp = 0, resolve = 0, version = 0;
        roved_domain_sla(&srv->policy, roved_domain_tier(tier, strlen(tier)),
                         roved_domain_priority(ot->priority, strlen(ot->priority)),
                         ot->reported_at > 0 ? ot->reported_at : now, &resp, &resolve);
        rc = roved_store_version_next(db, &version);
        int cols[5] = {col(t, "sla_response_due"), col(t, "sla_resolve_due"), ROVE__COL_VERSION,
                       ROVE__COL_UPDATED_BY, ROVE__COL_UPDATED_AT};
        rove__value vals[5] = {num(resp), num(resolve), num(version), text(actor->id),
                               num(now)};
        if (rc == 0)
            rc = roved_store_row_update(db, t, ot->id, cols, vals, 5);
    }
    free(o.v);
    return rc;
}

static int change_account(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                          const char *account_id, int stage_cmd)
{
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const rove__table *acc_t = table("account");
    const char *value = json_string_value(json_object_get(j, stage_cmd ? "stage" : "tier"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    int vcol = col(acc_t, stage_cmd ? "stage" : "tier");
    const char *bad = NULL;
    if (!valid_id(account_id))
        bad = "the account id is not a valid id";
    else if (value == NULL || !rove__schema_enum_ok(&acc_t->cols[vcol], value, strlen(value)))
        bad = stage_cmd ? "stage must be unidentified, prospect, opportunity, ordered, user "
                          "or churned"
                        : "tier must be VIP, A, B or C";
    else if (json_object_get(j, "reason") != NULL && (reason == NULL || strlen(reason) > 200))
        bad = "reason must be a string of at most 200 bytes";
    if (bad != NULL) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, bad);
    }
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    rove__value cur[ROVE__MAX_COLS];
    rove__buf cur_text = ROVE__BUF_INIT;
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    int status = 0;
    rc = roved_store_row_info(db, acc_t, account_id, &info);
    if (rc == ROVE_ENOTFOUND || (rc == 0 && info.deleted))
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such account");
    else if (rc == 0 && actor->role != ROVE__ROLE_ADMIN &&
             !roved_store_territory_manages(db, info.territory_id, actor->id, now) &&
             strcmp(info.owner_id, actor->id) != 0)
        status = roved_admin_error(c, ROVE_EFORBIDDEN,
                                   "managers may change only their territories' accounts");
    else if (rc == 0)
        rc = roved_store_row_get(db, acc_t, account_id, cur, &cur_text);
    char old[32] = "";
    if (status == 0 && rc == 0) {
        copy_text(&cur[vcol], old, sizeof(old));
        if (strcmp(old, value) == 0)
            status = roved_admin_error(c, ROVE_ESTATE,
                                       stage_cmd ? "the account is already at "
                                                   "this stage"
                                                 : "the account already has "
                                                   "this tier");
    }
    int64_t version = 0;
    if (status == 0 && rc == 0)
        rc = roved_store_version_next(db, &version);
    if (status == 0 && rc == 0) {
        int cols[6];
        rove__value vals[6];
        size_t n = 0;
        cols[n] = vcol;
        vals[n++] = text(value);
        if (!stage_cmd) {
            /* The cadence follows the tier unless the account has its own. */
            int64_t last = cur[col(acc_t, "last_visit_at")].type == ROVE__T_INT
                               ? cur[col(acc_t, "last_visit_at")].i
                               : 0;
            int64_t freq = cur[col(acc_t, "visit_freq_days")].type == ROVE__T_INT
                               ? cur[col(acc_t, "visit_freq_days")].i
                               : 0;
            int64_t next = roved_domain_next_visit_due(
                &srv->policy, roved_domain_tier(value, strlen(value)), freq, last);
            cols[n] = col(acc_t, "next_visit_due");
            vals[n++] = next ? num(next) : (rove__value){ROVE__T_NULL, 0, 0, NULL, 0};
        }
        cols[n] = ROVE__COL_VERSION;
        vals[n++] = num(version);
        cols[n] = ROVE__COL_UPDATED_BY;
        vals[n++] = text(actor->id);
        cols[n] = ROVE__COL_UPDATED_AT;
        vals[n++] = num(now);
        rc = roved_store_row_update(db, acc_t, account_id, cols, vals, n);
    }
    char history_id[27] = "";
    if (status == 0 && rc == 0 && stage_cmd) {
        /* The stage history row, synced to the account's devices. */
        const rove__table *h = table("stage_change");
        rove__value hv[ROVE__MAX_COLS];
        for (size_t i = 0; i < h->ncols; i++)
            hv[i] = (rove__value){ROVE__T_NULL, 0, 0, NULL, 0};
        roved_util_new_id(history_id);
        int64_t hver = 0;
        rc = roved_store_version_next(db, &hver);
        hv[ROVE__COL_ID] = text(history_id);
        hv[ROVE__COL_VERSION] = num(hver);
        hv[ROVE__COL_CREATED_BY] = text(actor->id);
        hv[ROVE__COL_CREATED_AT] = num(now);
        hv[ROVE__COL_UPDATED_BY] = text(actor->id);
        hv[ROVE__COL_UPDATED_AT] = num(now);
        hv[ROVE__COL_DELETED] = num(0);
        hv[col(h, "account_id")] = text(account_id);
        if (old[0])
            hv[col(h, "from_stage")] = text(old);
        hv[col(h, "to_stage")] = text(value);
        hv[col(h, "changed_by")] = text(actor->id);
        hv[col(h, "changed_at")] = num(now);
        if (reason != NULL)
            hv[col(h, "reason")] = text(reason);
        if (rc == 0)
            rc = roved_store_row_insert(db, h, hv);
    }
    if (status == 0 && rc == 0 && !stage_cmd)
        rc = retier_tasks(srv, db, actor, account_id, value, now);
    if (status == 0 && rc == 0) {
        json_t *diff = json_pack("{s:{s:s?,s:s},s:s?}", stage_cmd ? "stage" : "tier", "old",
                                 old[0] ? old : NULL, "new", value, "reason", reason);
        rc = audit(db, actor, "account", account_id, stage_cmd ? "stage" : "tier", diff, now);
        json_decref(diff);
    }
    rove__buf_free(&cur_text);
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, ROVE_ESTORE, "the change could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        json_decref(j);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the change could not be committed");
    }
    roved_log_info(stage_cmd ? "admin_account_stage" : "admin_account_tier",
                   "actor=%s account=%s", actor->id, account_id);
    json_t *answer =
        json_pack("{s:s,s:s?,s:s,s:I}", "account_id", account_id, "old", old[0] ? old : NULL,
                  "new", value, "version", (json_int_t)version);
    if (history_id[0])
        json_object_set_new(answer, "stage_change_id", json_string(history_id));
    json_decref(j);
    return roved_admin_send_json(c, 200, answer);
}

int roved_admin_domain_route(roved_server *srv, struct mg_connection *c, const char *method,
                             const char *path, const roved_user *actor)
{
    static const char prefix[] = "accounts/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *id = path + sizeof(prefix) - 1, *slash = strchr(id, '/');
    if (slash == NULL || slash - id != 26)
        return 0;
    int stage_cmd = strcmp(slash + 1, "stage") == 0;
    if (!stage_cmd && strcmp(slash + 1, "tier") != 0)
        return 0;
    if (strcmp(method, "POST") != 0)
        return roved_admin_error(c, ROVE_EMETHOD, "use POST");
    char account_id[27];
    memcpy(account_id, id, 26);
    account_id[26] = '\0';
    return change_account(srv, c, actor, account_id, stage_cmd);
}

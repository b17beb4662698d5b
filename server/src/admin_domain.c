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

#include "assign.h"
#include "domain.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"
#include "value.h"

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
    const rove__table *t = roved_table("service_task");
    for (size_t i = 0; rc == 0 && i < o.n; i++) {
        const roved_open_task *ot = &o.v[i];
        int64_t resp = 0, resolve = 0, version = 0;
        roved_domain_sla(&srv->policy, roved_domain_tier(tier, strlen(tier)),
                         roved_domain_priority(ot->priority, strlen(ot->priority)),
                         ot->reported_at > 0 ? ot->reported_at : now, &resp, &resolve);
        rc = roved_store_version_next(db, &version);
        int cols[5] = {roved_col(t, "sla_response_due"), roved_col(t, "sla_resolve_due"),
                       ROVE__COL_VERSION, ROVE__COL_UPDATED_BY, ROVE__COL_UPDATED_AT};
        rove__value vals[5] = {roved_int(resp), roved_int(resolve), roved_int(version),
                               roved_text(actor->id), roved_int(now)};
        if (rc == 0)
            rc = roved_store_row_update(db, t, ot->id, cols, vals, 5);
    }
    free(o.v);
    return rc;
}

int roved_admin_account_change(roved_server *srv, struct mg_connection *c,
                               const roved_user *actor, const char *const *arg, int stage_cmd)
{
    const char *account_id = arg[0];
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const rove__table *acc_t = roved_table("account");
    const char *value = json_string_value(json_object_get(j, stage_cmd ? "stage" : "tier"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    int vcol = roved_col(acc_t, stage_cmd ? "stage" : "tier");
    const char *bad = NULL;
    if (!roved_admin_valid_id(account_id))
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
    /* An account out of reach answers like one that does not exist. */
    if (rc == ROVE_ENOTFOUND ||
        (rc == 0 && (info.deleted || !roved_admin_manages_record(db, actor, &info, now))))
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such account");
    else if (rc == 0)
        rc = roved_store_row_get(db, acc_t, account_id, cur, &cur_text);
    char old[32] = "";
    if (status == 0 && rc == 0) {
        roved_text_copy(&cur[vcol], old, sizeof(old));
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
        vals[n++] = roved_text(value);
        if (!stage_cmd) {
            /* The cadence follows the tier unless the account has its own. */
            int64_t last = cur[roved_col(acc_t, "last_visit_at")].type == ROVE__T_INT
                               ? cur[roved_col(acc_t, "last_visit_at")].i
                               : 0;
            int64_t freq = cur[roved_col(acc_t, "visit_freq_days")].type == ROVE__T_INT
                               ? cur[roved_col(acc_t, "visit_freq_days")].i
                               : 0;
            int64_t next = roved_domain_next_visit_due(
                &srv->policy, roved_domain_tier(value, strlen(value)), freq, last);
            cols[n] = roved_col(acc_t, "next_visit_due");
            vals[n++] = next ? roved_int(next) : (rove__value){ROVE__T_NULL, 0, 0, NULL, 0};
        }
        cols[n] = ROVE__COL_VERSION;
        vals[n++] = roved_int(version);
        cols[n] = ROVE__COL_UPDATED_BY;
        vals[n++] = roved_text(actor->id);
        cols[n] = ROVE__COL_UPDATED_AT;
        vals[n++] = roved_int(now);
        rc = roved_store_row_update(db, acc_t, account_id, cols, vals, n);
    }
    char history_id[27] = "";
    if (status == 0 && rc == 0 && stage_cmd) {
        /* The stage history row, synced to the account's devices. */
        const rove__table *h = roved_table("stage_change");
        rove__value hv[ROVE__MAX_COLS];
        for (size_t i = 0; i < h->ncols; i++)
            hv[i] = (rove__value){ROVE__T_NULL, 0, 0, NULL, 0};
        roved_util_new_id(history_id);
        int64_t hver = 0;
        rc = roved_store_version_next(db, &hver);
        hv[ROVE__COL_ID] = roved_text(history_id);
        hv[ROVE__COL_VERSION] = roved_int(hver);
        hv[ROVE__COL_CREATED_BY] = roved_text(actor->id);
        hv[ROVE__COL_CREATED_AT] = roved_int(now);
        hv[ROVE__COL_UPDATED_BY] = roved_text(actor->id);
        hv[ROVE__COL_UPDATED_AT] = roved_int(now);
        hv[ROVE__COL_DELETED] = roved_int(0);
        hv[roved_col(h, "account_id")] = roved_text(account_id);
        if (old[0])
            hv[roved_col(h, "from_stage")] = roved_text(old);
        hv[roved_col(h, "to_stage")] = roved_text(value);
        hv[roved_col(h, "changed_by")] = roved_text(actor->id);
        hv[roved_col(h, "changed_at")] = roved_int(now);
        if (reason != NULL)
            hv[roved_col(h, "reason")] = roved_text(reason);
        if (rc == 0)
            rc = roved_store_row_insert(db, h, hv);
    }
    if (status == 0 && rc == 0 && !stage_cmd)
        rc = retier_tasks(srv, db, actor, account_id, value, now);
    if (status == 0 && rc == 0) {
        json_t *diff = json_pack("{s:{s:s?,s:s},s:s?}", stage_cmd ? "stage" : "tier", "old",
                                 old[0] ? old : NULL, "new", value, "reason", reason);
        rc = roved_admin_audit(db, actor, "account", account_id, stage_cmd ? "stage" : "tier",
                               diff, now);
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

/* ---- tasks/<id>/assign {"to": USERNAME} | {"auto": true} ------------------ */

int roved_admin_task_assign(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                            const char *const *arg, int variant)
{
    (void)variant;
    const char *task_id = arg[0];
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const char *to = json_string_value(json_object_get(j, "to"));
    int autopick = json_is_true(json_object_get(j, "auto"));
    if (!roved_admin_valid_id(task_id) || (to == NULL) == !autopick) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE,
                                 "give either to (a technician's user name) or auto: true");
    }
    const rove__table *t = roved_table("service_task");
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    rove__value cur[ROVE__MAX_COLS];
    rove__buf cur_text = ROVE__BUF_INIT;
    roved_rowinfo info;
    roved_user tech;
    memset(&info, 0, sizeof(info));
    memset(&tech, 0, sizeof(tech));
    int status = 0, found = 0;
    char skills[256] = "", state[32] = "", chosen[27] = "", routed_from[27] = "";
    int rc = roved_store_row_info(db, t, task_id, &info);
    /* A task out of reach answers like one that does not exist. */
    if (rc == ROVE_ENOTFOUND ||
        (rc == 0 &&
         (info.deleted || !roved_admin_reaches_territory(db, actor, info.territory_id, now))))
        status = roved_admin_error(c, ROVE_ENOTFOUND, "no such task");
    if (status == 0 && rc == 0 &&
        (rc = roved_store_row_get(db, t, task_id, cur, &cur_text)) == 0) {
        roved_text_copy(&cur[roved_col(t, "required_skills")], skills, sizeof(skills));
        roved_text_copy(&cur[roved_col(t, "status")], state, sizeof(state));
        if (!strcmp(state, "resolved") || !strcmp(state, "follow_up") ||
            !strcmp(state, "closed") || !strcmp(state, "cancelled"))
            status = roved_admin_error(c, ROVE_ESTATE, "the task is no longer open");
    }
    if (status == 0 && rc == 0 && to != NULL) {
        rc = roved_store_user_by_name(db, to, &tech);
        if (rc == ROVE_ENOTFOUND) {
            rc = 0;
            status = roved_admin_error(c, ROVE_ENOTFOUND, "no such user");
        } else if (rc == 0) {
            roved_util_copy(chosen, sizeof(chosen), tech.id);
            /* The same rules as automatic assignment, for this one person. */
            if (tech.role != ROVE__ROLE_TECH || tech.status != ROVED_USER_ACTIVE)
                status = roved_admin_error(c, ROVE_EBADVALUE, "not an active technician");
            else if (!roved_domain_skills_match(tech.skills, skills))
                status = roved_admin_error(c, ROVE_EBADVALUE,
                                           "the technician lacks the required skills");
            else {
                /* Absent or inactive technicians are never available. */
                int present = roved_assign_is_available(db, tech.id, now);
                char delegate[27] = "";
                if (present == 0 &&
                    roved_store_active_delegate(db, tech.id, now, delegate) == 0 &&
                    roved_assign_is_available(db, delegate, now) == 1) {
                    /* On leave: the delegate covers it until the leave ends. */
                    roved_util_copy(routed_from, sizeof(routed_from), tech.id);
                    roved_util_copy(chosen, sizeof(chosen), delegate);
                    present = 1;
                }
                if (present < 0)
                    rc = ROVE_ESTORE;
                else if (!present)
                    status = roved_admin_error(c, ROVE_EBADVALUE, "the technician is absent");
            }
        }
    } else if (status == 0 && rc == 0) {
        rc = roved_assign_pick(db, skills, now, chosen, &found);
        if (rc == 0 && !found)
            chosen[0] = '\0';
    }
    int64_t version = 0;
    if (status == 0 && rc == 0)
        rc = roved_store_version_next(db, &version);
    if (status == 0 && rc == 0) {
        int cols[8];
        rove__value vals[8];
        size_t n = 0;
        rove__value null = {ROVE__T_NULL, 0, 0, NULL, 0};
        cols[n] = roved_col(t, "assignee_id");
        vals[n++] = chosen[0] ? roved_text(chosen) : null;
        cols[n] = roved_col(t, "queue");
        vals[n++] = chosen[0] ? null : roved_text("dispatcher");
        if (routed_from[0]) { /* back to them when the leave ends */
            cols[n] = roved_col(t, "original_assignee_id");
            vals[n++] = roved_text(routed_from);
        } else if (chosen[0] &&
                   cur[roved_col(t, "original_assignee_id")].type == ROVE__T_NULL) {
            cols[n] = roved_col(t, "original_assignee_id");
            vals[n++] = roved_text(chosen);
        }
        if (chosen[0] && !strcmp(state, "new")) {
            cols[n] = roved_col(t, "status");
            vals[n++] = roved_text("assigned");
        }
        cols[n] = ROVE__COL_VERSION;
        vals[n++] = roved_int(version);
        cols[n] = ROVE__COL_UPDATED_BY;
        vals[n++] = roved_text(actor->id);
        cols[n] = ROVE__COL_UPDATED_AT;
        vals[n++] = roved_int(now);
        rc = roved_store_row_update(db, t, task_id, cols, vals, n);
    }
    if (status == 0 && rc == 0) {
        json_t *diff = json_pack("{s:{s:s?,s:s?},s:s?}", "assignee_id", "old",
                                 info.assignee_id[0] ? info.assignee_id : NULL, "new",
                                 chosen[0] ? chosen : NULL, "covering_for",
                                 routed_from[0] ? routed_from : NULL);
        rc = roved_admin_audit(db, actor, "service_task", task_id, "assign", diff, now);
        json_decref(diff);
    }
    /* The previous technician's device drops it, the new one's receives it. */
    if (status == 0 && rc == 0)
        rc = roved_store_scope_move(db, 't', task_id, now, "task_reassigned");
    rove__buf_free(&cur_text);
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, ROVE_ESTORE, "the change could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        json_decref(j);
        return status;
    }
    json_decref(j);
    if (roved_store_write_commit(srv->store, db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the change could not be committed");
    roved_log_info("admin_task_assigned", "actor=%s task=%s queued=%d", actor->id, task_id,
                   chosen[0] == '\0');
    return roved_admin_send_json(c, 200,
                                 json_pack("{s:s,s:s?,s:b,s:I}", "task_id", task_id,
                                           "assignee_id", chosen[0] ? chosen : NULL, "queued",
                                           chosen[0] == '\0', "version", (json_int_t)version));
}

static int add_queued(const roved_open_task *t, void *payload)
{
    roved_admin_lister *l = payload;
    if (!roved_admin_reaches_row(l->db, l->actor, "service_task", t->id, l->now))
        return 0;
    json_t *o = json_pack("{s:s,s:s,s:I}", "id", t->id, "priority", t->priority, "reported_at",
                          (json_int_t)t->reported_at);
    return json_array_append_new(l->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

static int add_absence(const char *username, int64_t from, int64_t to, const char *reason,
                       void *payload)
{
    roved_admin_lister *l = payload;
    roved_user u;
    if (username == NULL || roved_admin_find_user(l->db, l->actor, username, l->now, &u) != 0)
        return 0;
    json_t *o = json_pack("{s:s,s:I,s:I,s:s}", "username", username, "from", (json_int_t)from,
                          "to", (json_int_t)to, "reason", reason ? reason : "");
    return json_array_append_new(l->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

/* GET tasks/queue and GET absences: those the actor reaches. */
int roved_admin_domain_list(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                            const char *const *arg, int queue)
{
    (void)arg;
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_admin_lister l = {db, actor, roved_util_now_ms(), json_array()};
    json_t *arr = l.arr;
    int rc = queue ? roved_store_task_queue(db, add_queued, &l)
                   : roved_store_absence_list(db, add_absence, &l);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return roved_admin_error(c, ROVE_ESTORE, "the list could not be read");
    }
    return roved_admin_send_json(c, 200, json_pack("{s:o}", queue ? "tasks" : "absences", arr));
}

int roved_admin_absence_add(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                            const char *const *arg, int variant)
{
    (void)variant;
    const char *username = arg[0];
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    json_t *f = json_object_get(j, "from"), *t = json_object_get(j, "to");
    const char *reason = json_string_value(json_object_get(j, "reason"));
    if (!json_is_integer(f) || !json_is_integer(t) || json_integer_value(f) < 0 ||
        json_integer_value(t) <= json_integer_value(f) || (reason && strlen(reason) > 200)) {
        json_decref(j);
        return roved_admin_error(
            c, ROVE_EBADVALUE, "from and to (ms since the epoch, to after from) are required");
    }
    int64_t from = json_integer_value(f), to = json_integer_value(t);
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    roved_user u;
    int rc = roved_admin_find_user(db, actor, username, roved_util_now_ms(), &u), status = 0;
    if (rc == ROVE_ENOTFOUND)
        status = roved_admin_error(c, rc, "no such user");
    if (status == 0 && rc == 0)
        rc = roved_store_absence_add(db, u.id, from, to, reason);
    if (status == 0 && rc == 0) {
        json_t *diff = json_pack("{s:I,s:I,s:s?}", "from", (json_int_t)from, "to",
                                 (json_int_t)to, "reason", reason);
        rc = roved_admin_audit(db, actor, "users", u.id, "absence", diff, roved_util_now_ms());
        json_decref(diff);
    }
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, ROVE_ESTORE, "the absence could not be stored");
    json_decref(j);
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the absence could not be committed");
    return roved_admin_send_json(c, 201,
                                 json_pack("{s:s,s:I,s:I}", "username", username, "from",
                                           (json_int_t)from, "to", (json_int_t)to));
}

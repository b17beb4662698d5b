/* Applying pushes and building pulls (see sync.h). */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "assign.h"
#include "auth.h"
#include "hlc.h"
#include "id.h"
#include "lease.h"
#include "login.h"
#include "log.h"
#include "resolver.h"
#include "rove/errors.h"
#include "scope.h"
#include "util.h"
#include "value.h"
#include "wire.h"

/* A receipt being built: the wire view plus storage for its texts. */
typedef struct receipt_slot {
    rove__receipt wire;
    roved_receipt_row row;
} receipt_slot;

/* What one change needs while it is applied. */
typedef struct apply_ctx {
    roved_db *db;
    const roved_device *dev;
    const roved_user *user;
    int64_t now;
    const roved_policy *policy;
    int64_t max_skew; /* ms a device clock may run ahead (--max-clock-skew-ms) */
    /* Set when a manager applies a held (quarantined) change: the scope
     * checks are theirs, made before. */
    const char *decided_by;
    /* Set when the device is revoked and draining (docs/delegation-transfer.md):
     * its changes made up to this time are applied as a late sync, later ones
     * are quarantined. */
    int64_t revoked_at;
    /* Set while a delegate's change is applied under a delegation: the
     * delegator it is made for, and the delegation (audit attribution). */
    const char *on_behalf_of;
    const char *delegation_id;
    char deleg_buf[2][27];
} apply_ctx;

static int may_write(apply_ctx *a, const rove__table *t, const roved_rowinfo *info)
{
    return a->decided_by != NULL || roved_scope_can_write(a->db, a->user, t, info, a->now);
}

static int may_insert(apply_ctx *a, const rove__table *t, const roved_rowinfo *acct)
{
    return a->decided_by != NULL || roved_scope_can_insert(a->db, a->user, t, acct, a->now);
}

static int reject(roved_receipt_row *r, int code, const char *message)
{
    r->status = ROVE__RC_REJECTED;
    roved_util_copy(r->code, sizeof(r->code), rove_error_name(code));
    roved_util_copy(r->message, sizeof(r->message), message);
    r->version = 0;
    return 0;
}

/* The audit diff: the columns written, as a JSON object. Rows are data the
 * audit table may hold; they never go to the log. */
static char *diff_json(const rove__table *t, const int *cols, const rove__value *vals, size_t n,
                       const rove__value *old, int64_t late_sync)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    /* A revoked device's upload: flagged for the record's new owner. */
    if (late_sync > 0)
        json_object_set_new(o, "_late_sync_revoked_at", json_integer(late_sync));
    for (size_t i = 0; i < n; i++) {
        if (cols[i] < ROVE__SYS_COLS && cols[i] != ROVE__COL_DELETED)
            continue;
        /* {"col": {"old": ..., "new": ...}} when the previous value is known. */
        json_t *v = roved_value_json(&vals[i]);
        if (old != NULL)
            v = json_pack("{s:o,s:o}", "old", roved_value_json(&old[cols[i]]), "new", v);
        json_object_set_new(o, t->cols[cols[i]].name, v);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int audit(apply_ctx *a, const rove__change *c, const char *op, const int *cols,
                 const rove__value *vals, size_t n, const rove__value *old)
{
    char *diff = diff_json(c->table, cols, vals, n, old, a->revoked_at);
    if (diff == NULL)
        return ROVE_ENOMEM;
    roved_audit rec = {a->now, a->user->id, a->dev->id, c->table->name,  c->id,
                       op,     c->hlc,      diff,       a->on_behalf_of, a->delegation_id};
    int rc = roved_store_audit_put(a->db, &rec);
    free(diff);
    return rc;
}

/* The account a change refers to (ref column account_id), as row info. */
static int referenced_account(apply_ctx *a, const rove__change *c, const rove__value *v,
                              roved_rowinfo *out, int *found)
{
    *found = 0;
    if (v == NULL || v->type != ROVE__T_TEXT || v->len != 26)
        return 0;
    char id[27];
    memcpy(id, v->s, 26);
    id[26] = '\0';
    size_t nt;
    const rove__table *tables = rove__schema_tables(&nt);
    memset(out, 0, sizeof(*out));
    int rc = roved_store_row_info(a->db, &tables[0], id, out);
    if (rc == ROVE_ENOTFOUND)
        return 0;
    if (rc == 0)
        *found = 1;
    return rc;
}

static const rove__value *given(const rove__change *c, int col)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (c->col[i] == col)
            return &c->val[i];
    return NULL;
}

/* ---- records that left the device's scope ------------------------------
 *
 * A device may push edits to a record it still holds but that has left its
 * scope since (reassigned, a territory membership ended): the edits it made
 * while the record was its own are applied, later ones are quarantined for a
 * person to decide (docs/scope.md). Records it never held get the same answer
 * as records that do not exist.
 */

/* The time a change was made on the device: its HLC, bounded by server time. */
static int64_t change_time(const apply_ctx *a, const rove__change *c)
{
    int64_t t = (int64_t)rove__hlc_ms((uint64_t)c->hlc);
    return t > a->now ? a->now : t;
}

static int quarantine_code(apply_ctx *a, const rove__change *c, roved_receipt_row *r, int code,
                           const char *why)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < c->ncols; i++)
        json_object_set_new(o, c->table->cols[c->col[i]].name, roved_value_json(&c->val[i]));
    char *payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (payload == NULL)
        return ROVE_ENOMEM;
    static const char *const ops[] = {"insert", "update", "delete"};
    size_t op = c->op >= ROVE__OP_INSERT && c->op <= ROVE__OP_DELETE ? (size_t)c->op - 1 : 1;
    roved_quarantine q = {a->now,
                          a->dev->id,
                          a->user->id,
                          c->table->name,
                          c->id,
                          c->change_id,
                          c->change_id_len,
                          ops[op],
                          c->hlc,
                          payload,
                          rove_error_name(code),
                          why,
                          c->base_version,
                          NULL,
                          NULL,
                          0,
                          NULL};
    int rc = roved_store_quarantine_put(a->db, &q);
    free(payload);
    if (rc != 0)
        return rc;
    r->status = ROVE__RC_QUARANTINED;
    roved_util_copy(r->code, sizeof(r->code), rove_error_name(code));
    roved_util_copy(r->message, sizeof(r->message), why);
    r->version = 0;
    return 0;
}

static int quarantine(apply_ctx *a, const rove__change *c, roved_receipt_row *r,
                      const char *why)
{
    return quarantine_code(a, c, r, ROVE_ESCOPE, why);
}

enum { HELD_NO = 0, HELD_APPLY = 1, HELD_QUARANTINED = 2 };

/* ---- delegations (docs/delegation-transfer.md) --------------------------
 *
 * A delegate writes the delegator's records under a delegation: between its
 * start and end (by the change's bounded time), for the actions it allows,
 * received no later than its end plus the grace period. Ownership does not
 * change; the write is attributed (on behalf of, delegation). A change made
 * after the end, or received after the grace period, is quarantined for the
 * owner or a manager; one made before the start is refused.
 */

enum { DELEG_NONE = 0, DELEG_APPLY = 1, DELEG_DONE = 2 };

/* own_rights: the user may write the record anyway (a territory member);
 * then a delegation only attributes the write, it never refuses it. */
static int delegation_decision(apply_ctx *a, const rove__change *c, const roved_rowinfo *acct,
                               int own_rights, roved_receipt_row *r, int *out)
{
    *out = DELEG_NONE;
    if (acct == NULL || acct->account_id[0] == '\0' || a->user->role != ROVE__ROLE_REP ||
        strcmp(acct->owner_id, a->user->id) == 0)
        return 0;
    int64_t when = change_time(a, c);
    roved_delegation d;
    roved_grant g;
    int rc =
        roved_store_delegation_covering(a->db, a->user->id, acct->account_id, when, &d, &g);
    int in_window = rc == 0;
    if (rc == ROVE_ENOTFOUND)
        rc = roved_store_delegation_covering(a->db, a->user->id, acct->account_id, 0, &d, &g);
    if (rc == ROVE_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (own_rights && !in_window)
        return 0;
    *out = DELEG_DONE;
    char msg[200];
    if (!in_window && when < d.starts_at) {
        snprintf(msg, sizeof(msg), "the delegation for this record starts at %lld",
                 (long long)d.starts_at);
        return reject(r, ROVE_EFORBIDDEN, msg);
    }
    if (!in_window)
        return quarantine_code(a, c, r, ROVE_ESCOPE,
                               "made after the delegation ended; held for the owner or a "
                               "manager");
    const char *want = rove__delegation_action(c->table);
    if (own_rights &&
        (c->op == ROVE__OP_DELETE || want == NULL || !rove__actions_has(g.actions, want) ||
         a->now > d.ends_at + d.grace_ms)) {
        *out = DELEG_NONE; /* their own rights, not the delegation's */
        return 0;
    }
    if (c->op == ROVE__OP_DELETE)
        return reject(r, ROVE_EFORBIDDEN, "a delegate may not delete the delegator's records");
    if (want == NULL || !rove__actions_has(g.actions, want)) {
        snprintf(msg, sizeof(msg), "the delegation does not allow %s (it allows: %s)",
                 want ? want : "this", g.actions);
        return reject(r, ROVE_EFORBIDDEN, msg);
    }
    if (a->now > d.ends_at + d.grace_ms)
        return quarantine_code(a, c, r, ROVE_ESCOPE,
                               "made during the delegation but received after its grace "
                               "period; held for the owner or a manager");
    roved_util_copy(a->deleg_buf[0], sizeof(a->deleg_buf[0]), d.delegator_id);
    roved_util_copy(a->deleg_buf[1], sizeof(a->deleg_buf[1]), d.id);
    a->on_behalf_of = a->deleg_buf[0];
    a->delegation_id = a->deleg_buf[1];
    *out = DELEG_APPLY;
    return 0;
}

/*
 * For a change to a record outside the user's scope now (info describes it):
 * HELD_NO when the device never held it (refuse as out of scope), HELD_APPLY
 * when it held it and made the change before the record left its scope,
 * HELD_QUARANTINED (receipt filled) when it made the change afterwards.
 */
static int held_decision(apply_ctx *a, const rove__change *c, const roved_rowinfo *info,
                         roved_receipt_row *r, int *out)
{
    *out = HELD_NO;
    int held = 0;
    int rc = 0;
    if (a->user->role == ROVE__ROLE_TECH && info->task_id[0] != '\0')
        rc = roved_store_scope_held(a->db, a->dev->id, 't', info->task_id, &held);
    else
        rc = roved_store_scope_held(a->db, a->dev->id, 'a', info->account_id, &held);
    if (rc != 0 || !held)
        return rc;
    int64_t left_at = 0;
    if ((rc = roved_store_scope_left_at(a->db, a->user->id, info, a->now, &left_at)) != 0)
        return rc;
    if (left_at == 0 || change_time(a, c) <= left_at) {
        *out = HELD_APPLY;
        return 0;
    }
    *out = HELD_QUARANTINED;
    return quarantine(a, c, r,
                      "the record left your scope before this change was made; "
                      "held for review by a manager");
}

/*
 * The record half of the one write decision of a push; the role's grant for
 * the change (roved_scope_grant) was asked before, in apply_change_rules. The
 * user's own scope now (roved_scope_can_write/_insert), else a delegation,
 * else a record the device held before it left the scope. info: the record
 * (update, delete) or the account a new row goes under (insert). *go = 1 when
 * the change is to be applied; otherwise r is filled (rejected, quarantined).
 */
static int record_rights(apply_ctx *a, const rove__change *c, const roved_rowinfo *info,
                         roved_receipt_row *r, int *go)
{
    *go = 0;
    int insert = c->op == ROVE__OP_INSERT;
    int own = insert ? may_insert(a, c->table, info) : may_write(a, c->table, info);
    int deleg = DELEG_NONE, rc;
    if ((rc = delegation_decision(a, c, info, own, r, &deleg)) != 0 || deleg == DELEG_DONE)
        return rc;
    if (deleg == DELEG_NONE && !own) {
        int held = HELD_NO;
        if ((rc = held_decision(a, c, info, r, &held)) != 0)
            return rc;
        if (held == HELD_QUARANTINED)
            return 0;
        if (held == HELD_NO)
            return reject(r, ROVE_ESCOPE,
                          insert ? "the account is outside the device's scope"
                                 : "the record is outside the device's scope");
    }
    *go = 1;
    return 0;
}

/* ---- domain rules in the push path (docs/data-model.md) -----------------
 *
 * Before a change is stored: status moves must follow the visit and task
 * state machines, a completed visit changes only its notes, a closed or
 * cancelled task only its notes and satisfaction, a closed task needs a close
 * reason and satisfaction is 1..5. Then the server derives what the device may
 * not write: check-in verification, SLA due times, response and resolution
 * times, the follow-up date, and the account's last and next visit.
 */

static int is_table(const rove__table *t, const char *name)
{
    return strcmp(t->name, name) == 0;
}

/* Copies a text value into buf (empty when NULL or not text). */
static int vnum(const rove__value *v, double *out)
{
    if (v == NULL)
        return 0;
    if (v->type == ROVE__T_REAL)
        *out = v->d;
    else if (v->type == ROVE__T_INT)
        *out = (double)v->i;
    else
        return 0;
    return 1;
}

/* The value of column name after the change: given, else current (NULL). */
static const rove__value *after(const rove__table *t, const rove__change *c,
                                const rove__value *cur, const char *name)
{
    int col = roved_col(t, name);
    if (col < 0)
        return NULL;
    const rove__value *v = given(c, col);
    if (v != NULL)
        return v;
    return cur != NULL ? &cur[col] : NULL;
}

/* Refuses the change with code and message; *refused = 1. */
static int refuse(roved_receipt_row *r, int *refused, int code, const char *msg)
{
    *refused = 1;
    return reject(r, code, msg);
}

/*
 * Checks a change against the domain rules. cur: the current row (NULL for an
 * insert); conflicted[i]: the change's i-th column loses to or merges with a
 * concurrent change (the column's merge policy decides those, not the state
 * machine). Returns 0 with *refused set and r filled when the change breaks a
 * rule.
 */
static int domain_check(const rove__change *c, const rove__value *cur, const int *conflicted,
                        roved_receipt_row *r, int *refused)
{
    const rove__table *t = c->table;
    char from[32], to[32], msg[160];
    *refused = 0;
    int visit = is_table(t, "visit"), task = is_table(t, "service_task");
    if (!visit && !task)
        return 0;
    int scol = roved_col(t, "status");
    const rove__value *nv = given(c, scol);
    int status_conflicted = 0;
    for (size_t i = 0; i < c->ncols; i++)
        if (c->col[i] == scol && conflicted != NULL && conflicted[i])
            status_conflicted = 1;
    roved_text_copy(cur ? &cur[scol] : NULL, from, sizeof(from));
    roved_text_copy(nv, to, sizeof(to));
    if (cur != NULL && from[0] != '\0') {
        /* Records that are done change only what may still be added to them. */
        int done = visit ? strcmp(from, "completed") == 0
                         : strcmp(from, "closed") == 0 || strcmp(from, "cancelled") == 0;
        for (size_t i = 0; done && i < c->ncols; i++) {
            const char *name = t->cols[c->col[i]].name;
            if (strcmp(name, "notes") == 0 || (task && strcmp(name, "satisfaction") == 0))
                continue;
            if ((int)c->col[i] == scol && strcmp(to, from) == 0)
                continue;
            if ((int)c->col[i] == scol && status_conflicted)
                continue; /* a stale concurrent status: the rank policy answers */
            snprintf(msg, sizeof(msg), "the %s is %s: only its notes%s may change",
                     visit ? "visit" : "task", from, task ? " and satisfaction" : "");
            return refuse(r, refused, ROVE_ESTATE, msg);
        }
    }
    if (nv != NULL && !status_conflicted) {
        int ok = visit ? roved_domain_visit_move_ok(cur && from[0] ? from : NULL, to)
                       : roved_domain_task_move_ok(cur && from[0] ? from : NULL, to);
        if (!ok) {
            if (cur != NULL && from[0] != '\0')
                snprintf(msg, sizeof(msg), "a %s cannot go from %s to %s",
                         visit ? "visit" : "task", from, to);
            else
                snprintf(msg, sizeof(msg), "a new %s cannot start as %s",
                         visit ? "visit" : "task", to[0] ? to : "(none)");
            return refuse(r, refused, ROVE_ESTATE, msg);
        }
    }
    if (task) {
        double sat;
        const rove__value *sv = given(c, roved_col(t, "satisfaction"));
        if (sv != NULL && sv->type != ROVE__T_NULL &&
            (!vnum(sv, &sat) || sat < 1 || sat > 5 || sat != (double)(int)sat))
            return refuse(r, refused, ROVE_EBADVALUE, "satisfaction must be 1 to 5");
        char skills[256];
        const rove__value *rs = given(c, roved_col(t, "required_skills"));
        if (rs != NULL &&
            (rs->len >= sizeof(skills) ||
             !roved_domain_skills_valid(roved_text_copy(rs, skills, sizeof(skills)))))
            return refuse(r, refused, ROVE_EBADVALUE,
                          "required_skills must be name:level entries (levels 1-5), "
                          "separated by commas");
        char reason[8];
        if (strcmp(to, "closed") == 0 && strcmp(from, "closed") != 0 &&
            roved_text_copy(after(t, c, cur, "close_reason"), reason, sizeof(reason))[0] ==
                '\0')
            return refuse(r, refused, ROVE_EBADVALUE, "closing a task needs a close_reason");
        if (strcmp(to, "resolved") == 0 && strcmp(from, "resolved") != 0 &&
            roved_text_copy(after(t, c, cur, "resolution"), reason, sizeof(reason))[0] == '\0')
            return refuse(r, refused, ROVE_EBADVALUE, "resolving a task needs a resolution");
    }
    return 0;
}

/* Server-derived columns a change adds to its write. */
typedef struct derived {
    int cols[12];
    rove__value vals[12];
    size_t n;
    char assignee[27]; /* storage for an assigned technician's id */
    int assigned;      /* a technician's scope grows */
} derived;

static void derive(derived *d, const rove__table *t, const char *name, rove__value v)
{
    int col = roved_col(t, name);
    if (col >= 0 && d->n < sizeof(d->cols) / sizeof(d->cols[0])) {
        d->cols[d->n] = col;
        d->vals[d->n++] = v;
    }
}

static rove__value real_value(double x)
{
    rove__value v = {ROVE__T_REAL, 0, x, NULL, 0};
    return v;
}

/* Reads the account of a visit or task (values into acc, texts in text). */
static int read_account(apply_ctx *a, const rove__value *account_id, rove__value *acc,
                        rove__buf *text)
{
    char id[27];
    roved_text_copy(account_id, id, sizeof(id));
    if (id[0] == '\0')
        return ROVE_ENOTFOUND;
    size_t nt;
    const rove__table *tables = rove__schema_tables(&nt);
    return roved_store_row_get(a->db, &tables[0], id, acc, text);
}

static int acc_int(const rove__value *acc, const char *name, int64_t *out)
{
    size_t nt;
    int col = roved_col(&rove__schema_tables(&nt)[0], name);
    if (col < 0 || acc[col].type != ROVE__T_INT)
        return 0;
    *out = acc[col].i;
    return 1;
}

static const rove__value *acc_val(const rove__value *acc, const char *name)
{
    size_t nt;
    int col = roved_col(&rove__schema_tables(&nt)[0], name);
    return col >= 0 ? &acc[col] : NULL;
}

/*
 * The derived values of a visit or task change (cur NULL for an insert),
 * given what the change writes after merging. when: the time the change was
 * made. Sets *completed_visit when a visit became completed.
 */
static int domain_derive(apply_ctx *a, const rove__change *c, const rove__value *cur,
                         int64_t when, derived *d, int *completed_visit)
{
    const rove__table *t = c->table;
    char from[32], to[32];
    *completed_visit = 0;
    int scol = roved_col(t, "status");
    roved_text_copy(cur ? &cur[scol] : NULL, from, sizeof(from));
    roved_text_copy(after(t, c, cur, "status"), to, sizeof(to));
    int moved = strcmp(from, to) != 0;
    rove__value acc[ROVE__MAX_COLS];
    rove__buf acc_text = ROVE__BUF_INIT;
    int rc = 0;
    if (is_table(t, "visit")) {
        if (moved && (strcmp(to, "checked_in") == 0 ||
                      (strcmp(to, "completed") == 0 && strcmp(from, "checked_in") != 0))) {
            /* Check-in verification: the device's position against the account's. */
            double dlat = 0, dlon = 0, alat = 0, alon = 0, radius = a->policy->checkin_radius_m;
            int dgeo = vnum(after(t, c, cur, "checkin_lat"), &dlat) &&
                       vnum(after(t, c, cur, "checkin_lon"), &dlon) &&
                       roved_domain_geo_ok(dlat, dlon);
            char reason[8];
            int manual =
                roved_text_copy(after(t, c, cur, "geo_reason"), reason, sizeof(reason))[0] != 0;
            int ageo = 0;
            int arc = read_account(a, after(t, c, cur, "account_id"), acc, &acc_text);
            if (arc == 0) {
                int64_t r_m = 0;
                ageo = vnum(acc_val(acc, "lat"), &alat) && vnum(acc_val(acc, "lon"), &alon) &&
                       roved_domain_geo_ok(alat, alon);
                if (acc_int(acc, "checkin_radius_m", &r_m) && r_m > 0)
                    radius = (double)r_m;
            } else if (arc != ROVE_ENOTFOUND) {
                rc = arc;
            }
            double dist = -1;
            const char *check = roved_domain_geo_check(ageo, alat, alon, dgeo, dlat, dlon,
                                                       manual, radius, &dist);
            derive(d, t, "geo_check", roved_text(check));
            derive(d, t, "checkin_distance_m",
                   dist >= 0 ? real_value(dist) : (rove__value){ROVE__T_NULL, 0, 0, NULL, 0});
        }
        if (moved && strcmp(to, "completed") == 0)
            *completed_visit = 1;
    } else if (is_table(t, "service_task")) {
        if (cur == NULL) {
            /* A new task: SLA dues from the account's tier and the priority. */
            int64_t reported = when;
            const rove__value *rv = given(c, roved_col(t, "reported_at"));
            if (rv != NULL && rv->type == ROVE__T_INT && rv->i > 0 && rv->i <= a->now)
                reported = rv->i;
            else
                derive(d, t, "reported_at", roved_int(reported));
            char prio[16], tier[8] = "";
            roved_text_copy(given(c, roved_col(t, "priority")), prio, sizeof(prio));
            if (prio[0] == '\0') {
                snprintf(prio, sizeof(prio), "normal");
                derive(d, t, "priority", roved_text("normal"));
            }
            int arc = read_account(a, given(c, roved_col(t, "account_id")), acc, &acc_text);
            if (arc == 0)
                roved_text_copy(acc_val(acc, "tier"), tier, sizeof(tier));
            else if (arc != ROVE_ENOTFOUND)
                rc = arc;
            int64_t resp = 0, resolve = 0;
            roved_domain_sla(a->policy, roved_domain_tier(tier, strlen(tier)),
                             roved_domain_priority(prio, strlen(prio)), reported, &resp,
                             &resolve);
            derive(d, t, "sla_response_due", roved_int(resp));
            derive(d, t, "sla_resolve_due", roved_int(resolve));
            /* A technician with the skills who is not absent, else the
             * dispatcher queue: never nobody. */
            char skills[256];
            roved_text_copy(given(c, roved_col(t, "required_skills")), skills, sizeof(skills));
            int found = 0;
            if (rc == 0)
                rc = roved_assign_pick(a->db, skills, when, d->assignee, &found);
            if (rc == 0 && found) {
                derive(d, t, "assignee_id", roved_text(d->assignee));
                derive(d, t, "original_assignee_id", roved_text(d->assignee));
                derive(d, t, "status", roved_text("assigned"));
                d->assigned = 1;
            } else {
                derive(d, t, "queue", roved_text("dispatcher"));
                if (given(c, scol) == NULL)
                    derive(d, t, "status", roved_text("new"));
            }
        }
        static const char *const responded[] = {"in_progress", "resolved", "follow_up",
                                                "closed", NULL};
        int64_t fr = 0;
        const rove__value *frv = cur ? &cur[roved_col(t, "first_response_at")] : NULL;
        int has_first = frv != NULL && frv->type == ROVE__T_INT && (fr = frv->i) > 0;
        for (int i = 0; moved && !has_first && responded[i]; i++)
            if (strcmp(to, responded[i]) == 0) {
                derive(d, t, "first_response_at", roved_int(when));
                break;
            }
        if (moved && strcmp(to, "resolved") == 0) {
            derive(d, t, "resolved_at", roved_int(when));
            derive(d, t, "followup_due",
                   roved_int(when + (int64_t)a->policy->followup_days * 86400000));
        }
    }
    rove__buf_free(&acc_text);
    return rc;
}

/*
 * What the server derives again when an update changes an input of it: a
 * service task's SLA dues when its priority changes (while it is open), and
 * an account's next visit due when its visit frequency changes.
 */
static int derive_again(apply_ctx *a, const rove__change *c, const rove__value *cur,
                        const int *cols, size_t n, derived *d)
{
    const rove__table *t = c->table;
    int changed_prio = 0, changed_freq = 0;
    for (size_t i = 0; i < n; i++) {
        changed_prio |= is_table(t, "service_task") && cols[i] == roved_col(t, "priority");
        changed_freq |= is_table(t, "account") && cols[i] == roved_col(t, "visit_freq_days");
    }
    if (changed_prio) {
        char status[16], prio[16], tier[8] = "";
        roved_text_copy(after(t, c, cur, "status"), status, sizeof(status));
        if (!strcmp(status, "resolved") || !strcmp(status, "closed") ||
            !strcmp(status, "cancelled"))
            return 0;
        roved_text_copy(after(t, c, cur, "priority"), prio, sizeof(prio));
        const rove__value *rv = after(t, c, cur, "reported_at");
        int64_t reported = rv != NULL && rv->type == ROVE__T_INT ? rv->i : a->now;
        rove__value acc[ROVE__MAX_COLS];
        rove__buf acc_text = ROVE__BUF_INIT;
        int rc = read_account(a, after(t, c, cur, "account_id"), acc, &acc_text);
        if (rc == 0)
            roved_text_copy(acc_val(acc, "tier"), tier, sizeof(tier));
        rove__buf_free(&acc_text);
        if (rc != 0 && rc != ROVE_ENOTFOUND)
            return rc;
        int64_t resp = 0, resolve = 0;
        roved_domain_sla(a->policy, roved_domain_tier(tier, strlen(tier)),
                         roved_domain_priority(prio, strlen(prio)), reported, &resp, &resolve);
        derive(d, t, "sla_response_due", roved_int(resp));
        derive(d, t, "sla_resolve_due", roved_int(resolve));
    }
    if (changed_freq) {
        char tier[8];
        int64_t freq = 0, last = 0;
        const rove__value *fv = after(t, c, cur, "visit_freq_days");
        const rove__value *lv = after(t, c, cur, "last_visit_at");
        if (fv != NULL && fv->type == ROVE__T_INT)
            freq = fv->i;
        if (lv != NULL && lv->type == ROVE__T_INT)
            last = lv->i;
        roved_text_copy(after(t, c, cur, "tier"), tier, sizeof(tier));
        int64_t next = roved_domain_next_visit_due(
            a->policy, roved_domain_tier(tier, strlen(tier)), freq, last);
        derive(d, t, "next_visit_due",
               next ? roved_int(next) : (rove__value){ROVE__T_NULL, 0, 0, NULL, 0});
    }
    return 0;
}

/* A visit of account_id was completed at `at`: the account's last visit and
 * next visit due follow (a new version, so devices pull them). */
static int account_visited(apply_ctx *a, const rove__value *account_id, int64_t at)
{
    rove__value acc[ROVE__MAX_COLS];
    rove__buf text = ROVE__BUF_INIT;
    int rc = read_account(a, account_id, acc, &text);
    if (rc == ROVE_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    size_t nt;
    const rove__table *t = &rove__schema_tables(&nt)[0];
    int64_t last = 0, freq = 0;
    acc_int(acc, "last_visit_at", &last);
    acc_int(acc, "visit_freq_days", &freq);
    char tier[8], id[27];
    roved_text_copy(acc_val(acc, "tier"), tier, sizeof(tier));
    roved_text_copy(&acc[ROVE__COL_ID], id, sizeof(id));
    rove__buf_free(&text);
    if (last >= at)
        return 0;
    int64_t next =
        roved_domain_next_visit_due(a->policy, roved_domain_tier(tier, strlen(tier)), freq, at);
    int64_t version;
    if ((rc = roved_store_version_next(a->db, &version)) != 0)
        return rc;
    int cols[4] = {roved_col(t, "last_visit_at"), roved_col(t, "next_visit_due"),
                   ROVE__COL_VERSION, ROVE__COL_UPDATED_AT};
    rove__value vals[4] = {roved_int(at), roved_int(next), roved_int(version),
                           roved_int(a->now)};
    return roved_store_row_update(a->db, t, id, cols, vals, 4);
}

/* The time a completed visit happened: its check-out, else the change. */
static int64_t visit_time(const rove__change *c, const rove__value *cur, int64_t when)
{
    const rove__value *v = after(c->table, c, cur, "checkout_at");
    if (v != NULL && v->type == ROVE__T_INT && v->i > 0)
        return v->i;
    return when;
}

static int apply_insert(apply_ctx *a, const rove__change *c, roved_receipt_row *r)
{
    const rove__table *t = c->table;
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    int rc = roved_store_row_info(a->db, t, c->id, &info);
    if (rc == 0) {
        /* Only a record the device may write is admitted to exist. */
        if (may_write(a, t, &info))
            return reject(r, ROVE_EEXISTS, "a record with this id already exists");
        return reject(r, ROVE_ESCOPE, "the record is outside the device's scope");
    }
    if (rc != ROVE_ENOTFOUND)
        return rc;

    int is_account = strcmp(t->name, "account") == 0;
    if (is_account) {
        if (!may_insert(a, t, NULL))
            return reject(r, ROVE_ESCOPE, "this role may not create accounts");
    } else {
        int acol = roved_col(t, "account_id"), found = 0;
        roved_rowinfo acct;
        rc = referenced_account(a, c, acol >= 0 ? given(c, acol) : NULL, &acct, &found);
        if (rc != 0)
            return rc;
        if (!found || acct.deleted)
            return reject(r, ROVE_ESCOPE, "the account is outside the device's scope");
        int go = 0;
        if ((rc = record_rights(a, c, &acct, r, &go)) != 0 || !go)
            return rc;
    }

    rove__value vals[ROVE__MAX_COLS];
    int set[ROVE__MAX_COLS];
    for (size_t i = 0; i < t->ncols; i++) {
        vals[i].type = ROVE__T_NULL;
        set[i] = 0;
    }
    for (size_t i = 0; i < c->ncols; i++) {
        vals[c->col[i]] = c->val[i];
        set[c->col[i]] = 1;
    }
    vals[ROVE__COL_ID] = roved_text(c->id);
    vals[ROVE__COL_CREATED_BY] = roved_text(a->user->id);
    vals[ROVE__COL_CREATED_AT] = roved_int(a->now);
    vals[ROVE__COL_UPDATED_BY] = roved_text(a->user->id);
    vals[ROVE__COL_UPDATED_AT] = roved_int(a->now);
    vals[ROVE__COL_DELETED] = roved_int(0);
    if (is_account) {
        /* Server-authoritative columns of a new account. */
        static const char *const names[] = {"owner_id", "territory_id", "stage", "tier"};
        const char *values[] = {a->user->id, a->user->home_territory_id, "prospect", "C"};
        for (int k = 0; k < 4; k++) {
            int ci = roved_col(t, names[k]);
            if (ci >= 0) {
                vals[ci] = roved_text(values[k]);
                set[ci] = 1;
            }
        }
    }
    int refused = 0, completed = 0;
    if ((rc = domain_check(c, NULL, NULL, r, &refused)) != 0 || refused)
        return rc;
    int64_t when = change_time(a, c);
    derived d = {0};
    if ((rc = domain_derive(a, c, NULL, when, &d, &completed)) != 0)
        return rc;
    for (size_t i = 0; i < d.n; i++) {
        vals[d.cols[i]] = d.vals[i];
        set[d.cols[i]] = 1;
    }
    if (a->on_behalf_of != NULL && is_table(t, "visit")) { /* "performed by B for A" */
        vals[roved_col(t, "on_behalf_of")] = roved_text(a->on_behalf_of);
        set[roved_col(t, "on_behalf_of")] = 1;
    }
    for (size_t i = ROVE__SYS_COLS; i < t->ncols; i++)
        if ((t->cols[i].flags & ROVE__COL_REQUIRED) && vals[i].type == ROVE__T_NULL) {
            char msg[120];
            snprintf(msg, sizeof(msg), "column %s is required", t->cols[i].name);
            return reject(r, ROVE_EBADVALUE, msg);
        }
    int64_t version;
    rc = roved_store_version_next(a->db, &version);
    if (rc != 0)
        return rc;
    vals[ROVE__COL_VERSION] = roved_int(version);
    rc = roved_store_row_insert(a->db, t, vals);
    if (rc == 0 && is_account)
        rc = roved_store_scope_bump(a->db); /* it may enter other devices' scopes */
    if (rc != 0)
        return rc;
    int cols[ROVE__MAX_COLS];
    rove__value dv[ROVE__MAX_COLS];
    size_t n = 0;
    for (size_t i = ROVE__SYS_COLS; i < t->ncols; i++)
        if (set[i]) {
            cols[n] = (int)i;
            dv[n++] = vals[i];
        }
    rc = audit(a, c, "insert", cols, dv, n, NULL);
    if (rc == 0 && d.assigned)
        rc = roved_store_scope_bump(a->db); /* the technician's scope grows */
    if (rc == 0 && completed)
        rc =
            account_visited(a, given(c, roved_col(t, "account_id")), visit_time(c, NULL, when));
    if (rc != 0)
        return rc;
    r->status = ROVE__RC_APPLIED;
    r->version = version;
    return 0;
}

/* ---- per-column conflict resolution (docs/conflicts.md) ----------------
 *
 * A pushed column value conflicts when the column was changed on the server
 * after the version the device based its edit on (base_version), by another
 * device. Without a conflict the value is applied. With one, the column's
 * policy in the schema decides:
 *   lww     the later device HLC wins;
 *   rank    the value further along the state machine wins (enum order);
 *   server  the server's value stays;
 *   append  both texts are kept, the device's appended to the server's.
 * Every losing value goes to the conflict log. The record's version is bumped
 * even when every value lost, so the device pulls the winning values back.
 */

/* The writer tag of a text the server merged from two writers; device tags
 * are odd, so no device has it. */
#define MERGED_TAG 2

static int64_t device_tag(const char *device_id)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = device_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (int64_t)(h >> 1) | 1; /* never 0, which means "no writer" */
}

static const char *policy_name(rove__merge m)
{
    switch (m) {
    case ROVE__MERGE_LWW:
        return "lww";
    case ROVE__MERGE_SERVER:
        return "server";
    case ROVE__MERGE_RANK:
        return "rank";
    default:
        return "append";
    }
}

/* Records one losing value: column of the change's record, the policy that
 * decided, the value that lost and the one kept, and who wrote the loser
 * (device may be NULL when it is not known). */
static int conflict_put_by(apply_ctx *a, const rove__change *c, const char *column,
                           const char *policy, const rove__value *lost, const rove__value *kept,
                           const char *device_id, const char *user_id)
{
    json_t *jl = roved_value_json(lost), *jk = roved_value_json(kept);
    char *ls = jl ? json_dumps(jl, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char *ks = jk ? json_dumps(jk, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(jl);
    json_decref(jk);
    int rc = ROVE_ENOMEM;
    if (ls != NULL && ks != NULL) {
        roved_conflict rec = {a->now,    c->table->name, c->id,  column, policy,
                              device_id, user_id,        c->hlc, ls,     ks,
                              NULL,      NULL,           0};
        rc = roved_store_conflict_put(a->db, &rec);
    }
    free(ls);
    free(ks);
    return rc;
}

static int conflict_put(apply_ctx *a, const rove__change *c, const char *column,
                        const char *policy, const rove__value *lost, const rove__value *kept)
{
    return conflict_put_by(a, c, column, policy, lost, kept, a->dev->id, a->user->id);
}

/* Gives the receipt its lost columns: n entries (rove__lost_add) in entries. */
static int receipt_lost(roved_receipt_row *r, const rove__table *t, size_t n,
                        const rove__buf *entries)
{
    if (n == 0)
        return 0;
    rove__buf b = ROVE__BUF_INIT;
    rove__lost_begin(&b, t, n);
    rove__buf_put(&b, entries->ptr, entries->len);
    if (rove__buf_status(&b) != 0 || rove__buf_status(entries) != 0) {
        rove__buf_free(&b);
        return ROVE_ENOMEM;
    }
    free(r->lost);
    r->lost = b.ptr; /* the buffer's memory is handed over */
    r->lost_len = b.len;
    return 0;
}

/*
 * A device's clock may be far ahead: its HLC counts at most --max-clock-skew-ms
 * beyond server time, so a fast clock cannot win every later
 * last-writer-wins race (docs/conflicts.md).
 */
static int64_t change_hlc(const apply_ctx *a, const rove__change *c)
{
    return (int64_t)rove__hlc_clamp((uint64_t)c->hlc, (uint64_t)a->now, (uint64_t)a->max_skew);
}

/* ---- custom resolvers (server/include/roved/resolver.h) ---------------- */

static roved_value to_public(const rove__value *v)
{
    roved_value p = {(roved_value_type)v->type, v->i, v->d, v->s, v->len};
    return p;
}

/* A resolver's own value must be one the column accepts. */
static int custom_value_ok(const rove__column *cd, const roved_value *o, rove__value *v)
{
    memset(v, 0, sizeof(*v));
    switch (o->type) {
    case ROVED_NULL:
        v->type = ROVE__T_NULL;
        return !(cd->flags & ROVE__COL_REQUIRED);
    case ROVED_INT:
        if (cd->type == ROVE__T_REAL) {
            v->type = ROVE__T_REAL;
            v->d = (double)o->i;
            return 1;
        }
        v->type = ROVE__T_INT;
        v->i = o->i;
        return cd->type == ROVE__T_INT;
    case ROVED_REAL:
        v->type = ROVE__T_REAL;
        v->d = o->d;
        return cd->type == ROVE__T_REAL && o->d == o->d;
    case ROVED_TEXT:
        v->type = ROVE__T_TEXT;
        v->s = o->s;
        v->len = o->len;
        if (cd->type != ROVE__T_TEXT || (o->s == NULL && o->len > 0) ||
            o->len > ROVE__MAX_TEXT || !rove__utf8_valid(o->s ? o->s : "", o->len))
            return 0;
        if ((cd->flags & ROVE__COL_ENUM) && !rove__schema_enum_ok(cd, o->s, o->len))
            return 0;
        return !(cd->flags & ROVE__COL_REF) || rove__id_valid(o->s, o->len);
    default:
        return 0;
    }
}

/*
 * Asks the column's custom resolver. Returns its verdict, with *out set for
 * ROVED_USE_VALUE, or -1 when it did not decide (the schema's policy then
 * applies).
 */
static int custom_resolve(apply_ctx *a, const rove__change *c, const roved_resolver *cr,
                          int col, const rove__value *cur, const rove__value *dev,
                          int64_t server_hlc, rove__value *out)
{
    const rove__column *cd = &c->table->cols[col];
    char by[27];
    roved_text_copy(&cur[ROVE__COL_UPDATED_BY], by, sizeof(by));
    roved_conflict_in in = {c->table->name,
                            cd->name,
                            c->id,
                            to_public(&cur[col]),
                            to_public(dev),
                            server_hlc,
                            change_hlc(a, c),
                            by[0] ? by : NULL,
                            a->user->id,
                            rove__role_name(a->user->role)};
    roved_value o = {ROVED_NULL, 0, 0, NULL, 0};
    int verdict = cr->fn(&in, &o, cr->ud);
    if (verdict == ROVED_KEEP_SERVER || verdict == ROVED_TAKE_DEVICE)
        return verdict;
    if (verdict == ROVED_USE_VALUE && custom_value_ok(cd, &o, out))
        return verdict;
    roved_log_warn("resolver_failed",
                   "resolver=%s table=%s column=%s record=%s verdict=%d; the schema policy "
                   "applies",
                   cr->name, c->table->name, cd->name, c->id, verdict);
    return -1;
}

static int merge_update(apply_ctx *a, const rove__change *c, roved_receipt_row *r)
{
    const rove__table *t = c->table;
    roved_col_clock clocks[ROVE__MAX_COLS];
    int rc = roved_store_clock_get(a->db, t, c->id, clocks);
    if (rc != 0)
        return rc;
    int64_t tag = device_tag(a->dev->id);
    rove__value cur[ROVE__MAX_COLS];
    rove__buf cur_text = ROVE__BUF_INIT, merged_text = ROVE__BUF_INIT,
              lost_cols = ROVE__BUF_INIT;
    /* The current row: for the state machines, the conflict policies and the
     * audit's old values. */
    rc = roved_store_row_get(a->db, t, c->id, cur, &cur_text);
    if (rc != 0) {
        rove__buf_free(&cur_text);
        return rc;
    }
    int conflicted[ROVE__MAX_COLS];
    for (size_t i = 0; i < c->ncols; i++) {
        roved_col_clock *k = &clocks[c->col[i]];
        conflicted[i] = k->version > c->base_version && k->device_tag != tag;
    }
    int refused = 0;
    rc = domain_check(c, cur, conflicted, r, &refused);
    if (rc != 0 || refused) {
        rove__buf_free(&cur_text);
        return rc;
    }
    int64_t version;
    rc = roved_store_version_next(a->db, &version);
    if (rc != 0) {
        rove__buf_free(&cur_text);
        return rc;
    }

    int cols[ROVE__MAX_COLS + 16];
    rove__value vals[ROVE__MAX_COLS + 16];
    size_t n = 0, lost = 0, appended = 0;
    /* Appended texts are built first and pointed to afterwards (no realloc
     * may move them under a stored pointer). */
    size_t app_off[ROVE__MAX_COLS], app_len[ROVE__MAX_COLS];
    int app_idx[ROVE__MAX_COLS];
    for (size_t i = 0; i < c->ncols && rc == 0; i++) {
        int col = c->col[i];
        const rove__column *cd = &t->cols[col];
        const rove__value *v = &c->val[i];
        roved_col_clock *k = &clocks[col];
        int conflict = k->version > c->base_version && k->device_tag != tag;
        int win = 1, merged_here = 0;
        if (conflict) {
            const char *pol = policy_name(cd->merge);
            int keep_replaced = cd->merge != ROVE__MERGE_APPEND; /* log what is replaced */
            const roved_resolver *cr = roved_resolver_find(t, col);
            rove__value custom;
            int verdict = cr ? custom_resolve(a, c, cr, col, cur, v, k->hlc, &custom) : -1;
            if (verdict >= 0) {
                pol = cr->name;
                keep_replaced = 1;
            }
            if (verdict == ROVED_USE_VALUE) {
                /* A merged value: both inputs are logged, and the receipt
                 * tells the device its value did not survive as written. */
                lost++;
                rove__lost_add(&lost_cols, cd, &custom, pol);
                rc = conflict_put(a, c, cd->name, pol, v, &custom);
                if (rc == 0) {
                    char by[27];
                    roved_text_copy(&cur[ROVE__COL_UPDATED_BY], by, sizeof(by));
                    rc = conflict_put_by(a, c, cd->name, pol, &cur[col], &custom, NULL,
                                         by[0] ? by : NULL);
                }
                if (custom.type == ROVE__T_TEXT) { /* copied: the resolver owns it */
                    app_idx[appended] = (int)n;
                    app_off[appended] = merged_text.len;
                    rove__buf_put(&merged_text, custom.s, custom.len);
                    app_len[appended] = custom.len;
                    appended++;
                }
                cols[n] = col;
                vals[n++] = custom;
                k->hlc = change_hlc(a, c);
                k->version = version;
                k->device_tag = MERGED_TAG; /* a merge: no device's own value */
                continue;
            }
            if (verdict >= 0)
                win = verdict == ROVED_TAKE_DEVICE;
            else
                switch (cd->merge) {
                case ROVE__MERGE_LWW:
                    win = change_hlc(a, c) >= k->hlc;
                    break;
                case ROVE__MERGE_SERVER:
                    win = 0;
                    break;
                case ROVE__MERGE_RANK: {
                    int rn =
                        v->type == ROVE__T_TEXT ? rove__schema_enum_rank(cd, v->s, v->len) : -1;
                    int rc_ = cur[col].type == ROVE__T_TEXT
                                  ? rove__schema_enum_rank(cd, cur[col].s, cur[col].len)
                                  : -1;
                    win = rn >= rc_;
                    break;
                }
                default: /* append */
                    if (v->type == ROVE__T_TEXT && cur[col].type == ROVE__T_TEXT) {
                        /* Both sides edited the same text from a common start: keep
                     * the server's text and add the lines only the device wrote
                     * (what follows the common start, from its line on). */
                        const rove__value *sv = &cur[col];
                        size_t common = 0;
                        while (common < sv->len && common < v->len &&
                               sv->s[common] == v->s[common])
                            common++;
                        if (common == sv->len)
                            break; /* the device's text extends the server's: take it */
                        while (common > 0 && v->s[common - 1] != '\n')
                            common--;
                        if (common == v->len) {
                            win = 0; /* nothing new from the device */
                            break;
                        }
                        app_idx[appended] = (int)n;
                        app_off[appended] = merged_text.len;
                        rove__buf_put(&merged_text, sv->s, sv->len);
                        if (sv->len > 0 && sv->s[sv->len - 1] != '\n')
                            rove__buf_puts(&merged_text, "\n");
                        rove__buf_put(&merged_text, v->s + common, v->len - common);
                        app_len[appended] = merged_text.len - app_off[appended];
                        appended++;
                        merged_here = 1;
                    }
                    break;
                }
            if (!win) {
                lost++;
                rove__lost_add(&lost_cols, cd, &cur[col], pol);
                rc = conflict_put(a, c, cd->name, pol, v, &cur[col]);
                continue;
            }
            /* The device's value wins over a concurrent one: the value it
             * replaces is kept in the conflict log too (not for appended
             * texts, where both are kept). */
            if (keep_replaced) {
                char by[27];
                roved_text_copy(&cur[ROVE__COL_UPDATED_BY], by, sizeof(by));
                rc =
                    conflict_put_by(a, c, cd->name, pol, &cur[col], v, NULL, by[0] ? by : NULL);
                if (rc != 0)
                    break;
            }
        }
        cols[n] = col;
        vals[n++] = *v;
        k->hlc = change_hlc(a, c);
        k->version = version;
        /* A merged text is no longer this device's own: its next change
         * from the same old base must merge again, not replace it. */
        k->device_tag = merged_here ? MERGED_TAG : tag;
    }
    if (rc == 0 && rove__buf_status(&merged_text) != 0)
        rc = ROVE_ENOMEM;
    for (size_t j = 0; rc == 0 && j < appended; j++) {
        rove__value *mv = &vals[app_idx[j]];
        mv->type = ROVE__T_TEXT;
        mv->s = (const char *)merged_text.ptr + app_off[j];
        mv->len = app_len[j];
    }
    /* What the server derives from the status move, if the device's status won. */
    int completed = 0, status_won = 0;
    int64_t when = change_time(a, c);
    for (size_t j = 0; j < n; j++)
        status_won |= cols[j] == roved_col(t, "status");
    derived d = {0};
    if (rc == 0 && status_won)
        rc = domain_derive(a, c, cur, when, &d, &completed);
    if (rc == 0)
        rc = derive_again(a, c, cur, cols, n, &d);
    for (size_t j = 0; rc == 0 && j < d.n; j++) {
        cols[n] = d.cols[j];
        vals[n++] = d.vals[j];
    }
    if (rc == 0 && n > 0 && a->on_behalf_of != NULL && is_table(t, "visit")) {
        cols[n] = roved_col(t, "on_behalf_of");
        vals[n++] = roved_text(a->on_behalf_of);
    }
    size_t applied = n;
    if (rc == 0) {
        cols[n] = ROVE__COL_VERSION;
        vals[n++] = roved_int(version);
        if (applied > 0) {
            cols[n] = ROVE__COL_UPDATED_BY;
            vals[n++] = roved_text(a->user->id);
            cols[n] = ROVE__COL_UPDATED_AT;
            vals[n++] = roved_int(a->now);
        }
        rc = roved_store_row_update(a->db, t, c->id, cols, vals, n);
    }
    if (rc == 0 && applied > 0)
        rc = roved_store_clock_put(a->db, t, c->id, clocks);
    if (rc == 0 && applied > 0)
        rc = audit(a, c, "update", cols, vals, applied, cur);
    if (rc == 0 && completed)
        rc = account_visited(a, after(t, c, cur, "account_id"), visit_time(c, cur, when));
    if (rc == 0)
        rc = receipt_lost(r, t, lost, &lost_cols);
    rove__buf_free(&cur_text);
    rove__buf_free(&merged_text);
    rove__buf_free(&lost_cols);
    if (rc != 0)
        return rc;
    r->version = version;
    if (applied == 0) {
        r->status = ROVE__RC_OVERRIDDEN;
        roved_util_copy(r->code, sizeof(r->code), rove_error_name(ROVE_ECONFLICT));
        roved_util_copy(r->message, sizeof(r->message),
                        "a concurrent change won; the values are in the conflict log");
    } else if (lost > 0 || appended > 0) {
        r->status = ROVE__RC_MERGED;
        roved_util_copy(r->message, sizeof(r->message),
                        lost > 0 ? "some values lost to concurrent changes (conflict log)"
                                 : "merged with a concurrent change");
    } else {
        r->status = ROVE__RC_APPLIED;
    }
    return 0;
}

/*
 * A change to a record deleted on the server. A second delete has the
 * outcome it asked for: applied. An update is not applied (the record is not
 * resurrected) but not lost either: each of its values goes to the conflict
 * log (policy "delete"), and the receipt says overridden.
 */
static int after_delete(apply_ctx *a, const rove__change *c, roved_receipt_row *r)
{
    if (c->op == ROVE__OP_DELETE) {
        r->status = ROVE__RC_APPLIED;
        roved_util_copy(r->message, sizeof(r->message), "the record was already deleted");
        return 0;
    }
    rove__value gone = {ROVE__T_NULL, 0, 0, NULL, 0};
    rove__buf lost_cols = ROVE__BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < c->ncols && rc == 0; i++) {
        const rove__column *cd = &c->table->cols[c->col[i]];
        rove__lost_add(&lost_cols, cd, &gone, "delete");
        rc = conflict_put(a, c, cd->name, "delete", &c->val[i], &gone);
    }
    if (rc == 0)
        rc = receipt_lost(r, c->table, c->ncols, &lost_cols);
    rove__buf_free(&lost_cols);
    if (rc != 0)
        return rc;
    r->status = ROVE__RC_OVERRIDDEN;
    roved_util_copy(r->code, sizeof(r->code), rove_error_name(ROVE_ECONFLICT));
    roved_util_copy(r->message, sizeof(r->message),
                    "the record was deleted on the server; your change is kept in the "
                    "conflict log");
    return 0;
}

/*
 * A delete of a record that another device changed after this device last
 * saw it: the delete wins, and the other device's newer values go to the
 * conflict log (policy "delete"), so a manager can see what was removed.
 */
static int delete_conflicts(apply_ctx *a, const rove__change *c)
{
    const rove__table *t = c->table;
    roved_col_clock clocks[ROVE__MAX_COLS];
    int rc = roved_store_clock_get(a->db, t, c->id, clocks);
    if (rc != 0)
        return rc;
    int64_t tag = device_tag(a->dev->id);
    rove__value cur[ROVE__MAX_COLS];
    rove__buf text = ROVE__BUF_INIT;
    int have = 0;
    rove__value gone = {ROVE__T_NULL, 0, 0, NULL, 0};
    for (size_t i = ROVE__SYS_COLS; rc == 0 && i < t->ncols; i++) {
        if (clocks[i].version <= c->base_version || clocks[i].device_tag == tag ||
            clocks[i].device_tag == 0)
            continue;
        if (!have && (rc = roved_store_row_get(a->db, t, c->id, cur, &text)) == 0)
            have = 1;
        if (rc == 0)
            rc = conflict_put(a, c, t->cols[i].name, "delete", &cur[i], &gone);
    }
    rove__buf_free(&text);
    return rc;
}

static int apply_update_or_delete(apply_ctx *a, const rove__change *c, roved_receipt_row *r)
{
    const rove__table *t = c->table;
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    int rc = roved_store_row_info(a->db, t, c->id, &info);
    /* A missing record and one outside the scope get the same answer. */
    if (rc == ROVE_ENOTFOUND)
        return reject(r, ROVE_ESCOPE, "the record is outside the device's scope");
    if (rc != 0)
        return rc;
    int go = 0;
    if ((rc = record_rights(a, c, &info, r, &go)) != 0 || !go)
        return rc;
    if (info.deleted)
        return after_delete(a, c, r);

    int acol = roved_col(t, "account_id");
    if (c->op == ROVE__OP_UPDATE && acol >= 0 && strcmp(t->name, "account") != 0) {
        const rove__value *nv = given(c, acol);
        if (nv != NULL) {
            /* Moving a record to another account needs that account in scope too. */
            int found = 0;
            roved_rowinfo acct;
            rc = referenced_account(a, c, nv, &acct, &found);
            if (rc != 0)
                return rc;
            if (!found || !may_insert(a, t, &acct))
                return reject(r, ROVE_ESCOPE, "the account is outside the device's scope");
        }
    }

    if (c->op == ROVE__OP_UPDATE)
        return merge_update(a, c, r);

    /* Closed history is kept: a completed visit, a closed task. */
    if (is_table(t, "visit") || is_table(t, "service_task")) {
        rove__value cur[ROVE__MAX_COLS];
        rove__buf text = ROVE__BUF_INIT;
        char status[16] = "";
        if ((rc = roved_store_row_get(a->db, t, c->id, cur, &text)) == 0)
            roved_text_copy(&cur[roved_col(t, "status")], status, sizeof(status));
        rove__buf_free(&text);
        if (rc != 0)
            return rc;
        if (!strcmp(status, "completed") || !strcmp(status, "closed"))
            return reject(r, ROVE_ESTATE,
                          is_table(t, "visit")
                              ? "a completed visit is kept; it cannot be deleted"
                              : "a closed task is kept; it cannot be deleted");
    }
    if ((rc = delete_conflicts(a, c)) != 0)
        return rc;
    int64_t version;
    rc = roved_store_version_next(a->db, &version);
    if (rc != 0)
        return rc;
    int cols[4];
    rove__value vals[4];
    size_t n = 0;
    cols[n] = ROVE__COL_DELETED;
    vals[n++] = roved_int(1);
    cols[n] = ROVE__COL_VERSION;
    vals[n++] = roved_int(version);
    cols[n] = ROVE__COL_UPDATED_BY;
    vals[n++] = roved_text(a->user->id);
    cols[n] = ROVE__COL_UPDATED_AT;
    vals[n++] = roved_int(a->now);
    rc = roved_store_row_update(a->db, t, c->id, cols, vals, n);
    if (rc != 0)
        return rc;
    rc = audit(a, c, "delete", cols, vals, 1, NULL);
    if (rc != 0)
        return rc;
    r->status = ROVE__RC_APPLIED;
    r->version = version;
    return 0;
}

/* Applies one change, filling its receipt. Non-zero only for storage faults,
 * which abort the whole push. */
static int apply_change_rules(apply_ctx *a, const rove__change *c, roved_receipt_row *r);

/*
 * Every push path comes through here: a device's own change, one under a
 * delegation, one to a record the device held, a revoked device's late sync
 * and a held change a manager applies (judged by its author's role). The
 * role's grant comes first: a change the role may never make is refused, not
 * held for a person, and the answer depends on the change alone, so it
 * reveals nothing about the record. Then the record's rights (record_rights).
 */
static int apply_change(apply_ctx *a, const rove__change *c, roved_receipt_row *r)
{
    memset(r, 0, sizeof(*r));
    a->on_behalf_of = a->delegation_id = NULL;
    char msg[160];
    int code = roved_scope_grant(a->user->role, c->table, (int)c->op, c->col, c->ncols, msg,
                                 sizeof(msg));
    if (code != 0)
        return reject(r, code, msg);
    if (a->revoked_at > 0 && change_time(a, c) > a->revoked_at)
        return quarantine_code(a, c, r, ROVE_EREVOKED,
                               "made after this device was revoked; held for review by a "
                               "manager");
    int rc = apply_change_rules(a, c, r);
    if (rc == 0 && a->on_behalf_of != NULL && r->message[0] == '\0' &&
        (r->status == ROVE__RC_APPLIED || r->status == ROVE__RC_MERGED))
        snprintf(r->message, sizeof(r->message), "applied on behalf of %s (delegation %s)",
                 a->on_behalf_of, a->delegation_id);
    if (rc == 0 && a->revoked_at > 0 &&
        (r->status == ROVE__RC_APPLIED || r->status == ROVE__RC_MERGED) &&
        r->message[0] == '\0')
        roved_util_copy(r->message, sizeof(r->message),
                        "applied as a late sync from a revoked device");
    return rc;
}

static int apply_change_rules(apply_ctx *a, const rove__change *c, roved_receipt_row *r)
{
    if (c->op == ROVE__OP_INSERT)
        return apply_insert(a, c, r);
    return apply_update_or_delete(a, c, r);
}

/*
 * Inside the round trip's write transaction, after the push: forgets the
 * evictions and entries the device has confirmed (its cursor reached them),
 * and re-evaluates what it may hold when something that decides scope changed
 * since the last time (docs/scope.md).
 */
static int scope_prepare(roved_db *db, const roved_device *dev, const roved_user *user,
                         int64_t req_cursor, int64_t now)
{
    if (user->role == ROVE__ROLE_ADMIN)
        return 0; /* admins hold everything: nothing to evict */
    int64_t global = 0, epoch = 0;
    roved_scope_state st;
    int rc = roved_store_version_current(db, &global);
    if (rc == 0)
        rc = roved_store_scope_state(db, dev->id, &st);
    if (rc == 0)
        rc = roved_store_scope_epoch(db, &epoch);
    if (rc != 0)
        return rc;
    int64_t cursor = req_cursor > global ? 0 : req_cursor;
    if (st.pending_v > 0 && cursor > 0 &&
        (rc = roved_store_scope_ack(db, dev->id, cursor)) != 0)
        return rc;
    int due = !st.known || st.epoch != epoch;
    if (!due &&
        (rc = roved_store_scope_boundary(db, user->id, st.evaluated_at, now, &due)) != 0)
        return rc;
    if (!due)
        return 0;
    roved_scope sc = {user->role, user->id, now};
    size_t left = 0, entered = 0;
    /* The first evaluation only records what the device holds: it gets all of
     * it from its cursor on, and nothing can have left a scope never taken. */
    int64_t v = 0;
    if (st.known && (rc = roved_store_version_next(db, &v)) != 0)
        return rc;
    rc = roved_store_scope_evaluate(db, dev->id, &sc, epoch, v, &left, &entered);
    if (rc == 0 && (left > 0 || entered > 0) && v > 0)
        roved_log_info("scope_changed", "device=%s left=%zu entered=%zu", dev->id, left,
                       entered);
    return rc;
}

static int push(roved_server *srv, const roved_device *dev, const roved_user *user,
                const rove__sync_req *req, receipt_slot *slots, rove__errinfo *err,
                roved_sync_stats *stats)
{
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc != 0)
        return rove__err(err, rc, "the store is unavailable");
    apply_ctx a = {.db = db,
                   .dev = dev,
                   .user = user,
                   .now = roved_util_now_ms(),
                   .policy = &srv->policy,
                   .max_skew = srv->cfg->max_clock_skew_ms,
                   .revoked_at = dev->status != ROVED_DEVICE_ACTIVE ? dev->revoked_at : 0};
    for (size_t i = 0; i < req->nchanges && rc == 0; i++) {
        const rove__change *c = &req->changes[i];
        receipt_slot *s = &slots[i];
        rc = roved_store_receipt_get(db, dev->id, c->change_id, c->change_id_len, &s->row);
        if (rc == 0) {
            stats->replayed++;
        } else if (rc == ROVE_ENOTFOUND) {
            rc = apply_change(&a, c, &s->row);
            if (rc == 0)
                rc = roved_store_receipt_put(db, dev->id, c->change_id, c->change_id_len,
                                             &s->row, a.now);
        }
        if (rc == 0) {
            if (s->row.status == ROVE__RC_REJECTED)
                stats->rejected++;
            else
                stats->applied++;
        }
    }
    if (rc == 0)
        rc = roved_store_device_touch(db, dev->id, a.now, req->cursor);
    if (rc == 0)
        rc = dev->status == ROVED_DEVICE_ACTIVE
                 ? scope_prepare(db, dev, user, req->cursor, a.now)
                 : 0;
    if (rc != 0) {
        roved_store_write_rollback(srv->store, db);
        return rove__err(err, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                         "the push could not be stored; nothing was applied");
    }
    rc = roved_store_write_commit(srv->store, db);
    if (rc != 0)
        return rove__err(err, ROVE_ESTORE, "the push could not be committed");
    for (size_t i = 0; i < req->nchanges; i++) {
        const rove__change *c = &req->changes[i];
        receipt_slot *s = &slots[i];
        s->wire.change_id = c->change_id;
        s->wire.change_id_len = c->change_id_len;
        s->wire.status = (rove__receipt_status)s->row.status;
        s->wire.code = s->row.code[0] ? s->row.code : NULL;
        s->wire.code_len = strlen(s->row.code);
        s->wire.message = s->row.message[0] ? s->row.message : NULL;
        s->wire.message_len = strlen(s->row.message);
        s->wire.version = s->row.version;
        s->wire.lost_cbor = s->row.lost;
        s->wire.lost_cbor_len = s->row.lost_len;
    }
    return 0;
}

/* ---- pull ------------------------------------------------------------- */

static size_t visible_cols(const rove__table *t, unsigned role, int *cols)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].visible & role)
            cols[n++] = (int)i;
    return n;
}

typedef struct row_writer {
    rove__buf *out;
    size_t rows;
} row_writer;

static int write_row(const rove__value *vals, size_t n, void *payload)
{
    row_writer *w = payload;
    rove__sync_resp_row_begin(w->out, n);
    for (size_t i = 0; i < n; i++)
        rove__sync_resp_value(w->out, &vals[i]);
    w->rows++;
    return 0;
}

typedef struct evictions {
    char (*ids)[27];
    char **reasons;
    char *kinds;
    size_t n, cap;
} evictions;

static int collect_eviction(char kind, const char *id, const char *reason, void *payload)
{
    evictions *e = payload;
    if (id == NULL || strlen(id) > 26)
        return 0;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        char(*ids)[27] = realloc(e->ids, cap * sizeof(*ids));
        if (ids == NULL)
            return ROVE_ENOMEM;
        e->ids = ids;
        char **reasons = realloc(e->reasons, cap * sizeof(*reasons));
        if (reasons == NULL)
            return ROVE_ENOMEM;
        e->reasons = reasons;
        char *kinds = realloc(e->kinds, cap);
        if (kinds == NULL)
            return ROVE_ENOMEM;
        e->kinds = kinds;
        e->cap = cap;
    }
    e->reasons[e->n] = strdup(reason ? reason : "out_of_scope");
    if (e->reasons[e->n] == NULL)
        return ROVE_ENOMEM;
    roved_util_copy(e->ids[e->n], sizeof(e->ids[e->n]), id);
    e->kinds[e->n] = kind;
    e->n++;
    return 0;
}

static void evictions_free(evictions *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->reasons[i]);
    free(e->ids);
    free(e->reasons);
    free(e->kinds);
}

static int pull(roved_server *srv, const roved_device *dev, const roved_user *user,
                const rove__sync_req *req, rove__buf *out, rove__sync_resp_hdr *hdr,
                rove__errinfo *err, roved_sync_stats *stats)
{
    size_t limit = req->limit > 0 ? (size_t)req->limit : 2000;
    if (limit > (size_t)srv->cfg->page_max)
        limit = (size_t)srv->cfg->page_max;
    if (limit > ROVE__MAX_PAGE)
        limit = ROVE__MAX_PAGE;
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return rove__err(err, rc, "the store is unavailable");
    roved_scope sc = {user->role, user->id, roved_util_now_ms()};
    size_t counts[8] = {0}, catchup[8] = {0};
    int64_t upto = req->cursor, global = 0;
    int more = 0;
    evictions ev = {0};
    roved_scope_state state = {0};
    rc = roved_store_version_current(db, &global);
    /* A cursor the server never gave (beyond its version: a store restored
     * from a backup, or a forged one) starts the device over from 0; it
     * receives only its own scope again, and upserts make that harmless. */
    int64_t cursor = req->cursor > global ? 0 : req->cursor;
    upto = cursor;
    if (rc == 0)
        rc = roved_store_pull_plan(db, &sc, cursor, limit, counts, &upto, &more);
    size_t nt;
    const rove__table *tables = rove__schema_tables(&nt);
    /* Evictions and entries not yet confirmed by the device (scope_prepare). */
    if (rc == 0 && user->role != ROVE__ROLE_ADMIN)
        rc = roved_store_scope_state(db, dev->id, &state);
    int pending = rc == 0 && state.pending_v > cursor;
    if (pending) {
        rc = roved_store_scope_evictions(db, dev->id, collect_eviction, &ev);
        for (size_t ti = 0; ti < nt && ti < 8 && rc == 0; ti++) {
            int cols[ROVE__MAX_COLS];
            size_t ncols = visible_cols(&tables[ti], user->role, cols);
            rc = roved_store_scope_catchup(db, dev->id, user->role, ti, cursor, cols, ncols,
                                           NULL, NULL, &catchup[ti]);
        }
    }
    size_t ntables = 0;
    for (size_t ti = 0; ti < nt && ti < 8; ti++)
        ntables += counts[ti] + catchup[ti] > 0;
    if (rc == 0) {
        rove__sync_resp_tables_begin(out, ntables);
        for (size_t ti = 0; ti < nt && ti < 8 && rc == 0; ti++) {
            if (counts[ti] + catchup[ti] == 0)
                continue;
            int cols[ROVE__MAX_COLS];
            size_t ncols = visible_cols(&tables[ti], user->role, cols);
            rove__sync_resp_table_begin(out, &tables[ti], cols, ncols,
                                        counts[ti] + catchup[ti]);
            row_writer w = {out, 0};
            /* Rows of records that entered the scope, older than the cursor;
             * then the changes since the cursor. */
            if (catchup[ti] > 0)
                rc = roved_store_scope_catchup(db, dev->id, user->role, ti, cursor, cols, ncols,
                                               write_row, &w, NULL);
            if (rc == 0 && counts[ti] > 0)
                rc = roved_store_pull_rows(db, &sc, ti, cursor, upto, cols, ncols, write_row,
                                           &w);
            /* The plan and the rows come from one snapshot, so they agree; a
             * mismatch would make the CBOR array counts lie: refuse it. */
            if (rc == 0 && w.rows != counts[ti] + catchup[ti])
                rc = ROVE_EGENERIC;
            stats->pulled += w.rows;
        }
    }
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        evictions_free(&ev);
        return rove__err(err, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                         "the page could not be read");
    }
    /* An account leaving takes its contacts, visits, tasks and history with
     * it on the device (docs/protocol.md); a task leaving goes alone. */
    const rove__table *account = rove__schema_table("account", 7);
    const rove__table *task = rove__schema_table("service_task", 12);
    rove__sync_resp_evictions_begin(out, ev.n);
    for (size_t i = 0; i < ev.n; i++)
        rove__sync_resp_eviction(out, ev.kinds[i] == 't' ? task : account, ev.ids[i],
                                 ev.reasons[i]);
    stats->evicted = ev.n;
    evictions_free(&ev);
    hdr->version = ROVE__PROTO_VERSION;
    /* With nothing left in scope up to the snapshot, the device may skip to the
     * snapshot's version: nothing it may see lies in between. */
    hdr->cursor = more ? upto : (upto > global ? upto : global);
    if (hdr->cursor < cursor)
        hdr->cursor = cursor;
    hdr->more = more;
    stats->cursor = hdr->cursor;
    stats->more = more;
    return 0;
}

int roved_sync_run(roved_server *srv, const roved_device *dev, const roved_user *user,
                   const void *cbor, size_t len, rove__buf *out, rove__errinfo *err,
                   roved_sync_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    rove__sync_req req;
    memset(&req, 0, sizeof(req));
    int rc = rove__sync_req_parse(&req, cbor, len, err);
    if (rc != 0)
        return rc;
    stats->pushed = req.nchanges;
    int64_t now = roved_util_now_ms();
    pthread_mutex_lock(&srv->hlc_lock);
    rove__hlc_recv(&srv->hlc, (uint64_t)req.hlc, (uint64_t)now,
                   (uint64_t)srv->cfg->max_clock_skew_ms, NULL);
    pthread_mutex_unlock(&srv->hlc_lock);

    receipt_slot *slots = NULL;
    if (req.nchanges > 0) {
        slots = calloc(req.nchanges, sizeof(*slots));
        if (slots == NULL) {
            rove__sync_req_free(&req);
            return rove__err(err, ROVE_ENOMEM, "out of memory");
        }
        rc = push(srv, dev, user, &req, slots, err, stats);
    } else {
        /* A pull-only round trip still records when the device was last seen;
         * that bookkeeping need not wait for fsync. */
        roved_db *db = NULL;
        rc = roved_store_write_begin_lazy(srv->store, &db);
        if (rc == 0) {
            rc = roved_store_device_touch(db, dev->id, now, req.cursor);
            if (rc == 0)
                rc = dev->status == ROVED_DEVICE_ACTIVE
                         ? scope_prepare(db, dev, user, req.cursor, now)
                         : 0;
            if (rc == 0)
                rc = roved_store_write_commit(srv->store, db);
            else
                roved_store_write_rollback(srv->store, db);
        }
        if (rc != 0)
            rc = rove__err(err, ROVE_ESTORE, "the store is unavailable");
    }
    if (rc == 0) {
        rove__sync_resp_begin(out, req.nchanges);
        for (size_t i = 0; i < req.nchanges; i++)
            rove__sync_resp_receipt(out, &slots[i].wire);
        rove__sync_resp_hdr hdr;
        memset(&hdr, 0, sizeof(hdr));
        if (dev->status == ROVED_DEVICE_ACTIVE) {
            rc = pull(srv, dev, user, &req, out, &hdr, err, stats);
            roved_db *rdb = NULL;
            if (rc == 0 && user->role == ROVE__ROLE_REP &&
                roved_store_read_begin(srv->store, &rdb) == 0) {
                if (roved_lease_gen(rdb, user, roved_util_now_ms(), &hdr.lease_gen) != 0)
                    hdr.lease_gen = 0;
                roved_store_read_end(srv->store, rdb);
            }
        } else {
            /* Draining: the upload is answered, nothing is sent down. */
            rove__sync_resp_tables_begin(out, 0);
            rove__sync_resp_evictions_begin(out, 0);
            hdr.cursor = req.cursor;
            hdr.revoked_until = dev->drain_until;
        }
        /* Silent token refresh (docs/protocol.md); on a store error the
         * device keeps its current token. */
        char fresh[65] = "";
        if (rc == 0 && dev->status == ROVED_DEVICE_ACTIVE &&
            roved_login_token_seen(srv, dev, fresh) == 0 && fresh[0] != '\0') {
            hdr.token = fresh;
            hdr.token_len = 64;
        }
        if (rc == 0) {
            hdr.server_time = roved_util_now_ms();
            pthread_mutex_lock(&srv->hlc_lock);
            hdr.hlc = (int64_t)rove__hlc_now(&srv->hlc, (uint64_t)hdr.server_time);
            pthread_mutex_unlock(&srv->hlc_lock);
            rove__sync_resp_finish(out, &hdr);
            if (rove__buf_status(out) != 0)
                rc = rove__err(err, ROVE_ENOMEM, "out of memory");
        }
        memset(fresh, 0, sizeof(fresh));
    }
    for (size_t i = 0; slots != NULL && i < req.nchanges; i++)
        free(slots[i].row.lost);
    free(slots);
    rove__sync_req_free(&req);
    return rc;
}

/* ---- held changes a manager applies (quarantine) ----------------------- */

int roved_sync_apply_held(roved_server *srv, roved_db *db, const roved_held *h,
                          const char *decided_by, roved_receipt_row *r, char *err,
                          size_t errsize)
{
    rove__change ch;
    memset(&ch, 0, sizeof(ch));
    ch.table = rove__schema_table(h->table, strlen(h->table));
    if (ch.table == NULL || strlen(h->row_id) != 26) {
        snprintf(err, errsize, "the held change names an unknown table or record");
        return ROVE_ESTATE;
    }
    memcpy(ch.id, h->row_id, 27);
    ch.op = strcmp(h->op, "insert") == 0   ? ROVE__OP_INSERT
            : strcmp(h->op, "delete") == 0 ? ROVE__OP_DELETE
                                           : ROVE__OP_UPDATE;
    ch.change_id = h->change_id;
    ch.change_id_len = strlen(h->change_id);
    ch.base_version = h->base_version;
    ch.hlc = h->client_hlc;
    json_error_t jerr;
    json_t *cols = json_loads(h->payload_json, 0, &jerr);
    const char *key;
    json_t *val;
    int rc = json_is_object(cols) ? 0 : ROVE_ESTATE;
    json_object_foreach(cols, key, val)
    {
        int col = rove__schema_col(ch.table, key, strlen(key));
        if (col < 0 || ch.ncols == ROVE__MAX_COLS ||
            !roved_value_from_json(&ch.table->cols[col], val, &ch.val[ch.ncols])) {
            rc = ROVE_ESTATE;
            break;
        }
        ch.col[ch.ncols++] = col;
    }
    if (rc != 0) {
        snprintf(err, errsize, "the held change no longer fits the schema");
        json_decref(cols);
        return rc;
    }
    roved_user user;
    roved_device dev;
    memset(&dev, 0, sizeof(dev));
    rc = roved_store_user_by_id(db, h->user_id, &user);
    if (rc == 0 && roved_store_device_get(db, h->device_id, &dev) != 0)
        roved_util_copy(dev.id, sizeof(dev.id), h->device_id); /* forgotten device */
    if (rc != 0) {
        snprintf(err, errsize, "the author of the held change is unknown");
        json_decref(cols);
        return rc == ROVE_ENOTFOUND ? ROVE_ESTATE : rc;
    }
    apply_ctx a = {.db = db,
                   .dev = &dev,
                   .user = &user,
                   .now = roved_util_now_ms(),
                   .policy = &srv->policy,
                   .max_skew = srv->cfg->max_clock_skew_ms,
                   .decided_by = decided_by};
    rc = apply_change(&a, &ch, r);
    json_decref(cols); /* values borrowed from it until here */
    if (rc != 0)
        snprintf(err, errsize, "the change could not be stored");
    return rc;
}

/* ---- a revoked device's wipe report ------------------------------------ */

int roved_sync_wiped(roved_server *srv, const char *authorization, roved_device *dev)
{
    char hash[65];
    memset(dev, 0, sizeof(*dev));
    int rc = roved_auth_bearer_hash(authorization, hash);
    roved_db *db = NULL;
    if (rc == 0 && (rc = roved_store_write_begin(srv->store, &db)) == 0) {
        rc = roved_store_device_by_token(db, hash, dev);
        if (rc == ROVE_ENOTFOUND)
            rc = ROVE_EAUTH;
        else if (rc == 0 && dev->status == ROVED_DEVICE_ACTIVE)
            rc = ROVE_ESTATE;
        int64_t now = roved_util_now_ms();
        if (rc == 0)
            rc = roved_store_device_wiped(db, dev->id, now);
        if (rc == 0) {
            roved_audit a = {now, dev->user_id, dev->id, "device", dev->id, "device_wiped",
                             0,   "{}",         NULL,    NULL};
            rc = roved_store_audit_put(db, &a);
        }
        if (rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
    }
    return rc;
}

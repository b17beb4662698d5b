/* Delegation start and end steps, driven by server time (see delegation.h). */
#include "delegation.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin.h"
#include "log.h"
#include "rove/errors.h"
#include "util.h"
#include "value.h"

const char *roved_delegation_digest_section(roved_digest_kind kind)
{
    static const char *const names[ROVED_DIGEST_NKINDS] = {
        "visits_done", "tasks_resolved", "new_accounts", "new_contacts", "stage_changes",
        "open_visits", "open_tasks",     "quarantined",  "sla_breaches"};
    return (int)kind >= 0 && kind < ROVED_DIGEST_NKINDS ? names[kind] : "unknown";
}

const char *roved_delegation_state(const roved_delegation *d, int64_t now)
{
    if (strcmp(d->status, "revoked") == 0)
        return "revoked";
    if (strcmp(d->status, "ended") == 0)
        return "ended";
    if (now < d->starts_at)
        return "scheduled";
    return now < d->ends_at ? "active" : "expired";
}

/* A server write of cols of one row, as the system (attributed to the
 * delegation in the audit). */
static int write_row(roved_db *db, const rove__table *t, const char *id, const int *cols,
                     const rove__value *vals, size_t n, const roved_delegation *d,
                     const char *op, json_t *diff, int64_t now)
{
    int rc = roved_store_row_write(db, t, id, cols, vals, n, NULL, now, NULL);
    char *text_diff = rc == 0 ? json_dumps(diff, JSON_COMPACT) : NULL;
    if (rc == 0 && text_diff == NULL)
        rc = ROVE_ENOMEM;
    if (rc == 0) {
        roved_audit a = {now, NULL, NULL,      t->name,         id,
                         op,  0,    text_diff, d->delegator_id, d->id};
        rc = roved_store_audit_put(db, &a);
    }
    free(text_diff);
    return rc;
}

typedef struct step {
    roved_db *db;
    const roved_delegation *d;
    const roved_grant *g;
    int64_t now;
    int count;
} step;

/* Start: a planned visit of the delegator in the window. */
static int start_visit(const char *visit_id, void *payload)
{
    step *s = payload;
    const rove__table *vt = roved_table("visit");
    int cols[6];
    rove__value vals[6];
    size_t n = 0;
    const char *policy = s->d->visit_policy;
    if (strcmp(policy, "cover") == 0) {
        cols[n] = roved_col(vt, "planned_for");
        vals[n++] = roved_text(s->g->delegate_id);
        cols[n] = roved_col(vt, "on_behalf_of");
        vals[n++] = roved_text(s->d->delegator_id);
    } else {
        cols[n] = roved_col(vt, "status");
        vals[n++] = roved_text(strcmp(policy, "cancel") == 0 ? "cancelled" : "needs_replan");
    }
    json_t *diff = json_pack("{s:s,s:s,s:s}", "delegation", s->d->id, "visits", policy,
                             "delegate", s->g->delegate_id);
    int rc =
        write_row(s->db, vt, visit_id, cols, vals, n, s->d, "delegation_start", diff, s->now);
    json_decref(diff);
    s->count += rc == 0;
    return rc;
}

static int start_account(const char *account_id, void *payload)
{
    step *s = payload;
    return roved_store_visits_in_window(s->db, account_id, s->d->delegator_id, s->d->starts_at,
                                        s->d->ends_at, start_visit, s);
}

/* Start: a technician delegator's open task goes to the delegate. */
static int start_task(const char *task_id, void *payload)
{
    step *s = payload;
    const rove__table *tt = roved_table("service_task");
    int cols[6] = {roved_col(tt, "assignee_id"), roved_col(tt, "original_assignee_id")};
    rove__value vals[6] = {roved_text(s->g->delegate_id), roved_text(s->d->delegator_id)};
    json_t *diff = json_pack("{s:s,s:{s:s,s:s}}", "delegation", s->d->id, "assignee_id", "old",
                             s->d->delegator_id, "new", s->g->delegate_id);
    int rc =
        write_row(s->db, tt, task_id, cols, vals, 2, s->d, "delegation_start", diff, s->now);
    json_decref(diff);
    if (rc == 0)
        rc = roved_store_scope_move(s->db, 't', task_id, s->now, "task_reassigned");
    s->count += rc == 0;
    return rc;
}

/* End: a covered task not closed goes back to its original assignee. */
static int end_task(const char *task_id, void *payload)
{
    step *s = payload;
    const rove__table *tt = roved_table("service_task");
    rove__value cur[ROVE__MAX_COLS];
    rove__buf buf = ROVE__BUF_INIT;
    int rc = roved_store_row_get(s->db, tt, task_id, cur, &buf);
    char status[16] = "";
    const rove__value *sv = rc == 0 ? &cur[roved_col(tt, "status")] : NULL;
    if (sv != NULL && sv->type == ROVE__T_TEXT && sv->len < sizeof(status)) {
        memcpy(status, sv->s, sv->len);
        status[sv->len] = '\0';
    }
    rove__buf_free(&buf);
    if (rc != 0)
        return rc;
    int closed = !strcmp(status, "closed") || !strcmp(status, "cancelled") ||
                 !strcmp(status, "resolved");
    int cols[6] = {roved_col(tt, "assignee_id"), roved_col(tt, "original_assignee_id")};
    rove__value vals[6] = {roved_text(closed ? s->g->delegate_id : s->d->delegator_id),
                           roved_text(NULL)};
    json_t *diff = json_pack("{s:s,s:s,s:b}", "delegation", s->d->id, "reverted_to",
                             closed ? s->g->delegate_id : s->d->delegator_id, "closed", closed);
    rc = write_row(s->db, tt, task_id, cols, vals, 2, s->d, "delegation_end", diff, s->now);
    json_decref(diff);
    if (rc == 0 && !closed)
        rc = roved_store_scope_move(s->db, 't', task_id, s->now, "task_reassigned");
    s->count += rc == 0;
    return rc;
}

/* End: a covered visit still planned goes back to the delegator. */
static int end_visit(const char *visit_id, void *payload)
{
    step *s = payload;
    const rove__table *vt = roved_table("visit");
    int cols[6] = {roved_col(vt, "planned_for"), roved_col(vt, "on_behalf_of")};
    rove__value vals[6] = {roved_text(s->d->delegator_id), roved_text(NULL)};
    json_t *diff =
        json_pack("{s:s,s:s}", "delegation", s->d->id, "reverted_to", s->d->delegator_id);
    int rc =
        write_row(s->db, vt, visit_id, cols, vals, 2, s->d, "delegation_end", diff, s->now);
    json_decref(diff);
    s->count += rc == 0;
    return rc;
}

typedef struct grants {
    roved_grant g[16];
    size_t n;
} grants;

static int keep_grant(const roved_grant *g, void *payload)
{
    grants *gs = payload;
    if (gs->n < 16)
        gs->g[gs->n++] = *g;
    return 0;
}

static int run_step(roved_db *db, const roved_delegation *d, int ending, int64_t now)
{
    roved_user delegator;
    int rc = roved_store_user_by_id(db, d->delegator_id, &delegator);
    grants gs;
    memset(&gs, 0, sizeof(gs));
    if (rc == 0)
        rc = roved_store_grant_list(db, d->id, keep_grant, &gs);
    int count = 0;
    for (size_t i = 0; rc == 0 && i < gs.n; i++) {
        step s = {db, d, &gs.g[i], now, 0};
        if (!ending && delegator.role == ROVE__ROLE_TECH)
            rc = roved_store_tasks_assigned(db, d->delegator_id, start_task, &s);
        else if (!ending)
            rc = roved_store_grant_accounts(db, d, &gs.g[i], start_account, &s);
        else {
            rc = roved_store_tasks_covered(db, d->delegator_id, gs.g[i].delegate_id, end_task,
                                           &s);
            if (rc == 0)
                rc = roved_store_visits_covered(db, d->delegator_id, gs.g[i].delegate_id,
                                                end_visit, &s);
        }
        count += s.count;
    }
    if (rc == 0)
        rc = roved_store_delegation_mark(db, d->id, !ending ? 1 : 0, ending ? 1 : 0);
    if (rc == 0)
        rc = roved_store_scope_bump(db); /* the delegates' scopes change */
    if (rc == 0) {
        char diff[160];
        snprintf(diff, sizeof(diff), "{\"state\":\"%s\",\"records\":%d}",
                 ending ? roved_delegation_state(d, now) : "active", count);
        roved_audit a = {now,
                         NULL,
                         NULL,
                         "delegation",
                         d->id,
                         ending ? "delegation_end" : "delegation_start",
                         0,
                         diff,
                         d->delegator_id,
                         d->id};
        rc = roved_store_audit_put(db, &a);
    }
    if (rc == 0)
        roved_log_info(ending ? "delegation_ended" : "delegation_started",
                       "delegation=%s delegator=%s records=%d", d->id, d->delegator_id, count);
    return rc;
}

typedef struct due {
    roved_delegation d[32];
    size_t n;
} due;

static int keep_due(const roved_delegation *d, void *payload)
{
    due *u = payload;
    if (u->n < 32)
        u->d[u->n++] = *d;
    return 0;
}

int roved_delegation_tick(roved_server *srv, int64_t now, int *steps)
{
    *steps = 0;
    for (int ending = 0; ending <= 1; ending++) {
        roved_db *db = NULL;
        int rc = roved_store_write_begin_lazy(srv->store, &db);
        if (rc != 0)
            return rc;
        due u;
        memset(&u, 0, sizeof(u));
        rc = roved_store_delegations_due(db, now, ending, keep_due, &u);
        /* A delegation stopped before it started never runs its start. */
        for (size_t i = 0; rc == 0 && i < u.n; i++) {
            if (ending && !u.d[i].activated)
                rc = roved_store_delegation_mark(db, u.d[i].id, 0, 1);
            if (rc == 0 && (!ending || u.d[i].activated))
                rc = run_step(db, &u.d[i], ending, now);
            if (rc == 0 && ending && !u.d[i].activated)
                rc = roved_store_scope_bump(db);
        }
        if (rc == 0 && u.n > 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
        if (rc != 0)
            return rc;
        *steps += (int)u.n;
    }
    return 0;
}

static pthread_t ticker;
static int ticking;
static volatile int stop_ticking;

static void *tick_loop(void *arg)
{
    roved_server *srv = arg;
    while (!stop_ticking) {
        int steps = 0;
        int rc = roved_delegation_tick(srv, roved_util_now_ms(), &steps);
        if (rc != 0)
            roved_log_warn("delegation_tick_failed", "code=%s", rove_error_name(rc));
        struct timespec ts = {0, 250 * 1000 * 1000};
        for (int i = 0; i < 4 && !stop_ticking; i++)
            nanosleep(&ts, NULL);
    }
    return NULL;
}

int roved_delegation_start(roved_server *srv)
{
    stop_ticking = 0;
    if (pthread_create(&ticker, NULL, tick_loop, srv) != 0)
        return ROVE_EGENERIC;
    ticking = 1;
    return 0;
}

void roved_delegation_stop(void)
{
    if (!ticking)
        return;
    stop_ticking = 1;
    pthread_join(ticker, NULL);
    ticking = 0;
}

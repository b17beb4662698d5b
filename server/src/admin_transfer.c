/*
 * Admin API endpoints of transfers (docs/delegation-transfer.md):
 *
 *   POST transfers                 plan: {"leaver": USERNAME, "reason":
 *                                  "resignation"|"realignment", "batch_size": N,
 *                                  "lines": [{"territory": ID|NAME, "tier": T,
 *                                  "accounts": [ID...], "all": true, "to": [USERNAME...],
 *                                  "mode": "single"|"round_robin"|"balanced",
 *                                  "to_territory": ID|NAME}]}
 *   GET  transfers                 list
 *   GET  transfers/<id>            status and progress per target
 *   GET  transfers/<id>/preview    counts per target and per record kind
 *   POST transfers/<id>/run        {"max_batches": N, "drain_seconds": S}: run (or
 *                                  resume) in batches; S: the leaver's devices' drain
 *
 * Planning freezes the leaver (no sync, no login) and resolves every line to
 * a list of accounts and their new owners, stored with the transfer, so a run
 * is deterministic, idempotent and resumable: each batch is one transaction
 * that moves its accounts (with what follows them, transfer.h) and marks them
 * done. The last step gives the leaver's open service tasks to technicians,
 * checks that nothing still references the leaver, revokes the leaver's
 * devices (with the drain window) and deactivates the leaver.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "log.h"
#include "rove/errors.h"
#include "transfer.h"
#include "util.h"

#define MAX_TARGETS 32
#define MAX_LINES 64

/* ---- planning ------------------------------------------------------------ */

typedef struct line {
    char territory[27]; /* selector (resolved id) or "" */
    char tier[8];
    json_t *accounts; /* selector: array of ids, or NULL */
    int all;
    char to_territory[27];
    int mode; /* 0 single, 1 round robin, 2 balanced */
    size_t nto;
    char to[MAX_TARGETS][27];
    int64_t load[MAX_TARGETS]; /* balanced: open workload so far */
    size_t next;               /* round robin */
} line;

typedef struct planner {
    roved_db *db;
    const roved_user *actor;
    const char *leaver_id;
    const char *transfer_id;
    line *lines;
    size_t nlines;
    int64_t now;
    int64_t items, uncovered, forbidden;
} planner;

static int in_list(json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) &&
                                      strcmp(json_string_value(v), id) == 0) return 1;
    return 0;
}

static int line_matches(planner *p, const line *l, const char *account_id,
                        const roved_rowinfo *info, const char *tier)
{
    (void)p;
    if (l->accounts != NULL)
        return in_list(l->accounts, account_id);
    if (l->all)
        return 1;
    if (l->territory[0] && strcmp(l->territory, info->territory_id) != 0)
        return 0;
    if (l->tier[0] && strcmp(l->tier, tier) != 0)
        return 0;
    return l->territory[0] || l->tier[0];
}

static const char *pick_target(line *l)
{
    size_t k = 0;
    if (l->mode == 1) {
        k = l->next++ % l->nto;
    } else if (l->mode == 2) {
        for (size_t i = 1; i < l->nto; i++)
            if (l->load[i] < l->load[k])
                k = i;
        l->load[k]++;
    }
    return l->to[k];
}

static int plan_account(const char *account_id, void *payload)
{
    planner *p = payload;
    const rove__table *acc = rove__schema_table("account", 7);
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    int rc = roved_store_row_info(p->db, acc, account_id, &info);
    if (rc != 0)
        return rc;
    rove__value cur[ROVE__MAX_COLS];
    rove__buf buf = ROVE__BUF_INIT;
    char tier[8] = "";
    rc = roved_store_row_get(p->db, acc, account_id, cur, &buf);
    const rove__value *tv = rc == 0 ? &cur[rove__schema_col(acc, "tier", 4)] : NULL;
    if (tv != NULL && tv->type == ROVE__T_TEXT && tv->len < sizeof(tier)) {
        memcpy(tier, tv->s, tv->len);
        tier[tv->len] = '\0';
    }
    rove__buf_free(&buf);
    if (rc != 0)
        return rc;
    if (!roved_admin_manages_record(p->db, p->actor, &info, p->now)) {
        /* A leaver's account out of reach stops the plan; any other account
         * out of reach is, to a realignment, like one that does not exist. */
        if (p->leaver_id != NULL)
            p->forbidden++;
        return 0;
    }
    for (size_t i = 0; i < p->nlines; i++) {
        line *l = &p->lines[i];
        if (!line_matches(p, l, account_id, &info, tier))
            continue;
        const char *to = pick_target(l);
        if (strcmp(to, info.owner_id) == 0 && !l->to_territory[0])
            return 0; /* already theirs */
        p->items++;
        return roved_store_transfer_item_add(p->db, p->transfer_id, account_id, to, (int)i);
    }
    p->uncovered++;
    return 0;
}

/* Reads and checks one line of the plan. Returns NULL or a message. */
static const char *parse_line(roved_db *db, const roved_user *actor, json_t *jl, line *l,
                              const char *leaver_id, int64_t now)
{
    memset(l, 0, sizeof(*l));
    if (!json_is_object(jl))
        return "each line must be an object";
    json_t *terr = json_object_get(jl, "territory"), *tier = json_object_get(jl, "tier");
    json_t *accs = json_object_get(jl, "accounts"), *all = json_object_get(jl, "all");
    json_t *to = json_object_get(jl, "to"), *mode = json_object_get(jl, "mode");
    json_t *tt = json_object_get(jl, "to_territory");
    int selectors = (terr || tier) + (accs != NULL) + (all != NULL);
    if (selectors != 1)
        return "each line selects by territory and/or tier, by an account list, or all";
    if (terr != NULL &&
        (!json_is_string(terr) ||
         roved_store_territory_find(db, json_string_value(terr), l->territory) != 0 ||
         !roved_admin_reaches_territory(db, actor, l->territory, now)))
        return "a line's territory is not a known territory id or name";
    if (tier != NULL) {
        const rove__table *acc = rove__schema_table("account", 7);
        const rove__column *tc = &acc->cols[rove__schema_col(acc, "tier", 4)];
        if (!json_is_string(tier) ||
            !rove__schema_enum_ok(tc, json_string_value(tier), json_string_length(tier)))
            return "a line's tier must be VIP, A, B or C";
        roved_util_copy(l->tier, sizeof(l->tier), json_string_value(tier));
    }
    if (accs != NULL) {
        size_t i;
        json_t *v;
        if (!json_is_array(accs) || json_array_size(accs) == 0 || json_array_size(accs) > 10000)
            return "a line's accounts must be a list of 1 to 10000 account ids";
        json_array_foreach(accs, i,
                           v) if (!json_is_string(v) ||
                                  !roved_admin_valid_id(json_string_value(
                                      v))) return "a line's accounts must be account ids";
        l->accounts = accs;
    }
    if (all != NULL) {
        if (!json_is_true(all))
            return "all must be true";
        l->all = 1;
    }
    if (tt != NULL &&
        (!json_is_string(tt) ||
         roved_store_territory_find(db, json_string_value(tt), l->to_territory) != 0 ||
         !roved_admin_reaches_territory(db, actor, l->to_territory, now)))
        return "a line's to_territory is not a known territory";
    if (!json_is_array(to) || json_array_size(to) == 0 || json_array_size(to) > MAX_TARGETS)
        return "each line needs \"to\": a list of 1 to 32 user names";
    size_t i;
    json_t *v;
    json_array_foreach(to, i, v)
    {
        roved_user u;
        if (!json_is_string(v) ||
            roved_admin_find_user(db, actor, json_string_value(v), now, &u) != 0)
            return "a line's target is not a known user";
        if (u.status != ROVED_USER_ACTIVE ||
            (u.role != ROVE__ROLE_REP && u.role != ROVE__ROLE_MANAGER))
            return "targets must be active reps or managers";
        if (leaver_id != NULL && strcmp(u.id, leaver_id) == 0)
            return "the leaver cannot receive their own accounts";
        for (size_t k = 0; k < l->nto; k++)
            if (strcmp(l->to[k], u.id) == 0)
                return "a line names the same target twice";
        roved_util_copy(l->to[l->nto], sizeof(l->to[0]), u.id);
        if (roved_store_workload(db, u.id, &l->load[l->nto]) != 0)
            return "the store could not be read";
        l->nto++;
    }
    const char *m = mode ? json_string_value(mode) : (l->nto > 1 ? "round_robin" : "single");
    if (m == NULL)
        return "mode must be single, round_robin or balanced";
    if (strcmp(m, "single") == 0)
        l->mode = 0;
    else if (strcmp(m, "round_robin") == 0)
        l->mode = 1;
    else if (strcmp(m, "balanced") == 0)
        l->mode = 2;
    else
        return "mode must be single, round_robin or balanced";
    if (l->mode == 0 && l->nto != 1)
        return "mode single takes exactly one target";
    return NULL;
}

int roved_admin_transfer_plan(roved_server *srv, struct mg_connection *c,
                              const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    (void)arg;
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    const char *leaver_name = json_string_value(json_object_get(j, "leaver"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    json_t *lines = json_object_get(j, "lines"), *bs = json_object_get(j, "batch_size");
    const char *bad = NULL;
    if (reason == NULL || (strcmp(reason, "resignation") && strcmp(reason, "realignment")))
        bad = "reason must be resignation or realignment";
    else if (!strcmp(reason, "resignation") && leaver_name == NULL)
        bad = "a resignation names the leaver (a user name)";
    else if (json_object_get(j, "leaver") != NULL && leaver_name == NULL)
        bad = "leaver must be a user name";
    else if (!json_is_array(lines) || json_array_size(lines) > MAX_LINES ||
             (leaver_name == NULL && json_array_size(lines) == 0))
        bad = "lines must be a list of at most 64 lines (at least one for a realignment)";
    else if (bs != NULL && (!json_is_integer(bs) || json_integer_value(bs) < 1 ||
                            json_integer_value(bs) > 1000))
        bad = "batch_size must be 1 to 1000";
    if (bad != NULL) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, bad);
    }
    int64_t now = roved_util_now_ms();
    roved_db *db = NULL;
    if (roved_store_write_begin(srv->store, &db) != 0) {
        json_decref(j);
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    }
    int status = 0, rc = 0;
    roved_user leaver;
    memset(&leaver, 0, sizeof(leaver));
    char open_id[27];
    int open = 0;
    if (leaver_name != NULL) {
        rc = roved_admin_find_user(db, actor, leaver_name, now, &leaver);
        if (rc == ROVE_ENOTFOUND)
            status = roved_admin_error(c, ROVE_ENOTFOUND, "no such user (leaver)");
        else if (rc == 0 && leaver.status == ROVED_USER_DEACTIVATED)
            status = roved_admin_error(c, ROVE_ESTATE, "the leaver is deactivated already");
        else if (rc == 0 && leaver.role == ROVE__ROLE_ADMIN)
            status = roved_admin_error(c, ROVE_EBADVALUE, "admins own no work to transfer");
        else if (rc == 0 &&
                 (rc = roved_store_transfer_open_for(db, leaver.id, open_id, &open)) == 0 &&
                 open)
            status = roved_admin_error(c, ROVE_EEXISTS,
                                       "the leaver already has a transfer that is not done");
    }
    line *ls = calloc(MAX_LINES, sizeof(*ls));
    if (status == 0 && rc == 0 && ls == NULL)
        rc = ROVE_ENOMEM;
    size_t nlines = 0;
    for (size_t i = 0; status == 0 && rc == 0 && i < json_array_size(lines); i++) {
        bad = parse_line(db, actor, json_array_get(lines, i), &ls[i],
                         leaver.id[0] ? leaver.id : NULL, now);
        if (bad != NULL)
            status = roved_admin_error(c, ROVE_EBADVALUE, bad);
        nlines++;
    }
    roved_transfer t;
    memset(&t, 0, sizeof(t));
    planner p = {db, actor, leaver.id[0] ? leaver.id : NULL, t.id, ls, nlines, now, 0, 0, 0};
    if (status == 0 && rc == 0) {
        roved_util_new_id(t.id);
        roved_util_copy(t.leaver_id, sizeof(t.leaver_id), leaver.id);
        roved_util_copy(t.reason, sizeof(t.reason), reason);
        roved_util_copy(t.status, sizeof(t.status), "planned");
        roved_util_copy(t.created_by, sizeof(t.created_by), actor->id);
        t.created_at = now;
        t.batch_size = bs ? (int)json_integer_value(bs) : 50;
        t.plan_json = json_dumps(lines, JSON_COMPACT);
        rc = t.plan_json ? roved_store_transfer_create(db, &t) : ROVE_ENOMEM;
        /* A realignment's accounts are those its lines select; a
         * resignation's are the leaver's, every one of which must be covered. */
        if (rc == 0)
            rc = roved_store_accounts_matching(db, p.leaver_id, NULL, NULL, plan_account, &p);
    }
    if (status == 0 && rc == 0 && p.forbidden > 0)
        status = roved_admin_error(c, ROVE_EFORBIDDEN,
                                   "the plan touches accounts outside your territories");
    if (status == 0 && rc == 0 && p.leaver_id != NULL && p.uncovered > 0) {
        char m[160];
        snprintf(m, sizeof(m),
                 "%lld of the leaver's accounts are not covered by any line (add a line, e.g. "
                 "{\"all\": true, \"to\": [...]})",
                 (long long)p.uncovered);
        status = roved_admin_error(c, ROVE_EBADVALUE, m);
    }
    if (status == 0 && rc == 0 && p.leaver_id == NULL && p.items == 0)
        status = roved_admin_error(c, ROVE_EBADVALUE, "the lines select no account to move");
    if (status == 0 && rc == 0 && !strcmp(reason, "resignation"))
        rc = roved_store_user_set_status(db, leaver.username, ROVED_USER_FROZEN);
    if (status == 0 && rc == 0) {
        json_t *diff = json_pack("{s:s,s:s?,s:I,s:O}", "reason", reason, "leaver",
                                 leaver.id[0] ? leaver.id : NULL, "accounts",
                                 (json_int_t)p.items, "lines", lines);
        rc = diff ? roved_admin_audit(db, actor, "transfer", t.id, "transfer_plan", diff, now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    free(ls);
    free(t.plan_json);
    json_decref(j);
    if (status == 0 && rc != 0)
        status = roved_admin_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                                   "the plan could not be stored");
    if (status != 0) {
        roved_store_write_rollback(srv->store, db);
        return status;
    }
    if (roved_store_write_commit(srv->store, db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the plan could not be committed");
    roved_log_info("transfer_planned", "actor=%s transfer=%s leaver=%s accounts=%lld",
                   actor->id, t.id, leaver.id[0] ? leaver.id : "-", (long long)p.items);
    return roved_admin_send_json(c, 201,
                                 json_pack("{s:s,s:s,s:s,s:I}", "id", t.id, "status", "planned",
                                           "reason", t.reason, "accounts",
                                           (json_int_t)p.items));
}

/* ---- progress and preview -------------------------------------------------- */

/* The transfer if the actor reaches it, else ROVE_ENOTFOUND like a missing
 * one; t->plan_json is malloc'd on success. */
static int get_transfer(roved_db *db, const roved_user *actor, const char *id,
                        roved_transfer *t)
{
    int rc = roved_store_transfer_get(db, id, t);
    if (rc == 0 && !roved_admin_reaches_transfer(db, actor, t, roved_util_now_ms())) {
        free(t->plan_json);
        t->plan_json = NULL;
        rc = ROVE_ENOTFOUND;
    }
    return rc;
}

typedef struct target_sum {
    char user_id[27];
    int64_t accounts, done, contacts, open_visits, closed_visits, open_tasks;
} target_sum;

typedef struct summary {
    roved_db *db;
    int preview;
    target_sum t[256];
    size_t n;
    int64_t total, done;
    int rc;
} summary;

static int sum_item(const roved_transfer_item *it, void *payload)
{
    summary *s = payload;
    size_t k = 0;
    while (k < s->n && strcmp(s->t[k].user_id, it->to_user_id) != 0)
        k++;
    if (k == s->n) {
        if (s->n == sizeof(s->t) / sizeof(s->t[0]))
            return ROVE_ETOOBIG;
        memset(&s->t[k], 0, sizeof(s->t[k]));
        roved_util_copy(s->t[k].user_id, sizeof(s->t[k].user_id), it->to_user_id);
        s->n++;
    }
    target_sum *t = &s->t[k];
    t->accounts++;
    t->done += it->done;
    s->total++;
    s->done += it->done;
    if (s->preview) {
        roved_account_counts ac;
        memset(&ac, 0, sizeof(ac));
        int rc = roved_store_account_counts(s->db, it->account_id, &ac);
        if (rc != 0)
            return rc;
        t->contacts += ac.contacts;
        t->open_visits += ac.open_visits;
        t->closed_visits += ac.closed_visits;
        t->open_tasks += ac.open_tasks;
    }
    return 0;
}

static json_t *transfer_json(const roved_transfer *t)
{
    json_error_t err;
    json_t *plan = json_loads(t->plan_json ? t->plan_json : "[]", 0, &err);
    json_t *o = json_pack("{s:s,s:s?,s:s,s:s,s:s,s:I,s:I,s:o?}", "id", t->id, "leaver_id",
                          t->leaver_id[0] ? t->leaver_id : NULL, "reason", t->reason, "status",
                          t->status, "created_by", t->created_by, "created_at",
                          (json_int_t)t->created_at, "batch_size", (json_int_t)t->batch_size,
                          "lines", plan);
    if (o != NULL && t->started_at)
        json_object_set_new(o, "started_at", json_integer(t->started_at));
    if (o != NULL && t->finished_at)
        json_object_set_new(o, "finished_at", json_integer(t->finished_at));
    return o;
}

int roved_admin_transfer_show(roved_server *srv, struct mg_connection *c,
                              const roved_user *actor, const char *const *arg, int preview)
{
    const char *id = arg[0];
    if (!roved_admin_valid_id(id))
        return roved_admin_error(c, ROVE_EBADVALUE, "the transfer id is not a valid id");
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_transfer t;
    summary *s = calloc(1, sizeof(*s));
    int rc = s ? get_transfer(db, actor, id, &t) : ROVE_ENOMEM;
    if (rc == 0) {
        s->db = db;
        s->preview = preview;
        rc = roved_store_transfer_items(db, id, 0, INT64_MAX, sum_item, s);
    }
    json_t *targets = json_array();
    json_t *totals = json_object();
    int64_t tc = 0, to = 0, tcl = 0, tt = 0;
    for (size_t k = 0; rc == 0 && s != NULL && k < s->n; k++) {
        roved_user u;
        const char *name =
            roved_store_user_by_id(db, s->t[k].user_id, &u) == 0 ? u.username : NULL;
        json_t *o = json_pack("{s:s,s:s?,s:I,s:I}", "user_id", s->t[k].user_id, "username",
                              name, "accounts", (json_int_t)s->t[k].accounts, "done",
                              (json_int_t)s->t[k].done);
        if (preview) {
            json_object_set_new(o, "contacts", json_integer(s->t[k].contacts));
            json_object_set_new(o, "open_visits", json_integer(s->t[k].open_visits));
            json_object_set_new(o, "closed_visits_kept", json_integer(s->t[k].closed_visits));
            json_object_set_new(o, "open_tasks", json_integer(s->t[k].open_tasks));
            tc += s->t[k].contacts;
            to += s->t[k].open_visits;
            tcl += s->t[k].closed_visits;
            tt += s->t[k].open_tasks;
        }
        json_array_append_new(targets, o);
    }
    int64_t tasks = 0, acc_left = 0, vis_left = 0;
    if (rc == 0 && preview && t.leaver_id[0])
        rc = roved_store_user_references(db, t.leaver_id, &acc_left, &vis_left, &tasks);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(targets);
        json_decref(totals);
        free(s);
        if (rc == ROVE_ENOTFOUND)
            return roved_admin_error(c, rc, "no such transfer");
        return roved_admin_error(c, ROVE_ESTORE, "the transfer could not be read");
    }
    json_t *o = transfer_json(&t);
    free(t.plan_json);
    json_object_set_new(o, "targets", targets);
    json_object_set_new(o, "total", json_integer(s->total));
    json_object_set_new(o, "done", json_integer(s->done));
    if (preview) {
        json_object_set_new(totals, "accounts", json_integer(s->total));
        json_object_set_new(totals, "contacts", json_integer(tc));
        json_object_set_new(totals, "open_visits", json_integer(to));
        json_object_set_new(totals, "closed_visits_kept", json_integer(tcl));
        json_object_set_new(totals, "open_tasks_on_accounts", json_integer(tt));
        json_object_set_new(totals, "leaver_tasks_to_reassign", json_integer(tasks));
        json_object_set_new(o, "kinds", totals);
    } else {
        json_decref(totals);
    }
    free(s);
    return roved_admin_send_json(c, 200, o);
}

static int add_transfer(const roved_transfer *t, void *payload)
{
    roved_admin_lister *l = payload;
    if (!roved_admin_reaches_transfer(l->db, l->actor, t, l->now))
        return 0;
    json_t *o = transfer_json(t);
    return o && json_array_append_new(l->arr, o) == 0 ? 0 : ROVE_ENOMEM;
}

int roved_admin_transfers_list(roved_server *srv, struct mg_connection *c,
                               const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    (void)arg;
    roved_db *db = NULL;
    if (roved_store_read_begin(srv->store, &db) != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    roved_admin_lister l = {db, actor, roved_util_now_ms(), json_array()};
    json_t *arr = l.arr;
    int rc = roved_store_transfer_list(db, add_transfer, &l);
    roved_store_read_end(srv->store, db);
    if (rc != 0) {
        json_decref(arr);
        return roved_admin_error(c, ROVE_ESTORE, "the transfers could not be read");
    }
    return roved_admin_send_json(c, 200, json_pack("{s:o}", "transfers", arr));
}

/* ---- running ---------------------------------------------------------------- */

typedef struct realign {
    roved_db *db;
    const roved_user *actor;
    int64_t now;
    int ended;
} realign;

/* A realignment takes the territory from those who no longer own accounts
 * in it: their rep memberships there end now. */
static int end_source(const char *owner_id, const char *territory_id, int64_t still,
                      void *payload)
{
    realign *r = payload;
    if (still > 0)
        return 0;
    int changed = 0;
    int rc = roved_store_member_end(r->db, territory_id, owner_id, r->now, &changed);
    if (rc == 0 && changed > 0) {
        json_t *diff = json_pack("{s:s,s:s,s:I}", "territory", territory_id, "user", owner_id,
                                 "at", (json_int_t)r->now);
        rc = diff ? roved_admin_audit(r->db, r->actor, "territory", territory_id,
                                      "membership_end", diff, r->now)
                  : ROVE_ENOMEM;
        json_decref(diff);
        r->ended += changed;
    }
    return rc;
}

/* ... and the targets of a line that selected a territory become its reps. */
static int join_targets(realign *r, json_t *plan)
{
    size_t i;
    json_t *l;
    int rc = 0;
    json_array_foreach(plan, i, l)
    {
        const char *terr = json_string_value(json_object_get(l, "to_territory"));
        if (terr == NULL)
            terr = json_string_value(json_object_get(l, "territory"));
        char tid[27];
        if (terr == NULL || roved_store_territory_find(r->db, terr, tid) != 0)
            continue;
        size_t k;
        json_t *to;
        json_array_foreach(json_object_get(l, "to"), k, to)
        {
            roved_user u;
            int overlap = 0;
            if (rc != 0 || roved_store_user_by_name(r->db, json_string_value(to), &u) != 0)
                continue;
            rc = roved_store_member_overlaps(r->db, tid, u.id, "rep", r->now, 0, &overlap);
            if (rc == 0 && !overlap)
                rc = roved_store_territory_member_insert(r->db, tid, u.id, "rep", r->now, 0);
        }
    }
    return rc;
}

typedef struct runner {
    roved_server *srv;
    roved_db *db;
    const roved_user *actor;
    const roved_transfer *t;
    json_t *plan;
    int64_t now;
    roved_move_stats st;
} runner;

static int run_item(const roved_transfer_item *it, void *payload)
{
    runner *r = payload;
    json_t *l = json_array_get(r->plan, (size_t)it->line);
    const char *tt = json_string_value(json_object_get(l, "to_territory"));
    char terr[27] = "";
    if (tt != NULL && roved_store_territory_find(r->db, tt, terr) != 0)
        terr[0] = '\0';
    int changed = 0;
    int rc = roved_transfer_move_account(r->srv, r->db, r->actor, it->account_id,
                                         it->to_user_id, terr[0] ? terr : NULL, r->t->id,
                                         r->t->reason, r->now, &r->st, &changed);
    if (rc == ROVE_ENOTFOUND) /* deleted since the plan: nothing left to move */
        rc = 0;
    if (rc == 0)
        rc = roved_store_transfer_item_done(r->db, r->t->id, it->account_id, r->now);
    return rc;
}

static int count_item(const roved_transfer_item *it, void *payload)
{
    (void)it;
    (*(int64_t *)payload)++;
    return 0;
}

int roved_admin_transfer_run(roved_server *srv, struct mg_connection *c,
                             const roved_user *actor, const char *const *arg, int variant)
{
    (void)variant;
    const char *id = arg[0];
    if (!roved_admin_valid_id(id))
        return roved_admin_error(c, ROVE_EBADVALUE, "the transfer id is not a valid id");
    int code = 0;
    const char *msg = NULL;
    json_t *j = roved_admin_read_json(c, &code, &msg);
    if (j == NULL)
        return roved_admin_error(c, code, msg);
    json_t *mb = json_object_get(j, "max_batches");
    if (mb != NULL && (!json_is_integer(mb) || json_integer_value(mb) < 1)) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE, "max_batches must be a positive integer");
    }
    int64_t max_batches = mb ? json_integer_value(mb) : INT64_MAX;
    json_t *ds = json_object_get(j, "drain_seconds");
    if (ds != NULL && (!json_is_integer(ds) || json_integer_value(ds) < 0 ||
                       json_integer_value(ds) > 30 * 86400)) {
        json_decref(j);
        return roved_admin_error(c, ROVE_EBADVALUE,
                                 "drain_seconds must be an integer from 0 to 2592000");
    }
    int64_t drain_ms = ds ? (int64_t)json_integer_value(ds) * 1000
                          : (int64_t)srv->cfg->drain_hours * 3600 * 1000;
    json_decref(j);

    roved_transfer t;
    memset(&t, 0, sizeof(t));
    roved_db *db = NULL;
    int rc = roved_store_read_begin(srv->store, &db);
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the store is unavailable");
    rc = get_transfer(db, actor, id, &t);
    roved_store_read_end(srv->store, db);
    if (rc == ROVE_ENOTFOUND)
        return roved_admin_error(c, rc, "no such transfer");
    if (rc != 0)
        return roved_admin_error(c, ROVE_ESTORE, "the transfer could not be read");
    json_error_t jerr;
    runner r = {srv, NULL, actor, &t, json_loads(t.plan_json, 0, &jerr), 0, {0, 0, 0, 0, 0}};
    int64_t batches = 0, left = 0;
    int status = 0, finished = strcmp(t.status, "done") == 0;
    /* One transaction per batch: a crash loses at most the batch in flight,
     * and the next run resumes with the accounts not done. */
    while (!finished && status == 0 && rc == 0 && batches < max_batches) {
        if ((rc = roved_store_write_begin(srv->store, &db)) != 0)
            break;
        r.db = db;
        r.now = roved_util_now_ms();
        int64_t before = r.st.accounts;
        rc = roved_store_transfer_set_status(db, t.id, "running", r.now);
        int64_t pending = 0;
        if (rc == 0)
            rc = roved_store_transfer_items(db, t.id, 1, t.batch_size, count_item, &pending);
        if (rc == 0 && pending > 0)
            rc = roved_store_transfer_items(db, t.id, 1, t.batch_size, run_item, &r);
        if (rc == 0 && pending == 0) {
            /* The last step: the leaver's own open tasks, the check that
             * nothing references the leaver, devices, deactivation. */
            int64_t acc = 0, vis = 0, tasks = 0;
            if (t.leaver_id[0]) {
                rc = roved_transfer_reassign_tasks(db, actor, t.leaver_id, t.id, r.now, &r.st);
                if (rc == 0)
                    rc = roved_store_user_references(db, t.leaver_id, &acc, &vis, &tasks);
            }
            if (rc == 0 && (acc > 0 || vis > 0 || tasks > 0)) {
                char m[200];
                snprintf(m, sizeof(m),
                         "the leaver still owns %lld accounts and %lld open visits and has "
                         "%lld open tasks (assigned after the plan); plan another transfer "
                         "for them",
                         (long long)acc, (long long)vis, (long long)tasks);
                status = roved_admin_error(c, ROVE_ESTATE, m);
            }
            int revoked = 0;
            if (status == 0 && rc == 0 && t.leaver_id[0] && !strcmp(t.reason, "resignation")) {
                rc = roved_store_user_devices_revoke(db, t.leaver_id, r.now, r.now + drain_ms,
                                                     &revoked);
                roved_user u;
                if (rc == 0)
                    rc = roved_store_user_by_id(db, t.leaver_id, &u);
                if (rc == 0)
                    rc = roved_store_user_set_status(db, u.username, ROVED_USER_DEACTIVATED);
            }
            if (status == 0 && rc == 0 && !strcmp(t.reason, "realignment")) {
                realign ra = {db, actor, r.now, 0};
                rc = roved_store_transfer_sources(db, t.id, end_source, &ra);
                if (rc == 0)
                    rc = join_targets(&ra, r.plan);
                if (rc == 0)
                    rc = roved_store_scope_bump(db); /* memberships decide scope */
            }
            if (status == 0 && rc == 0)
                rc = roved_store_transfer_set_status(db, t.id, "done", r.now);
            if (status == 0 && rc == 0) {
                json_t *diff =
                    json_pack("{s:I,s:I,s:I,s:I,s:I}", "devices_revoked", (json_int_t)revoked,
                              "tasks_reassigned", (json_int_t)r.st.tasks, "tasks_queued",
                              (json_int_t)r.st.queued, "visits_moved", (json_int_t)r.st.visits,
                              "visits_to_replan", (json_int_t)r.st.replans);
                rc = diff ? roved_admin_audit(db, actor, "transfer", t.id, "transfer_done",
                                              diff, r.now)
                          : ROVE_ENOMEM;
                json_decref(diff);
            }
            finished = status == 0 && rc == 0;
        }
        if (status == 0 && rc == 0)
            rc = roved_store_write_commit(srv->store, db);
        else
            roved_store_write_rollback(srv->store, db);
        if (status == 0 && rc == 0 && pending > 0) {
            batches++;
            roved_log_info("transfer_batch", "transfer=%s batch=%lld accounts=%lld", t.id,
                           (long long)batches, (long long)(r.st.accounts - before));
        }
    }
    json_decref(r.plan);
    if (status == 0 && rc == 0 && (rc = roved_store_read_begin(srv->store, &db)) == 0) {
        rc = roved_store_transfer_items(db, t.id, 1, INT64_MAX, count_item, &left);
        roved_store_read_end(srv->store, db);
    }
    free(t.plan_json);
    if (status != 0)
        return status;
    if (rc != 0)
        return roved_admin_error(c, rc == ROVE_ENOMEM ? rc : ROVE_ESTORE,
                                 "the batch could not be stored; run again to resume");
    if (finished)
        roved_log_info("transfer_done", "transfer=%s", t.id);
    json_t *answer =
        json_pack("{s:s,s:s,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I}}", "id", t.id, "status",
                  finished ? "done" : "running", "batches", (json_int_t)batches, "pending",
                  (json_int_t)left, "moved", "accounts", (json_int_t)r.st.accounts, "visits",
                  (json_int_t)r.st.visits, "visits_to_replan", (json_int_t)r.st.replans,
                  "tasks", (json_int_t)r.st.tasks, "tasks_queued", (json_int_t)r.st.queued);
    return roved_admin_send_json(c, 200, answer);
}

/* Moving an account and what follows it (see transfer.h). */
#include "transfer.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "assign.h"
#include "rove/errors.h"
#include "value.h"

/* Sets cols[0..n) of row id in t to vals with a new version, by actor. */
typedef struct follow {
    roved_db *db;
    const roved_user *actor;
    const char *from_owner, *to_owner, *transfer_id;
    int64_t now;
    roved_move_stats *st;
} follow;

/* An open visit of the moved account, planned for the previous owner. */
static int follow_visit(const char *visit_id, void *payload)
{
    follow *f = payload;
    const rove__table *vt = roved_table("visit");
    rove__value cur[ROVE__MAX_COLS];
    rove__buf buf = ROVE__BUF_INIT;
    int rc = roved_store_row_get(f->db, vt, visit_id, cur, &buf);
    if (rc != 0) {
        rove__buf_free(&buf);
        return rc;
    }
    char planned_for[32], status[16];
    roved_text_copy(&cur[roved_col(vt, "planned_for")], planned_for, sizeof(planned_for));
    roved_text_copy(&cur[roved_col(vt, "status")], status, sizeof(status));
    const rove__value *ps = &cur[roved_col(vt, "planned_start")],
                      *pe = &cur[roved_col(vt, "planned_end")];
    int64_t start = ps->type == ROVE__T_INT ? ps->i : 0;
    int64_t end = pe->type == ROVE__T_INT ? pe->i : start;
    rove__buf_free(&buf);
    /* Someone else's visit on this account (a delegate's, a manager's) stays. */
    if (f->from_owner[0] != '\0' && planned_for[0] != '\0' &&
        strcmp(planned_for, f->from_owner) != 0)
        return 0;
    int clash = 0;
    if (start > 0 && (rc = roved_store_visit_clash(f->db, f->to_owner, visit_id, start,
                                                   end > start ? end : start + 1, &clash)) != 0)
        return rc;
    int cols[2] = {roved_col(vt, "planned_for"), roved_col(vt, "status")};
    rove__value vals[2] = {roved_text(f->to_owner),
                           roved_text(clash ? "needs_replan" : status)};
    rc = roved_store_row_write(f->db, vt, visit_id, cols, vals, 2, f->actor->id, f->now, NULL);
    if (rc == 0) {
        json_t *diff = json_pack("{s:{s:s?,s:s},s:s?,s:b}", "planned_for", "old",
                                 planned_for[0] ? planned_for : NULL, "new", f->to_owner,
                                 "transfer", f->transfer_id, "needs_replan", clash);
        rc = diff ? roved_admin_audit(f->db, f->actor, "visit", visit_id, "transfer", diff,
                                      f->now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    if (rc == 0) {
        if (clash)
            f->st->replans++;
        else
            f->st->visits++;
    }
    return rc;
}

int roved_transfer_move_account(roved_server *srv, roved_db *db, const roved_user *actor,
                                const char *account_id, const char *to_user_id,
                                const char *to_territory, const char *transfer_id,
                                const char *reason, int64_t now, roved_move_stats *st,
                                int *changed)
{
    (void)srv;
    *changed = 0;
    const rove__table *acc = roved_table("account");
    roved_rowinfo info;
    memset(&info, 0, sizeof(info));
    int rc = roved_store_row_info(db, acc, account_id, &info);
    if (rc != 0)
        return rc;
    if (info.deleted)
        return ROVE_ENOTFOUND;
    int owner_changes = to_user_id != NULL && strcmp(to_user_id, info.owner_id) != 0;
    int terr_changes = to_territory != NULL && strcmp(to_territory, info.territory_id) != 0;
    if (!owner_changes && !terr_changes)
        return 0;
    int cols[2];
    rove__value vals[2];
    size_t n = 0;
    json_t *diff = json_object();
    if (owner_changes) {
        cols[n] = roved_col(acc, "owner_id");
        vals[n++] = roved_text(to_user_id);
        json_object_set_new(diff, "owner_id",
                            json_pack("{s:s?,s:s}", "old",
                                      info.owner_id[0] ? info.owner_id : NULL, "new",
                                      to_user_id));
    }
    if (terr_changes) {
        cols[n] = roved_col(acc, "territory_id");
        vals[n++] = roved_text(to_territory);
        json_object_set_new(diff, "territory_id",
                            json_pack("{s:s?,s:s}", "old",
                                      info.territory_id[0] ? info.territory_id : NULL, "new",
                                      to_territory));
    }
    if (reason != NULL)
        json_object_set_new(diff, "reason", json_string(reason));
    if (transfer_id != NULL)
        json_object_set_new(diff, "transfer", json_string(transfer_id));
    int64_t version = 0;
    rc = roved_store_row_write(db, acc, account_id, cols, vals, n, actor->id, now, &version);
    if (rc == 0)
        rc = roved_admin_audit(db, actor, "account", account_id,
                               transfer_id ? "transfer" : "assign", diff, now);
    json_decref(diff);
    if (rc == 0)
        rc = roved_store_owner_history_put(
            db, account_id, info.owner_id, owner_changes ? to_user_id : info.owner_id,
            info.territory_id, terr_changes ? to_territory : info.territory_id, now,
            transfer_id, reason, actor->id);
    if (rc == 0)
        rc = roved_store_scope_move(db, 'a', account_id, now,
                                    owner_changes ? "owner_changed" : "territory_changed");
    if (rc == 0 && owner_changes) {
        follow f = {db, actor, info.owner_id, to_user_id, transfer_id, now, st};
        rc = roved_store_open_visits(db, account_id, follow_visit, &f);
    }
    if (rc == 0) {
        st->accounts++;
        *changed = 1;
    }
    return rc;
}

typedef struct retask {
    roved_db *db;
    const roved_user *actor;
    const char *from, *transfer_id;
    int64_t now;
    roved_move_stats *st;
} retask;

static int reassign_task(const char *task_id, void *payload)
{
    retask *r = payload;
    const rove__table *tt = roved_table("service_task");
    rove__value cur[ROVE__MAX_COLS];
    rove__buf buf = ROVE__BUF_INIT;
    int rc = roved_store_row_get(r->db, tt, task_id, cur, &buf);
    char skills[256];
    if (rc == 0)
        roved_text_copy(&cur[roved_col(tt, "required_skills")], skills, sizeof(skills));
    rove__buf_free(&buf);
    if (rc != 0)
        return rc;
    char to[27] = "";
    int found = 0;
    if ((rc = roved_assign_pick(r->db, skills, r->now, to, &found)) != 0)
        return rc;
    int cols[2] = {roved_col(tt, "assignee_id"), roved_col(tt, "queue")};
    rove__value vals[2] = {found ? roved_text(to) : roved_text(NULL),
                           found ? roved_text(NULL) : roved_text("dispatcher")};
    rc = roved_store_row_write(r->db, tt, task_id, cols, vals, 2, r->actor->id, r->now, NULL);
    if (rc == 0) {
        json_t *diff = json_pack("{s:{s:s,s:s?},s:s?,s:s?}", "assignee_id", "old", r->from,
                                 "new", found ? to : NULL, "queue", found ? NULL : "dispatcher",
                                 "transfer", r->transfer_id);
        rc = diff ? roved_admin_audit(r->db, r->actor, "service_task", task_id, "transfer",
                                      diff, r->now)
                  : ROVE_ENOMEM;
        json_decref(diff);
    }
    if (rc == 0)
        rc = roved_store_scope_move(r->db, 't', task_id, r->now, "task_reassigned");
    if (rc == 0) {
        if (found)
            r->st->tasks++;
        else
            r->st->queued++;
    }
    return rc;
}

int roved_transfer_reassign_tasks(roved_db *db, const roved_user *actor, const char *user_id,
                                  const char *transfer_id, int64_t now, roved_move_stats *st)
{
    retask r = {db, actor, user_id, transfer_id, now, st};
    return roved_store_tasks_assigned(db, user_id, reassign_task, &r);
}

/*
 * The field domain's rules, enforced by roved whatever a device pushes
 * (docs/data-model.md): the visit and service task state machines, a
 * completed visit that keeps only its notes open, check-in verification
 * against the account's position, SLA due times from tier x priority, the
 * response / resolution / follow-up times, the account's last and next visit,
 * and server-owned stage and tier.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cases.h"
#include "harness.h"

typedef struct last_receipt {
    int n;
    rove_receipt_status status;
    char code[40];
    char message[200];
} last_receipt;

static int on_receipt(const rove_receipt *r, void *payload)
{
    last_receipt *l = payload;
    l->n++;
    l->status = r->status;
    snprintf(l->code, sizeof(l->code), "%s", r->error ? rove_error_name(r->error) : "");
    snprintf(l->message, sizeof(l->message), "%s", r->message ? r->message : "");
    return 0;
}

static rove_client *device(const th_server *s, const char *dir, const char *user,
                           last_receipt *l)
{
    char pw[40];
    snprintf(pw, sizeof(pw), "%s-demo", user);
    rove_client *c = th_client_open(s, dir, user);
    TH_ASSERT_ROVE(c, rove_client_login(c, user, pw));
    rove_client_on_receipt(c, on_receipt, l);
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    return c;
}

/* Writes one column through the generic record API (so the SDK's own state
 * checks do not stop what the server must refuse), then syncs; returns the
 * receipt status. */
static rove_receipt_status push_text(rove_client *c, last_receipt *l, const char *table,
                                     const char *id, const char *col, const char *value)
{
    rove_record *r = NULL;
    TH_ASSERT_ROVE(c, rove_client_get(c, &r, table, id));
    TH_ASSERT_ROVE(c, rove_record_set_text(r, col, value));
    TH_ASSERT_ROVE(c, rove_client_update(c, r));
    rove_record_free(r);
    l->n = 0;
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l->n, 1);
    return l->status;
}

/* Creates a service task with required skills through the generic API. */
static void new_task(rove_client *c, char *id_out, const char *acc, const char *title,
                     const char *priority, const char *skills)
{
    rove_record *r = NULL;
    TH_ASSERT_EQ(rove_record_new(&r, "service_task"), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "account_id", acc), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "type", "complaint"), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "priority", priority), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "title", title), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "required_skills", skills), 0);
    TH_ASSERT_ROVE(c, rove_client_insert(c, r));
    snprintf(id_out, ROVE_ID_SIZE, "%s", rove_record_id(r));
    rove_record_free(r);
}

static void expect_refused(rove_client *c, last_receipt *l, const char *table, const char *id,
                           const char *col, const char *value, const char *code)
{
    rove_receipt_status st = push_text(c, l, table, id, col, value);
    th_log("%s.%s = %s -> %d %s (%s)", table, col, value, st, l->code, l->message);
    TH_ASSERT_MSG(st == ROVE_RECEIPT_REJECTED, "%s.%s = %s was not refused", table, col, value);
    TH_ASSERT_STR(l->code, code);
}

/* Server-side database, read-only, for what devices never see (the audit). */
static sqlite3 *server_db(const th_server *s)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/rove.db", s->dir);
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

void test_integration__domain_visits(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("domain-visits");
    last_receipt l = {0};
    rove_client *c = device(s, dir, "rita", &l);
    const char *me = rove_client_user_id(c);

    /* A planned visit at an account with a known position. */
    char visit[ROVE_ID_SIZE], acc[ROVE_ID_SIZE];
    th_client_text(c,
                   "SELECT v.id FROM visit v JOIN account a ON a.id = v.account_id WHERE "
                   "v.status = 'planned' AND v.planned_for = ?1 AND a.lat IS NOT NULL "
                   "ORDER BY v.planned_start, v.id LIMIT 1",
                   me, visit, sizeof(visit));
    TH_ASSERT(visit[0] != '\0');
    th_client_text(c, "SELECT account_id FROM visit WHERE id = ?1", visit, acc, sizeof(acc));
    char lat_s[64], lon_s[64];
    th_client_text(c, "SELECT lat FROM account WHERE id = ?1", acc, lat_s, sizeof(lat_s));
    th_client_text(c, "SELECT lon FROM account WHERE id = ?1", acc, lon_s, sizeof(lon_s));
    double lat = atof(lat_s), lon = atof(lon_s);

    /* planned -> completed skips the check-in: refused, nothing applied. */
    expect_refused(c, &l, "visit", visit, "status", "completed", "invalid_transition");
    char st[32];
    th_client_text(c, "SELECT status FROM visit WHERE id = ?1", visit, st, sizeof(st));
    TH_ASSERT_STR(st, "planned");

    /* A check-in 30 m away: verified within range by the server. */
    TH_ASSERT_ROVE(c, rove_visit_check_in(c, visit, lat + 0.00027, lon));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l.status, ROVE_RECEIPT_APPLIED);
    char geo[32];
    th_client_text(c, "SELECT geo_check FROM visit WHERE id = ?1", visit, geo, sizeof(geo));
    TH_ASSERT_STR(geo, "within_range");
    char dist_s[64];
    th_client_text(c, "SELECT checkin_distance_m FROM visit WHERE id = ?1", visit, dist_s,
                   sizeof(dist_s));
    double dist = atof(dist_s);
    th_log("check-in 0.00027 deg north: %s at %.1f m", geo, dist);
    TH_ASSERT(dist > 20 && dist < 40);

    /* Check-out completes it; the account's last and next visit follow. */
    TH_ASSERT_ROVE(c, rove_visit_check_out(c, visit, lat, lon, "Ordered 10 cases", "first note",
                                           "Call back"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l.status, ROVE_RECEIPT_APPLIED);
    int64_t checkout = th_client_int(c, "SELECT checkout_at FROM visit WHERE id = ?1", visit);
    int64_t last = th_client_int(c, "SELECT last_visit_at FROM account WHERE id = ?1", acc);
    int64_t next = th_client_int(c, "SELECT next_visit_due FROM account WHERE id = ?1", acc);
    char tier[8];
    th_client_text(c, "SELECT tier FROM account WHERE id = ?1", acc, tier, sizeof(tier));
    int64_t freq =
        th_client_int(c, "SELECT coalesce(visit_freq_days, 0) FROM account WHERE id = ?1", acc);
    int64_t days = freq > 0               ? freq
                   : !strcmp(tier, "VIP") ? 7
                   : !strcmp(tier, "A")   ? 14
                   : !strcmp(tier, "B")   ? 30
                                          : 60;
    th_log("completed: last visit %lld, next due %lld (tier %s, %lld days)", (long long)last,
           (long long)next, tier, (long long)days);
    TH_ASSERT_EQ(last, checkout);
    TH_ASSERT_EQ(next, checkout + days * 86400000);

    /* Completed: the outcome is frozen, the notes stay open, no reopening. */
    expect_refused(c, &l, "visit", visit, "outcome", "Changed my mind", "invalid_transition");
    expect_refused(c, &l, "visit", visit, "status", "planned", "invalid_transition");
    TH_ASSERT_EQ(push_text(c, &l, "visit", visit, "notes", "first note\nsecond note"),
                 ROVE_RECEIPT_APPLIED);
    char outcome[64];
    th_client_text(c, "SELECT outcome FROM visit WHERE id = ?1", visit, outcome,
                   sizeof(outcome));
    TH_ASSERT_STR(outcome, "Ordered 10 cases");
    /* ...and it is never deleted: the delete is refused and undone on the
     * device. */
    l.n = 0;
    TH_ASSERT_ROVE(c, rove_client_delete(c, "visit", visit));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l.status, ROVE_RECEIPT_REJECTED);
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM visit WHERE id = ?1", visit), 1);

    /* Far away, and without any position but with a reason. */
    char v2[ROVE_ID_SIZE], v3[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(c, rove_visit_plan(c, v2, acc, NULL, "Far check-in", th_now_ms(), 0));
    TH_ASSERT_ROVE(c, rove_visit_plan(c, v3, acc, NULL, "No GPS", th_now_ms(), 0));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_ROVE(c, rove_visit_check_in(c, v2, lat + 0.1, lon));
    rove_record *r = NULL;
    TH_ASSERT_ROVE(c, rove_client_get(c, &r, "visit", v3));
    TH_ASSERT_ROVE(c, rove_record_set_text(r, "status", "checked_in"));
    TH_ASSERT_ROVE(c, rove_record_set_text(r, "geo_reason", "GPS lost in the basement"));
    TH_ASSERT_ROVE(c, rove_client_update(c, r));
    rove_record_free(r);
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    th_client_text(c, "SELECT geo_check FROM visit WHERE id = ?1", v2, geo, sizeof(geo));
    TH_ASSERT_STR(geo, "out_of_range");
    th_client_text(c, "SELECT geo_check FROM visit WHERE id = ?1", v3, geo, sizeof(geo));
    TH_ASSERT_STR(geo, "manual");
    TH_ASSERT_EQ(
        th_client_int(c, "SELECT checkin_distance_m IS NULL FROM visit WHERE id = ?1", v3), 1);

    /* The device cannot write what the server derives. */
    TH_ASSERT_EQ(rove_record_new(&r, "visit"), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "geo_check", "within_range"), ROVE_ESERVEROWNED);
    rove_record_free(r);

    /* The audit keeps old and new values of the check-in. */
    sqlite3 *db = server_db(s);
    int64_t with_old =
        th_db_int(db,
                  "SELECT count(*) FROM audit WHERE row_id = ?1 AND op = 'update' "
                  "AND json_extract(diff, '$.status.old') = 'planned' AND "
                  "json_extract(diff, '$.status.new') = 'checked_in' AND "
                  "json_extract(diff, '$.geo_check.new') = 'within_range'",
                  visit, NULL);
    TH_ASSERT_EQ(with_old, 1);
    sqlite3_close(db);

    rove_client_free(c);
    th_server_stop(s);
}

void test_integration__domain_tasks(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("domain-tasks");
    last_receipt lr = {0}, lt = {0};
    rove_client *rep = device(s, dir, "rita", &lr);
    rove_client *tech = device(s, dir, "tom", &lt);

    /* A rep reports a complaint needing refrigeration skills: the server sets
     * SLA dues from the account's tier and the priority, and assigns it to
     * the one technician who has them. */
    char acc[ROVE_ID_SIZE], task[ROVE_ID_SIZE], tier[8];
    th_client_text(rep, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
                   rove_client_user_id(rep), acc, sizeof(acc));
    th_client_text(rep, "SELECT tier FROM account WHERE id = ?1", acc, tier, sizeof(tier));
    int64_t t0 = th_now_ms();
    new_task(rep, task, acc, "Cooling unit noise", "urgent", "refrigeration:3");
    TH_ASSERT_ROVE(rep, rove_client_sync(rep, NULL));
    TH_ASSERT_EQ(lr.status, ROVE_RECEIPT_APPLIED);
    int64_t reported =
        th_client_int(rep, "SELECT reported_at FROM service_task WHERE id = ?1", task);
    int64_t resp =
        th_client_int(rep, "SELECT sla_response_due FROM service_task WHERE id = ?1", task);
    int64_t resolve =
        th_client_int(rep, "SELECT sla_resolve_due FROM service_task WHERE id = ?1", task);
    static const int urgent_h[4][2] = {{1, 4}, {2, 8}, {4, 24}, {8, 48}};
    int ti = !strcmp(tier, "VIP") ? 0 : !strcmp(tier, "A") ? 1 : !strcmp(tier, "B") ? 2 : 3;
    th_log("tier %s urgent complaint: response due +%.1f h, resolve due +%.1f h", tier,
           (double)(resp - reported) / 3.6e6, (double)(resolve - reported) / 3.6e6);
    TH_ASSERT(reported >= t0 - 1000 && reported <= th_now_ms());
    TH_ASSERT_EQ(resp - reported, (int64_t)urgent_h[ti][0] * 3600000);
    TH_ASSERT_EQ(resolve - reported, (int64_t)urgent_h[ti][1] * 3600000);
    char who[ROVE_ID_SIZE], st0[32];
    th_client_text(rep, "SELECT assignee_id FROM service_task WHERE id = ?1", task, who,
                   sizeof(who));
    TH_ASSERT_STR(who, rove_client_user_id(tech));
    th_client_text(rep, "SELECT status FROM service_task WHERE id = ?1", task, st0,
                   sizeof(st0));
    TH_ASSERT_STR(st0, "assigned");
    /* The priority drops to low: the SLA dues follow, from the same report
     * time. */
    TH_ASSERT_ROVE(rep, th_set_text(rep, "service_task", task, "priority", "low"));
    TH_ASSERT_ROVE(rep, rove_client_sync(rep, NULL));
    static const int low_h[4][2] = {{8, 48}, {24, 96}, {48, 168}, {72, 336}};
    TH_ASSERT_EQ(
        th_client_int(rep, "SELECT sla_resolve_due FROM service_task WHERE id = ?1", task) -
            reported,
        (int64_t)low_h[ti][1] * 3600000);
    TH_ASSERT_ROVE(rep, th_set_text(rep, "service_task", task, "priority", "urgent"));
    TH_ASSERT_ROVE(rep, rove_client_sync(rep, NULL));
    TH_ASSERT_EQ(
        th_client_int(rep, "SELECT sla_resolve_due FROM service_task WHERE id = ?1", task),
        resolve);
    /* ...and it reaches the technician's device with its account. */
    TH_ASSERT_ROVE(tech, rove_client_sync(tech, NULL));
    TH_ASSERT_EQ(th_client_int(tech, "SELECT count(*) FROM service_task WHERE id = ?1", task),
                 1);
    TH_ASSERT_EQ(th_client_int(tech, "SELECT count(*) FROM account WHERE id = ?1", acc), 1);

    /* Nobody has plumbing: the dispatcher queue. Tom absent: the queue too. */
    char nobody[ROVE_ID_SIZE], absent[ROVE_ID_SIZE], queue[32];
    new_task(rep, nobody, acc, "Leaking pipe", "high", "plumbing:2");
    char admin[128], code[64], body[200];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    snprintf(body, sizeof(body), "{\"from\":%lld,\"to\":%lld,\"reason\":\"leave\"}",
             (long long)(th_now_ms() - 60000), (long long)(th_now_ms() + 3600000));
    TH_ASSERT_EQ(
        th_admin_post(s, admin, "/v1/admin/users/tom/absences", body, code, sizeof(code)), 201);
    new_task(rep, absent, acc, "Freezer alarm", "urgent", "refrigeration:3");
    TH_ASSERT_ROVE(rep, rove_client_sync(rep, NULL));
    th_client_text(rep, "SELECT queue FROM service_task WHERE id = ?1", nobody, queue,
                   sizeof(queue));
    TH_ASSERT_STR(queue, "dispatcher");
    th_client_text(rep, "SELECT queue FROM service_task WHERE id = ?1", absent, queue,
                   sizeof(queue));
    TH_ASSERT_STR(queue, "dispatcher");
    TH_ASSERT_EQ(th_client_int(rep,
                               "SELECT count(*) FROM service_task WHERE id IN (?1) AND "
                               "assignee_id IS NULL",
                               absent),
                 1);
    th_resp qr;
    th_http(s, "GET", "/v1/admin/tasks/queue", admin, NULL, NULL, 0, &qr);
    TH_ASSERT_EQ(qr.status, 200);
    TH_ASSERT(strstr((const char *)qr.body.ptr, nobody) != NULL);
    TH_ASSERT(strstr((const char *)qr.body.ptr, absent) != NULL);
    th_resp_free(&qr);
    /* A manual assignment to someone without the skills is refused; to the
     * other technician (electrics, no plumbing) too; tara may take a task
     * that needs no skill she lacks. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/admin/tasks/%s/assign", nobody);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"to\":\"tara\"}", code, sizeof(code)), 400);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"to\":\"rita\"}", code, sizeof(code)), 400);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"auto\":true}", code, sizeof(code)), 200);
    TH_ASSERT_ROVE(rep, rove_client_sync(rep, NULL));
    TH_ASSERT_EQ(th_client_int(rep,
                               "SELECT count(*) FROM service_task WHERE id = ?1 AND "
                               "assignee_id IS NULL AND queue = 'dispatcher'",
                               nobody),
                 1);

    /* A task cannot be created already resolved. */
    rove_record *r = NULL;
    TH_ASSERT_EQ(rove_record_new(&r, "service_task"), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "account_id", acc), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "type", "request"), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "title", "Born resolved"), 0);
    TH_ASSERT_EQ(rove_record_set_text(r, "status", "resolved"), 0);
    TH_ASSERT_ROVE(rep, rove_client_insert(rep, r));
    rove_record_free(r);
    lr.n = 0;
    TH_ASSERT_ROVE(rep, rove_client_sync(rep, NULL));
    TH_ASSERT_EQ(lr.status, ROVE_RECEIPT_REJECTED);
    TH_ASSERT_STR(lr.code, "invalid_transition");

    /* The technician works one of their tasks. */
    char mine[ROVE_ID_SIZE], st[32];
    th_client_text(tech,
                   "SELECT id FROM service_task WHERE assignee_id = ?1 AND status IN "
                   "('assigned', 'new', 'scheduled') ORDER BY id LIMIT 1",
                   rove_client_user_id(tech), mine, sizeof(mine));
    TH_ASSERT(mine[0] != '\0');
    expect_refused(tech, &lt, "service_task", mine, "status", "closed", "invalid_transition");
    int64_t before = th_now_ms();
    TH_ASSERT_ROVE(tech, rove_task_set_status(tech, mine, "in_progress", NULL));
    TH_ASSERT_ROVE(tech, rove_client_sync(tech, NULL));
    int64_t first =
        th_client_int(tech, "SELECT first_response_at FROM service_task WHERE id = ?1", mine);
    TH_ASSERT(first >= before - 1000 && first <= th_now_ms());
    TH_ASSERT_ROVE(tech, rove_task_set_status(tech, mine, "resolved", "Replaced the seal"));
    TH_ASSERT_ROVE(tech, rove_client_sync(tech, NULL));
    TH_ASSERT_EQ(lt.status, ROVE_RECEIPT_APPLIED);
    int64_t resolved =
        th_client_int(tech, "SELECT resolved_at FROM service_task WHERE id = ?1", mine);
    int64_t followup =
        th_client_int(tech, "SELECT followup_due FROM service_task WHERE id = ?1", mine);
    TH_ASSERT(resolved >= first);
    TH_ASSERT_EQ(followup, resolved + 3 * 86400000ll);
    TH_ASSERT_EQ(
        th_client_int(tech, "SELECT first_response_at FROM service_task WHERE id = ?1", mine),
        first);

    /* Closing needs a reason; satisfaction is 1..5; closed is final. */
    expect_refused(tech, &lt, "service_task", mine, "status", "closed", "invalid_value");
    TH_ASSERT_ROVE(tech, rove_client_get(tech, &r, "service_task", mine));
    TH_ASSERT_ROVE(tech, rove_record_set_int(r, "satisfaction", 9));
    TH_ASSERT_ROVE(tech, rove_client_update(tech, r));
    rove_record_free(r);
    lt.n = 0;
    TH_ASSERT_ROVE(tech, rove_client_sync(tech, NULL));
    TH_ASSERT_EQ(lt.status, ROVE_RECEIPT_REJECTED);
    TH_ASSERT_STR(lt.code, "invalid_value");
    TH_ASSERT_ROVE(tech, rove_client_get(tech, &r, "service_task", mine));
    TH_ASSERT_ROVE(tech, rove_record_set_text(r, "status", "closed"));
    TH_ASSERT_ROVE(tech, rove_record_set_text(r, "close_reason", "fixed"));
    TH_ASSERT_ROVE(tech, rove_record_set_int(r, "satisfaction", 5));
    TH_ASSERT_ROVE(tech, rove_client_update(tech, r));
    rove_record_free(r);
    lt.n = 0;
    TH_ASSERT_ROVE(tech, rove_client_sync(tech, NULL));
    TH_ASSERT_EQ(lt.status, ROVE_RECEIPT_APPLIED);
    expect_refused(tech, &lt, "service_task", mine, "status", "in_progress",
                   "invalid_transition");
    expect_refused(tech, &lt, "service_task", mine, "resolution", "rewritten",
                   "invalid_transition");
    th_client_text(tech, "SELECT status FROM service_task WHERE id = ?1", mine, st, sizeof(st));
    TH_ASSERT_STR(st, "closed");

    rove_client_free(rep);
    rove_client_free(tech);
    th_server_stop(s);
}

/*
 * Lifecycle stage and value tier change only through server commands: a
 * stage change leaves a history row the rep's device pulls; a tier change
 * re-derives the SLA due times of the account's open tasks. Refusals change
 * nothing.
 */
void test_integration__domain_stage_tier(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("domain-stage");
    last_receipt l = {0};
    rove_client *c = device(s, dir, "rita", &l);
    char acc[ROVE_ID_SIZE], stage[32], tier[8];
    th_client_text(c, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1",
                   rove_client_user_id(c), acc, sizeof(acc));
    th_client_text(c, "SELECT stage FROM account WHERE id = ?1", acc, stage, sizeof(stage));
    th_client_text(c, "SELECT tier FROM account WHERE id = ?1", acc, tier, sizeof(tier));
    const char *to_stage = strcmp(stage, "ordered") == 0 ? "user" : "ordered";
    const char *to_tier = strcmp(tier, "VIP") == 0 ? "A" : "VIP";

    /* The rep sets the account's own visit frequency: its next visit due
     * follows from the last visit. */
    {
        char visited[ROVE_ID_SIZE];
        th_client_text(c,
                       "SELECT id FROM account WHERE owner_id = ?1 AND last_visit_at > 0 "
                       "ORDER BY id LIMIT 1",
                       rove_client_user_id(c), visited, sizeof(visited));
        TH_ASSERT(visited[0] != '\0');
        int64_t last =
            th_client_int(c, "SELECT last_visit_at FROM account WHERE id = ?1", visited);
        rove_record *r = NULL;
        TH_ASSERT_ROVE(c, rove_client_get(c, &r, "account", visited));
        TH_ASSERT_ROVE(c, rove_record_set_int(r, "visit_freq_days", 3));
        TH_ASSERT_ROVE(c, rove_client_update(c, r));
        rove_record_free(r);
        TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
        TH_ASSERT_EQ(
            th_client_int(c, "SELECT next_visit_due FROM account WHERE id = ?1", visited),
            last + 3LL * 86400000);
    }

    char admin[128], code[64], body[200], path[128];
    th_admin_login(s, "admin", "admin-demo", admin, sizeof(admin));
    snprintf(path, sizeof(path), "/v1/admin/accounts/%s/stage", acc);
    snprintf(body, sizeof(body), "{\"stage\":\"%s\",\"reason\":\"signed the order\"}",
             to_stage);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 409);
    TH_ASSERT_STR(code, "invalid_transition");
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"stage\":\"bogus\"}", code, sizeof(code)),
                 400);
    TH_ASSERT_EQ(th_admin_post(s, admin, "/v1/admin/accounts/01ZZZZZZZZZZZZZZZZZZZZZZZZ/stage",
                               body, code, sizeof(code)),
                 404);

    /* An open task of the account, to watch its SLA follow the tier. */
    char task[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(c, rove_task_create(c, task, acc, "request", "high", "Quote", NULL));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    int64_t reported =
        th_client_int(c, "SELECT reported_at FROM service_task WHERE id = ?1", task);
    snprintf(path, sizeof(path), "/v1/admin/accounts/%s/tier", acc);
    snprintf(body, sizeof(body), "{\"tier\":\"%s\"}", to_tier);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, body, code, sizeof(code)), 200);
    TH_ASSERT_EQ(th_admin_post(s, admin, path, "{\"tier\":\"Z\"}", code, sizeof(code)), 400);

    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    th_client_text(c, "SELECT stage FROM account WHERE id = ?1", acc, stage, sizeof(stage));
    TH_ASSERT_STR(stage, to_stage);
    th_client_text(c, "SELECT tier FROM account WHERE id = ?1", acc, tier, sizeof(tier));
    TH_ASSERT_STR(tier, to_tier);
    TH_ASSERT_EQ(th_client_int(c,
                               "SELECT count(*) FROM stage_change WHERE account_id = ?1 AND "
                               "to_stage = (SELECT stage FROM account WHERE id = ?1) AND "
                               "reason = 'signed the order' AND changed_at > 0",
                               acc),
                 1);
    /* High priority: VIP 2 h / 8 h, A 4 h / 24 h. */
    int64_t resp =
        th_client_int(c, "SELECT sla_response_due FROM service_task WHERE id = ?1", task);
    int64_t want = strcmp(to_tier, "VIP") == 0 ? 2 : 4;
    th_log("tier %s: high-priority response due +%.1f h", to_tier,
           (double)(resp - reported) / 3.6e6);
    TH_ASSERT_EQ(resp - reported, want * 3600000);

    /* The device may not write them. */
    rove_record *r = NULL;
    TH_ASSERT_ROVE(c, rove_client_get(c, &r, "account", acc));
    TH_ASSERT_EQ(rove_record_set_text(r, "stage", "churned"), ROVE_ESERVEROWNED);
    TH_ASSERT_EQ(rove_record_set_text(r, "tier", "C"), ROVE_ESERVEROWNED);
    rove_record_free(r);

    /* Technicians never see the stage history. */
    last_receipt lt = {0};
    rove_client *tech = device(s, dir, "tom", &lt);
    TH_ASSERT_EQ(th_client_int(tech, "SELECT count(*) FROM stage_change", NULL), 0);
    rove_client_free(tech);
    rove_client_free(c);
    th_server_stop(s);
}

/* Reads all rows of q into a text dump (column 0 of each row, one per line). */
static int count_rows(rove_rows *q, int col, const char *equal)
{
    int n = 0, rc;
    while ((rc = rove_rows_next(q)) == 1)
        if (equal == NULL || (rove_rows_text(q, col) && !strcmp(rove_rows_text(q, col), equal)))
            n++;
    TH_ASSERT_EQ(rc, 0);
    rove_rows_free(q);
    return n;
}

/*
 * The field app's view of the day, after a sync: today's plan (overdue, the
 * day's visits, accounts due by cadence), open tasks by SLA urgency and the
 * follow-ups due, each driven by what the server derived.
 */
void test_integration__domain_day_helpers(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("domain-day");
    last_receipt l = {0};
    rove_client *c = device(s, dir, "rita", &l);
    const char *me = rove_client_user_id(c);

    rove_rows *q = NULL;
    TH_ASSERT_ROVE(c, rove_plan_today(c, &q, 0));
    int planned = count_rows(q, 0, "planned");
    int64_t today_db = th_client_int(
        c,
        "SELECT count(*) FROM visit WHERE planned_for = ?1 AND status NOT IN ('cancelled', "
        "'missed') AND date(planned_start / 1000, 'unixepoch', 'localtime') = "
        "date('now', 'localtime')",
        me);
    th_log("today's plan: %d planned visits (replica: %lld)", planned, (long long)today_db);
    TH_ASSERT_EQ(planned, today_db);
    TH_ASSERT(planned > 0);

    /* An overdue visit: planned yesterday, never done. */
    char acc[ROVE_ID_SIZE], late[ROVE_ID_SIZE];
    th_client_text(c, "SELECT id FROM account WHERE owner_id = ?1 ORDER BY id LIMIT 1", me, acc,
                   sizeof(acc));
    TH_ASSERT_ROVE(
        c, rove_visit_plan(c, late, acc, NULL, "Yesterday's", th_now_ms() - 86400000 * 2, 0));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_ROVE(c, rove_plan_today(c, &q, 0));
    int overdue_first = 0, n = 0, rc;
    while ((rc = rove_rows_next(q)) == 1) {
        if (n++ == 0)
            overdue_first = !strcmp(rove_rows_text(q, 0), "overdue");
        if (!strcmp(rove_rows_text(q, 0), "cadence_due"))
            TH_ASSERT(rove_rows_is_null(q, 1));
    }
    rove_rows_free(q);
    TH_ASSERT(overdue_first);

    /* Cadence: accounts of mine whose next visit is due, none planned. */
    int64_t due_db = th_client_int(
        c,
        "SELECT count(*) FROM account a WHERE a.owner_id = ?1 AND a.next_visit_due < "
        "(strftime('%s', date('now', 'localtime', '+1 day'), 'utc') * 1000) AND NOT EXISTS "
        "(SELECT 1 FROM visit p WHERE p.account_id = a.id AND p.status IN ('planned', "
        "'needs_replan', 'checked_in') AND p.planned_start >= (strftime('%s', date('now', "
        "'localtime'), 'utc') * 1000))",
        me);
    TH_ASSERT_ROVE(c, rove_plan_today(c, &q, 0));
    int due = count_rows(q, 0, "cadence_due");
    th_log("accounts due by cadence: %d (replica: %lld)", due, (long long)due_db);
    TH_ASSERT_EQ(due, due_db);

    /* Urgency: breached before due_soon before ok, most urgent first. */
    char task[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(c, rove_task_create(c, task, acc, "request", "low", "Brochures", NULL));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_ROVE(c, rove_tasks_by_urgency(c, &q, 0));
    int64_t prev = INT64_MIN;
    int found = 0, rank_prev = 0;
    while ((rc = rove_rows_next(q)) == 1) {
        const char *u = rove_rows_text(q, 9);
        int rank = !strcmp(u, "breached")   ? 0
                   : !strcmp(u, "due_soon") ? 1
                   : !strcmp(u, "ok")       ? 2
                                            : 3;
        TH_ASSERT_MSG(rank >= rank_prev, "urgency %s after a less urgent task", u);
        rank_prev = rank;
        if (!rove_rows_is_null(q, 7)) {
            TH_ASSERT(rove_rows_int(q, 7) >= prev);
            prev = rove_rows_int(q, 7);
        }
        if (!strcmp(rove_rows_text(q, 0), task)) {
            found = 1;
            TH_ASSERT_STR(u, "ok");
            TH_ASSERT_STR(rove_rows_text(q, 10), "response");
        }
    }
    rove_rows_free(q);
    TH_ASSERT(found);

    /* Follow-ups: due three days after the resolution. */
    TH_ASSERT_ROVE(c, rove_task_set_status(c, task, "in_progress", NULL));
    TH_ASSERT_ROVE(c, rove_task_set_status(c, task, "resolved", "Sent them"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_ROVE(c, rove_followups_due(c, &q, 0));
    TH_ASSERT_EQ(count_rows(q, 0, task), 0);
    TH_ASSERT_ROVE(c, rove_followups_due(c, &q, th_now_ms() + 4 * 86400000ll));
    TH_ASSERT_EQ(count_rows(q, 0, task), 1);

    TH_ASSERT_ROVE(c, rove_task_close(c, task, "sent and confirmed", 4));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l.status, ROVE_RECEIPT_APPLIED);
    TH_ASSERT_EQ(rove_task_close(c, task, "again", 4), ROVE_ESTATE);

    /* A visit not met is marked missed, replanned, and checked in by hand. */
    char v[ROVE_ID_SIZE];
    TH_ASSERT_ROVE(c, rove_visit_plan(c, v, acc, NULL, "Demo", th_now_ms() + 3600000, 0));
    TH_ASSERT_ROVE(c, rove_visit_mark_missed(c, v));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l.status, ROVE_RECEIPT_APPLIED);
    TH_ASSERT_ROVE(c, rove_visit_replan(c, v, th_now_ms() + 7200000, 0));
    TH_ASSERT_ROVE(c, rove_visit_check_in_manual(c, v, "GPS lost in the basement"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(l.status, ROVE_RECEIPT_APPLIED);
    char geo[32];
    th_client_text(c, "SELECT geo_check FROM visit WHERE id = ?1", v, geo, sizeof(geo));
    TH_ASSERT_STR(geo, "manual");
    TH_ASSERT_EQ(rove_visit_mark_missed(c, v), ROVE_ESTATE);

    rove_client_free(c);
    th_server_stop(s);
}

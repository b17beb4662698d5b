/*
 * field-day: a short scripted day in the field, played by simulated devices
 * against a running roved, printed as a readable report.
 *
 *   field-day --server https://localhost:8443 --ca rove-data/ca.pem --dir /tmp/fd
 *
 * Rita (rep) has a tablet and a phone, Raj is a rep, Tom a technician. They sync
 * in the morning, lose signal, work offline (check-ins, outcomes, new contacts and
 * accounts, a service task resolved), come back and sync, and Rita's phone picks
 * up what her tablet did. Every step checks its outcome; the exit status is
 * nonzero if any check fails, so the day doubles as a smoke test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rove/rove.h"

struct device {
    const char *label;
    const char *user;
    const char *password;
    rove_client *c;
    rove_sync_report total;
    unsigned rejected_receipts;
};

static const char *server_url = "https://localhost:8443";
static const char *ca_file = NULL;
static const char *dir = "field-day";
static int failures;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static void check(int ok, const char *what)
{
    say("    %s %s\n", ok ? "[ok]  " : "[FAIL]", what);
    if (!ok)
        failures++;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int64_t wall_ms(void) { return (int64_t)time(NULL) * 1000; }

static int fail(struct device *d, int rc, const char *what)
{
    say("    [FAIL] %s: %s: %s (%s)\n", d->label, what, rove_strerror(rc),
        d->c ? rove_client_errmsg(d->c) : rove_last_open_error());
    failures++;
    return rc;
}

static int on_receipt(const rove_receipt *r, void *payload)
{
    struct device *d = payload;
    if (r->status == ROVE_RECEIPT_REJECTED || r->status == ROVE_RECEIPT_QUARANTINED) {
        d->rejected_receipts++;
        say("      receipt: %s %s %s -> %s (%s)\n", r->table, r->record_id,
            r->status == ROVE_RECEIPT_REJECTED ? "rejected" : "quarantined",
            rove_error_name(r->error), r->message ? r->message : "");
    }
    return 0;
}

static int open_device(struct device *d)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.db", dir, d->label);
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = path;
    o.server_url = server_url;
    o.ca_file = ca_file;
    o.device_name = d->label;
    int rc = rove_client_open(&d->c, &o);
    if (rc != 0)
        return fail(d, rc, "open replica");
    rove_client_on_receipt(d->c, on_receipt, d);
    return 0;
}

static int sync_device(struct device *d, const char *why)
{
    rove_sync_report rep;
    double t0 = now_ms();
    int rc = rove_client_sync(d->c, &rep);
    double ms = now_ms() - t0;
    if (rc != 0)
        return fail(d, rc, "sync");
    d->total.pushed += rep.pushed;
    d->total.applied += rep.applied;
    d->total.rejected += rep.rejected;
    d->total.pulled += rep.pulled;
    d->total.round_trips += rep.round_trips;
    say("    %-12s %-22s pushed %3llu (applied %llu, rejected %llu)  pulled %5llu rows  "
        "%u round trips  %7.1f ms\n",
        d->label, why, (unsigned long long)rep.pushed, (unsigned long long)rep.applied,
        (unsigned long long)rep.rejected, (unsigned long long)rep.pulled, rep.round_trips, ms);
    return 0;
}

static int64_t count(struct device *d, const char *sql, const char *param)
{
    rove_rows *q = NULL;
    const char *params[1] = {param};
    int64_t n = -1;
    if (rove_client_query(d->c, &q, sql, param ? params : NULL, param ? 1 : 0) == 0 &&
        rove_rows_next(q) == 1)
        n = rove_rows_int(q, 0);
    rove_rows_free(q);
    return n;
}

/* Copies the first column of the first row of sql into out. */
static int first_text(struct device *d, const char *sql, const char *param, char *out,
                      size_t size)
{
    rove_rows *q = NULL;
    const char *params[1] = {param};
    int found = 0;
    out[0] = 0;
    if (rove_client_query(d->c, &q, sql, param ? params : NULL, param ? 1 : 0) == 0 &&
        rove_rows_next(q) == 1 && !rove_rows_is_null(q, 0)) {
        snprintf(out, size, "%s", rove_rows_text(q, 0));
        found = 1;
    }
    rove_rows_free(q);
    return found;
}

static int64_t replica_rows(struct device *d)
{
    return count(d,
                 "SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM contact) + "
                 "(SELECT count(*) FROM visit) + (SELECT count(*) FROM service_task)",
                 NULL);
}

static int update_fields(struct device *d, const char *table, const char *id,
                         int (*edit)(rove_record *r, void *arg), void *arg)
{
    rove_record *r = NULL;
    int rc = rove_client_get(d->c, &r, table, id);
    if (rc == 0)
        rc = edit(r, arg);
    if (rc == 0)
        rc = rove_client_update(d->c, r);
    rove_record_free(r);
    return rc;
}

struct geo {
    double lat, lon;
    const char *outcome;
};

static int edit_check_in(rove_record *r, void *arg)
{
    struct geo *g = arg;
    int rc = rove_record_set_text(r, "status", "checked_in");
    if (rc == 0)
        rc = rove_record_set_int(r, "checkin_at", wall_ms());
    if (rc == 0)
        rc = rove_record_set_real(r, "checkin_lat", g->lat);
    if (rc == 0)
        rc = rove_record_set_real(r, "checkin_lon", g->lon);
    return rc;
}

static int edit_check_out(rove_record *r, void *arg)
{
    struct geo *g = arg;
    int rc = rove_record_set_text(r, "status", "completed");
    if (rc == 0)
        rc = rove_record_set_int(r, "checkout_at", wall_ms() + 40 * 60 * 1000);
    if (rc == 0)
        rc = rove_record_set_real(r, "checkout_lat", g->lat);
    if (rc == 0)
        rc = rove_record_set_real(r, "checkout_lon", g->lon);
    if (rc == 0)
        rc = rove_record_set_text(r, "outcome", g->outcome);
    if (rc == 0)
        rc = rove_record_set_text(r, "next_action", "Send the quote for the spring order");
    return rc;
}

static int edit_task_status(rove_record *r, void *arg)
{
    /* Response and resolution times are derived by the server from the time
     * of these changes. */
    int rc = rove_record_set_text(r, "status", (const char *)arg);
    if (rc == 0 && strcmp((const char *)arg, "resolved") == 0)
        rc = rove_record_set_text(r, "resolution", "Replaced the pump seal; tested OK");
    return rc;
}

static int edit_tier(rove_record *r, void *arg)
{
    return rove_record_set_text(r, "tier", "VIP");
}

static void usage(void)
{
    fprintf(stderr, "usage: field-day --server URL --ca FILE [--dir DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            server_url = argv[++i];
        else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
            ca_file = argv[++i];
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else
            usage();
    }
    mkdir(dir, 0700);
    rove_global_init();

    struct device rita = {"rita-tablet", "rita", "rita-demo"};
    struct device phone = {"rita-phone", "rita", "rita-demo"};
    struct device raj = {"raj-tablet", "raj", "raj-demo"};
    struct device tom = {"tom-phone", "tom", "tom-demo"};
    struct device *team[] = {&rita, &raj, &tom};
    char visit_id[64] = "", account_id[64] = "", task_id[64] = "", contact_id[64] = "";
    char new_account[64] = "";
    int rc;

    say("Rove field day against %s\n\n", server_url);
    say("07:30  Morning: everyone logs in and syncs over the depot Wi-Fi\n");
    for (size_t i = 0; i < 3; i++) {
        struct device *d = team[i];
        if (open_device(d) != 0)
            goto done;
        if ((rc = rove_client_login(d->c, d->user, d->password)) != 0) {
            fail(d, rc, "login");
            goto done;
        }
        if (sync_device(d, "bootstrap") != 0)
            goto done;
    }
    check(count(&rita, "SELECT count(*) FROM account WHERE owner_id = ?1",
                rove_client_user_id(rita.c)) > 0,
          "Rita's replica holds the accounts she owns");
    check(count(&rita, "SELECT count(*) FROM account WHERE owner_id <> ?1",
                rove_client_user_id(rita.c)) > 0,
          "...and her territory colleagues' accounts (she is a North rep)");
    check(count(&rita,
                "SELECT count(*) FROM account WHERE owner_id <> ?1 AND territory_id NOT IN "
                "(SELECT territory_id FROM account WHERE owner_id = ?1)",
                rove_client_user_id(rita.c)) == 0,
          "...and nothing from other territories");
    check(count(&tom, "SELECT count(*) FROM service_task WHERE assignee_id <> ?1",
                rove_client_user_id(tom.c)) == 0 &&
              count(&tom, "SELECT count(*) FROM service_task", NULL) > 0,
          "Tom's replica holds only the service tasks assigned to him");
    check(count(&tom, "SELECT count(*) FROM account WHERE discount_pct IS NOT NULL", NULL) == 0,
          "Tom (technician) never receives negotiated discounts");

    say("\n09:10  Out of coverage: the team works offline\n");
    /* Rita: first planned visit, check in and out, record the outcome. */
    first_text(&rita,
               "SELECT id FROM visit WHERE planned_for = ?1 AND status = 'planned' "
               "ORDER BY planned_start LIMIT 1",
               rove_client_user_id(rita.c), visit_id, sizeof(visit_id));
    check(visit_id[0] != 0, "Rita has a planned visit today");
    if (visit_id[0] != 0) {
        first_text(&rita, "SELECT account_id FROM visit WHERE id = ?1", visit_id, account_id,
                   sizeof(account_id));
        struct geo g = {52.3702, 4.8952, "Ordered 20 cases; asked for a tasting in March"};
        rc = update_fields(&rita, "visit", visit_id, edit_check_in, &g);
        check(rc == 0, "Rita checks in at her first customer (geo recorded)");
        rc = update_fields(&rita, "visit", visit_id, edit_check_out, &g);
        check(rc == 0, "Rita checks out and logs the outcome and next action");
        rove_record *ct = NULL;
        rc = rove_record_new(&ct, "contact");
        if (rc == 0)
            rc = rove_record_set_text(ct, "account_id", account_id);
        if (rc == 0)
            rc = rove_record_set_text(ct, "name", "Jonas Verhoeven");
        if (rc == 0)
            rc = rove_record_set_text(ct, "title", "Purchasing lead");
        if (rc == 0)
            rc = rove_record_set_text(ct, "email", "jonas@example.com");
        if (rc == 0)
            rc = rove_client_insert(rita.c, ct);
        if (rc == 0)
            snprintf(contact_id, sizeof(contact_id), "%s", rove_record_id(ct));
        rove_record_free(ct);
        check(rc == 0, "Rita adds the new purchasing lead as a contact");
        rc = update_fields(&rita, "account", account_id, edit_tier, NULL);
        check(rc == ROVE_ESERVEROWNED,
              "Rita cannot promote the account to VIP herself (tier is server-owned)");
    }
    /* Raj: a new prospect walked in. */
    {
        rove_record *a = NULL;
        rc = rove_record_new(&a, "account");
        if (rc == 0)
            rc = rove_record_set_text(a, "name", "Corner Cafe De Pijp");
        if (rc == 0)
            rc = rove_record_set_text(a, "source_channel", "face_to_face");
        if (rc == 0)
            rc = rove_record_set_text(a, "address", "Albert Cuypstraat 12, Amsterdam");
        if (rc == 0)
            rc = rove_record_set_real(a, "lat", 52.3556);
        if (rc == 0)
            rc = rove_record_set_real(a, "lon", 4.8936);
        if (rc == 0)
            rc = rove_client_insert(raj.c, a);
        if (rc == 0)
            snprintf(new_account, sizeof(new_account), "%s", rove_record_id(a));
        rove_record_free(a);
        check(rc == 0, "Raj registers a walk-in prospect as a new account");
        rove_record *v = NULL;
        rc = rove_record_new(&v, "visit");
        if (rc == 0)
            rc = rove_record_set_text(v, "account_id", new_account);
        if (rc == 0)
            rc = rove_record_set_text(v, "planned_for", rove_client_user_id(raj.c));
        if (rc == 0)
            rc = rove_record_set_text(v, "purpose", "First presentation");
        if (rc == 0)
            rc = rove_record_set_int(v, "planned_start", wall_ms() + 24 * 3600 * 1000);
        if (rc == 0)
            rc = rove_record_set_int(v, "planned_end", wall_ms() + 25 * 3600 * 1000);
        if (rc == 0)
            rc = rove_record_set_text(v, "status", "planned");
        if (rc == 0)
            rc = rove_client_insert(raj.c, v);
        rove_record_free(v);
        check(rc == 0, "Raj plans a first visit there for tomorrow");
    }
    /* Tom: works his first open task. */
    first_text(&tom,
               "SELECT id FROM service_task WHERE status IN ('new','assigned','scheduled') "
               "ORDER BY sla_resolve_due LIMIT 1",
               NULL, task_id, sizeof(task_id));
    check(task_id[0] != 0, "Tom has an open service task");
    if (task_id[0] != 0) {
        rc = update_fields(&tom, "service_task", task_id, edit_task_status, "in_progress");
        check(rc == 0, "Tom starts the job (in progress)");
        rc = update_fields(&tom, "service_task", task_id, edit_task_status, "resolved");
        check(rc == 0, "Tom resolves it with a resolution note");
    }
    for (size_t i = 0; i < 3; i++) {
        uint64_t pending = 0;
        rove_client_pending(team[i]->c, &pending);
        say("    %-12s %llu changes waiting in the outbox\n", team[i]->label,
            (unsigned long long)pending);
    }

    say("\n12:30  Back in coverage: everyone syncs\n");
    for (size_t i = 0; i < 3; i++)
        if (sync_device(team[i], "catch-up") != 0)
            goto done;
    for (size_t i = 0; i < 3; i++) {
        uint64_t pending = 1;
        rove_client_pending(team[i]->c, &pending);
        check(pending == 0, "outbox empty after sync, every change has a receipt");
    }
    check(rita.rejected_receipts + raj.rejected_receipts + tom.rejected_receipts == 0,
          "no change was rejected");
    if (new_account[0] != 0)
        check(count(&raj,
                    "SELECT count(*) FROM account WHERE id = ?1 AND version > 0 "
                    "AND owner_id IS NOT NULL",
                    new_account) == 1,
              "Raj's new account is owned by him on the server (version assigned)");

    say("\n13:00  Rita's phone: a second device logs in and catches up\n");
    if (open_device(&phone) != 0)
        goto done;
    if ((rc = rove_client_login(phone.c, phone.user, phone.password)) != 0) {
        fail(&phone, rc, "login");
        goto done;
    }
    if (sync_device(&phone, "bootstrap") != 0)
        goto done;
    if (visit_id[0] != 0) {
        char outcome[256];
        first_text(&phone, "SELECT outcome FROM visit WHERE id = ?1 AND status = 'completed'",
                   visit_id, outcome, sizeof(outcome));
        check(strstr(outcome, "Ordered 20 cases") != NULL,
              "the phone shows the visit outcome logged offline on the tablet");
        check(count(&phone, "SELECT count(*) FROM contact WHERE id = ?1", contact_id) == 1,
              "the phone has the contact Rita added offline");
    }
    /* Raj's walk-in account is in the North territory too: the tablet, which
     * synced before Raj did, picks it up on its next sync. */
    if (sync_device(&rita, "afternoon") != 0)
        goto done;
    if (new_account[0] != 0)
        check(count(&rita, "SELECT count(*) FROM account WHERE id = ?1", new_account) == 1,
              "Rita's tablet now shows Raj's walk-in account (same territory)");
    check(replica_rows(&phone) == replica_rows(&rita),
          "tablet and phone hold the same rows (including Raj's new North account)");

    say("\n17:30  End of day\n");
    struct device *all[] = {&rita, &phone, &raj, &tom};
    say("    %-12s %-6s %8s %8s %8s %8s %8s\n", "device", "user", "pushed", "applied",
        "rejected", "pulled", "replica");
    for (size_t i = 0; i < 4; i++)
        say("    %-12s %-6s %8llu %8llu %8llu %8llu %8lld\n", all[i]->label, all[i]->user,
            (unsigned long long)all[i]->total.pushed, (unsigned long long)all[i]->total.applied,
            (unsigned long long)all[i]->total.rejected,
            (unsigned long long)all[i]->total.pulled, (long long)replica_rows(all[i]));

done:
    rove_client_free(rita.c);
    rove_client_free(phone.c);
    rove_client_free(raj.c);
    rove_client_free(tom.c);
    rove_global_cleanup();
    say("\n%s: %d failed check%s\n", failures ? "FIELD DAY FAILED" : "Field day complete",
        failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}

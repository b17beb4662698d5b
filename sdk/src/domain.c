/* Typed helpers for a field app (rove/domain.h), built on the record API. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int geo_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0;
}

/* Great-circle distance in metres. */
static double distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371000.0, rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}

static int empty(const char *s) { return s == NULL || s[0] == 0; }

/* Maps a setter failure to a message on the client. */
static int set_err(rove_client *c, int rc, const char *table, const char *col)
{
    if (rc == 0)
        return 0;
    return rove__client_error(c, rc, "%s.%s: %s", table, col, rove_strerror(rc));
}

#define SET(call, tbl, col)                                                                    \
    do {                                                                                       \
        rc = set_err(c, (call), (tbl), (col));                                                 \
        if (rc != 0)                                                                           \
            goto cleanup;                                                                      \
    } while (0)

/*
 * A provisional value of a server-derived column (geo_check, last_visit_at,
 * first_response_at, ...): written into the replica only, never pushed, so
 * the app shows it offline; the server's own value replaces it at the next
 * pull. table and col are constants of this file.
 */
static int set_local(rove_client *c, const char *table, const char *id, const char *col,
                     const char *text, int64_t num)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ?1 WHERE id = ?2", table, col);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (text != NULL)
            sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 1, num);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rove__client_sqlerr(c, c->db, rc, "provisional value");
}

static int must_exist(rove_client *c, const char *table, const char *id)
{
    rove_record *r = NULL;
    int rc = rove_client_get(c, &r, table, id);
    rove_record_free(r);
    return rc;
}

static int insert_record(rove_client *c, rove_record *r, char *id_out)
{
    int rc = rove_client_insert(c, r);
    if (rc == 0 && id_out != NULL)
        memcpy(id_out, rove_record_id(r), ROVE_ID_SIZE);
    return rc;
}

int rove_account_create(rove_client *c, char *id_out, const char *name, const char *address,
                        const char *phone, double lat, double lon)
{
    rove_record *r = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(name))
        return rove__client_error(c, ROVE_EINVAL, "an account needs a name");
    if ((rc = rove_record_new(&r, "account")) != 0)
        return rove__client_error(c, rc, "out of memory");
    SET(rove_record_set_text(r, "name", name), "account", "name");
    if (address)
        SET(rove_record_set_text(r, "address", address), "account", "address");
    if (phone)
        SET(rove_record_set_text(r, "phone", phone), "account", "phone");
    if (geo_ok(lat, lon)) {
        SET(rove_record_set_real(r, "lat", lat), "account", "lat");
        SET(rove_record_set_real(r, "lon", lon), "account", "lon");
    }
    rc = insert_record(c, r, id_out);
cleanup:
    rove_record_free(r);
    return rc;
}

int rove_contact_create(rove_client *c, char *id_out, const char *account_id, const char *name,
                        const char *title, const char *phone, const char *email, int is_primary)
{
    rove_record *r = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(name) || empty(account_id))
        return rove__client_error(c, ROVE_EINVAL, "a contact needs an account and a name");
    ROVE_TRY(must_exist(c, "account", account_id));
    if ((rc = rove_record_new(&r, "contact")) != 0)
        return rove__client_error(c, rc, "out of memory");
    SET(rove_record_set_text(r, "account_id", account_id), "contact", "account_id");
    SET(rove_record_set_text(r, "name", name), "contact", "name");
    if (title)
        SET(rove_record_set_text(r, "title", title), "contact", "title");
    if (phone)
        SET(rove_record_set_text(r, "phone", phone), "contact", "phone");
    if (email)
        SET(rove_record_set_text(r, "email", email), "contact", "email");
    SET(rove_record_set_int(r, "is_primary", is_primary ? 1 : 0), "contact", "is_primary");
    rc = insert_record(c, r, id_out);
cleanup:
    rove_record_free(r);
    return rc;
}

int rove_visit_plan(rove_client *c, char *id_out, const char *account_id,
                    const char *contact_id, const char *purpose, int64_t planned_start,
                    int64_t planned_end)
{
    rove_record *r = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(account_id) || planned_start <= 0)
        return rove__client_error(c, ROVE_EINVAL, "a visit needs an account and a start time");
    if (planned_end == 0)
        planned_end = planned_start + 3600 * 1000;
    if (planned_end < planned_start)
        return rove__client_error(c, ROVE_EINVAL, "the visit ends before it starts");
    ROVE_TRY(must_exist(c, "account", account_id));
    if (!empty(contact_id))
        ROVE_TRY(must_exist(c, "contact", contact_id));
    if ((rc = rove_record_new(&r, "visit")) != 0)
        return rove__client_error(c, rc, "out of memory");
    SET(rove_record_set_text(r, "account_id", account_id), "visit", "account_id");
    if (!empty(contact_id))
        SET(rove_record_set_text(r, "contact_id", contact_id), "visit", "contact_id");
    if (c->user_id)
        SET(rove_record_set_text(r, "planned_for", c->user_id), "visit", "planned_for");
    if (purpose)
        SET(rove_record_set_text(r, "purpose", purpose), "visit", "purpose");
    SET(rove_record_set_int(r, "planned_start", planned_start), "visit", "planned_start");
    SET(rove_record_set_int(r, "planned_end", planned_end), "visit", "planned_end");
    SET(rove_record_set_text(r, "status", "planned"), "visit", "status");
    rc = insert_record(c, r, id_out);
cleanup:
    rove_record_free(r);
    return rc;
}

static int status_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (s != NULL && strcmp(s, *list) == 0)
            return 1;
    return 0;
}

int rove_visit_check_in(rove_client *c, const char *visit_id, double lat, double lon)
{
    static const char *const from[] = {"planned", "needs_replan", NULL};
    rove_record *v = NULL, *a = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(visit_id))
        return rove__client_error(c, ROVE_EINVAL, "visit id is required");
    ROVE_TRY(rove_client_get(c, &v, "visit", visit_id));
    const char *st = rove_record_text(v, "status");
    if (st != NULL && !status_in(st, from)) {
        rc = rove__client_error(c, ROVE_ESTATE, "cannot check in: the visit is %s", st);
        goto cleanup;
    }
    const char *geo = "unverifiable";
    if (geo_ok(lat, lon)) {
        const char *acc = rove_record_text(v, "account_id");
        if (acc != NULL && rove_client_get(c, &a, "account", acc) == 0 &&
            !rove_record_is_null(a, "lat") && !rove_record_is_null(a, "lon")) {
            double d = distance_m(lat, lon, rove_record_real(a, "lat", 0),
                                  rove_record_real(a, "lon", 0));
            geo = d <= ROVE_GEO_RANGE_M ? "within_range" : "out_of_range";
        }
        rove__client_clear_error(c);
    }
    SET(rove_record_set_text(v, "status", "checked_in"), "visit", "status");
    SET(rove_record_set_int(v, "checkin_at", rove__platform_now_ms()), "visit", "checkin_at");
    if (geo_ok(lat, lon)) {
        SET(rove_record_set_real(v, "checkin_lat", lat), "visit", "checkin_lat");
        SET(rove_record_set_real(v, "checkin_lon", lon), "visit", "checkin_lon");
    }
    if (c->user_id)
        SET(rove_record_set_text(v, "performed_by", c->user_id), "visit", "performed_by");
    rc = rove_client_update(c, v);
    /* The server verifies the position itself; this is the offline guess. */
    if (rc == 0)
        rc = set_local(c, "visit", visit_id, "geo_check", geo, 0);
cleanup:
    rove_record_free(v);
    rove_record_free(a);
    return rc;
}

int rove_visit_check_out(rove_client *c, const char *visit_id, double lat, double lon,
                         const char *outcome, const char *notes, const char *next_action)
{
    rove_record *v = NULL, *a = NULL;
    int rc, in_tx = 0;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(visit_id) || empty(outcome))
        return rove__client_error(c, ROVE_EINVAL, "visit id and outcome are required");
    ROVE_TRY(rove_client_get(c, &v, "visit", visit_id));
    const char *st = rove_record_text(v, "status");
    if (st == NULL || strcmp(st, "checked_in") != 0) {
        rc = rove__client_error(c, ROVE_ESTATE, "cannot check out: the visit is %s",
                                st ? st : "not checked in");
        goto cleanup;
    }
    int64_t now = rove__platform_now_ms();
    SET(rove_record_set_text(v, "status", "completed"), "visit", "status");
    SET(rove_record_set_int(v, "checkout_at", now), "visit", "checkout_at");
    if (geo_ok(lat, lon)) {
        SET(rove_record_set_real(v, "checkout_lat", lat), "visit", "checkout_lat");
        SET(rove_record_set_real(v, "checkout_lon", lon), "visit", "checkout_lon");
    }
    SET(rove_record_set_text(v, "outcome", outcome), "visit", "outcome");
    if (notes)
        SET(rove_record_set_text(v, "notes", notes), "visit", "notes");
    if (next_action)
        SET(rove_record_set_text(v, "next_action", next_action), "visit", "next_action");
    const char *acc = rove_record_text(v, "account_id");
    if (acc != NULL && rove_client_get(c, &a, "account", acc) != 0)
        a = NULL;
    rove__client_clear_error(c);

    /* The visit and the account's last visit change together or not at all. */
    if ((rc = rove__replica_begin(c)) != 0)
        goto cleanup;
    in_tx = 1;
    if ((rc = rove__record_update_in_tx(c, v)) != 0)
        goto cleanup;
    /* The account's last visit is derived by the server; shown provisionally. */
    if (a != NULL &&
        (rc = set_local(c, "account", rove_record_id(a), "last_visit_at", NULL, now)) != 0)
        goto cleanup;
    rc = rove__replica_commit(c);
    in_tx = 0;
cleanup:
    if (in_tx)
        rove__replica_rollback(c);
    rove_record_free(v);
    rove_record_free(a);
    return rc;
}

int rove_visit_cancel(rove_client *c, const char *visit_id)
{
    static const char *const from[] = {"planned", "needs_replan", "checked_in", NULL};
    rove_record *v = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(visit_id))
        return rove__client_error(c, ROVE_EINVAL, "visit id is required");
    ROVE_TRY(rove_client_get(c, &v, "visit", visit_id));
    const char *st = rove_record_text(v, "status");
    if (st != NULL && !status_in(st, from)) {
        rc = rove__client_error(c, ROVE_ESTATE, "cannot cancel: the visit is %s", st);
        goto cleanup;
    }
    SET(rove_record_set_text(v, "status", "cancelled"), "visit", "status");
    rc = rove_client_update(c, v);
cleanup:
    rove_record_free(v);
    return rc;
}

/* Moves a visit from one of `from` to `to`, setting extra text columns
 * (name/value pairs, NULL-terminated) in the same local write. */
static int visit_move(rove_client *c, const char *visit_id, const char *const *from,
                      const char *to, const char *const *extra, int64_t start, int64_t end)
{
    rove_record *v = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(visit_id))
        return rove__client_error(c, ROVE_EINVAL, "visit id is required");
    ROVE_TRY(rove_client_get(c, &v, "visit", visit_id));
    const char *st = rove_record_text(v, "status");
    if (st == NULL || !status_in(st, from)) {
        rc = rove__client_error(c, ROVE_ESTATE, "a visit cannot go from %s to %s",
                                st ? st : "(none)", to);
        goto cleanup;
    }
    SET(rove_record_set_text(v, "status", to), "visit", "status");
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i += 2)
        SET(rove_record_set_text(v, extra[i], extra[i + 1]), "visit", extra[i]);
    if (start > 0) {
        SET(rove_record_set_int(v, "planned_start", start), "visit", "planned_start");
        SET(rove_record_set_int(v, "planned_end", end > start ? end : start + 3600000), "visit",
            "planned_end");
    }
    rc = rove_client_update(c, v);
cleanup:
    rove_record_free(v);
    return rc;
}

int rove_visit_check_in_manual(rove_client *c, const char *visit_id, const char *reason)
{
    static const char *const from[] = {"planned", "needs_replan", NULL};
    if (c != NULL && empty(reason))
        return rove__client_error(c, ROVE_EINVAL, "a manual check-in needs a reason");
    const char *extra[] = {"geo_reason", reason, "performed_by", c ? c->user_id : NULL, NULL};
    if (c != NULL && c->user_id == NULL)
        extra[2] = NULL;
    int rc = visit_move(c, visit_id, from, "checked_in", extra, 0, 0);
    /* The server will say "manual"; shown provisionally until then. */
    if (rc == 0)
        rc = set_local(c, "visit", visit_id, "geo_check", "manual", 0);
    return rc;
}

int rove_visit_mark_missed(rove_client *c, const char *visit_id)
{
    static const char *const from[] = {"planned", "needs_replan", NULL};
    return visit_move(c, visit_id, from, "missed", NULL, 0, 0);
}

int rove_visit_replan(rove_client *c, const char *visit_id, int64_t start, int64_t end)
{
    static const char *const planned[] = {"planned", NULL}, *const later[] = {"needs_replan",
                                                                              NULL};
    static const char *const missed[] = {"missed", NULL};
    if (c == NULL)
        return ROVE_EINVAL;
    if (start <= 0)
        return rove__client_error(c, ROVE_EINVAL, "a new start time is required");
    rove_record *v = NULL;
    ROVE_TRY(rove_client_get(c, &v, "visit", visit_id));
    char st[32];
    snprintf(st, sizeof(st), "%s",
             rove_record_text(v, "status") ? rove_record_text(v, "status") : "");
    rove_record_free(v);
    /* A missed visit goes through needs_replan; a planned one just moves. */
    if (strcmp(st, "missed") == 0)
        ROVE_TRY(visit_move(c, visit_id, missed, "needs_replan", NULL, 0, 0));
    if (strcmp(st, "planned") == 0)
        return visit_move(c, visit_id, planned, "planned", NULL, start, end);
    return visit_move(c, visit_id, later, "planned", NULL, start, end);
}

int rove_task_close(rove_client *c, const char *task_id, const char *close_reason,
                    int satisfaction)
{
    static const char *const from[] = {"resolved", "follow_up", NULL};
    rove_record *t = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(task_id) || empty(close_reason))
        return rove__client_error(c, ROVE_EINVAL, "task id and close reason are required");
    if (satisfaction != 0 && (satisfaction < 1 || satisfaction > 5))
        return rove__client_error(c, ROVE_EBADVALUE, "satisfaction must be 1 to 5 (0: none)");
    ROVE_TRY(rove_client_get(c, &t, "service_task", task_id));
    const char *st = rove_record_text(t, "status");
    if (st == NULL || !status_in(st, from)) {
        rc = rove__client_error(c, ROVE_ESTATE, "only a resolved task can be closed (it is %s)",
                                st ? st : "new");
        goto cleanup;
    }
    SET(rove_record_set_text(t, "status", "closed"), "service_task", "status");
    SET(rove_record_set_text(t, "close_reason", close_reason), "service_task", "close_reason");
    if (satisfaction != 0)
        SET(rove_record_set_int(t, "satisfaction", satisfaction), "service_task",
            "satisfaction");
    rc = rove_client_update(c, t);
cleanup:
    rove_record_free(t);
    return rc;
}

int rove_task_create(rove_client *c, char *id_out, const char *account_id, const char *type,
                     const char *priority, const char *title, const char *description)
{
    rove_record *r = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(account_id) || empty(type) || empty(title))
        return rove__client_error(c, ROVE_EINVAL,
                                  "a task needs an account, a type and a title");
    ROVE_TRY(must_exist(c, "account", account_id));
    if ((rc = rove_record_new(&r, "service_task")) != 0)
        return rove__client_error(c, rc, "out of memory");
    SET(rove_record_set_text(r, "account_id", account_id), "service_task", "account_id");
    SET(rove_record_set_text(r, "type", type), "service_task", "type");
    SET(rove_record_set_text(r, "priority", priority ? priority : "normal"), "service_task",
        "priority");
    SET(rove_record_set_text(r, "title", title), "service_task", "title");
    if (description)
        SET(rove_record_set_text(r, "description", description), "service_task", "description");
    SET(rove_record_set_text(r, "status", "new"), "service_task", "status");
    SET(rove_record_set_int(r, "reported_at", rove__platform_now_ms()), "service_task",
        "reported_at");
    rc = insert_record(c, r, id_out);
cleanup:
    rove_record_free(r);
    return rc;
}

int rove_task_set_status(rove_client *c, const char *task_id, const char *status,
                         const char *resolution)
{
    static const char *const terminal[] = {"closed", "cancelled", NULL};
    rove_record *t = NULL;
    int rc;
    if (c == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    if (empty(task_id) || empty(status))
        return rove__client_error(c, ROVE_EINVAL, "task id and status are required");
    if (strcmp(status, "resolved") == 0 && empty(resolution))
        return rove__client_error(c, ROVE_EINVAL, "resolving a task needs a resolution");
    ROVE_TRY(rove_client_get(c, &t, "service_task", task_id));
    const char *cur = rove_record_text(t, "status");
    if (cur != NULL && status_in(cur, terminal)) {
        rc = rove__client_error(c, ROVE_ESTATE, "the task is %s", cur);
        goto cleanup;
    }
    rc = rove_record_set_text(t, "status", status);
    if (rc != 0) {
        rc = rove__client_error(c, rc, "unknown task status '%s'", status);
        goto cleanup;
    }
    int64_t now = rove__platform_now_ms();
    int first = (strcmp(status, "in_progress") == 0 || strcmp(status, "resolved") == 0) &&
                rove_record_is_null(t, "first_response_at");
    if (!empty(resolution))
        SET(rove_record_set_text(t, "resolution", resolution), "service_task", "resolution");
    rc = rove_client_update(c, t);
    /* Response and resolution times are the server's to set (from the time of
     * this change); these are the offline guesses. */
    if (rc == 0 && first)
        rc = set_local(c, "service_task", task_id, "first_response_at", NULL, now);
    if (rc == 0 && strcmp(status, "resolved") == 0)
        rc = set_local(c, "service_task", task_id, "resolved_at", NULL, now);
cleanup:
    rove_record_free(t);
    return rc;
}

/* ---- lists -------------------------------------------------------------- */

#define VISIT_COLUMNS                                                                          \
    "SELECT v.id, v.planned_start, v.planned_end, v.status, v.account_id, "                    \
    "a.name AS account, k.name AS contact, v.purpose, a.address "                              \
    "FROM visit v LEFT JOIN account a ON a.id = v.account_id "                                 \
    "LEFT JOIN contact k ON k.id = v.contact_id WHERE v.deleted = 0 "

int rove_visits_today(rove_client *c, rove_rows **out, int64_t day_ms)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    int64_t b[2];
    rove__platform_local_day(day_ms ? day_ms : rove__platform_now_ms(), &b[0], &b[1]);
    const char *me[1] = {c->user_id};
    return rove__rows_open(c, out,
                           VISIT_COLUMNS "AND (?1 IS NULL OR v.planned_for = ?1) "
                                         "AND v.planned_start >= ?2 AND v.planned_start < ?3 "
                                         "ORDER BY v.planned_start, v.id",
                           me, 1, b, 2, 0);
}

int rove_visits_list(rove_client *c, rove_rows **out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    return rove__rows_open(c, out, VISIT_COLUMNS "ORDER BY v.planned_start DESC, v.id", NULL, 0,
                           NULL, 0, 0);
}

int rove_tasks_open(rove_client *c, rove_rows **out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    return rove__rows_open(
        c, out,
        "SELECT t.id, t.status, t.priority, t.type, t.title, t.account_id, a.name AS account, "
        "t.sla_resolve_due, t.sla_response_due FROM service_task t "
        "LEFT JOIN account a ON a.id = t.account_id "
        "WHERE t.deleted = 0 AND COALESCE(t.status, 'new') NOT IN "
        "('resolved', 'closed', 'cancelled') "
        "ORDER BY t.sla_resolve_due IS NULL, t.sla_resolve_due, t.id",
        NULL, 0, NULL, 0, 0);
}

int rove_plan_today(rove_client *c, rove_rows **out, int64_t day_ms)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    int64_t b[2];
    rove__platform_local_day(day_ms ? day_ms : rove__platform_now_ms(), &b[0], &b[1]);
    const char *me[1] = {c->user_id};
    /* Overdue visits first, then the day's visits by time, then accounts due
     * by their visit cadence that have no open visit planned. */
    return rove__rows_open(
        c, out,
        "SELECT reason, visit_id, account_id, account, planned_start, status, due, address "
        "FROM ("
        "SELECT CASE WHEN v.planned_start < ?2 THEN 'overdue' ELSE 'planned' END AS reason, "
        "v.id AS visit_id, v.account_id, a.name AS account, v.planned_start, v.status, "
        "a.next_visit_due AS due, a.address, "
        "CASE WHEN v.planned_start < ?2 THEN 0 ELSE 1 END AS grp "
        "FROM visit v LEFT JOIN account a ON a.id = v.account_id "
        "WHERE v.deleted = 0 AND (?1 IS NULL OR v.planned_for = ?1) "
        "AND ((v.status IN ('planned', 'needs_replan') AND v.planned_start < ?2) OR "
        "(v.planned_start >= ?2 AND v.planned_start < ?3 AND "
        "v.status NOT IN ('cancelled', 'missed'))) "
        "UNION ALL "
        "SELECT 'cadence_due', NULL, a.id, a.name, NULL, NULL, a.next_visit_due, a.address, 2 "
        "FROM account a WHERE a.deleted = 0 AND (?1 IS NULL OR a.owner_id = ?1) "
        "AND a.next_visit_due IS NOT NULL AND a.next_visit_due < ?3 "
        "AND NOT EXISTS (SELECT 1 FROM visit p WHERE p.account_id = a.id AND p.deleted = 0 "
        "AND p.status IN ('planned', 'needs_replan', 'checked_in') AND p.planned_start >= ?2)"
        ") ORDER BY grp, coalesce(planned_start, due), account_id",
        me, 1, b, 2, 0);
}

int rove_tasks_by_urgency(rove_client *c, rove_rows **out, int64_t now_ms)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    int64_t now[1] = {now_ms ? now_ms : rove__platform_now_ms()};
    /* The deadline that matters: the response while nobody has responded,
     * then the resolution. */
    return rove__rows_open(
        c, out,
        "SELECT id, status, priority, type, title, account_id, account, deadline, "
        "CASE WHEN deadline IS NULL THEN NULL ELSE (deadline - ?1) / 60000 END AS "
        "minutes_left, "
        "CASE WHEN deadline IS NULL THEN 'no_sla' WHEN deadline < ?1 THEN 'breached' "
        "WHEN deadline - ?1 < 14400000 THEN 'due_soon' ELSE 'ok' END AS urgency, "
        "CASE WHEN first_response_at IS NULL THEN 'response' ELSE 'resolution' END AS due_for "
        "FROM (SELECT t.*, a.name AS account, CASE WHEN t.first_response_at IS NULL "
        "THEN t.sla_response_due ELSE t.sla_resolve_due END AS deadline "
        "FROM service_task t LEFT JOIN account a ON a.id = t.account_id "
        "WHERE t.deleted = 0 AND coalesce(t.status, 'new') NOT IN "
        "('resolved', 'follow_up', 'closed', 'cancelled')) "
        "ORDER BY deadline IS NULL, deadline, id",
        NULL, 0, now, 1, 0);
}

int rove_followups_due(rove_client *c, rove_rows **out, int64_t until_ms)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    int64_t until[1] = {until_ms ? until_ms : rove__platform_now_ms()};
    return rove__rows_open(
        c, out,
        "SELECT t.id, t.status, t.title, t.account_id, a.name AS account, t.resolved_at, "
        "t.followup_due, t.resolution FROM service_task t "
        "LEFT JOIN account a ON a.id = t.account_id "
        "WHERE t.deleted = 0 AND t.status IN ('resolved', 'follow_up') "
        "AND t.followup_due IS NOT NULL AND t.followup_due <= ?1 "
        "ORDER BY t.followup_due, t.id",
        NULL, 0, until, 1, 0);
}

int rove_accounts_list(rove_client *c, rove_rows **out)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    return rove__rows_open(c, out,
                           "SELECT id, name, tier, stage, address, phone, last_visit_at, "
                           "next_visit_due FROM account WHERE deleted = 0 "
                           "ORDER BY name COLLATE NOCASE, id",
                           NULL, 0, NULL, 0, 0);
}

int rove_contacts_list(rove_client *c, rove_rows **out, const char *account_id)
{
    if (c == NULL || out == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    const char *p[1] = {account_id};
    return rove__rows_open(c, out,
                           "SELECT k.id, k.account_id, a.name AS account, k.name, k.title, "
                           "k.phone, k.email, k.is_primary FROM contact k "
                           "LEFT JOIN account a ON a.id = k.account_id "
                           "WHERE k.deleted = 0 AND (?1 IS NULL OR k.account_id = ?1) "
                           "ORDER BY k.name COLLATE NOCASE, k.id",
                           p, 1, NULL, 0, 0);
}

int rove_client_resolve_id(rove_client *c, char *id_out, const char *table, const char *prefix)
{
    if (c == NULL || id_out == NULL || table == NULL || prefix == NULL)
        return ROVE_EINVAL;
    rove__client_clear_error(c);
    const rove__table *t = rove__schema_table(table, strlen(table));
    if (t == NULL)
        return rove__client_error(c, ROVE_EUNKNOWNTABLE, "unknown table '%s'", table);
    size_t n = strlen(prefix);
    char up[ROVE_ID_SIZE];
    if (n == 0 || n >= ROVE_ID_SIZE)
        return rove__client_error(c, n ? ROVE_EBADID : ROVE_EINVAL, "bad id prefix '%s'",
                                  prefix);
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)prefix[i]))
            return rove__client_error(c, ROVE_EBADID, "bad id prefix '%s'", prefix);
        up[i] = (char)toupper((unsigned char)prefix[i]);
    }
    up[n] = 0;
    char sql[128];
    snprintf(sql, sizeof(sql),
             "SELECT id FROM %s WHERE id >= ?1 AND id < ?1 || 'zz' AND deleted = 0 LIMIT 2",
             t->name);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rove__client_sqlerr(c, c->db, rc, "resolve");
    sqlite3_bind_text(st, 1, up, -1, SQLITE_STATIC);
    int found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (found == 0 && id != NULL)
            snprintf(id_out, ROVE_ID_SIZE, "%s", id);
        found++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rove__client_sqlerr(c, c->db, rc, "resolve");
    if (found == 0)
        return rove__client_error(c, ROVE_ENOTFOUND, "no %s matches '%s'", table, prefix);
    if (found > 1)
        return rove__client_error(c, ROVE_ECONFLICT, "'%s' matches several %s records", prefix,
                                  table);
    return 0;
}

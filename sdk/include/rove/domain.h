#ifndef ROVE_DOMAIN_H
#define ROVE_DOMAIN_H

/*
 * Typed calls for a field app, on top of the generic record API: accounts,
 * contacts, visits and service tasks. Each write is one local transaction
 * (row + outbox entry, plus the HLC), exactly like rove_client_insert() and
 * rove_client_update(); nothing here needs the network.
 *
 * Ids: functions that create a record write its new id into id_out, a buffer
 * of at least ROVE_ID_SIZE bytes (may be NULL when the caller does not need
 * it). Ids passed in must be exact record ids.
 *
 * Times are integer milliseconds since the Unix epoch (UTC). Coordinates are
 * WGS84 degrees; pass ROVE_NO_GEO for "unknown".
 *
 * Errors: 0 or a negative ROVE_E* code: ROVE_EINVAL (NULL or empty required
 * argument), ROVE_ENOTFOUND (no such record), ROVE_EBADVALUE (bad enum value),
 * ROVE_ESTATE (transition not allowed, e.g. checking out a visit that was never
 * checked in), ROVE_ESTORE, ROVE_ENOMEM. rove_client_errmsg() gives detail.
 *
 * Thread model: as rove_client (one thread at a time per client).
 */

#include "rove/records.h"

ROVE_BEGIN_DECLS

/* A coordinate value meaning "no position"; any value outside [-180, 180]
 * is treated the same way. */
#define ROVE_NO_GEO 1000.0

/* Distance in metres within which a check-in counts as "within_range" of the
 * account's stored position. */
#define ROVE_GEO_RANGE_M 500.0

/* ---- accounts and contacts -------------------------------------------- */

/* Creates an account. name is required; address and phone may be NULL. */
ROVE_EXTERN(int)
rove_account_create(rove_client *c, char *id_out, const char *name, const char *address,
                    const char *phone, double lat, double lon);

/* Creates a contact of account_id. name is required; the rest may be NULL.
 * is_primary: 0 or 1. */
ROVE_EXTERN(int)
rove_contact_create(rove_client *c, char *id_out, const char *account_id, const char *name,
                    const char *title, const char *phone, const char *email, int is_primary);

/* ---- visits ------------------------------------------------------------ */

/* Plans a visit for the logged-in user: status "planned", planned_for = me.
 * contact_id and purpose may be NULL; planned_end 0 means "one hour". */
ROVE_EXTERN(int)
rove_visit_plan(rove_client *c, char *id_out, const char *account_id, const char *contact_id,
                const char *purpose, int64_t planned_start, int64_t planned_end);

/* Checks in: status "checked_in", checkin_at = now, checkin_lat/lon, and
 * geo_check "within_range"/"out_of_range" against the account's position
 * (ROVE_GEO_RANGE_M), or "unverifiable" when either position is unknown.
 * Allowed from "planned" and "needs_replan"; otherwise ROVE_ESTATE. */
ROVE_EXTERN(int)
rove_visit_check_in(rove_client *c, const char *visit_id, double lat, double lon);

/* Checks out: status "completed", checkout_at = now, checkout_lat/lon, and the
 * outcome (required), notes and next_action (may be NULL). Also records the
 * visit time as the account's last_visit_at. Allowed from "checked_in" only
 * (ROVE_ESTATE otherwise). */
ROVE_EXTERN(int)
rove_visit_check_out(rove_client *c, const char *visit_id, double lat, double lon,
                     const char *outcome, const char *notes, const char *next_action);

/* Checks in without a position (no GPS signal, indoors): the reason is kept
 * and the server records the check-in as "manual". From "planned" or
 * "needs_replan"; ROVE_EINVAL without a reason, ROVE_ESTATE otherwise. */
ROVE_EXTERN(int)
rove_visit_check_in_manual(rove_client *c, const char *visit_id, const char *reason);

/* The customer was not met: a planned visit becomes "missed" (ROVE_ESTATE
 * from any other status). */
ROVE_EXTERN(int) rove_visit_mark_missed(rove_client *c, const char *visit_id);

/* Gives a planned, missed or needs-replan visit a new slot (planned_end 0:
 * one hour); it is "planned" again. ROVE_ESTATE for visits checked in, done
 * or cancelled. */
ROVE_EXTERN(int)
rove_visit_replan(rove_client *c, const char *visit_id, int64_t planned_start,
                  int64_t planned_end);

/* Cancels a planned visit (status "cancelled"); ROVE_ESTATE once completed. */
ROVE_EXTERN(int) rove_visit_cancel(rove_client *c, const char *visit_id);

/*
 * Visits planned for the logged-in user whose planned_start falls in the local
 * calendar day containing day_ms (0: today), ordered by planned_start.
 * Columns: id, planned_start, planned_end, status, account_id, account,
 * contact, purpose, address.
 */
ROVE_EXTERN(int) rove_visits_today(rove_client *c, rove_rows **out, int64_t day_ms);

/* All visits in the replica, newest planned_start first, same columns as
 * rove_visits_today(). */
ROVE_EXTERN(int) rove_visits_list(rove_client *c, rove_rows **out);

/* ---- service tasks ------------------------------------------------------ */

/* Creates a service task: type "request", "complaint" or "maintenance";
 * priority "low", "normal", "high", "urgent" or NULL ("normal"); status "new",
 * reported_at = now. title is required; description may be NULL. */
ROVE_EXTERN(int)
rove_task_create(rove_client *c, char *id_out, const char *account_id, const char *type,
                 const char *priority, const char *title, const char *description);

/*
 * Moves a task to status (new, assigned, scheduled, in_progress, follow_up,
 * resolved, closed, cancelled). "resolved" sets resolved_at = now and stores
 * resolution (required for "resolved", optional otherwise); the first move
 * to in_progress or resolved sets first_response_at. A closed or cancelled
 * task cannot change status again (ROVE_ESTATE).
 */
ROVE_EXTERN(int)
rove_task_set_status(rove_client *c, const char *task_id, const char *status,
                     const char *resolution);

/* Closes a resolved (or follow-up) task with the reason, and the customer's
 * satisfaction 1..5 (0: not asked). ROVE_EINVAL without a reason,
 * ROVE_EBADVALUE for another satisfaction, ROVE_ESTATE when not resolved. */
ROVE_EXTERN(int)
rove_task_close(rove_client *c, const char *task_id, const char *close_reason,
                int satisfaction);

/* Open service tasks (not resolved, closed or cancelled), ordered by
 * sla_resolve_due (unknown due dates last). Columns: id, status, priority,
 * type, title, account_id, account, sla_resolve_due, sla_response_due. */
ROVE_EXTERN(int) rove_tasks_open(rove_client *c, rove_rows **out);

/* ---- the day's work ------------------------------------------------------ */

/*
 * Today's plan for the logged-in user, for the local calendar day containing
 * day_ms (0: today): visits planned that day; overdue visits (planned or
 * needing a new date, planned before that day); and accounts the user owns
 * whose next visit is due by the end of that day by their visit cadence and
 * that have no open visit planned. Columns: reason ("overdue", "planned",
 * "cadence_due"), visit_id (NULL for cadence_due), account_id, account,
 * planned_start, status, due (the account's next_visit_due), address; overdue
 * first, then the day's visits by time, then the due accounts by due date.
 * The caller frees *out with rove_rows_free(). ROVE_EINVAL, ROVE_ESTORE.
 */
ROVE_EXTERN(int) rove_plan_today(rove_client *c, rove_rows **out, int64_t day_ms);

/*
 * Open service tasks (not resolved, in follow-up, closed or cancelled) by SLA
 * urgency at now_ms (0: now): the deadline is the response due time while
 * nobody has responded, then the resolve due time. Columns: id, status,
 * priority, type, title, account_id, account, deadline, minutes_left
 * (negative when breached; NULL without SLA), urgency ("breached",
 * "due_soon" within 4 hours, "ok", "no_sla"), due_for ("response" or
 * "resolution"). Most urgent first; tasks without SLA last.
 */
ROVE_EXTERN(int) rove_tasks_by_urgency(rove_client *c, rove_rows **out, int64_t now_ms);

/*
 * Service tasks whose follow-up is due at or before until_ms (0: now):
 * resolved or in follow-up, followup_due set by the server (resolution time
 * plus the configured delay). Columns: id, status, title, account_id,
 * account, resolved_at, followup_due, resolution; earliest first.
 */
ROVE_EXTERN(int) rove_followups_due(rove_client *c, rove_rows **out, int64_t until_ms);

/* ---- listing ------------------------------------------------------------ */

/* Accounts by name. Columns: id, name, tier, stage, address, phone,
 * last_visit_at, next_visit_due. */
ROVE_EXTERN(int) rove_accounts_list(rove_client *c, rove_rows **out);

/* Contacts of account_id (NULL: all) by name. Columns: id, account_id,
 * account, name, title, phone, email, is_primary. */
ROVE_EXTERN(int) rove_contacts_list(rove_client *c, rove_rows **out, const char *account_id);

/*
 * Resolves a unique id prefix (case-insensitive) in table to the full id,
 * written into id_out (ROVE_ID_SIZE bytes). ROVE_ENOTFOUND when nothing
 * matches, ROVE_ECONFLICT when the prefix matches several records.
 */
ROVE_EXTERN(int)
rove_client_resolve_id(rove_client *c, char *id_out, const char *table, const char *prefix);

ROVE_END_DECLS

#endif

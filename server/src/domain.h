#ifndef ROVE_SERVER_DOMAIN_H
#define ROVE_SERVER_DOMAIN_H

/*
 * The field domain's rules (docs/data-model.md), as pure functions the push
 * path and the server commands call:
 *
 *   - visit and service task status machines (which moves are allowed);
 *   - check-in geo verification (distance to the account, within its radius);
 *   - SLA due times from the tier x priority policy;
 *   - visit cadence: next visit due from the last visit and the frequency.
 *
 * The policy comes from roved's configuration and is read-only after start.
 */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define ROVED_NTIERS 4      /* VIP, A, B, C */
#define ROVED_NPRIORITIES 4 /* urgent, high, normal, low */

typedef struct roved_policy {
    int checkin_radius_m;
    int cadence_days[ROVED_NTIERS];
    int sla_response_h[ROVED_NTIERS][ROVED_NPRIORITIES];
    int sla_resolve_h[ROVED_NTIERS][ROVED_NPRIORITIES];
    int followup_days;
} roved_policy;

/* Builds the policy from cfg; ROVE_EINVAL with a message in err when an
 * option does not parse. */
int roved_policy_load(roved_policy *p, const roved_config *cfg, char *err, size_t errsize);

/* Index of a tier ("VIP", "A", "B", "C") or priority ("urgent", "high",
 * "normal", "low") name of len bytes, or -1. */
int roved_domain_tier(const char *s, size_t len);
int roved_domain_priority(const char *s, size_t len);

/* 1 when a visit (or service task) may move from status `from` to `to`
 * (NULL from: a new record, which may start in the statuses listed in
 * docs/data-model.md). Staying in the same status is always allowed. */
int roved_domain_visit_move_ok(const char *from, const char *to);
int roved_domain_task_move_ok(const char *from, const char *to);

/* Great-circle distance in metres between two WGS84 points. */
double roved_domain_distance_m(double lat1, double lon1, double lat2, double lon2);

/* 1 when (lat, lon) is a usable position. */
int roved_domain_geo_ok(double lat, double lon);

/*
 * The check-in verification: "manual" when the device gave no position but a
 * reason, "unverifiable" when either position is unknown, else "within_range"
 * or "out_of_range" against radius_m. *distance_m is set when both positions
 * are known (else negative).
 */
const char *roved_domain_geo_check(int account_geo, double alat, double alon, int device_geo,
                                   double dlat, double dlon, int manual_reason, double radius_m,
                                   double *distance_m);

/* SLA due times for a task reported at `reported`; 0 when tier or priority
 * is unknown (tier unknown counts as C, priority unknown as normal). */
void roved_domain_sla(const roved_policy *p, int tier, int priority, int64_t reported,
                      int64_t *response_due, int64_t *resolve_due);

/* The next visit due after last_visit: freq_days when > 0, else the tier's
 * cadence (tier -1: C). 0 when there was no visit. */
int64_t roved_domain_next_visit_due(const roved_policy *p, int tier, int64_t freq_days,
                                    int64_t last_visit);

/* Skill lists are "name:level" entries separated by commas, levels 1..5
 * ("hvac:3,electrics:2"; a missing level means 1). 1 when list is well formed
 * (NULL or empty is). */
int roved_domain_skills_valid(const char *list);
/* 1 when `have` holds every skill of `need` at its level or higher. */
int roved_domain_skills_match(const char *have, const char *need);

#endif

/* The field domain's rules (see domain.h). */
#include "domain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rove/errors.h"

static const char *const tiers[ROVED_NTIERS] = {"VIP", "A", "B", "C"};
static const char *const priorities[ROVED_NPRIORITIES] = {"urgent", "high", "normal", "low"};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; s != NULL && i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

int roved_domain_tier(const char *s, size_t len) { return lookup(tiers, ROVED_NTIERS, s, len); }

int roved_domain_priority(const char *s, size_t len)
{
    return lookup(priorities, ROVED_NPRIORITIES, s, len);
}

/* ---- policy ------------------------------------------------------------- */

/* "VIP=7,A=14,B=30,C=60" */
static int parse_cadence(const char *s, int out[ROVED_NTIERS])
{
    int seen = 0;
    while (*s) {
        const char *eq = strchr(s, '=');
        if (eq == NULL)
            return -1;
        int t = roved_domain_tier(s, (size_t)(eq - s));
        char *end = NULL;
        long v = strtol(eq + 1, &end, 10);
        if (t < 0 || end == eq + 1 || v < 1 || v > 3650 || (*end != ',' && *end != '\0'))
            return -1;
        out[t] = (int)v;
        seen |= 1 << t;
        s = *end == ',' ? end + 1 : end;
    }
    return seen == 0xF ? 0 : -1;
}

/* "VIP=1/4,2/8,4/24,8/48;A=..." : per tier, urgent,high,normal,low as
 * response/resolve hours. */
static int parse_sla(const char *s, int resp[ROVED_NTIERS][ROVED_NPRIORITIES],
                     int resolve[ROVED_NTIERS][ROVED_NPRIORITIES])
{
    int seen = 0;
    while (*s) {
        const char *eq = strchr(s, '=');
        if (eq == NULL)
            return -1;
        int t = roved_domain_tier(s, (size_t)(eq - s));
        if (t < 0)
            return -1;
        const char *p = eq + 1;
        for (int k = 0; k < ROVED_NPRIORITIES; k++) {
            char *end = NULL;
            long a = strtol(p, &end, 10);
            if (end == p || *end != '/' || a < 1 || a > 100000)
                return -1;
            p = end + 1;
            long b = strtol(p, &end, 10);
            if (end == p || b < a || b > 100000)
                return -1;
            resp[t][k] = (int)a;
            resolve[t][k] = (int)b;
            p = end;
            if (k + 1 < ROVED_NPRIORITIES) {
                if (*p != ',')
                    return -1;
                p++;
            }
        }
        if (*p != ';' && *p != '\0')
            return -1;
        seen |= 1 << t;
        s = *p == ';' ? p + 1 : p;
    }
    return seen == 0xF ? 0 : -1;
}

int roved_policy_load(roved_policy *p, const roved_config *cfg, char *err, size_t errsize)
{
    memset(p, 0, sizeof(*p));
    p->checkin_radius_m = cfg->checkin_radius_m;
    p->followup_days = cfg->followup_days;
    if (parse_cadence(cfg->cadence_days, p->cadence_days) != 0) {
        snprintf(err, errsize,
                 "--cadence-days \"%s\": expected VIP=N,A=N,B=N,C=N (days, 1..3650)",
                 cfg->cadence_days);
        return ROVE_EINVAL;
    }
    if (parse_sla(cfg->sla_policy, p->sla_response_h, p->sla_resolve_h) != 0) {
        snprintf(err, errsize,
                 "--sla-policy \"%s\": expected TIER=R/F,R/F,R/F,R/F;... for every tier "
                 "(urgent, high, normal, low; response/resolve hours, resolve >= response)",
                 cfg->sla_policy);
        return ROVE_EINVAL;
    }
    return 0;
}

/* ---- status machines ------------------------------------------------------ */

typedef struct move {
    const char *from, *to;
} move;

static const move visit_moves[] = {
    {"planned", "checked_in"},   {"planned", "cancelled"},    {"planned", "missed"},
    {"planned", "needs_replan"}, {"needs_replan", "planned"}, {"needs_replan", "cancelled"},
    {"needs_replan", "missed"},  {"missed", "needs_replan"},  {"checked_in", "completed"},
    {"checked_in", "cancelled"},
};

/* A visit may be logged after the fact: created checked in or completed. */
static const char *const visit_starts[] = {"planned", "checked_in", "completed", NULL};

static const move task_moves[] = {
    {"new", "assigned"},          {"new", "scheduled"},         {"new", "in_progress"},
    {"new", "cancelled"},         {"assigned", "scheduled"},    {"assigned", "in_progress"},
    {"assigned", "cancelled"},    {"scheduled", "assigned"},    {"scheduled", "in_progress"},
    {"scheduled", "cancelled"},   {"in_progress", "scheduled"}, {"in_progress", "resolved"},
    {"in_progress", "cancelled"}, {"resolved", "follow_up"},    {"resolved", "closed"},
    {"resolved", "in_progress"},  {"follow_up", "closed"},      {"follow_up", "in_progress"},
};

static const char *const task_starts[] = {"new", NULL};

static int move_ok(const move *moves, size_t n, const char *const *starts, const char *from,
                   const char *to)
{
    if (to == NULL)
        return 0;
    if (from == NULL) {
        for (const char *const *s = starts; *s; s++)
            if (strcmp(*s, to) == 0)
                return 1;
        return 0;
    }
    if (strcmp(from, to) == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0)
            return 1;
    return 0;
}

int roved_domain_visit_move_ok(const char *from, const char *to)
{
    return move_ok(visit_moves, sizeof(visit_moves) / sizeof(visit_moves[0]), visit_starts,
                   from, to);
}

int roved_domain_task_move_ok(const char *from, const char *to)
{
    return move_ok(task_moves, sizeof(task_moves) / sizeof(task_moves[0]), task_starts, from,
                   to);
}

/* ---- geo ------------------------------------------------------------------ */

int roved_domain_geo_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90.0 && lat <= 90.0 && lon >= -180.0 &&
           lon <= 180.0;
}

double roved_domain_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371008.8, rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * r * atan2(sqrt(a), sqrt(1.0 - a));
}

const char *roved_domain_geo_check(int account_geo, double alat, double alon, int device_geo,
                                   double dlat, double dlon, int manual_reason, double radius_m,
                                   double *distance_m)
{
    *distance_m = -1.0;
    if (!device_geo)
        return manual_reason ? "manual" : "unverifiable";
    if (!account_geo)
        return "unverifiable";
    *distance_m = roved_domain_distance_m(alat, alon, dlat, dlon);
    return *distance_m <= radius_m ? "within_range" : "out_of_range";
}

/* ---- SLA and cadence ------------------------------------------------------ */

void roved_domain_sla(const roved_policy *p, int tier, int priority, int64_t reported,
                      int64_t *response_due, int64_t *resolve_due)
{
    if (tier < 0 || tier >= ROVED_NTIERS)
        tier = ROVED_NTIERS - 1;
    if (priority < 0 || priority >= ROVED_NPRIORITIES)
        priority = 2;
    *response_due = reported + (int64_t)p->sla_response_h[tier][priority] * 3600000;
    *resolve_due = reported + (int64_t)p->sla_resolve_h[tier][priority] * 3600000;
}

int64_t roved_domain_next_visit_due(const roved_policy *p, int tier, int64_t freq_days,
                                    int64_t last_visit)
{
    if (last_visit <= 0)
        return 0;
    if (tier < 0 || tier >= ROVED_NTIERS)
        tier = ROVED_NTIERS - 1;
    int64_t days = freq_days > 0 ? freq_days : p->cadence_days[tier];
    return last_visit + days * 86400000;
}

/* ---- skills ---------------------------------------------------------------- */

/* Parses the next "name:level" of a list into name/level; returns the rest,
 * or NULL at the end; *bad = 1 on a malformed entry. */
static const char *next_skill(const char *p, char *name, size_t size, long *level, int *bad)
{
    while (*p == ' ' || *p == ',')
        p++;
    if (*p == '\0')
        return NULL;
    size_t n = 0;
    while (*p && *p != ':' && *p != ',' && *p != ' ') {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-') ||
            n + 1 >= size) {
            *bad = 1;
            return NULL;
        }
        name[n++] = *p++;
    }
    name[n] = '\0';
    *level = 1;
    if (*p == ':') {
        char *end = NULL;
        *level = strtol(p + 1, &end, 10);
        if (end == p + 1 || *level < 1 || *level > 5) {
            *bad = 1;
            return NULL;
        }
        p = end;
    }
    if (n == 0 || (*p != '\0' && *p != ',' && *p != ' ')) {
        *bad = 1;
        return NULL;
    }
    return p;
}

int roved_domain_skills_valid(const char *list)
{
    if (list == NULL)
        return 1;
    char name[64];
    long level;
    int bad = 0;
    for (const char *p = list; (p = next_skill(p, name, sizeof(name), &level, &bad)) != NULL;)
        ;
    return !bad;
}

int roved_domain_skills_match(const char *have, const char *need)
{
    if (need == NULL)
        return 1;
    char want[64], got[64];
    long wl, gl;
    int bad = 0;
    for (const char *p = need; (p = next_skill(p, want, sizeof(want), &wl, &bad)) != NULL;) {
        int ok = 0;
        for (const char *q = have ? have : "";
             !ok && (q = next_skill(q, got, sizeof(got), &gl, &bad)) != NULL;)
            ok = strcmp(got, want) == 0 && gl >= wl;
        if (!ok)
            return 0;
    }
    return !bad;
}

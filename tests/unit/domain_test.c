/* The server's domain rules as pure functions (server/src/domain.c). */
#include <math.h>
#include <string.h>

#include "config.h"
#include "domain.h"
#include "rove/errors.h"
#include "test.h"

static roved_policy default_policy(void)
{
    roved_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.checkin_radius_m = 500;
    cfg.followup_days = 3;
    strcpy(cfg.cadence_days, "VIP=7,A=14,B=30,C=60");
    strcpy(cfg.sla_policy, "VIP=1/4,2/8,4/24,8/48;A=2/8,4/24,8/48,24/96;"
                           "B=4/24,8/48,24/96,48/168;C=8/48,24/96,48/168,72/336");
    roved_policy p;
    char err[300];
    ASSERT_EQ_INT(roved_policy_load(&p, &cfg, err, sizeof(err)), 0);
    return p;
}

void test_domain__visit_moves(void)
{
    ASSERT(roved_domain_visit_move_ok("planned", "checked_in"));
    ASSERT(roved_domain_visit_move_ok("checked_in", "completed"));
    ASSERT(roved_domain_visit_move_ok("missed", "needs_replan"));
    ASSERT(roved_domain_visit_move_ok("needs_replan", "planned"));
    ASSERT(roved_domain_visit_move_ok("completed", "completed"));
    ASSERT(!roved_domain_visit_move_ok("planned", "completed"));
    ASSERT(!roved_domain_visit_move_ok("completed", "planned"));
    ASSERT(!roved_domain_visit_move_ok("cancelled", "planned"));
    ASSERT(!roved_domain_visit_move_ok("missed", "planned"));
    ASSERT(!roved_domain_visit_move_ok("planned", NULL));
    /* New visits: planned, or logged after the fact. */
    ASSERT(roved_domain_visit_move_ok(NULL, "planned"));
    ASSERT(roved_domain_visit_move_ok(NULL, "completed"));
    ASSERT(!roved_domain_visit_move_ok(NULL, "cancelled"));
    ASSERT(!roved_domain_visit_move_ok(NULL, "bogus"));
}

void test_domain__task_moves(void)
{
    static const char *const chain[] = {"new",      "assigned",  "scheduled", "in_progress",
                                        "resolved", "follow_up", "closed"};
    for (size_t i = 0; i + 1 < sizeof(chain) / sizeof(chain[0]); i++)
        if (!roved_domain_task_move_ok(chain[i], chain[i + 1]))
            ROVE_TEST_FAIL_("%s -> %s refused", chain[i], chain[i + 1]);
    ASSERT(roved_domain_task_move_ok("resolved", "in_progress"));
    ASSERT(roved_domain_task_move_ok("new", "cancelled"));
    ASSERT(!roved_domain_task_move_ok("closed", "in_progress"));
    ASSERT(!roved_domain_task_move_ok("cancelled", "new"));
    ASSERT(!roved_domain_task_move_ok("new", "closed"));
    ASSERT(!roved_domain_task_move_ok("in_progress", "closed"));
    ASSERT(roved_domain_task_move_ok(NULL, "new"));
    ASSERT(!roved_domain_task_move_ok(NULL, "resolved"));
}

void test_domain__distance(void)
{
    /* 0.001 degree of latitude is about 111.2 m everywhere. */
    double d = roved_domain_distance_m(52.0, 4.0, 52.001, 4.0);
    ASSERT(fabs(d - 111.2) < 0.5);
    ASSERT(roved_domain_distance_m(10, 20, 10, 20) == 0.0);
    /* Antipodes: half the circumference, no NaN. */
    d = roved_domain_distance_m(0, 0, 0, 180);
    ASSERT(isfinite(d) && fabs(d - 20015086.8) < 100);
    ASSERT(!roved_domain_geo_ok(91, 0));
    ASSERT(!roved_domain_geo_ok(0, NAN));
    ASSERT(roved_domain_geo_ok(-90, 180));
}

void test_domain__geo_check(void)
{
    double dist;
    ASSERT_EQ_STR(roved_domain_geo_check(1, 52, 4, 1, 52.001, 4, 0, 500, &dist),
                  "within_range");
    ASSERT(dist > 100 && dist < 120);
    ASSERT_EQ_STR(roved_domain_geo_check(1, 52, 4, 1, 52.01, 4, 0, 500, &dist), "out_of_range");
    ASSERT_EQ_STR(roved_domain_geo_check(1, 52, 4, 1, 52.001, 4, 0, 100, &dist),
                  "out_of_range");
    ASSERT_EQ_STR(roved_domain_geo_check(0, 0, 0, 1, 52, 4, 0, 500, &dist), "unverifiable");
    ASSERT(dist < 0);
    ASSERT_EQ_STR(roved_domain_geo_check(1, 52, 4, 0, 0, 0, 0, 500, &dist), "unverifiable");
    ASSERT_EQ_STR(roved_domain_geo_check(1, 52, 4, 0, 0, 0, 1, 500, &dist), "manual");
    /* A position given wins over a reason. */
    ASSERT_EQ_STR(roved_domain_geo_check(1, 52, 4, 1, 52, 4, 1, 500, &dist), "within_range");
}

void test_domain__sla(void)
{
    roved_policy p = default_policy();
    int64_t t0 = 1800000000000, resp, resolve;
    roved_domain_sla(&p, roved_domain_tier("A", 1), roved_domain_priority("urgent", 6), t0,
                     &resp, &resolve);
    ASSERT_EQ_INT(resp - t0, 2 * 3600000);
    ASSERT_EQ_INT(resolve - t0, 8 * 3600000);
    roved_domain_sla(&p, roved_domain_tier("C", 1), roved_domain_priority("low", 3), t0, &resp,
                     &resolve);
    ASSERT_EQ_INT(resolve - t0, 336ll * 3600000);
    /* Unknown tier counts as C, unknown priority as normal. */
    roved_domain_sla(&p, -1, -1, t0, &resp, &resolve);
    ASSERT_EQ_INT(resp - t0, 48ll * 3600000);
}

void test_domain__policy_parse_errors(void)
{
    roved_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.cadence_days, "VIP=7,A=14,B=30,C=60");
    char err[300];
    roved_policy p;
    static const char *const bad_sla[] = {
        "",
        "VIP=1/4",
        "VIP=1/4,2/8,4/24,8/48;A=2/8,4/24,8/48,24/96;B=4/24,8/48,24/96,48/168",
        "VIP=4/1,2/8,4/24,8/48;A=2/8,4/24,8/48,24/96;B=4/24,8/48,24/96,48/168;"
        "C=8/48,24/96,48/168,72/336",
        "X=1/4,2/8,4/24,8/48",
        "VIP=1/4,2/8,4/24,8/48x;A=2/8,4/24,8/48,24/96;"
        "B=4/24,8/48,24/96,48/168;C=8/48,24/96,48/168,72/336"};
    for (size_t i = 0; i < sizeof(bad_sla) / sizeof(bad_sla[0]); i++) {
        strcpy(cfg.sla_policy, bad_sla[i]);
        if (roved_policy_load(&p, &cfg, err, sizeof(err)) != ROVE_EINVAL)
            ROVE_TEST_FAIL_("sla policy \"%s\" accepted", bad_sla[i]);
    }
    strcpy(cfg.sla_policy, "VIP=1/4,2/8,4/24,8/48;A=2/8,4/24,8/48,24/96;"
                           "B=4/24,8/48,24/96,48/168;C=8/48,24/96,48/168,72/336");
    static const char *const bad_cadence[] = {"", "VIP=7", "VIP=0,A=14,B=30,C=60",
                                              "VIP=7,A=14,B=30,C=60,", "VIP=7,A=x,B=30,C=60"};
    for (size_t i = 0; i < sizeof(bad_cadence) / sizeof(bad_cadence[0]); i++) {
        strcpy(cfg.cadence_days, bad_cadence[i]);
        int rc = roved_policy_load(&p, &cfg, err, sizeof(err));
        if (i == 3 ? rc != 0 : rc != ROVE_EINVAL)
            ROVE_TEST_FAIL_("cadence \"%s\": %d", bad_cadence[i], rc);
    }
}

void test_domain__cadence(void)
{
    roved_policy p = default_policy();
    int64_t last = 1800000000000;
    ASSERT_EQ_INT(roved_domain_next_visit_due(&p, 0, 0, last), last + 7 * 86400000ll);
    ASSERT_EQ_INT(roved_domain_next_visit_due(&p, 3, 0, last), last + 60 * 86400000ll);
    ASSERT_EQ_INT(roved_domain_next_visit_due(&p, 0, 21, last), last + 21 * 86400000ll);
    ASSERT_EQ_INT(roved_domain_next_visit_due(&p, 0, 0, 0), 0);
}

void test_domain__skills(void)
{
    ASSERT(roved_domain_skills_match("hvac:3,electrics:2", "hvac:2"));
    ASSERT(roved_domain_skills_match("hvac:3,electrics:2", "electrics:2,hvac:3"));
    ASSERT(roved_domain_skills_match("hvac:3", NULL));
    ASSERT(roved_domain_skills_match("hvac:3", ""));
    ASSERT(roved_domain_skills_match("hvac", "hvac:1"));
    ASSERT(!roved_domain_skills_match("hvac:3", "hvac:4"));
    ASSERT(!roved_domain_skills_match("hvac:3", "plumbing:1"));
    ASSERT(!roved_domain_skills_match(NULL, "plumbing:1"));
    ASSERT(!roved_domain_skills_match("hvac:3", "hvac:9"));
    ASSERT(roved_domain_skills_valid("a:1,b-c:5, d_e"));
    ASSERT(roved_domain_skills_valid(NULL));
    ASSERT(!roved_domain_skills_valid("hvac:0"));
    ASSERT(!roved_domain_skills_valid("hvac:6"));
    ASSERT(!roved_domain_skills_valid("HVAC:1"));
    ASSERT(!roved_domain_skills_valid("hvac:1x"));
    ASSERT(!roved_domain_skills_valid(":1"));
}

/* The schema of every synced table (see schema.h). Edit here, and both the
 * replica and the server DDL, and the wire validation, follow. */
#include <string.h>

#include "rove/errors.h"
#include "schema.h"

#define ALL ROVE__ROLE_ALL
#define COMMERCIAL (ROVE__ROLE_REP | ROVE__ROLE_MANAGER | ROVE__ROLE_ADMIN)

/* Enum value lists; for state machines the order is the rank. */
static const char *const stage_values[] = {"unidentified", "prospect", "opportunity", "ordered",
                                           "user",         "churned",  NULL};
static const char *const channel_values[] = {"phone",        "fax",   "email", "sms",
                                             "face_to_face", "media", "web",   "event",
                                             "referral",     "rep",   NULL};
static const char *const tier_values[] = {"VIP", "A", "B", "C", NULL};
static const char *const decision_values[] = {
    "decision_maker", "influencer", "user", "gatekeeper", "champion", "other", NULL};
static const char *const visit_status_values[] = {
    "planned", "needs_replan", "checked_in", "missed", "cancelled", "completed", NULL};
static const char *const geo_check_values[] = {"within_range", "out_of_range", "unverifiable",
                                               "manual", NULL};
static const char *const task_type_values[] = {"request", "complaint", "maintenance", NULL};
static const char *const priority_values[] = {"low", "normal", "high", "urgent", NULL};
static const char *const task_status_values[] = {"new",         "assigned",  "scheduled",
                                                 "in_progress", "resolved",  "follow_up",
                                                 "closed",      "cancelled", NULL};

#define SYS_COLUMNS                                                                            \
    {"id", ROVE__T_TEXT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL},               \
        {"version", ROVE__T_INT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL},       \
        {"created_by", ROVE__T_TEXT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL},   \
        {"created_at", ROVE__T_INT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL},    \
        {"updated_by", ROVE__T_TEXT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL},   \
        {"updated_at", ROVE__T_INT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL},    \
    {                                                                                          \
        "deleted", ROVE__T_INT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ALL, NULL, NULL          \
    }

#define SO ROVE__COL_SERVER_OWNED
#define REQ ROVE__COL_REQUIRED
#define REF ROVE__COL_REF
#define EN ROVE__COL_ENUM
#define LWW ROVE__MERGE_LWW
#define SRV ROVE__MERGE_SERVER
#define RANK ROVE__MERGE_RANK
#define APP ROVE__MERGE_APPEND

static const rove__column account_cols[] = {
    SYS_COLUMNS,
    {"name", ROVE__T_TEXT, REQ, LWW, ALL, NULL, NULL},
    {"stage", ROVE__T_TEXT, SO | EN, SRV, ALL, stage_values, NULL},
    {"source_channel", ROVE__T_TEXT, EN, LWW, COMMERCIAL, channel_values, NULL},
    {"campaign", ROVE__T_TEXT, 0, LWW, COMMERCIAL, NULL, NULL},
    {"referrer", ROVE__T_TEXT, 0, LWW, COMMERCIAL, NULL, NULL},
    {"tier", ROVE__T_TEXT, SO | EN, SRV, ALL, tier_values, NULL},
    {"owner_id", ROVE__T_TEXT, SO, SRV, ALL, NULL, NULL},
    {"territory_id", ROVE__T_TEXT, SO, SRV, ALL, NULL, NULL},
    {"address", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"lat", ROVE__T_REAL, 0, LWW, ALL, NULL, NULL},
    {"lon", ROVE__T_REAL, 0, LWW, ALL, NULL, NULL},
    {"checkin_radius_m", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"phone", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"discount_pct", ROVE__T_REAL, 0, SRV, COMMERCIAL, NULL, NULL},
    {"price_notes", ROVE__T_TEXT, 0, APP, COMMERCIAL, NULL, NULL},
    {"visit_freq_days", ROVE__T_INT, 0, LWW, COMMERCIAL, NULL, NULL},
    {"last_visit_at", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"next_visit_due", ROVE__T_INT, SO, SRV, COMMERCIAL, NULL, NULL},
    {"notes", ROVE__T_TEXT, 0, APP, ALL, NULL, NULL},
};

static const rove__column contact_cols[] = {
    SYS_COLUMNS,
    {"account_id", ROVE__T_TEXT, REQ | REF, SRV, ALL, NULL, "account"},
    {"name", ROVE__T_TEXT, REQ, LWW, ALL, NULL, NULL},
    {"title", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"decision_role", ROVE__T_TEXT, EN, LWW, COMMERCIAL, decision_values, NULL},
    {"phone", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"mobile", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"email", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"is_primary", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
};

static const rove__column visit_cols[] = {
    SYS_COLUMNS,
    {"account_id", ROVE__T_TEXT, REQ | REF, SRV, ALL, NULL, "account"},
    {"contact_id", ROVE__T_TEXT, REF, LWW, ALL, NULL, "contact"},
    {"planned_for", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"performed_by", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"on_behalf_of", ROVE__T_TEXT, SO, SRV, ALL, NULL, NULL},
    {"purpose", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"planned_start", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
    {"planned_end", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
    {"status", ROVE__T_TEXT, EN, RANK, ALL, visit_status_values, NULL},
    {"checkin_at", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
    {"checkin_lat", ROVE__T_REAL, 0, LWW, ALL, NULL, NULL},
    {"checkin_lon", ROVE__T_REAL, 0, LWW, ALL, NULL, NULL},
    {"checkout_at", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
    {"checkout_lat", ROVE__T_REAL, 0, LWW, ALL, NULL, NULL},
    {"checkout_lon", ROVE__T_REAL, 0, LWW, ALL, NULL, NULL},
    {"geo_check", ROVE__T_TEXT, SO | EN, SRV, ALL, geo_check_values, NULL},
    {"geo_reason", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"checkin_distance_m", ROVE__T_REAL, SO, SRV, ALL, NULL, NULL},
    {"outcome", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"notes", ROVE__T_TEXT, 0, APP, ALL, NULL, NULL},
    {"next_action", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
};

static const rove__column task_cols[] = {
    SYS_COLUMNS,
    {"account_id", ROVE__T_TEXT, REQ | REF, SRV, ALL, NULL, "account"},
    {"contact_id", ROVE__T_TEXT, REF, LWW, ALL, NULL, "contact"},
    {"type", ROVE__T_TEXT, REQ | EN, LWW, ALL, task_type_values, NULL},
    {"priority", ROVE__T_TEXT, EN, LWW, ALL, priority_values, NULL},
    {"channel", ROVE__T_TEXT, EN, LWW, ALL, channel_values, NULL},
    {"title", ROVE__T_TEXT, REQ, LWW, ALL, NULL, NULL},
    {"description", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"reported_at", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
    {"assignee_id", ROVE__T_TEXT, SO, SRV, ALL, NULL, NULL},
    {"original_assignee_id", ROVE__T_TEXT, SO, SRV, ALL, NULL, NULL},
    {"required_skills", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"status", ROVE__T_TEXT, EN, RANK, ALL, task_status_values, NULL},
    {"sla_response_due", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"sla_resolve_due", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"queue", ROVE__T_TEXT, SO, SRV, ALL, NULL, NULL},
    {"first_response_at", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"resolved_at", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"resolution", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"followup_due", ROVE__T_INT, SO, SRV, ALL, NULL, NULL},
    {"satisfaction", ROVE__T_INT, 0, LWW, ALL, NULL, NULL},
    {"close_reason", ROVE__T_TEXT, 0, LWW, ALL, NULL, NULL},
    {"notes", ROVE__T_TEXT, 0, APP, ALL, NULL, NULL},
};

/* Stage history of an account: written only by the server when the stage
 * changes (rovectl / manager API); devices read it. */
static const rove__column stage_change_cols[] = {
    SYS_COLUMNS,
    {"account_id", ROVE__T_TEXT, SO | REQ | REF, SRV, COMMERCIAL, NULL, "account"},
    {"from_stage", ROVE__T_TEXT, SO | EN, SRV, COMMERCIAL, stage_values, NULL},
    {"to_stage", ROVE__T_TEXT, SO | EN, SRV, COMMERCIAL, stage_values, NULL},
    {"changed_by", ROVE__T_TEXT, SO, SRV, COMMERCIAL, NULL, NULL},
    {"changed_at", ROVE__T_INT, SO, SRV, COMMERCIAL, NULL, NULL},
    {"reason", ROVE__T_TEXT, SO, SRV, COMMERCIAL, NULL, NULL},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const rove__table tables[] = {
    {"account", account_cols, N(account_cols), ALL},
    {"contact", contact_cols, N(contact_cols), ALL},
    {"visit", visit_cols, N(visit_cols),
     ROVE__ROLE_REP | ROVE__ROLE_MANAGER | ROVE__ROLE_ADMIN},
    {"service_task", task_cols, N(task_cols), ALL},
    {"stage_change", stage_change_cols, N(stage_change_cols), COMMERCIAL},
};

const rove__table *rove__schema_tables(size_t *out_n)
{
    *out_n = N(tables);
    return tables;
}

const rove__table *rove__schema_table(const char *name, size_t len)
{
    for (size_t i = 0; i < N(tables); i++)
        if (strlen(tables[i].name) == len && memcmp(tables[i].name, name, len) == 0)
            return &tables[i];
    return NULL;
}

int rove__schema_col(const rove__table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strlen(t->cols[i].name) == len && memcmp(t->cols[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int rove__schema_enum_rank(const rove__column *c, const char *s, size_t len)
{
    if (c->enum_values == NULL)
        return -1;
    for (int i = 0; c->enum_values[i] != NULL; i++)
        if (strlen(c->enum_values[i]) == len && memcmp(c->enum_values[i], s, len) == 0)
            return i;
    return -1;
}

int rove__schema_enum_ok(const rove__column *c, const char *s, size_t len)
{
    return rove__schema_enum_rank(c, s, len) >= 0;
}

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {
    {"rep", ROVE__ROLE_REP},
    {"technician", ROVE__ROLE_TECH},
    {"manager", ROVE__ROLE_MANAGER},
    {"admin", ROVE__ROLE_ADMIN},
};

unsigned rove__role_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < N(roles); i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *rove__role_name(unsigned role)
{
    for (size_t i = 0; i < N(roles); i++)
        if (roles[i].bit == role)
            return roles[i].name;
    return NULL;
}

static const char *sql_type(rove__coltype t)
{
    switch (t) {
    case ROVE__T_INT:
        return "INTEGER";
    case ROVE__T_REAL:
        return "REAL";
    default:
        return "TEXT";
    }
}

int rove__schema_ddl(rove__buf *out, int side)
{
    if (side != ROVE__DDL_REPLICA && side != ROVE__DDL_SERVER)
        return ROVE_EINVAL;
    for (size_t i = 0; i < N(tables); i++) {
        const rove__table *t = &tables[i];
        rove__buf_printf(out, "CREATE TABLE IF NOT EXISTS %s (\n", t->name);
        for (size_t c = 0; c < t->ncols; c++) {
            const rove__column *col = &t->cols[c];
            rove__buf_printf(out, "  %s %s", col->name, sql_type(col->type));
            if (c == ROVE__COL_ID)
                rove__buf_puts(out, " PRIMARY KEY NOT NULL");
            else if (c == ROVE__COL_VERSION || c == ROVE__COL_DELETED)
                rove__buf_puts(out, " NOT NULL DEFAULT 0");
            rove__buf_puts(out, c + 1 < t->ncols ? ",\n" : "\n");
        }
        rove__buf_puts(out, ");\n");
        if (side == ROVE__DDL_SERVER)
            rove__buf_printf(out, "CREATE INDEX IF NOT EXISTS %s_version ON %s(version);\n",
                             t->name, t->name);
        for (size_t c = 0; c < t->ncols; c++) {
            const rove__column *col = &t->cols[c];
            int indexed = (col->flags & ROVE__COL_REF) != 0 ||
                          (side == ROVE__DDL_SERVER && (strcmp(col->name, "owner_id") == 0 ||
                                                        strcmp(col->name, "assignee_id") == 0));
            if (indexed)
                rove__buf_printf(out, "CREATE INDEX IF NOT EXISTS %s_%s ON %s(%s);\n", t->name,
                                 col->name, t->name, col->name);
        }
    }
    return rove__buf_status(out);
}

const char *rove__delegation_action(const rove__table *t)
{
    if (strcmp(t->name, "visit") == 0)
        return "visits";
    if (strcmp(t->name, "service_task") == 0)
        return "tasks";
    if (strcmp(t->name, "account") == 0 || strcmp(t->name, "contact") == 0)
        return "accounts";
    return NULL;
}

int rove__actions_has(const char *actions, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = actions; p != NULL && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, want, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* Tests of the schema and the DDL generated from it (shared/schema.c). */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "test.h"

static const char *const sys_names[ROVE__SYS_COLS] = {
    "id", "version", "created_by", "created_at", "updated_by", "updated_at", "deleted"};
static const rove__coltype sys_types[ROVE__SYS_COLS] = {
    ROVE__T_TEXT, ROVE__T_INT, ROVE__T_TEXT, ROVE__T_INT,
    ROVE__T_TEXT, ROVE__T_INT, ROVE__T_INT};

static const rove__table *table(const char *name)
{
    return rove__schema_table(name, strlen(name));
}

void test_schema__tables_start_with_system_columns(void)
{
    size_t n = 0;
    const rove__table *t = rove__schema_tables(&n);
    ASSERT(t != NULL);
    ASSERT(n >= 4);
    for (size_t i = 0; i < n; i++) {
        ASSERT(t[i].ncols > ROVE__SYS_COLS);
        ASSERT(t[i].ncols <= ROVE__MAX_COLS);
        for (int c = 0; c < ROVE__SYS_COLS; c++) {
            ASSERT_EQ_STR(t[i].cols[c].name, sys_names[c]);
            ASSERT_EQ_INT(t[i].cols[c].type, sys_types[c]);
            ASSERT(t[i].cols[c].flags & ROVE__COL_SYSTEM);
        }
        for (size_t c = ROVE__SYS_COLS; c < t[i].ncols; c++)
            ASSERT(!(t[i].cols[c].flags & ROVE__COL_SYSTEM));
    }
    ASSERT_EQ_STR(sys_names[ROVE__COL_ID], "id");
    ASSERT_EQ_STR(sys_names[ROVE__COL_VERSION], "version");
    ASSERT_EQ_STR(sys_names[ROVE__COL_DELETED], "deleted");
}

void test_schema__columns_are_consistent(void)
{
    size_t n;
    const rove__table *t = rove__schema_tables(&n);
    for (size_t i = 0; i < n; i++) {
        ASSERT(t[i].visible != 0);
        ASSERT((t[i].visible & ~ROVE__ROLE_ALL) == 0);
        for (size_t c = 0; c < t[i].ncols; c++) {
            const rove__column *col = &t[i].cols[c];
            ASSERT(col->name != NULL && col->name[0] != 0);
            ASSERT(col->type == ROVE__T_INT || col->type == ROVE__T_REAL ||
                   col->type == ROVE__T_TEXT);
            /* Names are unique within a table, and found by lookup. */
            ASSERT_EQ_INT(rove__schema_col(&t[i], col->name, strlen(col->name)), (int)c);
            /* Columns are visible to a subset of the table's roles. */
            ASSERT((col->visible & ~t[i].visible) == 0 || t[i].visible == ROVE__ROLE_ALL ||
                   (col->visible & t[i].visible) != 0);
            if (col->flags & ROVE__COL_ENUM) {
                ASSERT(col->type == ROVE__T_TEXT);
                ASSERT(col->enum_values != NULL && col->enum_values[0] != NULL);
            } else {
                ASSERT(col->enum_values == NULL);
            }
            if (col->flags & ROVE__COL_REF) {
                ASSERT(col->type == ROVE__T_TEXT);
                ASSERT(col->ref_table != NULL);
                /* Tables are in dependency order: the parent comes first. */
                const rove__table *parent = table(col->ref_table);
                ASSERT(parent != NULL);
                ASSERT(parent < &t[i]);
            } else {
                ASSERT(col->ref_table == NULL);
            }
        }
    }
}

void test_schema__lookup(void)
{
    const rove__table *acc = table("account");
    ASSERT(acc != NULL);
    ASSERT_EQ_STR(acc->name, "account");
    ASSERT(table("service_task") != NULL);
    ASSERT(table("Account") == NULL);
    ASSERT(table("accoun") == NULL);
    ASSERT(table("accounts") == NULL);
    ASSERT(table("") == NULL);
    ASSERT(rove__schema_table("account", 6) == NULL);   /* a prefix */
    ASSERT(rove__schema_table("accountXYZ", 7) == acc); /* length counts */
    ASSERT_EQ_INT(rove__schema_col(acc, "name", 4), ROVE__SYS_COLS);
    ASSERT_EQ_INT(rove__schema_col(acc, "nam", 3), -1);
    ASSERT_EQ_INT(rove__schema_col(acc, "NAME", 4), -1);
    ASSERT_EQ_INT(rove__schema_col(acc, "", 0), -1);
    ASSERT_EQ_INT(rove__schema_col(acc, "account_id", 10), -1); /* contact's column */
    ASSERT_EQ_INT(rove__schema_col(acc, "id", 2), ROVE__COL_ID);
}

void test_schema__enum_rank_order(void)
{
    const rove__table *acc = table("account");
    const rove__column *stage = &acc->cols[rove__schema_col(acc, "stage", 5)];
    static const char *const order[] = {"unidentified", "prospect", "opportunity",
                                        "ordered",      "user",     "churned"};
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ_INT(rove__schema_enum_rank(stage, order[i], strlen(order[i])), i);
        ASSERT(rove__schema_enum_ok(stage, order[i], strlen(order[i])));
    }
    ASSERT_EQ_INT(rove__schema_enum_rank(stage, "lost", 4), -1);
    ASSERT_EQ_INT(rove__schema_enum_rank(stage, "user", 3), -1);
    ASSERT_EQ_INT(rove__schema_enum_rank(stage, "", 0), -1);
    ASSERT(!rove__schema_enum_ok(stage, "Prospect", 8));

    /* State machines merged by rank: terminal states rank highest. */
    const rove__table *visit = table("visit");
    const rove__column *vs = &visit->cols[rove__schema_col(visit, "status", 6)];
    ASSERT_EQ_INT(vs->merge, ROVE__MERGE_RANK);
    ASSERT(rove__schema_enum_rank(vs, "planned", 7) <
           rove__schema_enum_rank(vs, "checked_in", 10));
    ASSERT(rove__schema_enum_rank(vs, "checked_in", 10) <
           rove__schema_enum_rank(vs, "completed", 9));
    const rove__table *task = table("service_task");
    const rove__column *ts = &task->cols[rove__schema_col(task, "status", 6)];
    ASSERT_EQ_INT(ts->merge, ROVE__MERGE_RANK);
    ASSERT_EQ_INT(rove__schema_enum_rank(ts, "new", 3), 0);
    ASSERT(rove__schema_enum_rank(ts, "in_progress", 11) <
           rove__schema_enum_rank(ts, "resolved", 8));
    ASSERT(rove__schema_enum_rank(ts, "resolved", 8) < rove__schema_enum_rank(ts, "closed", 6));

    /* A column that is not an enum has no ranks. */
    const rove__column *name = &acc->cols[rove__schema_col(acc, "name", 4)];
    ASSERT_EQ_INT(rove__schema_enum_rank(name, "user", 4), -1);
    ASSERT(!rove__schema_enum_ok(name, "user", 4));
}

void test_schema__role_names(void)
{
    static const struct {
        const char *name;
        unsigned bit;
    } roles[] = {{"rep", ROVE__ROLE_REP},
                 {"technician", ROVE__ROLE_TECH},
                 {"manager", ROVE__ROLE_MANAGER},
                 {"admin", ROVE__ROLE_ADMIN}};
    unsigned all = 0;
    for (size_t i = 0; i < 4; i++) {
        ASSERT_EQ_UINT(rove__role_from_name(roles[i].name), roles[i].bit);
        ASSERT_EQ_STR(rove__role_name(roles[i].bit), roles[i].name);
        all |= roles[i].bit;
    }
    ASSERT_EQ_UINT(all, ROVE__ROLE_ALL);
    ASSERT_EQ_UINT(rove__role_from_name("Rep"), 0);
    ASSERT_EQ_UINT(rove__role_from_name("tech"), 0);
    ASSERT_EQ_UINT(rove__role_from_name(""), 0);
    ASSERT_EQ_UINT(rove__role_from_name(NULL), 0);
    ASSERT(rove__role_name(0) == NULL);
    ASSERT(rove__role_name(ROVE__ROLE_REP | ROVE__ROLE_ADMIN) == NULL);
    ASSERT(rove__role_name(0x10) == NULL);
}

static sqlite3 *open_with_ddl(int side)
{
    rove__buf ddl = ROVE__BUF_INIT;
    ASSERT_OK(rove__schema_ddl(&ddl, side));
    ASSERT(ddl.len > 0);
    sqlite3 *db = NULL;
    ASSERT_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, (const char *)ddl.ptr, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        ROVE_TEST_FAIL_("DDL for side %d failed: %s", side, msg ? msg : "?");
    /* IF NOT EXISTS: running it again is harmless. */
    rc = sqlite3_exec(db, (const char *)ddl.ptr, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        ROVE_TEST_FAIL_("DDL for side %d failed the second time: %s", side, msg ? msg : "?");
    rove__buf_free(&ddl);
    return db;
}

static const char *sql_type(rove__coltype t)
{
    return t == ROVE__T_INT ? "INTEGER" : t == ROVE__T_REAL ? "REAL" : "TEXT";
}

static void check_tables(sqlite3 *db)
{
    size_t n;
    const rove__table *t = rove__schema_tables(&n);
    for (size_t i = 0; i < n; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", t[i].name);
        sqlite3_stmt *st = NULL;
        ASSERT_EQ_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        size_t c = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            ASSERT(c < t[i].ncols);
            const rove__column *col = &t[i].cols[c];
            ASSERT_EQ_INT(sqlite3_column_int(st, 0), (int)c);
            ASSERT_EQ_STR((const char *)sqlite3_column_text(st, 1), col->name);
            ASSERT_EQ_STR((const char *)sqlite3_column_text(st, 2), sql_type(col->type));
            int notnull = sqlite3_column_int(st, 3);
            int pk = sqlite3_column_int(st, 5);
            ASSERT_EQ_INT(pk, c == ROVE__COL_ID ? 1 : 0);
            if (c == ROVE__COL_ID || c == ROVE__COL_VERSION || c == ROVE__COL_DELETED)
                ASSERT_EQ_INT(notnull, 1);
            c++;
        }
        ASSERT_EQ_INT(sqlite3_finalize(st), SQLITE_OK);
        if (c != t[i].ncols)
            ROVE_TEST_FAIL_("table %s has %zu columns in SQLite, %zu in the schema", t[i].name,
                            c, t[i].ncols);
    }
    /* And nothing else: exactly the schema's tables. */
    sqlite3_stmt *st = NULL;
    ASSERT_EQ_INT(sqlite3_prepare_v2(db,
                                     "SELECT count(*) FROM sqlite_master WHERE type='table'",
                                     -1, &st, NULL),
                  SQLITE_OK);
    ASSERT_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    ASSERT_EQ_INT(sqlite3_column_int(st, 0), (int)n);
    sqlite3_finalize(st);
}

static int index_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    ASSERT_EQ_INT(
        sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='index' AND name=?", -1,
                           &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

void test_schema__replica_ddl_matches_schema(void)
{
    sqlite3 *db = open_with_ddl(ROVE__DDL_REPLICA);
    check_tables(db);
    ASSERT(index_exists(db, "contact_account_id"));
    ASSERT(!index_exists(db, "account_version")); /* server only */
    sqlite3_close(db);
}

void test_schema__server_ddl_matches_schema(void)
{
    sqlite3 *db = open_with_ddl(ROVE__DDL_SERVER);
    check_tables(db);
    size_t n;
    const rove__table *t = rove__schema_tables(&n);
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s_version", t[i].name);
        ASSERT(index_exists(db, name));
    }
    ASSERT(index_exists(db, "account_owner_id"));
    ASSERT(index_exists(db, "service_task_assignee_id"));
    sqlite3_close(db);
}

void test_schema__ddl_defaults_and_primary_key(void)
{
    sqlite3 *db = open_with_ddl(ROVE__DDL_REPLICA);
    char *msg = NULL;
    ASSERT_EQ_INT(
        sqlite3_exec(db, "INSERT INTO account(id, name) VALUES('A', 'x')", NULL, NULL, &msg),
        SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ASSERT_EQ_INT(sqlite3_prepare_v2(db, "SELECT version, deleted FROM account", -1, &st, NULL),
                  SQLITE_OK);
    ASSERT_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    ASSERT_EQ_INT(sqlite3_column_int(st, 0), 0);
    ASSERT_EQ_INT(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    /* The id is the primary key: no duplicates, no NULL. */
    ASSERT(sqlite3_exec(db, "INSERT INTO account(id) VALUES('A')", NULL, NULL, NULL) !=
           SQLITE_OK);
    ASSERT(sqlite3_exec(db, "INSERT INTO account(id) VALUES(NULL)", NULL, NULL, NULL) !=
           SQLITE_OK);
    sqlite3_close(db);
}

void test_schema__ddl_errors(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_RC(rove__schema_ddl(&b, 0), ROVE_EINVAL);
    ASSERT_RC(rove__schema_ddl(&b, 3), ROVE_EINVAL);
    ASSERT_EQ_UINT(b.len, 0);
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX), ROVE_ENOMEM);
    ASSERT_RC(rove__schema_ddl(&b, ROVE__DDL_SERVER), ROVE_ENOMEM);
    rove__buf_free(&b);
}

/* Delegations: which action a write needs, and action lists. */
void test_schema__delegation_actions(void)
{
    ASSERT(strcmp(rove__delegation_action(rove__schema_table("visit", 5)), "visits") == 0);
    ASSERT(strcmp(rove__delegation_action(rove__schema_table("contact", 7)), "accounts") == 0);
    ASSERT(strcmp(rove__delegation_action(rove__schema_table("account", 7)), "accounts") == 0);
    ASSERT(strcmp(rove__delegation_action(rove__schema_table("service_task", 12)), "tasks") ==
           0);
    ASSERT(rove__delegation_action(rove__schema_table("stage_change", 12)) == NULL);
    ASSERT(rove__actions_has("visits,accounts,tasks", "tasks"));
    ASSERT(rove__actions_has("visits", "visits"));
    ASSERT(!rove__actions_has("visits,accounts", "tasks"));
    ASSERT(!rove__actions_has("visitsx,accounts", "visits"));
    ASSERT(!rove__actions_has("", "visits"));
    ASSERT(!rove__actions_has(NULL, "visits"));
}

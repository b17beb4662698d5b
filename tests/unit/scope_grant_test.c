/* The write grant per role, table, operation and column (server/src/scope.c,
 * roved_scope_grant): the permission table of docs/scope.md, checked cell by
 * cell against the schema. */
#include <string.h>

#include "proto.h"
#include "rove/errors.h"
#include "schema.h"
#include "scope.h"
#include "test.h"

static const unsigned roles[] = {ROVE__ROLE_REP, ROVE__ROLE_TECH, ROVE__ROLE_MANAGER,
                                 ROVE__ROLE_ADMIN};

static int grant(unsigned role, const char *table, int op, const char *col)
{
    const rove__table *t = rove__schema_table(table, strlen(table));
    ASSERT(t != NULL);
    int c = col ? rove__schema_col(t, col, strlen(col)) : -1;
    ASSERT(col == NULL || c >= 0);
    char msg[160] = "";
    int rc = roved_scope_grant(role, t, op, &c, col ? 1 : 0, msg, sizeof(msg));
    ASSERT(rc == 0 || msg[0] != '\0');
    return rc;
}

/* Which operations each role may do on each table, whatever the record. */
void test_scope_grant__tables(void)
{
    static const char *const office_tables[] = {"account", "contact", "visit", "service_task"};
    for (size_t r = 0; r < 4; r++)
        for (int op = ROVE__OP_INSERT; op <= ROVE__OP_DELETE; op++) {
            /* The stage history is written only by server commands. */
            ASSERT_EQ_INT(grant(roles[r], "stage_change", op, NULL), ROVE_EFORBIDDEN);
            for (size_t t = 0; t < 4; t++) {
                int want = roles[r] != ROVE__ROLE_TECH ||
                                   (op == ROVE__OP_UPDATE &&
                                    strcmp(office_tables[t], "service_task") == 0)
                               ? 0
                               : ROVE_EFORBIDDEN;
                ASSERT_EQ_INT(grant(roles[r], office_tables[t], op, NULL), want);
            }
        }
    /* An operation that is none of the three. */
    ASSERT_EQ_INT(grant(ROVE__ROLE_ADMIN, "account", 0, NULL), ROVE_EFORBIDDEN);
    ASSERT_EQ_INT(grant(ROVE__ROLE_ADMIN, "account", 9, NULL), ROVE_EFORBIDDEN);
    /* No role at all (a corrupt user row) may do nothing. */
    ASSERT_EQ_INT(grant(0, "service_task", ROVE__OP_UPDATE, NULL), ROVE_EFORBIDDEN);
}

/* Within a granted table: every column the role receives that is neither
 * system nor server-owned, nothing else. */
void test_scope_grant__columns(void)
{
    size_t nt;
    const rove__table *tables = rove__schema_tables(&nt);
    for (size_t r = 0; r < 4; r++)
        for (size_t t = 0; t < nt; t++)
            for (size_t c = 0; c < tables[t].ncols; c++) {
                const rove__column *col = &tables[t].cols[c];
                int op = ROVE__OP_UPDATE;
                if (grant(roles[r], tables[t].name, op, NULL) != 0)
                    continue;
                int want = col->flags & (ROVE__COL_SYSTEM | ROVE__COL_SERVER_OWNED)
                               ? ROVE_ESERVEROWNED
                           : (col->visible & roles[r]) == 0 ? ROVE_EFORBIDDEN
                                                            : 0;
                ASSERT_EQ_INT(grant(roles[r], tables[t].name, op, col->name), want);
            }
    ASSERT_EQ_INT(grant(ROVE__ROLE_TECH, "service_task", ROVE__OP_UPDATE, "notes"), 0);
    ASSERT_EQ_INT(grant(ROVE__ROLE_TECH, "service_task", ROVE__OP_UPDATE, "resolution"), 0);
    ASSERT_EQ_INT(grant(ROVE__ROLE_TECH, "service_task", ROVE__OP_UPDATE, "assignee_id"),
                  ROVE_ESERVEROWNED);
    ASSERT_EQ_INT(grant(ROVE__ROLE_REP, "account", ROVE__OP_UPDATE, "discount_pct"), 0);
    ASSERT_EQ_INT(grant(ROVE__ROLE_REP, "account", ROVE__OP_UPDATE, "owner_id"),
                  ROVE_ESERVEROWNED);
}

/* A column a role does not receive is refused even in a table it may write
 * (no shipped column is such for a technician's task; this one is made up). */
void test_scope_grant__invisible_column(void)
{
    static const rove__column cols[] = {
        {"id", ROVE__T_TEXT, ROVE__COL_SYSTEM, ROVE__MERGE_SERVER, ROVE__ROLE_ALL, NULL, NULL},
        {"cost", ROVE__T_REAL, 0, ROVE__MERGE_LWW, ROVE__ROLE_REP | ROVE__ROLE_MANAGER, NULL,
         NULL},
        {"title", ROVE__T_TEXT, 0, ROVE__MERGE_LWW, ROVE__ROLE_ALL, NULL, NULL},
    };
    const rove__table t = {"service_task", cols, 3, ROVE__ROLE_ALL};
    char msg[160];
    int cost = 1, both[] = {2, 1}, title = 2;
    ASSERT_EQ_INT(
        roved_scope_grant(ROVE__ROLE_TECH, &t, ROVE__OP_UPDATE, &title, 1, msg, sizeof(msg)),
        0);
    ASSERT_EQ_INT(
        roved_scope_grant(ROVE__ROLE_TECH, &t, ROVE__OP_UPDATE, &cost, 1, msg, sizeof(msg)),
        ROVE_EFORBIDDEN);
    ASSERT_EQ_STR(msg, "technicians may not write service_task.cost");
    /* Nothing of a change is granted when one column is not. */
    ASSERT_EQ_INT(
        roved_scope_grant(ROVE__ROLE_TECH, &t, ROVE__OP_UPDATE, both, 2, msg, sizeof(msg)),
        ROVE_EFORBIDDEN);
    ASSERT_EQ_INT(
        roved_scope_grant(ROVE__ROLE_REP, &t, ROVE__OP_UPDATE, &cost, 1, msg, sizeof(msg)), 0);
    /* A table the role does not receive is not writable, whatever the grant. */
    const rove__table hidden = {"service_task", cols, 3, ROVE__ROLE_REP};
    ASSERT_EQ_INT(roved_scope_grant(ROVE__ROLE_TECH, &hidden, ROVE__OP_UPDATE, &title, 1, msg,
                                    sizeof(msg)),
                  ROVE_EFORBIDDEN);
}

#ifndef ROVE_SHARED_SCHEMA_H
#define ROVE_SHARED_SCHEMA_H

/*
 * The schema: one source of truth for every synced table, its columns, their
 * types, merge policy, who may write them and which roles may see them. Both
 * the replica DDL (SDK) and the server DDL (roved) are generated from it, and
 * the wire codec validates pushed changes against it.
 *
 * Every synced table starts with the same system columns, in this order:
 *   id, version, created_by, created_at, updated_by, updated_at, deleted
 * Times are integer milliseconds since the Unix epoch (UTC). `deleted` is the
 * tombstone (0/1). `version` is the server's global change sequence.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum rove__coltype {
    ROVE__T_NULL = 0, /* only as a value type, never a column type */
    ROVE__T_INT = 1,
    ROVE__T_REAL = 2,
    ROVE__T_TEXT = 3
} rove__coltype;

/* How concurrent writes to one column are resolved (docs/conflicts.md). */
typedef enum rove__merge {
    ROVE__MERGE_LWW = 0,    /* last writer wins by hybrid logical clock */
    ROVE__MERGE_SERVER = 1, /* server value wins over a stale device */
    ROVE__MERGE_RANK = 2,   /* state machine: higher rank wins */
    ROVE__MERGE_APPEND = 3  /* free text: both kept, attributed */
} rove__merge;

/* Column flags. */
#define ROVE__COL_SYSTEM 0x01u       /* maintained by the server; never pushed */
#define ROVE__COL_SERVER_OWNED 0x02u /* changed only by server commands */
#define ROVE__COL_REQUIRED 0x04u     /* an insert must give a non-null value */
#define ROVE__COL_REF 0x08u          /* holds the id of a row in ref_table */
#define ROVE__COL_ENUM 0x10u         /* value must be one of enum_values */

/* Roles, also used as visibility bitmasks. */
#define ROVE__ROLE_REP 0x01u
#define ROVE__ROLE_TECH 0x02u
#define ROVE__ROLE_MANAGER 0x04u
#define ROVE__ROLE_ADMIN 0x08u
#define ROVE__ROLE_ALL 0x0Fu

/* Number of system columns at the start of every table. */
#define ROVE__SYS_COLS 7
#define ROVE__COL_ID 0
#define ROVE__COL_VERSION 1
#define ROVE__COL_CREATED_BY 2
#define ROVE__COL_CREATED_AT 3
#define ROVE__COL_UPDATED_BY 4
#define ROVE__COL_UPDATED_AT 5
#define ROVE__COL_DELETED 6

/* Upper bound on columns in any table (wire decoders size arrays with it). */
#define ROVE__MAX_COLS 48

typedef struct rove__column {
    const char *name;
    rove__coltype type;
    unsigned flags;
    rove__merge merge;
    unsigned visible;               /* ROVE__ROLE_* mask that receives it */
    const char *const *enum_values; /* NULL-terminated, for ROVE__COL_ENUM */
    const char *ref_table;          /* for ROVE__COL_REF */
} rove__column;

typedef struct rove__table {
    const char *name;
    const rove__column *cols;
    size_t ncols;
    unsigned visible; /* roles whose devices may hold rows of this table */
} rove__table;

/* All synced tables, in dependency order (parents first). */
const rove__table *rove__schema_tables(size_t *out_n);
/* The table named name[0..len), or NULL. */
const rove__table *rove__schema_table(const char *name, size_t len);
/* Index of column name[0..len) in t, or -1. */
int rove__schema_col(const rove__table *t, const char *name, size_t len);
/* 1 when value s[0..len) is allowed in enum column c. */
int rove__schema_enum_ok(const rove__column *c, const char *s, size_t len);
/* Rank of an enum value in its state machine (its position), or -1. */
int rove__schema_enum_rank(const rove__column *c, const char *s, size_t len);

/* Role names ("rep", "technician", "manager", "admin") <-> ROVE__ROLE_* bits. */
unsigned rove__role_from_name(const char *name);
const char *rove__role_name(unsigned role);

/* Which side a DDL is for. */
#define ROVE__DDL_REPLICA 1
#define ROVE__DDL_SERVER 2

/*
 * Appends CREATE TABLE IF NOT EXISTS statements (and indexes) for every synced
 * table to out, separated by ";\n". Column types map to SQLite's INTEGER, REAL
 * and TEXT; the server store layer may rewrite them for other backends.
 */
int rove__schema_ddl(rove__buf *out, int side);

/* Delegations: the action a write to table t needs ("visits", "accounts",
 * "tasks"; NULL: no delegate may write it), and whether a comma list of
 * actions holds want. */
const char *rove__delegation_action(const rove__table *t);
int rove__actions_has(const char *actions, const char *want);

#endif

#ifndef ROVED_RESOLVER_H
#define ROVED_RESOLVER_H

/*
 * Custom conflict resolvers for roved (docs/conflicts.md, "Custom resolvers").
 *
 * A resolver decides a same-column conflict for one table column, instead of
 * the policy the schema declares for it (last writer wins, server wins, rank,
 * append). It is plain C in a shared object that roved loads at start:
 *
 *     roved --resolver-plugin /usr/lib/rove/my_resolvers.so ...
 *
 * The object exports roved_plugin_init (roved_plugin_init_fn), which calls
 * reg() once per column it resolves. roved refuses to start when the plugin
 * cannot be loaded, its ABI differs, or a registration names an unknown table
 * or column, a system or server-owned column, or a column registered twice.
 *
 * Resolvers run inside the push's write transaction, one at a time (pushes
 * are serialized), so they need no locking, but they must be quick, must not
 * block, and must be deterministic: the same inputs give the same answer.
 * Every value that does not survive is written to the conflict log with the
 * policy "custom:<name>", and the pushing device's receipt carries it.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROVED_RESOLVER_ABI 1

typedef enum roved_value_type {
    ROVED_NULL = 0,
    ROVED_INT = 1,
    ROVED_REAL = 2,
    ROVED_TEXT = 3
} roved_value_type;

/* A column value. Text is UTF-8, not NUL-terminated. */
typedef struct roved_value {
    roved_value_type type;
    int64_t i;
    double d;
    const char *s;
    size_t len;
} roved_value;

/* One conflict: the column was changed on the server after the version the
 * device based its edit on, by someone else. Strings are valid for the call. */
typedef struct roved_conflict_in {
    const char *table;
    const char *column;
    const char *record_id;
    roved_value server;      /* the stored value */
    roved_value device;      /* the pushed value */
    int64_t server_hlc;      /* when the stored value was written (HLC, bounded) */
    int64_t device_hlc;      /* when the pushed value was written (HLC, bounded) */
    const char *server_user; /* who wrote the stored value (user id), or NULL */
    const char *device_user; /* who pushed (user id) */
    const char *device_role; /* "rep", "technician", "manager" or "admin" */
} roved_conflict_in;

/* What a resolver answers. */
typedef enum roved_verdict {
    ROVED_KEEP_SERVER = 0, /* the stored value stays; the pushed one is logged */
    ROVED_TAKE_DEVICE = 1, /* the pushed value is stored; the replaced one is logged */
    ROVED_USE_VALUE = 2    /* *out is stored (a merge); both inputs are logged */
} roved_verdict;

/*
 * Returns a roved_verdict, or a negative number when it cannot decide (roved
 * then applies the schema's policy and logs a warning). For ROVED_USE_VALUE,
 * *out must have the column's type (or be null), and its text must stay valid
 * until the next call of this resolver; an invalid *out is treated like a
 * negative return.
 */
typedef int (*roved_resolver_fn)(const roved_conflict_in *in, roved_value *out, void *ud);

/* Registers fn for table.column under name (letters, digits, '_' and '-', at
 * most 40). Returns 0, or -1 with a message on roved's stderr. */
typedef int (*roved_register_fn)(const char *name, const char *table, const char *column,
                                 roved_resolver_fn fn, void *ud);

/* The plugin's entry point, exported as "roved_plugin_init". abi is
 * ROVED_RESOLVER_ABI of the loading roved; return nonzero to refuse. */
typedef int (*roved_plugin_init_fn)(int abi, roved_register_fn reg);

/* Declared for plugins, which define it (roved itself does not). */
int roved_plugin_init(int abi, roved_register_fn reg);

#ifdef __cplusplus
}
#endif

#endif

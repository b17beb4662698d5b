#ifndef ROVE_SERVER_RESOLVER_H
#define ROVE_SERVER_RESOLVER_H

/*
 * The registry of custom conflict resolvers (server/include/roved/resolver.h):
 * filled once at start (plugins, or roved_resolver_register from an embedding
 * program or a test) and only read while serving.
 */

#include "roved/resolver.h"
#include "schema.h"

/* Registers fn for table.column. Returns 0 or -1 with a message in err. */
int roved_resolver_register(const char *name, const char *table, const char *column,
                            roved_resolver_fn fn, void *ud, char *err, size_t errsize);

/* Loads a plugin (dlopen) and runs its roved_plugin_init. 0 or -1 with err. */
int roved_resolver_load(const char *path, char *err, size_t errsize);

/* Removes every registration (tests). */
void roved_resolver_clear(void);

typedef struct roved_resolver {
    char name[48]; /* "custom:<name>", the conflict log's policy */
    roved_resolver_fn fn;
    void *ud;
} roved_resolver;

/* The resolver for column col of t, or NULL. */
const roved_resolver *roved_resolver_find(const rove__table *t, int col);

#endif

/* Custom conflict resolvers: registry and plugin loading (see resolver.h). */
#include "resolver.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define MAX_RESOLVERS 64

typedef struct entry {
    const rove__table *table;
    int col;
    roved_resolver r;
} entry;

static entry entries[MAX_RESOLVERS];
static size_t nentries;

/* Messages of registrations made by a plugin while it initializes. */
static char *load_err;
static size_t load_errsize;

static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

int roved_resolver_register(const char *name, const char *table, const char *column,
                            roved_resolver_fn fn, void *ud, char *err, size_t errsize)
{
    if (!name_ok(name)) {
        snprintf(err, errsize, "resolver name '%s' is invalid (letters, digits, _ and -)",
                 name ? name : "(null)");
        return -1;
    }
    if (fn == NULL || table == NULL || column == NULL) {
        snprintf(err, errsize, "resolver %s: table, column and function are required", name);
        return -1;
    }
    const rove__table *t = rove__schema_table(table, strlen(table));
    if (t == NULL) {
        snprintf(err, errsize, "resolver %s: unknown table '%s'", name, table);
        return -1;
    }
    int col = rove__schema_col(t, column, strlen(column));
    if (col < 0) {
        snprintf(err, errsize, "resolver %s: unknown column %s.%s", name, table, column);
        return -1;
    }
    if (t->cols[col].flags & (ROVE__COL_SYSTEM | ROVE__COL_SERVER_OWNED)) {
        snprintf(err, errsize,
                 "resolver %s: %s.%s is maintained by the server; devices never write it", name,
                 table, column);
        return -1;
    }
    if (roved_resolver_find(t, col) != NULL) {
        snprintf(err, errsize, "resolver %s: %s.%s already has a resolver", name, table,
                 column);
        return -1;
    }
    if (nentries == MAX_RESOLVERS) {
        snprintf(err, errsize, "resolver %s: more than %d resolvers", name, MAX_RESOLVERS);
        return -1;
    }
    entry *e = &entries[nentries++];
    e->table = t;
    e->col = col;
    snprintf(e->r.name, sizeof(e->r.name), "custom:%s", name);
    e->r.fn = fn;
    e->r.ud = ud;
    return 0;
}

static int plugin_register(const char *name, const char *table, const char *column,
                           roved_resolver_fn fn, void *ud)
{
    char tmp[256];
    if (roved_resolver_register(name, table, column, fn, ud, tmp, sizeof(tmp)) == 0)
        return 0;
    if (load_err != NULL && load_err[0] == '\0')
        snprintf(load_err, load_errsize, "%s", tmp);
    fprintf(stderr, "roved: %s\n", tmp);
    return -1;
}

int roved_resolver_load(const char *path, char *err, size_t errsize)
{
    err[0] = '\0';
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(err, errsize, "cannot load resolver plugin %s: %s", path, dlerror());
        return -1;
    }
    roved_plugin_init_fn init;
    void *sym = dlsym(h, "roved_plugin_init");
    memcpy(&init, &sym, sizeof(init)); /* object to function pointer */
    if (sym == NULL) {
        snprintf(err, errsize, "resolver plugin %s exports no roved_plugin_init", path);
        dlclose(h);
        return -1;
    }
    size_t before = nentries;
    load_err = err;
    load_errsize = errsize;
    int rc = init(ROVED_RESOLVER_ABI, plugin_register);
    load_err = NULL;
    if (rc != 0 || err[0] != '\0') {
        if (err[0] == '\0')
            snprintf(err, errsize, "resolver plugin %s refused to start (%d; ABI %d)", path, rc,
                     ROVED_RESOLVER_ABI);
        nentries = before; /* nothing of a failed plugin stays registered */
        dlclose(h);
        return -1;
    }
    /* The plugin stays loaded for the life of the process. */
    return 0;
}

void roved_resolver_clear(void) { nentries = 0; }

const roved_resolver *roved_resolver_find(const rove__table *t, int col)
{
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].table == t && entries[i].col == col)
            return &entries[i].r;
    return NULL;
}

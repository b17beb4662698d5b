/*
 * rovectl commands of the org area (see rovectl.h):
 *
 *   import users|territories|accounts|contacts FILE.csv [--dry-run]
 *
 * The file is sent as is; roved validates every row and imports all of them
 * or none. The report lists each rejected row with its line, column and
 * reason; the exit status is 0 only when everything was (or would be, with
 * --dry-run) imported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rovectl.h"

const char rovectl_org_usage[] =
    "  import users|territories|accounts|contacts FILE.csv [--dry-run]\n"
    "                  (all rows or none; see docs/operations.md for the columns)\n";

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            if (cap > 64u * 1024u * 1024u) {
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

int rovectl_org_command(rovectl *o)
{
    if (rovectl_nwords(o) != 3 || strcmp(rovectl_word(o, 0), "import") != 0)
        return ROVECTL_NOT_MINE;
    static const char *const allowed[] = {"--dry-run", NULL};
    if (!rovectl_opts_ok(o, allowed))
        return 2;
    const char *kind = rovectl_word(o, 1), *file = rovectl_word(o, 2);
    if (!rovectl_safe_key(kind)) {
        fprintf(stderr, "rovectl: unknown import kind \"%s\"\n", kind);
        return 2;
    }
    size_t len = 0;
    char *data = slurp(file, &len);
    if (data == NULL) {
        fprintf(stderr, "rovectl: cannot read %s\n", file);
        return 1;
    }
    int dry = rovectl_opt(o, "--dry-run") != NULL;
    char path[200];
    snprintf(path, sizeof(path), "/v1/admin/import/%s%s", kind, dry ? "?dry_run=1" : "");
    long status = 0;
    json_t *j = rovectl_call_raw(o, "POST", path, "text/csv", data, len, &status);
    free(data);
    if (j == NULL)
        return 1;
    int rc = status == 200 ? 0 : 1;
    if (o->json) {
        rovectl_print_json(j);
    } else if (json_object_get(j, "rows") == NULL) {
        json_t *e = json_object_get(j, "error");
        fprintf(stderr, "rovectl: import %s: HTTP %ld %s: %s\n", kind, status,
                rovectl_str(e, "code"), rovectl_str(e, "message"));
    } else {
        json_t *rej = json_object_get(j, "rejected"), *r;
        size_t i;
        json_array_foreach(rej, i, r)
        {
            printf("line %-6lld %-16s %s\n",
                   (long long)json_integer_value(json_object_get(r, "line")),
                   rovectl_str(r, "column"), rovectl_str(r, "reason"));
        }
        long long rows = json_integer_value(json_object_get(j, "rows"));
        long long accepted = json_integer_value(json_object_get(j, "accepted"));
        if (rc != 0)
            printf("%s: %lld of %lld rows rejected; nothing was imported\n", file,
                   rows - accepted, rows);
        else if (dry)
            printf("%s: all %lld rows are valid (dry run: nothing was imported)\n", file, rows);
        else
            printf("%s: imported %lld %s\n", file,
                   (long long)json_integer_value(json_object_get(j, "imported")), kind);
    }
    json_decref(j);
    return rc;
}

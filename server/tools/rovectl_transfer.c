/*
 * rovectl commands for transfers (docs/delegation-transfer.md):
 *
 *   transfer plan LEAVER --line SPEC [--line SPEC ...] [--batch-size N]
 *   transfer preview ID | status ID | list
 *   transfer run ID [--max-batches N] [--drain-hours H]
 *   territory reassign TERRITORY --to USER[,USER...] [--mode single|round_robin|balanced]
 *                      [--to-territory T] [--batch-size N]
 *
 * SPEC: selector and targets separated by ';', e.g. "territory=North;to=raj",
 * "tier=A;to=raj,rosa;mode=balanced", "accounts=ID,ID;to=rosa", "all;to=raj",
 * with an optional "to_territory=South".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rovectl.h"

const char rovectl_transfer_usage[] =
    "  transfer plan LEAVER --line SPEC [--line SPEC ...] [--batch-size N]\n"
    "                  SPEC: territory=T|tier=A|accounts=ID,ID|all ; to=USER[,USER]\n"
    "                  [; mode=single|round_robin|balanced] [; to_territory=T]\n"
    "  transfer preview ID              (counts per target and per record kind)\n"
    "  transfer run ID [--max-batches N] [--drain-hours H]   (resumable)\n"
    "  transfer status ID | transfer list\n"
    "  territory reassign TERRITORY --to USER[,USER] [--mode M] [--to-territory T]\n"
    "                  [--batch-size N]\n";

static json_t *split_list(const char *s)
{
    json_t *arr = json_array();
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0)
            json_array_append_new(arr, json_stringn(p, n));
        p += n + (e != NULL);
    }
    return arr;
}

/* One --line SPEC as a JSON line, or NULL after printing why not. */
static json_t *parse_spec(const char *spec)
{
    json_t *l = json_object();
    char buf[4096];
    if (strlen(spec) >= sizeof(buf)) {
        fprintf(stderr, "rovectl: --line is too long\n");
        json_decref(l);
        return NULL;
    }
    strcpy(buf, spec);
    for (char *save = NULL, *part = strtok_r(buf, ";", &save); part != NULL;
         part = strtok_r(NULL, ";", &save)) {
        while (*part == ' ')
            part++;
        char *eq = strchr(part, '=');
        if (eq == NULL && strcmp(part, "all") == 0) {
            json_object_set_new(l, "all", json_true());
            continue;
        }
        if (eq == NULL) {
            fprintf(stderr, "rovectl: --line: \"%s\" is not key=value\n", part);
            json_decref(l);
            return NULL;
        }
        *eq = '\0';
        const char *k = part, *v = eq + 1;
        if (!strcmp(k, "to") || !strcmp(k, "accounts"))
            json_object_set_new(l, k, split_list(v));
        else if (!strcmp(k, "territory") || !strcmp(k, "tier") || !strcmp(k, "mode") ||
                 !strcmp(k, "to_territory"))
            json_object_set_new(l, k, json_string(v));
        else {
            fprintf(stderr, "rovectl: --line: unknown key \"%s\"\n", k);
            json_decref(l);
            return NULL;
        }
    }
    return l;
}

static int int_opt(const rovectl *o, const char *name, long lo, long hi, json_t *req,
                   const char *key, long scale)
{
    const char *v = rovectl_opt(o, name);
    if (v == NULL)
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "rovectl: %s must be %ld to %ld, not \"%s\"\n", name, lo, hi, v);
        return -1;
    }
    json_object_set_new(req, key, json_integer((json_int_t)n * scale));
    return 0;
}

static int print_json(rovectl *o, json_t *j)
{
    if (j == NULL)
        return 1;
    (void)o;
    rovectl_print_json(j);
    json_decref(j);
    return 0;
}

static int print_run(rovectl *o, json_t *j)
{
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
    } else {
        json_t *m = json_object_get(j, "moved");
        printf("transfer %s: %s (%lld batches this run, %lld accounts pending)\n",
               rovectl_str(j, "id"), rovectl_str(j, "status"),
               (long long)json_integer_value(json_object_get(j, "batches")),
               (long long)json_integer_value(json_object_get(j, "pending")));
        printf("  moved: %lld accounts, %lld open visits (%lld need a new slot), %lld tasks "
               "to technicians, %lld to the dispatcher queue\n",
               (long long)json_integer_value(json_object_get(m, "accounts")),
               (long long)(json_integer_value(json_object_get(m, "visits")) +
                           json_integer_value(json_object_get(m, "visits_to_replan"))),
               (long long)json_integer_value(json_object_get(m, "visits_to_replan")),
               (long long)json_integer_value(json_object_get(m, "tasks")),
               (long long)json_integer_value(json_object_get(m, "tasks_queued")));
    }
    json_decref(j);
    return 0;
}

static int print_preview(rovectl *o, json_t *j)
{
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
        json_decref(j);
        return 0;
    }
    printf("transfer %s (%s, %s): %lld accounts, %lld done\n", rovectl_str(j, "id"),
           rovectl_str(j, "reason"), rovectl_str(j, "status"),
           (long long)json_integer_value(json_object_get(j, "total")),
           (long long)json_integer_value(json_object_get(j, "done")));
    printf("%-16s  %8s  %8s  %8s  %11s  %11s  %10s\n", "TARGET", "ACCOUNTS", "DONE", "CONTACTS",
           "OPEN VISITS", "CLOSED KEPT", "OPEN TASKS");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "targets"), i, t)
    {
        printf("%-16s  %8lld  %8lld  %8lld  %11lld  %11lld  %10lld\n",
               rovectl_str(t, "username"),
               (long long)json_integer_value(json_object_get(t, "accounts")),
               (long long)json_integer_value(json_object_get(t, "done")),
               (long long)json_integer_value(json_object_get(t, "contacts")),
               (long long)json_integer_value(json_object_get(t, "open_visits")),
               (long long)json_integer_value(json_object_get(t, "closed_visits_kept")),
               (long long)json_integer_value(json_object_get(t, "open_tasks")));
    }
    json_t *k = json_object_get(j, "kinds");
    if (k != NULL)
        printf("leaver's own open service tasks to reassign: %lld\n",
               (long long)json_integer_value(json_object_get(k, "leaver_tasks_to_reassign")));
    json_decref(j);
    return 0;
}

static int plan(rovectl *o, json_t *req, const char **id_out, json_t **answer)
{
    long status = 0;
    json_t *j = rovectl_call(o, "POST", "/v1/admin/transfers", req, &status);
    if (j == NULL)
        return 1;
    *id_out = json_string_value(json_object_get(j, "id"));
    *answer = j;
    return 0;
}

int rovectl_transfer_command(rovectl *o)
{
    int n = rovectl_nwords(o);
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1), *w2 = rovectl_word(o, 2);
    char path[200];
    long status = 0;
    if (n >= 1 && !strcmp(w0, "territory") && n == 3 && !strcmp(w1, "reassign")) {
        static const char *const allowed[] = {"--to", "--mode", "--to-territory",
                                              "--batch-size", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        const char *to = rovectl_opt(o, "--to");
        if (to == NULL) {
            fprintf(stderr, "rovectl: territory reassign needs --to USER[,USER]\n");
            return 2;
        }
        json_t *line = json_pack("{s:s,s:o}", "territory", w2, "to", split_list(to));
        if (rovectl_opt(o, "--mode"))
            json_object_set_new(line, "mode", json_string(rovectl_opt(o, "--mode")));
        if (rovectl_opt(o, "--to-territory"))
            json_object_set_new(line, "to_territory",
                                json_string(rovectl_opt(o, "--to-territory")));
        json_t *req = json_pack("{s:s,s:[o]}", "reason", "realignment", "lines", line);
        if (int_opt(o, "--batch-size", 1, 1000, req, "batch_size", 1) != 0) {
            json_decref(req);
            return 2;
        }
        const char *id = NULL;
        json_t *planned = NULL;
        int rc = plan(o, req, &id, &planned);
        json_decref(req);
        if (rc != 0)
            return rc;
        if (!o->json)
            printf("realignment %s planned: %lld accounts\n", id,
                   (long long)json_integer_value(json_object_get(planned, "accounts")));
        snprintf(path, sizeof(path), "/v1/admin/transfers/%s/run", id);
        json_decref(planned);
        json_t *body = json_object();
        json_t *j = rovectl_call(o, "POST", path, body, &status);
        json_decref(body);
        return print_run(o, j);
    }
    if (n < 2 || strcmp(w0, "transfer") != 0)
        return ROVECTL_NOT_MINE;
    if (!strcmp(w1, "list") && n == 2) {
        static const char *const none[] = {NULL};
        if (!rovectl_opts_ok(o, none))
            return 2;
        return print_json(o, rovectl_call(o, "GET", "/v1/admin/transfers", NULL, &status));
    }
    if (n != 3)
        return ROVECTL_NOT_MINE;
    if (!strcmp(w1, "plan")) {
        static const char *const allowed[] = {"--line", "--batch-size", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        json_t *lines = json_array();
        for (int i = 0; i + 1 < o->nargs; i++)
            if (!strcmp(o->args[i], "--line")) {
                json_t *l = parse_spec(o->args[++i]);
                if (l == NULL) {
                    json_decref(lines);
                    return 2;
                }
                json_array_append_new(lines, l);
            }
        json_t *req =
            json_pack("{s:s,s:s,s:o}", "leaver", w2, "reason", "resignation", "lines", lines);
        if (int_opt(o, "--batch-size", 1, 1000, req, "batch_size", 1) != 0) {
            json_decref(req);
            return 2;
        }
        const char *id = NULL;
        json_t *planned = NULL;
        int rc = plan(o, req, &id, &planned);
        json_decref(req);
        if (rc != 0)
            return rc;
        if (o->json)
            rovectl_print_json(planned);
        else
            printf("transfer %s planned: %lld accounts; %s is frozen until it runs.\n"
                   "Next: rovectl transfer preview %s, then rovectl transfer run %s\n",
                   id, (long long)json_integer_value(json_object_get(planned, "accounts")), w2,
                   id, id);
        json_decref(planned);
        return 0;
    }
    if (!rovectl_safe_key(w2)) {
        fprintf(stderr, "rovectl: invalid transfer id \"%s\"\n", w2);
        return 2;
    }
    if (!strcmp(w1, "preview") || !strcmp(w1, "status")) {
        static const char *const none[] = {NULL};
        if (!rovectl_opts_ok(o, none))
            return 2;
        snprintf(path, sizeof(path), "/v1/admin/transfers/%s%s", w2,
                 !strcmp(w1, "preview") ? "/preview" : "");
        return print_preview(o, rovectl_call(o, "GET", path, NULL, &status));
    }
    if (!strcmp(w1, "run")) {
        static const char *const allowed[] = {"--max-batches", "--drain-hours", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        json_t *req = json_object();
        if (int_opt(o, "--max-batches", 1, 1000000000, req, "max_batches", 1) != 0 ||
            int_opt(o, "--drain-hours", 0, 720, req, "drain_seconds", 3600) != 0) {
            json_decref(req);
            return 2;
        }
        snprintf(path, sizeof(path), "/v1/admin/transfers/%s/run", w2);
        json_t *j = rovectl_call(o, "POST", path, req, &status);
        json_decref(req);
        return print_run(o, j);
    }
    return ROVECTL_NOT_MINE;
}

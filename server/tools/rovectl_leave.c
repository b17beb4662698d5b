/*
 * rovectl commands for delegations on leave (docs/delegation-transfer.md):
 *
 *   leave add USER --from TIME --to TIME --delegate SPEC [--delegate SPEC ...]
 *                  [--grace-hours H] [--visits cover|reschedule|cancel] [--reason TEXT]
 *   leave list [--user USER] | show ID | end ID | revoke ID
 *   digest USER | digest --leave ID
 *
 * SPEC: "user=raj;scope=territory;territory=North;actions=visits,accounts",
 * "user=raj" (scope all, every action), "user=rosa;scope=accounts;accounts=ID,ID".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rovectl.h"

const char rovectl_leave_usage[] =
    "  leave add USER --from TIME --to TIME --delegate SPEC [--delegate SPEC ...]\n"
    "                  [--grace-hours H] [--visits cover|reschedule|cancel] [--reason TEXT]\n"
    "                  SPEC: user=U[;scope=all|territory|accounts][;territory=T]\n"
    "                  [;accounts=ID,ID][;actions=visits,accounts,tasks]\n"
    "  leave list [--user USER] | leave show ID | leave end ID | leave revoke ID\n"
    "  digest USER | digest --leave ID  (\"while you were away\")\n";

static json_t *csv_array(const char *s)
{
    json_t *arr = json_array();
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0)
            json_array_append_new(arr, json_stringn(s, n));
        s += n + (e != NULL);
    }
    return arr;
}

static json_t *parse_delegate(const char *spec)
{
    char buf[4096];
    if (strlen(spec) >= sizeof(buf))
        return NULL;
    strcpy(buf, spec);
    json_t *d = json_object();
    for (char *save = NULL, *p = strtok_r(buf, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(p, '=');
        if (eq == NULL) {
            fprintf(stderr, "rovectl: --delegate: \"%s\" is not key=value\n", p);
            json_decref(d);
            return NULL;
        }
        *eq = '\0';
        if (!strcmp(p, "accounts") || !strcmp(p, "actions"))
            json_object_set_new(d, p, csv_array(eq + 1));
        else if (!strcmp(p, "user") || !strcmp(p, "scope") || !strcmp(p, "territory"))
            json_object_set_new(d, p, json_string(eq + 1));
        else {
            fprintf(stderr, "rovectl: --delegate: unknown key \"%s\"\n", p);
            json_decref(d);
            return NULL;
        }
    }
    return d;
}

static int print_leaves(rovectl *o, json_t *j)
{
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
        json_decref(j);
        return 0;
    }
    json_t *arr = json_object_get(j, "leaves");
    if (arr == NULL) { /* one leave */
        arr = json_array();
        json_array_append(arr, j);
    } else {
        json_incref(arr);
    }
    size_t i;
    json_t *l;
    json_array_foreach(arr, i, l)
    {
        printf("%s  %-10s  %-9s  ", rovectl_str(l, "id"), rovectl_str(l, "delegator"),
               rovectl_str(l, "state"));
        rovectl_print_time(json_integer_value(json_object_get(l, "from")));
        printf(" .. ");
        rovectl_print_time(json_integer_value(json_object_get(l, "to")));
        printf("  visits: %s\n", rovectl_str(l, "visits"));
        size_t k;
        json_t *g;
        json_array_foreach(json_object_get(l, "delegates"), k, g) printf(
            "    -> %-10s scope %-9s %s  actions %s\n", rovectl_str(g, "user"),
            rovectl_str(g, "scope"),
            json_is_string(json_object_get(g, "territory")) ? rovectl_str(g, "territory") : "",
            rovectl_str(g, "actions"));
    }
    json_decref(arr);
    json_decref(j);
    return 0;
}

static int print_digest(rovectl *o, json_t *j)
{
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
        json_decref(j);
        return 0;
    }
    static const char *const sections[][2] = {
        {"visits_done", "Visits done"},       {"tasks_resolved", "Service tasks resolved"},
        {"new_accounts", "New accounts"},     {"new_contacts", "New contacts"},
        {"stage_changes", "Stage changes"},   {"open_visits", "Open visits (yours now)"},
        {"open_tasks", "Open service tasks"}, {"quarantined", "Edits held in quarantine"},
        {"sla_breaches", "SLA breaches"},
    };
    printf("While %s was away (", rovectl_str(j, "delegator"));
    rovectl_print_time(json_integer_value(json_object_get(j, "from")));
    printf(" .. ");
    rovectl_print_time(json_integer_value(json_object_get(j, "to")));
    printf(", %s):\n", rovectl_str(j, "state"));
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        json_t *items = json_object_get(j, sections[s][0]);
        printf("\n%s: %zu\n", sections[s][1], json_array_size(items));
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (i == 20) {
                printf("  ... %zu more (--json for all)\n", json_array_size(items) - 20);
                break;
            }
            printf("  ");
            rovectl_print_time(json_integer_value(json_object_get(it, "at")));
            printf("  %-12s %s  %s\n", rovectl_str(it, "table"), rovectl_str(it, "id"),
                   rovectl_str(it, "detail"));
        }
    }
    json_decref(j);
    return 0;
}

static int time_field(const rovectl *o, const char *opt, json_t *req, const char *key)
{
    const char *v = rovectl_opt(o, opt);
    long long ms = 0;
    if (v == NULL || rovectl_parse_time(v, &ms) != 0) {
        fprintf(stderr, "rovectl: %s TIME is required (2026-12-01T08:00:00Z, a date or ms)\n",
                opt);
        return -1;
    }
    json_object_set_new(req, key, json_integer(ms));
    return 0;
}

int rovectl_leave_command(rovectl *o)
{
    int n = rovectl_nwords(o);
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1), *w2 = rovectl_word(o, 2);
    char path[200];
    long status = 0;
    if (n >= 1 && !strcmp(w0, "digest")) {
        static const char *const allowed[] = {"--leave", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        const char *id = rovectl_opt(o, "--leave");
        json_t *found = NULL;
        if (id == NULL) {
            if (n != 2 || !rovectl_safe_key(w1)) {
                fprintf(stderr, "rovectl: digest USER, or digest --leave ID\n");
                return 2;
            }
            snprintf(path, sizeof(path), "/v1/admin/leaves?user=%s", w1);
            found = rovectl_call(o, "GET", path, NULL, &status);
            if (found == NULL)
                return 1;
            /* The latest leave that has started. */
            json_t *l = NULL, *arr = json_object_get(found, "leaves"), *x;
            size_t i;
            json_array_foreach(arr, i, x) if (l == NULL && strcmp(rovectl_str(x, "state"),
                                                                  "scheduled") != 0) l = x;
            if (l == NULL) {
                fprintf(stderr, "rovectl: %s has no leave that has started\n", w1);
                json_decref(found);
                return 1;
            }
            id = rovectl_str(l, "id");
        } else if (!rovectl_safe_key(id)) {
            fprintf(stderr, "rovectl: invalid leave id\n");
            return 2;
        }
        snprintf(path, sizeof(path), "/v1/admin/leaves/%s/digest", id);
        json_decref(found);
        return print_digest(o, rovectl_call(o, "GET", path, NULL, &status));
    }
    if (n < 2 || strcmp(w0, "leave") != 0)
        return ROVECTL_NOT_MINE;
    if (!strcmp(w1, "list") && n == 2) {
        static const char *const allowed[] = {"--user", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        const char *u = rovectl_opt(o, "--user");
        if (u != NULL && !rovectl_safe_key(u))
            return 2;
        snprintf(path, sizeof(path), "/v1/admin/leaves%s%s", u ? "?user=" : "", u ? u : "");
        return print_leaves(o, rovectl_call(o, "GET", path, NULL, &status));
    }
    if (n != 3)
        return ROVECTL_NOT_MINE;
    if (!strcmp(w1, "add")) {
        static const char *const allowed[] = {
            "--from", "--to", "--delegate", "--grace-hours", "--visits", "--reason", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        json_t *req = json_pack("{s:s}", "user", w2), *dels = json_array();
        json_object_set_new(req, "delegates", dels);
        int bad = time_field(o, "--from", req, "from") || time_field(o, "--to", req, "to");
        for (int i = 0; !bad && i + 1 < o->nargs; i++)
            if (!strcmp(o->args[i], "--delegate")) {
                json_t *d = parse_delegate(o->args[++i]);
                if (d == NULL)
                    bad = 1;
                else
                    json_array_append_new(dels, d);
            }
        const char *g = rovectl_opt(o, "--grace-hours");
        if (!bad && g != NULL) {
            char *end = NULL;
            long h = strtol(g, &end, 10);
            if (end == g || *end || h < 0 || h > 720) {
                fprintf(stderr, "rovectl: --grace-hours must be 0 to 720\n");
                bad = 1;
            } else {
                json_object_set_new(req, "grace_hours", json_integer(h));
            }
        }
        if (rovectl_opt(o, "--visits"))
            json_object_set_new(req, "visits", json_string(rovectl_opt(o, "--visits")));
        if (rovectl_opt(o, "--reason"))
            json_object_set_new(req, "reason", json_string(rovectl_opt(o, "--reason")));
        if (bad) {
            json_decref(req);
            return 2;
        }
        json_t *j = rovectl_call(o, "POST", "/v1/admin/leaves", req, &status);
        json_decref(req);
        if (j == NULL)
            return 1;
        if (o->json)
            rovectl_print_json(j);
        else
            printf("leave %s created (%s)\n", rovectl_str(j, "id"), rovectl_str(j, "state"));
        json_decref(j);
        return 0;
    }
    if (!rovectl_safe_key(w2)) {
        fprintf(stderr, "rovectl: invalid leave id \"%s\"\n", w2);
        return 2;
    }
    static const char *const none[] = {NULL};
    if (!rovectl_opts_ok(o, none))
        return 2;
    if (!strcmp(w1, "show")) {
        snprintf(path, sizeof(path), "/v1/admin/leaves/%s", w2);
        return print_leaves(o, rovectl_call(o, "GET", path, NULL, &status));
    }
    if (!strcmp(w1, "end") || !strcmp(w1, "revoke")) {
        snprintf(path, sizeof(path), "/v1/admin/leaves/%s/%s", w2, w1);
        json_t *req = json_object();
        json_t *j = rovectl_call(o, "POST", path, req, &status);
        json_decref(req);
        if (j == NULL)
            return 1;
        if (o->json)
            rovectl_print_json(j);
        else
            printf("leave %s is now %s\n", w2, rovectl_str(j, "state"));
        json_decref(j);
        return 0;
    }
    return ROVECTL_NOT_MINE;
}

/*
 * rovectl commands of the domain area (see rovectl.h, docs/data-model.md):
 *
 *   accounts stage ACCOUNT_ID STAGE [--reason TEXT]
 *   accounts tier ACCOUNT_ID VIP|A|B|C
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rovectl.h"

const char rovectl_domain_usage[] =
    "  accounts stage ACCOUNT_ID unidentified|prospect|opportunity|ordered|user|churned\n"
    "                  [--reason TEXT]\n"
    "  accounts tier ACCOUNT_ID VIP|A|B|C\n"
    "  tasks assign TASK_ID (--to TECHNICIAN | --auto)\n"
    "  tasks queue                     (tasks waiting for a dispatcher)\n"
    "  users absence-add USERNAME --from TIME --to TIME [--reason TEXT]\n"
    "  users absences\n";

static int print_or_json(rovectl *o, json_t *j, const char *what)
{
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
    } else if (!strcmp(what, "queue")) {
        json_t *arr = json_object_get(j, "tasks"), *t;
        size_t i;
        printf("%-26s  %-8s  %s\n", "TASK", "PRIORITY", "REPORTED_AT");
        json_array_foreach(arr, i, t)
        {
            printf("%-26s  %-8s  %lld\n", rovectl_str(t, "id"), rovectl_str(t, "priority"),
                   (long long)json_integer_value(json_object_get(t, "reported_at")));
        }
        printf("%zu waiting for a dispatcher\n", json_array_size(arr));
    } else if (!strcmp(what, "absences")) {
        json_t *arr = json_object_get(j, "absences"), *a;
        size_t i;
        printf("%-12s  %-14s  %-14s  %s\n", "USER", "FROM", "TO", "REASON");
        json_array_foreach(arr, i, a)
        {
            printf("%-12s  %-14lld  %-14lld  %s\n", rovectl_str(a, "username"),
                   (long long)json_integer_value(json_object_get(a, "from")),
                   (long long)json_integer_value(json_object_get(a, "to")),
                   rovectl_str(a, "reason"));
        }
    } else if (!strcmp(what, "assign")) {
        if (json_is_true(json_object_get(j, "queued")))
            printf("task %s: no technician fits; it waits in the dispatcher queue\n",
                   rovectl_str(j, "task_id"));
        else
            printf("task %s assigned to %s\n", rovectl_str(j, "task_id"),
                   rovectl_str(j, "assignee_id"));
    } else {
        printf("absence recorded for %s\n", rovectl_str(j, "username"));
    }
    json_decref(j);
    return 0;
}

static int other_commands(rovectl *o)
{
    int n = rovectl_nwords(o);
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1), *w2 = rovectl_word(o, 2);
    static const char *const none[] = {NULL};
    long status = 0;
    char path[200];
    if (n == 2 && !strcmp(w0, "tasks") && !strcmp(w1, "queue")) {
        if (!rovectl_opts_ok(o, none))
            return 2;
        return print_or_json(o, rovectl_call(o, "GET", "/v1/admin/tasks/queue", NULL, &status),
                             "queue");
    }
    if (n == 2 && !strcmp(w0, "users") && !strcmp(w1, "absences")) {
        if (!rovectl_opts_ok(o, none))
            return 2;
        return print_or_json(o, rovectl_call(o, "GET", "/v1/admin/absences", NULL, &status),
                             "absences");
    }
    if (n == 3 && !strcmp(w0, "tasks") && !strcmp(w1, "assign")) {
        static const char *const allowed[] = {"--to", "--auto", NULL};
        if (!rovectl_opts_ok(o, allowed) || !rovectl_safe_key(w2))
            return 2;
        const char *to = rovectl_opt(o, "--to"), *autopick = rovectl_opt(o, "--auto");
        if ((to == NULL) == (autopick == NULL)) {
            fprintf(stderr, "rovectl: tasks assign needs --to TECHNICIAN or --auto yes\n");
            return 2;
        }
        json_t *req = to ? json_pack("{s:s}", "to", to) : json_pack("{s:b}", "auto", 1);
        snprintf(path, sizeof(path), "/v1/admin/tasks/%s/assign", w2);
        json_t *j = rovectl_call(o, "POST", path, req, &status);
        json_decref(req);
        return print_or_json(o, j, "assign");
    }
    if (n == 3 && !strcmp(w0, "users") && !strcmp(w1, "absence-add")) {
        static const char *const allowed[] = {"--from", "--to", "--reason", NULL};
        if (!rovectl_opts_ok(o, allowed) || !rovectl_safe_key(w2))
            return 2;
        long long from = 0, to = 0;
        if (rovectl_parse_time(rovectl_opt(o, "--from"), &from) != 0 ||
            rovectl_parse_time(rovectl_opt(o, "--to"), &to) != 0) {
            fprintf(stderr, "rovectl: --from and --to take 2026-11-23T10:00:00Z or ms\n");
            return 2;
        }
        json_t *req = json_pack("{s:I,s:I}", "from", (json_int_t)from, "to", (json_int_t)to);
        const char *reason = rovectl_opt(o, "--reason");
        if (reason)
            json_object_set_new(req, "reason", json_string(reason));
        snprintf(path, sizeof(path), "/v1/admin/users/%s/absences", w2);
        json_t *j = rovectl_call(o, "POST", path, req, &status);
        json_decref(req);
        return print_or_json(o, j, "absence");
    }
    return ROVECTL_NOT_MINE;
}

int rovectl_domain_command(rovectl *o)
{
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1);
    if (rovectl_nwords(o) != 4 || strcmp(w0, "accounts") != 0 ||
        (strcmp(w1, "stage") != 0 && strcmp(w1, "tier") != 0))
        return other_commands(o);
    int stage = strcmp(w1, "stage") == 0;
    static const char *const with_reason[] = {"--reason", NULL}, *const none[] = {NULL};
    if (!rovectl_opts_ok(o, stage ? with_reason : none))
        return 2;
    const char *id = rovectl_word(o, 2), *value = rovectl_word(o, 3);
    if (!rovectl_safe_key(id)) {
        fprintf(stderr, "rovectl: invalid account id \"%s\"\n", id);
        return 2;
    }
    json_t *req = json_pack("{s:s}", stage ? "stage" : "tier", value);
    const char *reason = rovectl_opt(o, "--reason");
    if (reason != NULL)
        json_object_set_new(req, "reason", json_string(reason));
    char path[200];
    snprintf(path, sizeof(path), "/v1/admin/accounts/%s/%s", id, stage ? "stage" : "tier");
    long status = 0;
    json_t *j = rovectl_call(o, "POST", path, req, &status);
    json_decref(req);
    if (j == NULL)
        return 1;
    if (o->json)
        rovectl_print_json(j);
    else
        printf("account %s: %s %s -> %s (version %lld)\n", id, stage ? "stage" : "tier",
               rovectl_str(j, "old"), rovectl_str(j, "new"),
               (long long)json_integer_value(json_object_get(j, "version")));
    json_decref(j);
    return 0;
}

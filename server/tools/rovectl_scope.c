/*
 * rovectl commands of the scope area (see rovectl.h, docs/scope.md):
 *
 *   accounts assign ACCOUNT_ID [--owner USERNAME] [--territory ID] [--reason TEXT]
 *   territory-members list TERRITORY_ID
 *   territory-members add TERRITORY_ID USERNAME --role rep|manager [--from TIME] [--to TIME]
 *   territory-members end TERRITORY_ID USERNAME [--at TIME]
 *   quarantine list [--all] | show ID | apply ID | discard ID --reason TEXT
 *   conflicts list [--record ID] [--open] | show ID | restore ID | dismiss ID
 *
 * TIME is ISO 8601 in UTC (2026-11-23T10:00:00Z, or a date 2026-11-23) or
 * milliseconds since the Unix epoch.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rovectl.h"

const char rovectl_scope_usage[] =
    "  accounts assign ACCOUNT_ID [--owner USERNAME] [--territory TERRITORY_ID]\n"
    "                  [--reason TEXT]\n"
    "  territory-members list TERRITORY_ID\n"
    "  territory-members add TERRITORY_ID USERNAME --role rep|manager [--from TIME]\n"
    "                  [--to TIME]          (TIME: 2026-11-23T10:00:00Z or ms)\n"
    "  territory-members end TERRITORY_ID USERNAME [--at TIME]\n"
    "  quarantine list [--all]          (held changes; --all: decided ones too)\n"
    "  quarantine show ID\n"
    "  quarantine apply ID              (apply by the merge rules, as its author's)\n"
    "  quarantine discard ID --reason TEXT\n"
    "  audit TABLE RECORD_ID            (who changed it, for whom, late syncs)\n"
    "  conflicts list [--record ID] [--open]   (the newest 500 losing values)\n"
    "  conflicts show ID\n"
    "  conflicts restore ID             (write the losing value back)\n"
    "  conflicts dismiss ID             (keep what won; close the entry)\n";

static int time_opt(const rovectl *o, const char *name, json_t *req, const char *key)
{
    const char *v = rovectl_opt(o, name);
    if (v == NULL)
        return 0;
    long long ms = 0;
    if (rovectl_parse_time(v, &ms) != 0) {
        fprintf(stderr, "rovectl: %s: \"%s\" is not a time (2026-11-23T10:00:00Z or ms)\n",
                name, v);
        return -1;
    }
    json_object_set_new(req, key, json_integer(ms));
    return 0;
}

static int finish(rovectl *o, json_t *j, int (*print)(json_t *))
{
    if (j == NULL)
        return 1;
    int rc = 0;
    if (o->json)
        rovectl_print_json(j);
    else
        rc = print(j);
    json_decref(j);
    return rc;
}

static int print_assigned(json_t *j)
{
    printf("account %s: owner %s, territory %s (version %lld)\n", rovectl_str(j, "account_id"),
           rovectl_str(j, "owner_id"), rovectl_str(j, "territory_id"),
           (long long)json_integer_value(json_object_get(j, "version")));
    return 0;
}

static int print_members(json_t *j)
{
    printf("%-12s  %-8s  %-20s  %-20s  %s\n", "USERNAME", "ROLE", "FROM", "TO", "USER_ID");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(j, "members"), i, m)
    {
        printf("%-12s  %-8s  ", rovectl_str(m, "username"), rovectl_str(m, "role"));
        rovectl_print_time(json_integer_value(json_object_get(m, "from")));
        printf("  ");
        rovectl_print_time(json_integer_value(json_object_get(m, "to")));
        printf("  %s\n", rovectl_str(m, "user_id"));
    }
    return 0;
}

static int print_member_change(json_t *j)
{
    if (json_object_get(j, "ended") != NULL)
        printf("ended %lld membership(s) of %s in territory %s\n",
               (long long)json_integer_value(json_object_get(j, "ended")),
               rovectl_str(j, "username"), rovectl_str(j, "territory_id"));
    else
        printf("%s is now a %s member of territory %s\n", rovectl_str(j, "username"),
               rovectl_str(j, "role"), rovectl_str(j, "territory_id"));
    return 0;
}

static int print_conflicts(json_t *j)
{
    json_t *arr = json_object_get(j, "conflicts"), *cf;
    size_t i;
    printf("%-6s  %-20s  %-12s  %-26s  %-16s  %-12s  %-9s  %-24s  %s\n", "ID", "AT", "TABLE",
           "ROW", "COLUMN", "POLICY", "DECISION", "LOST", "KEPT");
    json_array_foreach(arr, i, cf)
    {
        char *lost = json_dumps(json_object_get(cf, "lost"), JSON_ENCODE_ANY | JSON_COMPACT);
        char *kept = json_dumps(json_object_get(cf, "kept"), JSON_ENCODE_ANY | JSON_COMPACT);
        const char *decision = json_string_value(json_object_get(cf, "resolution"));
        printf("%-6lld  ", (long long)json_integer_value(json_object_get(cf, "id")));
        rovectl_print_time(json_integer_value(json_object_get(cf, "at")));
        printf("  %-12s  %-26s  %-16s  %-12s  %-9s  %-24.24s  %.40s\n",
               rovectl_str(cf, "table"), rovectl_str(cf, "row_id"), rovectl_str(cf, "column"),
               rovectl_str(cf, "policy"), decision ? decision : "open", lost ? lost : "-",
               kept ? kept : "-");
        free(lost);
        free(kept);
    }
    printf("%zu entries\n", json_array_size(arr));
    return 0;
}

static int print_audit(json_t *j)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "events"), i, e)
    {
        char *changes =
            json_dumps(json_object_get(e, "changes"), JSON_ENCODE_ANY | JSON_COMPACT);
        rovectl_print_time(json_integer_value(json_object_get(e, "at")));
        printf("  %-20s by %s", rovectl_str(e, "op"), rovectl_str(e, "actor"));
        if (json_is_string(json_object_get(e, "on_behalf_of")))
            printf(" for %s", rovectl_str(e, "on_behalf_of"));
        if (changes != NULL && strstr(changes, "_late_sync_revoked_at") != NULL)
            printf(" (late sync from a revoked device)");
        printf("\n    %.200s\n", changes ? changes : "");
        free(changes);
    }
    printf("%zu events\n", json_array_size(json_object_get(j, "events")));
    return 0;
}

static int print_decision(json_t *j)
{
    rovectl_print_json(j);
    return 0;
}

static int print_quarantine(json_t *j)
{
    json_t *arr = json_object_get(j, "quarantine");
    printf("%-6s  %-20s  %-12s  %-26s  %-8s  %-9s  %s\n", "ID", "AT", "TABLE", "ROW", "OP",
           "STATUS", "REASON");
    size_t i;
    json_t *q;
    json_array_foreach(arr, i, q)
    {
        printf("%-6lld  ", (long long)json_integer_value(json_object_get(q, "id")));
        rovectl_print_time(json_integer_value(json_object_get(q, "at")));
        printf("  %-12s  %-26s  %-8s  %-9s  %s\n", rovectl_str(q, "table"),
               rovectl_str(q, "row_id"), rovectl_str(q, "op"), rovectl_str(q, "status"),
               rovectl_str(q, "reason"));
    }
    printf("%zu entries\n", json_array_size(arr));
    return 0;
}

int rovectl_scope_command(rovectl *o)
{
    int n = rovectl_nwords(o);
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1);
    const char *w2 = rovectl_word(o, 2), *w3 = rovectl_word(o, 3);
    char path[300];
    long status = 0;
    if (n == 3 && !strcmp(w0, "accounts") && !strcmp(w1, "assign")) {
        static const char *const allowed[] = {"--owner", "--territory", "--reason", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        if (!rovectl_safe_key(w2)) {
            fprintf(stderr, "rovectl: invalid account id \"%s\"\n", w2);
            return 2;
        }
        json_t *req = json_object();
        const char *owner = rovectl_opt(o, "--owner"), *terr = rovectl_opt(o, "--territory");
        const char *reason = rovectl_opt(o, "--reason");
        if (owner == NULL && terr == NULL) {
            fprintf(stderr, "rovectl: accounts assign needs --owner and/or --territory\n");
            json_decref(req);
            return 2;
        }
        if (owner)
            json_object_set_new(req, "owner", json_string(owner));
        if (terr)
            json_object_set_new(req, "territory", json_string(terr));
        if (reason)
            json_object_set_new(req, "reason", json_string(reason));
        snprintf(path, sizeof(path), "/v1/admin/accounts/%s/assign", w2);
        json_t *j = rovectl_call(o, "POST", path, req, &status);
        json_decref(req);
        return finish(o, j, print_assigned);
    }
    if (n >= 2 && !strcmp(w0, "territory-members")) {
        if (!rovectl_safe_key(w2)) {
            fprintf(stderr, "rovectl: territory-members %s needs a TERRITORY_ID\n", w1);
            return 2;
        }
        if (n == 3 && !strcmp(w1, "list")) {
            static const char *const none[] = {NULL};
            if (!rovectl_opts_ok(o, none))
                return 2;
            snprintf(path, sizeof(path), "/v1/admin/territories/%s/members", w2);
            return finish(o, rovectl_call(o, "GET", path, NULL, &status), print_members);
        }
        if (n == 4 && !strcmp(w1, "add")) {
            static const char *const allowed[] = {"--role", "--from", "--to", NULL};
            if (!rovectl_opts_ok(o, allowed))
                return 2;
            const char *role = rovectl_opt(o, "--role");
            if (role == NULL) {
                fprintf(stderr, "rovectl: territory-members add needs --role rep|manager\n");
                return 2;
            }
            json_t *req = json_pack("{s:s,s:s}", "user", w3, "role", role);
            if (time_opt(o, "--from", req, "from") != 0 ||
                time_opt(o, "--to", req, "to") != 0) {
                json_decref(req);
                return 2;
            }
            snprintf(path, sizeof(path), "/v1/admin/territories/%s/members", w2);
            json_t *j = rovectl_call(o, "POST", path, req, &status);
            json_decref(req);
            return finish(o, j, print_member_change);
        }
        if (n == 4 && !strcmp(w1, "end")) {
            static const char *const allowed[] = {"--at", NULL};
            if (!rovectl_opts_ok(o, allowed))
                return 2;
            if (!rovectl_safe_key(w3)) {
                fprintf(stderr, "rovectl: invalid user name \"%s\"\n", w3);
                return 2;
            }
            json_t *req = json_object();
            if (time_opt(o, "--at", req, "at") != 0) {
                json_decref(req);
                return 2;
            }
            snprintf(path, sizeof(path), "/v1/admin/territories/%s/members/%s/end", w2, w3);
            json_t *j = rovectl_call(o, "POST", path, req, &status);
            json_decref(req);
            return finish(o, j, print_member_change);
        }
        return ROVECTL_NOT_MINE;
    }
    if (n == 2 && !strcmp(w0, "conflicts") && !strcmp(w1, "list")) {
        static const char *const allowed[] = {"--record", "--open", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        const char *rec = rovectl_opt(o, "--record");
        if (rec != NULL && !rovectl_safe_key(rec)) {
            fprintf(stderr, "rovectl: invalid record id \"%s\"\n", rec);
            return 2;
        }
        int open = rovectl_opt(o, "--open") != NULL;
        snprintf(path, sizeof(path), "/v1/admin/conflicts?open=%d%s%s", open,
                 rec ? "&record=" : "", rec ? rec : "");
        return finish(o, rovectl_call(o, "GET", path, NULL, &status), print_conflicts);
    }
    if (n == 3 && !strcmp(w0, "conflicts") &&
        (!strcmp(w1, "show") || !strcmp(w1, "restore") || !strcmp(w1, "dismiss"))) {
        static const char *const none[] = {NULL};
        if (!rovectl_opts_ok(o, none))
            return 2;
        if (strspn(w2, "0123456789") != strlen(w2) || strlen(w2) > 18) {
            fprintf(stderr, "rovectl: the conflict id must be a number, not \"%s\"\n", w2);
            return 2;
        }
        int show = !strcmp(w1, "show");
        snprintf(path, sizeof(path), "/v1/admin/conflicts/%s%s%s", w2, show ? "" : "/",
                 show ? "" : w1);
        json_t *req = show ? NULL : json_object();
        json_t *j = rovectl_call(o, show ? "GET" : "POST", path, req, &status);
        json_decref(req);
        return finish(o, j, print_decision);
    }
    if (n == 3 && !strcmp(w0, "audit")) {
        static const char *const none[] = {NULL};
        if (!rovectl_opts_ok(o, none))
            return 2;
        if (!rovectl_safe_key(w1) || !rovectl_safe_key(w2)) {
            fprintf(stderr, "rovectl: audit TABLE RECORD_ID\n");
            return 2;
        }
        snprintf(path, sizeof(path), "/v1/admin/audit?table=%s&record=%s", w1, w2);
        return finish(o, rovectl_call(o, "GET", path, NULL, &status), print_audit);
    }
    if (n == 2 && !strcmp(w0, "quarantine") && !strcmp(w1, "list")) {
        static const char *const allowed[] = {"--all", NULL};
        if (!rovectl_opts_ok(o, allowed))
            return 2;
        snprintf(path, sizeof(path), "/v1/admin/quarantine?all=%d",
                 rovectl_opt(o, "--all") != NULL);
        return finish(o, rovectl_call(o, "GET", path, NULL, &status), print_quarantine);
    }
    if (n == 3 && !strcmp(w0, "quarantine") &&
        (!strcmp(w1, "show") || !strcmp(w1, "apply") || !strcmp(w1, "discard"))) {
        static const char *const none[] = {NULL}, *const discard[] = {"--reason", NULL};
        int show = !strcmp(w1, "show"), drop = !strcmp(w1, "discard");
        if (!rovectl_opts_ok(o, drop ? discard : none))
            return 2;
        if (strspn(w2, "0123456789") != strlen(w2) || strlen(w2) > 18) {
            fprintf(stderr, "rovectl: the quarantine id must be a number, not \"%s\"\n", w2);
            return 2;
        }
        const char *reason = rovectl_opt(o, "--reason");
        if (drop && reason == NULL) {
            fprintf(stderr, "rovectl: quarantine discard needs --reason TEXT\n");
            return 2;
        }
        snprintf(path, sizeof(path), "/v1/admin/quarantine/%s%s%s", w2, show ? "" : "/",
                 show ? "" : w1);
        json_t *req = show ? NULL : json_object();
        if (reason != NULL)
            json_object_set_new(req, "reason", json_string(reason));
        json_t *j = rovectl_call(o, show ? "GET" : "POST", path, req, &status);
        json_decref(req);
        return finish(o, j, print_decision);
    }
    return ROVECTL_NOT_MINE;
}

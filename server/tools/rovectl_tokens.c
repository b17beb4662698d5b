/*
 * rovectl commands of device tokens (see rovectl.h):
 *
 *   tokens list USER     a user's device tokens: id, device, created,
 *                        expires, last used, state (never the token)
 *   tokens revoke ID     the token is refused from now on
 */
#include <stdio.h>
#include <string.h>

#include "rovectl.h"

const char rovectl_tokens_usage[] =
    "  tokens list USER                  a user's device tokens (id, device, expiry)\n"
    "  tokens revoke ID                  revoke one device token\n";

static int list(rovectl *o, const char *user)
{
    if (!rovectl_safe_key(user)) {
        fprintf(stderr, "rovectl: invalid user name \"%s\"\n", user);
        return 2;
    }
    char path[160];
    snprintf(path, sizeof(path), "/v1/admin/users/%s/tokens", user);
    long status = 0;
    json_t *j = rovectl_call(o, "GET", path, NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
        json_decref(j);
        return 0;
    }
    printf("%-26s  %-26s  %-20s  %-20s  %-20s  %s\n", "ID", "DEVICE", "CREATED", "EXPIRES",
           "LAST USED", "STATE");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "tokens"), i, t)
    {
        printf("%-26s  %-26s  ", rovectl_str(t, "id"), rovectl_str(t, "device_id"));
        rovectl_print_time(json_integer_value(json_object_get(t, "created_at")));
        printf("  ");
        rovectl_print_time(json_integer_value(json_object_get(t, "expires_at")));
        printf("  ");
        rovectl_print_time(json_integer_value(json_object_get(t, "last_used_at")));
        printf("  %s\n", rovectl_str(t, "state"));
    }
    json_decref(j);
    return 0;
}

static int revoke(rovectl *o, const char *id)
{
    if (!rovectl_safe_key(id)) {
        fprintf(stderr, "rovectl: invalid token id \"%s\"\n", id);
        return 2;
    }
    char path[160];
    snprintf(path, sizeof(path), "/v1/admin/tokens/%s/revoke", id);
    long status = 0;
    json_t *body = json_object();
    json_t *j = rovectl_call(o, "POST", path, body, &status);
    json_decref(body);
    if (j == NULL)
        return 1;
    if (o->json)
        rovectl_print_json(j);
    else
        printf("token %s revoked\n", id);
    json_decref(j);
    return 0;
}

int rovectl_tokens_command(rovectl *o)
{
    if (rovectl_nwords(o) != 3 || strcmp(rovectl_word(o, 0), "tokens") != 0)
        return ROVECTL_NOT_MINE;
    static const char *const allowed[] = {NULL};
    if (!rovectl_opts_ok(o, allowed))
        return 2;
    const char *verb = rovectl_word(o, 1), *arg = rovectl_word(o, 2);
    if (strcmp(verb, "list") == 0)
        return list(o, arg);
    if (strcmp(verb, "revoke") == 0)
        return revoke(o, arg);
    return ROVECTL_NOT_MINE;
}

/*
 * rovectl commands of the domain area (see rovectl.h, docs/data-model.md):
 *
 *   accounts stage ACCOUNT_ID STAGE [--reason TEXT]
 *   accounts tier ACCOUNT_ID VIP|A|B|C
 */
#include <stdio.h>
#include <string.h>

#include "rovectl.h"

const char rovectl_domain_usage[] =
    "  accounts stage ACCOUNT_ID unidentified|prospect|opportunity|ordered|user|churned\n"
    "                  [--reason TEXT]\n"
    "  accounts tier ACCOUNT_ID VIP|A|B|C\n";

int rovectl_domain_command(rovectl *o)
{
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1);
    if (rovectl_nwords(o) != 4 || strcmp(w0, "accounts") != 0 ||
        (strcmp(w1, "stage") != 0 && strcmp(w1, "tier") != 0))
        return ROVECTL_NOT_MINE;
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

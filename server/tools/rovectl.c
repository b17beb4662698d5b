/*
 * rovectl: the command-line tool for managers and admins. It logs in to the
 * admin API of roved (POST /v1/admin/login) over HTTPS, verifying the server
 * with --ca, and runs one command:
 *
 *   rovectl [OPTIONS] users list
 *   rovectl [OPTIONS] users add USERNAME --name NAME --role ROLE --new-password PW
 *                              [--territory ID] [--manager ID] [--skills TEXT]
 *   rovectl [OPTIONS] users status USERNAME active|frozen|deactivated
 *   rovectl [OPTIONS] devices list
 *   rovectl [OPTIONS] devices revoke DEVICE_ID [--drain-hours H]
 *   rovectl [OPTIONS] stats
 *
 * Options (or environment): --server URL (ROVE_SERVER), --ca FILE (ROVE_CA),
 * --user NAME (ROVE_USER), --password PW (ROVE_PASSWORD), --json (raw output).
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "rove/version.h"
#include "rovectl.h"

typedef struct body {
    char *ptr;
    size_t len;
} body;

static size_t on_data(void *p, size_t size, size_t n, void *userdata)
{
    body *b = userdata;
    size_t add = size * n;
    if (b->len + add > 64u * 1024u * 1024u)
        return 0;
    char *np = realloc(b->ptr, b->len + add + 1);
    if (np == NULL)
        return 0;
    memcpy(np + b->len, p, add);
    b->ptr = np;
    b->len += add;
    b->ptr[b->len] = '\0';
    return add;
}

static CURL *curl;
static char session[128];

/* Sends a request; returns the parsed JSON answer (or NULL after printing the
 * error) and the HTTP status in *status. */
static int login(rovectl *o);

/* Sends body (content_type) to path; returns the parsed JSON answer whatever
 * the status (NULL when there is none), printing the error when keep_errors
 * is 0 and the status is not a success. */
static json_t *request(rovectl *o, const char *method, const char *path,
                       const char *content_type, const char *data, size_t len, long *status,
                       int keep_errors)
{
    if (session[0] == '\0' && strcmp(path, "/v1/admin/login") != 0 && login(o) != 0)
        return NULL;
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", o->server, path);
    body b = {NULL, 0};
    struct curl_slist *hdr = NULL;
    char auth[200], ctype[100];
    if (session[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", session);
        hdr = curl_slist_append(hdr, auth);
    }
    if (data) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
        hdr = curl_slist_append(hdr, ctype);
        hdr = curl_slist_append(hdr, "Expect:");
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    /* The same rule as the SDK's transport (and so rove-field): HTTPS only,
     * no redirects, so a password never travels in clear text. */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca)
        curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca);
    if (data) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_slist_free_all(hdr);
    if (cc != CURLE_OK) {
        fprintf(stderr, "rovectl: %s: %s\n", url, curl_easy_strerror(cc));
        free(b.ptr);
        return NULL;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    json_error_t err;
    json_t *j = b.ptr ? json_loadb(b.ptr, b.len, 0, &err) : NULL;
    free(b.ptr);
    if (*status >= 300 && !keep_errors) {
        json_t *e = json_object_get(j, "error");
        fprintf(stderr, "rovectl: %s %s: HTTP %ld %s: %s\n", method, path, *status,
                json_string_value(json_object_get(e, "code")) ?: "?",
                json_string_value(json_object_get(e, "message")) ?: "");
        json_decref(j);
        return NULL;
    }
    if (j == NULL)
        fprintf(stderr, "rovectl: %s %s: answer is not JSON\n", method, path);
    return j;
}

json_t *rovectl_call(rovectl *o, const char *method, const char *path, json_t *payload,
                     long *status)
{
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_t *j =
        request(o, method, path, "application/json", text, text ? strlen(text) : 0, status, 0);
    if (text) {
        memset(text, 0, strlen(text)); /* may hold a password */
        free(text);
    }
    return j;
}

json_t *rovectl_call_raw(rovectl *o, const char *method, const char *path,
                         const char *content_type, const char *data, size_t len, long *status)
{
    return request(o, method, path, content_type, data, len, status, 1);
}

static int login(rovectl *o)
{
    if (o->user == NULL || o->password == NULL) {
        fprintf(stderr, "rovectl: --user and --password (or ROVE_USER, ROVE_PASSWORD) "
                        "are required\n");
        return 1;
    }
    json_t *req = json_pack("{s:s,s:s}", "user", o->user, "password", o->password);
    long status = 0;
    json_t *j = rovectl_call(o, "POST", "/v1/admin/login", req, &status);
    json_decref(req);
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (tok == NULL || strlen(tok) >= sizeof(session)) {
        json_decref(j);
        return 1;
    }
    strcpy(session, tok);
    json_decref(j);
    return 0;
}

const char *rovectl_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

void rovectl_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s)
        puts(s);
    free(s);
}

static int users_list(rovectl *o)
{
    long status = 0;
    json_t *j = rovectl_call(o, "GET", "/v1/admin/users", NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
    } else {
        printf("%-26s  %-12s  %-10s  %-11s  %s\n", "ID", "USERNAME", "ROLE", "STATUS", "NAME");
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(j, "users"), i, u)
            printf("%-26s  %-12s  %-10s  %-11s  %s\n", rovectl_str(u, "id"),
                   rovectl_str(u, "username"), rovectl_str(u, "role"), rovectl_str(u, "status"),
                   rovectl_str(u, "name"));
    }
    json_decref(j);
    return 0;
}

static int users_add(rovectl *o, const char *username)
{
    static const char *const allowed[] = {
        "--name", "--role", "--new-password", "--territory", "--manager", "--skills", NULL};
    if (!rovectl_opts_ok(o, allowed))
        return 2;
    const char *name = rovectl_opt(o, "--name"), *role = rovectl_opt(o, "--role");
    const char *pw = rovectl_opt(o, "--new-password");
    if (name == NULL || role == NULL || pw == NULL) {
        fprintf(stderr, "rovectl: users add USERNAME needs --name, --role and "
                        "--new-password\n");
        return 2;
    }
    json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "username", username, "name", name, "role",
                            role, "password", pw);
    const char *territory = rovectl_opt(o, "--territory"),
               *manager = rovectl_opt(o, "--manager");
    const char *skills = rovectl_opt(o, "--skills");
    if (territory)
        json_object_set_new(req, "home_territory_id", json_string(territory));
    if (manager)
        json_object_set_new(req, "manager_id", json_string(manager));
    if (skills)
        json_object_set_new(req, "skills", json_string(skills));
    long status = 0;
    json_t *j = rovectl_call(o, "POST", "/v1/admin/users", req, &status);
    json_decref(req);
    if (j == NULL)
        return 1;
    if (o->json)
        rovectl_print_json(j);
    else
        printf("created user %s (%s) id %s\n", rovectl_str(j, "username"),
               rovectl_str(j, "role"), rovectl_str(j, "id"));
    json_decref(j);
    return 0;
}

static int devices_list(rovectl *o)
{
    long status = 0;
    json_t *j = rovectl_call(o, "GET", "/v1/admin/devices", NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
    } else {
        printf("%-26s  %-26s  %-9s  %-12s  %s\n", "ID", "USER", "STATUS", "CURSOR", "NAME");
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(j, "devices"), i, d)
        {
            /* revoked: draining until its drain ends, then wiped once it says so */
            const char *st = rovectl_str(d, "status");
            json_t *w = json_object_get(d, "wiped_at");
            if (!strcmp(st, "revoked"))
                st = json_is_integer(w) ? "wiped" : "revoked";
            printf("%-26s  %-26s  %-9s  %-12lld  %s\n", rovectl_str(d, "id"),
                   rovectl_str(d, "user_id"), st,
                   (long long)json_integer_value(json_object_get(d, "last_cursor")),
                   rovectl_str(d, "name"));
        }
    }
    json_decref(j);
    return 0;
}

static int post_status(rovectl *o, int device, const char *key, const char *status)
{
    char path[256];
    if (!rovectl_safe_key(key)) {
        fprintf(stderr, "rovectl: invalid %s \"%s\"\n", device ? "device id" : "user name",
                key);
        return 2;
    }
    snprintf(path, sizeof(path),
             device ? "/v1/admin/devices/%s/revoke" : "/v1/admin/users/%s/status", key);
    json_t *req = device ? json_object() : json_pack("{s:s}", "status", status);
    const char *drain = device ? rovectl_opt(o, "--drain-hours") : NULL;
    if (drain != NULL) {
        char *end = NULL;
        long h = strtol(drain, &end, 10);
        if (end == drain || *end != '\0' || h < 0 || h > 720) {
            fprintf(stderr, "rovectl: --drain-hours must be 0 to 720, not \"%s\"\n", drain);
            json_decref(req);
            return 2;
        }
        json_object_set_new(req, "drain_seconds", json_integer((json_int_t)h * 3600));
    }
    long http = 0;
    json_t *j = rovectl_call(o, "POST", path, req, &http);
    json_decref(req);
    if (j == NULL)
        return 1;
    if (o->json)
        rovectl_print_json(j);
    else
        printf("%s %s is now %s%s\n", device ? "device" : "user", key, rovectl_str(j, "status"),
               device ? " (it may upload, receiving nothing, until its drain ends; then it "
                        "is told to wipe)"
                      : "");
    json_decref(j);
    return 0;
}

static int stats(rovectl *o)
{
    long status = 0;
    json_t *j = rovectl_call(o, "GET", "/v1/admin/stats", NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        rovectl_print_json(j);
    } else {
        const char *key;
        json_t *t;
        printf("%-14s %10s %10s\n", "TABLE", "LIVE", "DELETED");
        json_object_foreach(json_object_get(j, "tables"), key, t)
            printf("%-14s %10lld %10lld\n", key,
                   (long long)json_integer_value(json_object_get(t, "live")),
                   (long long)json_integer_value(json_object_get(t, "tombstones")));
        printf("\nusers %lld, devices %lld, receipts %lld, audit events %lld, version %lld\n",
               (long long)json_integer_value(json_object_get(j, "users")),
               (long long)json_integer_value(json_object_get(j, "devices")),
               (long long)json_integer_value(json_object_get(j, "receipts")),
               (long long)json_integer_value(json_object_get(j, "audit_events")),
               (long long)json_integer_value(json_object_get(j, "version")));
    }
    json_decref(j);
    return 0;
}

/* ---- argument helpers --------------------------------------------------- */

int rovectl_parse_time(const char *s, long long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end = NULL;
    long long ms = strtoll(s, &end, 10);
    if (*end == '\0' && ms >= 0 && strlen(s) > 10) {
        *out = ms;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL || (*rest != '\0' && strcmp(rest, "Z") != 0)) {
        memset(&tm, 0, sizeof(tm));
        rest = strptime(s, "%Y-%m-%d", &tm);
        if (rest == NULL || *rest != '\0')
            return -1;
    }
    *out = (long long)timegm(&tm) * 1000;
    return 0;
}

int rovectl_safe_key(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= 'a' && *p <= 'z') || *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

void rovectl_print_time(long long ms)
{
    if (ms <= 0) {
        printf("%-20s", "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-20s", buf);
}

const char *rovectl_opt(const rovectl *o, const char *name)
{
    for (int i = 0; i + 1 < o->nargs; i++)
        if (o->args[i][0] == '-' && o->args[i][1] == '-') {
            if (strcmp(o->args[i], name) == 0)
                return o->args[i + 1];
            i++;
        }
    return NULL;
}

const char *rovectl_word(const rovectl *o, int n)
{
    for (int i = 0; i < o->nargs; i++) {
        if (o->args[i][0] == '-' && o->args[i][1] == '-') {
            i++;
            continue;
        }
        if (n-- == 0)
            return o->args[i];
    }
    return NULL;
}

int rovectl_nwords(const rovectl *o)
{
    int n = 0;
    while (rovectl_word(o, n) != NULL)
        n++;
    return n;
}

int rovectl_opts_ok(const rovectl *o, const char *const *allowed)
{
    for (int i = 0; i < o->nargs; i++) {
        if (!(o->args[i][0] == '-' && o->args[i][1] == '-'))
            continue;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, o->args[i]) == 0;
        if (!ok) {
            fprintf(stderr, "rovectl: unknown option %s for this command (try --help)\n",
                    o->args[i]);
            return 0;
        }
        if (i + 1 >= o->nargs) {
            fprintf(stderr, "rovectl: %s needs a value\n", o->args[i]);
            return 0;
        }
        i++;
    }
    return 1;
}

/* ---- the core commands ----------------------------------------------------- */

static const char core_usage[] =
    "  users list\n"
    "  users add USERNAME --name NAME --role rep|technician|manager|admin\n"
    "            --new-password PW [--territory ID] [--manager ID] [--skills TEXT]\n"
    "  users status USERNAME active|frozen|deactivated\n"
    "  devices list\n"
    "  devices revoke DEVICE_ID [--drain-hours H]   (default: roved --drain-hours)\n"
    "  stats\n";

static int core_command(rovectl *o)
{
    static const char *const none[] = {NULL};
    int n = rovectl_nwords(o);
    const char *w0 = rovectl_word(o, 0), *w1 = rovectl_word(o, 1);
    int is_users = !strcmp(w0, "users"), is_devices = !strcmp(w0, "devices");
    if (is_users && n == 3 && !strcmp(w1, "add"))
        return users_add(o, rovectl_word(o, 2));
    int known = (is_users && n == 2 && !strcmp(w1, "list")) ||
                (is_users && n == 4 && !strcmp(w1, "status")) ||
                (is_devices && n == 2 && !strcmp(w1, "list")) ||
                (is_devices && n == 3 && !strcmp(w1, "revoke")) ||
                (!strcmp(w0, "stats") && n == 1);
    if (!known)
        return ROVECTL_NOT_MINE;
    static const char *const revoke_opts[] = {"--drain-hours", NULL};
    if (!rovectl_opts_ok(o, is_devices && !strcmp(w1, "revoke") ? revoke_opts : none))
        return 2;
    if (is_users && !strcmp(w1, "status"))
        return post_status(o, 0, rovectl_word(o, 2), rovectl_word(o, 3));
    if (is_users)
        return users_list(o);
    if (is_devices && !strcmp(w1, "revoke"))
        return post_status(o, 1, rovectl_word(o, 2), NULL);
    if (is_devices)
        return devices_list(o);
    return stats(o);
}

/* Command areas, tried in order. */
static const struct {
    int (*command)(rovectl *o);
    const char *usage;
} areas[] = {
    {core_command, core_usage},
    {rovectl_org_command, rovectl_org_usage},
    {rovectl_scope_command, rovectl_scope_usage},
    {rovectl_domain_command, rovectl_domain_usage},
    {rovectl_transfer_command, rovectl_transfer_usage},
    {rovectl_leave_command, rovectl_leave_usage},
    {rovectl_tokens_command, rovectl_tokens_usage},
};

static void usage(FILE *f)
{
    fputs("Usage: rovectl [OPTIONS] COMMAND\n\nCommands:\n", f);
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
        fputs(areas[i].usage, f);
    fputs("\nOptions:\n"
          "  --server URL      roved base URL, e.g. https://localhost:8443 (ROVE_SERVER)\n"
          "  --ca FILE         CA certificate to verify the server (ROVE_CA)\n"
          "  --user NAME       manager or admin user name (ROVE_USER)\n"
          "  --password PW     their password (ROVE_PASSWORD)\n"
          "  --json            print the raw JSON answer\n"
          "  --help, --version\n",
          f);
}

int main(int argc, char **argv)
{
    rovectl o;
    memset(&o, 0, sizeof(o));
    o.server = getenv("ROVE_SERVER");
    o.ca = getenv("ROVE_CA");
    o.user = getenv("ROVE_USER");
    o.password = getenv("ROVE_PASSWORD");
    char **rest = calloc(2 * (size_t)argc + 1, sizeof(char *)); /* flags gain a value */
    if (rest == NULL)
        return 1;
    o.args = rest;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(rest);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("rovectl %s\n", ROVE_VERSION_STRING);
            free(rest);
            return 0;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
            continue;
        } else if (!strcmp(a, "--server")) {
            dst = &o.server;
        } else if (!strcmp(a, "--ca")) {
            dst = &o.ca;
        } else if (!strcmp(a, "--user")) {
            dst = &o.user;
        } else if (!strcmp(a, "--password")) {
            dst = &o.password;
        } else if (!strcmp(a, "--dry-run") || !strcmp(a, "--auto") || !strcmp(a, "--open") ||
                   !strcmp(a, "--all")) {
            /* Command flags: kept as "--flag yes". */
            rest[o.nargs++] = argv[i];
            rest[o.nargs++] = "yes";
            continue;
        } else if (a[0] == '-' && a[1] == '-') {
            /* A command option: kept with its value for the command. */
            if (i + 1 >= argc) {
                fprintf(stderr, "rovectl: %s needs a value\n", a);
                free(rest);
                return 2;
            }
            rest[o.nargs++] = argv[i];
            rest[o.nargs++] = argv[++i];
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "rovectl: unknown option %s (try --help)\n", a);
            free(rest);
            return 2;
        } else {
            rest[o.nargs++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rovectl: %s needs a value\n", a);
            free(rest);
            return 2;
        }
        *dst = argv[++i];
    }
    if (rovectl_nwords(&o) == 0) {
        usage(stderr);
        free(rest);
        return 2;
    }
    if (o.server == NULL)
        o.server = "https://localhost:8443";
    if (strncasecmp(o.server, "https://", 8) != 0) {
        fprintf(stderr,
                "rovectl: refusing %s: the server URL must start with https:// (the admin "
                "password would travel in clear text)\n",
                o.server);
        free(rest);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    int rc = ROVECTL_NOT_MINE;
    for (size_t i = 0; curl && rc == ROVECTL_NOT_MINE && i < sizeof(areas) / sizeof(areas[0]);
         i++)
        rc = areas[i].command(&o);
    if (curl == NULL) {
        rc = 1;
    } else if (rc == ROVECTL_NOT_MINE) {
        usage(stderr);
        rc = 2;
    }
    memset(session, 0, sizeof(session));
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    free(rest);
    return rc;
}

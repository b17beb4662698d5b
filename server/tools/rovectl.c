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
 *   rovectl [OPTIONS] devices revoke DEVICE_ID
 *   rovectl [OPTIONS] stats
 *
 * Options (or environment): --server URL (ROVE_SERVER), --ca FILE (ROVE_CA),
 * --user NAME (ROVE_USER), --password PW (ROVE_PASSWORD), --json (raw output).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "rove/version.h"

typedef struct opts {
    const char *server, *ca, *user, *password;
    int json;
    /* users add */
    const char *name, *role, *new_password, *territory, *manager, *skills;
} opts;

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
static json_t *call(const opts *o, const char *method, const char *path, json_t *payload,
                    long *status)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", o->server, path);
    body b = {NULL, 0};
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    struct curl_slist *hdr = NULL;
    char auth[200];
    if (session[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", session);
        hdr = curl_slist_append(hdr, auth);
    }
    if (text)
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca)
        curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca);
    if (text) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_slist_free_all(hdr);
    if (text) {
        memset(text, 0, strlen(text)); /* may hold a password */
        free(text);
    }
    if (cc != CURLE_OK) {
        fprintf(stderr, "rovectl: %s: %s\n", url, curl_easy_strerror(cc));
        free(b.ptr);
        return NULL;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    json_error_t err;
    json_t *j = b.ptr ? json_loadb(b.ptr, b.len, 0, &err) : NULL;
    free(b.ptr);
    if (*status >= 300) {
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

static int login(const opts *o)
{
    if (o->user == NULL || o->password == NULL) {
        fprintf(stderr, "rovectl: --user and --password (or ROVE_USER, ROVE_PASSWORD) "
                        "are required\n");
        return 1;
    }
    json_t *req = json_pack("{s:s,s:s}", "user", o->user, "password", o->password);
    long status = 0;
    json_t *j = call(o, "POST", "/v1/admin/login", req, &status);
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

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s)
        puts(s);
    free(s);
}

static int users_list(const opts *o)
{
    long status = 0;
    json_t *j = call(o, "GET", "/v1/admin/users", NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        print_json(j);
    } else {
        printf("%-26s  %-12s  %-10s  %-11s  %s\n", "ID", "USERNAME", "ROLE", "STATUS", "NAME");
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(j, "users"), i, u)
            printf("%-26s  %-12s  %-10s  %-11s  %s\n", str(u, "id"), str(u, "username"),
                   str(u, "role"), str(u, "status"), str(u, "name"));
    }
    json_decref(j);
    return 0;
}

static int users_add(const opts *o, const char *username)
{
    if (o->name == NULL || o->role == NULL || o->new_password == NULL) {
        fprintf(stderr, "rovectl: users add USERNAME needs --name, --role and "
                        "--new-password\n");
        return 2;
    }
    json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "username", username, "name", o->name,
                            "role", o->role, "password", o->new_password);
    if (o->territory)
        json_object_set_new(req, "home_territory_id", json_string(o->territory));
    if (o->manager)
        json_object_set_new(req, "manager_id", json_string(o->manager));
    if (o->skills)
        json_object_set_new(req, "skills", json_string(o->skills));
    long status = 0;
    json_t *j = call(o, "POST", "/v1/admin/users", req, &status);
    json_decref(req);
    if (j == NULL)
        return 1;
    if (o->json)
        print_json(j);
    else
        printf("created user %s (%s) id %s\n", str(j, "username"), str(j, "role"),
               str(j, "id"));
    json_decref(j);
    return 0;
}

static int devices_list(const opts *o)
{
    long status = 0;
    json_t *j = call(o, "GET", "/v1/admin/devices", NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        print_json(j);
    } else {
        printf("%-26s  %-26s  %-8s  %-12s  %s\n", "ID", "USER", "STATUS", "CURSOR", "NAME");
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(j, "devices"), i, d)
            printf("%-26s  %-26s  %-8s  %-12lld  %s\n", str(d, "id"), str(d, "user_id"),
                   str(d, "status"),
                   (long long)json_integer_value(json_object_get(d, "last_cursor")),
                   str(d, "name"));
    }
    json_decref(j);
    return 0;
}

static int post_status(const opts *o, int device, const char *key, const char *status)
{
    char path[256];
    for (const char *p = key; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              *p == '_' || *p == '-' || *p == '.')) {
            fprintf(stderr, "rovectl: invalid %s \"%s\"\n", device ? "device id" : "user name",
                    key);
            return 2;
        }
    snprintf(path, sizeof(path), device ? "/v1/admin/devices/%s/revoke"
                                        : "/v1/admin/users/%s/status", key);
    json_t *req = device ? json_object() : json_pack("{s:s}", "status", status);
    long http = 0;
    json_t *j = call(o, "POST", path, req, &http);
    json_decref(req);
    if (j == NULL)
        return 1;
    if (o->json)
        print_json(j);
    else
        printf("%s %s is now %s\n", device ? "device" : "user", key, str(j, "status"));
    json_decref(j);
    return 0;
}

static int stats(const opts *o)
{
    long status = 0;
    json_t *j = call(o, "GET", "/v1/admin/stats", NULL, &status);
    if (j == NULL)
        return 1;
    if (o->json) {
        print_json(j);
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

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: rovectl [OPTIONS] COMMAND\n\n"
            "Commands:\n"
            "  users list\n"
            "  users add USERNAME --name NAME --role rep|technician|manager|admin\n"
            "            --new-password PW [--territory ID] [--manager ID] [--skills TEXT]\n"
            "  users status USERNAME active|frozen|deactivated\n"
            "  devices list\n"
            "  devices revoke DEVICE_ID\n"
            "  stats\n\n"
            "Options:\n"
            "  --server URL      roved base URL, e.g. https://localhost:8443 (ROVE_SERVER)\n"
            "  --ca FILE         CA certificate to verify the server (ROVE_CA)\n"
            "  --user NAME       manager or admin user name (ROVE_USER)\n"
            "  --password PW     their password (ROVE_PASSWORD)\n"
            "  --json            print the raw JSON answer\n"
            "  --help, --version\n");
}

int main(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof(o));
    o.server = getenv("ROVE_SERVER");
    o.ca = getenv("ROVE_CA");
    o.user = getenv("ROVE_USER");
    o.password = getenv("ROVE_PASSWORD");
    const char *words[4] = {NULL};
    int nwords = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("rovectl %s\n", ROVE_VERSION_STRING);
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
        } else if (!strcmp(a, "--name")) {
            dst = &o.name;
        } else if (!strcmp(a, "--role")) {
            dst = &o.role;
        } else if (!strcmp(a, "--new-password")) {
            dst = &o.new_password;
        } else if (!strcmp(a, "--territory")) {
            dst = &o.territory;
        } else if (!strcmp(a, "--manager")) {
            dst = &o.manager;
        } else if (!strcmp(a, "--skills")) {
            dst = &o.skills;
        } else if (a[0] == '-') {
            fprintf(stderr, "rovectl: unknown option %s (try --help)\n", a);
            return 2;
        } else {
            if (nwords == 4) {
                fprintf(stderr, "rovectl: too many arguments (try --help)\n");
                return 2;
            }
            words[nwords++] = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rovectl: %s needs a value\n", a);
            return 2;
        }
        *dst = argv[++i];
    }
    if (nwords == 0) {
        usage(stderr);
        return 2;
    }
    if (o.server == NULL)
        o.server = "https://localhost:8443";
    int is_users = !strcmp(words[0], "users"), is_devices = !strcmp(words[0], "devices");
    int known = (is_users && nwords == 2 && !strcmp(words[1], "list")) ||
                (is_users && nwords == 3 && !strcmp(words[1], "add")) ||
                (is_users && nwords == 4 && !strcmp(words[1], "status")) ||
                (is_devices && nwords == 2 && !strcmp(words[1], "list")) ||
                (is_devices && nwords == 3 && !strcmp(words[1], "revoke")) ||
                (!strcmp(words[0], "stats") && nwords == 1);
    if (!known) {
        usage(stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    int rc = curl ? login(&o) : 1;
    if (rc == 0) {
        if (is_users && !strcmp(words[1], "status"))
            rc = post_status(&o, 0, words[2], words[3]);
        else if (is_users)
            rc = words[1][0] == 'l' ? users_list(&o) : users_add(&o, words[2]);
        else if (is_devices && !strcmp(words[1], "revoke"))
            rc = post_status(&o, 1, words[2], NULL);
        else if (is_devices)
            rc = devices_list(&o);
        else
            rc = stats(&o);
    }
    memset(session, 0, sizeof(session));
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc;
}

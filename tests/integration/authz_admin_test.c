/*
 * The authorization suite, admin routes (authz.h): one row per route of
 * ROVED_ADMIN_ROUTES with what a success and a nonexistent object answer;
 * every role is checked against every row in the world of authz_world.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/src/routes.h"
#include "authz.h"
#include "cases.h"

#define AUTHZ_ADMIN_ROUTE(method, pattern, who, ...) {#method, pattern, #who},
static const authz_route admin_routes[] = {ROVED_ADMIN_ROUTES(AUTHZ_ADMIN_ROUTE)};
#undef AUTHZ_ADMIN_ROUTE

/* ---- bodies -------------------------------------------------------------- */

/* Expands a template: {S} a fresh far-future time (one day earlier at every
 * expansion), {T} one hour after it, {NT} {ET} {MT} the North, East and a
 * missing territory id, {AN} {AE} {AA} accounts for transfer lines (maria's,
 * erin's, the admin's), {AP} maria's account for the body probes. */
static void expand(authz_world *w, const char *tmpl, char *out, size_t size)
{
    int64_t s = w->serial;
    w->serial -= 86400000;
    char num[2][24];
    snprintf(num[0], sizeof(num[0]), "%lld", (long long)s);
    snprintf(num[1], sizeof(num[1]), "%lld", (long long)(s + 3600000));
    const struct {
        const char *key, *val;
    } subst[] = {{"{S}", num[0]},       {"{T}", num[1]},         {"{NT}", w->north},
                 {"{ET}", w->east},     {"{MT}", w->missing_id}, {"{AN}", w->acc_n[2]},
                 {"{AE}", w->acc_e[2]}, {"{AA}", w->acc_e[4]},   {"{AP}", w->acc_n[4]}};
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        size_t k;
        for (k = 0; k < NELEM(subst); k++)
            if (strncmp(p, subst[k].key, strlen(subst[k].key)) == 0)
                break;
        const char *piece = k < NELEM(subst) ? subst[k].val : p;
        size_t len = k < NELEM(subst) ? strlen(piece) : 1;
        TH_ASSERT(n + len < size);
        memcpy(out + n, piece, len);
        n += len;
        p += k < NELEM(subst) ? strlen(subst[k].key) : 1;
    }
    out[n] = '\0';
}

/* ---- the admin table ------------------------------------------------------ */

typedef struct row {
    const char *method, *pattern, *who; /* who must match routes.h */
    int kind;                           /* the object in the path, or K_NONE */
    int listed;        /* list routes: the kind whose entries are listed (n, e) */
    const char *query; /* appended; {ID} is the object */
    const char *ctype; /* NULL: application/json */
    const char *body_n, *body_e, *body_a; /* maria's, erin's, the admin's body */
    int ok;                               /* status of a success */
    int miss;                             /* status for a nonexistent object; 0: any 4xx */
} row;

#define LEAVE_BODY(who, del)                                                                   \
    "{\"user\":\"" who "\",\"from\":{S},\"to\":{T},\"delegates\":[{\"user\":\"" del "\"}]}"
#define REALIGN_BODY(acc, to)                                                                  \
    "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"" acc "\"],\"to\":[\"" to "\"]}]" \
    "}"

static const row admin_rows[] = {
    {"POST", "login", "ANYONE", K_NONE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"GET", "users", "MANAGER", K_NONE, K_USER, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "users", "ADMIN", K_NONE, K_NONE, NULL, NULL,
     "{\"username\":\"authz{S}\",\"name\":\"A\",\"role\":\"rep\",\"password\":\"pass-word-1\"}",
     NULL, NULL, 201, 0},
    {"POST", "users/:username/status", "ADMIN", K_USER, K_NONE, NULL, NULL,
     "{\"status\":\"active\"}", NULL, NULL, 200, 404},
    {"POST", "users/:username/absences", "MANAGER", K_USER, K_NONE, NULL, NULL,
     "{\"from\":{S},\"to\":{T},\"reason\":\"authz\"}", NULL, NULL, 201, 404},
    {"GET", "users/:username/tokens", "MANAGER", K_USER, K_NONE, NULL, NULL, NULL, NULL, NULL,
     200, 404},
    {"POST", "tokens/:id/revoke", "MANAGER", K_TOKEN, K_NONE, NULL, NULL, "{}", NULL, NULL, 200,
     404},
    {"GET", "absences", "MANAGER", K_NONE, K_USER, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"GET", "devices", "MANAGER", K_NONE, K_DEVICE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "devices/:id/revoke", "ADMIN", K_DEVICE, K_NONE, NULL, NULL,
     "{\"drain_seconds\":0}", NULL, NULL, 200, 404},
    {"GET", "stats", "ADMIN", K_NONE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"GET", "audit", "MANAGER", K_ACCOUNT, K_NONE, "?table=account&record={ID}", NULL, NULL,
     NULL, NULL, 200, 404},
    {"POST", "import/:kind", "ADMIN", K_KIND, K_NONE, "?dry_run=1", "text/csv",
     "name,parent,owner\nAuthz Territory,,\n", NULL, NULL, 200, 0},
    {"POST", "accounts/:id/assign", "MANAGER", K_ACCOUNT, K_NONE, NULL, NULL,
     "{\"owner\":\"rita\",\"reason\":\"authz\"}", "{\"owner\":\"ezra\",\"reason\":\"authz\"}",
     NULL, 200, 404},
    {"POST", "accounts/:id/stage", "MANAGER", K_ACCOUNT, K_NONE, NULL, NULL,
     "{\"stage\":\"churned\",\"reason\":\"authz\"}", "{\"stage\":\"churned\"}",
     "{\"stage\":\"prospect\"}", 200, 404},
    {"POST", "accounts/:id/tier", "MANAGER", K_ACCOUNT, K_NONE, NULL, NULL,
     "{\"tier\":\"VIP\"}", "{\"tier\":\"VIP\"}", "{\"tier\":\"B\"}", 200, 404},
    {"GET", "territories/:id/members", "MANAGER", K_TERRITORY, K_NONE, NULL, NULL, NULL, NULL,
     NULL, 200, 404},
    {"POST", "territories/:id/members", "MANAGER", K_TERRITORY, K_NONE, NULL, NULL,
     "{\"user\":\"rosa\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}",
     "{\"user\":\"eve\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}", NULL, 201, 404},
    {"POST", "territories/:id/members/:username/end", "MANAGER", K_MEMBER, K_NONE, NULL, NULL,
     "{\"at\":{S}}", NULL, NULL, 200, 404},
    {"GET", "tasks/queue", "MANAGER", K_NONE, K_TASK, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "tasks/:id/assign", "MANAGER", K_TASK, K_NONE, NULL, NULL, "{\"auto\":true}", NULL,
     NULL, 200, 404},
    {"GET", "conflicts", "MANAGER", K_NONE, K_CONFLICT_ROW, NULL, NULL, NULL, NULL, NULL, 200,
     0},
    {"GET", "conflicts/:id", "MANAGER", K_CONFLICT_RESTORE, K_NONE, NULL, NULL, NULL, NULL,
     NULL, 200, 404},
    {"POST", "conflicts/:id/restore", "MANAGER", K_CONFLICT_RESTORE, K_NONE, NULL, NULL, "{}",
     NULL, NULL, 200, 404},
    {"POST", "conflicts/:id/dismiss", "MANAGER", K_CONFLICT_DISMISS, K_NONE, NULL, NULL, "{}",
     NULL, NULL, 200, 404},
    {"GET", "quarantine", "MANAGER", K_NONE, K_QUARANTINE_ROW, NULL, NULL, NULL, NULL, NULL,
     200, 0},
    {"GET", "quarantine/:id", "MANAGER", K_QUARANTINE_APPLY, K_NONE, NULL, NULL, NULL, NULL,
     NULL, 200, 404},
    {"POST", "quarantine/:id/apply", "MANAGER", K_QUARANTINE_APPLY, K_NONE, NULL, NULL, "{}",
     NULL, NULL, 200, 404},
    {"POST", "quarantine/:id/discard", "MANAGER", K_QUARANTINE_DISCARD, K_NONE, NULL, NULL,
     "{\"reason\":\"authz\"}", NULL, NULL, 200, 404},
    {"GET", "transfers", "MANAGER", K_NONE, K_TRANSFER, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "transfers", "MANAGER", K_NONE, K_NONE, NULL, NULL, REALIGN_BODY("{AN}", "raj"),
     REALIGN_BODY("{AE}", "evan"), REALIGN_BODY("{AA}", "evan"), 201, 0},
    {"GET", "transfers/:id", "MANAGER", K_TRANSFER, K_NONE, NULL, NULL, NULL, NULL, NULL, 200,
     404},
    {"GET", "transfers/:id/preview", "MANAGER", K_TRANSFER, K_NONE, NULL, NULL, NULL, NULL,
     NULL, 200, 404},
    {"POST", "transfers/:id/run", "MANAGER", K_TRANSFER, K_NONE, NULL, NULL, "{}", NULL, NULL,
     200, 404},
    {"GET", "leaves", "MANAGER", K_NONE, K_LEAVE, NULL, NULL, NULL, NULL, NULL, 200, 0},
    {"POST", "leaves", "MANAGER", K_NONE, K_NONE, NULL, NULL, LEAVE_BODY("rita", "raj"),
     LEAVE_BODY("ezra", "evan"), NULL, 201, 0},
    {"GET", "leaves/:id", "MANAGER", K_LEAVE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200, 404},
    {"GET", "leaves/:id/digest", "MANAGER", K_LEAVE, K_NONE, NULL, NULL, NULL, NULL, NULL, 200,
     404},
    {"POST", "leaves/:id/end", "MANAGER", K_LEAVE_END, K_NONE, NULL, NULL, "{}", NULL, NULL,
     200, 404},
    {"POST", "leaves/:id/revoke", "MANAGER", K_LEAVE_REVOKE, K_NONE, NULL, NULL, "{}", NULL,
     NULL, 200, 404},
};

/*
 * Objects named in a body: maria's request naming an East person or East
 * (out of her reach) must answer exactly like one naming nobody, and change
 * nothing.
 */
typedef struct body_probe {
    const char *pattern, *path, *out, *missing; /* path: {AN} etc. expanded */
} body_probe;

static const body_probe body_probes[] = {
    {"accounts/:id/assign", "accounts/{AP}/assign", "{\"owner\":\"ezra\"}",
     "{\"owner\":\"nosuchuser\"}"},
    {"accounts/:id/assign", "accounts/{AP}/assign", "{\"territory\":\"{ET}\"}",
     "{\"territory\":\"{MT}\"}"},
    {"territories/:id/members", "territories/{NT}/members",
     "{\"user\":\"ezra\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}",
     "{\"user\":\"nosuchuser\",\"role\":\"rep\",\"from\":{S},\"to\":{T}}"},
    {"transfers", "transfers", REALIGN_BODY("{AP}", "evan"),
     REALIGN_BODY("{AP}", "nosuchuser")},
    {"transfers", "transfers",
     "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"{AP}\"],\"to\":[\"raj\"],"
     "\"to_territory\":\"{ET}\"}]}",
     "{\"reason\":\"realignment\",\"lines\":[{\"accounts\":[\"{AP}\"],\"to\":[\"raj\"],"
     "\"to_territory\":\"{MT}\"}]}"},
    {"transfers", "transfers",
     "{\"leaver\":\"eli\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,\"to\":[\"raj\"]}"
     "]}",
     "{\"leaver\":\"nosuchuser\",\"reason\":\"resignation\",\"lines\":[{\"all\":true,\"to\":["
     "\"raj\"]}]}"},
    {"leaves", "leaves", LEAVE_BODY("eve", "evan"), LEAVE_BODY("nosuchuser", "evan")},
    {"leaves", "leaves", LEAVE_BODY("rita", "ezra"), LEAVE_BODY("rita", "nosuchuser")},
};

/* ---- calling ------------------------------------------------------------- */

/* Builds /v1/admin/<pattern> with the object's parts for the ":" segments,
 * then the row's query with {ID} = the object. */
static void build_path(const row *r, const char *obj, char *out, size_t size)
{
    char parts[4][80];
    size_t np = 0;
    for (const char *p = obj; p && *p && np < 4;) {
        size_t len = strcspn(p, "/");
        snprintf(parts[np++], sizeof(parts[0]), "%.*s", (int)len, p);
        p += len + (p[len] == '/');
    }
    size_t n = (size_t)snprintf(out, size, "/v1/admin/");
    size_t used = 0;
    for (const char *p = r->pattern; *p;) {
        size_t len = strcspn(p, "/");
        if (*p == ':') {
            TH_ASSERT(used < np);
            n += (size_t)snprintf(out + n, size - n, "%s", parts[used++]);
        } else {
            n += (size_t)snprintf(out + n, size - n, "%.*s", (int)len, p);
        }
        p += len;
        if (*p == '/') {
            n += (size_t)snprintf(out + n, size - n, "/");
            p++;
        }
    }
    if (r->query != NULL) {
        const char *id = strstr(r->query, "{ID}");
        if (id != NULL)
            n += (size_t)snprintf(out + n, size - n, "%.*s%s%s", (int)(id - r->query), r->query,
                                  obj, id + 4);
        else
            n += (size_t)snprintf(out + n, size - n, "%s", r->query);
    }
    TH_ASSERT(n < size);
}

static void call(authz_world *w, const row *r, const char *token, const char *obj,
                 const char *body_tmpl, authz_answer *a)
{
    char path[400], body[2048] = "";
    build_path(r, obj, path, sizeof(path));
    int post = strcmp(r->method, "POST") == 0;
    if (post)
        expand(w, body_tmpl ? body_tmpl : "{}", body, sizeof(body));
    th_resp resp;
    th_http(w->s, r->method, path, token, r->ctype ? r->ctype : "application/json",
            post ? body : NULL, strlen(body), &resp);
    authz_answer_take(&resp, path, a);
}

static void route_name(const row *r, char *out, size_t size)
{
    snprintf(out, size, "%s %s", r->method, r->pattern);
}

/* One call expected to be refused with status/code; for a POST the stored
 * tables must not change. */
static void expect_refusal(authz_world *w, const row *r, const authz_role *ro, const char *obj,
                           const char *what, long status, const char *code)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    authz_answer a;
    call(w, r, ro->token, obj, r->body_n, &a);
    if (a.status != status || strcmp(a.code, code) != 0)
        authz_fail(rn, ro->name, what, "expected %ld %s, got %ld %s (%s)", status, code,
                   a.status, a.code, a.msg);
    authz_answer_free(&a);
    if (strcmp(r->method, "POST") == 0)
        authz_stored_check(w->stored, rn, ro->name, what);
}

static void expect_ok(authz_world *w, const row *r, const char *token, const char *who,
                      const char *obj, const char *body, const char *what)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    authz_answer a;
    call(w, r, token, obj, body, &a);
    if (a.status != r->ok)
        authz_fail(rn, who, what, "expected %d, got %ld %s (%s)", r->ok, a.status, a.code,
                   a.msg);
    authz_answer_free(&a);
}

/* A manager naming an object out of reach: exactly the nonexistent answer,
 * nothing changed. */
static void expect_like_missing(authz_world *w, const row *r, const authz_role *ro,
                                const char *out_obj, const char *body)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    authz_answer out, miss;
    call(w, r, ro->token, out_obj, body, &out);
    if (strcmp(r->method, "POST") == 0)
        authz_stored_check(w->stored, rn, ro->name, "out of reach");
    call(w, r, ro->token, w->o[r->kind].miss, body, &miss);
    if (strcmp(r->method, "POST") == 0)
        authz_stored_check(w->stored, rn, ro->name, "nonexistent");
    if (r->miss > 0 && miss.status != r->miss)
        authz_fail(rn, ro->name, "nonexistent", "expected %d, got %ld %s (%s)", r->miss,
                   miss.status, miss.code, miss.msg);
    if (!authz_same_answer(&out, &miss))
        authz_fail(
            rn, ro->name, "out of reach vs nonexistent",
            "answers differ: out of reach %ld %s \"%s\" %.200s; nonexistent %ld %s \"%s\" "
            "%.200s",
            out.status, out.code, out.msg, out.body, miss.status, miss.code, miss.msg,
            miss.body);
    authz_answer_free(&out);
    authz_answer_free(&miss);
}

/* A list as one role: status 200, the wanted entry present, none of the
 * forbidden markers. */
static void check_list(authz_world *w, const row *r, const char *token, const char *who,
                       const char *want, char (*marks)[40], size_t nmarks)
{
    char rn[128];
    route_name(r, rn, sizeof(rn));
    authz_answer a;
    call(w, r, token, NULL, NULL, &a);
    if (a.status != 200)
        authz_fail(rn, who, "list", "expected 200, got %ld %s (%s)", a.status, a.code, a.msg);
    else if (want != NULL && strstr(a.body, want) == NULL)
        authz_fail(rn, who, "list", "an entry in reach (%s) is missing", want);
    char leaked[600] = "";
    for (size_t i = 0; a.status == 200 && i < nmarks; i++)
        if (strstr(a.body, marks[i]) != NULL && strlen(leaked) + strlen(marks[i]) + 2 < 600)
            strcat(strcat(leaked, " "), marks[i]);
    if (leaked[0] != '\0')
        authz_fail(rn, who, "list", "lists entries out of reach (they mention:%s)", leaked);
    authz_answer_free(&a);
}

static void check_admin_route(authz_world *w, const row *r, const authz_role *unauth,
                              size_t nunauth, const authz_role *maria, const authz_role *erin,
                              const authz_role *admin)
{
    authz_stored_rebase(w->stored);
    const authz_objs *o = &w->o[r->kind];
    int obj = r->kind != K_NONE;

    /* No session: 401 auth, whatever the object. */
    for (size_t i = 0; i < nunauth; i++) {
        expect_refusal(w, r, &unauth[i], obj ? o->n : NULL, "in scope", 401,
                       rove_error_name(ROVE_EAUTH));
        if (obj)
            expect_refusal(w, r, &unauth[i], o->e, "out of scope", 401,
                           rove_error_name(ROVE_EAUTH));
    }
    const authz_role *mgr[2] = {maria, erin};
    if (strcmp(r->who, "ADMIN") == 0) {
        for (int m = 0; m < 2; m++) {
            expect_refusal(w, r, mgr[m], obj ? o->n : NULL, "North object", 403,
                           rove_error_name(ROVE_EFORBIDDEN));
            if (obj) {
                expect_refusal(w, r, mgr[m], o->e, "East object", 403,
                               rove_error_name(ROVE_EFORBIDDEN));
                expect_refusal(w, r, mgr[m], o->miss, "nonexistent", 403,
                               rove_error_name(ROVE_EFORBIDDEN));
            }
        }
    } else if (obj) {
        expect_like_missing(w, r, maria, o->e, r->body_n);
        expect_like_missing(w, r, erin, o->n, r->body_e ? r->body_e : r->body_n);
    }

    /* Successes (and the admin on a nonexistent object). */
    const char *be = r->body_e ? r->body_e : r->body_n;
    const char *ba = r->body_a ? r->body_a : be;
    if (strcmp(r->who, "MANAGER") == 0 && r->listed != K_NONE) {
        const authz_objs *l = &w->o[r->listed];
        check_list(w, r, maria->token, maria->name, l->n, w->east_marks, w->neast);
        check_list(w, r, erin->token, erin->name, l->e, w->north_marks, w->nnorth);
        check_list(w, r, admin->token, admin->name, l->e, NULL, 0);
        check_list(w, r, admin->token, admin->name, l->n, NULL, 0);
    } else if (strcmp(r->who, "MANAGER") == 0) {
        expect_ok(w, r, maria->token, maria->name, obj ? o->n : NULL, r->body_n, "in scope");
        expect_ok(w, r, erin->token, erin->name, obj ? o->e : NULL, be, "in scope");
        expect_ok(w, r, admin->token, admin->name, obj ? o->e2 : NULL, ba, "East object");
    } else {
        expect_ok(w, r, admin->token, admin->name, obj ? o->e2 : NULL, ba, "East object");
    }
    if (obj) {
        char rn[128];
        route_name(r, rn, sizeof(rn));
        authz_answer a;
        call(w, r, admin->token, o->miss, ba, &a);
        if ((r->miss > 0 && a.status != r->miss) ||
            (r->miss == 0 && (a.status < 400 || a.status >= 500)))
            authz_fail(rn, admin->name, "nonexistent", "expected %d, got %ld %s (%s)", r->miss,
                       a.status, a.code, a.msg);
        authz_answer_free(&a);
    }
}

/* POST /v1/admin/login: reps and technicians 403 forbidden, managers and
 * admins 200, a wrong password 401 auth. */
static void check_login(authz_world *w)
{
    static const struct {
        const char *user, *pw;
        long status;
        int code;
    } cases[] = {{"rita", "rita-demo", 403, ROVE_EFORBIDDEN},
                 {"ezra", "ezra-pass-1", 403, ROVE_EFORBIDDEN},
                 {"tom", "tom-demo", 403, ROVE_EFORBIDDEN},
                 {"maria", "maria-demo", 200, 0},
                 {"erin", "erin-pass-1", 200, 0},
                 {"admin", "admin-demo", 200, 0},
                 {"maria", "wrong-password", 401, ROVE_EAUTH},
                 {"nosuchuser", "x-password", 401, ROVE_EAUTH}};
    authz_stored_rebase(w->stored);
    for (size_t i = 0; i < NELEM(cases); i++) {
        char body[200];
        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", cases[i].user,
                 cases[i].pw);
        th_resp r;
        th_http(w->s, "POST", "/v1/admin/login", NULL, "application/json", body, strlen(body),
                &r);
        const char *code = cases[i].code ? rove_error_name(cases[i].code) : "";
        if (r.status != cases[i].status || strcmp(r.error, code) != 0)
            authz_fail("POST login", cases[i].user, cases[i].pw, "expected %ld %s, got %ld %s",
                       cases[i].status, code, r.status, r.error);
        th_resp_free(&r);
        if (cases[i].status != 200)
            authz_stored_check(w->stored, "POST login", cases[i].user, "refused login");
        else
            authz_stored_rebase(w->stored); /* a session is bookkeeping, not checked */
    }
}

/* Every route has a row and every row a route, with the same "who". */
static const row *find_row(const authz_route *rt)
{
    for (size_t i = 0; i < NELEM(admin_rows); i++)
        if (strcmp(admin_rows[i].method, rt->method) == 0 &&
            strcmp(admin_rows[i].pattern, rt->pattern) == 0)
            return &admin_rows[i];
    return NULL;
}

static void check_table_matches_routes(void)
{
    for (size_t i = 0; i < NELEM(admin_routes); i++) {
        const row *r = find_row(&admin_routes[i]);
        TH_ASSERT_MSG(r != NULL, "routes.h: %s %s has no row in authz_admin_test.c",
                      admin_routes[i].method, admin_routes[i].pattern);
        TH_ASSERT_MSG(strcmp(r->who, admin_routes[i].who) == 0,
                      "%s %s: routes.h says %s, the authz table %s", r->method, r->pattern,
                      admin_routes[i].who, r->who);
    }
    for (size_t i = 0; i < NELEM(admin_rows); i++) {
        int found = 0;
        for (size_t k = 0; k < NELEM(admin_routes); k++)
            found |= strcmp(admin_rows[i].method, admin_routes[k].method) == 0 &&
                     strcmp(admin_rows[i].pattern, admin_routes[k].pattern) == 0;
        TH_ASSERT_MSG(found, "authz_admin_test.c: row %s %s is not a route in routes.h",
                      admin_rows[i].method, admin_rows[i].pattern);
    }
}

static void check_body_probes(authz_world *w, const authz_role *maria)
{
    for (size_t i = 0; i < NELEM(body_probes); i++) {
        const body_probe *p = &body_probes[i];
        row r = {"POST", p->path, "MANAGER", K_NONE, K_NONE, NULL,
                 NULL,   NULL,    NULL,      NULL,   0,      0};
        char path[200];
        expand(w, p->path, path, sizeof(path));
        r.pattern = path;
        authz_stored_rebase(w->stored);
        authz_answer out, miss;
        call(w, &r, maria->token, NULL, p->out, &out);
        authz_stored_check(w->stored, p->pattern, maria->name, p->out);
        call(w, &r, maria->token, NULL, p->missing, &miss);
        authz_stored_check(w->stored, p->pattern, maria->name, p->missing);
        if (out.status < 400 || !authz_same_answer(&out, &miss))
            authz_fail(
                p->pattern, maria->name, p->out,
                "a body naming East must answer like one naming nothing: got %ld %s \"%s\", "
                "nonexistent %ld %s \"%s\"",
                out.status, out.code, out.msg, miss.status, miss.code, miss.msg);
        authz_answer_free(&out);
        authz_answer_free(&miss);
    }
}

void test_integration__authz_admin(void)
{
    check_table_matches_routes();
    authz_world *w = calloc(1, sizeof(*w));
    TH_ASSERT(w != NULL);
    authz_world_setup(w);
    double t0 = th_mono();
    const authz_role unauth[] = {{"none", NULL},
                                 {"garbage", "garbage-token-0123456789"},
                                 {"rep rita (device)", w->rita.token},
                                 {"other rep ezra (device)", w->ezra.token},
                                 {"technician tom (device)", w->tom.token},
                                 {"revoked device", w->rita2.token}};
    const authz_role maria = {"manager maria", w->maria},
                     erin = {"manager erin (East)", w->erin}, admin = {"admin", w->admin};
    check_login(w);
    check_body_probes(w, &maria);
    for (size_t i = 0; i < NELEM(admin_routes); i++) {
        const row *r = find_row(&admin_routes[i]);
        if (strcmp(r->who, "ANYONE") == 0)
            continue; /* login: check_login */
        check_admin_route(w, r, unauth, NELEM(unauth), &maria, &erin, &admin);
    }
    th_log("admin routes: %zu routes checked in %.1f s, %d failures", NELEM(admin_routes),
           th_mono() - t0, authz_failures);
    authz_assert_no_failures();
    authz_world_free(w);
}

/* CSV import (see import.h). */
#include "import.h"

#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "domain.h"
#include "rove/errors.h"
#include "util.h"

/* ---- reading the file --------------------------------------------------- */

typedef struct record {
    size_t line;
    size_t nf;
    char **f;
} record;

typedef struct reader {
    record *recs;
    size_t n, cap;
    record cur;
    size_t line;
    int nomem;
} reader;

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->nomem)
        return;
    char **f = realloc(r->cur.f, (r->cur.nf + 1) * sizeof(char *));
    char *copy = malloc(len + 1);
    if (f == NULL || copy == NULL) {
        free(copy);
        if (f != NULL)
            r->cur.f = f;
        r->nomem = 1;
        return;
    }
    memcpy(copy, s ? s : "", len);
    copy[len] = '\0';
    r->cur.f = f;
    r->cur.f[r->cur.nf++] = copy;
}

static void on_row(int c, void *data)
{
    reader *r = data;
    (void)c;
    if (r->nomem)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        record *v = realloc(r->recs, cap * sizeof(*v));
        if (v == NULL) {
            r->nomem = 1;
            return;
        }
        r->recs = v;
        r->cap = cap;
    }
    r->cur.line = r->line;
    r->recs[r->n++] = r->cur;
    memset(&r->cur, 0, sizeof(r->cur));
}

static void reader_free(reader *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (size_t k = 0; k < r->recs[i].nf; k++)
            free(r->recs[i].f[k]);
        free(r->recs[i].f);
    }
    for (size_t k = 0; k < r->cur.nf; k++)
        free(r->cur.f[k]);
    free(r->cur.f);
    free(r->recs);
}

/* 0 when s[0..len) is valid UTF-8 without NUL bytes; else the 1-based line
 * of the first bad byte. */
static size_t bad_text_line(const unsigned char *s, size_t len)
{
    size_t line = 1;
    for (size_t i = 0; i < len;) {
        unsigned char ch = s[i];
        size_t n; /* continuation bytes */
        if (ch == 0)
            return line;
        if (ch < 0x80)
            n = 0;
        else if (ch >= 0xC2 && ch <= 0xDF)
            n = 1;
        else if ((ch & 0xF0) == 0xE0)
            n = 2;
        else if (ch >= 0xF0 && ch <= 0xF4)
            n = 3;
        else
            return line;
        if (i + n >= len && n > 0)
            return line;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return line;
        if (ch == '\n')
            line++;
        i += n + 1;
    }
    return 0;
}

/* Parses the file line by line, so every record knows the line it ends on. */
static int read_csv(const char *csv, size_t len, reader *r, char *msg, size_t msgsize)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return ROVE_ENOMEM;
    csv_set_opts(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    int rc = 0;
    r->line = 1;
    size_t pos = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(csv + pos, '\n', len - pos);
        size_t take = nl ? (size_t)(nl - (csv + pos)) + 1 : len - pos;
        if (csv_parse(&p, csv + pos, take, on_field, on_row, r) != take) {
            snprintf(msg, msgsize, "line %zu: %s", r->line, csv_strerror(csv_error(&p)));
            rc = ROVE_EBADVALUE;
        } else if (r->nomem) {
            rc = ROVE_ENOMEM;
        } else if (r->n > ROVED_IMPORT_MAX_ROWS) {
            snprintf(msg, msgsize, "more than %d rows", ROVED_IMPORT_MAX_ROWS);
            rc = ROVE_ETOOBIG;
        }
        pos += take;
        if (nl != NULL)
            r->line++;
    }
    if (rc == 0 && csv_fini(&p, on_field, on_row, r) != 0) {
        size_t last = r->line - (len > 0 && csv[len - 1] == '\n' && r->line > 1);
        snprintf(msg, msgsize, "line %zu: %s", last, csv_strerror(csv_error(&p)));
        rc = ROVE_EBADVALUE;
    }
    if (rc == 0 && r->nomem)
        rc = ROVE_ENOMEM;
    csv_free(&p);
    return rc;
}

/* ---- the kinds ------------------------------------------------------------ */

typedef struct csv_column {
    const char *name;
    int required;
} csv_column;

static const csv_column user_cols[] = {
    {"username", 1},       {"name", 1},   {"role", 1},     {"manager", 0},
    {"home_territory", 0}, {"skills", 0}, {"password", 1}, {NULL, 0}};
static const csv_column territory_cols[] = {
    {"name", 1}, {"parent", 0}, {"owner", 0}, {NULL, 0}};
static const csv_column account_cols[] = {{"id", 0},
                                          {"name", 1},
                                          {"stage", 0},
                                          {"source_channel", 0},
                                          {"campaign", 0},
                                          {"referrer", 0},
                                          {"tier", 0},
                                          {"owner", 1},
                                          {"territory", 0},
                                          {"address", 0},
                                          {"lat", 0},
                                          {"lon", 0},
                                          {"checkin_radius_m", 0},
                                          {"discount_pct", 0},
                                          {"price_notes", 0},
                                          {"visit_freq_days", 0},
                                          {"phone", 0},
                                          {NULL, 0}};
static const csv_column contact_cols[] = {
    {"id", 0},    {"account_id", 1}, {"name", 1},  {"title", 0},      {"decision_role", 0},
    {"phone", 0}, {"mobile", 0},     {"email", 0}, {"is_primary", 0}, {NULL, 0}};

typedef struct job {
    roved_server *srv;
    const roved_user *actor;
    roved_db *db;
    const csv_column *cols;
    int map[32]; /* column index in the kind -> field index in the file, or -1 */
    json_t *rejected;
    json_t *seen; /* keys used in this file (uniqueness) */
    const record *rec;
    int row_bad;
    size_t rows_bad;
    int64_t now;
    int dry_run;
    size_t imported;
} job;

static const char *get(job *j, const char *name)
{
    for (int i = 0; j->cols[i].name; i++)
        if (strcmp(j->cols[i].name, name) == 0) {
            int f = j->map[i];
            if (f < 0 || (size_t)f >= j->rec->nf)
                return NULL;
            const char *v = j->rec->f[f];
            return v[0] ? v : NULL;
        }
    return NULL;
}

static void reject(job *j, const char *column, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));

static void reject(job *j, const char *column, const char *fmt, const char *arg)
{
    char reason[300];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    /* fmt is always a literal of this file with at most one %s (checked by
     * the attribute at each call site). */
    snprintf(reason, sizeof(reason), fmt, arg ? arg : "");
#pragma GCC diagnostic pop
    json_array_append_new(j->rejected,
                          json_pack("{s:I,s:s,s:s}", "line", (json_int_t)j->rec->line, "column",
                                    column, "reason", reason));
    j->row_bad = 1;
}

/* Records key in the file's set; 0 when it was already used. */
static int unique(job *j, const char *space, const char *key)
{
    char k[400];
    snprintf(k, sizeof(k), "%s:%s", space, key);
    if (json_object_get(j->seen, k) != NULL)
        return 0;
    json_object_set_new(j->seen, k, json_true());
    return 1;
}

static int number(job *j, const char *col, double lo, double hi, double *out, int integer)
{
    const char *s = get(j, col);
    if (s == NULL)
        return 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi ||
        (integer && v != floor(v))) {
        char why[120];
        snprintf(why, sizeof(why), "must be %s between %g and %g",
                 integer ? "an integer" : "a number", lo, hi);
        reject(j, col, "%s", why);
        return 0;
    }
    *out = v;
    return 1;
}

static int enum_ok(job *j, const rove__table *t, const char *col)
{
    const char *v = get(j, col);
    int c = rove__schema_col(t, col, strlen(col));
    if (v == NULL || c < 0 || rove__schema_enum_ok(&t->cols[c], v, strlen(v)))
        return 1;
    reject(j, col, "'%s' is not an allowed value", v);
    return 0;
}

/* The id of a user given by user name, checked against the store. */
static int user_ref(job *j, const char *col, unsigned roles, char id_out[27])
{
    const char *name = get(j, col);
    id_out[0] = '\0';
    if (name == NULL)
        return 0;
    roved_user u;
    int rc = roved_store_user_by_name(j->db, name, &u);
    if (rc == ROVE_ENOTFOUND) {
        reject(j, col, "no user '%s'", name);
        return 0;
    }
    if (rc != 0)
        return rc;
    if (!(u.role & roles) || u.status != ROVED_USER_ACTIVE) {
        reject(j, col, "'%s' is not an active user of a role allowed here", name);
        return 0;
    }
    memcpy(id_out, u.id, 27);
    return 0;
}

static int territory_ref(job *j, const char *col, char id_out[27])
{
    const char *key = get(j, col);
    id_out[0] = '\0';
    if (key == NULL)
        return 0;
    int rc = roved_store_territory_find(j->db, key, id_out);
    if (rc == ROVE_ENOTFOUND) {
        reject(j, col, "no territory '%s' (give its id or name)", key);
        return 0;
    }
    return rc;
}

static rove__value tv(const char *s)
{
    rove__value v = {ROVE__T_NULL, 0, 0, NULL, 0};
    if (s != NULL) {
        v.type = ROVE__T_TEXT;
        v.s = s;
        v.len = strlen(s);
    }
    return v;
}

static rove__value iv(int64_t i)
{
    rove__value v = {ROVE__T_INT, i, 0, NULL, 0};
    return v;
}

static rove__value rv(double d)
{
    rove__value v = {ROVE__T_REAL, 0, d, NULL, 0};
    return v;
}

static int valid_ulid(const char *s)
{
    if (s == NULL || strlen(s) != 26 || s[0] > '7')
        return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p))
            return 0;
    return 1;
}

/* Inserts a synced row with a version and an audit event. */
static int insert_synced(job *j, const rove__table *t, rove__value *vals)
{
    int64_t version;
    int rc = roved_store_version_next(j->db, &version);
    vals[ROVE__COL_VERSION] = iv(version);
    vals[ROVE__COL_CREATED_BY] = tv(j->actor->id);
    vals[ROVE__COL_CREATED_AT] = iv(j->now);
    vals[ROVE__COL_UPDATED_BY] = tv(j->actor->id);
    vals[ROVE__COL_UPDATED_AT] = iv(j->now);
    vals[ROVE__COL_DELETED] = iv(0);
    if (rc == 0)
        rc = roved_store_row_insert(j->db, t, vals);
    if (rc != 0)
        return rc;
    json_t *diff = json_object();
    for (size_t i = ROVE__SYS_COLS; i < t->ncols; i++)
        if (vals[i].type == ROVE__T_TEXT)
            json_object_set_new(diff, t->cols[i].name, json_stringn(vals[i].s, vals[i].len));
        else if (vals[i].type == ROVE__T_INT)
            json_object_set_new(diff, t->cols[i].name, json_integer(vals[i].i));
        else if (vals[i].type == ROVE__T_REAL)
            json_object_set_new(diff, t->cols[i].name, json_real(vals[i].d));
    char *text = json_dumps(diff, JSON_COMPACT);
    json_decref(diff);
    if (text == NULL)
        return ROVE_ENOMEM;
    roved_audit a = {j->now, j->actor->id, NULL, t->name, vals[ROVE__COL_ID].s, "import",
                     0,      text, NULL, NULL};
    rc = roved_store_audit_put(j->db, &a);
    free(text);
    return rc;
}

static void nulls(rove__value *vals, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = tv(NULL);
}

static int row_account(job *j, int write)
{
    const rove__table *t = rove__schema_table("account", 7);
    const char *id = get(j, "id");
    char idbuf[27], owner[27], terr[27];
    if (id != NULL && !valid_ulid(id))
        reject(j, "id", "'%s' is not a valid id (26-character ULID)", id);
    else if (id != NULL && !unique(j, "account", id))
        reject(j, "id", "id '%s' appears twice in the file", id);
    else if (id != NULL) {
        roved_rowinfo info;
        int rc = roved_store_row_info(j->db, t, id, &info);
        if (rc == 0)
            reject(j, "id", "an account with id '%s' already exists", id);
        else if (rc != ROVE_ENOTFOUND)
            return rc;
    }
    const char *name = get(j, "name");
    if (name == NULL)
        reject(j, "name", "is required%s", NULL);
    enum_ok(j, t, "stage");
    enum_ok(j, t, "source_channel");
    enum_ok(j, t, "tier");
    int rc = user_ref(j, "owner", ROVE__ROLE_REP | ROVE__ROLE_MANAGER, owner);
    if (rc == 0 && get(j, "owner") == NULL)
        reject(j, "owner", "is required%s", NULL);
    if (rc == 0)
        rc = territory_ref(j, "territory", terr);
    if (rc != 0)
        return rc;
    double lat = 0, lon = 0, radius = 0, discount = 0, freq = 0;
    int has_lat = number(j, "lat", -90, 90, &lat, 0),
        has_lon = number(j, "lon", -180, 180, &lon, 0);
    if (has_lat != has_lon && !j->row_bad)
        reject(j, has_lat ? "lon" : "lat", "give both lat and lon, or neither%s", NULL);
    int has_radius = number(j, "checkin_radius_m", 1, 100000, &radius, 1);
    int has_discount = number(j, "discount_pct", 0, 100, &discount, 0);
    int has_freq = number(j, "visit_freq_days", 1, 3650, &freq, 1);
    if (j->row_bad || !write)
        return 0;
    if (id == NULL) {
        roved_util_new_id(idbuf);
        id = idbuf;
    }
    if (terr[0] == '\0') {
        roved_user u;
        if (roved_store_user_by_id(j->db, owner, &u) == 0)
            roved_util_copy(terr, sizeof(terr), u.home_territory_id);
    }
    rove__value vals[ROVE__MAX_COLS];
    nulls(vals, t->ncols);
    vals[ROVE__COL_ID] = tv(id);
    static const char *const texts[] = {"name",    "source_channel", "campaign", "referrer",
                                        "address", "price_notes",    "phone",    NULL};
    for (int k = 0; texts[k]; k++)
        vals[rove__schema_col(t, texts[k], strlen(texts[k]))] = tv(get(j, texts[k]));
    vals[rove__schema_col(t, "stage", 5)] = tv(get(j, "stage") ? get(j, "stage") : "prospect");
    vals[rove__schema_col(t, "tier", 4)] = tv(get(j, "tier") ? get(j, "tier") : "C");
    vals[rove__schema_col(t, "owner_id", 8)] = tv(owner);
    vals[rove__schema_col(t, "territory_id", 12)] = tv(terr[0] ? terr : NULL);
    if (has_lat && has_lon) {
        vals[rove__schema_col(t, "lat", 3)] = rv(lat);
        vals[rove__schema_col(t, "lon", 3)] = rv(lon);
    }
    if (has_radius)
        vals[rove__schema_col(t, "checkin_radius_m", 16)] = iv((int64_t)radius);
    if (has_discount)
        vals[rove__schema_col(t, "discount_pct", 12)] = rv(discount);
    if (has_freq)
        vals[rove__schema_col(t, "visit_freq_days", 15)] = iv((int64_t)freq);
    return insert_synced(j, t, vals);
}

static int row_contact(job *j, int write)
{
    const rove__table *t = rove__schema_table("contact", 7);
    const char *id = get(j, "id"), *acc = get(j, "account_id");
    char idbuf[27];
    if (id != NULL && !valid_ulid(id))
        reject(j, "id", "'%s' is not a valid id (26-character ULID)", id);
    else if (id != NULL && !unique(j, "contact", id))
        reject(j, "id", "id '%s' appears twice in the file", id);
    else if (id != NULL) {
        roved_rowinfo info;
        int rc = roved_store_row_info(j->db, t, id, &info);
        if (rc == 0)
            reject(j, "id", "a contact with id '%s' already exists", id);
        else if (rc != ROVE_ENOTFOUND)
            return rc;
    }
    if (acc == NULL) {
        reject(j, "account_id", "is required%s", NULL);
    } else {
        roved_rowinfo info;
        int rc = valid_ulid(acc)
                     ? roved_store_row_info(j->db, rove__schema_table("account", 7), acc, &info)
                     : ROVE_ENOTFOUND;
        if (rc == ROVE_ENOTFOUND || (rc == 0 && info.deleted))
            reject(j, "account_id", "no account '%s'", acc);
        else if (rc != 0)
            return rc;
    }
    if (get(j, "name") == NULL)
        reject(j, "name", "is required%s", NULL);
    enum_ok(j, t, "decision_role");
    const char *email = get(j, "email"), *primary = get(j, "is_primary");
    if (email != NULL && (strchr(email, '@') == NULL || strchr(email, ' ') != NULL))
        reject(j, "email", "'%s' is not an e-mail address", email);
    int is_primary = 0;
    if (primary != NULL) {
        if (!strcmp(primary, "1") || !strcmp(primary, "true") || !strcmp(primary, "yes"))
            is_primary = 1;
        else if (strcmp(primary, "0") && strcmp(primary, "false") && strcmp(primary, "no"))
            reject(j, "is_primary", "'%s' must be 1/0, true/false or yes/no", primary);
    }
    if (j->row_bad || !write)
        return 0;
    if (id == NULL) {
        roved_util_new_id(idbuf);
        id = idbuf;
    }
    rove__value vals[ROVE__MAX_COLS];
    nulls(vals, t->ncols);
    vals[ROVE__COL_ID] = tv(id);
    static const char *const texts[] = {"account_id", "name",   "title", "decision_role",
                                        "phone",      "mobile", "email", NULL};
    for (int k = 0; texts[k]; k++)
        vals[rove__schema_col(t, texts[k], strlen(texts[k]))] = tv(get(j, texts[k]));
    vals[rove__schema_col(t, "is_primary", 10)] = iv(is_primary);
    return insert_synced(j, t, vals);
}

static int row_user(job *j, int write)
{
    const char *username = get(j, "username"), *name = get(j, "name"), *role = get(j, "role");
    const char *skills = get(j, "skills"), *password = get(j, "password");
    char manager[27], terr[27];
    if (username == NULL || strlen(username) > 63 ||
        strspn(username, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(username))
        reject(j, "username", "'%s' must be 1-63 of a-z 0-9 . _ -", username);
    else if (!unique(j, "user", username))
        reject(j, "username", "'%s' appears twice in the file", username);
    else {
        roved_user u;
        int rc = roved_store_user_by_name(j->db, username, &u);
        if (rc == 0)
            reject(j, "username", "user '%s' already exists", username);
        else if (rc != ROVE_ENOTFOUND)
            return rc;
    }
    if (name == NULL || strlen(name) > 127)
        reject(j, "name", "is required (at most 127 bytes)%s", NULL);
    if (rove__role_from_name(role) == 0)
        reject(j, "role", "'%s' must be rep, technician, manager or admin", role);
    if (skills != NULL && (strlen(skills) > 255 || !roved_domain_skills_valid(skills)))
        reject(j, "skills", "'%s' must be name:level entries (levels 1-5)", skills);
    if (password == NULL || strlen(password) < 8 || strlen(password) > 200)
        reject(j, "password", "must be 8 to 200 bytes%s", NULL);
    int rc = user_ref(j, "manager", ROVE__ROLE_MANAGER | ROVE__ROLE_ADMIN, manager);
    if (rc == 0)
        rc = territory_ref(j, "home_territory", terr);
    if (rc != 0 || j->row_bad || !write)
        return rc;
    roved_user u;
    memset(&u, 0, sizeof(u));
    roved_util_new_id(u.id);
    roved_util_copy(u.username, sizeof(u.username), username);
    roved_util_copy(u.name, sizeof(u.name), name);
    u.role = rove__role_from_name(role);
    u.status = ROVED_USER_ACTIVE;
    roved_util_copy(u.manager_id, sizeof(u.manager_id), manager);
    roved_util_copy(u.home_territory_id, sizeof(u.home_territory_id), terr);
    roved_util_copy(u.skills, sizeof(u.skills), skills);
    u.created_at = j->now;
    rc = roved_auth_hash_password(u.password_hash, sizeof(u.password_hash), password,
                                  j->srv->cfg->pbkdf2_iterations);
    if (rc == 0)
        rc = roved_store_user_insert(j->db, &u);
    memset(u.password_hash, 0, sizeof(u.password_hash));
    if (rc == 0) {
        char diff[200];
        snprintf(diff, sizeof(diff), "{\"username\":\"%s\",\"role\":\"%s\"}", u.username, role);
        roved_audit a = {j->now, j->actor->id, NULL, "users", u.id, "import", 0, diff, NULL, NULL};
        rc = roved_store_audit_put(j->db, &a);
    }
    return rc;
}

static int row_territory(job *j, int write)
{
    const char *name = get(j, "name");
    char parent[27] = "", owner[27] = "", existing[27];
    if (name == NULL || strlen(name) > 127)
        reject(j, "name", "is required (at most 127 bytes)%s", NULL);
    else if (!unique(j, "territory", name))
        reject(j, "name", "'%s' appears twice in the file", name);
    else {
        int rc = roved_store_territory_find(j->db, name, existing);
        if (rc == 0)
            reject(j, "name", "territory '%s' already exists", name);
        else if (rc != ROVE_ENOTFOUND)
            return rc;
    }
    /* A parent may be a territory created by an earlier row of this file,
     * which exists once that row was written (rows are written in order). */
    int rc = write ? territory_ref(j, "parent", parent) : 0;
    if (!write && get(j, "parent") != NULL) {
        char key[400];
        snprintf(key, sizeof(key), "territory:%s", get(j, "parent"));
        if (json_object_get(j->seen, key) == NULL)
            rc = territory_ref(j, "parent", parent);
    }
    if (rc == 0)
        rc = user_ref(j, "owner", ROVE__ROLE_MANAGER | ROVE__ROLE_ADMIN, owner);
    if (rc != 0 || j->row_bad || !write)
        return rc;
    char id[27];
    roved_util_new_id(id);
    rc = roved_store_territory_insert(j->db, id, name, parent[0] ? parent : NULL,
                                      owner[0] ? owner : NULL);
    if (rc == 0) {
        json_t *diff = json_pack("{s:s,s:s?,s:s?}", "name", name, "parent",
                                 parent[0] ? parent : NULL, "owner", owner[0] ? owner : NULL);
        char *text = json_dumps(diff, JSON_COMPACT);
        json_decref(diff);
        roved_audit a = {j->now, j->actor->id, NULL, "territories", id, "import", 0, text, NULL, NULL};
        rc = text ? roved_store_audit_put(j->db, &a) : ROVE_ENOMEM;
        free(text);
        if (rc == 0)
            rc = roved_store_scope_bump(j->db);
    }
    return rc;
}

int roved_import_run(roved_server *srv, const roved_user *actor, const char *kind,
                     const char *csv, size_t len, int dry_run, json_t **report, int *ok,
                     char *msg, size_t msgsize)
{
    *report = NULL;
    *ok = 0;
    msg[0] = '\0';
    const csv_column *cols = !strcmp(kind, "users")         ? user_cols
                             : !strcmp(kind, "territories") ? territory_cols
                             : !strcmp(kind, "accounts")    ? account_cols
                             : !strcmp(kind, "contacts")    ? contact_cols
                                                            : NULL;
    int (*row)(job *, int) = !strcmp(kind, "users")         ? row_user
                             : !strcmp(kind, "territories") ? row_territory
                             : !strcmp(kind, "accounts")    ? row_account
                                                            : row_contact;
    if (cols == NULL) {
        snprintf(msg, msgsize, "unknown kind '%s' (users, territories, accounts, contacts)",
                 kind);
        return ROVE_ENOTFOUND;
    }
    if (len >= 3 && memcmp(csv, "\xEF\xBB\xBF", 3) == 0) {
        csv += 3; /* a UTF-8 byte order mark */
        len -= 3;
    }
    size_t bad = bad_text_line((const unsigned char *)csv, len);
    if (bad != 0) {
        snprintf(msg, msgsize, "line %zu: not UTF-8 text (or a NUL byte)", bad);
        return ROVE_EBADVALUE;
    }
    reader r;
    memset(&r, 0, sizeof(r));
    int rc = read_csv(csv, len, &r, msg, msgsize);
    if (rc == 0 && r.n == 0) {
        snprintf(msg, msgsize, "the file is empty: a header row is required");
        rc = ROVE_EBADVALUE;
    }
    job j;
    memset(&j, 0, sizeof(j));
    j.srv = srv;
    j.actor = actor;
    j.cols = cols;
    j.now = roved_util_now_ms();
    j.dry_run = dry_run;
    for (int i = 0; i < 32; i++)
        j.map[i] = -1;
    /* The header: known names, each once, the required ones present. */
    for (size_t f = 0; rc == 0 && f < r.recs[0].nf; f++) {
        const char *h = r.recs[0].f[f];
        int k = 0;
        while (cols[k].name && strcmp(cols[k].name, h) != 0)
            k++;
        if (cols[k].name == NULL) {
            snprintf(msg, msgsize, "line 1: unknown column '%.60s'", h);
            rc = ROVE_EBADVALUE;
        } else if (j.map[k] >= 0) {
            snprintf(msg, msgsize, "line 1: column '%.60s' appears twice", h);
            rc = ROVE_EBADVALUE;
        } else {
            j.map[k] = (int)f;
        }
    }
    for (int k = 0; rc == 0 && cols[k].name; k++)
        if (cols[k].required && j.map[k] < 0) {
            snprintf(msg, msgsize, "line 1: the required column '%s' is missing", cols[k].name);
            rc = ROVE_EBADVALUE;
        }
    for (size_t i = 1; rc == 0 && i < r.n; i++)
        for (size_t f = 0; f < r.recs[i].nf; f++)
            if (strlen(r.recs[i].f[f]) > ROVED_IMPORT_MAX_FIELD) {
                snprintf(msg, msgsize, "line %zu: a field is longer than %d bytes",
                         r.recs[i].line, ROVED_IMPORT_MAX_FIELD);
                rc = ROVE_ETOOBIG;
                break;
            }
    if (rc != 0) {
        reader_free(&r);
        return rc;
    }
    j.rejected = json_array();
    j.seen = json_object();
    rc = roved_store_write_begin(srv->store, &j.db);
    if (rc != 0) {
        snprintf(msg, msgsize, "the store is unavailable");
        rc = ROVE_ESTORE;
    }
    /* Pass 1 validates every row; pass 2 writes, only when nothing was
     * rejected and this is not a dry run, all in this one transaction. */
    for (int pass = 0; rc == 0 && pass < (dry_run ? 1 : 2); pass++) {
        if (pass == 1) {
            if (json_array_size(j.rejected) > 0)
                break;
            json_object_clear(j.seen);
        }
        for (size_t i = 1; rc == 0 && i < r.n; i++) {
            j.rec = &r.recs[i];
            j.row_bad = 0;
            if (j.rec->nf != r.recs[0].nf) {
                char why[80];
                snprintf(why, sizeof(why), "%zu fields where the header has %zu", j.rec->nf,
                         r.recs[0].nf);
                reject(&j, "*", "%s", why);
                j.rows_bad++;
                continue;
            }
            rc = row(&j, pass == 1);
            if (rc == 0 && pass == 1)
                j.imported++;
            if (j.row_bad)
                j.rows_bad++;
        }
    }
    *ok = rc == 0 && json_array_size(j.rejected) == 0;
    if (rc == 0 && *ok && !dry_run && j.imported > 0 && strcmp(kind, "accounts") == 0)
        rc = roved_store_scope_bump(j.db); /* new accounts enter devices' scopes */
    if (j.db != NULL) {
        if (rc == 0 && *ok && !dry_run)
            rc = roved_store_write_commit(srv->store, j.db);
        else
            roved_store_write_rollback(srv->store, j.db);
    }
    if (rc != 0 && msg[0] == '\0')
        snprintf(msg, msgsize, "the import could not be stored; nothing was imported");
    if (rc == 0) {
        size_t rows = r.n - 1;
        *report = json_pack("{s:s,s:b,s:I,s:I,s:O}", "kind", kind, "dry_run", dry_run, "rows",
                            (json_int_t)rows, "imported", (json_int_t)j.imported, "rejected",
                            j.rejected);
        json_object_set_new(*report, "accepted", json_integer((json_int_t)(rows - j.rows_bad)));
    }
    json_decref(j.rejected);
    json_decref(j.seen);
    reader_free(&r);
    return rc;
}

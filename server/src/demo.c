/* Demo and benchmark seed data (see demo.h). */
#include "demo.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "id.h"
#include "log.h"
#include "rove/errors.h"
#include "store.h"
#include "util.h"

/* ---- deterministic generator ----------------------------------------- */

typedef struct gen {
    uint64_t state;
    uint64_t base_ms; /* id timestamps count up from here */
    uint64_t seq;
} gen;

static uint64_t next(gen *g)
{
    /* splitmix64: small, fast and good enough for fake data. */
    uint64_t z = (g->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int pick(gen *g, int n) { return (int)(next(g) % (uint64_t)n); }

static double uniform(gen *g) { return (double)(next(g) >> 11) / 9007199254740992.0; }

static void make_id(gen *g, char *out)
{
    unsigned char rnd[10];
    uint64_t a = next(g), b = next(g);
    memcpy(rnd, &a, 8);
    memcpy(rnd + 8, &b, 2);
    rove__id_make(out, g->base_ms + g->seq++, rnd);
}

/* ---- row building ------------------------------------------------------ */

typedef struct row {
    const rove__table *t;
    rove__value v[ROVE__MAX_COLS];
    char text[ROVE__MAX_COLS][160]; /* storage for formatted text values */
} row;

typedef struct seeder {
    roved_db *db;
    gen g;
    int64_t now;
    const char *actor;
    const rove__table *account, *contact, *visit, *task;
    size_t rows;
} seeder;

static void row_start(seeder *s, row *r, const rove__table *t, const char *id)
{
    r->t = t;
    for (size_t i = 0; i < t->ncols; i++)
        r->v[i].type = ROVE__T_NULL;
    roved_util_copy(r->text[ROVE__COL_ID], sizeof(r->text[0]), id);
    r->v[ROVE__COL_ID] = (rove__value){ROVE__T_TEXT, 0, 0, r->text[ROVE__COL_ID], strlen(id)};
    r->v[ROVE__COL_CREATED_BY] = (rove__value){ROVE__T_TEXT, 0, 0, s->actor, strlen(s->actor)};
    r->v[ROVE__COL_UPDATED_BY] = r->v[ROVE__COL_CREATED_BY];
    r->v[ROVE__COL_CREATED_AT] = (rove__value){ROVE__T_INT, s->now, 0, NULL, 0};
    r->v[ROVE__COL_UPDATED_AT] = r->v[ROVE__COL_CREATED_AT];
    r->v[ROVE__COL_DELETED] = (rove__value){ROVE__T_INT, 0, 0, NULL, 0};
}

static int col(const row *r, const char *name)
{
    return rove__schema_col(r->t, name, strlen(name));
}

static void set_text(row *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_text(row *r, const char *name, const char *fmt, ...)
{
    int c = col(r, name);
    if (c < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text[c], sizeof(r->text[c]), fmt, ap);
    va_end(ap);
    if (r->text[c][0] == '\0')
        return; /* empty means absent: the column stays NULL */
    r->v[c] = (rove__value){ROVE__T_TEXT, 0, 0, r->text[c], strlen(r->text[c])};
}

static void set_int(row *r, const char *name, int64_t i)
{
    int c = col(r, name);
    if (c >= 0)
        r->v[c] = (rove__value){ROVE__T_INT, i, 0, NULL, 0};
}

static void set_real(row *r, const char *name, double d)
{
    int c = col(r, name);
    if (c >= 0)
        r->v[c] = (rove__value){ROVE__T_REAL, 0, d, NULL, 0};
}

static int row_insert(seeder *s, row *r)
{
    int64_t version;
    int rc = roved_store_version_next(s->db, &version);
    if (rc != 0)
        return rc;
    r->v[ROVE__COL_VERSION] = (rove__value){ROVE__T_INT, version, 0, NULL, 0};
    s->rows++;
    return roved_store_row_insert(s->db, r->t, r->v);
}

/* ---- word lists -------------------------------------------------------- */

static const char *const surnames[] = {
    "Bergstrom", "Okafor",  "Lindqvist", "Moreau",   "Novak",    "Tanaka", "Alvarez",
    "Kowalski",  "Haddad",  "Fischer",   "Rossi",    "Nakamura", "Dubois", "Jensen",
    "Petrov",    "Schmidt", "Costa",     "Andersen", "Kaur",     "Walsh",  "Ibrahim",
    "Weber",     "Larsen",  "Silva",     "Horvath",  "Murphy",   "Sato",   "Keller",
    "Nguyen",    "Brennan", "Vogel",     "Ferreira", "Yilmaz",   "Hansen", "Meyer"};
static const char *const trades[] = {
    "Bakery",   "Hardware",   "Pharmacy",      "Dental Clinic", "Auto Repair",  "Florist",
    "Brewery",  "Optics",     "Printing",      "Laundry",       "Bistro",       "Fitness",
    "Bookshop", "Veterinary", "Cafe",          "Plumbing",      "Tailors",      "Electrics",
    "Butchers", "Deli",       "Garden Centre", "Hotel",         "Pet Supplies", "Opticians"};
static const char *const streets[] = {"Market", "Mill",   "Station", "Church", "Harbour",
                                      "Bridge", "Castle", "Park",    "Oak",    "Elm",
                                      "King",   "Queen",  "River",   "Orchard"};
static const char *const first_names[] = {
    "Anna",  "Ben",  "Clara", "David",  "Elif", "Farid", "Greta",  "Hugo",  "Ines",
    "Jonas", "Kira", "Liam",  "Maja",   "Noah", "Olga",  "Pavel",  "Quinn", "Rosa",
    "Sami",  "Tess", "Uma",   "Viktor", "Wen",  "Yara",  "Zoltan", "Marta", "Leon"};
static const char *const titles[] = {"Owner",     "Store Manager",  "Purchasing",
                                     "Head Chef", "Office Manager", "Operations Lead",
                                     "Accountant"};
static const char *const decision_roles[] = {"decision_maker", "influencer", "user",
                                             "gatekeeper", "champion"};
static const char *const stages[] = {"prospect", "opportunity", "ordered", "user",
                                     "user",     "opportunity", "churned"};
static const char *const channels[] = {"phone",    "email", "face_to_face", "web",
                                       "referral", "event", "rep"};
static const char *const purposes[] = {"Quarterly review", "Product demo",
                                       "Order follow-up",  "New range presentation",
                                       "Contract renewal", "Relationship visit"};
static const char *const task_titles[] = {"Cooling unit making noise", "Annual maintenance",
                                          "Display flickers",          "Invoice dispute",
                                          "Scale calibration",         "Replace filter",
                                          "Door seal broken",          "Install new terminal"};
static const char *const task_types[] = {"request", "complaint", "maintenance"};
static const char *const priorities[] = {"low", "normal", "normal", "high", "urgent"};
static const char *const task_statuses[] = {"new", "assigned", "in_progress"};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *tier_for(gen *g)
{
    int x = pick(g, 100);
    return x < 5 ? "VIP" : x < 20 ? "A" : x < 50 ? "B" : "C";
}

/* SLA hours by priority, shortened for better tiers. */
static int64_t sla_hours(const char *priority, const char *tier, int resolve)
{
    int64_t h = !strcmp(priority, "urgent")   ? 4
                : !strcmp(priority, "high")   ? 8
                : !strcmp(priority, "normal") ? 24
                                              : 72;
    if (!strcmp(tier, "VIP"))
        h /= 2;
    return resolve ? h * 3 : h;
}

/* ---- users and territories --------------------------------------------- */

typedef struct demo_user {
    const char *username, *name, *role, *territory, *skills;
    char id[27];
} demo_user;

static int add_user(seeder *s, roved_server *srv, demo_user *d, const char *territory_id,
                    const char *manager_id)
{
    roved_user u;
    memset(&u, 0, sizeof(u));
    make_id(&s->g, d->id);
    roved_util_copy(u.id, sizeof(u.id), d->id);
    roved_util_copy(u.username, sizeof(u.username), d->username);
    roved_util_copy(u.name, sizeof(u.name), d->name);
    u.role = rove__role_from_name(d->role);
    u.status = ROVED_USER_ACTIVE;
    roved_util_copy(u.home_territory_id, sizeof(u.home_territory_id), territory_id);
    roved_util_copy(u.manager_id, sizeof(u.manager_id), manager_id);
    roved_util_copy(u.skills, sizeof(u.skills), d->skills);
    u.created_at = s->now;
    char password[80];
    snprintf(password, sizeof(password), "%s-demo", d->username);
    int rc = roved_auth_hash_password(u.password_hash, sizeof(u.password_hash), password,
                                      srv->cfg->pbkdf2_iterations);
    if (rc == 0)
        rc = roved_store_user_insert(s->db, &u);
    return rc;
}

static void seeder_init(seeder *s, roved_db *db, uint64_t seed)
{
    memset(s, 0, sizeof(*s));
    s->db = db;
    s->g.state = seed;
    s->g.base_ms = 1767225600000ull; /* 2026-01-01T00:00:00Z: ids are stable */
    s->now = roved_util_now_ms();
    size_t nt;
    const rove__table *t = rove__schema_tables(&nt);
    s->account = rove__schema_table("account", 7);
    s->contact = rove__schema_table("contact", 7);
    s->visit = rove__schema_table("visit", 5);
    s->task = rove__schema_table("service_task", 12);
    (void)t;
}

static int64_t today_at(int64_t now, int hour)
{
    int64_t day = now - now % 86400000;
    return day + (int64_t)hour * 3600000;
}

static int seed_account(seeder *s, const char *owner, const char *territory, char *id_out,
                        const char **tier_out)
{
    gen *g = &s->g;
    row r;
    make_id(g, id_out);
    row_start(s, &r, s->account, id_out);
    set_text(&r, "name", "%s %s", surnames[pick(g, N(surnames))], trades[pick(g, N(trades))]);
    set_text(&r, "stage", "%s", stages[pick(g, N(stages))]);
    set_text(&r, "source_channel", "%s", channels[pick(g, N(channels))]);
    const char *tier = tier_for(g);
    *tier_out = tier;
    set_text(&r, "tier", "%s", tier);
    set_text(&r, "owner_id", "%s", owner);
    set_text(&r, "territory_id", "%s", territory);
    set_text(&r, "address", "%d %s Street, Springfield", 1 + pick(g, 200),
             streets[pick(g, N(streets))]);
    set_real(&r, "lat", 52.52 + (uniform(g) - 0.5) * 0.3);
    set_real(&r, "lon", 13.405 + (uniform(g) - 0.5) * 0.5);
    set_text(&r, "phone", "+49 30 %07d", pick(g, 10000000));
    set_real(&r, "discount_pct", (double)(pick(g, 7) * 5));
    if (pick(g, 3) == 0)
        set_text(&r, "price_notes", "Agreed %d%% off list on repeat orders",
                 5 + pick(g, 6) * 5);
    int freq = !strcmp(tier, "VIP") ? 14
               : !strcmp(tier, "A") ? 30
               : !strcmp(tier, "B") ? 60
                                    : 90;
    set_int(&r, "visit_freq_days", freq);
    int64_t last = s->now - (int64_t)(1 + pick(g, freq)) * 86400000;
    set_int(&r, "last_visit_at", last);
    set_int(&r, "next_visit_due", last + (int64_t)freq * 86400000);
    return row_insert(s, &r);
}

static int seed_contact(seeder *s, const char *account_id, int primary, char *id_out)
{
    gen *g = &s->g;
    row r;
    make_id(g, id_out);
    row_start(s, &r, s->contact, id_out);
    set_text(&r, "account_id", "%s", account_id);
    const char *first = first_names[pick(g, N(first_names))];
    const char *last = surnames[pick(g, N(surnames))];
    set_text(&r, "name", "%s %s", first, last);
    set_text(&r, "title", "%s", titles[pick(g, N(titles))]);
    set_text(&r, "decision_role", "%s",
             primary ? "decision_maker" : decision_roles[pick(g, N(decision_roles))]);
    set_text(&r, "phone", "+49 30 %07d", pick(g, 10000000));
    set_text(&r, "mobile", "+49 170 %07d", pick(g, 10000000));
    set_text(&r, "email", "%c.%s@example.com", first[0] + ('a' - 'A'), last);
    set_int(&r, "is_primary", primary);
    return row_insert(s, &r);
}

static int seed_visit(seeder *s, const char *account_id, const char *contact_id,
                      const char *rep, int64_t start, int completed)
{
    gen *g = &s->g;
    row r;
    char id[27];
    make_id(g, id);
    row_start(s, &r, s->visit, id);
    set_text(&r, "account_id", "%s", account_id);
    set_text(&r, "contact_id", "%s", contact_id);
    set_text(&r, "planned_for", "%s", rep);
    set_text(&r, "purpose", "%s", purposes[pick(g, N(purposes))]);
    set_int(&r, "planned_start", start);
    set_int(&r, "planned_end", start + 3600000);
    if (completed) {
        set_text(&r, "status", "completed");
        set_text(&r, "performed_by", "%s", rep);
        set_int(&r, "checkin_at", start + 120000);
        set_int(&r, "checkout_at", start + 2700000);
        set_text(&r, "geo_check", "within_range");
        set_text(&r, "outcome", "Discussed next order; customer satisfied");
    } else {
        set_text(&r, "status", "planned");
    }
    return row_insert(s, &r);
}

static int seed_task(seeder *s, const char *account_id, const char *contact_id,
                     const char *assignee, const char *tier)
{
    gen *g = &s->g;
    row r;
    char id[27];
    make_id(g, id);
    row_start(s, &r, s->task, id);
    set_text(&r, "account_id", "%s", account_id);
    set_text(&r, "contact_id", "%s", contact_id);
    const char *type = task_types[pick(g, N(task_types))];
    set_text(&r, "type", "%s", type);
    /* Skills the demo technicians have (tom: refrigeration, tara: electrics). */
    set_text(&r, "required_skills", "%s",
             !strcmp(type, "maintenance") ? "refrigeration:2"
             : !strcmp(type, "complaint") ? "electrics:1"
                                          : "");
    const char *prio = priorities[pick(g, N(priorities))];
    set_text(&r, "priority", "%s", prio);
    set_text(&r, "channel", "%s", channels[pick(g, 3)]);
    set_text(&r, "title", "%s", task_titles[pick(g, N(task_titles))]);
    set_text(&r, "description", "Reported by the customer; see history.");
    int64_t reported = s->now - (int64_t)pick(g, 72) * 3600000;
    set_int(&r, "reported_at", reported);
    set_text(&r, "assignee_id", "%s", assignee);
    set_text(&r, "original_assignee_id", "%s", assignee);
    if (assignee[0] == '\0')
        set_text(&r, "queue", "dispatcher"); /* nobody yet: waiting for dispatch */
    set_text(&r, "status", "%s", task_statuses[pick(g, N(task_statuses))]);
    set_int(&r, "sla_response_due", reported + sla_hours(prio, tier, 0) * 3600000);
    set_int(&r, "sla_resolve_due", reported + sla_hours(prio, tier, 1) * 3600000);
    return row_insert(s, &r);
}

int roved_demo_seed(roved_server *srv, FILE *out, int *seeded)
{
    *seeded = 0;
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc != 0)
        return rc;
    int64_t users = 0;
    rc = roved_store_user_count(db, &users);
    if (rc != 0 || users > 0) {
        roved_store_write_rollback(srv->store, db);
        return rc;
    }
    seeder s;
    seeder_init(&s, db, 20261122);
    demo_user people[] = {
        {"admin", "Ada Admin", "admin", NULL, NULL, ""},
        {"maria", "Maria Manager", "manager", NULL, NULL, ""},
        {"rita", "Rita Rossi", "rep", "north", NULL, ""},
        {"raj", "Raj Patel", "rep", "north", NULL, ""},
        {"rosa", "Rosa Lindqvist", "rep", "south", NULL, ""},
        {"tom", "Tom Tanaka", "technician", "north", "refrigeration:3,electrics:2", ""},
        {"tara", "Tara Okafor", "technician", "south", "electrics:3,scales:2,pos:1", ""},
    };
    enum { ADMIN, MARIA, RITA, RAJ, ROSA, TOM, TARA, NPEOPLE };
    char north[27], south[27];
    make_id(&s.g, north);
    make_id(&s.g, south);
    /* Users first (territory owners reference them), then territories. */
    s.actor = "";
    for (int i = 0; i < NPEOPLE && rc == 0; i++) {
        const char *terr = people[i].territory == NULL             ? NULL
                           : !strcmp(people[i].territory, "north") ? north
                                                                   : south;
        rc = add_user(&s, srv, &people[i], terr,
                      i >= RITA ? people[MARIA].id : (i == MARIA ? people[ADMIN].id : NULL));
    }
    if (rc == 0)
        rc = roved_store_territory_insert(db, north, "North", NULL, people[MARIA].id);
    if (rc == 0)
        rc = roved_store_territory_insert(db, south, "South", NULL, people[MARIA].id);
    for (int i = RITA; i < NPEOPLE && rc == 0; i++)
        rc = roved_store_territory_member_insert(
            db, !strcmp(people[i].territory, "north") ? north : south, people[i].id,
            people[i].role, s.now, 0);
    s.actor = people[ADMIN].id;

    const int reps[] = {RITA, RAJ, ROSA};
    size_t counts[4] = {0};
    int today_left[3] = {5, 5, 5};
    for (int a = 0; a < ROVED_DEMO_ACCOUNTS && rc == 0; a++) {
        int rep = reps[a % 3];
        const char *terr = rep == ROSA ? south : north;
        char acct[27], c1[27], c2[27];
        const char *tier = "C";
        rc = seed_account(&s, people[rep].id, terr, acct, &tier);
        if (rc == 0)
            rc = seed_contact(&s, acct, 1, c1);
        if (rc == 0)
            rc = seed_contact(&s, acct, 0, c2);
        counts[0]++;
        counts[1] += 2;
        /* One completed visit in the past for every account ... */
        if (rc == 0) {
            int64_t past =
                today_at(s.now, 9 + pick(&s.g, 8)) - (int64_t)(1 + pick(&s.g, 60)) * 86400000;
            rc = seed_visit(&s, acct, c1, people[rep].id, past, 1);
            counts[2]++;
        }
        /* ... and five planned for today per rep. */
        if (rc == 0 && today_left[a % 3] > 0) {
            int k = 5 - today_left[a % 3]--;
            rc = seed_visit(&s, acct, c1, people[rep].id, today_at(s.now, 8 + 2 * k), 0);
            counts[2]++;
        }
        /* Every fifth account has an open service task. */
        if (rc == 0 && a % 5 == 0) {
            rc = seed_task(&s, acct, c2, people[(a / 5) % 2 ? TARA : TOM].id, tier);
            counts[3]++;
        }
    }
    if (rc == 0)
        rc = roved_store_write_commit(srv->store, db);
    else
        roved_store_write_rollback(srv->store, db);
    if (rc != 0)
        return rc;
    *seeded = 1;
    fprintf(out, "Demo data seeded. Logins:\n\n  %-8s %-11s %s\n", "user", "role", "password");
    for (int i = 0; i < NPEOPLE; i++)
        fprintf(out, "  %-8s %-11s %s-demo\n", people[i].username, people[i].role,
                people[i].username);
    fprintf(out,
            "\n  territories 2, accounts %zu, contacts %zu, visits %zu, service tasks %zu\n\n",
            counts[0], counts[1], counts[2], counts[3]);
    fflush(out);
    roved_log_info("demo_seeded", "users=%d accounts=%zu contacts=%zu visits=%zu tasks=%zu",
                   NPEOPLE, counts[0], counts[1], counts[2], counts[3]);
    return 0;
}

int roved_demo_seed_bench(roved_server *srv, long nrows, FILE *out)
{
    roved_db *db = NULL;
    int rc = roved_store_write_begin(srv->store, &db);
    if (rc != 0)
        return rc;
    roved_user existing;
    rc = roved_store_user_by_name(db, "bench", &existing);
    if (rc == 0) {
        roved_store_write_rollback(srv->store, db);
        fprintf(out, "Bench user exists already; not seeding again.\n");
        return 0;
    }
    if (rc != ROVE_ENOTFOUND) {
        roved_store_write_rollback(srv->store, db);
        return rc;
    }
    int64_t t0 = roved_util_now_ms();
    seeder s;
    seeder_init(&s, db, 424242);
    demo_user bench = {"bench", "Bench Rep", "rep", NULL, NULL, ""};
    char terr[27];
    make_id(&s.g, terr);
    rc = add_user(&s, srv, &bench, terr, NULL);
    if (rc == 0)
        rc = roved_store_territory_insert(db, terr, "Bench", NULL, NULL);
    s.actor = bench.id;
    char acct[27] = "", contact[27] = "";
    const char *tier = "C";
    for (long i = 0; i < nrows && rc == 0; i++) {
        switch (i % 4) {
        case 0:
            rc = seed_account(&s, bench.id, terr, acct, &tier);
            break;
        case 1:
            rc = seed_contact(&s, acct, 1, contact);
            break;
        case 2:
            rc = seed_visit(&s, acct, contact, bench.id, today_at(s.now, 10), 0);
            break;
        default:
            rc = seed_task(&s, acct, contact, "", tier);
            break;
        }
    }
    if (rc == 0)
        rc = roved_store_write_commit(srv->store, db);
    else
        roved_store_write_rollback(srv->store, db);
    if (rc != 0)
        return rc;
    int64_t ms = roved_util_now_ms() - t0;
    fprintf(out,
            "Bench data seeded: user bench (password bench-demo) owns %zu rows (%lld ms)\n",
            s.rows, (long long)ms);
    fflush(out);
    roved_log_info("bench_seeded", "rows=%zu ms=%lld", s.rows, (long long)ms);
    return 0;
}

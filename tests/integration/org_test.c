/*
 * CSV import through rovectl against a real roved: territories, users and
 * accounts import whole, a file with bad rows is rejected line by line with
 * nothing stored, and the imported accounts reach their owner's device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cases.h"
#include "harness.h"

/* Runs rovectl as admin with args; its output goes to out (size bytes).
 * Returns the exit status. */
static int rovectl(const th_server *s, const char *args, char *out, size_t size)
{
    return th_rovectl(s, args, out, size);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    TH_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static int64_t stat_rows(const th_server *s, const char *table)
{
    char out[4096];
    TH_ASSERT_EQ(rovectl(s, "--json stats", out, sizeof(out)), 0);
    char key[64];
    snprintf(key, sizeof(key), "\"%s\": {", table);
    const char *p = strstr(out, key);
    TH_ASSERT(p != NULL);
    p = strstr(p, "\"live\": ");
    TH_ASSERT(p != NULL);
    return atoll(p + 8);
}

void test_integration__import_csv(void)
{
    th_server *s = th_server_start(NULL);
    const char *dir = th_tmpdir("import");
    char path[700], args[1024], out[8192];

    snprintf(path, sizeof(path), "%s/territories.csv", dir);
    write_file(path, "name,parent,owner\nWest,,maria\nWest Coast,West,maria\n");
    snprintf(args, sizeof(args), "import territories %s", path);
    TH_ASSERT_MSG(rovectl(s, args, out, sizeof(out)) == 0, "territories: %s", out);
    TH_ASSERT(strstr(out, "imported 2 territories") != NULL);

    snprintf(path, sizeof(path), "%s/users.csv", dir);
    write_file(path, "\xEF\xBB\xBFusername,name,role,manager,home_territory,skills,password\n"
                     "wendy,Wendy West,rep,maria,West,,wendy-pass-1\n"
                     "walt,Walt Wu,technician,maria,West Coast,\"hvac:3,electrics:1\","
                     "walt-pass-1\n");
    snprintf(args, sizeof(args), "import users %s", path);
    TH_ASSERT_MSG(rovectl(s, args, out, sizeof(out)) == 0, "users: %s", out);

    /* A file with bad rows: each named by line and column, nothing stored. */
    int64_t before = stat_rows(s, "account");
    snprintf(path, sizeof(path), "%s/bad.csv", dir);
    write_file(path, "name,owner,tier,lat,lon,discount_pct\n"
                     "Good Row,wendy,A,52.1,4.3,10\n"
                     ",wendy,A,52,4,10\n"
                     "Bad Refs,nobody,Z,91,4,150\n"
                     "Short,wendy,B,52\n");
    snprintf(args, sizeof(args), "import accounts %s", path);
    TH_ASSERT_EQ(rovectl(s, args, out, sizeof(out)), 1);
    th_log("rejected import:\n%s", out);
    TH_ASSERT(strstr(out, "line 3      name") != NULL);
    TH_ASSERT(strstr(out, "line 4      tier") != NULL);
    TH_ASSERT(strstr(out, "line 4      owner") != NULL);
    TH_ASSERT(strstr(out, "line 4      lat") != NULL);
    TH_ASSERT(strstr(out, "line 4      discount_pct") != NULL);
    TH_ASSERT(strstr(out, "line 5      *") != NULL);
    TH_ASSERT(strstr(out, "3 of 4 rows rejected; nothing was imported") != NULL);
    TH_ASSERT_EQ(stat_rows(s, "account"), before);

    /* Hostile files: refused whole, and the server serves on. */
    static const char *const hostile[] = {
        "name,owner\n\"unterminated,wendy\n", "name,bogus\nx,y\n", "",
        "name,owner\nA\x80\xff,wendy\n", "name,name,owner\nx,y,wendy\n"};
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        snprintf(path, sizeof(path), "%s/hostile%zu.csv", dir, i);
        write_file(path, hostile[i]);
        snprintf(args, sizeof(args), "import accounts %s", path);
        TH_ASSERT_EQ(rovectl(s, args, out, sizeof(out)), 1);
        TH_ASSERT_MSG(strstr(out, "HTTP 400") != NULL, "hostile file %zu: %s", i, out);
    }
    TH_ASSERT(th_server_healthy(s));
    TH_ASSERT_EQ(stat_rows(s, "account"), before);

    /* A dry run stores nothing; the real run stores both rows. */
    snprintf(path, sizeof(path), "%s/accounts.csv", dir);
    write_file(path, "name,owner,tier,stage,lat,lon,discount_pct,price_notes,source_channel\n"
                     "Westside Deli,wendy,A,prospect,52.1,4.3,12.5,"
                     "\"Agreed 12.5% on \"\"all\"\" orders\",event\n"
                     "Bay Bakery,wendy,B,,,,,,\n");
    snprintf(args, sizeof(args), "import accounts %s --dry-run", path);
    TH_ASSERT_EQ(rovectl(s, args, out, sizeof(out)), 0);
    TH_ASSERT_EQ(stat_rows(s, "account"), before);
    snprintf(args, sizeof(args), "import accounts %s", path);
    TH_ASSERT_EQ(rovectl(s, args, out, sizeof(out)), 0);
    TH_ASSERT_EQ(stat_rows(s, "account"), before + 2);

    /* Wendy's device pulls her imported accounts, terms intact. */
    rove_client *c = th_client_open(s, dir, "wendy");
    TH_ASSERT_ROVE(c, rove_client_login(c, "wendy", "wendy-pass-1"));
    TH_ASSERT_ROVE(c, rove_client_sync(c, NULL));
    TH_ASSERT_EQ(th_client_int(c, "SELECT count(*) FROM account", NULL), 2);
    char notes[128];
    th_client_text(c, "SELECT price_notes FROM account WHERE name = ?1", "Westside Deli", notes,
                   sizeof(notes));
    TH_ASSERT_STR(notes, "Agreed 12.5% on \"all\" orders");
    rove_client_free(c);
    th_server_stop(s);
}

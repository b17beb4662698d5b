/*
 * bootstrap_bench: how fast a brand-new device gets a large replica.
 *
 *   bootstrap_bench [--rows 100000] [--page-size N] [--roved PATH]
 *
 * Starts roved with --seed-bench N on a temporary store (user `bench` owns N
 * rows over account, contact, visit and service_task), then in a child process
 * (a fresh exec of this program, so its memory is the SDK's alone) opens an
 * empty replica, logs in as bench and times rove_client_sync() until the
 * replica is complete, over loopback TLS. The parent reads the child's peak
 * RSS from wait4().
 *
 * For comparison it then reads the same rows back from that replica and bulk
 * inserts them into a fresh SQLite file with the same DDL (rove__schema_ddl)
 * and the same PRAGMAs as the SDK replica, in one transaction with prepared
 * statements: the floor any sync engine writing SQLite has to stand on.
 *
 * Output (one line; ratio = SDK seconds / raw SQLite seconds):
 *   bootstrap rows=... seconds=... rows_per_s=... raw_sqlite_rows_per_s=...
 *   ratio=... peak_rss_mb=... baseline_rss_mb=...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "schema.h"

static long vm_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(key);
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

/* The SDK side, in its own process: prints "seconds rows baseline_kb". */
static int child_main(const char *db, const char *url, const char *ca, unsigned page)
{
    if (rove_global_init() != 0)
        return 3;
    rove_client_options o = ROVE_CLIENT_OPTIONS_INIT;
    o.db_path = db;
    o.server_url = url;
    o.ca_file = ca;
    o.page_size = page;
    o.timeout_ms = 600000;
    rove_client *c = NULL;
    int rc = rove_client_open(&c, &o);
    if (rc != 0) {
        fprintf(stderr, "open: %s: %s\n", rove_error_name(rc), rove_last_open_error());
        return 4;
    }
    rc = rove_client_login(c, "bench", "bench-demo");
    if (rc != 0) {
        fprintf(stderr, "login: %s: %s\n", rove_error_name(rc), rove_client_errmsg(c));
        return 5;
    }
    long baseline = vm_kb("VmRSS");
    rove_sync_report rep;
    double t0 = th_mono();
    rc = rove_client_sync(c, &rep);
    double secs = th_mono() - t0;
    if (rc != 0) {
        fprintf(stderr, "sync: %s: %s\n", rove_error_name(rc), rove_client_errmsg(c));
        return 6;
    }
    printf("%.6f %llu %ld %llu %u\n", secs, (unsigned long long)rep.pulled, baseline,
           (unsigned long long)rep.pages, rep.round_trips);
    rove_client_free(c);
    rove_global_cleanup();
    return 0;
}

/* Rows of one table, held as SQLite values so the timed part only inserts. */
typedef struct table_rows {
    const rove__table *t;
    size_t nrows, ncols;
    sqlite3_value **vals; /* nrows * ncols */
} table_rows;

static void load_rows(sqlite3 *db, table_rows *tr)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s", tr->t->name);
    sqlite3_stmt *st = NULL;
    TH_ASSERT(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    tr->ncols = (size_t)sqlite3_column_count(st);
    TH_ASSERT_EQ(tr->ncols, tr->t->ncols);
    size_t cap = 1024;
    tr->vals = malloc(cap * tr->ncols * sizeof(*tr->vals));
    TH_ASSERT(tr->vals != NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (tr->nrows == cap) {
            cap *= 2;
            tr->vals = realloc(tr->vals, cap * tr->ncols * sizeof(*tr->vals));
            TH_ASSERT(tr->vals != NULL);
        }
        for (size_t i = 0; i < tr->ncols; i++)
            tr->vals[tr->nrows * tr->ncols + i] = sqlite3_value_dup(sqlite3_column_value(st, (int)i));
        tr->nrows++;
    }
    sqlite3_finalize(st);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    TH_ASSERT_MSG(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

/* Inserts every row into a fresh file db; returns seconds. */
static double raw_insert(const char *path, table_rows *tabs, size_t ntabs)
{
    sqlite3 *db = NULL;
    TH_ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
    /* The replica's PRAGMAs (sdk/src/replica.c). */
    exec_ok(db, "PRAGMA journal_mode=WAL");
    exec_ok(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY");
    rove__buf ddl = ROVE__BUF_INIT;
    TH_ASSERT(rove__schema_ddl(&ddl, ROVE__DDL_REPLICA) == 0);
    exec_ok(db, (const char *)ddl.ptr);
    rove__buf_free(&ddl);

    double t0 = th_mono();
    exec_ok(db, "BEGIN");
    for (size_t k = 0; k < ntabs; k++) {
        table_rows *tr = &tabs[k];
        rove__buf sql = ROVE__BUF_INIT;
        rove__buf_printf(&sql, "INSERT INTO %s VALUES(", tr->t->name);
        for (size_t i = 0; i < tr->ncols; i++)
            rove__buf_printf(&sql, "%s?", i ? "," : "");
        rove__buf_puts(&sql, ")");
        sqlite3_stmt *st = NULL;
        TH_ASSERT(sqlite3_prepare_v2(db, (const char *)sql.ptr, -1, &st, NULL) == SQLITE_OK);
        rove__buf_free(&sql);
        for (size_t r = 0; r < tr->nrows; r++) {
            for (size_t i = 0; i < tr->ncols; i++)
                sqlite3_bind_value(st, (int)i + 1, tr->vals[r * tr->ncols + i]);
            TH_ASSERT(sqlite3_step(st) == SQLITE_DONE);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    exec_ok(db, "COMMIT");
    double secs = th_mono() - t0;
    sqlite3_close(db);
    return secs;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--child") == 0) {
        if (argc != 6)
            return 2;
        return child_main(argv[2], argv[3], argv[4], (unsigned)strtoul(argv[5], NULL, 10));
    }
    th_init(&argc, argv);
    long rows = th_arg("rows") ? strtol(th_arg("rows"), NULL, 10) : 100000;
    unsigned page = th_arg("page-size") ? (unsigned)strtoul(th_arg("page-size"), NULL, 10) : 0;
    if (rows <= 0 || argc != 1) {
        fprintf(stderr, "usage: bootstrap_bench [--rows N] [--page-size N] [--roved PATH]\n");
        return 2;
    }
    char nbuf[32];
    snprintf(nbuf, sizeof(nbuf), "%ld", rows);
    const char *extra[] = {"--seed-bench", nbuf, "--log-level", "warn", NULL};
    th_set_startup_timeout(600);
    double t0 = th_mono();
    th_server *s = th_server_start(extra);
    fprintf(stderr, "roved up with %ld bench rows in %.1f s\n", rows, th_mono() - t0);

    const char *dir = th_tmpdir("bootstrap");
    char db[600], raw[600], outfile[600], pagebuf[32];
    snprintf(db, sizeof(db), "%s/replica.db", dir);
    snprintf(raw, sizeof(raw), "%s/raw.db", dir);
    snprintf(outfile, sizeof(outfile), "%s/child.out", dir);
    snprintf(pagebuf, sizeof(pagebuf), "%u", page);

    pid_t pid = fork();
    TH_ASSERT(pid >= 0);
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            _exit(7);
        dup2(fd, 1);
        close(fd);
        execl("/proc/self/exe", "bootstrap_bench", "--child", db, s->url, s->ca, pagebuf,
              (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    TH_ASSERT(wait4(pid, &status, 0, &ru) == pid);
    TH_ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SDK child failed: status %d",
                  status);
    FILE *f = fopen(outfile, "r");
    TH_ASSERT(f != NULL);
    double sdk_secs = 0;
    unsigned long long pulled = 0, pages = 0;
    long baseline_kb = 0;
    unsigned trips = 0;
    TH_ASSERT(fscanf(f, "%lf %llu %ld %llu %u", &sdk_secs, &pulled, &baseline_kb, &pages,
                     &trips) == 5);
    fclose(f);

    /* The replica holds every row, no more and no less. */
    sqlite3 *rdb = NULL;
    TH_ASSERT(sqlite3_open_v2(db, &rdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    size_t nt;
    const rove__table *tables = rove__schema_tables(&nt);
    table_rows tabs[8];
    memset(tabs, 0, sizeof(tabs));
    size_t total = 0;
    for (size_t i = 0; i < nt; i++) {
        tabs[i].t = &tables[i];
        load_rows(rdb, &tabs[i]);
        total += tabs[i].nrows;
    }
    sqlite3_close(rdb);
    TH_ASSERT_MSG(total == (size_t)rows, "replica holds %zu rows, expected %ld", total, rows);
    TH_ASSERT_MSG(pulled >= (unsigned long long)rows, "sync pulled %llu rows, expected %ld",
                  pulled, rows);

    double raw_secs = raw_insert(raw, tabs, nt);
    for (size_t i = 0; i < nt; i++) {
        for (size_t k = 0; k < tabs[i].nrows * tabs[i].ncols; k++)
            sqlite3_value_free(tabs[i].vals[k]);
        free(tabs[i].vals);
    }
    struct stat st;
    long long db_bytes = stat(db, &st) == 0 ? (long long)st.st_size : -1;

    printf("bootstrap rows=%ld seconds=%.3f rows_per_s=%.0f raw_sqlite_seconds=%.3f "
           "raw_sqlite_rows_per_s=%.0f ratio=%.2f peak_rss_mb=%.1f baseline_rss_mb=%.1f "
           "pages=%llu round_trips=%u replica_mb=%.1f\n",
           rows, sdk_secs, (double)rows / sdk_secs, raw_secs, (double)rows / raw_secs,
           sdk_secs / raw_secs, (double)ru.ru_maxrss / 1024.0, (double)baseline_kb / 1024.0,
           pages, trips, (double)db_bytes / (1024.0 * 1024.0));
    fflush(stdout);
    th_server_stop(s);
    return 0;
}

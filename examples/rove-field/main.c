/*
 * rove-field: a terminal field app for a sales rep or a service technician,
 * built on librove. Run it with a command for scripts, or without one for an
 * interactive prompt:
 *
 *   rove-field --db rita.db --server https://localhost:8443 --ca ca.pem login rita rita-demo
 *   rove-field --db rita.db sync
 *   rove-field --db rita.db today
 *   rove-field --db rita.db checkin 01HZX --lat 52.1 --lon 4.3
 *   rove-field --db rita.db checkout 01HZX --outcome "Ordered 20 units" --notes "..."
 *   rove-field --db rita.db                      # interactive
 *
 * Ids can be given as unique prefixes. On failure the exit status is 1 and the
 * message is "error: <rove_strerror>: <detail>".
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rove/rove.h"
#include "table.h"

#define MAX_ARGS 32

static rove_client *cli;
static const char *opt_server, *opt_ca, *opt_pin, *opt_db = "rove-field.db";
static unsigned opt_page_size;
static int interactive;

static int fail(int code, const char *detail)
{
    fprintf(stderr, "error: %s: %s\n", rove_strerror(code),
            detail ? detail : rove_client_errmsg(cli));
    return code;
}

#if defined(__GNUC__)
static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
static int fail_usage(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail(ROVE_EINVAL, msg);
}

/* ---- small argument helpers ---------------------------------------------- */

/* Finds "--name value" in argv, removes both and returns value (or NULL). */
static const char *take_opt(int *argc, char **argv, const char *name)
{
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], name) != 0)
            continue;
        if (i + 1 >= *argc)
            return NULL;
        const char *v = argv[i + 1];
        for (int k = i; k + 2 < *argc + 0 || k + 2 <= *argc - 1; k++)
            argv[k] = argv[k + 2];
        *argc -= 2;
        return v;
    }
    return NULL;
}

/* Joins argv[from..argc) with spaces into a static buffer. */
static const char *join(int argc, char **argv, int from)
{
    static char buf[2048];
    buf[0] = 0;
    for (int i = from; i < argc; i++) {
        if (i > from)
            strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
        strncat(buf, argv[i], sizeof(buf) - strlen(buf) - 1);
    }
    return buf[0] ? buf : NULL;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno != 0 || end == s || *end != 0)
        return -1;
    *out = d;
    return 0;
}

static int resolve(const char *table, const char *prefix, char *id)
{
    int rc = rove_client_resolve_id(cli, id, table, prefix);
    if (rc != 0)
        return fail(rc, NULL);
    return 0;
}

/* Prompts for a line (interactive mode only). */
static char *ask(const char *prompt, char *buf, size_t size)
{
    printf("%s", prompt);
    fflush(stdout);
    if (fgets(buf, (int)size, stdin) == NULL)
        return NULL;
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

static int show(rove_rows *q, int rc, const char *empty)
{
    if (rc != 0)
        return fail(rc, NULL);
    rc = print_rows(stdout, q, empty);
    rove_rows_free(q);
    return rc < 0 ? fail(rc, NULL) : 0;
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_help(int argc, char **argv);

static int cmd_login(int argc, char **argv)
{
    char pw[256];
    const char *password = argc > 2 ? argv[2] : NULL;
    if (argc < 2)
        return fail_usage("usage: login <user> [password]");
    if (password == NULL) {
        if (ask("password: ", pw, sizeof(pw)) == NULL)
            return fail_usage("no password given");
        password = pw;
    }
    int rc = rove_client_login(cli, argv[1], password);
    memset(pw, 0, sizeof(pw));
    if (rc != 0)
        return fail(rc, NULL);
    printf("logged in as %s (%s), device %s\n", rove_client_user_name(cli),
           rove_client_role(cli) ? rove_client_role(cli) : "?", rove_client_device_id(cli));
    return 0;
}

static int on_receipt(const rove_receipt *r, void *payload)
{
    (void)payload;
    if (r->status == ROVE_RECEIPT_REJECTED || r->status == ROVE_RECEIPT_QUARANTINED)
        printf("  %s %s %s: %s%s%s\n",
               r->status == ROVE_RECEIPT_REJECTED ? "rejected" : "quarantined",
               r->table ? r->table : "?", r->record_id ? r->record_id : "?",
               rove_error_name(r->error), r->message ? " - " : "",
               r->message ? r->message : "");
    return 0;
}

static int on_evict(const char *table, const char *id, const char *reason, void *payload)
{
    (void)payload;
    if (strcmp(reason, "deleted") != 0)
        printf("  removed %s %s (%s)\n", table, id, reason);
    return 0;
}

static int cmd_sync(int argc, char **argv)
{
    rove_sync_report rep;
    rove_client_on_receipt(cli, on_receipt, NULL);
    rove_client_on_evict(cli, on_evict, NULL);
    int rc = rove_client_sync(cli, &rep);
    if (rc != 0) {
        if (rep.pushed || rep.pulled)
            printf("partial sync: pushed %llu, pulled %llu before the failure\n",
                   (unsigned long long)rep.pushed, (unsigned long long)rep.pulled);
        return fail(rc, NULL);
    }
    printf("synced: pushed %llu (%llu applied, %llu rejected, %llu quarantined), "
           "pulled %llu rows, removed %llu, %u round trip%s, cursor %lld\n",
           (unsigned long long)rep.pushed, (unsigned long long)rep.applied,
           (unsigned long long)rep.rejected, (unsigned long long)rep.quarantined,
           (unsigned long long)rep.pulled, (unsigned long long)rep.evicted, rep.round_trips,
           rep.round_trips == 1 ? "" : "s", (long long)rep.cursor);
    return 0;
}

static int cmd_status(int argc, char **argv)
{
    uint64_t n = 0;
    int rc = rove_client_pending(cli, &n);
    if (rc != 0)
        return fail(rc, NULL);
    printf("replica   %s\n", opt_db);
    printf("device    %s\n", rove_client_device_id(cli));
    if (rove_client_logged_in(cli))
        printf("user      %s (%s, id %s)\n", rove_client_user_name(cli),
               rove_client_role(cli) ? rove_client_role(cli) : "?", rove_client_user_id(cli));
    else
        printf("user      (not logged in)\n");
    printf("pending   %llu change%s\n", (unsigned long long)n, n == 1 ? "" : "s");
    printf("librove   %s (protocol %d)\n", ROVE_VERSION_STRING, ROVE_PROTOCOL_VERSION);
    return 0;
}

static int cmd_today(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_visits_today(cli, &q, 0);
    return show(q, rc, "no visits planned for you today");
}

static int cmd_day(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_plan_today(cli, &q, 0);
    return show(q, rc, "nothing planned or due today");
}

static int cmd_urgent(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_tasks_by_urgency(cli, &q, 0);
    return show(q, rc, "no open service tasks");
}

static int cmd_followups(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_followups_due(cli, &q, 0);
    return show(q, rc, "no follow-ups due");
}

static int cmd_visits(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_visits_list(cli, &q);
    return show(q, rc, "no visits");
}

static int geo_opts(int *argc, char **argv, double *lat, double *lon)
{
    const char *a = take_opt(argc, argv, "--lat"), *b = take_opt(argc, argv, "--lon");
    *lat = *lon = ROVE_NO_GEO;
    if ((a && parse_double(a, lat) != 0) || (b && parse_double(b, lon) != 0))
        return fail_usage("--lat and --lon take decimal degrees");
    return 0;
}

static int cmd_checkin(int argc, char **argv)
{
    double lat, lon;
    char id[ROVE_ID_SIZE];
    if (geo_opts(&argc, argv, &lat, &lon) != 0)
        return ROVE_EINVAL;
    if (argc < 2)
        return fail_usage("usage: checkin <visit> [--lat X --lon Y]");
    if (resolve("visit", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_check_in(cli, id, lat, lon);
    if (rc != 0)
        return fail(rc, NULL);
    rove_record *v = NULL;
    if (rove_client_get(cli, &v, "visit", id) == 0)
        printf("checked in to visit %s (%s)\n", id, rove_record_text(v, "geo_check"));
    rove_record_free(v);
    return 0;
}

static int cmd_checkout(int argc, char **argv)
{
    double lat, lon;
    char id[ROVE_ID_SIZE], line[512];
    if (geo_opts(&argc, argv, &lat, &lon) != 0)
        return ROVE_EINVAL;
    const char *outcome = take_opt(&argc, argv, "--outcome");
    const char *notes = take_opt(&argc, argv, "--notes");
    const char *next = take_opt(&argc, argv, "--next");
    if (next == NULL)
        next = take_opt(&argc, argv, "--next-action");
    if (argc < 2)
        return fail_usage("usage: checkout <visit> [--outcome TEXT | TEXT...] [--notes TEXT] "
                          "[--next TEXT] [--lat X --lon Y]");
    if (outcome == NULL)
        outcome = join(argc, argv, 2);
    if (outcome == NULL && interactive)
        outcome = ask("outcome: ", line, sizeof(line));
    if (outcome == NULL || outcome[0] == 0)
        return fail_usage("an outcome is required");
    if (resolve("visit", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_check_out(cli, id, lat, lon, outcome, notes, next);
    if (rc != 0)
        return fail(rc, NULL);
    printf("visit %s completed\n", id);
    return 0;
}

static int cmd_cancel(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    if (argc < 2)
        return fail_usage("usage: cancel <visit>");
    if (resolve("visit", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_cancel(cli, id);
    if (rc != 0)
        return fail(rc, NULL);
    printf("visit %s cancelled\n", id);
    return 0;
}

/* "YYYY-MM-DD HH:MM", "HH:MM" (today) or "+N" minutes from now. */
static int parse_when(const char *s, int64_t *out)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int y, mo, d, h, mi;
    if (s[0] == '+') {
        char *end;
        long m = strtol(s + 1, &end, 10);
        if (*end != 0 || m < 0)
            return -1;
        *out = ((int64_t)now + m * 60) * 1000;
        return 0;
    }
    if (sscanf(s, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) == 5) {
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
    } else if (sscanf(s, "%d:%d", &h, &mi) != 2) {
        return -1;
    }
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    *out = (int64_t)mktime(&tm) * 1000;
    return 0;
}

static int cmd_plan(int argc, char **argv)
{
    char acc[ROVE_ID_SIZE], con[ROVE_ID_SIZE], id[ROVE_ID_SIZE];
    const char *contact = take_opt(&argc, argv, "--contact");
    int64_t start;
    if (argc < 3)
        return fail_usage("usage: plan <account> <\"YYYY-MM-DD HH:MM\"|HH:MM|+minutes> "
                          "[purpose...] [--contact ID]");
    if (parse_when(argv[2], &start) != 0)
        return fail_usage("cannot read the time '%s'", argv[2]);
    if (resolve("account", argv[1], acc) != 0)
        return ROVE_ENOTFOUND;
    if (contact && resolve("contact", contact, con) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_plan(cli, id, acc, contact ? con : NULL, join(argc, argv, 3), start, 0);
    if (rc != 0)
        return fail(rc, NULL);
    printf("planned visit %s\n", id);
    return 0;
}

static int cmd_checkin_manual(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    if (argc < 3)
        return fail_usage("usage: checkin-manual <visit> <reason...>");
    if (resolve("visit", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_check_in_manual(cli, id, join(argc, argv, 2));
    if (rc != 0)
        return fail(rc, NULL);
    printf("checked in to visit %s without a position (manual)\n", id);
    return 0;
}

static int cmd_missed(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    if (argc < 2)
        return fail_usage("usage: missed <visit>");
    if (resolve("visit", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_mark_missed(cli, id);
    if (rc != 0)
        return fail(rc, NULL);
    printf("visit %s marked missed\n", id);
    return 0;
}

static int cmd_replan(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    int64_t start;
    if (argc < 3)
        return fail_usage("usage: replan <visit> <\"YYYY-MM-DD HH:MM\"|HH:MM|+minutes>");
    if (parse_when(argv[2], &start) != 0)
        return fail_usage("cannot read the time '%s'", argv[2]);
    if (resolve("visit", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_visit_replan(cli, id, start, 0);
    if (rc != 0)
        return fail(rc, NULL);
    printf("visit %s planned again\n", id);
    return 0;
}

static int cmd_close_task(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    const char *sat = take_opt(&argc, argv, "--satisfaction");
    if (argc < 3)
        return fail_usage("usage: close-task <task> <reason...> [--satisfaction 1-5]");
    if (resolve("service_task", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_task_close(cli, id, join(argc, argv, 2), sat ? atoi(sat) : 0);
    if (rc != 0)
        return fail(rc, NULL);
    printf("service task %s closed\n", id);
    return 0;
}

static int cmd_tasks(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_tasks_open(cli, &q);
    return show(q, rc, "no open service tasks");
}

static int cmd_task_status(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    if (argc < 3)
        return fail_usage("usage: task-status <task> <status> [resolution...]");
    if (resolve("service_task", argv[1], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_task_set_status(cli, id, argv[2], join(argc, argv, 3));
    if (rc != 0)
        return fail(rc, NULL);
    printf("task %s is now %s\n", id, argv[2]);
    return 0;
}

static int cmd_new_task(int argc, char **argv)
{
    char acc[ROVE_ID_SIZE], id[ROVE_ID_SIZE];
    const char *prio = take_opt(&argc, argv, "--priority");
    const char *desc = take_opt(&argc, argv, "--description");
    if (argc < 4)
        return fail_usage(
            "usage: new-task <account> <request|complaint|maintenance> <title...> "
            "[--priority P] [--description TEXT]");
    if (resolve("account", argv[1], acc) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_task_create(cli, id, acc, argv[2], prio, join(argc, argv, 3), desc);
    if (rc != 0)
        return fail(rc, NULL);
    printf("created service task %s\n", id);
    return 0;
}

static int cmd_accounts(int argc, char **argv)
{
    rove_rows *q = NULL;
    int rc = rove_accounts_list(cli, &q);
    return show(q, rc, "no accounts (sync first?)");
}

static int cmd_contacts(int argc, char **argv)
{
    char acc[ROVE_ID_SIZE];
    rove_rows *q = NULL;
    if (argc > 1 && resolve("account", argv[1], acc) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_contacts_list(cli, &q, argc > 1 ? acc : NULL);
    return show(q, rc, "no contacts");
}

static int cmd_new_account(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    const char *address = take_opt(&argc, argv, "--address");
    const char *phone = take_opt(&argc, argv, "--phone");
    double lat, lon;
    if (geo_opts(&argc, argv, &lat, &lon) != 0)
        return ROVE_EINVAL;
    const char *name = join(argc, argv, 1);
    if (name == NULL)
        return fail_usage("usage: new-account <name...> [--address A] [--phone P] "
                          "[--lat X --lon Y]");
    int rc = rove_account_create(cli, id, name, address, phone, lat, lon);
    if (rc != 0)
        return fail(rc, NULL);
    printf("created account %s\n", id);
    return 0;
}

static int cmd_new_contact(int argc, char **argv)
{
    char acc[ROVE_ID_SIZE], id[ROVE_ID_SIZE];
    char b1[128], b2[256], b3[128], b4[128], b5[256];
    const char *title = take_opt(&argc, argv, "--title");
    const char *phone = take_opt(&argc, argv, "--phone");
    const char *email = take_opt(&argc, argv, "--email");
    const char *account = argc > 1 ? argv[1] : NULL;
    const char *name = join(argc, argv, 2);
    if (interactive && account == NULL) {
        account = ask("account (id prefix): ", b1, sizeof(b1));
        name = account ? ask("name: ", b2, sizeof(b2)) : NULL;
        title = name ? ask("title: ", b3, sizeof(b3)) : NULL;
        phone = title ? ask("phone: ", b4, sizeof(b4)) : NULL;
        email = phone ? ask("email: ", b5, sizeof(b5)) : NULL;
    }
    if (account == NULL || name == NULL || name[0] == 0)
        return fail_usage("usage: new-contact <account> <name...> [--title T] [--phone P] "
                          "[--email E]");
    if (resolve("account", account, acc) != 0)
        return ROVE_ENOTFOUND;
    int rc =
        rove_contact_create(cli, id, acc, name, title && *title ? title : NULL,
                            phone && *phone ? phone : NULL, email && *email ? email : NULL, 0);
    if (rc != 0)
        return fail(rc, NULL);
    printf("created contact %s\n", id);
    return 0;
}

static int cmd_pending(int argc, char **argv)
{
    rove_rows *q = NULL;
    printf("Waiting to sync:\n");
    int rc = rove_client_outbox(cli, &q);
    if ((rc = show(q, rc, "  nothing, the outbox is empty")) != 0)
        return rc;
    q = NULL;
    rc = rove_client_receipts(cli, &q, 1);
    printf("\nRefused or held by the server:\n");
    return show(q, rc, "  nothing");
}

static int cmd_state(int argc, char **argv)
{
    char id[ROVE_ID_SIZE];
    rove_sync_state st;
    const char *msg = NULL;
    if (argc < 3)
        return fail_usage("usage: state <table> <id>");
    if (resolve(argv[1], argv[2], id) != 0)
        return ROVE_ENOTFOUND;
    int rc = rove_client_record_state(cli, argv[1], id, &st, &msg);
    if (rc != 0)
        return fail(rc, NULL);
    printf("%s %s: %s%s%s\n", argv[1], id, rove_sync_state_name(st), msg ? " - " : "",
           msg ? msg : "");
    return 0;
}

static int cmd_wipe(int argc, char **argv)
{
    uint64_t n = 0;
    rove_client_pending(cli, &n);
    if (n > 0 && (argc < 2 || strcmp(argv[1], "--force") != 0))
        return fail(ROVE_EBUSY, "unsynced changes would be lost; sync first or add --force");
    int rc = rove_client_wipe(cli);
    if (rc != 0)
        return fail(rc, NULL);
    printf("replica wiped; new device id %s\n", rove_client_device_id(cli));
    return 0;
}

static int cmd_query(int argc, char **argv)
{
    rove_rows *q = NULL;
    const char *sql = join(argc, argv, 1);
    if (sql == NULL)
        return fail_usage("usage: query <select statement>");
    int rc = rove_client_query(cli, &q, sql, NULL, 0);
    return show(q, rc, NULL);
}

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    int needs_login;
    const char *usage;
    const char *help;
};

static const struct command commands[] = {
    {"help", cmd_help, 0, "", "this list"},
    {"login", cmd_login, 0, "<user> [password]", "log in on this device (network)"},
    {"status", cmd_status, 0, "", "who is logged in, pending changes"},
    {"sync", cmd_sync, 1, "", "push local changes and pull news (network)"},
    {"today", cmd_today, 0, "", "my visits planned for today"},
    {"day", cmd_day, 0, "", "today's plan: overdue, today's visits, accounts due by cadence"},
    {"visits", cmd_visits, 0, "", "all visits"},
    {"plan", cmd_plan, 0, "<account> <when> [purpose...]", "plan a visit"},
    {"checkin", cmd_checkin, 0, "<visit> [--lat X --lon Y]", "check in to a visit"},
    {"checkout", cmd_checkout, 0, "<visit> <outcome...> [--notes T] [--next T]",
     "check out with the outcome"},
    {"cancel", cmd_cancel, 0, "<visit>", "cancel a planned visit"},
    {"checkin-manual", cmd_checkin_manual, 0, "<visit> <reason...>",
     "check in without a position (no GPS)"},
    {"missed", cmd_missed, 0, "<visit>", "the customer was not met"},
    {"replan", cmd_replan, 0, "<visit> <when>", "give a visit a new slot"},
    {"close-task", cmd_close_task, 0, "<task> <reason...> [--satisfaction N]",
     "close a resolved service task"},
    {"tasks", cmd_tasks, 0, "", "open service tasks by SLA due time"},
    {"urgent", cmd_urgent, 0, "", "open service tasks by SLA urgency (breached first)"},
    {"followups", cmd_followups, 0, "", "resolved tasks whose follow-up is due"},
    {"task-status", cmd_task_status, 0, "<task> <status> [resolution...]",
     "move a service task (e.g. resolved \"Replaced pump\")"},
    {"new-task", cmd_new_task, 0, "<account> <type> <title...>", "open a service task"},
    {"accounts", cmd_accounts, 0, "", "my accounts"},
    {"contacts", cmd_contacts, 0, "[account]", "contacts (of one account)"},
    {"new-account", cmd_new_account, 0, "<name...> [--address A] [--phone P]",
     "create an account"},
    {"new-contact", cmd_new_contact, 0, "<account> <name...> [--title T] [--phone P]",
     "create a contact"},
    {"pending", cmd_pending, 0, "", "changes waiting to sync, and refused ones"},
    {"state", cmd_state, 0, "<table> <id>", "sync state of one record"},
    {"wipe", cmd_wipe, 0, "[--force]", "erase the replica (to log in as someone else)"},
    {"query", cmd_query, 0, "<select...>", "run a read-only SQL query on the replica"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(int argc, char **argv)
{
    printf("commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char left[80];
        snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].usage);
        printf("  %-56s %s\n", left, commands[i].help);
    }
    if (interactive)
        printf("  %-56s %s\n", "quit", "leave");
    printf("Ids can be given as unique prefixes.\n");
    return 0;
}

static int run(int argc, char **argv)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, argv[0]) != 0)
            continue;
        if (commands[i].needs_login && !rove_client_logged_in(cli))
            return fail(ROVE_ENOTLOGGEDIN, "run 'login <user>' first");
        return commands[i].fn(argc, argv);
    }
    return fail_usage("unknown command '%s' (try 'help')", argv[0]);
}

/* Splits a line into words; "double quotes" group words. */
static int split(char *line, char **argv)
{
    int argc = 0;
    char *p = line;
    while (*p && argc < MAX_ARGS) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == 0)
            break;
        char *w = p, *o = p;
        int quoted = 0;
        while (*p && (quoted || !isspace((unsigned char)*p))) {
            if (*p == '"') {
                quoted = !quoted;
                p++;
                continue;
            }
            *o++ = *p++;
        }
        if (*p)
            p++;
        *o = 0;
        argv[argc++] = w;
    }
    return argc;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: rove-field [--db FILE] [--server URL] [--ca FILE] [--pin sha256//...] "
            "[--page-size N] "
            "[command [args...]]\n"
            "Without a command, starts an interactive prompt. 'rove-field help' lists the "
            "commands.\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage();
            return 0;
        }
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (strcmp(o, "--db") == 0)
            opt_db = argv[++i];
        else if (strcmp(o, "--server") == 0)
            opt_server = argv[++i];
        else if (strcmp(o, "--ca") == 0)
            opt_ca = argv[++i];
        else if (strcmp(o, "--pin") == 0)
            opt_pin = argv[++i];
        else if (strcmp(o, "--page-size") == 0)
            opt_page_size = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            usage();
            return 2;
        }
    }
    if (rove_global_init() != 0) {
        fprintf(stderr, "error: cannot initialise librove\n");
        return 1;
    }
    rove_client_options opts = ROVE_CLIENT_OPTIONS_INIT;
    opts.db_path = opt_db;
    opts.server_url = opt_server;
    opts.ca_file = opt_ca;
    opts.pinned_pubkey = opt_pin;
    opts.device_name = "rove-field";
    opts.page_size = opt_page_size;
    int rc = rove_client_open(&cli, &opts);
    if (rc != 0) {
        fprintf(stderr, "error: %s: %s\n", rove_strerror(rc), rove_last_open_error());
        rove_global_cleanup();
        return 1;
    }

    if (i < argc) {
        rc = run(argc - i, argv + i);
    } else {
        char line[4096];
        char *av[MAX_ARGS];
        interactive = 1;
        printf("rove-field %s - 'help' lists commands, 'quit' leaves\n", ROVE_VERSION_STRING);
        for (;;) {
            printf("%s> ", rove_client_logged_in(cli) ? rove_client_user_name(cli) : "rove");
            fflush(stdout);
            if (fgets(line, sizeof(line), stdin) == NULL)
                break;
            int ac = split(line, av);
            if (ac == 0)
                continue;
            if (strcmp(av[0], "quit") == 0 || strcmp(av[0], "exit") == 0)
                break;
            run(ac, av);
        }
        rc = 0;
    }
    rove_client_free(cli);
    rove_global_cleanup();
    return rc == 0 ? 0 : 1;
}

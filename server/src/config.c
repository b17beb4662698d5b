/* The option table and the parsers it drives (see config.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "rove/errors.h"
#include "rove/version.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_ACTION };

typedef struct option {
    const char *name; /* as on the command line without "--"; '_' also accepted */
    enum opt_type type;
    const char *def; /* default value as text (NULL: empty) */
    const char *help;
    size_t offset; /* into roved_config */
    size_t size;   /* for strings: capacity */
    int cli_only;  /* not accepted in the config file */
    long min, max; /* for integers */
} option;

#define STR(field) offsetof(roved_config, field), sizeof(((roved_config *)0)->field)
#define INT(field) offsetof(roved_config, field), 0

static const option options[] = {
    {"listen", OPT_STRING, "127.0.0.1:8443",
     "Address and port to serve HTTPS on, as HOST:PORT (IPv6: [::1]:PORT).", STR(listen), 0, 0,
     0},
    {"data-dir", OPT_STRING, "./rove-data",
     "Directory holding the store (rove.db) and, with --demo, the generated certificates.",
     STR(data_dir), 0, 0, 0},
    {"config", OPT_STRING, NULL, "Read options from FILE (`name = value` lines).",
     STR(config_file), 1, 0, 0},
    {"cert", OPT_STRING, NULL,
     "PEM file holding the server private key and certificate chain (both in one file). "
     "Without it roved refuses to start, unless --demo generates a local CA.",
     STR(cert), 0, 0, 0},
    {"demo", OPT_BOOL, "false",
     "Seed demo users and data when the store is empty, and create a local CA and a "
     "localhost certificate in the data directory when no certificate is configured.",
     INT(demo), 0, 0, 1},
    {"threads", OPT_INT, "32",
     "HTTP worker threads. A keep-alive connection holds a worker while it is open.",
     INT(threads), 0, 1, 1024},
    {"keep-alive-ms", OPT_INT, "2000",
     "How long an idle keep-alive connection may hold its worker thread (ms); the whole "
     "header of the next request must arrive within it.",
     INT(keep_alive_ms), 0, 0, 600000},
    {"header-timeout-ms", OPT_INT, "10000",
     "Deadline for a new connection's TLS handshake and whole first request header, from "
     "when a worker takes the connection (ms).",
     INT(header_timeout_ms), 0, 1000, 600000},
    {"body-timeout-ms", OPT_INT, "10000",
     "Deadline for a request body (ms), moved on by 1 s for every body-min-rate bytes "
     "received: a stalled upload is dropped, a slow but steady one finishes.",
     INT(body_timeout_ms), 0, 1000, 600000},
    {"body-min-rate", OPT_INT, "1024",
     "Slowest request body upload kept going, in bytes/s (see body-timeout-ms).",
     INT(body_min_rate), 0, 1, 100000000},
    {"max-connections-per-source", OPT_INT, "8",
     "Once three quarters of the worker threads are taken, a new connection from a client "
     "address (IPv4 address, IPv6 /64) that already holds this many is closed at once, "
     "before any TLS work. 0: no limit (e.g. behind a reverse proxy that limits by "
     "itself).",
     INT(max_conns_per_source), 0, 0, 100000},
    {"log-level", OPT_STRING, "info", "Least severe level logged: debug, info, warn, error.",
     STR(log_level), 0, 0, 0},
    {"page-max", OPT_INT, "5000", "Most rows sent in one pulled page.", INT(page_max), 0, 1,
     10000},
    {"pbkdf2-iterations", OPT_INT, "100000",
     "PBKDF2-HMAC-SHA256 iterations for new password hashes.", INT(pbkdf2_iterations), 0, 1000,
     10000000},
    {"synchronous", OPT_STRING, "full",
     "SQLite synchronous mode: full (every acknowledged write survives power loss) or "
     "normal (survives a crash of roved, may lose the last commits on power loss).",
     STR(synchronous), 0, 0, 0},
    {"compress-level", OPT_INT, "1", "zlib level for sync responses (1 fastest, 9 smallest).",
     INT(compress_level), 0, 1, 9},
    {"admin-session-hours", OPT_INT, "12", "Lifetime of an admin API session token.",
     INT(admin_session_hours), 0, 1, 720},
    {"login-max-failures", OPT_INT, "10",
     "Failed logins of one user name from one source before that pair is refused with 429 "
     "rate_limited for 30 s, doubling with each further failure up to 15 min; a source or "
     "a user name is limited after three times as many (docs/operations.md).",
     INT(login_max_failures), 0, 1, 1000000},
    {"checkin-radius-m", OPT_INT, "500",
     "Default distance (m) within which a visit check-in counts as within range of the "
     "account's position (an account's checkin_radius_m overrides it).",
     INT(checkin_radius_m), 0, 1, 100000},
    {"cadence-days", OPT_STRING, "VIP=7,A=14,B=30,C=60",
     "Visit frequency target per value tier, in days (an account's visit_freq_days "
     "overrides it); sets next_visit_due after each completed visit.",
     STR(cadence_days), 0, 0, 0},
    {"sla-policy", OPT_STRING,
     "VIP=1/4,2/8,4/24,8/48;A=2/8,4/24,8/48,24/96;B=4/24,8/48,24/96,48/168;"
     "C=8/48,24/96,48/168,72/336",
     "Service task SLA: for each tier, response/resolve hours for urgent, high, normal "
     "and low priority.",
     STR(sla_policy), 0, 0, 0},
    {"followup-days", OPT_INT, "3",
     "Days after a service task is resolved when its follow-up is due.", INT(followup_days), 0,
     0, 365},
    {"max-clock-skew-ms", OPT_INT, "300000",
     "How far ahead of server time a device's clock may count when concurrent edits are "
     "ordered (last writer wins); a device clock further ahead is clamped to it.",
     INT(max_clock_skew_ms), 0, 0, 86400000},
    {"resolver-plugin", OPT_STRING, NULL,
     "Shared object with custom conflict resolvers (server/include/roved/resolver.h); "
     "roved refuses to start when it cannot be loaded or registers an invalid column.",
     STR(resolver_plugin), 0, 0, 0},
    {"drain-hours", OPT_INT, "72",
     "After a device is revoked, how long it may still upload its outbox (receiving no "
     "data); changes made before the revocation are applied, later ones quarantined. Then "
     "it is told to wipe its replica. A revocation may give its own drain.",
     INT(drain_hours), 0, 0, 720},
    {"max-leave-days", OPT_INT, "90",
     "Longest delegation window (leave) a manager may create, in days.", INT(max_leave_days), 0,
     1, 3650},
    {"leave-grace-hours", OPT_INT, "24",
     "Default grace period after a delegation ends: a delegate's edit made before the end "
     "and received within it is applied, later ones are quarantined.",
     INT(leave_grace_hours), 0, 0, 720},
    {"device-token-days", OPT_INT, "30",
     "Lifetime of a device token. A device that syncs in the second half of its token's "
     "life receives a fresh one silently; an expired token is refused (401 auth).",
     INT(device_token_days), 0, 1, 3650},
    {"device-token-test-seconds", OPT_INT, "0",
     "Tests only: device token lifetime in seconds, overriding device-token-days (0: off).",
     INT(device_token_test_seconds), 1, 0, 86400},
    {"seed-bench", OPT_INT, "0",
     "Create user `bench` (rep, password bench-demo) owning N synced rows spread over "
     "accounts, contacts, visits and service tasks (benchmarks). Only on an empty store.",
     INT(seed_bench), 1, 0, 100000000},
    {"help", OPT_ACTION, NULL, "Print this help and exit.", INT(help), 1, 0, 0},
    {"version", OPT_ACTION, NULL, "Print the version and exit.", INT(version), 1, 0, 0},
    {"print-config-doc", OPT_ACTION, NULL, "Print the option table as markdown and exit.",
     INT(print_config_doc), 1, 0, 0},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* Option names match with '-' and '_' treated alike. */
static int name_eq(const char *table_name, const char *s, size_t len)
{
    if (strlen(table_name) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char a = table_name[i], b = s[i];
        if (b == '_')
            b = '-';
        if (a != b)
            return 0;
    }
    return 1;
}

static const option *find(const char *s, size_t len)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (name_eq(options[i].name, s, len))
            return &options[i];
    return NULL;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int set_value(roved_config *cfg, const option *o, const char *v, const char *where)
{
    char *base = (char *)cfg;
    switch (o->type) {
    case OPT_STRING:
        if (strlen(v) >= o->size) {
            fprintf(stderr, "roved: %s: value of %s is too long\n", where, o->name);
            return ROVE_EINVAL;
        }
        strcpy(base + o->offset, v);
        return 0;
    case OPT_INT: {
        char *end = NULL;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || n < o->min || n > o->max) {
            fprintf(stderr, "roved: %s: %s wants an integer in %ld..%ld, not \"%s\"\n", where,
                    o->name, o->min, o->max, v);
            return ROVE_EINVAL;
        }
        *(int *)(base + o->offset) = (int)n;
        return 0;
    }
    case OPT_BOOL:
    case OPT_ACTION:
        if (parse_bool(v, (int *)(base + o->offset)) != 0) {
            fprintf(stderr, "roved: %s: %s wants true or false, not \"%s\"\n", where, o->name,
                    v);
            return ROVE_EINVAL;
        }
        return 0;
    }
    return ROVE_EINVAL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 &&
           (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int load_file(roved_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "roved: cannot open config file %s: %s\n", path, strerror(errno));
        return ROVE_EINVAL;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char where[ROVED_PATH_MAX + 32];
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "roved: %s: expected `name = value`\n", where);
            rc = ROVE_EINVAL;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        const option *o = find(name, strlen(name));
        if (o == NULL || o->cli_only) {
            fprintf(stderr, "roved: %s: unknown option \"%s\"\n", where, name);
            rc = ROVE_EINVAL;
            break;
        }
        rc = set_value(cfg, o, value, where);
    }
    fclose(f);
    return rc;
}

/* Parses argv; when only_config is set, looks for --config alone. */
static int parse_args(roved_config *cfg, int argc, char **argv, int only_config)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "roved: unexpected argument \"%s\" (try --help)\n", a);
            return ROVE_EINVAL;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const option *o = find(a, nlen);
        if (o == NULL) {
            fprintf(stderr, "roved: unknown option \"%s\" (try --help)\n", argv[i]);
            return ROVE_EINVAL;
        }
        const char *value;
        if (eq != NULL)
            value = eq + 1;
        else if (o->type == OPT_BOOL || o->type == OPT_ACTION)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "roved: --%s needs a value\n", o->name);
            return ROVE_EINVAL;
        }
        if (only_config != (strcmp(o->name, "config") == 0))
            continue;
        int rc = set_value(cfg, o, value, "command line");
        if (rc != 0)
            return rc;
    }
    return 0;
}

int roved_config_load(roved_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].def != NULL && set_value(cfg, &options[i], options[i].def, "default"))
            return ROVE_EINVAL;
    int rc = parse_args(cfg, argc, argv, 1);
    if (rc == 0 && cfg->config_file[0] != '\0')
        rc = load_file(cfg, cfg->config_file);
    if (rc == 0)
        rc = parse_args(cfg, argc, argv, 0);
    if (rc != 0)
        return rc;
    if (strcmp(cfg->synchronous, "full") != 0 && strcmp(cfg->synchronous, "normal") != 0) {
        fprintf(stderr, "roved: synchronous must be full or normal\n");
        return ROVE_EINVAL;
    }
    return 0;
}

static const char *type_name(const option *o)
{
    switch (o->type) {
    case OPT_STRING:
        return "string";
    case OPT_INT:
        return "integer";
    case OPT_BOOL:
        return "boolean";
    default:
        return "action";
    }
}

void roved_config_print_help(FILE *f, const char *argv0)
{
    fprintf(f, "Usage: %s [OPTIONS]\n\nroved %s, the Rove sync server.\n\nOptions:\n", argv0,
            ROVE_VERSION_STRING);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option *o = &options[i];
        char left[64];
        if (o->type == OPT_BOOL || o->type == OPT_ACTION)
            snprintf(left, sizeof(left), "--%s", o->name);
        else
            snprintf(left, sizeof(left), "--%s %s", o->name,
                     o->type == OPT_INT ? "N" : "VALUE");
        fprintf(f, "  %-26s %s", left, o->help);
        if (o->def != NULL && o->type != OPT_ACTION)
            fprintf(f, " [default: %s]", o->def);
        fputc('\n', f);
    }
    fprintf(f, "\nEvery option except config, seed-bench and the actions may also be set in "
               "the config file as `name = value`.\n");
}

void roved_config_print_doc(FILE *f)
{
    fprintf(f, "# roved configuration\n\n"
               "Options are read from built-in defaults, then the file given with "
               "`--config FILE`, then the command line. In the file, write one "
               "`name = value` per line; `#` starts a comment; `-` and `_` in names are "
               "interchangeable.\n\n"
               "| Option | Type | Default | Config file | Description |\n"
               "|---|---|---|---|---|\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option *o = &options[i];
        fprintf(f, "| `--%s` | %s | %s%s%s | %s | %s |\n", o->name, type_name(o),
                o->def ? "`" : "", o->def ? o->def : "", o->def ? "`" : "",
                o->cli_only ? "no" : "yes", o->help);
    }
}

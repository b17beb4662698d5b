#ifndef ROVE_SERVER_CONFIG_H
#define ROVE_SERVER_CONFIG_H

/*
 * roved configuration. One option table (config.c) drives command-line
 * parsing, the config file (`name = value` lines, `#` comments), `--help` and
 * the generated markdown documentation. Precedence: built-in defaults, then
 * the config file, then the command line.
 */

#include <stdio.h>

#define ROVED_PATH_MAX 1024

typedef struct roved_config {
    char listen[256];
    char data_dir[ROVED_PATH_MAX];
    char config_file[ROVED_PATH_MAX];
    char cert[ROVED_PATH_MAX];
    int demo;
    int threads;
    int keep_alive_ms;
    int header_timeout_ms;
    int body_timeout_ms;
    int body_min_rate;
    int max_conns_per_source;
    char log_level[16];
    int page_max;
    int pbkdf2_iterations;
    char synchronous[16];
    int seed_bench;
    int compress_level;
    int admin_session_hours;
    int login_max_failures;
    int checkin_radius_m;
    char cadence_days[128];
    char sla_policy[512];
    int followup_days;
    int max_clock_skew_ms;
    char resolver_plugin[ROVED_PATH_MAX];
    int drain_hours;
    int max_leave_days;
    int leave_grace_hours;
    int device_token_days;
    int device_token_test_seconds;
    /* Actions, command line only. */
    int help;
    int version;
    int print_config_doc;
} roved_config;

/*
 * Fills cfg from defaults, the config file named by --config (if any) and
 * argv. Returns 0, or ROVE_EINVAL after printing a message to stderr.
 */
int roved_config_load(roved_config *cfg, int argc, char **argv);

/* Prints usage (generated from the option table). */
void roved_config_print_help(FILE *f, const char *argv0);
/* Prints the option table as a markdown document (docs/operations.md). */
void roved_config_print_doc(FILE *f);

#endif

#ifndef ROVE_SERVER_TOOLS_ROVECTL_H
#define ROVE_SERVER_TOOLS_ROVECTL_H

/*
 * rovectl internals shared by its command files (rovectl.c has the core
 * commands; rovectl_<area>.c files add theirs). A command file exports
 *   int rovectl_<area>_command(rovectl *o);   ROVECTL_NOT_MINE when o->args
 *                                             is not one of its commands
 *   extern const char rovectl_<area>_usage[]; lines for --help
 * and is listed in rovectl.c's areas table.
 */

#include <jansson.h>

#define ROVECTL_NOT_MINE (-1000)

typedef struct rovectl {
    const char *server, *ca, *user, *password;
    int json;
    /* The command words and their options, global options removed:
     * e.g. {"users", "add", "bob", "--name", "Bob"}. */
    int nargs;
    char **args;
} rovectl;

/*
 * Sends a request to the admin API (logging in first when needed) and returns
 * the parsed JSON answer; NULL after printing the error. *status gets the
 * HTTP status.
 */
json_t *rovectl_call(rovectl *o, const char *method, const char *path, json_t *payload,
                     long *status);
/* Sends a raw body (e.g. text/csv); returns the JSON answer whatever the
 * HTTP status (errors are not printed), NULL when there is none. */
json_t *rovectl_call_raw(rovectl *o, const char *method, const char *path,
                         const char *content_type, const char *data, size_t len, long *status);
/* The value of option name (e.g. "--name") among o->args, or NULL. */
const char *rovectl_opt(const rovectl *o, const char *name);
/* The i-th word of o->args that is not an option or an option's value, or NULL. */
const char *rovectl_word(const rovectl *o, int i);
/* Number of such words. */
int rovectl_nwords(const rovectl *o);
/* 1 when every option in o->args is one of allowed (NULL-terminated); else
 * prints an error and returns 0. Options are "--x VALUE" pairs. */
int rovectl_opts_ok(const rovectl *o, const char *const *allowed);
void rovectl_print_json(json_t *j);
/* The string member key of o, or "-". */
const char *rovectl_str(json_t *o, const char *key);
/* Parses TIME: ISO 8601 UTC (2026-11-23T10:00:00Z), a date (2026-11-23) or
 * milliseconds since the epoch; 0 on success. */
int rovectl_parse_time(const char *s, long long *out);
/* Prints ms as 2026-11-23T10:00:00Z, padded to 20 columns ("-" for <= 0). */
void rovectl_print_time(long long ms);
/* 1 when s is safe in a URL path segment (letters, digits, _ - .). */
int rovectl_safe_key(const char *s);

/* The command areas (rovectl_<area>.c). */
extern const char rovectl_org_usage[], rovectl_scope_usage[], rovectl_domain_usage[],
    rovectl_transfer_usage[], rovectl_leave_usage[], rovectl_tokens_usage[];
int rovectl_org_command(rovectl *o);
int rovectl_scope_command(rovectl *o);
int rovectl_domain_command(rovectl *o);
int rovectl_transfer_command(rovectl *o);
int rovectl_leave_command(rovectl *o);
int rovectl_tokens_command(rovectl *o);

#endif

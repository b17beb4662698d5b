#ifndef ROVE_SERVER_LOG_H
#define ROVE_SERVER_LOG_H

/*
 * Structured logging: one line per event on stderr,
 *   ts=2026-11-22T22:00:00.123Z level=info event=sync device=... ms=2.1
 * The caller passes the fields after `event` as a printf format of key=value
 * pairs. Tokens, passwords and row data must never be passed here.
 * Thread-safe: each line is written with a single write(2).
 */

enum roved_log_level {
    ROVED_LOG_DEBUG = 0,
    ROVED_LOG_INFO = 1,
    ROVED_LOG_WARN = 2,
    ROVED_LOG_ERROR = 3
};

/* Parses "debug", "info", "warn" or "error"; -1 when unknown. */
int roved_log_level_parse(const char *name);
void roved_log_set_level(int level);
int roved_log_enabled(int level);

void roved_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define roved_log_info(ev, ...) roved_log(ROVED_LOG_INFO, ev, __VA_ARGS__)
#define roved_log_warn(ev, ...) roved_log(ROVED_LOG_WARN, ev, __VA_ARGS__)
#define roved_log_error(ev, ...) roved_log(ROVED_LOG_ERROR, ev, __VA_ARGS__)
#define roved_log_debug(ev, ...) roved_log(ROVED_LOG_DEBUG, ev, __VA_ARGS__)

#endif

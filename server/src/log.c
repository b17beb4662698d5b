/* Structured one-line logging to stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char *const names[] = {"debug", "info", "warn", "error"};
static volatile int min_level = ROVED_LOG_INFO;

int roved_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return ROVED_LOG_WARN;
    return -1;
}

void roved_log_set_level(int level) { min_level = level; }

int roved_log_enabled(int level) { return level >= min_level; }

void roved_log(int level, const char *event, const char *fmt, ...)
{
    if (level < min_level || level < 0 || level > 3)
        return;
    char line[1024];
    char ts[32];
    roved_util_iso8601(ts, sizeof(ts), roved_util_now_ms());
    int n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s", ts, names[level], event);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line) - 2 && fmt != NULL && fmt[0] != '\0') {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

#define _POSIX_C_SOURCE 200809L
/* A small aligned-table printer for rove_rows. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "table.h"

#define MAX_COLS 16
#define MAX_WIDTH 40

void format_time(char *dst, size_t size, long long ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(dst, size, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(dst, size, "%lld", ms);
}

static int is_time_col(const char *name)
{
    static const char *const suffix[] = {"_at", "_start", "_end", "_due"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        size_t k = strlen(suffix[i]);
        if (n >= k && strcmp(name + n - k, suffix[i]) == 0)
            return 1;
    }
    return 0;
}

static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Copies s as one line of at most MAX_WIDTH characters ("~" marks a cut). */
static char *cell(const char *s)
{
    size_t n = strlen(s), w = 0, i;
    int cut = utf8_width(s) > MAX_WIDTH;
    char *d = malloc(n + 2);
    if (d == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) != 0x80 && cut && ++w > MAX_WIDTH - 1)
            break;
        d[i] = (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : (char)ch;
    }
    if (cut)
        d[i++] = '~';
    d[i] = 0;
    return d;
}

int print_rows(FILE *out, rove_rows *q, const char *empty_message)
{
    int ncols = rove_rows_columns(q);
    if (ncols > MAX_COLS)
        ncols = MAX_COLS;
    size_t width[MAX_COLS];
    char ***rows = NULL;
    size_t nrows = 0, cap = 0;
    int rc;
    for (int i = 0; i < ncols; i++)
        width[i] = utf8_width(rove_rows_name(q, i));
    while ((rc = rove_rows_next(q)) == 1) {
        if (nrows == cap) {
            cap = cap ? cap * 2 : 32;
            char ***n = realloc(rows, cap * sizeof(*n));
            if (n == NULL) {
                rc = ROVE_ENOMEM;
                break;
            }
            rows = n;
        }
        char **r = calloc((size_t)ncols, sizeof(*r));
        if (r == NULL) {
            rc = ROVE_ENOMEM;
            break;
        }
        for (int i = 0; i < ncols; i++) {
            char buf[64];
            const char *v;
            if (rove_rows_is_null(q, i))
                v = "-";
            else if (is_time_col(rove_rows_name(q, i))) {
                format_time(buf, sizeof(buf), (long long)rove_rows_int(q, i));
                v = buf;
            } else
                v = rove_rows_text(q, i);
            r[i] = cell(v ? v : "");
            if (r[i] != NULL && utf8_width(r[i]) > width[i])
                width[i] = utf8_width(r[i]);
        }
        rows[nrows++] = r;
    }
    if (rc >= 0) {
        if (nrows == 0 && empty_message != NULL) {
            fprintf(out, "%s\n", empty_message);
        } else {
            for (int i = 0; i < ncols; i++)
                fprintf(out, "%s%-*s", i ? "  " : "", i + 1 < ncols ? (int)width[i] : 0,
                        rove_rows_name(q, i));
            fputc('\n', out);
            for (int i = 0; i < ncols; i++) {
                fputs(i ? "  " : "", out);
                for (size_t k = 0; k < width[i]; k++)
                    fputc('-', out);
            }
            fputc('\n', out);
            for (size_t r = 0; r < nrows; r++) {
                for (int i = 0; i < ncols; i++) {
                    const char *v = rows[r][i] ? rows[r][i] : "?";
                    /* pad by display width, not bytes */
                    fprintf(out, "%s%s", i ? "  " : "", v);
                    if (i + 1 < ncols)
                        for (size_t k = utf8_width(v); k < width[i]; k++)
                            fputc(' ', out);
                }
                fputc('\n', out);
            }
            fprintf(out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
        }
        rc = (int)nrows;
    }
    for (size_t r = 0; r < nrows; r++) {
        for (int i = 0; i < ncols; i++)
            free(rows[r][i]);
        free(rows[r]);
    }
    free(rows);
    return rc;
}

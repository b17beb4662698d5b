/* The main() of every test suite (see test.h). The case table comes from the
 * file CMake generates for the suite. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

extern const char rove_test_suite_name[];
extern const rove_test_case rove_test_cases[];

static const char *current;

/*
 * Sanitizer defaults for every suite. Some cases ask for impossible sizes on
 * purpose and expect NULL from the allocator rather than an ASan abort.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:detect_leaks=1";
}
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "print_stacktrace=1:halt_on_error=1"; }

/* Copies made by rove_test_dup, freed after each case so LeakSanitizer stays quiet. */
static void **dups;
static size_t ndups, dups_size;

void rove_test_fail(const char *file, int line, const char *fmt, ...)
{
    fflush(stdout);
    fprintf(stderr, "%s:%d: test_%s__%s failed: ", file, line, rove_test_suite_name,
            current ? current : "?");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    /* _Exit: no atexit handlers, so LeakSanitizer does not bury the message
     * under reports about memory the failed case never got to free. */
    _Exit(1);
}

void rove_test_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  # ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void *rove_test_dup(const void *p, size_t len)
{
    if (ndups == dups_size) {
        dups_size = dups_size ? dups_size * 2 : 16;
        dups = realloc(dups, dups_size * sizeof(*dups));
        if (dups == NULL)
            abort();
    }
    /* malloc(0) may return NULL; one spare byte keeps the pointer valid. */
    unsigned char *q = malloc(len ? len : 1);
    if (q == NULL)
        abort();
    if (len)
        memcpy(q, p, len);
    dups[ndups++] = q;
    return q;
}

static void run(const rove_test_case *tc)
{
    current = tc->name;
    tc->fn();
    for (size_t i = 0; i < ndups; i++)
        free(dups[i]);
    ndups = 0;
    printf("ok test_%s__%s\n", rove_test_suite_name, tc->name);
    fflush(stdout);
}

static const rove_test_case *find(const char *name)
{
    /* Accept both "case" and the full "test_<suite>__case". */
    size_t sl = strlen(rove_test_suite_name);
    if (strncmp(name, "test_", 5) == 0 && strncmp(name + 5, rove_test_suite_name, sl) == 0 &&
        strncmp(name + 5 + sl, "__", 2) == 0)
        name += 5 + sl + 2;
    for (const rove_test_case *tc = rove_test_cases; tc->name != NULL; tc++)
        if (strcmp(tc->name, name) == 0)
            return tc;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (const rove_test_case *tc = rove_test_cases; tc->name != NULL; tc++)
            printf("test_%s__%s\n", rove_test_suite_name, tc->name);
        return 0;
    }
    if (argc == 1) {
        for (const rove_test_case *tc = rove_test_cases; tc->name != NULL; tc++)
            run(tc);
    }
    for (int i = 1; i < argc; i++) {
        const rove_test_case *tc = find(argv[i]);
        if (tc == NULL) {
            fprintf(stderr, "%s: no case '%s' (try --list)\n", argv[0], argv[i]);
            return 2;
        }
        run(tc);
    }
    free(dups);
    return 0;
}

/* Fault-injecting allocator wrappers (see faultalloc.h). */
#include <stdlib.h>

#include "faultalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static unsigned long fail_at, count, nfailed;
static int sticky_mode;

void rove_fault_arm(unsigned long nth, int sticky)
{
    fail_at = nth;
    sticky_mode = sticky;
    count = 0;
    nfailed = 0;
}

unsigned long rove_fault_disarm(unsigned long *failed)
{
    fail_at = 0;
    if (failed != NULL)
        *failed = nfailed;
    return count;
}

static int should_fail(void)
{
    if (fail_at == 0)
        return 0;
    count++;
    if (count == fail_at || (sticky_mode && count > fail_at)) {
        nfailed++;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }

/* Growable byte buffer with sticky errors (see buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rove/errors.h"

void rove__buf_init(rove__buf *b)
{
    b->ptr = NULL;
    b->len = 0;
    b->size = 0;
    b->failed = 0;
}

void rove__buf_free(rove__buf *b)
{
    if (b->ptr != NULL) {
        /* Buffers carry tokens and passwords; do not leave them in freed memory. */
        volatile unsigned char *p = b->ptr;
        for (size_t i = 0; i < b->size; i++)
            p[i] = 0;
        free(b->ptr);
    }
    rove__buf_init(b);
}

void rove__buf_clear(rove__buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->ptr != NULL)
        b->ptr[0] = 0;
}

int rove__buf_reserve(rove__buf *b, size_t extra)
{
    if (b->failed)
        return ROVE_ENOMEM;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return ROVE_ENOMEM;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->size)
        return 0;
    size_t size = b->size ? b->size : 256;
    while (size < need)
        size = size > SIZE_MAX / 2 ? need : size * 2;
    unsigned char *p = realloc(b->ptr, size);
    if (p == NULL) {
        b->failed = 1;
        return ROVE_ENOMEM;
    }
    b->ptr = p;
    b->size = size;
    return 0;
}

int rove__buf_put(rove__buf *b, const void *p, size_t n)
{
    if (rove__buf_reserve(b, n) != 0)
        return ROVE_ENOMEM;
    if (n > 0)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = 0;
    return 0;
}

int rove__buf_puts(rove__buf *b, const char *s)
{
    return rove__buf_put(b, s, strlen(s));
}

int rove__buf_vprintf(rove__buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = 1;
        return ROVE_ENOMEM;
    }
    if (rove__buf_reserve(b, (size_t)n) != 0)
        return ROVE_ENOMEM;
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int rove__buf_printf(rove__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = rove__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int rove__buf_status(const rove__buf *b)
{
    return b->failed ? ROVE_ENOMEM : 0;
}

unsigned char *rove__buf_detach(rove__buf *b, size_t *out_len)
{
    unsigned char *p = b->ptr;
    if (out_len != NULL)
        *out_len = b->len;
    rove__buf_init(b);
    return p;
}

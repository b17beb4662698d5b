#ifndef ROVE_SHARED_BUF_H
#define ROVE_SHARED_BUF_H

/*
 * A growable byte buffer. Errors are sticky: once an append fails for lack of
 * memory, `failed` is set, later appends do nothing, and the caller checks
 * rove__buf_status() once at the end. `len` is content, `size` is capacity;
 * the content is always followed by a NUL byte so text can be read in place.
 */

#include <stdarg.h>
#include <stddef.h>

typedef struct rove__buf {
    unsigned char *ptr;
    size_t len;
    size_t size;
    int failed;
} rove__buf;

#define ROVE__BUF_INIT {NULL, 0, 0, 0}

void rove__buf_init(rove__buf *b);
/* Frees the memory after zeroing it (buffers may hold tokens or passwords). */
void rove__buf_free(rove__buf *b);
/* Empties the buffer, keeping its capacity. */
void rove__buf_clear(rove__buf *b);
/* Ensures room for `extra` more bytes (plus the trailing NUL); 0 or ROVE_ENOMEM. */
int rove__buf_reserve(rove__buf *b, size_t extra);
int rove__buf_put(rove__buf *b, const void *p, size_t n);
int rove__buf_puts(rove__buf *b, const char *s);
int rove__buf_printf(rove__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int rove__buf_vprintf(rove__buf *b, const char *fmt, va_list ap);
/* 0, or ROVE_ENOMEM when any earlier append failed. */
int rove__buf_status(const rove__buf *b);
/* Hands the memory to the caller (free() it); the buffer is left empty. */
unsigned char *rove__buf_detach(rove__buf *b, size_t *out_len);

#endif

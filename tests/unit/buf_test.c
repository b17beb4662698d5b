/* Tests of the growable buffer (shared/buf.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test.h"

void test_buf__init_is_empty(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT(b.ptr == NULL);
    ASSERT_EQ_UINT(b.len, 0);
    ASSERT_EQ_UINT(b.size, 0);
    ASSERT_OK(rove__buf_status(&b));
    rove__buf_init(&b);
    ASSERT(b.ptr == NULL);
    rove__buf_free(&b); /* freeing an empty buffer is a no-op */
    ASSERT(b.ptr == NULL);
}

void test_buf__put_grows_and_keeps_content(void)
{
    rove__buf b = ROVE__BUF_INIT;
    unsigned char expect[5000];
    for (size_t i = 0; i < sizeof(expect); i++) {
        expect[i] = (unsigned char)(i * 7 + 3);
        ASSERT_OK(rove__buf_put(&b, &expect[i], 1));
        ASSERT_EQ_UINT(b.len, i + 1);
        /* Capacity always covers the content plus its NUL terminator. */
        ASSERT(b.size >= b.len + 1);
        ASSERT_EQ_INT(b.ptr[b.len], 0);
    }
    ASSERT_EQ_MEM(b.ptr, b.len, expect, sizeof(expect));
    rove__buf_free(&b);
    ASSERT(b.ptr == NULL);
    ASSERT_EQ_UINT(b.len, 0);
    ASSERT_EQ_UINT(b.size, 0);
}

void test_buf__reserve_exact_size(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_reserve(&b, 10));
    size_t size = b.size;
    ASSERT(size >= 11);
    /* Filling to exactly size - 1 bytes (room for the NUL) must not reallocate. */
    unsigned char *before = b.ptr;
    size_t room = size - 1;
    unsigned char *fill = calloc(1, room);
    ASSERT(fill != NULL);
    memset(fill, 'x', room);
    ASSERT_OK(rove__buf_put(&b, fill, room));
    ASSERT(b.ptr == before);
    ASSERT_EQ_UINT(b.size, size);
    ASSERT_EQ_UINT(b.len, size - 1);
    ASSERT_EQ_INT(b.ptr[b.len], 0);
    /* One more byte does. */
    ASSERT_OK(rove__buf_put(&b, "y", 1));
    ASSERT(b.size > size);
    ASSERT_EQ_UINT(b.len, size);
    ASSERT_EQ_INT(b.ptr[size - 1], 'y');
    ASSERT_EQ_INT(b.ptr[size], 0);
    /* reserve(0) on a buffer with room changes nothing. */
    size = b.size;
    ASSERT_OK(rove__buf_reserve(&b, 0));
    ASSERT_EQ_UINT(b.size, size);
    free(fill);
    rove__buf_free(&b);
}

void test_buf__put_zero_bytes(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_put(&b, NULL, 0));
    ASSERT_EQ_UINT(b.len, 0);
    /* Even empty content is a valid C string. */
    ASSERT(b.ptr != NULL);
    ASSERT_EQ_STR((char *)b.ptr, "");
    rove__buf_free(&b);
}

void test_buf__puts(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&b, "hello"));
    ASSERT_OK(rove__buf_puts(&b, ""));
    ASSERT_OK(rove__buf_puts(&b, ", world"));
    ASSERT_EQ_STR((char *)b.ptr, "hello, world");
    ASSERT_EQ_UINT(b.len, 12);
    rove__buf_free(&b);
}

void test_buf__printf(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_printf(&b, "%d-%s-%lld", 42, "x", (long long)INT64_MIN));
    ASSERT_EQ_STR((char *)b.ptr, "42-x--9223372036854775808");
    ASSERT_OK(rove__buf_printf(&b, "%s", ""));
    ASSERT_EQ_UINT(b.len, strlen("42-x--9223372036854775808"));
    ASSERT_OK(rove__buf_printf(&b, "|%05u", 7u));
    ASSERT_EQ_STR((char *)b.ptr, "42-x--9223372036854775808|00007");
    rove__buf_free(&b);
}

void test_buf__printf_grows_past_initial_size(void)
{
    rove__buf b = ROVE__BUF_INIT;
    char big[3001];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ASSERT_OK(rove__buf_puts(&b, "<"));
    ASSERT_OK(rove__buf_printf(&b, "%s>", big));
    ASSERT_EQ_UINT(b.len, 3002);
    ASSERT_EQ_INT(b.ptr[0], '<');
    ASSERT_EQ_INT(b.ptr[3000], 'a');
    ASSERT_EQ_INT(b.ptr[3001], '>');
    ASSERT_EQ_INT(b.ptr[3002], 0);
    rove__buf_free(&b);
}

void test_buf__printf_exactly_fills_capacity(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_reserve(&b, 1));
    size_t size = b.size;
    unsigned char *before = b.ptr;
    /* Text of exactly size - 1 characters fits with its NUL: no reallocation. */
    ASSERT_OK(rove__buf_printf(&b, "%0*d", (int)(size - 1), 0));
    ASSERT(b.ptr == before);
    ASSERT_EQ_UINT(b.len, size - 1);
    ASSERT_EQ_INT(b.ptr[b.len], 0);
    ASSERT_EQ_UINT(strlen((char *)b.ptr), size - 1);
    rove__buf_free(&b);
}

void test_buf__sticky_failure(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&b, "abc"));
    /* An impossible size fails without touching the content ... */
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX), ROVE_ENOMEM);
    ASSERT_RC(rove__buf_status(&b), ROVE_ENOMEM);
    ASSERT_EQ_UINT(b.len, 3);
    ASSERT_EQ_STR((char *)b.ptr, "abc");
    /* ... and every later append is refused, even a small one. */
    ASSERT_RC(rove__buf_put(&b, "d", 1), ROVE_ENOMEM);
    ASSERT_RC(rove__buf_puts(&b, "e"), ROVE_ENOMEM);
    ASSERT_RC(rove__buf_printf(&b, "%d", 1), ROVE_ENOMEM);
    ASSERT_RC(rove__buf_reserve(&b, 0), ROVE_ENOMEM);
    ASSERT_EQ_UINT(b.len, 3);
    ASSERT_EQ_STR((char *)b.ptr, "abc");
    ASSERT_RC(rove__buf_status(&b), ROVE_ENOMEM);
    rove__buf_free(&b);
    ASSERT_OK(rove__buf_status(&b));
}

void test_buf__overflowing_reserve_fails(void)
{
    /* len + extra + 1 would wrap around: refused, not a tiny allocation. */
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&b, "0123456789"));
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX - 10), ROVE_ENOMEM);
    rove__buf_clear(&b);
    /* Boundary: extra == SIZE_MAX - len - 1 passes the overflow check but no
     * allocator can satisfy it. */
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX - 1), ROVE_ENOMEM);
    ASSERT_RC(rove__buf_status(&b), ROVE_ENOMEM);
    rove__buf_free(&b);
}

void test_buf__clear_keeps_capacity_and_resets_failure(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&b, "some text"));
    size_t size = b.size;
    unsigned char *ptr = b.ptr;
    rove__buf_clear(&b);
    ASSERT_EQ_UINT(b.len, 0);
    ASSERT_EQ_UINT(b.size, size);
    ASSERT(b.ptr == ptr);
    ASSERT_EQ_STR((char *)b.ptr, "");
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX), ROVE_ENOMEM);
    rove__buf_clear(&b);
    ASSERT_OK(rove__buf_status(&b));
    ASSERT_OK(rove__buf_puts(&b, "again"));
    ASSERT_EQ_STR((char *)b.ptr, "again");
    rove__buf_free(&b);

    /* Clearing a buffer that never allocated is fine. */
    rove__buf e = ROVE__BUF_INIT;
    rove__buf_clear(&e);
    ASSERT(e.ptr == NULL);
    ASSERT_EQ_UINT(e.len, 0);
}

void test_buf__detach(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&b, "payload"));
    size_t len = 0;
    unsigned char *p = rove__buf_detach(&b, &len);
    ASSERT(p != NULL);
    ASSERT_EQ_UINT(len, 7);
    ASSERT_EQ_STR((char *)p, "payload");
    /* The buffer is left empty and reusable; the memory is the caller's. */
    ASSERT(b.ptr == NULL);
    ASSERT_EQ_UINT(b.len, 0);
    ASSERT_EQ_UINT(b.size, 0);
    ASSERT_OK(rove__buf_puts(&b, "next"));
    ASSERT(b.ptr != p);
    free(p);
    rove__buf_free(&b);
}

void test_buf__detach_empty_and_null_len(void)
{
    rove__buf b = ROVE__BUF_INIT;
    size_t len = 99;
    ASSERT(rove__buf_detach(&b, &len) == NULL);
    ASSERT_EQ_UINT(len, 0);
    ASSERT_OK(rove__buf_puts(&b, "x"));
    unsigned char *p = rove__buf_detach(&b, NULL);
    ASSERT_EQ_STR((char *)p, "x");
    free(p);
}

void test_buf__detach_after_failure_clears_failure(void)
{
    rove__buf b = ROVE__BUF_INIT;
    ASSERT_OK(rove__buf_puts(&b, "x"));
    ASSERT_RC(rove__buf_reserve(&b, SIZE_MAX), ROVE_ENOMEM);
    size_t len;
    unsigned char *p = rove__buf_detach(&b, &len);
    ASSERT_EQ_UINT(len, 1);
    free(p);
    ASSERT_OK(rove__buf_status(&b));
}

void test_buf__binary_content(void)
{
    rove__buf b = ROVE__BUF_INIT;
    const unsigned char bin[] = {0, 1, 0, 255, 0};
    ASSERT_OK(rove__buf_put(&b, bin, sizeof(bin)));
    ASSERT_OK(rove__buf_put(&b, bin, sizeof(bin)));
    ASSERT_EQ_UINT(b.len, 10);
    ASSERT_EQ_MEM(b.ptr, 5, bin, 5);
    ASSERT_EQ_MEM(b.ptr + 5, 5, bin, 5);
    rove__buf_free(&b);
}

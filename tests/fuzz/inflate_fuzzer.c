/*
 * Fuzz target: the body path of roved and librove, rove__inflate with a small
 * cap and then rove__sync_req_parse on what came out.
 *
 * The first input byte picks the mode, the rest is the payload:
 *   even: the payload is a (hostile) zlib stream, inflated as received;
 *   odd:  the payload is plain bytes, deflated here (level from the mode
 *         byte) so that mutations reach the decoder through real streams,
 *         and the cap is checked at exactly the inflated size and one below.
 * zlib itself is not instrumented, so the odd mode is what gives libFuzzer
 * coverage feedback past the decompressor.
 */
#include <string.h>

#include "compress.h"
#include "fuzz.h"
#include "proto.h"
#include "rove/errors.h"

#define CAP (64u * 1024u)

static void parse(const unsigned char *p, size_t len)
{
    rove__sync_req req;
    rove__errinfo err;
    if (rove__sync_req_parse(&req, p, len, &err) == 0)
        rove__sync_req_free(&req);
    else
        FUZZ_CHECK(req.changes == NULL && err.code < 0);
}

static void hostile_stream(const uint8_t *data, size_t size)
{
    rove__buf out = ROVE__BUF_INIT;
    /* Something already in the buffer must survive a failed inflate. */
    FUZZ_CHECK(rove__buf_put(&out, "prefix", 6) == 0);
    int rc = rove__inflate(&out, data, size, CAP);
    if (rc != 0) {
        FUZZ_CHECK(rc == ROVE_EPROTO || rc == ROVE_ETOOBIG || rc == ROVE_ENOMEM);
        FUZZ_CHECK(out.len == 6 && memcmp(out.ptr, "prefix", 7) == 0);
        rove__buf_free(&out);
        return;
    }
    FUZZ_CHECK(out.len >= 6 && out.len - 6 <= CAP);
    FUZZ_CHECK(out.ptr[out.len] == 0);
    const unsigned char *plain = out.ptr + 6;
    size_t plain_len = out.len - 6;
    parse(plain, plain_len);

    /* What inflated must deflate and inflate back to the same bytes. */
    rove__buf z = ROVE__BUF_INIT, back = ROVE__BUF_INIT;
    FUZZ_CHECK(rove__deflate(&z, plain, plain_len, 1) == 0);
    FUZZ_CHECK(rove__inflate(&back, z.ptr, z.len, plain_len) == 0);
    FUZZ_CHECK(back.len == plain_len &&
               (plain_len == 0 || memcmp(back.ptr, plain, plain_len) == 0));
    rove__buf_free(&z);
    rove__buf_free(&back);
    rove__buf_free(&out);
}

static void plain_bytes(const uint8_t *data, size_t size, int level)
{
    rove__buf z = ROVE__BUF_INIT, out = ROVE__BUF_INIT;
    FUZZ_CHECK(rove__deflate(&z, data, size, level) == 0);
    /* Exactly the inflated size fits; one byte less is too big. */
    FUZZ_CHECK(rove__inflate(&out, z.ptr, z.len, size) == 0);
    FUZZ_CHECK(out.len == size && (size == 0 || memcmp(out.ptr, data, size) == 0));
    if (size > 0) {
        rove__buf_clear(&out);
        FUZZ_CHECK(rove__inflate(&out, z.ptr, z.len, size - 1) == ROVE_ETOOBIG);
        FUZZ_CHECK(out.len == 0);
    }
    /* A stream cut short is never accepted, whatever the cap. */
    size_t cut = size % z.len;
    rove__buf_clear(&out);
    FUZZ_CHECK(rove__inflate(&out, z.ptr, cut, CAP) != 0);
    FUZZ_CHECK(out.len == 0);
    parse(data, size);
    rove__buf_free(&z);
    rove__buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        plain_bytes(data + 1, size - 1, (data[0] >> 1) % 10);
    else
        hostile_stream(data + 1, size - 1);
    return 0;
}

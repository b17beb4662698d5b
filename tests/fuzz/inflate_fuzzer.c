/*
 * Fuzz target: the server's body path, rove__inflate with a small cap and
 * then rove__sync_req_parse on what came out. Whatever inflates must respect
 * the cap and deflate back to the same bytes.
 */
#include <string.h>

#include "compress.h"
#include "fuzz.h"
#include "proto.h"
#include "rove/errors.h"

#define CAP (64u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rove__buf out = ROVE__BUF_INIT;
    /* Something already in the buffer must survive a failed inflate. */
    FUZZ_CHECK(rove__buf_put(&out, "prefix", 6) == 0);
    int rc = rove__inflate(&out, data, size, CAP);
    if (rc != 0) {
        FUZZ_CHECK(rc == ROVE_EPROTO || rc == ROVE_ETOOBIG || rc == ROVE_ENOMEM);
        FUZZ_CHECK(out.len == 6 && memcmp(out.ptr, "prefix", 7) == 0);
        rove__buf_free(&out);
        return 0;
    }
    FUZZ_CHECK(out.len >= 6 && out.len - 6 <= CAP);
    FUZZ_CHECK(out.ptr[out.len] == 0);
    const unsigned char *plain = out.ptr + 6;
    size_t plain_len = out.len - 6;

    rove__sync_req req;
    rove__errinfo err;
    if (rove__sync_req_parse(&req, plain, plain_len, &err) == 0)
        rove__sync_req_free(&req);
    else
        FUZZ_CHECK(req.changes == NULL);

    rove__buf z = ROVE__BUF_INIT, back = ROVE__BUF_INIT;
    FUZZ_CHECK(rove__deflate(&z, plain, plain_len, 1) == 0);
    FUZZ_CHECK(rove__inflate(&back, z.ptr, z.len, plain_len) == 0);
    FUZZ_CHECK(back.len == plain_len &&
               (plain_len == 0 || memcmp(back.ptr, plain, plain_len) == 0));
    rove__buf_free(&z);
    rove__buf_free(&back);
    rove__buf_free(&out);
    return 0;
}

/* zlib framing of sync bodies, with a hard cap on inflated size. */
#include <limits.h>
#include <zlib.h>

#include "compress.h"
#include "rove/errors.h"

int rove__deflate(rove__buf *out, const void *in, size_t len, int level)
{
    if (len > UINT_MAX)
        return ROVE_ETOOBIG;
    z_stream z = {0};
    if (deflateInit(&z, level) != Z_OK)
        return ROVE_ENOMEM;
    uLong bound = deflateBound(&z, (uLong)len);
    if (rove__buf_reserve(out, bound) != 0) {
        deflateEnd(&z);
        return ROVE_ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out->ptr + out->len;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    if (rc != Z_STREAM_END) {
        deflateEnd(&z);
        return ROVE_EGENERIC;
    }
    out->len += z.total_out;
    out->ptr[out->len] = 0;
    deflateEnd(&z);
    return 0;
}

int rove__inflate(rove__buf *out, const void *in, size_t len, size_t max_out)
{
    if (len > UINT_MAX)
        return ROVE_ETOOBIG;
    z_stream z = {0};
    if (inflateInit(&z) != Z_OK)
        return ROVE_ENOMEM;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    size_t start = out->len;
    int rc = Z_OK, result = 0;
    while (rc != Z_STREAM_END) {
        size_t produced = out->len - start;
        if (produced >= max_out) {
            /* Output is full; only acceptable if the stream ends right here
             * (the rest of the input may still hold the Adler-32 trailer). */
            for (;;) {
                unsigned char probe;
                z.next_out = &probe;
                z.avail_out = 1;
                rc = inflate(&z, Z_NO_FLUSH);
                if (z.avail_out == 0) {
                    result = ROVE_ETOOBIG;
                    goto done;
                }
                if (rc == Z_STREAM_END)
                    break;
                if (rc == Z_OK && z.avail_in != 0)
                    continue; /* consumed trailer bytes, no output yet */
                result = (rc == Z_OK || rc == Z_BUF_ERROR) ? ROVE_EPROTO /* truncated */
                         : rc == Z_MEM_ERROR               ? ROVE_ENOMEM
                                                           : ROVE_EPROTO;
                goto done;
            }
            break;
        }
        size_t chunk = max_out - produced;
        if (chunk > 256u * 1024u)
            chunk = 256u * 1024u;
        if (rove__buf_reserve(out, chunk) != 0) {
            result = ROVE_ENOMEM;
            goto done;
        }
        z.next_out = out->ptr + out->len;
        z.avail_out = (uInt)chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += chunk - z.avail_out;
        out->ptr[out->len] = 0;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            result = ROVE_EPROTO; /* truncated */
            goto done;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            result = rc == Z_MEM_ERROR ? ROVE_ENOMEM : ROVE_EPROTO;
            goto done;
        }
    }
    if (z.avail_in != 0)
        result = ROVE_EPROTO; /* trailing bytes after the stream */
done:
    if (result != 0) {
        out->len = start;
        if (out->ptr != NULL)
            out->ptr[start] = 0;
    }
    inflateEnd(&z);
    return result;
}

/* Tests of the error table (shared/error.c, rove/errors.h). */
#include <ctype.h>
#include <string.h>

#include "rove/errors.h"
#include "test.h"

struct row {
    int code;
    const char *wire;
    int http;
    const char *msg;
};

/* The table as the header defines it, expanded independently of error.c. */
static const struct row rows[] = {
#define ROW(name, num, wire, http, msg) {ROVE_##name, (wire), (http), (msg)},
    ROVE_ERROR_TABLE(ROW)
#undef ROW
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

void test_errors__codes_are_contiguous(void)
{
    ASSERT_EQ_INT(rows[0].code, ROVE_OK);
    ASSERT_EQ_INT(ROVE_OK, 0);
    for (size_t i = 0; i < NROWS; i++)
        ASSERT_EQ_INT(rows[i].code, -(int)i);
    ASSERT_EQ_INT(ROVE__ERR_LAST, rows[NROWS - 1].code - 1);
}

void test_errors__wire_names_are_unique_and_roundtrip(void)
{
    for (size_t i = 0; i < NROWS; i++) {
        const char *name = rove_error_name(rows[i].code);
        ASSERT_EQ_STR(name, rows[i].wire);
        ASSERT_EQ_INT(rove_error_from_name(name), rows[i].code);
        for (size_t k = i + 1; k < NROWS; k++)
            if (strcmp(rows[i].wire, rows[k].wire) == 0)
                ROVE_TEST_FAIL_("codes %d and %d share wire name %s", rows[i].code,
                                rows[k].code, rows[i].wire);
        /* Wire names travel in HTTP headers: lower-case letters and '_'. */
        ASSERT(name[0] != 0);
        for (const char *p = name; *p; p++)
            ASSERT(islower((unsigned char)*p) || *p == '_');
    }
}

void test_errors__messages(void)
{
    for (size_t i = 0; i < NROWS; i++) {
        const char *msg = rove_strerror(rows[i].code);
        ASSERT_EQ_STR(msg, rows[i].msg);
        ASSERT(msg[0] != 0);
    }
}

void test_errors__http_statuses(void)
{
    for (size_t i = 0; i < NROWS; i++) {
        int s = rove_error_http_status(rows[i].code);
        ASSERT_EQ_INT(s, rows[i].http);
        ASSERT(s == 0 || (s >= 200 && s <= 599));
        /* Only success maps to 2xx. */
        ASSERT((s >= 200 && s < 300) == (rows[i].code == ROVE_OK));
    }
    ASSERT_EQ_INT(rove_error_http_status(ROVE_EPROTO), 400);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_ETOOBIG), 413);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_EAUTH), 401);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_ESCOPE), 403);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_ECONFLICT), 409);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_ERATELIMIT), 429);
    /* Local-only codes are never sent by the server. */
    ASSERT_EQ_INT(rove_error_http_status(ROVE_ENET), 0);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_ETLS), 0);
    ASSERT_EQ_INT(rove_error_http_status(ROVE_EUSER), 0);
}

void test_errors__unknown_codes(void)
{
    const int unknown[] = {1, 100, ROVE__ERR_LAST, -1000, -2147483647 - 1, 2147483647};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        ASSERT_EQ_STR(rove_strerror(unknown[i]), "unknown error");
        ASSERT_EQ_STR(rove_error_name(unknown[i]), "internal");
        ASSERT_EQ_INT(rove_error_http_status(unknown[i]), 500);
    }
}

void test_errors__unknown_names(void)
{
    ASSERT_EQ_INT(rove_error_from_name("no_such_error"), ROVE_ESERVER);
    ASSERT_EQ_INT(rove_error_from_name(""), ROVE_ESERVER);
    ASSERT_EQ_INT(rove_error_from_name(NULL), ROVE_ESERVER);
    ASSERT_EQ_INT(rove_error_from_name("MALFORMED"), ROVE_ESERVER);
    ASSERT_EQ_INT(rove_error_from_name("malformed "), ROVE_ESERVER);
    ASSERT_EQ_INT(rove_error_from_name("malforme"), ROVE_ESERVER);
    ASSERT_EQ_INT(rove_error_from_name("malformed"), ROVE_EPROTO);
}

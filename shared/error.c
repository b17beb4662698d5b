/* The error table: messages, wire names and HTTP statuses for every ROVE_E*. */
#include <string.h>

#include "rove/errors.h"

struct err_entry {
    int code;
    const char *wire;
    int http;
    const char *msg;
};

static const struct err_entry table[] = {
#define ROVE__ERR_ROW(name, num, wire, http, msg) {(num), (wire), (http), (msg)},
    ROVE_ERROR_TABLE(ROVE__ERR_ROW)
#undef ROVE__ERR_ROW
};

static const struct err_entry *find(int code)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

const char *rove_strerror(int code)
{
    const struct err_entry *e = find(code);
    return e ? e->msg : "unknown error";
}

const char *rove_error_name(int code)
{
    const struct err_entry *e = find(code);
    return e ? e->wire : "internal";
}

int rove_error_from_name(const char *name)
{
    if (name == NULL)
        return ROVE_ESERVER;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].wire, name) == 0)
            return table[i].code;
    return ROVE_ESERVER;
}

int rove_error_http_status(int code)
{
    const struct err_entry *e = find(code);
    return e ? e->http : 500;
}

/* Schema tables and column values (see value.h). */
#include "value.h"

#include <stdlib.h>
#include <string.h>

#include "id.h"

const rove__table *roved_table(const char *name)
{
    return rove__schema_table(name, strlen(name));
}

int roved_col(const rove__table *t, const char *name)
{
    return rove__schema_col(t, name, strlen(name));
}

rove__value roved_text(const char *s)
{
    rove__value v = {ROVE__T_TEXT, 0, 0, s, s ? strlen(s) : 0};
    if (s == NULL || s[0] == '\0')
        v.type = ROVE__T_NULL;
    return v;
}

rove__value roved_int(int64_t i)
{
    rove__value v = {ROVE__T_INT, i, 0, NULL, 0};
    return v;
}

const char *roved_text_copy(const rove__value *v, char *out, size_t size)
{
    out[0] = '\0';
    if (v != NULL && v->type == ROVE__T_TEXT && v->s != NULL) {
        size_t n = v->len < size - 1 ? v->len : size - 1;
        memcpy(out, v->s, n);
        out[n] = '\0';
    }
    return out;
}

json_t *roved_value_json(const rove__value *v)
{
    switch (v->type) {
    case ROVE__T_INT:
        return json_integer(v->i);
    case ROVE__T_REAL:
        return json_real(v->d);
    case ROVE__T_TEXT:
        return json_stringn(v->s ? v->s : "", v->len);
    default:
        return json_null();
    }
}

char *roved_value_dump(const rove__value *v)
{
    json_t *j = roved_value_json(v);
    char *s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

int roved_value_from_json(const rove__column *cd, json_t *j, rove__value *v)
{
    memset(v, 0, sizeof(*v));
    if (json_is_null(j)) {
        v->type = ROVE__T_NULL;
        return 1;
    }
    if (cd->type == ROVE__T_INT && json_is_integer(j)) {
        v->type = ROVE__T_INT;
        v->i = json_integer_value(j);
        return 1;
    }
    if (cd->type == ROVE__T_REAL && json_is_number(j)) {
        v->type = ROVE__T_REAL;
        v->d = json_number_value(j);
        return 1;
    }
    if (cd->type == ROVE__T_TEXT && json_is_string(j)) {
        v->type = ROVE__T_TEXT;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        if (v->len > ROVE__MAX_TEXT)
            return 0;
        if ((cd->flags & ROVE__COL_ENUM) && !rove__schema_enum_ok(cd, v->s, v->len))
            return 0;
        return !(cd->flags & ROVE__COL_REF) || rove__id_valid(v->s, v->len);
    }
    return 0;
}

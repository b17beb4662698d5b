#ifndef ROVE_SERVER_VALUE_H
#define ROVE_SERVER_VALUE_H

/*
 * Small helpers for schema tables and column values, shared by the sync
 * engine and the server commands.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"
#include "schema.h"

/* The table called name (it must exist: a programming error otherwise). */
const rove__table *roved_table(const char *name);
/* Index of column name in t, or -1. */
int roved_col(const rove__table *t, const char *name);

/* A text value (null for NULL or ""); it borrows s. */
rove__value roved_text(const char *s);
rove__value roved_int(int64_t i);
/* Copies a text value into out (empty when not text); returns out. */
const char *roved_text_copy(const rove__value *v, char *out, size_t size);

/* The value as JSON (new reference), and as compact JSON text (malloc'd). */
json_t *roved_value_json(const rove__value *v);
char *roved_value_dump(const rove__value *v);
/* A JSON value as a value of column cd (type, enum, reference and size
 * checked); 0 when it is not one. Text borrows from j. */
int roved_value_from_json(const rove__column *cd, json_t *j, rove__value *v);

#endif

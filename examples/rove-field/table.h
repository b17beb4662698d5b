#ifndef ROVE_FIELD_TABLE_H
#define ROVE_FIELD_TABLE_H

#include <stdio.h>

#include "rove/rove.h"

/* Prints every row of q as an aligned text table, then "(n rows)". Columns
 * whose names end in _at, _start, _end or _due are shown as local times.
 * Returns the number of rows, or a negative ROVE_E* code. */
int print_rows(FILE *out, rove_rows *q, const char *empty_message);

/* Formats epoch milliseconds as "YYYY-MM-DD HH:MM" local time. */
void format_time(char *dst, size_t size, long long ms);

#endif

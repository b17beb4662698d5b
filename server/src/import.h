#ifndef ROVE_SERVER_IMPORT_H
#define ROVE_SERVER_IMPORT_H

/*
 * CSV import of users, territories, accounts and contacts
 * (`rovectl import KIND FILE`, POST /v1/admin/import/<kind>).
 *
 * The file is parsed with libcsv: a header row naming the columns (any order;
 * unknown or duplicate names refuse the file), then one record per row. Every
 * row is validated before anything is written; a single rejected row rejects
 * the import and nothing is stored. The report lists every rejected row with
 * its line, column and reason. Imported synced rows get versions (devices
 * pull them) and audit events with the importing user.
 */

#include <stddef.h>

#include <jansson.h>

#include "roved.h"

#define ROVED_IMPORT_MAX_BYTES (16u * 1024u * 1024u)
#define ROVED_IMPORT_MAX_ROWS 100000
#define ROVED_IMPORT_MAX_FIELD 4096

/*
 * Imports csv[0..len) of kind ("users", "territories", "accounts",
 * "contacts"). dry_run: validate only. Returns 0 and *report (caller frees)
 * on a completed run, with "accepted", "rejected" (an array of {line, column,
 * reason}) and "imported"; *ok = 1 when nothing was rejected. Returns a
 * ROVE_E* code with msg filled when the file itself cannot be read (bad kind,
 * header, encoding, limits) or the store fails.
 */
int roved_import_run(roved_server *srv, const roved_user *actor, const char *kind,
                     const char *csv, size_t len, int dry_run, json_t **report, int *ok,
                     char *msg, size_t msgsize);

#endif

/*
 * Admin API endpoints of the org area (see admin.h):
 *
 *   POST import/<kind>[?dry_run=1]   text/csv body: users, territories,
 *                                    accounts or contacts (docs/operations.md)
 *
 * The answer is the import report. When rows are rejected the status is 400
 * (invalid_value) and the body carries the report too, with every rejected
 * row's line, column and reason; nothing was imported.
 */
#include "admin.h"

#include <string.h>

#include <civetweb.h>

#include "http.h"
#include "import.h"
#include "log.h"
#include "rove/errors.h"

int roved_admin_import(roved_server *srv, struct mg_connection *c, const roved_user *actor,
                       const char *const *arg, int variant)
{
    (void)variant;
    const char *kind = arg[0];
    if (!roved_http_content_type_is(c, "text/csv"))
        return roved_admin_error(c, ROVE_EUNSUPPORTED, "Content-Type must be text/csv");
    const struct mg_request_info *ri = mg_get_request_info(c);
    int dry_run = ri->query_string != NULL && strstr(ri->query_string, "dry_run=1") != NULL;
    rove__buf body = ROVE__BUF_INIT;
    int rc = roved_http_read_body(c, &body, ROVED_IMPORT_MAX_BYTES);
    if (rc != 0) {
        rove__buf_free(&body);
        return roved_admin_error(c, rc == ROVE_ETOOBIG ? rc : ROVE_EPROTO,
                                 rc == ROVE_ETOOBIG ? "the file is larger than 16 MiB"
                                                    : "could not read the body");
    }
    json_t *report = NULL;
    int ok = 0;
    char msg[300];
    rc = roved_import_run(srv, actor, kind, body.ptr ? (const char *)body.ptr : "", body.len,
                          dry_run, &report, &ok, msg, sizeof(msg));
    rove__buf_free(&body);
    if (rc != 0)
        return roved_admin_error(c, rc, msg);
    roved_log_info("admin_import", "actor=%s kind=%s dry_run=%d ok=%d imported=%lld", actor->id,
                   kind, dry_run, ok,
                   (long long)json_integer_value(json_object_get(report, "imported")));
    if (ok)
        return roved_admin_send_json(c, 200, report);
    json_object_set_new(report, "error",
                        json_pack("{s:s,s:s}", "code", rove_error_name(ROVE_EBADVALUE),
                                  "message", "rows were rejected; nothing was imported"));
    return roved_admin_send_json(c, 400, report);
}

/* Admin API endpoints of the org area (see admin.h). */
#include "admin.h"

int roved_admin_org_route(roved_server *srv, struct mg_connection *c, const char *method,
                          const char *path, const roved_user *actor)
{
    (void)srv;
    (void)c;
    (void)method;
    (void)path;
    (void)actor;
    return 0;
}

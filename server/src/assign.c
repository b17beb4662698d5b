/* Choosing a technician for a service task (see assign.h). */
#include "assign.h"

#include <string.h>

#include "domain.h"
#include "util.h"

typedef struct pick {
    const char *required;
    char id[27];
    char username[64];
    int64_t load;
    int found;
} pick;

static int consider(const roved_tech *t, void *payload)
{
    pick *p = payload;
    if (!roved_domain_skills_match(t->skills, p->required))
        return 0;
    /* Technicians come in user-name order: on equal load the first stays. */
    if (!p->found || t->open_tasks < p->load) {
        roved_util_copy(p->id, sizeof(p->id), t->id);
        roved_util_copy(p->username, sizeof(p->username), t->username);
        p->load = t->open_tasks;
        p->found = 1;
    }
    return 0;
}

int roved_assign_pick(roved_db *db, const char *required_skills, int64_t at, char id_out[27],
                      int *found)
{
    pick p;
    memset(&p, 0, sizeof(p));
    p.required = required_skills && required_skills[0] ? required_skills : NULL;
    int rc = roved_store_technicians(db, at, consider, &p);
    *found = rc == 0 && p.found;
    if (*found)
        memcpy(id_out, p.id, 27);
    return rc;
}

typedef struct lookup {
    const char *id;
    int found;
} lookup;

static int find(const roved_tech *t, void *payload)
{
    lookup *l = payload;
    if (strcmp(t->id, l->id) == 0)
        l->found = 1;
    return 0;
}

int roved_assign_is_available(roved_db *db, const char *user_id, int64_t at)
{
    lookup l = {user_id, 0};
    if (roved_store_technicians(db, at, find, &l) != 0)
        return -1;
    return l.found;
}

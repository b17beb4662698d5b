#ifndef ROVE_SERVER_ASSIGN_H
#define ROVE_SERVER_ASSIGN_H

/*
 * Who gets a service task (docs/data-model.md): an active technician who has
 * every required skill at its level or higher and is not absent at that
 * time; among them the one with the fewest open tasks (then by user name).
 * When nobody fits, the task waits in the dispatcher queue: never assigned to
 * nobody silently.
 */

#include <stdint.h>

#include "store.h"

/* *found = 1 and id_out set to the chosen technician, or *found = 0. */
int roved_assign_pick(roved_db *db, const char *required_skills, int64_t at, char id_out[27],
                      int *found);

/* 1 when user_id is an active technician not absent at `at`, 0 when not,
 * -1 on a storage error. */
int roved_assign_is_available(roved_db *db, const char *user_id, int64_t at);

#endif

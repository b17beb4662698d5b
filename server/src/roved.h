#ifndef ROVE_SERVER_ROVED_H
#define ROVE_SERVER_ROVED_H

/*
 * The server context shared by every request handler. Created once in main.c
 * before the HTTP workers start and freed after they stop; the fields below
 * are read-only while serving, except those guarded by their own lock.
 */

#include <pthread.h>

#include "config.h"
#include "domain.h"
#include "hlc.h"
#include "store.h"

typedef struct roved_server {
    const roved_config *cfg;
    roved_policy policy; /* domain rules' parameters, from cfg */
    roved_store *store;
    pthread_mutex_t hlc_lock; /* guards hlc */
    rove__hlc hlc;
    struct roved_lease_key *lease_key; /* signs delegation leases (lease.h) */
} roved_server;

#endif

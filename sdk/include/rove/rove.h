#ifndef ROVE_ROVE_H
#define ROVE_ROVE_H

/*
 * librove umbrella header: include this one. Each header below documents its
 * own thread model; in short, a rove_client and everything it hands out are
 * used from one thread at a time.
 */

#include "rove/common.h"
#include "rove/version.h"
#include "rove/errors.h"
#include "rove/client.h"
#include "rove/records.h"
#include "rove/domain.h"

#endif

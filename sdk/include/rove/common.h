#ifndef ROVE_COMMON_H
#define ROVE_COMMON_H

/*
 * Common definitions for the librove public API: export macro, fixed-width
 * integer types and the version header. Compiles as C89 and C++.
 *
 * Thread model: nothing in this header has state.
 */

#include <stddef.h>
#include <stdint.h>

#include "rove/version.h"

#if defined(_WIN32) && defined(ROVE_BUILDING_SHARED)
#define ROVE_EXTERN(type) __declspec(dllexport) type
#elif defined(__GNUC__) && defined(ROVE_BUILDING)
#define ROVE_EXTERN(type) __attribute__((visibility("default"))) type
#else
#define ROVE_EXTERN(type) type
#endif

#ifdef __cplusplus
#define ROVE_BEGIN_DECLS extern "C" {
#define ROVE_END_DECLS }
#else
#define ROVE_BEGIN_DECLS
#define ROVE_END_DECLS
#endif

/* Size of a buffer that holds a record id (26-character ULID) and its NUL. */
#define ROVE_ID_SIZE 27

#endif

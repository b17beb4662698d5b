#ifndef ROVE_TESTS_TESTLIB_FAULTALLOC_H
#define ROVE_TESTS_TESTLIB_FAULTALLOC_H

/*
 * A test allocator that fails the Nth allocation (libgit2/SQLite style fault
 * injection). It works by link-time wrapping: a suite built with
 * rove_add_test_suite(... FAULTALLOC) links with -Wl,--wrap=malloc,calloc,
 * realloc, so every call from rove_shared (a static library) and from the
 * test itself goes through the counters below. Allocations made inside
 * shared libraries (zlib, libcbor, SQLite) are not counted.
 */

#include <stddef.h>

/* Fail the nth allocation from now on (1 = the next one), and every later
 * one too when sticky is set; 0 turns injection off. Resets the counters. */
void rove_fault_arm(unsigned long nth, int sticky);
/* Turns injection off; returns how many allocations were attempted and
 * (through *failed) how many were failed since rove_fault_arm. */
unsigned long rove_fault_disarm(unsigned long *failed);

#endif

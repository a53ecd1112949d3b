/*
 * coordinator.h - the redis coordinator's runs, kept in the database
 * (src/store/coordinator.c), so that a coordinator that starts again
 * adopts the answers its predecessor's run was owed, and no others.
 */
#ifndef SQUIRREL_STORE_COORDINATOR_H
#define SQUIRREL_STORE_COORDINATOR_H

#include <stddef.h>

#include "squirrel/store/store.h"

/*
 * The redis coordinator's run for a stream prefix: records run (text) as
 * the latest and puts the one recorded before it in previous. Returns 1,
 * 0 when none was recorded (previous is then ""), or -1 (logged).
 */
int store_coordinator_run(struct store *s, const char *prefix, const char *run, char *previous,
    size_t len);

#endif

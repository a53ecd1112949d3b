/*
 * maintenance.h - the maintenance windows as stored (src/store/maintenance.c):
 * squirrelctl's add, list and remove, and the daemon's view of them, read
 * again only when maintenance_version moves. The arithmetic of a window
 * (whom it covers, when it is in force) is core/maintenance.h's.
 */
#ifndef SQUIRREL_STORE_MAINTENANCE_H
#define SQUIRREL_STORE_MAINTENANCE_H

#include <stdint.h>

#include "squirrel/core/maintenance.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"

/*
 * Every window, by id (rows a person made inconsistent by hand are left
 * out, with a log line naming them). 0 or -1; the list is the caller's.
 */
int store_windows(struct store *s, struct sq_window_list *out);

/*
 * Adds w (its id ignored); *id gets the new one. A window for a site that
 * does not exist is refused. 0, STORE_NOT_FOUND (no such site), or -1.
 */
int store_window_add(struct store *s, const struct sq_window *w, int64_t *id);

/* How many sites owner has (the address as stored, letters in any case): 0 or more, or -1. */
int64_t store_owner_sites(struct store *s, const char *owner);

/* Removes window id: 0, STORE_NOT_FOUND, or -1. */
int store_window_remove(struct store *s, int64_t id);

/*
 * For the check path, inside its transaction: reads the windows again
 * when their change counter moved since the last call (one small read
 * otherwise). 0 or -1 (logged).
 */
int store_windows_refresh(struct store *s);

/*
 * The window in force at t over the site (id, owner) among those the last
 * refresh read: its id, or 0.
 */
int64_t store_window_at(struct store *s, int64_t site_id, const char *owner, int64_t t);

#endif

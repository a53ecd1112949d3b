/*
 * sites.h - which rows of the sites table can be checked at all.
 */
#ifndef SQUIRREL_SITES_H
#define SQUIRREL_SITES_H

#include <stddef.h>

#include "squirrel/store.h"

/*
 * Removes from l the rows that cannot be checked (a url without a host or
 * with a space, an owner address that is not one plain address), each with
 * one log line naming the row. Returns how many were removed.
 */
size_t sites_filter(struct sq_site_list *l);

#endif

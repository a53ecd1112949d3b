/*
 * sites.h - which rows of the sites table can be checked at all.
 */
#ifndef SQUIRREL_SITES_H
#define SQUIRREL_SITES_H

#include <stdbool.h>
#include <stddef.h>

#include "squirrel/store/sites.h"

/* Room for any reason sites_skip_reason() gives. */
#define SITES_REASON_MAX 200

/*
 * Whether the daemon skips the row s, a url without a host or with a
 * space, an owner address that is not one plain address, a timeout_ms
 * over SQ_TIMEOUT_MAX_MS: true with the
 * reason in why, worded as the daemon's log line words it after
 * "skipped: " ("bad url: url contains a space at byte 11", "bad
 * owner_email: ..."). The one rule: sites_filter() and squirrelctl use it.
 */
bool sites_skip_reason(const struct sq_site *s, char *why, size_t whylen);

/*
 * Removes from l the rows sites_skip_reason() refuses, each with one log
 * line "site ID: skipped: REASON". Returns how many were removed.
 */
size_t sites_filter(struct sq_site_list *l);

#endif

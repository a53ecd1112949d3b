/*
 * publish.h - the status pages as files (src/report/publish.c): a page
 * with its JSON beside it, and everything the daemon publishes every
 * minute.
 */
#ifndef SQUIRREL_PUBLISH_H
#define SQUIRREL_PUBLISH_H

#include <stdint.h>

#include "squirrel/core/config.h"
#include "squirrel/report/page.h"
#include "squirrel/store/store.h"

/*
 * Writes the page to path and its JSON beside it (the name with .json for
 * .html), each atomically (a temporary file in the same directory, synced,
 * then renamed), readable by all (0644): a web server serving them never
 * sees half of one. 0 or -1 (logged; the old files stay).
 */
int statuspage_write(struct store *s, const char *path, int64_t now, const struct sq_page_opts *o);

/* How often the daemon writes its pages (s). */
#define STATUSPAGE_PERIOD_S 60

/*
 * Everything the daemon publishes, as cfg says: the full page at
 * [squirreld] status_page, the public page at [status_page] public_page,
 * one page per owner (owner_pages) and the badges (badges_dir), each with
 * its JSON beside it. ro reads the figures; rw makes an owner's page name
 * the first time (store_owner_token). 0, or -1 when any failed (logged;
 * the others are still written).
 */
int statuspage_publish(struct store *ro, struct store *rw, const struct sq_config *cfg,
    int64_t now);

#endif

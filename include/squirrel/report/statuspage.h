/*
 * statuspage.h - the status pages people look at: one self-contained HTML
 * file each, a row per site (name, state, a 90-day bar, 30-day uptime) in
 * its group, the details folded (the figures, the last check, maintenance,
 * the incidents with their notes, the response-time charts). Three kinds:
 * the operators' page, the public one and one per owner; beside each its
 * JSON twin (statusjson.h), and with the public one the badges (badge.h).
 * Rows squirreld skips are not counted as sites. No external asset; one
 * script (page.js), allowed by its hash in the page's
 * Content-Security-Policy. Every value from the database is escaped.
 */
#ifndef SQUIRREL_STATUSPAGE_H
#define SQUIRREL_STATUSPAGE_H

#include <stdint.h>
#include <stdio.h>

#include "squirrel/core/config.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"


/*
 * Which page: the operators' (every site, URLs shown), the public one
 * (the sites marked public; URLs when [status_page] show_urls), or one
 * owner's (that owner's sites, URLs shown).
 */
enum sq_page_kind { SQ_PAGE_FULL, SQ_PAGE_PUBLIC, SQ_PAGE_OWNER };

struct sq_page_opts {
	enum sq_page_kind kind;
	const char *owner;              /* SQ_PAGE_OWNER: whose sites */
	const struct sq_config *cfg;    /* [status_page]; NULL: the defaults */
	int period_s;                   /* rewritten this often (s); 0: a report written once */
	/* the site list already read (one read for every owner's page); NULL: read it */
	const struct sq_site_info_list *sites;
};

/* Writes the page as of now (unix s) to f. 0 or -1 (logged). */
int statuspage_render(struct store *s, FILE *f, int64_t now, const struct sq_page_opts *o);

/*
 * Writes the page to path atomically (a temporary file in the same
 * directory, synced, then renamed), readable by all (0644): a web server
 * serving it never sees half a page. 0 or -1 (logged; the old file stays).
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

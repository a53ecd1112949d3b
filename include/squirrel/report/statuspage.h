/*
 * statuspage.h - one self-contained HTML file people look at: per enabled
 * site its state, a 90-day bar of daily uptime, a response-time sparkline
 * for the last 24 h, and recent incidents; sites that are down come first.
 * Rows squirreld skips (they cannot be checked) are left out, counted in
 * one line without their reasons (squirrelctl list gives those). No
 * scripts and no external
 * assets: the SVG is inline and a Content-Security-Policy forbids the
 * rest. Every value from the database is escaped.
 */
#ifndef SQUIRREL_STATUSPAGE_H
#define SQUIRREL_STATUSPAGE_H

#include <stdint.h>
#include <stdio.h>

#include "squirrel/core/config.h"
#include "squirrel/store/store.h"

/* Days in the uptime bar. */
#define STATUSPAGE_DAYS 90

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

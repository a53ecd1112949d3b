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

#include "squirrel/report/page.h"
#include "squirrel/store/store.h"


/*
 * The page's HTML, the sites read one at a time from p (page_open'd);
 * each (when not NULL) is called after each site's row with its figures,
 * for what else is written in the same pass (the JSON, the badges). s is
 * the page's store: the operators' page lists the owner pages from it.
 * 0 or -1 (logged).
 */
typedef void statuspage_site_fn(const struct page *p, const struct page_site *ps, size_t i,
    void *arg);
int statuspage_html(FILE *f, struct page *p, struct store *s, int period_s,
    statuspage_site_fn *each, void *arg);

/* The page as of now (unix s) to f, alone. 0 or -1 (logged). */
int statuspage_render(struct store *s, FILE *f, int64_t now, const struct sq_page_opts *o);

#endif

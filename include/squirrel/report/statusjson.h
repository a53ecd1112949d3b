/*
 * statusjson.h - status.json, the status page's figures for other
 * programs (a dashboard, a script): the same page model (page.h) as the
 * HTML, written as one JSON object. Its fields are documented one by one
 * in docs/status-json.md; within a version fields are only added, and a
 * field removed or changed in meaning bumps STATUSJSON_VERSION.
 *
 * It is written in three steps, like the page it follows, so that ten
 * thousand sites never sit in memory at once: the head, each site as
 * page_site_read() gives it, then the end. Nothing here reads the store.
 */
#ifndef SQUIRREL_STATUSJSON_H
#define SQUIRREL_STATUSJSON_H

#include <stdbool.h>
#include <stdio.h>

#include "squirrel/report/page.h"

#define STATUSJSON_VERSION 1

/*
 * The document's head: everything up to the "sites" array's "[".
 * period_s: how often the file is rewritten (s); 0 for a one-off report.
 */
void statusjson_begin(FILE *f, const struct page *p, int period_s);

/* One site; first: the array's first, no comma before it. */
void statusjson_site(FILE *f, const struct page *p, const struct page_site *ps, bool first);

/* Closes the array and the document. */
void statusjson_end(FILE *f, const struct page *p);

#endif

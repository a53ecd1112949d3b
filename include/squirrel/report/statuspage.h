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

#include "squirrel/store/store.h"

/* Days in the uptime bar. */
#define STATUSPAGE_DAYS 90

/* Writes the page as of now (unix s) to f. 0 or -1 (logged). */
int statuspage_render(struct store *s, FILE *f, int64_t now);

/*
 * Writes the page to path atomically (a temporary file in the same
 * directory, synced, then renamed), readable by all (0644): a web server
 * serving it never sees half a page. 0 or -1 (logged; the old file stays).
 */
int statuspage_write(struct store *s, const char *path, int64_t now);

#endif

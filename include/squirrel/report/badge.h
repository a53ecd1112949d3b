/*
 * badge.h - a site's badge: a small standalone SVG in the usual two-part
 * flat style (the label on grey, the state and its uptime over 30 days on
 * the state's colour), for a README or another page to show. No script
 * and no external reference; every text is escaped.
 */
#ifndef SQUIRREL_BADGE_H
#define SQUIRREL_BADGE_H

#include <stdio.h>

#include "squirrel/report/page.h"

/* Characters of a site's name a badge shows at most (the last an ellipsis when cut). */
#define BADGE_LABEL_MAX 40

/*
 * The badge of a site: "NAME | up 99.98%" ("uptime" for a site with no
 * name; "unknown" and no figure when nothing was watched in 30 days).
 */
void badge_render(FILE *f, const struct page_site *ps);

/*
 * dir/site-ID.svg, written (atomically, src/base/outfile.h, 0644) only when its
 * content differs from the file there, so a minute's rewrite of a thousand
 * badges touches no disk when nothing changed. 0 written or unchanged, -1 (logged).
 */
int badge_write(const char *dir, const struct page_site *ps);

#endif

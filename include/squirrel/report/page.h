/*
 * page.h - what a status page shows, read once for every way it is
 * written: the HTML page (statuspage.c), its JSON twin (statusjson.c) and
 * the badges (badge.c).
 *
 * A page is read in two steps so that ten thousand sites never sit in
 * memory at once: page_open() reads the site list, keeps the ones the
 * page shows (by its kind), puts them in order (by group, then the sites
 * that are down first, then by name) and counts them; page_site_read()
 * then reads one site's figures at a time, into a struct the caller
 * reuses.
 */
#ifndef SQUIRREL_PAGE_H
#define SQUIRREL_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/config.h"
#include "squirrel/core/maintenance.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"

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


#define PAGE_DAYS 90             /* the uptime bar: one a day, today the last */
#define PAGE_HOURS 24            /* the 24-hour chart: one an hour, this hour the last */
#define PAGE_RT_DAYS 30          /* the 30-day chart: one a day, today the last */
#define PAGE_INCIDENTS 5         /* the newest of the last 90 days */

/* A group's sites, in their order on the page. */
struct page_group {
	const char *name;        /* NULL: the sites in no group (shown last) */
	size_t first, n;         /* page.order[first .. first + n) */
	size_t up, down, slow, unknown;  /* slow: of up, degraded */
};

struct page {
	enum sq_page_kind kind;
	const char *owner;
	const struct sq_config *cfg;  /* NULL: the defaults */
	int64_t now;
	int64_t first_day;       /* midnight UTC starting days[0] */
	int64_t first_rt_day;    /* midnight UTC starting rt_days[0] */
	int64_t first_hour;      /* the hour starting rt_hours[0] */
	bool show_urls;
	struct sq_site_info_list list;  /* every site; order[] points into it */
	bool list_borrowed;      /* list is the caller's (sq_page_opts.sites): not freed */
	const struct sq_site_info **order;  /* the sites shown, in order */
	size_t n;
	struct page_group *groups;
	size_t ngroups;
	size_t up, down, slow, unknown;  /* over the sites shown */
	size_t skipped;          /* rows of this page's kind that cannot be checked: not shown */
	const struct sq_site_info **skipped_rows;  /* those rows, by id (skipped says why) */
	struct sq_window_list windows;
	struct sq_reader *reader;
};

/* One site's figures, as of page.now. */
struct page_site {
	const struct sq_site_info *info;
	struct sq_uptime days[PAGE_DAYS];
	struct sq_uptime d1, d7, d30, d90;   /* d90: the bar's days summed */
	int64_t p50, p95;                    /* the last 24 h; -1: no good check */
	struct sq_rt_slot rt_hours[PAGE_HOURS];   /* median, p95 (ms); -1: none */
	struct sq_rt_slot rt_days[PAGE_RT_DAYS];
	struct sq_incident_list inc;         /* newest first, with their notes */
	/* the maintenance window in force over the site, or its next: -1 none */
	int window;                          /* index into page.windows */
	int64_t window_start, window_end;
};

/*
 * Reads the list for a page of kind o->kind as of now, in one read
 * snapshot kept until page_close. 0, or -1 (logged; nothing held).
 */
int page_open(struct page *p, struct store *s, const struct sq_page_opts *o, int64_t now);

/*
 * The figures of the i-th site shown (page.order[i]) into ps, whose
 * incidents from a previous call are freed first (zero it before the
 * first call). 0 or -1 (logged).
 */
int page_site_read(struct page *p, size_t i, struct page_site *ps);
void page_site_clear(struct page_site *ps);

void page_close(struct page *p);

/* "up", "down", "degraded" or "unknown". */
const char *page_state_name(enum sq_state st);

/* The page's title: [status_page] title, or "Status". */
const char *page_title(const struct page *p);

#endif

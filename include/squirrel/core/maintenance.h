/*
 * maintenance.h - maintenance windows as arithmetic: which sites a window
 * covers, and when it is in force. A window is one-off (from, until, unix
 * seconds) or weekly (a day, a time of day and a duration, in the
 * configured time zone). Pure: no I/O. Local times come from the process's
 * zone (localtime_r), which the programs set once from [alerts] timezone
 * before any thread starts (window_zone_set), never while threads run.
 */
#ifndef SQUIRREL_CORE_MAINTENANCE_H
#define SQUIRREL_CORE_MAINTENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_REASON_MAX 200          /* bytes of a window's reason */
#define WINDOW_DURATION_MAX (7 * 86400) /* a weekly window never overlaps itself */

struct sq_window {
	int64_t id;
	/* whom it covers: exactly one of the three */
	int64_t site_id;      /* 0: not one site */
	char *owner_email;    /* NULL: not one owner */
	bool all;             /* every site */
	/* one-off: [from, until); both 0 for a weekly window */
	int64_t from, until;
	/* weekly: day 0 (Sunday) to 6, minute of the local day, duration */
	int day;              /* -1: one-off */
	int minute;
	int64_t duration_s;
	char *reason;         /* "" when none given */
	/* window_find_kept's memory: whether in force, from cache_at until cache_until */
	bool cache_known, cache_active;
	int64_t cache_at, cache_until;
};

struct sq_window_list {
	struct sq_window *v;
	size_t n;
};

/* Whether w covers the site site_id of owner (the address as stored; letters in any case). */
bool window_covers(const struct sq_window *w, int64_t site_id, const char *owner);

/*
 * The occurrence of w in force at t, else its next one: 1 with
 * [*start, *end), 0 when it has none any more (a one-off that ended).
 * A weekly window's start is its day and time on the local clock; a time
 * the clock skips (a change to summer time) is read with the offset before
 * the change (02:30 on a day that jumps from 02:00 to 03:00 is 03:30), a
 * time it passes twice (back to winter time) is the first of them; its
 * end is the duration later, in real seconds.
 */
int window_span(const struct sq_window *w, int64_t t, int64_t *start, int64_t *end);

/* Whether t is inside w: start <= t < end. */
bool window_active(const struct sq_window *w, int64_t t);

/*
 * The first window of l covering the site and in force at t: its id, or
 * 0 when none is.
 */
int64_t window_find(const struct sq_window_list *l, int64_t site_id, const char *owner,
    int64_t t);

/*
 * window_find for the check path: each window keeps whether it is in force
 * and until when that holds (its next start or end), so the local times
 * are worked out again only when a window starts or ends, not per check.
 */
int64_t window_find_kept(struct sq_window_list *l, int64_t site_id, const char *owner,
    int64_t t);

/*
 * Of the windows of l covering the site, the one in force at t (the one
 * that ends last, when several are), else the one that starts next: its
 * index with its occurrence's [*start, *end), or -1 when none is in force
 * or to come.
 */
int window_next(const struct sq_window_list *l, int64_t site_id, const char *owner, int64_t t,
    int64_t *start, int64_t *end);

/*
 * A local wall-clock time (year, month 1-12, day 1-31, minute of the day)
 * as unix seconds in the process's zone, by the rule of window_span.
 */
int64_t window_local_time(int year, int month, int day, int minute);

/* "sun" .. "sat" (or the whole English name, any case): 0 .. 6; -1 for anything else. */
int window_day_parse(const char *s);
/* "Sun" .. "Sat"; "?" out of range. */
const char *window_day_name(int day);
/* "HH:MM" (00:00 to 23:59): the minute of the day, or -1. */
int window_hhmm_parse(const char *s);

/*
 * Whether name is a time zone this system has: "UTC", or an IANA name
 * ("Europe/Paris") found under $TZDIR or /usr/share/zoneinfo as a TZif
 * file. 0, or -1 with the reason in why.
 */
int window_zone_check(const char *name, char *why, size_t whylen);

/*
 * Makes name the process's zone (TZ, then tzset). Only before any thread
 * starts: the C library has no zone per call, and changing TZ while
 * another thread reads the local time is a data race.
 */
void window_zone_set(const char *name);

void window_free(struct sq_window *w);
void window_list_free(struct sq_window_list *l);

#endif

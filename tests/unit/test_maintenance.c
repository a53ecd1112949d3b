/*
 * test_maintenance.c - maintenance windows as arithmetic (core/maintenance.c):
 * whom a window covers, when a one-off and a weekly window are in force and
 * come next, across midnight, across the end of the week, and across the
 * changes to and from summer time in real zones (the system's zoneinfo).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/timefmt.h"
#include "squirrel/core/maintenance.h"
#include "tap.h"

/* A UTC time, by the C library alone (not the code under test). */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
		.tm_min = mi };
	return (int64_t)timegm(&tm);
}

static struct sq_window weekly(int day, int minute, int64_t duration)
{
	return (struct sq_window){ .id = 1, .all = true, .day = day, .minute = minute,
		.duration_s = duration };
}

/* The span of w at t, as "start end" relative to nothing: both checked. */
static void span_is(const struct sq_window *w, int64_t t, int64_t start, int64_t end,
    const char *what)
{
	int64_t s = -1, e = -1;
	int rc = window_span(w, t, &s, &e);
	is_int(rc, 1, "%s: has a span", what);
	is_int(s, start, "%s: starts", what);
	is_int(e, end, "%s: ends", what);
}

static void test_covers(void)
{
	struct sq_window site = { .site_id = 7, .day = -1 };
	struct sq_window owner = { .owner_email = "Ops@Example.org", .day = -1 };
	struct sq_window all = { .all = true, .day = -1 };

	ok(window_covers(&site, 7, "a@b.c"), "a site's window covers it");
	ok(!window_covers(&site, 8, "a@b.c"), "and no other site");
	ok(window_covers(&owner, 3, "ops@example.org"), "an owner's window covers their sites, any case");
	ok(!window_covers(&owner, 3, "dev@example.org"), "not another owner's");
	ok(!window_covers(&owner, 3, NULL), "nor a site without an owner");
	ok(window_covers(&all, 99, "x@y.z"), "--all covers every site");
}

static void test_oneoff(void)
{
	struct sq_window w = { .all = true, .day = -1, .from = 1000, .until = 2000 };
	int64_t s, e;

	span_is(&w, 500, 1000, 2000, "before a one-off");
	ok(!window_active(&w, 999), "not in force a second before");
	ok(window_active(&w, 1000), "in force at its start");
	ok(window_active(&w, 1999), "and a second before its end");
	ok(!window_active(&w, 2000), "not at its end");
	is_int(window_span(&w, 2000, &s, &e), 0, "an ended one-off has no span");
}

static void test_utc(void)
{
	window_zone_set("UTC");
	/* Monday 02:00 for 2 h; 2026-12-07 is a Monday */
	struct sq_window w = weekly(1, 120, 7200);
	span_is(&w, utc(2026, 12, 6, 12, 0), utc(2026, 12, 7, 2, 0), utc(2026, 12, 7, 4, 0),
	    "Sunday: the next Monday's");
	span_is(&w, utc(2026, 12, 7, 2, 0), utc(2026, 12, 7, 2, 0), utc(2026, 12, 7, 4, 0),
	    "at its start: this one");
	ok(window_active(&w, utc(2026, 12, 7, 3, 59) + 59), "in force a second before its end");
	ok(!window_active(&w, utc(2026, 12, 7, 4, 0)), "not at its end");
	span_is(&w, utc(2026, 12, 7, 4, 0), utc(2026, 12, 14, 2, 0), utc(2026, 12, 14, 4, 0),
	    "at its end: a week later");
	ok(!window_active(&w, utc(2026, 12, 8, 2, 30)), "not on Tuesday at the same time");

	/* across midnight: Saturday 23:00 for 3 h, the end of the week too (6 -> 0) */
	w = weekly(6, 23 * 60, 3 * 3600);
	span_is(&w, utc(2026, 12, 13, 1, 30), utc(2026, 12, 12, 23, 0), utc(2026, 12, 13, 2, 0),
	    "Sunday 01:30: Saturday's window still");
	ok(!window_active(&w, utc(2026, 12, 13, 2, 0)), "over on Sunday at 02:00");
	span_is(&w, utc(2026, 12, 13, 2, 0), utc(2026, 12, 19, 23, 0), utc(2026, 12, 20, 2, 0),
	    "then next Saturday's");

	/* Saturday 22:00 for a day */
	w = weekly(6, 22 * 60, 86400);
	ok(window_active(&w, utc(2026, 12, 13, 21, 59)), "a day long: Sunday 21:59 inside");
	ok(!window_active(&w, utc(2026, 12, 13, 22, 0)), "Sunday 22:00 outside");

	/* a whole week: always */
	w = weekly(0, 0, WINDOW_DURATION_MAX);
	for (int d = 6; d <= 12; d++)
		ok(window_active(&w, utc(2026, 12, d, 13, 17)), "a week-long window: day %d inside", d);
	span_is(&w, utc(2026, 12, 9, 0, 0), utc(2026, 12, 6, 0, 0), utc(2026, 12, 13, 0, 0),
	    "a week-long window: the one begun on Sunday");
}

static void test_paris(void)
{
	window_zone_set("Europe/Paris");
	/* winter: UTC+1; Monday 02:00 is 01:00Z */
	struct sq_window w = weekly(1, 120, 7200);
	span_is(&w, utc(2026, 12, 6, 12, 0), utc(2026, 12, 7, 1, 0), utc(2026, 12, 7, 3, 0),
	    "Paris in winter: 02:00 is 01:00 UTC");
	/* summer: UTC+2 */
	span_is(&w, utc(2026, 7, 5, 12, 0), utc(2026, 7, 6, 0, 0), utc(2026, 7, 6, 2, 0),
	    "Paris in summer: 02:00 is 00:00 UTC");

	/* 2026-03-29, a Sunday: 02:00 CET jumps to 03:00 CEST at 01:00Z */
	w = weekly(0, 3 * 60, 3600);
	span_is(&w, utc(2026, 3, 23, 0, 0), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0),
	    "03:00 on the day summer time begins: 01:00 UTC");
	span_is(&w, utc(2026, 3, 16, 0, 0), utc(2026, 3, 22, 2, 0), utc(2026, 3, 22, 3, 0),
	    "the week before: 02:00 UTC");
	w = weekly(0, 2 * 60 + 30, 3600);
	span_is(&w, utc(2026, 3, 23, 0, 0), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 30),
	    "02:30, a time the clock skips: read before the jump (03:30 CEST)");
	w = weekly(0, 60, 2 * 3600);
	span_is(&w, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0),
	    "01:00 for 2 h across the jump: two real hours, to 04:00 CEST");
	ok(!window_active(&w, utc(2026, 3, 29, 2, 0)), "over at 04:00 CEST");

	/* 2026-10-25, a Sunday: 03:00 CEST goes back to 02:00 CET at 01:00Z */
	w = weekly(0, 2 * 60 + 30, 3600);
	span_is(&w, utc(2026, 10, 20, 0, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30),
	    "02:30, passed twice: the first (CEST)");
	w = weekly(0, 4 * 60, 3600);
	span_is(&w, utc(2026, 10, 20, 0, 0), utc(2026, 10, 25, 3, 0), utc(2026, 10, 25, 4, 0),
	    "04:00 after the change: 03:00 UTC");
	window_zone_set("America/New_York");
	/* 2026-11-01 01:30 is passed twice (EDT then EST) */
	span_is(&w, utc(2026, 10, 30, 0, 0), utc(2026, 11, 1, 9, 0), utc(2026, 11, 1, 10, 0),
	    "New York, 04:00 after the change (EST): 09:00 UTC");
	w = weekly(0, 90, 1800);
	span_is(&w, utc(2026, 10, 30, 0, 0), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 0),
	    "New York, 01:30 passed twice: the first, EDT (05:30 UTC)");
	window_zone_set("UTC");
}

static void test_find(void)
{
	struct sq_window v[] = {
		{ .id = 4, .site_id = 2, .day = -1, .from = 100, .until = 200 },
		{ .id = 5, .owner_email = "o@x.test", .day = -1, .from = 150, .until = 300 },
	};
	struct sq_window_list l = { .v = v, .n = 2 };

	is_int(window_find(&l, 2, "o@x.test", 120), 4, "the site's window");
	is_int(window_find(&l, 2, "o@x.test", 250), 5, "then the owner's");
	is_int(window_find(&l, 3, "p@x.test", 160), 0, "another owner's site: none");
	is_int(window_find(&l, 2, "o@x.test", 300), 0, "all over: none");
	is_int(window_find(NULL, 2, "o@x.test", 120), 0, "no list: none");

	int64_t s = 0, e = 0;
	is_int(window_next(&l, 2, "o@x.test", 50, &s, &e), 0, "next for site 2 at 50: the site's");
	ok(s == 100 && e == 200, "from 100 to 200");
	is_int(window_next(&l, 2, "o@x.test", 160, &s, &e), 1, "at 160, both in force: the one ending last");
	ok(s == 150 && e == 300, "from 150 to 300");
	is_int(window_next(&l, 3, "o@x.test", 120, &s, &e), 1, "site 3 of the owner: the owner's, next");
	is_int(window_next(&l, 3, "p@x.test", 120, &s, &e), -1, "another owner: none");
	is_int(window_next(&l, 2, "o@x.test", 300, &s, &e), -1, "all ended: none");
}

/*
 * window_find_kept answers as window_find does, whatever the order of the
 * times asked: every 7 minutes over five weeks across the change to summer
 * time, then the same times shuffled, over weekly and one-off windows.
 */
static void test_kept(void)
{
	struct sq_window v[] = {
		{ .id = 1, .all = true, .day = 0, .minute = 2 * 60 + 30, .duration_s = 3600 },
		{ .id = 2, .all = true, .day = 6, .minute = 23 * 60, .duration_s = 3 * 3600 },
		{ .id = 3, .all = true, .day = -1, .from = utc(2026, 3, 20, 0, 0),
		  .until = utc(2026, 3, 21, 0, 0) },
	};
	struct sq_window_list l = { .v = v, .n = 3 };
	int64_t t0 = utc(2026, 3, 8, 0, 0), n = 5 * 7 * 86400 / 420, bad = 0, in = 0;

	window_zone_set("Europe/Paris");
	for (int64_t i = 0; i < n; i++) {
		int64_t t = t0 + i * 420;
		int64_t want = window_find(&l, 5, "x@y.z", t);
		bad += window_find_kept(&l, 5, "x@y.z", t) != want;
		in += want != 0;
	}
	is_int(bad, 0, "in time order: the same answers (%lld times, %lld in a window)",
	    (long long)n, (long long)in);
	srandom(7);
	bad = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t t = t0 + (int64_t)(random() % (n * 420));
		bad += window_find_kept(&l, 5, "x@y.z", t) != window_find(&l, 5, "x@y.z", t);
	}
	is_int(bad, 0, "in any order: the same answers");
	window_zone_set("UTC");
}

static void test_parse(void)
{
	char why[256];

	is_int(window_day_parse("mon"), 1, "mon");
	is_int(window_day_parse("Sunday"), 0, "Sunday");
	is_int(window_day_parse("SAT"), 6, "SAT");
	is_int(window_day_parse("mo"), -1, "mo is no day");
	is_int(window_day_parse(""), -1, "nor the empty text");
	is_str(window_day_name(3), "Wed", "day 3 is Wed");
	is_str(window_day_name(7), "?", "day 7 is none");
	is_int(window_hhmm_parse("00:00"), 0, "00:00");
	is_int(window_hhmm_parse("23:59"), 23 * 60 + 59, "23:59");
	is_int(window_hhmm_parse("24:00"), -1, "24:00 is refused");
	is_int(window_hhmm_parse("2:00"), -1, "2:00 is refused (two digits)");
	is_int(window_hhmm_parse("02:60"), -1, "02:60 is refused");
	is_int(window_hhmm_parse("02:00x"), -1, "trailing text is refused");
	is_int(window_zone_check("UTC", why, sizeof(why)), 0, "UTC is a zone");
	is_int(window_zone_check("Europe/Paris", why, sizeof(why)), 0, "Europe/Paris is a zone");
	is_int(window_zone_check("Europe/Nowhere", why, sizeof(why)), -1, "Europe/Nowhere is not");
	is_str(why, "'Europe/Nowhere' is no time zone this system knows (no "
	    "/usr/share/zoneinfo/Europe/Nowhere in the zone database)", "and says why");
	is_int(window_zone_check("../../etc/passwd", why, sizeof(why)), -1, "a path is not a zone");
	is_str(why, "'../../etc/passwd' is not a time zone name: expected UTC or an IANA name "
	    "like Europe/Paris", "and says why");
	is_int(window_zone_check("", why, sizeof(why)), -1, "nor the empty text");
	is_int(window_zone_check("Europe", why, sizeof(why)), -1, "nor a folder of zones");
}

/* --for DURATION (base/timefmt.c) */
static void test_duration(void)
{
	char why[256];
	int64_t d = -1;

	is_int(duration_parse("90m", 86400, &d, why, sizeof(why)), 0, "90m");
	is_int(d, 5400, "is 5400 s");
	duration_parse("2h", 86400, &d, why, sizeof(why));
	is_int(d, 7200, "2h is 7200 s");
	duration_parse("1d", 86400, &d, why, sizeof(why));
	is_int(d, 86400, "1d is 86400 s");
	duration_parse("1w", WINDOW_DURATION_MAX, &d, why, sizeof(why));
	is_int(d, WINDOW_DURATION_MAX, "1w is a week");
	is_int(duration_parse("0m", 86400, &d, why, sizeof(why)), -1, "0m is refused");
	is_str(why, "'0m' is out of range: more than 0, at most 1d 0h", "and says why");
	is_int(duration_parse("8d", WINDOW_DURATION_MAX, &d, why, sizeof(why)), -1,
	    "8d is over a week");
	is_int(duration_parse("2x", 86400, &d, why, sizeof(why)), -1, "2x is refused");
	is_str(why, "'2x' is not a duration: a whole number and a unit, s, m, h, d or w, like "
	    "90m, 2h or 1d", "and says why");
	is_int(duration_parse("h", 86400, &d, why, sizeof(why)), -1, "a unit alone is refused");
	is_int(duration_parse("-2h", 86400, &d, why, sizeof(why)), -1, "a sign is refused");
	is_int(duration_parse("99999999999h", 86400, &d, why, sizeof(why)), -1,
	    "too many digits are refused");
	is_int(duration_parse("", 86400, &d, why, sizeof(why)), -1, "the empty text is refused");
}

int main(void)
{
	test_duration();
	unsetenv("TZDIR");
	test_covers();
	test_oneoff();
	test_utc();
	test_paris();
	test_find();
	test_kept();
	test_parse();
	return tap_done();
}

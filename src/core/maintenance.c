/*
 * maintenance.c - maintenance windows as arithmetic: whom a window covers
 * and when it is in force (core/maintenance.h). Pure but for the process's
 * time zone, set once at start: a weekly window is a time on the local
 * clock, so its occurrences follow the changes to and from summer time,
 * and its length is real seconds.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/core/maintenance.h"

bool window_covers(const struct sq_window *w, int64_t site_id, const char *owner)
{
	if (w->all)
		return true;
	if (w->site_id != 0)
		return w->site_id == site_id;
	return w->owner_email != NULL && owner != NULL && strcasecmp(w->owner_email, owner) == 0;
}

/* The offset from UTC of the process's zone at t, in seconds. */
static long zone_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	return localtime_r(&tt, &tm) != NULL ? tm.tm_gmtoff : 0;
}

int64_t window_local_time(int year, int month, int day, int minute)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
		.tm_hour = minute / 60, .tm_min = minute % 60 };
	int64_t wall = (int64_t)timegm(&tm);
	/* the offsets a day before and a day after: any change between them is this day's */
	long before = zone_offset(wall - 86400), after = zone_offset(wall + 86400);
	int64_t t1 = wall - before, t2 = wall - after;
	bool ok1 = zone_offset(t1) == before, ok2 = zone_offset(t2) == after;

	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;     /* passed twice: the first */
	if (ok2)
		return t2;
	return t1;                        /* skipped: read with the offset before the change */
}

int window_span(const struct sq_window *w, int64_t t, int64_t *start, int64_t *end)
{
	if (w->day < 0) {
		if (t >= w->until)
			return 0;
		*start = w->from;
		*end = w->until;
		return 1;
	}
	time_t tt = (time_t)t;
	struct tm now;
	if (localtime_r(&tt, &now) == NULL)
		return 0;
	bool found = false;
	/* a week and a day back (the longest window that may still last), a week on */
	for (int k = -8; k <= 7; k++) {
		struct tm d = { .tm_year = now.tm_year, .tm_mon = now.tm_mon,
			.tm_mday = now.tm_mday + k, .tm_hour = 12 };
		time_t noon = timegm(&d);
		if (gmtime_r(&noon, &d) == NULL || d.tm_wday != w->day)
			continue;
		int64_t s = window_local_time(d.tm_year + 1900, d.tm_mon + 1, d.tm_mday, w->minute);
		int64_t e = s + w->duration_s;
		if (s <= t && t < e) {
			*start = s;
			*end = e;
			return 1;
		}
		if (s > t && (!found || s < *start)) {
			*start = s;
			*end = e;
			found = true;
		}
	}
	return found ? 1 : 0;
}

bool window_active(const struct sq_window *w, int64_t t)
{
	int64_t s, e;

	return window_span(w, t, &s, &e) == 1 && s <= t && t < e;
}

int64_t window_find(const struct sq_window_list *l, int64_t site_id, const char *owner,
    int64_t t)
{
	for (size_t i = 0; l != NULL && i < l->n; i++)
		if (window_covers(&l->v[i], site_id, owner) && window_active(&l->v[i], t))
			return l->v[i].id;
	return 0;
}

/* window_active, kept in w: worked out again only outside the stretch it holds for. */
static bool window_active_kept(struct sq_window *w, int64_t t)
{
	int64_t s, e;

	if (w->cache_known && t >= w->cache_at && t < w->cache_until)
		return w->cache_active;
	w->cache_known = true;
	w->cache_at = t;
	if (window_span(w, t, &s, &e) != 1) {
		w->cache_active = false;          /* ended for good */
		w->cache_until = INT64_MAX;
	} else {
		w->cache_active = s <= t;
		w->cache_until = s <= t ? e : s;
	}
	return w->cache_active;
}

int64_t window_find_kept(struct sq_window_list *l, int64_t site_id, const char *owner,
    int64_t t)
{
	for (size_t i = 0; l != NULL && i < l->n; i++)
		if (window_covers(&l->v[i], site_id, owner) && window_active_kept(&l->v[i], t))
			return l->v[i].id;
	return 0;
}

int window_next(const struct sq_window_list *l, int64_t site_id, const char *owner, int64_t t,
    int64_t *start, int64_t *end)
{
	int best = -1;
	bool best_now = false;

	for (size_t i = 0; l != NULL && i < l->n; i++) {
		int64_t s, e;
		if (!window_covers(&l->v[i], site_id, owner) || window_span(&l->v[i], t, &s, &e) != 1)
			continue;
		bool now = s <= t;
		if (best < 0 || (now && (!best_now || e > *end)) || (!now && !best_now && s < *start)) {
			best = (int)i;
			best_now = now;
			*start = s;
			*end = e;
		}
	}
	return best;
}

static const char *const day_names[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
};
static const char *const day_short[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

int window_day_parse(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strcasecmp(s, day_names[i]) == 0 || strcasecmp(s, day_short[i]) == 0)
			return i;
	return -1;
}

const char *window_day_name(int day)
{
	return day >= 0 && day < 7 ? day_short[day] : "?";
}

int window_hhmm_parse(const char *s)
{
	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h > 23 || m > 59 ? -1 : h * 60 + m;
}

int window_zone_check(const char *name, char *why, size_t whylen)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	size_t len = strlen(name);

	if (strcmp(name, "UTC") == 0)
		return 0;
	if (len == 0 || len > 64 || name[0] == '/' || name[0] == '.' || strstr(name, "..") != NULL ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != len) {
		snprintf(why, whylen, "'%.64s' is not a time zone name: expected UTC or an IANA "
		    "name like Europe/Paris", name);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && dir[0] != '\0' ? dir :
	    "/usr/share/zoneinfo", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		snprintf(why, whylen, "'%s' is no time zone this system knows (no %s in the "
		    "zone database)", name, path);
		return -1;
	}
	return 0;
}

void window_zone_set(const char *name)
{
	/* "UTC0" is UTC in POSIX's own words: no file needed */
	setenv("TZ", strcmp(name, "UTC") == 0 ? "UTC0" : name, 1);
	tzset();
}

void window_free(struct sq_window *w)
{
	free(w->owner_email);
	free(w->reason);
	memset(w, 0, sizeof(*w));
}

void window_list_free(struct sq_window_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		window_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * timefmt.c - parsing and printing times, durations and percentages.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/timefmt.h"

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* "YYYY-MM-DD" with optional "THH:MM[:SS][Z]". 0, or -1 when not that shape. */
static int parse_calendar(const char *s, int64_t *out, char *why, size_t whylen)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				return -1;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 59) {
		snprintf(why, whylen, "'%s' is not a real date and time", s);
		return -2;
	}
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi, .tm_sec = sec };
	*out = (int64_t)timegm(&tm);
	return 0;
}

int when_parse(const char *s, int64_t now, int64_t *out, char *why, size_t whylen)
{
	size_t len = strlen(s), ndig = strspn(s, "0123456789");
	char *end;

	if (len == 0) {
		snprintf(why, whylen, "an empty time");
		return -1;
	}
	if (ndig == len) {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno != 0) {
			snprintf(why, whylen, "'%s' is too large for a time", s);
			return -1;
		}
		*out = v;
		return 0;
	}
	if (ndig > 0 && ndig == len - 1) {
		static const struct { char unit; int64_t seconds; } units[] = {
			{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
		};
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (s[len - 1] != units[i].unit)
				continue;
			errno = 0;
			long long v = strtoll(s, &end, 10);
			if (errno != 0 || v > now / units[i].seconds) {
				snprintf(why, whylen, "'%s' reaches back before 1970", s);
				return -1;
			}
			*out = now - v * units[i].seconds;
			return 0;
		}
	}
	int rc = parse_calendar(s, out, why, whylen);
	if (rc == -1)
		snprintf(why, whylen, "'%s' is not a time: use unix seconds, YYYY-MM-DD, "
		    "YYYY-MM-DDTHH:MM[:SS] (UTC) or a span back from now like 24h or 7d", s);
	return rc < 0 ? -1 : 0;
}

int duration_parse(const char *s, int64_t max, int64_t *out, char *why, size_t whylen)
{
	static const struct { char unit; int64_t seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
	};
	size_t len = strlen(s), ndig = strspn(s, "0123456789");
	char maxbuf[32];

	for (size_t i = 0; len > 1 && ndig == len - 1 && ndig <= 9 &&
	    i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[len - 1] != units[i].unit)
			continue;
		int64_t v = strtoll(s, NULL, 10) * units[i].seconds;
		if (v <= 0 || v > max) {
			snprintf(why, whylen, "'%s' is out of range: more than 0, at most %s", s,
			    duration_format(max, maxbuf, sizeof(maxbuf)));
			return -1;
		}
		*out = v;
		return 0;
	}
	snprintf(why, whylen, "'%.40s' is not a duration: a whole number and a unit, s, m, h, "
	    "d or w, like 90m, 2h or 1d", s);
	return -1;
}

const char *time_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

const char *date_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

const char *duration_format(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
	return buf;
}

const char *percent_format(int64_t up, int64_t total, char *buf, size_t len)
{
	if (total <= 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (up < 0)
		up = 0;
	if (up > total)
		up = total;
	/* integer arithmetic: cut, never rounded up to 100 (spans up to 29 000 years) */
	int64_t hundredths = up <= INT64_MAX / 10000 ? up * 10000 / total :
	    up / (total / 10000 > 0 ? total / 10000 : 1);
	snprintf(buf, len, "%" PRId64 ".%02" PRId64 "%%", hundredths / 100, hundredths % 100);
	return buf;
}

double percent_value(int64_t up, int64_t total)
{
	if (total <= 0)
		return NAN;
	return round((double)up * 100.0 / (double)total * 10000.0) / 10000.0;
}

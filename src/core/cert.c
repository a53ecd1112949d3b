/*
 * cert.c - when a certificate's end is worth a mail: the list of days and
 * the one rule (each threshold once per certificate, the nearest alone when
 * several were crossed at once). Pure, so every case is a unit test.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "squirrel/core/cert.h"

#define DAY_S 86400

static void add_day(struct sq_cert_days *d, int day)
{
	int i = 0;

	while (i < d->n && d->day[i] > day)
		i++;
	if (i < d->n && d->day[i] == day)
		return;
	memmove(&d->day[i + 1], &d->day[i], (size_t)(d->n - i) * sizeof(d->day[0]));
	d->day[i] = day;
	d->n++;
}

int sq_cert_days_parse(const char *text, struct sq_cert_days *out, char *why, size_t len)
{
	struct sq_cert_days d = { 0 };
	const char *p = text;
	int items = 0;

	if (text == NULL || *text == '\0') {
		snprintf(why, len, "empty: give days like %s", SQ_CERT_DAYS_DEFAULT);
		return -1;
	}
	if (strlen(text) > SQ_CERT_DAYS_TEXT_MAX) {
		snprintf(why, len, "longer than %d characters", SQ_CERT_DAYS_TEXT_MAX);
		return -1;
	}
	for (;;) {
		const char *start = p;
		long v = 0;
		while (*p >= '0' && *p <= '9') {
			if (v <= 100000)
				v = v * 10 + (*p - '0');
			p++;
		}
		size_t n = (size_t)(p - start);
		if (n == 0) {
			const char *end = strchr(start, ',');
			int shown = end != NULL ? (int)(end - start) : (int)strlen(start);
			if (shown == 0)
				snprintf(why, len, "'%s': a day is missing (an empty item)", text);
			else
				snprintf(why, len, "'%.*s' is not a whole number of days", shown, start);
			return -1;
		}
		if (*p != ',' && *p != '\0') {
			const char *end = strchr(start, ',');
			int shown = end != NULL ? (int)(end - start) : (int)strlen(start);
			snprintf(why, len, "'%.*s' is not a whole number of days", shown, start);
			return -1;
		}
		if (v < 1 || v > SQ_CERT_DAY_MAX) {
			snprintf(why, len, "%.*s: a day must be from 1 to %d", (int)n, start,
			    SQ_CERT_DAY_MAX);
			return -1;
		}
		if (++items > SQ_CERT_DAYS_MAX) {
			snprintf(why, len, "more than %d days", SQ_CERT_DAYS_MAX);
			return -1;
		}
		add_day(&d, (int)v);
		if (*p == '\0')
			break;
		p++;   /* the comma */
		if (*p == '\0') {
			snprintf(why, len, "'%s' ends with a comma", text);
			return -1;
		}
	}
	*out = d;
	return 0;
}

const char *sq_cert_days_text(const struct sq_cert_days *d, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < d->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? "," : "", d->day[i]);
	return buf;
}

int64_t sq_cert_days_left(int64_t not_after, int64_t now)
{
	int64_t s = not_after - now;
	/* rounded down, below zero too: ended 1 s ago is day -1 */
	return s >= 0 ? s / DAY_S : -((-s + DAY_S - 1) / DAY_S);
}

int sq_cert_warn_due(const struct sq_cert_days *d, int64_t not_after, int64_t now, int warned)
{
	int64_t left = not_after - now;
	int nearest = 0;

	if (left <= 0)
		return 0;
	/* largest first: the last one crossed is the nearest */
	for (int i = 0; i < d->n; i++)
		if (left <= (int64_t)d->day[i] * DAY_S)
			nearest = d->day[i];
	if (nearest == 0 || (warned > 0 && nearest >= warned))
		return 0;
	return nearest;
}

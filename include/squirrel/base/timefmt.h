/*
 * timefmt.h - times and figures as people type and read them. Every time
 * is UTC, so two people in different places read the same thing.
 */
#ifndef SQUIRREL_TIMEFMT_H
#define SQUIRREL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A point in time: unix seconds ("1700000000"), a UTC day ("2025-01-31",
 * its midnight), a UTC time ("2025-01-31T08:30" or with ":05" seconds; a
 * space for the T and a trailing Z are accepted too), or a span back from
 * now: a number and a unit, s, m, h, d or w ("90m", "24h", "7d"). Returns
 * 0, or -1 with the reason in why.
 */
int when_parse(const char *s, int64_t now, int64_t *out, char *why, size_t whylen);

/*
 * A duration: a whole number and a unit, s, m, h, d or w ("90m", "2h",
 * "1d"), more than 0 and at most max seconds. 0, or -1 with the reason in why.
 */
int duration_parse(const char *s, int64_t max, int64_t *out, char *why, size_t whylen);

/* "2025-01-31 08:30:05" (UTC), or "-" for 0. Returns buf. */
const char *time_format(int64_t t, char *buf, size_t len);

/* A date "2025-01-31" (UTC). Returns buf. */
const char *date_format(int64_t t, char *buf, size_t len);

/* A duration in its two largest units: "3d 4h", "5h 2m", "12m 5s", "40s". */
const char *duration_format(int64_t seconds, char *buf, size_t len);

/*
 * up out of total as a percentage with two decimals, cut rather than
 * rounded, so that anything short of all of it never reads "100.00%":
 * "99.95%". "-" when total is 0 (nothing was watched).
 */
const char *percent_format(int64_t up, int64_t total, char *buf, size_t len);

/* The same figure as a number for JSON: a percentage with four decimals. */
double percent_value(int64_t up, int64_t total);

#endif

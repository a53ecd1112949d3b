/*
 * uptime.h - the uptime figures (src/store/uptime.c): the reader that
 * squirrelctl status, the status page and the metrics read through, and
 * the configured interval the figures are capped with.
 *
 * Uptime is time-weighted: a check's verdict holds until the site's next
 * check, but at most twice the site's interval (its interval_s, else the
 * configured one, see store_set_default_interval) and at most a day. Time
 * no check covers counts neither up nor down, so a stopped daemon is not
 * an outage and not uptime either. The latest check holds until now, at
 * most that same cap.
 */
#ifndef SQUIRREL_STORE_UPTIME_H
#define SQUIRREL_STORE_UPTIME_H

#include <stddef.h>
#include <stdint.h>

#include "squirrel/store/store.h"

/*
 * The configured [check] interval, kept in the database because uptime
 * figures cap each check's hold at twice the site's interval and the
 * rollup trigger cannot read the configuration. Call it at start and
 * after a reload, then store_rollup_backfill(). Writes only when it
 * changed. 0 or -1 (logged).
 */
int store_set_default_interval(struct store *s, int interval_s);

/*
 * Rolls up the uptime of the history recorded before schema v3, which the
 * migration left for this (it needs the configured interval, so call it
 * after store_set_default_interval). Does it once: afterwards, and on a
 * database that never had such history, it only looks. About a minute per
 * 50 million checks, in one transaction (or the caller's). 0 or -1 (logged).
 */
int store_rollup_backfill(struct store *s);

/*
 * The hourly tier (uptime_hours, site_counters, the checks' edge marks)
 * made again from the raw checks, as the daemon would have summed them,
 * for a history written with SQL (an import, a test) that no daemon saw;
 * uptime_days is emptied for the reporter to roll up again. One
 * transaction; the history must be there raw. 0 or -1 (logged).
 */
int store_tiers_rebuild(struct store *s);

/*
 * A reader: one consistent snapshot of the database (a read transaction)
 * and statements prepared once, for a report over many sites. Close it
 * soon: it is meant for seconds, not minutes. NULL on error (logged).
 */
struct sq_reader;
struct sq_reader *store_reader_open(struct store *s);
void store_reader_close(struct sq_reader *r);

/*
 * Time inside a maintenance window (the holds of checks made in one) is
 * in maint_s alone: neither up nor down, so a figure leaves it out. Slow
 * time is up, and counted apart too (slow_s is part of up_s).
 */
struct sq_uptime {
	int64_t up_s;            /* seconds watched and up (slow included) */
	int64_t down_s;          /* seconds watched and down */
	int64_t slow_s;          /* of up_s, seconds up but slow (degraded) */
	int64_t maint_s;         /* seconds inside maintenance windows */
};

/* A site's uptime over [from, to), as of now. 0 or -1. */
int store_reader_uptime(struct sq_reader *r, int64_t site_id, int64_t from, int64_t to,
    int64_t now, struct sq_uptime *u);

/* The same for ndays UTC days from first_day (a midnight), one per day. */
int store_reader_uptime_days(struct sq_reader *r, int64_t site_id, int64_t first_day,
    int ndays, int64_t now, struct sq_uptime *days);

/*
 * The good checks' mean response time of each hour since from (the hour
 * that holds from included), from the hourly tier, at the middle of the
 * hour, in time order.
 */
struct sq_rt_sample {
	int64_t t;
	int64_t ms;
};

int store_reader_response_times(struct sq_reader *r, int64_t site_id, int64_t from,
    struct sq_rt_sample **v, size_t *n);

/*
 * The good checks' median and 95th percentile in each of n slots of step
 * seconds (3600: from the hourly tier; 86400: the daily tier where it is
 * rolled up, the hours after) from first, which the step divides; -1 for
 * a slot without a good check. Read from the histograms: within 1/32 of
 * the exact figures (core/hist.h).
 */
struct sq_rt_slot {
	int64_t p50, p95;
};

int store_reader_rt_slots(struct sq_reader *r, int64_t site_id, int64_t first, int64_t step,
    int n, struct sq_rt_slot *out);

/* A note the operator wrote under an incident (squirrelctl incident note). */
struct sq_incident_note {
	int64_t at;              /* unix s */
	char *text;
};

struct sq_incident {
	int64_t id;
	int64_t started_at;
	int64_t ended_at;        /* 0 while it lasts */
	char *cause;
	struct sq_incident_note *notes;  /* oldest first; NULL when none */
	size_t nnotes;
};

struct sq_incident_list {
	struct sq_incident *v;
	size_t n;
};

/*
 * A site's incidents open or ended since since, newest first, at most
 * limit, each with its notes.
 */
int store_reader_incidents(struct sq_reader *r, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_list *out);
void store_free_incidents(struct sq_incident_list *l);

/* The figures squirrelctl status shows, as of now. */
struct sq_figures {
	struct sq_uptime day;    /* the last 24 h */
	struct sq_uptime week;   /* 7 d */
	struct sq_uptime month;  /* 30 d */
	int64_t p50_ms;          /* of the good checks of the last 24 h; -1 none */
	int64_t p95_ms;
	int64_t incidents;       /* open or ended within the last 30 d */
};

int store_reader_figures(struct sq_reader *r, int64_t site_id, int64_t now,
    struct sq_figures *f);

/*
 * The nearest-rank percentile (1 to 100) of n values, which it reorders;
 * -1 if n is 0.
 */
int64_t percentile(int64_t *v, size_t n, int pct);

#endif

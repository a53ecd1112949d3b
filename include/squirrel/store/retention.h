/*
 * retention.h - the history's upkeep in bounded steps (retention.c): the
 * response times of older history summed, days rolled up from hours, and
 * each tier pruned to its age. For the reporter thread, on its own
 * connection.
 */
#ifndef SQUIRREL_STORE_RETENTION_H
#define SQUIRREL_STORE_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "squirrel/store/store.h"

/* How long the hourly tier, and the failures and edges kept raw, last. */
#define STORE_HOURLY_DAYS 35

struct store_retention {
	int raw_hours;            /* [squirreld] raw_hours: successes kept raw */
	int history_days;         /* [squirreld] history_days: the daily tier */
	int batch;                /* rows (ids, sites) per transaction; 0: the defaults */
	int64_t roll_day, roll_site;  /* the day being rolled up, and its next site (0: none) */
	bool cache_set;           /* the connection's page cache sized for the upkeep */
};

/* What the steps did, added up by the caller's counters. */
struct store_retention_done {
	int64_t backfilled, days, raw, kept, hours, days_pruned;
};

/* The age past which hours, failures and edges go: STORE_HOURLY_DAYS, within the settings. */
int64_t store_hourly_keep_s(const struct store_retention *r);

/*
 * One transaction of upkeep at time now: 1 when more is waiting (call
 * again soon), 0 when all is done to now, -1 on an error (logged; the
 * database busy: try later).
 */
int store_retention_step(struct store *s, struct store_retention *r, int64_t now,
    struct store_retention_done *done);

#endif

/*
 * retention.c - the history's upkeep, off the check path (schema 19): the
 * reporter thread calls store_retention_step() and each call is one short
 * transaction of one kind, so the daemon's batches never wait long.
 *
 * In order of need:
 *   1. the response times of the history recorded before version 19
 *      (ids below settings.backfill_below), a site at a time in time order
 *      through the covering index, so that the hours are written in the
 *      order they are stored; its recoveries (a success after a failure)
 *      marked as edges, kept raw like failures;
 *   2. the daily roll-up: a day is summed from its hours once it ended more
 *      than a day ago (a hold reaches a day past its check at most), a few
 *      sites per transaction; settings.days_below says where the daily
 *      tier ends and the hourly one begins for the readers;
 *   3. the successes older than raw_hours deleted, but for edges and each
 *      site's latest check (settings.prune_id: where it resumes);
 *   4. the failures, edges and latest checks older than the hourly tier
 *      (settings.keep_id);
 *   5. the hours older than the hourly tier, once their day is rolled up;
 *   6. the days older than history_days.
 * Pruning waits for the backfill: a check leaves only once counted.
 */
#include <inttypes.h>
#include <stdio.h>

#include "squirrel/base/log.h"
#include "squirrel/store/retention.h"
#include "db.h"

#define DAY 86400
#define BACKFILL_ROWS 20000       /* checks of older history per transaction */
#define PRUNE_ROWS 5000           /* checks looked at per pruning transaction */
#define TIER_ROWS 5000            /* hours or days deleted per transaction */
#define ROLL_SITES 500            /* sites' days rolled up per transaction */
#define UPKEEP_CACHE_KB 32768     /* the upkeep connection's page cache */

int64_t store_hourly_keep_s(const struct store_retention *r)
{
	int64_t keep = (int64_t)STORE_HOURLY_DAYS * DAY;

	if (r->history_days > 0 && (int64_t)r->history_days * DAY < keep)
		keep = (int64_t)r->history_days * DAY;
	if ((int64_t)r->raw_hours * 3600 > keep)
		keep = (int64_t)r->raw_hours * 3600;
	return keep;
}

static int read_settings(struct store *s, int64_t v[5])
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT backfill_below, days_below, prune_at, keep_at, hours_below"
	    " FROM settings WHERE id = 1", 0, &st,
	    "reading the history's upkeep") < 0)
		return -1;
	rc = sqlite3_step(st);
	for (int i = 0; rc == SQLITE_ROW && i < 5; i++)
		v[i] = sqlite3_column_int64(st, i);
	if (rc != SQLITE_ROW)
		store_error(s, "reading the history's upkeep");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* One int64 from a query with int64 parameters ('I' types); *out unchanged when NULL. */
static int query_one(struct store *s, const char *sql, int64_t a, int64_t b, int64_t *out,
    bool *found)
{
	sqlite3_stmt *st;
	int rc;

	*found = false;
	if (store_prepare(s, sql, 0, &st, "reading the history's upkeep") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		*found = true;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_error(s, "reading the history's upkeep");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

#define BATCH(r, dflt) ((r)->batch > 0 ? (int64_t)(r)->batch : (int64_t)(dflt))

static int backfill(struct store *s, const struct store_retention *r, int64_t below, int64_t now,
    int64_t *rows)
{
	int more = store_tiers_backfill(s, below, BATCH(r, BACKFILL_ROWS), now, rows);

	if (more == 0)
		log_info("%s: the response times of the history from before schema 19 are summed "
		    "into its hours", s->path);
	return more;
}

/*
 * A few sites of day d summed from their hours (again: it is idempotent),
 * found through the hour index, each one summed through the primary key
 * (site, hour): a range on both would read every hour of the sites. 1
 * when the day is done.
 */
static int roll_day(struct store *s, struct store_retention *r, int64_t d)
{
	sqlite3_stmt *list = NULL, *roll = NULL;
	int64_t n = 0, batch = BATCH(r, ROLL_SITES);
	int rc = -1, step;
	bool found;

	if (r->roll_day != d) {
		r->roll_day = d;
		r->roll_site = INT64_MIN;
	}
	if (store_prepare(s, "SELECT DISTINCT site_id FROM uptime_hours INDEXED BY uptime_hours_hour"
	    " WHERE hour >= ?1 AND hour < ?1 + 86400 AND site_id >= ?2 ORDER BY site_id LIMIT ?3",
	    0, &list, "rolling up a day") < 0 ||
	    store_prepare(s, "INSERT OR REPLACE INTO uptime_days (site_id, day, up_s, down_s, slow_s,"
	    "  maint_s, checks, failures, ms_n, ms_sum, ms_min, ms_max, ms_hist)"
	    " SELECT site_id, ?1, sum(up_s), sum(down_s), sum(slow_s), sum(maint_s), sum(checks),"
	    "  sum(failures), sum(ms_n), sum(ms_sum), min(ms_min), max(ms_max),"
	    "  squirrel_hist_sum(ms_hist)"
	    " FROM uptime_hours WHERE site_id = ?2 AND hour >= ?1 AND hour < ?1 + 86400"
	    " GROUP BY site_id", 0, &roll, "rolling up a day") < 0)
		goto out;
	sqlite3_bind_int64(list, 1, d);
	sqlite3_bind_int64(list, 2, r->roll_site);
	sqlite3_bind_int64(list, 3, batch);
	while ((step = sqlite3_step(list)) == SQLITE_ROW) {
		int64_t site = sqlite3_column_int64(list, 0);
		sqlite3_bind_int64(roll, 1, d);
		sqlite3_bind_int64(roll, 2, site);
		if (sqlite3_step(roll) != SQLITE_DONE) {
			store_error(s, "rolling up a day");
			goto out;
		}
		sqlite3_reset(roll);
		r->roll_site = site + 1;
		n++;
	}
	if (step != SQLITE_DONE) {
		store_error(s, "rolling up a day");
		goto out;
	}
	if (n == batch) {
		rc = 0;
		goto out;
	}
	/* the day is done; a day no site was checked in: on to the next one that has hours */
	int64_t next = d + DAY;
	if (query_one(s, "SELECT min(hour) FROM uptime_hours WHERE hour >= ?1 AND ?2 = ?2",
	    d + DAY, 0, &next, &found) < 0)
		goto out;
	next = found ? next / DAY * DAY : d + DAY;
	if (store_run(s, "recording the daily roll-up", NULL,
	    "UPDATE settings SET days_below = ?1 WHERE id = 1", "I", next) < 0)
		goto out;
	r->roll_day = 0;
	rc = 1;
out:
	sqlite3_finalize(list);
	sqlite3_finalize(roll);
	return rc;
}

/*
 * Deletes the checks older than cut that the condition `which` lets go,
 * walking the time index from the cursor (column col of settings): each
 * call looks at `batch` checks at most (or at all those of one second, if
 * more share it), and moves the cursor past them. 1 when more are left
 * before cut.
 */
static int prune_checks(struct store *s, const struct store_retention *r, const char *col,
    int64_t from, int64_t cut, const char *which, int *deleted)
{
	char sql[800];
	int64_t end = cut;
	sqlite3_stmt *st;
	bool more = false;

	*deleted = 0;
	if (from >= cut)
		return 0;
	if (store_prepare(s, "SELECT checked_at FROM checks WHERE checked_at >= ?1"
	    " AND checked_at < ?2 ORDER BY checked_at LIMIT 1 OFFSET ?3", 0, &st,
	    "pruning the history") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, cut);
	sqlite3_bind_int64(st, 3, BATCH(r, PRUNE_ROWS));
	if (sqlite3_step(st) == SQLITE_ROW) {
		end = sqlite3_column_int64(st, 0);
		if (end == from)
			end = from + 1;
		more = true;
	}
	sqlite3_finalize(st);
	/*
	 * A site's latest check stays while the site does: its hold may still
	 * be open. site_state knows when that was (and goes with its site), a
	 * lookup in a small table rather than a seek in the checks' index.
	 */
	snprintf(sql, sizeof(sql), "DELETE FROM checks WHERE checked_at >= ?1 AND checked_at < ?2"
	    " AND %s AND checked_at < coalesce((SELECT last_check FROM site_state"
	    "  WHERE site_id = checks.site_id), 9223372036854775807)", which);
	if (store_run(s, "pruning the history", deleted, sql, "II", from, end) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE settings SET %s = ?1 WHERE id = 1", col);
	if (store_run(s, "recording the pruning's progress", NULL, sql, "I", end) < 0)
		return -1;
	return more;
}

static int delete_rows(struct store *s, const struct store_retention *r, const char *what,
    const char *sql, int64_t cut, int *deleted)
{
	return store_run(s, what, deleted, sql, "II", cut, BATCH(r, TIER_ROWS));
}

int store_retention_step(struct store *s, struct store_retention *r, int64_t now,
    struct store_retention_done *done)
{
	int64_t v[5], keep = store_hourly_keep_s(r), raw_cut = now - (int64_t)r->raw_hours * 3600;
	int n = 0, rc = -1, more = 0;

	/*
	 * Pruning a time-ordered stretch touches every site's part of the
	 * (site, time) index: a larger page cache than SQLite's 2 MB keeps
	 * those pages between steps instead of reading them again.
	 */
	if (!r->cache_set) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", UPKEEP_CACHE_KB);
		store_exec(s, sql, "sizing the upkeep's page cache");
		r->cache_set = true;
	}
	if (store_begin(s) < 0)
		return -1;
	if (read_settings(s, v) < 0)
		goto out;
	int64_t below = v[0], days_below = v[1], prune_at = v[2], keep_at = v[3], hours_below = v[4];
	if (below > 0) {
		int64_t rows = 0;
		if (backfill(s, r, below, now, &rows) < 0)
			goto out;
		done->backfilled += rows;
		goto commit;
	}
	/* 2: the oldest day not rolled up yet, when it ended more than a day ago */
	int64_t d = days_below;
	if (d == 0) {
		bool found;
		if (query_one(s, "SELECT min(hour) FROM uptime_hours",
		    INT64_MIN, 0, &d, &found) < 0)
			goto out;
		d = found ? (d - ((d % DAY) + DAY) % DAY) : 0;
	}
	if (d != 0 && d + 2 * DAY <= now) {
		int day_done = roll_day(s, r, d);
		if (day_done < 0)
			goto out;
		done->days += day_done;
		more = 1;
		goto commit;
	}
	/* 3: successes past raw_hours; the readers told first */
	if (store_run(s, "recording the pruning", NULL,
	    "UPDATE settings SET raw_below = ?1 WHERE id = 1 AND raw_below < ?1", "I", raw_cut) < 0)
		goto out;
	more = prune_checks(s, r, "prune_at", prune_at, raw_cut, "ok = 1 AND edge IS NULL", &n);
	if (more < 0)
		goto out;
	done->raw += n;
	if (n > 0 || more)
		goto commit;
	/* 4: failures, edges, latest checks past the hourly tier */
	more = prune_checks(s, r, "keep_at", keep_at, now - keep, "1", &n);
	if (more < 0)
		goto out;
	done->kept += n;
	if (n > 0 || more)
		goto commit;
	/* 5: hours past the hourly tier whose days are rolled up; the readers told */
	int64_t hour_cut = (now - keep) / DAY * DAY;
	if (days_below < hour_cut)
		hour_cut = days_below;
	if (hour_cut > hours_below && store_run(s, "recording the pruning", NULL,
	    "UPDATE settings SET hours_below = ?1 WHERE id = 1", "I", hour_cut) < 0)
		goto out;
	if (delete_rows(s, r, "pruning the hourly tier",
	    "DELETE FROM uptime_hours WHERE (site_id, hour) IN (SELECT site_id, hour"
	    " FROM uptime_hours WHERE hour < ?1 ORDER BY hour LIMIT ?2)", hours_below > hour_cut ?
	    hours_below : hour_cut, &n) < 0)
		goto out;
	done->hours += n;
	more = n == BATCH(r, TIER_ROWS);
	if (n > 0)
		goto commit;
	/* 6: days past history_days */
	if (delete_rows(s, r, "pruning the daily tier",
	    "DELETE FROM uptime_days WHERE (site_id, day) IN (SELECT site_id, day"
	    " FROM uptime_days WHERE day < ?1 ORDER BY day LIMIT ?2)",
	    now - (int64_t)r->history_days * DAY, &n) < 0)
		goto out;
	done->days_pruned += n;
	if (n > 0)
		goto commit;
	if (store_commit(s) < 0)
		return -1;
	return 0;
commit:
	if (store_commit(s) < 0)
		return -1;
	/* something done: the next step may find more of another kind */
	return 1;
out:
	store_rollback(s);
	return rc;
}

/*
 * uptime.c - the uptime figures and what keeps them cheap: the reader (one
 * snapshot, statements prepared once, for a report over many sites), the
 * figures squirrelctl status, the status page and the metrics show, the
 * configured interval kept in the database for the rollup trigger, and the
 * one-time roll-up of history older than that trigger.
 *
 * Uptime reads the daily tier for the whole days of a window that are
 * rolled up (or whose hours are gone), the hourly one for the other whole
 * hours, and the raw checks only for the partial hours at its edges, so a
 * 30-day figure reads some 30 days and two days of hours per site instead
 * of tens of thousands of checks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/core/hist.h"
#include "squirrel/store/uptime.h"
#include "db.h"

#define HOUR 3600
#define READER_CACHE_KB "65536"
#define DAY 86400

/*
 * The longest a check's verdict holds: twice the site's interval, at most
 * a day. The trigger in schema_v3 uses the same expression: keep them one.
 */
#define CAP_SQL STORE_CAP_SQL("?1")


/* ---- the configured interval, and the history from before the rollup ---- */

/* One hour of one site's rollup being summed before it is written. */
struct hour_acc {
	int64_t site, hour, up, down;
	bool used;
};

static int flush_hour(struct store *s, sqlite3_stmt *up, struct hour_acc *a)
{
	if (!a->used || (a->up == 0 && a->down == 0))
		return 0;
	sqlite3_reset(up);
	sqlite3_bind_int64(up, 1, a->site);
	sqlite3_bind_int64(up, 2, a->hour);
	sqlite3_bind_int64(up, 3, a->up);
	sqlite3_bind_int64(up, 4, a->down);
	if (sqlite3_step(up) != SQLITE_DONE) {
		store_error(s, "rolling up the older history");
		return -1;
	}
	return 0;
}

/*
 * The history from before schema v3, rolled up the way the trigger would
 * have done it: each check's hold until its successor, capped, cut into
 * hours. Only pairs whose successor is old too: the trigger already
 * counted the last old check when the first new one arrived. One pass in
 * index order, summed here: a window function and a GROUP BY in SQL took
 * ten times as long on a year of history.
 */
static int roll_up_old_history(struct store *s, int64_t below)
{
	sqlite3_stmt *rd = NULL, *up = NULL;
	struct hour_acc acc = { 0 };
	int64_t psite = 0, pt = 0, pcap = 0;
	bool have = false;
	int pverdict = 0;           /* 1 up, 0 down, -1 unknown: counts in neither */
	int rc = -1, step;

	if (store_prepare(s,
	    "SELECT c.site_id, c.checked_at,"
	    " CASE WHEN c.ok THEN 1 WHEN " STORE_UNKNOWN_SQL("c.") " THEN -1 ELSE 0 END,"
	    " min(2 * coalesce(s.interval_s,"
	    "  (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)"
	    " FROM checks c LEFT JOIN sites s ON s.id = c.site_id WHERE c.id < ?1"
	    " ORDER BY c.site_id, c.checked_at, c.id", 0, &rd, "rolling up the older history") < 0 ||
	    store_prepare(s,
	    "INSERT INTO uptime_hours (site_id, hour, up_s, down_s) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (site_id, hour) DO UPDATE SET up_s = up_s + excluded.up_s,"
	    "  down_s = down_s + excluded.down_s", 0, &up, "rolling up the older history") < 0)
		goto out;
	sqlite3_bind_int64(rd, 1, below);
	while ((step = sqlite3_step(rd)) == SQLITE_ROW) {
		int64_t site = sqlite3_column_int64(rd, 0), t = sqlite3_column_int64(rd, 1);
		if (have && site == psite && pverdict >= 0) {
			int64_t end = pt + (t - pt < pcap ? t - pt : pcap);
			/* the hold [pt, end) cut at hour boundaries */
			for (int64_t from = pt; from < end;) {
				int64_t hour = from / 3600 * 3600, to = hour + 3600 < end ? hour + 3600 : end;
				if (!acc.used || acc.site != site || acc.hour != hour) {
					if (flush_hour(s, up, &acc) < 0)
						goto out;
					acc = (struct hour_acc){ .site = site, .hour = hour, .used = true };
				}
				if (pverdict > 0)
					acc.up += to - from;
				else
					acc.down += to - from;
				from = to;
			}
		}
		have = true;
		psite = site;
		pt = t;
		pverdict = sqlite3_column_int(rd, 2);
		pcap = sqlite3_column_int64(rd, 3);
	}
	if (step != SQLITE_DONE) {
		store_error(s, "rolling up the older history");
		goto out;
	}
	if (flush_hour(s, up, &acc) < 0)
		goto out;
	rc = store_exec(s, "UPDATE settings SET rollup_backfill_below = 0 WHERE id = 1",
	    "rolling up the older history");
out:
	sqlite3_finalize(rd);
	sqlite3_finalize(up);
	return rc;
}

int store_set_default_interval(struct store *s, int interval_s)
{
	if (interval_s <= 0)
		return -1;
	store_tiers_forget(s);
	/* Written only when it changed: a start should not always cost a write. */
	return store_run(s, "saving the default interval", NULL,
	    "UPDATE settings SET default_interval_s = ?1"
	    " WHERE id = 1 AND default_interval_s <> ?1", "i", interval_s);
}

int store_rollup_backfill(struct store *s)
{
	sqlite3_stmt *st;
	int64_t below = -1;
	bool own = sqlite3_get_autocommit(s->db) != 0;
	int rc = -1;

	/* read under the write lock: two processes starting together roll up once */
	if (own && store_begin(s) < 0)
		return -1;
	if (store_prepare(s, "SELECT rollup_backfill_below FROM settings WHERE id = 1", 0, &st,
	    "reading the settings") < 0)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		below = sqlite3_column_int64(st, 0);
	else
		store_error(s, "reading the settings");
	sqlite3_finalize(st);
	if (below < 0)
		goto out;
	if (below > 0) {
		log_info("%s: rolling up the uptime of the history from before schema version 3 "
		    "(once; a long history takes a while)", s->path);
		if (roll_up_old_history(s, below) < 0)
			goto out;
	}
	rc = 0;
out:
	if (own && rc == 0)
		return store_commit(s);
	if (own)
		store_rollback(s);
	return rc;
}

/* ---- the reader: figures over many sites from one snapshot ---- */

enum {
	Q_CAP,
	Q_LAST,
	Q_ROLLUP,
	Q_RAW,
	Q_RAW_PLAIN,
	Q_PLAIN,
	Q_DAYS,
	Q_DAY_TIER,
	Q_DAY_ROWS,
	Q_HOUR_ROW,
	Q_HIST,
	Q_HIST_HOURS,
	Q_HIST_DAYS,
	Q_RT,
	Q_INCIDENTS,
	Q_INCIDENT_COUNT,
	Q_NOTES,
	Q_MAX
};

/*
 * A check's verdict for the uptime sums, as the rollup trigger sees it
 * (STORE_VERDICT_SQL): 3 maintenance, 2 up and slow, 1 up, 0 down, -1
 * unknown (its hold counts in none).
 */
#define VERDICT_SQL STORE_VERDICT_SQL("")

static const char *const reader_sql[Q_MAX] = {
	[Q_CAP] = "SELECT " CAP_SQL,
	[Q_LAST] = "SELECT checked_at, id, " VERDICT_SQL " FROM checks WHERE site_id = ?1"
	    " ORDER BY checked_at DESC, id DESC LIMIT 1",
	[Q_ROLLUP] = "SELECT coalesce(sum(up_s), 0), coalesce(sum(down_s), 0), coalesce(sum(slow_s), 0),"
	    " coalesce(sum(maint_s), 0) FROM uptime_hours"
	    " WHERE site_id = ?1 AND hour >= ?2 AND hour < ?3",
	/* the same from the covering index alone, for stretches with plain verdicts only */
	[Q_RAW_PLAIN] = "SELECT checked_at, id, ok FROM checks INDEXED BY checks_site_time_ok_ms"
	    " WHERE site_id = ?1 AND checked_at >= ?2 AND checked_at <= ?3 ORDER BY checked_at, id",
	/* whether the hours of a stretch had any slow, maintenance or unknown check */
	[Q_PLAIN] = "SELECT coalesce(sum(slow_s) + sum(maint_s) + sum(checks - failures - ms_n), 0)"
	    " FROM uptime_hours WHERE site_id = ?1 AND hour >= ?2 AND hour <= ?3",
	[Q_RAW] = "SELECT checked_at, id, " VERDICT_SQL " FROM checks WHERE site_id = ?1"
	    " AND checked_at >= ?2 AND checked_at <= ?3 ORDER BY checked_at, id",
	[Q_DAYS] = "SELECT hour / 86400 * 86400, sum(up_s), sum(down_s), sum(slow_s), sum(maint_s)"
	    " FROM uptime_hours"
	    " WHERE site_id = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY hour / 86400",
	[Q_DAY_TIER] = "SELECT coalesce(sum(up_s), 0), coalesce(sum(down_s), 0),"
	    " coalesce(sum(slow_s), 0), coalesce(sum(maint_s), 0) FROM uptime_days"
	    " WHERE site_id = ?1 AND day >= ?2 AND day < ?3",
	[Q_DAY_ROWS] = "SELECT day, up_s, down_s, slow_s, maint_s FROM uptime_days"
	    " WHERE site_id = ?1 AND day >= ?2 AND day < ?3",
	[Q_HOUR_ROW] = "SELECT up_s, down_s, slow_s, maint_s FROM uptime_hours"
	    " WHERE site_id = ?1 AND hour = ?2",
	[Q_HIST] = "SELECT ms_hist FROM uptime_hours WHERE site_id = ?1 AND hour > ?2 - 3600"
	    " AND hour <= ?3 AND ms_n > 0",
	/* the histograms of [?2, ?3), slot by slot: the hours, the days rolled up */
	[Q_HIST_HOURS] = "SELECT hour, ms_hist FROM uptime_hours WHERE site_id = ?1 AND hour >= ?2"
	    " AND hour < ?3 AND ms_n > 0 ORDER BY hour",
	[Q_HIST_DAYS] = "SELECT day, ms_hist FROM uptime_days WHERE site_id = ?1 AND day >= ?2"
	    " AND day < ?3 AND ms_n > 0 ORDER BY day",
	/* each hour of the tier with a good check: its mean, at its middle */
	[Q_RT] = "SELECT hour + 1800, ms_sum / ms_n FROM uptime_hours WHERE site_id = ?1 AND hour > ?2 - 3600"
	    " AND ms_n > 0 ORDER BY hour",
	[Q_INCIDENTS] = "SELECT id, started_at, ended_at, cause FROM incidents WHERE site_id = ?1"
	    " AND (ended_at IS NULL OR ended_at >= ?2) ORDER BY started_at DESC, id DESC LIMIT ?3",
	[Q_INCIDENT_COUNT] = "SELECT count(*) FROM incidents WHERE site_id = ?1"
	    " AND (ended_at IS NULL OR ended_at >= ?2)",
	[Q_NOTES] = STORE_NOTES_SQL,
};

/* What every uptime sum of one site needs: its cap and its latest check. */
/*
 * A piece of a window already summed for this site: the 24-hour, 7-day and
 * 30-day figures all end at now, so they share their last partial hour
 * (read from the raw checks) and their hours since the last rolled-up day.
 */
struct piece_memo {
	int kind;                 /* MEMO_EDGE, MEMO_HOURS */
	int64_t from, to;
	struct sq_uptime u;
};

enum { MEMO_EDGE = 1, MEMO_HOURS };

#define MEMOS 4

struct site_ctx {
	int64_t id;
	int64_t cap;
	bool has_last;
	int64_t last_t, last_id;
	int last_verdict;         /* VERDICT_SQL */
	struct piece_memo memo[MEMOS];
	int nmemo;                /* pieces noted, the oldest overwritten past MEMOS */
};

struct sq_reader {
	struct store *s;
	sqlite3_stmt *q[Q_MAX];
	bool began;
	int64_t raw_below;        /* successes before it may be pruned: no raw edges there */
	int64_t hours_below;      /* the hours before it are gone: those days from uptime_days */
	int64_t days_below;       /* the days before it are rolled up: a whole one is its row */
	bool counted;             /* every hour has its counts (no backfill pending) */
	struct site_ctx site;     /* the last site asked about; valid in the snapshot */
	bool site_valid;
};

/* Where the tiers meet, in this snapshot (retention.c moves them on). */
static int read_bounds(struct sq_reader *r)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(r->s, "SELECT raw_below, hours_below, days_below, backfill_below = 0"
	    " FROM settings WHERE id = 1",
	    0, &st, "reading where the history's tiers meet") < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->raw_below = sqlite3_column_int64(st, 0);
		r->hours_below = sqlite3_column_int64(st, 1);
		r->days_below = sqlite3_column_int64(st, 2);
		r->counted = sqlite3_column_int(st, 3) != 0;
	} else if (rc != SQLITE_DONE) {
		store_error(r->s, "reading where the history's tiers meet");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

struct sq_reader *store_reader_open(struct store *s)
{
	struct sq_reader *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		log_errorx("%s: out of memory", s->path);
		return NULL;
	}
	r->s = s;
	/*
	 * A report over many sites reads each site's few pages of every tier,
	 * and the raw checks of the last hours that all sites share: a larger
	 * page cache than SQLite's 2 MB keeps those instead of reading them
	 * again for each site.
	 */
	store_exec(s, "PRAGMA cache_size = -" READER_CACHE_KB, "sizing the page cache");
	/* one snapshot for the whole report, unless the caller already holds one */
	if (sqlite3_get_autocommit(s->db)) {
		if (store_exec(s, "BEGIN", "starting a read") < 0) {
			free(r);
			return NULL;
		}
		r->began = true;
	}
	for (int i = 0; i < Q_MAX; i++) {
		if (store_prepare(s, reader_sql[i], STORE_KEEP, &r->q[i],
		    "preparing a report query") < 0) {
			store_reader_close(r);
			return NULL;
		}
	}
	if (read_bounds(r) < 0) {
		store_reader_close(r);
		return NULL;
	}
	return r;
}

void store_reader_close(struct sq_reader *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(r->q[i]);
	if (r->began)
		sqlite3_exec(r->s->db, "COMMIT", NULL, NULL, NULL);
	free(r);
}

/* Resets and binds ?1 = site id; the caller binds the rest. */
static sqlite3_stmt *query(struct sq_reader *r, int q, int64_t site_id)
{
	sqlite3_stmt *st = r->q[q];
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, site_id);
	return st;
}

static int site_ctx(struct sq_reader *r, int64_t site_id, struct site_ctx **out)
{
	struct site_ctx *c = &r->site;
	sqlite3_stmt *st;
	int rc;

	if (r->site_valid && c->id == site_id) {
		*out = c;
		return 0;
	}
	r->site_valid = false;
	memset(c, 0, sizeof(*c));
	c->id = site_id;
	st = query(r, Q_CAP, site_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	c->cap = sqlite3_column_int64(st, 0);
	if (c->cap < 0)
		c->cap = 0;
	sqlite3_reset(st);
	st = query(r, Q_LAST, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->has_last = true;
		c->last_t = sqlite3_column_int64(st, 0);
		c->last_id = sqlite3_column_int64(st, 1);
		c->last_verdict = sqlite3_column_int(st, 2);
	} else if (rc != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_reset(st);
	r->site_valid = true;
	*out = c;
	return 0;
fail:
	store_error(r->s, "reading a site's latest check");
	sqlite3_reset(st);
	return -1;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Adds the part of [t0, t1) inside [from, to) to its sum (verdict: VERDICT_SQL). */
static void add_overlap(struct sq_uptime *u, int verdict, int64_t t0, int64_t t1, int64_t from,
    int64_t to)
{
	int64_t piece = min64(t1, to) - max64(t0, from);
	if (piece <= 0 || verdict < 0)
		return;
	if (verdict == 3)
		u->maint_s += piece;
	else if (verdict == 0)
		u->down_s += piece;
	else
		u->up_s += piece;
	if (verdict == 2)
		u->slow_s += piece;
}

/*
 * The closed holds (checks followed by another) inside [e0, e1), from the
 * raw checks: used for the partial hours at a window's edges. A check more
 * than cap before e0 cannot reach into it; one without a successor within
 * cap after e1 holds its full cap, unless it is the latest (still open).
 */
/*
 * Whether every check of [from, to] and every hold it has is a plain up or
 * down (no slow, maintenance or unknown verdict), as its hours say: then
 * the covering index alone tells the verdicts (ok), and the rows of the
 * checks table are not read. Only once every hour has its counts (the
 * backfill of pre-19 history done).
 */
static int plain_stretch(struct sq_reader *r, const struct site_ctx *c, int64_t from, int64_t to,
    bool *plain)
{
	sqlite3_stmt *st;

	*plain = false;
	if (!r->counted)
		return 0;
	st = query(r, Q_PLAIN, c->id);
	sqlite3_bind_int64(st, 2, from - ((from % HOUR) + HOUR) % HOUR);
	sqlite3_bind_int64(st, 3, to + c->cap);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_error(r->s, "reading the hourly tier");
		sqlite3_reset(st);
		return -1;
	}
	*plain = sqlite3_column_int64(st, 0) == 0;
	sqlite3_reset(st);
	return 0;
}

static int raw_edge(struct sq_reader *r, const struct site_ctx *c, int64_t e0, int64_t e1,
    struct sq_uptime *u)
{
	sqlite3_stmt *st;
	bool have = false, plain;
	int64_t t = 0, id = 0;
	int verdict = 0, rc;

	if (e0 >= e1)
		return 0;
	if (plain_stretch(r, c, e0 - c->cap, e1 + c->cap, &plain) < 0)
		return -1;
	st = query(r, plain ? Q_RAW_PLAIN : Q_RAW, c->id);
	sqlite3_bind_int64(st, 2, e0 - c->cap);
	sqlite3_bind_int64(st, 3, e1 + c->cap);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t nt = sqlite3_column_int64(st, 0);
		if (have)
			add_overlap(u, verdict, t, t + min64(nt - t, c->cap), e0, e1);
		have = true;
		t = nt;
		id = sqlite3_column_int64(st, 1);
		verdict = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(r->s, "reading checks for uptime");
		return -1;
	}
	if (have && !(c->has_last && t == c->last_t && id == c->last_id))
		add_overlap(u, verdict, t, t + c->cap, e0, e1);
	return 0;
}

/* The four sums of one tier's rows of [a, b) (q: Q_ROLLUP, Q_DAY_TIER) added to u. */
static int tier_sum(struct sq_reader *r, int q, int64_t site_id, int64_t a, int64_t b,
    struct sq_uptime *u, const char *what)
{
	sqlite3_stmt *st = query(r, q, site_id);

	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_error(r->s, what);
		sqlite3_reset(st);
		return -1;
	}
	u->up_s += sqlite3_column_int64(st, 0);
	u->down_s += sqlite3_column_int64(st, 1);
	u->slow_s += sqlite3_column_int64(st, 2);
	u->maint_s += sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	return 0;
}

static int rollup_sum(struct sq_reader *r, int64_t site_id, int64_t h0, int64_t h1,
    struct sq_uptime *u)
{
	return tier_sum(r, Q_ROLLUP, site_id, h0, h1, u, "reading the uptime rollup");
}

/* The latest check's hold: until now, at most its cap. */
static void open_hold(const struct site_ctx *c, int64_t from, int64_t to, int64_t now,
    struct sq_uptime *u)
{
	if (c->has_last)
		add_overlap(u, c->last_verdict, c->last_t, min64(c->last_t + c->cap, now), from, to);
}

static void add_sums(struct sq_uptime *u, const struct sq_uptime *v)
{
	u->up_s += v->up_s;
	u->down_s += v->down_s;
	u->slow_s += v->slow_s;
	u->maint_s += v->maint_s;
}

/* Adds the piece [from, to) of this kind when it was summed already; false if not. */
static bool memo_add(const struct site_ctx *c, int kind, int64_t from, int64_t to,
    struct sq_uptime *u)
{
	for (int i = 0; i < c->nmemo && i < MEMOS; i++) {
		const struct piece_memo *m = &c->memo[i];
		if (m->kind == kind && m->from == from && m->to == to) {
			add_sums(u, &m->u);
			return true;
		}
	}
	return false;
}

static void memo_note(struct site_ctx *c, int kind, int64_t from, int64_t to,
    const struct sq_uptime *u)
{
	struct piece_memo *m = &c->memo[c->nmemo++ % MEMOS];

	m->kind = kind;
	m->from = from;
	m->to = to;
	m->u = *u;
}

/* part/whole of each sum in a (the share of an hour or a day inside a window) */
static void add_share(struct sq_uptime *u, const int64_t v[4], int64_t part, int64_t whole)
{
	u->up_s += v[0] * part / whole;
	u->down_s += v[1] * part / whole;
	u->slow_s += v[2] * part / whole;
	u->maint_s += v[3] * part / whole;
}

/*
 * The closed holds inside [e0, e1), less than an hour inside one hour:
 * from the raw checks while they are all there, else the hour's share of
 * its row (the successes before raw_below may be pruned).
 */
static int edge(struct sq_reader *r, struct site_ctx *c, int64_t e0, int64_t e1,
    struct sq_uptime *u)
{
	int64_t h = e0 - ((e0 % HOUR) + HOUR) % HOUR, v[4];
	sqlite3_stmt *st;
	int rc;

	if (e0 >= e1)
		return 0;
	if (e0 - c->cap >= r->raw_below) {
		struct sq_uptime p = { 0 };
		if (memo_add(c, MEMO_EDGE, e0, e1, u))
			return 0;
		if (raw_edge(r, c, e0, e1, &p) < 0)
			return -1;
		memo_note(c, MEMO_EDGE, e0, e1, &p);
		add_sums(u, &p);
		return 0;
	}
	st = query(r, Q_HOUR_ROW, c->id);
	sqlite3_bind_int64(st, 2, h);
	rc = sqlite3_step(st);
	for (int i = 0; rc == SQLITE_ROW && i < 4; i++)
		v[i] = sqlite3_column_int64(st, i);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(r->s, "reading the hourly tier");
		return -1;
	}
	if (rc == SQLITE_ROW)
		add_share(u, v, e1 - e0, HOUR);
	return 0;
}

/* The sums of the daily tier's rows of the days [d0, d1). */
static int day_tier_sum(struct sq_reader *r, int64_t site_id, int64_t d0, int64_t d1,
    struct sq_uptime *u)
{
	return tier_sum(r, Q_DAY_TIER, site_id, d0, d1, u, "reading the daily tier");
}

/*
 * The closed holds of [from, to) from the daily tier, to < hours_below:
 * whole days as they are, a day cut by the window by its share.
 */
static int day_part(struct sq_reader *r, int64_t site_id, int64_t from, int64_t to,
    struct sq_uptime *u)
{
	int64_t d0 = (from + DAY - 1) / DAY * DAY, d1 = to / DAY * DAY, v[4];
	sqlite3_stmt *st;
	int rc;

	if (d0 < d1 && day_tier_sum(r, site_id, d0, d1, u) < 0)
		return -1;
	/* the days the window cuts: before d0, and from d1 on */
	st = query(r, Q_DAY_ROWS, site_id);
	sqlite3_bind_int64(st, 2, from / DAY * DAY);
	sqlite3_bind_int64(st, 3, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t day = sqlite3_column_int64(st, 0);
		if (day >= d0 && day < d1)
			continue;
		for (int i = 0; i < 4; i++)
			v[i] = sqlite3_column_int64(st, i + 1);
		add_share(u, v, min64(day + DAY, to) - max64(day, from), DAY);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(r->s, "reading the daily tier");
		return -1;
	}
	return 0;
}

/* The closed holds of [from, to) from the hourly tier: whole hours, and the edges. */
static int hour_part(struct sq_reader *r, struct site_ctx *c, int64_t from, int64_t to,
    struct sq_uptime *u)
{
	int64_t h0 = (from + HOUR - 1) / HOUR * HOUR, h1 = to / HOUR * HOUR;
	struct sq_uptime p = { 0 };
	int rc;

	if (from >= to || memo_add(c, MEMO_HOURS, from, to, u))
		return 0;
	if (h0 < h1)
		rc = rollup_sum(r, c->id, h0, h1, &p) < 0 || edge(r, c, from, h0, &p) < 0 ||
		    edge(r, c, h1, to, &p) < 0 ? -1 : 0;
	else
		rc = edge(r, c, from, to, &p);
	if (rc < 0)
		return -1;
	memo_note(c, MEMO_HOURS, from, to, &p);
	add_sums(u, &p);
	return 0;
}

int store_reader_uptime(struct sq_reader *r, int64_t site_id, int64_t from, int64_t to,
    int64_t now, struct sq_uptime *u)
{
	struct site_ctx *c;
	int64_t start = from;

	memset(u, 0, sizeof(*u));
	if (from >= to)
		return 0;
	if (site_ctx(r, site_id, &c) < 0)
		return -1;
	/* the daily tier before hours_below, the hourly one from there */
	if (r->hours_below > from) {
		if (day_part(r, site_id, from, min64(to, r->hours_below), u) < 0)
			return -1;
		start = min64(to, r->hours_below);
	}
	/*
	 * Whole days rolled up already (before days_below) are their row of the
	 * daily tier, the sum of their hours: a 30-day window reads some 30
	 * rows and two days of hours, not 720. The rest from the hourly tier.
	 */
	int64_t d0 = (start + DAY - 1) / DAY * DAY, d1 = min64(to / DAY * DAY, r->days_below);
	if (start < to && d0 < d1) {
		if (hour_part(r, c, start, d0, u) < 0 || day_tier_sum(r, site_id, d0, d1, u) < 0 ||
		    hour_part(r, c, d1, to, u) < 0)
			return -1;
	} else if (hour_part(r, c, start, to, u) < 0) {
		return -1;
	}
	open_hold(c, from, to, now, u);
	return 0;
}

/*
 * The rows of days [a, b) that query q (Q_DAY_ROWS: the daily tier, Q_DAYS:
 * the hourly one summed by day) gives, added to days[] counted from
 * first_day.
 */
static int days_into(struct sq_reader *r, int q, int64_t site_id, int64_t first_day, int64_t a,
    int64_t b, int ndays, struct sq_uptime *days, const char *what)
{
	sqlite3_stmt *st = query(r, q, site_id);
	int rc;

	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i = (sqlite3_column_int64(st, 0) - first_day) / DAY;
		if (i < 0 || i >= ndays)
			continue;
		days[i].up_s += sqlite3_column_int64(st, 1);
		days[i].down_s += sqlite3_column_int64(st, 2);
		days[i].slow_s += sqlite3_column_int64(st, 3);
		days[i].maint_s += sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(r->s, what);
		return -1;
	}
	return 0;
}

int store_reader_uptime_days(struct sq_reader *r, int64_t site_id, int64_t first_day,
    int ndays, int64_t now, struct sq_uptime *days)
{
	struct site_ctx *c;

	memset(days, 0, (size_t)ndays * sizeof(*days));
	first_day = first_day / DAY * DAY;
	if (site_ctx(r, site_id, &c) < 0)
		return -1;
	int64_t end = first_day + (int64_t)ndays * DAY, split = first_day;
	/* the daily tier where the days are rolled up (or their hours gone), the hours after */
	int64_t tier_end = max64(r->hours_below, r->days_below);
	if (tier_end > first_day) {
		split = min64(end, tier_end);
		if (days_into(r, Q_DAY_ROWS, site_id, first_day, first_day, split, ndays, days,
		    "reading the daily tier") < 0)
			return -1;
	}
	if (days_into(r, Q_DAYS, site_id, first_day, split, end, ndays, days,
	    "reading the daily uptime") < 0)
		return -1;
	for (int i = 0; i < ndays; i++)
		open_hold(c, first_day + (int64_t)i * DAY, first_day + (int64_t)(i + 1) * DAY, now,
		    &days[i]);
	return 0;
}

/*
 * The good checks' response times of the hours that overlap [from, to],
 * merged from the hourly tier's histograms.
 */
static int hist_of(struct sq_reader *r, int64_t site_id, int64_t from, int64_t to,
    struct sq_hist *h)
{
	sqlite3_stmt *st = query(r, Q_HIST, site_id);
	int rc;

	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_hist_merge_blob(h, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0)) < 0)
			log_warnx("%s: site %" PRId64 ": a response-time histogram (ms_hist) is not "
			    "one; its hour is left out", r->s->path, site_id);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(r->s, "reading response times");
		return -1;
	}
	return 0;
}

/*
 * The rows of query q (Q_HIST_HOURS, Q_HIST_DAYS) over [a, b), each merged
 * into its slot of step seconds from first; a slot's percentiles are read
 * when the rows move past it, so one histogram is held at a time.
 */
static int slots_into(struct sq_reader *r, int q, int64_t site_id, int64_t first, int64_t step,
    int n, int64_t a, int64_t b, struct sq_hist *h, int *cur, struct sq_rt_slot *out)
{
	sqlite3_stmt *st = query(r, q, site_id);
	int rc;

	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);
		int64_t i = t >= first ? (t - first) / step : -1;
		if (i < 0 || i >= n)
			continue;
		if (i != *cur) {
			if (*cur >= 0 && h->total > 0) {
				out[*cur].p50 = sq_hist_percentile(h, 50);
				out[*cur].p95 = sq_hist_percentile(h, 95);
			}
			memset(h, 0, sizeof(*h));
			*cur = (int)i;
		}
		if (sq_hist_merge_blob(h, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1)) < 0)
			log_warnx("%s: site %" PRId64 ": a response-time histogram (ms_hist) is not "
			    "one; it is left out", r->s->path, site_id);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(r->s, "reading response times");
		return -1;
	}
	return 0;
}

int store_reader_rt_slots(struct sq_reader *r, int64_t site_id, int64_t first, int64_t step,
    int n, struct sq_rt_slot *out)
{
	int cur = -1, rc = 0;
	struct sq_hist *h;

	for (int i = 0; i < n; i++)
		out[i].p50 = out[i].p95 = -1;
	if (step != 3600 && step != DAY) {
		log_errorx("response times by slots of %" PRId64 " s: only hours and days", step);
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_errorx("%s: out of memory", r->s->path);
		return -1;
	}
	int64_t end = first + (int64_t)n * step, split = first;
	if (step == DAY) {
		/* the daily tier where the days are rolled up (or their hours gone), the hours after */
		int64_t tier_end = max64(r->hours_below, r->days_below);
		if (tier_end > first) {
			split = min64(end, tier_end);
			rc = slots_into(r, Q_HIST_DAYS, site_id, first, step, n, first, split, h, &cur,
			    out);
		}
	}
	if (rc == 0)
		rc = slots_into(r, Q_HIST_HOURS, site_id, first, step, n, split, end, h, &cur, out);
	if (rc == 0 && cur >= 0 && h->total > 0) {
		out[cur].p50 = sq_hist_percentile(h, 50);
		out[cur].p95 = sq_hist_percentile(h, 95);
	}
	free(h);
	return rc;
}

static int rt_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_rt_sample *x = elem;
	(void)arg;

	x->t = sqlite3_column_int64(st, 0);
	x->ms = store_col_int(st, 1, 0);
	return 0;
}

int store_reader_response_times(struct sq_reader *r, int64_t site_id, int64_t from,
    struct sq_rt_sample **out, size_t *nout)
{
	sqlite3_stmt *st = query(r, Q_RT, site_id);
	struct { struct sq_rt_sample *v; size_t n; } l = { NULL, 0 };
	int rc;

	sqlite3_bind_int64(st, 2, from);
	rc = STORE_COLLECT(r->s, st, rt_row, NULL, &l, "reading response times");
	sqlite3_reset(st);
	if (rc < 0) {
		free(l.v);
		return -1;
	}
	*out = l.v;
	*nout = l.n;
	return 0;
}

void store_free_incidents(struct sq_incident_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].cause);
		store_notes_free(l->v[i].notes, l->v[i].nnotes);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int incident_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_incident *i = elem;
	(void)arg;

	i->id = sqlite3_column_int64(st, 0);
	i->started_at = store_col_int(st, 1, 0);
	i->ended_at = store_col_int(st, 2, 0);
	return store_col_as_text(st, 3, false, &i->cause);
}

int store_reader_incidents(struct sq_reader *r, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_list *out)
{
	sqlite3_stmt *st = query(r, Q_INCIDENTS, site_id);
	struct sq_incident_list l = { NULL, 0 };
	int rc;

	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (int64_t)limit);
	rc = STORE_COLLECT(r->s, st, incident_row, NULL, &l, "reading incidents");
	sqlite3_reset(st);
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = store_notes_read(r->s, r->q[Q_NOTES], l.v[i].id, &l.v[i].notes, &l.v[i].nnotes);
	if (rc < 0) {
		store_free_incidents(&l);
		return -1;
	}
	*out = l;
	return 0;
}

static void swap64(int64_t *a, int64_t *b)
{
	int64_t t = *a;
	*a = *b;
	*b = t;
}

/*
 * Puts the k-th smallest of v[0..n) at v[k] (Hoare's selection, median of
 * three): a day of one-minute checks per site, a thousand sites, and a
 * full sort of each was a fifth of squirrelctl status.
 */
static void select_kth(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (hi > lo) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap64(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap64(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap64(&v[hi], &v[mid]);
		int64_t pivot = v[mid];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap64(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

int64_t percentile(int64_t *v, size_t n, int pct)
{
	if (n == 0)
		return -1;
	/* nearest rank: the smallest value with at least pct% of them at or below it */
	size_t rank = (n * (size_t)pct + 99) / 100;
	size_t k = rank > 0 ? rank - 1 : 0;
	select_kth(v, n, k);
	return v[k];
}

int store_reader_figures(struct sq_reader *r, int64_t site_id, int64_t now, struct sq_figures *f)
{
	struct sq_hist *h;
	sqlite3_stmt *st;

	memset(f, 0, sizeof(*f));
	f->p50_ms = f->p95_ms = -1;
	if (store_reader_uptime(r, site_id, now - DAY, now, now, &f->day) < 0 ||
	    store_reader_uptime(r, site_id, now - 7 * DAY, now, now, &f->week) < 0 ||
	    store_reader_uptime(r, site_id, now - 30 * DAY, now, now, &f->month) < 0)
		return -1;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_errorx("%s: out of memory", r->s->path);
		return -1;
	}
	if (hist_of(r, site_id, now - DAY, now, h) < 0) {
		free(h);
		return -1;
	}
	f->p50_ms = sq_hist_percentile(h, 50);
	f->p95_ms = sq_hist_percentile(h, 95);
	free(h);
	st = query(r, Q_INCIDENT_COUNT, site_id);
	sqlite3_bind_int64(st, 2, now - 30 * DAY);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_error(r->s, "counting incidents");
		sqlite3_reset(st);
		return -1;
	}
	f->incidents = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

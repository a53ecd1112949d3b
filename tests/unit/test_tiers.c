/*
 * test_tiers.c - the history's tiers (schema 19) against a plain reckoning
 * over the checks: generated histories with every verdict (up, slow,
 * maintenance, down, unknown), sites with different intervals and gaps, one
 * added in the middle of an hour, one deleted. The figures read from the
 * tiers equal the reckoning before any pruning, and after it wherever the
 * window's edges fall on hours (or days) or inside the raw window; the
 * pruning runs in transactions no larger than asked; percentiles from the
 * histograms stay within 5 % of the exact ones.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squirrel/core/hist.h"
#include "squirrel/store/results.h"
#include "squirrel/store/retention.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"
#include "tap.h"

#define HOUR 3600
#define DAY 86400
#define T0 1700000123           /* not on an hour: the first site starts mid-hour */
#define SPAN (45 * DAY)

struct ev {
	int64_t t;
	int verdict;               /* 3 maintenance, 2 slow, 1 up, 0 down, -1 unknown */
	int ms;
};

struct hist_site {
	int64_t id, cap;
	struct ev *e;
	size_t n;
};

static char dir[] = "/tmp/squirrel-tiers-XXXXXX";
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void save(struct store *s, int64_t site, const struct ev *e)
{
	struct sq_result r = {
		.site_id = site,
		.started_ms = e->t * 1000,
		.http_status = e->verdict >= 1 ? 200 : 503,
		.err = e->verdict >= 1 || (e->verdict == 3) ? SQ_OK :
		    e->verdict == -1 ? SQ_ERR_NO_QUORUM : SQ_ERR_HTTP,
		.ms = e->ms,
	};
	struct sq_check_marks m = { .maintenance = e->verdict == 3 ? 7 : 0, .slow = e->verdict == 2 };
	struct sq_site_state st = { .state = SQ_STATE_UP, .since = T0 };
	if (store_save_check_marked(s, &r, &st, NULL, 0, &m) < 0)
		printf("# saving a check failed\n");
}

/* The seconds of each verdict over [from, to), from the events alone. */
static void reckon(const struct hist_site *h, int64_t from, int64_t to, int64_t now,
    struct sq_uptime *u)
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < h->n; i++) {
		const struct ev *e = &h->e[i];
		int64_t end = i + 1 < h->n ? e->t + (h->e[i + 1].t - e->t < h->cap ?
		    h->e[i + 1].t - e->t : h->cap) : (e->t + h->cap < now ? e->t + h->cap : now);
		int64_t a = e->t > from ? e->t : from, b = end < to ? end : to;
		if (b <= a || e->verdict < 0)
			continue;
		if (e->verdict == 3)
			u->maint_s += b - a;
		else if (e->verdict == 0)
			u->down_s += b - a;
		else
			u->up_s += b - a;
		if (e->verdict == 2)
			u->slow_s += b - a;
	}
}

static int64_t diff(const struct sq_uptime *a, const struct sq_uptime *b)
{
	return llabs(a->up_s - b->up_s) + llabs(a->down_s - b->down_s) +
	    llabs(a->slow_s - b->slow_s) + llabs(a->maint_s - b->maint_s);
}

/* A history of one site: every interval (or retry) a check, now and then a silence. */
static void generate(struct store *s, struct hist_site *h, int64_t start, int interval,
    int64_t end)
{
	size_t cap = (size_t)((end - start) / 20) + 16;

	h->e = calloc(cap, sizeof(*h->e));
	h->n = 0;
	h->cap = 2 * interval < DAY ? 2 * interval : DAY;
	store_begin(s);
	for (int64_t t = start; t < end && h->n < cap; ) {
		uint64_t r = next() % 1000;
		struct ev e = { .t = t, .ms = 20 + (int)(next() % 400),
		    .verdict = r < 880 ? 1 : r < 930 ? 2 : r < 950 ? 3 : r < 990 ? 0 : -1 };
		h->e[h->n++] = e;
		save(s, h->id, &e);
		if (h->n % 2000 == 0) {
			store_commit(s);
			store_begin(s);
		}
		/* a silence longer than the cap now and then, else the interval with its jitter */
		t += next() % 500 == 0 ? 3 * h->cap + (int64_t)(next() % 5000) :
		    interval - 3 + (int64_t)(next() % 7);
	}
	store_commit(s);
}

static int64_t add_site(struct store *s, const char *url, int interval)
{
	struct sq_site_new n = { .url = url, .owner_email = "o@tiers.test", .interval_s = interval };
	int64_t id = 0;

	if (store_add_site(s, &n, &id) < 0)
		printf("# adding %s failed\n", url);
	return id;
}

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The windows a test reads, each with whether its edges must be exact after pruning. */
struct window {
	int64_t from, to;
};

static void compare(struct store *s, struct hist_site *sites, int nsites, const struct window *w,
    int nw, int64_t now, int64_t tolerance, const char *when)
{
	struct sq_reader *r = store_reader_open(s);
	int64_t worst = 0;
	int bad = 0;

	ok(r != NULL, "%s: a reader", when);
	if (r == NULL)
		return;
	for (int i = 0; i < nsites; i++) {
		for (int k = 0; k < nw; k++) {
			struct sq_uptime want, got;
			reckon(&sites[i], w[k].from, w[k].to, now, &want);
			if (store_reader_uptime(r, sites[i].id, w[k].from, w[k].to, now, &got) < 0) {
				bad++;
				continue;
			}
			int64_t d = diff(&want, &got);
			if (d > worst)
				worst = d;
			if (d > tolerance) {
				if (bad < 3)
					printf("# site %" PRId64 " [%" PRId64 ", %" PRId64 "): want up %" PRId64
					    " down %" PRId64 " slow %" PRId64 " maint %" PRId64 ", got %"
					    PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", sites[i].id,
					    w[k].from, w[k].to, want.up_s, want.down_s, want.slow_s,
					    want.maint_s, got.up_s, got.down_s, got.slow_s, got.maint_s);
				bad++;
			}
		}
	}
	store_reader_close(r);
	is_int(bad, 0, "%s: %d windows of %d sites within %" PRId64 " s (worst %" PRId64 " s)",
	    when, nw, nsites, tolerance, worst);
}

/* Runs the upkeep to its end at now; returns the steps, counts the ones past the batch. */
static int upkeep(struct store *s, struct store_retention *ret, int64_t now, int *over,
    struct store_retention_done *sum)
{
	int steps = 0, more = 1;

	*over = 0;
	memset(sum, 0, sizeof(*sum));
	while (more == 1 && steps < 200000) {
		struct store_retention_done d = { 0 };
		more = store_retention_step(s, ret, now, &d);
		steps++;
		if (d.raw > ret->batch || d.kept > ret->batch || d.hours > ret->batch ||
		    d.days_pruned > ret->batch || d.backfilled > ret->batch)
			(*over)++;
		sum->backfilled += d.backfilled;
		sum->days += d.days;
		sum->raw += d.raw;
		sum->kept += d.kept;
		sum->hours += d.hours;
		sum->days_pruned += d.days_pruned;
	}
	ok(more == 0, "upkeep at %+" PRId64 " d: done in %d steps", (now - T0) / DAY, steps);
	return steps;
}

static void percentiles(struct store *s, const struct hist_site *h, int64_t now)
{
	int64_t *v = malloc(h->n * sizeof(*v));
	size_t n = 0;
	struct sq_reader *r = store_reader_open(s);
	struct sq_figures f;
	/* the hours that overlap the last 24 h, as the reader takes them */
	int64_t from = (now - DAY) / HOUR * HOUR;

	for (size_t i = 0; i < h->n; i++)
		if (h->e[i].t >= from && h->e[i].t <= now && (h->e[i].verdict == 1 ||
		    h->e[i].verdict == 2 || h->e[i].verdict == 3))
			v[n++] = h->e[i].ms;
	ok(r != NULL && store_reader_figures(r, h->id, now, &f) == 0, "figures read");
	store_reader_close(r);
	int64_t p50 = percentile(v, n, 50), p95 = percentile(v, n, 95);
	ok(n > 100 && llabs(f.p50_ms - p50) * 100 <= 5 * p50 && llabs(f.p95_ms - p95) * 100 <= 5 * p95,
	    "p50 %" PRId64 " / p95 %" PRId64 " ms from the histograms, exact %" PRId64 " / %" PRId64
	    " over %zu checks: within 5 %%", f.p50_ms, f.p95_ms, p50, p95, n);
	free(v);
}

static int sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * A day rolled up already is read from its row of the daily tier, not from
 * its 24 hours (the cost of a 30-day figure on many sites): with the hours
 * of such a day taken away, the 7- and 30-day figures and the status
 * page's days are still the reckoning's.
 */
static void rolled_days(struct store *s, const char *path, struct hist_site *sites, int64_t now)
{
	int64_t days_below = sql_int(path, "SELECT days_below FROM settings");
	int64_t day = days_below - 3 * DAY, first = (now - 30 * DAY) / DAY * DAY;
	/* on hours where the raw checks are pruned: exact (see above) */
	struct window w[3] = { { (now - 7 * DAY) / HOUR * HOUR, now },
	    { (now - 30 * DAY) / HOUR * HOUR, now }, { day - 5 * HOUR, day + DAY + 7 * HOUR } };
	struct sq_uptime got[30], want;
	char q[160];
	int bad = 0;

	ok(day > now - 7 * DAY && day >= sql_int(path, "SELECT hours_below FROM settings"),
	    "a rolled-up day inside the last week, its hours still there");
	snprintf(q, sizeof(q), "DELETE FROM uptime_hours WHERE hour >= %" PRId64 " AND hour < %"
	    PRId64, day, day + DAY);
	ok(sql_exec(path, q) == 0, "its hours taken away");
	compare(s, sites, 3, w, 3, now, 0, "a rolled-up day without its hours: read from its row");
	struct sq_reader *r = store_reader_open(s);
	for (int i = 0; r != NULL && i < 3; i++) {
		if (store_reader_uptime_days(r, sites[i].id, first, 30, now, got) < 0) {
			bad++;
			continue;
		}
		for (int k = 0; k < 30; k++) {
			reckon(&sites[i], first + k * DAY, first + (k + 1) * DAY, now, &want);
			bad += diff(&want, &got[k]) != 0;
		}
	}
	store_reader_close(r);
	ok(r != NULL && bad == 0, "the status page's 30 days of 3 sites, each the reckoning's (%d off)",
	    bad);
}

int main(void)
{
	char path[128];
	struct hist_site sites[3];
	struct store *s;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	s = store_open(path, STORE_CREATE);
	ok(s != NULL, "a database at schema version %d", store_schema_version());
	if (s == NULL)
		return tap_done();
	sites[0].id = add_site(s, "http://a.tiers.test/", 60);
	sites[1].id = add_site(s, "http://b.tiers.test/", 300);
	sites[2].id = add_site(s, "http://c.tiers.test/", 120);
	int64_t gone = add_site(s, "http://gone.tiers.test/", 60);
	generate(s, &sites[0], T0, 60, T0 + SPAN);
	generate(s, &sites[1], T0 + 1000, 300, T0 + SPAN);
	/* the third starts in the middle of an hour, twenty days in */
	generate(s, &sites[2], T0 + 20 * DAY + 1777, 120, T0 + SPAN);
	struct hist_site g = { .id = gone };
	generate(s, &g, T0, 60, T0 + 2 * DAY);
	ok(store_remove_site(s, gone) == 0, "a site deleted, its history left to age");
	free(g.e);

	int64_t now = T0 + SPAN + 30;
	struct window w[40];
	int nw = 0;
	w[nw++] = (struct window){ now - DAY, now };
	w[nw++] = (struct window){ now - 7 * DAY, now };
	w[nw++] = (struct window){ now - 30 * DAY, now };
	w[nw++] = (struct window){ T0 - DAY, now };
	for (int i = 0; i < 20; i++) {
		int64_t a = T0 + (int64_t)(next() % SPAN), b = a + 1 + (int64_t)(next() % (10 * DAY));
		w[nw++] = (struct window){ a, b < now ? b : now };
	}
	compare(s, sites, 3, w, nw, now, 0, "before any pruning, windows cut anywhere");
	percentiles(s, &sites[0], now);

	struct store_retention ret = { .raw_hours = 48, .history_days = 400, .batch = 97 };
	struct store_retention_done sum;
	int over;
	upkeep(s, &ret, now, &over, &sum);
	/*
	 * The same windows with their edges on hours (on days where the hourly
	 * tier is gone), or inside the raw window: exact. Cut anywhere inside
	 * the hourly tier: each edge off by less than its hour's share.
	 */
	int64_t hours_below = sql_int(path, "SELECT hours_below FROM settings");
	ok(hours_below > T0 && hours_below % DAY == 0, "the hourly tier ends on a day, past the start");
	struct window aligned[40], cut[40];
	int na = 0, nc = 0;
	for (int i = 0; i < nw; i++) {
		int64_t unit = w[i].from < hours_below ? DAY : HOUR;
		aligned[na++] = (struct window){ w[i].from / unit * unit, w[i].to / unit * unit };
		if (w[i].from >= hours_below)
			cut[nc++] = w[i];
	}
	aligned[na++] = (struct window){ now - 20 * HOUR, now };
	aligned[na++] = (struct window){ (now - 30 * DAY) / HOUR * HOUR, (now - 5 * HOUR) / HOUR * HOUR };
	is_int(over, 0, "no transaction went past its batch of %d", ret.batch);
	ok(sum.raw > 50000 && sum.days >= 40, "successes pruned (%" PRId64 "), days rolled up (%"
	    PRId64 ")", sum.raw, sum.days);
	int64_t old_ok = sql_int(path, "SELECT count(*) FROM checks WHERE ok = 1 AND edge IS NULL"
	    " AND checked_at < (SELECT raw_below FROM settings)"
	    " AND EXISTS (SELECT 1 FROM checks n WHERE n.site_id = checks.site_id"
	    "  AND n.checked_at > checks.checked_at)");
	is_int(old_ok, 0, "no plain success older than raw_hours is left");
	char q[200];
	int64_t keep_from = now - STORE_HOURLY_DAYS * DAY, want_fail = 0;
	snprintf(q, sizeof(q), "SELECT count(*) FROM checks WHERE ok = 0 AND site_id <= 3"
	    " AND checked_at >= %" PRId64, keep_from);
	for (int i = 0; i < 3; i++)
		for (size_t k = 0; k < sites[i].n; k++)
			want_fail += sites[i].e[k].verdict <= 0 && sites[i].e[k].t >= keep_from;
	is_int(sql_int(path, q), want_fail, "every failure of the last %d days kept raw (%" PRId64 ")",
	    STORE_HOURLY_DAYS, want_fail);
	snprintf(q, sizeof(q), "SELECT count(*) FROM checks WHERE checked_at < %" PRId64
	    " AND site_id <= 3", keep_from);
	is_int(sql_int(path, q), 0, "nothing older than that left raw");
	compare(s, sites, 3, aligned, na, now, 0, "pruned: windows on hours or inside the raw window");
	/* a window cut inside an hour the raw checks left: that hour's share, off by less than it */
	compare(s, sites, 3, cut, nc, now, 4 * HOUR, "pruned: windows cut anywhere in the hourly tier");
	percentiles(s, &sites[0], now);

	/*
	 * A histogram typed by hand that is not one: the figures still read
	 * (its hour left out), and a check that lands in its hour is still
	 * recorded, the bad counts dropped.
	 */
	{
		sqlite3 *db;
		int64_t bad = add_site(s, "http://bad.tiers.test/", 60);
		int64_t h = (now - 2 * HOUR) / HOUR * HOUR;
		struct ev e[3] = { { h + 60, 1, 40 }, { h + 120, 1, 50 }, { h + 180, 1, 77 } };
		struct sq_figures f;
		char sql[200];
		save(s, bad, &e[0]);
		save(s, bad, &e[1]);
		ok(sqlite3_open(path, &db) == SQLITE_OK, "the file opened beside the store");
		snprintf(sql, sizeof(sql), "UPDATE uptime_hours SET ms_hist = x'0505ff' WHERE site_id = %"
		    PRId64 " AND hour = %" PRId64, bad, h);
		ok(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(db) == 1,
		    "a bad histogram typed into an hour");
		sqlite3_close(db);
		struct sq_reader *r = store_reader_open(s);
		ok(r != NULL && store_reader_figures(r, bad, now, &f) == 0 && f.p50_ms == -1 &&
		    f.day.up_s > 0, "figures read beside it: uptime, and no p50 from the bad hour");
		store_reader_close(r);
		int64_t before = sql_int(path, "SELECT count(*) FROM checks");
		save(s, bad, &e[2]);
		is_int(sql_int(path, "SELECT count(*) FROM checks"), before + 1,
		    "a check in that hour still recorded");
		snprintf(sql, sizeof(sql), "SELECT length(ms_hist) FROM uptime_hours WHERE site_id = %"
		    PRId64 " AND hour = %" PRId64, bad, h);
		is_int(sql_int(path, sql), 2, "its hour's histogram now its one sample (bucket, count)");
	}

	rolled_days(s, path, sites, now);

	/* forty days on: the hourly tier is gone past 35 days, the daily one reads for it */
	int64_t later = now + 40 * DAY;
	struct window days[4] = {
		{ T0 / DAY * DAY, (T0 + SPAN) / DAY * DAY },
		{ (T0 + 3 * DAY) / DAY * DAY, (T0 + 9 * DAY) / DAY * DAY },
		{ T0 / DAY * DAY, later },
		{ (T0 + 20 * DAY) / DAY * DAY + DAY, later },
	};
	upkeep(s, &ret, later, &over, &sum);
	is_int(over, 0, "forty days on: no transaction went past its batch");
	ok(sum.hours > 0 && sum.kept > 0, "hours (%" PRId64 ") and kept checks (%" PRId64 ") past "
	    "%d days pruned", sum.hours, sum.kept, STORE_HOURLY_DAYS);
	is_int(sql_int(path, "SELECT count(*) FROM uptime_hours WHERE hour < (SELECT days_below"
	    " FROM settings)"), 0, "no hour left before the daily tier's end");
	is_int(sql_int(path, "SELECT count(*) FROM checks WHERE site_id = 4"), 0,
	    "the deleted site's checks are all gone, its latest too");
	compare(s, sites, 3, days, 4, later, 0, "forty days on: windows on days, from the daily tier");

	/*
	 * A hold closed late into days rolled up already: a site checked twice
	 * a day, silent for three days, then checked again. Its last check's
	 * hold (a day, its cap) lands in days whose rows are made and in one
	 * where the site had none: the days read from the daily tier count it.
	 */
	{
		int64_t sid = add_site(s, "http://late.tiers.test/", 43200);
		struct ev e[2] = { { later - 4 * DAY + 7000, 1, 50 }, { later - 10, 1, 60 } };
		struct hist_site late = { .id = sid, .cap = DAY, .e = e, .n = 2 };
		save(s, sid, &e[0]);
		upkeep(s, &ret, later, &over, &sum);
		save(s, sid, &e[1]);
		struct window lw[2] = {
			{ (later - 5 * DAY) / DAY * DAY, (later - 2 * DAY) / DAY * DAY },
			{ (later - 4 * DAY) / DAY * DAY + DAY, (later - 4 * DAY) / DAY * DAY + 2 * DAY },
		};
		compare(s, &late, 1, lw, 2, later, 0, "a hold closed late into rolled-up days");
	}

	/* past history_days: the daily tier goes too */
	int64_t much_later = now + 500 * DAY;
	upkeep(s, &ret, much_later, &over, &sum);
	ok(sum.days_pruned > 0, "past history_days: days pruned (%" PRId64 ")", sum.days_pruned);
	is_int(sql_int(path, "SELECT count(*) FROM uptime_days"), 0, "no day older than 400 days left");
	is_int(sql_int(path, "SELECT count(*) FROM checks"), 5, "each live site keeps its latest check");

	for (int i = 0; i < 3; i++)
		free(sites[i].e);
	store_close(s);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}

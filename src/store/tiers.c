/*
 * tiers.c - the hourly tier, summed off the check path (schema 19).
 *
 * Every check adds to the hour it was made in (a check, maybe a failure,
 * the response time of a success) and closes the hold of the site's check
 * before it: that verdict held from its check until this one, at most the
 * site's cap (twice its interval, a day at most), cut into hours. Until
 * version 19 two triggers did this per inserted row, reading the check
 * before from the table; now each check only appends its pieces to a list
 * in memory, and the batch's commit sorts them by (site, hour) and upserts
 * one row per hour touched, in the batch's own transaction: a crash loses
 * both or neither.
 *
 * The check before is remembered per site (read from the table once, at
 * the site's first check in this process). Another process recording
 * checks of the same database (squirreld --once beside the daemon) would
 * make that memory wrong: every batch moves settings.check_gen on, and a
 * batch that finds it moved by someone else reads the latest checks again.
 * So does a change of the configured interval (the cap).
 *
 * A check is an "edge" when its verdict differs from the one before (or
 * it is the site's first): edges are kept raw as long as failures, so
 * that what an owner reads about an incident stays.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/base/u64map.h"
#include "squirrel/core/hist.h"
#include "squirrel/store/uptime.h"
#include "db.h"

#define HOUR 3600

/* What a site's latest check is, as far as this process knows. */
struct tier_last {
	int64_t t;            /* its time; valid when has */
	int64_t cap;          /* how long a verdict of the site holds at most */
	int verdict;          /* STORE_VERDICT_SQL's numbers */
	bool has;
};

/*
 * One piece of a batch: a hold of `secs` seconds with a verdict, or a
 * check (secs < 0) with its outcome and response time, in an hour.
 */
struct tier_piece {
	int64_t site, hour;
	int64_t secs;
	int verdict;          /* a hold's verdict; for a check: 1 ok, 0 failed, -1 unknown */
	int ms;
};

struct store_tiers {
	struct u64map last;           /* site id -> index + 1 into lastv */
	struct tier_last *lastv;
	size_t nlast, caplast;
	struct tier_piece *p;         /* this batch's pieces */
	size_t np, capp;
	int64_t gen;                  /* settings.check_gen after our last batch; -1 not known */
	int64_t sites_seen;           /* the sites' change counter the caps were read at */
	bool begun;                   /* this transaction's generation read */
	bool rebuilding;              /* store_tiers_rebuild: no check before the first read */
	sqlite3_stmt *load_last, *load_cap, *read_gen, *bump_gen, *upsert_hour, *update_day,
	    *upsert_counter, *preload;
};

static const char *const what = "preparing a statement of the hourly tier";

/*
 * An hour's or a day's row plus the one being upserted. min() of two
 * values is NULL when either is: the least of a row with no success yet
 * is the other side's.
 */
#define TIER_ADD \
    "  up_s = up_s + excluded.up_s, down_s = down_s + excluded.down_s," \
    "  slow_s = slow_s + excluded.slow_s, maint_s = maint_s + excluded.maint_s," \
    "  checks = checks + excluded.checks, failures = failures + excluded.failures," \
    "  ms_n = ms_n + excluded.ms_n, ms_sum = ms_sum + excluded.ms_sum," \
    "  ms_min = coalesce(min(ms_min, excluded.ms_min), ms_min, excluded.ms_min)," \
    "  ms_max = coalesce(max(ms_max, excluded.ms_max), ms_max, excluded.ms_max)," \
    "  ms_hist = squirrel_hist_merge(ms_hist, excluded.ms_hist)"

int store_tiers_prepare(struct store *s)
{
	struct store_tiers *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		log_errorx("%s: out of memory", s->path);
		return -1;
	}
	s->tiers = t;
	u64map_init(&t->last);
	t->gen = -1;
	if (store_prepare(s, "SELECT checked_at, " STORE_VERDICT_SQL("") " FROM checks"
	    " WHERE site_id = ?1 ORDER BY checked_at DESC, id DESC LIMIT 1", STORE_KEEP,
	    &t->load_last, what) < 0 ||
	    store_prepare(s, "SELECT " STORE_CAP_SQL("?1"), STORE_KEEP, &t->load_cap, what) < 0 ||
	    store_prepare(s, "SELECT s.id, min(2 * coalesce(s.interval_s,"
	    "  (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400),"
	    " c.checked_at, " STORE_VERDICT_SQL("c.")
	    " FROM sites s LEFT JOIN checks c ON c.id = (SELECT l.id FROM checks l"
	    "  WHERE l.site_id = s.id ORDER BY l.checked_at DESC, l.id DESC LIMIT 1)"
	    " WHERE s.enabled IS NOT 0", STORE_KEEP, &t->preload, what) < 0 ||
	    store_prepare(s, "SELECT check_gen, (SELECT version FROM sites_version WHERE id = 1)"
	    " FROM settings WHERE id = 1", STORE_KEEP, &t->read_gen, what) < 0 ||
	    store_prepare(s, "UPDATE settings SET check_gen = check_gen + 1 WHERE id = 1"
	    " RETURNING check_gen", STORE_KEEP, &t->bump_gen, what) < 0)
		return -1;
	if (store_prepare(s,
	    "INSERT INTO uptime_hours (site_id, hour, up_s, down_s, slow_s, maint_s, checks,"
	    "  failures, ms_n, ms_sum, ms_min, ms_max, ms_hist)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	    " ON CONFLICT (site_id, hour) DO UPDATE SET"
	    TIER_ADD, STORE_KEEP,
	    &t->upsert_hour, what) < 0)
		return -1;
	/*
	 * An hour of a day that may be rolled up already (late: a hold closed
	 * after a long silence): its day gets it too, a row made if the site
	 * had none that day. A day not rolled up yet is made again from its
	 * hours by the roll-up (INSERT OR REPLACE), so this counts once.
	 */
	if (store_prepare(s,
	    "INSERT INTO uptime_days (site_id, day, up_s, down_s, slow_s, maint_s, checks, failures,"
	    "  ms_n, ms_sum, ms_min, ms_max, ms_hist)"
	    " VALUES (?1, ?2 / 86400 * 86400, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	    " ON CONFLICT (site_id, day) DO UPDATE SET"
	    TIER_ADD, STORE_KEEP,
	    &t->update_day, what) < 0)
		return -1;
	return store_prepare(s,
	    "INSERT INTO site_counters (site_id, checks, failures) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (site_id) DO UPDATE SET checks = checks + excluded.checks,"
	    "  failures = failures + excluded.failures", STORE_KEEP, &t->upsert_counter, what);
}

void store_tiers_close(struct store *s)
{
	struct store_tiers *t = s->tiers;

	if (t == NULL)
		return;
	sqlite3_finalize(t->load_last);
	sqlite3_finalize(t->load_cap);
	sqlite3_finalize(t->read_gen);
	sqlite3_finalize(t->bump_gen);
	sqlite3_finalize(t->upsert_hour);
	sqlite3_finalize(t->update_day);
	sqlite3_finalize(t->upsert_counter);
	sqlite3_finalize(t->preload);
	u64map_free(&t->last);
	free(t->lastv);
	free(t->p);
	free(t);
	s->tiers = NULL;
}

void store_tiers_forget(struct store *s)
{
	struct store_tiers *t = s->tiers;

	if (t == NULL)
		return;
	u64map_free(&t->last);
	u64map_init(&t->last);
	t->nlast = 0;
}

/* The batch is gone: its pieces, and what it taught of the latest checks. */
void store_tiers_abort(struct store *s)
{
	struct store_tiers *t = s->tiers;

	if (t == NULL || !t->begun)
		return;
	t->np = 0;
	t->begun = false;
	t->gen = -1;
	store_tiers_forget(s);
}

static int step_int(struct store *s, sqlite3_stmt *st, int64_t *out, const char *doing)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		store_error(s, doing);
		return -1;
	}
	return 0;
}

static struct tier_last *new_last(struct store *s, struct store_tiers *t, int64_t site);

/*
 * Every enabled site's cap and latest check, in one statement: a process's
 * first batch (squirreld --once: its only one) would otherwise read them
 * site by site, two statements for each check.
 */
static int preload(struct store *s, struct store_tiers *t)
{
	sqlite3_stmt *st = t->preload;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct tier_last *l = new_last(s, t, sqlite3_column_int64(st, 0));
		if (l == NULL)
			break;
		l->cap = sqlite3_column_int64(st, 1);
		if (l->cap < 0)
			l->cap = 0;
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			l->has = true;
			l->t = sqlite3_column_int64(st, 2);
			l->verdict = sqlite3_column_int(st, 3);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_error(s, "reading the sites' latest checks");
		return -1;
	}
	if (rc == SQLITE_ROW) {
		store_tiers_forget(s);
		return -1;
	}
	return 0;
}

/*
 * At a transaction's first check: did another process record checks since
 * our last batch, or did someone edit the sites (an interval, a cap)?
 */
static int begin(struct store *s, struct store_tiers *t)
{
	sqlite3_stmt *st = t->read_gen;
	int64_t gen, sites;

	if (sqlite3_step(st) != SQLITE_ROW) {
		store_error(s, "reading the settings");
		sqlite3_reset(st);
		return -1;
	}
	gen = sqlite3_column_int64(st, 0);
	sites = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (gen != t->gen || sites != t->sites_seen)
		store_tiers_forget(s);
	t->sites_seen = sites;
	t->begun = true;
	return t->nlast == 0 ? preload(s, t) : 0;
}

/* A new entry for site (not in the map yet), zeroed; NULL when out of memory (said). */
static struct tier_last *new_last(struct store *s, struct store_tiers *t, int64_t site)
{
	if (t->nlast == t->caplast) {
		size_t cap = t->caplast ? 2 * t->caplast : 1024;
		struct tier_last *v = realloc(t->lastv, cap * sizeof(*v));
		if (v == NULL)
			goto oom;
		t->lastv = v;
		t->caplast = cap;
	}
	if (u64map_put(&t->last, (uint64_t)site, (void *)(uintptr_t)(t->nlast + 1)) < 0)
		goto oom;
	memset(&t->lastv[t->nlast], 0, sizeof(t->lastv[0]));
	return &t->lastv[t->nlast++];
oom:
	log_errorx("%s: out of memory summing the hourly tier", s->path);
	return NULL;
}

static struct tier_last *site_last(struct store *s, struct store_tiers *t, int64_t site)
{
	uintptr_t i = (uintptr_t)u64map_get(&t->last, (uint64_t)site);
	struct tier_last *l;
	int64_t cap = 0;
	int rc;

	if (i != 0)
		return &t->lastv[i - 1];
	sqlite3_bind_int64(t->load_cap, 1, site);
	if (step_int(s, t->load_cap, &cap, "reading a site's interval") < 0)
		return NULL;
	if ((l = new_last(s, t, site)) == NULL)
		return NULL;
	l->cap = cap < 0 ? 0 : cap;
	sqlite3_bind_int64(t->load_last, 1, site);
	/* a rebuild reads the checks in order: the check before is the one it read last */
	rc = t->rebuilding ? SQLITE_DONE : sqlite3_step(t->load_last);
	if (rc == SQLITE_ROW) {
		l->has = true;
		l->t = sqlite3_column_int64(t->load_last, 0);
		l->verdict = sqlite3_column_int(t->load_last, 1);
	}
	sqlite3_reset(t->load_last);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(s, "reading a site's latest check");
		return NULL;
	}
	return l;
}

static int add_piece(struct store *s, struct store_tiers *t, const struct tier_piece *p)
{
	if (t->np == t->capp) {
		size_t cap = t->capp ? 2 * t->capp : 1024;
		struct tier_piece *v = realloc(t->p, cap * sizeof(*v));
		if (v == NULL) {
			log_errorx("%s: out of memory summing the hourly tier", s->path);
			return -1;
		}
		t->p = v;
		t->capp = cap;
	}
	t->p[t->np++] = *p;
	return 0;
}

int store_tiers_check(struct store *s, int64_t site, int64_t when, int verdict, int outcome,
    int ms, bool *edge)
{
	struct store_tiers *t = s->tiers;
	struct tier_last *l;
	struct tier_piece p = { .site = site };

	*edge = false;
	if (t == NULL)
		return 0;
	if (!t->begun && !t->rebuilding && begin(s, t) < 0)
		return -1;
	t->begun = true;
	if ((l = site_last(s, t, site)) == NULL)
		return -1;
	/* the check itself, in its hour */
	p.hour = when / HOUR * HOUR - (when % HOUR < 0 ? HOUR : 0);
	p.secs = -1;
	p.verdict = outcome;
	p.ms = ms;
	if (add_piece(s, t, &p) < 0)
		return -1;
	*edge = !l->has || l->verdict != verdict;
	/* a check older than the latest one (a clock set back) closes no hold, as before */
	if (l->has && l->t > when)
		return 0;
	if (l->has && l->verdict >= 0) {
		int64_t t0 = l->t, t1 = l->t + (when - l->t < l->cap ? when - l->t : l->cap);
		for (int64_t h = t0 - ((t0 % HOUR) + HOUR) % HOUR; h < t1; h += HOUR) {
			int64_t a = t0 > h ? t0 : h, b = t1 < h + HOUR ? t1 : h + HOUR;
			if (b <= a)
				continue;
			p.hour = h;
			p.secs = b - a;
			p.verdict = l->verdict;
			if (add_piece(s, t, &p) < 0)
				return -1;
		}
	}
	l->has = true;
	l->t = when;
	l->verdict = verdict;
	return 0;
}

static int piece_cmp(const void *a, const void *b)
{
	const struct tier_piece *x = a, *y = b;

	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	if (x->hour != y->hour)
		return x->hour < y->hour ? -1 : 1;
	return 0;
}

/* One hour of one site, summed from its pieces. */
struct tier_sum {
	int64_t up, down, slow, maint, checks, failures, ms_n, ms_sum, ms_min, ms_max;
	struct sq_hist hist;
};

static void sum_piece(struct tier_sum *u, const struct tier_piece *p)
{
	if (p->secs >= 0) {
		if (p->verdict == 3)
			u->maint += p->secs;
		else if (p->verdict == 0)
			u->down += p->secs;
		else
			u->up += p->secs;
		if (p->verdict == 2)
			u->slow += p->secs;
		return;
	}
	u->checks++;
	if (p->verdict == 0)
		u->failures++;
	if (p->verdict != 1)
		return;
	if (u->ms_n == 0 || p->ms < u->ms_min)
		u->ms_min = p->ms;
	if (u->ms_n == 0 || p->ms > u->ms_max)
		u->ms_max = p->ms;
	u->ms_n++;
	u->ms_sum += p->ms;
	sq_hist_add(&u->hist, p->ms, 1);
}

static int write_sum(struct store *s, sqlite3_stmt *st, int64_t site, int64_t hour,
    const struct tier_sum *u, uint8_t *blob)
{
	size_t len = sq_hist_encode(&u->hist, blob);
	int rc;

	sqlite3_bind_int64(st, 1, site);
	sqlite3_bind_int64(st, 2, hour);
	sqlite3_bind_int64(st, 3, u->up);
	sqlite3_bind_int64(st, 4, u->down);
	sqlite3_bind_int64(st, 5, u->slow);
	sqlite3_bind_int64(st, 6, u->maint);
	sqlite3_bind_int64(st, 7, u->checks);
	sqlite3_bind_int64(st, 8, u->failures);
	sqlite3_bind_int64(st, 9, u->ms_n);
	sqlite3_bind_int64(st, 10, u->ms_sum);
	for (int i = 11; i <= 13; i++)
		sqlite3_bind_null(st, i);
	if (u->ms_n > 0) {
		sqlite3_bind_int64(st, 11, u->ms_min);
		sqlite3_bind_int64(st, 12, u->ms_max);
		sqlite3_bind_blob(st, 13, blob, (int)len, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "writing the hourly tier");
		return -1;
	}
	return 0;
}

static int write_counter(struct store *s, struct store_tiers *t, int64_t site, int64_t checks,
    int64_t failures)
{
	sqlite3_stmt *st = t->upsert_counter;
	int rc;

	if (checks == 0)
		return 0;
	sqlite3_bind_int64(st, 1, site);
	sqlite3_bind_int64(st, 2, checks);
	sqlite3_bind_int64(st, 3, failures);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "counting a site's checks");
		return -1;
	}
	return 0;
}

/*
 * The pieces noted so far, summed per (site, hour) and upserted; with
 * counters, each site's checks and failures counted too. The list is
 * emptied either way.
 */
static int write_pieces(struct store *s, struct store_tiers *t, int64_t now, bool counters)
{
	uint8_t blob[SQ_HIST_BLOB_MAX];
	struct tier_sum *u;
	int64_t checks = 0, failures = 0;
	int rc = -1;

	if ((u = malloc(sizeof(*u))) == NULL) {
		log_errorx("%s: out of memory summing the hourly tier", s->path);
		t->np = 0;
		return -1;
	}
	qsort(t->p, t->np, sizeof(*t->p), piece_cmp);
	/* a day that ended more than a day ago may be rolled up already: its row gets it too */
	int64_t late = now / 86400 * 86400 - 86400;
	for (size_t i = 0; i < t->np;) {
		size_t j = i;
		memset(u, 0, sizeof(*u));
		for (; j < t->np && t->p[j].site == t->p[i].site && t->p[j].hour == t->p[i].hour; j++)
			sum_piece(u, &t->p[j]);
		if (write_sum(s, t->upsert_hour, t->p[i].site, t->p[i].hour, u, blob) < 0)
			goto out;
		if (t->p[i].hour < late &&
		    write_sum(s, t->update_day, t->p[i].site, t->p[i].hour, u, blob) < 0)
			goto out;
		checks += u->checks;
		failures += u->failures;
		if (j == t->np || t->p[j].site != t->p[i].site) {
			if (counters && write_counter(s, t, t->p[i].site, checks, failures) < 0)
				goto out;
			checks = failures = 0;
		}
		i = j;
	}
	rc = 0;
out:
	free(u);
	t->np = 0;
	return rc;
}

int store_tiers_flush(struct store *s, int64_t now)
{
	struct store_tiers *t = s->tiers;
	int rc;

	if (t == NULL || !t->begun || (t->np == 0 && t->rebuilding))
		return 0;
	rc = write_pieces(s, t, now, true);
	if (rc == 0 && step_int(s, t->bump_gen, &t->gen, "moving the check generation on") < 0)
		rc = -1;
	t->begun = t->rebuilding;
	if (rc < 0) {
		t->gen = -1;
		store_tiers_forget(s);
	}
	return rc;
}

/* A prepared statement run to its single int64: 1 found, 0 none (or NULL), -1 an error. */
static int one_int(struct store *s, sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st), found = 0;

	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(s, "summing older checks");
		return -1;
	}
	return found;
}

/*
 * The pre-19 checks of one site from its cursor on, in time order, through
 * the covering index (site_id, checked_at, ok, ms): at most want of them.
 * Their counts and response times go into the pieces, a success after a
 * failure is marked an edge. Moves the cursor (*at, *id) on; returns the
 * rows read, or -1.
 */
static int64_t backfill_site(struct store *s, struct store_tiers *t, sqlite3_stmt *rd,
    sqlite3_stmt *unknown, sqlite3_stmt *prev, sqlite3_stmt *mark, int64_t site, int64_t below,
    int64_t *at, int64_t *id, int64_t want)
{
	int64_t n = 0, pok = 1, v;
	int step;

	/* the check before the cursor: was it a failure? */
	sqlite3_bind_int64(prev, 1, *id);
	if ((step = one_int(s, prev, &v)) < 0)
		return -1;
	if (step == 1)
		pok = v;
	sqlite3_bind_int64(rd, 1, site);
	sqlite3_bind_int64(rd, 2, *at);
	sqlite3_bind_int64(rd, 3, *id);
	sqlite3_bind_int64(rd, 4, below);
	sqlite3_bind_int64(rd, 5, want);
	while ((step = sqlite3_step(rd)) == SQLITE_ROW) {
		int64_t when = sqlite3_column_int64(rd, 0), cid = sqlite3_column_int64(rd, 1);
		int ok = sqlite3_column_int(rd, 2), outcome = ok ? 1 : 0;
		if (!ok) {
			int64_t u = 0;
			sqlite3_bind_int64(unknown, 1, cid);
			if (one_int(s, unknown, &u) < 0)
				goto fail;
			outcome = u ? -1 : 0;
		}
		struct tier_piece p = {
			.site = site,
			.hour = when / HOUR * HOUR - (when % HOUR < 0 ? HOUR : 0),
			.secs = -1,
			.verdict = outcome,
			.ms = (int)sqlite3_column_int64(rd, 3),
		};
		if (add_piece(s, t, &p) < 0)
			goto fail;
		/* where an incident ended: kept raw like failures, as the daemon marks it */
		if (ok && !pok) {
			sqlite3_bind_int64(mark, 1, cid);
			if (sqlite3_step(mark) != SQLITE_DONE) {
				store_error(s, "marking the older history's recoveries");
				sqlite3_reset(mark);
				goto fail;
			}
			sqlite3_reset(mark);
		}
		pok = ok;
		*at = when;
		*id = cid;
		n++;
	}
	sqlite3_reset(rd);
	if (step != SQLITE_DONE) {
		store_error(s, "reading older checks");
		return -1;
	}
	return n;
fail:
	sqlite3_reset(rd);
	return -1;
}

int store_tiers_backfill(struct store *s, int64_t below, int64_t batch, int64_t now,
    int64_t *rows)
{
	struct store_tiers *t = s->tiers;
	sqlite3_stmt *rd = NULL, *unknown = NULL, *prev = NULL, *mark = NULL, *next = NULL,
	    *cur = NULL;
	int64_t site = 0, at = 0, id = 0, n = 0;
	int rc = -1, more = 1, got;

	*rows = 0;
	if (t == NULL || t->np > 0) {
		log_errorx("%s: summing older checks: not on this connection now", s->path);
		return -1;
	}
	if (store_prepare(s, "SELECT checked_at, id, ok, ms FROM checks"
	    " INDEXED BY checks_site_time_ok_ms WHERE site_id = ?1 AND checked_at >= ?2"
	    " AND NOT (checked_at = ?2 AND id <= ?3) AND id < ?4 ORDER BY checked_at, id LIMIT ?5",
	    0, &rd, "reading older checks") < 0 ||
	    store_prepare(s, "SELECT " STORE_UNKNOWN_SQL("") " FROM checks WHERE id = ?1", 0,
	    &unknown, "reading older checks") < 0 ||
	    store_prepare(s, "SELECT ok FROM checks WHERE id = ?1", 0, &prev,
	    "reading older checks") < 0 ||
	    store_prepare(s, "UPDATE checks SET edge = 1 WHERE id = ?1", 0, &mark,
	    "marking the older history's recoveries") < 0 ||
	    store_prepare(s, "SELECT min(site_id) FROM checks WHERE site_id > ?1", 0, &next,
	    "reading older checks") < 0 ||
	    store_prepare(s, "SELECT backfill_site, backfill_at, backfill_id FROM settings"
	    " WHERE id = 1", 0, &cur, "reading older checks") < 0)
		goto out;
	if (sqlite3_step(cur) != SQLITE_ROW) {
		store_error(s, "reading older checks");
		goto out;
	}
	bool started = sqlite3_column_type(cur, 0) != SQLITE_NULL;
	site = sqlite3_column_int64(cur, 0);
	at = sqlite3_column_int64(cur, 1);
	id = sqlite3_column_int64(cur, 2);
	sqlite3_reset(cur);
	if (!started) {
		sqlite3_bind_int64(next, 1, INT64_MIN);
		if ((got = one_int(s, next, &site)) < 0)
			goto out;
		if (got == 0)
			site = INT64_MIN;
		at = INT64_MIN;
		id = 0;
	}
	while (n < batch && more) {
		if (site == INT64_MIN) {
			more = 0;
			break;
		}
		int64_t got_rows = backfill_site(s, t, rd, unknown, prev, mark, site, below, &at, &id,
		    batch - n);
		if (got_rows < 0)
			goto out;
		n += got_rows;
		if (got_rows < batch - (n - got_rows)) {
			/* this site is done: on to the next one */
			int64_t nx = INT64_MIN;
			sqlite3_bind_int64(next, 1, site);
			if ((got = one_int(s, next, &nx)) < 0)
				goto out;
			site = got == 1 ? nx : INT64_MIN;
			at = INT64_MIN;
			id = 0;
		}
	}
	/* their counters were counted when they were recorded */
	if (write_pieces(s, t, now, false) < 0)
		goto out;
	if (more)
		rc = store_run(s, "recording the backfill's progress", NULL,
		    "UPDATE settings SET backfill_site = ?1, backfill_at = ?2, backfill_id = ?3"
		    " WHERE id = 1", "III", site, at, id) < 0 ? -1 : 1;
	else
		rc = store_run(s, "recording the backfill's end", NULL,
		    "UPDATE settings SET backfill_below = 0, backfill_site = NULL WHERE id = 1",
		    "") < 0 ? -1 : 0;
	*rows = n;
out:
	t->np = 0;
	sqlite3_finalize(rd);
	sqlite3_finalize(unknown);
	sqlite3_finalize(prev);
	sqlite3_finalize(mark);
	sqlite3_finalize(next);
	sqlite3_finalize(cur);
	return rc;
}

/*
 * The hourly tier made again from the raw checks, as the daemon would have
 * summed them: for a history written with SQL (an import, a test), where
 * no daemon saw the checks. Replaces uptime_hours, site_counters and the
 * edge marks; uptime_days is emptied, for the reporter to roll up again.
 * One transaction: the history must be there raw, whole.
 */
int store_tiers_rebuild(struct store *s)
{
	struct store_tiers *t = s->tiers;
	sqlite3_stmt *st = NULL, *mark = NULL;
	int64_t n = 0, prev_site = 0;
	int rc = -1, step;

	if (t == NULL) {
		log_errorx("%s: the tiers are made again only on a database opened to write", s->path);
		return -1;
	}
	if (store_begin(s) < 0)
		return -1;
	if (store_exec(s, "DELETE FROM uptime_hours; DELETE FROM uptime_days;"
	    " DELETE FROM site_counters; UPDATE checks SET edge = NULL WHERE edge IS NOT NULL;"
	    " UPDATE settings SET days_below = 0, backfill_below = 0, raw_below = 0,"
	    "  hours_below = 0, prune_at = 0, keep_at = 0 WHERE id = 1", "emptying the tiers") < 0)
		goto out;
	if (store_prepare(s, "SELECT id, site_id, checked_at, " STORE_VERDICT_SQL("") ", ok, "
	    STORE_UNKNOWN_SQL("") ", ms FROM checks ORDER BY site_id, checked_at, id", 0, &st,
	    "reading the checks") < 0 ||
	    store_prepare(s, "UPDATE checks SET edge = 1 WHERE id = ?1", 0, &mark,
	    "marking the edges") < 0)
		goto out;
	store_tiers_forget(s);
	t->np = 0;
	t->rebuilding = true;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t site = sqlite3_column_int64(st, 1);
		bool edge;
		/* a site at a time: the pieces of the one before go out first */
		if (n++ > 0 && site != prev_site && t->np > 0 && store_tiers_flush(s, 0) < 0)
			goto out;
		prev_site = site;
		int ok = sqlite3_column_int(st, 4), unknown = sqlite3_column_int(st, 5);
		if (store_tiers_check(s, site, sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3),
		    ok ? 1 : unknown ? -1 : 0, (int)sqlite3_column_int64(st, 6), &edge) < 0)
			goto out;
		if (edge) {
			sqlite3_bind_int64(mark, 1, sqlite3_column_int64(st, 0));
			if (sqlite3_step(mark) != SQLITE_DONE) {
				store_error(s, "marking the edges");
				goto out;
			}
			sqlite3_reset(mark);
		}
	}
	if (step != SQLITE_DONE) {
		store_error(s, "reading the checks");
		goto out;
	}
	if (store_tiers_flush(s, 0) < 0)
		goto out;
	rc = 0;
	log_info("%s: the hourly tier made again from %" PRId64 " checks", s->path, n);
out:
	t->rebuilding = false;
	sqlite3_finalize(st);
	sqlite3_finalize(mark);
	store_tiers_forget(s);
	if (rc == 0)
		return store_commit(s);
	store_rollback(s);
	return -1;
}

/* ---- the histogram in SQL: squirrel_hist_merge(a, b), squirrel_hist_sum(x) ---- */

/*
 * A blob that is not a histogram (typed by hand) must not stop the check
 * path: its counts are dropped, said once per process.
 */
static void merge_value(sqlite3_value *v, struct sq_hist *h)
{
	static bool said;

	if (sqlite3_value_type(v) != SQLITE_BLOB)
		return;
	if (sq_hist_merge_blob(h, sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v)) < 0 &&
	    !said) {
		said = true;
		log_warnx("a response-time histogram (ms_hist) in the database is not one: its "
		    "counts are left out");
	}
}

static void result_hist(sqlite3_context *ctx, const struct sq_hist *h)
{
	uint8_t blob[SQ_HIST_BLOB_MAX];
	size_t len = sq_hist_encode(h, blob);

	if (len == 0)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_blob(ctx, blob, (int)len, SQLITE_TRANSIENT);
}

/* On the check path (every hour upserted): the histogram on the stack, no allocation. */
static void hist_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sq_hist h;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < argc; i++)
		merge_value(argv[i], &h);
	result_hist(ctx, &h);
}

static void hist_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sq_hist *h = sqlite3_aggregate_context(ctx, sizeof(*h));

	(void)argc;
	if (h == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	merge_value(argv[0], h);
}

static void hist_final(sqlite3_context *ctx)
{
	struct sq_hist *h = sqlite3_aggregate_context(ctx, 0);

	if (h == NULL)
		sqlite3_result_null(ctx);
	else
		result_hist(ctx, h);
}

int store_tiers_register(struct store *s)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function(s->db, "squirrel_hist_merge", 2, flags, NULL, hist_merge,
	    NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "squirrel_hist_sum", 1, flags, NULL, NULL, hist_step,
	    hist_final) != SQLITE_OK) {
		store_error(s, "registering the histogram functions");
		return -1;
	}
	return 0;
}

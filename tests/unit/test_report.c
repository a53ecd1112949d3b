/*
 * test_report.c - the store's history on a real SQLite file: the uptime
 * hourly tier the daemon sums (tiers.c) against a plain reckoning over the
 * raw checks (random histories, windows cut anywhere), daily figures,
 * incidents (pruning and the tiers: test_tiers.c), the metrics file parsed line by line and
 * the status page's escaping; the one-time roll-up of history from before
 * the rollup, run only when asked (store_rollup_backfill).
 */
#include <ctype.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/report/metrics.h"
#include "squirrel/store/maintenance.h"
#include "squirrel/report/publish.h"
#include "squirrel/store/certs.h"
#include "squirrel/store/results.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"
#include "tap.h"

#define T0 1700000000          /* an arbitrary start, not on an hour */

struct ev {
	int64_t t;
	bool ok;
};

static char dir[] = "/tmp/squirrel-report-XXXXXX";
static const struct sq_page_opts full_page = { .kind = SQ_PAGE_FULL };

static int64_t rnd(int64_t n)
{
	return (int64_t)(random() % n);
}

static void save(struct store *s, int64_t site, int64_t t, bool ok, int ms)
{
	struct sq_result r = {
		.site_id = site,
		.started_ms = t * 1000,
		.http_status = ok ? 200 : 503,
		.err = ok ? SQ_OK : SQ_ERR_HTTP,
		.ms = ms,
	};
	struct sq_site_state st = { .state = ok ? SQ_STATE_UP : SQ_STATE_DOWN, .since = t };
	if (store_save_check(s, &r, &st) < 0)
		printf("# store_save_check failed\n");
}

/* Up and down seconds over [from, to) as the rule says, from the events alone. */
static void reckon(const struct ev *e, size_t n, int64_t cap, int64_t from, int64_t to,
    int64_t now, struct sq_uptime *u)
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < n; i++) {
		int64_t end = i + 1 < n ? e[i].t + (e[i + 1].t - e[i].t < cap ? e[i + 1].t - e[i].t : cap) :
		    (e[i].t + cap < now ? e[i].t + cap : now);
		int64_t a = e[i].t > from ? e[i].t : from, b = end < to ? end : to;
		if (b > a) {
			if (e[i].ok)
				u->up_s += b - a;
			else
				u->down_s += b - a;
		}
	}
}

static void test_rollup(struct store *s)
{
	struct sq_site_new a = { .url = "http://a.test/", .owner_email = "o@a.test", .interval_s = 60 };
	struct sq_site_new b = { .url = "http://b.test/", .owner_email = "o@b.test" };
	int64_t ida, idb;
	enum { N = 6000 };
	struct ev *ea = calloc(N, sizeof(*ea)), *eb = calloc(N, sizeof(*eb));

	ok(store_add_site(s, &a, &ida) == 0 && store_add_site(s, &b, &idb) == 0, "two sites added");
	/* b has no interval of its own: the default kept in the database caps it */
	ok(store_set_default_interval(s, 300) == 0, "default interval saved");

	int64_t t = T0;
	for (size_t i = 0; i < N; i++) {
		/* mostly a minute, sometimes a quick retry, sometimes a long silence */
		int64_t r = rnd(100);
		t += r < 70 ? 60 : r < 90 ? 20 : r < 97 ? rnd(400) : 3600 + rnd(20000);
		ea[i] = (struct ev){ t, rnd(10) != 0 };
	}
	t = T0 + 17;
	for (size_t i = 0; i < N; i++) {
		int64_t r = rnd(100);
		t += r < 80 ? 300 : r < 95 ? rnd(700) : 5000 + rnd(90000);
		eb[i] = (struct ev){ t, rnd(6) != 0 };
	}
	ok(store_begin(s) == 0, "a write");
	for (size_t i = 0; i < N; i++) {
		save(s, ida, ea[i].t, ea[i].ok, 100 + (int)(i % 50));
		save(s, idb, eb[i].t, eb[i].ok, 10);
	}
	ok(store_commit(s) == 0, "%d checks per site recorded", N);

	int64_t end = ea[N - 1].t > eb[N - 1].t ? ea[N - 1].t : eb[N - 1].t;
	int64_t now = end + 45;
	struct sq_reader *r = store_reader_open(s);
	ok(r != NULL, "a reader");
	int bad = 0;
	for (int k = 0; k < 400 && r != NULL; k++) {
		int64_t from = T0 - 1000 + rnd(end - T0 + 2000), len = 1 + rnd(k % 4 == 0 ? 4000 : 40 * 86400);
		int64_t to = from + len;
		struct sq_uptime got, want;
		bool site_a = k % 2 == 0;
		if (k % 5 == 0)
			to = now;
		reckon(site_a ? ea : eb, N, site_a ? 120 : 600, from, to, now, &want);
		if (store_reader_uptime(r, site_a ? ida : idb, from, to, now, &got) < 0 ||
		    got.up_s != want.up_s || got.down_s != want.down_s) {
			if (bad++ < 5)
				printf("# site %s [%" PRId64 ", %" PRId64 "): got %" PRId64 "/%" PRId64
				    ", want %" PRId64 "/%" PRId64 "\n", site_a ? "a" : "b", from, to,
				    got.up_s, got.down_s, want.up_s, want.down_s);
		}
	}
	is_int(bad, 0, "400 random windows: rollup plus edges equal the plain reckoning");

	enum { DAYS = 60 };
	struct sq_uptime days[DAYS];
	int64_t first = (T0 / 86400 + 3) * 86400;
	bad = 0;
	if (r != NULL && store_reader_uptime_days(r, ida, first, DAYS, now, days) == 0) {
		for (int d = 0; d < DAYS; d++) {
			struct sq_uptime want;
			reckon(ea, N, 120, first + d * 86400, first + (d + 1) * 86400, now, &want);
			bad += days[d].up_s != want.up_s || days[d].down_s != want.down_s;
		}
	} else {
		bad = -1;
	}
	is_int(bad, 0, "daily figures equal the plain reckoning, day by day");

	struct sq_figures f;
	ok(r != NULL && store_reader_figures(r, ida, now, &f) == 0, "figures");
	struct sq_uptime want;
	reckon(ea, N, 120, now - 86400, now, now, &want);
	ok(f.day.up_s == want.up_s && f.day.down_s == want.down_s, "24 h figure");
	reckon(ea, N, 120, now - 30 * 86400, now, now, &want);
	ok(f.month.up_s == want.up_s && f.month.down_s == want.down_s, "30 d figure");
	store_reader_close(r);

	struct sq_site_info_list l;
	ok(store_site_infos(s, ida, &l) == 0 && l.n == 1 && l.v[0].checks_total == N,
	    "the site's checks counter");
	int64_t fails = 0;
	for (size_t i = 0; i < N; i++)
		fails += !ea[i].ok;
	ok(l.n == 1 && l.v[0].failures_total == fails, "the site's failures counter");
	store_free_site_infos(&l);
	free(ea);
	free(eb);
}

/* One check of site at t with the given class and detail; the state does not matter here. */
static void save_err(struct store *s, int64_t site, int64_t t, enum sq_err err, const char *detail)
{
	struct sq_result r = { .site_id = site, .started_ms = t * 1000, .err = err, .ms = 5 };
	struct sq_site_state st = { .state = SQ_STATE_UP, .since = t };
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	if (store_save_check(s, &r, &st) < 0)
		printf("# store_save_check failed\n");
}

static void is_uptime(struct sq_reader *r, int64_t site, int64_t from, int64_t to, int64_t now,
    int64_t up, int64_t down, const char *what)
{
	struct sq_uptime u = { -1, -1, 0, 0 };
	if (r == NULL || store_reader_uptime(r, site, from, to, now, &u) < 0)
		u.up_s = u.down_s = -1;
	ok(u.up_s == up && u.down_s == down, "%s: up %" PRId64 " s, down %" PRId64 " s (got %"
	    PRId64 ", %" PRId64 ")", what, up, down, u.up_s, u.down_s);
}

/*
 * An unknown verdict (too few locations answered) counts neither up nor
 * down, in the rollup as at a window's edges and while it is the latest;
 * it is no failure. A library message that begins with "unknown" is one.
 */
static void test_unknown(struct store *s)
{
	struct sq_site_new c = { .url = "http://c.test/", .owner_email = "o@c.test", .interval_s = 60 };
	struct sq_site_new d = { .url = "http://d.test/", .owner_email = "o@d.test", .interval_s = 60 };
	int64_t idc, idd, B = (T0 / 3600 + 2400) * 3600;

	ok(store_add_site(s, &c, &idc) == 0 && store_add_site(s, &d, &idd) == 0, "two more sites");
	ok(store_begin(s) == 0, "a write");
	save(s, idc, B + 3540, true, 10);
	save_err(s, idc, B + 3600, SQ_ERR_NO_QUORUM, "unknown: no answer from b");
	save(s, idc, B + 3660, false, 10);
	save_err(s, idc, B + 3720, SQ_ERR_NO_QUORUM, "");
	save(s, idc, B + 3780, true, 10);
	save(s, idc, B + 3840, false, 10);
	save(s, idd, B, true, 10);
	save_err(s, idd, B + 60, SQ_ERR_NO_QUORUM, "unknown: no answer from a, c");
	save_err(s, idd, B + 100, SQ_ERR_OTHER, "unknown option");
	save_err(s, idd, B + 150, SQ_ERR_NO_QUORUM, "");
	ok(store_commit(s) == 0, "checks with unknown verdicts recorded");

	struct sq_reader *r = store_reader_open(s);
	/* c: up [3540,3600) and [3780,3840); down [3660,3720) and the open [3840,3900) */
	is_uptime(r, idc, B, B + 7200, B + 3900, 120, 120, "whole hours from the rollup");
	is_uptime(r, idc, B + 3570, B + 3870, B + 3900, 90, 90, "a window inside the hours");
	is_uptime(r, idc, B + 3590, B + 7200, B + 3900, 70, 120, "an edge, then the rollup");
	/* d: up [0,60), down [100,150) from "unknown option", nothing while unknown is latest */
	is_uptime(r, idd, B, B + 3600, B + 400, 60, 50, "an unknown latest check holds nothing");
	is_uptime(r, idd, B - 3600, B + 7200, B + 400, 60, 50, "the same over whole hours");
	store_reader_close(r);

	struct sq_site_info_list l;
	ok(store_site_infos(s, idc, &l) == 0 && l.n == 1 && l.v[0].checks_total == 6 &&
	    l.v[0].failures_total == 2, "c: 6 checks, 2 failures: the unknown ones are none");
	store_free_site_infos(&l);
	ok(store_site_infos(s, idd, &l) == 0 && l.n == 1 && l.v[0].checks_total == 4 &&
	    l.v[0].failures_total == 1, "d: 4 checks, 1 failure (\"unknown option\")");
	store_free_site_infos(&l);
}

/* A check with its marks: the window it fell in (0 none), slow or not. */
static void save_marked(struct store *s, int64_t site, int64_t t, bool ok, int64_t window,
    bool slow)
{
	struct sq_result r = { .site_id = site, .started_ms = t * 1000, .ms = slow ? 900 : 10,
		.http_status = ok ? 200 : 503, .err = ok ? SQ_OK : SQ_ERR_HTTP };
	struct sq_site_state st = { .state = SQ_STATE_UP, .since = t };
	struct sq_check_marks m = { .maintenance = window, .slow = slow };
	if (store_save_check_marked(s, &r, &st, NULL, 0, &m) < 0)
		printf("# store_save_check_marked failed\n");
}

static void is_uptime4(struct sq_reader *r, int64_t site, int64_t from, int64_t to, int64_t now,
    const struct sq_uptime *want, const char *what)
{
	struct sq_uptime u = { -1, -1, -1, -1 };
	if (r == NULL || store_reader_uptime(r, site, from, to, now, &u) < 0)
		u.up_s = -1;
	ok(u.up_s == want->up_s && u.down_s == want->down_s && u.slow_s == want->slow_s &&
	    u.maint_s == want->maint_s, "%s: up %" PRId64 " (slow %" PRId64 "), down %" PRId64
	    ", maintenance %" PRId64 " (got %" PRId64 " (%" PRId64 "), %" PRId64 ", %" PRId64 ")",
	    what, want->up_s, want->slow_s, want->down_s, want->maint_s, u.up_s, u.slow_s, u.down_s,
	    u.maint_s);
}

/*
 * Schema 14: time inside a maintenance window is left out of up and down
 * and summed apart; slow time is up, and summed apart too. In the rollup,
 * at a window's edges from the raw checks, and in the daily figures.
 */
static void test_maintenance_slow(struct store *s)
{
	struct sq_site_new e = { .url = "http://e.test/", .owner_email = "o@e.test", .interval_s = 60 };
	int64_t id, B = (T0 / 3600 + 4800) * 3600;

	ok(store_add_site(s, &e, &id) == 0, "a site for maintenance and slow time");
	store_begin(s);
	save_marked(s, id, B, true, 0, false);         /* [0, 60) up */
	save_marked(s, id, B + 60, true, 0, true);     /* [60, 120) up, slow */
	save_marked(s, id, B + 120, true, 0, true);    /* [120, 180) up, slow */
	save_marked(s, id, B + 180, false, 1, false);  /* [180, 240) maintenance */
	save_marked(s, id, B + 240, true, 1, true);    /* [240, 300) maintenance, slow or not */
	save_marked(s, id, B + 300, false, 0, false);  /* [300, 360) down */
	save_marked(s, id, B + 360, true, 0, false);   /* [360, now) up, open */
	ok(store_commit(s) == 0, "marked checks recorded");

	struct sq_reader *r = store_reader_open(s);
	is_uptime4(r, id, B, B + 3600, B + 400, &(struct sq_uptime){ 220, 60, 120, 120 },
	    "a whole hour from the rollup");
	is_uptime4(r, id, B - 3600, B + 7200, B + 400, &(struct sq_uptime){ 220, 60, 120, 120 },
	    "three hours");
	is_uptime4(r, id, B + 90, B + 330, B + 400, &(struct sq_uptime){ 90, 30, 90, 120 },
	    "inside the hour, from the raw checks");
	is_uptime4(r, id, B + 200, B + 220, B + 400, &(struct sq_uptime){ 0, 0, 0, 20 },
	    "all of it inside the window");
	struct sq_uptime days[2];
	ok(store_reader_uptime_days(r, id, B / 86400 * 86400, 2, B + 400, days) == 0 &&
	    days[0].up_s == 220 && days[0].down_s == 60 && days[0].slow_s == 120 &&
	    days[0].maint_s == 120 && days[1].up_s == 0 && days[1].maint_s == 0,
	    "the day: up 220 (slow 120), down 60, maintenance 120 (got %" PRId64 ", %" PRId64
	    ", %" PRId64 ", %" PRId64 ")", days[0].up_s, days[0].slow_s, days[0].down_s,
	    days[0].maint_s);
	store_reader_close(r);
	sqlite3 *db;
	char path[160];
	snprintf(path, sizeof(path), "%s/t.db", dir);
	sqlite3_stmt *st = NULL;
	int64_t sums[4] = { -1, -1, -1, -1 };
	if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db,
	    "SELECT sum(up_s), sum(down_s), sum(slow_s), sum(maint_s) FROM uptime_hours"
	    " WHERE site_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			for (int i = 0; i < 4; i++)
				sums[i] = sqlite3_column_int64(st, i);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	ok(sums[0] == 180 && sums[1] == 60 && sums[2] == 120 && sums[3] == 120,
	    "the rollup's rows: up 180 (slow 120), down 60, maintenance 120, the open hold not yet");

	/* the metrics say which sites a window is over now */
	struct sq_window w = { .site_id = id, .day = -1, .from = time(NULL) - 60,
		.until = time(NULL) + 3600, .reason = "m" };
	int64_t wid;
	ok(store_window_add(s, &w, &wid) == 0, "a window over the site, in force");
	char *text = NULL, line[160];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ok(f != NULL && metrics_render(f, s, NULL) == 0, "metrics rendered");
	if (f != NULL)
		fclose(f);
	snprintf(line, sizeof(line), "\nsquirrel_site_maintenance{id=\"%" PRId64
	    "\",url=\"http://e.test/\"} 1\n", id);
	ok(text != NULL && strstr(text, line) != NULL, "squirrel_site_maintenance 1 for it");
	ok(text != NULL && strstr(text, "# TYPE squirrel_site_maintenance gauge\n") != NULL,
	    "a gauge");
	int ones = 0, zeros = 0;
	for (char *p = text; p != NULL && (p = strstr(p, "\nsquirrel_site_maintenance{")) != NULL; p++) {
		char *eol = strchr(p + 1, '\n');
		if (eol != NULL && eol - p > 2 && eol[-2] == ' ')
			ones += eol[-1] == '1', zeros += eol[-1] == '0';
	}
	ok(ones == 1 && zeros > 0, "the other sites read 0 (%d ones, %d zeros)", ones, zeros);
	free(text);
	ok(store_window_remove(s, wid) == 0, "the window removed");
}

static void test_incidents(struct store *s)
{
	struct sq_site_new n = { .url = "http://inc.test/", .owner_email = "o@inc.test" };
	struct sq_incident_list l;
	int64_t id;

	ok(store_add_site(s, &n, &id) == 0, "a site for incidents");
	store_begin(s);
	ok(store_incident_open(s, id, 1000, "connect refused") == 0, "open");
	ok(store_incident_open(s, id, 1500, "timeout") == 0, "open again: no error");
	ok(store_incident_close(s, id, 2000) == 0, "close");
	ok(store_incident_close(s, id, 2500) == 0, "close again: no error");
	ok(store_incident_open(s, id, 3000, "http 503") == 0, "a second incident");
	store_commit(s);
	struct sq_reader *r = store_reader_open(s);
	ok(r != NULL && store_reader_incidents(r, id, 0, 10, &l) == 0, "incidents read");
	is_int(l.n, 2, "two incidents");
	if (l.n == 2) {
		is_int(l.v[0].started_at, 3000, "newest first");
		is_int(l.v[0].ended_at, 0, "the newest still open");
		is_str(l.v[0].cause, "http 503", "its cause");
		is_int(l.v[1].started_at, 1000, "the first kept its first start");
		is_int(l.v[1].ended_at, 2000, "and its first end");
		is_str(l.v[1].cause, "connect refused", "and its cause");
	}
	store_free_incidents(&l);
	ok(store_reader_incidents(r, id, 2500, 10, &l) == 0 && l.n == 1,
	    "only the open one ended after 2500");
	store_free_incidents(&l);
	store_reader_close(r);
}

/* One sample line "name{labels} value": checks the grammar, returns the name. */
static bool sample_ok(const char *line, char *name, size_t len)
{
	size_t i = 0;
	while (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == ':')
		i++;
	if (i == 0 || i >= len)
		return false;
	memcpy(name, line, i);
	name[i] = '\0';
	if (line[i] == '{') {
		i++;
		while (line[i] != '}') {
			size_t k = i;
			while (isalnum((unsigned char)line[i]) || line[i] == '_')
				i++;
			if (i == k || line[i++] != '=' || line[i++] != '"')
				return false;
			while (line[i] != '"') {
				if (line[i] == '\0' || line[i] == '\n')
					return false;
				if (line[i] == '\\') {
					if (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n')
						return false;
					i++;
				}
				i++;
			}
			i++;
			if (line[i] == ',')
				i++;
			else if (line[i] != '}')
				return false;
		}
		i++;
	}
	if (line[i++] != ' ')
		return false;
	char *end;
	strtod(line + i, &end);
	return end != line + i && *end == '\0';
}

static void test_metrics(struct store *s)
{
	/* a newline would make it a row the daemon skips: no site's label */
	struct sq_site_new n = { .url = "http://m.test/a\"b\\c", .owner_email = "o@m.test" };
	struct sq_metrics m = { .started_at = T0, .checks = 10, .failures = 2,
		.checks_per_second = 1.5, .alerts_sent = 3, .alerts_failed = 1,
		.pass_seconds = 0.25, .loop_seconds = -1 };
	char path[128], line[1024], name[128], typed[128] = "";
	int64_t id;
	int lines = 0, bad = 0;
	bool found_site = false, found_daemon = false, found_tmp = false;

	ok(store_add_site(s, &n, &id) == 0, "a site whose URL needs escaping");
	store_begin(s);
	save(s, id, T0 + 5, false, 1234);
	store_commit(s);
	snprintf(path, sizeof(path), "%s/squirrel.prom", dir);
	ok(metrics_write(path, s, &m) == 0, "metrics written");
	FILE *f = fopen(path, "r");
	ok(f != NULL, "the file is there");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL && lines < 100000) {
		size_t len = strlen(line);
		lines++;
		if (len == 0 || line[len - 1] != '\n') {
			bad++;
			continue;
		}
		line[len - 1] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char type[32];
			if (sscanf(line + 7, "%127s %31s", typed, type) != 2 ||
			    (strcmp(type, "gauge") != 0 && strcmp(type, "counter") != 0))
				bad++;
			continue;
		}
		if (!sample_ok(line, name, sizeof(name)) || strcmp(name, typed) != 0) {
			printf("# bad line: %s\n", line);
			bad++;
			continue;
		}
		char want[160];
		snprintf(want, sizeof(want),
		    "squirrel_site_response_seconds{id=\"%" PRId64 "\",url=\"http://m.test/a\\\"b\\\\c\"} 1.234",
		    id);
		found_site |= strcmp(line, want) == 0;
		found_daemon |= strcmp(line, "squirrel_checks_total 10") == 0;
	}
	if (f != NULL)
		fclose(f);
	ok(lines > 20, "%d lines", lines);
	is_int(bad, 0, "every line is HELP, TYPE or a sample of the family typed last");
	ok(found_site, "the URL label is escaped (backslash, quote)");
	ok(found_daemon, "the daemon's counters are there");
	/* no temporary file left beside it */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -q '^\\.squirrel\\.prom\\.'", dir);
	found_tmp = system(cmd) == 0;
	ok(!found_tmp, "no temporary file left");
	ok(metrics_write("/nonexistent-dir/x.prom", s, &m) < 0, "an unwritable path fails");
}

/* The metrics of s and m as one string (malloc'd), or NULL. */
static char *render_metrics(struct store *s, const struct sq_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	int rc = metrics_render(f, s, m);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Whether text has want as one whole line. */
static bool has_line(const char *text, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, want, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* Every sample's value a plain decimal: digits, at most one point, no exponent. */
static int non_decimal_values(const char *text)
{
	int bad = 0;
	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (*p == '#' || len == 0)
			continue;
		const char *v = p + len;
		while (v > p && v[-1] != ' ')
			v--;
		size_t digits = strspn(v, "0123456789");
		if (digits > 0 && v[digits] == '.')
			digits += 1 + strspn(v + digits + 1, "0123456789");
		if (digits == 0 || v + digits != p + len || v[digits - 1] == '.') {
			printf("# not a plain decimal: %.*s\n", (int)len, p);
			bad++;
		}
	}
	return bad;
}

/*
 * Times and counters printed exactly, as the digits they are: never
 * 1.79651213e+09 for a start time, never a rounded count.
 */
static void test_metrics_numbers(struct store *s)
{
	struct sq_metrics m = { .started_at = 1796512133, .checks = 12345678901234ULL,
		.failures = 9007199254740993ULL, .checks_per_second = 1234567890.25,
		.alerts_sent = 4000000001ULL, .alerts_failed = 0,
		.pass_seconds = 0.25, .loop_seconds = 0.000125 };
	char *text = render_metrics(s, &m);

	ok(text != NULL, "metrics rendered");
	if (text == NULL)
		return;
	ok(has_line(text, "squirrel_start_time_seconds 1796512133"), "the start time to the second");
	ok(has_line(text, "squirrel_checks_total 12345678901234"), "a counter as its digits");
	ok(has_line(text, "squirrel_check_failures_total 9007199254740993"),
	    "a counter beyond a double's 53 bits, exactly");
	ok(has_line(text, "squirrel_alerts_sent_total 4000000001"), "alerts sent");
	ok(has_line(text, "squirrel_alerts_failed_total 0"), "alerts given up");
	ok(has_line(text, "squirrel_alerts_pending 0"), "alerts pending, a whole number");
	ok(has_line(text, "squirrel_alerts_undeliverable 0"), "alerts undeliverable");
	ok(has_line(text, "squirrel_checks_per_second 1234567890.25"), "a rate without an exponent");
	ok(has_line(text, "squirrel_pass_duration_seconds 0.25"), "the pass's duration");
	ok(has_line(text, "squirrel_loop_duration_seconds 0.000125"), "the loop's, to the microsecond");
	is_int(non_decimal_values(text), 0, "every value a plain decimal");
	free(text);

	m.pass_seconds = -1;
	m.loop_seconds = -1;
	m.checks_per_second = 0;
	text = render_metrics(s, &m);
	ok(text != NULL && strstr(text, "squirrel_pass_duration_seconds") == NULL,
	    "pass_seconds < 0 (unknown): the family is left out");
	ok(text != NULL && strstr(text, "squirrel_loop_duration_seconds") == NULL,
	    "loop_seconds < 0: left out");
	ok(text != NULL && has_line(text, "squirrel_checks_per_second 0"), "a rate of 0 is 0");
	free(text);

	m.pass_seconds = 0;
	text = render_metrics(s, &m);
	ok(text != NULL && has_line(text, "squirrel_pass_duration_seconds 0"),
	    "pass_seconds 0 is a pass that took no time: printed");
	free(text);
}

static void test_page(struct store *s)
{
	struct sq_site_new n = { .url = "http://x.test/?a=<b>&c=\"d\"",
		.owner_email = "o@x.test", .name = "<script>alert(1)</script> & 'co'" };
	char path[128];
	int64_t id;

	ok(store_add_site(s, &n, &id) == 0, "a site with markup in its name");
	store_begin(s);
	save(s, id, T0 + 10, true, 50);
	store_commit(s);
	snprintf(path, sizeof(path), "%s/status.html", dir);
	ok(statuspage_write(s, path, T0 + 20, &full_page) == 0, "page written");
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 4 << 20);
	size_t len = f && buf ? fread(buf, 1, (4 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	ok(len > 0, "page read back");
	/* the page's own script once, at the end, and nothing of the name's */
	const char *script = buf != NULL ? strstr(buf, "<script>") : NULL;
	ok(script != NULL && strstr(script + 1, "<script") == NULL &&
	    strstr(script, "alert(") == NULL && strstr(buf, "<script>alert") == NULL,
	    "no <script> but the page's own");
	ok(buf && strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;co&#39;") != NULL,
	    "the name shows as text");
	ok(buf && strstr(buf, "href=\"http://x.test/?a=&lt;b&gt;&amp;c=&quot;d&quot;\"") != NULL,
	    "the URL is escaped in its attribute");
	free(buf);
}

/* The page of s at now as one string (malloc'd), or NULL. */
static char *render_page(struct store *s, const char *name, int64_t now)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (statuspage_write(s, path, now, &full_page) < 0)
		return NULL;
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t len = f != NULL && buf != NULL ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	if (len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * A degraded site, in a database of its own: up, but slow. The metrics
 * count it as up and apart (squirrel_site_degraded, the state degraded);
 * the page shows its badge and since when, and says it is slow.
 */
static void test_degraded_shown(void)
{
	char path[128];
	struct sq_site_new n = { .url = "http://slow.test/", .owner_email = "o@slow.test" };
	struct sq_site_new u = { .url = "http://fast.test/", .owner_email = "o@slow.test" };
	int64_t id = 0, fast = 0;

	snprintf(path, sizeof(path), "%s/degraded.db", dir);
	struct store *s = store_open(path, STORE_CREATE);
	ok(s != NULL && store_add_site(s, &n, &id) == 0 && store_add_site(s, &u, &fast) == 0,
	    "a database with two sites");
	if (s == NULL)
		return;
	struct sq_result r = { .site_id = id, .started_ms = (int64_t)(T0 + 10) * 1000, .http_status = 200,
		.err = SQ_OK, .ms = 4000 };
	struct sq_site_state st = { .state = SQ_STATE_DEGRADED, .since = T0, .slow_count = 3,
		.slow_since = T0 };
	store_begin(s);
	ok(store_save_check(s, &r, &st) == 0, "a degraded state stored");
	save(s, fast, T0 + 10, true, 50);
	store_commit(s);

	char *text = render_metrics(s, NULL);
	char want[160];
	ok(text != NULL, "metrics rendered");
	ok(text != NULL && has_line(text, "squirrel_sites{state=\"degraded\"} 1"),
	    "squirrel_sites counts the degraded site");
	ok(text != NULL && has_line(text, "squirrel_sites{state=\"up\"} 1"), "and the up one apart");
	snprintf(want, sizeof(want), "squirrel_site_up{id=\"%" PRId64 "\",url=\"http://slow.test/\"} 1", id);
	ok(text != NULL && has_line(text, want), "a degraded site is up");
	snprintf(want, sizeof(want),
	    "squirrel_site_degraded{id=\"%" PRId64 "\",url=\"http://slow.test/\"} 1", id);
	ok(text != NULL && has_line(text, want), "and degraded");
	snprintf(want, sizeof(want),
	    "squirrel_site_degraded{id=\"%" PRId64 "\",url=\"http://fast.test/\"} 0", fast);
	ok(text != NULL && has_line(text, want), "a fast site is not degraded");
	free(text);

	text = render_page(s, "degraded.html", T0 + 20);
	ok(text != NULL, "page rendered");
	ok(text != NULL && strstr(text, "<b class=\"st degraded\">degraded</b>") != NULL,
	    "the degraded badge");
	ok(text != NULL && strstr(text, "Degraded (slow) since ") != NULL, "degraded since when");
	ok(text != NULL && strstr(text, "<p class=\"overall degraded\">All 2 sites up, 1 slow</p>") != NULL,
	    "the overall line: up, and how many slow");
	free(text);
	store_close(s);
}

/* The certificate last seen: its end in the metrics (https sites alone) and the days left on the page. */
static void test_cert_shown(void)
{
	char path[128], want[200];
	struct sq_site_new n = { .url = "https://tls.test/", .owner_email = "o@tls.test" };
	struct sq_site_new p = { .url = "http://plain.test/", .owner_email = "o@tls.test" };
	int64_t id = 0, plain = 0;

	snprintf(path, sizeof(path), "%s/cert.db", dir);
	struct store *s = store_open(path, STORE_CREATE);
	ok(s != NULL && store_add_site(s, &n, &id) == 0 && store_add_site(s, &p, &plain) == 0,
	    "a database with an https and an http site");
	if (s == NULL)
		return;
	struct sq_site_cert c = { .site_id = id, .not_after = T0 + 20 * 86400 + 3600,
		.first_seen = T0, .warned_days = 30 };
	memset(c.fingerprint, 'a', 64);
	snprintf(c.subject, sizeof(c.subject), "CN=tls.test");
	snprintf(c.issuer, sizeof(c.issuer), "CN=Test CA");
	store_begin(s);
	save(s, id, T0 + 10, true, 50);
	save(s, plain, T0 + 10, true, 50);
	ok(store_cert_save(s, &c) == 0, "its certificate kept");
	store_commit(s);
	struct sq_site_cert back;
	ok(store_cert_load(s, id, &back) == 0 && memcmp(&back, &c, sizeof(c)) == 0, "and read back whole");
	is_int(store_cert_load(s, plain, &back), STORE_NOT_FOUND, "none for the http site");

	char *text = render_metrics(s, NULL);
	snprintf(want, sizeof(want), "squirrel_cert_expiry_timestamp_seconds{id=\"%" PRId64
	    "\",url=\"https://tls.test/\"} %" PRId64, id, c.not_after);
	ok(text != NULL && has_line(text, want), "the metric: when the https site's certificate ends");
	snprintf(want, sizeof(want), "squirrel_cert_expiry_timestamp_seconds{id=\"%" PRId64 "\"", plain);
	ok(text != NULL && strstr(text, want) == NULL, "no line for the http site");
	free(text);
	text = render_page(s, "cert.html", T0 + 20);
	ok(text != NULL && strstr(text, "certificate ends in 20 days, ") != NULL, "the page: days left");
	free(text);
	store_close(s);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The selection against a sort, on many random arrays (duplicates included). */
static void test_percentile(void)
{
	int64_t v[300], sorted[300];
	int bad = 0;

	is_int(percentile(v, 0, 50), -1, "no values: -1");
	for (int round = 0; round < 2000; round++) {
		size_t n = 1 + (size_t)rnd(300);
		int64_t range = round % 3 == 0 ? 5 : 100000;
		for (size_t i = 0; i < n; i++)
			sorted[i] = v[i] = rnd(range);
		qsort(sorted, n, sizeof(*sorted), cmp64);
		for (int pct = 1; pct <= 100; pct += round % 2 ? 49 : 1) {
			size_t rank = (n * (size_t)pct + 99) / 100;
			if (percentile(v, n, pct) != sorted[rank - 1])
				bad++;
		}
	}
	is_int(bad, 0, "nearest-rank percentiles by selection equal those of a sort");
	int64_t four[] = { 40, 10, 30, 20 };
	is_int(percentile(four, 4, 50), 20, "p50 of 10 20 30 40 is 20");
	is_int(percentile(four, 4, 95), 40, "p95 of 10 20 30 40 is 40");
}

/* The rows of uptime_hours as "site hour up down" lines, or the value of one query. */
static char *dump_hours(sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t len = 0, cap = 1 << 16;
	char *out = calloc(1, cap);

	if (out == NULL || sqlite3_prepare_v2(db, "SELECT site_id, hour, up_s, down_s FROM uptime_hours"
	    " ORDER BY site_id, hour", -1, &st, NULL) != SQLITE_OK) {
		free(out);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW && len + 100 < cap)
		len += (size_t)snprintf(out + len, cap - len, "%lld %lld %lld %lld\n",
		    sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
	sqlite3_finalize(st);
	return out;
}

static int64_t sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * A database migrated from before the rollup: its history is in checks,
 * uptime_hours is empty, and settings.rollup_backfill_below says where
 * that history ends. Saving the interval leaves it; store_rollup_backfill
 * rolls it up exactly as the trigger did, once.
 */
static void test_backfill(const char *path)
{
	struct sq_site_new a = { .url = "http://old.test/", .owner_email = "o@old.test", .interval_s = 60 };
	struct store *s = store_open(path, STORE_CREATE);
	sqlite3 *db = NULL;
	int64_t id;
	char *want = NULL, *got = NULL;

	ok(s != NULL && store_add_site(s, &a, &id) == 0, "backfill: a database and a site");
	if (s == NULL)
		return;
	int64_t t = T0;
	for (int i = 0; i < 500; i++) {
		t += i % 7 == 0 ? 400 : 60;       /* now and then a gap longer than the cap */
		save(s, id, t, i % 5 != 0, 10);
	}
	ok(sqlite3_open(path, &db) == SQLITE_OK, "backfill: the file opened beside the store");
	want = dump_hours(db);
	ok(want != NULL && strlen(want) > 0, "backfill: the trigger rolled up the history");
	ok(sqlite3_exec(db, "DELETE FROM uptime_hours; UPDATE settings SET rollup_backfill_below ="
	    " (SELECT max(id) + 1 FROM checks) WHERE id = 1", NULL, NULL, NULL) == SQLITE_OK,
	    "backfill: the rollup emptied, as before schema version 3");

	ok(store_set_default_interval(s, 120) == 0, "backfill: the default interval saved");
	is_int(sql_int(db, "SELECT default_interval_s FROM settings"), 120, "backfill: it is 120");
	is_int(sql_int(db, "SELECT count(*) FROM uptime_hours"), 0,
	    "backfill: saving the interval rolls nothing up");
	ok(sql_int(db, "SELECT rollup_backfill_below FROM settings") > 0,
	    "backfill: the older history is still owed");

	ok(store_rollup_backfill(s) == 0, "backfill: rolled up");
	got = dump_hours(db);
	ok(want != NULL && got != NULL && strcmp(want, got) == 0,
	    "backfill: hour by hour what the trigger had summed");
	is_int(sql_int(db, "SELECT rollup_backfill_below FROM settings"), 0, "backfill: nothing owed now");
	ok(store_rollup_backfill(s) == 0, "backfill: a second call succeeds");
	free(got);
	got = dump_hours(db);
	ok(want != NULL && got != NULL && strcmp(want, got) == 0, "backfill: and adds nothing: once");
	free(want);
	free(got);
	sqlite3_close(db);
	store_close(s);
}

int main(void)
{
	char path[128];

	srandom(42);
	test_percentile();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	struct store *s = store_open(path, STORE_CREATE);
	ok(s != NULL, "database created at schema version %d", store_schema_version());
	if (s != NULL) {
		test_rollup(s);
		test_unknown(s);
		test_maintenance_slow(s);
		test_incidents(s);
		test_metrics(s);
		test_metrics_numbers(s);
		test_page(s);
		test_degraded_shown();
		test_cert_shown();
		store_close(s);
	}
	snprintf(path, sizeof(path), "%s/old.db", dir);
	test_backfill(path);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}

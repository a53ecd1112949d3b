/*
 * test_state.c - the state machine, transition by transition, then every
 * sequence of up to 12 checks against a plain reference model; and the
 * state as record.c keeps it in a real SQLite file, unknown verdicts
 * (redis) between the failures included.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squirrel/alert/record.h"
#include "squirrel/core/state.h"
#include "squirrel/store/results.h"
#include "squirrel/store/sites.h"
#include "tap.h"

static const struct sq_thresholds defaults = {
	.fail_threshold = 2, .recover_threshold = 1, .interval_s = 60,
	.retry_interval_s = 20, .remind_every_s = 0,
};

static struct sq_transition step(struct sq_site_state *st, const struct sq_thresholds *t,
    enum sq_verdict v, int64_t now)
{
	struct sq_transition tr;
	state_apply(st, t, v, now, &tr);
	return tr;
}

static void test_transitions(void)
{
	struct sq_site_state st = { 0 };
	struct sq_transition tr;

	tr = step(&st, &defaults, true, 1000);
	is_int(tr.to, SQ_STATE_UP, "new site found up is up");
	is_int(tr.alert, SQ_ALERT_NONE, "new site found up: no alert");
	is_int(tr.next_check_s, 60, "up: next check after the interval");
	is_int(st.since, 1000, "up since its first check");

	tr = step(&st, &defaults, false, 1060);
	is_int(tr.to, SQ_STATE_UP, "one failure: still up");
	is_int(tr.alert, SQ_ALERT_NONE, "one failure: no alert");
	is_int(tr.next_check_s, 20, "one failure: quick re-check");
	tr = step(&st, &defaults, true, 1080);
	is_int(tr.alert, SQ_ALERT_NONE, "a blip: no alert");
	is_int(st.fail_count, 0, "a success clears the failures");

	step(&st, &defaults, false, 1140);
	tr = step(&st, &defaults, false, 1160);
	is_int(tr.from, SQ_STATE_UP, "from up");
	is_int(tr.to, SQ_STATE_DOWN, "two failures: down");
	is_int(tr.alert, SQ_ALERT_DOWN, "two failures: DOWN alert");
	is_int(tr.next_check_s, 60, "down: back to the interval");
	is_int(st.since, 1140, "down since the first failure of the run, not the confirming check");

	tr = step(&st, &defaults, false, 1220);
	is_int(tr.alert, SQ_ALERT_NONE, "still down, reminders off: no alert");

	tr = step(&st, &defaults, true, 2000);
	is_int(tr.to, SQ_STATE_UP, "one success: up again");
	is_int(tr.alert, SQ_ALERT_UP, "UP alert");
	is_int(tr.down_for, 860, "down for 860 s: from the first failure");
	is_int(st.fail_since, 0, "up: no failure run");

	/* a new site confirmed down alerts */
	struct sq_site_state fresh = { 0 };
	tr = step(&fresh, &defaults, false, 10);
	is_int(tr.to, SQ_STATE_UNKNOWN, "new site, one failure: unknown");
	is_int(tr.next_check_s, 20, "new site, one failure: quick re-check");
	tr = step(&fresh, &defaults, false, 30);
	is_int(tr.to, SQ_STATE_DOWN, "new site, two failures: down");
	is_int(tr.alert, SQ_ALERT_DOWN, "new site confirmed down: alert");
	is_int(fresh.since, 10, "new site: down since its first check");

	/* fail_threshold 1: the first failure is an outage */
	struct sq_thresholds one = defaults;
	one.fail_threshold = 1;
	struct sq_site_state s1 = { 0 };
	tr = step(&s1, &one, false, 5);
	is_int(tr.alert, SQ_ALERT_DOWN, "fail_threshold 1: alert at once");
	is_int(s1.since, 5, "fail_threshold 1: down since that check");
}

/* The first failure of a run dates the outage; a success ends the run. */
static void test_fail_since(void)
{
	struct sq_thresholds t = defaults;
	struct sq_site_state st = { 0 };
	struct sq_transition tr;

	t.fail_threshold = 3;
	step(&st, &t, true, 100);
	step(&st, &t, false, 160);
	is_int(st.fail_since, 160, "a run begins at its first failure");
	step(&st, &t, false, 180);
	is_int(st.fail_since, 160, "and keeps that time");
	step(&st, &t, true, 200);
	is_int(st.fail_since, 0, "a success ends the run");
	step(&st, &t, false, 260);
	step(&st, &t, false, 280);
	tr = step(&st, &t, false, 300);
	is_int(tr.alert, SQ_ALERT_DOWN, "three failures in a row: DOWN");
	is_int(st.since, 260, "down since the first failure of that run, not of the one before");
	step(&st, &t, false, 360);
	is_int(st.since, 260, "more failures do not move it");
	is_int(st.fail_since, 260, "nor the run's start");

	/* a partial recovery ends the run, not the outage */
	t.recover_threshold = 2;
	tr = step(&st, &t, true, 420);
	is_int(tr.to, SQ_STATE_DOWN, "one success of two: still down");
	is_int(st.fail_since, 0, "but the failure run is over");
	step(&st, &t, false, 440);
	is_int(st.fail_since, 440, "a new run begins");
	is_int(st.since, 260, "the outage still dates from its first failure");
	step(&st, &t, true, 500);
	tr = step(&st, &t, true, 520);
	is_int(tr.alert, SQ_ALERT_UP, "two successes: UP");
	is_int(tr.down_for, 520 - 260, "down for the whole outage, from its first failure");

	/* a state from before the run's start was kept: dated from now */
	struct sq_site_state old = { .state = SQ_STATE_UP, .since = 10, .fail_count = 1 };
	t = defaults;
	tr = step(&old, &t, false, 700);
	is_int(tr.alert, SQ_ALERT_DOWN, "older state, second failure: DOWN");
	is_int(old.since, 700, "its run's start unknown: down since the confirming check");
}

static void test_reminders(void)
{
	struct sq_thresholds t = defaults;
	struct sq_site_state st = { 0 };
	t.remind_every_s = 300;

	step(&st, &t, false, 1000);
	step(&st, &t, false, 1020);
	is_int(st.state, SQ_STATE_DOWN, "down");
	is_int(step(&st, &t, false, 1100).alert, SQ_ALERT_NONE, "no reminder before remind_every");
	is_int(step(&st, &t, false, 1320).alert, SQ_ALERT_REMINDER, "a reminder after remind_every");
	is_int(step(&st, &t, false, 1400).alert, SQ_ALERT_NONE, "the next only after another period");
	is_int(step(&st, &t, false, 1620).alert, SQ_ALERT_REMINDER, "second reminder");
	is_int(step(&st, &t, true, 1700).alert, SQ_ALERT_UP, "then up");
}

static void test_recover_threshold(void)
{
	struct sq_thresholds t = defaults;
	struct sq_site_state st = { 0 };
	t.recover_threshold = 3;
	t.fail_threshold = 1;
	t.retry_interval_s = 90;   /* longer than the interval: the interval wins */

	step(&st, &t, false, 1000);
	struct sq_transition tr = step(&st, &t, true, 1060);
	is_int(tr.to, SQ_STATE_DOWN, "one success of three: still down");
	is_int(tr.next_check_s, 60, "re-check no later than the interval");
	step(&st, &t, true, 1120);
	step(&st, &t, false, 1180);
	is_int(st.ok_count, 0, "a failure resets the successes");
	is_int(st.since, 1000, "a failure while down does not move the outage's start");
	step(&st, &t, true, 1240);
	step(&st, &t, true, 1300);
	tr = step(&st, &t, true, 1360);
	is_int(tr.alert, SQ_ALERT_UP, "three successes in a row: up");
	is_int(tr.down_for, 360, "down for the whole time");
}

/*
 * Every sequence of up to 12 checks, for thresholds 1-3: the alerts
 * alternate DOWN, UP, DOWN, ... and each comes exactly when the reference
 * model says so; a DOWN is dated from the first failure of its run, an UP
 * counts the time down from there, and fail_since is always the start of
 * the current run of failures.
 */
static void test_exhaustive(void)
{
	long bad = 0, sequences = 0;

	for (int f = 1; f <= 3; f++) {
		for (int r = 1; r <= 3; r++) {
			struct sq_thresholds t = defaults;
			t.fail_threshold = f;
			t.recover_threshold = r;
			for (int len = 1; len <= 12; len++) {
				for (unsigned bits = 0; bits < (1u << len); bits++) {
					struct sq_site_state st = { 0 };
					int model = SQ_STATE_UNKNOWN, fails = 0, oks = 0;
					int64_t run_start = 0, down_since = 0;
					enum sq_alert_kind last = SQ_ALERT_UP;
					sequences++;
					for (int i = 0; i < len; i++) {
						bool ok = (bits >> i) & 1;
						int64_t now = 100 + i * 60;
						struct sq_transition tr = step(&st, &t, ok, now);
						enum sq_alert_kind want = SQ_ALERT_NONE;
						int64_t want_down_for = 0;
						if (ok) {
							fails = 0;
							run_start = 0;
							oks++;
							if (model == SQ_STATE_UNKNOWN)
								model = SQ_STATE_UP;
							else if (model == SQ_STATE_DOWN && oks >= r) {
								model = SQ_STATE_UP;
								want = SQ_ALERT_UP;
								want_down_for = now - down_since;
							}
						} else {
							oks = 0;
							if (fails++ == 0)
								run_start = now;
							if (model != SQ_STATE_DOWN && fails >= f) {
								model = SQ_STATE_DOWN;
								want = SQ_ALERT_DOWN;
								down_since = run_start;
							}
						}
						if (tr.alert != want || (int)tr.to != model)
							bad++;
						if (st.fail_since != run_start || tr.down_for != want_down_for)
							bad++;
						if (model == SQ_STATE_DOWN && st.since != down_since)
							bad++;
						if (tr.alert != SQ_ALERT_NONE) {
							if (tr.alert == last)
								bad++;   /* two DOWNs or two UPs in a row */
							last = tr.alert;
						}
					}
				}
			}
		}
	}
	is_int(bad, 0, "%ld sequences agree with the reference model", sequences);
}

/* Whether a check was slow: a success over slow_ms; slow_ms 0 is off. */
static void test_verdict(void)
{
	is_int(state_verdict(true, 100, 0), SQ_CHECK_OK, "slow_ms 0: never slow");
	is_int(state_verdict(true, 99999, 0), SQ_CHECK_OK, "slow_ms 0: however long");
	is_int(state_verdict(true, 500, 500), SQ_CHECK_OK, "exactly slow_ms is not slow");
	is_int(state_verdict(true, 501, 500), SQ_CHECK_SLOW, "over slow_ms is slow");
	is_int(state_verdict(false, 9000, 500), SQ_CHECK_FAILED, "a failure is a failure, slow or not");
	is_int(state_verdict(false, 1, 500), SQ_CHECK_FAILED, "a fast failure too");
	is_int(state_verdict(true, 501, -1), SQ_CHECK_OK, "a negative slow_ms is off");
}

/* UP, slow in a row, DEGRADED, fast: UP again with RECOVERED. */
static void test_degraded(void)
{
	struct sq_site_state st = { 0 };
	struct sq_transition tr;

	tr = step(&st, &defaults, SQ_CHECK_OK, 1000);
	is_int(tr.to, SQ_STATE_UP, "up");
	tr = step(&st, &defaults, SQ_CHECK_SLOW, 1060);
	is_int(tr.to, SQ_STATE_UP, "one slow check: still up");
	is_int(tr.alert, SQ_ALERT_NONE, "one slow check: no alert");
	is_int(tr.next_check_s, 20, "one slow check: quick re-check");
	is_int(st.slow_count, 1, "one slow check counted");
	is_int(st.slow_since, 1060, "the slow run began");
	is_int(st.last_ok, 1060, "a slow check is a good check");
	tr = step(&st, &defaults, SQ_CHECK_OK, 1080);
	is_int(tr.alert, SQ_ALERT_NONE, "a slow blip: no alert");
	is_int(st.slow_count, 0, "a fast check clears the slow run");
	is_int(st.slow_since, 0, "and its start");

	step(&st, &defaults, SQ_CHECK_SLOW, 1140);
	tr = step(&st, &defaults, SQ_CHECK_SLOW, 1160);
	is_int(tr.from, SQ_STATE_UP, "from up");
	is_int(tr.to, SQ_STATE_DEGRADED, "two slow checks: degraded");
	is_int(tr.alert, SQ_ALERT_DEGRADED, "DEGRADED alert");
	is_int(tr.next_check_s, 60, "degraded: back to the interval");
	is_int(st.since, 1140, "degraded since the first slow check of the run");
	tr = step(&st, &defaults, SQ_CHECK_SLOW, 1220);
	is_int(tr.to, SQ_STATE_DEGRADED, "still slow: still degraded");
	is_int(tr.alert, SQ_ALERT_NONE, "still slow: no second alert");
	is_int(tr.next_check_s, 60, "still slow: the interval");

	tr = step(&st, &defaults, SQ_CHECK_OK, 2000);
	is_int(tr.from, SQ_STATE_DEGRADED, "from degraded");
	is_int(tr.to, SQ_STATE_UP, "one fast check: up again");
	is_int(tr.alert, SQ_ALERT_RECOVERED, "RECOVERED alert");
	is_int(tr.down_for, 860, "degraded for 860 s, from the first slow check");
	is_int(st.since, 2000, "up since the fast check");

	/* degraded, then down: a failure run is counted as ever */
	struct sq_site_state d = { 0 };
	step(&d, &defaults, SQ_CHECK_SLOW, 10);
	tr = step(&d, &defaults, SQ_CHECK_SLOW, 20);
	is_int(tr.to, SQ_STATE_DEGRADED, "a new site slow twice: degraded");
	is_int(tr.alert, SQ_ALERT_DEGRADED, "a new site slow twice: DEGRADED alert");
	tr = step(&d, &defaults, SQ_CHECK_FAILED, 80);
	is_int(tr.to, SQ_STATE_DEGRADED, "one failure: still degraded");
	is_int(tr.next_check_s, 20, "one failure while degraded: quick re-check");
	is_int(d.slow_count, 0, "a failure ends the slow run");
	tr = step(&d, &defaults, SQ_CHECK_SLOW, 100);
	is_int(tr.to, SQ_STATE_DEGRADED, "slow after a failure blip: still degraded");
	is_int(tr.alert, SQ_ALERT_NONE, "no alert for the blip");
	step(&d, &defaults, SQ_CHECK_FAILED, 160);
	tr = step(&d, &defaults, SQ_CHECK_FAILED, 180);
	is_int(tr.from, SQ_STATE_DEGRADED, "from degraded");
	is_int(tr.to, SQ_STATE_DOWN, "two failures: down");
	is_int(tr.alert, SQ_ALERT_DOWN, "DOWN alert");
	is_int(d.since, 160, "down since the first failure");

	/* down, recovering slowly: UP first (the owner heard DOWN), then DEGRADED */
	tr = step(&d, &defaults, SQ_CHECK_SLOW, 300);
	is_int(tr.to, SQ_STATE_UP, "a slow success ends an outage");
	is_int(tr.alert, SQ_ALERT_UP, "UP alert");
	is_int(tr.down_for, 140, "down for 140 s");
	tr = step(&d, &defaults, SQ_CHECK_SLOW, 360);
	is_int(tr.to, SQ_STATE_DEGRADED, "the slow run went on: degraded");
	is_int(tr.alert, SQ_ALERT_DEGRADED, "DEGRADED alert");
	is_int(d.since, 300, "degraded since the first slow check");

	/* fail_threshold 1: the first slow check degrades; a new site too */
	struct sq_thresholds one = defaults;
	one.fail_threshold = 1;
	struct sq_site_state n = { 0 };
	tr = step(&n, &one, SQ_CHECK_SLOW, 50);
	is_int(tr.from, SQ_STATE_UNKNOWN, "from unknown");
	is_int(tr.to, SQ_STATE_DEGRADED, "threshold 1, first check slow: degraded");
	is_int(tr.alert, SQ_ALERT_DEGRADED, "and said");
	is_int(n.since, 50, "since that check");
}

/* alert_degraded = 0: the state still moves, the owner hears nothing of it. */
static void test_degraded_quiet(void)
{
	struct sq_thresholds q = defaults;
	struct sq_site_state st = { 0 };
	struct sq_transition tr;

	q.quiet_degraded = true;
	step(&st, &q, SQ_CHECK_SLOW, 10);
	tr = step(&st, &q, SQ_CHECK_SLOW, 20);
	is_int(tr.to, SQ_STATE_DEGRADED, "quiet: degraded all the same");
	is_int(tr.alert, SQ_ALERT_NONE, "quiet: no DEGRADED alert");
	tr = step(&st, &q, SQ_CHECK_OK, 30);
	is_int(tr.to, SQ_STATE_UP, "quiet: up again");
	is_int(tr.alert, SQ_ALERT_NONE, "quiet: no RECOVERED alert");
	step(&st, &q, SQ_CHECK_FAILED, 40);
	tr = step(&st, &q, SQ_CHECK_FAILED, 50);
	is_int(tr.alert, SQ_ALERT_DOWN, "quiet: DOWN is still said");
	tr = step(&st, &q, SQ_CHECK_OK, 60);
	is_int(tr.alert, SQ_ALERT_UP, "quiet: and UP");
}

/*
 * Every sequence of up to 9 checks, each failed, fast or slow, for
 * thresholds 1-3: state and alert against a plain reference model, and
 * DEGRADED/RECOVERED alternate as DOWN/UP do.
 */
static void test_exhaustive_slow(void)
{
	long bad = 0, sequences = 0;

	for (int f = 1; f <= 3; f++) {
		for (int r = 1; r <= 3; r++) {
			struct sq_thresholds t = defaults;
			t.fail_threshold = f;
			t.recover_threshold = r;
			for (int len = 1; len <= 9; len++) {
				int total = 1;
				for (int i = 0; i < len; i++)
					total *= 3;
				for (int code = 0; code < total; code++) {
					struct sq_site_state st = { 0 };
					int model = SQ_STATE_UNKNOWN, fails = 0, oks = 0, slows = 0;
					int64_t run_start = 0, slow_start = 0, since = 0;
					bool degraded_said = false;
					sequences++;
					for (int i = 0, c = code; i < len; i++, c /= 3) {
						int v = c % 3;   /* 0 failed, 1 ok, 2 slow */
						int64_t now = 100 + i * 60;
						struct sq_transition tr = step(&st, &t, (enum sq_verdict)v, now);
						enum sq_alert_kind want = SQ_ALERT_NONE;
						int64_t want_for = 0;
						if (v != 0) {
							fails = 0;
							run_start = 0;
							oks++;
							if (v == 2) {
								if (slows++ == 0)
									slow_start = now;
							} else {
								slows = 0;
								slow_start = 0;
							}
							if (model == SQ_STATE_UNKNOWN) {
								model = SQ_STATE_UP;
								since = now;
							} else if (model == SQ_STATE_DOWN && oks >= r) {
								model = SQ_STATE_UP;
								want = SQ_ALERT_UP;
								want_for = now - since;
								since = now;
							} else if (model == SQ_STATE_DEGRADED && v == 1) {
								model = SQ_STATE_UP;
								want = SQ_ALERT_RECOVERED;
								want_for = now - since;
								since = now;
							}
							if (model == SQ_STATE_UP && want == SQ_ALERT_NONE &&
							    slows >= f) {
								model = SQ_STATE_DEGRADED;
								want = SQ_ALERT_DEGRADED;
								since = slow_start;
							}
						} else {
							oks = 0;
							slows = 0;
							slow_start = 0;
							if (fails++ == 0)
								run_start = now;
							if (model != SQ_STATE_DOWN && fails >= f) {
								model = SQ_STATE_DOWN;
								want = SQ_ALERT_DOWN;
								since = run_start;
							}
						}
						if (tr.alert != want || (int)tr.to != model)
							bad++;
						if (tr.down_for != want_for || st.since != since)
							bad++;
						if (st.slow_count != slows || st.slow_since != slow_start)
							bad++;
						if (tr.alert == SQ_ALERT_DEGRADED) {
							if (degraded_said)
								bad++;
							degraded_said = true;
						}
						if (tr.alert == SQ_ALERT_RECOVERED) {
							if (!degraded_said)
								bad++;   /* recovered from what? */
							degraded_said = false;
						}
						if (tr.alert == SQ_ALERT_DOWN)
							degraded_said = false;
					}
				}
			}
		}
	}
	is_int(bad, 0, "%ld sequences of failed, fast and slow checks agree with the model",
	    sequences);
}

/* One result of site at t (unix s) through record_batch: 0 or -1. */
static int record_at(struct store *s, const struct sq_config *cfg, const struct sq_site *site,
    int64_t t, enum sq_err err)
{
	struct record_entry e = {
		.site = site,
		.result = {
			.site_id = site->id,
			.started_ms = t * 1000,
			.http_status = err == SQ_OK ? 200 : err == SQ_ERR_HTTP ? 503 : 0,
			.err = err,
			.ms = 5,
		},
	};
	struct record_stats stats;
	return record_batch(s, cfg, NULL, &e, 1, &stats);
}

/* The first integer of the first row of sql, read through a connection of our own; -1 if none. */
static int64_t one_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
	else
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The first text of the first row of sql equals want (read through a connection of our own). */
static void is_str_db(const char *path, const char *sql, const char *want, const char *what)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char got[64] = "(none)";

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(got, sizeof(got), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	is_str(got, want, "%s", what);
}

/*
 * Through record.c and a real SQLite file: the run's start survives
 * between checks (and restarts), an unknown verdict (too few locations
 * answered) neither resets nor moves it, and the state, the incident and
 * every alert of the outage date it from the first failed check.
 */
static void test_recorded(void)
{
	char dir[] = "/tmp/squirrel-state-XXXXXX", path[128], cmd[160];
	struct sq_config cfg;
	struct sq_site_state st;
	int64_t id = 0;

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	config_defaults(&cfg);
	struct store *s = store_open(path, STORE_CREATE);
	struct sq_site_new n = { .url = "http://shop.test/", .owner_email = "ops@shop.test" };
	ok(s != NULL && store_add_site(s, &n, &id) == 0, "a database and a site");
	if (s == NULL || id == 0)
		goto out;
	struct sq_site site = {
		.id = id, .url = "http://shop.test/", .owner_email = "ops@shop.test",
		.fail_threshold = 2, .recover_threshold = 1, .interval_s = 60,
		.retry_interval_s = 20, .remind_every_s = 100,
	};
	ok(record_at(s, &cfg, &site, 1000, SQ_OK) == 0, "up at 1000");
	ok(record_at(s, &cfg, &site, 1060, SQ_ERR_HTTP) == 0, "a failure at 1060");
	ok(store_load_state(s, id, &st) == 0 && st.fail_count == 1 && st.fail_since == 1060,
	    "the run's start is stored (%lld)", (long long)st.fail_since);
	ok(record_at(s, &cfg, &site, 1080, SQ_ERR_NO_QUORUM) == 0, "an unknown verdict at 1080");
	ok(store_load_state(s, id, &st) == 0 && st.fail_count == 1 && st.fail_since == 1060,
	    "an unknown verdict keeps the run and its start (%lld)", (long long)st.fail_since);
	ok(record_at(s, &cfg, &site, 1100, SQ_ERR_HTTP) == 0, "a second failure at 1100");
	ok(store_load_state(s, id, &st) == 0 && st.state == SQ_STATE_DOWN, "down");
	is_int(one_int(path, "SELECT since FROM site_state"), 1060, "site_state: down since 1060");
	is_int(one_int(path, "SELECT started_at FROM incidents WHERE ended_at IS NULL"), 1060,
	    "the incident started at the first failed check");
	is_int(one_int(path, "SELECT since FROM outbox WHERE kind = 'down'"), 1060,
	    "the DOWN alert says since the first failed check");
	is_int(one_int(path, "SELECT created_at FROM outbox WHERE kind = 'down'"), 1100,
	    "made at the confirming check");
	ok(record_at(s, &cfg, &site, 1160, SQ_ERR_HTTP) == 0, "still failing at 1160");
	ok(record_at(s, &cfg, &site, 1220, SQ_ERR_HTTP) == 0, "still failing at 1220");
	is_int(one_int(path, "SELECT since FROM outbox WHERE kind = 'reminder'"), 1060,
	    "the reminder says down since the first failed check");
	ok(record_at(s, &cfg, &site, 1280, SQ_ERR_NO_QUORUM) == 0, "unknown at 1280");
	ok(record_at(s, &cfg, &site, 1340, SQ_OK) == 0, "up at 1340");
	is_int(one_int(path, "SELECT down_for FROM outbox WHERE kind = 'up'"), 1340 - 1060,
	    "UP after the whole outage, from the first failure");
	is_int(one_int(path, "SELECT since FROM outbox WHERE kind = 'up'"), 1060,
	    "the UP alert's down since: the first failure");
	is_int(one_int(path, "SELECT ended_at - started_at FROM incidents"), 1340 - 1060,
	    "the incident lasts as long as the UP alert says");
	is_int(one_int(path, "SELECT count(*) FROM site_state WHERE fail_since IS NULL"
	    " OR fail_since = 0"), 1, "up: no failure run stored");
out:
	store_close(s);
	config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/*
 * The votes of a verdict are named from the list read once at the
 * configuration's load (record_locations_load), not from the text of
 * [redis] locations at each batch: a list changed on the configuration
 * object after the load is not read again.
 */
static void test_locations(void)
{
	char dir[] = "/tmp/squirrel-locs-XXXXXX", path[128], cmd[160];
	struct sq_config cfg;
	struct record_locations locs, bad;
	int64_t id = 0;

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	config_defaults(&cfg);
	char *kept = cfg.redis_locations;
	cfg.redis_locations = "east, west,east";
	record_locations_load(&locs, &cfg);
	is_int(locs.n, 2, "two names, each once");
	ok(locs.n == 2 && strcmp(locs.v[0], "east") == 0 && strcmp(locs.v[1], "west") == 0,
	    "in their order");
	cfg.redis_locations = "east,west/1";
	record_locations_load(&bad, &cfg);
	ok(bad.n == 0 && strstr(bad.why, "is not a location name") != NULL, "a bad list: why (%s)",
	    bad.why);
	record_locations_free(&bad);
	cfg.redis_locations = kept;

	struct store *s = store_open(path, STORE_CREATE);
	struct sq_site_new n = { .url = "http://shop.test/", .owner_email = "ops@shop.test" };
	ok(s != NULL && store_add_site(s, &n, &id) == 0, "a database and a site");
	if (s == NULL || id == 0)
		goto out;
	struct sq_site site = {
		.id = id, .url = "http://shop.test/", .owner_email = "ops@shop.test",
		.fail_threshold = 1, .recover_threshold = 1, .interval_s = 60,
		.retry_interval_s = 20,
	};
	struct record_entry e = {
		.site = &site,
		.result = {
			.site_id = id, .started_ms = 1000000, .http_status = 503, .err = SQ_ERR_HTTP,
			.ms = 5, .nvotes = 2,
			.votes = {
				{ .location = 0, .err = SQ_ERR_HTTP, .http_status = 503, .ms = 5 },
				{ .location = 1, .err = SQ_ERR_HTTP, .http_status = 503, .ms = 6 },
			},
		},
	};
	struct record_stats stats;
	ok(record_batch(s, &cfg, &locs, &e, 1, &stats) == 0 && stats.alerts == 1, "down, one alert");
	is_int(one_int(path, "SELECT count(*) FROM check_locations WHERE location IN ('east', 'west')"),
	    2, "each location's answer kept under its name");
	is_int(one_int(path, "SELECT instr(locations, 'east http 503') > 0 AND "
	    "instr(locations, 'west http 503') > 0 FROM outbox"), 1, "the alert names both");
out:
	store_close(s);
	record_locations_free(&locs);
	ok(locs.n == 0 && locs.v[0] == NULL, "freed");
	config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* One result of site at t that took ms, through record_batch: 0 or -1. */
static int record_ms(struct store *s, const struct sq_config *cfg, const struct sq_site *site,
    int64_t t, int ms)
{
	struct record_entry e = {
		.site = site,
		.result = { .site_id = site->id, .started_ms = t * 1000, .http_status = 200,
		    .err = SQ_OK, .ms = ms },
	};
	struct record_stats stats;
	return record_batch(s, cfg, NULL, &e, 1, &stats);
}

/*
 * Slow is degraded, through record.c and a real SQLite file (schema 11):
 * [check] slow_ms, the site's slow_ms over it, 0 for never; the slow run
 * kept between checks; the state 'degraded' stored; the DEGRADED and
 * RECOVERED alerts in the outbox, none for a site with alert_degraded 0;
 * no incident (the site is up).
 */
static void test_recorded_slow(void)
{
	char dir[] = "/tmp/squirrel-slow-XXXXXX", path[128], cmd[160];
	struct sq_config cfg;
	struct sq_site_state st;
	int64_t id = 0, quiet = 0;

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	config_defaults(&cfg);
	cfg.slow_ms = 800;
	struct store *s = store_open(path, STORE_CREATE);
	struct sq_site_new n = { .url = "http://slow.test/", .owner_email = "ops@slow.test" };
	struct sq_site_new q = { .url = "http://quiet.test/", .owner_email = "ops@slow.test" };
	ok(s != NULL && store_add_site(s, &n, &id) == 0 && store_add_site(s, &q, &quiet) == 0,
	    "a database and two sites");
	if (s == NULL || id == 0 || quiet == 0)
		goto out;
	struct sq_site site = { .id = id, .url = "http://slow.test/",
		.owner_email = "ops@slow.test", .fail_threshold = 2 };
	ok(record_ms(s, &cfg, &site, 1000, 100) == 0, "fast at 1000");
	ok(record_ms(s, &cfg, &site, 1060, 800) == 0, "800 ms at 1060: not over slow_ms");
	ok(store_load_state(s, id, &st) == 0 && st.slow_count == 0, "not slow");
	ok(record_ms(s, &cfg, &site, 1120, 801) == 0, "801 ms at 1120");
	ok(store_load_state(s, id, &st) == 0 && st.slow_count == 1 && st.slow_since == 1120 &&
	    st.state == SQ_STATE_UP, "slow once: still up, the run stored (%d since %lld)",
	    st.slow_count, (long long)st.slow_since);
	ok(record_ms(s, &cfg, &site, 1140, 3000) == 0, "3000 ms at 1140");
	is_str_db(path, "SELECT state FROM site_state WHERE site_id = (SELECT min(id) FROM sites)",
	    "degraded", "site_state says degraded");
	is_int(one_int(path, "SELECT since FROM site_state"), 1120,
	    "degraded since the first slow check");
	is_int(one_int(path, "SELECT count(*) FROM outbox WHERE kind = 'degraded'"), 1,
	    "one DEGRADED alert queued");
	is_int(one_int(path, "SELECT since FROM outbox WHERE kind = 'degraded'"), 1120,
	    "the DEGRADED alert says since the first slow check");
	is_str_db(path, "SELECT detail FROM outbox WHERE kind = 'degraded'",
	    "took 3000 ms, slow over 800 ms", "the DEGRADED alert says how slow");
	is_int(one_int(path, "SELECT count(*) FROM incidents"), 0, "no incident: the site is up");
	ok(record_ms(s, &cfg, &site, 1200, 5000) == 0, "still slow at 1200");
	is_int(one_int(path, "SELECT count(*) FROM outbox"), 1, "no second alert");
	ok(record_ms(s, &cfg, &site, 1260, 90) == 0, "fast at 1260");
	is_str_db(path, "SELECT state FROM site_state", "up", "site_state says up again");
	is_int(one_int(path, "SELECT down_for FROM outbox WHERE kind = 'recovered'"), 1260 - 1120,
	    "RECOVERED after 140 s slow");
	is_str_db(path, "SELECT detail FROM outbox WHERE kind = 'recovered'", "took 90 ms",
	    "the RECOVERED alert says how fast");
	is_int(one_int(path, "SELECT since FROM outbox WHERE kind = 'recovered'"), 1120,
	    "the RECOVERED alert's slow since");

	/* the site's own slow_ms wins; -1 (column 0) is never slow */
	site.slow_ms = 5000;
	ok(record_ms(s, &cfg, &site, 1300, 4000) == 0 && record_ms(s, &cfg, &site, 1320, 4000) == 0,
	    "4000 ms twice under the site's 5000");
	ok(store_load_state(s, id, &st) == 0 && st.state == SQ_STATE_UP && st.slow_count == 0,
	    "the site's slow_ms is in force");
	site.slow_ms = -1;
	ok(record_ms(s, &cfg, &site, 1340, 60000) == 0 && record_ms(s, &cfg, &site, 1360, 60000) == 0,
	    "a minute twice with slow_ms 0");
	ok(store_load_state(s, id, &st) == 0 && st.state == SQ_STATE_UP && st.slow_count == 0,
	    "slow_ms 0: never slow");

	/* alert_degraded 0: degraded all the same, nothing queued */
	struct sq_site qs = { .id = quiet, .url = "http://quiet.test/",
		.owner_email = "ops@slow.test", .fail_threshold = 1, .quiet_degraded = true };
	ok(record_ms(s, &cfg, &qs, 2000, 100) == 0 && record_ms(s, &cfg, &qs, 2060, 900) == 0,
	    "the quiet site: fast, then slow");
	ok(store_load_state(s, quiet, &st) == 0 && st.state == SQ_STATE_DEGRADED, "quiet: degraded");
	ok(record_ms(s, &cfg, &qs, 2120, 100) == 0, "quiet: fast again");
	is_int(one_int(path, "SELECT count(*) FROM outbox WHERE site_id = (SELECT max(id) FROM sites)"),
	    0, "quiet: no alert queued");
out:
	store_close(s);
	config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static void test_names(void)
{
	is_str(state_name(SQ_STATE_UP), "up", "name up");
	is_str(state_name(SQ_STATE_DOWN), "down", "name down");
	is_str(state_name(SQ_STATE_UNKNOWN), "unknown", "name unknown");
	is_int(state_parse("down"), SQ_STATE_DOWN, "parse down");
	is_int(state_parse("DOWN"), -1, "parse refuses other spellings");
	is_str(state_name(SQ_STATE_DEGRADED), "degraded", "name degraded");
	is_int(state_parse("degraded"), SQ_STATE_DEGRADED, "parse degraded");
}

/* The one table of alert kinds: the outbox's codes and the mail's words. */
static void test_kinds(void)
{
	static const struct {
		int kind;
		const char *code, *subject, *heading;
	} want[] = {
		{ SQ_ALERT_DOWN, "down", "DOWN", "DOWN" },
		{ SQ_ALERT_UP, "up", "UP", "UP again" },
		{ SQ_ALERT_REMINDER, "reminder", "STILL DOWN", "STILL DOWN" },
		{ SQ_ALERT_DEGRADED, "degraded", "DEGRADED", "DEGRADED (slow)" },
		{ SQ_ALERT_RECOVERED, "recovered", "RECOVERED", "fast again" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		is_str(sq_alert_kind_code(want[i].kind), want[i].code, "code of kind %d", want[i].kind);
		is_int(sq_alert_kind_parse(want[i].code), want[i].kind, "kind of '%s'", want[i].code);
		is_str(sq_alert_kind_subject(want[i].kind), want[i].subject, "subject of '%s'", want[i].code);
		is_str(sq_alert_kind_heading(want[i].kind), want[i].heading, "heading of '%s'", want[i].code);
	}
	ok(sq_alert_kind_code(SQ_ALERT_NONE) == NULL, "no alert has no code");
	ok(sq_alert_kind_code(17) == NULL, "a kind out of range has no code");
	is_int(sq_alert_kind_parse("Down"), -1, "codes are exact");
	is_int(sq_alert_kind_parse(""), -1, "empty is no kind");
	is_int(sq_alert_kind_parse(NULL), -1, "NULL is no kind");
	is_str(sq_alert_kind_subject(-1), "DOWN", "a kind out of range reads as DOWN");
}

int main(void)
{
	test_transitions();
	test_fail_since();
	test_reminders();
	test_recover_threshold();
	test_exhaustive();
	test_verdict();
	test_degraded();
	test_degraded_quiet();
	test_exhaustive_slow();
	test_recorded();
	test_recorded_slow();
	test_locations();
	test_names();
	test_kinds();
	return tap_done();
}

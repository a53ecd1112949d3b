/*
 * test_outage.c - the rule that tells the monitor's own outage from the
 * sites' (core/outage.c), then the hold it starts as record.c keeps it in
 * a real SQLite file: DOWN alerts held, the admin told once, and after the
 * outage the held alerts sent or cancelled by fresh checks.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squirrel/alert/record.h"
#include "squirrel/core/classes.h"
#include "squirrel/core/outage.h"
#include "squirrel/store/results.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"
#include "tap.h"

static const struct outage_rule rule10 = { .window_s = 60, .share = 0.5, .min = 10 };

/* The network classes come from the one table, as a property of each class. */
static void test_classes(void)
{
	const int network[] = { SQ_ERR_DNS, SQ_ERR_DNS_NXDOMAIN, SQ_ERR_DNS_SERVFAIL,
		SQ_ERR_DNS_TIMEOUT, SQ_ERR_DNS_NOADDR, SQ_ERR_CONNECT_REFUSED, SQ_ERR_CONNECT_TIMEOUT,
		SQ_ERR_UNREACHABLE, SQ_ERR_TIMEOUT };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(network) / sizeof(network[0]); i++)
		ok(sq_class_network(network[i]), "'%s' is a network class", sq_class_name(network[i]));
	for (int e = 0; e < SQ_ERR_MAX; e++)
		n += sq_class_network(e);
	is_int(n, sizeof(network) / sizeof(network[0]), "and no other class is");
	ok(!sq_class_network(SQ_OK) && !sq_class_network(SQ_ERR_HTTP) &&
	    !sq_class_network(SQ_ERR_TLS_EXPIRED) && !sq_class_network(-1) &&
	    !sq_class_network(SQ_ERR_MAX), "a success, an answer, TLS, out of range: not network");
	is_int(sq_class_code(SQ_ERR_OUTAGE), 31, "unknown outage keeps code 31");
	is_str(sq_class_name(SQ_ERR_OUTAGE), "unknown outage", "its name");
}

/* n sites, the first nfail failing with err, all at t. */
static void see_sites(struct outage_watch *w, int n, int nfail, int err, int64_t t)
{
	for (int i = 0; i < n; i++)
		outage_see(w, i + 1, t, i < nfail ? err : SQ_OK);
}

static void test_share_and_min(void)
{
	struct outage_watch w;
	struct outage_count c;

	/* every count of sites from 0 to 30 and of failures: the rule as written */
	int bad = 0;
	for (int n = 0; n <= 30; n++) {
		for (int f = 0; f <= n; f++) {
			outage_init(&w, &rule10);
			see_sites(&w, n, f, SQ_ERR_CONNECT_REFUSED, 1000);
			enum outage_step step = outage_decide(&w, 1000, false, &c);
			bool want = n >= 10 && 2 * f >= n;
			if ((step == OUTAGE_BEGINS) != want || c.checked != (size_t)n ||
			    c.network != (size_t)f) {
				bad++;
				printf("# %d sites, %d failed: step %d\n", n, f, (int)step);
			}
			outage_free(&w);
		}
	}
	is_int(bad, 0, "0 to 30 sites, every number failed: trips at share 0.5 of 10 or more");

	outage_init(&w, &rule10);
	see_sites(&w, 9, 9, SQ_ERR_CONNECT_REFUSED, 1000);
	is_int(outage_decide(&w, 1000, false, &c), OUTAGE_SAME, "9 sites all refused: fewer than "
	    "outage_min never trips");
	outage_free(&w);

	/* failures that are the sites' own answers do not count */
	outage_init(&w, &rule10);
	see_sites(&w, 20, 20, SQ_ERR_HTTP, 1000);
	is_int(outage_decide(&w, 1000, false, &c), OUTAGE_SAME, "20 sites answering 503: not ours");
	is_int(c.network, 0, "none of them a network failure");
	outage_free(&w);

	outage_init(&w, &rule10);
	see_sites(&w, 20, 20, SQ_ERR_TLS_EXPIRED, 1000);
	is_int(outage_decide(&w, 1000, false, NULL), OUTAGE_SAME, "20 expired certificates: not ours");
	outage_free(&w);

	/* every network class counts, mixed */
	outage_init(&w, &rule10);
	const int mix[] = { SQ_ERR_DNS_TIMEOUT, SQ_ERR_CONNECT_TIMEOUT, SQ_ERR_UNREACHABLE,
		SQ_ERR_TIMEOUT, SQ_ERR_DNS_SERVFAIL };
	for (int i = 0; i < 10; i++)
		outage_see(&w, i + 1, 1000, mix[i % 5]);
	is_int(outage_decide(&w, 1000, false, &c), OUTAGE_BEGINS, "DNS, connect, timeout, "
	    "unreachable mixed: trips");
	outage_free(&w);

	/* a share of 1: every site */
	struct outage_rule all = { .window_s = 60, .share = 1.0, .min = 2 };
	outage_init(&w, &all);
	see_sites(&w, 3, 2, SQ_ERR_CONNECT_REFUSED, 5);
	is_int(outage_decide(&w, 5, false, NULL), OUTAGE_SAME, "share 1: 2 of 3 is not enough");
	outage_see(&w, 3, 6, SQ_ERR_DNS);
	is_int(outage_decide(&w, 6, false, NULL), OUTAGE_BEGINS, "share 1: 3 of 3 trips");
	outage_free(&w);
}

static void test_window(void)
{
	struct outage_watch w;
	struct outage_count c;

	outage_init(&w, &rule10);
	see_sites(&w, 10, 5, SQ_ERR_CONNECT_REFUSED, 1000);
	is_int(outage_decide(&w, 1059, false, &c), OUTAGE_BEGINS, "59 s later: still in the window");
	is_int(outage_decide(&w, 1060, false, &c), OUTAGE_SAME, "60 s later: out of it");
	is_int(c.checked, 0, "nothing counted");
	is_int(w.n, 0, "results out of the window forgotten");
	outage_see(&w, 3, 1061, SQ_OK);
	outage_see(&w, 3, 1062, SQ_ERR_TIMEOUT);
	is_int(w.n, 1, "seen again: kept once");
	outage_free(&w);

	/* a few old results are kept (not counted) until they are most of them */
	outage_init(&w, &rule10);
	see_sites(&w, 10, 0, SQ_OK, 1000);
	see_sites(&w, 6, 6, SQ_ERR_CONNECT_REFUSED, 1100);
	is_int(outage_decide(&w, 1100, false, &c), OUTAGE_SAME, "6 in the window: too few");
	is_int(c.checked, 6, "the old 4 not counted");
	is_int(w.n, 10, "nor forgotten while they are fewer than half");
	outage_see(&w, 11, 1170, SQ_ERR_CONNECT_REFUSED);
	outage_decide(&w, 1170, false, &c);
	ok(c.checked == 1 && w.n == 1 && w.v[0].id == 11, "10 of 11 old: forgotten, 11 kept");
	outage_see(&w, 2, 1171, SQ_OK);
	outage_see(&w, 11, 1172, SQ_OK);
	outage_decide(&w, 1172, false, &c);
	ok(c.checked == 2 && c.network == 0 && w.n == 2, "the index made again finds them");
	outage_free(&w);

	/* a site's last result counts, not its history */
	outage_init(&w, &rule10);
	see_sites(&w, 10, 10, SQ_ERR_CONNECT_REFUSED, 1000);
	see_sites(&w, 10, 4, SQ_ERR_CONNECT_REFUSED, 1010);
	is_int(outage_decide(&w, 1010, false, &c), OUTAGE_SAME, "checked again, 4 of 10 fail: no");
	is_int(c.checked, 10, "each site once");
	/* an older result that comes late changes nothing */
	outage_see(&w, 9, 1005, SQ_ERR_CONNECT_REFUSED);
	outage_see(&w, 10, 1005, SQ_ERR_CONNECT_REFUSED);
	outage_decide(&w, 1010, false, &c);
	is_int(c.network, 4, "a late, older failure does not replace a newer success");
	outage_free(&w);

	/* spread over the window: sites checked at different times all count */
	outage_init(&w, &rule10);
	for (int i = 0; i < 20; i++)
		outage_see(&w, i + 1, 1000 + 3 * i, i % 2 ? SQ_OK : SQ_ERR_CONNECT_REFUSED);
	is_int(outage_decide(&w, 1058, false, &c), OUTAGE_BEGINS, "20 sites over 57 s, half fail");
	is_int(c.checked, 20, "all 20 in the window");
	is_int(outage_decide(&w, 1061, false, &c), OUTAGE_SAME, "a second later the first left it: no");
	is_int(c.checked, 19, "19 in the window");
	is_int(c.network, 9, "the first was a failure: 9 of 19 is under half");
	outage_free(&w);
}

static void test_canaries(void)
{
	struct outage_rule r = rule10;
	struct outage_watch w;
	struct outage_count c;

	r.ncanary = 2;
	outage_init(&w, &r);
	see_sites(&w, 3, 0, SQ_OK, 1000);
	outage_see(&w, -1, 1000, SQ_ERR_CONNECT_REFUSED);
	is_int(outage_decide(&w, 1000, false, &c), OUTAGE_SAME, "one canary of two failed: no");
	outage_see(&w, -2, 1001, SQ_ERR_HTTP);
	is_int(outage_decide(&w, 1001, false, &c), OUTAGE_BEGINS, "both failed: trips, with 3 sites up");
	is_int(c.canaries_failed, 2, "two canaries failed");
	is_int(c.checked, 3, "canaries are not sites");
	is_int(outage_decide(&w, 1001, true, &c), OUTAGE_SAME, "holding: still");
	outage_see(&w, -2, 1002, SQ_OK);
	is_int(outage_decide(&w, 1002, true, &c), OUTAGE_ENDS, "a canary answers: over");
	outage_free(&w);

	/* a canary not seen in the window is not a failure */
	outage_init(&w, &r);
	outage_see(&w, -1, 1000, SQ_ERR_CONNECT_REFUSED);
	outage_see(&w, -2, 900, SQ_ERR_CONNECT_REFUSED);
	is_int(outage_decide(&w, 1000, false, NULL), OUTAGE_SAME, "one failed long ago: no");
	/* a canary index beyond the rule (a reload with fewer) is ignored */
	outage_see(&w, -3, 1000, SQ_ERR_CONNECT_REFUSED);
	outage_decide(&w, 1000, false, &c);
	is_int(c.canaries_seen, 1, "canary -3 of 2 not counted");
	outage_free(&w);

	char why[256];
	struct outage_canaries cn;
	is_int(outage_canaries_parse("", &cn, why, sizeof(why)), 0, "no canary");
	is_int(cn.n, 0, "none");
	is_int(outage_canaries_parse(" http://127.0.0.1:1/ok, https://example.org/ ", &cn, why,
	    sizeof(why)), 0, "two canaries, commas and spaces");
	is_int(cn.n, 2, "two");
	is_str(cn.url[1], "https://example.org/", "the second");
	outage_canaries_free(&cn);
	is_int(outage_canaries_parse("http://a.example/ ftp://b.example/", &cn, why, sizeof(why)),
	    -1, "ftp refused");
	ok(strncmp(why, "'ftp://b.example/': ", 20) == 0, "the url at fault named: %s", why);
	is_int(cn.n, 0, "nothing kept");
	char many[2048] = "";
	for (int i = 0; i <= OUTAGE_CANARY_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "http://h%d.example/,", i);
	is_int(outage_canaries_parse(many, &cn, why, sizeof(why)), -1, "17 canaries refused");
	is_str(why, "more than 16 urls", "says the limit");
}

static void test_end(void)
{
	struct outage_watch w;
	struct outage_count c;

	outage_init(&w, &rule10);
	see_sites(&w, 20, 20, SQ_ERR_CONNECT_REFUSED, 1000);
	is_int(outage_decide(&w, 1000, false, &c), OUTAGE_BEGINS, "20 of 20 refused: begins");
	is_int(outage_decide(&w, 1001, true, &c), OUTAGE_SAME, "and holds");
	see_sites(&w, 10, 0, SQ_OK, 1002);
	is_int(outage_decide(&w, 1002, true, &c), OUTAGE_SAME, "10 back of 20: 10 still fail, holds");
	outage_see(&w, 11, 1003, SQ_OK);
	is_int(outage_decide(&w, 1003, true, &c), OUTAGE_ENDS, "11 back: 9 of 20 fail, over");
	outage_free(&w);

	/* a restart during a hold: an empty window cannot end it */
	outage_init(&w, &rule10);
	is_int(outage_decide(&w, 2000, true, &c), OUTAGE_SAME, "nothing seen: holds");
	see_sites(&w, 3, 0, SQ_OK, 2001);
	is_int(outage_decide(&w, 2001, true, &c), OUTAGE_SAME, "3 sites up, fewer than outage_min: "
	    "holds");
	see_sites(&w, 10, 0, SQ_OK, 2002);
	is_int(outage_decide(&w, 2002, true, &c), OUTAGE_ENDS, "10 sites up: over");
	outage_free(&w);

	char buf[160];
	struct outage_count k = { .checked = 20, .network = 12 };
	is_str(outage_reason(&rule10, &k, buf, sizeof(buf)),
	    "12 of 20 sites checked in 60 s failed with a network error", "the reason in words");
}

/* ---- the hold, through record.c and a real SQLite file ---- */

#define NSITES 8

static struct sq_site sites[NSITES];
static char dbpath[128];

/* The first integer of the first row of sql, through a connection of our own; -1 if none. */
static int64_t one_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
	else
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void one_text(const char *sql, char *buf, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(buf, len, "(none)");
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * One batch at t: the sites whose bit is set in fail fail with err, the
 * others of mask succeed. The entries' held flags into *held (a mask).
 */
static int batch(struct store *s, const struct sq_config *cfg, struct record_watch *rw,
    unsigned mask, unsigned fail, int64_t t, int err, unsigned *held, size_t *alerts)
{
	struct record_entry e[NSITES];
	struct record_stats stats = { 0 };
	size_t n = 0;

	for (int i = 0; i < NSITES; i++) {
		if (!(mask & (1u << i)))
			continue;
		bool failed = (fail & (1u << i)) != 0;
		e[n++] = (struct record_entry){
			.site = &sites[i],
			.result = { .site_id = sites[i].id, .tag = (uint64_t)i, .started_ms = t * 1000,
			    .err = failed ? err : SQ_OK, .http_status = failed ? 0 : 200, .ms = 3 },
		};
	}
	int rc = record_batch_watched(s, cfg, NULL, rw, e, n, &stats);
	if (held != NULL) {
		*held = 0;
		for (size_t i = 0; i < n; i++)
			*held |= e[i].held ? 1u << e[i].result.tag : 0;
	}
	if (alerts != NULL)
		*alerts = stats.alerts;
	return rc;
}

#define ALL ((1u << NSITES) - 1)
#define S(i) (1u << ((i) - 1))    /* site i, 1-based */

/*
 * Eight sites, outage_min 4: two go down and their DOWN alerts wait
 * (the mail server is slow); then three more fail at once, the rule
 * trips. The alerts are held, the admin told once, the failures during
 * the hold unknown; a restart keeps the hold; when the checks succeed
 * again, the site back up has its alert cancelled (and no UP mail), the
 * one still down gets its DOWN after fail_threshold fresh checks.
 */
static void test_hold(void)
{
	char dir[] = "/tmp/squirrel-outage-XXXXXX", cmd[160], text[160];
	struct sq_config cfg;
	struct record_watch rw;
	struct sq_site_state st;
	unsigned held;
	size_t alerts;

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", dir);
	config_defaults(&cfg);
	cfg.outage_min = 4;
	free(cfg.alerts_admin);
	cfg.alerts_admin = strdup("admin@example.org");
	struct store *s = store_open(dbpath, STORE_CREATE);
	ok(s != NULL, "a database");
	if (s == NULL)
		goto out;
	for (int i = 0; i < NSITES; i++) {
		static char urls[NSITES][64], owners[NSITES][64];
		snprintf(urls[i], sizeof(urls[i]), "http://site%d.test/", i + 1);
		snprintf(owners[i], sizeof(owners[i]), "owner%d@example.org", i + 1);
		struct sq_site_new n = { .url = urls[i], .owner_email = owners[i] };
		sites[i] = (struct sq_site){ .url = urls[i], .owner_email = owners[i] };
		if (store_add_site(s, &n, &sites[i].id) < 0)
			ok(0, "site %d added", i + 1);
	}
	record_watch_init(&rw, &cfg);
	ok(batch(s, &cfg, &rw, ALL, 0, 1000, SQ_OK, NULL, NULL) == 0, "all up at 1000");
	ok(batch(s, &cfg, &rw, S(1) | S(2), S(1) | S(2), 1010, SQ_ERR_CONNECT_REFUSED, &held,
	    NULL) == 0 && held == 0, "1 and 2 refused at 1010: 2 of 8, recorded as they are");
	ok(batch(s, &cfg, &rw, S(1) | S(2) | S(4), S(1) | S(2) | S(4), 1020,
	    SQ_ERR_CONNECT_REFUSED, &held, &alerts) == 0 && held == 0 && alerts == 2,
	    "1, 2 and 4 refused at 1020: 3 of 8; 1 and 2 DOWN, two alerts queued");
	is_int(one_int("SELECT count(*) FROM outages"), 0, "no outage yet");
	ok(store_load_state(s, sites[3].id, &st) == 0 && st.fail_count == 1, "site 4: one failure");

	ok(batch(s, &cfg, &rw, S(3) | S(5), S(3) | S(5), 1030, SQ_ERR_DNS_TIMEOUT, &held,
	    &alerts) == 0, "3 and 5 time out in DNS at 1030: 5 of 8");
	is_int(held, S(3) | S(5), "their results are held");
	is_int(alerts, 1, "one alert: the admin's");
	is_int(one_int("SELECT count(*) FROM outages WHERE ended_at IS NULL AND began_at = 1030"), 1,
	    "an outage began at 1030");
	one_text("SELECT reason FROM outages", text, sizeof(text));
	is_str(text, "5 of 8 sites checked in 60 s failed with a network error", "with its reason");
	is_int(one_int("SELECT count(*) FROM outbox WHERE status = 'held' AND kind = 'down'"), 2,
	    "the two DOWN alerts queued within the window are held");
	is_int(one_int("SELECT count(*) FROM outbox WHERE kind = 'outage' AND owner_email = "
	    "'admin@example.org' AND status = 'pending' AND site_id = 0"), 1,
	    "one outage alert to the admin");
	one_text("SELECT detail FROM outbox WHERE kind = 'outage'", text, sizeof(text));
	is_str(text, "5 of 8 sites checked in 60 s failed with a network error", "saying what was seen");
	is_int(one_int("SELECT count(*) FROM checks WHERE class = 31 AND checked_at = 1030"), 2,
	    "the failures of 1030 recorded unknown outage");
	one_text("SELECT detail FROM checks WHERE class = 31", text, sizeof(text));
	is_str(text, "unknown outage: dns timeout", "with their own error");
	ok(store_load_state(s, sites[2].id, &st) == 0 && st.fail_count == 0 &&
	    st.state == SQ_STATE_UP, "site 3: the state machine saw nothing");
	ok(store_load_state(s, sites[3].id, &st) == 0 && st.fail_count == 0 && st.fail_since == 0,
	    "site 4: its run of failures starts again");
	is_int(one_int("SELECT failures FROM site_counters WHERE site_id = 3"), 0,
	    "an unknown outage is no failure in the counters");

	ok(batch(s, &cfg, &rw, ALL, ALL, 1040, SQ_ERR_CONNECT_REFUSED, &held, &alerts) == 0 &&
	    held == ALL && alerts == 0, "all 8 refused at 1040: all held, no alert at all");
	is_int(one_int("SELECT count(*) FROM outbox WHERE kind IN ('down', 'reminder') AND"
	    " status = 'pending'"), 0, "no DOWN or reminder pending");

	/* squirreld restarts: a new watch, the hold in the database */
	record_watch_free(&rw);
	record_watch_init(&rw, &cfg);
	ok(batch(s, &cfg, &rw, S(2), 0, 1050, SQ_OK, &held, &alerts) == 0 && alerts == 0,
	    "after a restart, site 2 up at 1050: one site cannot end the hold");
	is_int(one_int("SELECT count(*) FROM outages WHERE ended_at IS NULL"), 1, "still held");
	is_int(one_int("SELECT count(*) FROM outbox WHERE kind = 'outage'"), 1,
	    "and the admin told once only");
	is_int(one_int("SELECT count(*) FROM outbox WHERE site_id = 2 AND status = 'cancelled'"), 1,
	    "site 2 is up: its held DOWN is cancelled");
	is_int(one_int("SELECT count(*) FROM outbox WHERE site_id = 2 AND kind = 'up'"), 0,
	    "and no UP for a DOWN never sent");
	is_int(one_int("SELECT count(*) FROM incidents WHERE site_id = 2 AND ended_at = 1050"), 1,
	    "its incident ends");

	ok(batch(s, &cfg, &rw, ALL & ~S(2), S(1), 1060, SQ_ERR_CONNECT_REFUSED, &held, &alerts) == 0,
	    "1060: 3 to 8 up, 1 refused");
	is_int(held, 0, "nothing held: the outage is over");
	is_int(one_int("SELECT count(*) FROM outages WHERE ended_at = 1060"), 1, "ended at 1060");
	is_int(one_int("SELECT fresh FROM outbox WHERE site_id = 1 AND status = 'held'"), 1,
	    "site 1: one fresh failure, still held");
	is_int(alerts, 0, "no alert yet");
	ok(batch(s, &cfg, &rw, S(1), S(1), 1070, SQ_ERR_CONNECT_REFUSED, &held, &alerts) == 0 &&
	    alerts == 1, "1070: site 1 fails a second fresh check");
	is_int(one_int("SELECT count(*) FROM outbox WHERE site_id = 1 AND kind = 'down' AND "
	    "status = 'pending' AND next_attempt = 1070"), 1, "its held DOWN goes out now");
	is_int(one_int("SELECT count(*) FROM outbox WHERE status = 'held'"), 0, "nothing held");
	is_int(one_int("SELECT count(*) FROM outbox"), 3, "three alerts in all: admin, 1, 2");
	ok(batch(s, &cfg, &rw, S(1), 0, 1080, SQ_OK, NULL, &alerts) == 0 && alerts == 1,
	    "site 1 up at 1080: its UP goes out, the owner heard DOWN");
	store_close(s);
	s = NULL;

	/* no admin: the hold is the same, the alert is not queued (the log says so) */
	unlink(dbpath);
	free(cfg.alerts_admin);
	cfg.alerts_admin = strdup("");
	s = store_open(dbpath, STORE_CREATE);
	for (int i = 0; s != NULL && i < NSITES; i++) {
		struct sq_site_new n = { .url = sites[i].url, .owner_email = sites[i].owner_email };
		store_add_site(s, &n, &sites[i].id);
	}
	record_watch_free(&rw);
	record_watch_init(&rw, &cfg);
	ok(s != NULL && batch(s, &cfg, &rw, ALL, ALL, 2000, SQ_ERR_UNREACHABLE, &held, &alerts) == 0 &&
	    held == ALL && alerts == 0, "no admin: all unreachable, held, no alert");
	is_int(one_int("SELECT count(*) FROM outages"), 1, "the hold is kept");
	is_int(one_int("SELECT count(*) FROM outbox"), 0, "and nothing queued");
out:
	record_watch_free(&rw);
	store_close(s);
	config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	test_classes();
	test_share_and_min();
	test_window();
	test_canaries();
	test_end();
	test_hold();
	return tap_done();
}

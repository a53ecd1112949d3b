/*
 * test_scheduler.c - the due-time heap: spreading, cadence, quick
 * re-checks, and live edits merged without losing or doubling a site.
 */
#include <stdlib.h>
#include <string.h>

#include "squirrel/check/scheduler.h"
#include "tap.h"

static struct sq_config cfg;

static struct sq_site_list make_sites(const int64_t *ids, size_t n, const char *url)
{
	struct sq_site_list l = { calloc(n, sizeof(struct sq_site)), n, 0 };
	for (size_t i = 0; i < n; i++) {
		l.v[i].id = ids[i];
		l.v[i].url = strdup(url);
		l.v[i].owner_email = strdup("ops@example.org");
	}
	return l;
}

static void test_spread(void)
{
	enum { N = 10000 };
	int64_t *ids = malloc(N * sizeof(*ids));
	for (int i = 0; i < N; i++)
		ids[i] = i + 1;
	struct sq_site_list l = make_sites(ids, N, "http://x.example/");
	struct scheduler *s = scheduler_new();
	is_int(scheduler_sync(s, &l, &cfg, 0, true), 0, "10000 sites synced");
	is_int(scheduler_size(s), N, "all there");
	/* the first checks: all within the first 10 s, none more than 1500 in a second */
	struct sched_site *site;
	int total = 0, max = 0;
	for (int sec = 0; sec < 10; sec++) {
		int n = 0;
		while ((site = scheduler_pop_due(s, sec * 1000 + 999)) != NULL) {
			scheduler_done(s, site, 60, sec * 1000 + 999);
			n++;
		}
		total += n;
		if (n > max)
			max = n;
	}
	is_int(total, N, "every site checked within 10 s of the start");
	ok(max < 1500, "first checks spread: at most %d in one second", max);
	/* the second checks: spread over the interval after the first */
	int per_second[70] = { 0 }, min = N;
	total = max = 0;
	for (int sec = 10; sec < 80; sec++) {
		while ((site = scheduler_pop_due(s, sec * 1000 + 999)) != NULL) {
			per_second[sec - 10]++;
			total++;
			scheduler_done(s, site, 60, sec * 1000 + 999);
			if (total > 2 * N)
				break;
		}
	}
	for (int i = 15; i < 45; i++) {   /* seconds 25 to 55: away from the ramps */
		if (per_second[i] > max)
			max = per_second[i];
		if (per_second[i] < min)
			min = per_second[i];
	}
	ok(total >= N, "every site checked again (%d checks)", total);
	ok(max < 450 && min > 100, "second checks spread over the interval: %d to %d per second", min, max);
	scheduler_free(s);
	free(ids);
}

static void test_cadence(void)
{
	int64_t ids[] = { 7 };
	struct sq_site_list l = make_sites(ids, 1, "http://x.example/");
	struct scheduler *s = scheduler_new();
	scheduler_sync(s, &l, &cfg, 1000, false);
	struct sched_site *site = scheduler_pop_due(s, 1000);
	ok(site != NULL && site->site.id == 7, "a new site is due at once");
	is_int(scheduler_next_due(s), INT64_MAX, "nothing else waits");
	ok(scheduler_pop_due(s, 1000) == NULL, "a site in flight is not handed out twice");
	scheduler_done(s, site, 60, 1100);
	int64_t second = scheduler_next_due(s);
	ok(second >= 1100 + 30000 && second <= 1100 + 60000,
	    "the second check lands within the interval (%lld)", (long long)second);
	site = scheduler_pop_due(s, second);
	scheduler_done(s, site, 60, second + 5000);   /* a slow check */
	is_int(scheduler_next_due(s), second + 60000, "cadence kept after a slow check");
	site = scheduler_pop_due(s, second + 60000);
	scheduler_done(s, site, 20, second + 60100);  /* a failure: quick re-check */
	is_int(scheduler_next_due(s), second + 60100 + 20000, "quick re-check after retry_interval");
	site = scheduler_pop_due(s, second + 80100);
	scheduler_done(s, site, 60, second + 80200);
	is_int(scheduler_next_due(s), second + 140100, "back to the interval");
	scheduler_free(s);
}

static void test_live_edits(void)
{
	int64_t ids[] = { 1, 2, 3, 4 };
	struct sq_site_list l = make_sites(ids, 4, "http://a.example/");
	struct scheduler *s = scheduler_new();
	scheduler_sync(s, &l, &cfg, 0, true);
	/* site 2 is in flight when it is deleted; 3 changes its url; 5 is new */
	struct sched_site *in_flight = NULL, *site;
	int64_t t = 0;
	while (in_flight == NULL && t <= 60000) {
		while ((site = scheduler_pop_due(s, t)) != NULL) {
			if (site->site.id == 2)
				in_flight = site;
			else
				scheduler_done(s, site, 60, t);
		}
		t += 100;
	}
	ok(in_flight != NULL, "site 2 taken");
	int64_t ids2[] = { 1, 3, 4, 5 };
	struct sq_site_list l2 = make_sites(ids2, 4, "http://a.example/");
	free(l2.v[1].url);
	l2.v[1].url = strdup("http://b.example/");
	is_int(scheduler_sync(s, &l2, &cfg, t, false), 0, "edit merged");
	is_int(scheduler_size(s), 4, "four sites live");
	ok(!scheduler_done(s, in_flight, 60, t + 10), "the deleted site's result is refused");
	/* the changed and the new site are due now */
	int got3 = 0, got5 = 0, other = 0;
	while ((site = scheduler_pop_due(s, t)) != NULL) {
		if (site->site.id == 3 && strcmp(site->site.url, "http://b.example/") == 0)
			got3++;
		else if (site->site.id == 5)
			got5++;
		else
			other++;
		scheduler_done(s, site, 60, t);
	}
	is_int(got3, 1, "the changed site is due at once, with its new url");
	is_int(got5, 1, "the new site is due at once");
	is_int(other, 0, "no other site is due early");
	/* everything is disabled */
	struct sq_site_list empty = { NULL, 0, 0 };
	scheduler_sync(s, &empty, &cfg, t, false);
	is_int(scheduler_size(s), 0, "all sites gone");
	is_int(scheduler_next_due(s), INT64_MAX, "nothing due");
	scheduler_free(s);
}

static void test_reschedule(void)
{
	int64_t ids[] = { 1, 2, 3 };
	struct sq_site_list l = make_sites(ids, 3, "http://a.example/");
	struct scheduler *s = scheduler_new();
	struct sq_config slow = cfg;
	slow.interval_s = 3600;
	scheduler_sync(s, &l, &slow, 0, true);
	scheduler_reschedule(s, &cfg, 1000);   /* the interval drops to 60 s */
	ok(scheduler_next_due(s) <= 61000, "a shorter interval applies at once");
	int n = 0;
	while (scheduler_pop_due(s, 61000) != NULL)
		n++;
	is_int(n, 3, "every site due within the new interval");
	scheduler_free(s);
}

/* Takes the site due next and ends its check at its due time + took_ms. */
static int64_t run_next(struct scheduler *s, int next_check_s, int64_t took_ms)
{
	int64_t due = scheduler_next_due(s);
	struct sched_site *site = scheduler_pop_due(s, due);
	if (site == NULL)
		return -1;
	scheduler_done(s, site, next_check_s, due + took_ms);
	return due + took_ms;
}

/*
 * A failure at a site's first check (after a start, or a new site) is
 * re-checked after retry_interval, not at the site's place in the
 * interval: the DOWN alert must not come a whole interval late. The
 * spread then applies to its first normal check.
 */
static void test_first_check_retry(void)
{
	struct sq_config slow = cfg;
	slow.interval_s = 120;
	for (int startup = 0; startup <= 1; startup++) {
		int64_t ids[] = { 42 };
		struct sq_site_list l = make_sites(ids, 1, "http://x.example/");
		struct scheduler *s = scheduler_new();
		scheduler_sync(s, &l, &slow, 0, startup);
		ok(scheduler_next_due(s) <= 10000, "startup %d: the first check comes within 10 s",
		    startup);
		int64_t end = run_next(s, 5, 100);     /* a failure: retry in 5 s */
		is_int(scheduler_next_due(s), end + 5000,
		    "startup %d: the first check's failure is re-checked after retry_interval", startup);
		end = run_next(s, 5, 100);             /* fail_threshold 3: not yet confirmed */
		is_int(scheduler_next_due(s), end + 5000,
		    "startup %d: and again while the change is unconfirmed", startup);
		end = run_next(s, 120, 100);           /* confirmed: back to the interval */
		int64_t next = scheduler_next_due(s);
		ok(next >= end + 30000 && next <= end + 120000,
		    "startup %d: then the first normal check lands at its place in the interval (+%lld)",
		    startup, (long long)(next - end));
		run_next(s, 120, 50);
		is_int(scheduler_next_due(s), next + 120000,
		    "startup %d: and the cadence holds from there", startup);
		scheduler_free(s);
	}
}

/* An edit of what the answer must be is a changed site: checked at once, with it. */
static void test_expect_edits(void)
{
	int64_t ids[] = { 1, 2, 3, 4, 5, 6 };
	struct sq_site_list l = make_sites(ids, 6, "http://a.example/");
	struct scheduler *s = scheduler_new();
	struct sched_site *site;

	/* at startup every site is due within its first seconds, none at 0 */
	scheduler_sync(s, &l, &cfg, 0, true);
	ok(scheduler_next_due(s) > 0, "nothing due at once");
	struct sq_site_list l2 = make_sites(ids, 6, "http://a.example/");
	l2.v[0].method = SQ_METHOD_GET;
	l2.v[1].expect_status = strdup("200-299");
	l2.v[2].keyword = strdup("Welcome");
	l2.v[3].keyword_mode = SQ_KEYWORD_ABSENT;
	l2.v[4].keyword_nocase = 1;
	is_int(scheduler_sync(s, &l2, &cfg, 0, false), 0, "edits merged");
	int changed = 0, same = 0;
	while ((site = scheduler_pop_due(s, 0)) != NULL) {
		if (site->site.id <= 5)
			changed++;
		else
			same++;
		scheduler_done(s, site, 60, 0);
	}
	is_int(changed, 5, "each of method, expect_status, keyword, keyword_mode, keyword_nocase changes a site");
	is_int(same, 0, "the site left as it was keeps its place");
	scheduler_free(s);
}

int main(void)
{
	config_defaults(&cfg);
	test_spread();
	test_cadence();
	test_first_check_retry();
	test_live_edits();
	test_reschedule();
	test_expect_edits();
	config_free(&cfg);
	return tap_done();
}

/*
 * test_site.c - a site's settings in force: its own columns over [check],
 * merged in one place (site_settings) for the scheduler, record.c, the
 * daemon and --once; and the check built from them (site_check).
 */
#include <stdint.h>
#include <string.h>

#include "squirrel/core/config.h"
#include "squirrel/core/site.h"
#include "tap.h"

/* A configuration with every [check] key away from its default, so a mix-up shows. */
static void configured(struct sq_config *cfg)
{
	config_defaults(cfg);
	cfg->interval_s = 300;
	cfg->retry_interval_s = 30;
	cfg->fail_threshold = 3;
	cfg->recover_threshold = 2;
	cfg->remind_every_s = 3600;
	cfg->timeout_ms = 7000;
	cfg->connect_timeout_ms = 1500;
	cfg->max_redirects = 4;
}

static void test_defaults(void)
{
	struct sq_config cfg;
	struct sq_settings set;
	struct sq_site site = { .id = 7, .url = "http://a.test/", .owner_email = "o@a.test" };

	configured(&cfg);
	site_settings(&site, &cfg, &set);
	is_int(set.t.interval_s, 300, "no column: [check] interval");
	is_int(set.t.retry_interval_s, 30, "no column: [check] retry_interval");
	is_int(set.t.fail_threshold, 3, "no column: [check] fail_threshold");
	is_int(set.t.recover_threshold, 2, "no column: [check] recover_threshold");
	is_int(set.t.remind_every_s, 3600, "no column: [check] remind_every");
	is_int(set.timeout_ms, 7000, "no column: [check] timeout");
	is_int(set.connect_timeout_ms, 1500, "[check] connect_timeout");
	is_int(set.max_redirects, 4, "[check] max_redirects");
	config_free(&cfg);
}

static void test_columns(void)
{
	struct sq_config cfg;
	struct sq_settings set;
	struct sq_site site = {
		.id = 8, .url = "http://b.test/", .owner_email = "o@b.test",
		.interval_s = 45, .retry_interval_s = 5, .fail_threshold = 1,
		.recover_threshold = 4, .remind_every_s = 600, .timeout_ms = 2500,
	};

	configured(&cfg);
	site_settings(&site, &cfg, &set);
	is_int(set.t.interval_s, 45, "the site's interval_s");
	is_int(set.t.retry_interval_s, 5, "the site's retry_interval_s");
	is_int(set.t.fail_threshold, 1, "the site's fail_threshold");
	is_int(set.t.recover_threshold, 4, "the site's recover_threshold");
	is_int(set.t.remind_every_s, 600, "the site's remind_every_s");
	is_int(set.timeout_ms, 2500, "the site's timeout_ms");
	is_int(set.connect_timeout_ms, 1500, "no column for connect_timeout: [check]");
	is_int(set.max_redirects, 4, "no column for max_redirects: [check]");

	/* remind_every_s -1: no reminders for this site, whatever [check] says */
	site.remind_every_s = -1;
	site_settings(&site, &cfg, &set);
	is_int(set.t.remind_every_s, 0, "remind_every_s -1: none");
	config_free(&cfg);
}

static void test_check(void)
{
	struct sq_config cfg;
	struct sq_site site = { .id = 9, .url = "http://c.test/x", .owner_email = "o@c.test" };

	configured(&cfg);
	struct sq_check c = site_check(&site, &cfg, 42);
	is_int(c.site_id, 9, "the check names the site");
	is_int(c.tag, 42, "the caller's tag");
	ok(c.url == site.url, "the url points into the site");
	is_int(c.timeout_ms, 7000, "timeout: [check]");
	is_int(c.connect_timeout_ms, 1500, "connect timeout: [check]");
	is_int(c.max_redirects, 4, "redirects: [check]");
	site.timeout_ms = 900;
	c = site_check(&site, &cfg, UINT64_MAX);
	is_int(c.timeout_ms, 900, "timeout: the site's own");
	ok(c.tag == UINT64_MAX, "a tag of 64 bits comes back whole");
	config_free(&cfg);
}

/* expect_status: codes and ranges, read and written back, and what is refused */
static void test_expect_status(void)
{
	struct sq_expect e;
	char why[200], buf[SQ_EXPECT_TEXT_MAX + 1];

	memset(&e, 0, sizeof(e));
	ok(sq_expect_status_ok(&e, 200) && sq_expect_status_ok(&e, 399), "none listed: 200-399 up");
	ok(!sq_expect_status_ok(&e, 199) && !sq_expect_status_ok(&e, 400), "none listed: 199, 400 not");
	is_int(sq_expect_status_parse("200-299,301,401", &e, why, sizeof(why)), 0, "a list parses");
	is_int(e.nstatus, 3, "three items");
	ok(sq_expect_status_ok(&e, 200) && sq_expect_status_ok(&e, 299) &&
	    sq_expect_status_ok(&e, 301) && sq_expect_status_ok(&e, 401), "each code and range end");
	ok(!sq_expect_status_ok(&e, 300) && !sq_expect_status_ok(&e, 302) &&
	    !sq_expect_status_ok(&e, 400) && !sq_expect_status_ok(&e, 0), "nothing else");
	is_str(sq_expect_status_text(&e, buf, sizeof(buf)), "200-299,301,401", "written back");
	is_int(sq_expect_status_parse("599", &e, why, sizeof(why)), 0, "one code");
	is_str(sq_expect_status_text(&e, buf, sizeof(buf)), "599", "one code written back");
	is_int(sq_expect_status_parse("100-101,102,103,104,105,106,107,108,109,110,111,112,113,114,115",
	    &e, why, sizeof(why)), 0, "16 items");

	static const struct { const char *in, *why; } bad[] = {
		{ "", "a list of status codes and ranges such as 200-299,301 (1 to 200 characters)" },
		{ "2xx", "'2xx' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "200,", "'' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "200-", "'200-' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "099", "'099' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "600", "'600' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "2000", "'2000' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "200 ,301", "'200 ' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "200-299-300", "'200-299-300' is not a status code (100 to 599) or a range of them such as 200-299" },
		{ "402-400", "402-400: a range must not end before it starts" },
		{ "100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116",
		  "more than 16 codes and ranges" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		is_int(sq_expect_status_parse(bad[i].in, &e, why, sizeof(why)), -1, "%s", bad[i].in);
		is_str(why, bad[i].why, "its reason");
		is_int(e.nstatus, 0, "nothing set");
	}
}

/* method, statuses, keyword and body_max reach the check; bad rows are named */
static void test_expect_check(void)
{
	struct sq_config cfg;
	char why[SITES_REASON_MAX], buf[64];
	struct sq_site site = { .id = 10, .url = "http://d.test/", .owner_email = "o@d.test" };

	configured(&cfg);
	cfg.body_max = 4096;
	struct sq_check c = site_check(&site, &cfg, 1);
	is_int(c.expect.method, SQ_METHOD_HEAD, "no column: HEAD");
	is_int(c.expect.nstatus, 0, "no column: the default statuses");
	is_int(c.expect.keyword_len, 0, "no keyword");
	is_int(c.expect.body_max, 4096, "[check] body_max");
	ok(!sq_expect_reads_body(&c.expect), "HEAD without keyword reads no body");

	site.method = SQ_METHOD_GET;
	site.expect_status = "204,404";
	c = site_check(&site, &cfg, 1);
	is_int(c.expect.method, SQ_METHOD_GET, "method GET");
	is_str(sq_expect_status_text(&c.expect, buf, sizeof(buf)), "204,404", "the site's statuses");
	ok(sq_expect_reads_body(&c.expect), "GET reads the body");

	site.method = SQ_METHOD_HEAD;
	site.keyword = "Welcome";
	site.keyword_mode = SQ_KEYWORD_ABSENT;
	site.keyword_nocase = 1;
	c = site_check(&site, &cfg, 1);
	is_int(c.expect.method, SQ_METHOD_GET, "a keyword makes it a GET");
	is_int(c.expect.keyword_len, 7, "the keyword's length");
	ok(memcmp(c.expect.keyword, "Welcome", 7) == 0, "the keyword's bytes");
	is_int(c.expect.keyword_mode, SQ_KEYWORD_ABSENT, "mode absent");
	is_int(c.expect.keyword_nocase, 1, "case-insensitive");
	ok(!sites_skip_reason(&site, why, sizeof(why)), "a good row is not skipped");

	site.expect_status = "200-1";
	ok(sites_skip_reason(&site, why, sizeof(why)), "a bad expect_status is skipped");
	is_str(why, "bad expect_status: '200-1' is not a status code (100 to 599) or a range of them "
	    "such as 200-299", "with its reason");
	site.expect_status = NULL;
	char big[SQ_KEYWORD_MAX + 2];
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	site.keyword = big;
	ok(sites_skip_reason(&site, why, sizeof(why)), "a keyword over 256 bytes is skipped");
	is_str(why, "keyword is empty or over 256 bytes", "with its reason");
	big[SQ_KEYWORD_MAX] = '\0';
	ok(!sites_skip_reason(&site, why, sizeof(why)), "256 bytes is fine");
	c = site_check(&site, &cfg, 1);
	is_int(c.expect.keyword_len, SQ_KEYWORD_MAX, "all 256 bytes reach the check");
	config_free(&cfg);
}

int main(void)
{
	test_defaults();
	test_columns();
	test_check();
	test_expect_status();
	test_expect_check();
	return tap_done();
}

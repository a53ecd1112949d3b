/*
 * test_site.c - a site's settings in force: its own columns over [check],
 * merged in one place (site_settings) for the scheduler, record.c, the
 * daemon and --once; and the check built from them (site_check).
 */
#include <stdint.h>

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

int main(void)
{
	test_defaults();
	test_columns();
	test_check();
	return tap_done();
}

/*
 * squirrelctl.c - the command-line tool beside the daemon: arguments, the
 * configuration and the store, then one command. Listings are tables
 * (table.c), figures come from the store (store/uptime.c), the page from
 * statuspage.c. It works while squirreld runs: the store waits out the
 * daemon's short writes, and reading commands open the database read-only.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config_build.h"
#include "squirrel/core/config.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/log.h"
#if SQ_HAVE_REDIS
#include "squirrel/scaleout/redis_admin.h"
#include "squirrel/scaleout/redis_link.h"
#endif
#include "squirrel/core/site.h"
#include "squirrel/report/publish.h"
#include "squirrel/core/maintenance.h"
#include "squirrel/store/maintenance.h"
#include "squirrel/store/contacts.h"
#include "squirrel/alert/channels.h"
#include "squirrel/alert/delivery.h"
#include "squirrel/base/secret.h"
#include "squirrel/store/outbox.h"
#include "squirrel/store/results.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"
#include "squirrel/base/table.h"
#include "squirrel/base/timefmt.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define HISTORY_DEFAULT_LIMIT 100

/*
 * Options a command may take, besides --config, --db and --json: bits of a
 * 64-bit set (struct options' given, struct command's options).
 */
#define OPT_NAME (1ULL << 0)
#define OPT_INTERVAL (1ULL << 1)
#define OPT_TIMEOUT (1ULL << 2)
#define OPT_SINCE (1ULL << 3)
#define OPT_LIMIT (1ULL << 4)
#define OPT_HTML (1ULL << 5)
#define OPT_REDIS (1ULL << 6)
#define OPT_OWNER (1ULL << 7)
#define OPT_URL (1ULL << 8)
#define OPT_ENABLE (1ULL << 9)
#define OPT_DISABLE (1ULL << 10)
#define OPT_FAIL (1ULL << 11)
#define OPT_RECOVER (1ULL << 12)
#define OPT_RETRY (1ULL << 13)
#define OPT_REMIND (1ULL << 14)
#define OPT_METHOD (1ULL << 15)
#define OPT_EXPECT_STATUS (1ULL << 16)
#define OPT_KEYWORD (1ULL << 17)
#define OPT_KEYWORD_MODE (1ULL << 18)
#define OPT_KEYWORD_NOCASE (1ULL << 19)
#define OPT_SLOW (1ULL << 20)
#define OPT_ALERT_DEGRADED (1ULL << 21)
#define OPT_DEPENDS (1ULL << 22)
#define OPT_CERT_WARN_DAYS (1ULL << 23)
#define OPT_SITE (1ULL << 24)
#define OPT_ALL (1ULL << 25)
#define OPT_FROM (1ULL << 26)
#define OPT_UNTIL (1ULL << 27)
#define OPT_FOR (1ULL << 28)
#define OPT_EVERY (1ULL << 29)
#define OPT_REASON (1ULL << 30)
#define OPT_GROUP (1ULL << 31)
#define OPT_PUBLIC (1ULL << 32)

static const char *const opt_names[] = { "--name", "--interval", "--timeout", "--since",
	"--limit", "--html", "--redis", "--owner", "--url", "--enable", "--disable",
	"--fail-threshold", "--recover-threshold", "--retry-interval", "--remind-every",
	"--method", "--expect-status", "--keyword", "--keyword-mode", "--keyword-nocase",
	"--slow-ms", "--alert-degraded", "--depends-on", "--cert-warn-days", "--site", "--all",
	"--from", "--until", "--for", "--every", "--reason", "--group", "--public" };
_Static_assert(sizeof(opt_names) / sizeof(opt_names[0]) == 33, "a name for each OPT_ bit");
#define OPT_WINDOW (OPT_SITE | OPT_OWNER | OPT_ALL | OPT_FROM | OPT_UNTIL | OPT_FOR | OPT_EVERY | \
	OPT_REASON)

/* What edit changes besides a site's text; add takes every per-site column too */
#define OPT_EDITS (OPT_NAME | OPT_OWNER | OPT_URL | OPT_ENABLE | OPT_DISABLE | OPT_SETTINGS)
#define OPT_SETTINGS (OPT_INTERVAL | OPT_TIMEOUT | OPT_FAIL | OPT_RECOVER | OPT_RETRY | \
	OPT_REMIND | OPT_EXPECT | OPT_SLOW | OPT_ALERT_DEGRADED | OPT_DEPENDS | OPT_CERT_WARN_DAYS | \
	OPT_GROUP | OPT_PUBLIC)
#define OPT_EXPECT (OPT_METHOD | OPT_EXPECT_STATUS | OPT_KEYWORD | OPT_KEYWORD_MODE | \
	OPT_KEYWORD_NOCASE)

/*
 * The per-site numbers (NULL in the database: the [check] value), with the
 * ranges [check] allows them (config.c); add takes the first two, edit
 * all, and "default" as a value to go back to the configuration's.
 */
static const struct setting {
	const char *opt;
	long min, max;
	const char *unit;          /* in a table: "45 s" */
} settings[SQ_SET_MAX] = {
	[SQ_SET_INTERVAL] = { "--interval", 1, 30L * 86400, "s" },
	[SQ_SET_TIMEOUT] = { "--timeout", 1, SQ_TIMEOUT_MAX_MS, "ms" },
	[SQ_SET_FAIL] = { "--fail-threshold", 1, 1000, NULL },
	[SQ_SET_RECOVER] = { "--recover-threshold", 1, 1000, NULL },
	[SQ_SET_RETRY] = { "--retry-interval", 1, 30L * 86400, "s" },
	[SQ_SET_REMIND] = { "--remind-every", 0, 365L * 86400, "s" },
	[SQ_SET_SLOW] = { "--slow-ms", 0, SQ_SLOW_MAX_MS, "ms" },
	[SQ_SET_ALERT_DEGRADED] = { "--alert-degraded", 0, 1, NULL },
	[SQ_SET_DEPENDS] = { "--depends-on", 1, LONG_MAX, NULL },
	[SQ_SET_PUBLIC] = { "--public", 0, 1, NULL },
};

struct options {
	const char *config;
	const char *db;
	bool json;
	uint64_t given;            /* OPT_* seen */
	const char *name;
	const char *set[SQ_SET_MAX]; /* --interval, --timeout, ... as given */
	/* --method, --expect-status, --keyword, --keyword-mode as stored ("" for NULL) */
	const char *text[SQ_TEXT_MAX];
	const char *nocase;        /* --keyword-nocase as given */
	const char *owner;
	char *url;
	const char *since;
	const char *limit;
	const char *html;
	bool public_page;          /* report --public: the public page */
	const char *redis;
	/* maintenance add */
	const char *site, *from, *until, *for_, *every, *reason;
	/* contact add's options, and --contact (repeatable) of add and edit */
	const char *secret_file, *kinds, *sender, *api;
	bool every_site, insecure, contact_opts;
	char *contacts[64];
	size_t ncontacts;
	bool contacts_given;
};

struct ctx {
	struct options *o;
	struct sq_config cfg;
	struct store *store;
	int64_t now;
};

struct command {
	const char *name;
	const char *synopsis;
	int min_args, max_args;
	uint64_t options;
	int open_flags;            /* how the store is opened, or NO_STORE */
	int (*run)(struct ctx *c, char **args);
};

#define NO_STORE (-1)              /* a command that needs no database */

static void usage(FILE *f);
static int contacts_exist(struct ctx *c);
static int link_contacts(struct ctx *c, int64_t site_id);
static int owner_address(const char *addr, char *buf, size_t buflen, const char *what);

static int usage_error(const char *fmt, ...) SQ_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("squirrelctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(squirrelctl --help for the commands)\n", stderr);
	return EXIT_USAGE;
}

/* A whole number in [min, max], or -1 with the reason printed. */
static int parse_number(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		usage_error("%s '%s': expected a whole number from %ld to %ld", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * A setting's value: a whole number in its range, or with may_default
 * "default" (SQ_EDIT_DEFAULT). -1 with the reason printed.
 */
static int parse_setting(int i, const char *s, bool may_default, int64_t *out)
{
	const struct setting *d = &settings[i];
	long v;

	/* no parent: the column's default, said either way */
	if (may_default && (strcmp(s, "default") == 0 ||
	    (i == SQ_SET_DEPENDS && strcmp(s, "none") == 0))) {
		*out = SQ_EDIT_DEFAULT;
		return 0;
	}
	if (i == SQ_SET_PUBLIC) {
		if (strcmp(s, "yes") != 0 && strcmp(s, "no") != 0) {
			usage_error("--public '%s': expected yes or no%s", s,
			    may_default ? ", or 'default' for no" : "");
			return -1;
		}
		*out = strcmp(s, "yes") == 0;
		return 0;
	}
	if (i == SQ_SET_DEPENDS) {
		char *end;
		errno = 0;
		long long id = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0 || id < 1) {
			usage_error("--depends-on '%s': expected a site id%s", s,
			    may_default ? ", or 'none' for no parent" : "");
			return -1;
		}
		*out = id;
		return 0;
	}
	if (!may_default)
		return parse_number(d->opt, s, d->min, d->max, &v) < 0 ? -1 : (*out = v, 0);
	char *end;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < d->min || v > d->max) {
		usage_error("%s '%s': expected a whole number from %ld to %ld, or 'default' for the "
		    "configuration's", d->opt, s, d->min, d->max);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * --group: a name of 1 to 100 bytes of UTF-8 without control characters
 * (the CHECK of sites.group_name says the same); with may_default (edit)
 * '' or "default" (made "" before this) remove the group, and on add
 * "default" is refused rather than taken as a name edit could not set.
 * 0, or the usage error's exit status.
 */
static int group_check(const char *s, bool may_default)
{
	size_t len = strlen(s), w;
	uint32_t cp;
	const char *why = NULL;

	if (may_default && len == 0)
		return 0;
	if (len == 0 || len > SQ_GROUP_MAX)
		why = "expected 1 to 100 bytes";
	else if (!may_default && strcmp(s, "default") == 0)
		why = "'default' is the word edit takes to remove a group, not a name";
	for (size_t i = 0; why == NULL && i < len; ) {
		size_t n = utf8_next(s + i, &cp);
		if (n == 0)
			why = "not UTF-8";
		else if (cp < 0x20 || cp == 0x7f)
			why = "a control character";
		i += n;
	}
	if (why == NULL)
		return 0;
	char *clean = text_clean(s, &w);
	int rc = usage_error("--group '%.100s': %s%s", clean != NULL ? clean : "", why,
	    may_default ? " ('' or 'default' removes the group)" : "");
	free(clean);
	return rc;
}

/*
 * --method, --expect-status, --keyword, --keyword-mode: into what the
 * column stores ("" sets it back to NULL, the default); else the usage
 * error's exit status, the reason printed. Method and mode in any case;
 * with may_default (edit) "default" for NULL, but for the keyword, which
 * may be any word: '' removes it.
 */
static int parse_text_setting(int i, const char **value, bool may_default)
{
	static char method[8], mode[8];
	const char *s = *value;
	char why[200];
	struct sq_expect e;

	if (may_default && i != SQ_TEXT_KEYWORD && strcmp(s, "default") == 0) {
		*value = "";
		return 0;
	}
	switch (i) {
	case SQ_TEXT_METHOD:
		if (strcasecmp(s, "HEAD") != 0 && strcasecmp(s, "GET") != 0)
			return usage_error("--method '%s': expected HEAD or GET%s", s,
			    may_default ? ", or 'default' for HEAD" : "");
		snprintf(method, sizeof(method), "%s", strcasecmp(s, "GET") == 0 ? "GET" : "HEAD");
		*value = method;
		return 0;
	case SQ_TEXT_EXPECT_STATUS:
		if (sq_expect_status_parse(s, &e, why, sizeof(why)) < 0)
			return usage_error("--expect-status '%.40s': %s%s", s, why,
			    may_default ? "; or 'default' for 200-399" : "");
		return 0;
	case SQ_TEXT_CERT_WARN_DAYS: {
		struct sq_cert_days d;
		static char days[SQ_CERT_DAYS_TEXT_MAX + 1];
		if (sq_cert_days_parse(s, &d, why, sizeof(why)) < 0)
			return usage_error("--cert-warn-days '%.40s': %s%s", s, why,
			    may_default ? "; or 'default' for [check] cert_warn_days" : "");
		*value = sq_cert_days_text(&d, days, sizeof(days));
		return 0;
	}
	case SQ_TEXT_GROUP:
		return group_check(s, may_default);
	case SQ_TEXT_KEYWORD:
		if (strlen(s) > SQ_KEYWORD_MAX || (!may_default && s[0] == '\0'))
			return usage_error("--keyword: %zu bytes; expected 1 to %d%s", strlen(s),
			    SQ_KEYWORD_MAX, may_default ? " ('' removes the keyword)" : "");
		return 0;
	default:
		if (strcasecmp(s, "present") != 0 && strcasecmp(s, "absent") != 0)
			return usage_error("--keyword-mode '%s': expected present or absent%s", s,
			    may_default ? ", or 'default' for present" : "");
		snprintf(mode, sizeof(mode), "%s", strcasecmp(s, "absent") == 0 ? "absent" : "present");
		*value = mode;
		return 0;
	}
}

/* --keyword-nocase: 0, 1, or "default" (SQ_EDIT_DEFAULT). Else the usage error's status. */
static int parse_nocase(const char *s, bool may_default, int *out)
{
	if (may_default && strcmp(s, "default") == 0)
		*out = SQ_EDIT_DEFAULT;
	else if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0)
		*out = s[0] - '0';
	else
		return usage_error("--keyword-nocase '%s': expected 0 or 1 (ASCII letters in either "
		    "case)%s", s, may_default ? ", or 'default' for 0" : "");
	return 0;
}

/* ---- what every listing of sites shows ---- */

static const struct table_col site_cols[] = {
	{ .name = "id", .right = true },
	{ .name = "enabled" },
	{ .name = "state" },
	{ .name = "interval_s", .head = "interval", .right = true },
	{ .name = "timeout_ms", .head = "timeout", .right = true },
	{ .name = "owner_email", .head = "owner" },
	{ .name = "group_name", .head = "group" },
	{ .name = "public" },
	{ .name = "name" },
	{ .name = "url" },
	{ .name = "skipped" },
};

/*
 * A url as squirrelctl prints it, in a table, its JSON or a message: without
 * its password (src/base/urlshow.c). The value lasts until the next call.
 */
static const char *shown(const char *url)
{
	static char buf[URL_SHOWN_MAX];
	return url_shown(url, buf, sizeof(buf));
}

/*
 * A row squirreld skips (store/sites.h, skipped) reads "skipped" in the
 * text's state column, its reason in the last; JSON keeps the state as
 * stored and has the reason under "skipped", null for a row it checks.
 */
static void site_row(struct table *t, const struct sq_site_info *s)
{
	char buf[32];

	table_row(t);
	table_int(t, s->id);
	table_bool(t, s->enabled, "yes", "no");
	table_str_text(t, state_name(s->state), s->skipped != NULL ? "skipped" : state_name(s->state));
	snprintf(buf, sizeof(buf), "%" PRId64 " s", s->interval_s);
	table_num_text(t, s->interval_s, s->interval_s > 0, s->interval_s > 0 ? buf : "default");
	snprintf(buf, sizeof(buf), "%" PRId64 " ms", s->timeout_ms);
	table_num_text(t, s->timeout_ms, s->timeout_ms > 0, s->timeout_ms > 0 ? buf : "default");
	table_str(t, s->owner_email);
	table_str(t, s->group_name);
	table_bool(t, s->public, "yes", "no");
	table_str(t, s->name);
	table_str(t, shown(s->url));
	table_str(t, s->skipped);
}

static int print_table(struct table *t, bool json)
{
	int rc = table_print(t, json, stdout);
	table_free(t);
	if (rc < 0) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("writing to standard output");
		return EXIT_FAIL;
	}
	return 0;
}

/* Prints one site (after an edit) as list shows it. */
static int print_site(struct ctx *c, const struct sq_site_info *s)
{
	struct table *t = table_new(site_cols, sizeof(site_cols) / sizeof(site_cols[0]));
	if (t == NULL) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	site_row(t, s);
	return print_table(t, c->o->json);
}

/* Resolves ID|URL; prints why not and returns the exit status when it fails. */
static int find_site(struct ctx *c, const char *key, int64_t *id)
{
	int rc = store_find_site(c->store, key, id);
	if (rc == STORE_FOUND)
		return 0;
	if (rc == STORE_NOT_FOUND)
		log_errorx("no site '%s' in %s (squirrelctl list shows them)", shown(key),
		    c->cfg.database);
	else if (rc == STORE_AMBIGUOUS)
		log_errorx("several sites watch '%s'; name the one you mean by its id "
		    "(squirrelctl list shows them)", shown(key));
	return EXIT_FAIL;
}

static int load_one(struct ctx *c, int64_t id, struct sq_site_info_list *l)
{
	if (store_site_infos(c->store, id, l) < 0)
		return EXIT_FAIL;
	if (l->n != 1) {
		log_errorx("site %" PRId64 " is gone", id);
		store_free_site_infos(l);
		return EXIT_FAIL;
	}
	return 0;
}

/* ---- the commands ---- */

static int cmd_init(struct ctx *c, char **args)
{
	(void)args;
	/* the rollup caps holds with the configured interval: keep it in step */
	if (store_set_default_interval(c->store, c->cfg.interval_s) < 0 ||
	    store_rollup_backfill(c->store) < 0)
		return EXIT_FAIL;
	if (c->o->json) {
		static const struct table_col cols[] = {
			{ .name = "database" }, { .name = "schema_version", .right = true },
		};
		struct table *t = table_new(cols, 2);
		if (t == NULL)
			return EXIT_FAIL;
		table_row(t);
		table_str(t, c->cfg.database);
		table_int(t, store_schema_version());
		return print_table(t, true);
	}
	printf("%s: ready (schema version %d)\n", c->cfg.database, store_schema_version());
	return 0;
}

/*
 * The scheme in lower case, its canonical form (RFC 3986, 3.1): the
 * database's CHECK and every later comparison of URLs expect it so.
 */
static void lower_scheme(char *url)
{
	for (char *p = url; *p != '\0' && *p != ':'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* The per-site columns the options set (validate() checked them), the rest kept. */
static void edit_from_options(const struct options *o, struct sq_site_edit *e)
{
	memset(e, 0, sizeof(*e));
	e->url = o->url;
	e->owner_email = o->owner;
	e->name = o->name;
	e->enabled = SQ_EDIT_KEEP;
	if (o->given & OPT_ENABLE)
		e->enabled = 1;
	if (o->given & OPT_DISABLE)
		e->enabled = 0;
	for (int i = 0; i < SQ_SET_MAX; i++) {
		e->set[i] = SQ_EDIT_KEEP;
		if (o->set[i] != NULL)
			parse_setting(i, o->set[i], true, &e->set[i]);
	}
	for (int i = 0; i < SQ_TEXT_MAX; i++)
		e->text[i] = o->text[i];
	e->keyword_nocase = SQ_EDIT_KEEP;
	if (o->nocase != NULL)
		parse_nocase(o->nocase, true, &e->keyword_nocase);
}

static int cmd_add(struct ctx *c, char **args)
{
	struct sq_site_edit more;
	struct sq_site_new n = { .url = args[0], .owner_email = args[1], .name = c->o->name,
		.more = &more };
	struct sq_site_info_list l;
	int64_t id;

	edit_from_options(c->o, &more);   /* validate() checked every value */
	if (c->o->contacts_given && contacts_exist(c) != 0)
		return EXIT_FAIL;
	int rc = store_add_site(c->store, &n, &id);
	if (rc < 0)
		return EXIT_FAIL;
	if (rc == 1) {
		log_errorx("site %" PRId64 " already watches %s for %s", id, shown(n.url),
		    n.owner_email);
		return EXIT_FAIL;
	}
	if (rc == STORE_REFUSED)
		return EXIT_FAIL;   /* said with the reason: a parent missing */
	if (c->o->contacts_given && link_contacts(c, id) != 0)
		return EXIT_FAIL;
	if ((rc = load_one(c, id, &l)) != 0)
		return rc;
	rc = print_site(c, &l.v[0]);
	store_free_site_infos(&l);
	return rc;
}

static int cmd_rm(struct ctx *c, char **args)
{
	struct sq_site_info_list l;
	int64_t id;
	int rc;

	if ((rc = find_site(c, args[0], &id)) != 0 || (rc = load_one(c, id, &l)) != 0)
		return rc;
	rc = store_remove_site(c->store, id);
	if (rc == 0)
		rc = print_site(c, &l.v[0]);
	else if (rc == STORE_NOT_FOUND)
		log_errorx("site %" PRId64 " was removed meanwhile", id);
	store_free_site_infos(&l);
	return rc == 0 ? 0 : EXIT_FAIL;
}

static int set_enabled(struct ctx *c, const char *key, bool enabled)
{
	struct sq_site_info_list l;
	int64_t id;
	int rc;

	if ((rc = find_site(c, key, &id)) != 0)
		return rc;
	rc = store_enable_site(c->store, id, enabled);
	if (rc != 0) {
		if (rc == STORE_NOT_FOUND)
			log_errorx("site %" PRId64 " was removed meanwhile", id);
		return EXIT_FAIL;
	}
	if ((rc = load_one(c, id, &l)) != 0)
		return rc;
	rc = print_site(c, &l.v[0]);
	store_free_site_infos(&l);
	return rc;
}

static int cmd_enable(struct ctx *c, char **args)
{
	return set_enabled(c, args[0], true);
}

static int cmd_disable(struct ctx *c, char **args)
{
	return set_enabled(c, args[0], false);
}

/* edit shows every column it can change; null (or "default") is the configuration's. */
static const struct table_col settings_cols[] = {
	{ .name = "id", .right = true },
	{ .name = "enabled" },
	{ .name = "interval_s", .head = "interval", .right = true },
	{ .name = "timeout_ms", .head = "timeout", .right = true },
	{ .name = "fail_threshold", .head = "fail", .right = true },
	{ .name = "recover_threshold", .head = "recover", .right = true },
	{ .name = "retry_interval_s", .head = "retry", .right = true },
	{ .name = "remind_every_s", .head = "remind", .right = true },
	{ .name = "slow_ms", .head = "slow", .right = true },
	{ .name = "alert_degraded", .head = "degraded", .right = true },
	{ .name = "depends_on", .head = "parent", .right = true },
	{ .name = "public" },
	{ .name = "method" },
	{ .name = "expect_status", .head = "expect" },
	{ .name = "keyword" },
	{ .name = "keyword_mode", .head = "mode" },
	{ .name = "cert_warn_days", .head = "certwarn" },
	{ .name = "group_name", .head = "group" },
	{ .name = "keyword_nocase", .head = "nocase", .right = true },
	{ .name = "owner_email", .head = "owner" },
	{ .name = "name" },
	{ .name = "url" },
};

static int print_settings(struct ctx *c, const struct sq_site_settings *st)
{
	struct table *t = table_new(settings_cols, sizeof(settings_cols) / sizeof(settings_cols[0]));
	char buf[32];

	if (t == NULL) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	table_row(t);
	table_int(t, st->id);
	table_bool(t, st->enabled, "yes", "no");
	for (int i = 0; i < SQ_SET_MAX; i++) {
		int64_t v = st->set[i];
		if ((i == SQ_SET_REMIND || i == SQ_SET_SLOW) && v == 0)
			snprintf(buf, sizeof(buf), "never");
		else if (i == SQ_SET_PUBLIC)
			snprintf(buf, sizeof(buf), "%s", v == 1 ? "yes" : "no");
		else if (settings[i].unit != NULL)
			snprintf(buf, sizeof(buf), "%" PRId64 " %s", v, settings[i].unit);
		else
			snprintf(buf, sizeof(buf), "%" PRId64, v);
		table_num_text(t, v, v >= 0, v >= 0 ? buf : i == SQ_SET_DEPENDS ? "none" :
		    i == SQ_SET_PUBLIC ? "default (no)" : "default");
	}
	for (int i = 0; i < SQ_TEXT_MAX; i++)
		table_str_text(t, st->text[i], st->text[i] != NULL ? st->text[i] :
		    i == SQ_TEXT_GROUP ? "none" : "default");
	snprintf(buf, sizeof(buf), "%d", st->keyword_nocase);
	table_num_text(t, st->keyword_nocase, st->keyword_nocase >= 0,
	    st->keyword_nocase >= 0 ? buf : "default");
	table_str(t, st->owner_email);
	table_str(t, st->name);
	table_str(t, shown(st->url));
	return print_table(t, c->o->json);
}

static int cmd_edit(struct ctx *c, char **args)
{
	struct sq_site_edit e;
	struct sq_site_settings st;
	int64_t id, other = 0;
	int rc;

	edit_from_options(c->o, &e);   /* validate() checked every value */
	if ((rc = find_site(c, args[0], &id)) != 0)
		return rc;
	if (c->o->contacts_given && contacts_exist(c) != 0)
		return EXIT_FAIL;
	rc = (c->o->given & OPT_EDITS) ? store_edit_site(c->store, id, &e, &other) : 0;
	if (rc == 0 && c->o->contacts_given && link_contacts(c, id) != 0)
		return EXIT_FAIL;
	if (rc == STORE_TAKEN) {
		if (store_site_settings(c->store, id, &st) == 0) {
			log_errorx("site %" PRId64 " already watches %s for %s", other,
			    shown(e.url != NULL ? e.url : st.url),
			    e.owner_email != NULL ? e.owner_email : st.owner_email);
			store_free_site_settings(&st);
		}
		return EXIT_FAIL;
	}
	if (rc == STORE_NOT_FOUND)
		log_errorx("site %" PRId64 " was removed meanwhile", id);
	if (rc != 0)
		return EXIT_FAIL;
	if ((rc = store_site_settings(c->store, id, &st)) != 0) {
		if (rc == STORE_NOT_FOUND)
			log_errorx("site %" PRId64 " is gone", id);
		return EXIT_FAIL;
	}
	rc = print_settings(c, &st);
	store_free_site_settings(&st);
	return rc;
}

static int cmd_list(struct ctx *c, char **args)
{
	struct sq_site_info_list l;
	(void)args;

	if (store_site_infos(c->store, 0, &l) < 0)
		return EXIT_FAIL;
	struct table *t = table_new(site_cols, sizeof(site_cols) / sizeof(site_cols[0]));
	if (t == NULL) {
		store_free_site_infos(&l);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n; i++)
		site_row(t, &l.v[i]);
	store_free_site_infos(&l);
	return print_table(t, c->o->json);
}

static const struct table_col status_cols[] = {
	{ .name = "id", .right = true },
	{ .name = "name", .json_only = true },
	{ .name = "url", .json_only = true },
	{ .name = "enabled", .json_only = true },
	{ .name = "skipped", .json_only = true },
	{ .name = "state" },
	{ .name = "since" },
	{ .name = "last_check", .head = "checked" },
	{ .name = "last_status", .head = "http", .right = true },
	{ .name = "last_ms", .head = "ms", .right = true },
	{ .name = "uptime_24h", .head = "24h", .right = true },
	{ .name = "uptime_7d", .head = "7d", .right = true },
	{ .name = "uptime_30d", .head = "30d", .right = true },
	{ .name = "p50_ms", .head = "p50", .right = true },
	{ .name = "p95_ms", .head = "p95", .right = true },
	{ .name = "incidents_30d", .head = "incidents", .right = true },
	{ .name = "cert_days", .head = "cert", .right = true },
	{ .name = "cert_expires", .json_only = true },
	/* uptime leaves maintenance out; slow time is up, said apart */
	{ .name = "slow_30d_s", .head = "slow 30d", .right = true },
	{ .name = "maintenance_30d_s", .head = "maint 30d", .right = true },
	{ .name = "maintenance", .head = "maintenance", .text_only = true },
	{ .name = "maintenance_start", .json_only = true },
	{ .name = "maintenance_end", .json_only = true },
	{ .name = "site", .text_only = true },
	{ .name = "last_error", .head = "error" },
};

/* A duration in a figure's column: "-" for none. */
static void table_seconds(struct table *t, int64_t v)
{
	char dur[32];
	table_num_text(t, v, true, v > 0 ? duration_format(v, dur, sizeof(dur)) : "-");
}

/* The window in force over a site ("now, to 07:48 UTC") or the next ("from 2026-12-12 23:00 UTC"). */
static void status_window(struct ctx *c, struct table *t, const struct sq_site_info *s,
    const struct sq_window_list *wl)
{
	int64_t start = 0, end = 0;
	char text[96], a[32];
	int i = window_next(wl, s->id, s->owner_email, c->now, &start, &end);

	if (i < 0)
		snprintf(text, sizeof(text), "-");
	else if (start <= c->now)
		snprintf(text, sizeof(text), "now, to %.16s UTC", time_format(end, a, sizeof(a)));
	else
		snprintf(text, sizeof(text), "from %.16s UTC", time_format(start, a, sizeof(a)));
	table_str(t, text);
	table_time(t, i < 0 ? 0 : start);
	table_time(t, i < 0 ? 0 : end);
}

static void status_row(struct ctx *c, struct table *t, const struct sq_site_info *s,
    const struct sq_figures *f, const struct sq_window_list *wl)
{
	char buf[64], dur[32], skip[SITES_REASON_MAX + 16];
	bool checked = s->last_check > 0;

	table_row(t);
	table_int(t, s->id);
	table_str(t, s->name);
	table_str(t, shown(s->url));
	table_bool(t, s->enabled, "yes", "no");
	table_str(t, s->skipped);
	table_str_text(t, state_name(s->state), !s->enabled ? "disabled" :
	    s->skipped != NULL ? "skipped" : state_name(s->state));
	/* text: how long ago, which reads at a glance; JSON: the time itself */
	bool known = s->since > 0 && s->state != SQ_STATE_UNKNOWN;
	table_num_text(t, s->since, known,
	    known ? duration_format(c->now - s->since, dur, sizeof(dur)) : NULL);
	snprintf(buf, sizeof(buf), "%s ago", duration_format(c->now - s->last_check, dur,
	    sizeof(dur)));
	table_num_text(t, s->last_check, checked, checked ? buf : NULL);
	table_int_or_null(t, s->last_status, checked);
	table_int_or_null(t, s->last_ms, checked);
	table_percent(t, f->day.up_s, f->day.up_s + f->day.down_s);
	table_percent(t, f->week.up_s, f->week.up_s + f->week.down_s);
	table_percent(t, f->month.up_s, f->month.up_s + f->month.down_s);
	table_int_or_null(t, f->p50_ms, f->p50_ms >= 0);
	table_int_or_null(t, f->p95_ms, f->p95_ms >= 0);
	table_int(t, f->incidents);
	/* the certificate last seen: whole days left (text "12 d"), and when it ends */
	bool cert = s->cert_not_after > 0;
	int64_t days = cert ? sq_cert_days_left(s->cert_not_after, c->now) : 0;
	snprintf(buf, sizeof(buf), "%" PRId64 " d", days);
	table_num_text(t, days, cert, cert ? buf : NULL);
	table_int_or_null(t, s->cert_not_after, cert);
	table_seconds(t, f->month.slow_s);
	table_seconds(t, f->month.maint_s);
	status_window(c, t, s, wl);
	table_str(t, s->name != NULL && s->name[0] != '\0' ? s->name : shown(s->url));
	/* text: why a skipped row is never checked, where a check's error would be */
	if (s->skipped != NULL) {
		snprintf(skip, sizeof(skip), "skipped: %s", s->skipped);
		table_str_text(t, checked ? s->last_error : NULL, skip);
	} else {
		table_str(t, checked ? s->last_error : NULL);
	}
}

static int cmd_status(struct ctx *c, char **args)
{
	struct sq_site_info_list l;
	int64_t id = 0;
	int rc;

	if (args[0] != NULL && (rc = find_site(c, args[0], &id)) != 0)
		return rc;
	struct sq_reader *r = store_reader_open(c->store);
	if (r == NULL)
		return EXIT_FAIL;
	struct sq_window_list wl;
	if (store_windows(c->store, &wl) < 0) {
		store_reader_close(r);
		return EXIT_FAIL;
	}
	if (store_site_infos(c->store, id, &l) < 0) {
		window_list_free(&wl);
		store_reader_close(r);
		return EXIT_FAIL;
	}
	struct table *t = table_new(status_cols, sizeof(status_cols) / sizeof(status_cols[0]));
	rc = t == NULL ? EXIT_FAIL : 0;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct sq_figures f;
		if (store_reader_figures(r, l.v[i].id, c->now, &f) < 0)
			rc = EXIT_FAIL;
		else
			status_row(c, t, &l.v[i], &f, &wl);
	}
	window_list_free(&wl);
	store_reader_close(r);
	store_free_site_infos(&l);
	if (rc != 0) {
		table_free(t);
		return rc;
	}
	return print_table(t, c->o->json);
}

static int cmd_history(struct ctx *c, char **args)
{
	static const struct table_col cols[] = {
		{ .name = "id", .json_only = true },
		{ .name = "checked_at", .head = "time (UTC)" },
		{ .name = "ok", .json_only = true },
		{ .name = "state" },
		{ .name = "http_status", .head = "http", .right = true },
		{ .name = "ms", .right = true },
		{ .name = "error" },
	};
	struct sq_check_list l;
	int64_t id, since = 0;
	long limit = HISTORY_DEFAULT_LIMIT;
	char why[256];
	int rc;

	if (c->o->since != NULL) {
		when_parse(c->o->since, c->now, &since, why, sizeof(why));
		limit = 0;     /* a time range asked for: all of it, unless limited */
	}
	if (c->o->limit != NULL)
		parse_number("--limit", c->o->limit, 0, 1000000000, &limit);
	if ((rc = find_site(c, args[0], &id)) != 0)
		return rc;
	if (store_history(c->store, id, since, (size_t)limit, &l) < 0)
		return EXIT_FAIL;
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL) {
		store_free_checks(&l);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct sq_check_row *k = &l.v[i];
		table_row(t);
		table_int(t, k->id);
		table_time(t, k->checked_at);
		table_bool(t, k->ok, "true", "false");
		table_str(t, k->ok ? "up" : "down");
		table_int(t, k->http_status);
		table_int(t, k->ms);
		table_str(t, k->error);
	}
	store_free_checks(&l);
	return print_table(t, c->o->json);
}

/*
 * An incident's notes: in JSON an array of {"at", "text"}, oldest first;
 * in text how many ("-" none), the notes themselves being lines of their own.
 */
static void table_notes(struct table *t, const struct sq_incident_note *v, size_t n)
{
	char *buf = NULL, count[24];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f != NULL) {
		fputc('[', f);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s{\"at\": %" PRId64 ", \"text\": ", i > 0 ? ", " : "", v[i].at);
			json_string(f, v[i].text);
			fputc('}', f);
		}
		fputc(']', f);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	snprintf(count, sizeof(count), "%zu", n);
	table_json(t, buf, n > 0 ? count : "-");
}

/*
 * Incidents, newest first: an open one reads "ongoing", its duration so
 * far. A removed site's incidents stay, without its name and URL.
 */
static int cmd_incidents(struct ctx *c, char **args)
{
	static const struct table_col cols[] = {
		{ .name = "id", .right = true },
		{ .name = "site_id", .head = "site", .right = true },
		{ .name = "name" },
		{ .name = "url" },
		{ .name = "started_at", .head = "started (UTC)" },
		{ .name = "ended_at", .head = "ended (UTC)" },
		{ .name = "duration_s", .head = "duration", .right = true },
		{ .name = "ongoing", .json_only = true },
		{ .name = "notes", .right = true },
		{ .name = "cause" },
	};
	struct sq_incident_rows l;
	int64_t id = 0, since = 0;
	long limit = HISTORY_DEFAULT_LIMIT;
	char why[256], buf[64], dur[32];
	int rc;

	if (c->o->since != NULL) {
		when_parse(c->o->since, c->now, &since, why, sizeof(why));
		limit = 0;     /* a time range asked for: all of it, unless limited */
	}
	if (c->o->limit != NULL)
		parse_number("--limit", c->o->limit, 0, 1000000000, &limit);
	if (args[0] != NULL && (rc = find_site(c, args[0], &id)) != 0)
		return rc;
	if (store_incident_rows(c->store, id, since, (size_t)limit, &l) < 0)
		return EXIT_FAIL;
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL) {
		store_free_incident_rows(&l);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct sq_incident_row *k = &l.v[i];
		bool ongoing = k->ended_at == 0;
		int64_t d = (ongoing ? c->now : k->ended_at) - k->started_at;
		if (d < 0)
			d = 0;
		table_row(t);
		table_int(t, k->id);
		table_int(t, k->site_id);
		table_str(t, k->name);
		table_str_text(t, shown(k->url), k->url != NULL ? shown(k->url) : "(removed)");
		table_time(t, k->started_at);
		if (ongoing)
			table_num_text(t, 0, false, "ongoing");
		else
			table_num_text(t, k->ended_at, true, time_format(k->ended_at, buf, sizeof(buf)));
		duration_format(d, dur, sizeof(dur));
		snprintf(buf, sizeof(buf), "%s%s", dur, ongoing ? " so far" : "");
		table_num_text(t, d, true, buf);
		table_bool(t, ongoing, "yes", "no");
		table_notes(t, k->notes, k->nnotes);
		table_str(t, k->cause);
	}
	store_free_incident_rows(&l);
	return print_table(t, c->o->json);
}

/*
 * incident note ID TEXT: what validate() let through (an id, a text of 1
 * to SQ_NOTE_MAX bytes without control characters but newline and tab),
 * written at now under an incident that exists.
 */
static int cmd_incident(struct ctx *c, char **args)
{
	static const struct table_col cols[] = {
		{ .name = "incident_id", .head = "incident", .right = true },
		{ .name = "at", .head = "at (UTC)" },
		{ .name = "text" },
	};
	int64_t id = strtoll(args[1], NULL, 10);
	int rc = store_incident_note_add(c->store, id, c->now, args[2]);

	if (rc == STORE_NOT_FOUND)
		log_errorx("no incident %" PRId64 " in %s (squirrelctl incidents shows them)", id,
		    c->cfg.database);
	if (rc != 0)
		return EXIT_FAIL;
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	table_row(t);
	table_int(t, id);
	table_time(t, c->now);
	table_str(t, args[2]);
	return print_table(t, c->o->json);
}

/* incident's words: note ID TEXT, each checked. 0, or the usage error's exit status. */
static int incident_check(const struct command *cmd, char **args)
{
	size_t len = strlen(args[2]);
	uint32_t cp;

	if (strcmp(args[0], "note") != 0)
		return usage_error("incident: unknown verb '%s' (usage: squirrelctl %s)", args[0],
		    cmd->synopsis);
	size_t dlen = strlen(args[1]);
	if (dlen == 0 || dlen > 18 || strspn(args[1], "0123456789") != dlen ||
	    strtoll(args[1], NULL, 10) < 1)
		return usage_error("incident note: '%.40s' is not an incident's id (squirrelctl "
		    "incidents shows them)", args[1]);
	if (len == 0 || len > SQ_NOTE_MAX)
		return usage_error("incident note: the text is %zu bytes; expected 1 to %d", len,
		    SQ_NOTE_MAX);
	for (size_t i = 0; i < len; ) {
		size_t n = utf8_next(args[2] + i, &cp);
		if (n == 0)
			return usage_error("incident note: the text is not UTF-8 (byte %zu)", i + 1);
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return usage_error("incident note: a control character (U+%04X) at byte %zu; "
			    "only newline and tab are taken", (unsigned)cp, i + 1);
		i += n;
	}
	return 0;
}

static int cmd_outbox(struct ctx *c, char **args)
{
	static const struct table_col cols[] = {
		{ .name = "id", .right = true },
		{ .name = "site_id", .head = "site", .right = true },
		{ .name = "kind" },
		{ .name = "status" },
		{ .name = "owner_email", .head = "owner" },
		{ .name = "name" },
		{ .name = "url" },
		{ .name = "created_at", .head = "created (UTC)" },
		{ .name = "attempts", .right = true },
		{ .name = "next_attempt", .head = "next try (UTC)" },
		{ .name = "last_error", .head = "error" },
	};
	struct sq_alert_list l;
	(void)args;

	if (store_outbox_list(c->store, &l) < 0)
		return EXIT_FAIL;
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL) {
		store_free_alerts(&l);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct sq_alert_row *o = &l.v[i];
		bool pending = strcmp(o->status, "pending") == 0;
		table_row(t);
		table_int(t, o->id);
		table_int(t, o->site_id);
		table_str(t, sq_alert_kind_code(o->kind) != NULL ? sq_alert_kind_code(o->kind) : "");
		table_str(t, o->status);
		table_str(t, o->owner_email);
		table_str(t, o->name);
		table_str(t, shown(o->url));
		table_time(t, o->created_at);
		table_int(t, o->attempts);
		/* next_attempt 0 means "at once" for a pending alert */
		table_time(t, pending ? (o->next_attempt > 0 ? o->next_attempt : o->created_at) : 0);
		table_str(t, o->last_error);
	}
	store_free_alerts(&l);
	return print_table(t, c->o->json);
}

static int cmd_report(struct ctx *c, char **args)
{
	struct sq_page_opts po = { .kind = c->o->public_page ? SQ_PAGE_PUBLIC : SQ_PAGE_FULL,
		.cfg = &c->cfg };

	(void)args;
	if (statuspage_write(c->store, c->o->html, c->now, &po) < 0)
		return EXIT_FAIL;
	if (c->o->json) {
		static const struct table_col cols[] = { { .name = "file" } };
		struct table *t = table_new(cols, 1);
		if (t == NULL)
			return EXIT_FAIL;
		table_row(t);
		table_str(t, c->o->html);
		return print_table(t, true);
	}
	return 0;
}

/*
 * The scale-out as Redis sees it (redis_admin.c): a row per consumer of
 * each location's group on <prefix>:checks (a location without any still
 * has its row), then the coordinator's group on <prefix>:results.
 */
#if SQ_HAVE_REDIS
static void group_rows(struct table *t, const char *stream, const struct ra_group *g,
    const char *location)
{
	char idle[32];

	for (size_t i = 0; i < g->nconsumers || (i == 0 && g->nconsumers == 0); i++) {
		const struct ra_consumer *k = i < g->nconsumers ? &g->consumers[i] : NULL;
		table_row(t);
		table_str(t, stream);
		table_str_text(t, location, location != NULL ? location : "(results)");
		table_str(t, g->name);
		table_int_or_null(t, g->pending, g->exists);
		table_int_or_null(t, g->lag, g->exists && g->lag_known);
		table_int(t, (int64_t)g->nconsumers);
		table_str(t, k != NULL ? k->name : NULL);
		table_int_or_null(t, k != NULL ? k->pending : 0, k != NULL);
		if (k != NULL && k->idle_ms >= 1000)
			snprintf(idle, sizeof(idle), "%.1f s", (double)k->idle_ms / 1000.0);
		else if (k != NULL)
			snprintf(idle, sizeof(idle), "%" PRId64 " ms", k->idle_ms);
		table_num_text(t, k != NULL ? k->idle_ms : 0, k != NULL, k != NULL ? idle : NULL);
	}
}
#endif

static int cmd_workers(struct ctx *c, char **args)
{
	(void)args;
#if SQ_HAVE_REDIS
	static const struct table_col cols[] = {
		{ .name = "stream", .json_only = true },
		{ .name = "location" },
		{ .name = "group", .json_only = true },
		{ .name = "group_pending", .head = "pending", .right = true },
		{ .name = "lag", .right = true },
		{ .name = "consumers", .right = true },
		{ .name = "consumer" },
		{ .name = "consumer_pending", .head = "held", .right = true },
		{ .name = "idle_ms", .head = "idle", .right = true },
	};
	struct redis_link link;
	struct ra_report rep;
	char why[512];

	/* a Redis that hangs up must not end us with SIGPIPE */
	signal_set(SIGPIPE, SIG_IGN);
	if (redis_link_init(&link, c->cfg.redis_url, "squirrelctl", why, sizeof(why)) < 0) {
		log_errorx("[redis] url %s", why);
		return EXIT_FAIL;
	}
	int rc = redis_admin_query(&link, &c->cfg, &rep, why, sizeof(why));
	redis_link_free(&link);
	if (rc < 0) {
		log_errorx("%s", why);
		return EXIT_FAIL;
	}
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL) {
		redis_admin_free(&rep);
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	for (int i = 0; i < rep.nloc; i++)
		group_rows(t, rep.checks_key, &rep.locations[i], rep.locations[i].name);
	group_rows(t, rep.results_key, &rep.results, NULL);
	redis_admin_free(&rep);
	return print_table(t, c->o->json);
#else
	(void)c;
	log_errorx("workers: this squirrelctl was built without Redis support (hiredis): "
	    "install libhiredis-dev (Debian) and rebuild with -Dredis=enabled to see the workers");
	return EXIT_FAIL;
#endif
}

/* ---- maintenance windows ---- */

static const struct table_col window_cols[] = {
	{ .name = "id", .right = true },
	{ .name = "covers" },
	{ .name = "site_id", .json_only = true },
	{ .name = "owner", .json_only = true },
	{ .name = "all", .json_only = true },
	{ .name = "schedule" },
	{ .name = "in_force", .head = "now" },
	{ .name = "start", .head = "next start (UTC)" },
	{ .name = "end", .head = "end (UTC)" },
	{ .name = "reason" },
};

/* "Mon 02:00 for 2h 0m (Europe/Paris)", or "once" */
static void window_schedule(const struct sq_window *w, const char *zone, char *buf, size_t len)
{
	char dur[32];

	if (w->day < 0) {
		snprintf(buf, len, "once");
		return;
	}
	snprintf(buf, len, "every %s %02d:%02d for %s (%s)", window_day_name(w->day),
	    w->minute / 60, w->minute % 60, duration_format(w->duration_s, dur, sizeof(dur)), zone);
}

/* One window's row; 0 when it has ended (not shown), 1 shown. */
static int window_row_add(struct ctx *c, struct table *t, const struct sq_window *w)
{
	char covers[300], sched[128];
	int64_t start, end;

	if (window_span(w, c->now, &start, &end) != 1)
		return 0;
	if (w->all)
		snprintf(covers, sizeof(covers), "all sites");
	else if (w->site_id != 0)
		snprintf(covers, sizeof(covers), "site %" PRId64, w->site_id);
	else
		snprintf(covers, sizeof(covers), "owner %s", w->owner_email);
	window_schedule(w, c->cfg.timezone, sched, sizeof(sched));
	table_row(t);
	table_int(t, w->id);
	table_str(t, covers);
	table_int_or_null(t, w->site_id, w->site_id != 0);
	table_str(t, w->owner_email);
	table_bool(t, w->all, "yes", "no");
	table_str_text(t, w->day < 0 ? "once" : "weekly", sched);
	table_bool(t, start <= c->now, "yes", "no");
	table_time(t, start);
	table_time(t, end);
	table_str(t, w->reason);
	return 1;
}

/* The windows of l whose id is only (0: every one) and not ended. */
static int print_windows(struct ctx *c, const struct sq_window_list *l, int64_t only)
{
	struct table *t = table_new(window_cols, sizeof(window_cols) / sizeof(window_cols[0]));

	if (t == NULL) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l->n; i++)
		if (only == 0 || l->v[i].id == only)
			window_row_add(c, t, &l->v[i]);
	return print_table(t, c->o->json);
}

/*
 * maintenance add's window from the options, all but --site's id (it
 * needs the database): 0, or the usage error's exit status. The weekly
 * form takes DAY HH:MM as two words (--every mon 02:00) or one.
 */
static int window_from_options(const struct options *o, int nargs, char **args, int64_t now,
    struct sq_window *w)
{
	char why[256], day[16];
	const char *hhmm = nargs > 1 ? args[1] : NULL;
	int whom = !!(o->given & OPT_SITE) + !!(o->given & OPT_OWNER) + !!(o->given & OPT_ALL);
	int64_t d;

	memset(w, 0, sizeof(*w));
	w->day = -1;
	if (whom != 1)
		return usage_error("maintenance add: say whom the window covers: one of --site, "
		    "--owner or --all");
	w->all = (o->given & OPT_ALL) != 0;
	w->owner_email = (char *)o->owner;
	w->reason = (char *)(o->reason != NULL ? o->reason : "");
	if (o->every != NULL) {
		const char *space = strchr(o->every, ' ');
		snprintf(day, sizeof(day), "%.*s", space != NULL ? (int)(space - o->every) : 15,
		    o->every);
		if (space != NULL) {
			if (hhmm != NULL)
				return usage_error("usage: squirrelctl maintenance add ... --every DAY HH:MM");
			hhmm = space + 1;
		}
		if (o->given & (OPT_FROM | OPT_UNTIL))
			return usage_error("maintenance add: --every is weekly; it takes --for, not "
			    "--from or --until");
		if ((w->day = window_day_parse(day)) < 0)
			return usage_error("--every '%s': not a day: mon, tue, wed, thu, fri, sat or "
			    "sun", day);
		if (hhmm == NULL)
			return usage_error("--every %s: the time of day is missing (--every DAY HH:MM)",
			    day);
		if ((w->minute = window_hhmm_parse(hhmm)) < 0)
			return usage_error("--every %s '%.20s': not a time of day HH:MM (00:00 to "
			    "23:59)", day, hhmm);
		if (o->for_ == NULL)
			return usage_error("--every %s %s: how long? (--for DURATION, like 2h)", day,
			    hhmm);
		if (duration_parse(o->for_, WINDOW_DURATION_MAX, &w->duration_s, why,
		    sizeof(why)) < 0)
			return usage_error("--for: %s", why);
		return 0;
	}
	if (nargs > 1)
		return usage_error("maintenance add: unexpected '%s'", args[1]);
	if (o->from != NULL && when_parse(o->from, now, &w->from, why, sizeof(why)) < 0)
		return usage_error("--from: %s", why);
	if (o->from == NULL)
		w->from = now;
	if (o->for_ != NULL && o->until != NULL)
		return usage_error("maintenance add: --until or --for, not both");
	if (o->for_ != NULL) {
		if (duration_parse(o->for_, 366 * 86400L, &d, why, sizeof(why)) < 0)
			return usage_error("--for: %s", why);
		w->until = w->from + d;
	} else if (o->until != NULL) {
		if (o->from == NULL)
			return usage_error("--until needs --from (or --for DURATION, from now)");
		if (when_parse(o->until, now, &w->until, why, sizeof(why)) < 0)
			return usage_error("--until: %s", why);
		if (w->until <= w->from) {
			char a[32], b[32];
			return usage_error("maintenance add: the window ends before it starts (--from "
			    "%s UTC, --until %s UTC)", time_format(w->from, a, sizeof(a)),
			    time_format(w->until, b, sizeof(b)));
		}
	} else {
		return usage_error("maintenance add: say when: --from WHEN --until WHEN, --for "
		    "DURATION, or --every DAY HH:MM --for DURATION");
	}
	if (w->until <= now) {
		char b[32];
		return usage_error("maintenance add: the window ended already (%s UTC)",
		    time_format(w->until, b, sizeof(b)));
	}
	return 0;
}

static int window_options_check(const struct options *o, int nargs, char **args)
{
	struct sq_window w;
	long v;
	const char *verb = args[0];

	if (strcmp(verb, "list") == 0 || strcmp(verb, "rm") == 0) {
		if (o->given & OPT_WINDOW)
			return usage_error("maintenance %s takes no options but --json", verb);
		if (nargs != (strcmp(verb, "rm") == 0 ? 2 : 1))
			return usage_error("usage: squirrelctl maintenance %s", strcmp(verb, "rm") == 0 ?
			    "rm ID" : "list");
		if (nargs == 2 && parse_number("maintenance rm", args[1], 1, LONG_MAX, &v) < 0)
			return EXIT_USAGE;
		return 0;
	}
	if (strcmp(verb, "add") != 0)
		return usage_error("maintenance: unknown verb '%.40s' (add, list or rm)", verb);
	if (o->reason != NULL) {
		size_t width;
		char *clean = text_clean(o->reason, &width);
		bool same = clean != NULL && strcmp(clean, o->reason) == 0;
		free(clean);
		if (strlen(o->reason) > WINDOW_REASON_MAX || !same)
			return usage_error("--reason: expected at most %d bytes of UTF-8 text without "
			    "control characters", WINDOW_REASON_MAX);
	}
	return window_from_options(o, nargs, args, (int64_t)time(NULL), &w);
}

static int maintenance_add(struct ctx *c, char **args, int nargs)
{
	struct sq_window w;
	struct sq_window_list l;
	int64_t id;
	int rc;

	if ((rc = window_from_options(c->o, nargs, args, c->now, &w)) != 0)
		return rc;
	if (c->o->site != NULL && (rc = find_site(c, c->o->site, &w.site_id)) != 0)
		return rc;
	if (w.owner_email != NULL) {
		int64_t n = store_owner_sites(c->store, w.owner_email);
		if (n < 0)
			return EXIT_FAIL;
		if (n == 0) {
			log_errorx("no site belongs to %s in %s; a window for an owner covers their "
			    "sites (squirrelctl list shows them)", w.owner_email, c->cfg.database);
			return EXIT_FAIL;
		}
	}
	rc = store_window_add(c->store, &w, &id);
	if (rc == STORE_NOT_FOUND)
		log_errorx("site %" PRId64 " was removed meanwhile", w.site_id);
	if (rc != 0)
		return EXIT_FAIL;
	if (store_windows(c->store, &l) < 0)
		return EXIT_FAIL;
	rc = print_windows(c, &l, id);
	window_list_free(&l);
	return rc;
}

static int cmd_maintenance(struct ctx *c, char **args)
{
	struct sq_window_list l;
	int nargs = args[1] != NULL ? 2 : 1;
	int64_t id;
	int rc;

	if (strcmp(args[0], "add") == 0)
		return maintenance_add(c, args, nargs);
	if (store_windows(c->store, &l) < 0)
		return EXIT_FAIL;
	if (strcmp(args[0], "list") == 0) {
		rc = print_windows(c, &l, 0);
		window_list_free(&l);
		return rc;
	}
	id = strtoll(args[1], NULL, 10);
	rc = store_window_remove(c->store, id);
	if (rc == STORE_NOT_FOUND)
		log_errorx("no maintenance window %" PRId64 " (squirrelctl maintenance list shows "
		    "them)", id);
	else if (rc == 0)
		rc = print_windows(c, &l, id);
	window_list_free(&l);
	return rc == 0 ? 0 : EXIT_FAIL;
}


/* ---- contacts ---- */

static bool contacts_none(const struct options *o)
{
	return o->ncontacts == 1 && strcmp(o->contacts[0], "none") == 0;
}

/* Every contact --contact names exists: 0, or EXIT_FAIL said with the name. */
static int contacts_exist(struct ctx *c)
{
	if (contacts_none(c->o))
		return 0;
	for (size_t i = 0; i < c->o->ncontacts; i++) {
		struct sq_contact k;
		int rc = store_contact_get(c->store, c->o->contacts[i], &k);
		if (rc == STORE_NOT_FOUND)
			log_errorx("--contact: no contact '%s' (squirrelctl contact list shows them)",
			    shown(c->o->contacts[i]));
		if (rc != 0)
			return EXIT_FAIL;
		store_contact_free(&k);
	}
	return 0;
}

/* The site's contacts become the ones --contact names (none: no contact). */
static int link_contacts(struct ctx *c, int64_t site_id)
{
	const char *missing = NULL;
	size_t n = contacts_none(c->o) ? 0 : c->o->ncontacts;

	if (store_begin(c->store) < 0)
		return EXIT_FAIL;
	int rc = store_site_contacts_set(c->store, site_id, c->o->contacts, n, &missing);
	if (rc == STORE_NOT_FOUND)
		log_errorx("--contact: contact '%s' was removed meanwhile", shown(missing));
	if (rc != 0) {
		store_rollback(c->store);
		return EXIT_FAIL;
	}
	return store_commit(c->store) == 0 ? 0 : EXIT_FAIL;
}

static bool contact_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || strcmp(name, "none") == 0)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* --kinds: alert kinds of the one table, comma separated, each once. */
static int kinds_check(const char *list)
{
	char buf[256], *save = NULL;
	size_t n = strlen(list);

	if (n == 0 || n >= sizeof(buf) || list[0] == ',' || list[n - 1] == ',' ||
	    strstr(list, ",,") != NULL)
		return usage_error("--kinds: expected alert kinds separated by commas, as down,up");
	memcpy(buf, list, n + 1);
	for (char *k = strtok_r(buf, ",", &save); k != NULL; k = strtok_r(NULL, ",", &save))
		if (sq_alert_kind_parse(k) < 0)
			return usage_error("--kinds: '%s' is not an alert kind (down, up, reminder, "
			    "degraded, recovered, cert, outage)", shown(k));
	return 0;
}

/* contact's verbs, arguments and options, checked before the database is opened. */
static int contact_options_check(const struct command *cmd, int nargs, char **args,
    const struct options *o)
{
	bool contact = strcmp(cmd->name, "contact") == 0;
	bool add = contact && strcmp(args[0], "add") == 0;
	char why[256];

	if (o->contacts_given && strcmp(cmd->name, "add") != 0 && strcmp(cmd->name, "edit") != 0)
		return usage_error("%s does not take --contact (add and edit do)", cmd->name);
	for (size_t i = 0; i < o->ncontacts; i++)
		if (!contact_name_ok(o->contacts[i]) &&
		    !(strcmp(o->contacts[i], "none") == 0 && o->ncontacts == 1 &&
		    strcmp(cmd->name, "edit") == 0))
			return usage_error("--contact: '%s' is not a contact name", shown(o->contacts[i]));
	if (o->contact_opts && !add)
		return usage_error("--secret-file, --every-site, --kinds, --insecure, --sender and --api "
		    "belong to contact add");
	if (!contact)
		return 0;
	if (strcmp(args[0], "list") == 0 ? nargs != 1 : add ? nargs != 4 :
	    (strcmp(args[0], "rm") == 0 || strcmp(args[0], "test") == 0) ? nargs != 2 : true) {
		if (strcmp(args[0], "add") != 0 && strcmp(args[0], "list") != 0 &&
		    strcmp(args[0], "rm") != 0 && strcmp(args[0], "test") != 0)
			return usage_error("contact: unknown verb '%s' (add, list, rm or test)",
			    shown(args[0]));
		return usage_error("usage: squirrelctl %s", cmd->synopsis);
	}
	if (nargs >= 2 && !contact_name_ok(args[1]))
		return usage_error("contact: '%s' is not a contact name: 1 to 64 letters, digits, "
		    "'.', '_' or '-' (and not 'none')", shown(args[1]));
	if (!add)
		return 0;
	if (strcmp(args[2], "email") != 0 && strcmp(args[2], "webhook") != 0 &&
	    strcmp(args[2], "ntfy") != 0 && strcmp(args[2], "chat") != 0 &&
	    strcmp(args[2], "sms") != 0)
		return usage_error("contact add: unknown kind '%s' (email, webhook, ntfy, chat or sms)",
		    shown(args[2]));
	if (strcmp(args[2], "email") == 0) {
		static char addr[256];
		int rc = owner_address(args[3], addr, sizeof(addr), "contact add: ");
		if (rc != 0)
			return rc;
		args[3] = addr;
	} else {
		char t[1024];
		if (strlen(args[3]) > 2048 || !channel_target_ok(args[2], args[3], o->insecure, why,
		    sizeof(why))) {
			channel_target_shown(args[3], t, sizeof(t));
			return usage_error("contact add: '%s' cannot be a %s contact: %s", t, args[2],
			    strlen(args[3]) > 2048 ? "longer than 2048 bytes" : why);
		}
	}
	if (o->kinds != NULL && kinds_check(o->kinds) != 0)
		return EXIT_USAGE;
	bool sms = strcmp(args[2], "sms") == 0;
	if (!sms && (o->sender != NULL || o->api != NULL))
		return usage_error("contact add: --sender and --api are for sms");
	if (sms && (o->sender == NULL || o->api == NULL || o->secret_file == NULL))
		return usage_error("contact add: an sms contact needs --api URL (the provider's messages "
		    "url), --sender NUMBER and --secret-file FILE (ACCOUNT:TOKEN)");
	if (sms && strlen(o->sender) > 16)
		return usage_error("contact add: --sender: a number (+15551234567) or up to 11 letters "
		    "and digits");
	if (sms && (strlen(o->api) > 2048 || !channel_url_ok(o->api, o->insecure, why, sizeof(why))))
		return usage_error("contact add: --api '%s': %s", shown(o->api),
		    strlen(o->api) > 2048 ? "longer than 2048 bytes" : why);
	if (o->secret_file != NULL) {
		unsigned mode;
		int shared;
		if (strcmp(args[2], "webhook") != 0 && strcmp(args[2], "ntfy") != 0 && !sms)
			return usage_error("contact add: --secret-file is for webhook (its signing key), "
			    "ntfy (its token) and sms (ACCOUNT:TOKEN)");
		if (o->secret_file[0] != '/')
			return usage_error("contact add: --secret-file '%s': give an absolute path (the "
			    "daemon reads it, from its own directory)", shown(o->secret_file));
		if ((shared = secret_file_shared(o->secret_file, &mode)) < 0)
			return usage_error("contact add: --secret-file %s: %s", shown(o->secret_file),
			    strerror(errno));
		if (shared)
			return usage_error("contact add: --secret-file %s has mode %04o: group or others "
			    "may read it (chmod 600 %s)", shown(o->secret_file), mode,
			    shown(o->secret_file));
		char err[256], *secret = secret_file_read(o->secret_file, "--secret-file", err,
		    sizeof(err));
		if (secret == NULL)
			return usage_error("contact add: %s", err);
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return 0;
}

static const struct table_col contact_cols[] = {
	{ .name = "name" }, { .name = "kind" }, { .name = "target" },
	{ .name = "secret_file", .head = "secret" }, { .name = "every_site", .head = "every" },
	{ .name = "kinds" }, { .name = "sites", .right = true },
};

static int print_contacts(struct ctx *c, const struct sq_contact_list *l, const char *only)
{
	struct table *t = table_new(contact_cols, sizeof(contact_cols) / sizeof(contact_cols[0]));
	char target[2048];

	if (t == NULL) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct sq_contact *k = &l->v[i];
		if (only != NULL && strcmp(k->name, only) != 0)
			continue;
		channel_target_shown(k->target, target, sizeof(target));
		table_row(t);
		table_str(t, k->name);
		table_str(t, k->kind);
		table_str(t, target);
		table_str(t, k->secret_file);
		table_bool(t, k->every_site, "yes", "no");
		table_str_text(t, k->kinds, k->kinds != NULL ? k->kinds : "all");
		table_int(t, k->sites);
	}
	return print_table(t, c->o->json);
}

/* contact test: a real message through the channel, and what the other side answered. */
static void test_done(void *arg, void *tag, const struct channel_result *r)
{
	(void)tag;
	*(struct channel_result *)arg = *r;
}

static int contact_test(struct ctx *c, const struct sq_contact *k)
{
	char why[256], target[2048];
	struct channel_result r = { .status = CHANNEL_TEMPFAIL, .reply = "no answer" };

	if (strcmp(k->kind, "email") == 0)
		return delivery_test(&c->cfg, k->target) == 0 ? 0 : EXIT_FAIL;
	channel_target_shown(k->target, target, sizeof(target));
	struct sq_alert_row row = {
		.id = 0, .site_id = 0, .url = "https://example.com/", .name = "squirrel test",
		.kind = SQ_ALERT_NONE, .err = SQ_OK, .detail = "a test message",
		.created_at = c->now, .since = c->now, .contact_id = k->id, .contact = *k,
	};
	struct channel_batch *b = channel_batch_new();
	if (b == NULL) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	if (channel_batch_add(b, &row, 1, c->now, NULL, why, sizeof(why)) < 0) {
		channel_batch_free(b);
		log_errorx("contact %s: nothing sent: %s", k->name, why);
		return EXIT_FAIL;
	}
	channel_batch_run(b, test_done, &r);
	channel_batch_free(b);
	if (r.status == CHANNEL_SENT) {
		printf("sent to contact %s (%s %s): %s\n", k->name, k->kind, target, r.reply);
		return 0;
	}
	fprintf(stderr, "test to contact %s (%s %s) failed: %s\n", k->name, k->kind, target,
	    r.reply);
	return EXIT_FAIL;
}

static int cmd_contact(struct ctx *c, char **args)
{
	struct sq_contact_list l;
	struct sq_contact k;
	int64_t id;
	int rc;

	if (strcmp(args[0], "add") == 0) {
		k = (struct sq_contact){
			.name = args[1], .kind = args[2], .target = args[3],
			.secret_file = (char *)c->o->secret_file, .kinds = (char *)c->o->kinds,
			.every_site = c->o->every_site, .insecure = c->o->insecure,
			.sender = (char *)c->o->sender, .api = (char *)c->o->api,
		};
		rc = store_contact_add(c->store, &k, &id);
		if (rc == STORE_TAKEN)
			log_errorx("there is a contact '%s' already (squirrelctl contact rm %s first)",
			    args[1], args[1]);
		if (rc != 0)
			return EXIT_FAIL;
	} else if (strcmp(args[0], "rm") == 0 || strcmp(args[0], "test") == 0) {
		rc = store_contact_get(c->store, args[1], &k);
		if (rc == STORE_NOT_FOUND)
			log_errorx("no contact '%s' (squirrelctl contact list shows them)", args[1]);
		if (rc != 0)
			return EXIT_FAIL;
		if (strcmp(args[0], "test") == 0) {
			rc = contact_test(c, &k);
			store_contact_free(&k);
			return rc;
		}
		store_contact_free(&k);
		if (store_contacts_list(c->store, &l) < 0)
			return EXIT_FAIL;
		rc = store_contact_remove(c->store, args[1]);
		if (rc == STORE_NOT_FOUND)
			log_errorx("contact '%s' was removed meanwhile", args[1]);
		if (rc == 0)
			rc = print_contacts(c, &l, args[1]);
		store_free_contacts(&l);
		return rc == 0 ? 0 : EXIT_FAIL;
	}
	if (store_contacts_list(c->store, &l) < 0)
		return EXIT_FAIL;
	rc = print_contacts(c, &l, strcmp(args[0], "add") == 0 ? args[1] : NULL);
	store_free_contacts(&l);
	return rc;
}

static const struct command commands[] = {
	{ "init", "init", 0, 0, 0, STORE_CREATE, cmd_init },
	{ "add", "add URL EMAIL [--name NAME] [--contact NAME]... [SETTINGS]", 2, 2, OPT_NAME | OPT_SETTINGS, 0,
	  cmd_add },
	{ "rm", "rm ID|URL", 1, 1, 0, 0, cmd_rm },
	{ "enable", "enable ID|URL", 1, 1, 0, 0, cmd_enable },
	{ "disable", "disable ID|URL", 1, 1, 0, 0, cmd_disable },
	{ "edit", "edit ID|URL [--name NAME] [--owner EMAIL] [--url URL] [--enable|--disable]\n"
	  "       [--contact NAME|none]... [SETTINGS]", 1, 1, OPT_EDITS, 0, cmd_edit },
	{ "list", "list", 0, 0, 0, STORE_READONLY, cmd_list },
	{ "status", "status [ID|URL]", 0, 1, 0, STORE_READONLY, cmd_status },
	{ "history", "history ID|URL [--since WHEN] [--limit N]", 1, 1, OPT_SINCE | OPT_LIMIT,
	  STORE_READONLY, cmd_history },
	{ "incidents", "incidents [ID|URL] [--since WHEN] [--limit N]", 0, 1, OPT_SINCE | OPT_LIMIT,
	  STORE_READONLY, cmd_incidents },
	{ "incident", "incident note ID TEXT", 3, 3, 0, 0, cmd_incident },
	{ "outbox", "outbox", 0, 0, 0, STORE_READONLY, cmd_outbox },
	{ "report", "report --html FILE [--public]", 0, 0, OPT_HTML | OPT_PUBLIC, STORE_READONLY,
	  cmd_report },
	{ "workers", "workers [--redis URL]", 0, 0, OPT_REDIS, NO_STORE, cmd_workers },
	{ "maintenance", "maintenance add (--site ID|URL | --owner EMAIL | --all)\n"
	  "       (--from WHEN --until WHEN | --for DURATION | --every DAY HH:MM --for DURATION)\n"
	  "       [--reason TEXT]\n"
	  "  maintenance list\n"
	  "  maintenance rm ID", 1, 2, OPT_WINDOW, 0, cmd_maintenance },
	{ "contact", "contact add NAME KIND TARGET [--secret-file FILE] [--every-site]\n"
	  "       [--kinds LIST] [--insecure] [--sender NUMBER --api URL]\n"
	  "  contact list\n"
	  "  contact rm NAME\n"
	  "  contact test NAME", 1, 4, 0, 0, cmd_contact },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: squirrelctl [--config FILE] [--db FILE] COMMAND [ARGS] [--json]\n"
	    "       squirrelctl --help | --version\n\ncommands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].synopsis);
	fputs("\n"
	    "  --config FILE   configuration file (default " SQ_DEFAULT_CONFIG " if it exists)\n"
	    "  --db FILE       SQLite database (default from the configuration)\n"
	    "  --json          one JSON array of objects instead of a table\n"
	    "  --redis URL     Redis of the scale-out (default from [redis] url)\n"
	    "  --help          this text\n"
	    "  --version       the version\n"
	    "SETTINGS, each a column of the site (see squirrelctl(1)):\n"
	    "  [--interval S] [--timeout MS] [--fail-threshold N] [--recover-threshold N]\n"
	    "  [--retry-interval S] [--remind-every S] [--method HEAD|GET]\n"
	    "  [--expect-status LIST] [--keyword TEXT] [--keyword-mode present|absent]\n"
	    "  [--keyword-nocase 0|1] [--slow-ms MS] [--alert-degraded 0|1] [--depends-on ID]\n"
	    "  [--cert-warn-days DAYS] [--group NAME] [--public yes|no]\n"
	    "edit: a setting given as 'default' goes back to the configuration's, --keyword ''\n"
	    "removes the keyword, --name '' the name; --remind-every 0: no reminders for this\n"
	    "site, --slow-ms 0: never slow, --depends-on none: no parent. LIST: status codes\n"
	    "and ranges, 200-299,301,401. DAYS: days before a certificate ends that a mail\n"
	    "goes, 30,14,7,1 (1 to 365). --group: the site's section of the status page\n"
	    "(1 to 100 bytes; edit: '' or default, none); --public yes: on the public page\n"
	    "(default no). report --public (no value) writes the public page.\n"
	    "incident note: TEXT of 1 to 1000 bytes, newlines and tabs the only control\n"
	    "characters; ID as squirrelctl incidents shows it.\n"
	    "WHEN: unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC), or 90m, 24h, 7d, 2w ago.\n"
	    "DURATION: 90m, 2h, 1d (a weekly window at most 7d); DAY: mon .. sun; HH:MM in\n"
	    "[alerts] timezone (default UTC).\n"
	    "contact: KIND email, webhook, ntfy, chat or sms; TARGET an address, an http(s)\n"
	    "url (http only to loopback unless --insecure), or for sms a number\n"
	    "(+15551234567), with --sender and --api (the provider's url); LIST of alert\n"
	    "kinds, down,up (default all); --secret-file: a file only its owner may read,\n"
	    "the webhook's signing key, ntfy's token or sms's ACCOUNT:TOKEN. --contact on\n"
	    "edit replaces the site's contacts (none: no contact but its owner).\n"
	    "Exit status: 0 done, 1 failed, 2 usage error.\n", f);
}

/*
 * The command's name before getopt_long reorders argv: the first word that
 * is no option nor an option's value (a long option as getopt_long takes
 * it: whole, or a prefix of one only), or NULL.
 */
static const char *command_name(int argc, char **argv, const struct option *longopts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' || a[1] == '\0')
			return a;
		if (a[1] != '-' || strchr(a, '=') != NULL)
			continue;
		const struct option *hit = NULL;
		size_t len = strlen(a + 2), hits = 0;
		for (const struct option *lo = longopts; lo->name != NULL; lo++) {
			if (strncmp(lo->name, a + 2, len) != 0)
				continue;
			if (strlen(lo->name) == len) {
				hit = lo;
				hits = 1;
				break;
			}
			hit = lo;
			hits++;
		}
		if (hits == 1 && hit->has_arg == required_argument)
			i++;      /* its value */
	}
	return NULL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { L_CONFIG = 256, L_DB, L_JSON, L_NAME, L_INTERVAL, L_TIMEOUT, L_SINCE, L_LIMIT,
		L_HTML, L_REDIS, L_HELP, L_VERSION, L_OWNER, L_URL, L_ENABLE, L_DISABLE, L_FAIL,
		L_RECOVER, L_RETRY, L_REMIND, L_METHOD, L_EXPECT_STATUS, L_KEYWORD, L_KEYWORD_MODE,
		L_KEYWORD_NOCASE, L_SLOW, L_ALERT_DEGRADED, L_DEPENDS, L_CERT_WARN_DAYS, L_SITE, L_ALL,
		L_FROM, L_UNTIL, L_FOR, L_EVERY, L_REASON, L_SECRET_FILE, L_EVERY_SITE, L_KINDS,
		L_INSECURE, L_CONTACT, L_SENDER, L_API, L_GROUP, L_PUBLIC };
	static struct option longopts[] = {
		{ "config", required_argument, NULL, L_CONFIG },
		{ "db", required_argument, NULL, L_DB },
		{ "json", no_argument, NULL, L_JSON },
		{ "name", required_argument, NULL, L_NAME },
		{ "interval", required_argument, NULL, L_INTERVAL },
		{ "timeout", required_argument, NULL, L_TIMEOUT },
		{ "since", required_argument, NULL, L_SINCE },
		{ "limit", required_argument, NULL, L_LIMIT },
		{ "html", required_argument, NULL, L_HTML },
		{ "redis", required_argument, NULL, L_REDIS },
		{ "help", no_argument, NULL, L_HELP },
		{ "version", no_argument, NULL, L_VERSION },
		{ "owner", required_argument, NULL, L_OWNER },
		{ "url", required_argument, NULL, L_URL },
		{ "enable", no_argument, NULL, L_ENABLE },
		{ "disable", no_argument, NULL, L_DISABLE },
		{ "fail-threshold", required_argument, NULL, L_FAIL },
		{ "recover-threshold", required_argument, NULL, L_RECOVER },
		{ "retry-interval", required_argument, NULL, L_RETRY },
		{ "remind-every", required_argument, NULL, L_REMIND },
		{ "method", required_argument, NULL, L_METHOD },
		{ "expect-status", required_argument, NULL, L_EXPECT_STATUS },
		{ "keyword", required_argument, NULL, L_KEYWORD },
		{ "keyword-mode", required_argument, NULL, L_KEYWORD_MODE },
		{ "keyword-nocase", required_argument, NULL, L_KEYWORD_NOCASE },
		{ "slow-ms", required_argument, NULL, L_SLOW },
		{ "alert-degraded", required_argument, NULL, L_ALERT_DEGRADED },
		{ "depends-on", required_argument, NULL, L_DEPENDS },
		{ "cert-warn-days", required_argument, NULL, L_CERT_WARN_DAYS },
		{ "site", required_argument, NULL, L_SITE },
		{ "all", no_argument, NULL, L_ALL },
		{ "from", required_argument, NULL, L_FROM },
		{ "until", required_argument, NULL, L_UNTIL },
		{ "for", required_argument, NULL, L_FOR },
		{ "every", required_argument, NULL, L_EVERY },
		{ "reason", required_argument, NULL, L_REASON },
		{ "secret-file", required_argument, NULL, L_SECRET_FILE },
		{ "every-site", no_argument, NULL, L_EVERY_SITE },
		{ "kinds", required_argument, NULL, L_KINDS },
		{ "insecure", no_argument, NULL, L_INSECURE },
		{ "contact", required_argument, NULL, L_CONTACT },
		{ "sender", required_argument, NULL, L_SENDER },
		{ "api", required_argument, NULL, L_API },
		{ "group", required_argument, NULL, L_GROUP },
		{ "public", required_argument, NULL, L_PUBLIC },   /* see below */
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	/* --public takes yes or no on add and edit, and is a flag of report */
	const char *name = command_name(argc, argv, longopts);
	for (struct option *lo = longopts; lo->name != NULL; lo++)
		if (lo->val == L_PUBLIC)
			lo->has_arg = name != NULL && (strcmp(name, "add") == 0 ||
			    strcmp(name, "edit") == 0) ? required_argument : no_argument;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case L_CONFIG: o->config = optarg; break;
		case L_DB: o->db = optarg; break;
		case L_JSON: o->json = true; break;
		case L_NAME: o->name = optarg; o->given |= OPT_NAME; break;
		case L_INTERVAL: o->set[SQ_SET_INTERVAL] = optarg; o->given |= OPT_INTERVAL; break;
		case L_TIMEOUT: o->set[SQ_SET_TIMEOUT] = optarg; o->given |= OPT_TIMEOUT; break;
		case L_SINCE: o->since = optarg; o->given |= OPT_SINCE; break;
		case L_LIMIT: o->limit = optarg; o->given |= OPT_LIMIT; break;
		case L_HTML: o->html = optarg; o->given |= OPT_HTML; break;
		case L_REDIS: o->redis = optarg; o->given |= OPT_REDIS; break;
		case L_OWNER: o->owner = optarg; o->given |= OPT_OWNER; break;
		case L_URL: o->url = optarg; o->given |= OPT_URL; break;
		case L_ENABLE: o->given |= OPT_ENABLE; break;
		case L_DISABLE: o->given |= OPT_DISABLE; break;
		case L_FAIL: o->set[SQ_SET_FAIL] = optarg; o->given |= OPT_FAIL; break;
		case L_RECOVER: o->set[SQ_SET_RECOVER] = optarg; o->given |= OPT_RECOVER; break;
		case L_RETRY: o->set[SQ_SET_RETRY] = optarg; o->given |= OPT_RETRY; break;
		case L_REMIND: o->set[SQ_SET_REMIND] = optarg; o->given |= OPT_REMIND; break;
		case L_METHOD: o->text[SQ_TEXT_METHOD] = optarg; o->given |= OPT_METHOD; break;
		case L_EXPECT_STATUS:
			o->text[SQ_TEXT_EXPECT_STATUS] = optarg;
			o->given |= OPT_EXPECT_STATUS;
			break;
		case L_KEYWORD: o->text[SQ_TEXT_KEYWORD] = optarg; o->given |= OPT_KEYWORD; break;
		case L_KEYWORD_MODE:
			o->text[SQ_TEXT_KEYWORD_MODE] = optarg;
			o->given |= OPT_KEYWORD_MODE;
			break;
		case L_KEYWORD_NOCASE: o->nocase = optarg; o->given |= OPT_KEYWORD_NOCASE; break;
		case L_SLOW: o->set[SQ_SET_SLOW] = optarg; o->given |= OPT_SLOW; break;
		case L_ALERT_DEGRADED:
			o->set[SQ_SET_ALERT_DEGRADED] = optarg;
			o->given |= OPT_ALERT_DEGRADED;
			break;
		case L_DEPENDS: o->set[SQ_SET_DEPENDS] = optarg; o->given |= OPT_DEPENDS; break;
		case L_CERT_WARN_DAYS:
			o->text[SQ_TEXT_CERT_WARN_DAYS] = optarg;
			o->given |= OPT_CERT_WARN_DAYS;
			break;
		case L_SITE: o->site = optarg; o->given |= OPT_SITE; break;
		case L_ALL: o->given |= OPT_ALL; break;
		case L_FROM: o->from = optarg; o->given |= OPT_FROM; break;
		case L_UNTIL: o->until = optarg; o->given |= OPT_UNTIL; break;
		case L_FOR: o->for_ = optarg; o->given |= OPT_FOR; break;
		case L_EVERY: o->every = optarg; o->given |= OPT_EVERY; break;
		case L_REASON: o->reason = optarg; o->given |= OPT_REASON; break;
		case L_SECRET_FILE: o->secret_file = optarg; o->contact_opts = true; break;
		case L_EVERY_SITE: o->every_site = o->contact_opts = true; break;
		case L_KINDS: o->kinds = optarg; o->contact_opts = true; break;
		case L_INSECURE: o->insecure = o->contact_opts = true; break;
		case L_SENDER: o->sender = optarg; o->contact_opts = true; break;
		case L_API: o->api = optarg; o->contact_opts = true; break;
		case L_GROUP: o->text[SQ_TEXT_GROUP] = optarg; o->given |= OPT_GROUP; break;
		case L_PUBLIC:
			if (optarg != NULL)
				o->set[SQ_SET_PUBLIC] = optarg;
			else
				o->public_page = true;
			o->given |= OPT_PUBLIC;
			break;
		case L_CONTACT:
			if (o->ncontacts == sizeof(o->contacts) / sizeof(o->contacts[0]))
				return usage_error("--contact: at most %zu contacts",
				    sizeof(o->contacts) / sizeof(o->contacts[0]));
			o->contacts[o->ncontacts++] = optarg;
			o->contacts_given = true;
			break;
		case L_HELP:
			usage(stdout);
			exit(0);
		case L_VERSION:
			printf("squirrelctl %s\n", SQ_VERSION);
			exit(0);
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

/*
 * Everything that can be refused without the database is refused here, so
 * a bad command writes nothing: the arguments' count, the options the
 * command takes, URLs, addresses, numbers and times.
 */
/*
 * An owner's address as it is stored and sent, an internationalised domain
 * in its ASCII form (util.h), into buf. 0, or the usage error's exit
 * status, the address shown with its control characters made harmless.
 */
static int owner_address(const char *addr, char *buf, size_t buflen, const char *what)
{
	char why[160];
	size_t w;

	if (email_to_ascii(addr, buf, buflen, why, sizeof(why)))
		return 0;
	char *clean = text_clean(addr, &w);
	int rc = usage_error("%s'%s' is not an owner address: %s", what,
	    clean != NULL ? clean : "", why);
	free(clean);
	return rc;
}

static int validate(const struct command *cmd, int nargs, char **args, struct options *o)
{
	char why[256];
	long v;
	int64_t t;

	if (nargs < cmd->min_args || nargs > cmd->max_args)
		return usage_error("usage: squirrelctl %s", cmd->synopsis);
	for (size_t i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
		if ((o->given & (1ULL << i)) && !(cmd->options & (1ULL << i)))
			return usage_error("%s does not take %s (usage: squirrelctl %s)", cmd->name,
			    opt_names[i], cmd->synopsis);
	bool edit = strcmp(cmd->name, "edit") == 0;
	int crc = contact_options_check(cmd, nargs, args, o);
	if (crc != 0)
		return crc;
	if (edit && !(o->given & OPT_EDITS) && !o->contacts_given)
		return usage_error("edit: nothing to change (usage: squirrelctl %s)", cmd->synopsis);
	if ((o->given & OPT_ENABLE) && (o->given & OPT_DISABLE))
		return usage_error("edit: --enable or --disable, not both");
	if (strcmp(cmd->name, "add") == 0) {
		lower_scheme(args[0]);
		if (!url_valid(args[0], why, sizeof(why)))
			return usage_error("'%s' is not a URL squirrel can check: %s", shown(args[0]),
			    why);
		static char owner[256];
		int rc = owner_address(args[1], owner, sizeof(owner), "");
		if (rc != 0)
			return rc;
		args[1] = owner;
	}
	if (o->url != NULL) {
		lower_scheme(o->url);
		if (!url_valid(o->url, why, sizeof(why)))
			return usage_error("--url '%s' is not a URL squirrel can check: %s",
			    shown(o->url), why);
	}
	if (o->owner != NULL) {
		static char owner[256];
		int rc = owner_address(o->owner, owner, sizeof(owner), "--owner ");
		if (rc != 0)
			return rc;
		o->owner = owner;
	}
	/* edit takes "" for no name */
	if (o->name != NULL && !(edit && o->name[0] == '\0')) {
		size_t w;
		char *clean = text_clean(o->name, &w);
		bool same = clean != NULL && strcmp(clean, o->name) == 0;
		free(clean);
		if (o->name[0] == '\0' || strlen(o->name) > 200 || !same)
			return usage_error("--name: expected 1 to 200 bytes of UTF-8 text "
			    "without control characters%s", edit ? " ('' removes the name)" : "");
	}
	for (int i = 0; i < SQ_SET_MAX; i++)
		if (o->set[i] != NULL && parse_setting(i, o->set[i], edit, &t) < 0)
			return EXIT_USAGE;
	for (int i = 0; i < SQ_TEXT_MAX; i++) {
		int rc = o->text[i] != NULL ? parse_text_setting(i, &o->text[i], edit) : 0;
		if (rc != 0)
			return rc;
	}
	int nocase;
	if (o->nocase != NULL && parse_nocase(o->nocase, edit, &nocase) != 0)
		return EXIT_USAGE;
	if (o->limit != NULL && parse_number("--limit", o->limit, 0, 1000000000, &v) < 0)
		return EXIT_USAGE;
	if (o->since != NULL && when_parse(o->since, (int64_t)time(NULL), &t, why, sizeof(why)) < 0)
		return usage_error("--since: %s", why);
	if (strcmp(cmd->name, "maintenance") == 0)
		return window_options_check(o, nargs, args);
	if (strcmp(cmd->name, "incident") == 0)
		return incident_check(cmd, args);
	if (strcmp(cmd->name, "report") == 0 && o->html == NULL)
		return usage_error("usage: squirrelctl %s", cmd->synopsis);
	return 0;
}

/* As squirreld: --config must exist; else the default file if present; --db over it. */
static int load_config(const struct options *o, struct sq_config *cfg)
{
	char err[512];
	const char *path = config_default_path(o->config);

	if (config_defaults(cfg) < 0) {
		log_errorx("out of memory");
		return EXIT_FAIL;
	}
	if (path != NULL && config_load(cfg, path, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		return EXIT_FAIL;
	}
	if (o->db != NULL && config_set(cfg, "squirreld", "database", o->db, err, sizeof(err)) < 0)
		return usage_error("--db: %s", err);
	if (o->redis != NULL && config_set(cfg, "redis", "url", o->redis, err, sizeof(err)) < 0)
		return usage_error("--redis: %s", err);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct ctx c = { .o = &o };
	const struct command *cmd = NULL;
	struct stat sb;
	int rc;

	log_init("squirrelctl");
	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return usage_error("unknown command '%s'", argv[optind]);
	char **args = argv + optind + 1;
	if ((rc = validate(cmd, argc - optind - 1, args, &o)) != 0)
		return rc;
	if ((rc = load_config(&o, &c.cfg)) != 0)
		goto out;
	log_set_level((enum log_level)c.cfg.log_level);
	window_zone_set(c.cfg.timezone);      /* weekly windows' local times */
	if (cmd->open_flags == NO_STORE) {
		rc = cmd->run(&c, args);
		goto out;
	}
	if (!(cmd->open_flags & STORE_CREATE) && stat(c.cfg.database, &sb) < 0 && errno == ENOENT) {
		log_errorx("%s: no such database; create it with 'squirrelctl init' "
		    "(or start squirreld)", c.cfg.database);
		rc = EXIT_FAIL;
		goto out;
	}
	int flags = cmd->open_flags;
	if ((cmd->run == cmd_maintenance || cmd->run == cmd_contact) &&
	    (strcmp(args[0], "list") == 0 || strcmp(args[0], "test") == 0))
		flags = STORE_READONLY;       /* list and test only read */
	if ((c.store = store_open(c.cfg.database, flags)) == NULL) {
		rc = EXIT_FAIL;
		goto out;
	}
	c.now = (int64_t)time(NULL);
	rc = cmd->run(&c, args);
	store_close(c.store);
out:
	config_free(&c.cfg);
	return rc;
}

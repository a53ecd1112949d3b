/*
 * site.h - a site: its row as a person wrote it, the settings in force
 * once [check] fills in what the row leaves out, and whether the row can
 * be checked at all.
 *
 * The type lives here, below the store that loads it and the scheduler,
 * record and the programs that use it, so none of them needs the other's
 * header to speak of a site. What a site's settings are is decided once,
 * by site_settings(); the check sent to a backend is built from them, by
 * site_check().
 */
#ifndef SQUIRREL_CORE_SITE_H
#define SQUIRREL_CORE_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/cert.h"
#include "squirrel/core/check.h"
#include "squirrel/core/config.h"
#include "squirrel/core/state.h"

/* A row of sites, as stored: values may be anything a person typed. */
struct sq_site {
	int64_t id;
	char *url;
	char *owner_email;
	char *name;          /* NULL when not set */
	int interval_s;      /* 0: the configured default */
	int timeout_ms;      /* 0: the configured default */
	int fail_threshold;  /* 0: the configured default */
	int recover_threshold;
	int retry_interval_s;
	int remind_every_s;  /* 0: the configured default; -1: none for this site */
	int state;           /* enum sq_state, as last recorded */
	/* what the answer must be; 0 and NULL: the default (the column NULL) */
	int method;          /* enum sq_method */
	char *expect_status; /* "200-299,301"; NULL: 200-399 */
	char *keyword;       /* NULL: none */
	int keyword_mode;    /* enum sq_keyword_mode */
	int keyword_nocase;  /* 0 or 1 */
	int slow_ms;         /* 0: the configured default; -1: never slow for this site */
	bool quiet_degraded; /* alert_degraded = 0: no DEGRADED/RECOVERED mail */
	int64_t depends_on;  /* the site it depends on; 0: none (or ignored: a cycle) */
	char *cert_warn_days; /* "30,14,7,1"; NULL: [check] cert_warn_days */
};

struct sq_site_list {
	struct sq_site *v;
	size_t n;
	size_t skipped;      /* rows refused while loading (logged) */
};

/* Frees one row's strings (the struct itself is the caller's). */
void site_free(struct sq_site *site);
/* Frees every row and the array; l is left empty. */
void site_list_free(struct sq_site_list *l);

/*
 * A site's settings in force: the state machine's (thresholds, intervals,
 * reminders) and the check's (timeouts, redirects).
 */
struct sq_settings {
	struct sq_thresholds t;
	int timeout_ms;
	int connect_timeout_ms;
	int max_redirects;
	struct sq_expect expect;   /* method, statuses, keyword, [check] body_max */
	struct sq_cert_days cert_days;  /* when a certificate's end is mailed */
};

/*
 * The one rule: each of the site's columns when set, else its [check]
 * key; remind_every_s -1 means no reminders for this site (0 in force),
 * slow_ms -1 never slow (0 in force).
 * connect_timeout, max_redirects and body_max have no column: [check]
 * alone. A keyword makes the method GET. A row sites_skip_reason() refuses
 * gets the default statuses and no keyword (it is never checked).
 */
void site_settings(const struct sq_site *s, const struct sq_config *cfg, struct sq_settings *out);

/* The slow_ms in force alone (0: never slow), for the hot path of a result. */
int site_slow_ms(const struct sq_site *s, const struct sq_config *cfg);

/*
 * The check of s under its settings in force. tag is the caller's own
 * reference, echoed in the result; the url points into s.
 */
struct sq_check site_check(const struct sq_site *s, const struct sq_config *cfg, uint64_t tag);

/* Room for any reason sites_skip_reason() gives. */
#define SITES_REASON_MAX 200

/*
 * Whether the daemon skips the row s, a url without a host or with a
 * space, an owner address that is not one plain address, a timeout_ms
 * over SQ_TIMEOUT_MAX_MS, an expect_status that is not a list of codes
 * and ranges, a keyword empty or over SQ_KEYWORD_MAX bytes, a
 * cert_warn_days that is not a list of days from 1 to 365: true with the
 * reason in why, worded as the daemon's log line words it after
 * "skipped: " ("bad url: url contains a space at byte 11", "bad
 * owner_email: ..."). The one rule: sites_filter() and squirrelctl use it.
 */
bool sites_skip_reason(const struct sq_site *s, char *why, size_t whylen);

/*
 * Removes from l the rows sites_skip_reason() refuses, each with one log
 * line "site ID: skipped: REASON". Returns how many were removed.
 */
size_t sites_filter(struct sq_site_list *l);

#endif

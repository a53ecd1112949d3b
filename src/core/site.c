/*
 * site.c - a site's settings in force, and the rows that cannot be
 * checked.
 *
 * A row leaves a setting out (0) to take the configured one: the merge is
 * here alone, so the scheduler's cadence, the state machine's thresholds
 * and the check a backend runs can never disagree about a site.
 *
 * Rows that slipped past the database's constraints (made with them off,
 * or by hand in an older database) are skipped with a line that names
 * them, never checked and never mailed about. The reason is worded once,
 * here: squirrelctl, the status page and the metrics show the same words
 * the daemon logs (store_site_infos() asks sites_skip_reason()).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/core/site.h"

void site_free(struct sq_site *site)
{
	free(site->url);
	free(site->owner_email);
	free(site->name);
	free(site->expect_status);
	free(site->keyword);
	free(site->cert_warn_days);
}

void site_list_free(struct sq_site_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		site_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A column left out (0) takes the configured value. */
static int or_default(int column, int configured)
{
	return column != 0 ? column : configured;
}

/* What the answer must be: the row's columns, [check] body_max. */
static void site_expect(const struct sq_site *s, const struct sq_config *cfg, struct sq_expect *e)
{
	char why[SITES_REASON_MAX];
	size_t klen = s->keyword != NULL ? strlen(s->keyword) : 0;

	memset(e, 0, sizeof(*e));
	e->method = s->method == SQ_METHOD_GET ? SQ_METHOD_GET : SQ_METHOD_HEAD;
	e->body_max = cfg->body_max;
	if (s->expect_status != NULL && sq_expect_status_parse(s->expect_status, e, why,
	    sizeof(why)) < 0)
		e->nstatus = 0;
	if (klen > 0 && klen <= SQ_KEYWORD_MAX) {
		memcpy(e->keyword, s->keyword, klen);
		e->keyword_len = (uint32_t)klen;
		e->keyword_mode = s->keyword_mode == SQ_KEYWORD_ABSENT ? SQ_KEYWORD_ABSENT :
		    SQ_KEYWORD_PRESENT;
		e->keyword_nocase = s->keyword_nocase != 0;
		e->method = SQ_METHOD_GET;
	}
}

/*
 * When a certificate's end is mailed: the row's list, else [check]'s, else
 * the default (a row sites_skip_reason() refuses is never checked).
 */
static void site_cert_days(const struct sq_site *s, const struct sq_config *cfg,
    struct sq_cert_days *d)
{
	char why[SITES_REASON_MAX];

	if (s->cert_warn_days != NULL && sq_cert_days_parse(s->cert_warn_days, d, why,
	    sizeof(why)) == 0)
		return;
	if (cfg->cert_warn_days != NULL && sq_cert_days_parse(cfg->cert_warn_days, d, why,
	    sizeof(why)) == 0)
		return;
	sq_cert_days_parse(SQ_CERT_DAYS_DEFAULT, d, why, sizeof(why));
}

int site_slow_ms(const struct sq_site *s, const struct sq_config *cfg)
{
	return s->slow_ms < 0 ? 0 : or_default(s->slow_ms, cfg->slow_ms);
}

void site_settings(const struct sq_site *s, const struct sq_config *cfg, struct sq_settings *out)
{
	out->t.interval_s = or_default(s->interval_s, cfg->interval_s);
	out->t.retry_interval_s = or_default(s->retry_interval_s, cfg->retry_interval_s);
	out->t.fail_threshold = or_default(s->fail_threshold, cfg->fail_threshold);
	out->t.recover_threshold = or_default(s->recover_threshold, cfg->recover_threshold);
	out->t.remind_every_s = s->remind_every_s < 0 ? 0 :
	    or_default(s->remind_every_s, cfg->remind_every_s);
	out->t.slow_ms = site_slow_ms(s, cfg);
	out->t.quiet_degraded = s->quiet_degraded;
	out->timeout_ms = or_default(s->timeout_ms, cfg->timeout_ms);
	out->connect_timeout_ms = cfg->connect_timeout_ms;
	out->max_redirects = cfg->max_redirects;
	site_expect(s, cfg, &out->expect);
	site_cert_days(s, cfg, &out->cert_days);
}

struct sq_check site_check(const struct sq_site *s, const struct sq_config *cfg, uint64_t tag)
{
	struct sq_settings set;

	site_settings(s, cfg, &set);
	return (struct sq_check){
		.site_id = s->id,
		.tag = tag,
		.url = s->url,
		.timeout_ms = set.timeout_ms,
		.connect_timeout_ms = set.connect_timeout_ms,
		.max_redirects = set.max_redirects,
		.expect = set.expect,
	};
}

bool sites_skip_reason(const struct sq_site *s, char *why, size_t whylen)
{
	char detail[160];

	if (!url_valid(s->url, detail, sizeof(detail))) {
		snprintf(why, whylen, "bad url: %s", detail);
		return true;
	}
	/* an internationalised domain is mailed in its ASCII form (sites_filter) */
	char ascii[256];
	if (!email_to_ascii(s->owner_email, ascii, sizeof(ascii), detail, sizeof(detail))) {
		snprintf(why, whylen, "bad owner_email: %s", detail);
		return true;
	}
	/* a row from before schema version 8, or made with its trigger dropped */
	if (s->timeout_ms > SQ_TIMEOUT_MAX_MS) {
		snprintf(why, whylen, "timeout_ms %d is over the maximum of %d", s->timeout_ms,
		    SQ_TIMEOUT_MAX_MS);
		return true;
	}
	struct sq_expect e;
	if (s->expect_status != NULL &&
	    sq_expect_status_parse(s->expect_status, &e, detail, sizeof(detail)) < 0) {
		snprintf(why, whylen, "bad expect_status: %s", detail);
		return true;
	}
	if (s->keyword != NULL && (s->keyword[0] == '\0' || strlen(s->keyword) > SQ_KEYWORD_MAX)) {
		snprintf(why, whylen, "keyword is empty or over %d bytes", SQ_KEYWORD_MAX);
		return true;
	}
	struct sq_cert_days d;
	if (s->cert_warn_days != NULL &&
	    sq_cert_days_parse(s->cert_warn_days, &d, detail, sizeof(detail)) < 0) {
		snprintf(why, whylen, "bad cert_warn_days: %s", detail);
		return true;
	}
	return false;
}

/*
 * The owner's address as mail needs it: a domain written in Unicode (by
 * hand; squirrelctl stores the ASCII form) becomes its ASCII form, since
 * the mail library has no SMTPUTF8. false only when out of memory.
 */
static bool owner_to_ascii(struct sq_site *s)
{
	char ascii[256], why[SITES_REASON_MAX];

	if (email_valid(s->owner_email, why, sizeof(why)) ||
	    !email_to_ascii(s->owner_email, ascii, sizeof(ascii), why, sizeof(why)))
		return true;
	char *copy = strdup(ascii);
	if (copy == NULL) {
		log_errorx("site %" PRId64 ": skipped: out of memory", s->id);
		return false;
	}
	free(s->owner_email);
	s->owner_email = copy;
	return true;
}

static bool site_usable(struct sq_site *s)
{
	char why[SITES_REASON_MAX];

	if (sites_skip_reason(s, why, sizeof(why))) {
		log_warnx("site %" PRId64 ": skipped: %s", s->id, why);
		return false;
	}
	return owner_to_ascii(s);
}

size_t sites_filter(struct sq_site_list *l)
{
	size_t kept = 0, skipped = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (site_usable(&l->v[i])) {
			l->v[kept++] = l->v[i];
		} else {
			site_free(&l->v[i]);
			skipped++;
		}
	}
	l->n = kept;
	return skipped;
}

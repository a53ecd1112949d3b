/*
 * sites.c - rows that slipped past the database's constraints (made with
 * them off, or by hand in an older database) are skipped with a line that
 * names them, never checked and never mailed about. The reason is worded
 * once, here: squirrelctl, the status page and the metrics show the same
 * words the daemon logs (store_site_infos() asks sites_skip_reason()).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "squirrel/log.h"
#include "squirrel/probe.h"
#include "squirrel/sites.h"
#include "squirrel/util.h"

bool sites_skip_reason(const struct sq_site *s, char *why, size_t whylen)
{
	char detail[160];

	if (!probe_url_valid(s->url, detail, sizeof(detail))) {
		snprintf(why, whylen, "bad url: %s", detail);
		return true;
	}
	if (!email_valid(s->owner_email, detail, sizeof(detail))) {
		snprintf(why, whylen, "bad owner_email: %s", detail);
		return true;
	}
	/* a row from before schema version 8, or made with its trigger dropped */
	if (s->timeout_ms > SQ_TIMEOUT_MAX_MS) {
		snprintf(why, whylen, "timeout_ms %d is over the maximum of %d", s->timeout_ms,
		    SQ_TIMEOUT_MAX_MS);
		return true;
	}
	return false;
}

static bool site_usable(const struct sq_site *s)
{
	char why[SITES_REASON_MAX];

	if (sites_skip_reason(s, why, sizeof(why))) {
		log_warnx("site %" PRId64 ": skipped: %s", s->id, why);
		return false;
	}
	return true;
}

size_t sites_filter(struct sq_site_list *l)
{
	size_t kept = 0, skipped = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (site_usable(&l->v[i])) {
			l->v[kept++] = l->v[i];
		} else {
			store_free_site(&l->v[i]);
			skipped++;
		}
	}
	l->n = kept;
	return skipped;
}

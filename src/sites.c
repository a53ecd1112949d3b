/*
 * sites.c - rows that slipped past the database's constraints (made with
 * them off, or by hand in an older database) are skipped with a line that
 * names them, never checked and never mailed about.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "squirrel/log.h"
#include "squirrel/probe.h"
#include "squirrel/sites.h"
#include "squirrel/util.h"

static bool site_usable(const struct sq_site *s)
{
	char why[160];

	if (!probe_url_valid(s->url, why, sizeof(why))) {
		log_warnx("site %" PRId64 ": skipped: bad url: %s", s->id, why);
		return false;
	}
	if (!email_valid(s->owner_email, why, sizeof(why))) {
		log_warnx("site %" PRId64 ": skipped: bad owner_email: %s", s->id, why);
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

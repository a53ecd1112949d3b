/*
 * pass.c - one pass over every enabled site.
 *
 * Rows that cannot be checked (a url with no host or with spaces, an owner
 * address that is not one address) are skipped with one log line naming the
 * row. Results are written in batches, one transaction each.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/pass.h"
#include "squirrel/alert/record.h"
#include "squirrel/core/site.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/base/util.h"
#include "squirrel/store/sites.h"

#define PASS_BATCH 512

struct pass {
	struct store *store;
	const struct sq_config *cfg;
	struct record_locations locs;  /* [redis] locations, read once for the pass */
	struct sq_site_list sites;
	struct sq_result *results;   /* by site index */
	bool *done;
	struct record_entry batch[PASS_BATCH];
	size_t nbatch;
	size_t delivered;
	size_t alerts;
	int rc;
};

static void pass_flush(struct pass *p)
{
	if (p->nbatch == 0)
		return;
	struct record_stats stats;
	if (record_batch(p->store, p->cfg, &p->locs, p->batch, p->nbatch, &stats) < 0) {
		p->rc = -1;
	} else {
		p->alerts += stats.alerts;
		/* as recorded: a failure behind a parent down prints `parent down` */
		for (size_t i = 0; i < p->nbatch; i++)
			p->results[p->batch[i].result.tag] = p->batch[i].result;
	}
	p->nbatch = 0;
}

static void pass_collect(const struct sq_result *r, void *arg)
{
	struct pass *p = arg;

	if (r->tag >= p->sites.n || p->done[r->tag]) {
		log_warnx("backend returned an unexpected result (site %" PRId64 "); ignored",
		    r->site_id);
		return;
	}
	p->results[r->tag] = *r;
	p->done[r->tag] = true;
	p->delivered++;
	p->batch[p->nbatch++] = (struct record_entry){ .site = &p->sites.v[r->tag], .result = *r };
	if (p->nbatch == PASS_BATCH)
		pass_flush(p);
}

static void pass_print(struct pass *p, FILE *out, struct pass_summary *sum)
{
	char err[160], shown[URL_SHOWN_MAX];

	for (size_t i = 0; i < p->sites.n; i++) {
		if (!p->done[i])
			continue;
		const struct sq_result *r = &p->results[i];
		bool ok = sq_result_ok(r);
		/* redis: too few locations answered, neither up nor down */
		bool unknown = r->err == SQ_ERR_NO_QUORUM;
		/* up, but slower than the site's slow_ms: slow (counted as up) */
		struct sq_settings set;
		site_settings(&p->sites.v[i], p->cfg, &set);
		bool slow = state_verdict(ok, r->ms, set.t.slow_ms) == SQ_CHECK_SLOW;
		if (ok)
			sum->up++;
		else if (!unknown)
			sum->down++;
		if (out != NULL)
			fprintf(out, "%" PRId64 "\t%s\t%d\t%d\t%s\t%s\n", r->site_id,
			    slow ? "slow" : ok ? "up" : unknown ? "unknown" : "down", (int)r->http_status,
			    (int)r->ms,
			    url_shown(p->sites.v[i].url, shown, sizeof(shown)),
			    sq_result_error(r, err, sizeof(err)));
	}
	if (out != NULL)
		fflush(out);
}

int pass_run(struct store *st, struct sq_backend *b, const struct sq_config *cfg,
    size_t window, FILE *out, volatile sig_atomic_t *stop, struct pass_summary *sum)
{
	struct pass *p = calloc(1, sizeof(*p));
	size_t next = 0, submitted = 0;

	memset(sum, 0, sizeof(*sum));
	if (p == NULL) {
		log_errorx("out of memory starting a pass");
		return -1;
	}
	p->store = st;
	p->cfg = cfg;
	if (store_load_sites(st, &p->sites) < 0) {
		free(p);
		return -1;
	}
	record_locations_load(&p->locs, cfg);
	p->results = calloc(p->sites.n ? p->sites.n : 1, sizeof(*p->results));
	p->done = calloc(p->sites.n ? p->sites.n : 1, sizeof(*p->done));
	if (p->results == NULL || p->done == NULL) {
		log_errorx("out of memory starting a pass");
		p->rc = -1;
		goto out;
	}
	sum->skipped = p->sites.skipped + sites_filter(&p->sites);
	if (window == 0)
		window = 1;
	for (;;) {
		while (next < p->sites.n && submitted - p->delivered < window && !(stop && *stop)) {
			const struct sq_site *s = &p->sites.v[next];
			size_t i = next++;
			struct sq_check c = site_check(s, cfg, i);
			if (b->ops->submit(b, &c) < 0) {
				p->rc = -1;
				goto out;
			}
			submitted++;
		}
		if (p->delivered == submitted)
			break;
		if (b->ops->poll(b, 1000, pass_collect, p) < 0) {
			p->rc = -1;
			break;
		}
	}
out:
	/*
	 * After a failure the backend may still hold checks that point into
	 * the site list: let them end before the list is freed.
	 */
	while (p->rc < 0 && b->ops->pending(b) > 0)
		if (b->ops->poll(b, 1000, pass_collect, p) < 0)
			break;
	pass_flush(p);
	sum->sites = p->delivered;
	sum->alerts = p->alerts;
	if (p->done != NULL)
		pass_print(p, out, sum);
	int rc = p->rc;
	store_free_sites(&p->sites);
	record_locations_free(&p->locs);
	free(p->results);
	free(p->done);
	free(p);
	return rc;
}

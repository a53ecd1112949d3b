/*
 * pass.c - one pass over every enabled site.
 *
 * Rows that cannot be checked (a url with no host or with spaces, an owner
 * address that is not one address) are skipped with one log line naming the
 * row. Results are written in batches, one transaction each, once every
 * check of the pass is back: the outage rule (core/outage.c) sees the whole
 * pass before the first is written, so a pass cut off from the network
 * records its failures unknown and holds its alerts from the first site on.
 * The canaries ([check] canary) are checked first, for the rule only.
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
	struct record_watch watch;     /* the monitor's own outage */
	bool *held;                  /* by site index: recorded unknown, the monitor cut off */
	size_t canaries;             /* canary results come back with tags from sites.n on */
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
	if (record_batch_watched(p->store, p->cfg, &p->locs, &p->watch, p->batch, p->nbatch,
	    &stats) < 0) {
		p->rc = -1;
	} else {
		p->alerts += stats.alerts;
		/* as recorded: a failure behind a parent down prints `parent down` */
		for (size_t i = 0; i < p->nbatch; i++) {
			p->results[p->batch[i].result.tag] = p->batch[i].result;
			p->held[p->batch[i].result.tag] = p->batch[i].held;
		}
	}
	p->nbatch = 0;
}

/* Every result of the pass, the rule told of all of them first, in batches. */
static void pass_record(struct pass *p)
{
	for (size_t i = 0; i < p->sites.n; i++)
		if (p->done[i])
			record_watch_see(&p->watch, &p->results[i]);
	for (size_t i = 0; i < p->sites.n; i++) {
		if (!p->done[i])
			continue;
		p->batch[p->nbatch++] = (struct record_entry){
			.site = &p->sites.v[i], .result = p->results[i],
		};
		if (p->nbatch == PASS_BATCH)
			pass_flush(p);
	}
	pass_flush(p);
}

static void pass_collect(const struct sq_result *r, void *arg)
{
	struct pass *p = arg;

	if (r->tag >= p->sites.n && r->tag - p->sites.n < p->watch.canaries.n) {
		record_watch_canary(&p->watch, (size_t)(r->tag - p->sites.n), r);
		p->canaries++;
		return;
	}
	if (r->tag >= p->sites.n || p->done[r->tag]) {
		log_warnx("backend returned an unexpected result (site %" PRId64 "); ignored",
		    r->site_id);
		return;
	}
	p->results[r->tag] = *r;
	p->done[r->tag] = true;
	p->delivered++;
}

/* A result recorded unknown while the monitor was cut off: "unknown outage: connect refused". */
static const char *held_error(const struct sq_result *r, char *buf, size_t len)
{
	char why[160];

	snprintf(buf, len, "%s: %s", sq_class_name(SQ_ERR_OUTAGE),
	    sq_result_error(r, why, sizeof(why)));
	return buf;
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
		bool unknown = r->err == SQ_ERR_NO_QUORUM || p->held[i];
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
			    p->held[i] ? held_error(r, err, sizeof(err)) : sq_result_error(r, err,
			    sizeof(err)));
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
	record_watch_init(&p->watch, cfg);
	p->results = calloc(p->sites.n ? p->sites.n : 1, sizeof(*p->results));
	p->done = calloc(p->sites.n ? p->sites.n : 1, sizeof(*p->done));
	p->held = calloc(p->sites.n ? p->sites.n : 1, sizeof(*p->held));
	if (p->results == NULL || p->done == NULL || p->held == NULL) {
		log_errorx("out of memory starting a pass");
		p->rc = -1;
		goto out;
	}
	sum->skipped = p->sites.skipped + sites_filter(&p->sites);
	if (window == 0)
		window = 1;
	/* the canaries first, on local backends (a Redis worker refuses them) */
	for (size_t i = 0; backend_local(cfg->backend) && i < p->watch.canaries.n; i++) {
		struct sq_site c = { .id = -1 - (int64_t)i, .url = p->watch.canaries.url[i] };
		struct sq_check check = site_check(&c, cfg, p->sites.n + i);
		if (b->ops->submit(b, &check) < 0) {
			p->rc = -1;
			goto out;
		}
		submitted++;
	}
	for (;;) {
		while (next < p->sites.n && submitted - p->delivered - p->canaries < window &&
		    !(stop && *stop)) {
			const struct sq_site *s = &p->sites.v[next];
			size_t i = next++;
			struct sq_check c = site_check(s, cfg, i);
			if (b->ops->submit(b, &c) < 0) {
				p->rc = -1;
				goto out;
			}
			submitted++;
		}
		if (p->delivered + p->canaries == submitted)
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
	if (p->done != NULL && p->held != NULL)
		pass_record(p);
	sum->sites = p->delivered;
	sum->alerts = p->alerts;
	if (p->done != NULL && p->held != NULL)
		pass_print(p, out, sum);
	int rc = p->rc;
	store_free_sites(&p->sites);
	record_locations_free(&p->locs);
	record_watch_free(&p->watch);
	free(p->results);
	free(p->done);
	free(p->held);
	free(p);
	return rc;
}

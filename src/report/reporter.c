/*
 * reporter.c - status page, metrics file, the history's upkeep and the
 * conversion of schema 8's history (convert.c) in a thread of their own.
 * With backend = redis the metrics file also has the locations' figures
 * (redis_admin.c), read over a connection of the reporter's own, one round
 * trip per file.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_build.h"
#include "squirrel/base/clock.h"
#include "squirrel/base/log.h"
#include "squirrel/base/thread.h"
#if SQ_HAVE_REDIS
#include "squirrel/scaleout/redis_admin.h"
#include "squirrel/scaleout/redis_link.h"
#endif
#include "squirrel/report/reporter.h"
#include "squirrel/report/publish.h"
#include "squirrel/store/retention.h"
#include "squirrel/store/convert.h"
#include "squirrel/store/store.h"

#define METRICS_EVERY_S 15
#define PRUNE_EVERY_S 60
#define UPKEEP_BUDGET_MS 200      /* of each second, while the upkeep has a backlog */
#define CONVERT_BATCH 10000       /* ids of schema 8's history per transaction */
#define CONVERT_ROUNDS 10         /* transactions a second, at most */

struct reporter {
	struct bg_thread bg;          /* its mu guards have_metrics and metrics */
	bool have_metrics;
	struct sq_metrics metrics;    /* under bg.mu */
	struct sq_config cfg;         /* its own copy */
#if SQ_HAVE_REDIS
	bool redis;                   /* backend = redis: the locations go in the metrics */
	bool redis_failing;           /* the last try failed (said once) */
	struct redis_link link;
#endif
};

/*
 * The history's upkeep (retention.c): one short transaction per step, so
 * the daemon's batches never wait long. While there is a backlog (a
 * migration, a long stop) steps run for up to UPKEEP_BUDGET_MS of each
 * second; once caught up, once a minute.
 */
static bool upkeep(struct store *st, struct store_retention *r, bool *said)
{
	struct store_retention_done d = { 0 };
	int64_t t0 = clock_mono_ms();
	int more = 1;

	while (more == 1 && clock_mono_ms() - t0 < UPKEEP_BUDGET_MS)
		more = store_retention_step(st, r, (int64_t)time(NULL), &d);
	if (d.backfilled > 0 && !*said) {
		log_info("summing the response times of the history from before schema 19 into its "
		    "hours, in batches (checking goes on)");
		*said = true;
	}
	if (d.raw + d.kept + d.hours + d.days_pruned + d.days > 0)
		log_debug("history upkeep: %" PRId64 " days rolled up; pruned %" PRId64 " checks, %"
		    PRId64 " kept checks, %" PRId64 " hours, %" PRId64 " days", d.days, d.raw, d.kept,
		    d.hours, d.days_pruned);
	return more == 1;
}

/*
 * Schema 8's history into class codes (convert.c), CONVERT_ROUNDS batches
 * a second, each its own short transaction, so the daemon's writes wait
 * for one batch at most. Returns whether rows are left; a batch that
 * failed (the database busy) is tried again at the next call.
 */
static bool convert(struct store *st, bool *said)
{
	int64_t left = 0;

	for (int round = 0; round < CONVERT_ROUNDS; round++) {
		if (store_convert_history(st, CONVERT_BATCH, &left) < 0)
			return true;
		if (left > 0 && !*said) {
			log_info("converting the history of schema version 8 into class codes, in batches "
			    "(checks below id %lld; checking goes on)", (long long)left);
			*said = true;
		}
		if (left == 0) {
			if (*said)
				log_info("history converted: every check has its class code");
			return false;
		}
	}
	return true;
}

#if SQ_HAVE_REDIS
static void locations_prom(FILE *f, void *arg)
{
	redis_admin_prom(f, arg);
}

/*
 * The locations' figures, or false: they are then left out, with one line
 * when that starts (the link says it itself when a connection it had broke).
 */
static bool read_locations(struct reporter *r, struct ra_report *rep)
{
	char why[512];

	if (redis_admin_query(&r->link, &r->cfg, rep, why, sizeof(why)) == 0) {
		if (r->redis_failing)
			log_info("metrics: the locations' figures are back");
		r->redis_failing = false;
		return true;
	}
	bool link_said = r->link.c == NULL && r->link.connected_once;
	if (!r->redis_failing && !link_said)
		log_warnx("metrics: the locations' figures are left out: %s", why);
	r->redis_failing = true;
	return false;
}
#endif

static void write_metrics(struct reporter *r, struct store *ro)
{
	struct sq_metrics m;
	bool have;

	pthread_mutex_lock(&r->bg.mu);
	m = r->metrics;
	have = r->have_metrics;
	pthread_mutex_unlock(&r->bg.mu);
#if SQ_HAVE_REDIS
	struct ra_report rep;
	if (r->redis && read_locations(r, &rep)) {
		metrics_write_extra(r->cfg.metrics_file, ro, have ? &m : NULL, locations_prom, &rep);
		redis_admin_free(&rep);
		return;
	}
#endif
	metrics_write(r->cfg.metrics_file, ro, have ? &m : NULL);
}

static void *reporter_main(void *arg)
{
	struct reporter *r = arg;
	struct store *rw = store_open(r->cfg.database, 0);
	struct store *ro = store_open(r->cfg.database, STORE_READONLY);
	int64_t next_page = 0, next_metrics = 0, next_prune = 0;
	bool converting = true, said = false, behind = true, said_backfill = false;
	struct store_retention ret = { .raw_hours = r->cfg.raw_hours,
	    .history_days = r->cfg.history_days };
	/* rows per upkeep transaction: the tests make a migration slow enough to interrupt */
	const char *knob = getenv("SQUIRREL_UPKEEP_BATCH");
	if (knob != NULL && atoi(knob) > 0)
		ret.batch = atoi(knob);

	if (rw == NULL || ro == NULL) {
		log_errorx("the status page, metrics and pruning are off: the database cannot be opened");
		store_close(rw);
		store_close(ro);
		return NULL;
	}
	pthread_mutex_lock(&r->bg.mu);
	while (!r->bg.stop) {
		pthread_mutex_unlock(&r->bg.mu);
		int64_t now = clock_mono_ms() / 1000;
		if (now >= next_page) {
			statuspage_publish(ro, rw, &r->cfg, (int64_t)time(NULL));
			next_page = now + STATUSPAGE_PERIOD_S;
		}
		if (r->cfg.metrics_file[0] != '\0' && now >= next_metrics) {
			write_metrics(r, ro);
			next_metrics = now + METRICS_EVERY_S;
		}
		if (converting)
			converting = convert(rw, &said);
		if (behind || now >= next_prune) {
			behind = upkeep(rw, &ret, &said_backfill);
			next_prune = now + PRUNE_EVERY_S;
		}
		pthread_mutex_lock(&r->bg.mu);
		bg_wait(&r->bg, 1000);
	}
	pthread_mutex_unlock(&r->bg.mu);
	/* the last word: what the daemon saw until it stopped */
	if (r->cfg.metrics_file[0] != '\0')
		write_metrics(r, ro);
	statuspage_publish(ro, rw, &r->cfg, (int64_t)time(NULL));
	store_close(ro);
	store_close(rw);
	return NULL;
}

static void reporter_free(struct reporter *r)
{
#if SQ_HAVE_REDIS
	if (r->redis)
		redis_link_free(&r->link);
#endif
	config_free(&r->cfg);
	free(r);
}

struct reporter *reporter_start(const struct sq_config *cfg, bool scaleout)
{
	struct reporter *r = calloc(1, sizeof(*r));

	if (r == NULL || config_copy(&r->cfg, cfg) < 0) {
		log_errorx("out of memory starting the reporter");
		free(r);
		return NULL;
	}
#if SQ_HAVE_REDIS
	if (r->cfg.metrics_file[0] != '\0' && scaleout) {
		char err[512];
		/* the url was read before the backend started: it parses */
		r->redis = redis_link_init(&r->link, r->cfg.redis_url, "metrics", err, sizeof(err)) == 0;
		if (!r->redis)
			log_warnx("metrics: no locations' figures: [redis] url %s", err);
	}
#endif
	if (bg_start(&r->bg, reporter_main, r, false) != 0) {
		log_errorx("cannot start the reporter thread");
		reporter_free(r);
		return NULL;
	}
	return r;
}

void reporter_update(struct reporter *r, const struct sq_metrics *m)
{
	pthread_mutex_lock(&r->bg.mu);
	r->metrics = *m;
	r->have_metrics = true;
	pthread_mutex_unlock(&r->bg.mu);
}

void reporter_stop(struct reporter *r)
{
	if (r == NULL)
		return;
	bg_stop(&r->bg);
	reporter_free(r);
}

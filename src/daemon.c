/*
 * daemon.c - the service loop.
 *
 * One thread runs it all but mail: take the sites that are due, hand them
 * to the backend (never more than it runs at once), collect results, and
 * record them in batches. Every half second it asks the database whether
 * the sites changed (a counter kept by triggers), and merges the change.
 * Signal handlers only set flags, as in nginx; the loop acts on them.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/util.h"
#include "squirrel/base/clock.h"
#include "squirrel/backend/backend.h"
#include "squirrel/daemon.h"
#include "squirrel/alert/delivery.h"
#include "squirrel/base/log.h"
#include "squirrel/base/notify.h"
#include "squirrel/check/probe.h"
#include "squirrel/alert/record.h"
#include "squirrel/report/reporter.h"
#include "squirrel/check/scheduler.h"
#include "squirrel/core/site.h"
#include "squirrel/store/coordinator.h"
#include "squirrel/store/results.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/uptime.h"

#define BATCH_MAX 512
#define BATCH_AGE_MS 1000         /* a result waits at most this long to be written */
#define VERSION_POLL_MS 500       /* live edits are seen within this */
#define TICK_MS 500               /* checks due within one tick start together */
#define STATUS_EVERY_MS 10000
#define RETRY_WRITE_MS 2000       /* after a failed write */
#define RETRY_KEEP_MAX 100000     /* results kept while the database refuses writes */
#define FILE_CHECK_MS 5000        /* how often the database file is looked at */
#define WRITE_WAIT_MS 250         /* longest wait for the write lock */
/*
 * A stop waits this long for the checks in flight (whatever their
 * timeout), from the signal on; those still running then are dropped,
 * never recorded. Well inside the unit's TimeoutStopSec (60 s), with the
 * prefork children's own bounded stop and the last try of the outbox.
 */
#define DRAIN_MAX_MS 5000

static volatile sig_atomic_t got_stop, got_hup;
static _Atomic int64_t stop_deadline;  /* CLOCK_MONOTONIC ms, set with got_stop */

static void on_stop(int sig)
{
	(void)sig;
	if (!got_stop) {
		/* the first signal sets the bound; another does not move it */
		int64_t deadline = clock_mono_ms() + DRAIN_MAX_MS;
		atomic_store(&stop_deadline, deadline);
		probe_stop_at(deadline);
	}
	got_stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/* A result kept for a later write, with its own copy of the site. */
struct kept {
	struct sq_site site;
	struct sq_result result;
};

struct daemon {
	struct store *store;
	struct sq_config *cfg;
	struct record_locations locs;   /* [redis] locations, read at each load */
	struct record_watch watch;      /* the monitor's own outage, per load */
	/* [check] canary: checked each interval, never recorded; tag = index + 1 */
	int64_t canary_due[OUTAGE_CANARY_MAX];
	bool canary_busy[OUTAGE_CANARY_MAX];
	size_t canary_inflight;
	struct sq_backend backend;
	struct scheduler *sched;
	struct delivery *delivery;
	struct reporter *reporter;
	size_t window;
	size_t inflight;
	size_t dropped;               /* checks cut short by a stop (never recorded) */
	int64_t sites_version;
	struct sched_site *bsite[BATCH_MAX];
	struct record_entry batch[BATCH_MAX];
	size_t nbatch;
	int64_t batch_since;
	bool batch_urgent;            /* a result in it may change a site's state */
	struct kept *kept;            /* results the database refused, to write again */
	size_t nkept, capkept;
	int64_t retry_at;
	bool file_gone;               /* said once: the file was deleted */
	char refused[256];            /* said once: why the file now at the path is not adopted */
	/* the daemon's own figures, for the metrics file */
	int64_t started_at;
	uint64_t checks, failures, checks_at_beat;
	int64_t beat_at_ms;
	double loop_seconds;
	/* a round: as many checks as sites watched when it began */
	int64_t round_start_ms;
	size_t round_left;
	double round_seconds;         /* the last round's length; < 0 before the first */
};

int daemon_keep_run(void *arg, const char *prefix, const char *run, char *previous, size_t len)
{
	const char *path = arg;
	struct store *st = path != NULL ? store_open(path, 0) : NULL;
	int rc = -1;

	previous[0] = '\0';
	if (st != NULL)
		rc = store_coordinator_run(st, prefix, run, previous, len);
	store_close(st);
	return rc;
}

static int open_backend(struct daemon *d)
{
	struct sq_backend_params params;

	backend_params(d->cfg, &params);
	params.keep_run = daemon_keep_run;
	params.keep_run_arg = d->cfg->database;
	if (backend_open(&d->backend, d->cfg->backend, &params) < 0)
		return -1;
	d->window = backend_window(d->cfg->backend, &params);
	return 0;
}

/* The counters of this beat, for the reporter's next metrics file. */
static void update_metrics(struct daemon *d)
{
	int64_t now = clock_mono_ms();
	struct sq_metrics m = {
		.started_at = d->started_at,
		.checks = d->checks,
		.failures = d->failures,
		.pass_seconds = d->round_seconds,
		.loop_seconds = d->loop_seconds,
	};
	if (d->beat_at_ms > 0 && now > d->beat_at_ms)
		m.checks_per_second = (double)(d->checks - d->checks_at_beat) * 1000.0 /
		    (double)(now - d->beat_at_ms);
	d->checks_at_beat = d->checks;
	d->beat_at_ms = now;
	if (d->delivery != NULL) {
		struct delivery_tally t;
		delivery_get_tally(d->delivery, &t);
		m.alerts_sent = t.sent;
		m.alerts_failed = t.failed;
	}
	if (d->reporter != NULL)
		reporter_update(d->reporter, &m);
}

static void status_line(struct daemon *d)
{
	size_t up, down;
	scheduler_state_counts(d->sched, &up, &down);
	notify_status("%zu sites: %zu up, %zu down", scheduler_size(d->sched), up, down);
}

/* Reads the sites again when someone changed them (or always, with force). */
static void follow_edits(struct daemon *d, bool startup, bool force)
{
	struct sq_site_list list;
	int64_t version;

	if (d->store == NULL || store_sites_version(d->store, &version) < 0)
		return;
	if (!startup && !force && version == d->sites_version)
		return;
	if (store_load_sites(d->store, &list) < 0)
		return;
	sites_filter(&list);
	size_t before = scheduler_size(d->sched);
	if (scheduler_sync(d->sched, &list, d->cfg, clock_mono_ms(), startup) == 0)
		d->sites_version = version;
	if (!startup)
		log_info("sites changed: %zu watched (was %zu)", scheduler_size(d->sched), before);
}

static void keep_for_retry(struct daemon *d, const struct record_entry *e)
{
	if (d->nkept == RETRY_KEEP_MAX) {
		log_errorx("site %" PRId64 ": result dropped: %d results already wait for the database",
		    e->site->id, RETRY_KEEP_MAX);
		return;
	}
	if (d->nkept == d->capkept) {
		size_t ncap = d->capkept ? d->capkept * 2 : 256;
		struct kept *nk = realloc(d->kept, ncap * sizeof(*nk));
		if (nk == NULL) {
			log_errorx("site %" PRId64 ": result dropped: out of memory", e->site->id);
			return;
		}
		d->kept = nk;
		d->capkept = ncap;
	}
	struct kept *k = &d->kept[d->nkept];
	k->site = *e->site;
	k->site.url = strdup(e->site->url);
	k->site.owner_email = strdup(e->site->owner_email);
	k->site.name = e->site->name ? strdup(e->site->name) : NULL;
	k->result = e->result;
	if (k->site.url == NULL || k->site.owner_email == NULL ||
	    (e->site->name != NULL && k->site.name == NULL)) {
		store_free_site(&k->site);
		log_errorx("site %" PRId64 ": result dropped: out of memory", e->site->id);
		return;
	}
	d->nkept++;
}

static void free_kept(struct daemon *d, size_t n)
{
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		store_free_site(&d->kept[i].site);
	memmove(d->kept, d->kept + n, (d->nkept - n) * sizeof(*d->kept));
	d->nkept -= n;
}

/* Results the database refused earlier: write them first, oldest first. */
static int write_kept(struct daemon *d)
{
	if (d->store == NULL)
		return -1;
	while (d->nkept > 0) {
		struct record_entry e[BATCH_MAX];
		struct record_stats stats;
		size_t n = d->nkept < BATCH_MAX ? d->nkept : BATCH_MAX;
		for (size_t i = 0; i < n; i++)
			e[i] = (struct record_entry){ .site = &d->kept[i].site, .result = d->kept[i].result };
		if (record_batch_watched(d->store, d->cfg, &d->locs, &d->watch, e, n, &stats) < 0)
			return -1;
		if (stats.alerts > 0 && d->delivery != NULL)
			delivery_kick(d->delivery);
		free_kept(d, n);
		if (d->nkept == 0)
			log_info("the database takes writes again; the results kept meanwhile are recorded");
	}
	return 0;
}

/* Writes the batch; then the sites may be scheduled again (or freed). */
static void flush(struct daemon *d)
{
	struct record_stats stats = { 0 };
	int64_t now = clock_mono_ms();
	bool written = false;

	if (d->nbatch == 0)
		return;
	if (d->store != NULL && (d->nkept == 0 || (now >= d->retry_at && write_kept(d) == 0))) {
		if (record_batch_watched(d->store, d->cfg, &d->locs, &d->watch, d->batch, d->nbatch,
		    &stats) == 0)
			written = true;
	}
	if (!written) {
		if (d->nkept == 0)
			log_warnx("results not written; kept in memory and written again in %d s",
			    RETRY_WRITE_MS / 1000);
		for (size_t i = 0; i < d->nbatch; i++)
			keep_for_retry(d, &d->batch[i]);
		if (now >= d->retry_at)
			d->retry_at = now + RETRY_WRITE_MS;
	}
	if (stats.alerts > 0 && d->delivery != NULL)
		delivery_kick(d->delivery);
	for (size_t i = 0; i < d->nbatch; i++) {
		struct sched_site *site = d->bsite[i];
		if (written && !d->batch[i].dropped)
			site->state = d->batch[i].state;
		/* from when the results came, not from the write: the batch may wait */
		scheduler_done(d->sched, site, written ? d->batch[i].next_check_s : 0, d->batch_since);
	}
	d->nbatch = 0;
	d->batch_urgent = false;
}

/* A canary seen with no site's result to write: the rule decides on its own. */
static void watch_canaries(struct daemon *d)
{
	struct record_stats stats = { 0 };

	if (d->store != NULL && d->nkept == 0 &&
	    record_batch_watched(d->store, d->cfg, &d->locs, &d->watch, NULL, 0, &stats) == 0 &&
	    stats.alerts > 0 && d->delivery != NULL)
		delivery_kick(d->delivery);
}

/*
 * The daemon's "pass": the time it took to make as many checks as it
 * watches sites. About the interval while it keeps up; more, and the
 * sites wait longer than they should.
 */
static void count_round(struct daemon *d, int64_t now)
{
	if (d->round_left > 0) {
		if (--d->round_left > 0)
			return;
		d->round_seconds = (double)(now - d->round_start_ms) / 1000.0;
	}
	/* the next round; or the first, when there were no sites at the start */
	d->round_start_ms = now;
	d->round_left = scheduler_size(d->sched);
}

/* A canary's result: to the outage rule only, and its next check one interval on. */
static void canary_done(struct daemon *d, const struct sq_result *r)
{
	size_t i = (size_t)r->tag - 1;

	d->inflight--;
	d->canary_inflight--;
	d->canary_busy[i] = false;
	d->canary_due[i] = clock_mono_ms() + (int64_t)d->cfg->interval_s * 1000;
	if (r->err != SQ_ERR_STOPPED)
		record_watch_canary(&d->watch, i, r);
}

/* The canaries due, while the window has room (local backends: a worker refuses them). */
static void submit_canaries(struct daemon *d, int64_t now)
{
	for (size_t i = 0; i < d->watch.canaries.n && d->inflight < d->window; i++) {
		if (d->canary_busy[i] || d->canary_due[i] > now || !backend_local(d->cfg->backend))
			continue;
		struct sq_site c = { .id = -1 - (int64_t)i, .url = d->watch.canaries.url[i] };
		struct sq_check check = site_check(&c, d->cfg, i + 1);
		if (d->backend.ops->submit(&d->backend, &check) < 0)
			return;
		d->canary_busy[i] = true;
		d->canary_inflight++;
		d->inflight++;
	}
}

/* The earliest canary due, INT64_MAX when none. */
static int64_t canary_next_due(const struct daemon *d)
{
	int64_t due = INT64_MAX;

	for (size_t i = 0; i < d->watch.canaries.n && backend_local(d->cfg->backend); i++)
		if (!d->canary_busy[i] && d->canary_due[i] < due)
			due = d->canary_due[i];
	return due;
}

static void collect(const struct sq_result *r, void *arg)
{
	struct daemon *d = arg;
	struct sched_site *site = (struct sched_site *)(uintptr_t)r->tag;

	/* a site's tag is its address; a canary's, its index + 1 */
	if (r->tag >= 1 && r->tag <= OUTAGE_CANARY_MAX) {
		canary_done(d, r);
		return;
	}

	if (r->err == SQ_ERR_STOPPED) {
		/* cut short by the stop: it says nothing of the site */
		d->inflight--;
		d->dropped++;
		scheduler_done(d->sched, site, 0, clock_mono_ms());
		return;
	}
	if (d->nbatch == BATCH_MAX)
		flush(d);
	if (d->nbatch == 0)
		d->batch_since = clock_mono_ms();
	/*
	 * Results that agree with their site's state wait for the batch (one
	 * transaction a second under light load); one that may change it, the
	 * first failure of an up site or a success of a down one, a slow
	 * answer of a site not degraded or a fast one of a degraded site, is
	 * written at once, so alerts and quick re-checks are not held back.
	 */
	bool ok = sq_result_ok(r);
	if (ok ? site->state == SQ_STATE_DOWN : site->state != SQ_STATE_DOWN)
		d->batch_urgent = true;
	else if (ok && (state_verdict(ok, r->ms, site_slow_ms(&site->site, d->cfg)) ==
	    SQ_CHECK_SLOW) != (site->state == SQ_STATE_DEGRADED))
		d->batch_urgent = true;
	d->checks++;
	count_round(d, clock_mono_ms());
	if (!sq_result_ok(r))
		d->failures++;
	d->bsite[d->nbatch] = site;
	d->batch[d->nbatch] = (struct record_entry){ .site = &site->site, .result = *r };
	d->nbatch++;
	d->inflight--;
}

static void submit_due(struct daemon *d)
{
	int64_t now = clock_mono_ms();
	struct sched_site *site;

	submit_canaries(d, now);
	while (d->inflight < d->window && (site = scheduler_pop_due(d->sched, now)) != NULL) {
		struct sq_check c = site_check(&site->site, d->cfg, (uint64_t)(uintptr_t)site);
		if (d->backend.ops->submit(&d->backend, &c) < 0) {
			scheduler_requeue(d->sched, site, now + 1000);
			break;
		}
		d->inflight++;
	}
}

/*
 * Lets every check in flight end, and writes the results. Once a stop
 * signal came, no longer than its deadline (DRAIN_MAX_MS from the signal):
 * what is still in flight then is left to the backend's close, unrecorded.
 */
static void drain(struct daemon *d)
{
	while (d->inflight > 0) {
		int wait = 1000;
		int64_t deadline = atomic_load(&stop_deadline);
		if (got_stop && deadline != 0) {
			int64_t left = deadline - clock_mono_ms();
			if (left <= 0)
				break;
			if (left < wait)
				wait = (int)left;
		}
		if (d->backend.ops->poll(&d->backend, wait, collect, d) < 0)
			break;
	}
	flush(d);
}

static bool backend_settings_changed(const struct sq_config *a, const struct sq_config *b)
{
	return strcmp(a->backend, b->backend) != 0 || a->workers != b->workers ||
	    a->max_concurrent != b->max_concurrent || a->ip_version != b->ip_version ||
	    strcmp(a->source_address, b->source_address) != 0 ||
	    strcmp(a->dns_servers, b->dns_servers) != 0 || a->dns_timeout_ms != b->dns_timeout_ms ||
	    strcmp(a->ca_file, b->ca_file) != 0 ||
	    a->dns_tries != b->dns_tries || a->dns_max_inflight != b->dns_max_inflight ||
	    strcmp(a->redis_url, b->redis_url) != 0 || strcmp(a->redis_prefix, b->redis_prefix) != 0 ||
	    strcmp(a->redis_locations, b->redis_locations) != 0 ||
	    a->redis_quorum != b->redis_quorum || a->redis_claim_idle_ms != b->redis_claim_idle_ms;
}

static void reload(struct daemon *d, daemon_reload_fn *fn, void *arg)
{
	struct sq_config next;

	notify_reloading();
	log_info("SIGHUP: reading the configuration again");
	if (fn(&next, arg) < 0) {
		log_warnx("the new configuration is refused; going on with the old one");
		notify_ready();
		return;
	}
	if (strcmp(next.database, d->cfg->database) != 0)
		log_warnx("a new database path takes effect at the next start");
	bool new_backend = backend_settings_changed(d->cfg, &next);
	/* a canary's check holds its url: the old list lives until they are back */
	if (new_backend || d->canary_inflight > 0)
		drain(d);
	if (new_backend)
		backend_close(&d->backend);
	struct sq_config old = *d->cfg;
	*d->cfg = next;
	free(d->cfg->database);
	d->cfg->database = old.database;   /* keep the path we have open */
	old.database = NULL;
	config_free(&old);
	record_locations_free(&d->locs);
	record_locations_load(&d->locs, d->cfg);
	record_watch_free(&d->watch);
	record_watch_init(&d->watch, d->cfg);
	log_set_level((enum log_level)d->cfg->log_level);
	if (new_backend && open_backend(d) < 0) {
		log_errorx("cannot start the new backend; stopping");
		got_stop = 1;
	}
	scheduler_reschedule(d->sched, d->cfg, clock_mono_ms());
	if (d->delivery != NULL) {
		delivery_stop(d->delivery, false);
		d->delivery = delivery_start(d->cfg);
	}
	if (d->store != NULL) {
		reporter_stop(d->reporter);
		d->reporter = reporter_start(d->cfg, !backend_local(d->cfg->backend));
	}
	if (d->store != NULL) {
		store_set_default_interval(d->store, d->cfg->interval_s);
		store_rollup_backfill(d->store);
	}
	log_info("configuration reloaded: backend %s, interval %d s", d->cfg->backend,
	    d->cfg->interval_s);
	notify_ready();
}

/*
 * Opens the squirrel database now at the path in place of the one open,
 * and every thread with it. The old file's connections all close first:
 * its -wal and -shm sit at the same path, and a connection to the new file
 * opened beside them would read the old file's log as its own. Should the
 * new file then not open (changed again meanwhile), results wait in memory
 * until a file does.
 */
static void adopt_file(struct daemon *d)
{
	flush(d);
	delivery_stop(d->delivery, false);
	d->delivery = NULL;
	reporter_stop(d->reporter);
	d->reporter = NULL;
	store_close(d->store);
	d->store = store_open(d->cfg->database, STORE_CHECK_PATH);
	if (d->store == NULL) {
		log_errorx("%s cannot be opened; results wait in memory, and it is tried again in %d s",
		    d->cfg->database, FILE_CHECK_MS / 1000);
		return;
	}
	d->file_gone = false;
	store_set_busy_timeout(d->store, WRITE_WAIT_MS);
	store_set_default_interval(d->store, d->cfg->interval_s);
	store_rollup_backfill(d->store);
	follow_edits(d, false, true);
	d->delivery = delivery_start(d->cfg);
	d->reporter = reporter_start(d->cfg, !backend_local(d->cfg->backend));
}

/*
 * The database file deleted or replaced under the daemon: a replaced file
 * that is a squirrel database is opened in its place (and its sites
 * followed); a deleted one, or a file that is not a squirrel database (an
 * empty file left by "sqlite3 PATH", another program's database), is said
 * once, and the daemon goes on with the sites it has until a squirrel
 * database is at the path.
 */
static void check_file(struct daemon *d)
{
	const char *path = d->cfg->database;
	int status = d->store != NULL ? store_file_status(d->store) : STORE_FILE_REPLACED;
	char why[sizeof(d->refused)];

	if (status == STORE_FILE_SAME) {
		if (d->file_gone || d->refused[0] != '\0')
			log_info("%s is back", path);
		d->file_gone = false;
		d->refused[0] = '\0';
		return;
	}
	if (status == STORE_FILE_DELETED) {
		if (!d->file_gone)
			log_errorx("%s was deleted; checking goes on with the open copy: put the file back "
			    "or restart to start a new database", path);
		d->file_gone = true;
		d->refused[0] = '\0';
		return;
	}
	if (store_file_check(path, why, sizeof(why)) < 0) {
		if (strcmp(why, d->refused) != 0)
			log_errorx("%s is now a file that is not a squirrel database (%s); it is not "
			    "opened: checking goes on with the %zu sites watched until a squirrel database "
			    "is put there", path, why, scheduler_size(d->sched));
		snprintf(d->refused, sizeof(d->refused), "%s", why);
		return;
	}
	d->refused[0] = '\0';
	log_warnx("%s was replaced by another file; opening it", path);
	adopt_file(d);
}

static void install_signals(void)
{
	signal_set(SIGTERM, on_stop);
	signal_set(SIGINT, on_stop);
	signal_set(SIGHUP, on_hup);
	signal_set(SIGPIPE, SIG_IGN);
	/* past a file size limit (ulimit -f) a write fails like on a full disk, not the daemon */
	signal_set(SIGXFSZ, SIG_IGN);
}

static int poll_timeout(struct daemon *d, int64_t next_version, int64_t next_beat)
{
	int64_t now = clock_mono_ms();
	int64_t until = next_version < next_beat ? next_version : next_beat;
	if (d->inflight < d->window) {
		int64_t due = scheduler_next_due(d->sched), canary = canary_next_due(d);
		if (canary < due)
			due = canary;
		/*
		 * Wake on a grid: the checks due within one tick start together,
		 * so a lightly loaded daemon wakes once a tick for all of them,
		 * not once for each. A site keeps its place on the grid, so the
		 * time between two of its checks is still its interval.
		 */
		if (due > now && due < INT64_MAX - TICK_MS)
			due = (due + TICK_MS - 1) / TICK_MS * TICK_MS;
		if (due < until)
			until = due;
	}
	if (d->nbatch > 0 && d->batch_since + BATCH_AGE_MS < until)
		until = d->batch_since + BATCH_AGE_MS;
	if (d->batch_urgent)
		until = now;
	int64_t t = until - now;
	return t < 0 ? 0 : t > 1000 ? 1000 : (int)t;
}

int daemon_run(struct store *st, struct sq_config *cfg, daemon_reload_fn *reload_fn, void *arg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (d == NULL || (d->sched = scheduler_new()) == NULL) {
		log_errorx("out of memory");
		free(d);
		return 1;
	}
	d->store = st;
	d->cfg = cfg;
	record_locations_load(&d->locs, cfg);
	record_watch_init(&d->watch, cfg);
	if (d->watch.canaries.n > 0 && !backend_local(cfg->backend))
		log_warnx("[check] canary: the %s backend checks nothing here; canaries are not "
		    "checked", cfg->backend);
	d->round_seconds = -1;
	install_signals();
	/* A database that takes no writes would keep every result in memory: refuse. */
	if (store_check_writable(d->store) < 0 || open_backend(d) < 0) {
		rc = 1;
		goto out;
	}
	/*
	 * The loop must never wait long for a lock: a person holding a write
	 * transaction in sqlite3 would stall every check in flight. A write
	 * that cannot get the lock soon is kept and tried again.
	 */
	/*
	 * The uptime figures cap each check's weight by the configured
	 * interval; with it saved, the history from before the rollup is
	 * rolled up (once).
	 */
	store_set_default_interval(d->store, d->cfg->interval_s);
	store_rollup_backfill(d->store);
	store_set_busy_timeout(d->store, WRITE_WAIT_MS);
	follow_edits(d, true, false);
	d->round_start_ms = clock_mono_ms();
	d->round_left = scheduler_size(d->sched);
	d->delivery = delivery_start(d->cfg);
	d->reporter = reporter_start(d->cfg, !backend_local(d->cfg->backend));
	d->started_at = (int64_t)time(NULL);
	int64_t watchdog = notify_watchdog_ms();
	int64_t beat_every = watchdog > 0 ? watchdog / 2 : STATUS_EVERY_MS;
	if (beat_every > STATUS_EVERY_MS)
		beat_every = STATUS_EVERY_MS;
	log_info("watching %zu sites with the %s backend", scheduler_size(d->sched), cfg->backend);
	notify_ready();
	status_line(d);

	int64_t next_version = clock_mono_ms() + VERSION_POLL_MS;
	int64_t next_file = clock_mono_ms() + FILE_CHECK_MS;
	int64_t next_beat = clock_mono_ms() + beat_every;
	while (!got_stop) {
		int64_t loop_start = clock_mono_ms();
		if (got_hup) {
			got_hup = 0;
			reload(d, reload_fn, arg);
			continue;
		}
		submit_due(d);
		int timeout = poll_timeout(d, next_version, next_beat);
		if (d->backend.ops->poll(&d->backend, timeout, collect, d) < 0) {
			log_errorx("the %s backend failed; stopping", d->cfg->backend);
			rc = 1;
			break;
		}
		int64_t now = clock_mono_ms();
		if (d->nbatch > 0 && (d->batch_urgent || now >= d->batch_since + BATCH_AGE_MS))
			flush(d);
		else if (d->nbatch == 0 && d->watch.w.changed)
			watch_canaries(d);
		if (now >= next_version) {
			follow_edits(d, false, false);
			next_version = now + VERSION_POLL_MS;
		}
		if (now >= next_file) {
			check_file(d);
			next_file = now + FILE_CHECK_MS;
		}
		if (now >= next_beat) {
			if (watchdog > 0)
				notify_watchdog();
			status_line(d);
			update_metrics(d);
			next_beat = now + beat_every;
		}
		d->loop_seconds = (double)(clock_mono_ms() - loop_start) / 1000.0;
	}
	log_info("stopping: waiting up to %d s for %zu checks in flight", DRAIN_MAX_MS / 1000,
	    d->inflight);
	notify_stopping();
	drain(d);
	if (d->inflight + d->dropped > 0)
		log_warnx("stopping: %zu checks cut short and not recorded", d->inflight + d->dropped);
	if (d->nkept > 0 && write_kept(d) < 0)
		log_errorx("%zu results could not be written before exit", d->nkept);
	free_kept(d, d->nkept);
	if (d->delivery != NULL) {
		update_metrics(d);
		delivery_stop(d->delivery, true);
		d->delivery = NULL;
	}
	reporter_stop(d->reporter);
out:
	backend_close(&d->backend);
	store_close(d->store);
	scheduler_free(d->sched);
	free(d->kept);
	record_locations_free(&d->locs);
	record_watch_free(&d->watch);
	free(d);
	config_free(cfg);
	return rc;
}

/*
 * squirreld.c - the daemon's entry point: arguments, configuration, the
 * store, the backend, then one pass (--once) or passes until a signal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config_build.h"
#include "squirrel/base/clock.h"
#include "squirrel/base/util.h"
#include "squirrel/base/secret.h"
#include "squirrel/base/validate.h"
#include "squirrel/backend/backend.h"
#include "squirrel/core/config.h"
#include "squirrel/core/maintenance.h"
#include "squirrel/daemon.h"
#include "squirrel/alert/delivery.h"
#include "squirrel/base/log.h"
#include "squirrel/alert/mailer.h"
#include "squirrel/pass.h"
#include "squirrel/check/probe.h"
#include "squirrel/scaleout/redis_wire.h"
#include "squirrel/check/resolve.h"
#include "squirrel/store/retention.h"
#include "squirrel/store/store.h"
#include "squirrel/worker.h"

#define EXIT_USAGE 2

struct options {
	bool once;
	bool worker;
	const char *location;
	const char *redis;
	const char *config;
	const char *db;
	const char *backend;
	const char *workers;
	const char *max_concurrent;
	const char *source_address;
	const char *test_mail;
};

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: squirreld [--once] [--config FILE] [--db FILE] [--backend NAME]\n"
	    "                 [--workers N] [--max-concurrent N] [--source-address ADDR]\n"
	    "       squirreld --worker [--location NAME] [--redis URL] [--backend NAME]\n"
	    "                 [--max-concurrent N] [--source-address ADDR] [--config FILE]\n"
	    "       squirreld --test-mail ADDRESS [--config FILE]\n"
	    "       squirreld --help | --version\n"
	    "\n"
	    "  --once                 check every enabled site once, print one line per\n"
	    "                         site (id state http_status ms url error), exit\n"
	    "  --config FILE          configuration file (default " SQ_DEFAULT_CONFIG
	    " if it exists)\n"
	    "  --db FILE              SQLite database (default from the configuration)\n"
	    "  --backend NAME         %s\n"
	    "  --workers N            threads or processes (threads, prefork)\n"
	    "  --max-concurrent N     checks in flight at once (libev)\n"
	    "  --source-address ADDR  local address the checks leave from\n"
	    "  --redis URL            Redis for the redis backend and --worker ([redis] url)\n"
	    "  --worker               run checks for a coordinator, taken from Redis\n"
	    "  --location NAME        the worker's location (consumer group; default: default)\n"
	    "  --test-mail ADDRESS    send one test mail through the [smtp] server, print its reply\n"
	    "  --help                 this text\n"
	    "  --version              the version\n",
	    backend_names());
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_ONCE = 256, OPT_CONFIG, OPT_DB, OPT_BACKEND, OPT_WORKERS, OPT_MAXCONC,
		OPT_SOURCE, OPT_TEST_MAIL, OPT_HELP, OPT_VERSION, OPT_WORKER, OPT_LOCATION, OPT_REDIS };
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "max-concurrent", required_argument, NULL, OPT_MAXCONC },
		{ "source-address", required_argument, NULL, OPT_SOURCE },
		{ "test-mail", required_argument, NULL, OPT_TEST_MAIL },
		{ "worker", no_argument, NULL, OPT_WORKER },
		{ "location", required_argument, NULL, OPT_LOCATION },
		{ "redis", required_argument, NULL, OPT_REDIS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ONCE: o->once = true; break;
		case OPT_CONFIG: o->config = optarg; break;
		case OPT_DB: o->db = optarg; break;
		case OPT_BACKEND: o->backend = optarg; break;
		case OPT_WORKERS: o->workers = optarg; break;
		case OPT_MAXCONC: o->max_concurrent = optarg; break;
		case OPT_SOURCE: o->source_address = optarg; break;
		case OPT_TEST_MAIL: o->test_mail = optarg; break;
		case OPT_WORKER: o->worker = true; break;
		case OPT_LOCATION: o->location = optarg; break;
		case OPT_REDIS: o->redis = optarg; break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("squirreld %s\n", SQ_VERSION);
			exit(0);
		case ':':
			fprintf(stderr, "squirreld: option '%s' needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "squirreld: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "squirreld: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->worker && o->once) {
		fprintf(stderr, "squirreld: --worker and --once do not go together\n");
		return -1;
	}
	if (o->location != NULL && !o->worker) {
		fprintf(stderr, "squirreld: --location is for --worker\n");
		return -1;
	}
	return 0;
}

/* The file read: --config, else the default one if it exists, else none. */
static const char *config_path(const struct options *o)
{
	return config_default_path(o->config);
}

/* The file, then the command line over it. 0, 1 (bad file) or 2 (bad option). */
static int load_config(const struct options *o, struct sq_config *cfg)
{
	char err[512];

	if (config_defaults(cfg) < 0) {
		log_errorx("out of memory");
		return 1;
	}
	const char *path = config_path(o);
	if (path != NULL && config_load(cfg, path, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		return 1;
	}
	const struct { const char *section, *key, *value, *option; } over[] = {
		{ "squirreld", "database", o->db, "--db" },
		{ "squirreld", "backend", o->backend, "--backend" },
		{ "squirreld", "workers", o->workers, "--workers" },
		{ "squirreld", "max_concurrent", o->max_concurrent, "--max-concurrent" },
		{ "check", "source_address", o->source_address, "--source-address" },
		{ "redis", "url", o->redis, "--redis" },
	};
	for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		if (over[i].value == NULL)
			continue;
		if (config_set(cfg, over[i].section, over[i].key, over[i].value, err, sizeof(err)) < 0) {
			fprintf(stderr, "squirreld: %s: %s\n", over[i].option, err);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * Secrets in the configuration file: the SMTP password, and a password in
 * [redis] url (unless --redis gave the url), need a file only its owner
 * can read.
 */
static int check_secrets(const struct options *o, const struct sq_config *cfg, char *err,
    size_t errlen)
{
	const char *path = config_path(o);
	unsigned mode;

	if (mailer_check_config_file_mode(path, cfg, err, errlen) < 0)
		return -1;
	if (path == NULL || o->redis != NULL || !rw_url_has_password(cfg->redis_url))
		return 0;
	if (secret_file_shared(path, &mode) == 1) {
		snprintf(err, errlen, "%s holds a password in [redis] url but has mode %04o: group or "
		    "others may read it. Make it readable by its owner only (chmod 600 %s)", path,
		    mode, path);
		return -1;
	}
	return 0;
}

/*
 * [alerts] timezone as set at start: the C library has one zone per
 * process, and setting it while threads read the local time is a race,
 * so a change takes a restart (said at the reload).
 */
static char zone_at_start[80];

static void zone_start(const char *zone)
{
	snprintf(zone_at_start, sizeof(zone_at_start), "%s", zone);
	window_zone_set(zone);
}

/* SIGHUP: the same file and the same command line, read again. */
static int reload_config(struct sq_config *out, void *arg)
{
	const struct options *o = arg;
	struct sq_config next;
	char err[512];

	if (load_config(o, &next) != 0) {
		config_free(&next);
		return -1;
	}
	if (check_secrets(o, &next, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		config_free(&next);
		return -1;
	}
	if (strcmp(next.timezone, zone_at_start) != 0)
		log_warnx("[alerts] timezone: '%s' takes effect at the next restart; weekly "
		    "maintenance windows keep %s until then", next.timezone, zone_at_start);
	*out = next;
	return 0;
}

#define ONCE_UPKEEP_MS 1000

/*
 * --once: one pass, then every alert it owes is tried once, then a second
 * of the history's upkeep (run from cron, it still prunes).
 */
static int run_once(struct store *st, struct sq_backend *b, const struct sq_config *cfg,
    size_t window)
{
	struct pass_summary sum;
	int64_t left = 0;

	signal_set(SIGPIPE, SIG_IGN);
	int rc = pass_run(st, b, cfg, window, stdout, NULL, &sum) < 0;
	if (sum.skipped > 0)
		log_warnx("%zu site(s) skipped; see the lines above", sum.skipped);
	if (delivery_round(st, cfg, true, &left, NULL) < 0 || left > 0)
		log_warnx("%" PRId64 " alert(s) could not be sent and wait in the outbox", left);
	/* the history's upkeep, as the daemon's reporter does it, for a second at most */
	struct store_retention ret = { .raw_hours = cfg->raw_hours,
	    .history_days = cfg->history_days };
	struct store_retention_done done = { 0 };
	int64_t t0 = clock_mono_ms();
	while (clock_mono_ms() - t0 < ONCE_UPKEEP_MS &&
	    store_retention_step(st, &ret, (int64_t)time(NULL), &done) == 1)
		;
	return rc;
}

/*
 * --worker: no database, no mail. The checks run on a local backend: the
 * one named, else the configured one unless that is redis (a worker's
 * checks must leave from this machine), else the best built (libev).
 */
static int run_worker(const struct options *o, const struct sq_config *cfg)
{
#if SQ_HAVE_REDIS
	const char *backend = backend_local(cfg->backend) ? cfg->backend : backend_default();
	int rc;

	if (o->backend != NULL && !backend_local(o->backend)) {
		fprintf(stderr, "squirreld: a worker runs its checks itself: --backend %s\n",
		    backend_local_names());
		return EXIT_USAGE;
	}
	if (o->location != NULL && !location_valid(o->location, strlen(o->location))) {
		fprintf(stderr, "squirreld: --location '%s': use 1 to 63 letters, digits, '_', '-' or '.'\n",
		    o->location);
		return EXIT_USAGE;
	}
	if (probe_global_init() < 0 || resolve_global_init() < 0)
		return 1;
	rc = worker_run(cfg, o->location, backend);
	resolve_global_cleanup();
	probe_global_cleanup();
	return rc;
#else
	(void)o;
	(void)cfg;
	log_errorx("--worker needs Redis support, which this build leaves out: %s",
	    backend_how_to_build("redis"));
	return 1;
#endif
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct sq_config cfg;
	struct sq_backend backend;
	char err[512];
	int rc;

	/*
	 * Each batch of results runs SQLite statements whose triggers open and
	 * free a statement journal: with glibc's default trim threshold that is
	 * a brk() up and down, page faults and a TLB flush per check. Keep a
	 * little slack at the top of the heap instead (measured: 3 brk calls
	 * per check without it).
	 */
	mallopt(M_TOP_PAD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);

	log_init("squirreld");
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = load_config(&o, &cfg)) != 0) {
		config_free(&cfg);
		return rc;
	}
	log_set_level((enum log_level)cfg.log_level);
	zone_start(cfg.timezone);      /* before any thread starts */
	if (!cfg.backend_named && !backend_built("libev"))
		log_info("no backend configured and libev is not in this build: using the %s backend "
		    "(for libev, %s)", cfg.backend, backend_how_to_build("libev"));
	if (check_secrets(&o, &cfg, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		config_free(&cfg);
		return 1;
	}
	if (o.test_mail != NULL) {
		rc = delivery_test(&cfg, o.test_mail);
		config_free(&cfg);
		return rc;
	}
	if (o.worker) {
		rc = run_worker(&o, &cfg);
		config_free(&cfg);
		return rc;
	}
	if (probe_global_init() < 0 || resolve_global_init() < 0) {
		config_free(&cfg);
		return 1;
	}
	bool known;
	if (backend_lookup(cfg.backend, &known) == NULL) {
		struct sq_backend_params none = { 0 };
		backend_open(&backend, cfg.backend, &none);   /* logs why */
		rc = o.backend != NULL ? EXIT_USAGE : 1;
		goto out_curl;
	}
	struct store *st = store_open(cfg.database, STORE_CREATE | STORE_CHECK_PATH);
	if (st == NULL) {
		rc = 1;
		goto out_curl;
	}
	if (o.once) {
		struct sq_backend_params params;
		backend_params(&cfg, &params);
		params.keep_run = daemon_keep_run;
		params.keep_run_arg = cfg.database;
		if (backend_open(&backend, cfg.backend, &params) < 0) {
			rc = 1;
		} else {
			rc = run_once(st, &backend, &cfg, backend_window(cfg.backend, &params));
			backend_close(&backend);
		}
	} else {
		/* the daemon owns the configuration from here, for SIGHUP */
		struct sq_config *live = malloc(sizeof(*live));
		if (live == NULL) {
			rc = 1;
		} else {
			*live = cfg;
			memset(&cfg, 0, sizeof(cfg));
			rc = daemon_run(st, live, reload_config, &o);   /* closes st */
			st = NULL;
			free(live);
		}
	}
	store_close(st);
out_curl:
	resolve_global_cleanup();
	probe_global_cleanup();
	config_free(&cfg);
	return rc;
}

/*
 * registry.c - the table of backends, and finding one by name.
 *
 * One row per backend says what the rest of squirrel needs to know of it
 * without running it: its code when built, how many checks it takes in
 * flight, whether it checks on this machine (redis hands checks to
 * workers), what brings it into a build. The daemon, --once and the
 * worker ask here, and open their backend with parameters built here
 * once from the configuration; no backend reads the configuration.
 *
 * An unknown name is refused with the list of valid ones; a known backend
 * this build leaves out says so, with the Debian package and the meson
 * option that bring it in. A configuration that names no backend gets the
 * best one built: a build without libev still starts with its defaults.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "config_build.h"
#include "squirrel/base/log.h"
#include "squirrel/core/config.h"
#include "squirrel/backend/backend.h"

extern const struct sq_backend_ops backend_serial;
#if SQ_HAVE_THREADS
extern const struct sq_backend_ops backend_threads;
#endif
#if SQ_HAVE_PREFORK
extern const struct sq_backend_ops backend_prefork;
#endif
#if SQ_HAVE_LIBEV
extern const struct sq_backend_ops backend_libev;
#endif
#if SQ_HAVE_REDIS
extern const struct sq_backend_ops backend_redis;
#endif

static size_t window_one(const struct sq_backend_params *p)
{
	(void)p;
	return 1;
}

static size_t window_workers(const struct sq_backend_params *p)
{
	return (size_t)p->workers;
}

/* redis: the checks queued in Redis and not yet answered */
static size_t window_queued(const struct sq_backend_params *p)
{
	return (size_t)p->max_concurrent;
}

/* libev looks up to dns_max_inflight names ahead of its transfers */
static size_t window_libev(const struct sq_backend_params *p)
{
	return (size_t)p->max_concurrent + (size_t)p->probe.dns_max_inflight;
}

/*
 * The one table: what callers need to know of a backend without running
 * it. Row i is the backend named config_backend_names[i], the list the
 * configuration checks a name against (the unit test of the table holds
 * the two to the same length).
 */
static const struct backend_row {
	const struct sq_backend_ops *ops;   /* NULL: left out of this build */
	bool local;                         /* runs its checks on this machine */
	size_t (*window)(const struct sq_backend_params *p);   /* checks it takes in flight */
	const char *how;                    /* what brings it into a build */
} backends[] = {
	{ &backend_serial, true, window_one, "rebuild with it enabled" },
#if SQ_HAVE_THREADS
	{ &backend_threads, true, window_workers,
#else
	{ NULL, true, window_workers,
#endif
	    "it needs Linux; rebuild with -Dthreads=enabled" },
#if SQ_HAVE_PREFORK
	{ &backend_prefork, true, window_workers,
#else
	{ NULL, true, window_workers,
#endif
	    "it needs Linux; rebuild with -Dprefork=enabled" },
#if SQ_HAVE_LIBEV
	{ &backend_libev, true, window_libev,
#else
	{ NULL, true, window_libev,
#endif
	    "install libev-dev (Debian) and rebuild with -Dlibev=enabled" },
#if SQ_HAVE_REDIS
	{ &backend_redis, false, window_queued,
#else
	{ NULL, false, window_queued,
#endif
	    "install libhiredis-dev (Debian) and rebuild with -Dredis=enabled" },
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static const char *name_of(size_t row)
{
	return config_backend_names[row];
}

static const struct backend_row *row_of(const char *name)
{
	for (size_t i = 0; i < NBACKENDS && name_of(i) != NULL; i++)
		if (strcmp(name_of(i), name) == 0)
			return &backends[i];
	return NULL;
}

void backend_params(const struct sq_config *cfg, struct sq_backend_params *p)
{
	*p = (struct sq_backend_params){
		.workers = cfg->workers,
		.max_concurrent = cfg->max_concurrent,
		.probe = {
			.source_address = cfg->source_address,
			.ip_version = cfg->ip_version,
			.dns_servers = cfg->dns_servers,
			.dns_timeout_ms = cfg->dns_timeout_ms,
			.dns_tries = cfg->dns_tries,
			.dns_max_inflight = cfg->dns_max_inflight,
			.ca_file = cfg->ca_file,
		},
		.redis = {
			.url = cfg->redis_url,
			.prefix = cfg->redis_prefix,
			.locations = cfg->redis_locations,
			.quorum = cfg->redis_quorum,
			.claim_idle_ms = cfg->redis_claim_idle_ms,
			.timeout_ms = cfg->timeout_ms,
		},
	};
}

size_t backend_window(const char *name, const struct sq_backend_params *p)
{
	const struct backend_row *r = row_of(name);
	return r != NULL ? r->window(p) : 1;
}

bool backend_local(const char *name)
{
	const struct backend_row *r = row_of(name);
	return r != NULL && r->local;
}

bool backend_built(const char *name)
{
	bool known;
	return backend_lookup(name, &known) != NULL;
}

const char *backend_default(void)
{
	return config_backend_pick(backend_built);
}

const char *backend_how_to_build(const char *name)
{
	const struct backend_row *r = row_of(name);
	return r != NULL ? r->how : "rebuild with it enabled";
}

void backend_not_built(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "backend '%s' is not in this build: %s", name, backend_how_to_build(name));
}

/*
 * The rows' names joined, last_sep before the last one ("serial, threads,
 * prefork, libev, redis"; "serial, threads, prefork or libev").
 */
static void join_names(char *buf, size_t len, bool local_only, const char *last_sep)
{
	size_t n = 0, total = 0, off = 0;

	for (size_t i = 0; i < NBACKENDS; i++)
		total += !local_only || backends[i].local;
	buf[0] = '\0';
	for (size_t i = 0; i < NBACKENDS && off < len; i++) {
		if (local_only && !backends[i].local)
			continue;
		const char *sep = n == 0 ? "" : n + 1 == total ? last_sep : ", ";
		off += (size_t)snprintf(buf + off, len - off, "%s%s", sep, name_of(i));
		n++;
	}
}

static char all_names[128], local_names[128];

static void names_init(void)
{
	join_names(all_names, sizeof(all_names), false, ", ");
	join_names(local_names, sizeof(local_names), true, " or ");
}

static pthread_once_t names_once = PTHREAD_ONCE_INIT;

const char *backend_names(void)
{
	pthread_once(&names_once, names_init);
	return all_names;
}

const char *backend_local_names(void)
{
	pthread_once(&names_once, names_init);
	return local_names;
}

const struct sq_backend_ops *backend_lookup(const char *name, bool *known)
{
	const struct backend_row *r = row_of(name);

	*known = r != NULL;
	return r != NULL ? r->ops : NULL;
}

int backend_open(struct sq_backend *b, const char *name, const struct sq_backend_params *p)
{
	bool known;
	const struct sq_backend_ops *ops = backend_lookup(name, &known);

	memset(b, 0, sizeof(*b));
	if (ops == NULL) {
		char why[256];
		backend_not_built(why, sizeof(why), name);
		if (known)
			log_errorx("%s", why);
		else
			log_errorx("unknown backend '%s' (valid: %s)", name, backend_names());
		return -1;
	}
	b->ops = ops;
	if (ops->init(b, p) < 0) {
		b->ops = NULL;
		return -1;
	}
	log_debug("using the \"%s\" backend", name);
	return 0;
}

void backend_close(struct sq_backend *b)
{
	if (b->ops != NULL)
		b->ops->shutdown(b);
	b->ops = NULL;
	b->state = NULL;
}

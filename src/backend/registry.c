/*
 * registry.c - finds a backend by name. An unknown name is refused with the
 * list of valid ones; a known backend this build leaves out says so, with
 * the Debian package and the meson option that bring it in. A configuration
 * that names no backend gets the best one built: a build without libev
 * still starts with its defaults.
 */
#include <stdio.h>
#include <string.h>

#include "config_build.h"
#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"

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

static const struct {
	const char *name;
	const struct sq_backend_ops *ops;   /* NULL: left out of this build */
} backends[] = {
	{ "serial", &backend_serial },
#if SQ_HAVE_THREADS
	{ "threads", &backend_threads },
#else
	{ "threads", NULL },
#endif
#if SQ_HAVE_PREFORK
	{ "prefork", &backend_prefork },
#else
	{ "prefork", NULL },
#endif
#if SQ_HAVE_LIBEV
	{ "libev", &backend_libev },
#else
	{ "libev", NULL },
#endif
#if SQ_HAVE_REDIS
	{ "redis", &backend_redis },
#else
	{ "redis", NULL },
#endif
};

/* What brings a backend into the build, for the messages. */
static const struct {
	const char *name;
	const char *how;
} how_to_build[] = {
	{ "libev", "install libev-dev (Debian) and rebuild with -Dlibev=enabled" },
	{ "redis", "install libhiredis-dev (Debian) and rebuild with -Dredis=enabled" },
	{ "threads", "it needs Linux; rebuild with -Dthreads=enabled" },
	{ "prefork", "it needs Linux; rebuild with -Dprefork=enabled" },
};

/* Best first, for a configuration that names no backend. */
static const char *const preferred[] = { "libev", "threads", "serial" };

bool backend_built(const char *name)
{
	bool known;
	return backend_lookup(name, &known) != NULL;
}

const char *backend_pick(bool (*built)(const char *name))
{
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
		if (built(preferred[i]))
			return preferred[i];
	return "serial";   /* always built, whatever built() says */
}

const char *backend_default(void)
{
	return backend_pick(backend_built);
}

const char *backend_how_to_build(const char *name)
{
	for (size_t i = 0; i < sizeof(how_to_build) / sizeof(how_to_build[0]); i++)
		if (strcmp(how_to_build[i].name, name) == 0)
			return how_to_build[i].how;
	return "rebuild with it enabled";
}

void backend_not_built(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "backend '%s' is not in this build: %s", name, backend_how_to_build(name));
}

const char *backend_names(void)
{
	return "serial, threads, prefork, libev, redis";
}

size_t backend_window(const struct sq_config *cfg)
{
	if (strcmp(cfg->backend, "serial") == 0)
		return 1;
	if (strcmp(cfg->backend, "threads") == 0 || strcmp(cfg->backend, "prefork") == 0)
		return (size_t)cfg->workers;
	/* redis: the checks queued in Redis and not yet answered */
	if (strcmp(cfg->backend, "redis") == 0)
		return (size_t)cfg->max_concurrent;
	/* libev looks up to dns_max_inflight names ahead of its transfers */
	return (size_t)cfg->max_concurrent + (size_t)cfg->dns_max_inflight;
}

const struct sq_backend_ops *backend_lookup(const char *name, bool *known)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i].name, name) == 0) {
			*known = true;
			return backends[i].ops;
		}
	}
	*known = false;
	return NULL;
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

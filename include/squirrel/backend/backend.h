/*
 * backend.h - how checks are dispatched: one small table of functions per
 * concurrency model (serial, threads, prefork, libev, redis), one file each
 * under src/backend/. Backends run probes; they know nothing of SQL, mail or
 * site state.
 *
 * The caller submits checks, then polls: poll() waits up to timeout_ms for
 * results (or, with none pending, simply sleeps that long) and hands each
 * finished one to the callback. A check submitted is always answered
 * exactly once, even when the thread or process running it dies.
 */
#ifndef SQUIRREL_BACKEND_H
#define SQUIRREL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "squirrel/core/check.h"
#include "squirrel/core/config.h"
#include "squirrel/check/probe.h"

struct sq_backend_params {
	int workers;               /* threads, prefork */
	int max_concurrent;        /* libev */
	struct sq_probe_opts probe;
	/* redis: [redis] and [check]; read in init only (copy what is kept) */
	const struct sq_config *cfg;
	/*
	 * redis: keeps the coordinator's run between starts, the defence
	 * against forged answers (src/backend/redis.c). Records run for the
	 * stream prefix and puts the run recorded before it in previous:
	 * returns 1, 0 when there was none, -1 when it cannot be kept. The
	 * program owns the database and gives this; NULL keeps nothing.
	 */
	int (*keep_run)(void *arg, const char *prefix, const char *run, char *previous, size_t len);
	void *keep_run_arg;
};

/* The probe settings of a configuration ([check]); pointers into cfg. */
static inline struct sq_probe_opts sq_probe_opts_from(const struct sq_config *cfg)
{
	return (struct sq_probe_opts){
		.source_address = cfg->source_address,
		.ip_version = cfg->ip_version,
		.dns_servers = cfg->dns_servers,
		.dns_timeout_ms = cfg->dns_timeout_ms,
		.dns_tries = cfg->dns_tries,
		.dns_max_inflight = cfg->dns_max_inflight,
	};
}

typedef void sq_result_fn(const struct sq_result *r, void *arg);

struct sq_backend;

struct sq_backend_ops {
	const char *name;
	/* Allocates the backend's state in b->state. 0 or -1 (logged). */
	int (*init)(struct sq_backend *b, const struct sq_backend_params *p);
	/* Queues one check; c is copied, c->url must stay valid until its result. */
	int (*submit)(struct sq_backend *b, const struct sq_check *c);
	/*
	 * Waits at most timeout_ms (0: don't wait) for results and delivers
	 * every finished one through fn. Returns the number delivered or -1.
	 * It is the caller's one wait: with nothing pending it still sleeps
	 * until timeout_ms has passed (a signal may end the wait sooner), so
	 * an idle caller does not spin. A negative timeout waits for a result
	 * without limit, but returns at once when none can come.
	 */
	int (*poll)(struct sq_backend *b, int timeout_ms, sq_result_fn *fn, void *arg);
	/* Checks submitted and not yet delivered. */
	size_t (*pending)(struct sq_backend *b);
	/* Frees everything; checks still pending are dropped. */
	void (*shutdown)(struct sq_backend *b);
};

struct sq_backend {
	const struct sq_backend_ops *ops;
	void *state;
};

/*
 * Finds a backend by name. Returns NULL when there is none: *known then
 * tells an unknown name from a known backend this build leaves out.
 */
const struct sq_backend_ops *backend_lookup(const char *name, bool *known);

/*
 * How many checks to keep submitted to the configured backend: what it runs
 * at once (1, workers or max_concurrent).
 */
size_t backend_window(const struct sq_config *cfg);

/* Whether this build has the backend name. */
bool backend_built(const char *name);

/*
 * The backend for a configuration that names none: the first of libev,
 * threads and serial that built() says the build has (serial always).
 */
const char *backend_pick(bool (*built)(const char *name));

/* backend_pick(backend_built): this build's default. */
const char *backend_default(void);

/*
 * What brings the backend name into a build: the Debian package and the
 * meson option ("install libev-dev (Debian) and rebuild with -Dlibev=enabled").
 */
const char *backend_how_to_build(const char *name);

/* "backend 'NAME' is not in this build: " and how to build it, into buf. */
void backend_not_built(char *buf, size_t len, const char *name);

/* "serial, threads, prefork, libev, redis": for error messages. */
const char *backend_names(void);

/* Convenience wrappers: look up, init. 0 or -1 (logged). */
int backend_open(struct sq_backend *b, const char *name, const struct sq_backend_params *p);
void backend_close(struct sq_backend *b);

#endif

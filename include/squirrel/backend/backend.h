/*
 * backend.h - how checks are dispatched: one small table of functions per
 * concurrency model (serial, threads, prefork, libev, redis), one file each
 * under src/backend/. Backends run probes; they know nothing of SQL, mail or
 * site state.
 *
 * The caller submits checks, then polls: poll() waits up to timeout_ms for
 * results (or, with none pending, simply sleeps that long) and hands each
 * finished one to the callback. A check submitted is
 * always answered exactly once, even when the thread or process running it
 * dies.
 *
 * src/backend/registry.c keeps the one table of backends: each row's
 * name (the configuration's list of names, config_backend_names), its
 * code when built, its window and whether it checks locally. A backend
 * sees its parameters, never the configuration: backend_params() builds
 * them from it once.
 */
#ifndef SQUIRREL_BACKEND_H
#define SQUIRREL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "squirrel/core/check.h"
#include "squirrel/check/probe.h"

struct sq_config;

/*
 * What the redis backend reads of [redis] and [check]. Pointers into the
 * configuration, read in init only (copy what is kept).
 */
struct sq_redis_params {
	const char *url;
	const char *prefix;
	const char *locations;
	int quorum;
	int claim_idle_ms;
	int timeout_ms;            /* [check] timeout: how long a check may run */
};

/* Everything a backend is opened with; backend_params() fills it. */
struct sq_backend_params {
	int workers;               /* threads, prefork */
	int max_concurrent;        /* libev, redis */
	struct sq_probe_opts probe;
	struct sq_redis_params redis;
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

/*
 * The parameters of a configuration's backend, built here alone (the
 * daemon, --once and the Redis worker open theirs with it). Pointers
 * into cfg, which must outlive the backend's init.
 */
void backend_params(const struct sq_config *cfg, struct sq_backend_params *p);

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
 * How many checks to keep submitted to the backend name opened with p:
 * what it takes in flight (1, workers, max_concurrent, and for libev the
 * lookups it makes ahead of its transfers). 1 for an unknown name.
 */
size_t backend_window(const char *name, const struct sq_backend_params *p);

/*
 * Whether the backend runs its checks on this machine: every one but
 * redis, which hands them to workers (a worker runs a local one).
 */
bool backend_local(const char *name);

/* Whether this build has the backend name. */
bool backend_built(const char *name);

/*
 * The backend for a configuration that names none: config_backend_pick()
 * over backend_built(), this build's best.
 */
const char *backend_default(void);

/*
 * What brings the backend name into a build: the Debian package and the
 * meson option ("install libev-dev (Debian) and rebuild with -Dlibev=enabled").
 */
const char *backend_how_to_build(const char *name);

/* "backend 'NAME' is not in this build: " and how to build it, into buf. */
void backend_not_built(char *buf, size_t len, const char *name);

/* "serial, threads, prefork, libev, redis": every row, for messages. */
const char *backend_names(void);

/* "serial, threads, prefork or libev": the local ones, for messages. */
const char *backend_local_names(void);

/* Convenience wrappers: look up, init. 0 or -1 (logged). */
int backend_open(struct sq_backend *b, const char *name, const struct sq_backend_params *p);
void backend_close(struct sq_backend *b);

#endif

/*
 * probe.h - one HTTP check with libcurl, shared by every backend so that all
 * of them classify a site the same way.
 *
 * A probe is a curl easy handle plus the little state a check needs (when it
 * started, whether it already retried with GET). Blocking backends call
 * probe_run(); event-driven ones call probe_start(), hand probe_handle() to
 * their multi handle, and call probe_done() when it finishes.
 */
#ifndef SQUIRREL_PROBE_H
#define SQUIRREL_PROBE_H

#include <stdbool.h>

#include "squirrel/check.h"

/* Settings that hold for every check a backend runs. */
struct sq_probe_opts {
	const char *source_address;  /* NULL or "" = any */
	int ip_version;              /* 0 = any, 4, 6 */
};

struct probe;

/* Must run once per process before any thread uses curl. Returns 0 or -1. */
int probe_global_init(void);
void probe_global_cleanup(void);

/* A probe can be reused for check after check; NULL on out of memory. */
struct probe *probe_new(const struct sq_probe_opts *opts);
void probe_free(struct probe *p);

/* Runs one check to its end, blocking. The result is always filled. */
void probe_run(struct probe *p, const struct sq_check *c, struct sq_result *r);

/*
 * Event-driven use: probe_start() prepares the handle for c (returns 0, or
 * -1 with r filled when the check cannot even start, e.g. a bad url);
 * probe_handle() is the CURL * to add to a multi handle; when libcurl says
 * the transfer is done, probe_done() classifies it. If it returns true the
 * probe wants a second attempt (GET after a 405/501 to HEAD): re-add the
 * handle and wait again. Otherwise r holds the result.
 */
int probe_start(struct probe *p, const struct sq_check *c, struct sq_result *r);
void *probe_handle(struct probe *p);
bool probe_done(struct probe *p, int curlcode, struct sq_result *r);

/* The probe a handle belongs to (CURLINFO_PRIVATE). */
struct probe *probe_from_handle(void *curl_handle);

/*
 * Checks a url before it is ever fetched: http or https, a host, no spaces
 * or control characters. Returns true, or false with the reason in why.
 */
bool probe_url_valid(const char *url, char *why, size_t whylen);

/* The User-Agent every check sends. */
const char *probe_user_agent(void);

#endif

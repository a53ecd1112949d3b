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
#include <stdint.h>

#include "squirrel/core/check.h"

/* Settings that hold for every check a backend runs. */
struct sq_probe_opts {
	const char *source_address;  /* NULL or "" = any */
	int ip_version;              /* 0 = any, 4, 6 */
	/* name lookups (c-ares, src/check/resolve.c), from [check] */
	const char *dns_servers;     /* "" or NULL: /etc/resolv.conf */
	int dns_timeout_ms;
	int dns_tries;
	int dns_max_inflight;
	const char *hosts_file;      /* NULL: /etc/hosts (tests point it elsewhere) */
	/*
	 * [check] ca_file: extra trusted authorities, PEM, added to the system's
	 * (libcurl's own bundle and directory); NULL or "": the system's alone.
	 */
	const char *ca_file;
};

struct resolve_answer;

/*
 * A copy that owns its strings, for a backend that makes probes later than
 * its init (the configuration may be reloaded meanwhile). 0 or -1.
 */
int probe_opts_copy(struct sq_probe_opts *dst, const struct sq_probe_opts *src);
void probe_opts_free(struct sq_probe_opts *o);

struct probe;

/* Must run once per process before any thread uses curl. Returns 0 or -1. */
int probe_global_init(void);
void probe_global_cleanup(void);

/*
 * A probe can be reused for check after check; NULL on error (logged). A
 * probe made for blocking use (probe_run) looks names up with a resolver of
 * its own; one for event-driven use (with_resolver false) is handed the
 * addresses by its backend (probe_set_addresses).
 */
struct probe *probe_new(const struct sq_probe_opts *opts, bool with_resolver);
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

/*
 * After probe_start(): the name the check must look up first, or NULL when
 * the url's host is an address literal (or a lookup is already done).
 */
const char *probe_lookup_name(const struct probe *p);

/*
 * The lookup's answer. On success the transfer connects to those addresses
 * (CURLOPT_RESOLVE: the Host header, TLS SNI and the certificate check keep
 * the name) within the time left, and 0 is returned; on a failure r is the
 * check's result (a dns class) and -1 is returned.
 */
int probe_set_addresses(struct probe *p, const struct resolve_answer *a, struct sq_result *r);

/* Whether a check of url starts with a name lookup (its host is no address). */
bool probe_url_needs_lookup(const char *url);

/*
 * Time a resolved check spends waiting for a transfer slot is neither the
 * site's time nor taken from its timeout: pause its clock meanwhile.
 */
void probe_pause_clock(struct probe *p);
void probe_resume_clock(struct probe *p);

/* A pointer of the backend's own, kept with the probe (e.g. for callbacks). */
void probe_set_owner(struct probe *p, void *owner);
void *probe_owner(const struct probe *p);

/* The probe a handle belongs to (CURLINFO_PRIVATE). */
struct probe *probe_from_handle(void *curl_handle);

/*
 * A stop: every check still running at deadline_ms (CLOCK_MONOTONIC, ms)
 * ends there, within a second, with SQ_ERR_STOPPED (a result the caller
 * drops); those started later end at once. It holds for every probe of
 * the process, blocking ones included. Safe in a signal handler.
 */
void probe_stop_at(int64_t deadline_ms);

/* The User-Agent every check sends. */
const char *probe_user_agent(void);

#endif

/*
 * check.h - what a backend is asked to do and what it hands back.
 *
 * Both structures are plain data of fixed size apart from the url pointer, so
 * a backend can copy them across a socket (prefork) or a queue (threads).
 */
#ifndef SQUIRREL_CHECK_H
#define SQUIRREL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest timeout a check may have, in ms (10 minutes): [check]
 * timeout and connect_timeout, the sites.timeout_ms column, squirrelctl
 * and the Redis workers all stop there, so a site any of them accepts
 * every backend runs.
 */
#define SQ_TIMEOUT_MAX_MS 600000

/* One check of one site. The caller owns url until the result comes back. */
struct sq_check {
	int64_t site_id;
	uint64_t tag;            /* the caller's own reference, echoed back */
	const char *url;
	int32_t timeout_ms;       /* whole check, the GET retry included */
	int32_t connect_timeout_ms;
	int32_t max_redirects;
};

/*
 * Why a check failed. The names are a contract (DESIGN.md, --once output):
 * see sq_err_name().
 */
enum sq_err {
	SQ_OK = 0,
	SQ_ERR_HTTP,              /* "http 503": a response, but 4xx/5xx */
	SQ_ERR_DNS,               /* "dns": the name did not resolve */
	SQ_ERR_DNS_NXDOMAIN,
	SQ_ERR_DNS_SERVFAIL,
	SQ_ERR_DNS_TIMEOUT,
	SQ_ERR_DNS_NOADDR,
	SQ_ERR_CONNECT_REFUSED,
	SQ_ERR_CONNECT_TIMEOUT,
	SQ_ERR_UNREACHABLE,
	SQ_ERR_TIMEOUT,
	SQ_ERR_TLS,
	SQ_ERR_TOO_MANY_REDIRECTS,
	SQ_ERR_PROTOCOL,          /* a redirect to a scheme other than http/https */
	SQ_ERR_EMPTY_REPLY,
	SQ_ERR_BAD_REPLY,         /* not HTTP/1.x: HTTP/0.9, noise, status 99 */
	SQ_ERR_RESET,
	SQ_ERR_BAD_URL,
	SQ_ERR_WORKER,            /* the worker running the check died */
	SQ_ERR_OTHER,             /* detail holds libcurl's message */
	SQ_ERR_NO_QUORUM,         /* "unknown": too few locations answered (redis) */
	SQ_ERR_TOO_LARGE,         /* a status line or header beyond libcurl's limit */
	SQ_ERR_STOPPED,           /* cut short by the daemon's stop: never recorded */
	SQ_ERR_MAX
};

#define SQ_DETAIL_MAX 96
#define SQ_VOTES_MAX 32           /* locations one verdict can name (redis) */

/* What one location saw of a check that several ran (redis). */
struct sq_vote {
	uint8_t location;         /* its place in [redis] locations */
	uint8_t err;              /* enum sq_err */
	uint16_t http_status;
	int32_t ms;
};

struct sq_result {
	int64_t site_id;
	uint64_t tag;
	int64_t started_ms;       /* wall clock, ms since the epoch */
	int32_t http_status;      /* final response's status; 0 if none */
	int32_t err;              /* enum sq_err */
	int32_t ms;               /* how long the check took */
	/*
	 * SQ_ERR_OTHER: the library's words. Any other class: shown instead
	 * of the class name when it extends it ("http 503 from paris, tokyo",
	 * "unknown: no answer from tokyo"), else never shown.
	 */
	char detail[SQ_DETAIL_MAX];
	/*
	 * A verdict of several locations: the answers it rests on, in the
	 * order of [redis] locations; none for a single-machine check. The
	 * history keeps them (check_locations).
	 */
	int32_t nvotes;
	struct sq_vote votes[SQ_VOTES_MAX];
};

static inline bool sq_result_ok(const struct sq_result *r)
{
	return r->err == SQ_OK;
}

/* The short class name: "timeout", "connect refused", "dns", ... */
const char *sq_err_name(enum sq_err err);

/* The class of a name sq_err_name() gives ("" is SQ_OK); -1 for any other text. */
int sq_err_parse(const char *name);

/*
 * The error column as people read it: "" when up, "http 503", the class
 * name, or libcurl's own message for SQ_ERR_OTHER. Never contains a tab or
 * a newline.
 */
const char *sq_result_error(const struct sq_result *r, char *buf, size_t len);

#endif

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

#include "squirrel/core/classes.h"

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

/*
 * The error column as people read it: "" when up, "http 503", the class
 * name, or libcurl's own message for SQ_ERR_OTHER. Never contains a tab or
 * a newline.
 */
const char *sq_result_error(const struct sq_result *r, char *buf, size_t len);

#endif

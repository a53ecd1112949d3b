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
/* The largest slow_ms ([check] slow_ms, sites.slow_ms): no check lasts longer. */
#define SQ_SLOW_MAX_MS SQ_TIMEOUT_MAX_MS

/*
 * What a check expects of the answer, in fixed size so that it crosses a
 * socket (prefork) as it is: the method, the final statuses that are up
 * (ranges; none: 200-399), and a keyword searched as bytes in at most
 * body_max bytes of the body.
 */
#define SQ_KEYWORD_MAX 256        /* bytes of a keyword (sites.keyword) */
#define SQ_EXPECT_RANGES 16       /* ranges of an expect_status list */
#define SQ_EXPECT_TEXT_MAX 200    /* characters of an expect_status list */

enum sq_method { SQ_METHOD_HEAD = 0, SQ_METHOD_GET = 1 };
enum sq_keyword_mode { SQ_KEYWORD_PRESENT = 0, SQ_KEYWORD_ABSENT = 1 };

struct sq_status_range {
	uint16_t lo, hi;          /* inclusive */
};

struct sq_expect {
	uint8_t method;           /* enum sq_method; a keyword makes it GET */
	uint8_t keyword_mode;     /* enum sq_keyword_mode */
	uint8_t keyword_nocase;   /* 1: ASCII letters match either case */
	uint8_t nstatus;          /* ranges in status; 0: the default, 200-399 */
	int32_t body_max;         /* bytes of the body read at most */
	uint32_t keyword_len;     /* 0: no keyword */
	uint32_t reserved;        /* 0: no padding crosses a socket */
	struct sq_status_range status[SQ_EXPECT_RANGES];
	char keyword[SQ_KEYWORD_MAX];  /* keyword_len bytes, no NUL needed */
};

/* One check of one site. The caller owns url until the result comes back. */
struct sq_check {
	int64_t site_id;
	uint64_t tag;            /* the caller's own reference, echoed back */
	const char *url;
	int32_t timeout_ms;       /* whole check, the GET retry included */
	int32_t connect_timeout_ms;
	int32_t max_redirects;
	struct sq_expect expect;
};

/*
 * Parses an expect_status list, "200-299,301,401": codes and ranges of
 * codes from 100 to 599, a comma between them, no space, at most
 * SQ_EXPECT_RANGES of them. 0, or -1 with the reason in why ("402-400:
 * a range must not end before it starts"); e is set only on success.
 */
int sq_expect_status_parse(const char *text, struct sq_expect *e, char *why, size_t len);

/* The list e holds, as sq_expect_status_parse() reads it ("" for the default). */
const char *sq_expect_status_text(const struct sq_expect *e, char *buf, size_t len);

/* Whether a final status is one e expects (none listed: 200-399). */
bool sq_expect_status_ok(const struct sq_expect *e, long status);

/* Whether the check reads the body: a GET, or a keyword to look for. */
static inline bool sq_expect_reads_body(const struct sq_expect *e)
{
	return e->method == SQ_METHOD_GET || e->keyword_len > 0;
}

#define SQ_DETAIL_MAX 96
#define SQ_VOTES_MAX 32           /* locations one verdict can name (redis) */

/* What one location saw of a check that several ran (redis). */
struct sq_vote {
	uint8_t location;         /* its place in [redis] locations */
	uint8_t err;              /* enum sq_err */
	uint16_t http_status;
	int32_t ms;
};

/*
 * The leaf certificate an https check was answered over (the last answer's,
 * after redirects), read from the check's own handshake; not_after 0: none
 * (http, a failed handshake, or reading turned off). Fixed size, like the
 * rest of a result; the names are cut to fit.
 */
#define SQ_CERT_NAME_MAX 160      /* subject or issuer, with its NUL */
#define SQ_CERT_FP_LEN 32         /* SHA-256 of the certificate's DER */

struct sq_cert {
	int64_t not_after;        /* unix s */
	uint8_t fingerprint[SQ_CERT_FP_LEN];
	char subject[SQ_CERT_NAME_MAX];   /* "CN=example.org,O=Example" */
	char issuer[SQ_CERT_NAME_MAX];
};

/* The fingerprint in hex, 64 digits and a NUL. Returns buf. */
#define SQ_CERT_FP_HEX (SQ_CERT_FP_LEN * 2 + 1)
const char *sq_cert_fp_hex(const struct sq_cert *c, char *buf, size_t len);

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
	struct sq_cert cert;
};

static inline bool sq_result_ok(const struct sq_result *r)
{
	return r->err == SQ_OK;
}

/*
 * One group of a verdict of several locations (redis): the class they saw
 * and where, "paris, tokyo". The mail puts each group in words.
 */
struct sq_located {
	int err;                  /* enum sq_err */
	int http_status;          /* SQ_ERR_HTTP: the status */
	const char *where;        /* the locations, ", " between them */
};

/*
 * A site behind another (depends_on), as its parent's DOWN or UP mail
 * names it: back (its latest check succeeded) or still failing.
 */
struct sq_child {
	int64_t site_id;
	const char *url;
	const char *name;         /* NULL or "": the url's host names it */
	bool back;
};

/*
 * The error as people read it from its parts: "" for SQ_OK, "http 503",
 * the class name, the detail when it extends the class ("http 503 from
 * paris"), the detail itself for SQ_ERR_OTHER (else "error"). detail may
 * be NULL; at most dlen of its bytes are read. Never contains a tab or a
 * newline. Returns buf.
 */
const char *sq_error_text(int err, int http_status, const char *detail, size_t dlen,
    char *buf, size_t len);

/* Whether sq_error_text() shows the detail (as it is) rather than the class. */
bool sq_error_shows_detail(int err, int http_status, const char *detail, size_t dlen);

/*
 * The detail worth keeping beside the class: the words sq_result_error()
 * shows when they are the detail's (libcurl's message, "http 503 from
 * paris"), else "". The history and the outbox keep this. Returns buf.
 */
const char *sq_result_detail(const struct sq_result *r, char *buf, size_t len);

/*
 * The error column as people read it: "" when up, "http 503", the class
 * name, or libcurl's own message for SQ_ERR_OTHER. Never contains a tab or
 * a newline.
 */
const char *sq_result_error(const struct sq_result *r, char *buf, size_t len);

#endif

/*
 * redis_wire.h - what the coordinator and the workers write to each other
 * through Redis Streams, and the strict reading of it.
 *
 * <prefix>:checks holds one entry per dispatched check, <prefix>:results one
 * per answer of one location. Both are versioned ("v"): a reader refuses
 * another version instead of guessing, and ignores fields it does not know
 * unless the entry says it needs them.
 *
 * A check that only asks what version 1 could say (a HEAD, statuses
 * 200-399, no keyword) is written as version 1, so older workers still
 * run it. One that asks more is version 2, whose field "need" lists the
 * fields it cannot be checked without ("method,expect_status,keyword"): a
 * version 1 worker refuses it by its version, and a version 2 reader
 * refuses one that needs a field it does not know, by that field's name,
 * rather than check the site some other way than asked. Neither side trusts what it reads: every
 * field is checked for type, range and length before it is used, and a bad
 * entry is refused with the reason, never half-read.
 *
 * Plain data and text only: no Redis library here, so the unit tests can
 * feed it anything.
 */
#ifndef SQUIRREL_REDIS_WIRE_H
#define SQUIRREL_REDIS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/base/validate.h"
#include "squirrel/core/check.h"

#define RW_VERSION "1"         /* what a plain check is written as */
#define RW_VERSION_EXPECT "2"  /* a check with "need": what the answer must be */
#define RW_VERSION_RESULT_CERT "2"  /* an answer with "need": the certificate it came over */
#define RW_ID_MAX 48          /* a check id, with its terminating NUL */
#define RW_LOCATION_MAX LOCATION_NAME_MAX  /* a location (consumer group) name, with NUL */
#define RW_URL_MAX 4096       /* longer urls are refused */
/* The coordinator's consumer group on <prefix>:results. */
#define RW_COORDINATOR_GROUP "squirreld"

/* A command being built: arguments by pointer and length, numbers formatted inside. */
#define RW_ARGS_MAX 48
struct rw_args {
	int n;
	const char *v[RW_ARGS_MAX];
	size_t len[RW_ARGS_MAX];
	char num[RW_ARGS_MAX][24];
	bool overflow;            /* more than RW_ARGS_MAX: the command must not be sent */
};

void rw_args_init(struct rw_args *a);
/* s must outlive the command (until it is handed to the connection). */
void rw_args_add(struct rw_args *a, const char *s);
void rw_args_addn(struct rw_args *a, const char *s, size_t len);
void rw_args_int(struct rw_args *a, int64_t v);

/* One field of an entry, as read from a reply: not NUL-terminated. */
struct rw_field {
	const char *key, *val;
	size_t klen, vlen;
};

/* A check as the queue carries it. */
struct rw_check {
	char id[RW_ID_MAX];
	int64_t site_id;
	const char *url;          /* into the entry read (parse) or the caller's (encode) */
	size_t url_len;
	int32_t timeout_ms;
	int32_t connect_timeout_ms;
	int32_t max_redirects;
	int64_t deadline_ms;      /* wall clock, ms since the epoch */
	struct sq_expect expect;  /* what the answer must be (version 2) */
	/* encode's own text, which a points into */
	char expect_text[SQ_EXPECT_TEXT_MAX + 1];
	char need[128];
};

/*
 * Appends the fields of c (v, check, site, url, ...) to a; version 2, with
 * need, when c->expect asks more than version 1 could say. a points into
 * c: hand a to the connection while c still exists.
 */
void rw_check_encode(struct rw_args *a, struct rw_check *c);

/*
 * Reads a check entry, version 1 or 2. Returns 0, or -1 with the reason in
 * why (the entry must then be acknowledged and dropped): a field named in
 * need that this squirrel does not know is named there. The url must be
 * http or https.
 */
int rw_check_parse(const struct rw_field *f, size_t n, struct rw_check *out,
    char *why, size_t whylen);

/* One location's answer to one check. */
struct rw_result {
	char check_id[RW_ID_MAX];
	char location[RW_LOCATION_MAX];
	const char *url;          /* the check's url, echoed */
	size_t url_len;
	int64_t deadline_ms;      /* the check's deadline, echoed */
	struct sq_result r;       /* site_id, started_ms, http_status, err, ms, detail, cert */
	char cert_fp[SQ_CERT_FP_HEX];  /* encode's own text, which a points into */
};

/*
 * Appends the fields of res (worker names the consumer, for people):
 * version 1, or version 2 when the answer came over a certificate, with
 * need naming its fields (cert_end, cert_fp, cert_subject, cert_issuer),
 * so a reader that does not know one refuses the answer by that name. a
 * points into res: hand a to the connection while res still exists.
 */
void rw_result_encode(struct rw_args *a, struct rw_result *res, const char *worker);

/* Reads a result entry, version 1 or 2. 0, or -1 with the reason in why. */
int rw_result_parse(const struct rw_field *f, size_t n, struct rw_result *out,
    char *why, size_t whylen);

/* A check id the coordinator made: "<run, 16 hex digits>-<sequence>". */
void rw_check_id_format(char *buf, size_t len, uint64_t run, uint64_t seq);
int rw_check_id_parse(const char *id, uint64_t *run, uint64_t *seq);

/*
 * Text from Redis fit for one log line: at most max bytes, control
 * characters and non-ASCII bytes shown as '?'.
 */
void rw_printable(char *buf, size_t buflen, const char *s, size_t len);

/* Whether a redis:// url carries a password (user:password@ or :password@). */
bool rw_url_has_password(const char *url);

/* A stream entry id "<ms>-<seq>": its milliseconds part, or -1. */
int64_t rw_stream_id_ms(const char *id, size_t len);

#endif

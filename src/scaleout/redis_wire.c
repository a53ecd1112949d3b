/*
 * redis_wire.c - the entries of <prefix>:checks and <prefix>:results, and
 * their strict reading (see redis_wire.h). Whatever Redis hands back may have
 * been written by anyone who can reach it: lengths are checked before
 * copies, numbers are whole and in range, text is checked character by
 * character, and a url is accepted only if the probe would fetch it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "squirrel/base/validate.h"
#include "squirrel/scaleout/redis_wire.h"

void rw_args_init(struct rw_args *a)
{
	a->n = 0;
	a->overflow = false;
}

void rw_args_addn(struct rw_args *a, const char *s, size_t len)
{
	if (a->n == RW_ARGS_MAX) {
		a->overflow = true;
		return;
	}
	a->v[a->n] = s;
	a->len[a->n] = len;
	a->n++;
}

void rw_args_add(struct rw_args *a, const char *s)
{
	rw_args_addn(a, s, strlen(s));
}

void rw_args_int(struct rw_args *a, int64_t v)
{
	if (a->n == RW_ARGS_MAX) {
		a->overflow = true;
		return;
	}
	int len = snprintf(a->num[a->n], sizeof(a->num[0]), "%" PRId64, v);
	rw_args_addn(a, a->num[a->n], (size_t)len);
}

/* The fields of version 2: what the answer must be. need names those an entry has. */
static const char *const expect_fields[] = {
	"method", "expect_status", "keyword", "keyword_mode", "keyword_nocase", "body_max",
};
#define EXPECT_NFIELDS (sizeof(expect_fields) / sizeof(expect_fields[0]))

/* Whether e asks what version 1 cannot say. */
static bool expect_plain(const struct sq_expect *e)
{
	return e->method == SQ_METHOD_HEAD && e->nstatus == 0 && e->keyword_len == 0;
}

static void need_add(struct rw_check *c, const char *field)
{
	size_t used = strlen(c->need);
	snprintf(c->need + used, sizeof(c->need) - used, "%s%s", used ? "," : "", field);
}

static void expect_encode(struct rw_args *a, struct rw_check *c)
{
	const struct sq_expect *e = &c->expect;

	c->need[0] = '\0';
	if (e->method == SQ_METHOD_GET)
		need_add(c, "method");
	if (e->nstatus > 0)
		need_add(c, "expect_status");
	if (e->keyword_len > 0) {
		need_add(c, "keyword");
		need_add(c, "keyword_mode");
		need_add(c, "keyword_nocase");
	}
	if (sq_expect_reads_body(e))
		need_add(c, "body_max");
	rw_args_add(a, "need");
	rw_args_add(a, c->need);
	if (e->method == SQ_METHOD_GET) {
		rw_args_add(a, "method");
		rw_args_add(a, "GET");
	}
	if (e->nstatus > 0) {
		rw_args_add(a, "expect_status");
		rw_args_add(a, sq_expect_status_text(e, c->expect_text, sizeof(c->expect_text)));
	}
	if (e->keyword_len > 0) {
		rw_args_add(a, "keyword");
		rw_args_addn(a, e->keyword, e->keyword_len < SQ_KEYWORD_MAX ? e->keyword_len :
		    SQ_KEYWORD_MAX);
		rw_args_add(a, "keyword_mode");
		rw_args_add(a, e->keyword_mode == SQ_KEYWORD_ABSENT ? "absent" : "present");
		rw_args_add(a, "keyword_nocase");
		rw_args_add(a, e->keyword_nocase ? "1" : "0");
	}
	if (sq_expect_reads_body(e)) {
		rw_args_add(a, "body_max");
		rw_args_int(a, e->body_max);
	}
}

void rw_check_encode(struct rw_args *a, struct rw_check *c)
{
	bool plain = expect_plain(&c->expect);

	rw_args_add(a, "v");
	rw_args_add(a, plain ? RW_VERSION : RW_VERSION_EXPECT);
	rw_args_add(a, "check");
	rw_args_add(a, c->id);
	rw_args_add(a, "site");
	rw_args_int(a, c->site_id);
	rw_args_add(a, "url");
	rw_args_addn(a, c->url, c->url_len);
	rw_args_add(a, "timeout");
	rw_args_int(a, c->timeout_ms);
	rw_args_add(a, "connect_timeout");
	rw_args_int(a, c->connect_timeout_ms);
	rw_args_add(a, "max_redirects");
	rw_args_int(a, c->max_redirects);
	rw_args_add(a, "deadline");
	rw_args_int(a, c->deadline_ms);
	if (!plain)
		expect_encode(a, c);
}

/*
 * The fields of a result's version 2: the certificate the answer came
 * over. need names them all; a reader that does not know one refuses the
 * answer by that name rather than record it without.
 */
static const char *const cert_fields[] = { "cert_end", "cert_fp", "cert_subject", "cert_issuer" };
#define CERT_NFIELDS (sizeof(cert_fields) / sizeof(cert_fields[0]))
#define CERT_NEED "cert_end,cert_fp,cert_subject,cert_issuer"

void rw_result_encode(struct rw_args *a, struct rw_result *res, const char *worker)
{
	const struct sq_result *r = &res->r;
	bool cert = r->cert.not_after > 0;

	rw_args_add(a, "v");
	rw_args_add(a, cert ? RW_VERSION_RESULT_CERT : RW_VERSION);
	rw_args_add(a, "check");
	rw_args_add(a, res->check_id);
	rw_args_add(a, "site");
	rw_args_int(a, r->site_id);
	rw_args_add(a, "location");
	rw_args_add(a, res->location);
	rw_args_add(a, "worker");
	rw_args_add(a, worker);
	rw_args_add(a, "url");
	rw_args_addn(a, res->url, res->url_len);
	rw_args_add(a, "deadline");
	rw_args_int(a, res->deadline_ms);
	rw_args_add(a, "started");
	rw_args_int(a, r->started_ms);
	rw_args_add(a, "ms");
	rw_args_int(a, r->ms);
	rw_args_add(a, "status");
	rw_args_int(a, r->http_status);
	rw_args_add(a, "err");
	rw_args_add(a, sq_class_name(r->err));
	rw_args_add(a, "detail");
	rw_args_addn(a, r->detail, strnlen(r->detail, sizeof(r->detail)));
	if (!cert)
		return;
	rw_args_add(a, "need");
	rw_args_add(a, CERT_NEED);
	rw_args_add(a, "cert_end");
	rw_args_int(a, r->cert.not_after);
	rw_args_add(a, "cert_fp");
	rw_args_add(a, sq_cert_fp_hex(&r->cert, res->cert_fp, sizeof(res->cert_fp)));
	rw_args_add(a, "cert_subject");
	rw_args_addn(a, r->cert.subject, strnlen(r->cert.subject, sizeof(r->cert.subject)));
	rw_args_add(a, "cert_issuer");
	rw_args_addn(a, r->cert.issuer, strnlen(r->cert.issuer, sizeof(r->cert.issuer)));
}

void rw_printable(char *buf, size_t buflen, const char *s, size_t len)
{
	size_t n = 0;

	if (buflen == 0)
		return;
	for (size_t i = 0; i < len && n + 1 < buflen; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	buf[n] = '\0';
	if (len > n && buflen > 4 && n + 1 == buflen)
		memcpy(buf + buflen - 4, "...", 4);
}

/*
 * A whole decimal number in [min, max], nothing else in the field. The
 * bound is checked before each digit is added: past 2^64 the sum would
 * wrap around (18446744073709551816 would read as 200).
 */
static bool parse_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return false;
	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	int64_t x = neg ? -(int64_t)v : (int64_t)v;
	if (x < min || x > max)
		return false;
	*out = x;
	return true;
}

static bool key_is(const struct rw_field *f, const char *key)
{
	size_t n = strlen(key);
	return f->klen == n && memcmp(f->key, key, n) == 0;
}

/*
 * Finds each wanted key once. A key given twice is refused: two readers
 * could otherwise pick different values from one entry.
 */
static int collect(const struct rw_field *f, size_t n, const char *const *keys,
    const struct rw_field **found, size_t nkeys, char *why, size_t whylen)
{
	for (size_t k = 0; k < nkeys; k++)
		found[k] = NULL;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nkeys; k++) {
			if (!key_is(&f[i], keys[k]))
				continue;
			if (found[k] != NULL) {
				snprintf(why, whylen, "field '%s' given twice", keys[k]);
				return -1;
			}
			found[k] = &f[i];
		}
	}
	return 0;
}

static bool val_is(const struct rw_field *f, const char *s)
{
	size_t n = strlen(s);
	return f->vlen == n && memcmp(f->val, s, n) == 0;
}

/* The version of an entry: 1, 2 when also, or -1 with the reason. */
static int check_version(const struct rw_field *v, const char *also, char *why, size_t whylen)
{
	char shown[24];

	if (v == NULL) {
		snprintf(why, whylen, "no 'v' (version) field");
		return -1;
	}
	if (val_is(v, RW_VERSION))
		return 1;
	if (also != NULL && val_is(v, also))
		return 2;
	rw_printable(shown, sizeof(shown), v->val, v->vlen);
	if (also != NULL)
		snprintf(why, whylen, "version '%s' (this squirrel reads versions %s and %s)", shown,
		    RW_VERSION, also);
	else
		snprintf(why, whylen, "version '%s' (this squirrel reads version %s)", shown,
		    RW_VERSION);
	return -1;
}

static int need(const struct rw_field *f, const char *key, char *why, size_t whylen)
{
	if (f == NULL) {
		snprintf(why, whylen, "no '%s' field", key);
		return -1;
	}
	return 0;
}

static int get_int(const struct rw_field *f, const char *key, int64_t min, int64_t max,
    int64_t *out, char *why, size_t whylen)
{
	char shown[24];

	if (need(f, key, why, whylen) < 0)
		return -1;
	if (!parse_int(f->val, f->vlen, min, max, out)) {
		rw_printable(shown, sizeof(shown), f->val, f->vlen);
		snprintf(why, whylen, "'%s' is '%s', not a whole number from %" PRId64 " to %" PRId64,
		    key, shown, min, max);
		return -1;
	}
	return 0;
}

static int get_ident(const struct rw_field *f, const char *key, char *out, size_t max,
    char *why, size_t whylen)
{
	char shown[24];

	if (need(f, key, why, whylen) < 0)
		return -1;
	if (!name_valid(f->val, f->vlen, max)) {
		rw_printable(shown, sizeof(shown), f->val, f->vlen);
		snprintf(why, whylen, "'%s' is '%s', not 1 to %zu letters, digits, '_', '-' or '.'",
		    key, shown, max - 1);
		return -1;
	}
	memcpy(out, f->val, f->vlen);
	out[f->vlen] = '\0';
	return 0;
}

/*
 * The url: within bounds, and, with fetch, one the probe would fetch (http
 * or https). An answer's url is only compared with the check's own.
 */
static int get_url(const struct rw_field *f, bool fetch, const char **url, size_t *url_len,
    char *why, size_t whylen)
{
	char copy[RW_URL_MAX + 1], reason[128], shown[80];

	if (need(f, "url", why, whylen) < 0)
		return -1;
	if (f->vlen == 0 || f->vlen > RW_URL_MAX || memchr(f->val, '\0', f->vlen) != NULL) {
		snprintf(why, whylen, "'url' is empty, longer than %d bytes or holds a NUL", RW_URL_MAX);
		return -1;
	}
	if (!fetch) {
		*url = f->val;
		*url_len = f->vlen;
		return 0;
	}
	memcpy(copy, f->val, f->vlen);
	copy[f->vlen] = '\0';
	if (!url_valid(copy, reason, sizeof(reason))) {
		rw_printable(shown, sizeof(shown), f->val, f->vlen);
		snprintf(why, whylen, "url '%s' refused: %s", shown, reason);
		return -1;
	}
	*url = f->val;
	*url_len = f->vlen;
	return 0;
}

/*
 * need: the fields the entry cannot be checked without, each one this
 * squirrel knows (else it is named), each given, none twice.
 */
static int check_need(const struct rw_field *need, const struct rw_field *const *given,
    const char *const *fields, size_t nfields, const char *newer, char *why, size_t whylen)
{
	char shown[48];
	const char *p, *end;

	if (need == NULL) {
		snprintf(why, whylen, "version 2 without a 'need' field");
		return -1;
	}
	p = need->val;
	end = need->val + need->vlen;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((comma != NULL ? comma : end) - p);
		size_t i;
		for (i = 0; i < nfields; i++)
			if (strlen(fields[i]) == len && memcmp(fields[i], p, len) == 0)
				break;
		rw_printable(shown, sizeof(shown), p, len);
		if (i == nfields) {
			snprintf(why, whylen, "it needs field '%s', which this squirrel does not know "
			    "%s", shown, newer);
			return -1;
		}
		if (given[i] == NULL) {
			snprintf(why, whylen, "it needs field '%s' but has none", shown);
			return -1;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
		if (p == end) {
			snprintf(why, whylen, "'need' ends with a comma");
			return -1;
		}
	}
	return 0;
}

/* A field whose value must be one of two words: 0 for the first, 1 for the second. */
static int get_choice(const struct rw_field *f, const char *key, const char *w0, const char *w1,
    uint8_t *out, char *why, size_t whylen)
{
	char shown[24];

	if (f == NULL)
		return 0;
	if (val_is(f, w0) || val_is(f, w1)) {
		*out = val_is(f, w1);
		return 0;
	}
	rw_printable(shown, sizeof(shown), f->val, f->vlen);
	snprintf(why, whylen, "'%s' is '%s', not %s or %s", key, shown, w0, w1);
	return -1;
}

/* Version 2's fields (k: expect_fields' order) into e; a field not given keeps the default. */
static int expect_parse(const struct rw_field *need, const struct rw_field *const *k,
    struct sq_expect *e, char *why, size_t whylen)
{
	char text[SQ_EXPECT_TEXT_MAX + 1], reason[160];
	int64_t v;

	if (check_need(need, k, expect_fields, EXPECT_NFIELDS, "(a newer coordinator's): not checked",
	    why, whylen) < 0)
		return -1;
	if (get_choice(k[0], "method", "HEAD", "GET", &e->method, why, whylen) < 0)
		return -1;
	if (k[1] != NULL) {
		if (k[1]->vlen > SQ_EXPECT_TEXT_MAX || memchr(k[1]->val, '\0', k[1]->vlen) != NULL) {
			snprintf(why, whylen, "'expect_status' is longer than %d bytes or holds a NUL",
			    SQ_EXPECT_TEXT_MAX);
			return -1;
		}
		memcpy(text, k[1]->val, k[1]->vlen);
		text[k[1]->vlen] = '\0';
		if (sq_expect_status_parse(text, e, reason, sizeof(reason)) < 0) {
			snprintf(why, whylen, "'expect_status': %s", reason);
			return -1;
		}
	}
	if (k[2] != NULL) {
		if (k[2]->vlen == 0 || k[2]->vlen > SQ_KEYWORD_MAX ||
		    memchr(k[2]->val, '\0', k[2]->vlen) != NULL) {
			snprintf(why, whylen, "'keyword' is empty, longer than %d bytes or holds a NUL",
			    SQ_KEYWORD_MAX);
			return -1;
		}
		memcpy(e->keyword, k[2]->val, k[2]->vlen);
		e->keyword_len = (uint32_t)k[2]->vlen;
		e->method = SQ_METHOD_GET;
	}
	if (get_choice(k[3], "keyword_mode", "present", "absent", &e->keyword_mode, why, whylen) < 0 ||
	    get_choice(k[4], "keyword_nocase", "0", "1", &e->keyword_nocase, why, whylen) < 0)
		return -1;
	if (k[5] != NULL) {
		if (get_int(k[5], "body_max", 1, INT32_MAX, &v, why, whylen) < 0)
			return -1;
		e->body_max = (int32_t)v;
	} else if (sq_expect_reads_body(e)) {
		snprintf(why, whylen, "it reads the body but has no 'body_max' field");
		return -1;
	}
	return 0;
}

enum { C_V, C_CHECK, C_SITE, C_URL, C_TIMEOUT, C_CONNECT, C_REDIRECTS, C_DEADLINE,
	C_NEED, C_METHOD, C_EXPECT_STATUS, C_KEYWORD, C_KEYWORD_MODE, C_KEYWORD_NOCASE,
	C_BODY_MAX, C_N };
_Static_assert(C_N - C_METHOD == EXPECT_NFIELDS, "version 2's fields, in expect_fields' order");

int rw_check_parse(const struct rw_field *f, size_t n, struct rw_check *out,
    char *why, size_t whylen)
{
	static const char *const keys[C_N] = {
		[C_V] = "v", [C_CHECK] = "check", [C_SITE] = "site", [C_URL] = "url",
		[C_TIMEOUT] = "timeout", [C_CONNECT] = "connect_timeout",
		[C_REDIRECTS] = "max_redirects", [C_DEADLINE] = "deadline",
		[C_NEED] = "need", [C_METHOD] = "method", [C_EXPECT_STATUS] = "expect_status",
		[C_KEYWORD] = "keyword", [C_KEYWORD_MODE] = "keyword_mode",
		[C_KEYWORD_NOCASE] = "keyword_nocase", [C_BODY_MAX] = "body_max",
	};
	const struct rw_field *k[C_N];
	struct rw_check c;
	int64_t v;
	int version;

	memset(&c, 0, sizeof(c));
	if (collect(f, n, keys, k, C_N, why, whylen) < 0 ||
	    (version = check_version(k[C_V], RW_VERSION_EXPECT, why, whylen)) < 0)
		return -1;
	if (get_ident(k[C_CHECK], "check", c.id, sizeof(c.id), why, whylen) < 0)
		return -1;
	if (get_int(k[C_SITE], "site", 1, INT64_MAX, &c.site_id, why, whylen) < 0)
		return -1;
	if (get_url(k[C_URL], true, &c.url, &c.url_len, why, whylen) < 0)
		return -1;
	if (get_int(k[C_TIMEOUT], "timeout", 1, SQ_TIMEOUT_MAX_MS, &v, why, whylen) < 0)
		return -1;
	c.timeout_ms = (int32_t)v;
	if (get_int(k[C_CONNECT], "connect_timeout", 1, SQ_TIMEOUT_MAX_MS, &v, why, whylen) < 0)
		return -1;
	c.connect_timeout_ms = (int32_t)v;
	if (get_int(k[C_REDIRECTS], "max_redirects", 0, 50, &v, why, whylen) < 0)
		return -1;
	c.max_redirects = (int32_t)v;
	if (get_int(k[C_DEADLINE], "deadline", 0, INT64_MAX / 2, &c.deadline_ms, why, whylen) < 0)
		return -1;
	/* version 1 says nothing of the answer: its fields of version 2 are not read */
	if (version == 2 && expect_parse(k[C_NEED], &k[C_METHOD], &c.expect, why, whylen) < 0)
		return -1;
	*out = c;
	return 0;
}

/* A certificate's name from a result: shorter than SQ_CERT_NAME_MAX, no NUL, no control byte. */
static int get_cert_name(const struct rw_field *f, const char *key, char *out, char *why,
    size_t whylen)
{
	if (f->vlen >= SQ_CERT_NAME_MAX || memchr(f->val, '\0', f->vlen) != NULL) {
		snprintf(why, whylen, "'%s' is longer than %d bytes or holds a NUL", key,
		    SQ_CERT_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < f->vlen; i++) {
		unsigned char ch = (unsigned char)f->val[i];
		out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	out[f->vlen] = '\0';
	return 0;
}

/* Version 2's fields (k: cert_fields' order): the certificate, all of it. */
static int cert_parse(const struct rw_field *need, const struct rw_field *const *k,
    struct sq_cert *c, char *why, size_t whylen)
{
	if (check_need(need, k, cert_fields, CERT_NFIELDS, "(a newer worker's): not recorded",
	    why, whylen) < 0)
		return -1;
	for (size_t i = 0; i < CERT_NFIELDS; i++) {
		if (k[i] == NULL) {
			snprintf(why, whylen, "version 2 without a '%s' field", cert_fields[i]);
			return -1;
		}
	}
	if (get_int(k[0], "cert_end", 1, INT64_MAX / 2, &c->not_after, why, whylen) < 0)
		return -1;
	if (k[1]->vlen != SQ_CERT_FP_LEN * 2) {
		snprintf(why, whylen, "'cert_fp' is not %d hex digits", SQ_CERT_FP_LEN * 2);
		return -1;
	}
	for (size_t i = 0; i < SQ_CERT_FP_LEN * 2; i++) {
		char ch = k[1]->val[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0) {
			snprintf(why, whylen, "'cert_fp' is not %d hex digits", SQ_CERT_FP_LEN * 2);
			return -1;
		}
		c->fingerprint[i / 2] = (uint8_t)(c->fingerprint[i / 2] << 4 | d);
	}
	if (get_cert_name(k[2], "cert_subject", c->subject, why, whylen) < 0 ||
	    get_cert_name(k[3], "cert_issuer", c->issuer, why, whylen) < 0)
		return -1;
	return 0;
}

enum { R_V, R_CHECK, R_SITE, R_LOCATION, R_URL, R_DEADLINE, R_STARTED, R_MS, R_STATUS,
	R_ERR, R_DETAIL, R_NEED, R_CERT_END, R_CERT_FP, R_CERT_SUBJECT, R_CERT_ISSUER, R_N };
_Static_assert(R_N - R_CERT_END == CERT_NFIELDS, "version 2's fields, in cert_fields' order");

int rw_result_parse(const struct rw_field *f, size_t n, struct rw_result *out,
    char *why, size_t whylen)
{
	static const char *const keys[R_N] = {
		[R_V] = "v", [R_CHECK] = "check", [R_SITE] = "site", [R_LOCATION] = "location",
		[R_URL] = "url", [R_DEADLINE] = "deadline", [R_STARTED] = "started", [R_MS] = "ms",
		[R_STATUS] = "status", [R_ERR] = "err", [R_DETAIL] = "detail", [R_NEED] = "need",
		[R_CERT_END] = "cert_end", [R_CERT_FP] = "cert_fp", [R_CERT_SUBJECT] = "cert_subject",
		[R_CERT_ISSUER] = "cert_issuer",
	};
	const struct rw_field *k[R_N];
	struct rw_result res;
	char err[32], shown[40];
	int64_t v;
	int version;

	memset(&res, 0, sizeof(res));
	if (collect(f, n, keys, k, R_N, why, whylen) < 0 ||
	    (version = check_version(k[R_V], RW_VERSION_RESULT_CERT, why, whylen)) < 0)
		return -1;
	if (get_ident(k[R_CHECK], "check", res.check_id, sizeof(res.check_id), why, whylen) < 0)
		return -1;
	if (get_ident(k[R_LOCATION], "location", res.location, sizeof(res.location), why,
	    whylen) < 0)
		return -1;
	if (get_int(k[R_SITE], "site", 1, INT64_MAX, &res.r.site_id, why, whylen) < 0)
		return -1;
	if (get_url(k[R_URL], false, &res.url, &res.url_len, why, whylen) < 0)
		return -1;
	if (get_int(k[R_DEADLINE], "deadline", 0, INT64_MAX / 2, &res.deadline_ms, why,
	    whylen) < 0)
		return -1;
	if (get_int(k[R_STARTED], "started", 0, INT64_MAX / 2, &res.r.started_ms, why,
	    whylen) < 0)
		return -1;
	if (get_int(k[R_MS], "ms", 0, 24 * 3600 * 1000, &v, why, whylen) < 0)
		return -1;
	res.r.ms = (int32_t)v;
	if (get_int(k[R_STATUS], "status", 0, 999, &v, why, whylen) < 0)
		return -1;
	res.r.http_status = (int32_t)v;
	if (need(k[R_ERR], "err", why, whylen) < 0)
		return -1;
	int e = -1;
	if (k[R_ERR]->vlen < sizeof(err) && memchr(k[R_ERR]->val, '\0', k[R_ERR]->vlen) == NULL) {
		memcpy(err, k[R_ERR]->val, k[R_ERR]->vlen);
		err[k[R_ERR]->vlen] = '\0';
		e = sq_class_parse(err);
	}
	/* "unknown" is the coordinator's verdict, never a location's answer. */
	if (e < 0 || e == SQ_ERR_NO_QUORUM) {
		rw_printable(shown, sizeof(shown), k[R_ERR]->val, k[R_ERR]->vlen);
		snprintf(why, whylen, "'err' is '%s', not an error class", shown);
		return -1;
	}
	res.r.err = e;
	/* any final status may be one a site does not expect (expect_status) */
	if (e == SQ_ERR_HTTP && res.r.http_status < 100) {
		snprintf(why, whylen, "'err' is http but 'status' is %d", (int)res.r.http_status);
		return -1;
	}
	/* Words for people only: kept short and printable. */
	if (k[R_DETAIL] != NULL)
		rw_printable(res.r.detail, sizeof(res.r.detail), k[R_DETAIL]->val, k[R_DETAIL]->vlen);
	/* version 1 says nothing of a certificate: its fields of version 2 are not read */
	if (version == 2 && cert_parse(k[R_NEED], &k[R_CERT_END], &res.r.cert, why, whylen) < 0)
		return -1;
	*out = res;
	return 0;
}

void rw_check_id_format(char *buf, size_t len, uint64_t run, uint64_t seq)
{
	snprintf(buf, len, "%016" PRIx64 "-%" PRIu64, run, seq);
}

int rw_check_id_parse(const char *id, uint64_t *run, uint64_t *seq)
{
	uint64_t r = 0, s = 0;
	size_t i;

	for (i = 0; i < 16; i++) {
		char ch = id[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		r = r << 4 | (uint64_t)d;
	}
	if (id[i++] != '-' || id[i] == '\0')
		return -1;
	for (; id[i] != '\0'; i++) {
		if (id[i] < '0' || id[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(id[i] - '0');
		if (s > (UINT64_MAX - d) / 10)
			return -1;
		s = s * 10 + d;
	}
	*run = r;
	*seq = s;
	return 0;
}

int64_t rw_stream_id_ms(const char *id, size_t len)
{
	int64_t ms;
	const char *dash = memchr(id, '-', len);

	if (dash == NULL || !parse_int(id, (size_t)(dash - id), 0, INT64_MAX, &ms))
		return -1;
	return ms;
}

bool rw_url_has_password(const char *url)
{
	if (strncmp(url, "redis://", 8) != 0)
		return false;
	const char *at = strrchr(url + 8, '@');
	return at != NULL && memchr(url + 8, ':', (size_t)(at - url - 8)) != NULL;
}

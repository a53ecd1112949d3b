/*
 * fuzz_redis_wire.c - the reading of stream entries (src/scaleout/redis_wire.c),
 * which anyone who can write to Redis feeds. The input is key, value,
 * key, value, ... separated by NULs. A check or answer that reads must
 * read back the same after encoding; the other readers (check ids,
 * stream ids, locations, urls) must never go past what they are given.
 */
#include "fuzz.h"
#include "squirrel/scaleout/redis_wire.h"

#define FIELDS 40

static void to_fields(struct rw_args *a, struct rw_field *f, size_t *n)
{
	*n = 0;
	for (int i = 0; i + 1 < a->n; i += 2)
		f[(*n)++] = (struct rw_field){ .key = a->v[i], .klen = a->len[i], .val = a->v[i + 1],
			.vlen = a->len[i + 1] };
}

static void check_roundtrip(struct rw_check *c)
{
	struct rw_args a;
	struct rw_field f[RW_ARGS_MAX / 2];
	struct rw_check back;
	char why[256];
	size_t n;

	rw_args_init(&a);
	rw_check_encode(&a, c);
	FUZZ_ASSERT(!a.overflow, "a check overflows its command");
	to_fields(&a, f, &n);
	FUZZ_ASSERT(rw_check_parse(f, n, &back, why, sizeof(why)) == 0, "a check does not read back: %s", why);
	FUZZ_ASSERT(strcmp(back.id, c->id) == 0 && back.site_id == c->site_id &&
	    back.url_len == c->url_len && memcmp(back.url, c->url, c->url_len) == 0 &&
	    back.timeout_ms == c->timeout_ms && back.connect_timeout_ms == c->connect_timeout_ms &&
	    back.max_redirects == c->max_redirects && back.deadline_ms == c->deadline_ms,
	    "a check reads back different");
	/* what the answer must be, as far as it means anything */
	const struct sq_expect *e = &c->expect, *b = &back.expect;
	FUZZ_ASSERT(b->method == e->method && b->nstatus == e->nstatus &&
	    memcmp(b->status, e->status, e->nstatus * sizeof(e->status[0])) == 0 &&
	    b->keyword_len == e->keyword_len && memcmp(b->keyword, e->keyword, e->keyword_len) == 0 &&
	    (e->keyword_len == 0 || (b->keyword_mode == e->keyword_mode &&
	    b->keyword_nocase == e->keyword_nocase)) &&
	    (!sq_expect_reads_body(e) || b->body_max == e->body_max),
	    "what a check expects reads back different");
}

static void result_roundtrip(const struct rw_result *r)
{
	struct rw_args a;
	struct rw_field f[RW_ARGS_MAX / 2];
	struct rw_result back, copy = *r;
	char why[256];
	size_t n;

	rw_args_init(&a);
	rw_result_encode(&a, &copy, "fuzz");
	FUZZ_ASSERT(!a.overflow, "an answer overflows its command");
	to_fields(&a, f, &n);
	FUZZ_ASSERT(rw_result_parse(f, n, &back, why, sizeof(why)) == 0, "an answer does not read back: %s",
	    why);
	FUZZ_ASSERT(strcmp(back.check_id, r->check_id) == 0 && strcmp(back.location, r->location) == 0 &&
	    back.url_len == r->url_len && memcmp(back.url, r->url, r->url_len) == 0 &&
	    back.deadline_ms == r->deadline_ms && back.r.site_id == r->r.site_id &&
	    back.r.started_ms == r->r.started_ms && back.r.ms == r->r.ms &&
	    back.r.http_status == r->r.http_status && back.r.err == r->r.err &&
	    strcmp(back.r.detail, r->r.detail) == 0 &&
	    memcmp(&back.r.cert, &r->r.cert, sizeof(r->r.cert)) == 0, "an answer reads back different");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v[FIELDS * 2];
	size_t len[FIELDS * 2];
	struct rw_field f[FIELDS];
	struct rw_check c;
	struct rw_result r;
	char *buf, why[256], shown[64];
	uint64_t run, seq;

	size_t n = fuzz_fields(data, size, &buf, v, len, FIELDS * 2);
	if (buf == NULL)
		return 0;
	size_t nf = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		f[nf++] = (struct rw_field){ .key = v[i], .klen = len[i], .val = v[i + 1], .vlen = len[i + 1] };

	why[0] = '\0';
	if (rw_check_parse(f, nf, &c, why, sizeof(why)) == 0)
		check_roundtrip(&c);
	else
		FUZZ_ASSERT(why[0] != '\0', "a check refused without a reason");
	why[0] = '\0';
	if (rw_result_parse(f, nf, &r, why, sizeof(why)) == 0)
		result_roundtrip(&r);
	else
		FUZZ_ASSERT(why[0] != '\0', "an answer refused without a reason");

	/* the readers of single values, on the first field (NUL-terminated in buf) */
	if (rw_check_id_parse(v[0], &run, &seq) == 0) {
		char id[RW_ID_MAX + 8];
		rw_check_id_format(id, sizeof(id), run, seq);
		FUZZ_ASSERT(strcmp(id, v[0]) == 0 || (len[0] > 17 && v[0][17] == '0'),
		    "check id '%s' reads as %s", v[0], id);
	}
	int64_t ms = rw_stream_id_ms(v[0], len[0]);
	FUZZ_ASSERT(ms >= -1, "a stream id of %lld ms", (long long)ms);
	(void)location_valid(v[0], len[0]);
	(void)rw_url_has_password(v[0]);
	rw_printable(shown, sizeof(shown), v[0], len[0]);
	FUZZ_ASSERT(strlen(shown) < sizeof(shown), "printable text too long");
	for (const char *p = shown; *p; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f, "printable text holds byte %#x", (unsigned char)*p);
	free(buf);
	return 0;
}

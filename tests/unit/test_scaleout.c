/*
 * test_scaleout.c - the pure parts of scale-out: what the streams carry and
 * how it is read (src/scaleout/redis_wire.c), the quorum verdict and its words
 * (src/scaleout/quorum.c), the error column (src/core/check.c) and the table of checks in
 * flight (src/base/u64map.c); and the coordinator's run kept in a real SQLite
 * file for the redis backend by the program that owns the database
 * (daemon_keep_run, src/daemon.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squirrel/core/check.h"
#include "squirrel/daemon.h"
#include "squirrel/scaleout/quorum.h"
#include "squirrel/scaleout/redis_wire.h"
#include "squirrel/base/u64map.h"
#include "tap.h"

/* Fields from "k=v" strings (no '=' in keys). */
static size_t fields(struct rw_field *f, const char *const *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		f[i] = (struct rw_field){ .key = kv[i], .klen = (size_t)(eq - kv[i]), .val = eq + 1,
			.vlen = strlen(eq + 1) };
	}
	return n;
}

/* Encoded with rw_check_encode, read back with rw_check_parse. */
static void test_check_roundtrip(void)
{
	struct rw_check c = { .site_id = 42, .url = "https://example.org/x", .url_len = 21, .timeout_ms = 5000,
		.connect_timeout_ms = 2000, .max_redirects = 3, .deadline_ms = 1800000000000 };
	struct rw_args a;
	struct rw_field f[RW_ARGS_MAX / 2];
	struct rw_check back;
	char why[256];

	rw_check_id_format(c.id, sizeof(c.id), 0x0123456789abcdefULL, 77);
	is_str(c.id, "0123456789abcdef-77", "check id format");
	uint64_t run, seq;
	ok(rw_check_id_parse(c.id, &run, &seq) == 0 && run == 0x0123456789abcdefULL && seq == 77,
	    "check id parses back");
	ok(rw_check_id_parse("0123456789abcdef-", &run, &seq) < 0, "check id without a sequence");
	ok(rw_check_id_parse("0123456789ABCDEF-1", &run, &seq) < 0, "check id in capitals");
	ok(rw_check_id_parse("short-1", &run, &seq) < 0, "short check id");

	rw_args_init(&a);
	rw_check_encode(&a, &c);
	ok(!a.overflow && a.n % 2 == 0, "check entry: field, value pairs");
	for (int i = 0; i < a.n / 2; i++)
		f[i] = (struct rw_field){ .key = a.v[2 * i], .klen = a.len[2 * i],
			.val = a.v[2 * i + 1], .vlen = a.len[2 * i + 1] };
	ok(rw_check_parse(f, (size_t)a.n / 2, &back, why, sizeof(why)) == 0, "check entry reads back: %s", why);
	is_str(back.id, c.id, "id kept");
	is_int(back.site_id, 42, "site kept");
	ok(back.url_len == strlen(c.url) && memcmp(back.url, c.url, back.url_len) == 0, "url kept");
	is_int(back.timeout_ms, 5000, "timeout kept");
	is_int(back.connect_timeout_ms, 2000, "connect timeout kept");
	is_int(back.max_redirects, 3, "redirects kept");
	is_int(back.deadline_ms, 1800000000000, "deadline kept");
}

/* Whatever anyone writes to the stream is refused with a reason, never half-read. */
static void test_hostile_checks(void)
{
	static const struct {
		const char *kv[12];
		size_t n;
		const char *why;
	} cases[] = {
		{ { "garbage=1" }, 1, "no 'v' (version) field" },
		{ { "v=3", "check=a-1" }, 2, "version '3' (this squirrel reads versions 1 and 2)" },
		{ { "v=1", "v=1" }, 2, "field 'v' given twice" },
		{ { "v=1", "site=1" }, 2, "no 'check' field" },
		{ { "v=1", "check=a b", "site=1" }, 3, "'check' is 'a b', not 1 to 47 letters, digits, '_', '-' or '.'" },
		{ { "v=1", "check=c", "site=-1" }, 3, "'site' is '-1', not a whole number from 1 to 9223372036854775807" },
		{ { "v=1", "check=c", "site=1x" }, 3, "'site' is '1x', not a whole number from 1 to 9223372036854775807" },
		{ { "v=1", "check=c", "site=99999999999999999999999" }, 3,
		  "'site' is '99999999999999999999999', not a whole number from 1 to 9223372036854775807" },
		{ { "v=1", "check=c", "site=1", "url=file:///etc/passwd", "timeout=1000",
		    "connect_timeout=1000", "max_redirects=1", "deadline=1" }, 8,
		  "url 'file:///etc/passwd' refused: only http and https urls are checked" },
		{ { "v=1", "check=c", "site=1", "url=gopher://x/" }, 4, "url 'gopher://x/' refused: only http and https urls are checked" },
		{ { "v=1", "check=c", "site=1", "url=http://a b/" }, 4, "url 'http://a b/' refused: url contains a space at byte 9" },
		{ { "v=1", "check=c", "site=1", "url=http://x/", "timeout=0" }, 5,
		  "'timeout' is '0', not a whole number from 1 to 600000" },
		{ { "v=1", "check=c", "site=1", "url=http://x/", "timeout=99999999" }, 5,
		  "'timeout' is '99999999', not a whole number from 1 to 600000" },
		{ { "v=1", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=51" }, 7, "'max_redirects' is '51', not a whole number from 0 to 50" },
		{ { "v=1", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=5" }, 7, "no 'deadline' field" },
	};
	struct rw_field f[12];
	struct rw_check c;
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = fields(f, cases[i].kv, cases[i].n);
		why[0] = '\0';
		ok(rw_check_parse(f, n, &c, why, sizeof(why)) < 0, "hostile check %zu refused", i);
		is_str(why, cases[i].why, "hostile check %zu: the reason", i);
	}
	/* a NUL inside the url */
	const char url[] = "http://x/\0evil";
	f[0] = (struct rw_field){ .key = "v", .klen = 1, .val = "1", .vlen = 1 };
	f[1] = (struct rw_field){ .key = "check", .klen = 5, .val = "c", .vlen = 1 };
	f[2] = (struct rw_field){ .key = "site", .klen = 4, .val = "1", .vlen = 1 };
	f[3] = (struct rw_field){ .key = "url", .klen = 3, .val = url, .vlen = sizeof(url) - 1 };
	ok(rw_check_parse(f, 4, &c, why, sizeof(why)) < 0 && strstr(why, "NUL") != NULL,
	    "a url holding a NUL is refused: %s", why);
	/* unknown fields are ignored: a later version may add some */
	static const char *const good[] = { "v=1", "check=c-1", "site=7", "url=http://x/",
		"timeout=10", "connect_timeout=10", "max_redirects=0", "deadline=5", "extra=1" };
	ok(rw_check_parse(f, fields(f, good, 9), &c, why, sizeof(why)) == 0, "an unknown field is ignored");
}

static void test_results(void)
{
	static const char *const good[] = { "v=1", "check=0123456789abcdef-1", "site=3",
		"location=paris", "worker=host-1", "url=http://x/", "deadline=100", "started=50",
		"ms=12", "status=503", "err=http", "detail=" };
	struct rw_field f[16];
	struct rw_result r;
	char why[256];

	ok(rw_result_parse(f, fields(f, good, 12), &r, why, sizeof(why)) == 0, "an answer reads: %s", why);
	is_str(r.location, "paris", "its location");
	is_int(r.r.err, SQ_ERR_HTTP, "its class");
	is_int(r.r.http_status, 503, "its status");

	static const char *const unknown[] = { "v=1", "check=c", "site=3", "location=paris",
		"url=http://x/", "deadline=100", "started=50", "ms=12", "status=0", "err=unknown" };
	ok(rw_result_parse(f, fields(f, unknown, 10), &r, why, sizeof(why)) < 0, "a location cannot answer 'unknown'");
	is_str(why, "'err' is 'unknown', not an error class", "said so");
	/* a site's expect_status may make any final status down: http 200 for "201-299" */
	static const char *const unexpected[] = { "v=1", "check=c", "site=3", "location=paris",
		"url=http://x/", "deadline=100", "started=50", "ms=12", "status=200", "err=http" };
	ok(rw_result_parse(f, fields(f, unexpected, 10), &r, why, sizeof(why)) == 0 &&
	    r.r.http_status == 200, "http error with status 200 (not expected by the site)");
	static const char *const nonsense[] = { "v=1", "check=c", "site=3", "location=paris",
		"url=http://x/", "deadline=100", "started=50", "ms=12", "status=99", "err=http" };
	ok(rw_result_parse(f, fields(f, nonsense, 10), &r, why, sizeof(why)) < 0, "http error with status 99");
	is_str(why, "'err' is http but 'status' is 99", "said so");
	static const char *const badloc[] = { "v=1", "check=c", "site=3", "location=../x" };
	ok(rw_result_parse(f, fields(f, badloc, 4), &r, why, sizeof(why)) < 0, "a location with a slash");
	static const char *const ctrl[] = { "v=1", "check=c", "site=3", "location=a",
		"url=http://x/", "deadline=100", "started=50", "ms=12", "status=0", "err=error",
		"detail=line\r\nBcc: x" };
	ok(rw_result_parse(f, fields(f, ctrl, 11), &r, why, sizeof(why)) == 0, "detail with control characters");
	is_str(r.r.detail, "line??Bcc: x", "control characters shown as '?'");

	/* each TLS reason crosses the wire by its name; one this version does not know is refused by name */
	static const struct {
		const char *field;
		int err;
	} tls[] = {
		{ "err=tls expired", SQ_ERR_TLS_EXPIRED }, { "err=tls not yet valid", SQ_ERR_TLS_NOT_YET_VALID },
		{ "err=tls untrusted", SQ_ERR_TLS_UNTRUSTED }, { "err=tls name mismatch", SQ_ERR_TLS_NAME },
		{ "err=tls handshake", SQ_ERR_TLS_HANDSHAKE }, { "err=tls", SQ_ERR_TLS },
	};
	for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++) {
		const char *kv[] = { "v=1", "check=c", "site=3", "location=a", "url=https://x/",
			"deadline=100", "started=50", "ms=12", "status=0", tls[i].field };
		ok(rw_result_parse(f, fields(f, kv, 10), &r, why, sizeof(why)) == 0 && r.r.err == tls[i].err,
		    "'%s' read as its class: %s", tls[i].field, why);
	}
	static const char *const later[] = { "v=1", "check=c", "site=3", "location=a",
		"url=https://x/", "deadline=100", "started=50", "ms=12", "status=0", "err=tls revoked" };
	ok(rw_result_parse(f, fields(f, later, 10), &r, why, sizeof(why)) < 0, "a class of a later version");
	is_str(why, "'err' is 'tls revoked', not an error class", "refused by its name");

	ok(rw_url_has_password("redis://u:p@h/0"), "url with user and password");
	ok(rw_url_has_password("redis://:p@h"), "url with a password only");
	ok(!rw_url_has_password("redis://h:6379/0"), "url without");
	ok(!rw_url_has_password("unix:/run/redis.sock"), "unix socket");
	is_int(rw_stream_id_ms("1700000000000-3", 15), 1700000000000, "stream id time");
	is_int(rw_stream_id_ms("x-3", 3), -1, "not a stream id");
}

static struct quorum_vote vote(int err, int status)
{
	struct quorum_vote v = { .have = true };
	v.r.err = err;
	v.r.http_status = status;
	v.r.ms = 10;
	return v;
}

static void test_quorum(void)
{
	/* 3 locations, quorum 2 */
	is_int(quorum_decide(3, 2, 0, 0), QUORUM_PENDING, "no answer yet");
	is_int(quorum_decide(3, 2, 1, 0), QUORUM_PENDING, "one up: two failures still possible");
	is_int(quorum_decide(3, 2, 2, 0), QUORUM_UP, "two up: a quorum of failures is impossible");
	is_int(quorum_decide(3, 2, 1, 1), QUORUM_PENDING, "one each: the third decides");
	is_int(quorum_decide(3, 2, 2, 1), QUORUM_UP, "one failure of three stays up");
	is_int(quorum_decide(3, 2, 0, 2), QUORUM_DOWN, "two failures: down");
	is_int(quorum_decide(1, 1, 0, 1), QUORUM_DOWN, "one location: its failure");
	is_int(quorum_decide(1, 1, 1, 0), QUORUM_UP, "one location: its success");
	is_int(quorum_decide(2, 1, 1, 0), QUORUM_PENDING, "quorum 1 of 2: one up is not enough");

	const char *names[] = { "paris", "tokyo", "sydney" };
	struct quorum_vote v[3] = { vote(SQ_ERR_HTTP, 503), vote(SQ_OK, 200), vote(SQ_ERR_HTTP, 503) };
	struct sq_result r;
	char err[160];
	quorum_compose(&r, QUORUM_DOWN, v, names, 3, 9, 99, 1000);
	is_str(sq_result_error(&r, err, sizeof(err)), "http 503 from paris, sydney", "down: the class and where");
	is_int(r.err, SQ_ERR_HTTP, "down: the class kept");
	is_int(r.site_id, 9, "site");
	is_int(r.tag, 99, "tag");
	is_int(r.started_ms, 1000, "dispatch time");

	v[1] = vote(SQ_ERR_TIMEOUT, 0);
	quorum_compose(&r, QUORUM_DOWN, v, names, 3, 9, 99, 1000);
	is_str(sq_result_error(&r, err, sizeof(err)), "http 503 from paris, sydney; timeout from tokyo",
	    "down: each class, the commonest first");
	is_int(r.nvotes, 3, "down: every answer kept");
	ok(r.votes[0].location == 0 && r.votes[0].err == SQ_ERR_HTTP && r.votes[0].http_status == 503 &&
	    r.votes[1].location == 1 && r.votes[1].err == SQ_ERR_TIMEOUT &&
	    r.votes[2].location == 2 && r.votes[2].http_status == 503, "down: each location's answer");

	/* The same groups as data, for the mail: class, status and where. */
	struct quorum_group g[QUORUM_MAX_LOCATIONS];
	char where[160];
	is_int(quorum_groups(&r, 3, g), 2, "groups: two answers");
	ok(g[0].err == SQ_ERR_HTTP && g[0].http_status == 503 && g[0].locations == 5 && g[0].first == 0,
	    "groups: the commonest first, paris and sydney");
	is_str(quorum_where(g[0].locations, names, 3, where, sizeof(where)), "paris, sydney",
	    "groups: where, named");
	ok(g[1].err == SQ_ERR_TIMEOUT && g[1].http_status == 0 && g[1].locations == 2,
	    "groups: then tokyo's timeout");
	/* a tie: the first location's answer leads */
	struct quorum_vote tie[3] = { vote(SQ_ERR_TIMEOUT, 0), vote(SQ_OK, 200), vote(SQ_ERR_HTTP, 502) };
	quorum_compose(&r, QUORUM_DOWN, tie, names, 3, 9, 99, 1000);
	is_str(sq_result_error(&r, err, sizeof(err)), "timeout from paris; http 502 from sydney",
	    "down: a tie, the first location leads");
	is_int(r.err, SQ_ERR_TIMEOUT, "down: a tie, the first location's class");
	is_int(quorum_groups(&r, 3, g), 2, "groups: a tie, two");
	ok(g[0].err == SQ_ERR_TIMEOUT && g[1].err == SQ_ERR_HTTP && g[1].http_status == 502 &&
	    g[1].locations == 4, "groups: a tie, in the order of the text");
	/* a vote of a location no longer configured is left out */
	is_int(quorum_groups(&r, 2, g), 1, "groups: only the locations named");
	struct sq_result upr = { .nvotes = 1, .votes = { { .location = 0, .err = SQ_OK } } };
	is_int(quorum_groups(&upr, 3, g), 0, "groups: none for an up verdict");

	struct quorum_vote one[1] = { vote(SQ_ERR_HTTP, 404) };
	quorum_compose(&r, QUORUM_DOWN, one, names, 1, 9, 99, 1000);
	is_str(sq_result_error(&r, err, sizeof(err)), "http 404", "one location: no place named");

	struct quorum_vote some[3] = { vote(SQ_OK, 200), { .have = false }, { .have = false } };
	quorum_compose(&r, QUORUM_UNKNOWN, some, names, 3, 9, 99, 1000);
	is_int(r.err, SQ_ERR_NO_QUORUM, "unknown: its own class");
	is_str(sq_class_name(SQ_ERR_NO_QUORUM), "unknown", "named unknown");
	is_str(sq_result_error(&r, err, sizeof(err)), "unknown: no answer from tokyo, sydney",
	    "unknown: who was silent");
	ok(!sq_result_ok(&r), "unknown is not ok");
	ok(r.nvotes == 1 && r.votes[0].location == 0 && r.votes[0].err == SQ_OK &&
	    r.votes[0].http_status == 200, "unknown: the one answer kept, by its location");

	char *locs[QUORUM_MAX_LOCATIONS];
	char why[128];
	int n = quorum_locations(" paris,tokyo , paris sydney", locs, why, sizeof(why));
	ok(n == 3 && strcmp(locs[0], "paris") == 0 && strcmp(locs[1], "tokyo") == 0 &&
	    strcmp(locs[2], "sydney") == 0, "locations: in order, each once");
	quorum_locations_free(locs, n);
	is_int(quorum_locations("a, b/c", locs, why, sizeof(why)), -1, "locations: a bad name refused");
	is_str(why, "'b/c' is not a location name", "locations: the bad name named");
	is_int(quorum_locations(" , ", locs, why, sizeof(why)), -1, "locations: none refused");

	quorum_compose(&r, QUORUM_UP, some, names, 3, 9, 99, 1000);
	is_int(r.err, SQ_OK, "up");
	is_int(r.http_status, 200, "up: a location's status");
	is_str(sq_result_error(&r, err, sizeof(err)), "", "up: no error text");

	/* A detail that does not extend the class is not shown. */
	struct sq_result x = { .err = SQ_ERR_BAD_REPLY };
	snprintf(x.detail, sizeof(x.detail), "no final status");
	is_str(sq_result_error(&x, err, sizeof(err)), "bad reply", "an unrelated detail stays hidden");
	x.err = SQ_ERR_HTTP;
	x.http_status = 503;
	snprintf(x.detail, sizeof(x.detail), "http 5030 from x");
	is_str(sq_result_error(&x, err, sizeof(err)), "http 503", "a detail must extend the class itself");
	is_int(sq_class_parse("dns nxdomain"), SQ_ERR_DNS_NXDOMAIN, "class parsed");
	is_int(sq_class_parse(""), SQ_OK, "empty is ok");
	is_int(sq_class_parse("nonsense"), -1, "not a class");
}

/* A result as quorum_compose hands it on, from each location's vote. */
static const char *describe(enum quorum_verdict verdict, struct quorum_vote *v, int nloc,
    const char *const *names, int nnames, char *buf, size_t len)
{
	struct sq_result r;
	quorum_compose(&r, verdict, v, names, nloc, 9, 99, 1000);
	return quorum_describe(&r, names, nnames, buf, len);
}

static void test_describe(void)
{
	const char *names[] = { "a", "b", "c" };
	char buf[512];
	const char *d;

	struct quorum_vote v[3] = { vote(SQ_OK, 200), vote(SQ_ERR_HTTP, 503), vote(SQ_ERR_HTTP, 503) };
	is_str(describe(QUORUM_DOWN, v, 3, names, 3, buf, sizeof(buf)),
	    "down from 2 of 3 locations: b http 503, c http 503; a answered 200",
	    "describe: the failing locations, then the one that saw it up");
	v[0].have = false;
	is_str(describe(QUORUM_DOWN, v, 3, names, 3, buf, sizeof(buf)),
	    "down from 2 of 3 locations: b http 503, c http 503; a did not answer",
	    "describe: a silent location did not answer");
	v[0] = vote(SQ_ERR_HTTP, 503);
	v[1] = vote(SQ_ERR_TIMEOUT, 0);
	v[2] = vote(SQ_OK, 200);
	is_str(describe(QUORUM_DOWN, v, 3, names, 3, buf, sizeof(buf)),
	    "down from 2 of 3 locations: a http 503, b timeout; c answered 200",
	    "describe: each location's own class");
	v[2] = vote(SQ_ERR_CONNECT_REFUSED, 0);
	is_str(describe(QUORUM_DOWN, v, 3, names, 3, buf, sizeof(buf)),
	    "down from 3 of 3 locations: a http 503, b timeout, c connect refused",
	    "describe: down everywhere");

	struct quorum_vote up[3] = { vote(SQ_OK, 200), vote(SQ_OK, 204), vote(SQ_OK, 200) };
	is_str(describe(QUORUM_UP, up, 3, names, 3, buf, sizeof(buf)), "up from 3 of 3 locations",
	    "describe: up everywhere");
	up[1] = vote(SQ_ERR_HTTP, 502);
	up[2].have = false;
	up[0] = vote(SQ_OK, 200);
	is_str(describe(QUORUM_UP, up, 3, names, 3, buf, sizeof(buf)),
	    "up from 1 of 3 locations; b http 502, c did not answer", "describe: up, and who disagreed");
	up[1] = vote(SQ_OK, 200);
	is_str(describe(QUORUM_UP, up, 3, names, 3, buf, sizeof(buf)),
	    "up from 2 of 3 locations; c did not answer", "describe: up, one silent");

	const char *one[] = { "default" };
	struct quorum_vote alone[1] = { vote(SQ_ERR_HTTP, 404) };
	is_str(describe(QUORUM_DOWN, alone, 1, one, 1, buf, sizeof(buf)),
	    "down from 1 of 1 location: default http 404", "describe: one location");

	/* A vote for a location no longer configured is left out. */
	v[0] = vote(SQ_OK, 200);
	v[1] = vote(SQ_ERR_HTTP, 503);
	v[2] = vote(SQ_ERR_HTTP, 503);
	is_str(describe(QUORUM_DOWN, v, 3, names, 2, buf, sizeof(buf)),
	    "down from 1 of 2 locations: b http 503; a answered 200", "describe: unknown location left out");

	/* A small buffer is cut, never overrun. */
	char tiny[12];
	d = describe(QUORUM_DOWN, v, 3, names, 3, tiny, sizeof(tiny));
	ok(d == tiny && strlen(tiny) == sizeof(tiny) - 1, "describe: cut to the buffer ('%s')", tiny);

	/* Nothing to say: no votes, an unknown verdict, no names. */
	struct sq_result r = { .err = SQ_ERR_HTTP, .http_status = 503 };
	snprintf(buf, sizeof(buf), "x");
	ok(quorum_describe(&r, names, 3, buf, sizeof(buf)) == NULL && buf[0] == '\0',
	    "describe: a single-machine check has none");
	struct quorum_vote some[3] = { vote(SQ_OK, 200), { .have = false }, { .have = false } };
	snprintf(buf, sizeof(buf), "x");
	ok(describe(QUORUM_UNKNOWN, some, 3, names, 3, buf, sizeof(buf)) == NULL && buf[0] == '\0',
	    "describe: an unknown verdict has none");
	ok(describe(QUORUM_UP, some, 3, names, 0, buf, sizeof(buf)) == NULL, "describe: no names, none");
}

static void test_map(void)
{
	struct u64map m;
	int vals[5000];

	u64map_init(&m);
	for (int i = 0; i < 5000; i++) {
		vals[i] = i;
		u64map_put(&m, (uint64_t)i * 7, &vals[i]);
	}
	is_int(m.n, 5000, "5000 entries");
	int found = 0;
	for (int i = 0; i < 5000; i++)
		found += u64map_get(&m, (uint64_t)i * 7) == &vals[i];
	is_int(found, 5000, "all found");
	for (int i = 0; i < 5000; i += 2)
		u64map_del(&m, (uint64_t)i * 7);
	found = 0;
	int gone = 0;
	for (int i = 0; i < 5000; i++) {
		void *v = u64map_get(&m, (uint64_t)i * 7);
		found += i % 2 == 1 && v == &vals[i];
		gone += i % 2 == 0 && v == NULL;
	}
	is_int(found, 2500, "the odd ones still found after removals");
	is_int(gone, 2500, "the even ones gone");
	is_int(m.n, 2500, "count");
	ok(u64map_get(&m, 123456789) == NULL, "a key never put");
	u64map_free(&m);
}

/*
 * Numbers past 2^64 must not wrap around: 18446744073709551816 is 2^64 + 200
 * and once read as 200. Every numeric field of both entries, and stream ids.
 */
static void test_wrapping_numbers(void)
{
	static const char *const check[] = { "v=1", "check=c-1", "site=7", "url=http://x/",
		"timeout=10", "connect_timeout=10", "max_redirects=0", "deadline=5" };
	static const char *const result[] = { "v=1", "check=0123456789abcdef-1", "site=3",
		"location=paris", "url=http://x/", "deadline=100", "started=50", "ms=12", "status=200",
		"err=" };
	static const char *const huge[] = {
		"18446744073709551816",   /* 2^64 + 200 */
		"18446744073709551617",   /* 2^64 + 1 */
		"36893488147419103232",   /* 2^65 */
		"9223372036854775808",    /* INT64_MAX + 1 */
		"-9223372036854775809",
		"99999999999999999999",
	};
	const char *kv[10];
	char buf[10][64], why[256];
	struct rw_field f[10];
	struct rw_check c;
	struct rw_result r;

	ok(rw_check_parse(f, fields(f, check, 8), &c, why, sizeof(why)) == 0, "the check reads: %s", why);
	ok(rw_result_parse(f, fields(f, result, 10), &r, why, sizeof(why)) == 0, "the answer reads: %s", why);
	for (size_t h = 0; h < sizeof(huge) / sizeof(huge[0]); h++) {
		for (size_t i = 2; i < 8; i++) {
			if (i == 3)
				continue;                 /* the url */
			for (size_t j = 0; j < 8; j++)
				kv[j] = check[j];
			snprintf(buf[i], sizeof(buf[i]), "%.*s=%s", (int)(strchr(check[i], '=') - check[i]),
			    check[i], huge[h]);
			kv[i] = buf[i];
			why[0] = '\0';
			ok(rw_check_parse(f, fields(f, kv, 8), &c, why, sizeof(why)) < 0 &&
			    strstr(why, huge[h]) != NULL && strstr(why, "not a whole number") != NULL,
			    "check field %s refused: %s", buf[i], why);
		}
		for (size_t i = 5; i < 9; i++) {
			for (size_t j = 0; j < 10; j++)
				kv[j] = result[j];
			snprintf(buf[i], sizeof(buf[i]), "%.*s=%s", (int)(strchr(result[i], '=') - result[i]),
			    result[i], huge[h]);
			kv[i] = buf[i];
			why[0] = '\0';
			ok(rw_result_parse(f, fields(f, kv, 10), &r, why, sizeof(why)) < 0 &&
			    strstr(why, huge[h]) != NULL && strstr(why, "not a whole number") != NULL,
			    "result field %s refused: %s", buf[i], why);
		}
		kv[0] = "v=1"; kv[1] = "check=0123456789abcdef-1";
		for (size_t j = 2; j < 10; j++)
			kv[j] = result[j];
		snprintf(buf[2], sizeof(buf[2]), "site=%s", huge[h]);
		kv[2] = buf[2];
		ok(rw_result_parse(f, fields(f, kv, 10), &r, why, sizeof(why)) < 0, "result %s refused", buf[2]);
		snprintf(buf[0], sizeof(buf[0]), "%s-1", huge[h]);
		is_int(rw_stream_id_ms(buf[0], strlen(buf[0])), -1, "stream id %s refused", buf[0]);
	}
	/* the largest that fit still read */
	for (size_t j = 0; j < 8; j++)
		kv[j] = check[j];
	kv[2] = "site=9223372036854775807";
	ok(rw_check_parse(f, fields(f, kv, 8), &c, why, sizeof(why)) == 0 && c.site_id == INT64_MAX,
	    "site INT64_MAX reads: %s", why);
	is_int(rw_stream_id_ms("9223372036854775807-0", 21), INT64_MAX, "stream id INT64_MAX");
	uint64_t run, seq;
	ok(rw_check_id_parse("0123456789abcdef-18446744073709551615", &run, &seq) < 0 ||
	    seq == UINT64_MAX, "check id sequence UINT64_MAX: refused or exact");
	ok(rw_check_id_parse("0123456789abcdef-18446744073709551816", &run, &seq) < 0,
	    "check id sequence past 2^64 refused");
}

static void test_keep_run(void)
{
	char dir[] = "/tmp/squirrel-runs-XXXXXX", path[128], prev[64], cmd[160];

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	struct store *st = store_open(path, STORE_CREATE);
	ok(st != NULL, "a database");
	store_close(st);
	is_int(daemon_keep_run(path, "sq", "00000000000000a1", prev, sizeof(prev)), 0,
	    "the first run: none before it");
	is_str(prev, "", "previous empty");
	is_int(daemon_keep_run(path, "sq", "00000000000000b2", prev, sizeof(prev)), 1,
	    "the second run: the first before it");
	is_str(prev, "00000000000000a1", "the first run read back");
	is_int(daemon_keep_run(path, "other", "00000000000000c3", prev, sizeof(prev)), 0,
	    "one row per stream prefix");
	is_int(daemon_keep_run(path, "sq", "00000000000000d4", prev, sizeof(prev)), 1, "third run");
	is_str(prev, "00000000000000b2", "the run just before, not the first");
	snprintf(cmd, sizeof(cmd), "%s/none/t.db", dir);
	is_int(daemon_keep_run(cmd, "sq", "00000000000000e5", prev, sizeof(prev)), -1,
	    "no database: nothing kept");
	is_int(daemon_keep_run(NULL, "sq", "00000000000000e5", prev, sizeof(prev)), -1,
	    "no path: nothing kept");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* The value of field key in an encoded command, or NULL. */
static const char *arg_of(const struct rw_args *a, const char *key, char *buf, size_t len)
{
	for (int i = 0; i + 1 < a->n; i++) {
		if (a->len[i] == strlen(key) && memcmp(a->v[i], key, a->len[i]) == 0) {
			snprintf(buf, len, "%.*s", (int)a->len[i + 1], a->v[i + 1]);
			return buf;
		}
	}
	return NULL;
}

static size_t args_fields(const struct rw_args *a, int from, struct rw_field *f)
{
	size_t n = 0;
	for (int i = from; i + 1 < a->n; i += 2)
		f[n++] = (struct rw_field){ .key = a->v[i], .klen = a->len[i], .val = a->v[i + 1],
			.vlen = a->len[i + 1] };
	return n;
}

/*
 * What the answer must be crosses the wire as version 2 with need; a plain
 * check stays version 1 (older workers run it); a need this squirrel does
 * not know refuses the entry by the field's name.
 */
static void test_check_expect(void)
{
	struct rw_check c = { .site_id = 5, .url = "http://x/", .url_len = 9, .timeout_ms = 1000,
		.connect_timeout_ms = 1000, .max_redirects = 0, .deadline_ms = 5 };
	struct rw_args a;
	struct rw_field f[RW_ARGS_MAX / 2];
	struct rw_check back;
	char why[256], buf[300];

	snprintf(c.id, sizeof(c.id), "c-1");
	c.expect.body_max = 4096;
	rw_args_init(&a);
	rw_check_encode(&a, &c);
	is_str(arg_of(&a, "v", buf, sizeof(buf)), "1", "a plain check is version 1");
	ok(arg_of(&a, "need", buf, sizeof(buf)) == NULL && arg_of(&a, "body_max", buf, sizeof(buf)) == NULL,
	    "with no need and nothing of version 2");

	c.expect.method = SQ_METHOD_GET;
	ok(sq_expect_status_parse("200-299,404", &c.expect, why, sizeof(why)) == 0, "statuses");
	memcpy(c.expect.keyword, "Err\xc3\xa9ur", 7);
	c.expect.keyword_len = 7;
	c.expect.keyword_mode = SQ_KEYWORD_ABSENT;
	c.expect.keyword_nocase = 1;
	rw_args_init(&a);
	rw_check_encode(&a, &c);
	ok(!a.overflow, "no overflow");
	is_str(arg_of(&a, "v", buf, sizeof(buf)), "2", "a check that asks more is version 2");
	is_str(arg_of(&a, "need", buf, sizeof(buf)),
	    "method,expect_status,keyword,keyword_mode,keyword_nocase,body_max", "need names its fields");
	is_str(arg_of(&a, "expect_status", buf, sizeof(buf)), "200-299,404", "the statuses as text");
	ok(rw_check_parse(f, args_fields(&a, 0, f), &back, why, sizeof(why)) == 0, "reads back: %s", why);
	ok(memcmp(&back.expect, &c.expect, sizeof(c.expect)) == 0, "every byte of what it expects kept");

	/* a keyword alone: GET is implied, body_max needed */
	memset(&c.expect, 0, sizeof(c.expect));
	c.expect.body_max = 100;
	memcpy(c.expect.keyword, "ok", 2);
	c.expect.keyword_len = 2;
	rw_args_init(&a);
	rw_check_encode(&a, &c);
	is_str(arg_of(&a, "need", buf, sizeof(buf)), "keyword,keyword_mode,keyword_nocase,body_max",
	    "a keyword needs its mode, its case and body_max");
	ok(rw_check_parse(f, args_fields(&a, 0, f), &back, why, sizeof(why)) == 0 &&
	    back.expect.method == SQ_METHOD_GET && back.expect.keyword_len == 2 && back.expect.body_max == 100,
	    "read back as a GET for the keyword");

	/* a status the site does not expect is http, whatever the status */
	struct rw_result ans = { .url = "http://x/", .url_len = 9, .deadline_ms = 5,
		.r = { .site_id = 5, .err = SQ_ERR_HTTP, .http_status = 204 } };
	snprintf(ans.check_id, sizeof(ans.check_id), "c-1");
	snprintf(ans.location, sizeof(ans.location), "paris");
	struct rw_result ans_back;
	rw_args_init(&a);
	rw_result_encode(&a, &ans, "w1");
	ok(rw_result_parse(f, args_fields(&a, 0, f), &ans_back, why, sizeof(why)) == 0 &&
	    ans_back.r.err == SQ_ERR_HTTP && ans_back.r.http_status == 204, "an answer of http 204 reads: %s",
	    why);
	ans.r.http_status = 0;
	rw_args_init(&a);
	rw_result_encode(&a, &ans, "w1");
	ok(rw_result_parse(f, args_fields(&a, 0, f), &ans_back, why, sizeof(why)) < 0, "http without a status");
	is_str(why, "'err' is http but 'status' is 0", "refused");

	/* an answer over a certificate: version 2, need naming its fields, read back whole */
	struct rw_result res;
	ans.r.http_status = 200;
	ans.r.err = SQ_OK;
	ans.r.cert.not_after = 1800000000;
	for (int i = 0; i < SQ_CERT_FP_LEN; i++)
		ans.r.cert.fingerprint[i] = (uint8_t)(i * 7 + 1);
	snprintf(ans.r.cert.subject, sizeof(ans.r.cert.subject), "CN=shop.example, O=Shop");
	snprintf(ans.r.cert.issuer, sizeof(ans.r.cert.issuer), "CN=R3, O=Let's Encrypt");
	rw_args_init(&a);
	rw_result_encode(&a, &ans, "w1");
	is_str(arg_of(&a, "v", buf, sizeof(buf)), "2", "an answer with a certificate is version 2");
	is_str(arg_of(&a, "need", buf, sizeof(buf)), "cert_end,cert_fp,cert_subject,cert_issuer",
	    "need names the certificate's fields");
	ok(rw_result_parse(f, args_fields(&a, 0, f), &res, why, sizeof(why)) == 0 &&
	    memcmp(&res.r.cert, &ans.r.cert, sizeof(ans.r.cert)) == 0,
	    "the certificate reads back, every byte: %s", why);
	memset(&ans.r.cert, 0, sizeof(ans.r.cert));
	rw_args_init(&a);
	rw_result_encode(&a, &ans, "w1");
	is_str(arg_of(&a, "v", buf, sizeof(buf)), "1", "without one, version 1 as before");

	/* the next version is refused by its number, a field of a newer worker by its name */
	static const char *const v3[] = { "v=3" };
	ok(rw_result_parse(f, fields(f, v3, 1), &res, why, sizeof(why)) < 0, "results of version 3");
	is_str(why, "version '3' (this squirrel reads versions 1 and 2)", "refused by the version");
	static const struct {
		const char *kv[16];
		size_t n;
		const char *why;
	} bad_cert[] = {
		{ { "v=2", "check=c", "site=1", "location=a", "url=http://x/", "deadline=5", "started=1",
		    "ms=1", "status=200", "err=", "need=cert_end,cert_chain", "cert_end=5" }, 12,
		  "it needs field 'cert_chain', which this squirrel does not know (a newer worker's): not recorded" },
		{ { "v=2", "check=c", "site=1", "location=a", "url=http://x/", "deadline=5", "started=1",
		    "ms=1", "status=200", "err=", "cert_end=5" }, 11, "version 2 without a 'need' field" },
		{ { "v=2", "check=c", "site=1", "location=a", "url=http://x/", "deadline=5", "started=1",
		    "ms=1", "status=200", "err=", "need=cert_end", "cert_end=5" }, 12,
		  "version 2 without a 'cert_fp' field" },
		{ { "v=2", "check=c", "site=1", "location=a", "url=http://x/", "deadline=5", "started=1",
		    "ms=1", "status=200", "err=", "need=cert_end,cert_fp,cert_subject,cert_issuer",
		    "cert_end=5", "cert_fp=zz", "cert_subject=CN=a", "cert_issuer=CN=b" }, 15,
		  "'cert_fp' is not 64 hex digits" },
		{ { "v=2", "check=c", "site=1", "location=a", "url=http://x/", "deadline=5", "started=1",
		    "ms=1", "status=200", "err=", "need=cert_end,cert_fp,cert_subject,cert_issuer",
		    "cert_end=0", "cert_fp=0000000000000000000000000000000000000000000000000000000000000000",
		    "cert_subject=CN=a", "cert_issuer=CN=b" }, 15,
		  "'cert_end' is '0', not a whole number from 1 to 4611686018427387903" },
	};
	for (size_t i = 0; i < sizeof(bad_cert) / sizeof(bad_cert[0]); i++) {
		struct rw_field bf[16];
		why[0] = '\0';
		ok(rw_result_parse(bf, fields(bf, bad_cert[i].kv, bad_cert[i].n), &res, why, sizeof(why)) < 0,
		    "bad certificate %zu refused", i);
		is_str(why, bad_cert[i].why, "bad certificate %zu: the reason", i);
	}

	static const struct {
		const char *kv[14];
		size_t n;
		const char *why;
	} bad[] = {
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=slow_ms", "slow_ms=300" }, 10,
		  "it needs field 'slow_ms', which this squirrel does not know (a newer coordinator's): not checked" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=keyword,cert_warn_days", "keyword=a", "body_max=9",
		    "cert_warn_days=30" }, 12,
		  "it needs field 'cert_warn_days', which this squirrel does not know (a newer coordinator's): not checked" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "method=GET" }, 9, "version 2 without a 'need' field" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=keyword", "body_max=9" }, 10,
		  "it needs field 'keyword' but has none" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=method,", "method=GET", "body_max=9" }, 11,
		  "'need' ends with a comma" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=method", "method=POST" }, 10,
		  "'method' is 'POST', not HEAD or GET" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=expect_status", "expect_status=299-200" }, 10,
		  "'expect_status': 299-200: a range must not end before it starts" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=keyword", "keyword=a" }, 10,
		  "it reads the body but has no 'body_max' field" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=keyword,keyword_mode,body_max", "keyword=a",
		    "keyword_mode=maybe", "body_max=9" }, 12, "'keyword_mode' is 'maybe', not present or absent" },
		{ { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10", "connect_timeout=10",
		    "max_redirects=0", "deadline=5", "need=method,body_max", "method=GET", "body_max=0" }, 11,
		  "'body_max' is '0', not a whole number from 1 to 2147483647" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rw_field bf[14];
		why[0] = '\0';
		ok(rw_check_parse(bf, fields(bf, bad[i].kv, bad[i].n), &back, why, sizeof(why)) < 0,
		    "version 2 entry %zu refused", i);
		is_str(why, bad[i].why, "version 2 entry %zu: the reason", i);
	}
	/* a keyword of 257 bytes: refused, never cut */
	char big[SQ_KEYWORD_MAX + 10];
	memcpy(big, "keyword=", 8);
	memset(big + 8, 'k', SQ_KEYWORD_MAX + 1);
	big[sizeof(big) - 1] = '\0';
	const char *kv[] = { "v=2", "check=c", "site=1", "url=http://x/", "timeout=10",
		"connect_timeout=10", "max_redirects=0", "deadline=5", "need=keyword,body_max", big,
		"body_max=9" };
	struct rw_field bf[11];
	ok(rw_check_parse(bf, fields(bf, kv, 11), &back, why, sizeof(why)) < 0, "a keyword of 257 bytes");
	is_str(why, "'keyword' is empty, longer than 256 bytes or holds a NUL", "refused by name");
}

int main(void)
{
	test_check_roundtrip();
	test_hostile_checks();
	test_check_expect();
	test_results();
	test_wrapping_numbers();
	test_quorum();
	test_describe();
	test_map();
	test_keep_run();
	return tap_done();
}

/*
 * test_classify.c - the error column's text. (What a real server's answer
 * is classified as is covered end to end by the integration and
 * conformance tests; which urls are checked at all, in test_util.c.)
 */
#include "squirrel/core/check.h"
#include "tap.h"

static void test_error_text(void)
{
	struct sq_result r = { 0 };
	char buf[160];

	is_str(sq_result_error(&r, buf, sizeof(buf)), "", "ok has no error");
	r.err = SQ_ERR_HTTP;
	r.http_status = 503;
	is_str(sq_result_error(&r, buf, sizeof(buf)), "http 503", "http status");
	static const struct {
		enum sq_err err;
		const char *name;
	} names[] = {
		{ SQ_ERR_DNS, "dns" }, { SQ_ERR_DNS_NXDOMAIN, "dns nxdomain" },
		{ SQ_ERR_DNS_SERVFAIL, "dns servfail" }, { SQ_ERR_DNS_TIMEOUT, "dns timeout" },
		{ SQ_ERR_DNS_NOADDR, "dns no address" }, { SQ_ERR_CONNECT_REFUSED, "connect refused" },
		{ SQ_ERR_CONNECT_TIMEOUT, "connect timeout" }, { SQ_ERR_TIMEOUT, "timeout" },
		{ SQ_ERR_TLS, "tls" }, { SQ_ERR_TOO_MANY_REDIRECTS, "too many redirects" },
		{ SQ_ERR_PROTOCOL, "protocol refused" }, { SQ_ERR_WORKER, "worker died" },
		{ SQ_ERR_BAD_REPLY, "bad reply" }, { SQ_ERR_TOO_LARGE, "reply too large" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r.err = names[i].err;
		is_str(sq_result_error(&r, buf, sizeof(buf)), names[i].name, "class %d", (int)names[i].err);
	}
	r.err = SQ_ERR_OTHER;
	memcpy(r.detail, "weird\tthing\nhappened", 21);
	is_str(sq_result_error(&r, buf, sizeof(buf)), "weird thing happened", "no tab or newline in detail");
	/* a detail without its terminating NUL (from another process) */
	memset(r.detail, 'x', sizeof(r.detail));
	is_int(strlen(sq_result_error(&r, buf, sizeof(buf))), SQ_DETAIL_MAX, "unterminated detail bounded");
	r.err = 9999;
	is_str(sq_result_error(&r, buf, sizeof(buf)), "error", "out of range class");
}

int main(void)
{
	test_error_text();
	return tap_done();
}

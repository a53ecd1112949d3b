/*
 * test_classify.c - the one table of classes, and the error column's text
 * read from it. (What a real server's answer is classified as is covered
 * end to end by the integration and conformance tests; which urls are
 * checked at all, in test_util.c.)
 */
#include "squirrel/core/check.h"
#include "squirrel/core/classes.h"
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

/*
 * The one table of classes. The codes are what the database keeps: frozen,
 * so this list only ever grows.
 */
static void test_classes(void)
{
	static const struct {
		int err, code;
		const char *name, *words;
	} frozen[] = {
		{ SQ_OK, 0, "", "" },
		{ SQ_ERR_HTTP, 1, "http", "the server answered HTTP" },
		{ SQ_ERR_DNS, 2, "dns", "the name did not resolve" },
		{ SQ_ERR_DNS_NXDOMAIN, 3, "dns nxdomain", "the name does not exist (NXDOMAIN)" },
		{ SQ_ERR_DNS_SERVFAIL, 4, "dns servfail", "the DNS server failed to answer (SERVFAIL)" },
		{ SQ_ERR_DNS_TIMEOUT, 5, "dns timeout", "the DNS lookup timed out" },
		{ SQ_ERR_DNS_NOADDR, 6, "dns no address", "the name has no address (no A or AAAA record)" },
		{ SQ_ERR_CONNECT_REFUSED, 7, "connect refused", "the connection was refused" },
		{ SQ_ERR_CONNECT_TIMEOUT, 8, "connect timeout", "the connection timed out" },
		{ SQ_ERR_UNREACHABLE, 9, "unreachable", "the network or the host is unreachable" },
		{ SQ_ERR_TIMEOUT, 10, "timeout", "no answer within the timeout" },
		{ SQ_ERR_TLS, 11, "tls", "the TLS handshake failed" },
		{ SQ_ERR_TOO_MANY_REDIRECTS, 12, "too many redirects", "too many redirects" },
		{ SQ_ERR_PROTOCOL, 13, "protocol refused",
		    "a redirect led to a scheme other than http or https" },
		{ SQ_ERR_EMPTY_REPLY, 14, "empty reply", "the server closed the connection without an answer" },
		{ SQ_ERR_BAD_REPLY, 15, "bad reply", "the server's answer was not valid HTTP" },
		{ SQ_ERR_RESET, 16, "connection reset", "the connection was reset" },
		{ SQ_ERR_BAD_URL, 17, "bad url", "the URL is not valid" },
		{ SQ_ERR_WORKER, 18, "worker died", "the worker running the check died" },
		{ SQ_ERR_OTHER, 19, "error", "the check failed" },
		{ SQ_ERR_NO_QUORUM, 20, "unknown", "too few locations answered to tell" },
		{ SQ_ERR_TOO_LARGE, 21, "reply too large",
		    "the server's status line or a header was too large to read" },
		{ SQ_ERR_STOPPED, 22, "stopped", "the check was cut short when squirreld stopped" },
		{ SQ_ERR_TLS_EXPIRED, 23, "tls expired", "the certificate expired" },
		{ SQ_ERR_TLS_NOT_YET_VALID, 24, "tls not yet valid",
		    "the certificate is not valid yet (its start date is in the future)" },
		{ SQ_ERR_TLS_UNTRUSTED, 25, "tls untrusted",
		    "the certificate is not trusted (self-signed, an unknown issuer or an incomplete chain)" },
		{ SQ_ERR_TLS_NAME, 26, "tls name mismatch", "the certificate is not for this host name" },
		{ SQ_ERR_TLS_HANDSHAKE, 27, "tls handshake",
		    "the TLS handshake failed (no common protocol or cipher, or not TLS)" },
		{ SQ_ERR_KEYWORD_MISSING, 28, "keyword missing",
		    "the page did not contain the text it must contain" },
		{ SQ_ERR_KEYWORD_PRESENT, 29, "keyword present",
		    "the page contained the text it must not contain" },
		{ SQ_ERR_PARENT_DOWN, 30, "parent down", "the site it depends on is down" },
		{ SQ_ERR_OUTAGE, 31, "unknown outage",
		    "not judged: squirrel's own network was failing (a monitor outage)" },
	};
	size_t n = sizeof(frozen) / sizeof(frozen[0]), named = 0;

	/* a code not given yet (another feature's) leaves a hole in the enum */
	for (int e = 0; e < SQ_ERR_MAX; e++)
		named += sq_class_code(e) >= 0;
	is_int(n, named, "every class is in the frozen list");
	for (size_t i = 0; i < n; i++) {
		is_int(sq_class_code(frozen[i].err), frozen[i].code, "code of '%s'", frozen[i].name);
		is_int(sq_class_of_code(frozen[i].code), frozen[i].err, "class of code %d", frozen[i].code);
		is_str(sq_class_name(frozen[i].err), frozen[i].name, "name of code %d", frozen[i].code);
		is_str(sq_class_words(frozen[i].err), frozen[i].words, "words of '%s'", frozen[i].name);
		is_int(sq_class_parse(frozen[i].name), frozen[i].err, "'%s' parsed", frozen[i].name);
	}
	is_int(sq_class_of_code(SQ_ERR_MAX), -1, "a code from a later version is unknown");
	is_int(sq_class_of_code(-1), -1, "a negative code is unknown");
	is_int(sq_class_of_code((int64_t)1 << 40), -1, "a huge code is unknown");
	is_int(sq_class_code(SQ_ERR_MAX), -1, "no code out of range");
	is_str(sq_class_name(-3), "error", "a name out of range");
	is_str(sq_class_words(9999), "the check failed", "words out of range");
	is_int(sq_class_parse("Timeout"), -1, "names are exact");
}

/* An error column of schema versions up to 8, read once into class and detail. */
static void test_legacy(void)
{
	static const struct {
		const char *text;
		bool ok;
		int err;
		const char *detail;
	} cases[] = {
		{ "", true, SQ_OK, "" },
		{ "timeout", false, SQ_ERR_TIMEOUT, "" },
		{ "dns nxdomain", false, SQ_ERR_DNS_NXDOMAIN, "" },
		{ "dns", false, SQ_ERR_DNS, "" },
		{ "http 503", false, SQ_ERR_HTTP, "" },
		{ "http 503 from b, c", false, SQ_ERR_HTTP, "http 503 from b, c" },
		{ "http 503 from b; timeout from c", false, SQ_ERR_HTTP, "http 503 from b; timeout from c" },
		{ "timeout from a", false, SQ_ERR_TIMEOUT, "timeout from a" },
		{ "unknown", false, SQ_ERR_NO_QUORUM, "" },
		{ "unknown: no answer from c", false, SQ_ERR_NO_QUORUM, "unknown: no answer from c" },
		/* libcurl's own words, even when they begin like a class */
		{ "unknown option", false, SQ_ERR_OTHER, "unknown option" },
		{ "timeout was reached", false, SQ_ERR_OTHER, "timeout was reached" },
		{ "dns nxdomainx", false, SQ_ERR_OTHER, "dns nxdomainx" },
		{ "http 50x", false, SQ_ERR_OTHER, "http 50x" },
		{ "error", false, SQ_ERR_OTHER, "error" },
		{ "Weird thing", false, SQ_ERR_OTHER, "Weird thing" },
		{ "", false, SQ_ERR_OTHER, "" },
	};
	char buf[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *detail = NULL;
		int err = sq_class_of_legacy(cases[i].text, cases[i].ok, &detail);
		is_int(err, cases[i].err, "legacy '%s': class", cases[i].text);
		is_str(detail, cases[i].detail, "legacy '%s': detail", cases[i].text);
		/* the same text again from the two, as readers show it */
		if (cases[i].text[0] != '\0' || cases[i].ok)
			is_str(sq_error_text(err, 503, detail, strlen(detail), buf, sizeof(buf)),
			    cases[i].text, "legacy '%s': shown as before", cases[i].text);
	}
	const char *detail = NULL;
	is_int(sq_class_of_legacy(NULL, false, &detail), SQ_ERR_OTHER, "legacy NULL: other");
	is_str(detail, "", "legacy NULL: no detail");

	/* what the history keeps beside the class */
	struct sq_result r = { .err = SQ_ERR_TIMEOUT };
	is_str(sq_result_detail(&r, buf, sizeof(buf)), "", "detail: none for the class alone");
	snprintf(r.detail, sizeof(r.detail), "timeout from a");
	is_str(sq_result_detail(&r, buf, sizeof(buf)), "timeout from a", "detail: one that extends it");
	snprintf(r.detail, sizeof(r.detail), "unrelated");
	is_str(sq_result_detail(&r, buf, sizeof(buf)), "", "detail: a hidden one is not kept");
	r.err = SQ_ERR_OTHER;
	is_str(sq_result_detail(&r, buf, sizeof(buf)), "unrelated", "detail: libcurl's words");
	r.detail[0] = '\0';
	is_str(sq_result_detail(&r, buf, sizeof(buf)), "", "detail: libcurl said nothing");
}

int main(void)
{
	test_legacy();
	test_classes();
	test_error_text();
	return tap_done();
}

/*
 * test_util.c - url and owner address validation (the ground floor's
 * gates), names in their ASCII form, URLs as shown, the form of a
 * [check] ca_file (real files in a temporary directory), and the check queue.
 * The parts of a url a check needs, from the same parse as the verdict,
 * and the probe's quick answer to "is there a name to look up" against
 * that parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squirrel/backend/queue.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/check/probe.h"
#include "tap.h"

static void test_urls(void)
{
	static const struct {
		const char *url, *why;   /* why == NULL: valid */
	} cases[] = {
		{ "http://example.org/", NULL },
		{ "https://example.org:8443/path?q=1#frag", NULL },
		{ "http://127.0.0.1:8080", NULL },
		{ "http://[::1]:8080/", NULL },
		{ "http:///nohost", "url has no host" },
		{ "http://", "url not understood (No host part in the URL)" },
		{ "http://exa mple.org/", "url contains a space at byte 11" },
		{ "http://example.org/\n", "url contains a control character at byte 20" },
		{ "ftp://example.org/", "only http and https urls are checked" },
		{ "file:///etc/passwd", "only http and https urls are checked" },
		{ "gopher://example.org/", "only http and https urls are checked" },
		{ "", "empty url" },
		{ "example.org", "url not understood (Bad scheme)" },
		{ "http://b\xc3\xbc" "cher.example/", NULL },
		{ "http://B\xc3\x9c" "CHER.example:8080/x", NULL },
		{ "http://\xe2\x98\x83\xe2\x80\x8f.example/", "url host: not a valid internationalised "
		    "name (string contains a disallowed character)" },
	};
	char why[160];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool valid = url_valid(cases[i].url, why, sizeof(why));
		is_int(valid, cases[i].why == NULL, "url '%s' validity", cases[i].url);
		if (cases[i].why != NULL && !valid)
			is_str(why, cases[i].why, "url '%s' reason", cases[i].url);
	}
}

static void test_url_host(void)
{
	static const struct {
		const char *url, *host;
		int port, literal, differs;
	} cases[] = {
		{ "http://example.org/", "example.org", 80, 0, 0 },
		{ "https://example.org:8443/path?q=1#frag", "example.org", 8443, 0, 0 },
		{ "https://Example.ORG/", "Example.ORG", 443, 0, 0 },
		{ "http://127.0.0.1:8080", "127.0.0.1", 8080, 1, 0 },
		{ "http://[::1]:8080/", "[::1]", 8080, 1, 0 },
		{ "http://user:pw@10.1.2.3/x", "10.1.2.3", 80, 1, 0 },
		{ "http://127.1:81/", "127.0.0.1", 81, 1, 0 },
		{ "http://0x7f.1/", "127.0.0.1", 80, 1, 0 },
		{ "http://1.2.3.4.example/", "1.2.3.4.example", 80, 0, 0 },
		{ "http://b\xc3\xbc" "cher.example/", "xn--bcher-kva.example", 80, 0, 1 },
	};
	char why[160];
	struct url_host uh;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *u = cases[i].url;
		ok(url_valid_host(u, why, sizeof(why), &uh), "url '%s' valid with its host", u);
		is_str(uh.host, cases[i].host, "url '%s' host", u);
		is_int(uh.port, cases[i].port, "url '%s' port", u);
		is_int(uh.literal, cases[i].literal, "url '%s' is an address", u);
		is_int(uh.ascii_differs, cases[i].differs, "url '%s' host written another way", u);
		is_int(probe_url_needs_lookup(u), !cases[i].literal, "url '%s' needs a lookup", u);
	}
	ok(!url_valid_host("ftp://example.org/", why, sizeof(why), &uh) &&
	    strcmp(why, "only http and https urls are checked") == 0, "url_valid_host: url_valid's reason");
	/* what the quick answer leaves to the parser */
	static const struct {
		const char *url;
		int lookup;
	} quick[] = {
		{ "http://example.org.:8080/", 1 },
		{ "http://host-1.example:8080?x", 1 },
		{ "http://[fe80::1]/", 0 },
		{ "http://999.1.2.3/", 1 },   /* numbers, but no address: libcurl reads a name */
		{ "http://2130706433/", 0 },  /* one number libcurl reads as 127.0.0.1 */
		{ "http://10.0.0.1@example.org/", 1 },
		{ "http://a%41.example/", 1 },
		{ "not a url", 0 },
		{ "example.org/x://y", 0 },
	};
	for (size_t i = 0; i < sizeof(quick) / sizeof(quick[0]); i++)
		is_int(probe_url_needs_lookup(quick[i].url), quick[i].lookup, "url '%s' needs a lookup",
		    quick[i].url);
}

static void test_email(void)
{
	static const struct {
		const char *addr;
		int valid;
	} cases[] = {
		{ "ops@example.org", 1 },
		{ "first.last+tag@sub.example.co.uk", 1 },
		{ "root@localhost", 1 },
		{ "", 0 },
		{ "ops", 0 },
		{ "@example.org", 0 },
		{ "ops@", 0 },
		{ "a@b@example.org", 0 },
		{ "ops@example", 0 },
		{ "ops @example.org", 0 },
		{ "ops@example.org\r\nBcc: x@evil.example", 0 },
		{ "ops@example.org,x@evil.example", 0 },
		{ "Ops <ops@example.org>", 0 },
		{ "\"q\"@example.org", 0 },
		{ "ops@example.org\t", 0 },
		{ "op\xc2\x85s@example.org", 0 },           /* U+0085, a C1 control */
		{ "ops@exa\xc2\x9bmple.org", 0 },           /* U+009B, CSI */
		{ "ops@exa\xc2\x80mple.org", 0 },           /* U+0080 */
		{ "ops@exa\x85mple.org", 0 },               /* a lone byte, not UTF-8 */
		{ "ops@exa\xc0\xafmple.org", 0 },           /* overlong '/' */
		{ "j\xc3\xb6rg@example.org", 0 },           /* non-ASCII local part */
		{ "ops@b\xc3\xbc" "cher.example", 0 },         /* IDN domain: only in ASCII form */
		{ "ops@xn--bcher-kva.example", 1 },
	};
	char why[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(email_valid(cases[i].addr, why, sizeof(why)), cases[i].valid,
		    "email '%s'", cases[i].addr);
	email_valid("ops@example.org\r\n", why, sizeof(why));
	is_str(why, "address contains a control character", "reason for a CR");
	email_valid("op\xc2\x85s@example.org", why, sizeof(why));
	is_str(why, "address contains a control character", "reason for U+0085");
	email_valid("ops@exa\x85mple.org", why, sizeof(why));
	is_str(why, "address is not UTF-8 (byte 8)", "reason for a byte that is not UTF-8");
	email_valid("j\xc3\xb6rg@example.org", why, sizeof(why));
	is_str(why, "the local part 'j\xc3\xb6rg' is not ASCII: mail to it needs SMTPUTF8, "
	    "which squirrel cannot send", "reason for a non-ASCII local part");
	email_valid("ops@b\xc3\xbc" "cher.example", why, sizeof(why));
	is_str(why, "domain 'b\xc3\xbc" "cher.example' is not ASCII: write it as "
	    "'xn--bcher-kva.example'", "reason for an IDN domain: its ASCII form");
}

static void test_email_to_ascii(void)
{
	char out[256], why[160];

	ok(email_to_ascii("ops@b\xc3\xbc" "cher.example", out, sizeof(out), why, sizeof(why)),
	    "an IDN domain is converted");
	is_str(out, "ops@xn--bcher-kva.example", "to its punycode");
	ok(email_to_ascii("ops@B\xc3\x9c" "CHER.example", out, sizeof(out), why, sizeof(why)),
	    "capitals too");
	is_str(out, "ops@xn--bcher-kva.example", "mapped as UTS #46 says");
	ok(email_to_ascii("Ops@Example.ORG", out, sizeof(out), why, sizeof(why)), "ASCII as it is");
	is_str(out, "Ops@Example.ORG", "an ASCII address is not changed");
	ok(!email_to_ascii("j\xc3\xb6rg@b\xc3\xbc" "cher.example", out, sizeof(out), why, sizeof(why)),
	    "a non-ASCII local part has no ASCII form");
	is_str(why, "the local part 'j\xc3\xb6rg' is not ASCII: mail to it needs SMTPUTF8, "
	    "which squirrel cannot send", "and says so");
	ok(!email_to_ascii("ops@b\xc3\xbc\xc2\x85" "cher.example", out, sizeof(out), why, sizeof(why)),
	    "a C1 control in an IDN domain is refused");
	is_str(why, "address contains a control character", "as a control character");
	ok(!email_to_ascii("ops@\xe2\x98\x83\xe2\x80\x8f.example", out, sizeof(out), why,
	    sizeof(why)), "a name IDNA refuses (U+200F) is refused");
	ok(strncmp(why, "domain '", 8) == 0 && strstr(why, "not a valid internationalised name") != NULL,
	    "naming the domain: %s", why);
}

static void test_idn(void)
{
	char out[256], why[128];

	is_int(idn_to_ascii("b\xc3\xbc" "cher.example", out, sizeof(out), why, sizeof(why)), 0,
	    "an IDN host converts");
	is_str(out, "xn--bcher-kva.example", "to its punycode");
	is_int(idn_to_ascii("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", out,
	    sizeof(out), why, sizeof(why)), 0, "a name in Japanese converts");
	is_str(out, "xn--r8jz45g.xn--zckzah", "label by label");
	is_int(idn_to_ascii("example.org", out, sizeof(out), why, sizeof(why)), 0, "ASCII host");
	is_str(out, "example.org", "copied as it is");
	is_int(idn_to_ascii("b\xc3\xbc" "cher.example", out, 8, why, sizeof(why)), -1,
	    "an ASCII form that does not fit is refused");
	is_int(idn_to_ascii("\xff.example", out, sizeof(out), why, sizeof(why)), -1,
	    "bytes that are not UTF-8 are refused");
}

static void test_url_shown(void)
{
	static const struct {
		const char *url, *shown;
	} cases[] = {
		{ "http://user:s3cret@example.org/", "http://user@example.org/" },
		{ "https://user:s3cret@example.org:8443/a?b=c#d", "https://user@example.org:8443/a?b=c#d" },
		{ "HTTP://user:s3cret@example.org", "HTTP://user@example.org" },
		{ "http://:s3cret@example.org/", "http://example.org/" },
		{ "http://user:s3:cret@example.org/", "http://user@example.org/" },
		{ "http://user:s3@cret@example.org/", "http://user@example.org/" },
		{ "http://u@x:s3cret@example.org/", "http://u@x@example.org/" },
		{ "http:/user:s3cret@example.org/", "http:/user@example.org/" },
		{ "http:///user:s3cret@example.org/", "http:///user@example.org/" },
		{ "http://user:s3cret@[::1]:80/", "http://user@[::1]:80/" },
		{ "http://user@example.org/", "http://user@example.org/" },
		{ "http://example.org/a:b@c", "http://example.org/a:b@c" },
		{ "http://example.org?x=a:b@c", "http://example.org?x=a:b@c" },
		{ "http://example.org#a:b@c", "http://example.org#a:b@c" },
		{ "http://example.org:8080/", "http://example.org:8080/" },
		{ "not a url:s3cret@x", "not a url:s3cret@x" },
		{ "", "" },
	};
	char buf[URL_SHOWN_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(url_shown(cases[i].url, buf, sizeof(buf)), cases[i].shown,
		    "url '%s' shown", cases[i].url);
	const char *plain = "http://example.org/";
	ok(url_shown(plain, buf, sizeof(buf)) == plain, "a url without a password is not copied");
	ok(url_shown(NULL, buf, sizeof(buf)) == NULL, "no url, nothing shown");
	char small[12];
	is_str(url_shown("http://user:s3cret@example.org/", small, sizeof(small)), "http://user",
	    "a cut shown form keeps the password out");
	is_str(url_shown("http://user:s3cret@e/", small, 5), "http", "cut in the scheme");
}

static void test_queue(void)
{
	struct check_queue q;
	struct sq_check c = { 0 }, out;
	check_queue_init(&q);
	/* interleave pushes and pops across several growths of the ring */
	uint64_t next_in = 0, next_out = 0;
	int order_ok = 1;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 37; i++) {
			c.tag = next_in++;
			check_queue_push(&q, &c);
		}
		for (int i = 0; i < 20; i++) {
			check_queue_pop(&q, &out);
			order_ok &= out.tag == next_out++;
		}
	}
	is_int(check_queue_len(&q), 50 * 17, "queue length after pushes and pops");
	while (check_queue_pop(&q, &out) == 0)
		order_ok &= out.tag == next_out++;
	ok(order_ok, "first in, first out across growth");
	is_int(next_out, next_in, "every check came out");
	is_int(check_queue_pop(&q, &out), -1, "pop on empty");
	check_queue_free(&q);
}

#define B "-----BEGIN CERTIFICATE-----"
#define E "-----END CERTIFICATE-----"

/* ca_file_check() on a file holding text; its result, the reason in why. */
static int ca_text(const char *dir, const char *text, char *why, size_t whylen)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -2;
	fputs(text, f);
	fclose(f);
	int rc = ca_file_check(path, why, whylen);
	unlink(path);
	return rc;
}

static void test_ca_file(void)
{
	char dir[] = "/tmp/squirrel-ca-XXXXXX";
	char why[512], want[600];

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return;
	}
	is_int(ca_text(dir, B "\nQUJD\n" E "\n", why, sizeof(why)), 1, "one certificate");
	is_int(ca_text(dir, "# two, with text around\n" B "\r\nQUJD\r\nREVG=\r\n" E "\r\nmore text\n"
	    B "\nQUJD\n" E, why, sizeof(why)), 2, "two, CRLF lines, text around, no final newline");
	is_int(ca_text(dir, "", why, sizeof(why)), -1, "an empty file");
	snprintf(want, sizeof(want), "'%s/ca.pem': no PEM certificate in it (" B ")", dir);
	is_str(why, want, "said so");
	is_int(ca_text(dir, "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n", why,
	    sizeof(why)), -1, "a key is no certificate");
	is_int(ca_text(dir, B "\n" E "\n", why, sizeof(why)), -1, "an empty certificate");
	snprintf(want, sizeof(want), "'%s/ca.pem': certificate 1 is empty (line 2)", dir);
	is_str(why, want, "said so, with its line");
	is_int(ca_text(dir, B "\nQUJD\n" E "\n" B "\nQU JD!\n" E "\n", why, sizeof(why)), -1,
	    "not base64");
	snprintf(want, sizeof(want), "'%s/ca.pem': certificate 2 is not valid base64 (line 5)", dir);
	is_str(why, want, "said so, with the certificate and the line");
	is_int(ca_text(dir, B "\nQUJD\n", why, sizeof(why)), -1, "no END line");
	ok(ca_file_check("/nonexistent/ca.pem", why, sizeof(why)) < 0 &&
	    strcmp(why, "'/nonexistent/ca.pem': No such file or directory") == 0, "a missing file: %s", why);
	ok(ca_file_check(dir, why, sizeof(why)) < 0 && strstr(why, "not a regular file") != NULL,
	    "a directory: %s", why);
	rmdir(dir);
}

int main(void)
{
	test_urls();
	test_url_host();
	test_email();
	test_email_to_ascii();
	test_idn();
	test_url_shown();
	test_ca_file();
	test_queue();
	return tap_done();
}

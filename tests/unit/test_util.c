/*
 * test_util.c - owner address validation, URLs as shown, and the check queue.
 */
#include "squirrel/queue.h"
#include "squirrel/urlshow.h"
#include "squirrel/util.h"
#include "tap.h"

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
	};
	char why[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(email_valid(cases[i].addr, why, sizeof(why)), cases[i].valid,
		    "email '%s'", cases[i].addr);
	email_valid("ops@example.org\r\n", why, sizeof(why));
	is_str(why, "address contains a control character", "reason for a CR");
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

int main(void)
{
	test_email();
	test_url_shown();
	test_queue();
	return tap_done();
}

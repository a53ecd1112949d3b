/*
 * test_alert.c - the alert mail, byte by byte: subjects, headers, the body's
 * facts, and hostile values from the database that must not make headers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "squirrel/alert/alert.h"
#include "squirrel/core/check.h"
#include "squirrel/core/classes.h"
#include "tap.h"

#define NOW 1715681000 /* Tue, 14 May 2024 10:03:20 UTC */
#define FROM "squirrel@monitor.example.net"
#define TO "ops@example.org"

/* The error as people write it ("http 503", "timeout", libcurl's words), as class and detail. */
static void set_error(struct alert_item *it, const char *error)
{
	it->err = sq_class_of_legacy(error, error == NULL || error[0] == '\0', &it->detail);
	if (it->err == SQ_ERR_HTTP)
		it->http_status = atoi(error + 5);
}

/* What failed in words, for an error written as people write it. */
static const char *words(const char *error, int http_status, char *buf, size_t len)
{
	struct alert_item it = { .http_status = http_status };

	set_error(&it, error);
	return alert_error_words(&it, buf, len);
}

static struct alert_item item(enum sq_alert_kind kind, const char *url, const char *name,
    const char *error)
{
	struct alert_item it = {
		.site_id = 7, .url = url, .name = name, .kind = kind,
		.http_status = 0, .at = NOW, .since = NOW - 14 * 60, .last_ok = NOW - 15 * 60,
	};
	set_error(&it, error);
	return it;
}

static const char *subject_of(const struct alert_item *items, size_t n)
{
	static char buf[512];
	alert_subject(items, n, buf, sizeof(buf));
	return buf;
}

/* ---- a tiny RFC 5322 reader for the checks ---- */

struct parsed {
	char *headers[32]; /* unfolded "Name: value" */
	int nheaders;
	const char *body;  /* after the blank line */
	bool crlf_only;    /* no bare CR or LF anywhere */
	int longest;       /* longest header line, folded as sent */
};

static void parse(const char *msg, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->crlf_only = true;
	for (const char *s = msg; *s; s++) {
		if (*s == '\r' && s[1] != '\n')
			p->crlf_only = false;
		if (*s == '\n' && (s == msg || s[-1] != '\r'))
			p->crlf_only = false;
	}
	const char *end = strstr(msg, "\r\n\r\n");
	if (end == NULL)
		return;
	p->body = end + 4;
	const char *s = msg;
	while (s < end + 2) {
		const char *eol = strstr(s, "\r\n");
		int len = (int)(eol - s);
		if (len > p->longest)
			p->longest = len;
		if ((*s == ' ' || *s == '\t') && p->nheaders > 0) {
			char *prev = p->headers[p->nheaders - 1];
			size_t pl = strlen(prev);
			prev = realloc(prev, pl + (size_t)len + 1);
			memcpy(prev + pl, s, (size_t)len);
			prev[pl + (size_t)len] = '\0';
			p->headers[p->nheaders - 1] = prev;
		} else if (p->nheaders < 32) {
			p->headers[p->nheaders++] = strndup(s, (size_t)len);
		}
		s = eol + 2;
	}
}

static void parsed_free(struct parsed *p)
{
	for (int i = 0; i < p->nheaders; i++)
		free(p->headers[i]);
}

/* How many headers are named name, and the value of the last one. */
static int header_count(const struct parsed *p, const char *name, const char **value)
{
	int n = 0;
	size_t nl = strlen(name);
	for (int i = 0; i < p->nheaders; i++) {
		if (strncasecmp(p->headers[i], name, nl) == 0 && p->headers[i][nl] == ':') {
			n++;
			if (value != NULL)
				*value = p->headers[i] + nl + 1 + (p->headers[i][nl + 1] == ' ');
		}
	}
	return n;
}

static int b64val(char c)
{
	const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(tab, c);
	return c != '\0' && p != NULL ? (int)(p - tab) : -1;
}

/* Decodes a value made only of =?UTF-8?B?...?= words (folding spaces between). */
static bool decode_words(const char *v, char *out, size_t len)
{
	size_t o = 0;
	while (*v) {
		while (*v == ' ')
			v++;
		if (*v == '\0')
			break;
		if (strncmp(v, "=?UTF-8?B?", 10) != 0)
			return false;
		v += 10;
		unsigned long acc = 0;
		int bits = 0;
		for (; *v && *v != '?'; v++) {
			if (*v == '=')
				continue;
			int x = b64val(*v);
			if (x < 0)
				return false;
			acc = (acc << 6) | (unsigned long)x;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (o + 1 >= len)
					return false;
				out[o++] = (char)((acc >> bits) & 0xff);
			}
		}
		if (strncmp(v, "?=", 2) != 0)
			return false;
		v += 2;
	}
	out[o] = '\0';
	return true;
}

static bool body_has_line(const char *body, const char *line)
{
	size_t n = strlen(line);
	for (const char *s = body; s != NULL && *s; ) {
		if (strncmp(s, line, n) == 0 && strncmp(s + n, "\r\n", 2) == 0)
			return true;
		s = strstr(s, "\r\n");
		if (s != NULL)
			s += 2;
	}
	return false;
}

/* ---- the tests ---- */

static void test_duration(void)
{
	static const struct {
		int64_t s;
		const char *want;
	} cases[] = {
		{ -5, "0s" }, { 0, "0s" }, { 45, "45s" }, { 59, "59s" }, { 60, "1m" },
		{ 14 * 60 + 30, "14m" }, { 3600, "1h" }, { 3 * 3600 + 5 * 60 + 9, "3h 5m" },
		{ 86399, "23h 59m" }, { 86400, "1d" }, { 2 * 86400 + 4 * 3600 + 59, "2d 4h" },
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		alert_duration(cases[i].s, buf, sizeof(buf));
		is_str(buf, cases[i].want, "duration %lld", (long long)cases[i].s);
	}
}

static void test_label(void)
{
	char buf[256];
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/status?x=1", NULL, "timeout");

	is_str(alert_site_label(&it, buf, sizeof(buf)), "example.org", "no name: the url's host");
	it.name = "";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "example.org", "empty name: the url's host");
	it.name = "\r\n\t";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "example.org", "name of control characters: the host");
	it.name = "Shop";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "Shop", "the name when set");
	it.name = NULL;
	it.url = "http://user:secret@127.0.0.1:8080/x";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "127.0.0.1:8080", "userinfo dropped, port kept");
	it.url = "http://[::1]:81";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "[::1]:81", "IPv6 host");
	it.url = "";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "site 7", "nothing at all: the site id");
	it.url = "https://ex\xc2\x85" "ample.org/";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "example.org", "C1 control (NEL) removed");
	it.name = "a\xe2\x80\xae" "b\xef\xbb\xbf";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "ab", "direction override and BOM removed");
	it.name = "caf\xff";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "caf?", "invalid UTF-8 becomes '?'");
	/* the one decoder (base/escape.c): overlong, surrogate, cut short, past U+10FFFF */
	it.name = "a\xc0\xaf" "b\xed\xa0\x80" "c\xf4\x90\x80\x80" "d\xe2\x82";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "a??b???c????d??",
	    "each byte of a malformed sequence becomes '?'");
	it.name = "\xc3\xa9\xe2\x98\x83\xf0\x9f\x90\xbf";
	is_str(alert_site_label(&it, buf, sizeof(buf)), "\xc3\xa9\xe2\x98\x83\xf0\x9f\x90\xbf",
	    "two-, three- and four-byte characters kept");
}

static void test_error_words(void)
{
	char buf[256];

	is_str(words("http 503", 503, buf, sizeof(buf)), "the server answered HTTP 503", "http 503");
	is_str(words("dns nxdomain", 0, buf, sizeof(buf)), "the name does not exist (NXDOMAIN)", "dns nxdomain");
	is_str(words("connect refused", 0, buf, sizeof(buf)), "the connection was refused", "connect refused");
	is_str(words("timeout", 0, buf, sizeof(buf)), "no answer within the timeout", "timeout");
	is_str(words("bad reply", 0, buf, sizeof(buf)), "the server's answer was not valid HTTP",
	    "bad reply: no redirect blamed");
	is_str(words("reply too large", 0, buf, sizeof(buf)),
	    "the server's status line or a header was too large to read", "reply too large");
	is_str(words("protocol refused", 0, buf, sizeof(buf)),
	    "a redirect led to a scheme other than http or https", "protocol refused");
	is_str(words(NULL, 502, buf, sizeof(buf)), "the server answered HTTP 502", "no text, a status");
	is_str(words("", 0, buf, sizeof(buf)), "the check failed", "nothing at all");
	is_str(words("Weird\r\nthing", 0, buf, sizeof(buf)), "the check failed: Weird  thing",
	    "libcurl's own text, CR/LF made spaces");
	/* Every class has words of its own, from the one table. */
	for (int e = SQ_OK + 1; e < SQ_ERR_MAX; e++) {
		struct alert_item it = { .err = e, .http_status = 503 };
		if (sq_class_code(e) < 0)
			continue;   /* a code not given yet */
		alert_error_words(&it, buf, sizeof(buf));
		ok(strncmp(buf, "the check failed:", 17) != 0, "class '%s' has words: '%s'",
		    sq_class_name(e), buf);
		if (e != SQ_ERR_HTTP)
			is_str(buf, sq_class_words(e), "class '%s': the table's words", sq_class_name(e));
	}
	{
		struct alert_item it = { .err = SQ_ERR_MAX + 4, .detail = "from a later version" };
		is_str(alert_error_words(&it, buf, sizeof(buf)), "the check failed: from a later version",
		    "a class this version does not know: its detail");
		it.err = SQ_ERR_OTHER;
		it.detail = "http 503 from b, c";
		is_str(alert_error_words(&it, buf, sizeof(buf)), "the check failed: http 503 from b, c",
		    "a text that looks like groups is not read back as groups");
	}
}

static void test_subjects(void)
{
	struct alert_item it[4];

	it[0] = item(SQ_ALERT_DOWN, "https://example.org/", NULL, "http 503");
	is_str(subject_of(it, 1), "[squirrel] DOWN example.org (http 503)", "DOWN, host");
	it[0].name = "Shop";
	is_str(subject_of(it, 1), "[squirrel] DOWN Shop (http 503)", "DOWN, name");
	set_error(&it[0], NULL);
	it[0].http_status = 500;
	is_str(subject_of(it, 1), "[squirrel] DOWN Shop (http 500)", "DOWN, status only");
	it[0].http_status = 0;
	is_str(subject_of(it, 1), "[squirrel] DOWN Shop", "DOWN, no error known");

	it[0] = item(SQ_ALERT_UP, "https://example.org/", NULL, NULL);
	is_str(subject_of(it, 1), "[squirrel] UP example.org after 14m", "UP after 14m");
	it[0].since = NOW - 45;
	is_str(subject_of(it, 1), "[squirrel] UP example.org after 45s", "UP after 45s");
	it[0].since = NOW - (3 * 3600 + 5 * 60);
	is_str(subject_of(it, 1), "[squirrel] UP example.org after 3h 5m", "UP after 3h 5m");
	it[0].since = NOW - (2 * 86400 + 4 * 3600);
	is_str(subject_of(it, 1), "[squirrel] UP example.org after 2d 4h", "UP after 2d 4h");
	it[0].since = 0;
	is_str(subject_of(it, 1), "[squirrel] UP example.org", "UP, down since unknown");

	it[0] = item(SQ_ALERT_REMINDER, "https://example.org/", NULL, "timeout");
	is_str(subject_of(it, 1), "[squirrel] STILL DOWN example.org (timeout)", "reminder");

	it[0] = item(SQ_ALERT_DOWN, "https://a.example/", NULL, "timeout");
	it[1] = item(SQ_ALERT_DOWN, "https://b.example/", NULL, "http 503");
	it[2] = item(SQ_ALERT_DOWN, "https://c.example/", NULL, "dns nxdomain");
	is_str(subject_of(it, 3), "[squirrel] 3 sites DOWN", "3 down");
	it[0].kind = it[1].kind = SQ_ALERT_UP;
	is_str(subject_of(it, 2), "[squirrel] 2 sites UP", "2 up");
	it[0].kind = SQ_ALERT_DOWN;
	it[1].kind = SQ_ALERT_DOWN;
	it[2].kind = SQ_ALERT_UP;
	is_str(subject_of(it, 3), "[squirrel] 2 sites DOWN, 1 UP", "2 down, 1 up");
	it[0].kind = SQ_ALERT_UP;
	is_str(subject_of(it, 3), "[squirrel] 1 site DOWN, 2 UP", "1 down, 2 up");
	it[0].kind = it[1].kind = it[2].kind = SQ_ALERT_REMINDER;
	is_str(subject_of(it, 3), "[squirrel] 3 sites STILL DOWN", "3 reminders");
	it[0].kind = SQ_ALERT_DOWN;
	is_str(subject_of(it, 3), "[squirrel] 3 sites DOWN", "down and still down count as down");
	it[2].kind = SQ_ALERT_UP;
	is_str(subject_of(it, 3), "[squirrel] 2 sites DOWN, 1 UP", "down, still down and up");
	char buf[64];
	is_int(alert_subject(it, 0, buf, sizeof(buf)), -1, "no item: no subject");
}

static const char *const required[] = {
	"From", "To", "Date", "Message-ID", "Subject", "Auto-Submitted", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding",
};
#define NREQUIRED (int)(sizeof(required) / sizeof(required[0]))

/* Every required header once, and no other header at all. */
static void check_headers(const struct parsed *p, const char *what)
{
	for (int i = 0; i < NREQUIRED; i++)
		is_int(header_count(p, required[i], NULL), 1, "%s: %s once", what, required[i]);
	is_int(p->nheaders, NREQUIRED, "%s: no other header", what);
	ok(p->crlf_only, "%s: CRLF line ends only", what);
	ok(p->longest <= 78, "%s: header lines fit in 78 (longest %d)", what, p->longest);
}

static void test_single_down(void)
{
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/", NULL, "http 503");
	struct parsed p;
	const char *v;
	char err[256] = "";

	it.http_status = 503;
	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "sq-42.1715681000", err, sizeof(err));
	ok(msg != NULL, "compose a DOWN mail (%s)", err);
	if (msg == NULL)
		return;
	parse(msg, &p);
	check_headers(&p, "DOWN mail");
	header_count(&p, "From", &v);
	is_str(v, "squirrel <" FROM ">", "From");
	header_count(&p, "To", &v);
	is_str(v, TO, "To");
	header_count(&p, "Date", &v);
	is_str(v, "Tue, 14 May 2024 10:03:20 +0000", "Date in RFC 5322 form");
	header_count(&p, "Message-ID", &v);
	is_str(v, "<sq-42.1715681000@monitor.example.net>", "Message-ID on the sender's domain");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] DOWN example.org (http 503)", "Subject");
	header_count(&p, "Auto-Submitted", &v);
	is_str(v, "auto-generated", "Auto-Submitted (RFC 3834)");
	header_count(&p, "MIME-Version", &v);
	is_str(v, "1.0", "MIME-Version");
	header_count(&p, "Content-Type", &v);
	is_str(v, "text/plain; charset=UTF-8", "Content-Type");
	header_count(&p, "Content-Transfer-Encoding", &v);
	is_str(v, "8bit", "Content-Transfer-Encoding");

	ok(body_has_line(p.body, "DOWN: example.org"), "body: what is down");
	ok(body_has_line(p.body, "  what failed:      the server answered HTTP 503"), "body: what failed, in words");
	ok(body_has_line(p.body, "  checked at:       2024-05-14 10:03:20 UTC"), "body: when");
	ok(body_has_line(p.body, "  down since:       2024-05-14 09:49:20 UTC"), "body: since when");
	ok(body_has_line(p.body, "  last good check:  2024-05-14 09:48:20 UTC"), "body: the last good check");
	ok(body_has_line(p.body, "  url:              https://example.org/"), "body: the url");
	ok(body_has_line(p.body, "  site id:          7"), "body: the site id");
	parsed_free(&p);
	free(msg);

	it.last_ok = 0;
	set_error(&it, "dns nxdomain");
	msg = alert_compose(TO, FROM, &it, 1, NOW, "x", err, sizeof(err));
	parse(msg, &p);
	ok(body_has_line(p.body, "  last good check:  never"), "body: never a good check");
	ok(body_has_line(p.body, "  what failed:      the name does not exist (NXDOMAIN)"), "body: nxdomain in words");
	parsed_free(&p);
	free(msg);
}

static void test_up_and_reminder(void)
{
	struct alert_item it = item(SQ_ALERT_UP, "https://example.org/", "Shop", "http 503");
	struct parsed p;
	const char *v;
	char err[256];

	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "up1", err, sizeof(err));
	parse(msg, &p);
	check_headers(&p, "UP mail");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] UP Shop after 14m", "UP subject");
	ok(body_has_line(p.body, "UP again: Shop (down for 14m)"), "UP body: headline");
	ok(body_has_line(p.body, "  back up at:       2024-05-14 10:03:20 UTC"), "UP body: when");
	ok(body_has_line(p.body, "  down since:       2024-05-14 09:49:20 UTC"), "UP body: since when");
	ok(body_has_line(p.body, "  down for:         14m"), "UP body: how long");
	ok(body_has_line(p.body, "  last error:       the server answered HTTP 503"), "UP body: the last error");
	ok(body_has_line(p.body, "  url:              https://example.org/"), "UP body: url");
	parsed_free(&p);
	free(msg);

	it = item(SQ_ALERT_REMINDER, "https://example.org/", NULL, "timeout");
	it.since = NOW - 3 * 3600 - 5 * 60;
	msg = alert_compose(TO, FROM, &it, 1, NOW, "r1", err, sizeof(err));
	parse(msg, &p);
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] STILL DOWN example.org (timeout)", "reminder subject");
	ok(body_has_line(p.body, "STILL DOWN: example.org (down for 3h 5m)"), "reminder body: headline");
	ok(body_has_line(p.body, "  still failing:    no answer within the timeout"), "reminder body: what fails");
	parsed_free(&p);
	free(msg);
}

/* Slow is degraded: the DEGRADED and RECOVERED mails say how slow, since when, and for how long. */
static void test_degraded(void)
{
	struct alert_item it = item(SQ_ALERT_DEGRADED, "https://example.org/", "Shop", "");
	struct parsed p;
	const char *v;
	char err[256];

	it.detail = "took 3200 ms, slow over 800 ms";
	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "d1", err, sizeof(err));
	parse(msg, &p);
	check_headers(&p, "DEGRADED mail");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] DEGRADED Shop (took 3200 ms, slow over 800 ms)", "DEGRADED subject");
	ok(body_has_line(p.body, "DEGRADED (slow): Shop (slow for 14m)"), "DEGRADED body: headline");
	ok(body_has_line(p.body, "  how slow:         took 3200 ms, slow over 800 ms"),
	    "DEGRADED body: how slow");
	ok(body_has_line(p.body, "  checked at:       2024-05-14 10:03:20 UTC"), "DEGRADED body: when");
	ok(body_has_line(p.body, "  slow since:       2024-05-14 09:49:20 UTC"),
	    "DEGRADED body: since the first slow check");
	ok(body_has_line(p.body, "  url:              https://example.org/"), "DEGRADED body: url");
	ok(strstr(p.body, "down since") == NULL && strstr(p.body, "what failed") == NULL,
	    "DEGRADED body: nothing said to be down or failed");
	parsed_free(&p);
	free(msg);

	it = item(SQ_ALERT_RECOVERED, "https://example.org/", NULL, "");
	it.detail = "took 90 ms";
	msg = alert_compose(TO, FROM, &it, 1, NOW, "r1", err, sizeof(err));
	parse(msg, &p);
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] RECOVERED example.org after 14m", "RECOVERED subject");
	ok(body_has_line(p.body, "fast again: example.org (slow for 14m)"), "RECOVERED body: headline");
	ok(body_has_line(p.body, "  fast again at:    2024-05-14 10:03:20 UTC"), "RECOVERED body: when");
	ok(body_has_line(p.body, "  how fast:         took 90 ms"), "RECOVERED body: how fast");
	ok(body_has_line(p.body, "  slow since:       2024-05-14 09:49:20 UTC"), "RECOVERED body: since");
	ok(body_has_line(p.body, "  slow for:         14m"), "RECOVERED body: how long");
	parsed_free(&p);
	free(msg);

	/* several in one mail: each counted as what it is */
	struct alert_item many[3] = {
		item(SQ_ALERT_DOWN, "https://a.example/", NULL, "timeout"),
		item(SQ_ALERT_DEGRADED, "https://b.example/", NULL, ""),
		item(SQ_ALERT_RECOVERED, "https://c.example/", NULL, ""),
	};
	is_str(subject_of(many, 3), "[squirrel] 3 sites: 1 DOWN, 1 DEGRADED, 1 RECOVERED",
	    "a digest with slow sites counts each kind");
	is_str(subject_of(many + 1, 2), "[squirrel] 2 sites: 1 DEGRADED, 1 RECOVERED",
	    "a digest of slow sites alone");
}

/* A certificate near its end: the subject counts the days, the body says when, whose, by whom. */
static void test_cert(void)
{
	struct alert_item it = item(SQ_ALERT_CERT, "https://example.org/", "Shop", "");
	struct parsed p;
	const char *v;
	char err[256];

	it.cert_not_after = NOW + 5 * 86400 + 3600;
	it.cert_subject = "CN=example.org";
	it.cert_issuer = "CN=R3, O=Let's Encrypt\r\nBcc: x@evil.test";
	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "c1", err, sizeof(err));
	ok(msg != NULL, "compose a cert mail (%s)", err);
	if (msg == NULL)
		return;
	parse(msg, &p);
	check_headers(&p, "cert mail");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] CERTIFICATE Shop (ends in 5 days)", "cert subject: the days left");
	ok(body_has_line(p.body, "certificate ends soon: Shop (ends in 5 days)"), "cert body: headline");
	ok(body_has_line(p.body, "  ends at:          2024-05-19 11:03:20 UTC"), "cert body: the end");
	ok(body_has_line(p.body, "  days left:        5"), "cert body: days left");
	ok(body_has_line(p.body, "  subject:          CN=example.org"), "cert body: subject");
	ok(body_has_line(p.body, "  issuer:           CN=R3, O=Let's Encrypt  Bcc: x@evil.test"),
	    "cert body: issuer, its line breaks made spaces");
	ok(strstr(p.body, "down since") == NULL && strstr(p.body, "what failed") == NULL,
	    "cert body: nothing said to be down");
	parsed_free(&p);
	free(msg);

	it.cert_not_after = NOW + 86400 + 60;
	is_str(subject_of(&it, 1), "[squirrel] CERTIFICATE Shop (ends in 1 day)", "one day");
	it.cert_not_after = NOW + 3600;
	is_str(subject_of(&it, 1), "[squirrel] CERTIFICATE Shop (ends today)", "under a day: today");
	struct alert_item two[2] = { it, item(SQ_ALERT_DOWN, "https://a.example/", NULL, "timeout") };
	is_str(subject_of(two, 2), "[squirrel] 2 sites: 1 DOWN, 1 CERTIFICATE",
	    "a digest counts a certificate as what it is, not as DOWN");
}

static void test_locations(void)
{
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/", NULL, "http 503 from b, c");
	struct parsed p;
	char err[256] = "";

	it.http_status = 503;
	it.locations = "down from 2 of 3 locations: b http 503, c http 503; a answered 200";
	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "loc1", err, sizeof(err));
	ok(msg != NULL, "compose a DOWN mail with locations (%s)", err);
	if (msg == NULL)
		return;
	parse(msg, &p);
	check_headers(&p, "locations mail");
	ok(body_has_line(p.body,
	    "  locations:        down from 2 of 3 locations: b http 503, c http 503; a answered 200"),
	    "body: what each location saw");
	ok(body_has_line(p.body, "  what failed:      the server answered HTTP 503"),
	    "body: no groups given, none made up from the detail's text");
	is_str(subject_of(&it, 1), "[squirrel] DOWN example.org (http 503 from b, c)",
	    "subject: the detail, in short");
	parsed_free(&p);
	free(msg);

	/* The groups, as data: each class in words and where it was seen. */
	const struct sq_located groups[] = {
		{ .err = SQ_ERR_HTTP, .http_status = 503, .where = "b, c" },
		{ .err = SQ_ERR_TIMEOUT, .where = "d" },
		{ .err = SQ_ERR_OTHER, .where = "e" },
	};
	it.groups = groups;
	it.ngroups = 3;
	msg = alert_compose(TO, FROM, &it, 1, NOW, "loc1g", err, sizeof(err));
	parse(msg, &p);
	ok(body_has_line(p.body, "  what failed:      the server answered HTTP 503 (seen from b, c); "
	    "no answer within the timeout (seen from d); the check failed (seen from e)"),
	    "body: the groups in words");
	is_str(subject_of(&it, 1), "[squirrel] DOWN example.org (http 503 from b, c)",
	    "subject: the same short detail");
	it.groups = NULL;
	it.ngroups = 0;
	ok(body_has_line(p.body, "  checked at:       2024-05-14 10:03:20 UTC"), "body: the rest as before");
	ok(strstr(p.body, "  what failed:") < strstr(p.body, "  locations:"), "body: after what failed");
	parsed_free(&p);
	free(msg);

	it = item(SQ_ALERT_UP, "https://example.org/", "Shop", "http 503");
	it.locations = "up from 3 of 3 locations";
	msg = alert_compose(TO, FROM, &it, 1, NOW, "loc2", err, sizeof(err));
	parse(msg, &p);
	ok(body_has_line(p.body, "  locations:        up from 3 of 3 locations"), "UP body: the locations");
	parsed_free(&p);
	free(msg);

	/* A database value like any other: no new line, no header. */
	it.locations = "up from 1 of 1 location\r\nBcc: x@example.org\r\n\r\nforged \xff";
	msg = alert_compose(TO, FROM, &it, 1, NOW, "loc3", err, sizeof(err));
	parse(msg, &p);
	check_headers(&p, "hostile locations");
	ok(body_has_line(p.body, "  locations:        up from 1 of 1 location  Bcc: x@example.org    forged ?"),
	    "hostile locations: control characters made spaces, bad UTF-8 '?'");
	parsed_free(&p);
	free(msg);

	/* None (a single-machine check) or empty: no line at all. */
	it.locations = NULL;
	msg = alert_compose(TO, FROM, &it, 1, NOW, "loc4", err, sizeof(err));
	parse(msg, &p);
	ok(strstr(p.body, "locations:") == NULL, "no locations: no line");
	parsed_free(&p);
	free(msg);
	it.locations = "";
	msg = alert_compose(TO, FROM, &it, 1, NOW, "loc5", err, sizeof(err));
	parse(msg, &p);
	ok(strstr(p.body, "locations:") == NULL, "empty locations: no line");
	parsed_free(&p);
	free(msg);
}

static void test_digest(void)
{
	struct alert_item it[10];
	char url[10][64];
	struct parsed p;
	const char *v;
	char err[256];

	for (int i = 0; i < 10; i++) {
		snprintf(url[i], sizeof(url[i]), "https://site%d.example.org/", i);
		it[i] = item(SQ_ALERT_DOWN, url[i], NULL, "connect refused");
		it[i].site_id = 100 + i;
	}
	char *msg = alert_compose(TO, FROM, it, 10, NOW, "digest", err, sizeof(err));
	parse(msg, &p);
	check_headers(&p, "digest");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] 10 sites DOWN", "digest subject");
	ok(body_has_line(p.body, "News about 10 of your sites:"), "digest body: intro");
	int found = 0;
	for (int i = 0; i < 10; i++) {
		char line[96];
		snprintf(line, sizeof(line), "DOWN: site%d.example.org", i);
		found += body_has_line(p.body, line);
	}
	is_int(found, 10, "digest body: every site listed");
	ok(body_has_line(p.body, "  what failed:      the connection was refused"), "digest body: connect refused in words");
	parsed_free(&p);
	free(msg);
}

static void test_hostile(void)
{
	struct alert_item it = item(SQ_ALERT_DOWN, "https://x.example/\r\nBcc: evil@x.example",
	    "evil\r\nBcc: evil@x.example", "timeout\r\nCc: evil@x.example");
	struct parsed p;
	const char *v;
	char err[256];

	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "h1", err, sizeof(err));
	ok(msg != NULL, "hostile values compose");
	parse(msg, &p);
	check_headers(&p, "hostile values");
	is_int(header_count(&p, "Bcc", NULL), 0, "no Bcc header injected");
	is_int(header_count(&p, "Cc", NULL), 0, "no Cc header injected");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] DOWN evilBcc: evil@x.example (timeoutCc: evil@x.example)",
	    "subject: CR/LF removed, the text stays on the line");
	ok(strstr(p.body, "\r\nBcc:") == NULL && strstr(p.body, "\r\nCc:") == NULL,
	    "body: no line starts with the injected text");
	ok(body_has_line(p.body, "DOWN: evil  Bcc: evil@x.example"), "body: CR/LF shown as spaces");
	ok(body_has_line(p.body, "  url:              https://x.example/  Bcc: evil@x.example"), "body: url with CR/LF made spaces");
	parsed_free(&p);
	free(msg);

	/* A name that looks like an encoded word is encoded itself. */
	it = item(SQ_ALERT_DOWN, "https://x.example/", "=?UTF-8?B?RXZpbA==?=", "timeout");
	msg = alert_compose(TO, FROM, &it, 1, NOW, "h2", err, sizeof(err));
	parse(msg, &p);
	header_count(&p, "Subject", &v);
	char decoded[256];
	ok(decode_words(v, decoded, sizeof(decoded)) &&
	    strcmp(decoded, "[squirrel] DOWN =?UTF-8?B?RXZpbA==?= (timeout)") == 0,
	    "a fake encoded-word is shown as typed, not decoded");
	parsed_free(&p);
	free(msg);
}

static void test_non_ascii(void)
{
	/* "Café Ünïcode ☃" */
	const char *name = "Caf\xc3\xa9 \xc3\x9cn\xc3\xaf" "code \xe2\x98\x83";
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/", name, "timeout");
	struct parsed p;
	const char *v;
	char err[256], decoded[512], want[512];

	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "u1", err, sizeof(err));
	parse(msg, &p);
	check_headers(&p, "non-ASCII name");
	header_count(&p, "Subject", &v);
	ok(strncmp(v, "=?UTF-8?B?", 10) == 0, "subject RFC 2047-encoded: %s", v);
	snprintf(want, sizeof(want), "[squirrel] DOWN %s (timeout)", name);
	ok(decode_words(v, decoded, sizeof(decoded)) && strcmp(decoded, want) == 0,
	    "subject decodes to the name");
	for (const char *s = msg; *s && s < p.body; s++)
		if ((unsigned char)*s >= 0x80) {
			ok(false, "headers are ASCII only");
			break;
		}
	char line[256];
	snprintf(line, sizeof(line), "DOWN: %s", name);
	ok(body_has_line(p.body, line), "body: the name as UTF-8 text");
	parsed_free(&p);
	free(msg);

	/* A long non-ASCII name: several encoded words, each line short. */
	char longname[400] = "";
	for (int i = 0; i < 30; i++)
		strcat(longname, "\xc3\xa9t\xc3\xa9 ");
	it.name = longname;
	msg = alert_compose(TO, FROM, &it, 1, NOW, "u2", err, sizeof(err));
	parse(msg, &p);
	ok(p.longest <= 78, "long encoded subject folded (longest line %d)", p.longest);
	header_count(&p, "Subject", &v);
	char subj[512];
	alert_subject(&it, 1, subj, sizeof(subj));
	ok(decode_words(v, decoded, sizeof(decoded)) && strcmp(decoded, subj) == 0,
	    "long encoded subject decodes whole");
	parsed_free(&p);
	free(msg);
}

static void test_long_values(void)
{
	char name[400], url[3000];
	struct parsed p;
	const char *v;
	char err[256], subj[512];

	/* Words: folded at spaces, unfolded back to the subject. */
	name[0] = '\0';
	for (int i = 0; i < 12; i++)
		strcat(name, "longword ");
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/", name, "timeout");
	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "l1", err, sizeof(err));
	parse(msg, &p);
	ok(p.longest <= 78, "long ASCII subject folded (longest line %d)", p.longest);
	header_count(&p, "Subject", &v);
	alert_subject(&it, 1, subj, sizeof(subj));
	is_str(v, subj, "folded subject unfolds to the subject");
	parsed_free(&p);
	free(msg);

	/* One long word: cut, marked, and still one short-enough line. */
	memset(name, 'a', 300);
	name[300] = '\0';
	memset(url, 'b', sizeof(url) - 1);
	memcpy(url, "https://", 8);
	url[sizeof(url) - 1] = '\0';
	it = item(SQ_ALERT_DOWN, url, name, "timeout");
	msg = alert_compose(TO, FROM, &it, 1, NOW, "l2", err, sizeof(err));
	parse(msg, &p);
	header_count(&p, "Subject", &v);
	ok(strlen(v) < 200 && strstr(v, "aaa... (timeout)") != NULL, "a long name is cut with '...'");
	ok(p.longest < 998, "no header line over 998");
	int longest = 0;
	for (const char *s = p.body; *s; ) {
		const char *e = strstr(s, "\r\n");
		if (e == NULL)
			break;
		if (e - s > longest)
			longest = (int)(e - s);
		s = e + 2;
	}
	ok(longest < 998, "no body line over 998 (longest %d)", longest);
	parsed_free(&p);
	free(msg);
}

/* The longest line of a body, CRLF not counted. */
static int longest_line(const char *body)
{
	int longest = 0;
	for (const char *s = body; s != NULL && *s; ) {
		const char *e = strstr(s, "\r\n");
		int len = e != NULL ? (int)(e - s) : (int)strlen(s);
		if (len > longest)
			longest = len;
		s = e != NULL ? e + 2 : NULL;
	}
	return longest;
}

/*
 * Location groups from the outbox, as many as anyone wrote there: ten are
 * shown, the rest counted, a place is cut like any database value, and no
 * line of the mail passes 998 bytes.
 */
static void test_many_locations(void)
{
	char *error, want[2048], err[256];
	struct parsed p;
	size_t n = 0;

	static struct sq_located groups[100];
	static char where[100][8];
	for (int i = 0; i < 100; i++) {
		snprintf(where[i], sizeof(where[i]), "loc%d", i + 1);
		groups[i] = (struct sq_located){ .err = SQ_ERR_HTTP, .http_status = 503, .where = where[i] };
	}
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/", "shop", "http 503 from loc1");
	it.groups = groups;
	it.ngroups = 100;
	n = (size_t)sprintf(want, "  what failed:      ");
	for (int i = 1; i <= 10; i++)
		n += (size_t)sprintf(want + n, "%sthe server answered HTTP 503 (seen from loc%d)",
		    i > 1 ? "; " : "", i);
	sprintf(want + n, "; and 90 more");
	char *msg = alert_compose(TO, FROM, &it, 1, NOW, "many", err, sizeof(err));
	ok(msg != NULL, "100 location groups: composed (%s)", msg ? "" : err);
	if (msg == NULL)
		return;
	parse(msg, &p);
	ok(body_has_line(p.body, want), "100 location groups: ten shown, 90 counted");
	ok(longest_line(p.body) <= 998, "100 location groups: no line over 998 (longest %d)",
	    longest_line(p.body));
	parsed_free(&p);
	free(msg);

	/* Groups past the ones read are counted; a 3 MB place is cut like any value. */
	size_t big = 3u << 20;
	error = malloc(big + 1);
	memset(error, 'a', big);
	error[big] = '\0';
	groups[0].where = error;
	groups[1] = (struct sq_located){ .err = SQ_ERR_TIMEOUT, .where = "b" };
	it.ngroups = 2;
	it.groups_more = 185032;
	msg = alert_compose(TO, FROM, &it, 1, NOW, "huge", err, sizeof(err));
	ok(msg != NULL, "a 3 MB place: composed (%s)", msg ? "" : err);
	if (msg != NULL) {
		parse(msg, &p);
		ok(strstr(p.body, "...); no answer within the timeout (seen from b); and 185032 more\r\n") != NULL,
		    "a 3 MB place: cut, the next group in words, the rest counted");
		ok(longest_line(p.body) <= 998, "a 3 MB place: no line over 998 (longest %d)",
		    longest_line(p.body));
		ok(strlen(msg) < 8192, "a 3 MB place: a small mail (%zu bytes)", strlen(msg));
		parsed_free(&p);
		free(msg);
	}
	free(error);
	it.groups_more = 0;

	/* Ten groups of the longest parts: folded, never cut. */
	char places[200];
	memset(places, 'p', 150);
	places[150] = '\0';
	for (int i = 0; i < 10; i++)
		groups[i] = (struct sq_located){ .err = SQ_ERR_TOO_LARGE, .where = places };
	it.ngroups = 10;
	msg = alert_compose(TO, FROM, &it, 1, NOW, "wide", err, sizeof(err));
	ok(msg != NULL, "ten wide groups: composed");
	if (msg != NULL) {
		parse(msg, &p);
		ok(longest_line(p.body) <= 998, "ten wide groups: no line over 998 (longest %d)",
		    longest_line(p.body));
		const char *line = strstr(p.body, "  what failed:");
		const char *next = line ? strstr(line, "\r\n") : NULL;
		ok(next != NULL && strncmp(next + 2, "                    ", 20) == 0 && next[22] != ' ',
		    "ten wide groups: the line goes on, indented, on the next");
		parsed_free(&p);
		free(msg);
	}
}

/* A body line of the caller's own past 998 bytes is folded at a space, or cut. */
static void test_long_body_lines(void)
{
	char body[6000], err[256];
	struct parsed p;

	memset(body, 0, sizeof(body));
	for (int i = 0; i < 600; i++)
		strcat(body, "word ");
	strcat(body, "\n");
	memset(body + strlen(body), 'x', 2500);
	strcat(body, "\n");
	char *msg = alert_compose_text(TO, FROM, "[squirrel] long", body, NOW, "lb", err, sizeof(err));
	ok(msg != NULL, "long body lines: composed");
	if (msg == NULL)
		return;
	parse(msg, &p);
	ok(longest_line(p.body) <= 998, "long body lines: none over 998 (longest %d)", longest_line(p.body));
	ok(strncmp(p.body, "word word ", 10) == 0, "long body lines: the start as it was");
	ok(strstr(p.body, "word\r\n                    word") != NULL, "long body lines: folded at a space");
	size_t xs = 0;
	for (const char *s = p.body; *s; s++)
		xs += *s == 'x';
	is_int(xs, 2500, "long body lines: a line without spaces is folded, nothing lost");
	parsed_free(&p);
	free(msg);
}

/*
 * An alert mailed again after a crash may sit in a digest with newer ones,
 * under a new Message-ID: its alert id, in the body and in
 * X-Squirrel-Alerts, tells the reader it is a repeat.
 */
static void test_alert_ids(void)
{
	struct alert_item it[3];
	struct parsed p;
	const char *v;
	char err[256];

	for (int i = 0; i < 3; i++) {
		it[i] = item(SQ_ALERT_DOWN, "https://example.org/", NULL, "timeout");
		it[i].site_id = 7 + i;
		it[i].alert_id = 41 + i * 8;
	}
	char *msg = alert_compose(TO, FROM, it, 3, NOW, "ids", err, sizeof(err));
	ok(msg != NULL, "alert ids: composed");
	if (msg == NULL)
		return;
	parse(msg, &p);
	is_int(header_count(&p, "X-Squirrel-Alerts", &v), 1, "alert ids: one X-Squirrel-Alerts header");
	is_str(v, "41 49 57", "alert ids: every alert of the digest listed, in order");
	is_int(p.nheaders, 10, "alert ids: the usual headers and that one");
	ok(body_has_line(p.body, "  alert id:         41") && body_has_line(p.body, "  alert id:         49") &&
	    body_has_line(p.body, "  alert id:         57"), "alert ids: each item says its alert id");
	ok(strstr(p.body, "  site id:          7\r\n  alert id:         41\r\n") != NULL,
	    "alert ids: after the site id");
	parsed_free(&p);
	free(msg);

	/* 200 alerts of large ids: the header folded within 78. */
	struct alert_item *many = calloc(200, sizeof(*many));
	for (int i = 0; i < 200; i++) {
		many[i] = item(SQ_ALERT_DOWN, "https://example.org/", NULL, "timeout");
		many[i].alert_id = 9000000000000000000LL + i;
	}
	msg = alert_compose(TO, FROM, many, 200, NOW, "ids2", err, sizeof(err));
	ok(msg != NULL, "200 alert ids: composed");
	if (msg != NULL) {
		parse(msg, &p);
		ok(p.longest <= 78, "200 alert ids: header lines within 78 (longest %d)", p.longest);
		header_count(&p, "X-Squirrel-Alerts", &v);
		ok(strncmp(v, "9000000000000000000 9000000000000000001 ", 40) == 0 &&
		    strstr(v, " 9000000000000000199") != NULL && strlen(v) == 200 * 20 - 1,
		    "200 alert ids: all listed (%zu bytes)", strlen(v));
		parsed_free(&p);
		free(msg);
	}
	free(many);
}

static void test_refusals(void)
{
	struct alert_item it = item(SQ_ALERT_DOWN, "https://example.org/", NULL, "timeout");
	char err[256];

	err[0] = '\0';
	ok(alert_compose("ops@example.org, evil@x.example", FROM, &it, 1, NOW, "x", err, sizeof(err)) == NULL,
	    "two recipients refused");
	ok(strstr(err, "not one valid address") != NULL, "reason given: %s", err);
	ok(alert_compose("ops@example.org\r\nBcc: evil@x.example", FROM, &it, 1, NOW, "x", err, sizeof(err)) == NULL,
	    "recipient with CR/LF refused");
	ok(strchr(err, '\r') == NULL && strchr(err, '\n') == NULL, "the reason shows no CR/LF: %s", err);
	ok(alert_compose(NULL, FROM, &it, 1, NOW, "x", err, sizeof(err)) == NULL, "no recipient refused");
	ok(alert_compose("", FROM, &it, 1, NOW, "x", err, sizeof(err)) == NULL, "empty recipient refused");
	ok(alert_compose(TO, "not an address", &it, 1, NOW, "x", err, sizeof(err)) == NULL,
	    "invalid sender refused");
	ok(alert_compose(TO, FROM, &it, 1, NOW, "a b", err, sizeof(err)) == NULL, "id with a space refused");
	ok(alert_compose(TO, FROM, &it, 1, NOW, "", err, sizeof(err)) == NULL, "empty id refused");
	ok(alert_compose(TO, FROM, &it, 0, NOW, "x", err, sizeof(err)) == NULL, "no item refused");
}

static void test_compose_text(void)
{
	struct parsed p;
	const char *v;
	char err[256];

	char *msg = alert_compose_text(TO, FROM, "[squirrel] test\r\nBcc: x@y.example",
	    "line one\nline two\r\n.dot line\n", NOW, "t1", err, sizeof(err));
	ok(msg != NULL, "compose a text mail (%s)", msg ? "" : err);
	if (msg == NULL)
		return;
	parse(msg, &p);
	check_headers(&p, "text mail");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] testBcc: x@y.example", "text subject cleaned");
	is_str(p.body, "line one\r\nline two \r\n.dot line\r\n", "text body: LF made CRLF, a stray CR a space");
	parsed_free(&p);
	free(msg);
}

/* squirreld --test-mail's message, composed here and only sent by the mailer. */
static void test_compose_test(void)
{
	struct parsed p;
	const char *v;
	char err[256], want[160];

	char *msg = alert_compose_test(TO, FROM, "127.0.0.1:2525", NOW, err, sizeof(err));
	ok(msg != NULL, "compose the test mail (%s)", msg ? "" : err);
	if (msg == NULL)
		return;
	parse(msg, &p);
	check_headers(&p, "test mail");
	header_count(&p, "Subject", &v);
	is_str(v, "[squirrel] test message", "test mail subject");
	snprintf(want, sizeof(want), "<squirrel-test-%lld-%ld@", (long long)NOW, (long)getpid());
	ok(header_count(&p, "Message-ID", &v) == 1 && strncmp(v, want, strlen(want)) == 0,
	    "Message-ID of the time and the process: %s", v);
	snprintf(want, sizeof(want), "If you can read it, squirrel can send its alerts to %s through "
	    "127.0.0.1:2525.", TO);
	ok(body_has_line(p.body, "This is a test message from squirreld --test-mail.") &&
	    body_has_line(p.body, want),
	    "test mail body names the recipient and the server");
	parsed_free(&p);
	free(msg);
}

/*
 * The UP and the reminders answer the DOWN mail: In-Reply-To the latest
 * (by answers_at), References each once, oldest first, at most
 * ALERT_REFS_MAX (the latest kept), one per folded line; an id that is
 * not one squirrel makes never reaches a header.
 */
static void test_thread(void)
{
	struct alert_item it[14];
	char ids[14][64], want[2048], err[256];
	struct parsed p;
	const char *v;
	char *msg;

	it[0] = item(SQ_ALERT_UP, "https://a.example/", NULL, "timeout");
	it[0].answers = "alert.41.3.1715680000@monitor.example.net";
	it[0].answers_at = NOW - 100;
	msg = alert_compose(TO, FROM, it, 1, NOW, "up.1", err, sizeof(err));
	parse(msg, &p);
	ok(header_count(&p, "In-Reply-To", &v) == 1, "UP: one In-Reply-To");
	is_str(v, "<alert.41.3.1715680000@monitor.example.net>", "UP: In-Reply-To is the DOWN mail");
	ok(header_count(&p, "References", &v) == 1, "UP: one References");
	is_str(v, "<alert.41.3.1715680000@monitor.example.net>", "UP: References the DOWN mail");
	ok(header_count(&p, "X-Squirrel-Alerts", NULL) == 0 && p.nheaders == NREQUIRED + 2,
	    "UP: the two headers beside the usual ones");
	ok(p.crlf_only, "UP: CRLF line ends only");
	parsed_free(&p);
	free(msg);

	/* a digest: three DOWN mails, one twice, listed out of order */
	it[1] = item(SQ_ALERT_REMINDER, "https://b.example/", NULL, "timeout");
	it[1].answers = "alert.50.1.1715680500@monitor.example.net";
	it[1].answers_at = NOW - 50;
	it[2] = item(SQ_ALERT_UP, "https://c.example/", NULL, "timeout");
	it[2].answers = "alert.30.1.1715679000@monitor.example.net";
	it[2].answers_at = NOW - 200;
	it[3] = item(SQ_ALERT_UP, "https://d.example/", NULL, "timeout");
	it[3].answers = it[0].answers;
	it[3].answers_at = it[0].answers_at;
	it[4] = item(SQ_ALERT_DOWN, "https://e.example/", NULL, "timeout");
	msg = alert_compose(TO, FROM, it, 5, NOW, "up.2", err, sizeof(err));
	parse(msg, &p);
	header_count(&p, "In-Reply-To", &v);
	is_str(v, "<alert.50.1.1715680500@monitor.example.net>", "digest: In-Reply-To the latest DOWN mail");
	header_count(&p, "References", &v);
	is_str(v, "<alert.30.1.1715679000@monitor.example.net> <alert.41.3.1715680000@monitor.example.net>"
	    " <alert.50.1.1715680500@monitor.example.net>", "digest: References each once, oldest first");
	ok(p.longest <= 78, "digest: one id a line (longest %d)", p.longest);
	parsed_free(&p);
	free(msg);

	/* more than ALERT_REFS_MAX: the latest ones stay */
	for (int i = 0; i < 14; i++) {
		it[i] = item(SQ_ALERT_UP, "https://x.example/", NULL, "timeout");
		snprintf(ids[i], sizeof(ids[i]), "alert.%d.1.1@monitor.example.net", 100 + i);
		it[i].answers = ids[i];
		it[i].answers_at = NOW - 1000 + (13 - i) * 10;   /* the first is the latest */
	}
	msg = alert_compose(TO, FROM, it, 14, NOW, "up.3", err, sizeof(err));
	parse(msg, &p);
	header_count(&p, "In-Reply-To", &v);
	is_str(v, "<alert.100.1.1@monitor.example.net>", "many: In-Reply-To the latest");
	want[0] = '\0';
	for (int i = ALERT_REFS_MAX - 1; i >= 0; i--)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s<%s>",
		    i == ALERT_REFS_MAX - 1 ? "" : " ", ids[i]);
	header_count(&p, "References", &v);
	is_str(v, want, "many: References the %d latest, oldest first", ALERT_REFS_MAX);
	parsed_free(&p);
	free(msg);

	/* hostile ids from the database: none reaches a header */
	static const char *const hostile[] = {
		"x@example.org\r\nBcc: evil@x.example", "x@example.org>, <y@example.org",
		"no-at-sign", "@example.org", "x@", "x@-bad.example", "x y@example.org",
		"x@exa mple.org", "caf\xc3\xa9@example.org",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		it[0] = item(SQ_ALERT_UP, "https://a.example/", NULL, "timeout");
		it[0].answers = hostile[i];
		ok(!alert_msgid_valid(hostile[i]), "refused as a Message-ID: hostile id %zu", i);
		msg = alert_compose(TO, FROM, it, 1, NOW, "up.4", err, sizeof(err));
		parse(msg, &p);
		ok(msg != NULL && header_count(&p, "In-Reply-To", NULL) == 0 &&
		    header_count(&p, "References", NULL) == 0 && p.nheaders == NREQUIRED &&
		    strstr(msg, "evil") == NULL, "hostile id %zu: the mail goes, answering nothing", i);
		parsed_free(&p);
		free(msg);
	}
	char longid[600];
	memset(longid, 'a', sizeof(longid));
	memcpy(longid + 400, "@example.org", 13);
	ok(!alert_msgid_valid(longid), "a local part over 200 bytes is refused");

	/* the Message-ID a mail goes out under, as delivery records it */
	char out[ALERT_MSGID_MAX + 1];
	is_int(alert_message_id("alert.7.2.1715681000", FROM, out, sizeof(out)), 0, "message id made");
	is_str(out, "alert.7.2.1715681000@monitor.example.net", "message id: the id on the sender's domain");
	ok(alert_msgid_valid(out), "the id made is one squirrel takes back");
	is_int(alert_message_id("bad id", FROM, out, sizeof(out)), -1, "message id: a bad id refused");
	is_int(alert_message_id("x", "nobody", out, sizeof(out)), -1, "message id: a sender without '@'");
	is_int(alert_message_id("x", FROM, out, 8), -1, "message id: too small a buffer");
}

int main(void)
{
	test_duration();
	test_label();
	test_error_words();
	test_subjects();
	test_single_down();
	test_up_and_reminder();
	test_degraded();
	test_cert();
	test_locations();
	test_digest();
	test_hostile();
	test_non_ascii();
	test_long_values();
	test_many_locations();
	test_long_body_lines();
	test_alert_ids();
	test_refusals();
	test_compose_text();
	test_compose_test();
	test_thread();
	return tap_done();
}

/*
 * classes.c - the one table of the error classes: code, name and words.
 *
 * The names are a contract of the --once output, the wire between
 * locations and squirrelctl; the words are what an owner reads in a mail;
 * the codes are what the database keeps, so that neither a name nor its
 * words can change a stored figure. Everything else asks this table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "squirrel/core/classes.h"

struct sq_class {
	int code;                 /* frozen: never changed, never reused */
	const char *name;
	const char *words;
	bool network;             /* the path to the site failed, not the site's answer */
};

#define NET true              /* a network class: the outage rule counts it */

static const struct sq_class classes[SQ_ERR_MAX] = {
	[SQ_OK] = { 0, "", "" },
	[SQ_ERR_HTTP] = { 1, "http", "the server answered HTTP" },
	[SQ_ERR_DNS] = { 2, "dns", "the name did not resolve", NET },
	[SQ_ERR_DNS_NXDOMAIN] = { 3, "dns nxdomain", "the name does not exist (NXDOMAIN)", NET },
	[SQ_ERR_DNS_SERVFAIL] = { 4, "dns servfail", "the DNS server failed to answer (SERVFAIL)", NET },
	[SQ_ERR_DNS_TIMEOUT] = { 5, "dns timeout", "the DNS lookup timed out", NET },
	[SQ_ERR_DNS_NOADDR] = { 6, "dns no address", "the name has no address (no A or AAAA record)", NET },
	[SQ_ERR_CONNECT_REFUSED] = { 7, "connect refused", "the connection was refused", NET },
	[SQ_ERR_CONNECT_TIMEOUT] = { 8, "connect timeout", "the connection timed out", NET },
	[SQ_ERR_UNREACHABLE] = { 9, "unreachable", "the network or the host is unreachable", NET },
	[SQ_ERR_TIMEOUT] = { 10, "timeout", "no answer within the timeout", NET },
	[SQ_ERR_TLS] = { 11, "tls", "the TLS handshake failed" },
	[SQ_ERR_TOO_MANY_REDIRECTS] = { 12, "too many redirects", "too many redirects" },
	[SQ_ERR_PROTOCOL] = { 13, "protocol refused",
	    "a redirect led to a scheme other than http or https" },
	[SQ_ERR_EMPTY_REPLY] = { 14, "empty reply",
	    "the server closed the connection without an answer" },
	[SQ_ERR_BAD_REPLY] = { 15, "bad reply", "the server's answer was not valid HTTP" },
	[SQ_ERR_RESET] = { 16, "connection reset", "the connection was reset" },
	[SQ_ERR_BAD_URL] = { 17, "bad url", "the URL is not valid" },
	[SQ_ERR_WORKER] = { 18, "worker died", "the worker running the check died" },
	[SQ_ERR_OTHER] = { 19, "error", "the check failed" },
	[SQ_ERR_NO_QUORUM] = { 20, "unknown", "too few locations answered to tell" },
	[SQ_ERR_TOO_LARGE] = { 21, "reply too large",
	    "the server's status line or a header was too large to read" },
	[SQ_ERR_STOPPED] = { 22, "stopped", "the check was cut short when squirreld stopped" },
	[SQ_ERR_TLS_EXPIRED] = { 23, "tls expired", "the certificate expired" },
	[SQ_ERR_TLS_NOT_YET_VALID] = { 24, "tls not yet valid",
	    "the certificate is not valid yet (its start date is in the future)" },
	[SQ_ERR_TLS_UNTRUSTED] = { 25, "tls untrusted",
	    "the certificate is not trusted (self-signed, an unknown issuer or an incomplete chain)" },
	[SQ_ERR_TLS_NAME] = { 26, "tls name mismatch",
	    "the certificate is not for this host name" },
	[SQ_ERR_TLS_HANDSHAKE] = { 27, "tls handshake",
	    "the TLS handshake failed (no common protocol or cipher, or not TLS)" },
	[SQ_ERR_KEYWORD_MISSING] = { 28, "keyword missing",
	    "the page did not contain the text it must contain" },
	[SQ_ERR_KEYWORD_PRESENT] = { 29, "keyword present",
	    "the page contained the text it must not contain" },
	[SQ_ERR_PARENT_DOWN] = { 30, "parent down",
	    "the site it depends on is down" },
	[SQ_ERR_OUTAGE] = { 31, "unknown outage",
	    "not judged: squirrel's own network was failing (a monitor outage)" },
};

static const struct sq_class *class_at(int err)
{
	if (err < 0 || err >= SQ_ERR_MAX || classes[err].name == NULL)
		return NULL;
	return &classes[err];
}

const char *sq_class_name(int err)
{
	const struct sq_class *c = class_at(err);
	return c != NULL ? c->name : "error";
}

const char *sq_class_words(int err)
{
	const struct sq_class *c = class_at(err);
	return c != NULL ? c->words : "the check failed";
}

bool sq_class_network(int err)
{
	const struct sq_class *c = class_at(err);
	return c != NULL && c->network;
}

int sq_class_code(int err)
{
	const struct sq_class *c = class_at(err);
	return c != NULL ? c->code : -1;
}

int sq_class_of_code(int64_t code)
{
	for (int e = 0; e < SQ_ERR_MAX; e++)
		if (classes[e].name != NULL && classes[e].code == code)
			return e;
	return -1;
}

int sq_class_parse(const char *name)
{
	for (int e = 0; e < SQ_ERR_MAX; e++)
		if (classes[e].name != NULL && strcmp(classes[e].name, name) == 0)
			return e;
	return -1;
}

/* Whether text is name, alone or followed by what a version up to 8 put after it. */
static bool legacy_named(const char *text, const char *name, int err)
{
	size_t n = strlen(name);

	if (n == 0 || strncmp(text, name, n) != 0)
		return false;
	if (text[n] == '\0')
		return true;
	/* "unknown: no answer from c"; any other class: "timeout from c" */
	if (err == SQ_ERR_NO_QUORUM)
		return text[n] == ':';
	return strncmp(text + n, " from ", 6) == 0;
}

int sq_class_of_legacy(const char *text, bool ok, const char **detail)
{
	const char *t = text != NULL ? text : "";
	int cls = SQ_ERR_OTHER;

	*detail = t;
	if (ok) {
		*detail = "";
		return SQ_OK;
	}
	size_t digits = strncmp(t, "http ", 5) == 0 ? strspn(t + 5, "0123456789") : 0;
	if (digits > 0 && (t[5 + digits] == '\0' || strncmp(t + 5 + digits, " from ", 6) == 0)) {
		cls = SQ_ERR_HTTP;
	} else {
		for (int e = SQ_ERR_HTTP + 1; e < SQ_ERR_MAX; e++) {
			if (e != SQ_ERR_OTHER && classes[e].name != NULL &&
			    legacy_named(t, classes[e].name, e)) {
				cls = e;
				break;
			}
		}
	}
	/* The class alone ("timeout", "http 503" with its status column) needs no detail. */
	if ((cls != SQ_ERR_OTHER && strcmp(t, classes[cls].name) == 0) ||
	    (cls == SQ_ERR_HTTP && t[5 + digits] == '\0'))
		*detail = "";
	return cls;
}

/*
 * check.c - the names of the error classes, a contract of the --once output
 * and of the alert mails.
 */
#include <stdio.h>
#include <string.h>

#include "squirrel/core/check.h"

static const char *const err_names[SQ_ERR_MAX] = {
	[SQ_OK] = "",
	[SQ_ERR_HTTP] = "http",
	[SQ_ERR_DNS] = "dns",
	[SQ_ERR_DNS_NXDOMAIN] = "dns nxdomain",
	[SQ_ERR_DNS_SERVFAIL] = "dns servfail",
	[SQ_ERR_DNS_TIMEOUT] = "dns timeout",
	[SQ_ERR_DNS_NOADDR] = "dns no address",
	[SQ_ERR_CONNECT_REFUSED] = "connect refused",
	[SQ_ERR_CONNECT_TIMEOUT] = "connect timeout",
	[SQ_ERR_UNREACHABLE] = "unreachable",
	[SQ_ERR_TIMEOUT] = "timeout",
	[SQ_ERR_TLS] = "tls",
	[SQ_ERR_TOO_MANY_REDIRECTS] = "too many redirects",
	[SQ_ERR_PROTOCOL] = "protocol refused",
	[SQ_ERR_EMPTY_REPLY] = "empty reply",
	[SQ_ERR_BAD_REPLY] = "bad reply",
	[SQ_ERR_RESET] = "connection reset",
	[SQ_ERR_BAD_URL] = "bad url",
	[SQ_ERR_WORKER] = "worker died",
	[SQ_ERR_OTHER] = "error",
	[SQ_ERR_NO_QUORUM] = "unknown",
	[SQ_ERR_TOO_LARGE] = "reply too large",
	[SQ_ERR_STOPPED] = "stopped",
};

const char *sq_err_name(enum sq_err err)
{
	if ((int)err < 0 || err >= SQ_ERR_MAX)
		return "error";
	return err_names[err];
}

int sq_err_parse(const char *name)
{
	for (int e = SQ_OK; e < SQ_ERR_MAX; e++)
		if (strcmp(err_names[e], name) == 0)
			return e;
	return -1;
}

/*
 * A detail that starts with the class's own text and goes on (" from
 * paris", ": no answer from tokyo") says more than the class: it is shown
 * in its place, so the class still comes first.
 */
static bool detail_extends(const char *cls, const char *detail, size_t dlen)
{
	size_t n = strlen(cls);
	return n > 0 && dlen > n + 1 && strncmp(detail, cls, n) == 0 &&
	    (detail[n] == ' ' || detail[n] == ':');
}

const char *sq_result_error(const struct sq_result *r, char *buf, size_t len)
{
	/* detail may not be terminated if it came from another process */
	size_t dlen = strnlen(r->detail, sizeof(r->detail));
	char cls[32];

	if (len == 0)
		return "";
	switch (r->err) {
	case SQ_OK:
		buf[0] = '\0';
		break;
	case SQ_ERR_OTHER:
		snprintf(buf, len, "%.*s", (int)dlen, dlen ? r->detail : "error");
		break;
	default:
		if (r->err == SQ_ERR_HTTP)
			snprintf(cls, sizeof(cls), "http %d", (int)r->http_status);
		else
			snprintf(cls, sizeof(cls), "%s", sq_err_name((enum sq_err)r->err));
		if (detail_extends(cls, r->detail, dlen))
			snprintf(buf, len, "%.*s", (int)dlen, r->detail);
		else
			snprintf(buf, len, "%s", cls);
		break;
	}
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

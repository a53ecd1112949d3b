/*
 * check.c - the names of the error classes, a contract of the --once output
 * and of the alert mails.
 */
#include <stdio.h>
#include <string.h>

#include "squirrel/check.h"

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
};

const char *sq_err_name(enum sq_err err)
{
	if ((int)err < 0 || err >= SQ_ERR_MAX)
		return "error";
	return err_names[err];
}

const char *sq_result_error(const struct sq_result *r, char *buf, size_t len)
{
	if (len == 0)
		return "";
	switch (r->err) {
	case SQ_OK:
		buf[0] = '\0';
		break;
	case SQ_ERR_HTTP:
		snprintf(buf, len, "http %d", (int)r->http_status);
		break;
	case SQ_ERR_OTHER:
		/* detail may not be terminated if it came from another process */
		snprintf(buf, len, "%.*s", (int)strnlen(r->detail, sizeof(r->detail)),
		    r->detail[0] ? r->detail : "error");
		break;
	default:
		snprintf(buf, len, "%s", sq_err_name((enum sq_err)r->err));
		break;
	}
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

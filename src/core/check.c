/*
 * check.c - a result's error as people read it: the class's name from the
 * one table (classes.c), or the detail when it says more.
 */
#include <stdio.h>
#include <string.h>

#include "squirrel/core/check.h"

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
			snprintf(cls, sizeof(cls), "%s", sq_class_name(r->err));
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

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

/* The class as shown without a detail: "http 503", "timeout". */
static void class_text(int err, int http_status, char *cls, size_t len)
{
	if (err == SQ_ERR_HTTP)
		snprintf(cls, len, "http %d", http_status);
	else
		snprintf(cls, len, "%s", sq_class_name(err));
}

bool sq_error_shows_detail(int err, int http_status, const char *detail, size_t dlen)
{
	char cls[32];

	if (detail == NULL || err == SQ_OK)
		return false;
	dlen = strnlen(detail, dlen);
	if (err == SQ_ERR_OTHER)
		return dlen > 0;
	class_text(err, http_status, cls, sizeof(cls));
	return detail_extends(cls, detail, dlen);
}

const char *sq_error_text(int err, int http_status, const char *detail, size_t dlen,
    char *buf, size_t len)
{
	char cls[32];

	if (len == 0)
		return "";
	if (detail == NULL)
		detail = "", dlen = 0;
	dlen = strnlen(detail, dlen);
	switch (err) {
	case SQ_OK:
		buf[0] = '\0';
		break;
	case SQ_ERR_OTHER:
		snprintf(buf, len, "%.*s", (int)dlen, dlen ? detail : "error");
		break;
	default:
		class_text(err, http_status, cls, sizeof(cls));
		if (detail_extends(cls, detail, dlen))
			snprintf(buf, len, "%.*s", (int)dlen, detail);
		else
			snprintf(buf, len, "%s", cls);
		break;
	}
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return buf;
}

const char *sq_result_error(const struct sq_result *r, char *buf, size_t len)
{
	/* detail may not be terminated if it came from another process */
	return sq_error_text(r->err, r->http_status, r->detail, sizeof(r->detail), buf, len);
}

const char *sq_result_detail(const struct sq_result *r, char *buf, size_t len)
{
	char bare[32];

	sq_result_error(r, buf, len);
	/* what the class alone would show is no detail */
	if (len > 0 && (r->err == SQ_ERR_OTHER ? r->detail[0] == '\0' :
	    strcmp(buf, sq_error_text(r->err, r->http_status, "", 0, bare, sizeof(bare))) == 0))
		buf[0] = '\0';
	return buf;
}

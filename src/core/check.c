/*
 * check.c - a result's error as people read it: the class's name from the
 * one table (classes.c), or the detail when it says more; and the list of
 * statuses a check expects, read and written in one place for the store,
 * squirrelctl, the probe and the Redis wire.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the statuses a check expects ---- */

#define STATUS_MIN 100
#define STATUS_MAX 599

/* A code of three digits at *p, 100 to 599; advances *p. -1 when not one. */
static int status_code(const char **p)
{
	const char *s = *p;
	int v = 0;

	for (int i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (s[3] >= '0' && s[3] <= '9')
		return -1;
	*p = s + 3;
	return v >= STATUS_MIN && v <= STATUS_MAX ? v : -1;
}

int sq_expect_status_parse(const char *text, struct sq_expect *e, char *why, size_t len)
{
	struct sq_status_range r[SQ_EXPECT_RANGES];
	size_t n = 0, tl = strlen(text);
	const char *p = text;

	if (tl == 0 || tl > SQ_EXPECT_TEXT_MAX) {
		snprintf(why, len, "a list of status codes and ranges such as 200-299,301 (1 to %d "
		    "characters)", SQ_EXPECT_TEXT_MAX);
		return -1;
	}
	for (;;) {
		const char *start = p;
		int lo = status_code(&p), hi = lo;
		if (lo >= 0 && *p == '-') {
			p++;
			hi = status_code(&p);
		}
		if (lo < 0 || hi < 0 || (*p != ',' && *p != '\0')) {
			size_t item = strcspn(start, ",");
			snprintf(why, len, "'%.*s' is not a status code (100 to 599) or a range of them "
			    "such as 200-299", (int)(item > 40 ? 40 : item), start);
			return -1;
		}
		if (hi < lo) {
			snprintf(why, len, "%d-%d: a range must not end before it starts", lo, hi);
			return -1;
		}
		if (n == SQ_EXPECT_RANGES) {
			snprintf(why, len, "more than %d codes and ranges", SQ_EXPECT_RANGES);
			return -1;
		}
		r[n].lo = (uint16_t)lo;
		r[n].hi = (uint16_t)hi;
		n++;
		if (*p == '\0')
			break;
		p++;
	}
	memcpy(e->status, r, n * sizeof(r[0]));
	e->nstatus = (uint8_t)n;
	return 0;
}

const char *sq_expect_status_text(const struct sq_expect *e, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < e->nstatus && i < SQ_EXPECT_RANGES && used < len; i++) {
		const struct sq_status_range *r = &e->status[i];
		int n = r->lo == r->hi ?
		    snprintf(buf + used, len - used, "%s%u", i ? "," : "", r->lo) :
		    snprintf(buf + used, len - used, "%s%u-%u", i ? "," : "", r->lo, r->hi);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

bool sq_expect_status_ok(const struct sq_expect *e, long status)
{
	if (e->nstatus == 0)
		return status >= 200 && status < 400;
	for (size_t i = 0; i < e->nstatus && i < SQ_EXPECT_RANGES; i++)
		if (status >= e->status[i].lo && status <= e->status[i].hi)
			return true;
	return false;
}

const char *sq_cert_fp_hex(const struct sq_cert *c, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (len == 0)
		return buf;
	for (i = 0; i < SQ_CERT_FP_LEN && 2 * i + 2 < len; i++) {
		buf[2 * i] = hex[c->fingerprint[i] >> 4];
		buf[2 * i + 1] = hex[c->fingerprint[i] & 15];
	}
	buf[2 * i] = '\0';
	return buf;
}

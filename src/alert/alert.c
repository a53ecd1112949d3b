/*
 * alert.c - composing the alert mail an owner receives.
 *
 * Everything here is pure: the caller passes the time and the id, and gets
 * back the whole message as one string. The values of struct alert_item come
 * from the database, where anyone who can edit a site row can put anything:
 * each one goes through clean() before it is written anywhere, and a header
 * gets only printable ASCII or an RFC 2047 encoded-word, so no value can end
 * a header line early.
 */
#define _GNU_SOURCE /* memrchr */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/alert/alert.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/base/util.h"
#include "squirrel/core/classes.h"

#define LABEL_MAX 120    /* a site's name or host, in bytes */
#define ERROR_MAX 120    /* an error text */
#define URL_MAX 900      /* a url in the body: body lines stay under 998 */
#define SUBJECT_MAX 300
#define HEADER_WIDTH 78  /* RFC 5322 2.1.1: SHOULD be no more than 78 */
#define LINE_LIMIT 998   /* RFC 5322 2.1.1: MUST be no more than 998 */
#define LOCATED_MAX 10   /* location groups shown in words; the rest counted */
#define CHILDREN_SHOWN 10 /* sites behind a parent named, of each sort; the rest counted */
/* A body line past LINE_LIMIT goes on here: where the field values start. */
static const char fold_indent[] = "                    ";

/* A growing string; after a failed allocation every append is a no-op. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static bool sb_reserve(struct sbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_putn(b, small, (size_t)n);
		return;
	}
	if (!sb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *sb_str(const struct sbuf *b)
{
	return b->p != NULL ? b->p : "";
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * Characters that must not reach a mail from the database: C0 and C1
 * controls and DEL (CR and LF among them), the Unicode line and paragraph
 * separators, and the invisible direction overrides and zero-width marks
 * that could make a subject read differently from what it says.
 */
static bool unwanted(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

enum clean_mode {
	CLEAN_HEADER,   /* unwanted characters are removed */
	CLEAN_BODY,     /* unwanted characters become a space */
	CLEAN_TEXT,     /* like CLEAN_BODY, but "\n" is kept (our own text) */
};

/*
 * Appends s to b, cleaned for mode, at most max bytes: a longer value is cut
 * at a character boundary and ends in "...". Invalid UTF-8 becomes '?'.
 */
static void sb_clean(struct sbuf *b, const char *s, size_t max, enum clean_mode mode)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t avail = strlen((const char *)p), start = b->len, cut = b->len;
	bool truncated = false;

	while (avail > 0) {
		uint32_t cp;
		size_t n = utf8_next((const char *)p, &cp);
		size_t before = b->len;

		if (n == 0) {
			sb_putc(b, '?');
			n = 1;
		} else if (cp == '\n' && mode == CLEAN_TEXT) {
			sb_putc(b, '\n');
		} else if (unwanted(cp)) {
			if (mode != CLEAN_HEADER)
				sb_putc(b, ' ');
		} else {
			sb_putn(b, (const char *)p, n);
		}
		if (b->len - start > max) {
			b->len = before;
			truncated = true;
			break;
		}
		if (b->len - start <= max - 3)
			cut = b->len;
		p += n;
		avail -= n;
	}
	if (truncated && !b->oom) {
		b->len = cut;
		b->p[b->len] = '\0';
		sb_puts(b, "...");
	}
}

/* Copies src into dst (len bytes), cut at a UTF-8 character boundary. */
static void copy_utf8(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (len == 0)
		return;
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The host (and port) of a url: what lies between "://" and the path. */
static void sb_url_host(struct sbuf *b, const char *url, enum clean_mode mode)
{
	const char *p = url != NULL ? url : "";
	const char *scheme_end = strstr(p, "://");
	struct sbuf raw = { 0 };

	if (scheme_end != NULL)
		p = scheme_end + 3;
	size_t n = strcspn(p, "/?#");
	const char *at = memrchr(p, '@', n);
	if (at != NULL) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	sb_putn(&raw, p, n);
	sb_clean(b, sb_str(&raw), LABEL_MAX, mode);
	sb_free(&raw);
}

static void sb_label(struct sbuf *b, const struct alert_item *it, enum clean_mode mode)
{
	size_t start = b->len;

	sb_clean(b, it->name, LABEL_MAX, mode);
	/* A name of nothing but spaces or removed characters names nothing. */
	if (strspn(sb_str(b) + start, " ") == b->len - start) {
		b->len = start;
		if (b->p != NULL)
			b->p[start] = '\0';
		sb_url_host(b, it->url, mode);
	}
	if (strspn(sb_str(b) + start, " ") == b->len - start) {
		b->len = start;
		if (b->p != NULL)
			b->p[start] = '\0';
		sb_printf(b, "site %lld", (long long)it->site_id);
	}
}

const char *alert_site_label(const struct alert_item *item, char *buf, size_t len)
{
	struct sbuf b = { 0 };

	sb_label(&b, item, CLEAN_HEADER);
	copy_utf8(buf, len, b.oom ? "" : sb_str(&b));
	sb_free(&b);
	return buf;
}

void alert_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400 && (s % 3600) / 60 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if ((s % 86400) / 3600 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else
		snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

/* One class in words, with its status ("the server answered HTTP 503"). */
static void sb_class_words(struct sbuf *b, int err, int http_status)
{
	if (err == SQ_ERR_HTTP && http_status >= 100 && http_status <= 999)
		sb_printf(b, "%s %d", sq_class_words(err), http_status);
	else if (err == SQ_ERR_HTTP || err == SQ_OK)
		sb_puts(b, sq_class_words(SQ_ERR_OTHER));
	else
		sb_puts(b, sq_class_words(err));
}

/*
 * The groups of a verdict of several locations, each in words and where it
 * was seen: LOCATED_MAX of them shown, the rest counted.
 */
static void sb_located_words(struct sbuf *b, const struct alert_item *it)
{
	size_t shown = it->ngroups < LOCATED_MAX ? it->ngroups : LOCATED_MAX;

	for (size_t i = 0; i < shown; i++) {
		const struct sq_located *g = &it->groups[i];
		if (i > 0)
			sb_puts(b, "; ");
		sb_class_words(b, g->err, g->http_status);
		sb_puts(b, " (seen from ");
		sb_clean(b, g->where, ERROR_MAX, CLEAN_BODY);
		sb_puts(b, ")");
	}
	if (it->ngroups - shown + it->groups_more > 0)
		sb_printf(b, "; and %zu more", it->ngroups - shown + it->groups_more);
}

static void sb_error_words(struct sbuf *b, const struct alert_item *it)
{
	const char *detail = it->detail != NULL ? it->detail : "";

	if (it->groups != NULL && it->ngroups > 0) {
		sb_located_words(b, it);
	} else if (it->err == SQ_OK || it->err == SQ_ERR_HTTP) {
		if (it->http_status >= 100 && it->http_status <= 999)
			sb_printf(b, "%s %d", sq_class_words(SQ_ERR_HTTP), it->http_status);
		else
			sb_puts(b, sq_class_words(SQ_ERR_OTHER));
	} else if (it->err == SQ_ERR_OTHER || sq_class_code(it->err) < 0) {
		/* libcurl's own words, or a class this version does not know */
		sb_puts(b, sq_class_words(SQ_ERR_OTHER));
		if (detail[0] != '\0') {
			sb_puts(b, ": ");
			sb_clean(b, detail, ERROR_MAX, CLEAN_BODY);
		}
	} else {
		sb_puts(b, sq_class_words(it->err));
	}
}

const char *alert_error_words(const struct alert_item *item, char *buf, size_t len)
{
	struct sbuf b = { 0 };

	sb_error_words(&b, item);
	copy_utf8(buf, len, b.oom ? "" : sb_str(&b));
	sb_free(&b);
	return buf;
}

/* The short error of a subject: the class as the check named it. */
static void sb_error_short(struct sbuf *b, const struct alert_item *it)
{
	size_t start = b->len;
	char cls[64];
	const char *d = it->detail != NULL ? it->detail : "";

	if (sq_error_shows_detail(it->err, it->http_status, d, strlen(d)))
		sb_clean(b, d, ERROR_MAX, CLEAN_HEADER);
	else
		sb_puts(b, sq_error_text(it->err, it->http_status, "", 0, cls, sizeof(cls)));
	if (b->len == start && it->http_status >= 100 && it->http_status <= 999)
		sb_printf(b, "http %d", it->http_status);
}

/* "ends in 5 days", "ends in 1 day", "ends today": counted from the check. */
static const char *cert_left_words(const struct alert_item *it, char *buf, size_t len)
{
	int64_t left = it->cert_not_after - it->at;
	int64_t days = left > 0 ? left / 86400 : 0;

	if (days == 0)
		snprintf(buf, len, "ends today");
	else
		snprintf(buf, len, "ends in %lld %s", (long long)days, days == 1 ? "day" : "days");
	return buf;
}

static void sb_subject(struct sbuf *b, const struct alert_item *items, size_t n)
{
	if (n == 1) {
		const struct alert_item *it = &items[0];
		struct sbuf err = { 0 };
		char dur[32];

		sb_error_short(&err, it);
		sb_printf(b, "[squirrel] %s ", sq_alert_kind_subject(it->kind));
		sb_label(b, it, CLEAN_HEADER);
		if (it->kind == SQ_ALERT_OUTAGE) {
			/* what the rule saw is the whole story: the item's words say the rest */
		} else if (it->kind == SQ_ALERT_DEGRADED) {
			/* how slow, in the check's words (record.c) */
			if (it->detail != NULL && it->detail[0] != '\0') {
				sb_puts(b, " (");
				sb_clean(b, it->detail, ERROR_MAX, CLEAN_HEADER);
				sb_putc(b, ')');
			}
		} else if (it->kind == SQ_ALERT_CERT) {
			sb_printf(b, " (%s)", cert_left_words(it, dur, sizeof(dur)));
		} else if (it->kind == SQ_ALERT_UP || it->kind == SQ_ALERT_RECOVERED) {
			if (it->since > 0 && it->at >= it->since) {
				alert_duration(it->at - it->since, dur, sizeof(dur));
				sb_printf(b, " after %s", dur);
			}
		} else if (err.len > 0) {
			sb_printf(b, " (%s)", sb_str(&err));
		}
		sb_free(&err);
		return;
	}

	size_t down = 0, still = 0, up = 0, degraded = 0, recovered = 0, cert = 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i].kind == SQ_ALERT_UP)
			up++;
		else if (items[i].kind == SQ_ALERT_REMINDER)
			still++;
		else if (items[i].kind == SQ_ALERT_DEGRADED)
			degraded++;
		else if (items[i].kind == SQ_ALERT_RECOVERED)
			recovered++;
		else if (items[i].kind == SQ_ALERT_CERT)
			cert++;
		else
			down++;
	}
	if (degraded + recovered + cert > 0) {
		/* slow sites or certificates in the mail: each kind counted, in the table's words */
		const size_t count[] = { down, still, up, degraded, recovered, cert };
		const int kind[] = { SQ_ALERT_DOWN, SQ_ALERT_REMINDER, SQ_ALERT_UP,
			SQ_ALERT_DEGRADED, SQ_ALERT_RECOVERED, SQ_ALERT_CERT };
		const char *sep = ":";
		sb_printf(b, "[squirrel] %zu sites", n);
		for (size_t k = 0; k < sizeof(count) / sizeof(count[0]); k++) {
			if (count[k] == 0)
				continue;
			sb_printf(b, "%s %zu %s", sep, count[k], sq_alert_kind_subject(kind[k]));
			sep = ",";
		}
		return;
	}
	if (down + still > 0 && up > 0)
		sb_printf(b, "[squirrel] %zu %s DOWN, %zu UP", down + still,
		    down + still == 1 ? "site" : "sites", up);
	else if (down == 0 && still > 0)
		sb_printf(b, "[squirrel] %zu sites STILL DOWN", still);
	else if (down + still > 0)
		sb_printf(b, "[squirrel] %zu sites DOWN", down + still);
	else
		sb_printf(b, "[squirrel] %zu sites UP", up);
}

int alert_subject(const struct alert_item *items, size_t n, char *buf, size_t len)
{
	struct sbuf b = { 0 };

	if (n == 0 || items == NULL) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	sb_subject(&b, items, n);
	copy_utf8(buf, len, b.oom ? "" : sb_str(&b));
	sb_free(&b);
	return 0;
}

/* "2024-05-14 10:03:00 UTC", or `none` for 0. */
static void sb_time(struct sbuf *b, int64_t t, const char *none)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		sb_puts(b, none);
		return;
	}
	sb_printf(b, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void sb_field(struct sbuf *b, const char *label)
{
	sb_printf(b, "  %-17s ", label);
}

/* What each location saw, when several checked: a database value like any other. */
static void sb_locations(struct sbuf *b, const struct alert_item *it)
{
	if (it->locations == NULL || it->locations[0] == '\0')
		return;
	sb_field(b, "locations:");
	sb_clean(b, it->locations, URL_MAX, CLEAN_BODY);
	sb_putc(b, '\n');
}

/* DEGRADED and RECOVERED: how slow (the check's words in detail), since when, how long. */
static void sb_slow_item(struct sbuf *b, const struct alert_item *it, bool known_since,
    const char *dur)
{
	bool recovered = it->kind == SQ_ALERT_RECOVERED;

	sb_field(b, recovered ? "fast again at:" : "how slow:");
	if (recovered)
		sb_time(b, it->at, "unknown");
	else
		sb_clean(b, it->detail != NULL ? it->detail : "", ERROR_MAX, CLEAN_BODY);
	sb_putc(b, '\n');
	sb_field(b, recovered ? "how fast:" : "checked at:");
	if (recovered)
		sb_clean(b, it->detail != NULL ? it->detail : "", ERROR_MAX, CLEAN_BODY);
	else
		sb_time(b, it->at, "unknown");
	sb_putc(b, '\n');
	sb_locations(b, it);
	sb_field(b, "slow since:");
	sb_time(b, it->since, "unknown");
	sb_putc(b, '\n');
	if (recovered && known_since) {
		sb_field(b, "slow for:");
		sb_printf(b, "%s\n", dur);
	}
}

/* The sites of one sort behind a parent: CHILDREN_SHOWN named, the rest counted. */
static void sb_children_of(struct sbuf *b, const struct alert_item *it, bool back,
    int64_t total, const char *words)
{
	size_t shown = 0;

	if (total <= 0)
		return;
	sb_printf(b, "    %s (%lld):\n", words, (long long)total);
	for (size_t i = 0; i < it->nchildren && it->children != NULL; i++) {
		const struct sq_child *c = &it->children[i];
		if (c->back != back || shown == CHILDREN_SHOWN || (int64_t)shown == total)
			continue;
		struct alert_item child = { .site_id = c->site_id, .url = c->url, .name = c->name };
		sb_puts(b, "      ");
		sb_label(b, &child, CLEAN_BODY);
		sb_printf(b, " (site %lld)\n", (long long)c->site_id);
		shown++;
	}
	if (total > (int64_t)shown)
		sb_printf(b, "      and %lld more\n", (long long)(total - (int64_t)shown));
}

/*
 * A parent's DOWN mail: the sites failing behind it, which send none of
 * their own; its UP mail: which of them came back, which still fail (and
 * will alert on their own if they go on failing).
 */
static void sb_children(struct sbuf *b, const struct alert_item *it)
{
	int64_t total = it->children_total, back = it->children_back;

	if (total <= 0 || (it->kind != SQ_ALERT_DOWN && it->kind != SQ_ALERT_UP))
		return;
	if (back < 0 || back > total)
		back = 0;
	sb_field(b, "sites behind it:");
	if (it->kind == SQ_ALERT_DOWN) {
		sb_printf(b, "%lld %s failing too (parent down), no alert of their own\n",
		    (long long)total, total == 1 ? "is" : "are");
		sb_children_of(b, it, false, total, "failing");
		return;
	}
	sb_printf(b, "%lld back up, %lld still failing at their last check\n", (long long)back,
	    (long long)(total - back));
	sb_children_of(b, it, false, total - back, "still failing (they alert on their own now)");
	sb_children_of(b, it, true, back, "back up");
}

/* A certificate near its end: when, how long from the check, whose, by whom. */
static void sb_cert_item(struct sbuf *b, const struct alert_item *it)
{
	int64_t left = it->cert_not_after - it->at;

	sb_field(b, "ends at:");
	sb_time(b, it->cert_not_after, "unknown");
	sb_putc(b, '\n');
	sb_field(b, "days left:");
	sb_printf(b, "%lld\n", (long long)(left > 0 ? left / 86400 : 0));
	sb_field(b, "subject:");
	sb_clean(b, it->cert_subject != NULL ? it->cert_subject : "", URL_MAX, CLEAN_BODY);
	sb_putc(b, '\n');
	sb_field(b, "issuer:");
	sb_clean(b, it->cert_issuer != NULL ? it->cert_issuer : "", URL_MAX, CLEAN_BODY);
	sb_putc(b, '\n');
	sb_field(b, "checked at:");
	sb_time(b, it->at, "unknown");
	sb_putc(b, '\n');
	sb_field(b, "first seen:");
	sb_time(b, it->since, "unknown");
	sb_putc(b, '\n');
}

static void sb_item(struct sbuf *b, const struct alert_item *it)
{
	bool known_since = it->since > 0 && it->at >= it->since;
	char dur[32] = "";

	if (known_since)
		alert_duration(it->at - it->since, dur, sizeof(dur));

	sb_printf(b, "%s: ", sq_alert_kind_heading(it->kind));
	sb_label(b, it, CLEAN_BODY);
	if ((it->kind == SQ_ALERT_UP || it->kind == SQ_ALERT_REMINDER) && known_since)
		sb_printf(b, " (down for %s)", dur);
	else if ((it->kind == SQ_ALERT_DEGRADED || it->kind == SQ_ALERT_RECOVERED) && known_since)
		sb_printf(b, " (slow for %s)", dur);
	else if (it->kind == SQ_ALERT_CERT)
		sb_printf(b, " (%s)", cert_left_words(it, dur, sizeof(dur)));
	sb_putc(b, '\n');

	if (it->kind == SQ_ALERT_OUTAGE) {
		/* the monitor's own outage (record.c): no site, what the rule saw in detail */
		sb_field(b, "what was seen:");
		sb_clean(b, it->detail != NULL ? it->detail : "", ERROR_MAX, CLEAN_BODY);
		sb_putc(b, '\n');
		sb_field(b, "since:");
		sb_time(b, it->at, "unknown");
		sb_putc(b, '\n');
		sb_field(b, "meanwhile:");
		sb_puts(b, "failed checks are recorded as unknown and DOWN alerts are held; "
		    "when checks succeed again, a held alert goes out only for a site still "
		    "down after fail_threshold fresh checks\n");
		if (it->alert_id > 0) {
			sb_field(b, "alert id:");
			sb_printf(b, "%lld\n", (long long)it->alert_id);
		}
		return;
	}
	if (it->kind == SQ_ALERT_CERT) {
		sb_cert_item(b, it);
	} else if (it->kind == SQ_ALERT_DEGRADED || it->kind == SQ_ALERT_RECOVERED) {
		sb_slow_item(b, it, known_since, dur);
	} else if (it->kind == SQ_ALERT_UP) {
		sb_field(b, "back up at:");
		sb_time(b, it->at, "unknown");
		sb_putc(b, '\n');
		sb_locations(b, it);
		sb_field(b, "down since:");
		sb_time(b, it->since, "unknown");
		sb_putc(b, '\n');
		if (known_since) {
			sb_field(b, "down for:");
			sb_printf(b, "%s\n", dur);
		}
		if (it->err != SQ_OK) {
			sb_field(b, "last error:");
			sb_error_words(b, it);
			sb_putc(b, '\n');
		}
	} else {
		sb_field(b, it->kind == SQ_ALERT_REMINDER ? "still failing:" : "what failed:");
		sb_error_words(b, it);
		sb_putc(b, '\n');
		sb_locations(b, it);
		sb_field(b, "checked at:");
		sb_time(b, it->at, "unknown");
		sb_putc(b, '\n');
		sb_field(b, "down since:");
		sb_time(b, it->since, "unknown");
		sb_putc(b, '\n');
		if (it->kind == SQ_ALERT_REMINDER && known_since) {
			sb_field(b, "down for:");
			sb_printf(b, "%s\n", dur);
		}
		sb_field(b, "last good check:");
		sb_time(b, it->last_ok, "never");
		sb_putc(b, '\n');
	}
	sb_children(b, it);
	char shown[URL_SHOWN_MAX];
	sb_field(b, "url:");
	sb_clean(b, url_shown(it->url, shown, sizeof(shown)), URL_MAX, CLEAN_BODY);
	sb_putc(b, '\n');
	sb_field(b, "site id:");
	sb_printf(b, "%lld\n", (long long)it->site_id);
	if (it->alert_id > 0) {
		sb_field(b, "alert id:");
		sb_printf(b, "%lld\n", (long long)it->alert_id);
	}
}

static void sb_base64(struct sbuf *b, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		char out[4] = {
			tab[(v >> 18) & 63], tab[(v >> 12) & 63],
			i + 1 < n ? tab[(v >> 6) & 63] : '=',
			i + 2 < n ? tab[v & 63] : '=',
		};
		sb_putn(b, out, 4);
	}
}

/*
 * "Name: value" for a value already cleaned (no control characters). Plain
 * ASCII is folded at spaces to keep lines near 78 characters; anything else
 * (or text that looks like an encoded-word already) becomes RFC 2047
 * encoded-words of at most 42 bytes each, split between characters, one per
 * folded line, so no line passes 78 either.
 */
static void sb_header(struct sbuf *b, const char *name, const char *value)
{
	bool ascii = strstr(value, "=?") == NULL;

	for (const char *p = value; *p && ascii; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;

	sb_printf(b, "%s:", name);
	if (ascii) {
		/*
		 * Tokens are a run of spaces and the word after it; a fold (CRLF)
		 * goes before the spaces of a token that would pass the width.
		 */
		size_t col = strlen(name) + 1;
		const char *p = value;
		bool first = true;
		do {
			size_t sp = strspn(p, " ");
			size_t word = strcspn(p + sp, " ");
			size_t tok = (first ? 1 : 0) + sp + word;
			if (!first && sp > 0 && word > 0 && col + tok > HEADER_WIDTH) {
				sb_puts(b, "\r\n");
				col = 0;
			}
			if (first)
				sb_putc(b, ' ');
			sb_putn(b, p, sp + word);
			col += tok;
			p += sp + word;
			first = false;
		} while (*p != '\0');
		sb_puts(b, "\r\n");
		return;
	}

	const unsigned char *p = (const unsigned char *)value;
	size_t left = strlen(value);
	bool first = true;
	while (left > 0) {
		size_t chunk = 0;
		while (chunk < left) {
			uint32_t cp;
			size_t n = utf8_next((const char *)p + chunk, &cp);
			if (n == 0)
				n = 1; /* cannot happen after clean(); stay safe */
			if (chunk + n > 42)
				break;
			chunk += n;
		}
		if (chunk == 0)
			chunk = left < 42 ? left : 42;
		sb_puts(b, first ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
		sb_base64(b, p, chunk);
		sb_puts(b, "?=");
		p += chunk;
		left -= chunk;
		first = false;
	}
	sb_puts(b, "\r\n");
}

static bool id_valid(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 200)
		return false;
	for (const char *p = id; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '+' || c == '=' || c == '-'))
			return false;
	}
	return true;
}

/* A domain as a Message-ID carries it: letters, digits, dots and hyphens. */
static bool msgid_domain_valid(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-')
		return false;
	for (const char *p = d; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool alert_msgid_valid(const char *msgid)
{
	char local[ALERT_MSGID_MAX + 1];
	const char *at;

	if (msgid == NULL || strlen(msgid) > ALERT_MSGID_MAX || (at = strchr(msgid, '@')) == NULL ||
	    (size_t)(at - msgid) > 200)
		return false;
	memcpy(local, msgid, (size_t)(at - msgid));
	local[at - msgid] = '\0';
	return id_valid(local) && msgid_domain_valid(at + 1);
}

int alert_message_id(const char *id, const char *from, char *buf, size_t len)
{
	const char *at = from != NULL ? strrchr(from, '@') : NULL;
	int n;

	if (at == NULL || !id_valid(id))
		return -1;
	n = snprintf(buf, len, "%s@%s", id, at + 1);
	if (n < 0 || (size_t)n >= len || !alert_msgid_valid(buf))
		return -1;
	return 0;
}

/*
 * The Message-IDs the items answer, as In-Reply-To and References lines:
 * each one once, the latest (by answers_at) the one replied to, at most
 * ALERT_REFS_MAX of them, the latest kept; one per line, folded, so no
 * line passes 998 bytes. An id that is not one of ours is left out.
 */
static void sb_thread(struct sbuf *b, const struct alert_item *items, size_t n)
{
	const struct alert_item *refs[ALERT_REFS_MAX];
	size_t nrefs = 0;

	for (size_t i = 0; i < n; i++) {
		const struct alert_item *it = &items[i];
		size_t j;
		if (!alert_msgid_valid(it->answers))
			continue;
		for (j = 0; j < nrefs && strcmp(refs[j]->answers, it->answers) != 0; j++)
			;
		if (j < nrefs) {
			if (it->answers_at > refs[j]->answers_at)
				refs[j] = it;
			continue;
		}
		if (nrefs == ALERT_REFS_MAX) {
			/* full: the oldest makes room for a later one */
			size_t old = 0;
			for (j = 1; j < nrefs; j++)
				if (refs[j]->answers_at < refs[old]->answers_at)
					old = j;
			if (refs[old]->answers_at >= it->answers_at)
				continue;
			refs[old] = it;
		} else {
			refs[nrefs++] = it;
		}
	}
	if (nrefs == 0)
		return;
	/* oldest first, as References lists a thread; a stable insertion sort */
	for (size_t i = 1; i < nrefs; i++)
		for (size_t j = i; j > 0 && refs[j]->answers_at < refs[j - 1]->answers_at; j--) {
			const struct alert_item *t = refs[j];
			refs[j] = refs[j - 1];
			refs[j - 1] = t;
		}
	sb_printf(b, "In-Reply-To: <%s>\r\n", refs[nrefs - 1]->answers);
	sb_puts(b, "References:");
	for (size_t i = 0; i < nrefs; i++)
		sb_printf(b, "%s<%s>", i == 0 ? " " : "\r\n ", refs[i]->answers);
	sb_puts(b, "\r\n");
}

/* A hostile address shown in an error message: printable ASCII only. */
static void shown(char *out, size_t len, const char *s)
{
	size_t i = 0;

	for (; s != NULL && *s != '\0' && i + 1 < len && i < 80; s++)
		out[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (len > 0)
		out[i] = '\0';
}

/*
 * One body line of len bytes (no "\n"), CRLF-ended when eol. Past
 * LINE_LIMIT it is folded at the last space that fits (or, with none,
 * between two characters) and goes on on the next line after fold_indent.
 */
static void sb_body_line(struct sbuf *m, const char *s, size_t len, bool eol)
{
	size_t room = LINE_LIMIT;

	while (len > room) {
		size_t cut = room, skip = 1;
		while (cut > 0 && s[cut] != ' ')
			cut--;
		if (cut == 0) {
			cut = room;
			while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
				cut--;
			skip = 0;
		}
		sb_putn(m, s, cut);
		sb_puts(m, "\r\n");
		sb_puts(m, fold_indent);
		s += cut + skip;
		len -= cut + skip;
		room = LINE_LIMIT - (sizeof(fold_indent) - 1);
	}
	sb_putn(m, s, len);
	if (eol)
		sb_puts(m, "\r\n");
}

static const char *const wday_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/*
 * The message around a body of LF-ended lines: checks the addresses and the
 * id, writes the headers, and turns each "\n" of the body into CRLF.
 */
static char *compose(const char *to, const char *from, const char *subject,
    const char *alerts, const char *thread, const char *body, int64_t now, const char *id,
    char *err, size_t errlen)
{
	char why[128], show[96];
	struct sbuf m = { 0 };
	struct tm tm;
	time_t tt = (time_t)now;

	if (to == NULL || !email_valid(to, why, sizeof(why))) {
		shown(show, sizeof(show), to);
		snprintf(err, errlen, "owner address '%s' is not one valid address: %s", show,
		    to == NULL ? "none given" : why);
		return NULL;
	}
	if (from == NULL || !email_valid(from, why, sizeof(why))) {
		shown(show, sizeof(show), from);
		snprintf(err, errlen, "sender address '%s' is not valid: %s", show,
		    from == NULL ? "none given" : why);
		return NULL;
	}
	if (!id_valid(id)) {
		snprintf(err, errlen, "message id must be 1 to 200 letters, digits or ._+=-");
		return NULL;
	}
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(err, errlen, "time %lld cannot be shown as a date", (long long)now);
		return NULL;
	}

	sb_printf(&m, "From: squirrel <%s>\r\n", from);
	sb_printf(&m, "To: %s\r\n", to);
	sb_printf(&m, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", wday_names[tm.tm_wday],
	    tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	sb_printf(&m, "Message-ID: <%s@%s>\r\n", id, strrchr(from, '@') + 1);
	if (thread != NULL)
		sb_puts(&m, thread);
	sb_header(&m, "Subject", subject);
	if (alerts != NULL && alerts[0] != '\0')
		sb_header(&m, "X-Squirrel-Alerts", alerts);
	sb_puts(&m, "Auto-Submitted: auto-generated\r\n");
	sb_puts(&m, "MIME-Version: 1.0\r\n");
	sb_puts(&m, "Content-Type: text/plain; charset=UTF-8\r\n");
	sb_puts(&m, "Content-Transfer-Encoding: 8bit\r\n");
	sb_puts(&m, "\r\n");
	for (const char *p = body; *p != '\0'; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		sb_body_line(&m, p, len, nl != NULL);
		p += len + (nl != NULL);
	}
	if (m.oom) {
		sb_free(&m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return m.p;
}

char *alert_compose(const char *to, const char *from, const struct alert_item *items,
    size_t n, int64_t now, const char *id, char *err, size_t errlen)
{
	struct sbuf subject = { 0 }, body = { 0 }, alerts = { 0 }, thread = { 0 };
	char *msg = NULL;

	if (n == 0 || items == NULL) {
		snprintf(err, errlen, "no alert to send");
		return NULL;
	}
	sb_subject(&subject, items, n);
	if (n > 1)
		sb_printf(&body, "News about %zu of your sites:\n\n", n);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			sb_putc(&body, '\n');
		sb_item(&body, &items[i]);
	}
	sb_puts(&body, "\n-- \nThis message was sent automatically by squirrel, the uptime monitor.\n");
	/* "41 42 57": the alerts this mail tells of, for a reader to spot a repeat. */
	for (size_t i = 0; i < n; i++)
		if (items[i].alert_id > 0)
			sb_printf(&alerts, "%s%lld", alerts.len > 0 ? " " : "", (long long)items[i].alert_id);
	sb_thread(&thread, items, n);
	if (subject.oom || body.oom || alerts.oom || thread.oom)
		snprintf(err, errlen, "out of memory");
	else
		msg = compose(to, from, sb_str(&subject), sb_str(&alerts), sb_str(&thread),
		    sb_str(&body), now, id, err, errlen);
	sb_free(&subject);
	sb_free(&body);
	sb_free(&alerts);
	sb_free(&thread);
	return msg;
}

char *alert_compose_text(const char *to, const char *from, const char *subject,
    const char *body, int64_t now, const char *id, char *err, size_t errlen)
{
	struct sbuf s = { 0 }, b = { 0 };
	char *msg = NULL;

	sb_clean(&s, subject, SUBJECT_MAX, CLEAN_HEADER);
	sb_clean(&b, body, (size_t)-1 / 2, CLEAN_TEXT);
	if (s.oom || b.oom)
		snprintf(err, errlen, "out of memory");
	else
		msg = compose(to, from, sb_str(&s), NULL, NULL, sb_str(&b), now, id, err, errlen);
	sb_free(&s);
	sb_free(&b);
	return msg;
}

char *alert_compose_test(const char *to, const char *from, const char *server, int64_t now,
    char *err, size_t errlen)
{
	char id[96], body[512];

	snprintf(id, sizeof(id), "squirrel-test-%lld-%ld", (long long)now, (long)getpid());
	snprintf(body, sizeof(body),
	    "This is a test message from squirreld --test-mail.\n\n"
	    "If you can read it, squirrel can send its alerts to %s through %s.\n",
	    to, server);
	return alert_compose_text(to, from, "[squirrel] test message", body, now, id, err, errlen);
}

/*
 * alert.h - composing the alert mail an owner receives.
 *
 * Pure functions: no I/O, no clock, no randomness (the caller passes the time
 * and a unique id), so every byte of a message can be unit-tested.
 *
 * Every string in struct alert_item comes from the database and is treated
 * as hostile: in headers, control characters are removed and a value that
 * is not plain ASCII is RFC 2047-encoded; in the body, control characters
 * (CR and LF included) become spaces and invalid UTF-8 becomes '?'. No value
 * can start a header line or add a recipient. Each value is cut to a few
 * hundred bytes, ten location groups of an error are put in words and the
 * rest counted, and a body line past SMTP's 998 bytes is folded onto the
 * next, indented: no line of a message passes 998 bytes.
 */
#ifndef SQUIRREL_ALERT_H
#define SQUIRREL_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/check.h"
#include "squirrel/core/state.h"

struct alert_item {
	int64_t site_id;
	const char *url;
	const char *name;   /* may be NULL or "": the url's host names the site */
	enum sq_alert_kind kind; /* any other value reads as SQ_ALERT_DOWN */
	int err;            /* enum sq_err the check saw; SQ_OK: none (an UP alert) */
	int http_status;    /* 0 when no response came */
	/*
	 * The check's own words beside the class, as sq_error_text() takes
	 * them: libcurl's message (SQ_ERR_OTHER), the groups in short ("http
	 * 503 from b, c"); may be NULL.
	 */
	const char *detail;
	/*
	 * A verdict of several locations: each answer and where it was seen,
	 * the leading one first (quorum_groups); ngroups of them here, and
	 * groups_more further ones only counted. None for one machine's check.
	 */
	const struct sq_located *groups;
	size_t ngroups;
	size_t groups_more;
	int64_t at;         /* unix s: the check that saw it */
	int64_t since;      /* unix s: when the site went down; 0 = unknown */
	int64_t last_ok;    /* unix s: the last good check; 0 = never */
	/*
	 * What each location saw ("down from 2 of 3 locations: b http 503,
	 * c timeout; a answered 200"); NULL for a single-machine check.
	 */
	const char *locations;
	/*
	 * The alert's row in the outbox, shown in the body ("alert id:") and
	 * listed in the X-Squirrel-Alerts header, so that a reader can tell an
	 * alert mailed again after a crash; 0: none (no line, no header).
	 */
	int64_t alert_id;
	/*
	 * A parent's DOWN or UP alert: the sites behind it (depends_on), a few
	 * named (those still failing first), children_total of them in all,
	 * children_back of those back up. The mail names CHILDREN_SHOWN of
	 * each sort at most and counts the rest: 1000 sites make a few lines.
	 */
	const struct sq_child *children;
	size_t nchildren;
	int64_t children_total;
	int64_t children_back;
	/*
	 * A `cert` alert: the certificate's end (unix s; the days left are
	 * counted from `at`), its subject and issuer (may be NULL).
	 */
	int64_t cert_not_after;
	const char *cert_subject;
	const char *cert_issuer;
	/*
	 * The Message-ID (without <>) of the mail this item answers: for an UP
	 * or a reminder, the mail that told of its incident's DOWN; NULL: none.
	 * The mail's In-Reply-To is the latest of its items' (by answers_at),
	 * its References all of them, each once (ALERT_REFS_MAX at most, the
	 * latest kept). One that alert_msgid_valid() refuses is left out.
	 */
	const char *answers;
	int64_t answers_at;
};

/* The longest Message-ID kept: an id of 200 bytes, '@', a domain of 253. */
#define ALERT_MSGID_MAX 460
/* A mail's References name at most this many earlier mails. */
#define ALERT_REFS_MAX 10

/*
 * One RFC 5322 message (CRLF line ends, headers From, To, Date, Message-ID,
 * In-Reply-To and References when an item answers an earlier mail,
 * Subject, Auto-Submitted, MIME-Version, Content-Type,
 * Content-Transfer-Encoding, and X-Squirrel-Alerts when an item has an
 * alert_id, then the body) telling owner `to` about items[0]
 * .. items[n-1]; several items make one digest. `now` (unix s) is the Date;
 * the Message-ID is <id@domain-of-from>; id may hold letters, digits and
 * "._+=-".
 *
 * Returns the message (free() it), or NULL with the reason in err: `to` is
 * not one valid address (the caller logs it, naming the site), `from` is not
 * valid, id is empty or has other characters, n is 0, or out of memory.
 */
char *alert_compose(const char *to, const char *from, const struct alert_item *items,
    size_t n, int64_t now, const char *id, char *err, size_t errlen);

/*
 * The Message-ID (without <>) a mail composed with id and from goes out
 * under: "id@domain-of-from", in buf. 0, or -1 when id or the domain is not
 * one alert_msgid_valid() takes, or buf is too small.
 */
int alert_message_id(const char *id, const char *from, char *buf, size_t len);

/*
 * Whether msgid (without <>) is one squirrel makes and may write into a
 * header: 1 to 200 of letters, digits and "._+=-", '@', a domain of
 * letters, digits, dots and hyphens; ALERT_MSGID_MAX bytes at most.
 */
bool alert_msgid_valid(const char *msgid);

/*
 * The same headers around a body of the caller's own (the test mail).
 * subject and body are sanitized like database values; body lines end in
 * "\n" and become CRLF. Returns the message or NULL with the reason in err.
 */
char *alert_compose_text(const char *to, const char *from, const char *subject,
    const char *body, int64_t now, const char *id, char *err, size_t errlen);

/*
 * squirreld --test-mail's message to `to`, saying it came through server
 * ("localhost:25"); its Message-ID is made of now and the process id.
 * Returns the message or NULL with the reason in err.
 */
char *alert_compose_test(const char *to, const char *from, const char *server, int64_t now,
    char *err, size_t errlen);

/*
 * The subject as a person reads it, before any RFC 2047 encoding, always
 * NUL-terminated (UTF-8, no control characters):
 *   [squirrel] DOWN example.org (http 503)
 *   [squirrel] UP example.org after 14m
 *   [squirrel] STILL DOWN example.org (timeout)
 *   [squirrel] 3 sites DOWN / 2 sites UP / 2 sites DOWN, 1 UP
 * Returns 0, or -1 when n is 0.
 */
int alert_subject(const struct alert_item *items, size_t n, char *buf, size_t len);

/*
 * How a site is named: its name if it has one, else the host (and port) of
 * its url, sanitized for a header. Returns buf.
 */
const char *alert_site_label(const struct alert_item *item, char *buf, size_t len);

/*
 * What failed, in words, from the item's class, status, detail and groups:
 * "the name does not exist (NXDOMAIN)", "the server answered HTTP 503",
 * "the server answered HTTP 503 (seen from paris, tokyo); no answer within
 * the timeout (seen from sydney)"; libcurl's own message is shown
 * sanitized as "the check failed: ...". Returns buf.
 */
const char *alert_error_words(const struct alert_item *item, char *buf, size_t len);

/* A duration for people: "45s", "14m", "3h 5m", "2d 4h". */
void alert_duration(int64_t seconds, char *buf, size_t len);

#endif

/*
 * classes.h - the error classes of a check, one table (src/core/classes.c).
 *
 * Each class has a stable number, its code, which is what the database
 * keeps (checks.class, check_locations.class, outbox.class); its name, the
 * contract of the --once output, the wire and squirrelctl ("dns
 * nxdomain"); and its words in the alert mail ("the name does not exist
 * (NXDOMAIN)"). Renaming a class or rewording it changes no stored figure;
 * a code is never changed and never reused: a new class takes a new one.
 */
#ifndef SQUIRREL_CLASSES_H
#define SQUIRREL_CLASSES_H

#include <stdbool.h>
#include <stdint.h>

/* Why a check failed. The value is the class's code: frozen, see above. */
enum sq_err {
	SQ_OK = 0,
	SQ_ERR_HTTP = 1,              /* "http 503": a response, but 4xx/5xx */
	SQ_ERR_DNS = 2,               /* "dns": the name did not resolve */
	SQ_ERR_DNS_NXDOMAIN = 3,
	SQ_ERR_DNS_SERVFAIL = 4,
	SQ_ERR_DNS_TIMEOUT = 5,
	SQ_ERR_DNS_NOADDR = 6,
	SQ_ERR_CONNECT_REFUSED = 7,
	SQ_ERR_CONNECT_TIMEOUT = 8,
	SQ_ERR_UNREACHABLE = 9,
	SQ_ERR_TIMEOUT = 10,
	SQ_ERR_TLS = 11,
	SQ_ERR_TOO_MANY_REDIRECTS = 12,
	SQ_ERR_PROTOCOL = 13,         /* a redirect to a scheme other than http/https */
	SQ_ERR_EMPTY_REPLY = 14,
	SQ_ERR_BAD_REPLY = 15,        /* not HTTP/1.x: HTTP/0.9, noise, status 99 */
	SQ_ERR_RESET = 16,
	SQ_ERR_BAD_URL = 17,
	SQ_ERR_WORKER = 18,           /* the worker running the check died */
	SQ_ERR_OTHER = 19,            /* detail holds libcurl's message */
	SQ_ERR_NO_QUORUM = 20,        /* "unknown": too few locations answered (redis) */
	SQ_ERR_TOO_LARGE = 21,        /* a status line or header beyond libcurl's limit */
	SQ_ERR_STOPPED = 22,          /* cut short by the daemon's stop: never recorded */
	/* the TLS reasons: SQ_ERR_TLS stays for a stalled handshake and rows of before */
	SQ_ERR_TLS_EXPIRED = 23,
	SQ_ERR_TLS_NOT_YET_VALID = 24,
	SQ_ERR_TLS_UNTRUSTED = 25,    /* self-signed, unknown issuer, incomplete chain */
	SQ_ERR_TLS_NAME = 26,         /* the certificate is not for the url's host */
	SQ_ERR_TLS_HANDSHAKE = 27,    /* any other failure of the handshake */
	SQ_ERR_KEYWORD_MISSING = 28,  /* keyword_mode present: not in the body read */
	SQ_ERR_KEYWORD_PRESENT = 29,  /* keyword_mode absent: found in the body */
	SQ_ERR_PARENT_DOWN = 30,      /* failed while the site it depends on is down: no alert */
	SQ_ERR_OUTAGE = 31,           /* "unknown outage": failed while the monitor was cut off */
	SQ_ERR_MAX
};

/* The short name: "timeout", "connect refused", "" for SQ_OK; "error" out of range. */
const char *sq_class_name(int err);

/*
 * The class in an owner's words: "the connection was refused". SQ_ERR_HTTP
 * gives "the server answered HTTP" (the status goes after it); out of
 * range, "the check failed".
 */
const char *sq_class_words(int err);

/*
 * Whether a class says the path to the site failed (a name lookup, the
 * connection, a timeout, an unreachable network) rather than the site's
 * answer: what the outage rule counts (src/core/outage.c).
 */
bool sq_class_network(int err);

/* The stored code of a class; -1 out of range. */
int sq_class_code(int err);

/* The class of a stored code; -1 for a code this version does not know. */
int sq_class_of_code(int64_t code);

/* The class of a name sq_class_name() gives ("" is SQ_OK); -1 for any other text. */
int sq_class_parse(const char *name);

/*
 * An error text as schema versions up to 8 stored it, read once into its
 * class: "" (ok), a class name, "http 503", a group of several locations
 * ("http 503 from a, b; timeout from c"), "unknown" or "unknown: no answer
 * from c", else libcurl's message (SQ_ERR_OTHER). *detail is what to keep
 * beside the class: "" when the class says it all, else the text itself
 * (sq_error_text() gives the same text back from both).
 */
int sq_class_of_legacy(const char *text, bool ok, const char **detail);

#endif

/*
 * cert.h - warnings before a certificate ends: the list of days
 * (cert_warn_days, "30,14,7,1") and the rule of when one is owed. Pure: the
 * caller gives the time left and what was warned already, and stores the
 * answer with the check's record.
 */
#ifndef SQUIRREL_CORE_CERT_H
#define SQUIRREL_CORE_CERT_H

#include <stddef.h>
#include <stdint.h>

#define SQ_CERT_DAYS_MAX 16        /* thresholds of one list */
#define SQ_CERT_DAY_MAX 365        /* the largest threshold, in days */
#define SQ_CERT_DAYS_TEXT_MAX 64   /* characters of a list (sites.cert_warn_days) */
#define SQ_CERT_DAYS_DEFAULT "30,14,7,1"

/* A list of thresholds in days, largest first, each once. */
struct sq_cert_days {
	int n;
	int day[SQ_CERT_DAYS_MAX];
};

/*
 * Parses "30,14,7,1": whole days from 1 to 365, a comma between them, no
 * space, in any order (kept largest first, a repeated one once), at most
 * SQ_CERT_DAYS_MAX. 0, or -1 with the reason in why ("400: a day must be
 * from 1 to 365"); out is set only on success.
 */
int sq_cert_days_parse(const char *text, struct sq_cert_days *out, char *why, size_t len);

/* The list as sq_cert_days_parse() reads it, largest first. Returns buf. */
const char *sq_cert_days_text(const struct sq_cert_days *d, char *buf, size_t len);

/* Whole days left before not_after at now (negative once it has ended), rounded down. */
int64_t sq_cert_days_left(int64_t not_after, int64_t now);

/*
 * The rule, for one certificate: a threshold of D days is crossed once
 * at most D days are left (not_after - now <= D * 86400). warned is the
 * nearest threshold already warned for this certificate (0: none; a
 * renewed certificate starts at 0). A warning is owed when the nearest
 * crossed threshold is nearer than warned: one warning, for it, however
 * many were crossed since (a certificate first seen 5 days before its end
 * gets one, for 7, not three). Returns that threshold, or 0 when nothing
 * is owed (none crossed, or the nearest warned already). A certificate
 * already ended owes nothing here: the check failed ("tls expired").
 */
int sq_cert_warn_due(const struct sq_cert_days *d, int64_t not_after, int64_t now, int warned);

#endif

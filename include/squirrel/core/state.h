/*
 * state.h - the per-site state machine: up, degraded (slow), down, and
 * when to tell the owner. Pure logic, no I/O: the caller loads the state, applies one
 * check's verdict and stores the new state with the alert it owes, in one
 * transaction.
 */
#ifndef SQUIRREL_STATE_H
#define SQUIRREL_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum sq_state { SQ_STATE_UNKNOWN = 0, SQ_STATE_UP, SQ_STATE_DOWN, SQ_STATE_DEGRADED };

/*
 * What one check says: failed, succeeded, or succeeded but took longer
 * than the site's slow_ms. A bool converts to the first two.
 */
enum sq_verdict { SQ_CHECK_FAILED = 0, SQ_CHECK_OK = 1, SQ_CHECK_SLOW = 2 };

/* The verdict of a check (ok or not, elapsed ms) under slow_ms; 0 or less: never slow. */
enum sq_verdict state_verdict(bool ok, int64_t elapsed_ms, int slow_ms);

/*
 * What the owner is told, one table (state.c): each kind has its stored
 * code (outbox.kind: "down", "up", "reminder", "degraded", "recovered",
 * "cert", "outage"), the words of a mail's subject ("DOWN", "UP", "STILL
 * DOWN", "DEGRADED", "RECOVERED", "CERTIFICATE", "MONITOR OUTAGE") and of
 * its body ("UP again", "fast again", "certificate ends soon").
 */
enum sq_alert_kind {
	SQ_ALERT_NONE = 0, SQ_ALERT_DOWN, SQ_ALERT_UP, SQ_ALERT_REMINDER,
	SQ_ALERT_DEGRADED, SQ_ALERT_RECOVERED, SQ_ALERT_CERT, SQ_ALERT_OUTAGE,
};

/* The stored code of a kind; NULL for SQ_ALERT_NONE or out of range. */
const char *sq_alert_kind_code(int kind);
/* The kind of a stored code; -1 for any other text. */
int sq_alert_kind_parse(const char *code);
/* "DOWN", "UP", "STILL DOWN", ...; a kind out of range reads as DOWN. */
const char *sq_alert_kind_subject(int kind);
/* The first words of its part of the body: "DOWN", "UP again", "STILL DOWN". */
const char *sq_alert_kind_heading(int kind);

/* What is kept per site between checks (and across restarts). */
struct sq_site_state {
	enum sq_state state;
	int64_t since;            /* unix s: when the state began; 0 unknown */
	int32_t fail_count;       /* consecutive failed checks */
	int64_t fail_since;       /* unix s: the first of them; 0 when none */
	int32_t ok_count;         /* consecutive good checks */
	int64_t last_ok;          /* unix s of the last good check; 0 never */
	int64_t last_alert;       /* unix s of the last DOWN or reminder alert */
	int32_t slow_count;       /* consecutive slow checks */
	int64_t slow_since;       /* unix s: the first of them; 0 when none */
	/*
	 * Dependencies (core/depends.c), kept beside the state machine's
	 * figures and never read by it: whether the latest check was
	 * `parent down`, and the site whose outage it was put down to (0:
	 * none), kept until that site is UP again.
	 */
	bool parent_down;
	int64_t behind;
};

/* The settings in force for a site: per-site columns over [check]. */
struct sq_thresholds {
	int fail_threshold;       /* consecutive failures before DOWN (>= 1) */
	int recover_threshold;    /* consecutive successes before UP (>= 1) */
	int interval_s;           /* normal cadence */
	int retry_interval_s;     /* quick re-check while a change is unconfirmed */
	int remind_every_s;       /* 0: no reminders */
	int slow_ms;              /* a success slower than this is slow; 0: off */
	bool quiet_degraded;      /* alert_degraded = 0: no DEGRADED/RECOVERED alerts */
};

/*
 * A DOWN state begins at the first failed check of the run that confirmed
 * it, not at the confirming check: that is when the outage began, as far
 * as anyone can tell, and the time owners compare with their own logs.
 *
 * DEGRADED is the same rule for slowness: fail_threshold slow checks in a
 * row turn an UP site DEGRADED (dated from the first slow one), and one
 * fast check makes it UP again (RECOVERED). A slow check is a success for
 * everything else: it ends a failure run and counts towards
 * recover_threshold; an outage ends in UP (the owner was told DOWN), and
 * a slow run that goes on then degrades it. A failure ends a slow run;
 * fail_threshold of them make a DEGRADED site DOWN as they would an UP one.
 */
struct sq_transition {
	enum sq_state from, to;
	enum sq_alert_kind alert;
	int64_t down_for;         /* UP alert: seconds since the first failure;
	                             RECOVERED: since the first slow check */
	int next_check_s;         /* when to check this site again */
};

/* Applies one check's verdict (at time now) to st; says what it means. */
void state_apply(struct sq_site_state *st, const struct sq_thresholds *t, enum sq_verdict v,
    int64_t now, struct sq_transition *out);

const char *state_name(enum sq_state s);
/* "unknown", "up", "down" or "degraded"; -1 for anything else. */
int state_parse(const char *s);

#endif

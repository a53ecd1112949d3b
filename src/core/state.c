/*
 * state.c - when a site is up or down, and when its owner hears of it.
 *
 * A state changes only when enough consecutive checks agree: a blip is not
 * an outage. UNKNOWN (a new site) becomes UP at its first good check without
 * an alert, and DOWN after fail_threshold failures with one. While a change
 * is not yet confirmed the site is re-checked after retry_interval instead
 * of a whole interval, so a real outage is confirmed fast. An outage is
 * dated from the first failure of the run that confirmed it.
 *
 * Slowness is a second, milder run beside the failures: fail_threshold
 * slow successes in a row make an UP site DEGRADED, one fast check makes
 * it UP again. It is counted apart so a slow site is never called down.
 */
#include <string.h>

#include "squirrel/core/state.h"

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

enum sq_verdict state_verdict(bool ok, int64_t elapsed_ms, int slow_ms)
{
	if (!ok)
		return SQ_CHECK_FAILED;
	return slow_ms > 0 && elapsed_ms > slow_ms ? SQ_CHECK_SLOW : SQ_CHECK_OK;
}

/* A slow run: counted, and dated from its first check. */
static void count_slow(struct sq_site_state *st, bool slow, int64_t now)
{
	if (!slow) {
		st->slow_count = 0;
		st->slow_since = 0;
		return;
	}
	if (st->slow_count == 0 || st->slow_since <= 0)
		st->slow_since = now;
	if (st->slow_count < INT32_MAX)
		st->slow_count++;
}

/*
 * After a success that changed nothing else: an UP site slow for
 * fail_threshold checks is DEGRADED; a DEGRADED site checked fast is UP.
 */
static void on_speed(struct sq_site_state *st, const struct sq_thresholds *t,
    int64_t now, struct sq_transition *out)
{
	if (st->state == SQ_STATE_DEGRADED && st->slow_count == 0) {
		out->alert = SQ_ALERT_RECOVERED;
		out->down_for = st->since > 0 && now > st->since ? now - st->since : 0;
		st->state = SQ_STATE_UP;
		st->since = now;
	} else if (st->state == SQ_STATE_UP && st->slow_count >= t->fail_threshold) {
		out->alert = SQ_ALERT_DEGRADED;
		out->next_check_s = t->interval_s;
		st->state = SQ_STATE_DEGRADED;
		st->since = st->slow_since;
	} else if (st->state == SQ_STATE_UP && st->slow_count > 0) {
		out->next_check_s = min_int(t->retry_interval_s, t->interval_s);
	}
	if (t->quiet_degraded && (out->alert == SQ_ALERT_DEGRADED ||
	    out->alert == SQ_ALERT_RECOVERED))
		out->alert = SQ_ALERT_NONE;
}

static void on_success(struct sq_site_state *st, const struct sq_thresholds *t,
    bool slow, int64_t now, struct sq_transition *out)
{
	st->fail_count = 0;
	st->fail_since = 0;
	if (st->ok_count < INT32_MAX)
		st->ok_count++;
	st->last_ok = now;
	count_slow(st, slow, now);
	switch (st->state) {
	case SQ_STATE_UNKNOWN:
		/* A new site found up: nothing to tell anyone (unless it is slow). */
		st->state = SQ_STATE_UP;
		st->since = now;
		on_speed(st, t, now, out);
		break;
	case SQ_STATE_UP:
	case SQ_STATE_DEGRADED:
		on_speed(st, t, now, out);
		break;
	case SQ_STATE_DOWN:
		if (st->ok_count >= t->recover_threshold) {
			out->alert = SQ_ALERT_UP;
			out->down_for = st->since > 0 && now > st->since ? now - st->since : 0;
			st->state = SQ_STATE_UP;
			st->since = now;
		} else {
			out->next_check_s = min_int(t->retry_interval_s, t->interval_s);
		}
		break;
	}
}

static void on_failure(struct sq_site_state *st, const struct sq_thresholds *t,
    int64_t now, struct sq_transition *out)
{
	st->ok_count = 0;
	count_slow(st, false, now);
	/* a run begins (or its start was never known: an older database) */
	if (st->fail_count == 0 || st->fail_since <= 0)
		st->fail_since = now;
	if (st->fail_count < INT32_MAX)
		st->fail_count++;
	if (st->state == SQ_STATE_DOWN) {
		if (t->remind_every_s > 0 && now - st->last_alert >= t->remind_every_s) {
			out->alert = SQ_ALERT_REMINDER;
			st->last_alert = now;
		}
		return;
	}
	if (st->fail_count >= t->fail_threshold) {
		out->alert = SQ_ALERT_DOWN;
		st->state = SQ_STATE_DOWN;
		st->since = st->fail_since;
		st->last_alert = now;
	} else {
		out->next_check_s = min_int(t->retry_interval_s, t->interval_s);
	}
}

void state_apply(struct sq_site_state *st, const struct sq_thresholds *t, enum sq_verdict v,
    int64_t now, struct sq_transition *out)
{
	memset(out, 0, sizeof(*out));
	out->from = st->state;
	out->next_check_s = t->interval_s;
	if (v != SQ_CHECK_FAILED)
		on_success(st, t, v == SQ_CHECK_SLOW, now, out);
	else
		on_failure(st, t, now, out);
	out->to = st->state;
}

const char *state_name(enum sq_state s)
{
	switch (s) {
	case SQ_STATE_UP:
		return "up";
	case SQ_STATE_DOWN:
		return "down";
	case SQ_STATE_DEGRADED:
		return "degraded";
	default:
		return "unknown";
	}
}

int state_parse(const char *s)
{
	if (strcmp(s, "unknown") == 0)
		return SQ_STATE_UNKNOWN;
	if (strcmp(s, "up") == 0)
		return SQ_STATE_UP;
	if (strcmp(s, "down") == 0)
		return SQ_STATE_DOWN;
	if (strcmp(s, "degraded") == 0)
		return SQ_STATE_DEGRADED;
	return -1;
}

static const struct {
	const char *code, *subject, *heading;
} kinds[] = {
	[SQ_ALERT_DOWN] = { "down", "DOWN", "DOWN" },
	[SQ_ALERT_UP] = { "up", "UP", "UP again" },
	[SQ_ALERT_REMINDER] = { "reminder", "STILL DOWN", "STILL DOWN" },
	[SQ_ALERT_DEGRADED] = { "degraded", "DEGRADED", "DEGRADED (slow)" },
	[SQ_ALERT_RECOVERED] = { "recovered", "RECOVERED", "fast again" },
	[SQ_ALERT_CERT] = { "cert", "CERTIFICATE", "certificate ends soon" },
	[SQ_ALERT_OUTAGE] = { "outage", "MONITOR OUTAGE", "monitor cut off" },
};

#define KIND_LAST ((int)(sizeof(kinds) / sizeof(kinds[0])) - 1)

static bool kind_valid(int kind)
{
	return kind >= SQ_ALERT_DOWN && kind <= KIND_LAST;
}

const char *sq_alert_kind_code(int kind)
{
	return kind_valid(kind) ? kinds[kind].code : NULL;
}

int sq_alert_kind_parse(const char *code)
{
	for (int k = SQ_ALERT_DOWN; code != NULL && k <= KIND_LAST; k++)
		if (strcmp(code, kinds[k].code) == 0)
			return k;
	return -1;
}

const char *sq_alert_kind_subject(int kind)
{
	return kinds[kind_valid(kind) ? kind : SQ_ALERT_DOWN].subject;
}

const char *sq_alert_kind_heading(int kind)
{
	return kinds[kind_valid(kind) ? kind : SQ_ALERT_DOWN].heading;
}

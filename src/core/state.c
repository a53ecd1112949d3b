/*
 * state.c - when a site is up or down, and when its owner hears of it.
 *
 * A state changes only when enough consecutive checks agree: a blip is not
 * an outage. UNKNOWN (a new site) becomes UP at its first good check without
 * an alert, and DOWN after fail_threshold failures with one. While a change
 * is not yet confirmed the site is re-checked after retry_interval instead
 * of a whole interval, so a real outage is confirmed fast. An outage is
 * dated from the first failure of the run that confirmed it.
 */
#include <string.h>

#include "squirrel/core/state.h"

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

static void on_success(struct sq_site_state *st, const struct sq_thresholds *t,
    int64_t now, struct sq_transition *out)
{
	st->fail_count = 0;
	st->fail_since = 0;
	if (st->ok_count < INT32_MAX)
		st->ok_count++;
	st->last_ok = now;
	switch (st->state) {
	case SQ_STATE_UNKNOWN:
		/* A new site found up: nothing to tell anyone. */
		st->state = SQ_STATE_UP;
		st->since = now;
		break;
	case SQ_STATE_UP:
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

void state_apply(struct sq_site_state *st, const struct sq_thresholds *t, bool ok,
    int64_t now, struct sq_transition *out)
{
	memset(out, 0, sizeof(*out));
	out->from = st->state;
	out->next_check_s = t->interval_s;
	if (ok)
		on_success(st, t, now, out);
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
	return -1;
}

static const struct {
	const char *code, *subject, *heading;
} kinds[] = {
	[SQ_ALERT_DOWN] = { "down", "DOWN", "DOWN" },
	[SQ_ALERT_UP] = { "up", "UP", "UP again" },
	[SQ_ALERT_REMINDER] = { "reminder", "STILL DOWN", "STILL DOWN" },
};

static bool kind_valid(int kind)
{
	return kind >= SQ_ALERT_DOWN && kind <= SQ_ALERT_REMINDER;
}

const char *sq_alert_kind_code(int kind)
{
	return kind_valid(kind) ? kinds[kind].code : NULL;
}

int sq_alert_kind_parse(const char *code)
{
	for (int k = SQ_ALERT_DOWN; code != NULL && k <= SQ_ALERT_REMINDER; k++)
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

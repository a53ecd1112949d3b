/*
 * test_state.c - the state machine, transition by transition, then every
 * sequence of up to 12 checks against a plain reference model.
 */
#include "squirrel/state.h"
#include "tap.h"

static const struct sq_thresholds defaults = {
	.fail_threshold = 2, .recover_threshold = 1, .interval_s = 60,
	.retry_interval_s = 20, .remind_every_s = 0,
};

static struct sq_transition step(struct sq_site_state *st, const struct sq_thresholds *t,
    bool ok, int64_t now)
{
	struct sq_transition tr;
	state_apply(st, t, ok, now, &tr);
	return tr;
}

static void test_transitions(void)
{
	struct sq_site_state st = { 0 };
	struct sq_transition tr;

	tr = step(&st, &defaults, true, 1000);
	is_int(tr.to, SQ_STATE_UP, "new site found up is up");
	is_int(tr.alert, SQ_ALERT_NONE, "new site found up: no alert");
	is_int(tr.next_check_s, 60, "up: next check after the interval");
	is_int(st.since, 1000, "up since its first check");

	tr = step(&st, &defaults, false, 1060);
	is_int(tr.to, SQ_STATE_UP, "one failure: still up");
	is_int(tr.alert, SQ_ALERT_NONE, "one failure: no alert");
	is_int(tr.next_check_s, 20, "one failure: quick re-check");
	tr = step(&st, &defaults, true, 1080);
	is_int(tr.alert, SQ_ALERT_NONE, "a blip: no alert");
	is_int(st.fail_count, 0, "a success clears the failures");

	step(&st, &defaults, false, 1140);
	tr = step(&st, &defaults, false, 1160);
	is_int(tr.from, SQ_STATE_UP, "from up");
	is_int(tr.to, SQ_STATE_DOWN, "two failures: down");
	is_int(tr.alert, SQ_ALERT_DOWN, "two failures: DOWN alert");
	is_int(tr.next_check_s, 60, "down: back to the interval");
	is_int(st.since, 1160, "down since the confirming check");

	tr = step(&st, &defaults, false, 1220);
	is_int(tr.alert, SQ_ALERT_NONE, "still down, reminders off: no alert");

	tr = step(&st, &defaults, true, 2000);
	is_int(tr.to, SQ_STATE_UP, "one success: up again");
	is_int(tr.alert, SQ_ALERT_UP, "UP alert");
	is_int(tr.down_for, 840, "down for 840 s");

	/* a new site confirmed down alerts */
	struct sq_site_state fresh = { 0 };
	tr = step(&fresh, &defaults, false, 10);
	is_int(tr.to, SQ_STATE_UNKNOWN, "new site, one failure: unknown");
	is_int(tr.next_check_s, 20, "new site, one failure: quick re-check");
	tr = step(&fresh, &defaults, false, 30);
	is_int(tr.to, SQ_STATE_DOWN, "new site, two failures: down");
	is_int(tr.alert, SQ_ALERT_DOWN, "new site confirmed down: alert");

	/* fail_threshold 1: the first failure is an outage */
	struct sq_thresholds one = defaults;
	one.fail_threshold = 1;
	struct sq_site_state s1 = { 0 };
	tr = step(&s1, &one, false, 5);
	is_int(tr.alert, SQ_ALERT_DOWN, "fail_threshold 1: alert at once");
}

static void test_reminders(void)
{
	struct sq_thresholds t = defaults;
	struct sq_site_state st = { 0 };
	t.remind_every_s = 300;

	step(&st, &t, false, 1000);
	step(&st, &t, false, 1020);
	is_int(st.state, SQ_STATE_DOWN, "down");
	is_int(step(&st, &t, false, 1100).alert, SQ_ALERT_NONE, "no reminder before remind_every");
	is_int(step(&st, &t, false, 1320).alert, SQ_ALERT_REMINDER, "a reminder after remind_every");
	is_int(step(&st, &t, false, 1400).alert, SQ_ALERT_NONE, "the next only after another period");
	is_int(step(&st, &t, false, 1620).alert, SQ_ALERT_REMINDER, "second reminder");
	is_int(step(&st, &t, true, 1700).alert, SQ_ALERT_UP, "then up");
}

static void test_recover_threshold(void)
{
	struct sq_thresholds t = defaults;
	struct sq_site_state st = { 0 };
	t.recover_threshold = 3;
	t.fail_threshold = 1;
	t.retry_interval_s = 90;   /* longer than the interval: the interval wins */

	step(&st, &t, false, 1000);
	struct sq_transition tr = step(&st, &t, true, 1060);
	is_int(tr.to, SQ_STATE_DOWN, "one success of three: still down");
	is_int(tr.next_check_s, 60, "re-check no later than the interval");
	step(&st, &t, true, 1120);
	step(&st, &t, false, 1180);
	is_int(st.ok_count, 0, "a failure resets the successes");
	step(&st, &t, true, 1240);
	step(&st, &t, true, 1300);
	tr = step(&st, &t, true, 1360);
	is_int(tr.alert, SQ_ALERT_UP, "three successes in a row: up");
	is_int(tr.down_for, 360, "down for the whole time");
}

/*
 * Every sequence of up to 12 checks, for thresholds 1-3: the alerts
 * alternate DOWN, UP, DOWN, ... and each comes exactly when the reference
 * model says so.
 */
static void test_exhaustive(void)
{
	long bad = 0, sequences = 0;

	for (int f = 1; f <= 3; f++) {
		for (int r = 1; r <= 3; r++) {
			struct sq_thresholds t = defaults;
			t.fail_threshold = f;
			t.recover_threshold = r;
			for (int len = 1; len <= 12; len++) {
				for (unsigned bits = 0; bits < (1u << len); bits++) {
					struct sq_site_state st = { 0 };
					int model = SQ_STATE_UNKNOWN, fails = 0, oks = 0;
					enum sq_alert_kind last = SQ_ALERT_UP;
					sequences++;
					for (int i = 0; i < len; i++) {
						bool ok = (bits >> i) & 1;
						struct sq_transition tr = step(&st, &t, ok, 100 + i * 60);
						enum sq_alert_kind want = SQ_ALERT_NONE;
						if (ok) {
							fails = 0;
							oks++;
							if (model == SQ_STATE_UNKNOWN)
								model = SQ_STATE_UP;
							else if (model == SQ_STATE_DOWN && oks >= r) {
								model = SQ_STATE_UP;
								want = SQ_ALERT_UP;
							}
						} else {
							oks = 0;
							fails++;
							if (model != SQ_STATE_DOWN && fails >= f) {
								model = SQ_STATE_DOWN;
								want = SQ_ALERT_DOWN;
							}
						}
						if (tr.alert != want || (int)tr.to != model)
							bad++;
						if (tr.alert != SQ_ALERT_NONE) {
							if (tr.alert == last)
								bad++;   /* two DOWNs or two UPs in a row */
							last = tr.alert;
						}
					}
				}
			}
		}
	}
	is_int(bad, 0, "%ld sequences agree with the reference model", sequences);
}

static void test_names(void)
{
	is_str(state_name(SQ_STATE_UP), "up", "name up");
	is_str(state_name(SQ_STATE_DOWN), "down", "name down");
	is_str(state_name(SQ_STATE_UNKNOWN), "unknown", "name unknown");
	is_int(state_parse("down"), SQ_STATE_DOWN, "parse down");
	is_int(state_parse("DOWN"), -1, "parse refuses other spellings");
}

int main(void)
{
	test_transitions();
	test_reminders();
	test_recover_threshold();
	test_exhaustive();
	test_names();
	return tap_done();
}

/*
 * test_cert.c - warnings before a certificate ends: the list of days as
 * people write it (and each refusal in words), and the rule, case by case:
 * each threshold once per certificate, the nearest alone when several were
 * crossed at once, a renewed certificate from the start, nothing once it
 * ended (that is "tls expired", a failed check).
 */
#include <stdio.h>
#include <string.h>

#include "squirrel/core/cert.h"
#include "tap.h"

#define DAY 86400LL

static struct sq_cert_days days(const char *text)
{
	struct sq_cert_days d = { 0 };
	char why[200];
	if (sq_cert_days_parse(text, &d, why, sizeof(why)) < 0)
		printf("# %s: %s\n", text, why);
	return d;
}

static void test_parse(void)
{
	struct sq_cert_days d;
	char why[200], buf[80];

	d = days("30,14,7,1");
	is_int(d.n, 4, "the default has four days");
	is_str(sq_cert_days_text(&d, buf, sizeof(buf)), "30,14,7,1", "the default reads back");
	d = days("1,7,30,7,14");
	is_str(sq_cert_days_text(&d, buf, sizeof(buf)), "30,14,7,1",
	    "any order, largest first, a repeated day once");
	d = days("365");
	is_str(sq_cert_days_text(&d, buf, sizeof(buf)), "365", "one day, the largest allowed");

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty: give days like 30,14,7,1" },
		{ "0", "0: a day must be from 1 to 365" },
		{ "30,400", "400: a day must be from 1 to 365" },
		{ "30,,7", "'30,,7': a day is missing (an empty item)" },
		{ "30,", "'30,' ends with a comma" },
		{ ",30", "',30': a day is missing (an empty item)" },
		{ "30, 7", "' 7' is not a whole number of days" },
		{ "7d", "'7d' is not a whole number of days" },
		{ "-1", "'-1' is not a whole number of days" },
		{ "99999999999999999999", "99999999999999999999: a day must be from 1 to 365" },
		{ "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "more than 16 days" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sq_cert_days keep = { .n = 1, .day = { 9 } };
		why[0] = '\0';
		is_int(sq_cert_days_parse(bad[i].text, &keep, why, sizeof(why)), -1,
		    "'%s' refused", bad[i].text);
		is_str(why, bad[i].why, "'%s': the reason", bad[i].text);
		is_int(keep.n, 1, "'%s' leaves the list as it was", bad[i].text);
	}
}

static void test_rule(void)
{
	struct sq_cert_days d = days("30,14,7,1");
	int64_t now = 1700000000, end;

	end = now + 60 * DAY;
	is_int(sq_cert_warn_due(&d, end, now, 0), 0, "60 days left: nothing crossed");
	end = now + 30 * DAY;
	is_int(sq_cert_warn_due(&d, end, now, 0), 30, "exactly 30 days left: 30 crossed");
	end = now + 30 * DAY + 1;
	is_int(sq_cert_warn_due(&d, end, now, 0), 0, "30 days and a second: not yet");
	end = now + 5 * DAY;
	is_int(sq_cert_warn_due(&d, end, now, 0), 7,
	    "first seen 5 days before its end: one warning, for the nearest (7)");
	is_int(sq_cert_warn_due(&d, end, now, 7), 0, "5 days left, 7 warned: nothing more");
	is_int(sq_cert_warn_due(&d, end, now, 30), 7, "5 days left, only 30 warned: 7 now");
	end = now + 20 * DAY;
	is_int(sq_cert_warn_due(&d, end, now, 0), 30, "a renewed one, 20 days left: for 30");
	is_int(sq_cert_warn_due(&d, end, now, 30), 0, "and once only");
	end = now + 12 * 3600;
	is_int(sq_cert_warn_due(&d, end, now, 7), 1, "half a day left, 7 warned: 1");
	is_int(sq_cert_warn_due(&d, end, now, 1), 0, "half a day left, 1 warned: nothing");
	is_int(sq_cert_warn_due(&d, now, now, 0), 0, "ending now: nothing (the check fails)");
	is_int(sq_cert_warn_due(&d, now - DAY, now, 0), 0, "ended: nothing (tls expired)");

	/* a list changed meanwhile: a farther threshold added later is not said again */
	struct sq_cert_days more = days("30,14,10,7,1");
	end = now + 8 * DAY;
	is_int(sq_cert_warn_due(&more, end, now, 14), 10, "8 days left, 14 warned, 10 added: 10");
	end = now + 5 * DAY;
	is_int(sq_cert_warn_due(&more, end, now, 7), 0, "5 days left, 7 warned, 10 added: nothing");
	struct sq_cert_days one = days("3");
	is_int(sq_cert_warn_due(&one, end, now, 0), 0, "5 days left, the site warns at 3: nothing");

	/* days left, rounded down */
	is_int(sq_cert_days_left(now + 5 * DAY + 3600, now), 5, "5 days and an hour: 5");
	is_int(sq_cert_days_left(now + DAY - 1, now), 0, "under a day: 0");
	is_int(sq_cert_days_left(now - 1, now), -1, "ended a second ago: -1");
}

int main(void)
{
	test_parse();
	test_rule();
	return tap_done();
}

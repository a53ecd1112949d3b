/*
 * test_depends.c - the pure rules of a site behind another: the parents
 * squirrelctl refuses (with the chain in words), the cycles a loaded list
 * ignores (and only those: a site leading into a cycle keeps its parent),
 * when a site counts as down for the sites behind it, the detail.
 */
#include <stdint.h>
#include <string.h>

#include "squirrel/core/depends.h"
#include "tap.h"

/* A table of (id, depends_on) as the sites table would answer. */
struct table {
	const int64_t (*rows)[2];
	size_t n;
};

static int lookup(void *arg, int64_t id, int64_t *parent)
{
	const struct table *t = arg;
	for (size_t i = 0; i < t->n; i++) {
		if (t->rows[i][0] == id) {
			*parent = t->rows[i][1];
			return 1;
		}
	}
	return 0;
}

static void test_refusal(void)
{
	static const int64_t rows[][2] = { { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 0 } };
	struct table t = { rows, 4 };
	char why[200];

	is_int(depends_refusal(4, 3, lookup, &t, why, sizeof(why)), 0, "a parent at the end of a chain");
	is_int(depends_refusal(0, 3, lookup, &t, why, sizeof(why)), 0, "a new site behind one that exists");
	is_int(depends_refusal(1, 3, lookup, &t, why, sizeof(why)), 1, "a cycle of three is refused");
	is_str(why, "that makes a cycle: site 1 -> site 3 -> site 2 -> site 1", "by its chain");
	is_int(depends_refusal(2, 2, lookup, &t, why, sizeof(why)), 1, "a site on itself");
	is_str(why, "site 2 would depend on itself", "in words");
	is_int(depends_refusal(2, 9, lookup, &t, why, sizeof(why)), 1, "a missing parent");
	is_str(why, "there is no site 9", "named");
	is_int(depends_refusal(0, 9, lookup, &t, why, sizeof(why)), 1, "a missing parent, on add too");

	/* a cycle typed by hand that does not pass through the site: not its to refuse, and ends */
	static const int64_t loop[][2] = { { 1, 2 }, { 2, 1 }, { 3, 0 } };
	struct table l = { loop, 3 };
	is_int(depends_refusal(3, 1, lookup, &l, why, sizeof(why)), 1,
	    "a parent caught in a cycle: the walk stops and refuses");
	ok(strstr(why, "longer than 64 sites") != NULL, "as a chain too long: %s", why);
}

static void test_break_cycles(void)
{
	/* 1 <-> 2 a cycle, 3 behind 1 (into the cycle), 4 -> 5 -> 6 -> 4, 7 behind 8 (absent), 9 -> 3 */
	struct sq_site v[] = {
		{ .id = 1, .depends_on = 2 }, { .id = 2, .depends_on = 1 }, { .id = 3, .depends_on = 1 },
		{ .id = 4, .depends_on = 5 }, { .id = 5, .depends_on = 6 }, { .id = 6, .depends_on = 4 },
		{ .id = 7, .depends_on = 8 }, { .id = 9, .depends_on = 3 }, { .id = 10 },
	};
	size_t n = sizeof(v) / sizeof(v[0]);

	is_int(depends_break_cycles(v, n), 5, "five sites in two cycles");
	static const int64_t want[] = { 0, 0, 1, 0, 0, 0, 0, 3, 0 };
	for (size_t i = 0; i < n; i++)
		is_int(v[i].depends_on, want[i], "site %lld: depends_on after the load", (long long)v[i].id);
	is_int(depends_break_cycles(v, 0), 0, "an empty list");
}

static void test_counts_down(void)
{
	struct sq_site_state s = { .state = SQ_STATE_UP };

	ok(!depends_counts_down(&s), "up: not down");
	s.fail_count = 1;
	ok(depends_counts_down(&s), "failing, not confirmed: down for the sites behind it");
	s = (struct sq_site_state){ .state = SQ_STATE_DOWN, .ok_count = 1 };
	ok(depends_counts_down(&s), "DOWN, one good check: still down");
	s = (struct sq_site_state){ .state = SQ_STATE_UP, .parent_down = true };
	ok(depends_counts_down(&s), "itself behind a parent down: down");
}

static void test_detail(void)
{
	char buf[96];

	depends_detail(4, 4, "connect refused", buf, sizeof(buf));
	is_str(buf, "parent down: site 4: connect refused", "the parent's id and error");
	depends_detail(5, 4, "http 503", buf, sizeof(buf));
	is_str(buf, "parent down: site 5, behind site 4: http 503", "deeper: the root named");
	depends_detail(5, 5, "", buf, sizeof(buf));
	is_str(buf, "parent down: site 5: down", "no error known");
}

int main(void)
{
	test_refusal();
	test_break_cycles();
	test_counts_down();
	test_detail();
	return tap_done();
}

/*
 * test_resolve.c - the resolver's window of lookups in flight, alone: it
 * grows while answers come back in time, holds when they come back slow
 * or when it is not in use, halves on a lost query once per round (undone
 * when the query proves slow rather than lost), and stays between
 * RESOLVE_WINDOW_MIN (or the ceiling, if smaller; never under 1) and the
 * ceiling (dns_max_inflight). The resolver on
 * real DNS servers is tests/integration/test_resolve.py.
 */
#include "squirrel/check/resolve.h"
#include "tap.h"

#define BASE 0.001   /* a lookup's time without a queue, seconds */

/* n lookups answered in time, each with the window full. */
static void answer(struct resolve_window *w, int n, double took)
{
	for (int i = 0; i < n; i++) {
		(void)resolve_window_start(w);
		resolve_window_answered(w, took, resolve_window_limit(w));
	}
}

static void test_start(void)
{
	struct resolve_window w;

	resolve_window_init(&w, 200);
	is_int(resolve_window_limit(&w), RESOLVE_WINDOW_START, "starts at %d, not at the ceiling",
	    RESOLVE_WINDOW_START);
	resolve_window_init(&w, 5);
	is_int(resolve_window_limit(&w), 5, "a ceiling under the start: the ceiling");
	resolve_window_init(&w, 1);
	is_int(resolve_window_limit(&w), 1, "ceiling 1: one at a time");
	answer(&w, 100, BASE);
	is_int(resolve_window_limit(&w), 1, "ceiling 1: answers do not raise it");
	resolve_window_init(&w, 0);
	is_int(resolve_window_limit(&w), 1, "ceiling 0 is read as 1");
}

static void test_grow(void)
{
	struct resolve_window w;

	resolve_window_init(&w, 200);
	answer(&w, 16, BASE);
	is_int(resolve_window_limit(&w), 32, "a round of 16 answers in time doubles it");
	answer(&w, 32, BASE);
	is_int(resolve_window_limit(&w), 64, "and the next round doubles it again");
	answer(&w, 1000, BASE);
	is_int(resolve_window_limit(&w), 200, "never above the ceiling");

	resolve_window_init(&w, 200);
	answer(&w, 1, BASE);
	answer(&w, 50, 10 * BASE);
	is_int(resolve_window_limit(&w), 17,
	    "answers ten times slower than the fastest (a queue at the server) hold it");
	answer(&w, 1, BASE);
	is_int(resolve_window_limit(&w), 18, "a fast answer grows it again");

	resolve_window_init(&w, 200);
	for (int i = 0; i < 100; i++) {
		(void)resolve_window_start(&w);
		resolve_window_answered(&w, BASE, 3);
	}
	is_int(resolve_window_limit(&w), 16, "answers while 3 of 16 run (the window unused) hold it");
	for (int i = 0; i < 100; i++) {
		(void)resolve_window_start(&w);
		resolve_window_answered(&w, 0, 16);
	}
	is_int(resolve_window_limit(&w), 16, "an answer that took no time is not timed and holds it");
}

static void test_lost(void)
{
	struct resolve_window w;
	unsigned long long old, seq;

	resolve_window_init(&w, 200);
	answer(&w, 1000, BASE);
	old = resolve_window_start(&w);
	seq = resolve_window_start(&w);
	resolve_window_lost(&w, seq);
	is_int(resolve_window_limit(&w), 100, "a lost query halves it");
	resolve_window_lost(&w, old);
	resolve_window_lost(&w, seq);
	is_int(resolve_window_limit(&w), 100, "more losses of the same round: halved once");
	seq = resolve_window_start(&w);
	resolve_window_lost(&w, seq);
	is_int(resolve_window_limit(&w), 50, "a loss of a lookup started after the halving halves it again");

	answer(&w, 50, BASE);
	is_int(resolve_window_limit(&w), 51, "after a loss, a round of answers adds one, no more");
	answer(&w, 51, BASE);
	is_int(resolve_window_limit(&w), 52, "and the next round one more");

	for (int i = 0; i < 20; i++)
		resolve_window_lost(&w, resolve_window_start(&w));
	is_int(resolve_window_limit(&w), RESOLVE_WINDOW_MIN, "losses take it down to %d, no further",
	    RESOLVE_WINDOW_MIN);
	answer(&w, RESOLVE_WINDOW_MIN, BASE);
	is_int(resolve_window_limit(&w), RESOLVE_WINDOW_MIN + 1, "from there it grows again, one per round");

	resolve_window_init(&w, 8);
	answer(&w, 100, BASE);
	is_int(resolve_window_limit(&w), 8, "ceiling 8: answers take it to 8");
	for (int i = 0; i < 10; i++)
		resolve_window_lost(&w, resolve_window_start(&w));
	is_int(resolve_window_limit(&w), 8, "ceiling 8, under the least: losses leave it at the ceiling");
	resolve_window_init(&w, 1);
	resolve_window_lost(&w, resolve_window_start(&w));
	is_int(resolve_window_limit(&w), 1, "ceiling 1: a loss leaves 1, never 0");
}

static void test_undo(void)
{
	struct resolve_window w;
	unsigned long long a, b, c;

	resolve_window_init(&w, 200);
	answer(&w, 1000, BASE);
	a = resolve_window_start(&w);
	b = resolve_window_start(&w);
	ok(resolve_window_lost(&w, b), "a loss halves it, and says so");
	ok(!resolve_window_lost(&w, a), "a loss of the same round does not, and says so");
	is_int(resolve_window_limit(&w), 100, "halved once");
	resolve_window_undo(&w, a);
	is_int(resolve_window_limit(&w), 100, "the late answer of another lookup undoes nothing");
	resolve_window_undo(&w, b);
	is_int(resolve_window_limit(&w), 200,
	    "the late answer of the query whose loss halved it (slow, not lost) undoes the halving");
	resolve_window_undo(&w, b);
	is_int(resolve_window_limit(&w), 200, "once");
	ok(resolve_window_lost(&w, a), "after the undo, a real loss of that round halves it");
	is_int(resolve_window_limit(&w), 100, "to 100");
	c = resolve_window_start(&w);
	ok(resolve_window_lost(&w, c), "a loss of the next round halves it again");
	resolve_window_undo(&w, a);
	is_int(resolve_window_limit(&w), 50, "an older loss proved slow undoes nothing once another came");
}

int main(void)
{
	test_start();
	test_grow();
	test_lost();
	test_undo();
	return tap_done();
}

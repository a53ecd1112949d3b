/*
 * clock.c - the clocks in the units the code counts in. Each part had its
 * own few lines of clock_gettime() arithmetic; one copy keeps the rounding
 * (down, to the millisecond) the same everywhere a span is compared.
 */
#include <time.h>

#include "squirrel/base/clock.h"

static int64_t ms_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

int64_t clock_wall_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

double clock_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct timespec clock_mono_after(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

void clock_sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

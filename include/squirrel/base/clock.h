/*
 * clock.h - the clocks, read one way: milliseconds since an arbitrary
 * point (monotonic: for spans and deadlines, never set back) or since the
 * epoch (wall: for what is stored and shown).
 */
#ifndef SQUIRREL_CLOCK_H
#define SQUIRREL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ms. Async-signal-safe (a stop handler sets deadlines). */
int64_t clock_mono_ms(void);
/* CLOCK_REALTIME in ms since the epoch. */
int64_t clock_wall_ms(void);
/* CLOCK_MONOTONIC in seconds, to the nanosecond (the resolver's timers). */
double clock_mono_s(void);
/* CLOCK_MONOTONIC ms from now, as the absolute time a monotonic condvar waits for. */
struct timespec clock_mono_after(int64_t ms);
/* Sleeps ms milliseconds (nothing for ms <= 0); a signal may cut it short. */
void clock_sleep_ms(int ms);

#endif

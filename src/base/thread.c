/*
 * thread.c - the background thread of mail delivery and of the reporter:
 * a mutex, a monotonic condition variable, a kick, a stop and a timed
 * wait. Both had their own copy of the same dozen lines; one copy keeps
 * the wake-up and the stop the same for both.
 */
#include <time.h>

#include "squirrel/base/clock.h"
#include "squirrel/base/thread.h"
#include "squirrel/base/util.h"

int bg_start(struct bg_thread *t, void *(*fn)(void *), void *arg, bool kicked)
{
	pthread_condattr_t ca;

	t->kicked = kicked;
	t->stop = false;
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (thread_start(&t->tid, fn, arg) != 0) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
		return -1;
	}
	return 0;
}

void bg_kick(struct bg_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->kicked = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

bool bg_wait(struct bg_thread *t, int64_t ms)
{
	struct timespec until = clock_mono_after(ms);

	while (!t->kicked && !t->stop)
		if (pthread_cond_timedwait(&t->cv, &t->mu, &until) != 0)
			break;
	t->kicked = false;
	return t->stop;
}

void bg_stop(struct bg_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->tid, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
}

/*
 * thread.h - a thread beside the daemon's loop that sleeps until it is
 * kicked, stopped, or its time comes: mail delivery and the reporter.
 *
 * The owner embeds a struct bg_thread, starts it with its main function,
 * and guards its own shared fields with mu. The thread holds mu except
 * while it works:
 *
 *	pthread_mutex_lock(&t->mu);
 *	while (!bg_wait(t, ms)) {
 *		pthread_mutex_unlock(&t->mu);
 *		... work ...
 *		pthread_mutex_lock(&t->mu);
 *	}
 *	pthread_mutex_unlock(&t->mu);
 */
#ifndef SQUIRREL_THREAD_H
#define SQUIRREL_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bg_thread {
	pthread_t tid;
	pthread_mutex_t mu;     /* guards kicked, stop and what the owner shares */
	pthread_cond_t cv;      /* on CLOCK_MONOTONIC: a clock set back cannot stall it */
	bool kicked, stop;
};

/*
 * Sets up mu and cv and runs fn(arg) in a thread with every signal blocked
 * (thread_start). kicked: the first bg_wait returns at once. 0, or -1
 * with nothing left to free.
 */
int bg_start(struct bg_thread *t, void *(*fn)(void *), void *arg, bool kicked);

/* Wakes the thread for a round now. */
void bg_kick(struct bg_thread *t);

/*
 * In the thread, mu held: waits until kicked, stopped or ms have passed,
 * and takes the kick. Returns true when the thread is to stop.
 */
bool bg_wait(struct bg_thread *t, int64_t ms);

/* Asks the thread to stop, waits for it to end, and frees mu and cv. */
void bg_stop(struct bg_thread *t);

#endif

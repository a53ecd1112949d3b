/*
 * util.h - small helpers without a better home.
 */
#ifndef SQUIRREL_UTIL_H
#define SQUIRREL_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * One plain mailbox "local@domain": no spaces, no control characters, no
 * angle brackets, commas or quotes that could smuggle a second recipient.
 * Returns true, or false with the reason in why.
 */
bool email_valid(const char *addr, char *why, size_t whylen);

/*
 * pthread_create() with every signal blocked in the new thread, so that
 * SIGTERM, SIGINT and SIGHUP reach the daemon's own thread: its handler
 * sets a flag and cuts its wait short. Returns 0 or pthread_create's error.
 */
int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif

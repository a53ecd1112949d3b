/*
 * util.h - small helpers without a better home.
 */
#ifndef SQUIRREL_UTIL_H
#define SQUIRREL_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The reason for a failure, formatted into err (len bytes, cut when
 * longer); nothing when err is NULL or len is 0.
 */
void seterr(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* s without its leading and trailing spaces, tabs and carriage returns (in place). */
char *str_trim(char *s);

/*
 * One plain mailbox "local@domain" that can be sent as it is: no spaces,
 * no control characters (C0, DEL, and C1 in UTF-8), no angle brackets,
 * commas or quotes that could smuggle a second recipient, all ASCII (the
 * mail library has no SMTPUTF8: an internationalised domain must be in its
 * ASCII form, which the reason then names). Returns true, or false with
 * the reason in why.
 */
bool email_valid(const char *addr, char *why, size_t whylen);

/*
 * addr as it is stored and sent: an internationalised domain in its ASCII
 * form ("ops@bücher.example" becomes "ops@xn--bcher-kva.example"). Returns
 * true with an address email_valid() accepts in out, or false with the
 * reason in why (a local part outside ASCII has no such form).
 */
bool email_to_ascii(const char *addr, char *out, size_t outlen, char *why, size_t whylen);

/*
 * A host name in the ASCII form resolvers and mail servers take: an
 * internationalised one (IDNA 2008, UTS #46 non-transitional, transitional
 * when that refuses it, as libcurl converts) becomes its punycode; an ASCII
 * one is copied as it is. Returns 0, or -1 with the reason in why.
 */
int idn_to_ascii(const char *name, char *out, size_t outlen, char *why, size_t whylen);

/*
 * pthread_create() with every signal blocked in the new thread, so that
 * SIGTERM, SIGINT and SIGHUP reach the daemon's own thread: its handler
 * sets a flag and cuts its wait short. Returns 0 or pthread_create's error.
 */
int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

/*
 * The one way a program here sets what a signal does: handler (a function,
 * SIG_IGN or SIG_DFL) with nothing else blocked while it runs and no
 * SA_RESTART, so a wait the signal interrupts returns at once (EINTR) and
 * the loop around it sees the flag the handler set.
 */
void signal_set(int sig, void (*handler)(int));

#endif

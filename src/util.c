/*
 * util.c - small helpers without a better home.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "squirrel/util.h"

bool email_valid(const char *addr, char *why, size_t whylen)
{
	const char *at = strchr(addr, '@');
	size_t len = strlen(addr);

	if (len == 0 || len > 254) {
		snprintf(why, whylen, len ? "address longer than 254 bytes" : "empty address");
		return false;
	}
	for (const char *p = addr; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c == 0x7f || strchr("<>,;:\"()[]\\", c) != NULL) {
			snprintf(why, whylen, "address contains %s",
			    c == ' ' ? "a space" : c < 0x20 || c == 0x7f ? "a control character" :
			    "a character not allowed in a plain address");
			return false;
		}
	}
	if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
		snprintf(why, whylen, "not one address of the form local@domain");
		return false;
	}
	if (strchr(at + 1, '.') == NULL && strcmp(at + 1, "localhost") != 0) {
		snprintf(why, whylen, "domain '%s' has no dot", at + 1);
		return false;
	}
	return true;
}

int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

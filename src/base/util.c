/*
 * util.c - small helpers without a better home.
 *
 * An owner's address goes into RCPT TO and the To: header as it is, and
 * the mail library speaks no SMTPUTF8: so an address is accepted only when
 * it can be sent byte for byte, that is all ASCII. An internationalised
 * domain has an ASCII form (its punycode, IDNA 2008 through libidn2, as
 * libcurl converts a site's host): email_to_ascii() gives it, and
 * squirrelctl stores that. A local part outside ASCII has none: refused.
 */
#include <idn2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "squirrel/base/escape.h"
#include "squirrel/base/util.h"

static bool ascii_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

int idn_to_ascii(const char *name, char *out, size_t outlen, char *why, size_t whylen)
{
	size_t len = strlen(name);
	char *ace = NULL;

	if (ascii_only(name, len)) {
		if (len >= outlen) {
			snprintf(why, whylen, "name longer than %zu bytes", outlen - 1);
			return -1;
		}
		memcpy(out, name, len + 1);
		return 0;
	}
	/* libcurl's own conversion: non-transitional, transitional if that refuses it */
	int rc = idn2_lookup_u8((const uint8_t *)name, (uint8_t **)&ace,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_lookup_u8((const uint8_t *)name, (uint8_t **)&ace, IDN2_TRANSITIONAL);
	if (rc != IDN2_OK) {
		snprintf(why, whylen, "not a valid internationalised name (%s)", idn2_strerror(rc));
		return -1;
	}
	len = strlen(ace);
	if (len >= outlen) {
		snprintf(why, whylen, "its ASCII form is longer than %zu bytes", outlen - 1);
		idn2_free(ace);
		return -1;
	}
	memcpy(out, ace, len + 1);
	idn2_free(ace);
	return 0;
}

/*
 * Everything but what an internationalised domain changes: the length,
 * the characters (no control character, C1 ones in UTF-8 included, nothing
 * that is not UTF-8, nothing that could smuggle a second recipient), the
 * shape local@domain, an ASCII local part.
 */
static bool address_shape(const char *addr, char *why, size_t whylen)
{
	const char *at = strchr(addr, '@');
	size_t len = strlen(addr);
	uint32_t cp;

	if (len == 0 || len > 254) {
		snprintf(why, whylen, len ? "address longer than 254 bytes" : "empty address");
		return false;
	}
	for (const char *p = addr; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80) {
			size_t n = utf8_next(p, &cp);
			if (n == 0) {
				snprintf(why, whylen, "address is not UTF-8 (byte %zu)", (size_t)(p - addr) + 1);
				return false;
			}
			if (cp < 0xa0) {
				snprintf(why, whylen, "address contains a control character");
				return false;
			}
			p += n - 1;
			continue;
		}
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
	if (!ascii_only(addr, (size_t)(at - addr))) {
		snprintf(why, whylen, "the local part '%.*s' is not ASCII: mail to it needs SMTPUTF8, "
		    "which squirrel cannot send", (int)(at - addr), addr);
		return false;
	}
	return true;
}

bool email_valid(const char *addr, char *why, size_t whylen)
{
	if (!address_shape(addr, why, whylen))
		return false;
	const char *domain = strchr(addr, '@') + 1;
	if (!ascii_only(domain, strlen(domain))) {
		char ace[256], detail[96];
		if (idn_to_ascii(domain, ace, sizeof(ace), detail, sizeof(detail)) < 0)
			snprintf(why, whylen, "domain '%s' is %s", domain, detail);
		else
			snprintf(why, whylen, "domain '%s' is not ASCII: write it as '%s'", domain, ace);
		return false;
	}
	if (strchr(domain, '.') == NULL && strcmp(domain, "localhost") != 0) {
		snprintf(why, whylen, "domain '%s' has no dot", domain);
		return false;
	}
	return true;
}

bool email_to_ascii(const char *addr, char *out, size_t outlen, char *why, size_t whylen)
{
	char ace[256], detail[96];

	if (!address_shape(addr, why, whylen))
		return false;
	const char *domain = strchr(addr, '@') + 1;
	if (idn_to_ascii(domain, ace, sizeof(ace), detail, sizeof(detail)) < 0) {
		snprintf(why, whylen, "domain '%s' is %s", domain, detail);
		return false;
	}
	int n = snprintf(out, outlen, "%.*s@%s", (int)(domain - 1 - addr), addr, ace);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(why, whylen, "address longer than 254 bytes");
		return false;
	}
	return email_valid(out, why, whylen);
}

void signal_set(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	sigaction(sig, &sa, NULL);
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

void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

char *str_trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * urlshow.c - a site's URL without its password, for everything people
 * and other programs read.
 *
 * Parsed by hand, not by libcurl: what is shown comes from the database,
 * where a row may hold text libcurl refuses, and it must be shown without
 * its password all the same. The authority is read as RFC 3986 and libcurl
 * read it: after "scheme:" and its slashes (libcurl takes one to three),
 * up to the first '/', '?' or '#'; the userinfo is what comes before its
 * last '@', and the password what follows the userinfo's first ':'.
 */
#include <string.h>

#include "squirrel/base/urlshow.h"

/* Where the authority starts: after "scheme:" and its slashes; NULL if no scheme. */
static const char *authority_start(const char *url)
{
	const char *p = url;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (p > url && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')))
		p++;
	if (p == url || *p != ':')
		return NULL;
	p++;
	while (*p == '/')
		p++;
	return p;
}

const char *url_shown(const char *url, char *buf, size_t buflen)
{
	if (url == NULL)
		return NULL;
	const char *auth = authority_start(url);
	if (auth == NULL)
		return url;
	size_t authlen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + authlen; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return url;
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL)
		return url;
	if (buflen == 0)
		return "";
	/* "scheme://user" then, with a user, "@", then the host on */
	size_t head = (size_t)(colon - url);
	const char *tail = colon == auth ? at + 1 : at;
	size_t n = head < buflen - 1 ? head : buflen - 1;
	memcpy(buf, url, n);
	size_t rest = strlen(tail);
	if (rest > buflen - 1 - n)
		rest = buflen - 1 - n;
	memcpy(buf + n, tail, rest);
	buf[n + rest] = '\0';
	return buf;
}

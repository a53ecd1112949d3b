/*
 * validate.c - which urls are checked at all.
 *
 * The url is parsed by libcurl's own URL API, the parser that later
 * fetches it, so a url accepted here is one the probe can fetch as it is
 * written; the few things libcurl forgives (spaces, control bytes, an
 * empty authority it would read as a host) are refused before it sees
 * them. The rule sits on the ground floor because rows of sites,
 * squirrelctl, the Redis wire and the probe all ask it.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"

bool url_valid(const char *url, char *why, size_t whylen)
{
	size_t len = strnlen(url, URL_MAX + 1);
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (len == 0 || len > URL_MAX) {
		snprintf(why, whylen, len ? "url longer than %d bytes" : "empty url", URL_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c == 0x7f) {
			snprintf(why, whylen, "url contains %s at byte %zu",
			    c == ' ' ? "a space" : "a control character", i + 1);
			return false;
		}
	}
	/* libcurl reads "http:///x" as host "x": refuse an empty authority. */
	const char *sep = strstr(url, "://");
	bool web = strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
	if (web && (sep[3] == '/' || sep[3] == '?' || sep[3] == '#')) {
		snprintf(why, whylen, "url has no host");
		return false;
	}
	CURLU *u = curl_url();
	if (u == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		snprintf(why, whylen, "url not understood (%s)", curl_url_strerror(uc));
	} else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(why, whylen, "only http and https urls are checked");
	} else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(why, whylen, "url has no host");
	} else {
		char ace[256], detail[128];
		ok = idn_to_ascii(host, ace, sizeof(ace), detail, sizeof(detail)) == 0;
		if (!ok)
			snprintf(why, whylen, "url host: %s", detail);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

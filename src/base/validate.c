/*
 * validate.c - the gates on the ground floor: which urls are checked at all,
 * and the grammars of names.
 *
 * Urls.
 *
 * The url is parsed by libcurl's own URL API, the parser that later
 * fetches it, so a url accepted here is one the probe can fetch as it is
 * written; the few things libcurl forgives (spaces, control bytes, an
 * empty authority it would read as a host) are refused before it sees
 * them. The rule sits on the ground floor because rows of sites,
 * squirrelctl, the Redis wire and the probe all ask it.
 *
 * Names. A location name is read from the configuration, from --location
 * and from every Redis entry, and
 * echoed in logs and mails: the floors that read it all come here, so the
 * name one part accepts is the name every other part accepts. The same
 * holds for [check] dns_servers: the configuration judges the list and the
 * resolver reads it, with one parser, so no value passes one and fails the
 * other.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"

bool url_valid(const char *url, char *why, size_t whylen)
{
	return url_valid_host(url, why, whylen, NULL);
}

/*
 * One parse serves both the verdict and the parts a check needs, so the
 * probe reads a url once per check, not once per question.
 */
bool url_valid_host(const char *url, char *why, size_t whylen, struct url_host *out)
{
	size_t len = strnlen(url, URL_MAX + 1);
	char *scheme = NULL, *host = NULL, *port = NULL;
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
	} else if (out == NULL) {
		char ace[256], detail[128];
		ok = idn_to_ascii(host, ace, sizeof(ace), detail, sizeof(detail)) == 0;
		if (!ok)
			snprintf(why, whylen, "url host: %s", detail);
	} else {
		char detail[128];
		ok = idn_to_ascii(host, out->host, sizeof(out->host), detail, sizeof(detail)) == 0;
		if (!ok)
			snprintf(why, whylen, "url host: %s", detail);
		else if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
			snprintf(why, whylen, "url not understood");
			ok = false;
		} else {
			out->port = atoi(port);
			out->ascii_differs = strcmp(host, out->host) != 0;
			size_t n = strlen(out->host);
			unsigned char buf[4];
			out->literal = (n > 2 && out->host[0] == '[' && out->host[n - 1] == ']') ||
			    inet_pton(AF_INET, out->host, buf) == 1;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '.';
}

bool name_valid(const char *s, size_t len, size_t max)
{
	if (len == 0 || len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

bool location_valid(const char *s, size_t len)
{
	return name_valid(s, len, LOCATION_NAME_MAX);
}

/* "53": digits only (no sign, no spaces), 1 to 65535. */
static int port_parse(const char *s)
{
	long p = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		p = p * 10 + (*c - '0');
	}
	return p >= 1 && p <= 65535 ? (int)p : -1;
}

int dns_server_parse(const char *s, struct dns_server *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || (hl = (size_t)(end - s - 1)) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
		if (inet_pton(AF_INET6, host, out->addr) != 1)
			return -1;
		out->family = AF_INET6;
	} else if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = AF_INET6;
	} else {
		const char *colon = strchr(s, ':');
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, out->addr) != 1)
			return -1;
		out->family = AF_INET;
		if (colon != NULL)
			port = colon + 1;
	}
	if (port != NULL && (out->port = port_parse(port)) < 0)
		return -1;
	return 0;
}

int dns_servers_parse(const char *list, struct dns_server **out, char *why, size_t whylen)
{
	struct dns_server one, *all = NULL;
	char *copy, *save = NULL;
	int n = 0, cap = 0;

	if (out != NULL)
		*out = NULL;
	if (list == NULL || *list == '\0')
		return 0;
	if ((copy = strdup(list)) == NULL)
		goto nomem;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = str_trim(tok);
		if (*tok == '\0') {
			snprintf(why, whylen, "empty entry in the list");
			goto fail;
		}
		if (dns_server_parse(tok, &one) < 0) {
			snprintf(why, whylen, "'%s' is not an address (IPv4, IPv6, optional :port; "
			    "IPv6 with a port in [brackets])", tok);
			goto fail;
		}
		if (out != NULL && n == cap) {
			int ncap = cap ? cap * 2 : 4;
			struct dns_server *more = realloc(all, (size_t)ncap * sizeof(*more));
			if (more == NULL) {
				free(copy);
				goto nomem;
			}
			all = more;
			cap = ncap;
		}
		if (out != NULL)
			all[n] = one;
		n++;
	}
	free(copy);
	if (out != NULL)
		*out = all;
	return n;
nomem:
	snprintf(why, whylen, "out of memory");
	free(all);
	return -1;
fail:
	free(copy);
	free(all);
	return -1;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

/* A line of a PEM body: base64 characters, '=' padding, a trailing CR or blanks. */
static bool pem_body_line(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/' || c == '='))
			return false;
	}
	return true;
}

static bool line_is(const char *s, size_t n, const char *mark)
{
	size_t m = strlen(mark);
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == m && memcmp(s, mark, m) == 0;
}

/* The certificates of a PEM text, or -1 with the reason (without the file's name). */
static int pem_certs(const char *text, size_t len, char *why, size_t whylen)
{
	int certs = 0, line = 0, begun = 0;   /* begun: the BEGIN line of the open certificate */
	size_t body = 0;

	for (size_t off = 0; off < len;) {
		const char *s = text + off;
		const char *nl = memchr(s, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - off;
		off += n + (nl != NULL);
		line++;
		if (begun == 0) {
			if (line_is(s, n, PEM_BEGIN)) {
				begun = line;
				body = 0;
			}
			continue;
		}
		if (line_is(s, n, PEM_END)) {
			if (body == 0) {
				seterr(why, whylen, "certificate %d is empty (line %d)", certs + 1, line);
				return -1;
			}
			certs++;
			begun = 0;
			continue;
		}
		if (!pem_body_line(s, n)) {
			seterr(why, whylen, "certificate %d is not valid base64 (line %d)", certs + 1, line);
			return -1;
		}
		body += n;
	}
	if (begun != 0) {
		seterr(why, whylen, "certificate %d has no " PEM_END " line", certs + 1);
		return -1;
	}
	if (certs == 0) {
		seterr(why, whylen, "no PEM certificate in it (" PEM_BEGIN ")");
		return -1;
	}
	return certs;
}

/*
 * Opened without blocking (a FIFO named by mistake must not hang the load),
 * then judged a regular file before anything is read.
 */
int ca_file_check(const char *path, char *why, size_t whylen)
{
	struct stat st;
	char reason[160];
	char *text;
	size_t got = 0;
	int fd, certs;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		seterr(why, whylen, "'%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		seterr(why, whylen, "'%s': not a regular file", path);
		return -1;
	}
	if (st.st_size > CA_FILE_MAX) {
		close(fd);
		seterr(why, whylen, "'%s': larger than %d MiB", path, CA_FILE_MAX / (1024 * 1024));
		return -1;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		seterr(why, whylen, "'%s': out of memory", path);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			seterr(why, whylen, "'%s': %s", path, strerror(errno));
			close(fd);
			free(text);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	certs = pem_certs(text, got, reason, sizeof(reason));
	free(text);
	if (certs < 0)
		seterr(why, whylen, "'%s': %s", path, reason);
	return certs;
}

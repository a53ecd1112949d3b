/*
 * validate.c - name grammars on the ground floor. A location name is read
 * from the configuration, from --location and from every Redis entry, and
 * echoed in logs and mails: the floors that read it all come here, so the
 * name one part accepts is the name every other part accepts. The same
 * holds for [check] dns_servers: the configuration judges the list and the
 * resolver reads it, with one parser, so no value passes one and fails the
 * other.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/validate.h"

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

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
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
		tok = trim(tok);
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

/*
 * validate.h - the gates input passes before anything acts on it, on the
 * ground floor so that every layer (the sites' rows, squirrelctl, the
 * configuration, the Redis wire, the probe itself) asks the same rule:
 * urls, the grammar of names that cross the programs' borders, DNS servers.
 */
#ifndef SQUIRREL_VALIDATE_H
#define SQUIRREL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* The longest url a site may have, in bytes. */
#define URL_MAX 4096

/*
 * Checks a url before it is ever fetched: http or https, a host (in its
 * ASCII form when internationalised), no spaces or control characters,
 * at most URL_MAX bytes. Returns true, or false with the reason in why.
 */
bool url_valid(const char *url, char *why, size_t whylen);

/* What a check needs of a url that url_valid() accepts. */
struct url_host {
	char host[256];            /* the host in its ASCII form; an IPv6 literal in [] */
	int port;                  /* the url's, or the scheme's default */
	bool literal;              /* an address, nothing to look up */
	bool ascii_differs;        /* the ASCII form is not the host libcurl reads from the url */
};

/* url_valid(), and when it holds and out is not NULL, the url's host, from one parse. */
bool url_valid_host(const char *url, char *why, size_t whylen, struct url_host *out);

#define LOCATION_NAME_MAX 64   /* a location name's bytes, with its NUL */

/* A character of a name: a letter, a digit, '_', '-' or '.' (ASCII). */
bool name_char(char c);

/* 1 to max-1 bytes, each a name_char(). */
bool name_valid(const char *s, size_t len, size_t max);

/* A location name ([redis] locations, --location): 1 to 63 name characters. */
bool location_valid(const char *s, size_t len);

/* One DNS server of [check] dns_servers. */
struct dns_server {
	int family;                /* AF_INET or AF_INET6 */
	unsigned char addr[16];    /* network order: 4 bytes for IPv4, 16 for IPv6 */
	int port;                  /* 1..65535, or 0 when none is given (53) */
};

/*
 * One entry: "127.0.0.1", "127.0.0.1:5353", "::1" or "[::1]:53" (a port
 * after an IPv6 address needs the brackets); the port is 1 to 65535, in
 * digits only. Returns 0 with the server in *out, or -1.
 */
int dns_server_parse(const char *s, struct dns_server *out);

/*
 * [check] dns_servers: entries separated by commas, spaces and tabs
 * around them ignored, an entry of spaces only refused. Returns how many
 * (0 for an empty list), with them in a malloc'd *out (NULL when out is
 * NULL: only judged), or -1 with the reason in why, naming the entry.
 */
int dns_servers_parse(const char *list, struct dns_server **out, char *why, size_t whylen);

/* The largest [check] ca_file read, in bytes. */
#define CA_FILE_MAX (16 * 1024 * 1024)

/*
 * [check] ca_file: a regular file of at most CA_FILE_MAX bytes holding one
 * or more PEM certificates (-----BEGIN CERTIFICATE----- lines of base64,
 * then -----END CERTIFICATE-----; text around them is allowed, as OpenSSL
 * allows it). Only the form is judged: whether a certificate's contents
 * make sense is the TLS library's to say when a check uses it. Returns
 * how many certificates, or -1 with the reason in why, naming the file.
 */
int ca_file_check(const char *path, char *why, size_t whylen);

#endif

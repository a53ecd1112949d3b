/*
 * validate.h - the gates input passes before anything acts on it, on the
 * ground floor so that every layer (the sites' rows, squirrelctl, the
 * Redis wire, the probe itself) asks the same rule.
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

#endif

/*
 * util.h - small helpers without a better home.
 */
#ifndef SQUIRREL_UTIL_H
#define SQUIRREL_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One plain mailbox "local@domain": no spaces, no control characters, no
 * angle brackets, commas or quotes that could smuggle a second recipient.
 * Returns true, or false with the reason in why.
 */
bool email_valid(const char *addr, char *why, size_t whylen);

#endif

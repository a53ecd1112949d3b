/*
 * validate.h - the grammars of names that cross the programs' borders
 * (configuration, command line, Redis entries), judged in one place.
 */
#ifndef SQUIRREL_VALIDATE_H
#define SQUIRREL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define LOCATION_NAME_MAX 64   /* a location name's bytes, with its NUL */

/* A character of a name: a letter, a digit, '_', '-' or '.' (ASCII). */
bool name_char(char c);

/* 1 to max-1 bytes, each a name_char(). */
bool name_valid(const char *s, size_t len, size_t max);

/* A location name ([redis] locations, --location): 1 to 63 name characters. */
bool location_valid(const char *s, size_t len);

#endif

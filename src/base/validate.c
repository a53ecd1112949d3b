/*
 * validate.c - name grammars on the ground floor. A location name is read
 * from the configuration, from --location and from every Redis entry, and
 * echoed in logs and mails: the floors that read it all come here, so the
 * name one part accepts is the name every other part accepts.
 */
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

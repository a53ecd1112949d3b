/*
 * fuzz_url.c - which urls are checked (url_valid in src/base/validate.c),
 * the gate every url from the database, the command line or Redis passes.
 * A url it accepts is http or https and holds no space or control byte.
 * (libcurl, which parses it and later fetches it, reads "http:/x" as
 * http://x/ too: the scheme is what is asserted, not the slashes.)
 */
#include <strings.h>

#include "fuzz.h"
#include "squirrel/base/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	char *s = fuzz_string(data, size);

	if (s == NULL)
		return 0;
	why[0] = '\0';
	if (url_valid(s, why, sizeof(why))) {
		FUZZ_ASSERT(strncasecmp(s, "http:", 5) == 0 || strncasecmp(s, "https:", 6) == 0,
		    "accepted a url that is not http or https");
		for (const char *p = s; *p; p++)
			FUZZ_ASSERT((unsigned char)*p > 0x20 && *p != 0x7f, "accepted byte %#x",
			    (unsigned char)*p);
	} else {
		FUZZ_ASSERT(why[0] != '\0', "a url refused without a reason");
	}
	free(s);
	return 0;
}

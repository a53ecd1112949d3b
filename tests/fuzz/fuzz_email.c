/*
 * fuzz_email.c - owner addresses (email_valid in src/base/util.c). An address
 * it accepts goes into RCPT TO and To: as it is, so it must be one plain
 * mailbox: one '@', no space, no control byte, nothing that separates or
 * quotes recipients.
 */
#include "fuzz.h"
#include "squirrel/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	char *s = fuzz_string(data, size);

	if (s == NULL)
		return 0;
	why[0] = '\0';
	if (email_valid(s, why, sizeof(why))) {
		const char *at = strchr(s, '@');
		FUZZ_ASSERT(at != NULL && at > s && at[1] != '\0' && strchr(at + 1, '@') == NULL,
		    "accepted '%s': not local@domain", s);
		for (const char *p = s; *p; p++)
			FUZZ_ASSERT((unsigned char)*p > 0x20 && *p != 0x7f && strchr("<>,;\"()\\", *p) == NULL,
			    "accepted byte %#x", (unsigned char)*p);
	} else {
		FUZZ_ASSERT(why[0] != '\0', "an address refused without a reason");
	}
	free(s);
	return 0;
}

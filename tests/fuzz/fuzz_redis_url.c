/*
 * fuzz_redis_url.c - [redis] url and --redis (redis_url_parse in
 * src/scaleout/redis_link.c): any text is read or refused with a reason, and what
 * is shown in log lines never holds the password.
 */
#include "fuzz.h"
#include "squirrel/scaleout/redis_link.h"
#include "squirrel/scaleout/redis_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redis_url u;
	char err[512];
	char *s = fuzz_string(data, size);

	if (s == NULL)
		return 0;
	err[0] = '\0';
	if (redis_url_parse(s, &u, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(u.shown != NULL, "a url read without its shown form");
		FUZZ_ASSERT((u.host != NULL) != (u.path != NULL), "neither or both of host and socket");
		FUZZ_ASSERT(u.path != NULL || (u.port >= 1 && u.port <= 65535), "port %d", u.port);
		/* a password of a few bytes may well be part of the host too */
		if (u.password != NULL && strlen(u.password) >= 8 && u.host != NULL &&
		    strstr(u.host, u.password) == NULL && (u.user == NULL || strstr(u.user, u.password) == NULL))
			FUZZ_ASSERT(strstr(u.shown, u.password) == NULL, "the password is shown: %s", u.shown);
		redis_url_free(&u);
	} else {
		FUZZ_ASSERT(err[0] != '\0', "a url refused without a reason");
	}
	(void)rw_url_has_password(s);
	free(s);
	return 0;
}

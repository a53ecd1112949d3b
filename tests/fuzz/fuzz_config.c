/*
 * fuzz_config.c - the configuration file reader (src/core/config.c) on any
 * bytes: config_load reads a path, so the input is written to a file of
 * our own first. Then config_set on the input cut at its first two
 * newlines (section, key, value), as the command line overrides use it.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "squirrel/core/config.h"

static char path[64];
static int fd = -1;

static void remove_file(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sq_config cfg;
	char err[512];

	if (fd < 0) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%.40s/sq-fuzz-config.XXXXXX", tmp ? tmp : "/tmp");
		if ((fd = mkstemp(path)) < 0) {
			perror(path);
			abort();
		}
		atexit(remove_file);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror(path);
		abort();
	}
	if (config_defaults(&cfg) == 0) {
		err[0] = '\0';
		if (config_load(&cfg, path, err, sizeof(err)) < 0)
			FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL,
			    "a refused file without a reason");
		config_free(&cfg);
	}

	char *s = fuzz_string(data, size);
	if (s == NULL)
		return 0;
	char *key = strchr(s, '\n'), *value = NULL;
	if (key != NULL) {
		*key++ = '\0';
		if ((value = strchr(key, '\n')) != NULL)
			*value++ = '\0';
	}
	if (value != NULL && config_defaults(&cfg) == 0) {
		err[0] = '\0';
		if (config_set(&cfg, s, key, value, err, sizeof(err)) < 0)
			FUZZ_ASSERT(err[0] != '\0', "a refused setting without a reason");
		config_free(&cfg);
	}
	free(s);
	return 0;
}

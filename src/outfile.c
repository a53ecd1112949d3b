/*
 * outfile.c - write to a temporary file beside the target, then rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/log.h"
#include "squirrel/outfile.h"

static void clear(struct outfile *o)
{
	free(o->path);
	free(o->tmp);
	o->f = NULL;
	o->path = o->tmp = NULL;
}

int outfile_open(struct outfile *o, const char *path, mode_t mode)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	int fd = -1;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (dcopy == NULL || bcopy == NULL || o->path == NULL) {
		log_errorx("%s: out of memory", path);
		goto fail;
	}
	const char *dir = dirname(dcopy), *base = basename(bcopy);
	if (*base == '\0' || strcmp(base, "/") == 0 || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0 || path[strlen(path) - 1] == '/') {
		log_errorx("%s: not a file name", path);
		goto fail;
	}
	size_t len = strlen(dir) + strlen(base) + 16;
	if ((o->tmp = malloc(len)) == NULL) {
		log_errorx("%s: out of memory", path);
		goto fail;
	}
	snprintf(o->tmp, len, "%s/.%s.XXXXXX", dir, base);
	if ((fd = mkstemp(o->tmp)) < 0) {
		log_error("%s: cannot create a temporary file beside it", path);
		free(o->tmp);
		o->tmp = NULL;
		goto fail;
	}
	/* mkstemp makes it private; the readers are often other users */
	if (fchmod(fd, mode) < 0 || (o->f = fdopen(fd, "w")) == NULL) {
		log_error("%s: cannot set up %s", path, o->tmp);
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	free(dcopy);
	free(bcopy);
	return 0;
fail:
	free(dcopy);
	free(bcopy);
	clear(o);
	return -1;
}

void outfile_abort(struct outfile *o)
{
	if (o->f != NULL)
		fclose(o->f);
	if (o->tmp != NULL)
		unlink(o->tmp);
	clear(o);
}

/* A rename is durable once the directory holding it is synced. */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int outfile_commit(struct outfile *o)
{
	FILE *f = o->f;
	int err = 0;

	o->f = NULL;
	if (ferror(f))
		err = EIO;
	else if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		err = errno;
	if (fclose(f) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		errno = err;
		log_error("%s: cannot write %s", o->path, o->tmp);
		outfile_abort(o);
		return -1;
	}
	if (rename(o->tmp, o->path) < 0) {
		log_error("%s: cannot rename %s into place", o->path, o->tmp);
		outfile_abort(o);
		return -1;
	}
	sync_dir(o->path);
	clear(o);
	return 0;
}

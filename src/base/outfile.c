/*
 * outfile.c - write to a temporary file beside the target, then rename.
 *
 * Only a regular file is replaced, or a new one made: a rename over a FIFO,
 * a symbolic link, a socket or a device node would put a regular file in
 * its place (as root, /dev/full became one), and never do what the path
 * was made for. The target is looked at before writing and again just
 * before the rename.
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

#include "squirrel/base/log.h"
#include "squirrel/base/outfile.h"

/* 0 when path is a regular file or nothing yet; -1, logged, otherwise. */
static int target_ok(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("%s: cannot look at it", path);
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	log_errorx("%s: is %s, not a regular file: squirrel replaces only a regular file or "
	    "makes a new one", path, S_ISLNK(st.st_mode) ? "a symbolic link" :
	    S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
	    S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) ? "a character device" :
	    S_ISBLK(st.st_mode) ? "a block device" : "something else");
	return -1;
}

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
	if (target_ok(path) < 0)
		goto fail;
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
	if (target_ok(o->path) < 0) {
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

/*
 * secret.c - files that hold a secret. Like ssh with a private key, a file
 * is refused when group or others have any access to it: a password that
 * other users can read is no longer a secret. The mailer reads its password
 * here, and squirreld applies the same rule to a configuration file with a
 * password in it; one copy keeps the two from drifting apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/util.h"
#include "squirrel/base/secret.h"

bool secret_mode_shared(mode_t mode)
{
	return (mode & 077) != 0;
}

int secret_file_shared(const char *path, unsigned *mode)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	*mode = (unsigned)(st.st_mode & 07777);
	return secret_mode_shared(st.st_mode) ? 1 : 0;
}

/* One line; a final newline (LF or CRLF) is not part of the password. */
char *secret_file_read(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		seterr(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		seterr(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s %s is not a regular file", what, path);
		goto fail;
	}
	if (secret_mode_shared(st.st_mode)) {
		seterr(err, errlen, "%s %s has mode %04o: group or others may access it; "
		    "it must be readable by its owner only (chmod 600 %s)",
		    what, path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	buf = malloc(SECRET_MAX + 2);
	if (buf == NULL) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	while (len <= SECRET_MAX && (n = read(fd, buf + len, SECRET_MAX + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "%s %s: %s", what, path, strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > SECRET_MAX) {
		seterr(err, errlen, "%s %s is longer than %d bytes", what, path, SECRET_MAX);
		goto fail;
	}
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0) {
		seterr(err, errlen, "%s %s is empty", what, path);
		goto fail;
	}
	if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL) {
		seterr(err, errlen, "%s %s must hold the password on one line", what, path);
		goto fail;
	}
	close(fd);
	return buf;
fail:
	if (buf != NULL) {
		explicit_bzero(buf, SECRET_MAX + 2);
		free(buf);
	}
	close(fd);
	return NULL;
}


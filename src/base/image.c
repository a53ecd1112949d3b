/*
 * image.c - a picture read for inlining as a data: URI.
 *
 * The type comes from the file's first bytes: a file named logo.png that
 * holds HTML is refused, and the browser is never asked to guess. An SVG
 * inlined as an <img> runs no script, so it is as safe as the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/image.h"

static void seterr(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* Text that opens, after blanks and an XML declaration or comments, with <svg. */
static bool is_svg(const unsigned char *p, size_t n)
{
	const char *s = (const char *)p, *end = s + n;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	for (int steps = 0; steps < 64 && s < end; steps++) {
		while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
			s++;
		if (end - s >= 4 && strncasecmp(s, "<svg", 4) == 0)
			return true;
		const char *close = NULL;
		if (end - s >= 2 && (s[1] == '?' || s[1] == '!') && s[0] == '<')
			close = memchr(s, '>', (size_t)(end - s));
		if (close == NULL)
			return false;
		s = close + 1;
	}
	return false;
}

static const char *mime_of(const unsigned char *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (is_svg(p, n))
		return "image/svg+xml";
	return NULL;
}

int image_load(const char *path, struct image *img, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	memset(img, 0, sizeof(*img));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		seterr(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		seterr(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size <= 0 || st.st_size > IMAGE_MAX) {
		seterr(why, whylen, "%s: %lld bytes; a picture to inline is 1 to %d bytes", path,
		    (long long)st.st_size, IMAGE_MAX);
		close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size, got = 0;
	unsigned char *data = malloc(len);
	if (data == NULL) {
		seterr(why, whylen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < len) {
		ssize_t r = read(fd, data + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			seterr(why, whylen, "%s: %s", path, r < 0 ? strerror(errno) : "shorter than it was");
			free(data);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	const char *mime = mime_of(data, len);
	if (mime == NULL) {
		seterr(why, whylen, "%s: not a PNG, JPEG, GIF, WebP or SVG picture (by its first bytes)",
		    path);
		free(data);
		return -1;
	}
	img->mime = mime;
	img->data = data;
	img->len = len;
	return 0;
}

void image_free(struct image *img)
{
	free(img->data);
	memset(img, 0, sizeof(*img));
}

int image_check(const char *path, char *why, size_t whylen)
{
	struct image img;

	if (image_load(path, &img, why, whylen) < 0)
		return -1;
	image_free(&img);
	return 0;
}

void base64_write(FILE *f, const unsigned char *p, size_t n)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[0] = al[(v >> 18) & 63];
		out[1] = al[(v >> 12) & 63];
		out[2] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? al[v & 63] : '=';
		fwrite(out, 1, 4, f);
	}
}

void image_write_uri(FILE *f, const struct image *img)
{
	fprintf(f, "data:%s;base64,", img->mime);
	base64_write(f, img->data, img->len);
}

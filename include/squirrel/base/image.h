/*
 * image.h - a picture a page inlines (the status page's logo): read whole,
 * its type told by its first bytes, not its name, and written as a data:
 * URI so the page stays one file that loads nothing.
 */
#ifndef SQUIRREL_IMAGE_H
#define SQUIRREL_IMAGE_H

#include <stddef.h>
#include <stdio.h>

/* The largest picture inlined: a logo, not a photograph. */
#define IMAGE_MAX (256 * 1024)

struct image {
	const char *mime;        /* "image/png", ... */
	unsigned char *data;
	size_t len;
};

/*
 * Reads path into img: a PNG, JPEG, GIF, WebP or SVG file of at most
 * IMAGE_MAX bytes. 0, or -1 with why saying what is wrong (nothing held).
 */
int image_load(const char *path, struct image *img, char *why, size_t whylen);
void image_free(struct image *img);

/* image_load, kept to the verdict: 0, or -1 with why. */
int image_check(const char *path, char *why, size_t whylen);

/* Writes "data:MIME;base64,..." to f. */
void image_write_uri(FILE *f, const struct image *img);

/* The standard base64 of n bytes to f, padded. */
void base64_write(FILE *f, const unsigned char *p, size_t n);

#endif

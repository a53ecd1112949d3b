/*
 * fuzz.h - what the harnesses share: the input as a C string, the input
 * cut into NUL-separated fields, and a check that aborts (so both
 * libFuzzer and the replay driver stop on a wrong answer, not only on a
 * crash).
 */
#ifndef SQ_FUZZ_H
#define SQ_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* The input with a NUL after it (inner NULs end the string early); free() it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * The input cut at its NULs into at most max fields, each NUL-terminated
 * in a copy (free(*buf) after). Returns the number of fields.
 */
static inline size_t fuzz_fields(const uint8_t *data, size_t size, char **buf, const char **f,
    size_t *len, size_t max)
{
	size_t n = 0, start = 0;

	*buf = fuzz_string(data, size);
	if (*buf == NULL)
		return 0;
	for (size_t i = 0; i <= size && n < max; i++) {
		if (i == size || data[i] == '\0') {
			f[n] = *buf + start;
			len[n] = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

#endif

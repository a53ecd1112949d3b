/*
 * escape.c - escaping values from the database for each place they go.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/escape.h"

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD in UTF-8 */

/*
 * The invisible direction embeddings, overrides and isolates (U+202A..E,
 * U+2066..9): a name holding one displays reversed or out of order, so it
 * can read differently from what it says (the mail's subject drops them
 * too, src/alert/alert.c). Right-to-left text itself, and its marks, are kept.
 */
static bool bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t utf8_next(const char *str, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c, min;
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		c = s[0] & 0x1f;
		n = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		c = s[0] & 0x0f;
		n = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		c = s[0] & 0x07;
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		/* a NUL here is not a continuation byte: never read past the end */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

void html_escape(FILE *f, const char *s)
{
	uint32_t cp;

	while (*s != '\0') {
		size_t n = utf8_next(s, &cp);
		if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp < 0xa0) ||
		    bidi_control(cp)) {
			fputs(REPLACEMENT, f);
			s += n ? n : 1;
			continue;
		}
		switch (cp) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fwrite(s, 1, n, f); break;
		}
		s += n;
	}
}

void json_string(FILE *f, const char *s)
{
	uint32_t cp;

	fputc('"', f);
	while (*s != '\0') {
		size_t n = utf8_next(s, &cp);
		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		switch (cp) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (cp < 0x20)
				fprintf(f, "\\u%04x", (unsigned)cp);
			else
				fwrite(s, 1, n, f);
			break;
		}
		s += n;
	}
	fputc('"', f);
}

void prom_label_escape(FILE *f, const char *s)
{
	uint32_t cp;

	while (*s != '\0') {
		size_t n = utf8_next(s, &cp);
		if (n == 0) {
			fputs(REPLACEMENT, f);
			s++;
			continue;
		}
		if (cp == '\\')
			fputs("\\\\", f);
		else if (cp == '"')
			fputs("\\\"", f);
		else if (cp == '\n')
			fputs("\\n", f);
		else
			fwrite(s, 1, n, f);
		s += n;
	}
}

char *text_clean(const char *s, size_t *width)
{
	size_t len = strlen(s), w = 0, o = 0;
	char *out = malloc(len + 1);
	uint32_t cp;

	if (out == NULL)
		return NULL;
	while (*s != '\0') {
		size_t n = utf8_next(s, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || bidi_control(cp)) {
			out[o++] = '?';
			s += n ? n : 1;
		} else {
			memcpy(out + o, s, n);
			o += n;
			s += n;
		}
		w++;
	}
	out[o] = '\0';
	if (width != NULL)
		*width = w;
	return out;
}

void ascii_line(char *dst, size_t len, const char *src)
{
	size_t o = 0;
	bool space = false;

	if (len == 0)
		return;
	for (; src != NULL && *src != '\0' && o + 1 < len; src++) {
		unsigned char c = (unsigned char)*src;
		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < len)
			dst[o++] = ' ';
		space = false;
		dst[o++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[o] = '\0';
}

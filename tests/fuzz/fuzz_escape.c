/*
 * fuzz_escape.c - the writers of src/base/escape.c on any bytes: HTML keeps no
 * markup character, JSON is one quoted string without a raw control
 * character, a Prometheus label cannot end early or break its line, and
 * text for a terminal holds no control character.
 */
#include "fuzz.h"
#include "squirrel/base/escape.h"

/* What a writer printed, NUL-terminated (free() it). */
static char *written(void (*fn)(FILE *, const char *), const char *s, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	if (f == NULL)
		return NULL;
	fn(f, s);
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *out;
	size_t len, width;

	if (s == NULL)
		return 0;
	if ((out = written(html_escape, s, &len)) != NULL) {
		FUZZ_ASSERT(strpbrk(out, "<>\"'") == NULL, "markup left in HTML: %s", out);
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT((unsigned char)out[i] >= 0x20 || out[i] == '\t' || out[i] == '\n',
			    "HTML holds byte %#x", (unsigned char)out[i]);
		free(out);
	}
	if ((out = written(json_string, s, &len)) != NULL) {
		FUZZ_ASSERT(len >= 2 && out[0] == '"' && out[len - 1] == '"', "not one JSON string: %s", out);
		for (size_t i = 1; i + 1 < len; i++) {
			FUZZ_ASSERT((unsigned char)out[i] >= 0x20, "JSON holds byte %#x", (unsigned char)out[i]);
			if (out[i] == '\\')
				i++;      /* the escaped character */
			else
				FUZZ_ASSERT(out[i] != '"', "a quote ends the JSON string early: %s", out);
		}
		free(out);
	}
	if ((out = written(prom_label_escape, s, &len)) != NULL) {
		for (size_t i = 0; i < len; i++) {
			FUZZ_ASSERT(out[i] != '\n' && out[i] != '\0', "a label breaks its line");
			if (out[i] == '\\') {
				FUZZ_ASSERT(i + 1 < len && strchr("\\\"n", out[i + 1]) != NULL,
				    "a bad escape in a label: %s", out);
				i++;
			} else {
				FUZZ_ASSERT(out[i] != '"', "a quote ends the label early: %s", out);
			}
		}
		free(out);
	}
	if ((out = text_clean(s, &width)) != NULL) {
		for (const char *p = out; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f, "terminal text holds byte %#x",
			    (unsigned char)*p);
		FUZZ_ASSERT(width <= strlen(out), "width %zu of %zu bytes", width, strlen(out));
		free(out);
	}
	/* utf8_next walks any string to its end, one byte at least each step */
	const char *p = s;
	size_t steps = 0;
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);
		FUZZ_ASSERT(n <= 4 && strnlen(p, n) == n, "utf8_next steps %zu past the end", n);
		p += n ? n : 1;
		steps++;
	}
	FUZZ_ASSERT(steps <= size, "more characters than bytes");
	free(s);
	return 0;
}

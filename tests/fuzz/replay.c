/*
 * replay.c - a main() for the fuzz harnesses where there is no libFuzzer
 * (GCC, and the CI, which has only what scripts/deps.sh installs). It runs
 * every file of the corpus directories (or files) given, then a bounded
 * number of deterministic mutations of them, so `meson test --suite fuzz`
 * is a short, repeatable fuzz run under whatever sanitizers the build has.
 * The long run is libFuzzer's own (tests/fuzz/README.md).
 *
 *   fuzz-NAME-replay [-runs=N] [-seed=N] DIR_OR_FILE...
 *
 * A crash is the sanitizer's report and abort(); a harness that finds an
 * input wrong aborts the same way. Before each mutated input runs, its
 * number is known: SQ_FUZZ_SAVE=PATH writes each input there first, so
 * the last one written is the one that crashed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 8192
#define MAX_SEEDS 512

struct seed {
	uint8_t *data;
	size_t len;
};

static struct seed seeds[MAX_SEEDS];
static size_t nseeds;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	/* xorshift64*: the same mutations on every machine */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static size_t below(size_t n)
{
	return n == 0 ? 0 : (size_t)(next() % n);
}

static int read_file(const char *path, struct seed *out)
{
	FILE *f = fopen(path, "rb");
	uint8_t buf[FUZZ_MAX_INPUT];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: cannot open\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	out->data = malloc(n ? n : 1);
	if (out->data == NULL)
		return -1;
	memcpy(out->data, buf, n);
	out->len = n;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir in name order (readdir's order differs between machines). */
static int add_dir(const char *dir)
{
	DIR *d = opendir(dir);
	char *names[MAX_SEEDS];
	size_t n = 0;
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return read_file(dir, &seeds[nseeds]) == 0 ? (nseeds++, 0) : -1;
	while ((e = readdir(d)) != NULL && n < MAX_SEEDS) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		if ((names[n] = malloc(len)) == NULL)
			break;
		snprintf(names[n], len, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (nseeds < MAX_SEEDS && read_file(names[i], &seeds[nseeds]) == 0)
			nseeds++;
		else
			rc = -1;
		free(names[i]);
	}
	return rc;
}

/* Bytes that parsers treat specially. */
static const char *const tokens[] = {
	"\0", "\r\n", "\n", "=", "[", "]", "#", ";", "%", "%0", "%00", "@", ":", "/", "//",
	"://", "\"", "\\", "<", ">", "&", "-", "0", "-1", "9223372036854775807",
	"18446744073709551816", "99999999999999999999999", "\xff", "\xc3\xa9", "\xe2\x80\xae",
	"\xc2\x85", "\xf0\x9f\x90\xbf", "http://", "https://", "redis://", "unix:", "[::1]",
	"xn--", "=?utf-8?", " ", "\t",
};

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	int rounds = 1 + (int)below(4);

	for (int r = 0; r < rounds; r++) {
		size_t pos = below(len + 1);
		switch (below(7)) {
		case 0:             /* flip a bit */
			if (len > 0)
				buf[below(len)] ^= (uint8_t)(1u << below(8));
			break;
		case 1:             /* a random byte */
			if (len > 0)
				buf[below(len)] = (uint8_t)next();
			break;
		case 2: {           /* delete a run */
			size_t n = below(len - (pos < len ? pos : len) + 1);
			if (pos < len) {
				memmove(buf + pos, buf + pos + n, len - pos - n);
				len -= n;
			}
			break;
		}
		case 3: {           /* insert a token */
			const char *t = tokens[below(sizeof(tokens) / sizeof(tokens[0]))];
			size_t n = t[0] == '\0' ? 1 : strlen(t);
			if (len + n <= cap) {
				memmove(buf + pos + n, buf + pos, len - pos);
				memcpy(buf + pos, t, n);
				len += n;
			}
			break;
		}
		case 4: {           /* repeat a chunk of itself */
			if (len == 0)
				break;
			size_t from = below(len), n = 1 + below(len - from);
			if (len + n <= cap) {
				memmove(buf + pos + n, buf + pos, len - pos);
				memmove(buf + pos, buf + (from < pos ? from : from + n), n);
				len += n;
			}
			break;
		}
		case 5: {           /* splice in part of another seed */
			const struct seed *s = &seeds[below(nseeds)];
			if (s->len == 0)
				break;
			size_t from = below(s->len), n = 1 + below(s->len - from);
			if (len + n <= cap) {
				memmove(buf + pos + n, buf + pos, len - pos);
				memcpy(buf + pos, s->data + from, n);
				len += n;
			}
			break;
		}
		default:            /* cut the tail */
			len = pos;
			break;
		}
	}
	return len;
}

static void save(const char *path, const uint8_t *data, size_t len)
{
	FILE *f;

	if (path == NULL || (f = fopen(path, "wb")) == NULL)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	long runs = 2000;
	const char *keep = getenv("SQ_FUZZ_SAVE");
	static uint8_t buf[FUZZ_MAX_INPUT];
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strncmp(argv[i], "-runs=", 6) == 0)
			runs = strtol(argv[i] + 6, NULL, 10);
		else if (strncmp(argv[i], "-seed=", 6) == 0)
			rng = strtoull(argv[i] + 6, NULL, 10) | 1;
		else {
			fprintf(stderr, "usage: %s [-runs=N] [-seed=N] DIR_OR_FILE...\n", argv[0]);
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "usage: %s [-runs=N] [-seed=N] DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (; i < argc; i++)
		if (add_dir(argv[i]) < 0)
			return 1;
	if (nseeds == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	for (size_t s = 0; s < nseeds; s++) {
		save(keep, seeds[s].data, seeds[s].len);
		LLVMFuzzerTestOneInput(seeds[s].data, seeds[s].len);
	}
	for (long r = 0; r < runs; r++) {
		const struct seed *s = &seeds[below(nseeds)];
		memcpy(buf, s->data, s->len);
		size_t len = mutate(buf, s->len, sizeof(buf));
		save(keep, buf, len);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%zu inputs of the corpus and %ld mutations of them: no crash\n", nseeds, runs);
	for (size_t s = 0; s < nseeds; s++)
		free(seeds[s].data);
	return 0;
}

/*
 * badge.c - a site's badge, in the two-part flat style people know from
 * project READMEs: the label on grey, the value on the state's colour,
 * white text over a faint shadow, rounded corners.
 *
 * No font is measured here: a text's width is estimated from Verdana's
 * advance widths at 11 px (the font the badge names first), and each text
 * carries textLength with lengthAdjust="spacingAndGlyphs", so whatever
 * font the viewer has, the text is stretched or squeezed to its box and
 * never overflows it.
 *
 * badge_write() rewrites a badge only when its bytes changed: the daemon
 * writes every badge every minute, and a thousand unchanged badges should
 * cost a thousand small reads, not a thousand files synced and renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/escape.h"
#include "squirrel/base/log.h"
#include "squirrel/base/outfile.h"
#include "squirrel/report/badge.h"

#define BADGE_PAD 5             /* px each side of a text */
#define BADGE_EM 2048           /* Verdana's units per em */
#define BADGE_FONT_PX 11

/* Verdana's advance widths (units per 2048) for ' ' .. '~'. */
static const unsigned short verdana[95] = {
	720, 824, 1063, 1706, 1304, 2226, 1490, 550, 909, 909,    /*  !"#$%&'() */
	1304, 1706, 745, 924, 745, 1294, 1304, 1304, 1304, 1304,  /* *+,-./0123 */
	1304, 1304, 1304, 1304, 1304, 1304, 924, 924, 1706, 1706, /* 456789:;<= */
	1706, 1118, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1579, /* >?@ABCDEFG */
	1540, 862, 925, 1419, 1142, 1726, 1532, 1612, 1235, 1612, /* HIJKLMNOPQ */
	1424, 1401, 1237, 1500, 1401, 2025, 1403, 1239, 1401, 909, /* RSTUVWXYZ[ */
	1294, 909, 1706, 1304, 1304, 1229, 1263, 1067, 1263, 1212, /* \]^_`abcde */
	720, 1263, 1296, 562, 690, 1194, 562, 1993, 1296, 1217,   /* fghijklmno */
	1263, 1263, 874, 1042, 807, 1296, 1178, 1679, 1178, 1178, /* pqrstuvwxy */
	1051, 1300, 909, 1300, 1706,                              /* z{|}~ */
};

static const char *const colours[] = {
	[SQ_STATE_UNKNOWN] = "#9f9f9f",
	[SQ_STATE_UP] = "#4c1",
	[SQ_STATE_DOWN] = "#e05d44",
	[SQ_STATE_DEGRADED] = "#dfb317",
};

/* The width of one character in units: a wide one for CJK and beyond, an average one else. */
static unsigned char_units(uint32_t cp)
{
	if (cp >= 0x20 && cp <= 0x7e)
		return verdana[cp - 0x20];
	if (cp >= 0x2e80)
		return BADGE_EM;
	return 1304;
}

/* A text's estimated width in px at 11 px, rounded up; bytes not UTF-8 count as U+FFFD. */
static int text_px(const char *s)
{
	uint64_t units = 0;
	uint32_t cp;

	while (*s != '\0') {
		size_t n = utf8_next(s, &cp);
		units += n == 0 ? 1304 : char_units(cp);
		s += n ? n : 1;
	}
	return (int)((units * BADGE_FONT_PX + BADGE_EM - 1) / BADGE_EM);
}

/*
 * The label into buf: the name, or "uptime" without one; a name longer
 * than BADGE_LABEL_MAX characters keeps BADGE_LABEL_MAX - 1 of them and an
 * ellipsis. A byte that is not UTF-8 counts as a character (the escaper
 * shows it as U+FFFD), so a cut never splits a character.
 */
static void label_of(const struct page_site *ps, char *buf, size_t len)
{
	const char *name = ps->info->name, *s;
	size_t chars = 0, cut = 0;
	uint32_t cp;

	if (name == NULL || *name == '\0') {
		snprintf(buf, len, "uptime");
		return;
	}
	for (s = name; *s != '\0'; chars++) {
		size_t n = utf8_next(s, &cp);
		s += n ? n : 1;
		if (chars + 1 == BADGE_LABEL_MAX - 1)
			cut = (size_t)(s - name);
	}
	if (chars <= BADGE_LABEL_MAX)
		cut = (size_t)(s - name);
	if (cut + 4 > len)
		cut = 0;   /* cannot happen with the caller's buffer */
	memcpy(buf, name, cut);
	if (chars > BADGE_LABEL_MAX)
		memcpy(buf + cut, "\xe2\x80\xa6", 4);   /* U+2026 and the NUL */
	else
		buf[cut] = '\0';
}

/*
 * The value: the state's name and the uptime of 30 days, cut to two
 * decimals without trailing zeros ("up 99.98%", "down 97.1%", "up 100%"),
 * never rounded up to 100; the name alone when nothing was watched.
 */
static void value_of(const struct page_site *ps, char *buf, size_t len)
{
	int64_t up = ps->d30.up_s < 0 ? 0 : ps->d30.up_s;
	int64_t down = ps->d30.down_s < 0 ? 0 : ps->d30.down_s, total = up + down, h;
	const char *state = page_state_name(ps->info->state);
	char pct[32];

	if (total <= 0 || total < up) {
		snprintf(buf, len, "%s", state);
		return;
	}
	h = up <= INT64_MAX / 10000 ? up * 10000 / total : up / (total / 10000);
	int n = snprintf(pct, sizeof(pct), "%" PRId64 ".%02" PRId64, h / 100, h % 100);
	while (n > 0 && pct[n - 1] == '0')
		pct[--n] = '\0';
	if (n > 0 && pct[n - 1] == '.')
		pct[--n] = '\0';
	snprintf(buf, len, "%s %s%%", state, pct);
}

/* One text, centred at x (tenths of a px, as shields writes them), its shadow first. */
static void put_text(FILE *f, int x10, int width, const char *s)
{
	fprintf(f, "<text aria-hidden=\"true\" x=\"%d\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\""
	    " transform=\"scale(.1)\" textLength=\"%d\" lengthAdjust=\"spacingAndGlyphs\">",
	    x10, width * 10);
	html_escape(f, s);
	fprintf(f, "</text><text x=\"%d\" y=\"140\" transform=\"scale(.1)\" fill=\"#fff\""
	    " textLength=\"%d\" lengthAdjust=\"spacingAndGlyphs\">", x10, width * 10);
	html_escape(f, s);
	fputs("</text>", f);
}

void badge_render(FILE *f, const struct page_site *ps)
{
	/* BADGE_LABEL_MAX characters of at most 4 bytes, and an ellipsis */
	char label[BADGE_LABEL_MAX * 4 + 8], value[64];
	enum sq_state st = ps->info->state;
	int64_t id = ps->info->id;
	const char *colour = (size_t)st < sizeof(colours) / sizeof(colours[0]) &&
	    colours[st] != NULL ? colours[st] : colours[SQ_STATE_UNKNOWN];

	label_of(ps, label, sizeof(label));
	value_of(ps, value, sizeof(value));
	int lt = text_px(label), vt = text_px(value);
	int lw = lt + 2 * BADGE_PAD, vw = vt + 2 * BADGE_PAD, w = lw + vw;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\""
	    " role=\"img\" aria-label=\"", w);
	html_escape(f, label);
	fputs(": ", f);
	html_escape(f, value);
	fputs("\"><title>", f);
	html_escape(f, label);
	fputs(": ", f);
	html_escape(f, value);
	/* ids of the site's own: badges put inline in one page do not take each other's */
	fprintf(f, "</title>\n<linearGradient id=\"s%" PRId64 "\" x2=\"0\" y2=\"100%%\">"
	    "<stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\""
	    " stop-opacity=\".1\"/></linearGradient>\n", id);
	fprintf(f, "<clipPath id=\"r%" PRId64 "\"><rect width=\"%d\" height=\"20\" rx=\"3\""
	    " fill=\"#fff\"/></clipPath>\n", id, w);
	fprintf(f, "<g clip-path=\"url(#r%" PRId64 ")\"><rect width=\"%d\" height=\"20\""
	    " fill=\"#555\"/><rect x=\"%d\" width=\"%d\" height=\"20\" fill=\"%s\"/>"
	    "<rect width=\"%d\" height=\"20\" fill=\"url(#s%" PRId64 ")\"/></g>\n",
	    id, lw, lw, vw, colour, w, id);
	fputs("<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,"
	    "sans-serif\" text-rendering=\"geometricPrecision\" font-size=\"110\">", f);
	put_text(f, lw * 5, lt, label);
	put_text(f, lw * 10 + vw * 5, vt, value);
	fputs("</g></svg>\n", f);
}

/*
 * Whether the file at path holds exactly len bytes equal to data. Only a
 * regular file is read (never through a link, never blocking on a FIFO);
 * anything else, or a file that cannot be read, counts as different, and
 * outfile_open() says what is wrong with it.
 */
static bool same_content(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	bool same = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == len) {
		char *buf = malloc(len + 1);
		size_t got = 0;
		ssize_t n = 1;
		while (buf != NULL && got < len && n > 0) {
			n = read(fd, buf + got, len - got);
			if (n < 0 && errno == EINTR)
				n = 1;
			else if (n > 0)
				got += (size_t)n;
		}
		same = buf != NULL && got == len && memcmp(buf, data, len) == 0;
		free(buf);
	}
	close(fd);
	return same;
}

int badge_write(const char *dir, const struct page_site *ps)
{
	char *data = NULL, *path = NULL;
	size_t len = 0;
	struct outfile o;
	int rc = -1;

	FILE *m = open_memstream(&data, &len);
	if (m == NULL) {
		log_error("%s: the badge of site %" PRId64, dir, ps->info->id);
		return -1;
	}
	badge_render(m, ps);
	if (fclose(m) != 0 || data == NULL) {
		log_errorx("%s: the badge of site %" PRId64 ": out of memory", dir, ps->info->id);
		free(data);
		return -1;
	}
	size_t plen = strlen(dir) + 48;
	if ((path = malloc(plen)) == NULL) {
		log_errorx("%s: the badge of site %" PRId64 ": out of memory", dir, ps->info->id);
		goto done;
	}
	snprintf(path, plen, "%s/site-%" PRId64 ".svg", dir, ps->info->id);
	if (same_content(path, data, len)) {
		rc = 0;
		goto done;
	}
	if (outfile_open(&o, path, 0644) < 0)
		goto done;
	if (fwrite(data, 1, len, o.f) != len) {
		log_error("%s: cannot write", path);
		outfile_abort(&o);
		goto done;
	}
	rc = outfile_commit(&o);
done:
	free(path);
	free(data);
	return rc;
}

/*
 * table.c - one table, two renderings: aligned text or a JSON array.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/escape.h"
#include "squirrel/base/table.h"
#include "squirrel/base/timefmt.h"

struct cell {
	char *text;     /* cleaned for a terminal */
	size_t width;   /* characters in text */
	char *json;     /* a JSON value as it is printed */
};

struct table {
	const struct table_col *cols;
	size_t ncols;
	struct cell *cells;     /* rows * ncols */
	size_t rows, cap;
	size_t next;            /* next cell of the current row */
	bool failed;
};

struct table *table_new(const struct table_col *cols, size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->cols = cols;
	t->ncols = ncols;
	t->next = ncols;
	return t;
}

void table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++) {
		free(t->cells[i].text);
		free(t->cells[i].json);
	}
	free(t->cells);
	free(t);
}

void table_row(struct table *t)
{
	if (t->rows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct cell *nc = realloc(t->cells, ncap * t->ncols * sizeof(*nc));
		if (nc == NULL) {
			t->failed = true;
			t->next = t->ncols;
			return;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	memset(&t->cells[t->rows * t->ncols], 0, t->ncols * sizeof(struct cell));
	t->rows++;
	t->next = 0;
}

/*
 * Takes json (malloc'd; NULL only when its allocation failed) and the text
 * form to clean; put_null() stores a JSON null shown as "-".
 */
static void put_cell(struct table *t, char *json, bool null, const char *text)
{
	if (json == NULL && !null)
		t->failed = true;
	if (t->rows == 0 || t->next >= t->ncols) {
		free(json);
		t->failed = true;
		return;
	}
	struct cell *c = &t->cells[(t->rows - 1) * t->ncols + t->next++];
	c->json = json;
	c->text = text_clean(text, &c->width);
	if (c->text == NULL)
		t->failed = true;
}

static void put(struct table *t, char *json, const char *text)
{
	put_cell(t, json, false, text);
}

static void put_null(struct table *t)
{
	put_cell(t, NULL, true, "-");
}

/* What a FILE * into memory yields, or NULL. */
static char *json_of_string(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	json_string(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *dup_printf_int(int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return strdup(buf);
}

void table_str(struct table *t, const char *s)
{
	if (s == NULL) {
		put_null(t);
		return;
	}
	put(t, json_of_string(s), s);
}

void table_json(struct table *t, char *json, const char *text)
{
	put(t, json, text);
}

void table_str_text(struct table *t, const char *json, const char *text)
{
	if (json == NULL) {
		put_cell(t, NULL, true, text);
		return;
	}
	put(t, json_of_string(json), text);
}

void table_int(struct table *t, int64_t v)
{
	table_int_or_null(t, v, true);
}

void table_int_or_null(struct table *t, int64_t v, bool present)
{
	char buf[32];
	if (!present) {
		put_null(t);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	put(t, strdup(buf), buf);
}

void table_bool(struct table *t, bool v, const char *yes, const char *no)
{
	put(t, strdup(v ? "true" : "false"), v ? yes : no);
}

void table_time(struct table *t, int64_t v)
{
	char buf[32];
	if (v == 0) {
		put_null(t);
		return;
	}
	put(t, dup_printf_int(v), time_format(v, buf, sizeof(buf)));
}

void table_percent(struct table *t, int64_t up, int64_t total)
{
	char text[32], json[32];
	if (total <= 0) {
		put_null(t);
		return;
	}
	snprintf(json, sizeof(json), "%.4f", percent_value(up, total));
	put(t, strdup(json), percent_format(up, total, text, sizeof(text)));
}

void table_num_text(struct table *t, int64_t v, bool present, const char *text)
{
	if (!present) {
		put_cell(t, NULL, true, text != NULL ? text : "-");
		return;
	}
	put(t, dup_printf_int(v), text);
}

/*
 * Spaces are held back until something follows them, so no line ends in
 * blanks when its last cells are empty.
 */
static void put_padded(FILE *f, size_t *pending, const char *s)
{
	if (*s == '\0')
		return;
	for (; *pending > 0; (*pending)--)
		fputc(' ', f);
	fputs(s, f);
}

static const char *heading(const struct table_col *col)
{
	return col->head != NULL ? col->head : col->name;
}

static void print_text(const struct table *t, FILE *f)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	if (w == NULL)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(heading(&t->cols[c]));
		for (size_t r = 0; r < t->rows; r++)
			if (t->cells[r * t->ncols + c].width > w[c])
				w[c] = t->cells[r * t->ncols + c].width;
	}
	size_t lastcol = 0;
	for (size_t c = 0; c < t->ncols; c++)
		if (!t->cols[c].json_only)
			lastcol = c;
	for (size_t r = 0; r <= t->rows; r++) {
		size_t pending = 0;
		for (size_t c = 0; c < t->ncols; c++) {
			bool last = c == lastcol;
			if (t->cols[c].json_only)
				continue;
			const char *s;
			size_t width;
			char head[64];
			if (r == 0) {
				const char *name = heading(&t->cols[c]);
				size_t i = 0;
				for (; name[i] != '\0' && i + 1 < sizeof(head); i++)
					head[i] = name[i] == '_' ? ' ' : (char)toupper((unsigned char)name[i]);
				head[i] = '\0';
				s = head;
				width = i;
			} else {
				const struct cell *cell = &t->cells[(r - 1) * t->ncols + c];
				s = cell->text ? cell->text : "";
				width = cell->width;
			}
			if (t->cols[c].right)
				pending += w[c] - width;
			put_padded(f, &pending, s);
			if (last)
				break;
			if (!t->cols[c].right)
				pending += w[c] - width;
			pending += 2;
		}
		fputc('\n', f);
	}
	free(w);
}

static void print_json(const struct table *t, FILE *f)
{
	fputc('[', f);
	for (size_t r = 0; r < t->rows; r++) {
		fputs(r ? ",\n {" : "{", f);
		bool first = true;
		for (size_t c = 0; c < t->ncols; c++) {
			const struct cell *cell = &t->cells[r * t->ncols + c];
			if (t->cols[c].text_only)
				continue;
			if (!first)
				fputs(", ", f);
			first = false;
			json_string(f, t->cols[c].name);
			fputs(": ", f);
			fputs(cell->json ? cell->json : "null", f);
		}
		fputc('}', f);
	}
	fputs("]\n", f);
}

int table_print(const struct table *t, bool json, FILE *f)
{
	if (t->failed)
		return -1;
	/* a row left short would print cells that were never set */
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			if (t->cells[r * t->ncols + c].text == NULL)
				return -1;
	if (json)
		print_json(t, f);
	else
		print_text(t, f);
	return 0;
}

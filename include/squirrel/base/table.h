/*
 * table.h - squirrelctl's listings: one table, printed either aligned for
 * people or as one JSON array of objects (keys named after the columns)
 * for scripts. Each cell keeps both forms, so the two never disagree.
 */
#ifndef SQUIRREL_TABLE_H
#define SQUIRREL_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct table_col {
	const char *name;    /* the JSON key; its upper case heads the text column */
	const char *head;    /* a shorter heading for the text column, or NULL */
	bool right;          /* numbers read better right-aligned */
	bool json_only;      /* too much for a terminal line: only in --json */
	bool text_only;      /* a summary of other columns: not in --json */
};

struct table;

/* NULL when out of memory. cols must outlive the table. */
struct table *table_new(const struct table_col *cols, size_t ncols);
void table_free(struct table *t);

/* Starts a row; cells then fill it left to right. */
void table_row(struct table *t);

/* A string (NULL: JSON null, "-" in text). */
void table_str(struct table *t, const char *s);
/* A string shown differently in text (e.g. "disabled" for a state). */
void table_str_text(struct table *t, const char *json, const char *text);
void table_int(struct table *t, int64_t v);
/* An integer that may be absent (JSON null, "-" in text). */
void table_int_or_null(struct table *t, int64_t v, bool present);
void table_bool(struct table *t, bool v, const char *yes, const char *no);
/* unix seconds: the number in JSON, a UTC time in text; 0 is null / "-". */
void table_time(struct table *t, int64_t v);
/* up out of total: a percentage number in JSON, "99.95%" in text. */
void table_percent(struct table *t, int64_t up, int64_t total);
/*
 * A number in JSON, text as given (e.g. "120 ms"). Absent: JSON null, and
 * text if not NULL (e.g. "default"), else "-".
 */
void table_num_text(struct table *t, int64_t v, bool present, const char *text);

/*
 * A JSON value written by the caller (an array of objects), taken: json is
 * malloc'ed (NULL: its allocation failed), shown as text in text.
 */
void table_json(struct table *t, char *json, const char *text);

/* Prints the table. -1 when a cell could not be stored (out of memory). */
int table_print(const struct table *t, bool json, FILE *f);

#endif

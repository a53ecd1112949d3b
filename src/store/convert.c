/*
 * convert.c - the rows of schema version 8 and before, whose error was one
 * text ("timeout", "http 503 from a, b", "unknown: no answer from c"),
 * read once into a class code and a detail (schema version 9), with the
 * one table of classes (src/core/classes.c).
 *
 * The outbox is small: it is converted inside the migration, its groups of
 * several locations included. The history can hold tens of millions of
 * checks: the migration only renames and adds columns (no table rewrite),
 * and the rows are converted afterwards, newest first, in transactions of a
 * bounded number of ids, by the reporter thread while the daemon goes on
 * checking. settings.class_backfill_below says where the rows left start,
 * so a restart goes on where the last batch stopped. Until a row is
 * converted its class is NULL, and readers take its text as version 8 did:
 * STORE_LEGACY_UNKNOWN_SQL and store_col_error() are the only places that
 * read it.
 */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/core/check.h"
#include "squirrel/core/classes.h"
#include "squirrel/store/convert.h"
#include "db.h"

/* sq_legacy_class(text, ok): the code of an old error text's class. */
static void legacy_class_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *detail;
	(void)argc;

	int cls = sq_class_of_legacy((const char *)sqlite3_value_text(argv[0]),
	    sqlite3_value_int(argv[1]) != 0, &detail);
	sqlite3_result_int(ctx, sq_class_code(cls));
}

/* sq_legacy_detail(text, ok): the detail kept beside that class. */
static void legacy_detail_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *detail;
	(void)argc;

	sq_class_of_legacy((const char *)sqlite3_value_text(argv[0]), sqlite3_value_int(argv[1]) != 0,
	    &detail);
	sqlite3_result_text(ctx, detail, -1, SQLITE_TRANSIENT);
}

int store_convert_register(struct store *s)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

	if (sqlite3_create_function(s->db, "sq_legacy_class", 2, flags, NULL, legacy_class_fn, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sq_legacy_detail", 2, flags, NULL, legacy_detail_fn, NULL,
	    NULL) != SQLITE_OK) {
		store_error(s, "registering the conversion of old rows");
		return -1;
	}
	return 0;
}

int store_col_class(sqlite3_stmt *st, int class_col, char *detail)
{
	const char *keep;

	if (sqlite3_column_type(st, class_col) != SQLITE_NULL)
		return sq_class_of_code(sqlite3_column_int64(st, class_col));
	/* not converted (a row written by hand): its text read as version 8 wrote it */
	int cls = sq_class_of_legacy(detail, detail[0] == '\0', &keep);
	if (keep[0] == '\0')
		detail[0] = '\0';
	return cls;
}

int store_col_error(sqlite3_stmt *st, int class_col, int status_col, int detail_col, char **out)
{
	char *detail = NULL, buf[512];

	if (store_col_as_text(st, detail_col, false, &detail) < 0)
		return -1;
	/* not converted yet: the text is the old error column, as it was */
	if (sqlite3_column_type(st, class_col) == SQLITE_NULL) {
		*out = detail;
		return 0;
	}
	int cls = sq_class_of_code(sqlite3_column_int64(st, class_col));
	/* a class of a later version: its detail, when it has one, says the most */
	if (cls < 0 && detail[0] != '\0') {
		*out = detail;
		return 0;
	}
	sq_error_text(cls, (int)store_col_int(st, status_col, 0), detail, strlen(detail), buf,
	    sizeof(buf));
	free(detail);
	*out = strdup(buf);
	return *out != NULL ? 0 : -1;
}

/*
 * One group "http 503 from a, b" of an old outbox row, at text, len bytes,
 * as row n of outbox_located. 0, 1 when it is no such group, -1 on error.
 */
static int convert_group(struct store *s, sqlite3_stmt *ins, int64_t id, int n,
    const char *text, size_t len)
{
	char cls[64];
	const char *detail;
	const char *from = memmem(text, len, " from ", 6);

	if (from == NULL || (size_t)(from - text) >= sizeof(cls))
		return 1;
	memcpy(cls, text, (size_t)(from - text));
	cls[from - text] = '\0';
	int err = sq_class_of_legacy(cls, false, &detail);
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, id);
	sqlite3_bind_int(ins, 2, n);
	sqlite3_bind_int(ins, 3, sq_class_code(err));
	sqlite3_bind_int(ins, 4, err == SQ_ERR_HTTP ? atoi(cls + 5) : 0);
	sqlite3_bind_text(ins, 5, from + 6, (int)(len - (size_t)(from + 6 - text)), SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		store_error(s, "converting the outbox");
		return -1;
	}
	return 0;
}

/*
 * The groups of several locations an old outbox row wrote in its error
 * ("http 503 from a, b; timeout from c"), as rows of outbox_located: read
 * once, here, so that the mail never reads them back from text.
 */
int store_convert_outbox(struct store *s)
{
	sqlite3_stmt *rd = NULL, *ins = NULL;
	int rc = -1, step;

	if (store_prepare(s, "SELECT id, detail FROM outbox WHERE class NOT IN (?1, ?2)"
	    " AND typeof(detail) = 'text' AND instr(detail, ' from ') > 0", 0, &rd,
	    "converting the outbox") < 0 ||
	    store_prepare(s, "INSERT INTO outbox_located (alert_id, n, class, http_status, locations)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", 0, &ins, "converting the outbox") < 0)
		goto out;
	sqlite3_bind_int(rd, 1, sq_class_code(SQ_ERR_OTHER));
	sqlite3_bind_int(rd, 2, sq_class_code(SQ_ERR_NO_QUORUM));
	while ((step = sqlite3_step(rd)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(rd, 0);
		const char *p = (const char *)sqlite3_column_text(rd, 1);
		int n = 0;
		while (p != NULL) {
			const char *end = strstr(p, "; ");
			size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
			int r = convert_group(s, ins, id, n++, p, len);
			if (r < 0)
				goto out;
			p = r == 0 && end != NULL ? end + 2 : NULL;
		}
	}
	if (step != SQLITE_DONE) {
		store_error(s, "converting the outbox");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(rd);
	sqlite3_finalize(ins);
	return rc;
}

int store_convert_history(struct store *s, int batch, int64_t *left)
{
	sqlite3_stmt *st;
	int64_t below = -1, lo;

	if (batch <= 0) {
		log_errorx("%s: converting the history: a batch of %d rows makes no sense", s->path,
		    batch);
		return -1;
	}
	if (store_prepare(s, "SELECT class_backfill_below FROM settings WHERE id = 1", 0, &st,
	    "reading the settings") < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		below = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (below < 0) {
		store_error(s, "reading the settings");
		return -1;
	}
	*left = below;
	if (below == 0)
		return 0;
	lo = below > batch ? below - batch : 0;
	if (store_exec(s, "BEGIN IMMEDIATE", "converting the history") < 0)
		return -1;
	if (store_run(s, "converting the history", NULL,
	    "UPDATE checks SET class = sq_legacy_class(detail, ok), detail = sq_legacy_detail(detail, ok)"
	    " WHERE id >= ?1 AND id < ?2 AND class IS NULL", "II", lo, below) < 0 ||
	    store_run(s, "converting the history", NULL,
	    "UPDATE check_locations SET class = sq_legacy_class(detail, ok),"
	    " detail = sq_legacy_detail(detail, ok)"
	    " WHERE check_id >= ?1 AND check_id < ?2 AND class IS NULL", "II", lo, below) < 0 ||
	    /* the next batch starts at the next row down: ids pruned away are skipped */
	    store_run(s, "converting the history", NULL,
	    "UPDATE settings SET class_backfill_below ="
	    " coalesce((SELECT max(id) + 1 FROM checks WHERE id < ?1), 0) WHERE id = 1", "I", lo) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (store_exec(s, "COMMIT", "converting the history") < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (store_prepare(s, "SELECT class_backfill_below FROM settings WHERE id = 1", 0, &st,
	    "reading the settings") < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		*left = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/*
 * db.c - the helpers every file of the store uses: statements prepared,
 * run and collected in one way, columns read strictly or leniently,
 * transactions, and a file opened read-only and immutable. They stand
 * below every other file of the store (store.c, the connection, opens and
 * prepares through the files of each concern), so the store's own
 * includes flow one way too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/base/log.h"
#include "squirrel/store/store.h"
#include "db.h"

/* ---- the helpers of db.h ---- */

void store_error(struct store *s, const char *what)
{
	log_errorx("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int store_exec(struct store *s, const char *sql, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_errorx("%s: %s: %s", s->path, what, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_prepare(struct store *s, const char *sql, unsigned flags, sqlite3_stmt **st,
    const char *what)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, flags, st, NULL) != SQLITE_OK) {
		store_error(s, what);
		*st = NULL;
		return -1;
	}
	return 0;
}

int store_run(struct store *s, const char *what, int *changes, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int n = (int)strlen(types), rc;

	if (store_prepare(s, sql, 0, &st, what) < 0)
		return -1;
	if (sqlite3_bind_parameter_count(st) != n) {
		log_errorx("%s: %s: the statement takes %d values, %d given", s->path, what,
		    sqlite3_bind_parameter_count(st), n);
		sqlite3_finalize(st);
		return -1;
	}
	va_start(ap, types);
	for (int i = 0; i < n; i++) {
		if (types[i] == 'i') {
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
		} else if (types[i] == 'I') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else {
			const char *text = va_arg(ap, const char *);
			if (text != NULL)
				sqlite3_bind_text(st, i + 1, text, -1, SQLITE_STATIC);
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, what);
		return -1;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	return 0;
}

int store_collect(struct store *s, sqlite3_stmt *st, store_row_fn *row, void *arg,
    size_t size, void *list, size_t *n, const char *what)
{
	char *v;
	size_t cap = *n;
	int rc;

	/* list points at a typed pointer: read and written as bytes, whatever its type */
	memcpy(&v, list, sizeof(v));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *nv = realloc(v, ncap * size);
			if (nv == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
			memcpy(list, &v, sizeof(v));
		}
		void *elem = v + *n * size;
		memset(elem, 0, size);
		int kept = row(st, elem, arg);
		if (kept < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (kept == 0)
			(*n)++;
	}
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_NOMEM)
		log_errorx("%s: out of memory %s", s->path, what);
	else
		store_error(s, what);
	return -1;
}

int store_col_text(sqlite3_stmt *st, int col, bool nullable, char **out)
{
	int type = sqlite3_column_type(st, col);
	*out = NULL;
	if (type == SQLITE_NULL && nullable)
		return 0;
	if (type != SQLITE_TEXT)
		return -1;
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	if (t == NULL || memchr(t, '\0', (size_t)n) != NULL)
		return -1;
	*out = strdup((const char *)t);
	return *out == NULL ? -1 : 0;
}

int store_col_as_text(sqlite3_stmt *st, int col, bool nullable, char **out)
{
	*out = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL && nullable)
		return 0;
	const unsigned char *t = sqlite3_column_text(st, col);
	*out = strdup(t != NULL ? (const char *)t : "");
	return *out == NULL ? -1 : 0;
}

int64_t store_col_int(sqlite3_stmt *st, int col, int64_t def)
{
	return sqlite3_column_type(st, col) == SQLITE_INTEGER ? sqlite3_column_int64(st, col) : def;
}

/* ---- why a file cannot be used, in a person's words ---- */

bool store_may(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0;
}

/* The directory path is in ("." for a bare name). */
int store_open_immutable(const char *path, sqlite3 **db)
{
	static const char keep[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._~-";
	size_t n = strlen(path);
	char *uri = malloc(n * 3 + sizeof("file:?immutable=1"));
	char *p = uri;
	int rc;

	*db = NULL;
	if (uri == NULL)
		return -1;
	p += sprintf(p, "file:");
	for (const char *c = path; *c != '\0'; c++) {
		if (strchr(keep, *c) != NULL)
			*p++ = *c;
		else
			p += sprintf(p, "%%%02X", (unsigned char)*c);
	}
	strcpy(p, "?immutable=1");
	rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(*db, 1);
	return 0;
}

/* ---- transactions ---- */

int store_begin(struct store *s)
{
	return store_exec(s, "BEGIN IMMEDIATE", "starting a write");
}

int store_commit(struct store *s)
{
	if (store_tiers_flush(s, (int64_t)time(NULL)) < 0) {
		store_rollback(s);
		return -1;
	}
	if (store_exec(s, "COMMIT", "committing") < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *s)
{
	store_tiers_abort(s);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

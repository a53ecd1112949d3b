/*
 * coordinator.c - the redis coordinator's runs, one row per stream prefix:
 * the run that started last. Its successor adopts answers of that run
 * alone (an answer naming any other run was sent to nobody here). The
 * table is in the schema from version 9 on (before, it was made on first
 * use, outside the versioned schema).
 */
#include <stdio.h>

#include "squirrel/store/coordinator.h"
#include "db.h"

int store_coordinator_run(struct store *s, const char *prefix, const char *run, char *previous,
    size_t len)
{
	static const char what[] = "keeping the coordinator's run";
	sqlite3_stmt *st;
	int found = 0, rc;

	previous[0] = '\0';
	if (store_begin(s) < 0)
		return -1;
	if (store_prepare(s, "SELECT run FROM coordinator_runs WHERE prefix = ?1", 0, &st, what) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
		snprintf(previous, len, "%s", (const char *)sqlite3_column_text(st, 0));
		found = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(s, what);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (store_run(s, what, NULL, "INSERT OR REPLACE INTO coordinator_runs (prefix, run, started_at)"
	    " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))", "tt", prefix, run) < 0)
		goto fail;
	if (store_commit(s) < 0)
		return -1;
	return found;
fail:
	store_rollback(s);
	previous[0] = '\0';
	return -1;
}

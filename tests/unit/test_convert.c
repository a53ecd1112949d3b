/*
 * test_convert.c - schema 8's history into class codes (src/store/convert.c)
 * on a real SQLite file made at version 8: each batch converts its ids and
 * no more, in its own transaction; a batch goes on after the store is
 * closed and opened again where the last one stopped; ids pruned away are
 * skipped; the locations' answers go with their check.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/store/convert.h"
#include "squirrel/store/store.h"
#include "tap.h"

static int64_t one_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	else
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static const char *one_text(const char *path, const char *sql, char *buf, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(buf, len, "(none)");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

/* Runs sql on path directly, as a person (or version 8) would. */
static int run_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		rc = 0;
	else
		printf("# %s: %s\n", sql, msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

static void test_batches(const char *dir)
{
	char path[256], sql[512], buf[128];
	int64_t left = -1;
	static const char *const texts[] = {
		"", "timeout", "http 503 from a, b", "unknown", "unknown: no answer from c",
		"unknown option",
	};

	snprintf(path, sizeof(path), "%s/v8.db", dir);
	ok(store_create_old(path, 8) == 0, "a database of version 8");
	is_int(one_int(path, "PRAGMA user_version"), 8, "at version 8");
	/* ids 1 to 25; 4 to 13 pruned away */
	for (int i = 1; i <= 25; i++) {
		const char *t = texts[i % 6];
		snprintf(sql, sizeof(sql), "INSERT INTO checks (id, site_id, checked_at, ok, http_status, ms,"
		    " error) VALUES (%d, 1, %d, %d, %d, 5, '%s')", i, 1000 + 60 * i, t[0] == '\0',
		    t[0] == '\0' ? 200 : strncmp(t, "http", 4) == 0 ? 503 : 0, t);
		run_sql(path, sql);
	}
	run_sql(path, "INSERT INTO check_locations (check_id, location, ok, http_status, ms, error)"
	    " VALUES (20, 'a', 0, 503, 5, 'http 503'), (2, 'b', 0, 0, 5, 'timeout')");
	run_sql(path, "DELETE FROM checks WHERE id BETWEEN 4 AND 13");

	struct store *s = store_open(path, 0);
	ok(s != NULL, "opened: migrated");
	if (s == NULL)
		return;
	is_int(one_int(path, "PRAGMA user_version"), store_schema_version(), "at the latest version");
	is_int(one_int(path, "SELECT class_backfill_below FROM settings"), 26, "rows below 26 to convert");
	is_int(one_int(path, "SELECT count(*) FROM checks WHERE class IS NULL"), 15, "none converted yet");
	is_int(store_convert_history(s, 0, &left), -1, "a batch of 0 refused");

	ok(store_convert_history(s, 10, &left) == 0, "a batch of 10");
	is_int(left, 16, "ids 16 to 25 done: the rows below 16 left");
	is_int(one_int(path, "SELECT count(*) FROM checks WHERE class IS NULL"), 5, "ten converted");
	is_int(one_int(path, "SELECT count(*) FROM checks WHERE class IS NULL AND id >= 16"), 0,
	    "the newest ten");
	is_int(one_int(path, "SELECT class FROM check_locations WHERE check_id = 20"), 1,
	    "their locations' answers with them");
	is_int(one_int(path, "SELECT class FROM check_locations WHERE check_id = 2"), -2,
	    "not the older ones'");
	store_close(s);

	s = store_open(path, 0);
	ok(s != NULL && store_convert_history(s, 10, &left) == 0, "opened again, the next batch");
	is_int(left, 4, "ids 6 to 15 done; the next batch starts at 3, past the ids pruned");
	is_int(one_int(path, "SELECT count(*) FROM checks WHERE class IS NULL"), 3, "ids 1 to 3 left");
	ok(s != NULL && store_convert_history(s, 10, &left) == 0, "the last batch");
	is_int(left, 0, "nothing left");
	ok(s != NULL && store_convert_history(s, 10, &left) == 0 && left == 0, "done: a no-op");
	is_int(one_int(path, "SELECT count(*) FROM checks WHERE class IS NULL"), 0, "every check converted");
	is_int(one_int(path, "SELECT count(*) FROM check_locations WHERE class IS NULL"), 0,
	    "every location's answer");
	is_int(one_int(path, "SELECT class FROM checks WHERE id = 15"), 20, "unknown by its code");
	is_str(one_text(path, "SELECT detail FROM checks WHERE id = 15", buf, sizeof(buf)), "", "no detail");
	is_int(one_int(path, "SELECT class FROM checks WHERE id = 16"), 20, "unknown: no answer from c");
	is_str(one_text(path, "SELECT detail FROM checks WHERE id = 16", buf, sizeof(buf)),
	    "unknown: no answer from c", "its detail");
	is_int(one_int(path, "SELECT class FROM checks WHERE id = 17"), 19,
	    "a library's words that begin like unknown stay its words");
	is_str(one_text(path, "SELECT detail FROM checks WHERE id = 17", buf, sizeof(buf)), "unknown option",
	    "kept as the detail");
	is_int(one_int(path, "SELECT class FROM checks WHERE id = 20"), 1, "groups: their class");
	is_str(one_text(path, "SELECT detail FROM checks WHERE id = 20", buf, sizeof(buf)),
	    "http 503 from a, b", "groups: the detail as written");
	is_int(one_int(path, "SELECT count(*) FROM checks WHERE ok = 1 AND (class <> 0 OR detail <> '')"),
	    0, "good checks: class 0, no detail");
	store_close(s);
}

int main(void)
{
	char dir[] = "/tmp/squirrel-convert-XXXXXX", cmd[160];

	if (mkdtemp(dir) == NULL) {
		ok(0, "a temporary directory");
		return tap_done();
	}
	test_batches(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}

/*
 * maintenance.c - the maintenance table: squirrelctl's add, list and
 * remove, and the check path's copy of the windows. The check path looks
 * at maintenance_version once per batch (triggers move it on every change)
 * and reads the table again only when it moved: windows change rarely,
 * checks are many.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/store/maintenance.h"
#include "db.h"

#define WINDOW_COLUMNS \
	"id, site_id, owner_email, all_sites, starts_at, ends_at, day, minute, duration_s, reason"

/* One row; a row inconsistent by hand (the CHECKs off) is skipped with its id. */
static int window_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_window *w = elem;
	(void)arg;

	w->id = sqlite3_column_int64(st, 0);
	w->site_id = store_col_int(st, 1, 0);
	w->all = store_col_int(st, 3, 0) == 1;
	w->from = store_col_int(st, 4, 0);
	w->until = store_col_int(st, 5, 0);
	w->day = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : (int)store_col_int(st, 6, -2);
	w->minute = (int)store_col_int(st, 7, -1);
	w->duration_s = store_col_int(st, 8, 0);
	if (store_col_text(st, 2, true, &w->owner_email) < 0 ||
	    store_col_as_text(st, 9, false, &w->reason) < 0) {
		window_free(w);
		return -1;
	}
	int whom = (w->site_id > 0) + (w->owner_email != NULL) + w->all;
	bool when = w->day < 0 ? w->until > w->from :
	    w->day <= 6 && w->minute >= 0 && w->minute < 1440 && w->duration_s > 0 &&
	    w->duration_s <= WINDOW_DURATION_MAX;
	if (whom != 1 || !when) {
		log_warnx("maintenance window %" PRId64 " is not one squirrel can read (edited by "
		    "hand?); left out", w->id);
		window_free(w);
		return 1;
	}
	return 0;
}

int store_windows(struct store *s, struct sq_window_list *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(s, "SELECT " WINDOW_COLUMNS " FROM maintenance ORDER BY id", 0, &st,
	    "reading the maintenance windows") < 0)
		return -1;
	rc = STORE_COLLECT(s, st, window_row, NULL, out, "reading the maintenance windows");
	sqlite3_finalize(st);
	if (rc < 0)
		window_list_free(out);
	return rc;
}

int store_window_add(struct store *s, const struct sq_window *w, int64_t *id)
{
	static const char *const what = "adding a maintenance window";
	sqlite3_stmt *st;
	int rc;

	if (w->site_id > 0) {
		if (store_prepare(s, "SELECT 1 FROM sites WHERE id = ?1", 0, &st, what) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, w->site_id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return STORE_NOT_FOUND;
		if (rc != SQLITE_ROW) {
			store_error(s, what);
			return -1;
		}
	}
	if (store_prepare(s, "INSERT INTO maintenance (site_id, owner_email, all_sites, starts_at,"
	    " ends_at, day, minute, duration_s, reason) VALUES (nullif(?1, 0), ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9)", 0, &st, what) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, w->site_id);
	if (w->owner_email != NULL)
		sqlite3_bind_text(st, 2, w->owner_email, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, w->all);
	if (w->day < 0) {
		sqlite3_bind_int64(st, 4, w->from);
		sqlite3_bind_int64(st, 5, w->until);
	} else {
		sqlite3_bind_int(st, 6, w->day);
		sqlite3_bind_int(st, 7, w->minute);
		sqlite3_bind_int64(st, 8, w->duration_s);
	}
	sqlite3_bind_text(st, 9, w->reason != NULL ? w->reason : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, what);
		return -1;
	}
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int64_t store_owner_sites(struct store *s, const char *owner)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (store_prepare(s, "SELECT count(*) FROM sites WHERE owner_email = ?1 COLLATE NOCASE", 0,
	    &st, "counting an owner's sites") < 0)
		return -1;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		store_error(s, "counting an owner's sites");
	sqlite3_finalize(st);
	return n;
}

int store_window_remove(struct store *s, int64_t id)
{
	int changes;

	if (store_run(s, "removing a maintenance window", &changes,
	    "DELETE FROM maintenance WHERE id = ?1", "I", id) < 0)
		return -1;
	return changes == 0 ? STORE_NOT_FOUND : 0;
}

int store_windows_refresh(struct store *s)
{
	static const char *const what = "reading the maintenance windows' change counter";
	int64_t version;
	int rc;

	if (s->windows_version == NULL && store_prepare(s,
	    "SELECT version FROM maintenance_version WHERE id = 1", STORE_KEEP,
	    &s->windows_version, what) < 0)
		return -1;
	sqlite3_reset(s->windows_version);
	rc = sqlite3_step(s->windows_version);
	version = rc == SQLITE_ROW ? sqlite3_column_int64(s->windows_version, 0) : 0;
	sqlite3_reset(s->windows_version);
	if (rc != SQLITE_ROW) {
		store_error(s, what);
		return -1;
	}
	if (s->windows_loaded && version == s->windows_seen)
		return 0;
	struct sq_window_list l;
	if (store_windows(s, &l) < 0)
		return -1;
	window_list_free(&s->windows);
	s->windows = l;
	s->windows_seen = version;
	s->windows_loaded = true;
	log_debug("%s: %zu maintenance windows", s->path, l.n);
	return 0;
}

int64_t store_window_at(struct store *s, int64_t site_id, const char *owner, int64_t t)
{
	return window_find_kept(&s->windows, site_id, owner, t);
}

void store_windows_close(struct store *s)
{
	sqlite3_finalize(s->windows_version);
	s->windows_version = NULL;
	window_list_free(&s->windows);
	s->windows_loaded = false;
}

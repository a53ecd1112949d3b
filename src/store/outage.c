/*
 * outage.c - the monitor's own outage in the database: an open row of
 * outages is the hold under way (so it outlives a restart), and DOWN
 * alerts waiting in the outbox as 'held' until fresh checks say whether
 * their site was down after all ('pending' again) or not ('cancelled').
 * Only record.c calls these, inside the transaction of the results.
 */
#include <stdio.h>

#include "squirrel/store/outage.h"
#include "db.h"

#define WHAT "keeping the monitor's outage"

int store_outage_current(struct store *s, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if (store_prepare(s, "SELECT max(id) FROM outages WHERE ended_at IS NULL", 0, &st,
	    WHAT) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = store_col_int(st, 0, 0);
	else
		store_error(s, WHAT);
	sqlite3_finalize(st);
	return rc != SQLITE_ROW ? -1 : *id > 0 ? 1 : 0;
}

int store_outage_begin(struct store *s, int64_t now, int64_t since, const char *reason,
    int64_t *id, int *held)
{
	if (store_run(s, WHAT, NULL, "INSERT INTO outages (began_at, reason) VALUES (?1, ?2)",
	    "It", now, reason) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	if (store_run(s, WHAT, held, "UPDATE outbox SET status = 'held', fresh = 0"
	    " WHERE status = 'pending' AND kind = 'down' AND created_at >= ?1", "I", since) < 0)
		return -1;
	return store_run(s, WHAT, NULL, "UPDATE site_state SET fail_count = 0, fail_since = NULL"
	    " WHERE state <> 'down' AND fail_count > 0", "");
}

int store_outage_end(struct store *s, int64_t id, int64_t now)
{
	return store_run(s, WHAT, NULL, "UPDATE outages SET ended_at = max(?2, began_at)"
	    " WHERE id = ?1", "II", id, now);
}

int store_outbox_held(struct store *s, int64_t site_id, int64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if (store_prepare(s, "SELECT count(*) FROM outbox WHERE status = 'held'"
	    " AND (?1 = 0 OR site_id = ?1)", 0, &st, WHAT) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		store_error(s, WHAT);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_outbox_held_fresh(struct store *s, int64_t site_id, int threshold, int64_t now,
    int *released)
{
	if (store_run(s, WHAT, NULL, "UPDATE outbox SET fresh = fresh + 1"
	    " WHERE status = 'held' AND site_id = ?1", "I", site_id) < 0)
		return -1;
	return store_run(s, WHAT, released, "UPDATE outbox SET status = 'pending',"
	    " next_attempt = ?3 WHERE status = 'held' AND site_id = ?1 AND fresh >= ?2", "IiI",
	    site_id, threshold, now);
}

int store_outbox_held_cancel(struct store *s, int64_t site_id, int *cancelled)
{
	return store_run(s, WHAT, cancelled, "UPDATE outbox SET status = 'cancelled'"
	    " WHERE status = 'held' AND site_id = ?1", "I", site_id);
}

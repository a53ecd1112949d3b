/*
 * results.c - what the checks found. The check path's writes, one batch
 * in one transaction (record.c holds it): each check's history row (and
 * each location's answer), the site's new state, and the incident a
 * transition opens or closes. Then the same history read back for people
 * (squirrelctl history, incidents), and pruned by age.
 *
 * The writes of the check path run statements prepared once, at open.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/core/classes.h"
#include "squirrel/store/results.h"
#include "db.h"

int store_results_prepare(struct store *s)
{
	static const char *const what = "preparing a statement";

	if (store_prepare(s,
	    "INSERT INTO checks (site_id, checked_at, ok, http_status, ms, detail, class,"
	    "  maintenance, slow, edge) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, 0),"
	    "  nullif(?9, 0), nullif(?10, 0))", STORE_KEEP, &s->insert_check, what) < 0)
		return -1;
	if (store_prepare(s,
	    "INSERT INTO site_state (site_id, last_check, last_status, last_ms, last_error,"
	    "  state, since, fail_count, ok_count, last_ok, last_alert, fail_since, slow_count,"
	    "  slow_since, parent_down, behind)"
	    " VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, nullif(?13, 0), ?14,"
	    "  nullif(?15, 0), ?16, nullif(?17, 0))"
	    " ON CONFLICT (site_id) DO UPDATE SET"
	    "  last_check = excluded.last_check, last_status = excluded.last_status,"
	    "  last_ms = excluded.last_ms, last_error = excluded.last_error,"
	    "  state = excluded.state, since = excluded.since,"
	    "  fail_count = excluded.fail_count, ok_count = excluded.ok_count,"
	    "  last_ok = excluded.last_ok, last_alert = excluded.last_alert,"
	    "  fail_since = excluded.fail_since, slow_count = excluded.slow_count,"
	    "  slow_since = excluded.slow_since, parent_down = excluded.parent_down,"
	    "  behind = excluded.behind", STORE_KEEP, &s->upsert_state, what) < 0)
		return -1;
	if (store_prepare(s,
	    "SELECT st.state, st.since, st.fail_count, st.ok_count, st.last_ok, st.last_alert,"
	    "  st.fail_since, st.slow_count, st.slow_since, st.parent_down, st.behind"
	    " FROM sites s LEFT JOIN site_state st ON st.site_id = s.id"
	    " WHERE s.id = ?1 AND s.enabled IS NOT 0", STORE_KEEP, &s->load_state, what) < 0)
		return -1;
	return store_prepare(s,
	    "INSERT OR REPLACE INTO check_locations (check_id, location, ok, http_status, ms, class,"
	    "  detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '')", STORE_KEEP, &s->insert_location, what);
}

/* ---- the check path's writes ---- */

int store_load_state(struct store *s, int64_t site_id, struct sq_site_state *out)
{
	sqlite3_stmt *st = s->load_state;
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		store_error(s, "reading a site's state");
		sqlite3_reset(st);
		return -1;
	}
	const unsigned char *name = sqlite3_column_text(st, 0);
	int state = name != NULL ? state_parse((const char *)name) : SQ_STATE_UNKNOWN;
	out->state = state < 0 ? SQ_STATE_UNKNOWN : (enum sq_state)state;
	out->since = store_col_int(st, 1, 0);
	out->fail_count = (int32_t)store_col_int(st, 2, 0);
	out->ok_count = (int32_t)store_col_int(st, 3, 0);
	out->last_ok = store_col_int(st, 4, 0);
	out->last_alert = store_col_int(st, 5, 0);
	out->fail_since = store_col_int(st, 6, 0);
	out->slow_count = (int32_t)store_col_int(st, 7, 0);
	out->slow_since = store_col_int(st, 8, 0);
	out->parent_down = store_col_int(st, 9, 0) != 0;
	out->behind = store_col_int(st, 10, 0);
	sqlite3_reset(st);
	return 0;
}

int store_load_parent(struct store *s, int64_t site_id, struct sq_site_state *out,
    char *error, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > 0)
		error[0] = '\0';
	if (store_prepare(s, "SELECT state, fail_count, parent_down, behind,"
	    " substr(last_error, 1, 200) FROM site_state WHERE site_id = ?1", 0, &st,
	    "reading a parent's state") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);
		int state = name != NULL ? state_parse((const char *)name) : SQ_STATE_UNKNOWN;
		out->state = state < 0 ? SQ_STATE_UNKNOWN : (enum sq_state)state;
		out->fail_count = (int32_t)store_col_int(st, 1, 0);
		out->parent_down = store_col_int(st, 2, 0) != 0;
		out->behind = store_col_int(st, 3, 0);
		const unsigned char *e = sqlite3_column_text(st, 4);
		snprintf(error, len, "%s", e != NULL ? (const char *)e : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(s, "reading a parent's state");
		return -1;
	}
	return rc == SQLITE_ROW ? 0 : 1;
}

/* The sites behind site_id: which are (back, or all) and how many. */
#define CHILDREN_SQL(back) \
	"SELECT ?1, st.site_id, " back ", s.url, s.name FROM site_state st" \
	" JOIN sites s ON s.id = st.site_id WHERE st.behind = ?2 AND (?3 OR st.parent_down = 1)"
#define CHILD_BACK "(st.parent_down = 0 AND st.fail_count = 0)"

int store_pending_down(struct store *s, int64_t site_id, int64_t *alert_id)
{
	sqlite3_stmt *st;
	int rc;

	*alert_id = 0;
	if (store_prepare(s, "SELECT max(id) FROM outbox WHERE site_id = ?1 AND kind = 'down'"
	    " AND status = 'pending' AND contact_id IS NULL", 0, &st, "reading the outbox") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*alert_id = store_col_int(st, 0, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		store_error(s, "reading the outbox");
		return -1;
	}
	return 0;
}

int store_alert_children(struct store *s, int64_t alert_id, int64_t site_id, bool up,
    int shown)
{
	static const char what[] = "listing the sites behind a site";

	/* listed again from the start: a DOWN alert still pending takes the later ones */
	if (store_run(s, what, NULL, "DELETE FROM outbox_children WHERE alert_id = ?1", "I",
	    alert_id) < 0)
		return -1;
	if (store_run(s, what, NULL,
	    "INSERT OR IGNORE INTO outbox_children (alert_id, site_id, back, url, name)"
	    " SELECT * FROM (" CHILDREN_SQL(CHILD_BACK) " AND NOT " CHILD_BACK
	    "  ORDER BY st.site_id LIMIT ?4)"
	    " UNION ALL SELECT * FROM (" CHILDREN_SQL(CHILD_BACK) " AND " CHILD_BACK
	    "  ORDER BY st.site_id LIMIT ?4)", "IIii", alert_id, site_id, (int)up, shown) < 0)
		return -1;
	if (store_run(s, what, NULL,
	    "UPDATE outbox SET children = (SELECT count(*) FROM (" CHILDREN_SQL("0") ")),"
	    " children_back = (SELECT count(*) FROM (" CHILDREN_SQL("0") " AND " CHILD_BACK "))"
	    " WHERE id = ?1 OR alert_of = ?1", "IIi", alert_id, site_id, (int)up) < 0)
		return -1;
	/* UP: the outage they were put down to is over; their own checks count again */
	if (up && store_run(s, what, NULL, "UPDATE site_state SET behind = NULL WHERE behind = ?1",
	    "I", site_id) < 0)
		return -1;
	return 0;
}

/* Each location's answer to the check just inserted (check_id), named from locations. */
static int save_votes(struct store *s, int64_t check_id, const struct sq_result *r,
    const char *const *locations, int nlocations)
{
	sqlite3_stmt *st = s->insert_location;
	int n = r->nvotes < SQ_VOTES_MAX ? r->nvotes : SQ_VOTES_MAX;

	for (int i = 0; i < n; i++) {
		const struct sq_vote *v = &r->votes[i];
		/* a vote whose location is no longer configured cannot be named: left out */
		if (v->location >= nlocations)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, check_id);
		sqlite3_bind_text(st, 2, locations[v->location], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, v->err == SQ_OK);
		sqlite3_bind_int(st, 4, v->http_status);
		sqlite3_bind_int(st, 5, v->ms);
		/* a vote is its class alone: its own words stay with its location */
		sqlite3_bind_int(st, 6, sq_class_code(v->err));
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE) {
			store_error(s, "recording a location's answer");
			return -1;
		}
	}
	return 0;
}

int store_save_check(struct store *s, const struct sq_result *r, const struct sq_site_state *state)
{
	return store_save_check_votes(s, r, state, NULL, 0);
}

int store_save_check_votes(struct store *s, const struct sq_result *r,
    const struct sq_site_state *state, const char *const *locations, int nlocations)
{
	return store_save_check_marked(s, r, state, locations, nlocations, NULL);
}

static int save_marked(struct store *s, const struct sq_result *r,
    const struct sq_site_state *state, const char *const *locations, int nlocations,
    const struct sq_check_marks *marks)
{
	char err[160], detail[160];
	int64_t when = r->started_ms / 1000;
	int ok = 0;
	/* a class out of range (a backend's bug) is kept as the library's error */
	int code = sq_class_code(r->err) >= 0 ? sq_class_code(r->err) : sq_class_code(SQ_ERR_OTHER);

	bool unknown = r->err == SQ_ERR_NO_QUORUM || r->err == SQ_ERR_OUTAGE, edge;
	int good = sq_result_ok(r);
	/* what its hold counts as: STORE_VERDICT_SQL's numbers */
	int verdict = marks != NULL && marks->maintenance != 0 ? 3 :
	    good && marks != NULL && marks->slow ? 2 : good ? 1 : unknown ? -1 : 0;

	if (store_tiers_check(s, r->site_id, when, verdict, good ? 1 : unknown ? -1 : 0, r->ms,
	    &edge) < 0)
		return -1;
	sq_result_error(r, err, sizeof(err));
	sq_result_detail(r, detail, sizeof(detail));
	for (int i = 0; i < 2 && ok == 0; i++) {
		sqlite3_stmt *st = i == 0 ? s->insert_check : s->upsert_state;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->site_id);
		sqlite3_bind_int64(st, 2, when);
		if (i == 0)
			sqlite3_bind_int(st, 3, sq_result_ok(r));
		sqlite3_bind_int(st, 4, r->http_status);
		sqlite3_bind_int(st, 5, r->ms);
		/* the history keeps the class and its detail; the state, the text people read */
		sqlite3_bind_text(st, 6, i == 0 ? detail : err, -1, SQLITE_TRANSIENT);
		if (i == 0) {
			sqlite3_bind_int(st, 7, code);
			/* bound every time: a statement keeps its values from one check to the next */
			sqlite3_bind_int64(st, 8, marks != NULL ? marks->maintenance : 0);
			sqlite3_bind_int(st, 9, marks != NULL && marks->slow);
			sqlite3_bind_int(st, 10, edge);
		}
		if (i == 1) {
			sqlite3_bind_text(st, 7, state_name(state->state), -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 8, state->since);
			sqlite3_bind_int(st, 9, state->fail_count);
			sqlite3_bind_int(st, 10, state->ok_count);
			sqlite3_bind_int64(st, 11, state->last_ok);
			sqlite3_bind_int64(st, 12, state->last_alert);
			sqlite3_bind_int64(st, 13, state->fail_since);
			sqlite3_bind_int(st, 14, state->slow_count);
			sqlite3_bind_int64(st, 15, state->slow_since);
			sqlite3_bind_int(st, 16, state->parent_down);
			sqlite3_bind_int64(st, 17, state->behind);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_error(s, "recording a check");
			ok = -1;
		}
		sqlite3_reset(st);
		/* the check's id now: the state's upsert would change the last rowid */
		if (i == 0 && ok == 0 && r->nvotes > 0 &&
		    save_votes(s, sqlite3_last_insert_rowid(s->db), r, locations, nlocations) < 0)
			ok = -1;
	}
	return ok;
}

int store_save_check_marked(struct store *s, const struct sq_result *r,
    const struct sq_site_state *state, const char *const *locations, int nlocations,
    const struct sq_check_marks *marks)
{
	/* the hourly tier is written with the check: outside a batch, in a transaction of its own */
	if (!sqlite3_get_autocommit(s->db))
		return save_marked(s, r, state, locations, nlocations, marks);
	if (store_begin(s) < 0)
		return -1;
	if (save_marked(s, r, state, locations, nlocations, marks) < 0) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s);
}

int store_incident_open(struct store *s, int64_t site_id, int64_t at, const char *cause)
{
	/* An incident already open stays as it is: the first start is the true one. */
	return store_run(s, "opening an incident", NULL,
	    "INSERT INTO incidents (site_id, started_at, cause) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (site_id) WHERE ended_at IS NULL DO NOTHING",
	    "IIt", site_id, at, cause ? cause : "");
}

int store_incident_close(struct store *s, int64_t site_id, int64_t at)
{
	return store_run(s, "closing an incident", NULL,
	    "UPDATE incidents SET ended_at = max(?2, started_at)"
	    " WHERE site_id = ?1 AND ended_at IS NULL", "II", site_id, at);
}

/* ---- the history for people ---- */

void store_notes_free(struct sq_incident_note *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

static int note_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_incident_note *k = elem;
	(void)arg;

	k->at = store_col_int(st, 0, 0);
	return store_col_as_text(st, 1, false, &k->text);
}

int store_notes_read(struct store *s, sqlite3_stmt *st, int64_t incident_id,
    struct sq_incident_note **v, size_t *n)
{
	struct { struct sq_incident_note *v; size_t n; } l = { NULL, 0 };
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, incident_id);
	rc = STORE_COLLECT(s, st, note_row, NULL, &l, "reading an incident's notes");
	sqlite3_reset(st);
	if (rc < 0) {
		store_notes_free(l.v, l.n);
		return -1;
	}
	*v = l.v;
	*n = l.n;
	return 0;
}

int store_incident_note_add(struct store *s, int64_t incident_id, int64_t at, const char *text)
{
	int changes;

	/* one statement: the incident looked for and the note written at once */
	if (store_run(s, "adding a note to an incident", &changes,
	    "INSERT INTO incident_notes (incident_id, at, text)"
	    " SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = ?1)",
	    "IIt", incident_id, at, text) < 0)
		return -1;
	return changes == 0 ? STORE_NOT_FOUND : 0;
}

void store_free_incident_rows(struct sq_incident_rows *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].url);
		free(l->v[i].cause);
		store_notes_free(l->v[i].notes, l->v[i].nnotes);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int incident_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_incident_row *i = elem;
	(void)arg;

	i->id = sqlite3_column_int64(st, 0);
	i->site_id = store_col_int(st, 1, 0);
	i->started_at = store_col_int(st, 4, 0);
	i->ended_at = store_col_int(st, 5, 0);
	if (store_col_as_text(st, 2, true, &i->name) < 0 ||
	    store_col_as_text(st, 3, true, &i->url) < 0 ||
	    store_col_as_text(st, 6, false, &i->cause) < 0) {
		free(i->name);
		free(i->url);
		free(i->cause);
		return -1;
	}
	return 0;
}

int store_incident_rows(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_rows *out)
{
	struct sq_incident_rows l = { NULL, 0 };
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT i.id, i.site_id, s.name, s.url, i.started_at, i.ended_at, i.cause"
	    " FROM incidents i LEFT JOIN sites s ON s.id = i.site_id"
	    " WHERE (?1 = 0 OR i.site_id = ?1) AND (i.ended_at IS NULL OR i.ended_at >= ?2)"
	    " ORDER BY i.started_at DESC, i.id DESC LIMIT ?3", 0, &st, "reading incidents") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (int64_t)limit);
	rc = STORE_COLLECT(s, st, incident_row, NULL, &l, "reading incidents");
	sqlite3_finalize(st);
	if (rc == 0 && l.n > 0) {
		rc = store_prepare(s, STORE_NOTES_SQL, 0, &st, "reading an incident's notes");
		for (size_t i = 0; i < l.n && rc == 0; i++)
			rc = store_notes_read(s, st, l.v[i].id, &l.v[i].notes, &l.v[i].nnotes);
		if (st != NULL)
			sqlite3_finalize(st);
	}
	if (rc < 0) {
		store_free_incident_rows(&l);
		return -1;
	}
	*out = l;
	return 0;
}

void store_free_checks(struct sq_check_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].error);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int check_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_check_row *c = elem;
	(void)arg;

	c->id = sqlite3_column_int64(st, 0);
	c->checked_at = store_col_int(st, 1, 0);
	c->ok = sqlite3_column_int(st, 2) != 0;
	c->http_status = store_col_int(st, 3, 0);
	c->ms = store_col_int(st, 4, 0);
	return store_col_error(st, 5, 3, 6, &c->error);
}

int store_history(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_check_list *out)
{
	struct sq_check_list l = { NULL, 0 };
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT id, checked_at, ok, http_status, ms, class, detail FROM checks"
	    " WHERE site_id = ?1 AND checked_at >= ?2 ORDER BY checked_at DESC, id DESC LIMIT ?3",
	    0, &st, "reading the history") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (int64_t)limit);
	rc = STORE_COLLECT(s, st, check_row, NULL, &l, "reading the history");
	sqlite3_finalize(st);
	if (rc < 0) {
		store_free_checks(&l);
		return -1;
	}
	*out = l;
	return 0;
}

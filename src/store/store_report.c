/*
 * store_report.c - the store's queries for people: squirrelctl's listings
 * and edits, uptime figures, and what the status page and the metrics
 * show. It is part of the store module (with store.c, the only files that
 * include sqlite3.h) and shares its connection through store_private.h.
 *
 * Uptime reads the hourly rollup the schema's trigger keeps (see schema_v3
 * in store.c) for the whole hours of a window, and the raw checks only for
 * the partial hours at its edges, so a 30-day figure reads some 720 small
 * rows per site instead of tens of thousands of checks.
 *
 * A site listed for people says whether the daemon skips its row, and why,
 * by the daemon's own rules: the store's (store_site_from_row) and then
 * sites.c's (sites_skip_reason), so the words are those of its log line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/core/sites.h"
#include "squirrel/store/store_report.h"
#include "store_private.h"

#define HOUR 3600
#define DAY 86400

/*
 * The longest a check's verdict holds: twice the site's interval, at most
 * a day. The trigger in schema_v3 uses the same expression: keep them one.
 */
#define CAP_SQL \
	"min(2 * coalesce((SELECT interval_s FROM sites WHERE id = ?1)," \
	" (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)"

static void report_error(struct store *s, const char *what)
{
	log_errorx("%s: %s: %s", store_path(s), what, sqlite3_errmsg(store_sqlite(s)));
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
	if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, st, NULL) != SQLITE_OK) {
		report_error(s, what);
		return -1;
	}
	return 0;
}

/*
 * A column as text, whatever a person stored there (a number reads as its
 * digits). NULL stays NULL when nullable, else becomes "". -1: no memory.
 */
static int col_text(sqlite3_stmt *st, int col, bool nullable, char **out)
{
	*out = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL && nullable)
		return 0;
	const unsigned char *t = sqlite3_column_text(st, col);
	*out = strdup(t != NULL ? (const char *)t : "");
	return *out == NULL ? -1 : 0;
}

static int64_t col_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_INTEGER ? sqlite3_column_int64(st, col) : 0;
}

/*
 * Room for one more element at v[n], growing v (a typed pointer) and cap;
 * false when out of memory (v is then unchanged).
 */
#define GROW(v, n, cap) __extension__ ({                                 \
	bool ok_ = true;                                                 \
	if ((n) == (cap)) {                                              \
		size_t ncap_ = (cap) ? (cap) * 2 : 16;                   \
		void *nv_ = realloc((v), ncap_ * sizeof(*(v)));         \
		if (nv_ == NULL) {                                       \
			ok_ = false;                                     \
		} else {                                                 \
			(v) = nv_;                                       \
			(cap) = ncap_;                                   \
		}                                                        \
	}                                                                \
	ok_;                                                             \
})

/* ---- sites ---- */

static void site_info_free(struct sq_site_info *i)
{
	free(i->url);
	free(i->owner_email);
	free(i->name);
	free(i->last_error);
	free(i->skipped);
}

/*
 * Why the daemon would skip the row at st (STORE_SITE_COLUMNS first), or
 * NULL in *out. Read before any other column: reading a column as text
 * converts it, and the store's rule looks at the types as stored.
 */
static int skip_reason(sqlite3_stmt *st, char **out)
{
	struct sq_site row;
	char why[SITES_REASON_MAX];
	const char *bad = store_site_from_row(st, &row);

	*out = NULL;
	if (bad == NULL && sites_skip_reason(&row, why, sizeof(why)))
		bad = why;
	store_free_site(&row);
	if (bad != NULL && (*out = strdup(bad)) == NULL)
		return -1;
	return 0;
}

void store_free_site_infos(struct sq_site_info_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		site_info_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_site_infos(struct store *s, int64_t id, struct sq_site_info_list *out)
{
	struct sq_site_info_list l = { NULL, 0 };
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	enum { C_ENABLED = STORE_SITE_NCOLUMNS, C_SINCE, C_LAST_CHECK, C_LAST_STATUS, C_LAST_MS,
		C_LAST_ERROR, C_CHECKS, C_FAILURES };
	if (prepare(s,
	    "SELECT " STORE_SITE_COLUMNS ", s.enabled IS NOT 0,"
	    " st.since, st.last_check, st.last_status, st.last_ms, st.last_error, c.checks, c.failures"
	    " FROM sites s LEFT JOIN site_state st ON st.site_id = s.id"
	    " LEFT JOIN site_counters c ON c.site_id = s.id"
	    " WHERE ?1 = 0 OR s.id = ?1 ORDER BY s.id", &st, "reading the sites") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!GROW(l.v, l.n, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		struct sq_site_info *i = &l.v[l.n++];
		memset(i, 0, sizeof(*i));
		if (skip_reason(st, &i->skipped) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		i->id = sqlite3_column_int64(st, 0);
		i->enabled = sqlite3_column_int(st, C_ENABLED) != 0;
		i->interval_s = col_int(st, 4);
		i->timeout_ms = col_int(st, 5);
		const unsigned char *state = sqlite3_column_text(st, 10);
		int parsed = state != NULL ? state_parse((const char *)state) : -1;
		i->state = parsed < 0 ? SQ_STATE_UNKNOWN : (enum sq_state)parsed;
		i->since = col_int(st, C_SINCE);
		i->last_check = col_int(st, C_LAST_CHECK);
		i->last_status = col_int(st, C_LAST_STATUS);
		i->last_ms = col_int(st, C_LAST_MS);
		i->checks_total = col_int(st, C_CHECKS);
		i->failures_total = col_int(st, C_FAILURES);
		if (col_text(st, 1, false, &i->url) < 0 || col_text(st, 2, false, &i->owner_email) < 0 ||
		    col_text(st, 3, true, &i->name) < 0 ||
		    col_text(st, C_LAST_ERROR, false, &i->last_error) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading the sites", store_path(s));
		else
			report_error(s, "reading the sites");
		store_free_site_infos(&l);
		return -1;
	}
	*out = l;
	return 0;
}

int store_find_site(struct store *s, const char *key, int64_t *id)
{
	size_t len = strlen(key);
	bool is_id = len > 0 && len <= 18 && strspn(key, "0123456789") == len;
	sqlite3_stmt *st;
	int rc, found = 0;

	if (prepare(s, is_id ? "SELECT id FROM sites WHERE id = ?1" :
	    "SELECT id FROM sites WHERE url = ?1 ORDER BY id LIMIT 2", &st, "finding a site") < 0)
		return -1;
	if (is_id)
		sqlite3_bind_int64(st, 1, strtoll(key, NULL, 10));
	else
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found++ == 0)
			*id = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		report_error(s, "finding a site");
		return -1;
	}
	return found == 0 ? STORE_NOT_FOUND : found == 1 ? STORE_FOUND : STORE_AMBIGUOUS;
}

int store_add_site(struct store *s, const struct sq_site_new *n, int64_t *id)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_begin(s) < 0)
		return -1;
	/* the same URL for the same owner twice would only mean two alerts */
	if (prepare(s, "SELECT id FROM sites WHERE url = ?1 AND owner_email = ?2 ORDER BY id LIMIT 1",
	    &st, "adding a site") < 0)
		goto fail;
	sqlite3_bind_text(st, 1, n->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->owner_email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		store_rollback(s);
		return 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		report_error(s, "adding a site");
		goto fail;
	}
	if (prepare(s, "INSERT INTO sites (url, owner_email, name, interval_s, timeout_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", &st, "adding a site") < 0)
		goto fail;
	sqlite3_bind_text(st, 1, n->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->owner_email, -1, SQLITE_STATIC);
	if (n->name != NULL)
		sqlite3_bind_text(st, 3, n->name, -1, SQLITE_STATIC);
	if (n->interval_s > 0)
		sqlite3_bind_int(st, 4, n->interval_s);
	if (n->timeout_ms > 0)
		sqlite3_bind_int(st, 5, n->timeout_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		report_error(s, "adding a site");
		goto fail;
	}
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(db);
	return store_commit(s);
fail:
	sqlite3_finalize(st);
	store_rollback(s);
	return -1;
}

/* One UPDATE or DELETE of one site: 0, STORE_NOT_FOUND, or -1. */
static int edit_site(struct store *s, const char *sql, int64_t id, int64_t value, const char *what)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, sql, &st, what) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		report_error(s, what);
		return -1;
	}
	return sqlite3_changes(store_sqlite(s)) == 0 ? STORE_NOT_FOUND : 0;
}

int store_remove_site(struct store *s, int64_t id)
{
	return edit_site(s, "DELETE FROM sites WHERE id = ?1 AND ?2 = ?2", id, 0, "removing a site");
}

int store_enable_site(struct store *s, int64_t id, bool enabled)
{
	return edit_site(s, "UPDATE sites SET enabled = ?2 WHERE id = ?1", id, enabled,
	    enabled ? "enabling a site" : "disabling a site");
}

const char *const sq_setting_columns[SQ_SET_MAX] = {
	[SQ_SET_INTERVAL] = "interval_s",
	[SQ_SET_TIMEOUT] = "timeout_ms",
	[SQ_SET_FAIL] = "fail_threshold",
	[SQ_SET_RECOVER] = "recover_threshold",
	[SQ_SET_RETRY] = "retry_interval_s",
	[SQ_SET_REMIND] = "remind_every_s",
};

/* One column an edit sets: text, a number, or NULL. */
struct edit_value {
	const char *col;
	const char *text;
	int64_t num;
	bool null;
};

/* The columns e changes, in the order of their parameters ?2, ?3, ... */
static size_t edit_values(const struct sq_site_edit *e, struct edit_value *v)
{
	size_t n = 0;

	if (e->url != NULL)
		v[n++] = (struct edit_value){ .col = "url", .text = e->url };
	if (e->owner_email != NULL)
		v[n++] = (struct edit_value){ .col = "owner_email", .text = e->owner_email };
	if (e->name != NULL)
		v[n++] = (struct edit_value){ .col = "name", .text = e->name, .null = e->name[0] == '\0' };
	if (e->enabled != SQ_EDIT_KEEP)
		v[n++] = (struct edit_value){ .col = "enabled", .num = e->enabled != 0 };
	for (int i = 0; i < SQ_SET_MAX; i++) {
		if (e->set[i] == SQ_EDIT_KEEP)
			continue;
		v[n++] = (struct edit_value){ .col = sq_setting_columns[i], .num = e->set[i],
		    .null = e->set[i] == SQ_EDIT_DEFAULT };
	}
	return n;
}

/* The site that already watches what site id would watch after e. 0, 1 (*other), -1. */
static int edit_clash(struct store *s, int64_t id, const struct sq_site_edit *e, int64_t *other)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT o.id FROM sites s JOIN sites o ON o.url = coalesce(?2, s.url)"
	    " AND o.owner_email = coalesce(?3, s.owner_email) AND o.id <> s.id"
	    " WHERE s.id = ?1 ORDER BY o.id LIMIT 1", &st, "editing a site") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, e->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->owner_email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*other = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		report_error(s, "editing a site");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int store_edit_site(struct store *s, int64_t id, const struct sq_site_edit *e, int64_t *other)
{
	struct edit_value v[4 + SQ_SET_MAX];
	size_t n = edit_values(e, v), used;
	char sql[512];
	sqlite3_stmt *st = NULL;
	int rc;

	if (n == 0)
		return 0;
	used = (size_t)snprintf(sql, sizeof(sql), "UPDATE sites SET");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(sql + used, sizeof(sql) - used, "%s %s = ?%zu",
		    i > 0 ? "," : "", v[i].col, i + 2);
	snprintf(sql + used, sizeof(sql) - used, " WHERE id = ?1");
	if (store_begin(s) < 0)
		return -1;
	/* the same URL for the same owner twice would only mean two alerts, as in add */
	if (e->url != NULL || e->owner_email != NULL) {
		if ((rc = edit_clash(s, id, e, other)) != 0) {
			store_rollback(s);
			return rc < 0 ? -1 : STORE_TAKEN;
		}
	}
	if (prepare(s, sql, &st, "editing a site") < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	for (size_t i = 0; i < n; i++) {
		if (v[i].null)
			sqlite3_bind_null(st, (int)i + 2);
		else if (v[i].text != NULL)
			sqlite3_bind_text(st, (int)i + 2, v[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, (int)i + 2, v[i].num);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		report_error(s, "editing a site");
		goto fail;
	}
	sqlite3_finalize(st);
	if (sqlite3_changes(store_sqlite(s)) == 0) {
		store_rollback(s);
		return STORE_NOT_FOUND;
	}
	return store_commit(s);
fail:
	sqlite3_finalize(st);
	store_rollback(s);
	return -1;
}

void store_free_site_settings(struct sq_site_settings *st)
{
	free(st->url);
	free(st->owner_email);
	free(st->name);
	memset(st, 0, sizeof(*st));
}

int store_site_settings(struct store *s, int64_t id, struct sq_site_settings *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (prepare(s, "SELECT id, url, owner_email, name, enabled IS NOT 0, interval_s, timeout_ms,"
	    " fail_threshold, recover_threshold, retry_interval_s, remind_every_s"
	    " FROM sites WHERE id = ?1", &st, "reading a site") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->enabled = sqlite3_column_int(st, 4) != 0;
		for (int i = 0; i < SQ_SET_MAX; i++)
			out->set[i] = sqlite3_column_type(st, 5 + i) == SQLITE_INTEGER ?
			    sqlite3_column_int64(st, 5 + i) : -1;
		if (col_text(st, 1, false, &out->url) < 0 ||
		    col_text(st, 2, false, &out->owner_email) < 0 ||
		    col_text(st, 3, true, &out->name) < 0)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading a site", store_path(s));
		else
			report_error(s, "reading a site");
		store_free_site_settings(out);
		return -1;
	}
	return 0;
}

/* ---- history, incidents and outbox ---- */

void store_free_incident_rows(struct sq_incident_rows *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].url);
		free(l->v[i].cause);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_incident_rows(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_rows *out)
{
	struct sq_incident_rows l = { NULL, 0 };
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (prepare(s, "SELECT i.id, i.site_id, s.name, s.url, i.started_at, i.ended_at, i.cause"
	    " FROM incidents i LEFT JOIN sites s ON s.id = i.site_id"
	    " WHERE (?1 = 0 OR i.site_id = ?1) AND (i.ended_at IS NULL OR i.ended_at >= ?2)"
	    " ORDER BY i.started_at DESC, i.id DESC LIMIT ?3", &st, "reading incidents") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!GROW(l.v, l.n, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		struct sq_incident_row *i = &l.v[l.n++];
		memset(i, 0, sizeof(*i));
		i->id = sqlite3_column_int64(st, 0);
		i->site_id = col_int(st, 1);
		i->started_at = col_int(st, 4);
		i->ended_at = col_int(st, 5);
		if (col_text(st, 2, true, &i->name) < 0 || col_text(st, 3, true, &i->url) < 0 ||
		    col_text(st, 6, false, &i->cause) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading incidents", store_path(s));
		else
			report_error(s, "reading incidents");
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

int store_history(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_check_list *out)
{
	struct sq_check_list l = { NULL, 0 };
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (prepare(s, "SELECT id, checked_at, ok, http_status, ms, error FROM checks"
	    " WHERE site_id = ?1 AND checked_at >= ?2 ORDER BY checked_at DESC, id DESC LIMIT ?3",
	    &st, "reading the history") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, site_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!GROW(l.v, l.n, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		struct sq_check_row *c = &l.v[l.n++];
		c->id = sqlite3_column_int64(st, 0);
		c->checked_at = col_int(st, 1);
		c->ok = sqlite3_column_int(st, 2) != 0;
		c->http_status = col_int(st, 3);
		c->ms = col_int(st, 4);
		if (col_text(st, 5, false, &c->error) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading the history", store_path(s));
		else
			report_error(s, "reading the history");
		store_free_checks(&l);
		return -1;
	}
	*out = l;
	return 0;
}

void store_free_outbox(struct sq_outbox_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].owner_email);
		free(l->v[i].url);
		free(l->v[i].name);
		free(l->v[i].kind);
		free(l->v[i].status);
		free(l->v[i].last_error);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_outbox_list(struct store *s, struct sq_outbox_list *out)
{
	struct sq_outbox_list l = { NULL, 0 };
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (prepare(s, "SELECT id, site_id, owner_email, url, kind, status, created_at, attempts,"
	    " next_attempt, last_error, name FROM outbox WHERE status IN ('pending', 'failed')"
	    " ORDER BY id",
	    &st, "reading the outbox") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!GROW(l.v, l.n, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		struct sq_outbox_row *o = &l.v[l.n++];
		memset(o, 0, sizeof(*o));
		o->id = sqlite3_column_int64(st, 0);
		o->site_id = col_int(st, 1);
		o->created_at = col_int(st, 6);
		o->attempts = col_int(st, 7);
		o->next_attempt = col_int(st, 8);
		if (col_text(st, 2, false, &o->owner_email) < 0 || col_text(st, 3, false, &o->url) < 0 ||
		    col_text(st, 4, false, &o->kind) < 0 || col_text(st, 5, false, &o->status) < 0 ||
		    col_text(st, 9, false, &o->last_error) < 0 || col_text(st, 10, true, &o->name) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading the outbox", store_path(s));
		else
			report_error(s, "reading the outbox");
		store_free_outbox(&l);
		return -1;
	}
	*out = l;
	return 0;
}

/* ---- the reader: figures over many sites from one snapshot ---- */

enum {
	Q_CAP,
	Q_LAST,
	Q_ROLLUP,
	Q_RAW,
	Q_DAYS,
	Q_RT,
	Q_INCIDENTS,
	Q_INCIDENT_COUNT,
	Q_MAX
};

/*
 * A check's verdict for the uptime sums, as the rollup trigger sees it:
 * 1 up, 0 down, -1 unknown (its hold counts in neither).
 */
#define VERDICT_SQL "CASE WHEN ok THEN 1 WHEN " STORE_UNKNOWN_SQL("") " THEN -1 ELSE 0 END"

static const char *const reader_sql[Q_MAX] = {
	[Q_CAP] = "SELECT " CAP_SQL,
	[Q_LAST] = "SELECT checked_at, id, " VERDICT_SQL " FROM checks WHERE site_id = ?1"
	    " ORDER BY checked_at DESC, id DESC LIMIT 1",
	[Q_ROLLUP] = "SELECT coalesce(sum(up_s), 0), coalesce(sum(down_s), 0) FROM uptime_hours"
	    " WHERE site_id = ?1 AND hour >= ?2 AND hour < ?3",
	[Q_RAW] = "SELECT checked_at, id, " VERDICT_SQL " FROM checks WHERE site_id = ?1"
	    " AND checked_at >= ?2 AND checked_at <= ?3 ORDER BY checked_at, id",
	[Q_DAYS] = "SELECT hour / 86400 * 86400, sum(up_s), sum(down_s) FROM uptime_hours"
	    " WHERE site_id = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY hour / 86400",
	/* in the index's order: callers bin or sort them, ties need no order */
	[Q_RT] = "SELECT checked_at, ms FROM checks WHERE site_id = ?1 AND checked_at >= ?2"
	    " AND ok = 1",
	[Q_INCIDENTS] = "SELECT id, started_at, ended_at, cause FROM incidents WHERE site_id = ?1"
	    " AND (ended_at IS NULL OR ended_at >= ?2) ORDER BY started_at DESC, id DESC LIMIT ?3",
	[Q_INCIDENT_COUNT] = "SELECT count(*) FROM incidents WHERE site_id = ?1"
	    " AND (ended_at IS NULL OR ended_at >= ?2)",
};

/* What every uptime sum of one site needs: its cap and its latest check. */
struct site_ctx {
	int64_t id;
	int64_t cap;
	bool has_last;
	int64_t last_t, last_id;
	int last_verdict;         /* VERDICT_SQL */
};

struct sq_reader {
	struct store *s;
	sqlite3_stmt *q[Q_MAX];
	bool began;
	struct site_ctx site;     /* the last site asked about; valid in the snapshot */
	bool site_valid;
};

struct sq_reader *store_reader_open(struct store *s)
{
	struct sq_reader *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		log_errorx("%s: out of memory", store_path(s));
		return NULL;
	}
	r->s = s;
	/* one snapshot for the whole report, unless the caller already holds one */
	if (sqlite3_get_autocommit(store_sqlite(s))) {
		if (sqlite3_exec(store_sqlite(s), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			report_error(s, "starting a read");
			free(r);
			return NULL;
		}
		r->began = true;
	}
	for (int i = 0; i < Q_MAX; i++) {
		if (sqlite3_prepare_v3(store_sqlite(s), reader_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &r->q[i], NULL) != SQLITE_OK) {
			report_error(s, "preparing a report query");
			store_reader_close(r);
			return NULL;
		}
	}
	return r;
}

void store_reader_close(struct sq_reader *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < Q_MAX; i++)
		sqlite3_finalize(r->q[i]);
	if (r->began)
		sqlite3_exec(store_sqlite(r->s), "COMMIT", NULL, NULL, NULL);
	free(r);
}

/* Resets and binds ?1 = site id; the caller binds the rest. */
static sqlite3_stmt *query(struct sq_reader *r, int q, int64_t site_id)
{
	sqlite3_stmt *st = r->q[q];
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, site_id);
	return st;
}

static int site_ctx(struct sq_reader *r, int64_t site_id, struct site_ctx **out)
{
	struct site_ctx *c = &r->site;
	sqlite3_stmt *st;
	int rc;

	if (r->site_valid && c->id == site_id) {
		*out = c;
		return 0;
	}
	r->site_valid = false;
	memset(c, 0, sizeof(*c));
	c->id = site_id;
	st = query(r, Q_CAP, site_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	c->cap = sqlite3_column_int64(st, 0);
	if (c->cap < 0)
		c->cap = 0;
	sqlite3_reset(st);
	st = query(r, Q_LAST, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->has_last = true;
		c->last_t = sqlite3_column_int64(st, 0);
		c->last_id = sqlite3_column_int64(st, 1);
		c->last_verdict = sqlite3_column_int(st, 2);
	} else if (rc != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_reset(st);
	r->site_valid = true;
	*out = c;
	return 0;
fail:
	report_error(r->s, "reading a site's latest check");
	sqlite3_reset(st);
	return -1;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Adds the part of [t0, t1) inside [from, to) to up or down (verdict: VERDICT_SQL). */
static void add_overlap(struct sq_uptime *u, int verdict, int64_t t0, int64_t t1, int64_t from,
    int64_t to)
{
	int64_t piece = min64(t1, to) - max64(t0, from);
	if (piece <= 0 || verdict < 0)
		return;
	if (verdict > 0)
		u->up_s += piece;
	else
		u->down_s += piece;
}

/*
 * The closed holds (checks followed by another) inside [e0, e1), from the
 * raw checks: used for the partial hours at a window's edges. A check more
 * than cap before e0 cannot reach into it; one without a successor within
 * cap after e1 holds its full cap, unless it is the latest (still open).
 */
static int raw_edge(struct sq_reader *r, const struct site_ctx *c, int64_t e0, int64_t e1,
    struct sq_uptime *u)
{
	sqlite3_stmt *st;
	bool have = false;
	int64_t t = 0, id = 0;
	int verdict = 0, rc;

	if (e0 >= e1)
		return 0;
	st = query(r, Q_RAW, c->id);
	sqlite3_bind_int64(st, 2, e0 - c->cap);
	sqlite3_bind_int64(st, 3, e1 + c->cap);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t nt = sqlite3_column_int64(st, 0);
		if (have)
			add_overlap(u, verdict, t, t + min64(nt - t, c->cap), e0, e1);
		have = true;
		t = nt;
		id = sqlite3_column_int64(st, 1);
		verdict = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		report_error(r->s, "reading checks for uptime");
		return -1;
	}
	if (have && !(c->has_last && t == c->last_t && id == c->last_id))
		add_overlap(u, verdict, t, t + c->cap, e0, e1);
	return 0;
}

static int rollup_sum(struct sq_reader *r, int64_t site_id, int64_t h0, int64_t h1,
    struct sq_uptime *u)
{
	sqlite3_stmt *st = query(r, Q_ROLLUP, site_id);

	sqlite3_bind_int64(st, 2, h0);
	sqlite3_bind_int64(st, 3, h1);
	if (sqlite3_step(st) != SQLITE_ROW) {
		report_error(r->s, "reading the uptime rollup");
		sqlite3_reset(st);
		return -1;
	}
	u->up_s += sqlite3_column_int64(st, 0);
	u->down_s += sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return 0;
}

/* The latest check's hold: until now, at most its cap. */
static void open_hold(const struct site_ctx *c, int64_t from, int64_t to, int64_t now,
    struct sq_uptime *u)
{
	if (c->has_last)
		add_overlap(u, c->last_verdict, c->last_t, min64(c->last_t + c->cap, now), from, to);
}

int store_reader_uptime(struct sq_reader *r, int64_t site_id, int64_t from, int64_t to,
    int64_t now, struct sq_uptime *u)
{
	struct site_ctx *c;

	memset(u, 0, sizeof(*u));
	if (from >= to)
		return 0;
	if (site_ctx(r, site_id, &c) < 0)
		return -1;
	/* whole hours from the rollup, the partial ones at the edges from the checks */
	int64_t h0 = (from + HOUR - 1) / HOUR * HOUR, h1 = to / HOUR * HOUR;
	if (h0 < h1) {
		if (rollup_sum(r, site_id, h0, h1, u) < 0 || raw_edge(r, c, from, h0, u) < 0 ||
		    raw_edge(r, c, h1, to, u) < 0)
			return -1;
	} else if (raw_edge(r, c, from, to, u) < 0) {
		return -1;
	}
	open_hold(c, from, to, now, u);
	return 0;
}

int store_reader_uptime_days(struct sq_reader *r, int64_t site_id, int64_t first_day,
    int ndays, int64_t now, struct sq_uptime *days)
{
	struct site_ctx *c;
	sqlite3_stmt *st;
	int rc;

	memset(days, 0, (size_t)ndays * sizeof(*days));
	first_day = first_day / DAY * DAY;
	if (site_ctx(r, site_id, &c) < 0)
		return -1;
	st = query(r, Q_DAYS, site_id);
	sqlite3_bind_int64(st, 2, first_day);
	sqlite3_bind_int64(st, 3, first_day + (int64_t)ndays * DAY);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i = (sqlite3_column_int64(st, 0) - first_day) / DAY;
		if (i < 0 || i >= ndays)
			continue;
		days[i].up_s += sqlite3_column_int64(st, 1);
		days[i].down_s += sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		report_error(r->s, "reading the daily uptime");
		return -1;
	}
	for (int i = 0; i < ndays; i++)
		open_hold(c, first_day + (int64_t)i * DAY, first_day + (int64_t)(i + 1) * DAY, now,
		    &days[i]);
	return 0;
}

int store_reader_response_times(struct sq_reader *r, int64_t site_id, int64_t from,
    struct sq_rt_sample **out, size_t *nout)
{
	sqlite3_stmt *st = query(r, Q_RT, site_id);
	struct sq_rt_sample *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_int64(st, 2, from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!GROW(v, n, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		struct sq_rt_sample *x = &v[n];
		x->t = sqlite3_column_int64(st, 0);
		x->ms = col_int(st, 1);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading response times", store_path(r->s));
		else
			report_error(r->s, "reading response times");
		free(v);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

void store_free_incidents(struct sq_incident_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].cause);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_reader_incidents(struct sq_reader *r, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_list *out)
{
	sqlite3_stmt *st = query(r, Q_INCIDENTS, site_id);
	struct sq_incident_list l = { NULL, 0 };
	size_t cap = 0;
	int rc;

	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!GROW(l.v, l.n, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		struct sq_incident *i = &l.v[l.n++];
		i->id = sqlite3_column_int64(st, 0);
		i->started_at = col_int(st, 1);
		i->ended_at = col_int(st, 2);
		if (col_text(st, 3, false, &i->cause) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading incidents", store_path(r->s));
		else
			report_error(r->s, "reading incidents");
		store_free_incidents(&l);
		return -1;
	}
	*out = l;
	return 0;
}

static void swap64(int64_t *a, int64_t *b)
{
	int64_t t = *a;
	*a = *b;
	*b = t;
}

/*
 * Puts the k-th smallest of v[0..n) at v[k] (Hoare's selection, median of
 * three): a day of one-minute checks per site, a thousand sites, and a
 * full sort of each was a fifth of squirrelctl status.
 */
static void select_kth(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (hi > lo) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap64(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap64(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap64(&v[hi], &v[mid]);
		int64_t pivot = v[mid];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap64(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

int64_t percentile(int64_t *v, size_t n, int pct)
{
	if (n == 0)
		return -1;
	/* nearest rank: the smallest value with at least pct% of them at or below it */
	size_t rank = (n * (size_t)pct + 99) / 100;
	size_t k = rank > 0 ? rank - 1 : 0;
	select_kth(v, n, k);
	return v[k];
}

int store_reader_figures(struct sq_reader *r, int64_t site_id, int64_t now, struct sq_figures *f)
{
	struct sq_rt_sample *rt = NULL;
	size_t n = 0;
	sqlite3_stmt *st;

	memset(f, 0, sizeof(*f));
	f->p50_ms = f->p95_ms = -1;
	if (store_reader_uptime(r, site_id, now - DAY, now, now, &f->day) < 0 ||
	    store_reader_uptime(r, site_id, now - 7 * DAY, now, now, &f->week) < 0 ||
	    store_reader_uptime(r, site_id, now - 30 * DAY, now, now, &f->month) < 0)
		return -1;
	if (store_reader_response_times(r, site_id, now - DAY, &rt, &n) < 0)
		return -1;
	if (n > 0) {
		int64_t *ms = malloc(n * sizeof(*ms));
		if (ms == NULL) {
			free(rt);
			log_errorx("%s: out of memory", store_path(r->s));
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			ms[i] = rt[i].ms;
		f->p50_ms = percentile(ms, n, 50);
		f->p95_ms = percentile(ms, n, 95);
		free(ms);
	}
	free(rt);
	st = query(r, Q_INCIDENT_COUNT, site_id);
	sqlite3_bind_int64(st, 2, now - 30 * DAY);
	if (sqlite3_step(st) != SQLITE_ROW) {
		report_error(r->s, "counting incidents");
		sqlite3_reset(st);
		return -1;
	}
	f->incidents = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

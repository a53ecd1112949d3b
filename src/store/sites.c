/*
 * sites.c - the sites table: the rows the daemon loads (refusing, by id,
 * any a person typed wrong), the change counter it polls to notice live
 * edits, and what squirrelctl does to the table: list, find, add, edit,
 * enable, remove.
 *
 * A site listed for people says whether the daemon skips its row, and why,
 * by the daemon's own rules: the store's (store_site_from_row) and then
 * the core's (sites_skip_reason), so the words are those of its log line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "squirrel/base/log.h"
#include "squirrel/core/depends.h"
#include "squirrel/core/site.h"
#include "squirrel/store/sites.h"
#include "db.h"

int store_sites_prepare(struct store *s)
{
	return store_prepare(s, "SELECT version FROM sites_version WHERE id = 1", STORE_KEEP,
	    &s->sites_version, "preparing a statement");
}

/* ---- the rows the daemon loads ---- */

static int column_positive(sqlite3_stmt *st, int col, int *out)
{
	int type = sqlite3_column_type(st, col);
	*out = 0;
	if (type == SQLITE_NULL)
		return 0;
	if (type != SQLITE_INTEGER)
		return -1;
	sqlite3_int64 v = sqlite3_column_int64(st, col);
	if (v <= 0 || v > INT32_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * One of the words a text column allows, as its index in words; NULL
 * leaves *out as it is. -1 when the column holds anything else.
 */
static int column_word(sqlite3_stmt *st, int col, const char *const *words, int *out)
{
	int type = sqlite3_column_type(st, col);

	if (type == SQLITE_NULL)
		return 0;
	if (type != SQLITE_TEXT)
		return -1;
	const char *v = (const char *)sqlite3_column_text(st, col);
	for (int i = 0; v != NULL && words[i] != NULL; i++) {
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static const char *const method_words[] = { "HEAD", "GET", NULL };
static const char *const mode_words[] = { "present", "absent", NULL };
_Static_assert(SQ_METHOD_GET == 1 && SQ_KEYWORD_ABSENT == 1, "the words' order is the enums'");

/* When it is slow (columns 16 and 17): slow_ms 0 is -1, never slow for this site. */
static const char *slow_from_row(sqlite3_stmt *st, struct sq_site *site)
{
	int type = sqlite3_column_type(st, 16);
	sqlite3_int64 v = sqlite3_column_int64(st, 16);

	if (type != SQLITE_NULL && (type != SQLITE_INTEGER || v < 0 || v > SQ_SLOW_MAX_MS))
		return "slow_ms is not a whole number of ms from 0 to 600000";
	site->slow_ms = type == SQLITE_NULL ? 0 : v == 0 ? -1 : (int)v;
	type = sqlite3_column_type(st, 17);
	v = sqlite3_column_int64(st, 17);
	if (type != SQLITE_NULL && (type != SQLITE_INTEGER || (v != 0 && v != 1)))
		return "alert_degraded is not 0 or 1";
	site->quiet_degraded = type != SQLITE_NULL && v == 0;
	/* the site it depends on (column 18): whether it exists is core/depends.c's */
	type = sqlite3_column_type(st, 18);
	v = sqlite3_column_int64(st, 18);
	if (type != SQLITE_NULL && (type != SQLITE_INTEGER || v <= 0 || v == site->id))
		return "depends_on is not the id of another site";
	site->depends_on = type == SQLITE_NULL ? 0 : v;
	return NULL;
}

/* What the answer must be (columns 11 to 15); their sense is checked in core. */
static const char *expect_from_row(sqlite3_stmt *st, struct sq_site *site)
{
	if (column_word(st, 11, method_words, &site->method) < 0)
		return "method is not HEAD or GET";
	if (store_col_text(st, 12, true, &site->expect_status) < 0)
		return "expect_status is not text";
	if (store_col_text(st, 13, true, &site->keyword) < 0)
		return "keyword is not text";
	if (column_word(st, 14, mode_words, &site->keyword_mode) < 0)
		return "keyword_mode is not present or absent";
	int type = sqlite3_column_type(st, 15);
	sqlite3_int64 v = sqlite3_column_int64(st, 15);
	if (type != SQLITE_NULL && (type != SQLITE_INTEGER || (v != 0 && v != 1)))
		return "keyword_nocase is not 0 or 1";
	site->keyword_nocase = type == SQLITE_NULL ? 0 : (int)v;
	if (store_col_text(st, 19, true, &site->cert_warn_days) < 0)
		return "cert_warn_days is not text";
	return slow_from_row(st, site);
}

void store_free_site(struct sq_site *site)
{
	site_free(site);
}

/* Fills site from a row (STORE_SITE_COLUMNS first), or says which column is wrong. */
const char *store_site_from_row(sqlite3_stmt *st, struct sq_site *site)
{
	memset(site, 0, sizeof(*site));
	site->id = sqlite3_column_int64(st, 0);
	if (store_col_text(st, 1, false, &site->url) < 0)
		return "url is not text";
	if (store_col_text(st, 2, false, &site->owner_email) < 0)
		return "owner_email is not text";
	if (store_col_text(st, 3, true, &site->name) < 0)
		return "name is not text";
	if (column_positive(st, 4, &site->interval_s) < 0)
		return "interval_s is not a positive whole number";
	if (column_positive(st, 5, &site->timeout_ms) < 0)
		return "timeout_ms is not a positive whole number";
	if (column_positive(st, 6, &site->fail_threshold) < 0)
		return "fail_threshold is not a positive whole number";
	if (column_positive(st, 7, &site->recover_threshold) < 0)
		return "recover_threshold is not a positive whole number";
	if (column_positive(st, 8, &site->retry_interval_s) < 0)
		return "retry_interval_s is not a positive whole number";
	/* remind_every_s may be 0 (no reminders for this site): store it as -1+1 */
	if (sqlite3_column_type(st, 9) == SQLITE_INTEGER && sqlite3_column_int64(st, 9) == 0)
		site->remind_every_s = -1;
	else if (column_positive(st, 9, &site->remind_every_s) < 0)
		return "remind_every_s is not a whole number of seconds";
	const unsigned char *state = sqlite3_column_text(st, 10);
	int parsed = state != NULL ? state_parse((const char *)state) : -1;
	site->state = parsed < 0 ? SQ_STATE_UNKNOWN : parsed;
	return expect_from_row(st, site);
}

/* A row of the daemon's: refused rows are logged by id and skipped (arg: the list). */
static int load_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_site_list *l = arg;
	struct sq_site *site = elem;
	const char *bad = store_site_from_row(st, site);

	if (bad == NULL)
		return 0;
	log_warnx("site %" PRId64 ": skipped: %s", site->id, bad);
	store_free_site(site);
	l->skipped++;
	return 1;
}

int store_load_sites(struct store *s, struct sq_site_list *out)
{
	struct sq_site_list l = { NULL, 0, 0 };
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s,
	    "SELECT " STORE_SITE_COLUMNS " FROM sites s LEFT JOIN site_state st ON st.site_id = s.id"
	    " WHERE s.enabled IS NOT 0 ORDER BY s.id", 0, &st, "reading the sites") < 0)
		return -1;
	rc = STORE_COLLECT(s, st, load_row, &l, &l, "reading the sites");
	sqlite3_finalize(st);
	if (rc < 0) {
		store_free_sites(&l);
		return -1;
	}
	/* a cycle typed with sqlite3: said once for this load, ignored for its sites */
	depends_break_cycles(l.v, l.n);
	*out = l;
	return 0;
}

void store_free_sites(struct sq_site_list *l)
{
	site_list_free(l);
}

int store_sites_version(struct store *s, int64_t *version)
{
	sqlite3_stmt *st = s->sites_version;
	int rc;

	sqlite3_reset(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	else
		store_error(s, "reading the sites' change counter");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* ---- what squirrelctl does to the table ---- */

static void site_info_free(struct sq_site_info *i)
{
	free(i->url);
	free(i->owner_email);
	free(i->name);
	free(i->last_error);
	free(i->skipped);
	free(i->group_name);
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

/* A row of store_site_infos' SELECT (STORE_SITE_COLUMNS, then its own). */
enum { C_ENABLED = STORE_SITE_NCOLUMNS, C_SINCE, C_LAST_CHECK, C_LAST_STATUS, C_LAST_MS,
	C_LAST_ERROR, C_CHECKS, C_FAILURES, C_CERT_END, C_GROUP, C_PUBLIC };

static int info_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_site_info *i = elem;
	(void)arg;

	if (skip_reason(st, &i->skipped) < 0)
		return -1;
	i->id = sqlite3_column_int64(st, 0);
	i->enabled = sqlite3_column_int(st, C_ENABLED) != 0;
	i->interval_s = store_col_int(st, 4, 0);
	i->timeout_ms = store_col_int(st, 5, 0);
	const unsigned char *state = sqlite3_column_text(st, 10);
	int parsed = state != NULL ? state_parse((const char *)state) : -1;
	i->state = parsed < 0 ? SQ_STATE_UNKNOWN : (enum sq_state)parsed;
	i->since = store_col_int(st, C_SINCE, 0);
	i->last_check = store_col_int(st, C_LAST_CHECK, 0);
	i->last_status = store_col_int(st, C_LAST_STATUS, 0);
	i->last_ms = store_col_int(st, C_LAST_MS, 0);
	i->checks_total = store_col_int(st, C_CHECKS, 0);
	i->failures_total = store_col_int(st, C_FAILURES, 0);
	i->cert_not_after = store_col_int(st, C_CERT_END, 0);
	i->public = store_col_int(st, C_PUBLIC, 0) == 1;
	if (store_col_as_text(st, 1, false, &i->url) < 0 ||
	    store_col_as_text(st, 2, false, &i->owner_email) < 0 ||
	    store_col_as_text(st, 3, true, &i->name) < 0 ||
	    store_col_as_text(st, C_LAST_ERROR, false, &i->last_error) < 0 ||
	    store_col_as_text(st, C_GROUP, true, &i->group_name) < 0) {
		site_info_free(i);
		return -1;
	}
	return 0;
}

int store_site_infos(struct store *s, int64_t id, struct sq_site_info_list *out)
{
	struct sq_site_info_list l = { NULL, 0 };
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s,
	    "SELECT " STORE_SITE_COLUMNS ", s.enabled IS NOT 0,"
	    " st.since, st.last_check, st.last_status, st.last_ms, st.last_error, c.checks, c.failures,"
	    " sc.not_after, s.group_name, s.public"
	    " FROM sites s LEFT JOIN site_state st ON st.site_id = s.id"
	    " LEFT JOIN site_counters c ON c.site_id = s.id"
	    " LEFT JOIN site_cert sc ON sc.site_id = s.id"
	    " WHERE ?1 = 0 OR s.id = ?1 ORDER BY s.id", 0, &st, "reading the sites") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = STORE_COLLECT(s, st, info_row, NULL, &l, "reading the sites");
	sqlite3_finalize(st);
	if (rc < 0) {
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

	if (store_prepare(s, is_id ? "SELECT id FROM sites WHERE id = ?1" :
	    "SELECT id FROM sites WHERE url = ?1 ORDER BY id LIMIT 2", 0, &st, "finding a site") < 0)
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
		store_error(s, "finding a site");
		return -1;
	}
	return found == 0 ? STORE_NOT_FOUND : found == 1 ? STORE_FOUND : STORE_AMBIGUOUS;
}

static int edit_apply(struct store *s, int64_t id, const struct sq_site_edit *e, const char *what);

/* depends_lookup_fn over the sites table (arg: the store). */
static int parent_of(void *arg, int64_t id, int64_t *parent)
{
	struct store *s = arg;
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT depends_on FROM sites WHERE id = ?1", 0, &st,
	    "following depends_on") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*parent = sqlite3_column_type(st, 0) == SQLITE_INTEGER ?
		    sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(s, "following depends_on");
		return -1;
	}
	return rc == SQLITE_ROW;
}

/*
 * Whether e's depends_on may be written for site id (0: a site being
 * added), inside the caller's transaction: 0, STORE_REFUSED (said, with
 * the chain), or -1.
 */
static int depends_check(struct store *s, int64_t id, const struct sq_site_edit *e)
{
	char why[400];
	int64_t parent = e->set[SQ_SET_DEPENDS];

	if (parent == SQ_EDIT_KEEP || parent == SQ_EDIT_DEFAULT)
		return 0;
	int rc = depends_refusal(id, parent, parent_of, s, why, sizeof(why));
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (id > 0)
		log_errorx("site %" PRId64 " cannot depend on site %" PRId64 ": %s", id, parent, why);
	else
		log_errorx("the new site cannot depend on site %" PRId64 ": %s", parent, why);
	return STORE_REFUSED;
}

int store_add_site(struct store *s, const struct sq_site_new *n, int64_t *id)
{
	sqlite3 *db = s->db;
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_begin(s) < 0)
		return -1;
	/* the same URL for the same owner twice would only mean two alerts */
	if (store_prepare(s, "SELECT id FROM sites WHERE url = ?1 AND owner_email = ?2 ORDER BY id LIMIT 1",
	    0, &st, "adding a site") < 0)
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
		store_error(s, "adding a site");
		goto fail;
	}
	if (store_prepare(s, "INSERT INTO sites (url, owner_email, name, interval_s, timeout_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", 0, &st, "adding a site") < 0)
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
		store_error(s, "adding a site");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	*id = sqlite3_last_insert_rowid(db);
	if (n->more != NULL) {
		struct sq_site_edit more = *n->more;
		more.url = more.owner_email = more.name = NULL;
		if ((rc = depends_check(s, 0, &more)) != 0) {
			store_rollback(s);
			return rc;
		}
		if (edit_apply(s, *id, &more, "adding a site") != 0)
			goto fail;
	}
	return store_commit(s);
fail:
	sqlite3_finalize(st);
	store_rollback(s);
	return -1;
}

int store_remove_site(struct store *s, int64_t id)
{
	int changes;

	if (store_run(s, "removing a site", &changes, "DELETE FROM sites WHERE id = ?1", "I", id) < 0)
		return -1;
	return changes == 0 ? STORE_NOT_FOUND : 0;
}

int store_enable_site(struct store *s, int64_t id, bool enabled)
{
	int changes;

	if (store_run(s, enabled ? "enabling a site" : "disabling a site", &changes,
	    "UPDATE sites SET enabled = ?2 WHERE id = ?1", "Ii", id, (int)enabled) < 0)
		return -1;
	return changes == 0 ? STORE_NOT_FOUND : 0;
}

const char *const sq_setting_columns[SQ_SET_MAX] = {
	[SQ_SET_INTERVAL] = "interval_s",
	[SQ_SET_TIMEOUT] = "timeout_ms",
	[SQ_SET_FAIL] = "fail_threshold",
	[SQ_SET_RECOVER] = "recover_threshold",
	[SQ_SET_RETRY] = "retry_interval_s",
	[SQ_SET_REMIND] = "remind_every_s",
	[SQ_SET_SLOW] = "slow_ms",
	[SQ_SET_ALERT_DEGRADED] = "alert_degraded",
	[SQ_SET_DEPENDS] = "depends_on",
	[SQ_SET_PUBLIC] = "public",
};

/* One column an edit sets: text, a number, or NULL. */
struct edit_value {
	const char *col;
	const char *text;
	int64_t num;
	bool null;
};

const char *const sq_text_columns[SQ_TEXT_MAX] = {
	[SQ_TEXT_METHOD] = "method",
	[SQ_TEXT_EXPECT_STATUS] = "expect_status",
	[SQ_TEXT_KEYWORD] = "keyword",
	[SQ_TEXT_KEYWORD_MODE] = "keyword_mode",
	[SQ_TEXT_CERT_WARN_DAYS] = "cert_warn_days",
	[SQ_TEXT_GROUP] = "group_name",
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
	for (int i = 0; i < SQ_TEXT_MAX; i++) {
		if (e->text[i] == NULL)
			continue;
		v[n++] = (struct edit_value){ .col = sq_text_columns[i], .text = e->text[i],
		    .null = e->text[i][0] == '\0' };
	}
	if (e->keyword_nocase != SQ_EDIT_KEEP)
		v[n++] = (struct edit_value){ .col = "keyword_nocase", .num = e->keyword_nocase,
		    .null = e->keyword_nocase == SQ_EDIT_DEFAULT };
	return n;
}

/* The site that already watches what site id would watch after e. 0, 1 (*other), -1. */
static int edit_clash(struct store *s, int64_t id, const struct sq_site_edit *e, int64_t *other)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT o.id FROM sites s JOIN sites o ON o.url = coalesce(?2, s.url)"
	    " AND o.owner_email = coalesce(?3, s.owner_email) AND o.id <> s.id"
	    " WHERE s.id = ?1 ORDER BY o.id LIMIT 1", 0, &st, "editing a site") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, e->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->owner_email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*other = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_error(s, "editing a site");
		return -1;
	}
	return rc == SQLITE_ROW;
}

/*
 * e's columns onto site id, inside the caller's transaction: 0,
 * STORE_NOT_FOUND, or -1 (logged, what is the caller's).
 */
static int edit_apply(struct store *s, int64_t id, const struct sq_site_edit *e, const char *what)
{
	struct edit_value v[4 + SQ_SET_MAX + SQ_TEXT_MAX + 1];
	size_t n = edit_values(e, v), used;
	char sql[768];
	sqlite3_stmt *st = NULL;

	if (n == 0)
		return 0;
	used = (size_t)snprintf(sql, sizeof(sql), "UPDATE sites SET");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(sql + used, sizeof(sql) - used, "%s %s = ?%zu",
		    i > 0 ? "," : "", v[i].col, i + 2);
	snprintf(sql + used, sizeof(sql) - used, " WHERE id = ?1");
	if (store_prepare(s, sql, 0, &st, what) < 0)
		return -1;
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
		store_error(s, what);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return sqlite3_changes(s->db) == 0 ? STORE_NOT_FOUND : 0;
}

int store_edit_site(struct store *s, int64_t id, const struct sq_site_edit *e, int64_t *other)
{
	int rc;

	if (store_begin(s) < 0)
		return -1;
	/* the same URL for the same owner twice would only mean two alerts, as in add */
	if (e->url != NULL || e->owner_email != NULL) {
		if ((rc = edit_clash(s, id, e, other)) != 0) {
			store_rollback(s);
			return rc < 0 ? -1 : STORE_TAKEN;
		}
	}
	if ((rc = depends_check(s, id, e)) == 0)
		rc = edit_apply(s, id, e, "editing a site");
	if (rc != 0) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

void store_free_site_settings(struct sq_site_settings *st)
{
	free(st->url);
	free(st->owner_email);
	free(st->name);
	for (int i = 0; i < SQ_TEXT_MAX; i++)
		free(st->text[i]);
	memset(st, 0, sizeof(*st));
}

int store_site_settings(struct store *s, int64_t id, struct sq_site_settings *out)
{
	sqlite3_stmt *st;
	int rc;

	_Static_assert(SQ_SET_MAX == 10 && SQ_TEXT_MAX == 6,
	    "the SELECT below names the settings' columns in their enums' order");
	memset(out, 0, sizeof(*out));
	if (store_prepare(s, "SELECT id, url, owner_email, name, enabled IS NOT 0, interval_s, timeout_ms,"
	    " fail_threshold, recover_threshold, retry_interval_s, remind_every_s,"
	    " slow_ms, alert_degraded, depends_on, public, method, expect_status, keyword,"
	    " keyword_mode, cert_warn_days, group_name, keyword_nocase FROM sites WHERE id = ?1", 0, &st, "reading a site") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->enabled = sqlite3_column_int(st, 4) != 0;
		for (int i = 0; i < SQ_SET_MAX; i++)
			out->set[i] = store_col_int(st, 5 + i, -1);
		out->keyword_nocase = (int)store_col_int(st, 5 + SQ_SET_MAX + SQ_TEXT_MAX, -1);
		for (int i = 0; i < SQ_TEXT_MAX; i++)
			if (store_col_as_text(st, 5 + SQ_SET_MAX + i, true, &out->text[i]) < 0)
				rc = SQLITE_NOMEM;
		if (store_col_as_text(st, 1, false, &out->url) < 0 ||
		    store_col_as_text(st, 2, false, &out->owner_email) < 0 ||
		    store_col_as_text(st, 3, true, &out->name) < 0)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_NOMEM)
			log_errorx("%s: out of memory reading a site", s->path);
		else
			store_error(s, "reading a site");
		store_free_site_settings(out);
		return -1;
	}
	return 0;
}

/* ---- the owners' pages ---- */

/* owner_email's token into out: 1 found, 0 none yet, -1 (logged). */
static int token_read(struct store *s, const char *owner_email, char out[33])
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT token FROM owner_pages WHERE owner_email = ?1", 0, &st,
	    "reading an owner's page token") < 0)
		return -1;
	sqlite3_bind_text(st, 1, owner_email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t == NULL || strlen(t) != SQ_OWNER_TOKEN_LEN) {
			log_errorx("%s: the page token of %s is not %d characters", s->path,
			    owner_email, SQ_OWNER_TOKEN_LEN);
			sqlite3_finalize(st);
			return -1;
		}
		memcpy(out, t, SQ_OWNER_TOKEN_LEN + 1);
	} else if (rc != SQLITE_DONE) {
		store_error(s, "reading an owner's page token");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* 16 bytes from the kernel's generator, as 32 lowercase hex characters. */
static int token_new(struct store *s, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[SQ_OWNER_TOKEN_LEN / 2];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("%s: drawing an owner's page token", s->path);
			return -1;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[SQ_OWNER_TOKEN_LEN] = '\0';
	return 0;
}

/*
 * Read first, so that a reading connection (or a reader's snapshot) gets
 * a token made before; made in a transaction of its own, or the caller's.
 * INSERT OR IGNORE: another process that made one meanwhile wins, and the
 * SELECT after it reads that one.
 */
int store_owner_token(struct store *s, const char *owner_email, char out[33])
{
	char fresh[SQ_OWNER_TOKEN_LEN + 1];
	bool own = sqlite3_get_autocommit(s->db) != 0;
	int rc;

	if ((rc = token_read(s, owner_email, out)) != 0)
		return rc < 0 ? -1 : 0;
	if (token_new(s, fresh) < 0)
		return -1;
	if (own && store_begin(s) < 0)
		return -1;
	if (store_run(s, "keeping an owner's page token", NULL,
	    "INSERT OR IGNORE INTO owner_pages (owner_email, token) VALUES (?1, ?2)", "tt",
	    owner_email, fresh) < 0 || (rc = token_read(s, owner_email, out)) < 0)
		goto fail;
	if (rc == 0) {
		log_errorx("%s: the page token of %s was not kept", s->path, owner_email);
		goto fail;
	}
	return own ? store_commit(s) : 0;
fail:
	if (own)
		store_rollback(s);
	return -1;
}

static int owner_token_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_owner_token *t = elem;
	(void)arg;

	if (store_col_as_text(st, 0, false, &t->owner_email) < 0)
		return -1;
	const char *tok = (const char *)sqlite3_column_text(st, 1);
	if (tok == NULL || strlen(tok) != SQ_OWNER_TOKEN_LEN)
		return 0;           /* the CHECK keeps these out; a row typed around it is left aside */
	memcpy(t->token, tok, SQ_OWNER_TOKEN_LEN + 1);
	return 0;
}

int store_owner_tokens(struct store *s, struct sq_owner_token_list *out)
{
	struct sq_owner_token_list l = { NULL, 0 };
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT owner_email, token FROM owner_pages ORDER BY owner_email", 0,
	    &st, "reading the owners' page tokens") < 0)
		return -1;
	rc = STORE_COLLECT(s, st, owner_token_row, NULL, &l, "reading the owners' page tokens");
	sqlite3_finalize(st);
	if (rc < 0) {
		store_free_owner_tokens(&l);
		return -1;
	}
	*out = l;
	return 0;
}

void store_free_owner_tokens(struct sq_owner_token_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].owner_email);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

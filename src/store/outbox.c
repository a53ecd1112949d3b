/*
 * outbox.c - the alerts owed. Each alert is queued in the same transaction
 * as the transition that caused it, with a copy of everything its mail
 * needs, so a crash, a failed mail server or a site deleted meanwhile
 * cannot lose it; delivery reads the ones due, and marks each sent, failed
 * for good, or to be retried later. squirrelctl lists the ones pending or
 * failed, and the metrics count them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/core/classes.h"
#include "squirrel/store/outbox.h"
#include "db.h"

int store_outbox_prepare(struct store *s)
{
	return store_prepare(s,
	    "INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, class, detail,"
	    "  http_status, since, last_ok, down_for, next_attempt, locations,"
	    "  cert_not_after, cert_subject, cert_issuer)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?13, ?8, ?9, ?10, ?11, ?14, ?12, ?15, ?16, ?17)",
	    STORE_KEEP,
	    &s->insert_alert, "preparing a statement");
}

/* The kind a kind column names (the one table, core/state.c); SQ_ALERT_NONE for anything else. */
static int kind_of(const unsigned char *text)
{
	int k = sq_alert_kind_parse((const char *)text);
	return k < 0 ? SQ_ALERT_NONE : k;
}

/* The groups of several locations of the alert just queued (alert_id), in order. */
static int queue_groups(struct store *s, int64_t alert_id, const struct sq_alert_row *a)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (a->ngroups == 0)
		return 0;
	if (store_prepare(s, "INSERT INTO outbox_located (alert_id, n, class, http_status, locations)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", 0, &st, "queueing an alert") < 0)
		return -1;
	for (size_t i = 0; i < a->ngroups && rc == 0; i++) {
		const struct sq_located *g = &a->groups[i];
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, alert_id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_int(st, 3, sq_class_code(g->err));
		sqlite3_bind_int(st, 4, g->http_status);
		sqlite3_bind_text(st, 5, g->where != NULL ? g->where : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_error(s, "queueing an alert");
			rc = -1;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * The alert just queued (alert_id, the owner's row), copied once per
 * contact that wants it: the site's linked contacts and those of every
 * site, each filtered by its list of kinds. An email contact's copy goes
 * to its address; any other names its contact, and keeps the owner's
 * address only to be told apart from other owners' rows. Same transaction.
 */
static int queue_contacts(struct store *s, int64_t alert_id)
{
	return store_run(s, "queueing an alert for its contacts", NULL,
	    "INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, class, detail,"
	    "  http_status, since, last_ok, down_for, next_attempt, locations,"
	    "  cert_not_after, cert_subject, cert_issuer, status, contact_id, alert_of)"
	    " SELECT o.site_id, CASE c.kind WHEN 'email' THEN c.target ELSE o.owner_email END,"
	    "  o.kind, o.created_at, o.url, o.name, o.class, o.detail, o.http_status, o.since,"
	    "  o.last_ok, o.down_for, o.next_attempt, o.locations, o.cert_not_after,"
	    "  o.cert_subject, o.cert_issuer, o.status, c.id, o.id"
	    " FROM outbox o JOIN contacts c ON (c.every_site = 1 OR c.id IN"
	    "  (SELECT l.contact_id FROM site_contacts l WHERE l.site_id = o.site_id))"
	    "  AND (c.kinds IS NULL OR instr(',' || c.kinds || ',', ',' || o.kind || ',') > 0)"
	    " WHERE o.id = ?1 ORDER BY c.id", "I", alert_id);
}

int store_queue_alert(struct store *s, const struct sq_alert_row *a)
{
	sqlite3_stmt *st = s->insert_alert;
	int rc;

	if (sq_alert_kind_code(a->kind) == NULL)
		return -1;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, a->site_id);
	sqlite3_bind_text(st, 2, a->owner_email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sq_alert_kind_code(a->kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, a->created_at);
	sqlite3_bind_text(st, 5, a->url, -1, SQLITE_STATIC);
	if (a->name != NULL)
		sqlite3_bind_text(st, 6, a->name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	/* a class out of range (a backend's bug) is kept as the library's error */
	sqlite3_bind_int(st, 7, sq_class_code(a->err) >= 0 ? sq_class_code(a->err) :
	    sq_class_code(SQ_ERR_OTHER));
	sqlite3_bind_text(st, 13, a->detail != NULL ? a->detail : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, a->http_status);
	sqlite3_bind_int64(st, 9, a->since);
	sqlite3_bind_int64(st, 10, a->last_ok);
	sqlite3_bind_int64(st, 11, a->down_for);
	if (a->locations != NULL)
		sqlite3_bind_text(st, 12, a->locations, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int64(st, 14, a->next_attempt > 0 ? a->next_attempt : a->created_at);
	if (a->kind == SQ_ALERT_CERT) {
		sqlite3_bind_int64(st, 15, a->cert_not_after);
		sqlite3_bind_text(st, 16, a->cert_subject != NULL ? a->cert_subject : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 17, a->cert_issuer != NULL ? a->cert_issuer : "", -1,
		    SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "queueing an alert");
		return -1;
	}
	s->last_alert_id = sqlite3_last_insert_rowid(s->db);
	if (queue_groups(s, s->last_alert_id, a) < 0)
		return -1;
	return queue_contacts(s, s->last_alert_id);
}

int64_t store_queued_alert_id(struct store *s)
{
	return s->last_alert_id;
}

static void alert_row_free(struct sq_alert_row *a)
{
	free(a->owner_email);
	free(a->url);
	free(a->name);
	free(a->detail);
	free(a->locations);
	free(a->cert_subject);
	free(a->cert_issuer);
	for (size_t i = 0; i < a->ngroups; i++)
		free((char *)a->groups[i].where);
	free(a->groups);
	for (size_t i = 0; i < a->nchildren; i++) {
		free((char *)a->children[i].url);
		free((char *)a->children[i].name);
	}
	free(a->children);
	free(a->answers);
	free(a->status);
	free(a->last_error);
	store_contact_free(&a->contact);
}

void store_free_alerts(struct sq_alert_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		alert_row_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * An alert due, as delivery needs it (arg: the store). A row edited by
 * hand into nonsense is left as it is, and said so: skipped.
 */
static int due_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct store *s = arg;
	struct sq_alert_row *a = elem;

	a->id = sqlite3_column_int64(st, 0);
	a->site_id = sqlite3_column_int64(st, 1);
	a->kind = kind_of(sqlite3_column_text(st, 3));
	a->created_at = sqlite3_column_int64(st, 4);
	a->http_status = sqlite3_column_int(st, 7);
	a->since = sqlite3_column_int64(st, 8);
	a->last_ok = sqlite3_column_int64(st, 9);
	a->down_for = sqlite3_column_int64(st, 10);
	a->attempts = sqlite3_column_int(st, 11);
	if (store_col_text(st, 2, false, &a->owner_email) < 0 ||
	    store_col_text(st, 5, false, &a->url) < 0 || store_col_text(st, 6, true, &a->name) < 0 ||
	    store_col_text(st, 13, false, &a->detail) < 0 ||
	    store_col_text(st, 14, true, &a->locations) < 0 ||
	    store_col_as_text(st, 18, true, &a->cert_subject) < 0 ||
	    store_col_as_text(st, 19, true, &a->cert_issuer) < 0) {
		log_warnx("%s: outbox row %" PRId64 " is malformed; left as it is", s->path, a->id);
		alert_row_free(a);
		return 1;
	}
	a->err = store_col_class(st, 12, a->detail);
	/* the mail it answers: text only, never longer than a Message-ID can be */
	if (sqlite3_column_type(st, 20) == SQLITE_TEXT && sqlite3_column_bytes(st, 20) <= 512 &&
	    store_col_text(st, 20, true, &a->answers) < 0) {
		alert_row_free(a);
		return -1;
	}
	a->answers_at = sqlite3_column_int64(st, 21);
	a->contact_id = store_col_int(st, 22, 0);
	a->alert_of = store_col_int(st, 23, 0);
	if (a->contact_id > 0 && sqlite3_column_type(st, 24) != SQLITE_NULL) {
		a->contact.id = a->contact_id;
		a->contact.insecure = sqlite3_column_int(st, 27) != 0;
		if (store_col_as_text(st, 24, false, &a->contact.kind) < 0 ||
		    store_col_as_text(st, 25, false, &a->contact.target) < 0 ||
		    store_col_as_text(st, 26, true, &a->contact.secret_file) < 0 ||
		    store_col_as_text(st, 28, false, &a->contact.name) < 0 ||
		    store_col_as_text(st, 29, true, &a->contact.sender) < 0 ||
		    store_col_as_text(st, 30, true, &a->contact.api) < 0) {
			alert_row_free(a);
			return -1;
		}
	}
	a->cert_not_after = store_col_int(st, 17, 0);
	a->children_total = store_col_int(st, 15, 0);
	a->children_back = store_col_int(st, 16, 0);
	return 0;
}

/* The sites behind a parent an alert names (outbox_children), those still failing first. */
static int read_children(struct store *s, struct sq_alert_row *a)
{
	sqlite3_stmt *st;
	int rc;

	if (a->children_total <= 0)
		return 0;
	if (store_prepare(s, "SELECT site_id, back, substr(url, 1, 4096), substr(name, 1, 1024)"
	    " FROM outbox_children WHERE alert_id = ?1 ORDER BY back, site_id LIMIT ?2", 0, &st,
	    "reading the outbox") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, a->alert_of > 0 ? a->alert_of : a->id);
	sqlite3_bind_int(st, 2, 2 * STORE_CHILDREN_SHOWN);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->children == NULL &&
		    (a->children = calloc(2 * STORE_CHILDREN_SHOWN, sizeof(*a->children))) == NULL)
			break;
		struct sq_child *c = &a->children[a->nchildren];
		char *url = NULL, *name = NULL;
		if (store_col_as_text(st, 2, false, &url) < 0)
			break;
		if (store_col_as_text(st, 3, true, &name) < 0) {
			free(url);
			break;
		}
		c->site_id = sqlite3_column_int64(st, 0);
		c->back = sqlite3_column_int(st, 1) != 0;
		c->url = url;
		c->name = name;
		a->nchildren++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_ROW)
			log_errorx("%s: out of memory reading the outbox", s->path);
		else
			store_error(s, "reading the outbox");
		return -1;
	}
	return 0;
}

/*
 * The groups of several locations of an alert due: STORE_GROUPS_READ of
 * them, each place cut like any text, and how many more there are.
 */
static int read_groups(struct store *s, struct sq_alert_row *a)
{
	sqlite3_stmt *st;
	int64_t total = 0;
	int rc;

	if (store_prepare(s, "SELECT class, http_status, substr(locations, 1, 4096),"
	    " (SELECT count(*) FROM outbox_located WHERE alert_id = ?1)"
	    " FROM outbox_located WHERE alert_id = ?1 ORDER BY n LIMIT ?2", 0, &st,
	    "reading the outbox") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, a->alert_of > 0 ? a->alert_of : a->id);
	sqlite3_bind_int(st, 2, STORE_GROUPS_READ);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->groups == NULL && (a->groups = calloc(STORE_GROUPS_READ, sizeof(*a->groups))) == NULL)
			break;
		struct sq_located *g = &a->groups[a->ngroups];
		char *where = NULL;
		if (store_col_as_text(st, 2, false, &where) < 0)
			break;
		g->err = sq_class_of_code(store_col_int(st, 0, -1));
		g->http_status = (int)store_col_int(st, 1, 0);
		g->where = where;
		a->ngroups++;
		total = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_ROW)
			log_errorx("%s: out of memory reading the outbox", s->path);
		else
			store_error(s, "reading the outbox");
		return -1;
	}
	a->groups_more = total > (int64_t)a->ngroups ? (size_t)(total - (int64_t)a->ngroups) : 0;
	return 0;
}

/*
 * The incident an outbox row (o) tells of: the site's one open at the time
 * of the alert, the one that started when the alert says first.
 */
#define INCIDENT_AT \
    "SELECT x.id FROM incidents x WHERE x.site_id = o.site_id AND x.started_at <= o.created_at" \
    " AND (x.ended_at IS NULL OR x.ended_at >= o.created_at)"
#define INCIDENT_OF_ALERT \
    "coalesce((" INCIDENT_AT " AND x.started_at = o.since ORDER BY x.id DESC LIMIT 1)," \
    " (" INCIDENT_AT " ORDER BY x.started_at DESC, x.id DESC LIMIT 1))"

int store_outbox_due(struct store *s, int64_t now, bool all, struct sq_alert_list *out)
{
	struct sq_alert_list l = { NULL, 0 };
	sqlite3_stmt *st;
	int rc;

	/*
	 * Anyone who can write the file can make a text as long as they like;
	 * the mail shows a few hundred bytes of each, so no more is read back.
	 * The address is read whole: cut, it could name someone else.
	 */
	if (store_prepare(s,
	    "SELECT o.id, o.site_id, o.owner_email, o.kind, o.created_at, substr(o.url, 1, 4096),"
	    " substr(o.name, 1, 1024), o.http_status, o.since, o.last_ok, o.down_for, o.attempts,"
	    " o.class, substr(o.detail, 1, 4096), substr(o.locations, 1, 4096), o.children,"
	    " o.children_back, o.cert_not_after, substr(o.cert_subject, 1, 1024),"
	    " substr(o.cert_issuer, 1, 1024), i.message_id, i.started_at,"
	    " o.contact_id, o.alert_of, c.kind, c.target, c.secret_file, c.insecure, c.name,"
	    " c.sender, c.api FROM outbox o"
	    " LEFT JOIN incidents i ON o.kind IN (?3, ?4) AND i.id = " INCIDENT_OF_ALERT
	    " LEFT JOIN contacts c ON c.id = o.contact_id"
	    " WHERE o.status = 'pending' AND (?2 OR o.next_attempt <= ?1 OR ("
	    /*
	     * the owners (and contacts) with an alert due: one list, made once
	     * (not per row); their other pending alerts go with it, a DOWN still
	     * waiting for its retry too, so that its UP never goes before it
	     */
	    "  (o.owner_email, coalesce(o.contact_id, 0)) IN (SELECT d.owner_email,"
	    "   coalesce(d.contact_id, 0) FROM outbox d WHERE d.status = 'pending'"
	    "   AND d.next_attempt <= ?1)))"
	    /* mail by address (an email contact's beside its owner's), then each other contact */
	    " ORDER BY coalesce(c.kind, 'email') <> 'email',"
	    "  CASE WHEN coalesce(c.kind, 'email') = 'email' THEN 0 ELSE o.contact_id END,"
	    "  o.owner_email, o.id",
	    0, &st, "reading the outbox") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, all);
	sqlite3_bind_text(st, 3, sq_alert_kind_code(SQ_ALERT_UP), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sq_alert_kind_code(SQ_ALERT_REMINDER), -1, SQLITE_STATIC);
	rc = STORE_COLLECT(s, st, due_row, s, &l, "reading the outbox");
	sqlite3_finalize(st);
	for (size_t i = 0; i < l.n && rc == 0; i++)
		if ((rc = read_groups(s, &l.v[i])) == 0)
			rc = read_children(s, &l.v[i]);
	if (rc < 0) {
		store_free_alerts(&l);
		return -1;
	}
	*out = l;
	return 0;
}

int store_outbox_sent(struct store *s, int64_t id, int64_t now, const char *message_id)
{
	if (store_run(s, "updating the outbox", NULL,
	    "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,"
	    " last_error = '', message_id = ?3 WHERE id = ?1", "IIt", id, now, message_id) < 0)
		return -1;
	if (message_id == NULL)
		return 0;
	/* the DOWN mail of an incident: what its UP and its reminders answer */
	return store_run(s, "noting the mail of an incident", NULL,
	    "UPDATE incidents SET message_id = ?2 WHERE id ="
	    " (SELECT " INCIDENT_OF_ALERT " FROM outbox o WHERE o.id = ?1 AND o.kind = ?3)",
	    "Itt", id, message_id, sq_alert_kind_code(SQ_ALERT_DOWN));
}

int store_outbox_failed(struct store *s, int64_t id, const char *why)
{
	return store_run(s, "updating the outbox", NULL,
	    "UPDATE outbox SET status = 'failed', attempts = attempts + 1,"
	    " last_error = ?2 WHERE id = ?1", "It", id, why ? why : "");
}

int store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next_attempt,
    const char *why)
{
	return store_run(s, "updating the outbox", NULL,
	    "UPDATE outbox SET attempts = ?2, next_attempt = ?3,"
	    " last_error = ?4 WHERE id = ?1", "IiIt", id, attempts, next_attempt, why ? why : "");
}

int store_outbox_counts(struct store *s, int64_t *pending, int64_t *failed)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s,
	    "SELECT count(*) FILTER (WHERE status = 'pending'),"
	    " count(*) FILTER (WHERE status = 'failed') FROM outbox", 0, &st,
	    "counting the outbox") < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*pending = sqlite3_column_int64(st, 0);
		*failed = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_outbox_next_attempt(struct store *s, int64_t after, int64_t *at)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	/* outbox_pending is on (status, next_attempt): one step down the index */
	if (store_prepare(s, "SELECT min(next_attempt) FROM outbox WHERE status = 'pending'"
	    " AND next_attempt > ?1", 0, &st, "reading when the next alert is due") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*at = sqlite3_column_int64(st, 0);
		found = 1;
	} else if (rc != SQLITE_ROW) {
		store_error(s, "reading when the next alert is due");
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

/* An alert as squirrelctl lists it: whatever a person stored, read as text. */
static int list_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_alert_row *a = elem;
	(void)arg;

	a->id = sqlite3_column_int64(st, 0);
	a->site_id = store_col_int(st, 1, 0);
	a->kind = kind_of(sqlite3_column_text(st, 4));
	a->created_at = store_col_int(st, 6, 0);
	a->attempts = (int)store_col_int(st, 7, 0);
	a->next_attempt = store_col_int(st, 8, 0);
	if (store_col_as_text(st, 2, false, &a->owner_email) < 0 ||
	    store_col_as_text(st, 3, false, &a->url) < 0 ||
	    store_col_as_text(st, 5, false, &a->status) < 0 ||
	    store_col_as_text(st, 9, false, &a->last_error) < 0 ||
	    store_col_as_text(st, 10, true, &a->name) < 0) {
		alert_row_free(a);
		return -1;
	}
	return 0;
}

int store_outbox_list(struct store *s, struct sq_alert_list *out)
{
	struct sq_alert_list l = { NULL, 0 };
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT id, site_id, owner_email, url, kind, status, created_at, attempts,"
	    " next_attempt, last_error, name FROM outbox WHERE status IN ('pending', 'held', 'failed')"
	    " ORDER BY id", 0, &st, "reading the outbox") < 0)
		return -1;
	rc = STORE_COLLECT(s, st, list_row, NULL, &l, "reading the outbox");
	sqlite3_finalize(st);
	if (rc < 0) {
		store_free_alerts(&l);
		return -1;
	}
	*out = l;
	return 0;
}

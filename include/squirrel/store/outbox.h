/*
 * outbox.h - the alerts owed (src/store/outbox.c). An alert is queued in
 * the transaction of the transition that caused it, with a copy of
 * everything its mail needs; delivery reads the ones due and marks each
 * sent, failed for good, or to be retried; squirrelctl lists them.
 */
#ifndef SQUIRREL_STORE_OUTBOX_H
#define SQUIRREL_STORE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/check.h"
#include "squirrel/core/state.h"
#include "squirrel/store/contacts.h"
#include "squirrel/store/store.h"

/* An alert in the outbox, with a copy of everything its mail needs. */
struct sq_alert_row {
	int64_t id;
	int64_t site_id;
	char *owner_email;
	char *url;
	char *name;           /* NULL when the site has none */
	int kind;             /* enum sq_alert_kind; SQ_ALERT_NONE for a kind unknown */
	int err;              /* enum sq_err; -1: a class this version does not know */
	char *detail;         /* the check's own words beside the class (sq_result_detail) */
	int http_status;
	/*
	 * A verdict of several locations: each answer and where it was seen
	 * (outbox_located), the leading one first; at most STORE_GROUPS_READ
	 * read back, groups_more further ones only counted.
	 */
	struct sq_located *groups;
	size_t ngroups;
	size_t groups_more;
	/*
	 * The sites behind this one (a DOWN or UP alert of a parent): a few
	 * of each sort read back (outbox_children), and how many there were.
	 */
	struct sq_child *children;
	size_t nchildren;
	int64_t children_total;
	int64_t children_back;
	int64_t created_at;
	int64_t since;
	int64_t last_ok;
	int64_t down_for;
	int attempts;
	char *locations;      /* what each location saw (quorum_describe); NULL: one machine */
	/* a `cert` alert: the certificate's end (unix s), subject and issuer; else 0, NULL */
	int64_t cert_not_after;
	char *cert_subject;
	char *cert_issuer;
	/*
	 * When it is due (unix s): queued, 0 is at once (created_at), later
	 * holds it for [check] group_window; read back by store_outbox_list.
	 */
	int64_t next_attempt;
	/*
	 * Due rows of an UP or a reminder: the Message-ID the mail of their
	 * incident's DOWN went out under (NULL: none recorded), and when that
	 * incident started.
	 */
	char *answers;
	int64_t answers_at;
	/* the outbox's own bookkeeping: read by store_outbox_list only, else NULL */
	char *status;         /* "pending", "failed" */
	char *last_error;
	/*
	 * A contact's copy of an alert: its contact (0: the site's owner, by
	 * mail) and the owner's row it copies (0: this is that row), whose
	 * groups and sites behind it shares; due rows carry the contact read
	 * with them (contact.kind NULL: the contact was removed).
	 */
	int64_t contact_id;
	int64_t alert_of;
	struct sq_contact contact;
	bool busy;            /* delivery's own mark: its message is on its way */
};

/* The groups of an alert read back: the mail shows ten, and counts the rest. */
#define STORE_GROUPS_READ 10

struct sq_alert_list {
	struct sq_alert_row *v;
	size_t n;
};

int store_queue_alert(struct store *s, const struct sq_alert_row *a);
/* The id of the alert store_queue_alert queued last on this connection. */
int64_t store_queued_alert_id(struct store *s);

/* The sites behind a parent that a mail names, of each sort; the rest counted. */
#define STORE_CHILDREN_SHOWN 10

/*
 * Pending alerts due at now (all pending ones with all = true), ordered by
 * owner then age, so one owner's alerts are next to each other. When one
 * alert of an owner (or contact) is due, all its other pending alerts come
 * with it, to go in the same digest: those held by group_window, and a
 * DOWN waiting for its retry, so that its UP is never read first.
 */
int store_outbox_due(struct store *s, int64_t now, bool all, struct sq_alert_list *out);
void store_free_alerts(struct sq_alert_list *l);

/*
 * Marks an alert sent, failed for good, or to be retried at next_attempt.
 * A sent alert keeps the Message-ID its mail went out under (NULL: none),
 * and a DOWN gives it to its incident, for the UP and the reminders to
 * answer.
 */
int store_outbox_sent(struct store *s, int64_t id, int64_t now, const char *message_id);
int store_outbox_failed(struct store *s, int64_t id, const char *why);
int store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next_attempt,
    const char *why);

/* How many alerts wait, and how many failed for good. */
int store_outbox_counts(struct store *s, int64_t *pending, int64_t *failed);

/*
 * The earliest next_attempt (unix s) of the pending alerts later than
 * after (INT64_MIN: of them all): 1 with it in *at, 0 when there is none,
 * -1 (logged).
 */
int store_outbox_next_attempt(struct store *s, int64_t after, int64_t *at);

/*
 * The pending and failed alerts, oldest first, as squirrelctl outbox lists
 * them: every column read as text, whatever a person stored there. Freed
 * with store_free_alerts.
 */
int store_outbox_list(struct store *s, struct sq_alert_list *out);

#endif

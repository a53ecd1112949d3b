/*
 * delivery.c - the outbox becomes mail, and messages to contacts.
 *
 * Alerts pending for one owner go out as one digest. A temporary failure
 * (the server unreachable, a 4xx) is tried again after a backoff of 1 min
 * doubling to 1 h, until alert_max_age; a permanent one (5xx) fails the
 * alerts at once. Delivery is at least once: a mail the server accepted
 * just before a crash, before its rows were marked sent, goes out again at
 * the next start. That is the only duplicate possible: when the database
 * refuses to record a verdict (locked past the busy timeout, the disk
 * full), the verdict is kept in memory and written again after a backoff,
 * and nothing is sent until it is recorded.
 *
 * In the daemon this runs in its own thread with its own connection to the
 * database, so a slow or hung mail server delays mail, never checks.
 *
 * The mailer ([smtp] checked, the password read, the TLS context built) is
 * made once per configuration load, when mail is first due; while it
 * cannot be made, each round that has mail to send tries again and says
 * why. Each mail still makes its own connection, so a server that was down
 * is simply tried again at the next round.
 *
 * A contact's rows go by kind: an email contact's join the mail digests
 * by address; the others (channels.c) go one message per contact, handed
 * to the sender: one thread with one libcurl multi handle, started with
 * this one and stopped with it, that sends them side by side. Mail stays
 * in this thread, since libesmtp blocks: a slow mail server delays other
 * mail, never a message on its way over HTTP, which the sender carries on
 * with while this thread waits on SMTP. The rounds do not wait for the
 * messages: each answer kicks this thread, which records its verdict (the
 * same rules, Retry-After kept) at its next round, and until then its rows
 * are skipped, so a receiver that hangs holds up nothing else. A stop
 * waits for what is on its way, each message within its time limit.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/escape.h"
#include "squirrel/base/thread.h"
#include "squirrel/base/util.h"
#include "squirrel/alert/alert.h"
#include "squirrel/alert/channels.h"
#include "squirrel/alert/delivery.h"
#include "squirrel/base/clock.h"
#include "squirrel/base/log.h"
#include "squirrel/alert/mailer.h"
#include "squirrel/store/outbox.h"

#define DIGEST_MAX 200            /* alerts in one mail at most */
#define ROUND_EVERY_S 30          /* retries are looked at this often */

int64_t delivery_backoff_s(int attempts)
{
	int64_t s = 60;
	for (int i = 1; i < attempts && s < 3600; i++)
		s *= 2;
	return s > 3600 ? 3600 : s;
}

/*
 * What a try decided for one alert, to be written to its outbox row. The
 * mail has gone (or failed for good, or must wait) whether or not the
 * database then takes the news: when it does not (locked beyond the busy
 * timeout, the disk full), the verdicts wait here and are written again
 * later, and nothing more is sent meanwhile, so a row still pending in the
 * outbox is never mailed a second time by this process.
 */
struct verdict {
	int64_t id;
	enum mail_status status;
	bool give_up;          /* a temporary failure past alert_max_age */
	int attempts;          /* counting this one */
	int64_t next_attempt;  /* a temporary failure: when to try again */
	char *reply;
	char *message_id;      /* sent: the Message-ID it went under; NULL: none */
};

struct owed {
	struct verdict *v;
	size_t n, cap;
	int failures;          /* writes refused in a row */
	int64_t retry_at;      /* unix s: the next try at writing them */
	bool oom;
};

/* The wait before writing refused verdicts again: 5 s, doubling, at most 5 min. */
static int64_t settle_backoff_s(int failures)
{
	int64_t s = 5;
	for (int i = 1; i < failures && s < 300; i++)
		s *= 2;
	return s > 300 ? 300 : s;
}

static void owed_clear(struct owed *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].reply);
		free(o->v[i].message_id);
	}
	o->n = 0;
}

static void owed_free(struct owed *o)
{
	owed_clear(o);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

static size_t owed_sent(const struct owed *o)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].status == MAIL_SENT)
			n++;
	return n;
}

/* Keeps a verdict; out of memory, it is lost and the alert may go again. */
static void owe(struct owed *o, const struct verdict *v)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 32;
		struct verdict *nv = realloc(o->v, cap * sizeof(*nv));
		if (nv == NULL) {
			o->oom = true;
			return;
		}
		o->v = nv;
		o->cap = cap;
	}
	o->v[o->n] = *v;
	o->v[o->n].reply = strdup(v->reply != NULL ? v->reply : "");
	/* out of memory, the Message-ID is lost: the UP will not answer this mail */
	o->v[o->n].message_id = v->message_id != NULL ? strdup(v->message_id) : NULL;
	if (o->v[o->n].reply == NULL) {
		free(o->v[o->n].message_id);
		o->oom = true;
		return;
	}
	o->n++;
}

/*
 * Writes every owed verdict in one transaction. 0 when they are recorded
 * (or there were none); -1 when the database refused them: they stay owed,
 * and the next try waits for the backoff.
 */
static int settle(struct store *st, struct owed *o, int64_t now, struct delivery_tally *tally)
{
	struct delivery_tally t = { 0, 0 };
	size_t i;

	if (o->oom) {
		log_errorx("out of memory keeping what mail was sent: an alert may be sent twice");
		o->oom = false;
	}
	if (o->n == 0)
		return 0;
	if (store_begin(st) == 0) {
		for (i = 0; i < o->n; i++) {
			const struct verdict *v = &o->v[i];
			int rc;
			if (v->status == MAIL_SENT) {
				rc = store_outbox_sent(st, v->id, now, v->message_id);
				t.sent++;
			} else if (v->status == MAIL_PERMFAIL || v->give_up) {
				rc = store_outbox_failed(st, v->id, v->reply);
				t.failed++;
			} else {
				rc = store_outbox_retry(st, v->id, v->attempts, v->next_attempt, v->reply);
			}
			if (rc < 0)
				break;
		}
		if (i == o->n && store_commit(st) == 0) {
			if (o->failures > 0)
				log_info("the outbox takes writes again: %zu alert verdict(s) recorded", o->n);
			if (tally != NULL) {
				tally->sent += t.sent;
				tally->failed += t.failed;
			}
			owed_clear(o);
			o->failures = 0;
			return 0;
		}
		store_rollback(st);
	}
	o->failures++;
	o->retry_at = now + settle_backoff_s(o->failures);
	log_warnx("%zu alert(s) delivered but not recorded as sent (%zu verdict(s) in all): kept in "
	    "memory, nothing is sent until they are recorded; trying again in %" PRId64 " s",
	    owed_sent(o), o->n, settle_backoff_s(o->failures));
	return -1;
}

/* The verdict on rows[0..n-1] after one try, kept in o (failures logged). */
static void decide(struct owed *o, const struct sq_alert_row *rows, size_t n,
    enum mail_status status, const char *reply, const char *message_id,
    const struct sq_config *cfg, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct sq_alert_row *a = &rows[i];
		struct verdict v = {
			.id = a->id, .status = status, .attempts = a->attempts + 1,
			.next_attempt = now + delivery_backoff_s(a->attempts + 1), .reply = (char *)reply,
			.message_id = status == MAIL_SENT ? (char *)message_id : NULL,
		};
		if (status == MAIL_PERMFAIL) {
			log_warnx("alert %" PRId64 " (site %" PRId64 ") to %s failed: %s", a->id,
			    a->site_id, a->owner_email, reply);
		} else if (status == MAIL_TEMPFAIL && now - a->created_at >= cfg->alert_max_age_s) {
			log_warnx("alert %" PRId64 " (site %" PRId64 ") to %s failed: undeliverable for %d s: %s",
			    a->id, a->site_id, a->owner_email, cfg->alert_max_age_s, reply);
			v.give_up = true;
		}
		owe(o, &v);
	}
}

/*
 * One mail for rows[0..n-1], all to the same owner, and its verdict
 * recorded. -1 when the database did not take the verdict (kept in o).
 */
static int deliver_group(struct store *st, struct mailer *m, const struct sq_config *cfg,
    const struct sq_alert_row *rows, size_t n, int64_t now, struct owed *o,
    struct delivery_tally *tally)
{
	struct alert_item items[DIGEST_MAX];
	char err[256], reply[512], id[96], subject[256], msgid[ALERT_MSGID_MAX + 1];

	for (size_t i = 0; i < n; i++) {
		const struct sq_alert_row *a = &rows[i];
		/* the ids are ours, but the database is anyone's who can write it */
		if (a->answers != NULL && !alert_msgid_valid(a->answers))
			log_warnx("alert %" PRId64 " (site %" PRId64 "): the Message-ID of its DOWN mail"
			    " is not one squirrel makes; the mail does not answer it", a->id, a->site_id);
		items[i] = (struct alert_item){
			.site_id = a->site_id, .url = a->url, .name = a->name,
			.kind = (enum sq_alert_kind)a->kind, .err = a->err, .detail = a->detail,
			.http_status = a->http_status, .groups = a->groups, .ngroups = a->ngroups,
			.groups_more = a->groups_more,
			.at = a->created_at, .since = a->since, .last_ok = a->last_ok,
			.locations = a->locations, .alert_id = a->id,
			.children = a->children, .nchildren = a->nchildren,
			.children_total = a->children_total, .children_back = a->children_back,
			.cert_not_after = a->cert_not_after, .cert_subject = a->cert_subject,
			.cert_issuer = a->cert_issuer,
			.answers = a->answers, .answers_at = a->answers_at,
		};
	}
	/*
	 * The same alerts retried get the same Message-ID. An alert re-sent
	 * after a crash beside newer ones makes a new mail: its alert id
	 * (in the body and X-Squirrel-Alerts) is what tells a reader.
	 */
	snprintf(id, sizeof(id), "alert.%" PRId64 ".%zu.%" PRId64, rows[0].id, n, rows[0].created_at);
	/* what the mail goes out under, kept with its alerts (none: a from with an odd domain) */
	if (alert_message_id(id, cfg->smtp_from, msgid, sizeof(msgid)) < 0)
		msgid[0] = '\0';
	char *msg = alert_compose(rows[0].owner_email, cfg->smtp_from, items, n, now, id, err, sizeof(err));
	if (msg == NULL) {
		for (size_t i = 0; i < n; i++)
			log_warnx("site %" PRId64 ": alert %" PRId64 " cannot be sent: %s", rows[i].site_id,
			    rows[i].id, err);
		decide(o, rows, n, MAIL_PERMFAIL, err, NULL, cfg, now);
		return settle(st, o, now, tally);
	}
	enum mail_status status = (enum mail_status)mailer_send(m, rows[0].owner_email, msg, reply, sizeof(reply));
	free(msg);
	if (status == MAIL_SENT) {
		alert_subject(items, n, subject, sizeof(subject));
		log_info("mail sent to %s: %s", rows[0].owner_email, subject);
	} else if (status == MAIL_TEMPFAIL) {
		log_warnx("mail to %s not sent (will retry): %s", rows[0].owner_email, reply);
	}
	decide(o, rows, n, status, reply, msgid[0] != '\0' ? msgid : NULL, cfg, now);
	return settle(st, o, now, tally);
}

/*
 * Where a due row goes: by mail, over HTTP, nowhere (its contact removed,
 * a kind not sent), or not now (its message is still on its way).
 */
enum route { ROUTE_MAIL, ROUTE_HTTP, ROUTE_NONE, ROUTE_BUSY };

static enum route route_of(const struct sq_alert_row *a)
{
	if (a->busy)
		return ROUTE_BUSY;
	if (a->contact_id == 0)
		return ROUTE_MAIL;
	if (a->contact.kind == NULL)
		return ROUTE_NONE;
	if (strcmp(a->contact.kind, "email") == 0)
		return ROUTE_MAIL;
	return channel_is_http(a->contact.kind) ? ROUTE_HTTP : ROUTE_NONE;
}

struct http_round;

/* The rows of one message to a contact over HTTP, and what came of it. */
struct http_group {
	struct http_round *round;
	const struct sq_alert_row *rows;
	size_t n;
	bool done;                     /* answered (under the http mu) */
	bool decided;                  /* its verdict kept: its rows are free again */
	struct channel_result r;
};

/*
 * The HTTP messages of one round. In the daemon the round does not wait
 * for them: the sender has them (their rows skipped by later rounds)
 * while mail and newer messages go, and each answer kicks delivery for
 * its verdict to be recorded. The rows they were made of are theirs until
 * all are answered.
 */
struct http_round {
	struct http_group *g;
	size_t n;
	size_t ndone;                  /* under the http mu */
	struct sq_alert_list rows;
	struct http_round *next;
};

/*
 * Where a round's HTTP messages go: the daemon's sender, or (sender NULL:
 * a --once run) a multi handle of the round's own, waited for.
 */
struct http {
	struct channel_sender *sender;
	pthread_mutex_t mu;            /* guards the groups' done and r, the rounds' ndone */
	pthread_cond_t cv;             /* an answer came */
	void (*kick)(void *);
	void *kick_arg;
	struct http_round *inflight;   /* delivery's own */
};

/* The verdict on one contact's rows after its message's answer. */
static void decide_http(struct owed *o, const struct http_group *g, const struct sq_config *cfg,
    int64_t now)
{
	const struct sq_alert_row *a0 = &g->rows[0];
	const struct channel_result *r = &g->r;
	enum mail_status st = r->status == CHANNEL_SENT ? MAIL_SENT :
	    r->status == CHANNEL_TEMPFAIL ? MAIL_TEMPFAIL : MAIL_PERMFAIL;

	if (st == MAIL_SENT)
		log_info("alert(s) sent to contact %s (%s): %zu alert(s), %s", a0->contact.name,
		    a0->contact.kind, g->n, r->reply);
	else if (st == MAIL_TEMPFAIL)
		log_warnx("alert(s) to contact %s (%s) not sent (will retry): %s", a0->contact.name,
		    a0->contact.kind, r->reply);
	for (size_t i = 0; i < g->n; i++) {
		const struct sq_alert_row *a = &g->rows[i];
		/* Retry-After, when the answer gave one, over the backoff (both at most 1 h) */
		int64_t wait = r->retry_after_s > 0 ? r->retry_after_s : delivery_backoff_s(a->attempts + 1);
		struct verdict v = {
			.id = a->id, .status = st, .attempts = a->attempts + 1,
			.next_attempt = now + wait, .reply = (char *)r->reply,
		};
		/*
		 * Retry-After counts from the answer, and whole seconds from the
		 * round's start could be all but spent by then (a retry a few ms
		 * after the answer): the next second at least wait after now.
		 */
		if (r->retry_after_s > 0)
			v.next_attempt = (clock_wall_ms() + wait * 1000 + 999) / 1000;
		if (st == MAIL_PERMFAIL) {
			log_warnx("alert %" PRId64 " (site %" PRId64 ") to contact %s failed: %s", a->id,
			    a->site_id, a->contact.name, r->reply);
		} else if (st == MAIL_TEMPFAIL && now - a->created_at >= cfg->alert_max_age_s) {
			log_warnx("alert %" PRId64 " (site %" PRId64 ") to contact %s failed: undeliverable"
			    " for %d s: %s", a->id, a->site_id, a->contact.name, cfg->alert_max_age_s,
			    r->reply);
			v.give_up = true;
		}
		owe(o, &v);
	}
}

/* One message answered: kept, and delivery kicked to record it now, not when all are. */
static void http_done(void *arg, void *tag, const struct channel_result *r)
{
	struct http *hp = arg;
	struct http_group *g = tag;

	pthread_mutex_lock(&hp->mu);
	g->r = *r;
	g->done = true;
	g->round->ndone++;
	pthread_cond_broadcast(&hp->cv);
	pthread_mutex_unlock(&hp->mu);
	if (hp->kick != NULL)
		hp->kick(hp->kick_arg);
}

/* The verdicts of h's messages answered since the last look (hp->mu held); whether all are. */
static bool http_collect(struct http_round *h, const struct sq_config *cfg, int64_t now,
    struct owed *o)
{
	for (size_t i = 0; i < h->n; i++) {
		struct http_group *g = &h->g[i];
		if (g->done && !g->decided) {
			decide_http(o, g, cfg, now);
			g->decided = true;
		}
	}
	return h->ndone == h->n;
}

static void http_free(struct http_round *h)
{
	if (h == NULL)
		return;
	free(h->g);
	store_free_alerts(&h->rows);
	free(h);
}

/*
 * The HTTP messages of v[0..n-1], one per contact, handed to the sender
 * (or sent and waited for, without one); rows a message cannot be made
 * for fail at once. The round, or NULL when it has no message on its way
 * (none to send, or out of memory: the rows wait).
 */
static struct http_round *http_start(struct http *hp, const struct sq_alert_row *v, size_t n,
    const struct sq_config *cfg, int64_t now, struct owed *o)
{
	struct http_round *h;
	struct channel_batch *b;
	char why[256];
	size_t ng = 0;

	for (size_t i = 0; i < n; i++)
		ng += route_of(&v[i]) == ROUTE_HTTP;
	if (ng == 0)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->g = calloc(ng, sizeof(*h->g))) == NULL ||
	    (b = channel_batch_new()) == NULL) {
		log_errorx("out of memory sending alerts to contacts; they wait");
		http_free(h);
		return NULL;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		if (route_of(&v[i]) != ROUTE_HTTP) {
			i++;
			continue;
		}
		while (j < n && j - i < DIGEST_MAX && route_of(&v[j]) == ROUTE_HTTP &&
		    v[j].contact_id == v[i].contact_id)
			j++;
		struct http_group *g = &h->g[h->n];
		*g = (struct http_group){ .round = h, .rows = &v[i], .n = j - i };
		if (channel_batch_add(b, g->rows, g->n, now, g, why, sizeof(why)) < 0) {
			log_warnx("alert(s) to contact %s (%s) cannot be sent: %s", v[i].contact.name,
			    v[i].contact.kind, why);
			decide(o, g->rows, g->n, MAIL_PERMFAIL, why, NULL, cfg, now);
		} else {
			h->n++;
		}
		i = j;
	}
	if (h->n > 0 && hp->sender == NULL) {
		channel_batch_run(b, http_done, hp);
	} else if (h->n > 0 && channel_sender_send(hp->sender, b) < 0) {
		log_errorx("out of memory sending alerts to contacts; they wait");
		h->n = 0;
	}
	channel_batch_free(b);
	if (h->n == 0) {
		http_free(h);
		return NULL;
	}
	return h;
}

/*
 * The rounds in flight: the verdicts of their answered messages kept in
 * o, and those all answered freed. wait: until all are, each message
 * bounded by its time limit.
 */
static void http_reap(struct http *hp, bool wait, const struct sq_config *cfg, int64_t now,
    struct owed *o)
{
	struct http_round **list = &hp->inflight;

	pthread_mutex_lock(&hp->mu);
	while (*list != NULL) {
		struct http_round *h = *list;
		bool all;
		while (!(all = http_collect(h, cfg, now, o)) && wait)
			pthread_cond_wait(&hp->cv, &hp->mu);
		if (!all) {
			list = &h->next;
			continue;
		}
		*list = h->next;
		http_free(h);
	}
	pthread_mutex_unlock(&hp->mu);
}

/* Marks the due rows whose message is still on its way: not sent twice. */
static void mark_busy(struct http *hp, struct sq_alert_list *due)
{
	pthread_mutex_lock(&hp->mu);
	for (struct http_round *h = hp->inflight; h != NULL; h = h->next)
		for (size_t k = 0; k < h->n; k++) {
			const struct http_group *g = &h->g[k];
			for (size_t i = 0; i < g->n && !g->decided; i++)
				for (size_t j = 0; j < due->n; j++)
					if (due->v[j].id == g->rows[i].id)
						due->v[j].busy = true;
		}
	pthread_mutex_unlock(&hp->mu);
}

static void http_init(struct http *hp, struct channel_sender *sender, void (*kick)(void *),
    void *kick_arg)
{
	memset(hp, 0, sizeof(*hp));
	hp->sender = sender;
	hp->kick = kick;
	hp->kick_arg = kick_arg;
	pthread_mutex_init(&hp->mu, NULL);
	pthread_cond_init(&hp->cv, NULL);
}

/* After http_reap with wait: nothing is in flight. */
static void http_fini(struct http *hp)
{
	pthread_mutex_destroy(&hp->mu);
	pthread_cond_destroy(&hp->cv);
}

/*
 * One round: verdicts still owed are written first, and while the database
 * refuses them nothing is sent (force tries the write at once, whatever
 * the backoff). Then every due alert is tried, one digest per owner.
 */
static int round_run(struct store *st, const struct sq_config *cfg, struct mailer **mp,
    bool force, struct owed *o, int64_t *left, struct delivery_tally *tally, struct http *hp)
{
	struct sq_alert_list list = { NULL, 0 };
	char err[512];
	int64_t now = (int64_t)time(NULL), failed;
	int rc = 0;

	*left = 0;
	http_reap(hp, force, cfg, now, o);
	if (o->n > 0 && (!force && now < o->retry_at))
		goto out;
	if (settle(st, o, now, tally) < 0)
		goto out;
	if (store_outbox_due(st, now, force, &list) < 0)
		return -1;
	mark_busy(hp, &list);
	for (size_t i = 0; i < list.n; i++)
		if (route_of(&list.v[i]) == ROUTE_NONE)
			decide(o, &list.v[i], 1, MAIL_PERMFAIL, list.v[i].contact.kind == NULL ?
			    "its contact was removed" : "its contact's kind is not delivered by this "
			    "version", NULL, cfg, now);
	struct http_round *http = http_start(hp, list.v, list.n, cfg, now, o);
	size_t nmail = 0;
	for (size_t i = 0; i < list.n; i++)
		nmail += route_of(&list.v[i]) == ROUTE_MAIL;
	if (nmail > 0) {
		if (*mp == NULL)
			*mp = mailer_new(cfg, err, sizeof(err));
		struct mailer *m = *mp;
		if (m == NULL) {
			log_errorx("mail cannot be sent: %s", err);
			rc = -1;
		}
		for (size_t i = 0; i < list.n && m != NULL;) {
			size_t j = i + 1;
			if (route_of(&list.v[i]) != ROUTE_MAIL) {
				i++;
				continue;
			}
			while (j < list.n && j - i < DIGEST_MAX && route_of(&list.v[j]) == ROUTE_MAIL &&
			    strcmp(list.v[j].owner_email, list.v[i].owner_email) == 0)
				j++;
			if (deliver_group(st, m, cfg, &list.v[i], j - i, now, o, tally) < 0)
				break;   /* the rest waits for the database */
			i = j;
		}
	}
	if (http != NULL) {
		/* on its way: the rows go with it, and its verdicts come as it is answered */
		http->rows = list;
		list = (struct sq_alert_list){ NULL, 0 };
		pthread_mutex_lock(&hp->mu);
		http->next = hp->inflight;
		hp->inflight = http;
		pthread_mutex_unlock(&hp->mu);
	}
	/* without a sender all are answered already; stopping, all are waited for */
	http_reap(hp, hp->sender == NULL || force, cfg, now, o);
	settle(st, o, now, tally);
out:
	store_free_alerts(&list);
	if (store_outbox_counts(st, left, &failed) == 0)
		*left -= (int64_t)owed_sent(o);
	return rc;
}

/* The verdicts a stopping round could not write: say what that means. */
static void owed_lost(struct owed *o, const char *when)
{
	if (owed_sent(o) > 0)
		log_errorx("%zu alert(s) were delivered but the database did not record them: "
		    "they will be sent again %s", owed_sent(o), when);
	owed_free(o);
}

int delivery_round(struct store *st, const struct sq_config *cfg, bool force, int64_t *left,
    struct delivery_tally *tally)
{
	struct owed o = { 0 };
	struct mailer *m = NULL;
	struct http hp;

	http_init(&hp, NULL, NULL, NULL);
	int rc = round_run(st, cfg, &m, force, &o, left, tally, &hp);
	http_fini(&hp);
	mailer_free(m);
	owed_lost(&o, "by the next run");
	return rc;
}

struct delivery {
	struct bg_thread bg;          /* its mu guards flush and tally */
	bool flush;
	struct delivery_tally tally;  /* under bg.mu */
	struct owed owed;             /* the thread's own */
	struct http http;             /* the thread's own: messages to contacts and their sender */
	struct sq_config cfg;         /* its own copy: the daemon's may be reloaded */
	struct mailer *mailer;        /* the thread's own: made once for cfg */
};

static void delivery_kick_bg(void *arg)
{
	struct delivery *d = arg;
	bg_kick(&d->bg);
}

static void *delivery_main(void *arg)
{
	struct delivery *d = arg;
	struct store *st = store_open(d->cfg.database, 0);
	int64_t left, next_due = 0, round_at = 0;

	if (st == NULL) {
		log_errorx("mail delivery cannot open the database; alerts wait in the outbox");
		return NULL;
	}
	http_init(&d->http, NULL, delivery_kick_bg, d);
	/* without it (out of memory), messages to contacts go from this thread, waited for */
	if ((d->http.sender = channel_sender_start(http_done, &d->http)) == NULL)
		log_errorx("cannot start the sender of alerts to contacts; this thread sends them");
	pthread_mutex_lock(&d->bg.mu);
	for (;;) {
		/*
		 * Until the next thing owed: verdicts to write again, the
		 * earliest alert waiting for its retry (or one dated a little
		 * ahead of this clock), else a look every ROUND_EVERY_S. One
		 * that fell due while the last round was sending goes now. An
		 * alert due already when that round began and still pending
		 * (no mailer could be made, a row nobody can read) waits for
		 * the look: no spin.
		 */
		int64_t now = (int64_t)time(NULL), until = now + ROUND_EVERY_S;
		if (d->owed.n > 0 && d->owed.retry_at < until)
			until = d->owed.retry_at;
		if (next_due > round_at && next_due < until)
			until = next_due;
		int64_t wait = until - now < 1 ? 1 : until - now;
		if (bg_wait(&d->bg, wait * 1000))
			break;
		pthread_mutex_unlock(&d->bg.mu);
		struct delivery_tally t = { 0, 0 };
		round_at = (int64_t)time(NULL);
		round_run(st, &d->cfg, &d->mailer, false, &d->owed, &left, &t, &d->http);
		/* one due already and still pending is on its way (its end kicks) or stuck */
		if (store_outbox_next_attempt(st, round_at, &next_due) != 1)
			next_due = 0;
		pthread_mutex_lock(&d->bg.mu);
		d->tally.sent += t.sent;
		d->tally.failed += t.failed;
	}
	bool flush = d->flush;
	pthread_mutex_unlock(&d->bg.mu);
	if (flush) {
		round_run(st, &d->cfg, &d->mailer, true, &d->owed, &left, NULL, &d->http);
		if (left > 0)
			log_warnx("%" PRId64 " alert(s) wait in the outbox for the next start", left);
	} else {
		/* what is on its way is answered (within its time limit) and recorded */
		http_reap(&d->http, true, &d->cfg, (int64_t)time(NULL), &d->owed);
		if (d->owed.n > 0)
			settle(st, &d->owed, (int64_t)time(NULL), NULL);
	}
	/* nothing on its way now; its thread gone, no answer can kick bg any more */
	channel_sender_stop(d->http.sender);
	http_fini(&d->http);
	owed_lost(&d->owed, "when delivery starts again");
	mailer_free(d->mailer);
	d->mailer = NULL;
	store_close(st);
	return NULL;
}

struct delivery *delivery_start(const struct sq_config *cfg)
{
	struct delivery *d = calloc(1, sizeof(*d));

	if (d == NULL || config_copy(&d->cfg, cfg) < 0) {
		log_errorx("out of memory starting mail delivery");
		free(d);
		return NULL;
	}
	/* kicked: alerts left from before a restart go out now */
	if (bg_start(&d->bg, delivery_main, d, true) != 0) {
		log_errorx("cannot start the mail delivery thread");
		config_free(&d->cfg);
		free(d);
		return NULL;
	}
	return d;
}

void delivery_get_tally(struct delivery *d, struct delivery_tally *out)
{
	pthread_mutex_lock(&d->bg.mu);
	*out = d->tally;
	pthread_mutex_unlock(&d->bg.mu);
}

void delivery_kick(struct delivery *d)
{
	bg_kick(&d->bg);
}

void delivery_stop(struct delivery *d, bool flush)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->bg.mu);
	d->flush = flush;
	pthread_mutex_unlock(&d->bg.mu);
	bg_stop(&d->bg);
	config_free(&d->cfg);
	free(d);
}

int delivery_test(const struct sq_config *cfg, const char *to)
{
	char err[512], reply[1024], why[128];
	struct mailer *m;
	char *message;
	int rc;
	time_t now = time(NULL);

	if (to == NULL || !email_valid(to, why, sizeof(why))) {
		ascii_line(reply, sizeof(reply), to);
		fprintf(stderr, "test mail: '%s' is not one valid address: %s\n", reply,
		    to == NULL ? "none given" : why);
		return 1;
	}
	m = mailer_new(cfg, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "test mail: %s\n", err);
		return 1;
	}
	message = alert_compose_test(to, cfg->smtp_from, mailer_server(m), (int64_t)now, err,
	    sizeof(err));
	if (message == NULL) {
		fprintf(stderr, "test mail: %s\n", err);
		mailer_free(m);
		return 1;
	}
	rc = mailer_send(m, to, message, reply, sizeof(reply));
	if (rc == MAIL_SENT)
		printf("sent to %s via %s: %s\n", to, mailer_server(m), reply);
	else
		fprintf(stderr, "test mail to %s via %s failed: %s\n", to, mailer_server(m), reply);
	free(message);
	mailer_free(m);
	return rc == MAIL_SENT ? 0 : 1;
}

/*
 * delivery.c - the outbox becomes mail.
 *
 * Alerts pending for one owner go out as one digest. A temporary failure
 * (the server unreachable, a 4xx) is tried again after a backoff of 1 min
 * doubling to 1 h, until alert_max_age; a permanent one (5xx) fails the
 * alerts at once. Delivery is at least once: a mail the server accepted
 * just before a crash, before its rows were marked sent, goes out again at
 * the next start. That is the only duplicate possible.
 *
 * In the daemon this runs in its own thread with its own connection to the
 * database, so a slow or hung mail server delays mail, never checks.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/alert.h"
#include "squirrel/delivery.h"
#include "squirrel/log.h"
#include "squirrel/mailer.h"
#include "squirrel/util.h"

#define DIGEST_MAX 200            /* alerts in one mail at most */
#define ROUND_EVERY_S 30          /* retries are looked at this often */

int64_t delivery_backoff_s(int attempts)
{
	int64_t s = 60;
	for (int i = 1; i < attempts && s < 3600; i++)
		s *= 2;
	return s > 3600 ? 3600 : s;
}

static enum alert_kind kind_of(int k)
{
	return k == SQ_ALERT_UP ? ALERT_UP : k == SQ_ALERT_REMINDER ? ALERT_REMINDER : ALERT_DOWN;
}

static void mark_all(struct store *st, const struct sq_alert_row *rows, size_t n,
    enum mail_status status, const char *reply, const struct sq_config *cfg, int64_t now,
    struct delivery_tally *tally)
{
	struct delivery_tally t = { 0, 0 };

	if (store_begin(st) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct sq_alert_row *a = &rows[i];
		int rc;
		if (status == MAIL_SENT) {
			rc = store_outbox_sent(st, a->id, now);
			t.sent++;
		} else if (status == MAIL_PERMFAIL) {
			t.failed++;
			log_warnx("alert %" PRId64 " (site %" PRId64 ") to %s failed: %s", a->id,
			    a->site_id, a->owner_email, reply);
			rc = store_outbox_failed(st, a->id, reply);
		} else if (now - a->created_at >= cfg->alert_max_age_s) {
			log_warnx("alert %" PRId64 " (site %" PRId64 ") to %s failed: undeliverable for %d s: %s",
			    a->id, a->site_id, a->owner_email, cfg->alert_max_age_s, reply);
			rc = store_outbox_failed(st, a->id, reply);
			t.failed++;
		} else {
			rc = store_outbox_retry(st, a->id, a->attempts + 1,
			    now + delivery_backoff_s(a->attempts + 1), reply);
		}
		if (rc < 0) {
			store_rollback(st);
			return;
		}
	}
	if (store_commit(st) == 0 && tally != NULL) {
		tally->sent += t.sent;
		tally->failed += t.failed;
	}
}

/* One mail for rows[0..n-1], all to the same owner. */
static void deliver_group(struct store *st, struct mailer *m, const struct sq_config *cfg,
    const struct sq_alert_row *rows, size_t n, int64_t now, struct delivery_tally *tally)
{
	struct alert_item items[DIGEST_MAX];
	char err[256], reply[512], id[96], subject[256];

	for (size_t i = 0; i < n; i++) {
		const struct sq_alert_row *a = &rows[i];
		items[i] = (struct alert_item){
			.site_id = a->site_id, .url = a->url, .name = a->name,
			.kind = kind_of(a->kind), .error = a->error, .http_status = a->http_status,
			.at = a->created_at, .since = a->since, .last_ok = a->last_ok,
			.locations = a->locations,
		};
	}
	/*
	 * The same alerts retried get the same Message-ID, so a mail client can
	 * spot the one duplicate at-least-once delivery allows.
	 */
	snprintf(id, sizeof(id), "alert.%" PRId64 ".%zu.%" PRId64, rows[0].id, n, rows[0].created_at);
	char *msg = alert_compose(rows[0].owner_email, cfg->smtp_from, items, n, now, id, err, sizeof(err));
	if (msg == NULL) {
		for (size_t i = 0; i < n; i++)
			log_warnx("site %" PRId64 ": alert %" PRId64 " cannot be sent: %s", rows[i].site_id,
			    rows[i].id, err);
		mark_all(st, rows, n, MAIL_PERMFAIL, err, cfg, now, tally);
		return;
	}
	enum mail_status status = (enum mail_status)mailer_send(m, rows[0].owner_email, msg, reply, sizeof(reply));
	free(msg);
	if (status == MAIL_SENT) {
		alert_subject(items, n, subject, sizeof(subject));
		log_info("mail sent to %s: %s", rows[0].owner_email, subject);
	} else if (status == MAIL_TEMPFAIL) {
		log_warnx("mail to %s not sent (will retry): %s", rows[0].owner_email, reply);
	}
	mark_all(st, rows, n, status, reply, cfg, now, tally);
}

int delivery_round(struct store *st, const struct sq_config *cfg, bool force, int64_t *left,
    struct delivery_tally *tally)
{
	struct sq_alert_list list;
	char err[512];
	int64_t now = (int64_t)time(NULL), failed;

	*left = 0;
	if (store_outbox_due(st, now, force, &list) < 0)
		return -1;
	if (list.n > 0) {
		struct mailer *m = mailer_new(cfg, err, sizeof(err));
		if (m == NULL) {
			log_errorx("mail cannot be sent: %s", err);
			store_free_alerts(&list);
			store_outbox_counts(st, left, &failed);
			return -1;
		}
		for (size_t i = 0; i < list.n;) {
			size_t j = i + 1;
			while (j < list.n && j - i < DIGEST_MAX &&
			    strcmp(list.v[j].owner_email, list.v[i].owner_email) == 0)
				j++;
			deliver_group(st, m, cfg, &list.v[i], j - i, now, tally);
			i = j;
		}
		mailer_free(m);
	}
	store_free_alerts(&list);
	store_outbox_counts(st, left, &failed);
	return 0;
}

struct delivery {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool kicked, stop, flush;
	struct delivery_tally tally;  /* under mu */
	struct sq_config cfg;         /* its own copy: the daemon's may be reloaded */
};

static void *delivery_main(void *arg)
{
	struct delivery *d = arg;
	struct store *st = store_open(d->cfg.database, 0);
	int64_t left;

	if (st == NULL) {
		log_errorx("mail delivery cannot open the database; alerts wait in the outbox");
		return NULL;
	}
	pthread_mutex_lock(&d->mu);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += ROUND_EVERY_S;
		while (!d->kicked && !d->stop)
			if (pthread_cond_timedwait(&d->cv, &d->mu, &until) != 0)
				break;
		if (d->stop)
			break;
		d->kicked = false;
		pthread_mutex_unlock(&d->mu);
		struct delivery_tally t = { 0, 0 };
		delivery_round(st, &d->cfg, false, &left, &t);
		pthread_mutex_lock(&d->mu);
		d->tally.sent += t.sent;
		d->tally.failed += t.failed;
	}
	bool flush = d->flush;
	pthread_mutex_unlock(&d->mu);
	if (flush) {
		delivery_round(st, &d->cfg, true, &left, NULL);
		if (left > 0)
			log_warnx("%" PRId64 " alert(s) wait in the outbox for the next start", left);
	}
	store_close(st);
	return NULL;
}

struct delivery *delivery_start(const struct sq_config *cfg)
{
	struct delivery *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	if (d == NULL || config_copy(&d->cfg, cfg) < 0) {
		log_errorx("out of memory starting mail delivery");
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	d->kicked = true;   /* alerts left from before a restart go out now */
	if (thread_start(&d->thread, delivery_main, d) != 0) {
		log_errorx("cannot start the mail delivery thread");
		config_free(&d->cfg);
		free(d);
		return NULL;
	}
	return d;
}

void delivery_get_tally(struct delivery *d, struct delivery_tally *out)
{
	pthread_mutex_lock(&d->mu);
	*out = d->tally;
	pthread_mutex_unlock(&d->mu);
}

void delivery_kick(struct delivery *d)
{
	pthread_mutex_lock(&d->mu);
	d->kicked = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void delivery_stop(struct delivery *d, bool flush)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	d->flush = flush;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	config_free(&d->cfg);
	free(d);
}

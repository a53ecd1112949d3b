/*
 * record.c - results into history, state and outbox, one transaction per
 * batch. The state change and the alert it owes are committed together, so
 * after a crash either both exist or neither does, and the check that
 * caused them simply runs again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/scaleout/quorum.h"
#include "squirrel/scaleout/redis_wire.h"
#include "squirrel/store/outbox.h"
#include "squirrel/store/results.h"
#include "squirrel/alert/record.h"

static const struct record_locations no_locations = { .n = 0 };

void record_locations_load(struct record_locations *l, const struct sq_config *cfg)
{
	memset(l, 0, sizeof(*l));
	if (cfg->redis_locations == NULL)
		return;
	l->n = quorum_locations(cfg->redis_locations, l->v, l->why, sizeof(l->why));
	if (l->n < 0)
		l->n = 0;
	else
		l->why[0] = '\0';
}

void record_locations_free(struct record_locations *l)
{
	quorum_locations_free(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

static void log_transition(const struct sq_site *site, const struct sq_transition *tr,
    const char *error)
{
	char shown[URL_SHOWN_MAX];
	const char *url = url_shown(site->url, shown, sizeof(shown));

	if (tr->alert == SQ_ALERT_DOWN)
		log_info("site %" PRId64 " (%s) is DOWN: %s", site->id, url, error);
	else if (tr->alert == SQ_ALERT_UP)
		log_info("site %" PRId64 " (%s) is UP again after %" PRId64 " s down", site->id,
		    url, tr->down_for);
	else if (tr->alert == SQ_ALERT_REMINDER)
		log_info("site %" PRId64 " (%s) is still DOWN: %s", site->id, url, error);
	else if (tr->to == SQ_STATE_DEGRADED && tr->from != SQ_STATE_DEGRADED)
		log_info("site %" PRId64 " (%s) is DEGRADED: slow", site->id, url);
	else if (tr->from == SQ_STATE_DEGRADED && tr->to == SQ_STATE_UP)
		log_info("site %" PRId64 " (%s) is fast again after %" PRId64 " s slow", site->id,
		    url, tr->down_for);
	else if (tr->from != tr->to)
		log_debug("site %" PRId64 " (%s): %s -> %s", site->id, url,
		    state_name(tr->from), state_name(tr->to));
}

/*
 * When an alert is due. A DOWN and a reminder wait [check] group_window,
 * so that those of one owner's sites failing together go as one mail;
 * the rest (an UP above all) goes at once: it is the news the owner waits
 * for, and, due, it takes along whatever of its owner is waiting.
 */
static int64_t due_at(enum sq_alert_kind kind, int64_t now, const struct sq_config *cfg)
{
	bool held = kind == SQ_ALERT_DOWN || kind == SQ_ALERT_REMINDER;

	return held ? now + cfg->group_window_s : now;
}

/*
 * Too few locations answered (redis): history only. A silent location is
 * not a vote, so the state machine does not see it: no transition, no
 * alert. A change waiting for confirmation is looked at again soon.
 */
static int record_unknown(struct store *st, const struct sq_thresholds *t,
    struct record_entry *e, const struct sq_site_state *state, const struct record_locations *l)
{
	bool confirming = (state->state != SQ_STATE_DOWN && state->fail_count > 0) ||
	    (state->state == SQ_STATE_DOWN && state->ok_count > 0);
	e->next_check_s = confirming && t->retry_interval_s < t->interval_s ?
	    t->retry_interval_s : t->interval_s;
	e->state = state->state;
	return store_save_check_votes(st, &e->result, state, (const char *const *)l->v, l->n) < 0 ?
	    -1 : 0;
}

/* One result: 0, 1 when the site is gone, -1 on a database error. */
static int record_one(struct store *st, const struct sq_config *cfg, struct record_entry *e,
    const struct record_locations *l, struct record_stats *stats)
{
	const struct sq_site *site = e->site;
	const struct sq_result *r = &e->result;
	struct sq_site_state state;
	struct sq_settings set;
	struct sq_transition tr;
	char error[160], detail[160], where[4096];
	int rc;

	e->tr = (struct sq_transition){ .alert = SQ_ALERT_NONE };
	rc = store_load_state(st, site->id, &state);
	if (rc != 0)
		return rc;
	site_settings(site, cfg, &set);
	if (r->err == SQ_ERR_NO_QUORUM)
		return record_unknown(st, &set.t, e, &state, l);
	int64_t now = r->started_ms / 1000;
	state_apply(&state, &set.t, state_verdict(sq_result_ok(r), r->ms, set.t.slow_ms), now, &tr);
	e->next_check_s = tr.next_check_s;
	e->state = tr.to;
	e->tr = tr;
	if (store_save_check_votes(st, r, &state, (const char *const *)l->v, l->n) < 0)
		return -1;
	sq_result_error(r, error, sizeof(error));
	if (tr.alert == SQ_ALERT_NONE)
		return 0;
	/* The incident opens and closes with the alert, in the same transaction. */
	if (tr.alert == SQ_ALERT_DOWN && store_incident_open(st, site->id, state.since, error) < 0)
		return -1;
	if (tr.alert == SQ_ALERT_UP && store_incident_close(st, site->id, now) < 0)
		return -1;
	/* A verdict of several locations says what each one saw; NULL otherwise. */
	quorum_describe(r, (const char *const *)l->v, l->n, where, sizeof(where));
	struct quorum_group g[QUORUM_MAX_LOCATIONS];
	struct sq_located groups[QUORUM_MAX_LOCATIONS];
	char names[QUORUM_MAX_LOCATIONS * (RW_LOCATION_MAX + 2)];
	/* ... and the groups its words are made of, as data: no text read back */
	int found = l->n > 1 && !sq_result_ok(r) ? quorum_groups(r, l->n, g) : 0, ngroups = 0;
	size_t used = 0;
	sq_result_detail(r, detail, sizeof(detail));
	/* a slow site's mail says how slow: the check's time, and the limit it passed */
	if (tr.alert == SQ_ALERT_DEGRADED)
		snprintf(detail, sizeof(detail), "took %d ms, slow over %d ms", r->ms, set.t.slow_ms);
	else if (tr.alert == SQ_ALERT_RECOVERED)
		snprintf(detail, sizeof(detail), "took %d ms", r->ms);
	for (; ngroups < found && used < sizeof(names); ngroups++) {
		groups[ngroups] = (struct sq_located){
			.err = g[ngroups].err, .http_status = g[ngroups].http_status,
			.where = quorum_where(g[ngroups].locations, (const char *const *)l->v, l->n,
			    names + used, sizeof(names) - used),
		};
		used += strlen(groups[ngroups].where) + 1;
	}
	struct sq_alert_row a = {
		.site_id = site->id,
		.owner_email = site->owner_email,
		.url = site->url,
		.name = site->name,
		.kind = tr.alert,
		.err = r->err,
		.detail = detail,
		.http_status = r->http_status,
		.groups = groups,
		.ngroups = (size_t)ngroups,
		.created_at = now,
		.since = tr.alert == SQ_ALERT_UP || tr.alert == SQ_ALERT_RECOVERED ?
		    now - tr.down_for : state.since,
		.last_ok = state.last_ok,
		.down_for = tr.down_for,
		.locations = where[0] != '\0' ? where : NULL,
		.next_attempt = due_at(tr.alert, now, cfg),
	};
	if (store_queue_alert(st, &a) < 0)
		return -1;
	stats->alerts++;
	return 0;
}

int record_batch(struct store *st, const struct sq_config *cfg,
    const struct record_locations *locs, struct record_entry *e, size_t n,
    struct record_stats *stats)
{
	struct record_stats s = { 0 };
	const struct record_locations *l = locs != NULL ? locs : &no_locations;
	bool votes = false;

	if (n == 0) {
		*stats = s;
		return 0;
	}
	for (size_t i = 0; i < n && !votes; i++)
		votes = e[i].result.nvotes > 0;
	/* [redis] locations, read at the configuration's load: said where it matters */
	if (votes && l->why[0] != '\0')
		log_warnx("[redis] locations: %s: the locations' answers are not kept", l->why);
	if (store_begin(st) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc = record_one(st, cfg, &e[i], l, &s);
		if (rc < 0) {
			store_rollback(st);
			return -1;
		}
		e[i].dropped = rc == 1;
		if (rc == 1)
			s.dropped++;
		else
			s.recorded++;
	}
	if (store_commit(st) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char error[160];
		if (e[i].dropped)
			continue;
		sq_result_error(&e[i].result, error, sizeof(error));
		log_transition(e[i].site, &e[i].tr, error);
	}
	*stats = s;
	return 0;
}

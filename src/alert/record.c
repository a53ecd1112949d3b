/*
 * record.c - results into history, state and outbox, one transaction per
 * batch. The state change and the alert it owes are committed together, so
 * after a crash either both exist or neither does, and the check that
 * caused them simply runs again.
 *
 * A site behind another (depends_on) that fails while its parent is down,
 * or failed in the same batch, is `parent down`: recorded, but kept from
 * the state machine, so it neither alerts nor opens an incident, and its
 * own failures count from zero once its parent is up. The rule is
 * core/depends.c's; the lookups are per batch and each parent is read once.
 *
 * An https answer carries its certificate: the site's row of site_cert is
 * kept with it, and a `cert` alert owed by cert_warn_days (core/cert.c)
 * is queued in the same transaction, so a crash can neither lose a
 * warning nor send one twice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/base/u64map.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/core/depends.h"
#include "squirrel/scaleout/quorum.h"
#include "squirrel/scaleout/redis_wire.h"
#include "squirrel/store/certs.h"
#include "squirrel/store/maintenance.h"
#include "squirrel/store/outage.h"
#include "squirrel/store/outbox.h"
#include "squirrel/store/results.h"
#include "squirrel/alert/record.h"

static const struct record_locations no_locations = { .n = 0 };

/* The monitor's own outage, as this batch finds it (store/outage.c keeps it). */
struct hold {
	bool holding;             /* a hold is under way: failures are unknown */
	bool held_any;            /* DOWN alerts wait held: sites' results decide them */
	bool began, ended;        /* this batch began or ended it (logged after the commit) */
	bool told;                /* the admin's alert is queued */
	int held;                 /* alerts the beginning held */
	char reason[200];
};

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
    struct record_entry *e, const struct sq_site_state *state, const struct record_locations *l,
    const struct sq_check_marks *marks)
{
	bool confirming = (state->state != SQ_STATE_DOWN && state->fail_count > 0) ||
	    (state->state == SQ_STATE_DOWN && state->ok_count > 0);
	e->next_check_s = confirming && t->retry_interval_s < t->interval_s ?
	    t->retry_interval_s : t->interval_s;
	e->state = state->state;
	return store_save_check_marked(st, &e->result, state, (const char *const *)l->v, l->n,
	    marks) < 0 ? -1 : 0;
}

/*
 * Inside a maintenance window: history only, marked with the window. The
 * state machine does not see the check, so nothing of any kind is owed
 * (no transition, no alert, no incident). The runs it counts start again:
 * after the window a site still failing is DOWN after fail_threshold
 * checks past it (dated from the first of them), a site DOWN before it is
 * UP after recover_threshold good ones, whatever the window saw.
 */
static int record_in_window(struct store *st, const struct sq_thresholds *t,
    struct record_entry *e, struct sq_site_state *state, const struct record_locations *l,
    const struct sq_check_marks *marks)
{
	state->fail_count = state->ok_count = state->slow_count = 0;
	state->fail_since = state->slow_since = 0;
	if (sq_result_ok(&e->result))
		state->last_ok = e->result.started_ms / 1000;
	e->next_check_s = t->interval_s;
	e->state = state->state;
	return store_save_check_marked(st, &e->result, state, (const char *const *)l->v, l->n,
	    marks) < 0 ? -1 : 0;
}

/*
 * What each site is, in this batch, for the sites behind it. Built only for
 * a batch with a failing site that has a parent, once: a node per site in
 * the batch and per parent read from the store, each resolved once, so
 * 1000 sites behind one parent cost one read of the parent.
 */
struct dep_node {
	int64_t id;
	struct record_entry *e;    /* its result in this batch; NULL: its stored state */
	int seen;                  /* 0, 1 while resolved (a cycle reads as not down), 2 */
	bool down;
	int64_t root;              /* the site at the root of its outage */
	char error[SQ_DETAIL_MAX]; /* the root's error, as people read it */
};

struct deps {
	struct u64map map;         /* site id -> node */
	struct u64map roots;       /* the roots this batch put sites behind (value: 1) */
	struct dep_node *v;
	size_t n, cap;
};

static struct dep_node *dep_add(struct deps *d, int64_t id, struct record_entry *e)
{
	if (d->n == d->cap)
		return NULL;
	struct dep_node *x = &d->v[d->n];
	*x = (struct dep_node){ .id = id, .e = e };
	if (u64map_put(&d->map, (uint64_t)id, x) < 0)
		return NULL;
	d->n++;
	return x;
}

/* 0 when no site of the batch needs it (nothing built), 1 built, -1 out of memory. */
static int deps_build(struct deps *d, struct record_entry *e, size_t n)
{
	bool needed = false;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < n && !needed; i++)
		needed = e[i].site->depends_on > 0 && !sq_result_ok(&e[i].result);
	if (!needed)
		return 0;
	u64map_init(&d->map);
	u64map_init(&d->roots);
	/* each site of the batch, at most one parent each, and one earlier root each */
	d->cap = 3 * n;
	if ((d->v = calloc(d->cap, sizeof(*d->v))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (dep_add(d, e[i].site->id, &e[i]) == NULL)
			return -1;
	return 1;
}

static void deps_free(struct deps *d)
{
	u64map_free(&d->map);
	u64map_free(&d->roots);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static int dep_resolve(struct store *st, struct deps *d, struct dep_node *x, int depth);

/* x's own parent, resolved: NULL when none or not down (*fail: a database error). */
static struct dep_node *dep_parent(struct store *st, struct deps *d, int64_t parent, int depth,
    int *fail)
{
	struct dep_node *p = parent > 0 ? u64map_get(&d->map, (uint64_t)parent) : NULL;

	if (parent <= 0)
		return NULL;
	if (p == NULL && (p = dep_add(d, parent, NULL)) == NULL)
		return NULL;      /* no room: the site alerts on its own */
	if (dep_resolve(st, d, p, depth + 1) < 0) {
		*fail = 1;
		return NULL;
	}
	return p->down ? p : NULL;
}

/* The site's stored state: down as core/depends.c says; the root's error read too. */
static int dep_stored(struct store *st, struct dep_node *x)
{
	struct sq_site_state s;
	int rc = store_load_parent(st, x->id, &s, x->error, sizeof(x->error));

	if (rc < 0)
		return -1;
	x->down = rc == 0 && depends_counts_down(&s);
	x->root = x->id;
	if (x->down && s.parent_down && s.behind > 0 && s.behind != x->id) {
		struct sq_site_state r;
		x->root = s.behind;
		if (store_load_parent(st, s.behind, &r, x->error, sizeof(x->error)) < 0)
			return -1;
	}
	return 0;
}

static int dep_resolve(struct store *st, struct deps *d, struct dep_node *x, int depth)
{
	int fail = 0;

	if (x->seen == 2)
		return 0;
	if (x->seen == 1 || depth > DEPENDS_DEPTH_MAX) {
		x->down = false;    /* a cycle the load did not see: nobody is behind anybody */
		return 0;
	}
	x->seen = 1;
	if (x->e == NULL) {
		if (dep_stored(st, x) < 0)
			return -1;
	} else {
		const struct sq_result *r = &x->e->result;
		x->down = !sq_result_ok(r) && r->err != SQ_ERR_NO_QUORUM;
		x->root = x->id;
		sq_result_error(r, x->error, sizeof(x->error));
		struct dep_node *p = x->down ?
		    dep_parent(st, d, x->e->site->depends_on, depth, &fail) : NULL;
		if (fail)
			return -1;
		if (p != NULL) {
			x->root = p->root;
			memcpy(x->error, p->error, sizeof(x->error));
		}
	}
	x->seen = 2;
	return 0;
}

/*
 * A failure behind a parent down: the result says so (class, and the
 * parent's id and error for detail), the history keeps it, the state
 * machine never sees it: no alert, no incident, no count towards DOWN.
 */
static int record_parent_down(struct store *st, struct deps *d, const struct sq_thresholds *t,
    struct record_entry *e, struct sq_site_state *state, const struct dep_node *p,
    const struct record_locations *l)
{
	struct sq_result *r = &e->result;
	int fail = 0;

	r->err = SQ_ERR_PARENT_DOWN;
	depends_detail(p->id, p->root, p->error, r->detail, sizeof(r->detail));
	state->parent_down = true;
	/*
	 * Behind the outage it was first put down to, while that one lasts or
	 * ends in this very batch (its UP mail then names this site); else
	 * behind the new root.
	 */
	if (state->behind > 0 && state->behind != p->root) {
		struct dep_node *old = u64map_get(&d->map, (uint64_t)state->behind);
		if (old == NULL || old->e == NULL)
			old = dep_parent(st, d, state->behind, 0, &fail);
		if (fail)
			return -1;
		if (old == NULL)
			state->behind = p->root;
	} else {
		state->behind = p->root;
	}
	/* its DOWN mail, while still waiting, names this site too (no room: unnamed) */
	u64map_put(&d->roots, (uint64_t)state->behind, (void *)1);
	e->next_check_s = t->interval_s;
	e->state = state->state;
	return store_save_check_votes(st, r, state, (const char *const *)l->v, l->n) < 0 ? -1 : 0;
}

/*
 * The certificate an answer came with: kept as the site's (a new one, by
 * its fingerprint, starts with nothing warned), and the one warning
 * cert_warn_days owes for it queued. 0, or -1 on a database error.
 */
static int record_cert(struct store *st, const struct sq_settings *set, const struct sq_site *site,
    const struct sq_cert *c, int64_t now, struct record_stats *stats)
{
	struct sq_site_cert seen;
	char fp[SQ_CERT_FP_HEX];
	int rc = store_cert_load(st, site->id, &seen);
	bool changed = false;

	if (rc < 0)
		return -1;
	sq_cert_fp_hex(c, fp, sizeof(fp));
	if (rc == STORE_NOT_FOUND || strcmp(seen.fingerprint, fp) != 0 ||
	    seen.not_after != c->not_after) {
		memset(&seen, 0, sizeof(seen));
		seen.site_id = site->id;
		memcpy(seen.fingerprint, fp, sizeof(fp));
		seen.not_after = c->not_after;
		seen.first_seen = now;
		snprintf(seen.subject, sizeof(seen.subject), "%s", c->subject);
		snprintf(seen.issuer, sizeof(seen.issuer), "%s", c->issuer);
		changed = true;
	}
	int due = sq_cert_warn_due(&set->cert_days, c->not_after, now, seen.warned_days);
	if (due > 0) {
		seen.warned_days = due;
		changed = true;
	}
	if (changed && store_cert_save(st, &seen) < 0)
		return -1;
	if (due == 0)
		return 0;
	char detail[64];
	snprintf(detail, sizeof(detail), "warned at %d days", due);
	struct sq_alert_row a = {
		.site_id = site->id,
		.owner_email = site->owner_email,
		.url = site->url,
		.name = site->name,
		.kind = SQ_ALERT_CERT,
		.err = SQ_OK,
		.detail = detail,
		.created_at = now,
		.since = seen.first_seen,
		.cert_not_after = c->not_after,
		.cert_subject = seen.subject,
		.cert_issuer = seen.issuer,
	};
	if (store_queue_alert(st, &a) < 0)
		return -1;
	stats->alerts++;
	log_info("site %" PRId64 ": certificate ends in %" PRId64 " days (warned at %d)",
	    site->id, sq_cert_days_left(c->not_after, now), due);
	return 0;
}

/*
 * A failure while the monitor is cut off: unknown, its own error kept in
 * the detail ("unknown outage: connect refused"), the state untouched.
 */
static int record_held(struct store *st, const struct sq_thresholds *t,
    struct record_entry *e, const struct sq_site_state *state, const struct record_locations *l)
{
	struct record_entry u = *e;
	char why[SQ_DETAIL_MAX], text[SQ_DETAIL_MAX + 32];

	sq_result_error(&e->result, why, sizeof(why));
	u.result.err = SQ_ERR_OUTAGE;
	snprintf(text, sizeof(text), "%s: %s", sq_class_name(SQ_ERR_OUTAGE), why);
	snprintf(u.result.detail, sizeof(u.result.detail), "%.*s",
	    (int)sizeof(u.result.detail) - 1, text);
	static const struct sq_check_marks unmarked = { 0 };
	int rc = record_unknown(st, t, &u, state, l, &unmarked);
	e->next_check_s = u.next_check_s;
	e->state = u.state;
	e->held = true;
	return rc;
}

/*
 * A site whose DOWN alert is held: a success cancels it, a fresh failure
 * once the hold is over counts towards sending it. Whether the site's own
 * UP or reminder is to stay quiet (its owner never heard it was down).
 */
static int decide_held(struct store *st, const struct sq_site *site, bool failed,
    const struct hold *h, const struct sq_thresholds *t, int64_t now, bool *quiet)
{
	int64_t n;
	int changed = 0;

	*quiet = false;
	if (!h->held_any)
		return 0;
	if (store_outbox_held(st, site->id, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	*quiet = true;
	if (!failed) {
		if (store_outbox_held_cancel(st, site->id, &changed) < 0)
			return -1;
		log_debug("site %" PRId64 ": up again, %d held alerts cancelled", site->id, changed);
		return 0;
	}
	if (h->holding)
		return 0;
	if (store_outbox_held_fresh(st, site->id, t->fail_threshold, now, &changed) < 0)
		return -1;
	if (changed > 0)
		log_debug("site %" PRId64 ": still down after the outage, %d held alerts sent",
		    site->id, changed);
	return changed;
}

/* One result: 0, 1 when the site is gone, -1 on a database error. */
static int record_one(struct store *st, const struct sq_config *cfg, struct record_entry *e,
    const struct record_locations *l, struct deps *d, const struct hold *h,
    struct record_stats *stats)
{
	const struct sq_site *site = e->site;
	const struct sq_result *r = &e->result;
	struct sq_site_state state;
	struct sq_settings set;
	struct sq_transition tr;
	char error[160], detail[160], where[4096];
	int rc;

	e->tr = (struct sq_transition){ .alert = SQ_ALERT_NONE };
	e->alert_id = 0;
	rc = store_load_state(st, site->id, &state);
	if (rc != 0)
		return rc;
	site_settings(site, cfg, &set);
	int64_t now = r->started_ms / 1000;
	enum sq_verdict verdict = state_verdict(sq_result_ok(r), r->ms, set.t.slow_ms);
	struct sq_check_marks marks = {
		.maintenance = store_window_at(st, site->id, site->owner_email, now),
		.slow = verdict == SQ_CHECK_SLOW,
	};
	if (r->err == SQ_ERR_NO_QUORUM)
		return record_unknown(st, &set.t, e, &state, l, &marks);
	if (marks.maintenance != 0)
		return record_in_window(st, &set.t, e, &state, l, &marks);
	if (h->holding && !sq_result_ok(r))
		return record_held(st, &set.t, e, &state, l);
	if (!sq_result_ok(r) && site->depends_on > 0 && d->v != NULL) {
		int fail = 0;
		struct dep_node *p = dep_parent(st, d, site->depends_on, 0, &fail);
		if (fail)
			return -1;
		if (p != NULL)
			return record_parent_down(st, d, &set.t, e, &state, p, l);
	}
	state.parent_down = false;   /* behind stays until that parent's UP */
	bool quiet;
	rc = decide_held(st, site, !sq_result_ok(r), h, &set.t, now, &quiet);
	if (rc < 0)
		return -1;
	stats->alerts += (size_t)rc;
	state_apply(&state, &set.t, verdict, now, &tr);
	e->next_check_s = tr.next_check_s;
	e->state = tr.to;
	e->tr = tr;
	if (store_save_check_marked(st, r, &state, (const char *const *)l->v, l->n, &marks) < 0)
		return -1;
	if (r->cert.not_after > 0 && record_cert(st, &set, site, &r->cert, now, stats) < 0)
		return -1;
	sq_result_error(r, error, sizeof(error));
	if (tr.alert == SQ_ALERT_NONE)
		return 0;
	/* The incident opens and closes with the alert, in the same transaction. */
	if (tr.alert == SQ_ALERT_DOWN && store_incident_open(st, site->id, state.since, error) < 0)
		return -1;
	if (tr.alert == SQ_ALERT_UP && store_incident_close(st, site->id, now) < 0)
		return -1;
	/* its DOWN was held: no UP (or reminder) of a down nobody was told of */
	if (quiet && (tr.alert == SQ_ALERT_UP || tr.alert == SQ_ALERT_REMINDER))
		return 0;
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
	e->alert_id = store_queued_alert_id(st);
	stats->alerts++;
	return 0;
}

/*
 * A DOWN or UP alert names the sites behind its site: after every result
 * of the batch is recorded, so those checked in the same batch count
 * whatever the order their results came in. One indexed query per such
 * alert; none for other alerts.
 */
static int record_children(struct store *st, const struct deps *d, struct record_entry *e,
    size_t n)
{
	/* a DOWN alert not mailed yet takes the sites put behind it since */
	for (size_t i = 0; i < d->roots.cap; i++) {
		int64_t id;
		if (d->roots.v[i].val == NULL)
			continue;
		if (store_pending_down(st, (int64_t)d->roots.v[i].key, &id) < 0)
			return -1;
		if (id > 0 && store_alert_children(st, id, (int64_t)d->roots.v[i].key, false,
		    STORE_CHILDREN_SHOWN) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		enum sq_alert_kind k = e[i].tr.alert;
		if (e[i].dropped || e[i].alert_id <= 0 || (k != SQ_ALERT_DOWN && k != SQ_ALERT_UP))
			continue;
		if (k == SQ_ALERT_DOWN && u64map_get(&d->roots, (uint64_t)e[i].site->id) != NULL)
			continue;   /* listed just above */
		if (store_alert_children(st, e[i].alert_id, e[i].site->id, k == SQ_ALERT_UP,
		    STORE_CHILDREN_SHOWN) < 0)
			return -1;
	}
	return 0;
}

void record_watch_init(struct record_watch *rw, const struct sq_config *cfg)
{
	char why[256];

	memset(rw, 0, sizeof(*rw));
	/* the load refused a bad list already: this cannot fail but out of memory */
	if (outage_canaries_parse(cfg->canary, &rw->canaries, why, sizeof(why)) < 0)
		log_warnx("[check] canary: %s: no canaries", why);
	struct outage_rule r = {
		.window_s = cfg->outage_window_s, .share = cfg->outage_share, .min = cfg->outage_min,
		.ncanary = rw->canaries.n,
	};
	outage_init(&rw->w, &r);
}

void record_watch_free(struct record_watch *rw)
{
	outage_free(&rw->w);
	outage_canaries_free(&rw->canaries);
}

void record_watch_see(struct record_watch *rw, const struct sq_result *r)
{
	/* too few locations to tell is no result; a site's own id, never a canary's */
	if (r->err != SQ_ERR_NO_QUORUM && r->site_id >= 0 &&
	    outage_see(&rw->w, r->site_id, r->started_ms / 1000, r->err) < 0)
		log_warnx("out of memory: site %" PRId64 " not counted by the outage rule",
		    r->site_id);
}

void record_watch_canary(struct record_watch *rw, size_t i, const struct sq_result *r)
{
	if (r->err == SQ_ERR_NO_QUORUM || i >= rw->canaries.n)
		return;
	if (outage_see(&rw->w, -1 - (int64_t)i, r->started_ms / 1000, r->err) < 0)
		log_warnx("out of memory: canary %zu not counted", i);
}

/* The outage alert, to [alerts] admin: what the rule saw, in its words. */
static int tell_admin(struct store *st, const struct sq_config *cfg, int64_t now,
    const struct hold *h)
{
	struct sq_alert_row a = {
		.site_id = 0,
		.owner_email = cfg->alerts_admin,
		.url = "",
		.name = "squirrel's own network",
		.kind = SQ_ALERT_OUTAGE,
		.err = SQ_ERR_OUTAGE,
		.detail = (char *)h->reason,
		.created_at = now,
		.since = now,
	};
	return store_queue_alert(st, &a);
}

/*
 * The rule over what was seen, against the hold in the database: begins
 * one (DOWN alerts of the window held, the admin told), ends one, or
 * leaves it. Inside the batch's transaction.
 */
static int hold_step(struct store *st, const struct sq_config *cfg, struct record_watch *rw,
    struct hold *h, struct record_stats *stats)
{
	struct outage_count c;
	int64_t id, n, now = rw->w.latest;
	int rc = store_outage_current(st, &id);

	if (rc < 0)
		return -1;
	h->holding = rc == 1;
	enum outage_step step = outage_decide(&rw->w, now, h->holding, &c);
	outage_reason(&rw->w.rule, &c, h->reason, sizeof(h->reason));
	if (step == OUTAGE_BEGINS) {
		if (store_outage_begin(st, now, now - rw->w.rule.window_s, h->reason, &id,
		    &h->held) < 0)
			return -1;
		if (cfg->alerts_admin[0] != '\0') {
			if (tell_admin(st, cfg, now, h) < 0)
				return -1;
			h->told = true;
			stats->alerts++;
		}
		h->holding = h->began = true;
	} else if (step == OUTAGE_ENDS) {
		if (store_outage_end(st, id, now) < 0)
			return -1;
		h->holding = false;
		h->ended = true;
	}
	if (store_outbox_held(st, 0, &n) < 0)
		return -1;
	h->held_any = n > 0;
	return 0;
}

static void log_hold(const struct sq_config *cfg, const struct hold *h)
{
	if (h->began)
		log_warnx("squirrel's own network seems cut off (%s): failures are recorded unknown "
		    "and DOWN alerts held (%d held now) until checks succeed again; %s", h->reason,
		    h->held, h->told ? "the admin is told" : "no [alerts] admin to tell");
	else if (h->ended)
		log_info("checks succeed again (%s): the monitor's outage is over; held alerts go "
		    "out for the sites still down after %d fresh checks", h->reason,
		    cfg->fail_threshold);
}

int record_batch(struct store *st, const struct sq_config *cfg,
    const struct record_locations *locs, struct record_entry *e, size_t n,
    struct record_stats *stats)
{
	return record_batch_watched(st, cfg, locs, NULL, e, n, stats);
}

int record_batch_watched(struct store *st, const struct sq_config *cfg,
    const struct record_locations *locs, struct record_watch *rw, struct record_entry *e,
    size_t n, struct record_stats *stats)
{
	struct record_stats s = { 0 };
	const struct record_locations *l = locs != NULL ? locs : &no_locations;
	struct hold h = { 0 };
	bool votes = false;

	for (size_t i = 0; rw != NULL && i < n; i++)
		record_watch_see(rw, &e[i].result);
	if (n == 0 && (rw == NULL || !rw->w.changed)) {
		*stats = s;
		return 0;
	}
	for (size_t i = 0; i < n && !votes; i++)
		votes = e[i].result.nvotes > 0;
	/* [redis] locations, read at the configuration's load: said where it matters */
	if (votes && l->why[0] != '\0')
		log_warnx("[redis] locations: %s: the locations' answers are not kept", l->why);
	struct deps d;
	int rc;
	if (deps_build(&d, e, n) < 0) {
		log_errorx("out of memory following depends_on: the batch's sites alert on their own");
		deps_free(&d);
	}
	if (store_begin(st) < 0) {
		deps_free(&d);
		return -1;
	}
	/* the maintenance windows, read again only when they changed */
	if (store_windows_refresh(st) < 0 || (rw != NULL && hold_step(st, cfg, rw, &h, &s) < 0)) {
		store_rollback(st);
		deps_free(&d);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		e[i].held = false;
		rc = record_one(st, cfg, &e[i], l, &d, &h, &s);
		if (rc < 0) {
			store_rollback(st);
			deps_free(&d);
			return -1;
		}
		e[i].dropped = rc == 1;
		if (rc == 1)
			s.dropped++;
		else
			s.recorded++;
	}
	rc = record_children(st, &d, e, n);
	deps_free(&d);
	if (rc < 0 || store_commit(st) < 0) {
		store_rollback(st);
		return -1;
	}
	log_hold(cfg, &h);
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

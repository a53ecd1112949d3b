/*
 * scheduler.c - a min-heap of sites on their next-due time, and the set of
 * sites kept in step with the database.
 *
 * Sites live in an array ordered by id (so a reload merges in one pass) and
 * in the heap while they wait. A site in flight is out of the heap; when the
 * database changes under it, it is "retired" and freed once its check ends,
 * because the backend still holds its url.
 */
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/check/scheduler.h"

struct scheduler {
	struct sched_site **sites;   /* live sites, by id */
	size_t nsites;
	struct sched_site **heap;
	size_t nheap, capheap;
	const struct sq_config *cfg;
};

/* A stable, well-spread number per site id (splitmix64). */
static uint64_t site_hash(int64_t id)
{
	uint64_t z = (uint64_t)id + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The site's interval in force, in seconds (site_settings()). */
static int site_interval(const struct sched_site *site, const struct sq_config *cfg)
{
	struct sq_settings set;

	site_settings(&site->site, cfg, &set);
	return set.t.interval_s;
}

static bool heap_less(const struct sched_site *a, const struct sched_site *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->site.id < b->site.id);
}

static void heap_set(struct scheduler *s, size_t i, struct sched_site *site)
{
	s->heap[i] = site;
	site->heap_idx = i;
}

static void heap_up(struct scheduler *s, size_t i)
{
	struct sched_site *x = s->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_less(x, s->heap[parent]))
			break;
		heap_set(s, i, s->heap[parent]);
		i = parent;
	}
	heap_set(s, i, x);
}

static void heap_down(struct scheduler *s, size_t i)
{
	struct sched_site *x = s->heap[i];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct sched_site *best = x;
		if (l < s->nheap && heap_less(s->heap[l], best)) {
			m = l;
			best = s->heap[l];
		}
		if (r < s->nheap && heap_less(s->heap[r], best))
			m = r;
		if (m == i)
			break;
		heap_set(s, i, s->heap[m]);
		i = m;
	}
	heap_set(s, i, x);
}

static int heap_push(struct scheduler *s, struct sched_site *site)
{
	if (s->nheap == s->capheap) {
		size_t ncap = s->capheap ? s->capheap * 2 : 256;
		struct sched_site **nh = realloc(s->heap, ncap * sizeof(*nh));
		if (nh == NULL)
			return -1;
		s->heap = nh;
		s->capheap = ncap;
	}
	s->heap[s->nheap++] = site;
	heap_up(s, s->nheap - 1);
	return 0;
}

static void heap_remove(struct scheduler *s, struct sched_site *site)
{
	size_t i = site->heap_idx;
	if (i == SIZE_MAX)
		return;
	site->heap_idx = SIZE_MAX;
	struct sched_site *last = s->heap[--s->nheap];
	if (i == s->nheap)
		return;
	heap_set(s, i, last);
	heap_up(s, i);
	heap_down(s, last->heap_idx);
}

static void site_release(struct sched_site *site)
{
	site_free(&site->site);
	free(site);
}

struct scheduler *scheduler_new(void)
{
	return calloc(1, sizeof(struct scheduler));
}

void scheduler_free(struct scheduler *s)
{
	if (s == NULL)
		return;
	/* Sites in flight are owned by the caller's pending checks no more. */
	for (size_t i = 0; i < s->nsites; i++)
		site_release(s->sites[i]);
	free(s->sites);
	free(s->heap);
	free(s);
}

static bool str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool site_same(const struct sq_site *a, const struct sq_site *b)
{
	return str_eq(a->url, b->url) && str_eq(a->owner_email, b->owner_email) &&
	    str_eq(a->name, b->name) && a->interval_s == b->interval_s &&
	    a->timeout_ms == b->timeout_ms && a->fail_threshold == b->fail_threshold &&
	    a->recover_threshold == b->recover_threshold &&
	    a->retry_interval_s == b->retry_interval_s && a->remind_every_s == b->remind_every_s &&
	    a->method == b->method && str_eq(a->expect_status, b->expect_status) &&
	    str_eq(a->keyword, b->keyword) && a->keyword_mode == b->keyword_mode &&
	    a->keyword_nocase == b->keyword_nocase;
}

/* A site leaves the set: out of the heap, and freed unless in flight. */
static void site_retire(struct scheduler *s, struct sched_site *site)
{
	heap_remove(s, site);
	if (site->inflight)
		site->retired = true;
	else
		site_release(site);
}

static struct sched_site *site_new(struct sq_site *row)
{
	struct sched_site *site = calloc(1, sizeof(*site));
	if (site == NULL)
		return NULL;
	site->site = *row;
	site->state = (enum sq_state)row->state;
	memset(row, 0, sizeof(*row));
	site->heap_idx = SIZE_MAX;
	return site;
}

#define STARTUP_SPREAD_MS 10000

/*
 * The first check of a site at startup: soon (people who start a monitor
 * want to see it work), but spread over a few seconds so ten thousand sites
 * do not fire at once. The second check then spreads them over the interval.
 */
static int64_t startup_due(const struct sched_site *site, const struct sq_config *cfg, int64_t now)
{
	int64_t window = (int64_t)site_interval(site, cfg) * 1000;
	if (window > STARTUP_SPREAD_MS)
		window = STARTUP_SPREAD_MS;
	return now + (int64_t)(site_hash(site->site.id) % (uint64_t)window);
}

int scheduler_sync(struct scheduler *s, struct sq_site_list *list, const struct sq_config *cfg,
    int64_t now_ms, bool startup)
{
	struct sched_site **next = calloc(list->n ? list->n : 1, sizeof(*next));
	size_t i = 0, j = 0, n = 0;

	if (next == NULL)
		return -1;
	s->cfg = cfg;
	/* Both lists are ordered by id: walk them together. */
	while (i < s->nsites || j < list->n) {
		struct sched_site *old = i < s->nsites ? s->sites[i] : NULL;
		struct sq_site *row = j < list->n ? &list->v[j] : NULL;
		if (row == NULL || (old != NULL && old->site.id < row->id)) {
			site_retire(s, old);           /* deleted or disabled */
			i++;
			continue;
		}
		if (old != NULL && old->site.id == row->id && site_same(&old->site, row)) {
			old->site.depends_on = row->depends_on;  /* record.c's, not the check's */
			next[n++] = old;               /* unchanged: keeps its place */
			i++;
			j++;
			continue;
		}
		struct sched_site *site = site_new(row);
		if (site == NULL)
			goto nomem;
		if (old != NULL && old->site.id == site->site.id) {
			/* changed: the new settings apply from a check right now */
			site->state = old->state;
			site->checked = old->checked;
			site_retire(s, old);
			i++;
			site->due_ms = now_ms;
		} else {
			site->due_ms = startup ? startup_due(site, cfg, now_ms) : now_ms;
		}
		j++;
		next[n++] = site;
		if (heap_push(s, site) < 0)
			goto nomem;
	}
	free(s->sites);
	s->sites = next;
	s->nsites = n;
	site_list_free(list);
	return 0;
nomem:
	/*
	 * Half merged: keep what is merged and the rest of the old set, so no
	 * site is lost; the next change of the database merges again.
	 */
	log_errorx("out of memory following a change of the sites");
	for (; i < s->nsites; i++)
		next[n++] = s->sites[i];
	free(s->sites);
	s->sites = next;
	s->nsites = n;
	site_list_free(list);
	return -1;
}

int64_t scheduler_next_due(const struct scheduler *s)
{
	return s->nheap ? s->heap[0]->due_ms : INT64_MAX;
}

struct sched_site *scheduler_pop_due(struct scheduler *s, int64_t now_ms)
{
	if (s->nheap == 0 || s->heap[0]->due_ms > now_ms)
		return NULL;
	struct sched_site *site = s->heap[0];
	heap_remove(s, site);
	site->inflight = true;
	return site;
}

bool scheduler_done(struct scheduler *s, struct sched_site *site, int next_check_s, int64_t now_ms)
{
	site->inflight = false;
	if (site->retired) {
		site_release(site);
		return false;
	}
	int interval = site_interval(site, s->cfg);
	int64_t interval_ms = (int64_t)interval * 1000;
	if (next_check_s > 0 && next_check_s < interval) {
		/*
		 * A change waits for confirmation: the quick re-check wins, also
		 * after a site's first check, or a DOWN alert would come a whole
		 * interval late after every start.
		 */
		site->due_ms = now_ms + (int64_t)next_check_s * 1000;
	} else if (!site->checked) {
		/* the first normal check of a new site lands at its own place in the interval */
		site->checked = true;
		site->due_ms = now_ms + interval_ms / 4 +
		    (int64_t)(site_hash(site->site.id) % (uint64_t)(interval_ms * 3 / 4 + 1));
	} else {
		/* keep the cadence: a slow check does not push the next one later */
		site->due_ms += interval_ms;
		if (site->due_ms < now_ms)
			site->due_ms = now_ms;
	}
	if (heap_push(s, site) < 0) {
		log_errorx("site %lld: out of memory scheduling its next check", (long long)site->site.id);
		return true;
	}
	return true;
}

void scheduler_requeue(struct scheduler *s, struct sched_site *site, int64_t due_ms)
{
	site->inflight = false;
	if (site->retired) {
		site_release(site);
		return;
	}
	site->due_ms = due_ms;
	if (heap_push(s, site) < 0)
		log_errorx("site %lld: out of memory scheduling its next check", (long long)site->site.id);
}

void scheduler_reschedule(struct scheduler *s, const struct sq_config *cfg, int64_t now_ms)
{
	s->cfg = cfg;
	for (size_t i = 0; i < s->nheap; i++) {
		struct sched_site *site = s->heap[i];
		int64_t latest = now_ms + (int64_t)site_interval(site, cfg) * 1000;
		if (site->due_ms > latest)
			site->due_ms = latest;
	}
	/* due times only moved earlier, in place: rebuild the heap bottom-up */
	for (size_t i = s->nheap / 2; i-- > 0;)
		heap_down(s, i);
}

size_t scheduler_size(const struct scheduler *s)
{
	return s->nsites;
}

void scheduler_state_counts(const struct scheduler *s, size_t *up, size_t *down)
{
	*up = *down = 0;
	for (size_t i = 0; i < s->nsites; i++) {
		/* degraded is up, and slow */
		if (s->sites[i]->state == SQ_STATE_UP || s->sites[i]->state == SQ_STATE_DEGRADED)
			(*up)++;
		else if (s->sites[i]->state == SQ_STATE_DOWN)
			(*down)++;
	}
}

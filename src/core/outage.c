/*
 * outage.c - the rule that tells the monitor's own outage from the sites'.
 *
 * A site that fails is the site's problem; half the sites failing in the
 * same minute with a network class is ours: the monitor's link, its
 * resolver, its firewall. Waking every owner then is the alert storm this
 * rule prevents. It keeps the last result of each site (and canary) and
 * counts the ones inside the window; which classes are network classes is
 * the one table's word (sq_class_network), not a list here. Pure: no
 * clock, no database; the caller says what time it is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/core/classes.h"
#include "squirrel/core/outage.h"

void outage_canaries_free(struct outage_canaries *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->url[i]);
	c->n = 0;
}

int outage_canaries_parse(const char *list, struct outage_canaries *out, char *why, size_t len)
{
	const char *p = list != NULL ? list : "";

	memset(out, 0, sizeof(*out));
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		size_t n = strcspn(p, ", \t");
		char *url = strndup(p, n);
		char reason[200];
		if (url == NULL) {
			seterr(why, len, "out of memory");
			goto fail;
		}
		if (!url_valid(url, reason, sizeof(reason))) {
			seterr(why, len, "'%.200s': %s", url, reason);
			free(url);
			goto fail;
		}
		if (out->n == OUTAGE_CANARY_MAX) {
			seterr(why, len, "more than %d urls", OUTAGE_CANARY_MAX);
			free(url);
			goto fail;
		}
		out->url[out->n++] = url;
		p += n;
	}
fail:
	outage_canaries_free(out);
	return -1;
}

void outage_init(struct outage_watch *w, const struct outage_rule *r)
{
	memset(w, 0, sizeof(*w));
	w->rule = *r;
	u64map_init(&w->index);
}

void outage_free(struct outage_watch *w)
{
	free(w->v);
	u64map_free(&w->index);
	memset(w, 0, sizeof(*w));
}

/* The place of id in v, as the index keeps it (plus one, so that 0 is none). */
static size_t place_of(const struct outage_watch *w, int64_t id)
{
	return (size_t)(uintptr_t)u64map_get(&w->index, (uint64_t)id);
}

int outage_see(struct outage_watch *w, int64_t id, int64_t at, int err)
{
	size_t i = place_of(w, id);
	struct outage_seen s = {
		.id = id, .at = at, .failed = err != SQ_OK, .network = sq_class_network(err),
	};

	if (i > 0) {
		if (w->v[i - 1].at > at)
			return 0;   /* an older result, come late: the newer one stands */
		w->v[i - 1] = s;
	} else {
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 64;
			struct outage_seen *v = realloc(w->v, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			w->v = v;
			w->cap = cap;
		}
		if (u64map_put(&w->index, (uint64_t)id, (void *)(uintptr_t)(w->n + 1)) < 0)
			return -1;
		w->v[w->n++] = s;
	}
	if (at > w->latest)
		w->latest = at;
	w->changed = true;
	return 0;
}

/* Forgets the results out of the window: v compacted, the index made again. */
static void forget_old(struct outage_watch *w, int64_t now)
{
	size_t kept = 0;

	u64map_free(&w->index);
	u64map_init(&w->index);
	for (size_t i = 0; i < w->n; i++) {
		if (w->v[i].at <= now - w->rule.window_s)
			continue;
		w->v[kept] = w->v[i];
		/* no room: the entry is dropped, as if out of the window (counted again when seen) */
		if (u64map_put(&w->index, (uint64_t)w->v[kept].id, (void *)(uintptr_t)(kept + 1)) == 0)
			kept++;
	}
	w->n = kept;
}

void outage_count(struct outage_watch *w, int64_t now, struct outage_count *c)
{
	size_t old = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < w->n; i++) {
		const struct outage_seen *s = &w->v[i];
		if (s->at <= now - w->rule.window_s) {
			old++;
			continue;
		}
		if (s->id < 0) {
			if ((size_t)(-1 - s->id) < w->rule.ncanary) {
				c->canaries_seen++;
				c->canaries_failed += s->failed;
			}
		} else {
			c->checked++;
			c->network += s->failed && s->network;
		}
	}
	/* a site checked less often than the window leaves and comes back: not each time */
	if (old > 0 && old * 2 >= w->n)
		forget_old(w, now);
}

bool outage_trips(const struct outage_rule *r, const struct outage_count *c)
{
	if (r->ncanary > 0 && c->canaries_seen == r->ncanary && c->canaries_failed == r->ncanary)
		return true;
	return c->checked >= (size_t)r->min && r->min > 0 &&
	    (double)c->network >= r->share * (double)c->checked;
}

enum outage_step outage_decide(struct outage_watch *w, int64_t now, bool holding,
    struct outage_count *c)
{
	struct outage_count mine;

	if (c == NULL)
		c = &mine;
	outage_count(w, now, c);
	w->changed = false;
	bool trips = outage_trips(&w->rule, c);
	if (!holding)
		return trips ? OUTAGE_BEGINS : OUTAGE_SAME;
	/* over only when the window can tell: enough sites, or a canary that answered */
	bool told = c->checked >= (size_t)w->rule.min || c->canaries_failed < c->canaries_seen;
	return !trips && told ? OUTAGE_ENDS : OUTAGE_SAME;
}

const char *outage_reason(const struct outage_rule *r, const struct outage_count *c,
    char *buf, size_t len)
{
	if (r->ncanary > 0 && c->canaries_seen == r->ncanary && c->canaries_failed == r->ncanary)
		snprintf(buf, len, "every canary failed (%zu of %zu); %zu of %zu sites checked in "
		    "%d s failed with a network error", c->canaries_failed, r->ncanary, c->network,
		    c->checked, r->window_s);
	else
		snprintf(buf, len, "%zu of %zu sites checked in %d s failed with a network error",
		    c->network, c->checked, r->window_s);
	return buf;
}

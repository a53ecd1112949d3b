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
}

void outage_free(struct outage_watch *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* The place of id in the sorted array: its index, or where it would go. */
static size_t find(const struct outage_watch *w, int64_t id)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int outage_see(struct outage_watch *w, int64_t id, int64_t at, int err)
{
	size_t i = find(w, id);
	if (at > w->latest)
		w->latest = at;
	struct outage_seen s = {
		.id = id, .at = at, .failed = err != SQ_OK, .network = sq_class_network(err),
	};

	if (i < w->n && w->v[i].id == id) {
		if (w->v[i].at > at)
			return 0;   /* an older result, come late: the newer one stands */
		w->v[i] = s;
		w->changed = true;
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct outage_seen *v = realloc(w->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	memmove(w->v + i + 1, w->v + i, (w->n - i) * sizeof(*w->v));
	w->v[i] = s;
	w->n++;
	w->changed = true;
	return 0;
}

void outage_count(struct outage_watch *w, int64_t now, struct outage_count *c)
{
	size_t kept = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < w->n; i++) {
		const struct outage_seen *s = &w->v[i];
		/* out of the window: forgotten (a removed site's last result too) */
		if (s->at <= now - w->rule.window_s)
			continue;
		if (s->id < 0) {
			if ((size_t)(-1 - s->id) < w->rule.ncanary) {
				c->canaries_seen++;
				c->canaries_failed += s->failed;
			}
		} else {
			c->checked++;
			c->network += s->failed && s->network;
		}
		w->v[kept++] = *s;
	}
	w->n = kept;
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

/*
 * page.c - what a status page shows: the sites of its kind in their
 * order, their counts and groups, then one site's figures at a time.
 *
 * Which sites: the enabled ones squirreld checks (a row it skips is
 * nobody's outage and no site watched: it is counted apart, with no
 * word of why, which may name an owner's address), then by kind: all of
 * them for the operators, the ones marked public for the public page, an
 * owner's own for that owner's page.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "squirrel/base/log.h"
#include "squirrel/report/page.h"
#include "squirrel/store/maintenance.h"

#define DAY 86400
#define HOUR 3600

const char *page_state_name(enum sq_state st)
{
	return st == SQ_STATE_UP ? "up" : st == SQ_STATE_DOWN ? "down" :
	    st == SQ_STATE_DEGRADED ? "degraded" : "unknown";
}

const char *page_title(const struct page *p)
{
	if (p->cfg != NULL && p->cfg->page_title != NULL && p->cfg->page_title[0] != '\0')
		return p->cfg->page_title;
	return "Status";
}

static bool of_kind(const struct page *p, const struct sq_site_info *s)
{
	switch (p->kind) {
	case SQ_PAGE_FULL:
		return true;
	case SQ_PAGE_PUBLIC:
		return s->public;
	case SQ_PAGE_OWNER:
		return p->owner != NULL && s->owner_email != NULL &&
		    strcasecmp(p->owner, s->owner_email) == 0;
	}
	return false;
}

/* The sites that are down first, then the slow, the unknown, the up. */
static int state_rank(enum sq_state st)
{
	return st == SQ_STATE_DOWN ? 0 : st == SQ_STATE_DEGRADED ? 1 :
	    st == SQ_STATE_UNKNOWN ? 2 : 3;
}

static const char *sort_name(const struct sq_site_info *s)
{
	return s->name != NULL && s->name[0] != '\0' ? s->name : s->url;
}

/* Groups by name (no group last), then state, then name, then id. */
static int by_place(const void *a, const void *b)
{
	const struct sq_site_info *x = *(const struct sq_site_info *const *)a;
	const struct sq_site_info *y = *(const struct sq_site_info *const *)b;
	int c;

	if ((x->group_name == NULL) != (y->group_name == NULL))
		return x->group_name == NULL ? 1 : -1;
	if (x->group_name != NULL && (c = strcasecmp(x->group_name, y->group_name)) != 0)
		return c;
	if (x->group_name != NULL && (c = strcmp(x->group_name, y->group_name)) != 0)
		return c;
	if ((c = state_rank(x->state) - state_rank(y->state)) != 0)
		return c;
	if ((c = strcasecmp(sort_name(x), sort_name(y))) != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool same_group(const struct sq_site_info *x, const struct sq_site_info *y)
{
	if (x->group_name == NULL || y->group_name == NULL)
		return x->group_name == y->group_name;
	return strcmp(x->group_name, y->group_name) == 0;
}

static void count(size_t *up, size_t *down, size_t *slow, size_t *unknown, enum sq_state st)
{
	/* degraded is up, and counted apart: slow */
	*up += st == SQ_STATE_UP || st == SQ_STATE_DEGRADED;
	*slow += st == SQ_STATE_DEGRADED;
	*down += st == SQ_STATE_DOWN;
	*unknown += st == SQ_STATE_UNKNOWN;
}

static int make_groups(struct page *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (i == 0 || !same_group(p->order[i - 1], p->order[i]))
			p->ngroups++;
	if (p->ngroups == 0)
		return 0;
	if ((p->groups = calloc(p->ngroups, sizeof(*p->groups))) == NULL)
		return -1;
	size_t g = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct sq_site_info *s = p->order[i];
		if (i > 0 && !same_group(p->order[i - 1], s))
			g++;
		struct page_group *pg = &p->groups[g];
		if (pg->n == 0) {
			pg->name = s->group_name;
			pg->first = i;
		}
		pg->n++;
		count(&pg->up, &pg->down, &pg->slow, &pg->unknown, s->state);
	}
	return 0;
}

int page_open(struct page *p, struct store *s, const struct sq_page_opts *o, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->kind = o->kind;
	p->owner = o->owner;
	p->cfg = o->cfg;
	p->now = now;
	p->first_day = (now / DAY - (PAGE_DAYS - 1)) * DAY;
	p->first_rt_day = (now / DAY - (PAGE_RT_DAYS - 1)) * DAY;
	p->first_hour = (now / HOUR - (PAGE_HOURS - 1)) * HOUR;
	/* the operators' and an owner's page show the addresses; the public one as told */
	p->show_urls = o->kind != SQ_PAGE_PUBLIC || (o->cfg != NULL && o->cfg->page_show_urls);

	/* the reader's snapshot first: the list and the windows are read inside it */
	if ((p->reader = store_reader_open(s)) == NULL)
		return -1;
	if (store_windows(s, &p->windows) < 0) {
		store_reader_close(p->reader);
		p->reader = NULL;
		return -1;
	}
	if (o->sites != NULL) {
		p->list = *o->sites;
		p->list_borrowed = true;
	} else if (store_site_infos(s, 0, &p->list) < 0) {
		goto fail;
	}
	if (p->list.n > 0 && ((p->order = calloc(p->list.n, sizeof(*p->order))) == NULL ||
	    (p->skipped_rows = calloc(p->list.n, sizeof(*p->skipped_rows))) == NULL)) {
		log_errorx("the status page: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < p->list.n; i++) {
		const struct sq_site_info *si = &p->list.v[i];
		if (!si->enabled || !of_kind(p, si))
			continue;
		if (si->skipped != NULL) {
			p->skipped_rows[p->skipped++] = si;
			continue;
		}
		p->order[p->n++] = si;
		count(&p->up, &p->down, &p->slow, &p->unknown, si->state);
	}
	if (p->n > 1)
		qsort(p->order, p->n, sizeof(*p->order), by_place);
	if (make_groups(p) < 0) {
		log_errorx("the status page: out of memory");
		goto fail;
	}
	return 0;
fail:
	page_close(p);
	return -1;
}

void page_site_clear(struct page_site *ps)
{
	store_free_incidents(&ps->inc);
	memset(ps, 0, sizeof(*ps));
}

int page_site_read(struct page *p, size_t i, struct page_site *ps)
{
	struct sq_figures fig;
	struct sq_reader *r = p->reader;
	int64_t now = p->now;

	page_site_clear(ps);
	if (i >= p->n)
		return -1;
	const struct sq_site_info *si = p->order[i];
	ps->info = si;
	ps->window = -1;
	if (store_reader_uptime_days(r, si->id, p->first_day, PAGE_DAYS, now, ps->days) < 0 ||
	    store_reader_figures(r, si->id, now, &fig) < 0)
		return -1;
	ps->d1 = fig.day;
	ps->d7 = fig.week;
	ps->d30 = fig.month;
	ps->p50 = fig.p50_ms;
	ps->p95 = fig.p95_ms;
	/* the 90-day figure is the bar's: its days summed, today so far included */
	for (int d = 0; d < PAGE_DAYS; d++) {
		ps->d90.up_s += ps->days[d].up_s;
		ps->d90.down_s += ps->days[d].down_s;
		ps->d90.slow_s += ps->days[d].slow_s;
		ps->d90.maint_s += ps->days[d].maint_s;
	}
	if (store_reader_rt_slots(r, si->id, p->first_hour, HOUR, PAGE_HOURS, ps->rt_hours) < 0 ||
	    store_reader_rt_slots(r, si->id, p->first_rt_day, DAY, PAGE_RT_DAYS, ps->rt_days) < 0)
		return -1;
	if (store_reader_incidents(r, si->id, now - (int64_t)PAGE_DAYS * DAY, PAGE_INCIDENTS,
	    &ps->inc) < 0)
		return -1;
	ps->window = window_next(&p->windows, si->id, si->owner_email, now, &ps->window_start,
	    &ps->window_end);
	return 0;
}

void page_close(struct page *p)
{
	free(p->order);
	free(p->skipped_rows);
	free(p->groups);
	if (!p->list_borrowed)
		store_free_site_infos(&p->list);
	window_list_free(&p->windows);
	store_reader_close(p->reader);
	memset(p, 0, sizeof(*p));
}

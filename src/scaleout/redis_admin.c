/*
 * redis_admin.c - the scale-out as Redis sees it (see redis_admin.h).
 *
 * One pipelined round trip: XINFO GROUPS and XINFO STREAM of
 * <prefix>:checks, XINFO GROUPS of <prefix>:results, and XINFO CONSUMERS
 * of every location's group and of the coordinator's. A group nobody has
 * made yet (NOGROUP) or a stream that does not exist yet ("no such key")
 * reads as empty; any other error reply is a failure with its text.
 *
 * The lag is Redis's own (XINFO GROUPS "lag", Redis 7) when it gives one;
 * when it gives nil (entries deleted in the middle of the stream) it is
 * estimated from the stream's entries-added less the group's entries-read.
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/escape.h"
#include "squirrel/scaleout/quorum.h"
#include "squirrel/scaleout/redis_admin.h"
#include "squirrel/scaleout/redis_link.h"

/* The value of key in a reply of alternating keys and values, or NULL. */
static const redisReply *field(const redisReply *map, const char *key)
{
	if (map == NULL || map->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < map->elements; i += 2) {
		const redisReply *k = map->element[i];
		if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) &&
		    strcmp(k->str, key) == 0)
			return map->element[i + 1];
	}
	return NULL;
}

/* An integer field: true with *v when it is there and not nil. */
static bool int_field(const redisReply *map, const char *key, int64_t *v)
{
	const redisReply *r = field(map, key);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return false;
	*v = (int64_t)r->integer;
	return true;
}

/* A reply that reads as "nothing there yet". */
static bool absent(const redisReply *r)
{
	return redis_reply_is_error(r, "NOGROUP") ||
	    (r->type == REDIS_REPLY_ERROR && strstr(r->str, "no such key") != NULL);
}

static void group_free(struct ra_group *g)
{
	for (size_t i = 0; i < g->nconsumers; i++)
		free(g->consumers[i].name);
	free(g->consumers);
	free(g->name);
	memset(g, 0, sizeof(*g));
}

void redis_admin_free(struct ra_report *r)
{
	for (int i = 0; i < r->nloc; i++)
		group_free(&r->locations[i]);
	free(r->locations);
	group_free(&r->results);
	free(r->checks_key);
	free(r->results_key);
	memset(r, 0, sizeof(*r));
}

/* g's line of an XINFO GROUPS reply; entries_added < 0: unknown. */
static void take_group(struct ra_group *g, const redisReply *groups, int64_t entries_added)
{
	if (groups == NULL || groups->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < groups->elements; i++) {
		const redisReply *name = field(groups->element[i], "name");
		if (name == NULL || name->type != REDIS_REPLY_STRING || strcmp(name->str, g->name) != 0)
			continue;
		g->exists = true;
		int_field(groups->element[i], "pending", &g->pending);
		g->read_known = int_field(groups->element[i], "entries-read", &g->entries_read);
		g->lag_known = int_field(groups->element[i], "lag", &g->lag);
		if (!g->lag_known && g->read_known && entries_added >= 0) {
			g->lag = entries_added > g->entries_read ? entries_added - g->entries_read : 0;
			g->lag_known = true;
		}
		return;
	}
}

/* g's consumers from an XINFO CONSUMERS reply. 0 or -1 (out of memory). */
static int take_consumers(struct ra_group *g, const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return 0;
	g->consumers = calloc(r->elements, sizeof(*g->consumers));
	if (g->consumers == NULL)
		return -1;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *name = field(r->element[i], "name");
		if (name == NULL || name->type != REDIS_REPLY_STRING)
			continue;
		struct ra_consumer *c = &g->consumers[g->nconsumers];
		if ((c->name = strdup(name->str)) == NULL)
			return -1;
		g->nconsumers++;
		int_field(r->element[i], "pending", &c->pending);
		int_field(r->element[i], "idle", &c->idle_ms);
	}
	return 0;
}

static void xinfo(struct rw_args *a, const char *what, const char *key, const char *group)
{
	rw_args_init(a);
	rw_args_add(a, "XINFO");
	rw_args_add(a, what);
	rw_args_add(a, key);
	if (group != NULL)
		rw_args_add(a, group);
}

/* The reports's names: keys, locations, groups. 0 or -1 with why. */
static int report_init(struct ra_report *out, const struct sq_config *cfg, char *why,
    size_t whylen)
{
	char *names[QUORUM_MAX_LOCATIONS];
	char lwhy[160];
	size_t plen = strlen(cfg->redis_prefix) + 16;

	int n = quorum_locations(cfg->redis_locations, names, lwhy, sizeof(lwhy));
	if (n < 0) {
		snprintf(why, whylen, "[redis] locations: %s", lwhy);
		return -1;
	}
	out->checks_key = malloc(plen);
	out->results_key = malloc(plen);
	out->locations = calloc((size_t)n, sizeof(*out->locations));
	out->results.name = strdup(RW_COORDINATOR_GROUP);
	if (out->checks_key == NULL || out->results_key == NULL || out->locations == NULL ||
	    out->results.name == NULL) {
		quorum_locations_free(names, n);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	snprintf(out->checks_key, plen, "%s:checks", cfg->redis_prefix);
	snprintf(out->results_key, plen, "%s:results", cfg->redis_prefix);
	for (int i = 0; i < n; i++) {
		out->locations[i].name = names[i];       /* taken over */
		names[i] = NULL;
	}
	out->nloc = n;
	return 0;
}

int redis_admin_query(struct redis_link *l, const struct sq_config *cfg, struct ra_report *out,
    char *why, size_t whylen)
{
	struct rw_args a;
	redisReply **replies = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (report_init(out, cfg, why, whylen) < 0)
		goto done;
	if (redis_link_ensure(l) < 0) {
		snprintf(why, whylen, "cannot use Redis at %s: %s", l->url.shown, l->last_why);
		goto done;
	}
	/* 0 groups of checks, 1 the checks stream, 2 groups of results, then consumers */
	int ncmd = 3 + out->nloc + 1;
	replies = calloc((size_t)ncmd, sizeof(*replies));
	if (replies == NULL) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	xinfo(&a, "GROUPS", out->checks_key, NULL);
	int sent = redis_link_append(l, &a) == 0;
	xinfo(&a, "STREAM", out->checks_key, NULL);
	sent = sent && redis_link_append(l, &a) == 0;
	xinfo(&a, "GROUPS", out->results_key, NULL);
	sent = sent && redis_link_append(l, &a) == 0;
	for (int i = 0; i <= out->nloc && sent; i++) {
		if (i < out->nloc)
			xinfo(&a, "CONSUMERS", out->checks_key, out->locations[i].name);
		else
			xinfo(&a, "CONSUMERS", out->results_key, out->results.name);
		sent = redis_link_append(l, &a) == 0;
	}
	for (int i = 0; i < ncmd && sent; i++)
		if ((replies[i] = redis_link_reply(l)) == NULL)
			sent = 0;
	if (!sent) {
		snprintf(why, whylen, "Redis at %s: %s", l->url.shown,
		    l->last_why[0] ? l->last_why : "the connection broke");
		goto done;
	}
	for (int i = 0; i < ncmd; i++) {
		if (replies[i]->type == REDIS_REPLY_ERROR && !absent(replies[i])) {
			char text[200];
			rw_printable(text, sizeof(text), replies[i]->str, replies[i]->len);
			snprintf(why, whylen, "Redis at %s refused XINFO: %s", l->url.shown, text);
			goto done;
		}
	}
	int64_t added = -1;
	if (!int_field(replies[1], "entries-added", &added))
		added = -1;
	for (int i = 0; i < out->nloc; i++) {
		take_group(&out->locations[i], replies[0], added);
		if (take_consumers(&out->locations[i], replies[3 + i]) < 0) {
			snprintf(why, whylen, "out of memory");
			goto done;
		}
	}
	take_group(&out->results, replies[2], -1);
	if (take_consumers(&out->results, replies[3 + out->nloc]) < 0) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	if (replies != NULL) {
		for (int i = 0; i < 3 + out->nloc + 1; i++)
			redis_reply_free(replies[i]);
		free(replies);
	}
	if (rc < 0)
		redis_admin_free(out);
	return rc;
}

static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_sample(FILE *f, const char *name, const char *location, int64_t v)
{
	fprintf(f, "%s{location=\"", name);
	prom_label_escape(f, location);
	fprintf(f, "\"} %" PRId64 "\n", v);
}

void redis_admin_prom(FILE *f, const struct ra_report *r)
{
	bool any_lag = false, any_read = false;

	for (int i = 0; i < r->nloc; i++) {
		any_lag |= r->locations[i].lag_known;
		any_read |= r->locations[i].read_known;
	}
	prom_family(f, "squirrel_location_pending", "gauge",
	    "Checks a location's workers hold and have not answered yet.");
	for (int i = 0; i < r->nloc; i++)
		prom_sample(f, "squirrel_location_pending", r->locations[i].name,
		    r->locations[i].pending);
	if (any_lag) {
		prom_family(f, "squirrel_location_lag", "gauge",
		    "Checks queued that no worker of the location has taken yet.");
		for (int i = 0; i < r->nloc; i++)
			if (r->locations[i].lag_known)
				prom_sample(f, "squirrel_location_lag", r->locations[i].name,
				    r->locations[i].lag);
	}
	prom_family(f, "squirrel_location_consumers", "gauge",
	    "Workers (consumers) Redis knows in the location, idle ones included.");
	for (int i = 0; i < r->nloc; i++)
		prom_sample(f, "squirrel_location_consumers", r->locations[i].name,
		    (int64_t)r->locations[i].nconsumers);
	if (any_read) {
		prom_family(f, "squirrel_location_checks_total", "counter",
		    "Checks handed to the location's workers since its group was made.");
		for (int i = 0; i < r->nloc; i++)
			if (r->locations[i].read_known)
				prom_sample(f, "squirrel_location_checks_total", r->locations[i].name,
				    r->locations[i].entries_read);
	}
}

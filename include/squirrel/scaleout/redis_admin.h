/*
 * redis_admin.h - how the scale-out is doing, as Redis sees it: for each
 * configured location (a consumer group on <prefix>:checks) its consumers
 * (the workers), the checks it holds unacknowledged and the checks not yet
 * read (the lag); and the same for the coordinator's group on
 * <prefix>:results. One round trip of XINFO commands.
 *
 * Used by `squirrelctl workers` and by the daemon's metrics file. Plain
 * data out: the callers need no Redis library.
 */
#ifndef SQUIRREL_REDIS_ADMIN_H
#define SQUIRREL_REDIS_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "squirrel/core/config.h"

struct redis_link;

struct ra_consumer {
	char *name;
	int64_t pending;          /* entries delivered to it and not acknowledged */
	int64_t idle_ms;          /* since it last read (or claimed) */
};

struct ra_group {
	char *name;               /* the location, or the coordinator's group */
	bool exists;              /* false: nobody has made the group yet (the figures are 0) */
	int64_t pending;          /* delivered, not acknowledged */
	bool lag_known;
	int64_t lag;              /* entries of the stream not yet delivered to the group */
	bool read_known;
	int64_t entries_read;     /* entries delivered to the group so far (Redis 7) */
	size_t nconsumers;
	struct ra_consumer *consumers;
};

struct ra_report {
	char *checks_key;         /* <prefix>:checks */
	char *results_key;        /* <prefix>:results */
	int nloc;
	struct ra_group *locations;   /* in the order of [redis] locations */
	struct ra_group results;      /* the coordinator's group on <prefix>:results */
};

/*
 * Connects l when needed (redis_link_ensure) and reads the report for
 * cfg's prefix and locations. 0, or -1 with the reason in why (naming the
 * url without its password); nothing to free then. When the connection
 * failed, l->c is NULL afterwards (and the link has logged it if it had
 * been up before).
 */
int redis_admin_query(struct redis_link *l, const struct sq_config *cfg, struct ra_report *out,
    char *why, size_t whylen);
void redis_admin_free(struct ra_report *r);

/*
 * The per-location families of the metrics file: squirrel_location_pending,
 * squirrel_location_lag (when known), squirrel_location_consumers and
 * squirrel_location_checks_total (checks delivered to the location, when
 * known), each labelled location="...".
 */
void redis_admin_prom(FILE *f, const struct ra_report *r);

#endif

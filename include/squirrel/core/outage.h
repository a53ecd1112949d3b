/*
 * outage.h - when the monitor itself is cut off (src/core/outage.c).
 *
 * When many sites fail at once with network classes (a name lookup, the
 * connection, a timeout, an unreachable network), it is squirrel's own
 * network that most likely failed, not the sites. The rule, over the last
 * outage_window seconds: at least outage_share of the sites checked (at
 * least outage_min of them) failed with a network class, or every
 * configured canary failed. Pure: the caller feeds each result in and asks
 * what the rule says; holding the alerts is its business (alert/record.c).
 */
#ifndef SQUIRREL_CORE_OUTAGE_H
#define SQUIRREL_CORE_OUTAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/base/u64map.h"

#define OUTAGE_CANARY_MAX 16      /* urls in [check] canary */

/* [check] canary, read: urls, each one url_valid() accepts. */
struct outage_canaries {
	char *url[OUTAGE_CANARY_MAX];
	size_t n;
};

/*
 * Reads a list of urls separated by commas and/or spaces ("" is none). 0,
 * or -1 with the reason in why (the url at fault named); out is then empty.
 */
int outage_canaries_parse(const char *list, struct outage_canaries *out, char *why, size_t len);
void outage_canaries_free(struct outage_canaries *c);

/* The rule's settings: [check] outage_window, outage_share, outage_min, canaries. */
struct outage_rule {
	int window_s;
	double share;             /* above 0, at most 1 */
	int min;                  /* >= 1 */
	size_t ncanary;           /* canaries configured: ids -1 .. -ncanary */
};

/* The last result of each site (and canary) seen, by id. */
struct outage_seen {
	int64_t id;               /* a site's id; a canary's is -1 - its index */
	int64_t at;               /* unix s of the check */
	bool failed;
	bool network;             /* failed with a network class */
};

struct outage_watch {
	struct outage_rule rule;
	struct outage_seen *v;    /* in the order first seen */
	size_t n, cap;
	struct u64map index;      /* id -> its place in v, plus one */
	bool changed;             /* something was seen since the last outage_decide() */
	int64_t latest;           /* unix s of the newest result seen: the rule's "now" */
};

/* What the rule sees in the window ending at now. */
struct outage_count {
	size_t checked;           /* sites with a result in the window */
	size_t network;           /* of them, last failed with a network class */
	size_t canaries_seen;     /* canaries with a result in the window */
	size_t canaries_failed;   /* of them, last failed */
};

enum outage_step { OUTAGE_SAME = 0, OUTAGE_BEGINS, OUTAGE_ENDS };

void outage_init(struct outage_watch *w, const struct outage_rule *r);
void outage_free(struct outage_watch *w);

/*
 * One result: site id (a canary: -1 - its index), when (unix s) and its
 * class (enum sq_err; SQ_OK for a success). A later result of the same id
 * replaces an earlier one; an older one is ignored. 0, or -1 out of memory
 * (nothing changed).
 */
int outage_see(struct outage_watch *w, int64_t id, int64_t at, int err);

/*
 * Counts the window ending at now. Results older than it do not count;
 * once they are most of what is kept, they are forgotten (a removed
 * site's last result among them).
 */
void outage_count(struct outage_watch *w, int64_t now, struct outage_count *c);

/* Whether the counts trip the rule. */
bool outage_trips(const struct outage_rule *r, const struct outage_count *c);

/*
 * What the window ending at now means for a monitor that holds (an outage
 * under way) or not: OUTAGE_BEGINS when the rule trips and none holds;
 * OUTAGE_ENDS when one holds, the rule no longer trips, and the window has
 * enough to tell (outage_min sites checked, or a canary that answered);
 * else OUTAGE_SAME. c (may be NULL) gets the counts.
 */
enum outage_step outage_decide(struct outage_watch *w, int64_t now, bool holding,
    struct outage_count *c);

/* The counts in words, for the admin's mail and the log: "12 of 20 sites ...". */
const char *outage_reason(const struct outage_rule *r, const struct outage_count *c,
    char *buf, size_t len);

#endif

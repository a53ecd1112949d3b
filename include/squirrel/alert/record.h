/*
 * record.h - what a batch of results means: the history, each site's state
 * machine, and the alerts it owes, written in one transaction so a crash
 * can neither lose an alert nor queue one twice.
 */
#ifndef SQUIRREL_RECORD_H
#define SQUIRREL_RECORD_H

#include <stddef.h>

#include "squirrel/core/check.h"
#include "squirrel/core/config.h"
#include "squirrel/core/outage.h"
#include "squirrel/core/site.h"
#include "squirrel/core/state.h"
#include "squirrel/scaleout/quorum.h"

struct store;

struct record_entry {
	const struct sq_site *site;
	struct sq_result result;
	int next_check_s;        /* out: when the state machine wants the next check */
	enum sq_state state;     /* out: the site's state after this result */
	bool dropped;            /* out: the site was deleted meanwhile */
	struct sq_transition tr; /* out: what the result meant, logged once committed */
	int64_t alert_id;        /* out: the alert it queued; 0: none */
	bool held;               /* out: failed while the monitor was cut off: unknown */
};

struct record_stats {
	size_t recorded;
	size_t dropped;
	size_t alerts;
};

/*
 * [redis] locations, read once per configuration load: the names the
 * votes of a verdict index (sq_vote.location), as the backend numbered
 * them. When the list cannot be read, n is 0 and why says so (a batch with
 * votes logs it: the locations' answers are then not kept).
 */
struct record_locations {
	char *v[QUORUM_MAX_LOCATIONS];
	int n;
	char why[128];
};

void record_locations_load(struct record_locations *l, const struct sq_config *cfg);
void record_locations_free(struct record_locations *l);

/*
 * Records n results in one transaction, the votes named after locs (NULL:
 * none). 0, or -1 (logged; nothing written).
 * A failing site whose parent (depends_on) is down, or failed in this same
 * batch, is `parent down`: e[i].result is rewritten so (class and detail),
 * recorded in the history, and left out of the state machine: no alert, no
 * incident. A parent's DOWN and UP alerts list the sites behind it.
 * The transitions are logged after the commit, so a batch written again
 * after a failed commit (a full disk) says "is DOWN" once, when it holds.
 */
int record_batch(struct store *st, const struct sq_config *cfg,
    const struct record_locations *locs, struct record_entry *e, size_t n,
    struct record_stats *stats);

/*
 * The monitor's own outage, watched across batches ([check] outage_window,
 * outage_share, outage_min, canary): the last result of each site and
 * canary, kept by the caller for a configuration's load. The hold itself
 * is in the database (store/outage.c), so it outlives the process.
 */
struct record_watch {
	struct outage_watch w;
	struct outage_canaries canaries;   /* checked like sites, never recorded */
};

void record_watch_init(struct record_watch *rw, const struct sq_config *cfg);
void record_watch_free(struct record_watch *rw);
/* A site's result, for the rule alone (record_batch_watched() tells it of its own). */
void record_watch_see(struct record_watch *rw, const struct sq_result *r);
/* A canary's result (its index in canaries). */
void record_watch_canary(struct record_watch *rw, size_t i, const struct sq_result *r);

/*
 * record_batch() under the outage rule (rw NULL: none). The results go
 * through the rule first; in the same transaction as them, a hold begins
 * (DOWN alerts of the window held, one outage alert to [alerts] admin) or
 * ends. While it holds, a failed check is recorded unknown (class
 * "unknown outage", its own error in the detail; e->held) and the state
 * machine does not see it. A site with held alerts: a success cancels them
 * (and its UP is not mailed), fail_threshold fresh failures once the hold
 * is over send them. With n 0 it still runs when a canary was seen.
 */
int record_batch_watched(struct store *st, const struct sq_config *cfg,
    const struct record_locations *locs, struct record_watch *rw, struct record_entry *e,
    size_t n, struct record_stats *stats);

#endif

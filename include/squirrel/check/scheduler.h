/*
 * scheduler.h - when each site is due: a min-heap on next-due time.
 *
 * Pure bookkeeping, no I/O and no clock: the caller passes the time (a
 * monotonic millisecond count). Sites are spread over their interval with a
 * stable per-site phase, so ten thousand sites with one interval do not all
 * fire in the same second.
 */
#ifndef SQUIRREL_SCHEDULER_H
#define SQUIRREL_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/config.h"
#include "squirrel/core/site.h"
#include "squirrel/core/state.h"

struct sched_site {
	struct sq_site site;       /* owned */
	int64_t due_ms;
	size_t heap_idx;           /* SIZE_MAX: not in the heap */
	bool inflight;             /* a check of it is running */
	bool retired;              /* removed or replaced while in flight */
	bool checked;              /* placed in its interval since it appeared */
	enum sq_state state;       /* the last known state, for status lines */
};

struct scheduler;

struct scheduler *scheduler_new(void);
void scheduler_free(struct scheduler *s);

/*
 * Makes list the set of sites, taking the rows' strings (list is emptied).
 * Unchanged sites keep their place; changed ones are due at now; new ones
 * are due at now, or spread over their interval when startup is true.
 * Removed or changed sites in flight are retired: freed when their check
 * ends. Returns 0, or -1 when out of memory (the old set stays).
 */
int scheduler_sync(struct scheduler *s, struct sq_site_list *list, const struct sq_config *cfg,
    int64_t now_ms, bool startup);

/* The earliest due time, INT64_MAX when nothing waits. */
int64_t scheduler_next_due(const struct scheduler *s);

/* Takes one site due at now_ms (marked in flight), or NULL. */
struct sched_site *scheduler_pop_due(struct scheduler *s, int64_t now_ms);

/*
 * A check of site ended; next_check_s is what the state machine asked for
 * (0: the site's interval). Returns false when the site was retired (and
 * is freed now): its result belongs to a site that is gone or changed.
 */
bool scheduler_done(struct scheduler *s, struct sched_site *site, int next_check_s,
    int64_t now_ms);

/* A site is no longer in flight without a result (backend failure): due again. */
void scheduler_requeue(struct scheduler *s, struct sched_site *site, int64_t due_ms);

/*
 * The configuration changed: no site waits longer than its (new) interval
 * from now.
 */
void scheduler_reschedule(struct scheduler *s, const struct sq_config *cfg, int64_t now_ms);

size_t scheduler_size(const struct scheduler *s);
/* Sites up (degraded ones included: up, but slow) and down. */
void scheduler_state_counts(const struct scheduler *s, size_t *up, size_t *down);

#endif

/*
 * reporter.h - the daemon's slow chores, off the checking thread: the
 * status pages (status_page and [status_page]'s, every minute:
 * statuspage_publish), the metrics file (metrics_file,
 * every 15 s), pruning of old history (history_days, in small batches) and,
 * once after an upgrade, the conversion of schema 8's history to class
 * codes (in batches of 10,000 checks).
 * Its own database connections, so neither a 2-second page nor a prune
 * ever holds up a check.
 */
#ifndef SQUIRREL_REPORTER_H
#define SQUIRREL_REPORTER_H

#include <stdbool.h>

#include "squirrel/core/config.h"
#include "squirrel/report/metrics.h"

struct reporter;

/*
 * Starts the thread; NULL (logged) when it cannot: checking goes on.
 * scaleout: the checks run on Redis workers (the backend does not check
 * locally), so the metrics also say what each location did.
 */
struct reporter *reporter_start(const struct sq_config *cfg, bool scaleout);

/* The daemon's own counters, for the next metrics file. */
void reporter_update(struct reporter *r, const struct sq_metrics *m);

/* Writes the files once more and stops. NULL is fine. */
void reporter_stop(struct reporter *r);

#endif

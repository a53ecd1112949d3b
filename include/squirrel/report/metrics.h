/*
 * metrics.h - the daemon's figures in the Prometheus text format, written
 * atomically for the node exporter's textfile collector (metrics_file).
 *
 * The daemon fills struct sq_metrics with what only it knows (its own
 * counters since it started); the per-site figures (up, last response
 * time and status, checks and failures counters) and the alerts waiting
 * in the outbox are read from the database, so they survive restarts.
 */
#ifndef SQUIRREL_METRICS_H
#define SQUIRREL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "squirrel/store/store.h"

struct sq_metrics {
	int64_t started_at;          /* unix s the daemon started */
	uint64_t checks;             /* checks finished since the start */
	uint64_t failures;           /* of which failed */
	double checks_per_second;    /* over the last minute, say */
	uint64_t alerts_sent;        /* alerts delivered since the start */
	uint64_t alerts_failed;      /* alerts given up since the start */
	double pass_seconds;         /* the last full pass over the sites due; < 0: unknown */
	double loop_seconds;         /* the last loop iteration; < 0: unknown */
};

/*
 * Writes the metrics to f: the per-site families and the outbox from the
 * store, the daemon's from m (left out when m is NULL). 0 or -1 (logged).
 */
int metrics_render(FILE *f, struct store *s, const struct sq_metrics *m);

/*
 * The same into path, atomically (a hidden temporary file beside it, then
 * a rename), readable by all (0644). Name it *.prom in the collector's
 * directory. 0 or -1 (logged; the old file stays).
 */
int metrics_write(const char *path, struct store *s, const struct sq_metrics *m);

/* More families after the others (the locations of the scale-out, say). */
typedef void metrics_extra_fn(FILE *f, void *arg);

/* metrics_write, then extra(f, arg) when extra is not NULL. */
int metrics_write_extra(const char *path, struct store *s, const struct sq_metrics *m,
    metrics_extra_fn *extra, void *arg);

#endif

/*
 * pass.h - one pass over every enabled site: load, check through the
 * backend, record, and (with --once) print one line per site.
 */
#ifndef SQUIRREL_PASS_H
#define SQUIRREL_PASS_H

#include <signal.h>
#include <stdio.h>

#include "squirrel/backend/backend.h"
#include "squirrel/core/config.h"
#include "squirrel/store/store.h"

struct pass_summary {
	size_t sites;       /* checked */
	size_t skipped;     /* rows refused as unusable */
	size_t up, down;
	size_t alerts;      /* queued in the outbox by this pass */
};

/*
 * Runs one pass. Keeps at most `window` checks submitted at a time, so the
 * pass can stop early and cleanly: once *stop is set no new check starts,
 * the ones in flight finish. With out != NULL prints the --once lines.
 * Returns 0, or -1 on an operational error (logged).
 */
int pass_run(struct store *st, struct sq_backend *b, const struct sq_config *cfg,
    size_t window, FILE *out, volatile sig_atomic_t *stop, struct pass_summary *sum);

#endif

/*
 * worker.h - `squirreld --worker`: takes checks from its location's consumer
 * group on <prefix>:checks, runs them on a local backend, and answers on
 * <prefix>:results. No database, no mail.
 */
#ifndef SQUIRREL_WORKER_H
#define SQUIRREL_WORKER_H

#include "squirrel/core/config.h"

/*
 * Runs until SIGTERM or SIGINT, then finishes the checks in flight and
 * writes their answers. location is the consumer group ("default" when
 * NULL); backend names the local backend that runs the checks. Returns the
 * exit status: 0 after a clean stop, 1 when it cannot start (a bad url,
 * Redis refusing the credentials, a backend that cannot start).
 */
int worker_run(const struct sq_config *cfg, const char *location, const char *backend);

#endif

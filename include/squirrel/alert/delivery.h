/*
 * delivery.h - draining the outbox: alerts become mails, one digest per
 * owner, with retries and backoff. It runs in its own thread with its own
 * database connection, so a slow or hung mail server never holds up checks.
 */
#ifndef SQUIRREL_DELIVERY_H
#define SQUIRREL_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "squirrel/core/config.h"
#include "squirrel/store/store.h"

struct delivery;

/* Alerts delivered and given up, counted by a round or by the thread. */
struct delivery_tally {
	uint64_t sent;
	uint64_t failed;
};

/* Starts the thread. NULL on error (logged): checks then go on without mail. */
struct delivery *delivery_start(const struct sq_config *cfg);

/* New alerts were committed: deliver them now rather than at the next round. */
void delivery_kick(struct delivery *d);

/*
 * Stops the thread. With flush, every pending alert is tried once more
 * first, whatever its backoff (bounded by the mail timeouts).
 */
void delivery_stop(struct delivery *d, bool flush);

/*
 * One round in the caller's thread: every pending alert due (all of them
 * with force) is tried once. Sets *left to what still waits. 0, or -1 when
 * the mailer could not even be set up (logged).
 */
int delivery_round(struct store *st, const struct sq_config *cfg, bool force, int64_t *left,
    struct delivery_tally *tally);

/* What the thread delivered and gave up since it started. */
void delivery_get_tally(struct delivery *d, struct delivery_tally *out);

/*
 * squirreld --test-mail ADDRESS: one short message (alert_compose_test)
 * through the configured server. Prints "sent to ADDRESS via HOST:PORT:
 * REPLY" on stdout, REPLY being the server's final answer to the message
 * ("250 2.0.0 Ok: queued as ..."), or the reason (the server's exact
 * answer) on stderr. Returns 0 or 1.
 */
int delivery_test(const struct sq_config *cfg, const char *to);

/* The backoff after the n-th failed attempt: 1 min, doubling, at most 1 h. */
int64_t delivery_backoff_s(int attempts);

#endif

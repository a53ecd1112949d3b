/*
 * outage.h - the monitor's own outage as the database keeps it
 * (src/store/outage.c): the hold under way, and the DOWN alerts it holds.
 * Every function runs inside the caller's transaction (record.c), beside
 * the results that started or ended the hold.
 */
#ifndef SQUIRREL_STORE_OUTAGE_H
#define SQUIRREL_STORE_OUTAGE_H

#include <stdint.h>

struct store;

/* The hold under way: 1 with its id, 0 when none, -1 on error (logged). */
int store_outage_current(struct store *s, int64_t *id);

/*
 * Begins a hold at now: its row; the DOWN alerts still pending queued
 * since since become 'held'; the failure runs of the sites not down start
 * again (the failures that tripped the rule were the monitor's). *held
 * gets the alerts held. 0 or -1 (logged).
 */
int store_outage_begin(struct store *s, int64_t now, int64_t since, const char *reason,
    int64_t *id, int *held);

/* Ends the hold id at now. 0 or -1 (logged). */
int store_outage_end(struct store *s, int64_t id, int64_t now);

/* The alerts held (of every site: site_id 0), into *n. 0 or -1 (logged). */
int store_outbox_held(struct store *s, int64_t site_id, int64_t *n);

/*
 * A fresh failed check of a site whose DOWN alerts are held, the hold
 * over: counted on them; those with threshold such checks become pending
 * (due at now). *released gets how many. 0 or -1 (logged).
 */
int store_outbox_held_fresh(struct store *s, int64_t site_id, int threshold, int64_t now,
    int *released);

/* A site up again: its held alerts are 'cancelled', never sent. 0 or -1 (logged). */
int store_outbox_held_cancel(struct store *s, int64_t site_id, int *cancelled);

#endif

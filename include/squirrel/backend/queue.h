/*
 * queue.h - a FIFO of checks (a growable ring), used by backends to hold the
 * checks they have not started yet. Not thread-safe by itself.
 */
#ifndef SQUIRREL_QUEUE_H
#define SQUIRREL_QUEUE_H

#include <stddef.h>

#include "squirrel/core/check.h"

struct check_queue {
	struct sq_check *v;
	size_t cap, head, len;
};

void check_queue_init(struct check_queue *q);
void check_queue_free(struct check_queue *q);
/* 0, or -1 when out of memory (logged). */
int check_queue_push(struct check_queue *q, const struct sq_check *c);
/* 0, or -1 when empty. */
int check_queue_pop(struct check_queue *q, struct sq_check *out);

/* The oldest check, left in the queue; NULL when empty. */
static inline const struct sq_check *check_queue_peek(const struct check_queue *q)
{
	return q->len ? &q->v[q->head] : NULL;
}

static inline size_t check_queue_len(const struct check_queue *q)
{
	return q->len;
}

#endif

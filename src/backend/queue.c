/*
 * queue.c - a growable ring of checks.
 */
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/backend/queue.h"

void check_queue_init(struct check_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void check_queue_free(struct check_queue *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

static int check_queue_grow(struct check_queue *q)
{
	size_t ncap = q->cap ? q->cap * 2 : 64;
	struct sq_check *nv = malloc(ncap * sizeof(*nv));
	if (nv == NULL) {
		log_errorx("out of memory queueing checks");
		return -1;
	}
	/* Unwrap the ring into the new array. */
	for (size_t i = 0; i < q->len; i++)
		nv[i] = q->v[(q->head + i) % q->cap];
	free(q->v);
	q->v = nv;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

int check_queue_push(struct check_queue *q, const struct sq_check *c)
{
	if (q->len == q->cap && check_queue_grow(q) < 0)
		return -1;
	q->v[(q->head + q->len) % q->cap] = *c;
	q->len++;
	return 0;
}

int check_queue_pop(struct check_queue *q, struct sq_check *out)
{
	if (q->len == 0)
		return -1;
	*out = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return 0;
}

/*
 * serial.c - one check after another, in the caller's thread.
 *
 * The simplest backend and the reference the others are compared with: poll()
 * runs the oldest queued check to its end and delivers its result.
 */
#include <poll.h>
#include <stdlib.h>

#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"
#include "squirrel/backend/queue.h"

struct serial {
	struct probe *probe;
	struct check_queue queue;
};

static int serial_init(struct sq_backend *b, const struct sq_backend_params *p)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->probe = probe_new(&p->probe, true)) == NULL) {
		log_errorx("serial backend: out of memory");
		free(s);
		return -1;
	}
	check_queue_init(&s->queue);
	b->state = s;
	return 0;
}

static int serial_submit(struct sq_backend *b, const struct sq_check *c)
{
	struct serial *s = b->state;
	return check_queue_push(&s->queue, c);
}

static int serial_poll(struct sq_backend *b, int timeout_ms, sq_result_fn *fn, void *arg)
{
	struct serial *s = b->state;
	struct sq_check c;
	struct sq_result r;

	if (check_queue_pop(&s->queue, &c) < 0) {
		/* Nothing to run: this is the caller's sleep (a signal ends it). */
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	/* A check runs to its end: its own timeout bounds it, not timeout_ms. */
	probe_run(s->probe, &c, &r);
	fn(&r, arg);
	return 1;
}

static size_t serial_pending(struct sq_backend *b)
{
	struct serial *s = b->state;
	return check_queue_len(&s->queue);
}

static void serial_shutdown(struct sq_backend *b)
{
	struct serial *s = b->state;
	if (s == NULL)
		return;
	probe_free(s->probe);
	check_queue_free(&s->queue);
	free(s);
}

const struct sq_backend_ops backend_serial = {
	.name = "serial",
	.init = serial_init,
	.submit = serial_submit,
	.poll = serial_poll,
	.pending = serial_pending,
	.shutdown = serial_shutdown,
};

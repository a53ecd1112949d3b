/*
 * threads.c - a fixed pool of threads (runners), each running one blocking
 * check at a time on a probe of its own.
 *
 * One mutex guards everything shared: the queue of checks not started yet,
 * the ring of finished results, and the stop flag. Runners sleep on one
 * condition variable until there is a check to run; the caller sleeps on
 * another until a result is there. Results are handed to the callback only
 * in the caller's thread, in poll(), and never under the lock, so the
 * callback may submit again.
 *
 * Each probe (one curl easy handle) is made in init and used by exactly one
 * thread from then on; the caller frees it only after joining that thread.
 * curl_global_init() was done by the caller before any of this.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/clock.h"
#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"
#include "squirrel/backend/queue.h"
#include "squirrel/base/util.h"

/* Results taken out under the lock at a time, then delivered without it. */
#define DELIVER_BATCH 64

/* A ring of finished results, sized in submit() so a runner never allocates. */
struct result_ring {
	struct sq_result *v;
	size_t cap, head, len;
};

struct threads;

/* One thread of the pool ([squirreld] workers of them) and its own probe. */
struct runner {
	struct threads *pool;
	struct probe *probe;
	pthread_t tid;
};

struct threads {
	pthread_mutex_t lock;
	pthread_cond_t work;        /* a check was queued, or stop */
	pthread_cond_t done;        /* a result was added to finished */
	struct check_queue todo;
	struct result_ring finished;
	size_t pending;             /* submitted and not yet delivered */
	bool stop;
	struct runner *runners;
	int nrunners;
	int nstarted;               /* threads running, to join */
};

/* Makes room for n results; only ever grows. Called with the lock held. */
static int ring_reserve(struct result_ring *q, size_t n)
{
	if (n <= q->cap)
		return 0;
	size_t ncap = q->cap ? q->cap : 64;
	while (ncap < n)
		ncap *= 2;
	struct sq_result *nv = malloc(ncap * sizeof(*nv));
	if (nv == NULL)
		return -1;
	for (size_t i = 0; i < q->len; i++)
		nv[i] = q->v[(q->head + i) % q->cap];
	free(q->v);
	q->v = nv;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

/* Room was reserved by submit(): every result in the ring is still pending. */
static void ring_push(struct result_ring *q, const struct sq_result *r)
{
	q->v[(q->head + q->len) % q->cap] = *r;
	q->len++;
}

static void ring_pop(struct result_ring *q, struct sq_result *out)
{
	*out = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
}

/*
 * A runner: take the oldest check, run it without the lock, file its result.
 * The stop flag is read only between checks, so a check already running
 * always finishes; checks still queued are left for shutdown to drop.
 */
static void *runner_main(void *arg)
{
	struct runner *self = arg;
	struct threads *t = self->pool;
	struct sq_check c;
	struct sq_result r;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->stop && check_queue_len(&t->todo) == 0)
			pthread_cond_wait(&t->work, &t->lock);
		if (t->stop)
			break;
		check_queue_pop(&t->todo, &c);
		pthread_mutex_unlock(&t->lock);

		probe_run(self->probe, &c, &r);

		pthread_mutex_lock(&t->lock);
		ring_push(&t->finished, &r);
		pthread_cond_signal(&t->done);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* Asks every thread to stop after its current check and waits for them. */
static void stop_runners(struct threads *t)
{
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_broadcast(&t->work);
	pthread_mutex_unlock(&t->lock);
	for (int i = 0; i < t->nstarted; i++) {
		int err = pthread_join(t->runners[i].tid, NULL);
		if (err != 0) {
			errno = err;
			log_warn("threads backend: joining worker thread %d", i);
		}
	}
	t->nstarted = 0;
}

static void threads_free(struct threads *t)
{
	for (int i = 0; i < t->nrunners; i++)
		probe_free(t->runners[i].probe);
	free(t->runners);
	check_queue_free(&t->todo);
	free(t->finished.v);
	pthread_cond_destroy(&t->done);
	pthread_cond_destroy(&t->work);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/*
 * The caller waits for results with a deadline; a monotonic clock keeps a
 * change of the wall clock from stretching or cutting that wait.
 */
static int threads_sync_init(struct threads *t)
{
	pthread_condattr_t attr;
	int err;

	if ((err = pthread_mutex_init(&t->lock, NULL)) != 0)
		return err;
	if ((err = pthread_cond_init(&t->work, NULL)) != 0)
		goto fail_lock;
	if ((err = pthread_condattr_init(&attr)) != 0)
		goto fail_work;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (err == 0)
		err = pthread_cond_init(&t->done, &attr);
	pthread_condattr_destroy(&attr);
	if (err == 0)
		return 0;
fail_work:
	pthread_cond_destroy(&t->work);
fail_lock:
	pthread_mutex_destroy(&t->lock);
	return err;
}

/*
 * The threads start with every signal blocked (thread_start), so that
 * SIGTERM and SIGINT reach the daemon's own thread (whose handler sets the
 * stop flag) and no runner is interrupted in the middle of a transfer.
 */
static int start_runners(struct threads *t)
{
	int err = 0;

	for (int i = 0; i < t->nrunners; i++) {
		err = thread_start(&t->runners[i].tid, runner_main, &t->runners[i]);
		if (err != 0) {
			errno = err;
			log_error("threads backend: starting worker thread %d of %d", i + 1,
			    t->nrunners);
			break;
		}
		t->nstarted++;
	}
	return err == 0 ? 0 : -1;
}

static int threads_init(struct sq_backend *b, const struct sq_backend_params *p)
{
	struct threads *t;
	int err;

	if (p->workers < 1) {
		log_errorx("threads backend: workers must be at least 1 (got %d)", p->workers);
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_errorx("threads backend: out of memory");
		return -1;
	}
	if ((err = threads_sync_init(t)) != 0) {
		errno = err;
		log_error("threads backend: creating its lock");
		free(t);
		return -1;
	}
	check_queue_init(&t->todo);
	t->nrunners = p->workers;
	t->runners = calloc((size_t)t->nrunners, sizeof(*t->runners));
	if (t->runners == NULL) {
		t->nrunners = 0;
		log_errorx("threads backend: out of memory for %d workers", p->workers);
		threads_free(t);
		return -1;
	}
	for (int i = 0; i < t->nrunners; i++) {
		t->runners[i].pool = t;
		t->runners[i].probe = probe_new(&p->probe, true);
		if (t->runners[i].probe == NULL) {
			log_errorx("threads backend: out of memory for the probe of worker %d", i);
			threads_free(t);
			return -1;
		}
	}
	if (start_runners(t) < 0) {
		stop_runners(t);
		threads_free(t);
		return -1;
	}
	b->state = t;
	log_debug("threads backend: %d worker threads", t->nrunners);
	return 0;
}

static int threads_submit(struct sq_backend *b, const struct sq_check *c)
{
	struct threads *t = b->state;
	int rc = -1;

	pthread_mutex_lock(&t->lock);
	/* Reserve the result's place now: a runner must never fail to file it. */
	if (ring_reserve(&t->finished, t->pending + 1) < 0)
		log_errorx("threads backend: out of memory queueing site %" PRId64, c->site_id);
	else if (check_queue_push(&t->todo, c) == 0) {
		t->pending++;
		pthread_cond_signal(&t->work);
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static int threads_poll(struct sq_backend *b, int timeout_ms, sq_result_fn *fn, void *arg)
{
	struct threads *t = b->state;
	struct sq_result batch[DELIVER_BATCH];
	int delivered = 0;

	pthread_mutex_lock(&t->lock);
	if (timeout_ms < 0) {
		/* As poll(2): no limit, but never for a result that cannot come. */
		while (t->finished.len == 0 && t->pending > 0)
			pthread_cond_wait(&t->done, &t->lock);
	} else if (timeout_ms > 0 && t->finished.len == 0) {
		/* With nothing pending this is the caller's sleep, all the same. */
		struct timespec until = clock_mono_after(timeout_ms);
		while (t->finished.len == 0) {
			if (pthread_cond_timedwait(&t->done, &t->lock, &until) == ETIMEDOUT)
				break;
		}
	}
	/* Everything finished by now, a batch at a time, the lock released for fn. */
	while (t->finished.len > 0) {
		size_t n = 0;
		while (n < DELIVER_BATCH && t->finished.len > 0)
			ring_pop(&t->finished, &batch[n++]);
		t->pending -= n;
		pthread_mutex_unlock(&t->lock);
		for (size_t i = 0; i < n; i++)
			fn(&batch[i], arg);
		delivered += (int)n;
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return delivered;
}

static size_t threads_pending(struct sq_backend *b)
{
	struct threads *t = b->state;

	pthread_mutex_lock(&t->lock);
	size_t n = t->pending;
	pthread_mutex_unlock(&t->lock);
	return n;
}

static void threads_shutdown(struct sq_backend *b)
{
	struct threads *t = b->state;

	if (t == NULL)
		return;
	stop_runners(t);
	threads_free(t);
	b->state = NULL;
}

const struct sq_backend_ops backend_threads = {
	.name = "threads",
	.init = threads_init,
	.submit = threads_submit,
	.poll = threads_poll,
	.pending = threads_pending,
	.shutdown = threads_shutdown,
};

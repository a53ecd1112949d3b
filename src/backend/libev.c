/*
 * libev.c - one event loop driving libcurl's multi_socket interface.
 *
 * libcurl tells us which sockets to watch (socket callback -> ev_io) and
 * when to call it back (timer callback -> one ev_timer); we tell it what
 * happened with curl_multi_socket_action(). At most max_concurrent
 * transfers are in flight; the rest wait in our own queue, not in
 * libcurl's, because a transfer waiting inside libcurl spends its own
 * timeout while it waits.
 *
 * A check of a name starts with a lookup on the same loop (c-ares). A
 * lookup holds no transfer slot: up to dns_max_inflight names are looked up
 * ahead while the transfers run, and a resolved check waits in the "ready"
 * queue for a slot, its clock stopped. Easy handles are pooled and reused.
 */
#include <curl/curl.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"
#include "squirrel/backend/queue.h"
#include "squirrel/check/resolve.h"

/* File descriptors kept for the rest of the process (database, logs, ...). */
#define FD_RESERVE 64

struct libev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer curl_timer;      /* libcurl's own timeout */
	ev_timer poll_timer;      /* poll()'s time limit */
	int max_concurrent;       /* transfers at once */
	int lookahead;            /* lookups at once, beside the transfers */
	int inflight;             /* transfers running */
	int resolving;            /* lookups running or waiting in the resolver */
	struct check_queue queue;
	struct probe **ready;     /* resolved, waiting for a transfer slot (a ring) */
	int ready_head, nready;
	struct probe **idle;      /* probes free for a new check */
	int nidle;
	struct probe **all;       /* every probe made, to free them */
	int nall, cap;            /* cap = max_concurrent + lookahead */
	struct sq_result *done;   /* results not yet delivered */
	size_t ndone, capdone;
	bool failed;              /* out of memory in a callback */
	struct sq_probe_opts opts;   /* an owned copy: probes are made later */
	struct resolver *resolver;   /* names looked up on this loop */
};

struct sock_watch {
	ev_io io;
	struct libev *b;
};

static void start_queued(struct libev *b);

static void push_result(struct libev *b, const struct sq_result *r)
{
	if (b->ndone == b->capdone) {
		size_t ncap = b->capdone ? b->capdone * 2 : 256;
		struct sq_result *nd = realloc(b->done, ncap * sizeof(*nd));
		if (nd == NULL) {
			/* A result we cannot keep would be a check never answered. */
			log_errorx("libev backend: out of memory keeping a result");
			b->failed = true;
			return;
		}
		b->done = nd;
		b->capdone = ncap;
	}
	b->done[b->ndone++] = *r;
	ev_break(b->loop, EVBREAK_ONE);
}

/* Drains libcurl's finished transfers: the DONE of a timeout is a result too. */
static void check_finished(struct libev *b)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(b->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *h = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct probe *p = probe_from_handle(h);
		struct sq_result r;

		curl_multi_remove_handle(b->multi, h);
		if (probe_done(p, rc, &r)) {
			/* the GET retry after a 405/501 to HEAD */
			if (curl_multi_add_handle(b->multi, h) == CURLM_OK)
				continue;
			r.err = SQ_ERR_OTHER;
			snprintf(r.detail, sizeof(r.detail), "could not start the GET retry");
		}
		push_result(b, &r);
		b->idle[b->nidle++] = p;
		b->inflight--;
	}
	start_queued(b);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock_watch *sw = (struct sock_watch *)w;
	struct libev *b = sw->b;   /* sw may be freed inside socket_action */
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
	    (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	(void)loop;
	curl_multi_socket_action(b->multi, w->fd, action, &running);
	check_finished(b);
}

static void on_curl_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct libev *b = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(b->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_finished(b);
}

static void on_poll_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* libcurl wants a socket watched differently. Re-set the watcher every time: fds are reused. */
static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct libev *b = userp;
	struct sock_watch *sw = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sw != NULL) {
			ev_io_stop(b->loop, &sw->io);
			free(sw);
			curl_multi_assign(b->multi, s, NULL);
		}
		return 0;
	}
	if (sw == NULL) {
		sw = calloc(1, sizeof(*sw));
		if (sw == NULL) {
			log_errorx("libev backend: out of memory watching a socket");
			return -1;
		}
		sw->b = b;
		curl_multi_assign(b->multi, s, sw);
	} else {
		ev_io_stop(b->loop, &sw->io);
	}
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
	ev_io_init(&sw->io, on_io, s, events);
	ev_io_start(b->loop, &sw->io);
	return 0;
}

/* libcurl asks to be called back in timeout_ms; -1 means never. Never call it from here. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct libev *b = userp;

	(void)multi;
	ev_timer_stop(b->loop, &b->curl_timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&b->curl_timer, (double)timeout_ms / 1000.0, 0.0);
		ev_timer_start(b->loop, &b->curl_timer);
	}
	return 0;
}

static struct probe *take_probe(struct libev *b)
{
	if (b->nidle > 0)
		return b->idle[--b->nidle];
	struct probe *p = probe_new(&b->opts, false);
	if (p != NULL) {
		probe_set_owner(p, b);
		b->all[b->nall++] = p;
	}
	return p;
}

/* A check that ends before its transfer started (a failed lookup, ...). */
static void finish_early(struct libev *b, struct probe *p, const struct sq_result *r)
{
	push_result(b, r);
	b->idle[b->nidle++] = p;
}

static void start_transfer(struct libev *b, struct probe *p)
{
	probe_resume_clock(p);
	CURLMcode mc = curl_multi_add_handle(b->multi, probe_handle(p));
	if (mc != CURLM_OK) {
		struct sq_result r;
		probe_done(p, CURLE_FAILED_INIT, &r);
		r.err = SQ_ERR_OTHER;
		snprintf(r.detail, sizeof(r.detail), "%s", curl_multi_strerror(mc));
		finish_early(b, p, &r);
		return;
	}
	b->inflight++;
}

static void on_resolved(void *arg, const struct resolve_answer *a)
{
	struct probe *p = arg;
	struct libev *b = probe_owner(p);
	struct sq_result r;

	b->resolving--;
	if (probe_set_addresses(p, a, &r) < 0) {
		finish_early(b, p, &r);
	} else {
		probe_pause_clock(p);
		b->ready[(b->ready_head + b->nready++) % b->cap] = p;
	}
	start_queued(b);
}

static void start_check(struct libev *b, const struct sq_check *c)
{
	struct sq_result r;
	struct probe *p = take_probe(b);

	if (p == NULL) {
		memset(&r, 0, sizeof(r));
		r.site_id = c->site_id;
		r.tag = c->tag;
		r.err = SQ_ERR_OTHER;
		snprintf(r.detail, sizeof(r.detail), "out of memory");
		push_result(b, &r);
		return;
	}
	if (probe_start(p, c, &r) < 0) {
		push_result(b, &r);
		b->idle[b->nidle++] = p;
		return;
	}
	const char *name = probe_lookup_name(p);
	if (name == NULL) {
		start_transfer(b, p);
		return;
	}
	/* the name first, on this loop; the transfer waits in on_resolved() */
	if (resolver_lookup(b->resolver, name, c->timeout_ms, on_resolved, p) < 0) {
		struct resolve_answer a = { .err = SQ_ERR_DNS };
		probe_set_addresses(p, &a, &r);
		finish_early(b, p, &r);
		return;
	}
	b->resolving++;
}

/*
 * Fills the free transfer slots, resolved checks first; starts the lookups
 * of the checks to come while there is room ahead. A check of an address
 * literal starts only when a slot is free, so its clock never runs idle.
 */
static void start_queued(struct libev *b)
{
	struct sq_check c;

	for (;;) {
		while (b->inflight < b->max_concurrent && b->nready > 0) {
			struct probe *p = b->ready[b->ready_head];
			b->ready_head = (b->ready_head + 1) % b->cap;
			b->nready--;
			start_transfer(b, p);
		}
		if (b->inflight + b->resolving + b->nready >= b->cap)
			return;
		if (check_queue_len(&b->queue) == 0)
			return;
		bool slot = b->inflight < b->max_concurrent;
		if (!slot && (b->resolving >= b->lookahead ||
		    !probe_url_needs_lookup(check_queue_peek(&b->queue)->url)))
			return;
		check_queue_pop(&b->queue, &c);
		start_check(b, &c);
	}
}

/*
 * Every check holds a socket: raise the soft limit on open files to the
 * hard one, and where even that is too low, run fewer checks at once.
 */
static int fit_fd_limit(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return want;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)want + FD_RESERVE > rl.rlim_cur) {
		int fit = rl.rlim_cur > FD_RESERVE * 2 ? (int)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;
		log_warnx("libev backend: max_concurrent %d lowered to %d: the open file limit is %llu",
		    want, fit, (unsigned long long)rl.rlim_cur);
		return fit;
	}
	return want;
}

static void libev_shutdown(struct sq_backend *be);

static int libev_init(struct sq_backend *be, const struct sq_backend_params *p)
{
	struct libev *b = calloc(1, sizeof(*b));

	if (b == NULL)
		goto nomem;
	be->state = b;
	b->max_concurrent = fit_fd_limit(p->max_concurrent);
	if (probe_opts_copy(&b->opts, &p->probe) < 0)
		goto nomem;
	check_queue_init(&b->queue);
	b->lookahead = p->probe.dns_max_inflight > 0 ? p->probe.dns_max_inflight : 1;
	b->cap = b->max_concurrent + b->lookahead;
	b->idle = calloc((size_t)b->cap, sizeof(*b->idle));
	b->all = calloc((size_t)b->cap, sizeof(*b->all));
	b->ready = calloc((size_t)b->cap, sizeof(*b->ready));
	if (b->idle == NULL || b->all == NULL || b->ready == NULL)
		goto nomem;
	b->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
	if (b->loop == NULL) {
		log_errorx("libev backend: cannot create an event loop");
		goto fail;
	}
	b->multi = curl_multi_init();
	if (b->multi == NULL)
		goto nomem;
	ev_timer_init(&b->curl_timer, on_curl_timer, 0.0, 0.0);
	b->curl_timer.data = b;
	ev_timer_init(&b->poll_timer, on_poll_timer, 0.0, 0.0);
	struct resolver_opts ro = {
		.servers = b->opts.dns_servers,
		.timeout_ms = b->opts.dns_timeout_ms,
		.tries = b->opts.dns_tries,
		.max_inflight = b->opts.dns_max_inflight,
		.ip_version = b->opts.ip_version,
		.hosts_file = b->opts.hosts_file,
	};
	char err[256];
	b->resolver = resolver_new(&ro, b->loop, err, sizeof(err));
	if (b->resolver == NULL) {
		log_errorx("libev backend: name lookups cannot start: %s", err);
		goto fail;
	}
	curl_multi_setopt(b->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(b->multi, CURLMOPT_SOCKETDATA, b);
	curl_multi_setopt(b->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(b->multi, CURLMOPT_TIMERDATA, b);
	return 0;
nomem:
	log_errorx("libev backend: out of memory");
fail:
	libev_shutdown(be);
	return -1;
}

static int libev_submit(struct sq_backend *be, const struct sq_check *c)
{
	struct libev *b = be->state;

	if (check_queue_push(&b->queue, c) < 0)
		return -1;
	start_queued(b);
	return b->failed ? -1 : 0;
}

static int libev_poll(struct sq_backend *be, int timeout_ms, sq_result_fn *fn, void *arg)
{
	struct libev *b = be->state;
	bool busy = b->inflight > 0 || b->resolving > 0;

	/* Idle or not, timeout_ms is the caller's sleep: the loop waits it out. */
	if (b->ndone == 0 && timeout_ms > 0) {
		ev_timer_set(&b->poll_timer, (double)timeout_ms / 1000.0, 0.0);
		ev_timer_start(b->loop, &b->poll_timer);
		ev_run(b->loop, 0);
		ev_timer_stop(b->loop, &b->poll_timer);
	} else if (b->ndone == 0 && busy) {
		ev_run(b->loop, EVRUN_NOWAIT);
	}
	if (b->failed)
		return -1;
	size_t n = b->ndone;
	b->ndone = 0;
	for (size_t i = 0; i < n; i++)
		fn(&b->done[i], arg);
	return (int)n;
}

static size_t libev_pending(struct sq_backend *be)
{
	struct libev *b = be->state;
	return (size_t)(b->inflight + b->resolving + b->nready) + check_queue_len(&b->queue) +
	    b->ndone;
}

static void libev_shutdown(struct sq_backend *be)
{
	struct libev *b = be->state;

	if (b == NULL)
		return;
	for (int i = 0; i < b->nall; i++) {
		if (b->multi != NULL)
			curl_multi_remove_handle(b->multi, probe_handle(b->all[i]));
		probe_free(b->all[i]);
	}
	if (b->multi != NULL)
		curl_multi_cleanup(b->multi);
	resolver_free(b->resolver);
	probe_opts_free(&b->opts);
	if (b->loop != NULL) {
		ev_timer_stop(b->loop, &b->curl_timer);
		ev_loop_destroy(b->loop);
	}
	check_queue_free(&b->queue);
	free(b->idle);
	free(b->all);
	free(b->ready);
	free(b->done);
	free(b);
	be->state = NULL;
}

const struct sq_backend_ops backend_libev = {
	.name = "libev",
	.init = libev_init,
	.submit = libev_submit,
	.poll = libev_poll,
	.pending = libev_pending,
	.shutdown = libev_shutdown,
};

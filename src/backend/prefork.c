/*
 * prefork.c - a fixed pool of forked child processes, each running one
 * check at a time, each fed over a socketpair of its own.
 *
 * The parent never touches curl: it forks the children in init, before any
 * check runs and before the site list is loaded, and every child makes its
 * own probe after the fork. The parent keeps the checks not handed out yet
 * in a queue and gives one to each idle child; a child answers with a
 * struct sq_result. SOCK_SEQPACKET keeps message boundaries, so each side
 * checks every message's exact length before using it, and anything short,
 * long or out of place is taken as a dead child.
 *
 * A child that dies (crash, kill -9, a bad message, a check that never
 * ends) is killed for good, reaped with waitpid(WNOHANG) and replaced by a
 * new fork; its check in flight is answered as SQ_ERR_WORKER ("worker
 * died"), so no check is ever lost and no pass waits for a dead process.
 *
 * Children inherit the parent's memory, the store's SQLite connection
 * included: they never touch it, and they leave with _exit() so that no
 * atexit handler or library destructor runs on the parent's behalf.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/base/util.h"
#include "squirrel/base/clock.h"
#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"
#include "squirrel/backend/queue.h"

#define PF_MAX_URL 4096
/* A slot forks at most once a second: a child that dies at birth must not spin. */
#define PF_RESPAWN_MS 1000
/* A child still busy this long after its check's own timeout is stuck. */
#define PF_WATCHDOG_GRACE_MS 5000
/* How often the parent looks for a dead child's exit status. */
#define PF_REAP_STEP_MS 10
/* Shutdown: how long children get to finish their check before each signal. */
#define PF_STOP_TERM_MS 2000
#define PF_STOP_KILL_MS 5000
#define PF_STOP_GIVEUP_MS 7000

/*
 * What the parent sends: this header, then url_len bytes of url, no NUL.
 * What the answer must be is plain data of fixed size: it goes as it is.
 */
struct pf_request {
	int64_t site_id;
	uint64_t tag;
	int32_t timeout_ms;
	int32_t connect_timeout_ms;
	int32_t max_redirects;
	uint32_t url_len;
	struct sq_expect expect;
};
_Static_assert(sizeof(struct pf_request) == 32 + sizeof(struct sq_expect) &&
    sizeof(struct sq_expect) % 8 == 0, "the request header has no padding");

/* The child's receive buffer: one byte more than the longest valid request. */
struct pf_request_buf {
	struct pf_request h;
	char url[PF_MAX_URL + 1];
};

/* The parent's receive buffer: a longer message shows as one too many bytes. */
union pf_result_buf {
	struct sq_result r;
	char raw[sizeof(struct sq_result) + 1];
};

/*
 * A slot holds one child. LIVE: pid and fd set. DEAD: the socket is closed
 * and the process killed, its exit status not collected yet (fd -1). EMPTY:
 * nothing (pid 0), to be forked again from respawn_at on.
 */
struct slot {
	pid_t pid;
	int fd;                    /* the parent's end of the socketpair */
	bool busy;
	bool fork_failed;          /* the last attempt to fill the slot failed */
	struct sq_check check;     /* in flight, when busy */
	int64_t sent_mono, sent_wall;
	int64_t spawned;           /* monotonic ms of the last fork */
	int64_t respawn_at;
};

struct prefork {
	struct slot *slots;
	int nslots;
	struct check_queue queue;  /* submitted, not handed out yet */
	size_t busy;
	pid_t parent;
	struct sq_probe_opts opts; /* source_address owned here: a fork may come late */
	/*
	 * A probe the parent holds and never runs: the authorities for https
	 * (probe.c's shared store) are read once, here, and every child finds
	 * them made instead of parsing the bundle again after its fork.
	 */
	struct probe *ca_holder;
	struct pollfd *pfds;
	int *pfd_slot;
};

enum slot_state { SLOT_EMPTY, SLOT_LIVE, SLOT_DEAD };

static enum slot_state slot_state(const struct slot *s)
{
	if (s->fd >= 0)
		return SLOT_LIVE;
	return s->pid > 0 ? SLOT_DEAD : SLOT_EMPTY;
}

/* ---- the child process ------------------------------------------------- */

/*
 * Right after the fork: make sure the child dies with the parent, close
 * the parent's end of its own socket and the other children's sockets (a
 * copy held here would keep another child from ever seeing EOF), and take
 * the signal dispositions a child needs. The parent's SIGTERM/SIGINT
 * handler only sets a flag that nobody reads here, so the defaults come
 * back; SIGPIPE stays ignored so a vanished parent shows as EPIPE. The
 * child gets a process group of its own: Ctrl-C in a terminal then
 * reaches the parent alone, which stops cleanly and lets each child
 * finish its check instead of having every check in flight end as
 * "worker died".
 */
static void child_detach(struct prefork *pf, int self, int parent_end)
{
	sigset_t none;

	signal_set(SIGTERM, SIG_DFL);
	signal_set(SIGINT, SIG_DFL);
	signal_set(SIGPIPE, SIG_IGN);
	/* Out of the terminal's foreground group, a log line must not stop us. */
	signal_set(SIGTTOU, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn("prefork worker %d (pid %d): asking to die with the parent", self,
		    (int)getpid());
	/* The parent may have died before prctl: then nobody would tell us. */
	if (getppid() != pf->parent)
		_exit(0);
	setpgid(0, 0);

	close(parent_end);
	for (int i = 0; i < pf->nslots; i++)
		if (i != self && pf->slots[i].fd >= 0)
			close(pf->slots[i].fd);
	/* stdout carries the --once report: only the parent may write there. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/*
 * Reads one request. 1: c is filled (its url points into m); 0: the parent
 * closed the socket; -1: anything else, logged.
 */
static int child_read(int self, int fd, struct pf_request_buf *m, struct sq_check *c)
{
	ssize_t n;

	do
		n = recv(fd, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0) {
		log_warn("prefork worker %d (pid %d): reading a check", self, (int)getpid());
		return -1;
	}
	if ((size_t)n < sizeof(m->h) || m->h.url_len > PF_MAX_URL ||
	    (size_t)n != sizeof(m->h) + m->h.url_len ||
	    memchr(m->url, '\0', m->h.url_len) != NULL) {
		log_warnx("prefork worker %d (pid %d): malformed check of %zd bytes", self,
		    (int)getpid(), n);
		return -1;
	}
	m->url[m->h.url_len] = '\0';
	*c = (struct sq_check){
		.site_id = m->h.site_id,
		.tag = m->h.tag,
		.url = m->url,
		.timeout_ms = m->h.timeout_ms,
		.connect_timeout_ms = m->h.connect_timeout_ms,
		.max_redirects = m->h.max_redirects,
		.expect = m->h.expect,
	};
	/* a keyword's length is a length into its buffer, whoever sent it */
	if (c->expect.keyword_len > SQ_KEYWORD_MAX || c->expect.nstatus > SQ_EXPECT_RANGES) {
		log_warnx("prefork worker %d (pid %d): malformed check", self, (int)getpid());
		return -1;
	}
	return 1;
}

/* The child's whole life: one check after another until the socket closes. */
static _Noreturn void child_main(struct prefork *pf, int self, int fd, int parent_end)
{
	struct pf_request_buf m;
	struct sq_check c;
	struct sq_result r;
	int status = 0, rc;

	child_detach(pf, self, parent_end);
	struct probe *probe = probe_new(&pf->opts, true);
	if (probe == NULL) {
		log_errorx("prefork worker %d (pid %d): out of memory for its probe", self,
		    (int)getpid());
		_exit(1);
	}
	while ((rc = child_read(self, fd, &m, &c)) > 0) {
		probe_run(probe, &c, &r);
		ssize_t n;
		do
			n = send(fd, &r, sizeof(r), MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(r)) {
			/* EPIPE: the parent is gone or shutting down; nobody wants it. */
			if (n < 0 && errno != EPIPE && errno != ECONNRESET) {
				log_warn("prefork worker %d (pid %d): sending the result of site %"
				    PRId64, self, (int)getpid(), c.site_id);
				status = 1;
			}
			break;
		}
	}
	if (rc < 0)
		status = 1;
	probe_free(probe);
	close(fd);
	_exit(status);
}

/* ---- the parent: the pool ---------------------------------------------- */

/* Forks the child of slot i. 0, or -1 (logged; the slot stays EMPTY). */
static int spawn(struct prefork *pf, int i)
{
	struct slot *s = &pf->slots[i];
	int sv[2];
	int64_t now = clock_mono_ms();

	s->spawned = now;
	s->respawn_at = now + PF_RESPAWN_MS;
	s->fork_failed = true;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("prefork backend: socketpair for worker %d", i);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_warn("prefork backend: forking worker %d", i);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0)
		child_main(pf, i, sv[1], sv[0]);
	close(sv[1]);
	s->pid = pid;
	s->fd = sv[0];
	s->busy = false;
	s->fork_failed = false;
	return 0;
}

/* Answers the check of slot s without a result from its child. */
static void answer_failed(struct prefork *pf, struct slot *s, enum sq_err err,
    const char *detail, sq_result_fn *fn, void *arg)
{
	int64_t ms = clock_mono_ms() - s->sent_mono;
	struct sq_result r = {
		.site_id = s->check.site_id,
		.tag = s->check.tag,
		.started_ms = s->sent_wall,
		.err = err,
		.ms = ms > INT32_MAX ? INT32_MAX : (int32_t)ms,
	};

	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	s->busy = false;
	pf->busy--;
	fn(&r, arg);
}

/*
 * The child of slot i is no longer to be trusted: close its socket, kill it
 * in case it still runs (its pid is ours until reaped, so this can hit no
 * other process) and answer its check. Returns the results delivered.
 */
static int slot_died(struct prefork *pf, int i, const char *why, sq_result_fn *fn, void *arg)
{
	struct slot *s = &pf->slots[i];

	close(s->fd);
	s->fd = -1;
	kill(s->pid, SIGKILL);
	if (!s->busy) {
		log_warnx("prefork backend: worker %d (pid %d): %s; it was idle", i, (int)s->pid, why);
		return 0;
	}
	log_warnx("prefork backend: worker %d (pid %d): %s; site %" PRId64
	    " reported as \"worker died\"", i, (int)s->pid, why, s->check.site_id);
	answer_failed(pf, s, SQ_ERR_WORKER, "", fn, arg);
	return 1;
}

static void log_exit(int i, pid_t pid, int status, bool expected)
{
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || expected))
		log_debug("prefork backend: worker %d (pid %d) exited with status %d", i, (int)pid,
		    WEXITSTATUS(status));
	else if (WIFEXITED(status))
		log_warnx("prefork backend: worker %d (pid %d) exited with status %d", i, (int)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && expected)
		log_debug("prefork backend: worker %d (pid %d) ended by signal %d", i, (int)pid,
		    WTERMSIG(status));
	else if (WIFSIGNALED(status))
		log_warnx("prefork backend: worker %d (pid %d) was killed by signal %d (%s)", i,
		    (int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Collects the exit status of a DEAD slot's child, if there is one yet. */
static bool reap(struct prefork *pf, int i, bool expected)
{
	struct slot *s = &pf->slots[i];
	int status;
	pid_t r;

	do
		r = waitpid(s->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	if (r < 0)
		/* ECHILD: reaped already (SIGCHLD ignored); nothing left to wait for. */
		log_debug("prefork backend: worker %d (pid %d): waitpid: %s", i, (int)s->pid,
		    strerror(errno));
	else
		log_exit(i, s->pid, status, expected);
	s->pid = 0;
	return true;
}

/*
 * The housekeeping before each wait: kill children stuck past their check's
 * timeout, reap the dead, fork replacements. Returns the results delivered.
 */
static int tend_pool(struct prefork *pf, sq_result_fn *fn, void *arg)
{
	int64_t now = clock_mono_ms();
	int delivered = 0;

	for (int i = 0; i < pf->nslots; i++) {
		struct slot *s = &pf->slots[i];
		int64_t limit = (int64_t)(s->check.timeout_ms > 0 ? s->check.timeout_ms : 0) +
		    PF_WATCHDOG_GRACE_MS;
		if (slot_state(s) == SLOT_LIVE && s->busy && now - s->sent_mono > limit)
			delivered += slot_died(pf, i, "still busy long past the check's timeout",
			    fn, arg);
		if (slot_state(s) == SLOT_DEAD)
			reap(pf, i, false);
		if (slot_state(s) == SLOT_EMPTY && now >= s->respawn_at && spawn(pf, i) == 0)
			log_info("prefork backend: worker %d restarted as pid %d", i, (int)s->pid);
	}
	return delivered;
}

/*
 * Every slot empty and the last fork of each failed: nothing can run the
 * queued checks, and the pass must not wait for ever. Answer them.
 */
static int fail_queue_if_no_child(struct prefork *pf, sq_result_fn *fn, void *arg)
{
	struct slot tmp = { 0 };
	int delivered = 0;

	if (check_queue_len(&pf->queue) == 0)
		return 0;
	for (int i = 0; i < pf->nslots; i++)
		if (slot_state(&pf->slots[i]) != SLOT_EMPTY || !pf->slots[i].fork_failed)
			return 0;
	log_warnx("prefork backend: no worker can be started; %zu queued check(s) reported as "
	    "\"worker died\"", check_queue_len(&pf->queue));
	while (check_queue_pop(&pf->queue, &tmp.check) == 0) {
		tmp.busy = true;
		tmp.sent_mono = clock_mono_ms();
		tmp.sent_wall = clock_wall_ms();
		pf->busy++;
		answer_failed(pf, &tmp, SQ_ERR_WORKER, "", fn, arg);
		delivered++;
	}
	return delivered;
}

/*
 * Hands c to the idle child of slot i. Returns the results delivered: 0
 * when the check went out, 1 when it was answered here (a url too long for
 * the wire, as the probe itself would refuse it, or a child already dead).
 */
static int send_check(struct prefork *pf, int i, const struct sq_check *c,
    sq_result_fn *fn, void *arg)
{
	struct slot *s = &pf->slots[i];
	size_t len = strnlen(c->url, PF_MAX_URL + 1);

	s->check = *c;
	s->busy = true;
	s->sent_mono = clock_mono_ms();
	s->sent_wall = clock_wall_ms();
	pf->busy++;
	if (len > PF_MAX_URL) {
		char why[64];
		snprintf(why, sizeof(why), "url longer than %d bytes", PF_MAX_URL);
		log_warnx("prefork backend: site %" PRId64 ": %s, not checked", c->site_id, why);
		answer_failed(pf, s, SQ_ERR_BAD_URL, why, fn, arg);
		return 1;
	}
	struct pf_request h = {
		.site_id = c->site_id,
		.tag = c->tag,
		.timeout_ms = c->timeout_ms,
		.connect_timeout_ms = c->connect_timeout_ms,
		.max_redirects = c->max_redirects,
		.url_len = (uint32_t)len,
		.expect = c->expect,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)c->url, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;
	do
		n = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)(sizeof(h) + len))
		return 0;
	/* An idle child has room for one message: any failure means it is gone. */
	char why[96];
	snprintf(why, sizeof(why), "sending it the check: %s",
	    n < 0 ? strerror(errno) : "short send");
	return slot_died(pf, i, why, fn, arg);
}

static int dispatch(struct prefork *pf, sq_result_fn *fn, void *arg)
{
	struct sq_check c;
	int delivered = 0;

	for (int i = 0; i < pf->nslots && check_queue_len(&pf->queue) > 0; i++) {
		struct slot *s = &pf->slots[i];
		while (slot_state(s) == SLOT_LIVE && !s->busy &&
		    check_queue_pop(&pf->queue, &c) == 0)
			delivered += send_check(pf, i, &c, fn, arg);
	}
	return delivered;
}

/* A result from slot i's child: exactly one struct, for the check it holds. */
static bool result_valid(const struct slot *s, const union pf_result_buf *m, ssize_t n,
    char *why, size_t whylen)
{
	if (n != (ssize_t)sizeof(m->r)) {
		snprintf(why, whylen, "sent a message of %zd bytes instead of %zu", n, sizeof(m->r));
		return false;
	}
	if (!s->busy) {
		snprintf(why, whylen, "sent a result it was not asked for");
		return false;
	}
	if (m->r.site_id != s->check.site_id || m->r.tag != s->check.tag) {
		snprintf(why, whylen, "answered for site %" PRId64 " instead", m->r.site_id);
		return false;
	}
	if (m->r.err < 0 || m->r.err >= SQ_ERR_MAX) {
		snprintf(why, whylen, "sent an unknown error class %d", (int)m->r.err);
		return false;
	}
	return true;
}

/* Reads what slot i's child sent. Returns the results delivered. */
static int read_child(struct prefork *pf, int i, sq_result_fn *fn, void *arg)
{
	struct slot *s = &pf->slots[i];
	union pf_result_buf m;
	char why[128];
	int delivered = 0;

	while (slot_state(s) == SLOT_LIVE) {
		ssize_t n = recv(s->fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			snprintf(why, sizeof(why), "%s%s", n == 0 ? "its socket closed" :
			    "reading its socket: ", n == 0 ? "" : strerror(errno));
			return delivered + slot_died(pf, i, why, fn, arg);
		}
		if (!result_valid(s, &m, n, why, sizeof(why)))
			return delivered + slot_died(pf, i, why, fn, arg);
		m.r.detail[sizeof(m.r.detail) - 1] = '\0';
		s->busy = false;
		pf->busy--;
		fn(&m.r, arg);
		delivered++;
	}
	return delivered;
}

/* When the pool next needs attention without any socket waking us. */
static int64_t next_chore(const struct prefork *pf, int64_t now)
{
	int64_t when = INT64_MAX;

	for (int i = 0; i < pf->nslots; i++) {
		const struct slot *s = &pf->slots[i];
		int64_t t = INT64_MAX;
		switch (slot_state(s)) {
		case SLOT_LIVE:
			if (s->busy)
				t = s->sent_mono + (s->check.timeout_ms > 0 ? s->check.timeout_ms : 0) +
				    PF_WATCHDOG_GRACE_MS + 1;
			break;
		case SLOT_DEAD:
			t = now + PF_REAP_STEP_MS;
			break;
		case SLOT_EMPTY:
			t = s->respawn_at;
			break;
		}
		if (t < when)
			when = t;
	}
	return when;
}

/*
 * Waits up to wait_ms for any child socket and reads every one that has
 * something. Returns the results delivered, or -1 when poll(2) failed (a
 * signal included: the caller returns so the daemon sees its flag).
 */
static int wait_children(struct prefork *pf, int wait_ms, sq_result_fn *fn, void *arg)
{
	nfds_t n = 0;
	int delivered = 0;

	for (int i = 0; i < pf->nslots; i++) {
		if (slot_state(&pf->slots[i]) != SLOT_LIVE)
			continue;
		pf->pfds[n] = (struct pollfd){ .fd = pf->slots[i].fd, .events = POLLIN };
		pf->pfd_slot[n++] = i;
	}
	int r = poll(pf->pfds, n, wait_ms);
	if (r < 0)
		return -1;
	for (nfds_t k = 0; k < n && r > 0; k++) {
		if (pf->pfds[k].revents == 0)
			continue;
		r--;
		delivered += read_child(pf, pf->pfd_slot[k], fn, arg);
	}
	return delivered;
}

static size_t prefork_pending(struct sq_backend *b)
{
	struct prefork *pf = b->state;
	return check_queue_len(&pf->queue) + pf->busy;
}

static int prefork_poll(struct sq_backend *b, int timeout_ms, sq_result_fn *fn, void *arg)
{
	struct prefork *pf = b->state;
	int64_t start = clock_mono_ms();
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : start + timeout_ms;
	int delivered = 0;

	for (;;) {
		delivered += tend_pool(pf, fn, arg);
		delivered += fail_queue_if_no_child(pf, fn, arg);
		delivered += dispatch(pf, fn, arg);
		int64_t now = clock_mono_ms();
		/*
		 * Nothing pending is no reason to return: the time left is the
		 * caller's sleep, cut short by a child's socket or a chore.
		 */
		bool last = delivered > 0 || now >= deadline ||
		    (timeout_ms < 0 && prefork_pending(b) == 0);
		int64_t until = next_chore(pf, now);
		if (deadline < until)
			until = deadline;
		int64_t wait = last ? 0 : until - now;
		int got = wait_children(pf, wait < 0 ? 0 : wait > INT_MAX ? INT_MAX : (int)wait, fn,
		    arg);
		if (got < 0) {
			if (errno == EINTR)
				break;
			log_error("prefork backend: waiting for the workers");
			return -1;
		}
		delivered += got;
		if (last)
			break;
	}
	/* The children that just answered take their next checks at once. */
	delivered += dispatch(pf, fn, arg);
	return delivered;
}

static int prefork_submit(struct sq_backend *b, const struct sq_check *c)
{
	struct prefork *pf = b->state;
	/* Handed out in poll(), where a child found dead can be answered for. */
	return check_queue_push(&pf->queue, c);
}

/*
 * Closing a child's socket is its signal to leave once its check is done;
 * then SIGTERM, then SIGKILL, each after a bounded wait.
 */
static void stop_children(struct prefork *pf)
{
	int64_t start = clock_mono_ms();
	bool termed = false, killed = false;

	for (int i = 0; i < pf->nslots; i++) {
		if (pf->slots[i].fd >= 0)
			close(pf->slots[i].fd);
		pf->slots[i].fd = -1;
	}
	for (;;) {
		int left = 0;
		for (int i = 0; i < pf->nslots; i++)
			if (pf->slots[i].pid > 0 && !reap(pf, i, termed))
				left++;
		if (left == 0)
			return;
		int64_t elapsed = clock_mono_ms() - start;
		int sig = 0;
		if (elapsed >= PF_STOP_GIVEUP_MS) {
			log_warnx("prefork backend: %d worker(s) still there after SIGKILL; not "
			    "waiting for them", left);
			return;
		}
		if (elapsed >= PF_STOP_KILL_MS && !killed) {
			sig = SIGKILL;
			killed = true;
		} else if (elapsed >= PF_STOP_TERM_MS && !termed) {
			sig = SIGTERM;
			termed = true;
		}
		for (int i = 0; sig != 0 && i < pf->nslots; i++) {
			if (pf->slots[i].pid <= 0)
				continue;
			log_warnx("prefork backend: worker %d (pid %d) still busy after %d ms; sending %s",
			    i, (int)pf->slots[i].pid, (int)elapsed, sig == SIGKILL ? "SIGKILL" : "SIGTERM");
			kill(pf->slots[i].pid, sig);
		}
		clock_sleep_ms(PF_REAP_STEP_MS);
	}
}

static void prefork_free(struct prefork *pf)
{
	free(pf->slots);
	free(pf->pfds);
	free(pf->pfd_slot);
	probe_free(pf->ca_holder);
	probe_opts_free(&pf->opts);
	check_queue_free(&pf->queue);
	free(pf);
}

static void prefork_shutdown(struct sq_backend *b)
{
	struct prefork *pf = b->state;

	if (pf == NULL)
		return;
	stop_children(pf);
	prefork_free(pf);
	b->state = NULL;
}

static int prefork_init(struct sq_backend *b, const struct sq_backend_params *p)
{
	struct prefork *pf;

	if (p->workers < 1) {
		log_errorx("prefork backend: workers must be at least 1 (got %d)", p->workers);
		return -1;
	}
	if ((pf = calloc(1, sizeof(*pf))) == NULL) {
		log_errorx("prefork backend: out of memory");
		return -1;
	}
	check_queue_init(&pf->queue);
	pf->nslots = p->workers;
	pf->parent = getpid();
	pf->slots = calloc((size_t)pf->nslots, sizeof(*pf->slots));
	pf->pfds = calloc((size_t)pf->nslots, sizeof(*pf->pfds));
	pf->pfd_slot = calloc((size_t)pf->nslots, sizeof(*pf->pfd_slot));
	int copied = probe_opts_copy(&pf->opts, &p->probe);
	if (pf->slots == NULL || pf->pfds == NULL || pf->pfd_slot == NULL || copied < 0) {
		log_errorx("prefork backend: out of memory for %d workers", p->workers);
		pf->nslots = 0;
		prefork_free(pf);
		return -1;
	}
	/* probe.c said why (the ca_file, or out of memory) */
	if ((pf->ca_holder = probe_new(&pf->opts, false)) == NULL) {
		log_errorx("prefork backend: no probe can be made; no worker started");
		pf->nslots = 0;
		prefork_free(pf);
		return -1;
	}
	for (int i = 0; i < pf->nslots; i++)
		pf->slots[i].fd = -1;
	for (int i = 0; i < pf->nslots; i++) {
		if (spawn(pf, i) < 0) {
			log_errorx("prefork backend: could not start worker %d of %d", i + 1,
			    pf->nslots);
			stop_children(pf);
			prefork_free(pf);
			return -1;
		}
	}
	b->state = pf;
	log_debug("prefork backend: %d worker processes", pf->nslots);
	return 0;
}

const struct sq_backend_ops backend_prefork = {
	.name = "prefork",
	.init = prefork_init,
	.submit = prefork_submit,
	.poll = prefork_poll,
	.pending = prefork_pending,
	.shutdown = prefork_shutdown,
};

/*
 * resolve.c - name lookups on c-ares, bounded and classified.
 *
 * The only file that includes ares.h. Shape of a lookup:
 *
 *   resolver_lookup() -> FIFO -> running (the window at once) -> answered
 *                                                  -> callback, from the loop
 *
 * The window (struct resolve_window, resolve.h) is how many lookups run at
 * once: it starts at 16, grows while answers come back without waiting,
 * halves (to 16 at least) when a query is lost at the server, and never
 * passes max_inflight; a lookup whose query is deemed lost (its hedge
 * sent) leaves it. A fixed 200 overflowed a stock dnsmasq's socket on every
 * pass (hundreds of queries lost in 10,000 lookups, each a retry); 16 to
 * 64 at once lose none and keep up with 1,000 transfers.
 *
 * A running lookup asks each wanted family (A, AAAA) on its own: up to
 * tries * nservers tries per family, walking the servers in their order
 * (the first try goes to the first server, the next to the next, ...); a
 * try ends with its query's answer, or after dns_timeout; the deadline
 * bounds them all. The retries are ours rather than c-ares's, for what
 * Debian 12's c-ares 1.18.1 does not give:
 *
 *  - c-ares doubles the timeout on every round of its own retries; here
 *    every try waits dns_timeout, no more, so the tries fit the check.
 *  - A SERVFAIL from the only server comes back from c-ares as
 *    ARES_ECONNREFUSED unless ARES_FLAG_NOCHECKRESP is set; and with it
 *    set, c-ares no longer moves to the next server on SERVFAIL or
 *    REFUSED. So each server has a channel of its own, with NOCHECKRESP
 *    and one try, and the move to the next server is ours.
 *  - A lost query costs a whole dns_timeout before c-ares asks again, and
 *    a burst of lookups can overflow the server's socket (measured:
 *    dnsmasq drops queries once about 200 are queued at it): a 2 s wait
 *    per lost query would double a pass. So a try whose query is still
 *    unanswered after the server's retransmission timeout (RTO, from the
 *    answer times measured, as TCP does) sends one more query, a hedge,
 *    to the next server (or the same, if it is the only one); whichever
 *    answers first counts. The hedge is extra: the tries themselves stay
 *    dns_timeout apart, so when the loss is congestion (the hedges get
 *    lost too) the next try still comes when the burst is over, exactly
 *    as without hedges. (Measured: letting the hedges spend the tries made
 *    64 of 10,000 lookups fail at 200 in flight instead of none.) There
 *    is no hedge to a server that never answered: its RTO is unknown.
 *
 * So random loss turns into a failure only when every try of a lookup is
 * lost.
 *
 * c-ares tells us which sockets to watch (sock_state(): an ev_io each on
 * the loop, a poll() set in resolver_lookup_wait()) and when to look at its
 * timeouts (one ev_timer for all channels); each running lookup has one
 * ev_timer for its next hedge, the resolution delay or its deadline. Answers are handed to the
 * callbacks only after c-ares has returned (deliver()), so a callback can
 * start a new lookup safely and never runs inside resolver_lookup().
 */
#include <ares.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "config_build.h"
#if SQ_HAVE_LIBEV
#include <ev.h>
#endif

#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/base/clock.h"
#include "squirrel/core/check.h"
#include "squirrel/base/log.h"
#include "squirrel/check/resolve.h"

#define DNS_CLASS_IN 1
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_NAME_MAX 253

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_TRIES 2
#define DEFAULT_MAX_INFLIGHT 200

/*
 * The retransmission timeout of a server, in seconds: srtt + 4 * rttvar
 * (RFC 6298), at least twice the smoothed answer time and RTO_MIN. A try
 * hedges after 1 to 2 of them, only if that is under dns_timeout.
 */
#define RTO_MIN 0.05

/*
 * Once one family has an answer (addresses, or NXDOMAIN), the other gets
 * this long to finish (RFC 8305's resolution delay) and no new try.
 */
#define RESOLUTION_DELAY 0.05

/*
 * Receive buffer of a DNS socket. Measured: 200 lookups at once (400
 * queries) overflowed the default buffer (about 100 answers lost per
 * burst); 1 MiB lost none. A small answer costs about 2 KiB of buffer in
 * the kernel, so 5 KiB per lookup in flight, within sane bounds. Sized
 * for max_inflight, the most the window may grow to, so that the answers
 * of a full window fit: our own socket is never what limits it.
 */
#define RCVBUF_PER_LOOKUP (5 * 1024)
#define RCVBUF_MIN (256 * 1024)
#define RCVBUF_MAX (64 * 1024 * 1024)

#define HOSTS_DEFAULT "/etc/hosts"
#define HOSTS_RECHECK_S 1.0     /* how often the hosts file is stat()ed */

/*
 * What one family's queries have told us so far; a later answer replaces
 * an earlier one only if it ranks higher. The last three settle the
 * family: it is not asked again.
 */
enum fam_state {
	FAM_NONE = 0,      /* no answer yet */
	FAM_TIMEOUT,       /* a try got no answer */
	FAM_OTHER,         /* REFUSED, unreachable, malformed, wrong question */
	FAM_SERVFAIL,
	FAM_NODATA,        /* the name exists, no record of this type */
	FAM_NXDOMAIN,
	FAM_ADDR,
};

struct lookup;
struct server;

struct fam {
	struct lookup *l;
	int type;          /* DNS_TYPE_A or DNS_TYPE_AAAA */
	bool wanted;
	enum fam_state state;
	int sent;          /* tries so far */
	int out;           /* queries not back yet, hedges included */
	struct query *try; /* the current try's query; NULL: none out */
	bool hedged;       /* the current try has sent its hedge */
	int naddr;
	unsigned char addr[RESOLVE_MAX_ADDRS][16];
};

/* One query on its way, c-ares's callback argument. */
struct query {
	struct fam *f;
	struct server *s;
	double sent_at;
	double spread;     /* 1..2: this try's share of the RTO before its hedge */
	bool timed;        /* its family's only query out: its answer times the server */
	bool lost;         /* hedged while its server answered later ones: told the window */
};

struct lookup {
	struct resolver *r;
	struct lookup *prev, *next;   /* r->all: every live lookup */
	struct lookup *qnext;         /* in the FIFO or the done list */
	resolve_cb *cb;               /* NULL: a resolver_lookup_wait() */
	void *arg;
	int deadline_ms;
	double deadline_at;           /* monotonic seconds; 0: none */
	double settle_at;             /* end of the resolution delay; 0: none */
	double wake_at;               /* when progress() wants to look again */
	int nq;                       /* c-ares queries not back yet */
	bool issuing;                 /* inside progress()'s queries */
	bool moved;                   /* an answer came meanwhile */
	bool holds_slot;              /* counted in r->inflight */
	bool windowed;                /* took a slot: its answers and losses move r->win */
	bool slow;                    /* a hedge or a second try went out */
	unsigned long long seq;       /* resolve_window_start()'s number */
	double started_at;            /* monotonic seconds it left the FIFO */
	bool answered;                /* ans is final */
	bool delivered;               /* the callback has run (or the wait returned) */
	struct fam fam[2];            /* A, AAAA */
	struct resolve_answer ans;
#if SQ_HAVE_LIBEV
	ev_timer timer;               /* next retry, the resolution delay, the deadline */
#endif
	char host[];                  /* lower case, no trailing dot */
};

struct server {
	struct resolver *r;
	ares_channel ch;
	double srtt, rttvar;          /* seconds; srtt 0: no answer timed yet */
	double answered_sent;         /* the latest sent_at of a query it answered */
	char name[RESOLVE_ADDRSTRLEN + 8];
};

struct sock_watch {
	struct sock_watch *next;
	struct server *s;
	int fd;
	bool read, write;
#if SQ_HAVE_LIBEV
	ev_io io;
#endif
};

struct host_entry {
	char *name;
	int family;         /* AF_INET or AF_INET6 */
	unsigned seq;       /* line order, to keep the file's order */
	unsigned char addr[16];
};

struct hosts {
	char *path;         /* NULL: no hosts file */
	struct host_entry *e;
	size_t n;
	bool seen;          /* st below is valid */
	struct stat st;
	double checked_at;
};

struct resolver {
	struct ev_loop *loop;
	struct server *servers;
	int nservers;
	int timeout_ms, tries, max_inflight, ip_version;
	int rcvbuf;
	bool rcvbuf_warned;
	uint64_t random;               /* xorshift state, for the hedges' spread */
	int inflight;                  /* lookups holding a slot */
	struct resolve_window win;     /* how many may hold one */
	int nq;                        /* c-ares queries out, all servers */
	size_t pending;                /* async lookups not yet delivered */
	struct lookup *all;
	struct lookup *qhead, *qtail;  /* FIFO */
	struct lookup *dhead, *dtail;  /* answered, callback due */
	bool delivering;
	bool destroying;
	bool rto_known;                /* a server got its first RTO: retime() */
	struct sock_watch *watches;
	struct pollfd *pfd;            /* resolver_lookup_wait()'s */
	struct server **pfds;
	size_t pfdcap;
	struct hosts hosts;
#if SQ_HAVE_LIBEV
	ev_timer ares_timer;           /* c-ares's next timeout */
	ev_timer kick;                 /* delivers answers made outside the loop */
#endif
};

static void progress(struct lookup *l);
#if SQ_HAVE_LIBEV
static void after_ares(struct resolver *r);
#endif

int resolve_global_init(void)
{
	return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -1;
}

void resolve_global_cleanup(void)
{
	ares_library_cleanup();
}

/* ---- the answer ---------------------------------------------------- */

static void fam_add(struct fam *f, const void *addr, size_t len)
{
	for (int i = 0; i < f->naddr; i++)
		if (memcmp(f->addr[i], addr, len) == 0)
			return;
	if (f->naddr < RESOLVE_MAX_ADDRS)
		memcpy(f->addr[f->naddr++], addr, len);
}

/*
 * Addresses of both families into ans: IPv4 first (a host without IPv6
 * routes then never waits on one), but at least half the room kept for
 * IPv6 when both are known, so happy eyeballs has both to choose from.
 */
static void compose_addrs(struct resolve_answer *ans, const struct fam *v4, const struct fam *v6)
{
	int n6 = v6->naddr < RESOLVE_MAX_ADDRS / 2 ? v6->naddr : RESOLVE_MAX_ADDRS / 2;
	int n4 = v4->naddr < RESOLVE_MAX_ADDRS - n6 ? v4->naddr : RESOLVE_MAX_ADDRS - n6;

	ans->naddr = 0;
	for (int i = 0; i < n4; i++)
		inet_ntop(AF_INET, v4->addr[i], ans->addrs[ans->naddr++], RESOLVE_ADDRSTRLEN);
	for (int i = 0; i < v6->naddr && ans->naddr < RESOLVE_MAX_ADDRS; i++)
		inet_ntop(AF_INET6, v6->addr[i], ans->addrs[ans->naddr++], RESOLVE_ADDRSTRLEN);
}

/*
 * The verdict from what each family got. Any address wins (a broken
 * server's NXDOMAIN to AAAA does not hide a good A); a name that does not
 * exist says so; "no address" only when every family said NODATA; an
 * answer (SERVFAIL, REFUSED, ...) says more than a silence.
 */
static int verdict(const struct lookup *l)
{
	bool nx = false, servfail = false, other = false, nodata = true;

	for (int i = 0; i < 2; i++) {
		const struct fam *f = &l->fam[i];
		if (!f->wanted)
			continue;
		switch (f->state) {
		case FAM_ADDR:
			return SQ_OK;
		case FAM_NXDOMAIN:
			nx = true;
			break;
		case FAM_NODATA:
			break;
		case FAM_SERVFAIL:
			servfail = true;
			nodata = false;
			break;
		case FAM_OTHER:
			other = true;
			nodata = false;
			break;
		case FAM_TIMEOUT:
		case FAM_NONE:
			nodata = false;
			break;
		}
	}
	if (nx)
		return SQ_ERR_DNS_NXDOMAIN;
	if (nodata)
		return SQ_ERR_DNS_NOADDR;
	if (servfail)
		return SQ_ERR_DNS_SERVFAIL;
	if (other)
		return SQ_ERR_DNS;
	return SQ_ERR_DNS_TIMEOUT;
}

/* ---- the window of lookups in flight (resolve.h) -------------------- */

void resolve_window_init(struct resolve_window *w, int ceiling)
{
	*w = (struct resolve_window){ .ceiling = ceiling > 0 ? ceiling : 1 };
	w->floor = w->ceiling < RESOLVE_WINDOW_MIN ? w->ceiling : RESOLVE_WINDOW_MIN;
	w->cwnd = w->ceiling < RESOLVE_WINDOW_START ? w->ceiling : RESOLVE_WINDOW_START;
	w->ssthresh = w->ceiling;
}

unsigned long long resolve_window_start(struct resolve_window *w)
{
	return ++w->started;
}

void resolve_window_answered(struct resolve_window *w, double took, int inflight)
{
	if (took <= 0)
		return;
	if (w->base <= 0 || took < w->base)
		w->base = took;
	if (inflight * 2 < w->cwnd)
		return;   /* the window is not what limits: no proof it may be larger */
	if ((double)w->cwnd * (1.0 - w->base / took) >= RESOLVE_WINDOW_QUEUE)
		return;   /* answers wait in a queue at the server: more would only lengthen it */
	if (w->cwnd < w->ssthresh) {
		w->cwnd++;
	} else if (++w->acked >= w->cwnd) {
		w->acked = 0;
		w->cwnd++;
	}
	if (w->cwnd > w->ceiling)
		w->cwnd = w->ceiling;
}

bool resolve_window_lost(struct resolve_window *w, unsigned long long seq)
{
	if (seq <= w->recover)
		return false;   /* started before the last halving: the same burst */
	w->undo = (struct resolve_window_undo){ .seq = seq, .cwnd = w->cwnd,
	    .ssthresh = w->ssthresh, .recover = w->recover };
	w->ssthresh = w->cwnd / 2 > w->floor ? w->cwnd / 2 : w->floor;
	w->cwnd = w->ssthresh;
	w->acked = 0;
	w->recover = w->started;
	return true;
}

void resolve_window_undo(struct resolve_window *w, unsigned long long seq)
{
	if (seq == 0 || seq != w->undo.seq)
		return;   /* not the loss that halved it last */
	if (w->cwnd < w->undo.cwnd)
		w->cwnd = w->undo.cwnd;
	w->ssthresh = w->undo.ssthresh;
	w->recover = w->undo.recover;
	w->undo.seq = 0;
}

int resolve_window_limit(const struct resolve_window *w)
{
	return w->cwnd > 1 ? w->cwnd : 1;
}

/* ---- lookups: lifetime --------------------------------------------- */

static void lookup_free(struct lookup *l)
{
	struct resolver *r = l->r;

#if SQ_HAVE_LIBEV
	if (r->loop != NULL)
		ev_timer_stop(r->loop, &l->timer);
#endif
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		r->all = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	free(l);
}

/*
 * An answered lookup gives back its slot at once: a query still out then
 * is one it no longer waits for (most likely lost). The lookup itself
 * lives on until its callback has run and its last query is back, since
 * c-ares holds a pointer into it until then.
 */
static void slot_release(struct lookup *l)
{
	if (l->holds_slot) {
		l->holds_slot = false;
		l->r->inflight--;
	}
}

static void lookup_settle(struct lookup *l)
{
	if (l->answered)
		slot_release(l);
	if (l->delivered && l->nq == 0)
		lookup_free(l);
}

static void lookup_answer(struct lookup *l, int err)
{
	struct resolver *r = l->r;

	if (l->answered)
		return;
	l->answered = true;
	l->ans.err = err;
	if (err == SQ_OK)
		compose_addrs(&l->ans, &l->fam[0], &l->fam[1]);
	if (l->windowed && !l->slow && err != SQ_ERR_DNS_TIMEOUT)
		resolve_window_answered(&r->win, clock_mono_s() - l->started_at, r->inflight);
#if SQ_HAVE_LIBEV
	if (r->loop != NULL)
		ev_timer_stop(r->loop, &l->timer);
#endif
	if (l->cb != NULL) {
		l->qnext = NULL;
		if (r->dtail != NULL)
			r->dtail->qnext = l;
		else
			r->dhead = l;
		r->dtail = l;
	}
	lookup_settle(l);
}

#if SQ_HAVE_LIBEV
/*
 * Runs the callbacks that are due. Never from inside c-ares. Only the event
 * loop has callbacks: resolver_lookup_wait() answers its caller directly.
 */
static void deliver(struct resolver *r)
{
	struct lookup *l;

	if (r->delivering)
		return;
	r->delivering = true;
	while ((l = r->dhead) != NULL) {
		r->dhead = l->qnext;
		if (r->dhead == NULL)
			r->dtail = NULL;
		l->delivered = true;
		r->pending--;
		l->cb(l->arg, &l->ans);
		lookup_settle(l);
	}
	r->delivering = false;
	if (r->loop != NULL)
		ev_timer_stop(r->loop, &r->kick);
}
#endif

/* ---- queries -------------------------------------------------------- */

/*
 * An answer must be to the question asked. c-ares 1.18.1 checks this
 * itself (measured: such an answer is dropped and the query times out),
 * but older releases skipped the check under ARES_FLAG_NOCHECKRESP, which
 * this file sets: check here too, so the verdict never depends on it.
 */
static bool same_question(const struct lookup *l, int type, const unsigned char *abuf, int alen)
{
	char *name = NULL;
	long enclen = 0;
	bool same;

	if (abuf == NULL || alen < 12 || ((abuf[4] << 8) | abuf[5]) != 1)
		return false;
	if (ares_expand_name(abuf + 12, abuf, alen, &name, &enclen) != ARES_SUCCESS)
		return false;
	const unsigned char *q = abuf + 12 + enclen;
	same = enclen > 0 && q + 4 <= abuf + alen &&
	    ((q[0] << 8) | q[1]) == type && ((q[2] << 8) | q[3]) == DNS_CLASS_IN &&
	    strcasecmp(name, l->host) == 0;
	ares_free_string(name);
	return same;
}

static enum fam_state classify(struct fam *f, int status, const unsigned char *abuf, int alen)
{
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
	case ARES_ESERVFAIL:
		if (!same_question(f->l, f->type, abuf, alen))
			return FAM_OTHER;
		break;
	case ARES_ETIMEOUT:
		return FAM_TIMEOUT;
	default:
		return FAM_OTHER;
	}
	if (status == ARES_ENODATA)
		return FAM_NODATA;
	if (status == ARES_ENOTFOUND)
		return FAM_NXDOMAIN;
	if (status == ARES_ESERVFAIL)
		return FAM_SERVFAIL;

	struct fam got = { .naddr = 0 };
	int n = RESOLVE_MAX_ADDRS, rc;
	if (f->type == DNS_TYPE_A) {
		struct ares_addrttl a[RESOLVE_MAX_ADDRS];
		rc = ares_parse_a_reply(abuf, alen, NULL, a, &n);
		for (int i = 0; rc == ARES_SUCCESS && i < n; i++)
			fam_add(&got, &a[i].ipaddr, 4);
	} else {
		struct ares_addr6ttl a[RESOLVE_MAX_ADDRS];
		rc = ares_parse_aaaa_reply(abuf, alen, NULL, a, &n);
		for (int i = 0; rc == ARES_SUCCESS && i < n; i++)
			fam_add(&got, &a[i].ip6addr, 16);
	}
	if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && got.naddr == 0))
		return FAM_NODATA;   /* e.g. only a CNAME */
	if (rc != ARES_SUCCESS)
		return FAM_OTHER;
	memcpy(f->addr, got.addr, sizeof(f->addr));
	f->naddr = got.naddr;
	return FAM_ADDR;
}

/* RFC 6298's smoothing, on answers that cannot be confused with a retry's. */
static void server_timed(struct server *s, double rtt)
{
	if (s->srtt <= 0) {
		s->srtt = rtt > 1e-6 ? rtt : 1e-6;
		s->rttvar = rtt / 2;
		s->r->rto_known = true;   /* see retime() */
		return;
	}
	double err = rtt - s->srtt;
	s->rttvar += ((err < 0 ? -err : err) - s->rttvar) / 4;
	s->srtt += err / 8;
}

/*
 * The queries lost in one burst were sent together: hedged at the same
 * moment they would make a burst of their own and be lost again
 * (measured: 3 to 4 times the drops). Each try waits its own share of
 * 1 to 2 RTOs.
 */
static uint64_t next_random(struct resolver *r)
{
	r->random ^= r->random << 13;
	r->random ^= r->random >> 7;
	r->random ^= r->random << 17;
	return r->random;
}

/* When the current try of f sends its hedge; 0: it does not. */
static double hedge_at(const struct fam *f)
{
	const struct server *s;
	double rto;

	if (f->try == NULL || f->hedged || (s = f->try->s)->srtt <= 0)
		return 0;
	rto = s->srtt + 4 * s->rttvar;
	if (rto < 2 * s->srtt)
		rto = 2 * s->srtt;
	if (rto < RTO_MIN)
		rto = RTO_MIN;
	if (rto * 2 >= (double)s->r->timeout_ms / 1000.0)
		return 0;
	return f->try->sent_at + rto * f->try->spread;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct fam *f = q->f;
	struct lookup *l = f->l;
	struct resolver *r = l->r;

	(void)timeouts;
	f->out--;
	l->nq--;
	r->nq--;
	if (f->try == q)
		f->try = NULL;      /* the try is over: the next one may go */
	if (r->destroying) {
		free(q);
		return;             /* resolver_free() frees l */
	}
	if (q->timed && abuf != NULL && status != ARES_ETIMEOUT)
		server_timed(q->s, clock_mono_s() - q->sent_at);
	if (abuf != NULL && status != ARES_ETIMEOUT) {
		if (q->sent_at > q->s->answered_sent)
			q->s->answered_sent = q->sent_at;
		if (q->lost && l->windowed)
			resolve_window_undo(&r->win, l->seq);   /* it was slow, not lost */
	} else if (status == ARES_ETIMEOUT && !q->lost && q->s->answered_sent > q->sent_at &&
	    l->windowed) {
		(void)resolve_window_lost(&r->win, l->seq);   /* dropped: a later one got through */
	}
	free(q);
	if (l->answered) {
		lookup_settle(l);   /* a try the lookup no longer waited for */
		return;
	}
	enum fam_state st = classify(f, status, abuf, alen);
	if (st > f->state)
		f->state = st;
	if (l->issuing)
		l->moved = true;    /* inside ares_query(): progress() looks again */
	else
		progress(l);
}

/*
 * A query for f: a new try, to the next server in turn; or the current
 * try's hedge, to the server after the try's.
 */
static void send_query(struct fam *f, bool hedge, double now)
{
	struct lookup *l = f->l;
	struct resolver *r = l->r;
	int idx = hedge ? f->sent : f->sent++;   /* f->sent - 1 is the current try */
	struct server *s = &r->servers[idx % r->nservers];
	struct query *q = malloc(sizeof(*q));

	if (hedge) {
		f->hedged = true;
		/*
		 * Its server answered queries sent after the try: most likely
		 * dropped (a full socket), so the window shrinks now rather
		 * than at dns_timeout; undone if the answer comes after all
		 * (a recursive server's slow miss overtaken by cached names).
		 */
		if (l->windowed && f->try->s->answered_sent > f->try->sent_at) {
			f->try->lost = true;
			(void)resolve_window_lost(&r->win, l->seq);
		}
		/*
		 * The try is deemed lost: like a segment TCP deems lost, it no
		 * longer counts as load at the server, so the lookup leaves the
		 * window. Else a lost query would hold a slot for its RTO, and
		 * a fifth of the queries lost (tests/dns/responder.py
		 * --drop-first) would cut the lookups per second to a tenth.
		 */
		slot_release(l);
	}
	if (hedge || idx > 0)
		l->slow = true;     /* no measure of the window: see resolve_window_answered() */
	if (q == NULL) {
		if (f->state < FAM_OTHER)
			f->state = FAM_OTHER;
		l->moved = true;
		return;
	}
	*q = (struct query){ .f = f, .s = s, .sent_at = now, .timed = f->out == 0,
	    .spread = 1.0 + (double)(next_random(r) >> 11) / 9007199254740992.0 };
	if (!hedge) {
		f->try = q;
		f->hedged = false;
	}
	f->out++;
	l->nq++;
	r->nq++;
	ares_query(s->ch, l->host, DNS_CLASS_IN, f->type, on_answer, q);
}

static void set_wake(struct lookup *l, double wake, double now)
{
	l->wake_at = wake;
#if SQ_HAVE_LIBEV
	struct resolver *r = l->r;
	if (r->loop != NULL && l->cb != NULL) {
		ev_timer_stop(r->loop, &l->timer);
		if (wake > 0) {
			ev_timer_set(&l->timer, wake > now ? wake - now : 0.0, 0.0);
			ev_timer_start(r->loop, &l->timer);
		}
	}
#else
	(void)now;
#endif
}

static double earlier(double a, double b)
{
	return a <= 0 ? b : b <= 0 ? a : a < b ? a : b;
}

/*
 * Everything a lookup decides: called when it starts, on every answer, and
 * when its timer runs out. Answers once a family has addresses or NXDOMAIN
 * (after the resolution delay, if the other is still out), once every
 * family is settled or out of tries, or at the deadline; else sends the
 * tries and hedges that are due and sets the timer to the next moment that
 * matters.
 * c-ares may answer from inside ares_query() (no socket, out of memory):
 * the issuing flag and the loop take care of that.
 */
static void progress(struct lookup *l)
{
	struct resolver *r = l->r;
	int maxq = r->tries * r->nservers;

	if (l->answered || l->issuing)
		return;
	for (;;) {
		double now = clock_mono_s(), wake = l->deadline_at;
		bool known = false, live = false;

		if (l->deadline_at > 0 && now >= l->deadline_at) {
			lookup_answer(l, verdict(l));
			return;
		}
		for (int i = 0; i < 2; i++) {
			const struct fam *f = &l->fam[i];
			if (f->wanted && f->state >= FAM_NXDOMAIN)
				known = true;
			else if (f->wanted && f->state < FAM_NODATA && f->out > 0)
				live = true;
		}
		if (known) {
			if (l->settle_at <= 0)
				l->settle_at = now + RESOLUTION_DELAY;
			if (!live || now >= l->settle_at) {
				lookup_answer(l, verdict(l));
				return;
			}
			set_wake(l, earlier(wake, l->settle_at), now);
			return;
		}
		l->issuing = true;
		l->moved = false;
		live = false;
		for (int i = 0; i < 2; i++) {
			struct fam *f = &l->fam[i];
			if (!f->wanted || f->state >= FAM_NODATA)
				continue;
			if (f->try == NULL && f->sent < maxq)
				send_query(f, false, now);
			double h = hedge_at(f);
			if (h > 0 && now >= h) {
				send_query(f, true, now);
				h = 0;
			}
			wake = earlier(wake, h);
			if (f->out > 0 || f->sent < maxq)
				live = true;
		}
		l->issuing = false;
		if (l->moved)
			continue;
		if (!live) {
			lookup_answer(l, verdict(l));
			return;
		}
		set_wake(l, wake, now);
		return;
	}
}

/* ---- the hosts file -------------------------------------------------- */

static void hosts_clear(struct hosts *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->e[i].name);
	free(h->e);
	h->e = NULL;
	h->n = 0;
}

static int host_entry_cmp(const void *a, const void *b)
{
	const struct host_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int host_entry_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct host_entry *)a)->name, ((const struct host_entry *)b)->name);
}

static char *name_lower(const char *s, size_t len)
{
	char *n = malloc(len + 1);

	if (n == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		n[i] = (char)tolower((unsigned char)s[i]);
	n[len] = '\0';
	return n;
}

/* Reads the file anew into a sorted table; on failure the table is empty. */
static void hosts_load(struct hosts *h)
{
	FILE *fp = fopen(h->path, "re");
	char *line = NULL;
	size_t linecap = 0, cap = 0;
	unsigned seq = 0;

	hosts_clear(h);
	if (fp == NULL)
		return;
	while (getline(&line, &linecap, fp) > 0) {
		char *save = NULL, *hash = strchr(line, '#');
		unsigned char addr[16];
		int family;

		if (hash != NULL)
			*hash = '\0';
		char *tok = strtok_r(line, " \t\r\n", &save);
		if (tok == NULL)
			continue;
		if (inet_pton(AF_INET, tok, addr) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, tok, addr) == 1)
			family = AF_INET6;
		else
			continue;   /* junk, or a scoped address no check can use */
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			size_t len = strlen(tok);
			if (len > 1 && tok[len - 1] == '.')
				len--;
			if (h->n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct host_entry *ne = realloc(h->e, ncap * sizeof(*ne));
				if (ne == NULL)
					goto nomem;
				h->e = ne;
				cap = ncap;
			}
			struct host_entry *e = &h->e[h->n];
			if ((e->name = name_lower(tok, len)) == NULL)
				goto nomem;
			e->family = family;
			e->seq = seq++;
			memcpy(e->addr, addr, sizeof(addr));
			h->n++;
		}
	}
	free(line);
	fclose(fp);
	if (h->n > 1)
		qsort(h->e, h->n, sizeof(*h->e), host_entry_cmp);
	return;
nomem:
	log_errorx("resolver: out of memory reading %s; going on without it", h->path);
	free(line);
	fclose(fp);
	hosts_clear(h);
}

/* At most once a second: has the file changed (or appeared, or gone)? */
static void hosts_refresh(struct hosts *h)
{
	struct stat st;
	double now = clock_mono_s();

	if (h->path == NULL || (h->checked_at > 0 && now - h->checked_at < HOSTS_RECHECK_S))
		return;
	h->checked_at = now;
	if (stat(h->path, &st) < 0) {
		if (h->seen) {
			hosts_clear(h);
			h->seen = false;
		}
		return;
	}
	if (h->seen && st.st_dev == h->st.st_dev && st.st_ino == h->st.st_ino &&
	    st.st_size == h->st.st_size && st.st_mtim.tv_sec == h->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == h->st.st_mtim.tv_nsec)
		return;
	h->st = st;
	h->seen = true;
	hosts_load(h);
}

/* The hosts file's addresses for l->host, of the wanted families. */
static void hosts_find(struct hosts *h, struct lookup *l)
{
	struct host_entry key = { .name = l->host };
	struct host_entry *e;

	hosts_refresh(h);
	if (h->n == 0)
		return;
	e = bsearch(&key, h->e, h->n, sizeof(*h->e), host_entry_cmp_name);
	if (e == NULL)
		return;
	while (e > h->e && strcmp(e[-1].name, l->host) == 0)
		e--;
	for (; e < h->e + h->n && strcmp(e->name, l->host) == 0; e++) {
		struct fam *f = &l->fam[e->family == AF_INET ? 0 : 1];
		if (f->wanted)
			fam_add(f, e->addr, e->family == AF_INET ? 4 : 16);
	}
}

/* ---- a new lookup ---------------------------------------------------- */

/* What a DNS query can carry and this file can check the answer of. */
static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* RFC 6761: localhost and its subdomains are the loopback, without a query. */
static bool is_localhost(const char *s, size_t len)
{
	static const char suffix[] = ".localhost";
	size_t sl = sizeof(suffix) - 1;

	return strcmp(s, "localhost") == 0 || (len > sl && strcmp(s + len - sl, suffix) == 0);
}

static bool answer_known(struct lookup *l)
{
	bool any = false;

	for (int i = 0; i < 2; i++) {
		if (l->fam[i].naddr > 0) {
			l->fam[i].state = FAM_ADDR;
			any = true;
		}
	}
	if (any)
		lookup_answer(l, SQ_OK);
	return any;
}

#if SQ_HAVE_LIBEV
static void on_lookup_timer(struct ev_loop *loop, ev_timer *w, int revents);
#endif

/*
 * A lookup of host, answered at once when no query is needed: an IP
 * literal ("[::1]" as a URL writes it, too), something that is not a DNS
 * name, a name in the hosts file, localhost. NULL when out of memory.
 */
static struct lookup *lookup_new(struct resolver *r, const char *host, int deadline_ms,
    resolve_cb *cb, void *arg)
{
	unsigned char addr[16];
	char lit[RESOLVE_ADDRSTRLEN];
	const char *h = host;
	size_t len = strlen(host);
	int litfam = 0;

	if (len >= 2 && len - 2 < sizeof(lit) && h[0] == '[' && h[len - 1] == ']') {
		memcpy(lit, h + 1, len - 2);
		lit[len - 2] = '\0';
		if (inet_pton(AF_INET6, lit, addr) == 1)
			litfam = AF_INET6;
	} else if (len < sizeof(lit)) {
		memcpy(lit, h, len + 1);
		if (inet_pton(AF_INET, lit, addr) == 1)
			litfam = AF_INET;
		else if (inet_pton(AF_INET6, lit, addr) == 1)
			litfam = AF_INET6;
	}
	if (litfam == 0 && len > 1 && h[len - 1] == '.')
		len--;   /* "example.org." is "example.org" */

	struct lookup *l = calloc(1, sizeof(*l) + len + 1);
	if (l == NULL)
		return NULL;
	l->r = r;
	l->cb = cb;
	l->arg = arg;
	l->deadline_ms = deadline_ms;
	for (size_t i = 0; i < len; i++)
		l->host[i] = (char)tolower((unsigned char)h[i]);
	l->next = r->all;
	if (r->all != NULL)
		r->all->prev = l;
	r->all = l;
	if (cb != NULL)
		r->pending++;
	l->fam[0] = (struct fam){ .l = l, .type = DNS_TYPE_A, .wanted = r->ip_version != 6 };
	l->fam[1] = (struct fam){ .l = l, .type = DNS_TYPE_AAAA, .wanted = r->ip_version != 4 };
#if SQ_HAVE_LIBEV
	ev_timer_init(&l->timer, on_lookup_timer, 0.0, 0.0);
	l->timer.data = l;
#endif

	if (litfam != 0) {
		struct fam *f = &l->fam[litfam == AF_INET ? 0 : 1];
		if (f->wanted)
			fam_add(f, addr, litfam == AF_INET ? 4 : 16);
		if (!answer_known(l))
			lookup_answer(l, SQ_ERR_DNS_NOADDR);
		return l;
	}
	if (!valid_name(l->host, len)) {
		lookup_answer(l, SQ_ERR_DNS);
		return l;
	}
	hosts_find(&r->hosts, l);
	if (l->fam[0].naddr == 0 && l->fam[1].naddr == 0 && is_localhost(l->host, len)) {
		static const unsigned char lo4[4] = { 127, 0, 0, 1 };
		static const unsigned char lo6[16] = { [15] = 1 };
		if (l->fam[0].wanted)
			fam_add(&l->fam[0], lo4, 4);
		if (l->fam[1].wanted)
			fam_add(&l->fam[1], lo6, 16);
	}
	answer_known(l);
	return l;
}

static void lookup_start(struct lookup *l, bool take_slot)
{
	struct resolver *r = l->r;

	l->started_at = clock_mono_s();
	if (take_slot) {
		l->holds_slot = true;
		l->windowed = true;
		l->seq = resolve_window_start(&r->win);
		r->inflight++;
	}
	if (l->deadline_ms > 0)
		l->deadline_at = l->started_at + (double)l->deadline_ms / 1000.0;
	progress(l);
}

static void start_queued(struct resolver *r)
{
	struct lookup *l;

	while (r->inflight < resolve_window_limit(&r->win) && (l = r->qhead) != NULL) {
		r->qhead = l->qnext;
		if (r->qhead == NULL)
			r->qtail = NULL;
		lookup_start(l, true);
	}
}

/* ---- sockets and timers ---------------------------------------------- */

#if SQ_HAVE_LIBEV
static void on_io(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sock_watch *w = io->data;
	struct resolver *r = w->s->r;
	ares_channel ch = w->s->ch;
	int fd = w->fd;   /* w may be freed inside ares_process_fd() */

	(void)loop;
	ares_process_fd(ch, revents & EV_READ ? fd : ARES_SOCKET_BAD,
	    revents & EV_WRITE ? fd : ARES_SOCKET_BAD);
	after_ares(r);
}
#endif

/* c-ares wants a socket watched differently (or no more). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct server *s = data;
	struct resolver *r = s->r;
	struct sock_watch **pp = &r->watches, *w;

	while ((w = *pp) != NULL && w->fd != fd)
		pp = &w->next;
	if (!readable && !writable) {
		if (w != NULL) {
			*pp = w->next;
#if SQ_HAVE_LIBEV
			if (r->loop != NULL)
				ev_io_stop(r->loop, &w->io);
#endif
			free(w);
		}
		return;
	}
	if (w == NULL) {
		w = calloc(1, sizeof(*w));
		if (w == NULL) {
			log_errorx("resolver: out of memory watching a DNS socket; its queries will time out");
			return;
		}
		w->fd = fd;
		w->s = s;
		w->next = r->watches;
		r->watches = w;
#if SQ_HAVE_LIBEV
		ev_io_init(&w->io, on_io, fd, 0);
		w->io.data = w;
#endif
	}
	w->s = s;
	w->read = readable;
	w->write = writable;
#if SQ_HAVE_LIBEV
	if (r->loop != NULL) {
		ev_io_stop(r->loop, &w->io);
		ev_io_set(&w->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
		ev_io_start(r->loop, &w->io);
	}
#endif
}

/*
 * Each new UDP socket gets a receive buffer sized to max_inflight (the
 * window's ceiling). Past
 * net.core.rmem_max the kernel quietly gives less: a privileged daemon may
 * force it; otherwise say so once, since the loss shows only as retries.
 */
static int sock_configure(ares_socket_t fd, int type, void *data)
{
	struct server *s = data;
	struct resolver *r = s->r;
	int got = 0;
	socklen_t len = sizeof(got);

	if (type != SOCK_DGRAM || r->rcvbuf <= 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got >= r->rcvbuf)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &r->rcvbuf, sizeof(r->rcvbuf));
	len = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got < r->rcvbuf &&
	    !r->rcvbuf_warned) {
		r->rcvbuf_warned = true;
		log_warnx("resolver: the receive buffer for DNS answers from %s is %d KiB, under the "
		    "%d KiB that dns_max_inflight = %d wants: answers may be lost and asked again; "
		    "raise net.core.rmem_max or lower dns_max_inflight",
		    s->name, got / 1024, r->rcvbuf / 1024, r->max_inflight);
	}
	return 0;
}

#if SQ_HAVE_LIBEV
/*
 * Sets the one timer to c-ares's next timeout. ares_timeout() walks every
 * query, so unless forced it is asked only when the timer is idle: every
 * query has the same single timeout, so one sent later never expires
 * sooner, and a timer that fires early finds nothing and is set again.
 */
static void arm_timer(struct resolver *r, bool force)
{
	struct timeval best = { 0, 0 }, tv;
	bool any = false;

	if (r->loop == NULL)
		return;
	if (r->nq == 0) {
		ev_timer_stop(r->loop, &r->ares_timer);
		return;
	}
	if (!force && ev_is_active(&r->ares_timer))
		return;
	for (int i = 0; i < r->nservers; i++) {
		if (ares_timeout(r->servers[i].ch, NULL, &tv) == NULL)
			continue;
		if (!any || timercmp(&tv, &best, <))
			best = tv;
		any = true;
	}
	ev_timer_stop(r->loop, &r->ares_timer);
	if (!any)
		return;
	/* ares_timeout() rounds down to the ms: one more, or we wake too soon and spin */
	ev_timer_set(&r->ares_timer, (double)best.tv_sec + (double)best.tv_usec / 1e6 + 0.001, 0.0);
	ev_timer_start(r->loop, &r->ares_timer);
}

static void on_ares_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolver *r = w->data;

	(void)loop;
	(void)revents;
	for (int i = 0; i < r->nservers; i++)
		ares_process_fd(r->servers[i].ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(r, true);
	after_ares(r);
}

static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	after_ares(w->data);
}

/* A lookup's next retry, its resolution delay or its deadline. */
static void on_lookup_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lookup *l = w->data;
	struct resolver *r = l->r;

	(void)loop;
	(void)revents;
	progress(l);
	after_ares(r);
}

static void kick(struct resolver *r)
{
	if (r->loop != NULL && r->dhead != NULL && !r->delivering)
		ev_timer_start(r->loop, &r->kick);
}
#else
static void arm_timer(struct resolver *r, bool force)
{
	(void)r;
	(void)force;
}

static void kick(struct resolver *r)
{
	(void)r;
}
#endif

#if SQ_HAVE_LIBEV
/*
 * Queries sent before a server ever answered have no hedge planned: its
 * RTO was unknown. Once the first answer gives it one (on loopback a few
 * ms), look at the running lookups again, so the queries lost in a first
 * burst are hedged then rather than retried a whole dns_timeout later.
 */
static bool running(const struct lookup *l)
{
	return l->holds_slot && !l->answered;
}

/*
 * The next running lookup is found before progress() runs: c-ares may end
 * other lookups' queries inside it and free a lookup that was delivered
 * already, never one still running.
 */
static void retime(struct resolver *r)
{
	struct lookup *l = r->all, *next;

	r->rto_known = false;
	while (l != NULL && !running(l))
		l = l->next;
	while (l != NULL) {
		for (next = l->next; next != NULL && !running(next); next = next->next)
			;
		progress(l);
		l = next;
	}
}

/* After every visit to c-ares: start what may start, set the timer, deliver. */
static void after_ares(struct resolver *r)
{
	if (r->rto_known)
		retime(r);
	start_queued(r);
	arm_timer(r, false);
	deliver(r);
}
#endif   /* SQ_HAVE_LIBEV: only the event loop drives c-ares between calls */

/* ---- the resolver ---------------------------------------------------- */

/*
 * The dns_servers list, read by src/base/validate.c as config.c judged it;
 * *n = 0 for an empty one. Not ares_set_servers_ports_csv(): 1.18 reads
 * "1.2.3" as 1.2.3.0, wraps port 70000 to 4464, and refuses "[::1]" and
 * spaces after the commas, all of which config.c judges otherwise.
 */
static int parse_servers(const char *v, struct ares_addr_port_node **out, int *n,
    char *err, size_t errlen)
{
	struct dns_server *list;
	char why[256];
	int count = dns_servers_parse(v, &list, why, sizeof(why));

	*out = NULL;
	*n = 0;
	if (count < 0) {
		seterr(err, errlen, "dns_servers: %s", why);
		return -1;
	}
	if (count == 0)
		return 0;
	if ((*out = calloc((size_t)count, sizeof(**out))) == NULL) {
		free(list);
		seterr(err, errlen, "resolver: out of memory");
		return -1;
	}
	for (int i = 0; i < count; i++) {
		struct ares_addr_port_node *node = &(*out)[i];
		node->family = list[i].family;
		if (list[i].family == AF_INET)
			memcpy(&node->addr.addr4, list[i].addr, 4);
		else
			memcpy(&node->addr.addr6, list[i].addr, 16);
		node->udp_port = node->tcp_port = list[i].port;
	}
	free(list);
	*n = count;
	return 0;
}

/* The servers of /etc/resolv.conf, as c-ares reads them (127.0.0.1 if none). */
static int system_servers(struct ares_addr_port_node **out, int *n, char *err, size_t errlen)
{
	ares_channel ch;
	struct ares_addr_port_node *list = NULL;
	int rc, count = 0;

	*out = NULL;
	*n = 0;
	if ((rc = ares_init(&ch)) != ARES_SUCCESS) {
		seterr(err, errlen, "resolver: reading /etc/resolv.conf: %s", ares_strerror(rc));
		return -1;
	}
	rc = ares_get_servers_ports(ch, &list);
	ares_destroy(ch);
	if (rc != ARES_SUCCESS) {
		seterr(err, errlen, "resolver: the servers of /etc/resolv.conf: %s", ares_strerror(rc));
		return -1;
	}
	for (struct ares_addr_port_node *p = list; p != NULL; p = p->next)
		count++;
	if (count == 0) {
		ares_free_data(list);
		seterr(err, errlen, "resolver: no DNS server in /etc/resolv.conf; set [check] dns_servers");
		return -1;
	}
	*out = calloc((size_t)count, sizeof(**out));
	if (*out == NULL) {
		ares_free_data(list);
		seterr(err, errlen, "resolver: out of memory");
		return -1;
	}
	for (struct ares_addr_port_node *p = list; p != NULL; p = p->next)
		(*out)[(*n)++] = *p;
	ares_free_data(list);
	return 0;
}

static int server_init(struct resolver *r, struct server *s, const struct ares_addr_port_node *node,
    char *err, size_t errlen)
{
	struct ares_options o;
	struct ares_addr_port_node one = *node;
	char addr[RESOLVE_ADDRSTRLEN];
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
	int rc, port = node->udp_port ? node->udp_port : 53;

	s->r = r;
	inet_ntop(node->family, &node->addr, addr, sizeof(addr));
	snprintf(s->name, sizeof(s->name), node->family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr, port);

	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOCHECKRESP;    /* SERVFAIL is SERVFAIL, not ECONNREFUSED */
	o.timeout = r->timeout_ms;
	o.tries = 1;                        /* the tries are ours: progress() */
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = s;
	if (r->rcvbuf > 0) {
		o.socket_receive_buffer_size = r->rcvbuf;
		mask |= ARES_OPT_SOCK_RCVBUF;
	}
	if ((rc = ares_init_options(&s->ch, &o, mask)) != ARES_SUCCESS) {
		s->ch = NULL;
		seterr(err, errlen, "resolver: %s", ares_strerror(rc));
		return -1;
	}
	one.next = NULL;
	if ((rc = ares_set_servers_ports(s->ch, &one)) != ARES_SUCCESS) {
		seterr(err, errlen, "resolver: DNS server %s: %s", s->name, ares_strerror(rc));
		return -1;
	}
	ares_set_socket_configure_callback(s->ch, sock_configure, s);
	return 0;
}

struct resolver *resolver_new(const struct resolver_opts *o, struct ev_loop *loop,
    char *err, size_t errlen)
{
	struct resolver *r = NULL;
	struct ares_addr_port_node *nodes = NULL;
	int n = 0;

#if !SQ_HAVE_LIBEV
	if (loop != NULL) {
		seterr(err, errlen, "resolver: built without libev, so without an event loop");
		return NULL;
	}
#endif
	if (o->ip_version != 0 && o->ip_version != 4 && o->ip_version != 6) {
		seterr(err, errlen, "ip_version: %d is not any, 4 or 6", o->ip_version);
		return NULL;
	}
	if (ares_library_initialized() != ARES_SUCCESS) {
		seterr(err, errlen, "resolver: resolve_global_init() was not called");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->loop = loop;
	r->random = (uint64_t)(uintptr_t)r ^ (uint64_t)(clock_mono_s() * 1e9) ^ 0x9e3779b97f4a7c15ULL;
	if (r->random == 0)
		r->random = 1;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	r->tries = o->tries > 0 ? o->tries : DEFAULT_TRIES;
	r->max_inflight = o->max_inflight > 0 ? o->max_inflight : DEFAULT_MAX_INFLIGHT;
	resolve_window_init(&r->win, r->max_inflight);
	r->ip_version = o->ip_version;
	if (loop != NULL) {
		long want = (long)r->max_inflight * RCVBUF_PER_LOOKUP;
		r->rcvbuf = (int)(want < RCVBUF_MIN ? RCVBUF_MIN : want > RCVBUF_MAX ? RCVBUF_MAX : want);
	}
	if (o->hosts_file == NULL || *o->hosts_file != '\0') {
		r->hosts.path = strdup(o->hosts_file != NULL ? o->hosts_file : HOSTS_DEFAULT);
		if (r->hosts.path == NULL)
			goto nomem;
	}
#if SQ_HAVE_LIBEV
	ev_timer_init(&r->ares_timer, on_ares_timer, 0.0, 0.0);
	r->ares_timer.data = r;
	ev_timer_init(&r->kick, on_kick, 0.0, 0.0);
	r->kick.data = r;
#endif
	if (parse_servers(o->servers, &nodes, &n, err, errlen) < 0)
		goto fail;
	if (n == 0 && system_servers(&nodes, &n, err, errlen) < 0)
		goto fail;
	if ((r->servers = calloc((size_t)n, sizeof(*r->servers))) == NULL)
		goto nomem;
	for (int i = 0; i < n; i++) {
		r->nservers++;
		if (server_init(r, &r->servers[i], &nodes[i], err, errlen) < 0)
			goto fail;
	}
	free(nodes);
	return r;
nomem:
	seterr(err, errlen, "resolver: out of memory");
fail:
	free(nodes);
	resolver_free(r);
	return NULL;
}

int resolver_lookup(struct resolver *r, const char *host, int deadline_ms,
    resolve_cb *cb, void *arg)
{
	struct lookup *l;

	if (r == NULL || r->loop == NULL || host == NULL || cb == NULL)
		return -EINVAL;
	if ((l = lookup_new(r, host, deadline_ms, cb, arg)) == NULL)
		return -ENOMEM;
	if (!l->answered) {
		l->qnext = NULL;
		if (r->qtail != NULL)
			r->qtail->qnext = l;
		else
			r->qhead = l;
		r->qtail = l;
		start_queued(r);
		arm_timer(r, false);
	}
	kick(r);
	return 0;
}

/* One wait of resolver_lookup_wait(): poll the sockets, let c-ares read. */
static void wait_once(struct resolver *r, struct lookup *l)
{
	struct timeval tv;
	int timeout = 1000;   /* a bound; c-ares has a timeout while a query is out */
	size_t n = 0;

	for (int i = 0; i < r->nservers; i++) {
		if (ares_timeout(r->servers[i].ch, NULL, &tv) != NULL) {
			long ms = (long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000 + 1;
			if (ms < timeout)
				timeout = (int)ms;
		}
	}
	if (l->wake_at > 0) {
		double left = l->wake_at - clock_mono_s();
		if (left <= 0) {
			progress(l);
			return;
		}
		if (left * 1000 + 1 < timeout)
			timeout = (int)(left * 1000) + 1;
	}
	for (struct sock_watch *w = r->watches; w != NULL; w = w->next)
		n++;
	if (n > r->pfdcap) {
		struct pollfd *np = realloc(r->pfd, n * sizeof(*np));
		if (np != NULL)
			r->pfd = np;
		struct server **ns = realloc(r->pfds, n * sizeof(*ns));
		if (ns != NULL)
			r->pfds = ns;
		if (np == NULL || ns == NULL) {
			log_errorx("resolver: out of memory polling DNS sockets");
			n = r->pfdcap;
		} else {
			r->pfdcap = n;
		}
	}
	n = 0;
	for (struct sock_watch *w = r->watches; w != NULL && n < r->pfdcap; w = w->next, n++) {
		r->pfd[n] = (struct pollfd){ .fd = w->fd,
		    .events = (short)((w->read ? POLLIN : 0) | (w->write ? POLLOUT : 0)) };
		r->pfds[n] = w->s;
	}
	int rc = poll(r->pfd, (nfds_t)n, timeout);
	if (rc < 0 && errno != EINTR)
		log_warn("resolver: poll");
	/* the sockets may close while c-ares reads: take fds and servers from the copies */
	for (size_t i = 0; rc > 0 && i < n; i++) {
		short ev = r->pfd[i].revents;
		if (ev == 0)
			continue;
		ares_process_fd(r->pfds[i]->ch,
		    ev & (POLLIN | POLLERR | POLLHUP) ? r->pfd[i].fd : ARES_SOCKET_BAD,
		    ev & POLLOUT ? r->pfd[i].fd : ARES_SOCKET_BAD);
	}
	for (int i = 0; i < r->nservers; i++)
		ares_process_fd(r->servers[i].ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	/* every time: an answer may have given the server its first RTO */
	progress(l);
}

void resolver_lookup_wait(struct resolver *r, const char *host, int deadline_ms,
    struct resolve_answer *out)
{
	struct lookup *l;

	memset(out, 0, sizeof(*out));
	out->err = SQ_ERR_DNS;
	if (r == NULL || host == NULL || (l = lookup_new(r, host, deadline_ms, NULL, NULL)) == NULL)
		return;
	if (!l->answered)
		lookup_start(l, false);
	while (!l->answered)
		wait_once(r, l);
	*out = l->ans;
	l->delivered = true;
	lookup_settle(l);
	/* on a resolver with a loop, its own lookups may have moved meanwhile */
	arm_timer(r, true);
	kick(r);
}

size_t resolver_pending(const struct resolver *r)
{
	return r != NULL ? r->pending : 0;
}

void resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	r->destroying = true;
	for (int i = 0; i < r->nservers; i++)
		if (r->servers[i].ch != NULL)
			ares_destroy(r->servers[i].ch);
	while (r->watches != NULL) {
		struct sock_watch *w = r->watches;
		r->watches = w->next;
#if SQ_HAVE_LIBEV
		if (r->loop != NULL)
			ev_io_stop(r->loop, &w->io);
#endif
		free(w);
	}
#if SQ_HAVE_LIBEV
	if (r->loop != NULL) {
		ev_timer_stop(r->loop, &r->ares_timer);
		ev_timer_stop(r->loop, &r->kick);
	}
#endif
	while (r->all != NULL)
		lookup_free(r->all);
	hosts_clear(&r->hosts);
	free(r->hosts.path);
	free(r->servers);
	free(r->pfd);
	free(r->pfds);
	free(r);
}

/*
 * resolve.h - name lookups for the checks, on c-ares.
 *
 * A check starts with a name lookup, and a hiccup of squirrel's own resolver
 * must never read as the site's outage. So a lookup here is bounded (each
 * try by the [check] dns_timeout, dns_tries tries per server, the whole
 * lookup by the caller's deadline), a lost query is asked again, and a
 * failure comes back as a class an owner can act on (enum sq_err):
 *
 *   SQ_OK                 at least one address of the wanted family
 *   SQ_ERR_DNS_NXDOMAIN   the name does not exist
 *   SQ_ERR_DNS_NOADDR     the name exists, but has no A/AAAA for ip_version
 *   SQ_ERR_DNS_SERVFAIL   the servers answered SERVFAIL, every try
 *   SQ_ERR_DNS_TIMEOUT    no answer within the tries or the deadline
 *   SQ_ERR_DNS            anything else: REFUSED, a malformed answer, a
 *                         host that is not a DNS name, out of memory
 *
 * Order of the sources: an IP literal answers at once; then the hosts file
 * (/etc/hosts, as the system resolver does, so "localhost" still works);
 * then "localhost" and "*.localhost" are the loopback addresses (RFC 6761);
 * then DNS. Names are asked as written: no search list, no ndots.
 *
 * Servers: each try asks the servers in their order; a server that times
 * out, answers SERVFAIL or REFUSED, or cannot be reached hands the query to
 * the next one, as resolv.conf's servers behave. A try still unanswered
 * after the server's usual answer time (its RTO, measured) sends one more
 * query, to the next server, without waiting out dns_timeout: a lost
 * query costs tens of milliseconds, not seconds. The tries themselves stay
 * dns_timeout apart.
 *
 * Threads and processes: resolve_global_init() once per process, before
 * any thread starts (like curl_global_init()); then one resolver per thread
 * or process, never shared, never carried across a fork().
 */
#ifndef SQUIRREL_RESOLVE_H
#define SQUIRREL_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

struct ev_loop;
struct resolver;

#define RESOLVE_MAX_ADDRS 8
#define RESOLVE_ADDRSTRLEN 46   /* INET6_ADDRSTRLEN */

struct resolver_opts {
	/*
	 * The [check] dns_servers value: "" or NULL reads /etc/resolv.conf;
	 * else a comma-separated list, "127.0.0.1", "127.0.0.1:5353", "::1",
	 * "[::1]:53", as config.c validates it.
	 */
	const char *servers;
	int timeout_ms;     /* one try at one server; <= 0: 2000 */
	int tries;          /* tries per server; <= 0: 2 */
	int max_inflight;   /* at most this many lookups at once (loop only); <= 0: 200 */
	int ip_version;     /* 0 any (A and AAAA), 4 (A only), 6 (AAAA only) */
	/* NULL: /etc/hosts; "": none; else this file (the tests use one) */
	const char *hosts_file;
};

struct resolve_answer {
	int err;            /* SQ_OK or an SQ_ERR_DNS* (enum sq_err) */
	int naddr;          /* addresses in addrs, 1..8 when err is SQ_OK */
	/* Textual, IPv4 ones first, no duplicates. */
	char addrs[RESOLVE_MAX_ADDRS][RESOLVE_ADDRSTRLEN];
};

/* a is valid during the call only. */
typedef void resolve_cb(void *arg, const struct resolve_answer *a);

/*
 * Once per process, before any thread starts and before resolver_new();
 * resolve_global_cleanup() once at the end, after the last resolver_free().
 * Returns 0, or -1 when c-ares cannot start.
 */
int resolve_global_init(void);
void resolve_global_cleanup(void);

/*
 * A resolver. With a loop, lookups run on it (resolver_lookup()); with NULL,
 * only resolver_lookup_wait() works. Returns NULL with the reason in err
 * (a malformed dns_servers is named as such).
 */
struct resolver *resolver_new(const struct resolver_opts *o, struct ev_loop *loop,
    char *err, size_t errlen);

/*
 * Starts a lookup of host on the resolver's loop. At most the window's
 * worth run at once (see struct resolve_window: between 1 and
 * max_inflight); the others wait in a FIFO, holding nothing but their memory.
 * deadline_ms (<= 0: none) bounds the whole lookup, every try included,
 * and counts from the moment the lookup leaves the FIFO, so time spent
 * waiting for a turn is never taken from it: when it runs out the answer
 * is what is known by then (SQ_ERR_DNS_TIMEOUT if nothing).
 *
 * Returns 0, and cb then runs exactly once, from the loop, never from
 * inside this call (unless resolver_free() comes first: see there). Returns
 * -EINVAL (the resolver has no loop) or -ENOMEM, and cb never runs.
 * cb may call resolver_lookup(), never resolver_free().
 */
int resolver_lookup(struct resolver *r, const char *host, int deadline_ms,
    resolve_cb *cb, void *arg);

/*
 * The same lookup, blocking until the answer is in out: for the serial,
 * threads and prefork backends. Meant for a resolver made without a loop.
 */
void resolver_lookup_wait(struct resolver *r, const char *host, int deadline_ms,
    struct resolve_answer *out);

/* Lookups whose callback has not run yet, waiting ones included. */
size_t resolver_pending(const struct resolver *r);

/*
 * Frees r and everything it holds; r may be NULL. Lookups still pending are
 * dropped: their callbacks never run (the caller is shutting down, and a
 * callback into half-freed state would be worse than none). Stops the
 * resolver's watchers; the loop itself stays the caller's.
 */
void resolver_free(struct resolver *r);

/*
 * The window: how many lookups of resolver_lookup() run at once. A fixed
 * number is one machine's tuning: 200 at once overflowed a stock dnsmasq's
 * socket (about 200 queries queued at it are lost), while a resolver far
 * away needs many at once to keep up. So the number adapts, as TCP's
 * congestion window does:
 *
 *  - it starts at RESOLVE_WINDOW_START (or max_inflight, if smaller);
 *  - a lookup answered without a lost query grows it, by one (doubling
 *    every round of lookups) up to ssthresh, then by one per round; only
 *    while the window is in use (at least half of it running) and the
 *    answers do not wait: the lookup took about the shortest time seen
 *    (cwnd * (1 - base / took) under RESOLVE_WINDOW_QUEUE lookups
 *    waiting, as TCP Vegas reckons it). Whether they wait in a queue at
 *    the server or for our own busy loop, a slow answer holds it;
 *  - a query lost halves it, once per round: losses of lookups started
 *    before the last halving are of the same burst. Lost: its server
 *    answered a query sent after it (so dropped, not dead), and it had no
 *    answer by its hedge (it is then undone if the answer comes after
 *    all: slow, not lost) or by dns_timeout;
 *  - never above max_inflight (the ceiling), never under RESOLVE_WINDOW_MIN
 *    (or the ceiling, if smaller). Not under 16, because a lookup on a
 *    loop busy with 1,000 transfers takes some 10 ms however fast the
 *    server is: measured, a window of 3 to 5 (losses halving it down to 1)
 *    made 10,000 lookups take 30 s instead of 2; 16 lookups, 32 queries,
 *    fit the socket of any server (a stock dnsmasq holds about 200).
 *
 * The logic alone, without sockets, so the unit tests can drive it.
 */
#define RESOLVE_WINDOW_START 16
#define RESOLVE_WINDOW_MIN 16
#define RESOLVE_WINDOW_QUEUE 8

struct resolve_window {
	int cwnd;                     /* lookups allowed at once */
	int ssthresh;                 /* growth by one per answer under it, one per round over */
	int acked;                    /* answers toward the next one, over ssthresh */
	int ceiling;                  /* max_inflight */
	int floor;                    /* RESOLVE_WINDOW_MIN, or the ceiling if smaller */
	double base;                  /* shortest lookup seen, seconds; 0: none yet */
	unsigned long long started;   /* lookups started so far */
	unsigned long long recover;   /* started, at the last halving */
	struct resolve_window_undo {  /* the last halving, until its loss proves slow */
		unsigned long long seq;   /* the lookup whose loss it was; 0: none */
		int cwnd, ssthresh;
		unsigned long long recover;
	} undo;
};

void resolve_window_init(struct resolve_window *w, int ceiling);
/* A lookup starts: its number, for resolve_window_lost(). */
unsigned long long resolve_window_start(struct resolve_window *w);
/* A lookup answered with no query lost or asked again, took seconds after its start, with
 * inflight lookups running (itself included). */
void resolve_window_answered(struct resolve_window *w, double took, int inflight);
/* A query of lookup number seq was lost. True if that halved the window. */
bool resolve_window_lost(struct resolve_window *w, unsigned long long seq);
/* The answer to that query came after all: undoes the halving it made, if any. */
void resolve_window_undo(struct resolve_window *w, unsigned long long seq);
/* Lookups allowed at once: 1..ceiling. */
int resolve_window_limit(const struct resolve_window *w);

#endif

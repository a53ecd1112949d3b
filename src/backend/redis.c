/*
 * redis.c - the coordinator side of scale-out, as a backend: it checks
 * nothing itself. Each submitted check is appended to <prefix>:checks, where
 * every location is a consumer group, so each location's workers
 * (`squirreld --worker`, src/worker.c) take it once. Their answers come back
 * on <prefix>:results, which we read through a consumer group of our own; one
 * answer per (check, location) counts, and src/scaleout/quorum.c turns them into the
 * one result the caller gets. A check that reaches its deadline (dispatch +
 * timeout + claim_idle + 5 s) undecided is answered "unknown": no
 * transition, no alert.
 *
 * Delivery is at least once on both streams; what makes it count once is
 * here. Every check has an id of its own (this run's random number and a
 * sequence), a location's second answer to it is dropped, and so is an
 * answer past the deadline or for a check we do not hold. We acknowledge an
 * answer only after its verdict was handed on (the daemon writes results in
 * batches within a fraction of a second), so an answer read but not handed
 * on stays pending in our group. After a restart, what is pending there
 * was read by the previous run and may already be recorded: it is dropped,
 * never counted twice (the site is simply checked again). Answers that came
 * in while no coordinator ran were read by nobody: those are adopted when
 * the daemon submits the same site (same url) before their deadline, so a
 * restart loses none of them. Anyone who can reach Redis can add answers,
 * so only those to checks of this run or of the run just before count: each
 * start records its run in the database (through the keep_run the program
 * gives in the parameters: a backend knows no SQL) and reads the one before; an answer naming any other run is dropped with a warning.
 *
 * Redis unreachable: checks wait unsent or unanswered and end "unknown" at
 * their deadline; the link reconnects with backoff (src/scaleout/redis_link.c).
 *
 * One blocking connection (see redis_link.h): poll() is this backend's event
 * loop, and a finite XREADGROUP BLOCK within poll's time limit is its wait.
 * Commands are pipelined: one round trip per poll carries every new check,
 * every acknowledgement and the read.
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/base/clock.h"
#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"
#include "squirrel/scaleout/quorum.h"
#include "squirrel/scaleout/redis_link.h"
#include "squirrel/base/u64map.h"

#define GROUP RW_COORDINATOR_GROUP /* our consumer group on <prefix>:results */
#define CONSUMER "coordinator"     /* one per prefix: a restart finds its pending answers */
#define READ_COUNT 1000            /* answers per read */
#define READ_ROUNDS 8              /* reads in a row, while full ones keep coming */
#define BLOCK_MAX_MS 1000
#define SCAN_EVERY_MS 100          /* deadlines are looked at this often */
#define TRIM_EVERY_MS 5000
#define TRIM_MARGIN_MS 15000       /* kept past the longest deadline (a claim period, clocks) */
#define DEADLINE_MARGIN_MS 5000
#define ORPHANS_MAX 1000000
#define BACKLOG_MS 3000            /* at start, answers left for us are read first */
#define ACK_CHUNK 256
#define ID_MAX 48                  /* a stream entry id */
#define NOISY_PER_MIN 20           /* log lines about bad answers per minute */

struct flight {
	uint64_t run, seq;
	char id[RW_ID_MAX];
	int64_t site_id;
	uint64_t tag;
	bool bound;                /* submitted by our caller (else an orphan) */
	const char *url;           /* the caller's, or url_copy */
	char *url_copy;            /* an orphan's echoed url */
	int32_t timeout_ms, connect_timeout_ms, max_redirects;
	struct sq_expect expect;
	int64_t started_wall_ms;
	int64_t deadline_wall_ms;
	int64_t deadline_mono_ms;
	int oks, fails;
	struct quorum_vote *votes;     /* one per location */
	char (*vote_ids)[ID_MAX];      /* their entries in <prefix>:results */
};

struct idlist {
	char (*v)[ID_MAX];
	size_t n, cap;
};

struct coord {
	struct redis_link link;
	char *checks_key, *results_key;
	char *locs[QUORUM_MAX_LOCATIONS];
	int nloc, quorum, claim_idle_ms;
	uint64_t run, next_seq;
	uint64_t prev_run;         /* the run before this start (recorded in the database) */
	bool have_prev;
	struct u64map flights;     /* key: flight_key(run, seq) */
	struct u64map orphans;     /* key: site id */
	uint64_t *unsent;          /* seqs of our checks not yet appended */
	size_t nunsent, capunsent;
	struct idlist acks;        /* to acknowledge in the next round trip */
	struct idlist held;        /* acknowledged once the ready results are handed on */
	struct sq_result *ready;
	size_t nready, capready;
	int64_t max_span_ms;       /* the longest dispatch-to-deadline seen: trimming keeps it */
	int64_t redis_offset_ms;   /* Redis's clock minus ours, from the ids it gives */
	int64_t earliest_ms;       /* no deadline held comes before (monotonic) */
	int64_t next_scan_ms, next_trim_ms;
	bool setup_done;
	bool failed;
	int64_t noisy_window_ms;
	int noisy;
	uint64_t dropped_dup, dropped_late, dropped_unknown;
};

static uint64_t flight_key(uint64_t run, uint64_t seq)
{
	return u64map_mix(run) ^ seq;
}

/* Entries older than this (Redis's clock) are of no use to anyone. */
static int64_t trim_min_id(const struct coord *b)
{
	return clock_wall_ms() + b->redis_offset_ms - b->max_span_ms - TRIM_MARGIN_MS;
}

/* The earliest deadline of what is held, for the next scan. */
static void note_deadline(struct coord *b, int64_t deadline)
{
	if (deadline < b->earliest_ms)
		b->earliest_ms = deadline;
}

static bool noisy_ok(struct coord *b)
{
	int64_t now = clock_mono_ms();
	if (now - b->noisy_window_ms > 60000) {
		if (b->noisy > NOISY_PER_MIN)
			log_warnx("redis backend: %d more bad answers were dropped in the last minute",
			    b->noisy - NOISY_PER_MIN);
		b->noisy_window_ms = now;
		b->noisy = 0;
	}
	return ++b->noisy <= NOISY_PER_MIN;
}

static int idlist_push(struct idlist *l, const char *id, size_t len)
{
	if (len >= ID_MAX)
		return -1;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		char (*nv)[ID_MAX] = realloc(l->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	memcpy(l->v[l->n], id, len);
	l->v[l->n][len] = '\0';
	l->n++;
	return 0;
}

static void ack(struct coord *b, const char *id, size_t len)
{
	if (idlist_push(&b->acks, id, len) < 0)
		log_warnx("redis backend: out of memory: answer %.*s stays pending", (int)len, id);
}

static struct flight *flight_new(struct coord *b)
{
	size_t size = sizeof(struct flight) + (size_t)b->nloc * (sizeof(struct quorum_vote) + ID_MAX);
	struct flight *f = calloc(1, size);

	if (f == NULL)
		return NULL;
	f->votes = (struct quorum_vote *)(f + 1);
	f->vote_ids = (char (*)[ID_MAX])(f->votes + b->nloc);
	return f;
}

static void flight_free(struct flight *f)
{
	if (f != NULL)
		free(f->url_copy);
	free(f);
}

/* The answers an expired or replaced orphan holds: nobody will use them. */
static void drop_votes(struct coord *b, struct flight *f)
{
	for (int i = 0; i < b->nloc; i++)
		if (f->votes[i].have)
			ack(b, f->vote_ids[i], strlen(f->vote_ids[i]));
}

static int push_ready(struct coord *b, const struct sq_result *r)
{
	if (b->nready == b->capready) {
		size_t ncap = b->capready ? b->capready * 2 : 256;
		struct sq_result *nr = realloc(b->ready, ncap * sizeof(*nr));
		if (nr == NULL) {
			log_errorx("redis backend: out of memory keeping a result");
			b->failed = true;
			return -1;
		}
		b->ready = nr;
		b->capready = ncap;
	}
	b->ready[b->nready++] = *r;
	return 0;
}

/* A verdict: the result is ready, the flight ends, its answers wait for the hand-over. */
static void finish(struct coord *b, struct flight *f, enum quorum_verdict v)
{
	struct sq_result r;

	quorum_compose(&r, v, f->votes, (const char *const *)b->locs, b->nloc, f->site_id, f->tag,
	    f->started_wall_ms);
	if (push_ready(b, &r) < 0)
		return;
	for (int i = 0; i < b->nloc; i++)
		if (f->votes[i].have && idlist_push(&b->held, f->vote_ids[i], strlen(f->vote_ids[i])) < 0)
			log_warnx("redis backend: out of memory: an answer stays pending");
	u64map_del(&b->flights, flight_key(f->run, f->seq));
	flight_free(f);
}

static int location_index(const struct coord *b, const char *name)
{
	for (int i = 0; i < b->nloc; i++)
		if (strcmp(b->locs[i], name) == 0)
			return i;
	return -1;
}

static bool same_url(const struct flight *f, const struct rw_result *res)
{
	return strlen(f->url) == res->url_len && memcmp(f->url, res->url, res->url_len) == 0;
}

/*
 * An answer to a check of an earlier run that nobody read: kept by site
 * until the daemon submits that site (see submit) or its deadline passes.
 */
static struct flight *orphan_for(struct coord *b, const struct rw_result *res, uint64_t run,
    uint64_t seq, int64_t now_wall, int64_t now_mono)
{
	struct flight *o = u64map_get(&b->orphans, (uint64_t)res->r.site_id);

	if (o != NULL && o->run == run && o->seq == seq)
		return o;
	if (res->deadline_ms <= now_wall)
		return NULL;
	if (o != NULL) {
		if (o->deadline_wall_ms >= res->deadline_ms)
			return NULL;               /* an answer to an older check: the newer one counts */
		drop_votes(b, o);
		u64map_del(&b->orphans, (uint64_t)o->site_id);
		flight_free(o);
	}
	if (b->orphans.n >= ORPHANS_MAX)
		return NULL;
	o = flight_new(b);
	if (o == NULL)
		return NULL;
	o->url_copy = strndup(res->url, res->url_len);
	if (o->url_copy == NULL || u64map_put(&b->orphans, (uint64_t)res->r.site_id, o) < 0) {
		flight_free(o);
		return NULL;
	}
	o->run = run;
	o->seq = seq;
	snprintf(o->id, sizeof(o->id), "%s", res->check_id);
	o->site_id = res->r.site_id;
	o->url = o->url_copy;
	/* A deadline from Redis is believed only as far as our own checks reach. */
	o->deadline_wall_ms = res->deadline_ms < now_wall + b->max_span_ms ? res->deadline_ms :
	    now_wall + b->max_span_ms;
	o->deadline_mono_ms = now_mono + (o->deadline_wall_ms - now_wall);
	note_deadline(b, o->deadline_mono_ms);
	o->started_wall_ms = res->r.started_ms;
	return o;
}

static void bad_answer(struct coord *b, const char *id, size_t idlen, const char *why)
{
	if (noisy_ok(b))
		log_warnx("redis backend: answer %.*s in %s dropped: %s", (int)idlen, id,
		    b->results_key, why);
	ack(b, id, idlen);
}

/* An answer to a check neither this run nor the one before it sent. */
static void not_ours(struct coord *b, const char *id, size_t idlen, const char *check)
{
	char why[256], prev[24] = "none recorded";

	if (b->have_prev)
		snprintf(prev, sizeof(prev), "%016" PRIx64, b->prev_run);
	snprintf(why, sizeof(why), "check %s was not sent by this coordinator (this run %016" PRIx64
	    ", the one before %s)", check, b->run, prev);
	bad_answer(b, id, idlen, why);
}

/*
 * One entry of <prefix>:results. fresh: read for the first time by anyone
 * (an unbound answer may then be adopted); otherwise it came back from our
 * group's pending list.
 */
static void on_answer(struct coord *b, const char *id, size_t idlen, const struct rw_field *fields,
    int nf, bool fresh)
{
	struct rw_result res;
	char why[256];
	uint64_t run, seq;

	if (idlen >= ID_MAX)         /* no id Redis makes is that long */
		return;
	if (nf == 0) {               /* trimmed while pending: nothing left to read */
		ack(b, id, idlen);
		return;
	}
	if (nf < 0) {
		bad_answer(b, id, idlen, "its fields are not a list of strings");
		return;
	}
	if (rw_result_parse(fields, (size_t)nf, &res, why, sizeof(why)) < 0) {
		bad_answer(b, id, idlen, why);
		return;
	}
	int li = location_index(b, res.location);
	if (li < 0) {
		snprintf(why, sizeof(why), "location '%s' is not in [redis] locations", res.location);
		bad_answer(b, id, idlen, why);
		return;
	}
	int64_t now_wall = clock_wall_ms(), now_mono = clock_mono_ms();
	bool parsed = rw_check_id_parse(res.check_id, &run, &seq) == 0;
	bool before = parsed && b->have_prev && run == b->prev_run && run != b->run;
	if (!parsed || (run != b->run && !before)) {
		/* Anyone who can write to Redis may add answers: only ours count. */
		if (fresh) {
			not_ours(b, id, idlen, res.check_id);
		} else {
			b->dropped_unknown++;
			ack(b, id, idlen);
		}
		return;
	}
	struct flight *f = u64map_get(&b->flights, flight_key(run, seq));
	if (f != NULL && (f->run != run || f->seq != seq))
		f = NULL;
	if (f == NULL && before && fresh)
		f = orphan_for(b, &res, run, seq, now_wall, now_mono);
	if (f == NULL) {             /* decided already or expired */
		b->dropped_unknown++;
		ack(b, id, idlen);
		return;
	}
	if (f->site_id != res.r.site_id || !same_url(f, &res)) {
		snprintf(why, sizeof(why), "check %s is for site %" PRId64 ", not site %" PRId64
		    " or another url", f->id, f->site_id, res.r.site_id);
		bad_answer(b, id, idlen, why);
		return;
	}
	if (f->votes[li].have) {
		/* the same entry again (our pending list after a reconnect) stays held */
		if (strlen(f->vote_ids[li]) != idlen || memcmp(f->vote_ids[li], id, idlen) != 0) {
			b->dropped_dup++;
			ack(b, id, idlen);
		}
		return;
	}
	if (now_mono > f->deadline_mono_ms) {
		b->dropped_late++;
		ack(b, id, idlen);
		return;
	}
	f->votes[li].have = true;
	f->votes[li].r = res.r;
	memcpy(f->vote_ids[li], id, idlen);
	f->vote_ids[li][idlen] = '\0';
	if (sq_result_ok(&res.r))
		f->oks++;
	else
		f->fails++;
	if (!f->bound)
		return;
	enum quorum_verdict v = quorum_decide(b->nloc, b->quorum, f->oks, f->fails);
	if (v != QUORUM_PENDING)
		finish(b, f, v);
}

/* The entries of one read; returns how many, or -1 when the reply is an error. */
static int on_read_reply(struct coord *b, const redisReply *r, bool fresh, char *last, size_t lastlen)
{
	struct rw_field fields[REDIS_ENTRY_FIELDS_MAX];

	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type == REDIS_REPLY_ERROR) {
		if (redis_reply_is_error(r, "NOGROUP"))
			b->setup_done = false;     /* Redis lost our group: made again next round */
		else
			log_warnx("redis backend: reading %s: %s", b->results_key, r->str);
		return -1;
	}
	const redisReply *entries = redis_entries(r, false);
	if (entries == NULL)
		return 0;
	for (size_t i = 0; i < entries->elements; i++) {
		const char *id;
		size_t idlen;
		int nf = redis_entry(entries->element[i], &id, &idlen, fields, REDIS_ENTRY_FIELDS_MAX);
		if (nf == -1)
			continue;
		on_answer(b, id, idlen, fields, nf, fresh);
		if (last != NULL && idlen < lastlen) {
			memcpy(last, id, idlen);
			last[idlen] = '\0';
		}
	}
	return (int)entries->elements;
}

static void read_args(struct coord *b, struct rw_args *a, int block_ms, const char *from)
{
	rw_args_init(a);
	rw_args_add(a, "XREADGROUP");
	rw_args_add(a, "GROUP");
	rw_args_add(a, GROUP);
	rw_args_add(a, CONSUMER);
	rw_args_add(a, "COUNT");
	rw_args_int(a, READ_COUNT);
	if (block_ms > 0) {          /* never BLOCK 0: that waits forever */
		rw_args_add(a, "BLOCK");
		rw_args_int(a, block_ms);
	}
	rw_args_add(a, "STREAMS");
	rw_args_add(a, b->results_key);
	rw_args_add(a, from);
}

/*
 * After every (re)connect: the groups (one per location on the checks, ours
 * on the results; made from the start of the stream when missing), then the
 * answers our group already gave us and we never acknowledged.
 */
static int setup(struct coord *b)
{
	struct rw_args a;

	for (int i = 0; i <= b->nloc; i++)
		if (redis_group_create_append(&b->link, i < b->nloc ? b->checks_key : b->results_key,
		    i < b->nloc ? b->locs[i] : GROUP) < 0)
			return -1;
	for (int i = 0; i <= b->nloc; i++)
		if (redis_group_create_reply(&b->link) < 0)
			return -1;
	/* Our pending list, walked from its start. */
	char from[ID_MAX] = "0";
	for (int round = 0; round < 1000; round++) {
		read_args(b, &a, 0, from);
		redisReply *r = redis_link_call(&b->link, &a);
		if (r == NULL)
			return -1;
		char last[ID_MAX] = "";
		int n = on_read_reply(b, r, false, last, sizeof(last));
		redis_reply_free(r);
		if (n <= 0 || last[0] == '\0')
			break;
		snprintf(from, sizeof(from), "%s", last);
	}
	b->setup_done = true;
	return 0;
}

/* One check onto <prefix>:checks (queued on the link: its fields are copied there). */
static int append_xadd(struct coord *b, const struct flight *f)
{
	struct rw_args a;
	struct rw_check c = {
		.site_id = f->site_id,
		.url = f->url,
		.url_len = strlen(f->url),
		.timeout_ms = f->timeout_ms,
		.connect_timeout_ms = f->connect_timeout_ms,
		.max_redirects = f->max_redirects,
		.deadline_ms = f->deadline_wall_ms,
		.expect = f->expect,
	};
	memcpy(c.id, f->id, sizeof(c.id));
	rw_args_init(&a);
	rw_args_add(&a, "XADD");
	rw_args_add(&a, b->checks_key);
	/* Trim by age: entries older than any deadline are of no use to anyone. */
	rw_args_add(&a, "MINID");
	rw_args_add(&a, "~");
	rw_args_int(&a, trim_min_id(b));
	rw_args_add(&a, "*");
	rw_check_encode(&a, &c);
	return redis_link_append(&b->link, &a);
}

/*
 * XACK commands for the queued acknowledgements, ACK_CHUNK ids each.
 * Returns the number of commands appended, or -1 when the link broke;
 * *nids is how many ids they carry (dropped from the queue by ack_sent
 * once the replies came).
 */
static int append_acks(struct coord *b, size_t *nids)
{
	const char *argv[ACK_CHUNK + 3];
	size_t len[ACK_CHUNK + 3];
	int cmds = 0;

	*nids = 0;
	for (size_t i = 0; i < b->acks.n; i += ACK_CHUNK) {
		int argc = 0;
		argv[argc] = "XACK";
		len[argc++] = 4;
		argv[argc] = b->results_key;
		len[argc++] = strlen(b->results_key);
		argv[argc] = GROUP;
		len[argc++] = strlen(GROUP);
		for (size_t j = i; j < b->acks.n && j < i + ACK_CHUNK; j++) {
			argv[argc] = b->acks.v[j];
			len[argc++] = strlen(b->acks.v[j]);
		}
		if (redis_link_append_argv(&b->link, argc, argv, len) < 0)
			return -1;
		*nids += (size_t)argc - 3;
		cmds++;
	}
	return cmds;
}

static void ack_sent(struct coord *b, size_t nids)
{
	if (nids == 0)
		return;
	memmove(b->acks.v, b->acks.v + nids, (b->acks.n - nids) * sizeof(*b->acks.v));
	b->acks.n -= nids;
}

/*
 * Everything owed to Redis (new checks, acknowledgements, now and then a
 * trim of the answers), then, with read, one read of answers: one round
 * trip. *got is the number of answers read. 0, or -1 when the link broke
 * (what was owed is sent again after the reconnect: a check sent twice is
 * answered twice and counted once).
 */
static int round_trip(struct coord *b, int block_ms, bool read, int *got)
{
	struct rw_args a;
	size_t nxadd = 0, nids = 0;
	int64_t now = clock_mono_ms();
	bool trim = read && now >= b->next_trim_ms;

	*got = 0;
	for (size_t i = 0; i < b->nunsent; i++) {
		struct flight *f = u64map_get(&b->flights, flight_key(b->run, b->unsent[i]));
		if (f == NULL || f->run != b->run || f->seq != b->unsent[i])
			continue;            /* ended before it could be sent */
		if (append_xadd(b, f) < 0)
			return -1;
		nxadd++;
	}
	int nack = append_acks(b, &nids);
	if (nack < 0)
		return -1;
	if (trim) {
		/* The answers are of no use after the longest deadline either. */
		rw_args_init(&a);
		rw_args_add(&a, "XTRIM");
		rw_args_add(&a, b->results_key);
		rw_args_add(&a, "MINID");
		rw_args_add(&a, "~");
		rw_args_int(&a, trim_min_id(b));
		if (redis_link_append(&b->link, &a) < 0)
			return -1;
	}
	if (read) {
		read_args(b, &a, block_ms, ">");
		if (redis_link_append(&b->link, &a) < 0)
			return -1;
	}
	redis_link_set_block(&b->link, read ? block_ms : 0);

	size_t replies = nxadd + (size_t)nack + (trim ? 1 : 0) + (read ? 1 : 0);
	int64_t sent_wall = clock_wall_ms();
	for (size_t i = 0; i < replies; i++) {
		redisReply *r = redis_link_reply(&b->link);
		if (r == NULL)
			return -1;
		if (i < nxadd) {
			if (r->type == REDIS_REPLY_STRING) {
				int64_t ms = rw_stream_id_ms(r->str, r->len);
				if (ms > 0)
					b->redis_offset_ms = ms - sent_wall;
			} else if (r->type == REDIS_REPLY_ERROR && noisy_ok(b)) {
				/* the check stays unanswered and ends unknown at its deadline */
				log_warnx("redis backend: XADD to %s refused: %s", b->checks_key, r->str);
			}
		} else if (read && i + 1 == replies) {
			*got = on_read_reply(b, r, true, NULL, 0);
		} else if (r->type == REDIS_REPLY_ERROR && noisy_ok(b)) {
			log_warnx("redis backend: %s refused: %s",
			    i < nxadd + (size_t)nack ? "XACK" : "XTRIM", r->str);
		}
		redis_reply_free(r);
	}
	b->nunsent = 0;
	ack_sent(b, nids);
	if (trim)
		b->next_trim_ms = now + TRIM_EVERY_MS;
	return 0;
}

/*
 * Checks past their deadline end unknown; orphans past theirs are let go.
 * A whole walk, but only once the earliest deadline noted has come (and at
 * most every SCAN_EVERY_MS): answered checks leave early, so it is rare.
 */
static void scan_deadlines(struct coord *b, int64_t now)
{
	if (now < b->earliest_ms || now < b->next_scan_ms)
		return;
	b->next_scan_ms = now + SCAN_EVERY_MS;
	b->earliest_ms = INT64_MAX;
	for (int pass = 0; pass < 2; pass++) {
		struct u64map *m = pass == 0 ? &b->flights : &b->orphans;
		struct flight **expired = NULL;
		size_t n = 0;
		for (size_t i = 0; i < m->cap; i++) {
			struct flight *f = m->v[i].val;
			if (f == NULL)
				continue;
			if (now <= f->deadline_mono_ms) {
				note_deadline(b, f->deadline_mono_ms);
				continue;
			}
			if (expired == NULL && (expired = malloc(m->n * sizeof(*expired))) == NULL) {
				b->earliest_ms = now;     /* again at the next scan */
				return;
			}
			expired[n++] = f;
		}
		for (size_t i = 0; i < n; i++) {
			struct flight *f = expired[i];
			if (pass == 0) {
				finish(b, f, QUORUM_UNKNOWN);
			} else {
				drop_votes(b, f);
				u64map_del(&b->orphans, (uint64_t)f->site_id);
				flight_free(f);
			}
		}
		free(expired);
	}
}

/* Connected and set up: 0; -1 when Redis cannot be used now. */
static int ready_link(struct coord *b)
{
	int rc = redis_link_ensure(&b->link);
	if (rc < 0)
		return -1;
	if (rc == 1)
		b->setup_done = false;
	if (!b->setup_done && setup(b) < 0)
		return -1;
	return 0;
}

static int redis_poll(struct sq_backend *be, int timeout_ms, sq_result_fn *fn, void *arg)
{
	struct coord *b = be->state;
	int64_t start = clock_mono_ms();

	for (int round = 0; round < READ_ROUNDS; round++) {
		int64_t now = clock_mono_ms();
		scan_deadlines(b, now);
		/* Wait only when there is nothing to hand on, never past a deadline. */
		int64_t block = b->nready > 0 || round > 0 ? 0 : timeout_ms - (now - start);
		int64_t scan = b->earliest_ms > b->next_scan_ms ? b->earliest_ms : b->next_scan_ms;
		if (block > scan - now)
			block = scan - now;
		if (block > BLOCK_MAX_MS)
			block = BLOCK_MAX_MS;
		if (block < 0)
			block = 0;
		if (ready_link(b) < 0) {
			int wait = redis_link_wait_ms(&b->link);
			clock_sleep_ms(block < wait ? (int)block : wait);
			break;
		}
		int got;
		if (round_trip(b, (int)block, true, &got) < 0 || got < READ_COUNT)
			break;
	}
	scan_deadlines(b, clock_mono_ms());
	if (b->failed)
		return -1;
	size_t n = b->nready;
	b->nready = 0;
	for (size_t i = 0; i < n; i++)
		fn(&b->ready[i], arg);
	/* Handed on: their answers may go (acknowledged in the next round trip). */
	for (size_t i = 0; i < b->held.n; i++)
		ack(b, b->held.v[i], strlen(b->held.v[i]));
	b->held.n = 0;
	return (int)n;
}

static int redis_submit(struct sq_backend *be, const struct sq_check *c)
{
	struct coord *b = be->state;
	int64_t now_mono = clock_mono_ms(), now_wall = clock_wall_ms();
	int64_t span = (int64_t)c->timeout_ms + b->claim_idle_ms + DEADLINE_MARGIN_MS;

	if (span > b->max_span_ms)
		b->max_span_ms = span;
	struct flight *o = u64map_del(&b->orphans, (uint64_t)c->site_id);
	if (o != NULL) {
		if (now_mono < o->deadline_mono_ms && strcmp(o->url, c->url) == 0 &&
		    u64map_put(&b->flights, flight_key(o->run, o->seq), o) == 0) {
			/* An answer that came while no coordinator ran: counted, not lost. */
			log_debug("site %" PRId64 ": check %s of an earlier run adopted", c->site_id, o->id);
			o->bound = true;
			o->tag = c->tag;
			o->url = c->url;
			free(o->url_copy);
			o->url_copy = NULL;
			enum quorum_verdict v = quorum_decide(b->nloc, b->quorum, o->oks, o->fails);
			if (v != QUORUM_PENDING)
				finish(b, o, v);
			return b->failed ? -1 : 0;
		}
		drop_votes(b, o);
		flight_free(o);
	}
	if (b->nunsent == b->capunsent) {
		size_t ncap = b->capunsent ? b->capunsent * 2 : 256;
		uint64_t *nu = realloc(b->unsent, ncap * sizeof(*nu));
		if (nu == NULL)
			goto nomem;
		b->unsent = nu;
		b->capunsent = ncap;
	}
	struct flight *f = flight_new(b);
	if (f == NULL)
		goto nomem;
	f->run = b->run;
	f->seq = b->next_seq++;
	rw_check_id_format(f->id, sizeof(f->id), f->run, f->seq);
	f->site_id = c->site_id;
	f->tag = c->tag;
	f->bound = true;
	f->url = c->url;
	f->timeout_ms = c->timeout_ms;
	f->connect_timeout_ms = c->connect_timeout_ms;
	f->max_redirects = c->max_redirects;
	f->expect = c->expect;
	f->started_wall_ms = now_wall;
	f->deadline_wall_ms = now_wall + span;
	f->deadline_mono_ms = now_mono + span;
	if (u64map_put(&b->flights, flight_key(f->run, f->seq), f) < 0) {
		flight_free(f);
		goto nomem;
	}
	b->unsent[b->nunsent++] = f->seq;
	note_deadline(b, f->deadline_mono_ms);
	return 0;
nomem:
	log_errorx("redis backend: out of memory queueing a check of site %" PRId64, c->site_id);
	return -1;
}

static size_t redis_pending(struct sq_backend *be)
{
	struct coord *b = be->state;
	return b->flights.n + b->nready;
}

static uint64_t random_run(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = u64map_mix((uint64_t)clock_wall_ms() ^ ((uint64_t)getpid() << 40));
	return r;
}

/* [redis] locations: names, trimmed, each once (the order is sq_vote.location). */
static int parse_locations(struct coord *b, const char *list)
{
	char why[128];

	b->nloc = quorum_locations(list, b->locs, why, sizeof(why));
	if (b->nloc < 0) {
		b->nloc = 0;
		log_errorx("redis backend: [redis] locations: %s", why);
		return -1;
	}
	return 0;
}

/*
 * At start, before any check goes out: the answers that came while no
 * coordinator ran, so that the daemon's first submits can adopt them.
 */
static void read_backlog(struct coord *b)
{
	int64_t until = clock_mono_ms() + BACKLOG_MS;
	size_t total = 0;
	int got;

	while (clock_mono_ms() < until && round_trip(b, 0, true, &got) == 0) {
		total += (size_t)(got > 0 ? got : 0);
		if (got < READ_COUNT)
			break;
	}
	if (b->orphans.n > 0)
		log_info("redis backend: %zu answers of %zu checks dispatched before this start are kept "
		    "for their sites", total, b->orphans.n);
}

/*
 * This run is recorded in the database, and the one before it read: the
 * next start adopts answers of this run alone, and this one those of the
 * run before. Without the database, no answer of an earlier run is
 * believed (the sites are simply checked again).
 */
static void remember_run(struct coord *b, const struct sq_backend_params *p)
{
	char run[24], prev[64] = "", id[80];
	uint64_t seq;
	int rc = -1;

	snprintf(run, sizeof(run), "%016" PRIx64, b->run);
	if (p->keep_run != NULL)
		rc = p->keep_run(p->keep_run_arg, p->redis.prefix, run, prev, sizeof(prev));
	if (rc < 0) {
		log_warnx("redis backend: run %s could not be recorded in the database: answers "
		    "dispatched before this start are not adopted, nor will this run's be after the next",
		    run);
		return;
	}
	if (rc == 0)
		return;
	snprintf(id, sizeof(id), "%s-0", prev);
	if (rw_check_id_parse(id, &b->prev_run, &seq) < 0) {
		log_warnx("redis backend: the run recorded before this start ('%.40s') is not one: "
		    "no answer of an earlier run is adopted", prev);
		return;
	}
	b->have_prev = true;
}

static void redis_shutdown(struct sq_backend *be);

static int redis_init(struct sq_backend *be, const struct sq_backend_params *p)
{
	const struct sq_redis_params *cfg = &p->redis;
	struct coord *b;
	char err[512];

	if (cfg->url == NULL) {
		log_errorx("redis backend: no configuration given");
		return -1;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto nomem;
	be->state = b;
	u64map_init(&b->flights);
	u64map_init(&b->orphans);
	if (parse_locations(b, cfg->locations) < 0)
		goto fail;
	if (cfg->quorum > b->nloc) {
		log_errorx("redis backend: [redis] quorum is %d but only %d location(s) are listed: "
		    "a failure could never be confirmed", cfg->quorum, b->nloc);
		goto fail;
	}
	b->quorum = cfg->quorum;
	b->claim_idle_ms = cfg->claim_idle_ms;
	b->max_span_ms = (int64_t)cfg->timeout_ms + b->claim_idle_ms + DEADLINE_MARGIN_MS;
	size_t plen = strlen(cfg->prefix) + 16;
	b->checks_key = malloc(plen);
	b->results_key = malloc(plen);
	if (b->checks_key == NULL || b->results_key == NULL)
		goto nomem;
	snprintf(b->checks_key, plen, "%s:checks", cfg->prefix);
	snprintf(b->results_key, plen, "%s:results", cfg->prefix);
	b->run = random_run();
	remember_run(b, p);
	b->earliest_ms = INT64_MAX;
	if (redis_link_init(&b->link, cfg->url, "coordinator", err, sizeof(err)) < 0) {
		log_errorx("redis backend: [redis] url %s", err);
		goto fail;
	}
	if (redis_link_ensure(&b->link) < 0) {
		log_errorx("redis backend: cannot use Redis at %s: %s", b->link.url.shown,
		    b->link.last_why);
		goto fail;
	}
	if (setup(b) < 0) {
		log_errorx("redis backend: Redis at %s: %s", b->link.url.shown, b->link.last_why);
		goto fail;
	}
	read_backlog(b);
	log_info("redis backend: %s, streams %s and %s, %d location(s), quorum %d", b->link.url.shown,
	    b->checks_key, b->results_key, b->nloc, b->quorum);
	return 0;
nomem:
	log_errorx("redis backend: out of memory");
fail:
	redis_shutdown(be);
	return -1;
}

static void free_map(struct u64map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		flight_free(m->v[i].val);
	u64map_free(m);
}

static void redis_shutdown(struct sq_backend *be)
{
	struct coord *b = be->state;

	if (b == NULL)
		return;
	/* Answers handed on are acknowledged now; the rest stay for the next start. */
	for (size_t i = 0; i < b->held.n; i++)
		ack(b, b->held.v[i], strlen(b->held.v[i]));
	b->held.n = 0;
	b->nunsent = 0;
	while (b->acks.n > 0 && b->link.c != NULL) {
		int got;
		size_t before = b->acks.n;
		if (round_trip(b, 0, false, &got) < 0 || b->acks.n >= before)
			break;
	}
	if (b->dropped_dup + b->dropped_late + b->dropped_unknown > 0)
		log_debug("redis backend: dropped %" PRIu64 " second answers, %" PRIu64 " late ones, %"
		    PRIu64 " for checks not held", b->dropped_dup, b->dropped_late, b->dropped_unknown);
	free_map(&b->flights);
	free_map(&b->orphans);
	redis_link_free(&b->link);
	for (int i = 0; i < b->nloc; i++)
		free(b->locs[i]);
	free(b->checks_key);
	free(b->results_key);
	free(b->unsent);
	free(b->acks.v);
	free(b->held.v);
	free(b->ready);
	free(b);
	be->state = NULL;
}

const struct sq_backend_ops backend_redis = {
	.name = "redis",
	.init = redis_init,
	.submit = redis_submit,
	.poll = redis_poll,
	.pending = redis_pending,
	.shutdown = redis_shutdown,
};

/*
 * worker.c - `squirreld --worker`: the hands of the scale-out (DESIGN.md,
 * "Scale-out"; the coordinator is src/backend/redis.c).
 *
 * It reads its location's consumer group on <prefix>:checks, never more
 * entries than it has free slots (a busy worker must not hoard checks
 * another could run), runs them on a local backend through the backend
 * interface (libev by default; any works), and for each finished check
 * appends the answer to <prefix>:results and acknowledges the entry in the
 * same MULTI/EXEC, so an answer is never written without its entry being
 * taken off the pending list, nor the other way round. At start and every
 * claim period it takes over (XAUTOCLAIM) entries left idle longer than
 * claim_idle by a worker that died.
 *
 * Nothing read from Redis is trusted (src/scaleout/redis_wire.c): a malformed entry,
 * one whose url is not http or https, or one delivered too many times (it
 * may be what kills workers) is acknowledged with one log line and never
 * run; an entry past its deadline is acknowledged without a check.
 *
 * The connection is blocking with timeouts (src/scaleout/redis_link.c), in a loop
 * that alternates with the backend's poll(): the backends keep their event
 * loops to themselves (serial and threads have none), so a Redis connection
 * could not share it; a short poll while checks run and a finite BLOCK
 * while none do keep both sides responsive.
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/base/clock.h"
#include "squirrel/backend/backend.h"
#include "squirrel/base/log.h"
#include "squirrel/base/notify.h"
#include "squirrel/scaleout/redis_link.h"
#include "squirrel/scaleout/redis_wire.h"
#include "squirrel/worker.h"

#define ID_MAX 48                  /* a stream entry id */
#define BLOCK_MS 1000              /* the wait for work when idle */
#define POLL_SHORT_MS 20           /* checks running, room for more: look at Redis this often */
#define POLL_LONG_MS 1000
#define MAX_DELIVERIES 3           /* more and the entry is dropped: it may kill its workers */
#define WRITE_BATCH 500            /* answers per MULTI/EXEC */
#define STOP_GRACE_MS 10000        /* after SIGTERM, how long answers wait for Redis */
#define CLAIM_ROUNDS 16
#define CONSUMER_FORGET_MS (3600 * 1000)  /* a consumer holding nothing, idle this long, is gone */

static volatile sig_atomic_t got_stop;

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

/* One check running on the local backend. */
struct slot {
	bool used;
	char entry[ID_MAX];        /* its entry in <prefix>:checks */
	char check_id[RW_ID_MAX];
	int64_t site_id;
	int64_t deadline_ms;
	char *url;
};

/* Owed to Redis: an answer and its acknowledgement, or an acknowledgement alone. */
struct owed {
	char entry[ID_MAX];
	bool answer;
	struct rw_result res;
	char *url;
};

struct worker {
	struct redis_link link;
	struct sq_backend backend;
	char *checks_key, *results_key;
	char location[RW_LOCATION_MAX];
	char consumer[128];
	char who[RW_LOCATION_MAX + 140];
	int capacity, inflight;
	struct slot *slots;
	int *free_slots;
	int nfree;
	struct owed *owed;
	size_t nowed, capowed;
	int claim_idle_ms, claim_every_ms;
	int64_t next_claim_ms;
	char claim_cursor[ID_MAX];
	bool setup_done;
	bool warned_timeout;
	uint64_t done, refused;
};

static struct owed *owe(struct worker *w, const char *entry, size_t len)
{
	if (len >= ID_MAX)
		return NULL;
	if (w->nowed == w->capowed) {
		size_t ncap = w->capowed ? w->capowed * 2 : 256;
		struct owed *no = realloc(w->owed, ncap * sizeof(*no));
		if (no == NULL) {
			log_errorx("%s: out of memory: entry %.*s stays pending", w->who, (int)len, entry);
			return NULL;
		}
		w->owed = no;
		w->capowed = ncap;
	}
	struct owed *o = &w->owed[w->nowed++];
	memset(o, 0, sizeof(*o));
	memcpy(o->entry, entry, len);
	o->entry[len] = '\0';
	return o;
}

/* An entry acknowledged without a check, with one log line saying why. */
static void refuse(struct worker *w, const char *entry, size_t len, const char *why)
{
	char shown[ID_MAX + 8];

	rw_printable(shown, sizeof(shown), entry, len);
	log_warnx("%s: entry %s in %s: %s; acknowledged without a check", w->who, shown,
	    w->checks_key, why);
	w->refused++;
	owe(w, entry, len);
}

static bool holding(const struct worker *w, const char *entry, size_t len)
{
	for (int i = 0; i < w->capacity; i++)
		if (w->slots[i].used && strlen(w->slots[i].entry) == len &&
		    memcmp(w->slots[i].entry, entry, len) == 0)
			return true;
	return false;
}

/* One entry taken from the group: run it, or say why not. */
static void take(struct worker *w, const redisReply *e, int deliveries)
{
	struct rw_field fields[REDIS_ENTRY_FIELDS_MAX];
	struct rw_check c;
	char why[512];
	const char *id;
	size_t idlen;
	int nf = redis_entry(e, &id, &idlen, fields, REDIS_ENTRY_FIELDS_MAX);

	if (nf == -1)
		return;                   /* no id: nothing we could even acknowledge */
	if (idlen >= ID_MAX || holding(w, id, idlen))
		return;                   /* claimed back while it runs here: it answers once */
	if (nf == 0) {
		owe(w, id, idlen);        /* trimmed while pending: nothing left to run */
		return;
	}
	if (nf < 0) {
		refuse(w, id, idlen, "its fields are not a list of strings");
		return;
	}
	if (deliveries > MAX_DELIVERIES) {
		snprintf(why, sizeof(why), "delivered %d times (a worker died or hung on it each time)",
		    deliveries);
		refuse(w, id, idlen, why);
		return;
	}
	if (rw_check_parse(fields, (size_t)nf, &c, why, sizeof(why)) < 0) {
		refuse(w, id, idlen, why);
		return;
	}
	if (clock_wall_ms() >= c.deadline_ms) {
		log_debug("%s: entry %.*s (site %" PRId64 ") is past its deadline; acknowledged",
		    w->who, (int)idlen, id, c.site_id);
		owe(w, id, idlen);
		return;
	}
	if (!w->warned_timeout && c.timeout_ms + 5000 > w->claim_idle_ms) {
		log_warnx("%s: site %" PRId64 " has a %d ms timeout, close to or over [redis] claim_idle "
		    "(%d ms): another worker may take its check while it still runs here", w->who,
		    c.site_id, (int)c.timeout_ms, w->claim_idle_ms);
		w->warned_timeout = true;
	}
	if (w->nfree == 0)
		return;                   /* cannot happen: we read no more than free slots */
	int si = w->free_slots[--w->nfree];
	struct slot *s = &w->slots[si];
	s->url = strndup(c.url, c.url_len);
	if (s->url == NULL) {
		w->free_slots[w->nfree++] = si;
		log_errorx("%s: out of memory: entry %.*s stays pending", w->who, (int)idlen, id);
		return;
	}
	s->used = true;
	memcpy(s->entry, id, idlen);
	s->entry[idlen] = '\0';
	snprintf(s->check_id, sizeof(s->check_id), "%s", c.id);
	s->site_id = c.site_id;
	s->deadline_ms = c.deadline_ms;
	struct sq_check chk = {
		.site_id = c.site_id,
		.tag = (uint64_t)si,
		.url = s->url,
		.timeout_ms = c.timeout_ms,
		.connect_timeout_ms = c.connect_timeout_ms,
		.max_redirects = c.max_redirects,
		.expect = c.expect,
	};
	w->inflight++;
	if (w->backend.ops->submit(&w->backend, &chk) < 0) {
		/* left pending: another worker takes it after claim_idle */
		log_errorx("%s: the %s backend refused site %" PRId64, w->who, w->backend.ops->name,
		    c.site_id);
		w->inflight--;
		free(s->url);
		s->url = NULL;
		s->used = false;
		w->free_slots[w->nfree++] = si;
	}
}

/* A check ended: its answer is owed, the slot is free again. */
static void on_result(const struct sq_result *r, void *arg)
{
	struct worker *w = arg;

	if (r->tag >= (uint64_t)w->capacity || !w->slots[r->tag].used) {
		log_warnx("%s: the backend returned a result for no check (site %" PRId64 ")", w->who,
		    r->site_id);
		return;
	}
	struct slot *s = &w->slots[r->tag];
	struct owed *o = owe(w, s->entry, strlen(s->entry));
	if (o != NULL) {
		o->answer = true;
		o->url = s->url;          /* the answer owns it now */
		o->res.r = *r;
		o->res.r.site_id = s->site_id;
		snprintf(o->res.check_id, sizeof(o->res.check_id), "%s", s->check_id);
		snprintf(o->res.location, sizeof(o->res.location), "%s", w->location);
		o->res.url = o->url;
		o->res.url_len = strlen(o->url);
		o->res.deadline_ms = s->deadline_ms;
	} else {
		free(s->url);
	}
	s->url = NULL;
	s->used = false;
	w->free_slots[w->nfree++] = (int)r->tag;
	w->inflight--;
	w->done++;
}

/*
 * The answers and acknowledgements owed, in batches of one MULTI/EXEC each:
 * every XADD to <prefix>:results and the one XACK of their entries commit
 * together or not at all. Pipelined: one round trip per batch.
 */
static int write_owed(struct worker *w)
{
	while (w->nowed > 0) {
		size_t n = w->nowed < WRITE_BATCH ? w->nowed : WRITE_BATCH;
		size_t nadd = 0;
		struct rw_args a;
		const char *argv[WRITE_BATCH + 3];
		size_t len[WRITE_BATCH + 3];

		rw_args_init(&a);
		rw_args_add(&a, "MULTI");
		if (redis_link_append(&w->link, &a) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (!w->owed[i].answer)
				continue;
			rw_args_init(&a);
			rw_args_add(&a, "XADD");
			rw_args_add(&a, w->results_key);
			rw_args_add(&a, "*");
			rw_result_encode(&a, &w->owed[i].res, w->consumer);
			if (redis_link_append(&w->link, &a) < 0)
				return -1;
			nadd++;
		}
		int argc = 0;
		argv[argc] = "XACK";
		len[argc++] = 4;
		argv[argc] = w->checks_key;
		len[argc++] = strlen(w->checks_key);
		argv[argc] = w->location;
		len[argc++] = strlen(w->location);
		for (size_t i = 0; i < n; i++) {
			argv[argc] = w->owed[i].entry;
			len[argc++] = strlen(w->owed[i].entry);
		}
		rw_args_init(&a);
		rw_args_add(&a, "EXEC");
		if (redis_link_append_argv(&w->link, argc, argv, len) < 0 ||
		    redis_link_append(&w->link, &a) < 0)
			return -1;
		/*
		 * MULTI's +OK, a QUEUED per command, then EXEC's array. A batch
		 * refused as a whole leaves its entries pending: they are
		 * claimed again after claim_idle (and dropped after
		 * MAX_DELIVERIES), never retried here in a loop.
		 */
		for (size_t i = 0; i < nadd + 3; i++) {
			redisReply *r = redis_link_reply(&w->link);
			if (r == NULL)
				return -1;
			if (i == nadd + 2 && r->type != REDIS_REPLY_ARRAY) {
				log_errorx("%s: writing %zu answers refused: %s", w->who, nadd,
				    r->type == REDIS_REPLY_ERROR ? r->str : "the transaction was aborted");
			} else if (i == nadd + 2) {
				for (size_t j = 0; j < r->elements; j++)
					if (r->element[j]->type == REDIS_REPLY_ERROR) {
						log_errorx("%s: Redis refused part of an answer batch: %s",
						    w->who, r->element[j]->str);
						break;
					}
			}
			redis_reply_free(r);
		}
		for (size_t i = 0; i < n; i++)
			free(w->owed[i].url);
		memmove(w->owed, w->owed + n, (w->nowed - n) * sizeof(*w->owed));
		w->nowed -= n;
	}
	return 0;
}

static void take_entries(struct worker *w, const redisReply *entries, const int *deliveries)
{
	for (size_t i = 0; entries != NULL && i < entries->elements; i++)
		take(w, entries->element[i], deliveries ? deliveries[i] : 1);
}

/*
 * Entries idle longer than claim_idle (their worker died or hung) become
 * ours, as many as we have room for; the cursor goes round the pending list
 * over the rounds. How often each was delivered comes from XPENDING.
 */
static int claim(struct worker *w)
{
	for (int round = 0; round < CLAIM_ROUNDS && w->nfree > 0; round++) {
		struct rw_args a;
		rw_args_init(&a);
		rw_args_add(&a, "XAUTOCLAIM");
		rw_args_add(&a, w->checks_key);
		rw_args_add(&a, w->location);
		rw_args_add(&a, w->consumer);
		rw_args_int(&a, w->claim_idle_ms);
		rw_args_add(&a, w->claim_cursor);
		rw_args_add(&a, "COUNT");
		rw_args_int(&a, w->nfree);
		redisReply *r = redis_link_call(&w->link, &a);
		if (r == NULL)
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			if (redis_reply_is_error(r, "NOGROUP"))
				w->setup_done = false;
			else
				log_warnx("%s: XAUTOCLAIM refused: %s", w->who, r->str);
			redis_reply_free(r);
			return 0;
		}
		const redisReply *entries = redis_entries(r, true);
		bool more = false;
		if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
		    r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len < ID_MAX) {
			snprintf(w->claim_cursor, sizeof(w->claim_cursor), "%s", r->element[0]->str);
			more = strcmp(w->claim_cursor, "0-0") != 0;
		}
		size_t n = entries != NULL ? entries->elements : 0;
		int *deliveries = n > 0 ? calloc(n, sizeof(*deliveries)) : NULL;
		for (size_t i = 0; deliveries != NULL && i < n; i++) {
			const redisReply *e = entries->element[i];
			deliveries[i] = 1;
			if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
			    e->element[0]->type != REDIS_REPLY_STRING)
				continue;
			rw_args_init(&a);
			rw_args_add(&a, "XPENDING");
			rw_args_add(&a, w->checks_key);
			rw_args_add(&a, w->location);
			rw_args_add(&a, e->element[0]->str);
			rw_args_add(&a, e->element[0]->str);
			rw_args_add(&a, "1");
			redisReply *p = redis_link_call(&w->link, &a);
			if (p == NULL) {
				free(deliveries);
				redis_reply_free(r);
				return -1;
			}
			/* [[id, consumer, idle, deliveries]] */
			if (p->type == REDIS_REPLY_ARRAY && p->elements == 1 &&
			    p->element[0]->type == REDIS_REPLY_ARRAY && p->element[0]->elements == 4 &&
			    p->element[0]->element[3]->type == REDIS_REPLY_INTEGER)
				deliveries[i] = (int)p->element[0]->element[3]->integer;
			redis_reply_free(p);
		}
		if (n > 0)
			log_info("%s: took over %zu check(s) left idle over %d ms", w->who, n,
			    w->claim_idle_ms);
		take_entries(w, entries, deliveries);
		free(deliveries);
		redis_reply_free(r);
		if (!more)
			break;
	}
	return 0;
}

/*
 * Every worker process is a consumer of its own (host-pid): the ones that
 * are gone, hold nothing and have been idle an hour are removed, so the
 * group does not collect a consumer per restart for ever.
 */
static void forget_old_consumers(struct worker *w)
{
	struct rw_args a;

	rw_args_init(&a);
	rw_args_add(&a, "XINFO");
	rw_args_add(&a, "CONSUMERS");
	rw_args_add(&a, w->checks_key);
	rw_args_add(&a, w->location);
	redisReply *r = redis_link_call(&w->link, &a);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		redis_reply_free(r);
		return;
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *c = r->element[i];
		const char *name = NULL;
		long long pend = -1, idle = -1;
		for (size_t j = 0; c->type == REDIS_REPLY_ARRAY && j + 1 < c->elements; j += 2) {
			const redisReply *k = c->element[j], *v = c->element[j + 1];
			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(k->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
				name = v->str;
			else if (strcmp(k->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
				pend = v->integer;
			else if (strcmp(k->str, "idle") == 0 && v->type == REDIS_REPLY_INTEGER)
				idle = v->integer;
		}
		if (name == NULL || pend != 0 || idle < CONSUMER_FORGET_MS ||
		    strcmp(name, w->consumer) == 0)
			continue;
		rw_args_init(&a);
		rw_args_add(&a, "XGROUP");
		rw_args_add(&a, "DELCONSUMER");
		rw_args_add(&a, w->checks_key);
		rw_args_add(&a, w->location);
		rw_args_add(&a, name);
		redis_reply_free(redis_link_call(&w->link, &a));
	}
	redis_reply_free(r);
}

/* After every (re)connect: our group (made when missing, from the stream's start). */
static int setup(struct worker *w)
{
	if (redis_group_create_append(&w->link, w->checks_key, w->location) < 0 ||
	    redis_group_create_reply(&w->link) < 0)
		return -1;
	forget_old_consumers(w);
	if (w->link.c == NULL)
		return -1;
	w->setup_done = true;
	w->next_claim_ms = 0;         /* claim at once after every (re)connect */
	return 0;
}

/* New entries, no more than free slots; waits up to block_ms when there is nothing else to do. */
static int read_new(struct worker *w, int block_ms)
{
	struct rw_args a;

	rw_args_init(&a);
	rw_args_add(&a, "XREADGROUP");
	rw_args_add(&a, "GROUP");
	rw_args_add(&a, w->location);
	rw_args_add(&a, w->consumer);
	rw_args_add(&a, "COUNT");
	rw_args_int(&a, w->nfree);
	if (block_ms > 0) {           /* never BLOCK 0: that waits forever */
		rw_args_add(&a, "BLOCK");
		rw_args_int(&a, block_ms);
	}
	rw_args_add(&a, "STREAMS");
	rw_args_add(&a, w->checks_key);
	rw_args_add(&a, ">");
	redis_link_set_block(&w->link, block_ms);
	redisReply *r = redis_link_call(&w->link, &a);
	redis_link_set_block(&w->link, 0);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		if (redis_reply_is_error(r, "NOGROUP"))
			w->setup_done = false;   /* Redis lost it (a restart without persistence) */
		else
			log_warnx("%s: XREADGROUP refused: %s", w->who, r->str);
	} else {
		take_entries(w, redis_entries(r, false), NULL);
	}
	redis_reply_free(r);
	return 0;
}

/* One turn with Redis: answers out, then (unless stopping) claimed and new work in. */
static void talk(struct worker *w, bool stopping)
{
	int rc = redis_link_ensure(&w->link);

	if (rc < 0)
		return;
	if (rc == 1)
		w->setup_done = false;
	if (!w->setup_done && setup(w) < 0)
		return;
	if (write_owed(w) < 0 || stopping)
		return;
	int64_t now = clock_mono_ms();
	if (now >= w->next_claim_ms && w->nfree > 0) {
		if (claim(w) < 0)
			return;
		w->next_claim_ms = now + w->claim_every_ms;
	}
	if (w->nfree > 0)
		read_new(w, w->inflight == 0 && w->nowed == 0 ? BLOCK_MS : 0);
	if (w->nowed > 0)
		write_owed(w);            /* entries refused right away go at once */
}

static int worker_init(struct worker *w, const struct sq_config *cfg, const char *location,
    const char *backend)
{
	char host[64] = "worker", err[512];

	snprintf(w->location, sizeof(w->location), "%s", location);
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	/* A consumer per process: a restarted worker's old checks are claimed like a dead one's. */
	snprintf(w->consumer, sizeof(w->consumer), "%s-%ld", host, (long)getpid());
	for (char *p = w->consumer; *p; p++)
		if (!name_char(*p))
			*p = '_';
	snprintf(w->who, sizeof(w->who), "worker %s/%s", w->location, w->consumer);
	size_t plen = strlen(cfg->redis_prefix) + 16;
	w->checks_key = malloc(plen);
	w->results_key = malloc(plen);
	if (w->checks_key == NULL || w->results_key == NULL)
		return -1;
	snprintf(w->checks_key, plen, "%s:checks", cfg->redis_prefix);
	snprintf(w->results_key, plen, "%s:results", cfg->redis_prefix);
	w->claim_idle_ms = cfg->redis_claim_idle_ms;
	w->claim_every_ms = w->claim_idle_ms / 2 < 500 ? 500 :
	    w->claim_idle_ms / 2 > 10000 ? 10000 : w->claim_idle_ms / 2;
	snprintf(w->claim_cursor, sizeof(w->claim_cursor), "0-0");
	if (redis_link_init(&w->link, cfg->redis_url, w->who, err, sizeof(err)) < 0) {
		log_errorx("%s: [redis] url %s", w->who, err);
		return -1;
	}
	struct sq_backend_params params;
	backend_params(cfg, &params);
	w->capacity = (int)backend_window(backend, &params);
	if (backend_open(&w->backend, backend, &params) < 0)
		return -1;
	w->slots = calloc((size_t)w->capacity, sizeof(*w->slots));
	w->free_slots = calloc((size_t)w->capacity, sizeof(*w->free_slots));
	if (w->slots == NULL || w->free_slots == NULL)
		return -1;
	for (int i = w->capacity - 1; i >= 0; i--)
		w->free_slots[w->nfree++] = i;
	return 0;
}

static void worker_free(struct worker *w)
{
	backend_close(&w->backend);
	for (int i = 0; w->slots != NULL && i < w->capacity; i++)
		free(w->slots[i].url);
	for (size_t i = 0; i < w->nowed; i++)
		free(w->owed[i].url);
	free(w->owed);
	free(w->slots);
	free(w->free_slots);
	free(w->checks_key);
	free(w->results_key);
	redis_link_free(&w->link);
}

static void install_signals(void)
{
	signal_set(SIGTERM, on_stop);
	signal_set(SIGINT, on_stop);
	signal_set(SIGPIPE, SIG_IGN);
	signal_set(SIGHUP, SIG_IGN);
}

/* The first connection: refused credentials end the worker, an absent Redis is waited for. */
static int first_connect(struct worker *w)
{
	bool said = false;

	while (!got_stop) {
		if (redis_link_ensure(&w->link) >= 0)
			return 0;
		if (w->link.last_error == REDIS_LINK_AUTH) {
			log_errorx("%s: Redis at %s: %s", w->who, w->link.url.shown, w->link.last_why);
			return -1;
		}
		if (!said)
			log_warnx("%s: waiting for Redis at %s: %s", w->who, w->link.url.shown,
			    w->link.last_why);
		said = true;
		clock_sleep_ms(redis_link_wait_ms(&w->link));
	}
	return -1;
}

int worker_run(const struct sq_config *cfg, const char *location, const char *backend)
{
	struct worker w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	install_signals();
	if (location == NULL)
		location = "default";
	if (worker_init(&w, cfg, location, backend) < 0) {
		worker_free(&w);
		return 1;
	}
	notify_ready();
	if (first_connect(&w) < 0) {
		worker_free(&w);
		return got_stop ? 0 : 1;
	}
	log_info("%s: taking checks from %s at %s with the %s backend, %d at a time", w.who,
	    w.checks_key, w.link.url.shown, backend, w.capacity);
	int64_t watchdog = notify_watchdog_ms();
	int64_t beat_every = watchdog > 0 ? watchdog / 2 : 10000;
	int64_t next_beat = clock_mono_ms() + beat_every, stop_at = 0;
	for (;;) {
		bool stopping = got_stop != 0;
		if (stopping && stop_at == 0) {
			stop_at = clock_mono_ms();
			log_info("%s: stopping: %d check(s) in flight finish first", w.who, w.inflight);
			notify_stopping();
		}
		if (stopping && w.inflight == 0 && w.nowed == 0)
			break;
		if (stopping && w.inflight == 0 && clock_mono_ms() - stop_at > STOP_GRACE_MS) {
			log_warnx("%s: Redis is out of reach: %zu answer(s) not written; their checks "
			    "go to another worker after claim_idle", w.who, w.nowed);
			break;
		}
		talk(&w, stopping);
		int timeout = w.inflight == 0 ? 0 :
		    w.link.c != NULL && w.nfree > 0 && !stopping ? POLL_SHORT_MS : POLL_LONG_MS;
		if (w.inflight > 0 && w.backend.ops->poll(&w.backend, timeout, on_result, &w) < 0) {
			log_errorx("%s: the %s backend failed", w.who, w.backend.ops->name);
			rc = 1;
			break;
		}
		if (w.link.c == NULL && w.inflight == 0) {
			int wait = redis_link_wait_ms(&w.link);
			clock_sleep_ms(wait > 1000 ? 1000 : wait > 0 ? wait : 50);
		}
		int64_t now = clock_mono_ms();
		if (now >= next_beat) {
			if (watchdog > 0)
				notify_watchdog();
			notify_status("location %s: %d check(s) running, %" PRIu64 " done, %" PRIu64
			    " refused", w.location, w.inflight, w.done, w.refused);
			next_beat = now + beat_every;
		}
	}
	log_info("%s: stopped after %" PRIu64 " check(s)", w.who, w.done);
	worker_free(&w);
	return rc;
}

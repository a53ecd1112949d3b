/*
 * redis_link.c - a Redis connection that comes back after Redis does (see
 * redis_link.h). Only this file and the two Redis users include hiredis.
 *
 * hiredis 0.14 neither reconnects nor times out by itself: every connect
 * has a time limit, every command a socket timeout, and after any failure
 * the context is freed and a new one made no sooner than the backoff says
 * (doubling from BACKOFF_MIN_MS to BACKOFF_MAX_MS, a quarter of jitter so
 * that many workers do not all knock at once when Redis returns).
 */
#include <ctype.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/base/clock.h"
#include "squirrel/base/log.h"
#include "squirrel/scaleout/redis_link.h"
#include "squirrel/base/urlshow.h"

#define CONNECT_TIMEOUT_MS 2000
#define COMMAND_TIMEOUT_MS 3000
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A %-decoded copy of s[0..len); NULL on a bad escape or a NUL. */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

static void seterr(char *err, size_t len, const char *url, const char *what)
{
	snprintf(err, len, "'%s': %s", url, what);
}

void redis_url_free(struct redis_url *u)
{
	free(u->host);
	free(u->path);
	free(u->user);
	if (u->password != NULL)
		explicit_bzero(u->password, strlen(u->password));
	free(u->password);
	free(u->shown);
	memset(u, 0, sizeof(*u));
}

static int parse_tcp(const char *url, const char *rest, struct redis_url *u, char *err,
    size_t errlen)
{
	const char *at = strrchr(rest, '@');
	const char *hp = rest;

	if (at != NULL) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		if (colon == NULL) {
			seterr(err, errlen, url,
			    "give user:password@ or :password@ before the host");
			return -1;
		}
		if (colon > rest && (u->user = decode(rest, (size_t)(colon - rest))) == NULL)
			goto bad_escape;
		if ((u->password = decode(colon + 1, (size_t)(at - colon - 1))) == NULL)
			goto bad_escape;
		hp = at + 1;
	}
	const char *host_end;
	if (*hp == '[') {
		host_end = strchr(hp, ']');
		if (host_end == NULL) {
			seterr(err, errlen, url, "an IPv6 address needs its closing ']'");
			return -1;
		}
		u->host = strndup(hp + 1, (size_t)(host_end - hp - 1));
		host_end++;
	} else {
		host_end = hp + strcspn(hp, ":/");
		u->host = strndup(hp, (size_t)(host_end - hp));
	}
	if (u->host == NULL)
		goto nomem;
	if (u->host[0] == '\0') {
		seterr(err, errlen, url, "no host");
		return -1;
	}
	u->port = 6379;
	const char *p = host_end;
	if (*p == ':') {
		char *end;
		errno = 0;
		long port = strtol(p + 1, &end, 10);
		if (end == p + 1 || errno != 0 || port < 1 || port > 65535 || (*end != '\0' && *end != '/')) {
			seterr(err, errlen, url, "the port is not a number from 1 to 65535");
			return -1;
		}
		u->port = (int)port;
		p = end;
	}
	if (*p == '/' && p[1] != '\0') {
		char *end;
		errno = 0;
		long db = strtol(p + 1, &end, 10);
		if (end == p + 1 || errno != 0 || *end != '\0' || db < 0 || db > 10000) {
			seterr(err, errlen, url, "the database is not a number");
			return -1;
		}
		u->db = (int)db;
	} else if (*p != '\0' && strcmp(p, "/") != 0) {
		seterr(err, errlen, url, "unexpected text after the host");
		return -1;
	}
	char shown[512];
	bool v6 = strchr(u->host, ':') != NULL;
	snprintf(shown, sizeof(shown), "redis://%s%s%s%s%s:%d/%d", u->user ? u->user : "",
	    u->user || u->password ? "@" : "", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port,
	    u->db);
	if ((u->shown = strdup(shown)) == NULL)
		goto nomem;
	return 0;
bad_escape:
	if (errno == ENOMEM)
		goto nomem;
	seterr(err, errlen, url, "a bad %-escape in the user or password");
	return -1;
nomem:
	seterr(err, errlen, url, "out of memory");
	return -1;
}

int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen)
{
	struct redis_url u;
	int rc;

	memset(&u, 0, sizeof(u));
	/*
	 * Said rather than assumed: under -fsanitize=nonnull-attribute GCC
	 * otherwise follows a NULL url past strncmp() and warns at strdup().
	 */
	if (url == NULL) {
		snprintf(err, errlen, "no Redis URL");
		return -1;
	}
	if (strncmp(url, "rediss://", 9) == 0) {
		snprintf(err, errlen, "'rediss://...': TLS to Redis is not supported by this build's "
		    "Redis library; use a unix socket, a private network, or a tunnel (stunnel, "
		    "WireGuard) to a redis:// address on loopback");
		return -1;
	}
	if (strncmp(url, "unix:", 5) == 0 && url[5] == '/') {
		u.path = strdup(url + 5);
		u.shown = strdup(url);
		rc = u.path != NULL && u.shown != NULL ? 0 : -1;
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
	} else if (strncmp(url, "redis://", 8) == 0) {
		errno = 0;
		rc = parse_tcp("redis://...", url + 8, &u, err, errlen);
	} else {
		char shown[URL_SHOWN_MAX];
		snprintf(err, errlen, "'%s' is not redis://[user:password@]host[:port][/db] or unix:/path",
		    url_shown(url, shown, sizeof(shown)));
		rc = -1;
	}
	if (rc < 0) {
		redis_url_free(&u);
		return -1;
	}
	*out = u;
	return 0;
}

int redis_link_init(struct redis_link *l, const char *url, const char *who, char *err,
    size_t errlen)
{
	memset(l, 0, sizeof(*l));
	if (redis_url_parse(url, &l->url, err, errlen) < 0)
		return -1;
	l->who = who;
	l->timeout_ms = COMMAND_TIMEOUT_MS;
	l->rng = (uint64_t)clock_wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)l;
	return 0;
}

void redis_link_free(struct redis_link *l)
{
	if (l->c != NULL)
		redisFree(l->c);
	redis_url_free(&l->url);
	memset(l, 0, sizeof(*l));
}

static struct timeval tv_of(int ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* The next wait: doubling, capped, a quarter of it random. */
static void schedule_retry(struct redis_link *l)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	l->backoff_ms = l->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
	int jitter = (int)(l->rng % (uint64_t)(l->backoff_ms / 4 + 1));
	l->next_try_ms = clock_mono_ms() + l->backoff_ms - l->backoff_ms / 8 + jitter;
}

static void close_ctx(struct redis_link *l)
{
	if (l->c != NULL)
		redisFree(l->c);
	l->c = NULL;
}

void redis_link_lost(struct redis_link *l, const char *why)
{
	close_ctx(l);
	l->last_error = REDIS_LINK_DOWN;
	snprintf(l->last_why, sizeof(l->last_why), "%s", why);
	if (l->down_since_ms == 0) {
		l->down_since_ms = clock_mono_ms();
		log_warnx("%s: lost the connection to Redis at %s: %s; reconnecting with backoff",
		    l->who, l->url.shown, why);
	}
	schedule_retry(l);
}

/* Words for an error reply of AUTH, SELECT or PING. */
static bool auth_refused(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR &&
	    (strncmp(r->str, "WRONGPASS", 9) == 0 || strncmp(r->str, "NOAUTH", 6) == 0 ||
	    strncmp(r->str, "NOPERM", 6) == 0 || strstr(r->str, "password") != NULL ||
	    strstr(r->str, "AUTH") != NULL);
}

/* One command at connect time; on failure fills last_why. 0 or -1. */
static int setup_call(struct redis_link *l, int argc, const char **argv, const char *what)
{
	redisReply *r = redisCommandArgv(l->c, argc, argv, NULL);

	if (r == NULL) {
		l->last_error = REDIS_LINK_DOWN;
		snprintf(l->last_why, sizeof(l->last_why), "%s: %s", what,
		    l->c->errstr[0] ? l->c->errstr : "no answer");
		return -1;
	}
	int rc = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		l->last_error = REDIS_LINK_AUTH;
		if (auth_refused(r))
			snprintf(l->last_why, sizeof(l->last_why), "%s refused (%.120s): check the "
			    "user and password in [redis] url (or --redis)", what, r->str);
		else
			snprintf(l->last_why, sizeof(l->last_why), "%s refused: %.160s", what, r->str);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

static int connect_now(struct redis_link *l)
{
	struct timeval tv = tv_of(CONNECT_TIMEOUT_MS);

	l->c = l->url.path != NULL ? redisConnectUnixWithTimeout(l->url.path, tv) :
	    redisConnectWithTimeout(l->url.host, l->url.port, tv);
	if (l->c == NULL || l->c->err) {
		l->last_error = REDIS_LINK_DOWN;
		snprintf(l->last_why, sizeof(l->last_why), "%s",
		    l->c != NULL ? l->c->errstr : "out of memory");
		return -1;
	}
	redisSetTimeout(l->c, tv_of(l->timeout_ms));
	if (l->url.path == NULL)
		redisEnableKeepAlive(l->c);
	if (l->url.password != NULL) {
		const char *argv[3] = { "AUTH", l->url.user ? l->url.user : l->url.password,
			l->url.password };
		if (setup_call(l, l->url.user ? 3 : 2, argv, "AUTH") < 0)
			return -1;
	}
	char db[16];
	snprintf(db, sizeof(db), "%d", l->url.db);
	const char *select[2] = { "SELECT", db };
	const char *ping[1] = { "PING" };
	/* PING surfaces a Redis that wants a password we did not give (NOAUTH). */
	if (l->url.db != 0 ? setup_call(l, 2, select, "SELECT") < 0 : setup_call(l, 1, ping, "PING") < 0)
		return -1;
	return 0;
}

int redis_link_ensure(struct redis_link *l)
{
	if (l->c != NULL)
		return 0;
	if (clock_mono_ms() < l->next_try_ms)
		return -1;
	if (connect_now(l) < 0) {
		close_ctx(l);
		/* The first failure of an outage is said; a caller that never connected says it itself. */
		if (l->connected_once && l->down_since_ms == 0) {
			log_warnx("%s: cannot reach Redis at %s: %s; retrying with backoff", l->who,
			    l->url.shown, l->last_why);
		}
		if (l->down_since_ms == 0)
			l->down_since_ms = clock_mono_ms();
		schedule_retry(l);
		return -1;
	}
	if (l->connected_once && l->down_since_ms != 0)
		log_info("%s: connected to Redis at %s again after %.1f s", l->who, l->url.shown,
		    (double)(clock_mono_ms() - l->down_since_ms) / 1000.0);
	l->connected_once = true;
	l->down_since_ms = 0;
	l->backoff_ms = 0;
	l->last_error = REDIS_LINK_OK;
	l->last_why[0] = '\0';
	return 1;
}

int redis_link_wait_ms(const struct redis_link *l)
{
	if (l->c != NULL)
		return 0;
	int64_t left = l->next_try_ms - clock_mono_ms();
	return left < 0 ? 0 : left > BACKOFF_MAX_MS * 2 ? BACKOFF_MAX_MS * 2 : (int)left;
}

void redis_link_set_block(struct redis_link *l, int block_ms)
{
	if (l->c != NULL)
		redisSetTimeout(l->c, tv_of(l->timeout_ms + (block_ms > 0 ? block_ms : 0)));
}

int redis_link_append(struct redis_link *l, const struct rw_args *a)
{
	if (l->c == NULL)
		return -1;
	if (a->overflow) {
		log_errorx("%s: a Redis command with too many arguments was not sent", l->who);
		return -1;
	}
	if (redisAppendCommandArgv(l->c, a->n, (const char **)a->v, a->len) != REDIS_OK) {
		redis_link_lost(l, l->c->errstr[0] ? l->c->errstr : "out of memory");
		return -1;
	}
	return 0;
}

int redis_link_append_argv(struct redis_link *l, int argc, const char **argv, const size_t *len)
{
	if (l->c == NULL)
		return -1;
	if (redisAppendCommandArgv(l->c, argc, argv, len) != REDIS_OK) {
		redis_link_lost(l, l->c->errstr[0] ? l->c->errstr : "out of memory");
		return -1;
	}
	return 0;
}

struct redisReply *redis_link_reply(struct redis_link *l)
{
	void *reply = NULL;

	if (l->c == NULL)
		return NULL;
	if (redisGetReply(l->c, &reply) != REDIS_OK || reply == NULL) {
		char why[160];
		snprintf(why, sizeof(why), "%s", l->c->errstr[0] ? l->c->errstr : "no answer");
		if (l->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
			snprintf(why, sizeof(why), "no answer within %d ms", l->timeout_ms);
		redis_link_lost(l, why);
		return NULL;
	}
	return reply;
}

struct redisReply *redis_link_call(struct redis_link *l, const struct rw_args *a)
{
	if (redis_link_append(l, a) < 0)
		return NULL;
	return redis_link_reply(l);
}

bool redis_reply_is_error(const struct redisReply *r, const char *code)
{
	size_t n = strlen(code);
	return r != NULL && r->type == REDIS_REPLY_ERROR && r->len >= n &&
	    strncmp(r->str, code, n) == 0;
}

int redis_group_create_append(struct redis_link *l, const char *key, const char *group)
{
	struct rw_args a;

	rw_args_init(&a);
	rw_args_add(&a, "XGROUP");
	rw_args_add(&a, "CREATE");
	rw_args_add(&a, key);
	rw_args_add(&a, group);
	rw_args_add(&a, "0");
	rw_args_add(&a, "MKSTREAM");
	return redis_link_append(l, &a);
}

int redis_group_create_reply(struct redis_link *l)
{
	redisReply *r = redis_link_reply(l);

	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR && !redis_reply_is_error(r, "BUSYGROUP")) {
		char why[300];
		snprintf(why, sizeof(why), "XGROUP CREATE refused: %.200s", r->str);
		redis_reply_free(r);
		redis_link_lost(l, why);
		return -1;
	}
	redis_reply_free(r);
	return 0;
}

void redis_reply_free(struct redisReply *r)
{
	if (r != NULL)
		freeReplyObject(r);
}

const struct redisReply *redis_entries(const struct redisReply *r, bool claim)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	if (claim) {
		if (r->elements < 2 || r->element[1]->type != REDIS_REPLY_ARRAY)
			return NULL;
		return r->element[1];
	}
	if (r->elements < 1 || r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements < 2 || r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	return r->element[0]->element[1];
}

int redis_entry(const struct redisReply *e, const char **id, size_t *idlen,
    struct rw_field *f, size_t max)
{
	if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len == 0 ||
	    e->element[0]->len > 64)
		return -1;
	*id = e->element[0]->str;
	*idlen = e->element[0]->len;
	const redisReply *fields = e->element[1];
	if (fields->type == REDIS_REPLY_NIL)
		return 0;
	if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0 ||
	    fields->elements / 2 > max)
		return -2;
	size_t n = fields->elements / 2;
	for (size_t i = 0; i < n; i++) {
		const redisReply *k = fields->element[2 * i], *v = fields->element[2 * i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			return -2;
		f[i] = (struct rw_field){ .key = k->str, .klen = k->len, .val = v->str, .vlen = v->len };
	}
	return (int)n;
}

/*
 * redis_link.h - one connection to Redis that survives Redis: the url
 * ([redis] url), connect with a time limit, AUTH (Redis ACLs), SELECT,
 * keepalive, and a reconnect with capped, jittered backoff after any
 * failure. An outage is logged once when it starts and once when it ends.
 *
 * The connection is blocking with socket timeouts: hiredis 0.14 has no
 * timeouts of its own, and both users (the coordinator backend and the
 * worker) run it from a loop that has nothing else to do while it waits
 * (see docs/scaling.md). A NULL reply means the link is gone: it is then
 * already closed and the next redis_link_ensure() reconnects when the
 * backoff allows.
 */
#ifndef SQUIRREL_REDIS_LINK_H
#define SQUIRREL_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/scaleout/redis_wire.h"

struct redisContext;
struct redisReply;

/* redis://[user:password@]host[:port][/db] or unix:/path */
struct redis_url {
	char *host;               /* NULL for a unix socket */
	int port;
	char *path;               /* the unix socket, or NULL */
	int db;
	char *user;               /* NULL: the default user */
	char *password;           /* NULL: no AUTH */
	char *shown;              /* the url for log lines, without the password */
};

/* 0, or -1 with the reason in err. The password may be %-encoded. */
int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen);
void redis_url_free(struct redis_url *u);

enum redis_link_error {
	REDIS_LINK_OK = 0,
	REDIS_LINK_DOWN,          /* cannot connect, or the connection broke */
	REDIS_LINK_AUTH,          /* Redis refused the user or password: retrying will not help */
};

struct redis_link {
	struct redis_url url;
	struct redisContext *c;
	const char *who;          /* "coordinator", "worker paris/host-123": starts log lines */
	int timeout_ms;           /* per command, on top of any BLOCK */
	int64_t next_try_ms;      /* monotonic: no attempt before */
	int backoff_ms;
	int64_t down_since_ms;    /* 0: not in an outage */
	bool connected_once;
	enum redis_link_error last_error;
	char last_why[256];
	uint64_t rng;
};

/* 0, or -1 with the reason in err (a url that cannot be read). */
int redis_link_init(struct redis_link *l, const char *url, const char *who, char *err,
    size_t errlen);
void redis_link_free(struct redis_link *l);

/*
 * Connected: returns 1 when the connection was made just now (the caller
 * then sets up its groups), 0 when it was already there; -1 when there is no
 * connection (an attempt failed or the backoff is not over: last_error and
 * last_why say why).
 */
int redis_link_ensure(struct redis_link *l);

/* Milliseconds until the next connection attempt (0 when connected or due). */
int redis_link_wait_ms(const struct redis_link *l);

/* Drops the connection after a failure (why is logged once per outage). */
void redis_link_lost(struct redis_link *l, const char *why);

/* Sets the socket timeout for the next replies (a BLOCK of block_ms plus the usual). */
void redis_link_set_block(struct redis_link *l, int block_ms);

/* Queues a command (pipelining). 0, or -1 when the link is gone. */
int redis_link_append(struct redis_link *l, const struct rw_args *a);

/* The same for a command longer than rw_args holds (XACK of many ids). */
int redis_link_append_argv(struct redis_link *l, int argc, const char **argv, const size_t *len);

/* The next reply of the queued commands, or NULL when the link is gone. */
struct redisReply *redis_link_reply(struct redis_link *l);

/* append + reply. */
struct redisReply *redis_link_call(struct redis_link *l, const struct rw_args *a);

/*
 * A consumer group on a stream, made when missing: XGROUP CREATE key group 0
 * MKSTREAM, queued (pipelining; 0, or -1 when the link is gone). Its reply:
 * 0 when the group was made or was there already (BUSYGROUP), -1 when the
 * link is gone or Redis refused (the link is then dropped, saying why).
 */
int redis_group_create_append(struct redis_link *l, const char *key, const char *group);
int redis_group_create_reply(struct redis_link *l);

/* An error reply's text starts with code ("BUSYGROUP", "NOGROUP", ...). */
bool redis_reply_is_error(const struct redisReply *r, const char *code);

void redis_reply_free(struct redisReply *r);

/*
 * The entries of an XREADGROUP reply on one stream ([[key, [entry, ...]]]),
 * or of XAUTOCLAIM ([cursor, [entry, ...], ...]) with claim true: the array
 * of entries, or NULL when there are none or the reply has another shape.
 */
const struct redisReply *redis_entries(const struct redisReply *r, bool claim);

#define REDIS_ENTRY_FIELDS_MAX 32

/*
 * One entry ([id, [field, value, ...]]): its id and up to max fields.
 * Returns the number of fields; 0 when the entry was deleted while pending
 * (Redis gives nil fields); -1 when it has no usable id (nothing to
 * acknowledge); -2 when its fields cannot be read (acknowledge, drop).
 */
int redis_entry(const struct redisReply *e, const char **id, size_t *idlen,
    struct rw_field *f, size_t max);

#endif

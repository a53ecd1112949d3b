/*
 * store.h - the SQLite database, the only module that speaks SQL: the
 * connection. What is kept in it is declared by concern beside this file:
 * sites.h (the sites table), results.h (what checks found: history, state,
 * incidents), outbox.h (alerts owed), uptime.h (the uptime figures),
 * coordinator.h (the redis coordinator's runs).
 *
 * It creates and migrates the schema (PRAGMA user_version), runs in WAL mode
 * with a busy timeout so a person editing with sqlite3 beside the daemon
 * never makes it fail, and writes results in one transaction per batch.
 */
#ifndef SQUIRREL_STORE_H
#define SQUIRREL_STORE_H

#include <stddef.h>

struct store;

enum store_flags {
	STORE_CREATE = 1 << 0,   /* create the file and schema if missing */
	STORE_READONLY = 1 << 1,
	/*
	 * The check path's own connection: a page cache of STORE_CHECK_CACHE_KB
	 * (SQLite's 2 MB default holds little of what a batch of thousands of
	 * sites touches in site_state, the hourly tier and the checks' index,
	 * so every batch read and wrote those pages again).
	 */
	STORE_CHECK_PATH = 1 << 2,
};
#define STORE_CHECK_CACHE_KB 65536

/* Opens (and creates or migrates) the database. NULL on error, logged. */
struct store *store_open(const char *path, int flags);
void store_close(struct store *s);

/*
 * Writes happen in explicit transactions: store_begin() (BEGIN IMMEDIATE,
 * waiting out other writers up to the busy timeout), then store_commit()
 * or store_rollback(). All return 0 or -1 (logged).
 */
int store_begin(struct store *s);
/*
 * Whether a write can begin at all: 0, or -1 (logged, with why) when the
 * database takes no writes (its -wal or -shm another user's, a read-only
 * file system). A lock held by another writer is not a refusal: 0.
 */
int store_check_writable(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/*
 * Whether the file at the database's path is still the one open: a person
 * may delete it or put another in its place under a running daemon.
 */
enum { STORE_FILE_SAME, STORE_FILE_DELETED, STORE_FILE_REPLACED };

/* How long a write waits for another writer's lock (default 10 s). */
void store_set_busy_timeout(struct store *s, int ms);
int store_file_status(struct store *s);
const char *store_path(const struct store *s);

/*
 * Whether the file at path is a squirrel database this build can open: an
 * SQLite file with a squirrel schema version it knows and a sites table.
 * Looked at read-only and immutable, so it changes nothing and never reads
 * a -wal left by the file it replaced. 0, or -1 with why ("an empty file,
 * with no squirrel schema"); logs nothing, the caller decides how often.
 */
int store_file_check(const char *path, char *why, size_t len);

/* The schema version this build writes. */
int store_schema_version(void);

#endif

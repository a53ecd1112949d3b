/*
 * store.h - the SQLite database, the only module that speaks SQL.
 *
 * It creates and migrates the schema (PRAGMA user_version), runs in WAL mode
 * with a busy timeout so a person editing with sqlite3 beside the daemon
 * never makes it fail, and writes results in one transaction per batch.
 */
#ifndef SQUIRREL_STORE_H
#define SQUIRREL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "squirrel/check.h"

struct store;

/* A row of sites, as stored: values may be anything a person typed. */
struct sq_site {
	int64_t id;
	char *url;
	char *owner_email;
	char *name;          /* NULL when not set */
	int interval_s;      /* 0: the configured default */
	int timeout_ms;      /* 0: the configured default */
};

struct sq_site_list {
	struct sq_site *v;
	size_t n;
	size_t skipped;      /* rows refused while loading (logged) */
};

enum store_flags {
	STORE_CREATE = 1 << 0,   /* create the file and schema if missing */
	STORE_READONLY = 1 << 1,
};

/* Opens (and creates or migrates) the database. NULL on error, logged. */
struct store *store_open(const char *path, int flags);
void store_close(struct store *s);

/*
 * Loads the enabled sites, ordered by id. Rows whose columns have the wrong
 * type are logged by id and skipped. Returns 0 or -1 (logged).
 */
int store_load_sites(struct store *s, struct sq_site_list *out);
void store_free_sites(struct sq_site_list *l);

/* Records a batch of results (history and current state) in one transaction. */
int store_record_results(struct store *s, const struct sq_result *r, size_t n);

/* The schema version this build writes. */
int store_schema_version(void);

#endif

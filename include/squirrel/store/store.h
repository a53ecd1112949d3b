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

#include "squirrel/core/check.h"
#include "squirrel/core/state.h"

struct store;

/* A row of sites, as stored: values may be anything a person typed. */
struct sq_site {
	int64_t id;
	char *url;
	char *owner_email;
	char *name;          /* NULL when not set */
	int interval_s;      /* 0: the configured default */
	int timeout_ms;      /* 0: the configured default */
	int fail_threshold;  /* 0: the configured default */
	int recover_threshold;
	int retry_interval_s;
	int remind_every_s;  /* 0: the configured default; -1: none for this site */
	int state;           /* enum sq_state, as last recorded */
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
/* Frees one row's strings (the struct itself is the caller's). */
void store_free_site(struct sq_site *site);

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
 * A site's state (zeroed for a site never checked). Returns 0, 1 when the
 * site no longer exists or was disabled (its result is then dropped: its
 * check began before), or -1.
 */
int store_load_state(struct store *s, int64_t site_id, struct sq_site_state *st);

/* One check: a history row and the site's new state. 0 or -1. */
int store_save_check(struct store *s, const struct sq_result *r, const struct sq_site_state *st);
/*
 * The same, keeping each location's answer (r->votes) in check_locations;
 * locations names them by sq_vote.location ([redis] locations, in order).
 */
int store_save_check_votes(struct store *s, const struct sq_result *r,
    const struct sq_site_state *st, const char *const *locations, int nlocations);

/* An alert in the outbox, with a copy of everything its mail needs. */
struct sq_alert_row {
	int64_t id;
	int64_t site_id;
	char *owner_email;
	char *url;
	char *name;           /* NULL when the site has none */
	int kind;             /* enum sq_alert_kind */
	char *error;
	int http_status;
	int64_t created_at;
	int64_t since;
	int64_t last_ok;
	int64_t down_for;
	int attempts;
	char *locations;      /* what each location saw (quorum_describe); NULL: one machine */
};

struct sq_alert_list {
	struct sq_alert_row *v;
	size_t n;
};

int store_queue_alert(struct store *s, const struct sq_alert_row *a);

/*
 * Pending alerts due at now (all pending ones with all = true), ordered by
 * owner then age, so one owner's alerts are next to each other.
 */
int store_outbox_due(struct store *s, int64_t now, bool all, struct sq_alert_list *out);
void store_free_alerts(struct sq_alert_list *l);

/* Marks an alert sent, failed for good, or to be retried at next_attempt. */
int store_outbox_sent(struct store *s, int64_t id, int64_t now);
int store_outbox_failed(struct store *s, int64_t id, const char *why);
int store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next_attempt,
    const char *why);

/* How many alerts wait, and how many failed for good. */
int store_outbox_counts(struct store *s, int64_t *pending, int64_t *failed);

/*
 * A counter that every INSERT, UPDATE or DELETE on sites bumps (triggers):
 * cheap to poll, so live edits are noticed without re-reading every row.
 */
int store_sites_version(struct store *s, int64_t *version);

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

/*
 * ---- Schema v3: incidents and retention ----
 *
 * Incidents are the down periods the state machine confirmed, kept for
 * good. Call these inside record's transaction, with the transition: open
 * at the DOWN alert (at = the state's since, cause = the check's error),
 * close at the UP alert. Opening while one is open, or closing when none
 * is, changes nothing. 0 or -1 (logged).
 */
int store_incident_open(struct store *s, int64_t site_id, int64_t at, const char *cause);
int store_incident_close(struct store *s, int64_t site_id, int64_t at);

/*
 * Deletes at most batch checks older than before (unix s), oldest first,
 * then, when fewer than batch were left, at most the rest of the batch of
 * the uptime rollup's hours that ended by before. Called outside a
 * transaction, each step is its own short one, so a daemon calling it
 * between passes never holds the database for long. *deleted is what went
 * (call again while it equals batch). 0 or -1 (logged).
 */
int store_prune_history(struct store *s, int64_t before, int batch, int *deleted);

/*
 * The configured [check] interval, kept in the database because uptime
 * figures cap each check's hold at twice the site's interval and the
 * rollup trigger cannot read the configuration. Call it at start and
 * after a reload. Writes only when it changed; the first call after the
 * migration to schema v3 also rolls up the older history (once; about a
 * minute per 50 million checks). 0 or -1 (logged).
 */
int store_set_default_interval(struct store *s, int interval_s);

/* The table of the redis coordinator's runs, made when missing. 0 or -1 (logged). */
int store_coordinator_runs_create(struct store *s);

/*
 * The redis coordinator's run for a stream prefix: records run (text) as
 * the latest and puts the one recorded before it in previous. Returns 1,
 * 0 when none was recorded (previous is then ""), or -1 (logged). The
 * table must exist (store_coordinator_runs_create).
 */
int store_coordinator_run(struct store *s, const char *prefix, const char *run, char *previous,
    size_t len);

#endif

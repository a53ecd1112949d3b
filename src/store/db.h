/*
 * db.h - what the files of the store share, and nobody else:
 * the connection (struct store), one way to prepare and run a statement,
 * one way to collect rows into an array, the column readers, and the SQL
 * fragments two concerns must spell alike. Only the files of src/store/
 * include it, and so sqlite3.h stays inside the store.
 */
#ifndef SQUIRREL_STORE_DB_H
#define SQUIRREL_STORE_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "squirrel/core/maintenance.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"

/*
 * The connection. The statements of the check path are prepared once, at
 * open, by the concern that runs them (store_sites_prepare, ...), and only
 * on a connection that writes.
 */
struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *insert_check;     /* results.c */
	sqlite3_stmt *upsert_state;
	sqlite3_stmt *load_state;
	sqlite3_stmt *insert_location;
	sqlite3_stmt *insert_alert;     /* outbox.c */
	int64_t last_alert_id;          /* outbox.c: the alert store_queue_alert queued last */
	sqlite3_stmt *sites_version;    /* sites.c */
	sqlite3_stmt *load_cert;        /* certs.c */
	sqlite3_stmt *save_cert;
	/* maintenance.c: the check path's copy of the windows, and when it was read */
	sqlite3_stmt *windows_version;
	struct sq_window_list windows;
	int64_t windows_seen;
	bool windows_loaded;
	struct store_tiers *tiers;      /* tiers.c: the batch's hours, the sites' latest checks */
	dev_t dev;                      /* the file opened, to notice it replaced */
	ino_t ino;
};

/* Logs "PATH: what: SQLite's last error". */
void store_error(struct store *s, const char *what);

/* Runs sql (any number of statements, no parameters). 0 or -1 (logged with what). */
int store_exec(struct store *s, const char *sql, const char *what);

/*
 * Prepares sql; flags 0 for a statement used once, STORE_KEEP for one kept
 * for the connection's life or a report's. 0 or -1 (logged with what).
 */
#define STORE_KEEP SQLITE_PREPARE_PERSISTENT
int store_prepare(struct store *s, const char *sql, unsigned flags, sqlite3_stmt **st,
    const char *what);

/*
 * Prepares sql, binds the arguments to ?1, ?2, ... as types spells them
 * ('i' an int, 'I' an int64_t, 't' a text, NULL binding NULL), runs it to
 * the end and finalizes it: for the rare writes (edits, transitions,
 * pruning). types must name exactly the statement's parameters. *changes,
 * when not NULL, gets the rows changed. 0 or -1 (logged with what).
 */
int store_run(struct store *s, const char *what, int *changes, const char *sql,
    const char *types, ...);

/*
 * Reads one row at st into elem (zeroed, size bytes): 0 kept, 1 skipped
 * (a row to leave out, said by the reader), -1 out of memory. A row not
 * kept leaves nothing allocated in elem.
 */
typedef int store_row_fn(sqlite3_stmt *st, void *elem, void *arg);

/*
 * The one row collector: steps st to the end, appending each kept row to
 * the array at *list (a typed pointer, grown as needed) and counting it in
 * *n. Neither resets nor finalizes st. 0, or -1 (logged with what, as
 * "reading the sites"): the rows read so far stay in the array for the
 * caller to free.
 */
int store_collect(struct store *s, sqlite3_stmt *st, store_row_fn *row, void *arg,
    size_t size, void *list, size_t *n, const char *what);
#define STORE_COLLECT(s, st, row, arg, l, what) \
	store_collect((s), (st), (row), (arg), sizeof(*(l)->v), &(l)->v, &(l)->n, (what))

/*
 * A column as text for a row the daemon acts on: -1 when it holds anything
 * but text (or NULL, when nullable) or when out of memory.
 */
int store_col_text(sqlite3_stmt *st, int col, bool nullable, char **out);
/*
 * A column as text for a row people read, whatever a person stored there
 * (a number reads as its digits); NULL stays NULL when nullable, else
 * becomes "". -1: out of memory.
 */
int store_col_as_text(sqlite3_stmt *st, int col, bool nullable, char **out);
/* An integer column, or def when it holds anything else. */
int64_t store_col_int(sqlite3_stmt *st, int col, int64_t def);

/* Whether this process (its effective ids) may access path so. */
bool store_may(const char *path, int mode);

/*
 * Opens path read-only and immutable ("file:...?immutable=1"): no locks,
 * no -shm, and no -wal read. 0, or -1 with *db closed (NULL).
 */
int store_open_immutable(const char *path, sqlite3 **db);

/* Brings the schema to the version this build writes (schema.c). 0 or -1. */
int store_migrate(struct store *s, bool readonly);

/* The check path's copy of the maintenance windows, let go at close (maintenance.c). */
void store_windows_close(struct store *s);

/* The statements each concern keeps for the check path, prepared at open. */
int store_sites_prepare(struct store *s);
int store_results_prepare(struct store *s);
int store_outbox_prepare(struct store *s);
int store_certs_prepare(struct store *s);

/*
 * An SQL condition true for a check of the checks table (its columns
 * prefixed by p, "" or "c.") whose verdict is unknown: too few locations
 * answered (SQ_ERR_NO_QUORUM, its code spelled out: classes.c keeps it),
 * or it failed while the monitor itself was cut off (SQ_ERR_OUTAGE).
 * Such a check is neither up nor down: it counts in no uptime and is no
 * failure. A row of schema version 8 not converted yet (class NULL,
 * convert.c) is read by its text as version 8 read it, the class name
 * alone or followed by ':', so that a library's own message that merely
 * begins with the word ("unknown option") stays a failure: the one place
 * SQL reads an old row's text.
 */
#define STORE_NO_QUORUM_CODE "20"
/* a failure while the monitor was cut off (SQ_ERR_OUTAGE): unknown too */
#define STORE_OUTAGE_CODE "31"
#define STORE_LEGACY_UNKNOWN_SQL(p) \
	"(" p "detail = 'unknown' OR substr(" p "detail, 1, 8) = 'unknown:')"
#define STORE_UNKNOWN_SQL(p) \
	"(" p "ok = 0 AND (" p "class IN (" STORE_NO_QUORUM_CODE ", " STORE_OUTAGE_CODE ")" \
	" OR (" p "class IS NULL AND " \
	STORE_LEGACY_UNKNOWN_SQL(p) ")))"

/*
 * What a check's hold counts as in the uptime figures (schema 14): 3
 * inside a maintenance window (left out of them), 2 up and slow, 1 up,
 * 0 down, -1 unknown (in none). The rollup trigger and the reader of the
 * raw checks spell it alike.
 */
#define STORE_VERDICT_SQL(p) \
	"(CASE WHEN " p "maintenance IS NOT NULL THEN 3 WHEN " p "ok AND " p "slow THEN 2" \
	" WHEN " p "ok THEN 1 WHEN " STORE_UNKNOWN_SQL(p) " THEN -1 ELSE 0 END)"

/*
 * The longest a check's verdict holds for the site whose id is the SQL
 * expression site: twice its interval (or the configured one), a day at
 * most. The hourly tier (tiers.c) and the readers (uptime.c) use it alike.
 */
#define STORE_CAP_SQL(site) \
	"min(2 * coalesce((SELECT interval_s FROM sites WHERE id = " site ")," \
	" (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)"

/*
 * The hourly tier, summed off the check path (tiers.c). At open:
 * store_tiers_register (the histogram functions, every connection),
 * store_tiers_prepare (a connection that writes). store_tiers_check, for
 * each check before its row is inserted, notes its pieces (verdict as
 * STORE_VERDICT_SQL, outcome 1 ok, 0 failed, -1 unknown) and says whether
 * it is an edge (its verdict differs from the one before). The commit
 * (db.c) flushes them into uptime_hours; a rollback forgets them.
 */
int store_tiers_register(struct store *s);
int store_tiers_prepare(struct store *s);
void store_tiers_close(struct store *s);
int store_tiers_check(struct store *s, int64_t site, int64_t when, int verdict, int outcome,
    int ms, bool *edge);
int store_tiers_flush(struct store *s, int64_t now);
/*
 * The checks recorded before version 19 (ids below `below`) added to their
 * hours' counts and response times (their holds are summed already), a
 * site at a time in time order from the cursor kept in settings
 * (backfill_site, _at, _id), about batch of them, inside the caller's
 * transaction; their recoveries marked as edges. *rows: how many. 1 when
 * more are left, 0 when all are done (backfill_below set to 0), -1.
 */
int store_tiers_backfill(struct store *s, int64_t below, int64_t batch, int64_t now,
    int64_t *rows);
void store_tiers_abort(struct store *s);
/* The sites' latest checks read again at the next check (the interval changed). */
void store_tiers_forget(struct store *s);

/* The conversion of schema version 8's rows (convert.c). */
/* Registers sq_legacy_class() and sq_legacy_detail() on the connection. 0 or -1. */
int store_convert_register(struct store *s);
/* The outbox's groups of several locations, inside the migration to version 9. 0 or -1. */
int store_convert_outbox(struct store *s);
/*
 * The error of a row as people read it, from its class (class_col), status
 * and detail: a row not converted yet (class NULL) shows its old text as
 * it is. *out is malloc'ed; -1 out of memory.
 */
int store_col_error(sqlite3_stmt *st, int class_col, int status_col, int detail_col, char **out);
/*
 * The class of an outbox row; one not converted (class NULL: written by
 * hand) is read from its detail's text, which is cut to the detail worth
 * keeping. -1 for a code this version does not know.
 */
int store_col_class(sqlite3_stmt *st, int class_col, char *detail);

/*
 * An incident's notes, oldest first (results.c): st prepared from
 * STORE_NOTES_SQL and kept by the caller (reset here), into *v and *n
 * (NULL, 0 when none). 0, or -1 (logged; nothing left allocated).
 */
struct sq_incident_note;
#define STORE_NOTES_SQL "SELECT at, text FROM incident_notes WHERE incident_id = ?1 ORDER BY at, id"
int store_notes_read(struct store *s, sqlite3_stmt *st, int64_t incident_id,
    struct sq_incident_note **v, size_t *n);
void store_notes_free(struct sq_incident_note *v, size_t n);

/*
 * A site's row as the daemon loads it: the first columns of a SELECT from
 * sites s LEFT JOIN site_state st. store_site_from_row() reads them into
 * site and returns NULL, or returns which column is wrong ("url is not
 * text"): the daemon skips such a row, and squirrelctl says so in its words.
 */
#define STORE_SITE_COLUMNS \
	"s.id, s.url, s.owner_email, s.name, s.interval_s, s.timeout_ms," \
	" s.fail_threshold, s.recover_threshold, s.retry_interval_s, s.remind_every_s, st.state," \
	" s.method, s.expect_status, s.keyword, s.keyword_mode, s.keyword_nocase," \
	" s.slow_ms, s.alert_degraded, s.depends_on, s.cert_warn_days"
#define STORE_SITE_NCOLUMNS 20

const char *store_site_from_row(sqlite3_stmt *st, struct sq_site *site);

#endif

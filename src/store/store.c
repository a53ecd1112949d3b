/*
 * store.c - the SQLite database; the only file that speaks SQL.
 *
 * The schema is versioned with PRAGMA user_version and migrated forward in
 * one transaction. The daemon's connection runs in WAL mode with a busy
 * timeout, so people can edit the sites with sqlite3 while it runs, and
 * results are written in one transaction per batch with statements prepared
 * once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/log.h"
#include "squirrel/store/store.h"
#include "store_private.h"

#define BUSY_TIMEOUT_MS 10000

/*
 * Version 1. The CHECK constraints refuse bad rows while a person types
 * them; the daemon still checks every row it loads, for databases made with
 * constraints off or by an older version.
 */
static const char schema_v1[] =
    "CREATE TABLE sites ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " url TEXT NOT NULL CHECK (typeof(url) = 'text' AND"
    "  (substr(url, 1, 7) = 'http://' OR substr(url, 1, 8) = 'https://')),"
    " owner_email TEXT NOT NULL CHECK (typeof(owner_email) = 'text' AND"
    "  instr(owner_email, '@') > 1 AND instr(owner_email, '@') < length(owner_email)),"
    " name TEXT CHECK (name IS NULL OR typeof(name) = 'text'),"
    " enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
    " interval_s INTEGER CHECK (interval_s IS NULL OR"
    "  (typeof(interval_s) = 'integer' AND interval_s > 0)),"
    " timeout_ms INTEGER CHECK (timeout_ms IS NULL OR"
    "  (typeof(timeout_ms) = 'integer' AND timeout_ms > 0)),"
    " created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))"
    ");"
    "CREATE TABLE site_state ("
    " site_id INTEGER PRIMARY KEY,"
    " state TEXT NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),"
    " since INTEGER,"
    " last_check INTEGER,"
    " last_ok INTEGER,"
    " last_status INTEGER,"
    " last_ms INTEGER,"
    " last_error TEXT,"
    " fail_count INTEGER NOT NULL DEFAULT 0,"
    " ok_count INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE checks ("
    " id INTEGER PRIMARY KEY,"
    " site_id INTEGER NOT NULL,"
    " checked_at INTEGER NOT NULL,"
    " ok INTEGER NOT NULL CHECK (ok IN (0, 1)),"
    " http_status INTEGER NOT NULL,"
    " ms INTEGER NOT NULL,"
    " error TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX checks_site_time ON checks (site_id, checked_at);"
    /* A site deleted with sqlite3 takes its current state with it. */
    "CREATE TRIGGER sites_delete_state AFTER DELETE ON sites BEGIN"
    " DELETE FROM site_state WHERE site_id = old.id;"
    " END;";

/*
 * Version 2: the alert settings per site (NULL: the configured default),
 * what the state machine keeps, and the outbox. An alert row carries a copy
 * of what the mail needs, so deleting a site cannot lose an alert it owes.
 */
static const char schema_v2[] =
    "ALTER TABLE sites ADD COLUMN fail_threshold INTEGER CHECK (fail_threshold IS NULL OR"
    "  (typeof(fail_threshold) = 'integer' AND fail_threshold > 0));"
    "ALTER TABLE sites ADD COLUMN recover_threshold INTEGER CHECK (recover_threshold IS NULL OR"
    "  (typeof(recover_threshold) = 'integer' AND recover_threshold > 0));"
    "ALTER TABLE sites ADD COLUMN retry_interval_s INTEGER CHECK (retry_interval_s IS NULL OR"
    "  (typeof(retry_interval_s) = 'integer' AND retry_interval_s > 0));"
    "ALTER TABLE sites ADD COLUMN remind_every_s INTEGER CHECK (remind_every_s IS NULL OR"
    "  (typeof(remind_every_s) = 'integer' AND remind_every_s >= 0));"
    "ALTER TABLE site_state ADD COLUMN last_alert INTEGER;"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " site_id INTEGER NOT NULL,"
    " owner_email TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('down', 'up', 'reminder')),"
    " created_at INTEGER NOT NULL,"
    " url TEXT NOT NULL,"
    " name TEXT,"
    " error TEXT NOT NULL DEFAULT '',"
    " http_status INTEGER NOT NULL DEFAULT 0,"
    " since INTEGER NOT NULL DEFAULT 0,"
    " last_ok INTEGER NOT NULL DEFAULT 0,"
    " down_for INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " sent_at INTEGER"
    ");"
    "CREATE INDEX outbox_pending ON outbox (status, next_attempt);"
    /*
     * A change counter kept by triggers: the daemon polls one row to learn
     * that someone edited the sites, instead of re-reading them all.
     */
    "CREATE TABLE sites_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);"
    "INSERT INTO sites_version VALUES (1, 0);"
    "CREATE TRIGGER sites_version_insert AFTER INSERT ON sites BEGIN"
    " UPDATE sites_version SET version = version + 1; END;"
    "CREATE TRIGGER sites_version_update AFTER UPDATE ON sites BEGIN"
    " UPDATE sites_version SET version = version + 1; END;"
    "CREATE TRIGGER sites_version_delete AFTER DELETE ON sites BEGIN"
    " UPDATE sites_version SET version = version + 1; END;";

/*
 * Version 3: incidents, the uptime rollup, and what pruning needs.
 *
 * An incident is a down period as the state machine saw it (opened by the
 * DOWN transition, closed by the UP one) and is kept for good, whatever
 * the history retention.
 *
 * Uptime is time-weighted: each check's verdict holds until the next check
 * of its site, but never longer than twice the site's interval (the site's
 * interval_s, else settings.default_interval_s), and never more than a
 * day; time no check covers (the daemon stopped, the site disabled) counts
 * neither up nor down. Summing that over a year of checks at every read
 * would be far too slow, so a trigger adds each hold to uptime_hours when
 * the next check arrives, cut at hour boundaries (hour_steps numbers the
 * hours a hold can touch: a trigger cannot use a recursive CTE). The
 * latest check's hold is still open and is added by the reader.
 *
 * The history recorded before this version is rolled up once, but not
 * here: its holds are capped with the configured interval, which only the
 * caller knows. The migration notes where that history ends
 * (settings.rollup_backfill_below, a checks id), and the first
 * store_set_default_interval() rolls it up (rollup_backfill below).
 *
 * site_counters are checks and failures per site that never go down when
 * history is pruned, for the metrics' counters.
 */
static const char schema_v3[] =
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " site_id INTEGER NOT NULL,"
    " started_at INTEGER NOT NULL,"
    " ended_at INTEGER,"
    " cause TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX incidents_site ON incidents (site_id, started_at);"
    /* at most one open incident per site */
    "CREATE UNIQUE INDEX incidents_open ON incidents (site_id) WHERE ended_at IS NULL;"
    "INSERT INTO incidents (site_id, started_at, cause)"
    " SELECT site_id, coalesce(since, last_check, 0), coalesce(last_error, '')"
    " FROM site_state WHERE state = 'down';"
    /* pruning finds the oldest rows without scanning the table */
    "CREATE INDEX checks_time ON checks (checked_at);"
    /*
     * A site's history in time order with its verdict and response time,
     * so the rollup trigger, the figures and the roll-up of older history
     * read the index alone (two and a half times faster on a year of
     * checks than looking each row up); it replaces (site_id, checked_at).
     */
    "CREATE INDEX checks_site_time_ok_ms ON checks (site_id, checked_at, ok, ms);"
    "DROP INDEX IF EXISTS checks_site_time;"
    "CREATE TABLE settings ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " default_interval_s INTEGER NOT NULL DEFAULT 60 CHECK (typeof(default_interval_s) = 'integer'"
    "  AND default_interval_s > 0),"
    " rollup_backfill_below INTEGER NOT NULL DEFAULT 0"
    ");"
    "INSERT INTO settings (id, rollup_backfill_below)"
    " SELECT 1, coalesce(max(id) + 1, 0) FROM checks;"
    "CREATE TABLE hour_steps (n INTEGER PRIMARY KEY);"
    "INSERT INTO hour_steps (n) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10),"
    " (11), (12), (13), (14), (15), (16), (17), (18), (19), (20), (21), (22), (23), (24);"
    "CREATE TABLE uptime_hours ("
    " site_id INTEGER NOT NULL,"
    " hour INTEGER NOT NULL,"
    " up_s INTEGER NOT NULL DEFAULT 0,"
    " down_s INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (site_id, hour)"
    ") WITHOUT ROWID;"
    "CREATE INDEX uptime_hours_hour ON uptime_hours (hour);"
    "CREATE TRIGGER checks_uptime AFTER INSERT ON checks"
    " WHEN NOT EXISTS (SELECT 1 FROM checks WHERE site_id = new.site_id"
    "  AND checked_at > new.checked_at)"
    " BEGIN"
    " INSERT INTO uptime_hours (site_id, hour, up_s, down_s)"
    "  SELECT new.site_id, h, CASE WHEN ok THEN piece ELSE 0 END, CASE WHEN ok THEN 0 ELSE piece END"
    "  FROM (SELECT p.ok, (p.t0 / 3600 + k.n) * 3600 AS h,"
    "    min(p.t1, (p.t0 / 3600 + k.n) * 3600 + 3600) - max(p.t0, (p.t0 / 3600 + k.n) * 3600) AS piece"
    "   FROM (SELECT c.ok, c.checked_at AS t0, c.checked_at + min(new.checked_at - c.checked_at,"
    "      min(2 * coalesce((SELECT interval_s FROM sites WHERE id = new.site_id),"
    "       (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)) AS t1"
    "    FROM checks c WHERE c.site_id = new.site_id AND c.checked_at <= new.checked_at"
    "     AND c.id <> new.id ORDER BY c.checked_at DESC, c.id DESC LIMIT 1) p"
    "   JOIN hour_steps k ON k.n <= (p.t1 - 1) / 3600 - p.t0 / 3600)"
    "  WHERE piece > 0"
    "  ON CONFLICT (site_id, hour) DO UPDATE SET up_s = up_s + excluded.up_s,"
    "   down_s = down_s + excluded.down_s;"
    " END;"
    "CREATE TABLE site_counters ("
    " site_id INTEGER PRIMARY KEY,"
    " checks INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0"
    ");"
    "INSERT INTO site_counters (site_id, checks, failures)"
    " SELECT site_id, count(*), count(*) FILTER (WHERE ok = 0) FROM checks GROUP BY site_id;"
    "CREATE TRIGGER checks_count AFTER INSERT ON checks BEGIN"
    " INSERT INTO site_counters (site_id, checks, failures) VALUES (new.site_id, 1, new.ok = 0)"
    "  ON CONFLICT (site_id) DO UPDATE SET checks = checks + 1,"
    "   failures = failures + excluded.failures;"
    " END;"
    "CREATE TRIGGER sites_delete_counters AFTER DELETE ON sites BEGIN"
    " DELETE FROM site_counters WHERE site_id = old.id;"
    " END;";

/*
 * Version 4: a check whose verdict is unknown (too few locations answered,
 * redis) is neither up nor down. Its hold, until the next check, counts in
 * no uptime, like time no check covers, and it is no failure in
 * site_counters (it is still a check). The previous check's hold still
 * ends where it arrives: that verdict is no fresher than it was. The two
 * triggers of version 3 are replaced; what they already summed stays as it
 * is (counters never go down, and unknown verdicts are newer than any
 * released history).
 */
static const char schema_v4[] =
    "DROP TRIGGER checks_uptime;"
    "CREATE TRIGGER checks_uptime AFTER INSERT ON checks"
    " WHEN NOT EXISTS (SELECT 1 FROM checks WHERE site_id = new.site_id"
    "  AND checked_at > new.checked_at)"
    " BEGIN"
    " INSERT INTO uptime_hours (site_id, hour, up_s, down_s)"
    "  SELECT new.site_id, h, CASE WHEN ok THEN piece ELSE 0 END, CASE WHEN ok THEN 0 ELSE piece END"
    "  FROM (SELECT p.ok, (p.t0 / 3600 + k.n) * 3600 AS h,"
    "    min(p.t1, (p.t0 / 3600 + k.n) * 3600 + 3600) - max(p.t0, (p.t0 / 3600 + k.n) * 3600) AS piece"
    "   FROM (SELECT c.ok, " STORE_UNKNOWN_SQL("c.") " AS unknown, c.checked_at AS t0,"
    "     c.checked_at + min(new.checked_at - c.checked_at,"
    "      min(2 * coalesce((SELECT interval_s FROM sites WHERE id = new.site_id),"
    "       (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)) AS t1"
    "    FROM checks c WHERE c.site_id = new.site_id AND c.checked_at <= new.checked_at"
    "     AND c.id <> new.id ORDER BY c.checked_at DESC, c.id DESC LIMIT 1) p"
    "   JOIN hour_steps k ON k.n <= (p.t1 - 1) / 3600 - p.t0 / 3600"
    "   WHERE NOT p.unknown)"
    "  WHERE piece > 0"
    "  ON CONFLICT (site_id, hour) DO UPDATE SET up_s = up_s + excluded.up_s,"
    "   down_s = down_s + excluded.down_s;"
    " END;"
    "DROP TRIGGER checks_count;"
    "CREATE TRIGGER checks_count AFTER INSERT ON checks BEGIN"
    " INSERT INTO site_counters (site_id, checks, failures)"
    "  VALUES (new.site_id, 1, new.ok = 0 AND NOT " STORE_UNKNOWN_SQL("new.") ")"
    "  ON CONFLICT (site_id) DO UPDATE SET checks = checks + 1,"
    "   failures = failures + excluded.failures;"
    " END;";

/*
 * Version 5: which location produced each result (redis). A verdict of
 * several locations keeps each one's answer, keyed by its check; a
 * single-machine check has none. They go with their check when history is
 * pruned or edited away.
 */
static const char schema_v5[] =
    "CREATE TABLE check_locations ("
    " check_id INTEGER NOT NULL,"
    " location TEXT NOT NULL,"
    " ok INTEGER NOT NULL CHECK (ok IN (0, 1)),"
    " http_status INTEGER NOT NULL,"
    " ms INTEGER NOT NULL,"
    " error TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (check_id, location)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER checks_delete_locations AFTER DELETE ON checks BEGIN"
    " DELETE FROM check_locations WHERE check_id = old.id;"
    " END;";

/*
 * Version 6: an alert of several locations' verdict says what each one saw
 * ("down from 2 of 3 locations: b http 503, c timeout; a answered 200");
 * NULL for a single-machine check.
 */
static const char schema_v6[] =
    "ALTER TABLE outbox ADD COLUMN locations TEXT;";

/*
 * Version 7: an outage begins at the first failed check of the run that
 * confirmed it, not at the confirming check. The state machine keeps that
 * run's start between checks (fail_since; NULL when the last verdict was
 * good). A run under way at the migration is dated from the history: its
 * first failure after the last good check, unknown verdicts left out.
 *
 * A site nobody will check again ends its open incident: removed (with
 * squirrelctl or DELETE in sqlite3) or disabled, at that moment. The
 * incident stays, like every ended one. A disabled site also forgets its
 * state, so that enabled again it starts afresh, as a new site: an outage
 * seen then is a new one, with its alert and its incident, and no UP alert
 * comes for an incident already ended. Incidents left open by sites
 * removed or disabled before this version end at their site's last check,
 * the last time anyone saw them down.
 */
#define STATE_FORGET_SQL \
    "UPDATE site_state SET state = 'unknown', since = NULL, fail_count = 0, ok_count = 0," \
    " fail_since = NULL, last_alert = NULL"
#define INCIDENT_END_NOW_SQL \
    " UPDATE incidents SET ended_at = max(CAST(strftime('%s', 'now') AS INTEGER), started_at)" \
    "  WHERE site_id = old.id AND ended_at IS NULL;"

static const char schema_v7[] =
    "ALTER TABLE site_state ADD COLUMN fail_since INTEGER;"
    "UPDATE site_state SET fail_since = coalesce((SELECT min(c.checked_at) FROM checks c"
    "  WHERE c.site_id = site_state.site_id AND c.ok = 0 AND NOT " STORE_UNKNOWN_SQL("c.")
    "  AND c.checked_at > coalesce((SELECT max(g.checked_at) FROM checks g"
    "   WHERE g.site_id = site_state.site_id AND g.ok = 1), 0)), last_check)"
    " WHERE fail_count > 0;"
    "CREATE TRIGGER sites_delete_incident AFTER DELETE ON sites BEGIN"
    INCIDENT_END_NOW_SQL
    " END;"
    "CREATE TRIGGER sites_disable_incident AFTER UPDATE OF enabled ON sites"
    " WHEN old.enabled IS NOT 0 AND new.enabled IS 0 BEGIN"
    INCIDENT_END_NOW_SQL
    " " STATE_FORGET_SQL " WHERE site_id = old.id;"
    " END;"
    "UPDATE incidents SET ended_at = max(started_at, coalesce((SELECT max(c.checked_at)"
    "  FROM checks c WHERE c.site_id = incidents.site_id), started_at))"
    " WHERE ended_at IS NULL AND site_id NOT IN (SELECT id FROM sites WHERE enabled IS NOT 0);"
    STATE_FORGET_SQL " WHERE site_id IN (SELECT id FROM sites WHERE enabled IS 0);";

/*
 * Version 8: a per-site timeout stops at SQ_TIMEOUT_MAX_MS (10 minutes),
 * the longest every backend and Redis worker runs. A CHECK would need the
 * table rebuilt; triggers refuse the row as firmly. A row already over it
 * is skipped with its reason (sites_skip_reason), never changed here.
 */
#define TIMEOUT_MAX_SQL \
    " WHEN typeof(new.timeout_ms) = 'integer' AND new.timeout_ms > 600000 BEGIN" \
    " SELECT RAISE(ABORT, 'timeout_ms is over the maximum of 600000 (10 minutes)');" \
    " END;"
_Static_assert(SQ_TIMEOUT_MAX_MS == 600000, "schema version 8 spells the maximum out");

static const char schema_v8[] =
    "CREATE TRIGGER IF NOT EXISTS sites_timeout_max_insert BEFORE INSERT ON sites"
    TIMEOUT_MAX_SQL
    "CREATE TRIGGER IF NOT EXISTS sites_timeout_max_update BEFORE UPDATE OF timeout_ms ON sites"
    TIMEOUT_MAX_SQL;

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
	schema_v8,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *insert_check;
	sqlite3_stmt *upsert_state;
	sqlite3_stmt *load_state;
	sqlite3_stmt *insert_alert;
	sqlite3_stmt *sites_version;
	sqlite3_stmt *insert_location;
	dev_t dev;                  /* the file opened, to notice it replaced */
	ino_t ino;
};

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

static void db_error(struct store *s, const char *what)
{
	log_errorx("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_errorx("%s: %s: %s", s->path, what, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int query_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	}
	if (rc < 0)
		db_error(s, sql);
	sqlite3_finalize(st);
	return rc;
}

/* Whether this process (its effective ids) may access path so. */
static bool may(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0;
}

/* The directory path is in ("." for a bare name). */
static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* "(mode 0444, owner uid 0; running as uid 65534)": whose a file is, and who asks. */
static void owner_text(const struct stat *sb, char *out, size_t len)
{
	snprintf(out, len, "(mode %04o, owner uid %u; running as uid %u)",
	    (unsigned)(sb->st_mode & 07777), (unsigned)sb->st_uid, (unsigned)geteuid());
}

/*
 * Why the database at path cannot be opened (or written, with write), in
 * words a person can act on; SQLite itself says only "unable to open
 * database file" or "attempt to write a readonly database". Looks at the
 * directory and the file as this process sees them; err is the errno
 * SQLite saw (sqlite3_system_errno), or 0. Leaves why empty when it finds
 * nothing wrong with either.
 */
static void explain_access(const char *path, bool write, bool create, int err, char *why,
    size_t len)
{
	char dir[PATH_MAX], who[96];
	struct stat sb;

	why[0] = '\0';
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &sb) < 0) {
		if (errno == ENOENT)
			snprintf(why, len, "the directory %s does not exist", dir);
		else
			snprintf(why, len, "the directory %s cannot be reached: %s", dir, strerror(errno));
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return;
	}
	owner_text(&sb, who, sizeof(who));
	if (stat(path, &sb) < 0) {
		if (errno == ENOENT && create && !may(dir, W_OK | X_OK))
			snprintf(why, len, "this user may not write in the directory %s %s", dir, who);
		else if (errno == EACCES)
			snprintf(why, len, "permission denied: this user may not search the directory "
			    "%s %s", dir, who);
		else
			snprintf(why, len, "%s", strerror(errno));
		return;
	}
	if (!may(path, R_OK)) {
		owner_text(&sb, who, sizeof(who));
		snprintf(why, len, "permission denied: this user may not read it %s", who);
	} else if (write && !may(path, W_OK)) {
		owner_text(&sb, who, sizeof(who));
		snprintf(why, len, "this user may only read it %s", who);
	} else if (write && !may(dir, W_OK | X_OK)) {
		snprintf(why, len, "this user may not write in the directory %s %s, where SQLite "
		    "keeps the database's -wal and -shm files", dir, who);
	} else if (err != 0) {
		snprintf(why, len, "%s", strerror(err));
	}
}

/*
 * Logs why the database cannot be used as asked (what: "cannot open the
 * database"), with SQLite's errno when its last error was about the file.
 */
static void access_error(struct store *s, const char *what, bool write, bool create)
{
	char why[PATH_MAX + 256];
	int code = s->db != NULL ? sqlite3_errcode(s->db) & 0xff : SQLITE_NOMEM;
	bool file = code == SQLITE_CANTOPEN || code == SQLITE_IOERR || code == SQLITE_READONLY ||
	    code == SQLITE_PERM;

	explain_access(s->path, write, create, file ? sqlite3_system_errno(s->db) : 0, why,
	    sizeof(why));
	log_errorx("%s: %s: %s", s->path, what, why[0] != '\0' ? why :
	    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
}

/* Brings the schema to SCHEMA_VERSION, all steps in one transaction. */
static int store_migrate(struct store *s, bool readonly)
{
	int version, tables;

	if (query_int(s, "PRAGMA user_version", &version) < 0)
		return -1;
	if (version == SCHEMA_VERSION)
		return 0;
	if (version > SCHEMA_VERSION) {
		log_errorx("%s: schema version %d is newer than this squirrel knows (%d); "
		    "use a newer squirrel", s->path, version, SCHEMA_VERSION);
		return -1;
	}
	if (readonly) {
		if (!may(s->path, W_OK))
			log_errorx("%s: schema version %d needs migrating to %d, and this user (uid %u) "
			    "may only read it; run 'squirrelctl init' or squirreld once as a user that "
			    "may write it", s->path, version, SCHEMA_VERSION, (unsigned)geteuid());
		else
			log_errorx("%s: schema version %d needs migrating to %d, which a reading command "
			    "does not do; run 'squirrelctl init' or squirreld once to migrate it", s->path,
			    version, SCHEMA_VERSION);
		return -1;
	}
	if (exec(s, "BEGIN IMMEDIATE", "starting the schema migration") < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (query_int(s, "PRAGMA user_version", &version) < 0)
		goto fail;
	if (version == 0) {
		if (query_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 'sites'", &tables) < 0)
			goto fail;
		if (tables != 0) {
			log_errorx("%s: holds a 'sites' table but no squirrel schema version; "
			    "not a squirrel database, or one made by hand", s->path);
			goto fail;
		}
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		char what[64], pragma[64];
		snprintf(what, sizeof(what), "migrating the schema to version %d", v + 1);
		if (exec(s, migrations[v], what) < 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (exec(s, pragma, what) < 0)
			goto fail;
	}
	if (exec(s, "COMMIT", "committing the schema migration") < 0)
		goto fail;
	if (version != 0)
		log_info("%s: schema migrated from version %d to %d", s->path, version, SCHEMA_VERSION);
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int prepare(struct store *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		db_error(s, "preparing a statement");
		return -1;
	}
	return 0;
}

static int store_prepare(struct store *s)
{
	if (prepare(s, &s->insert_check,
	    "INSERT INTO checks (site_id, checked_at, ok, http_status, ms, error)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)") < 0)
		return -1;
	if (prepare(s, &s->upsert_state,
	    "INSERT INTO site_state (site_id, last_check, last_status, last_ms, last_error,"
	    "  state, since, fail_count, ok_count, last_ok, last_alert, fail_since)"
	    " VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, nullif(?13, 0))"
	    " ON CONFLICT (site_id) DO UPDATE SET"
	    "  last_check = excluded.last_check, last_status = excluded.last_status,"
	    "  last_ms = excluded.last_ms, last_error = excluded.last_error,"
	    "  state = excluded.state, since = excluded.since,"
	    "  fail_count = excluded.fail_count, ok_count = excluded.ok_count,"
	    "  last_ok = excluded.last_ok, last_alert = excluded.last_alert,"
	    "  fail_since = excluded.fail_since") < 0)
		return -1;
	if (prepare(s, &s->load_state,
	    "SELECT st.state, st.since, st.fail_count, st.ok_count, st.last_ok, st.last_alert,"
	    "  st.fail_since FROM sites s LEFT JOIN site_state st ON st.site_id = s.id"
	    " WHERE s.id = ?1 AND s.enabled IS NOT 0") < 0)
		return -1;
	if (prepare(s, &s->insert_alert,
	    "INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, error,"
	    "  http_status, since, last_ok, down_for, next_attempt, locations)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?4, ?12)") < 0)
		return -1;
	if (prepare(s, &s->sites_version, "SELECT version FROM sites_version WHERE id = 1") < 0)
		return -1;
	if (prepare(s, &s->insert_location,
	    "INSERT OR REPLACE INTO check_locations (check_id, location, ok, http_status, ms, error)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)") < 0)
		return -1;
	return 0;
}

/* Whether the database's write-ahead log is absent or empty: the file holds it all. */
static bool wal_empty(const char *path)
{
	char wal[PATH_MAX];
	struct stat sb;

	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return false;
	if (stat(wal, &sb) < 0)
		return errno == ENOENT;
	return sb.st_size == 0;
}

/*
 * Opens path read-only and immutable ("file:...?immutable=1"): no locks,
 * no -shm, and no -wal read. 0, or -1 with *db closed (NULL).
 */
static int open_immutable(const char *path, sqlite3 **db)
{
	static const char keep[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._~-";
	size_t n = strlen(path);
	char *uri = malloc(n * 3 + sizeof("file:?immutable=1"));
	char *p = uri;
	int rc;

	*db = NULL;
	if (uri == NULL)
		return -1;
	p += sprintf(p, "file:");
	for (const char *c = path; *c != '\0'; c++) {
		if (strchr(keep, *c) != NULL)
			*p++ = *c;
		else
			p += sprintf(p, "%%%02X", (unsigned char)*c);
	}
	strcpy(p, "?immutable=1");
	rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(*db, 1);
	return 0;
}

/* Opens path again, read-only and immutable. */
static int reopen_immutable(struct store *s)
{
	sqlite3_close(s->db);
	s->db = NULL;
	return open_immutable(s->path, &s->db);
}

/*
 * The first read, which is where SQLite finds out what the file is. A
 * reader of a WAL database needs its -shm file and creates it when it is
 * missing, which a user who may only read the database and its directory
 * cannot do (SQLITE_READONLY_DIRECTORY). With no write-ahead log beside it
 * the file holds the whole database, and a reading command opens it
 * immutable instead: no locks and no -shm. A daemon that starts meanwhile
 * writes into a new -wal, not into the file, until a checkpoint, which a
 * command of milliseconds does not live to see.
 */
static int first_read(struct store *s, bool readonly)
{
	static const char sql[] = "SELECT count(*) FROM sqlite_master";
	int rc;

	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	rc = sqlite3_extended_errcode(s->db);
	bool no_shm = rc == SQLITE_READONLY_DIRECTORY || rc == SQLITE_READONLY_CANTINIT ||
	    (rc & 0xff) == SQLITE_CANTOPEN;
	if (readonly && no_shm && wal_empty(s->path)) {
		if (reopen_immutable(s) == 0 && sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
			return 0;
		rc = s->db != NULL ? sqlite3_extended_errcode(s->db) : SQLITE_NOMEM;
	} else if (readonly && no_shm && may(s->path, R_OK)) {
		char dir[PATH_MAX];
		dir_of(s->path, dir, sizeof(dir));
		log_errorx("%s: cannot read the database: its write-ahead log %s-wal holds writes "
		    "not yet in the file, and reading them takes a %s-shm file that this user "
		    "(uid %u) may not create in %s; start squirreld, which folds the log into "
		    "the file, or read as a user that may write there", s->path, s->path, s->path,
		    (unsigned)geteuid(), dir);
		return -1;
	}
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
		db_error(s, "not a usable SQLite database");
	else
		access_error(s, "cannot read the database", !readonly, false);
	return -1;
}

struct store *store_open(const char *path, int flags)
{
	struct store *s = calloc(1, sizeof(*s));
	bool readonly = (flags & STORE_READONLY) != 0;
	int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	struct stat sb;

	if (s == NULL || (s->path = strdup(path)) == NULL) {
		log_errorx("%s: out of memory", path);
		free(s);
		return NULL;
	}
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT || !(flags & STORE_CREATE)) {
			access_error(s, "cannot open the database", !readonly, false);
			goto fail;
		}
		oflags |= SQLITE_OPEN_CREATE;
	} else if (!S_ISREG(sb.st_mode)) {
		log_errorx("%s: not a regular file", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		access_error(s, (oflags & SQLITE_OPEN_CREATE) ? "cannot create the database" :
		    "cannot open the database", !readonly, (oflags & SQLITE_OPEN_CREATE) != 0);
		goto fail;
	}
	/* SQLite opens a file it may not write read-only, and says so only at the first write */
	if (!readonly && sqlite3_db_readonly(s->db, "main") == 1) {
		access_error(s, "cannot write the database", true, false);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* A file that is not a database fails at the first read: say so plainly. */
	if (first_read(s, readonly) < 0)
		goto fail;
	if (!readonly) {
		if (exec(s, "PRAGMA journal_mode = WAL", "enabling WAL") < 0 ||
		    exec(s, "PRAGMA synchronous = FULL", "setting synchronous") < 0)
			goto fail;
	}
	if (store_migrate(s, readonly) < 0)
		goto fail;
	if (stat(path, &sb) == 0) {
		s->dev = sb.st_dev;
		s->ino = sb.st_ino;
	}
	if (!readonly && store_prepare(s) < 0)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->insert_check);
	sqlite3_finalize(s->upsert_state);
	sqlite3_finalize(s->load_state);
	sqlite3_finalize(s->insert_alert);
	sqlite3_finalize(s->sites_version);
	sqlite3_finalize(s->insert_location);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* Copies a text column, or fails when the column holds something else. */
static int column_text(sqlite3_stmt *st, int col, bool nullable, char **out)
{
	int type = sqlite3_column_type(st, col);
	*out = NULL;
	if (type == SQLITE_NULL && nullable)
		return 0;
	if (type != SQLITE_TEXT)
		return -1;
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	if (t == NULL || memchr(t, '\0', (size_t)n) != NULL)
		return -1;
	*out = strdup((const char *)t);
	return *out == NULL ? -1 : 0;
}

static int column_positive(sqlite3_stmt *st, int col, int *out)
{
	int type = sqlite3_column_type(st, col);
	*out = 0;
	if (type == SQLITE_NULL)
		return 0;
	if (type != SQLITE_INTEGER)
		return -1;
	sqlite3_int64 v = sqlite3_column_int64(st, col);
	if (v <= 0 || v > INT32_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

void store_free_site(struct sq_site *site)
{
	free(site->url);
	free(site->owner_email);
	free(site->name);
}

/* Fills site from a row (STORE_SITE_COLUMNS first), or says which column is wrong. */
const char *store_site_from_row(sqlite3_stmt *st, struct sq_site *site)
{
	memset(site, 0, sizeof(*site));
	site->id = sqlite3_column_int64(st, 0);
	if (column_text(st, 1, false, &site->url) < 0)
		return "url is not text";
	if (column_text(st, 2, false, &site->owner_email) < 0)
		return "owner_email is not text";
	if (column_text(st, 3, true, &site->name) < 0)
		return "name is not text";
	if (column_positive(st, 4, &site->interval_s) < 0)
		return "interval_s is not a positive whole number";
	if (column_positive(st, 5, &site->timeout_ms) < 0)
		return "timeout_ms is not a positive whole number";
	if (column_positive(st, 6, &site->fail_threshold) < 0)
		return "fail_threshold is not a positive whole number";
	if (column_positive(st, 7, &site->recover_threshold) < 0)
		return "recover_threshold is not a positive whole number";
	if (column_positive(st, 8, &site->retry_interval_s) < 0)
		return "retry_interval_s is not a positive whole number";
	/* remind_every_s may be 0 (no reminders for this site): store it as -1+1 */
	if (sqlite3_column_type(st, 9) == SQLITE_INTEGER && sqlite3_column_int64(st, 9) == 0)
		site->remind_every_s = -1;
	else if (column_positive(st, 9, &site->remind_every_s) < 0)
		return "remind_every_s is not a whole number of seconds";
	const unsigned char *state = sqlite3_column_text(st, 10);
	int parsed = state != NULL ? state_parse((const char *)state) : -1;
	site->state = parsed < 0 ? SQ_STATE_UNKNOWN : parsed;
	return NULL;
}

int store_load_sites(struct store *s, struct sq_site_list *out)
{
	sqlite3_stmt *st = NULL;
	struct sq_site_list l = { NULL, 0, 0 };
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	    "SELECT " STORE_SITE_COLUMNS " FROM sites s LEFT JOIN site_state st ON st.site_id = s.id"
	    " WHERE s.enabled IS NOT 0 ORDER BY s.id", -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "reading the sites");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sq_site site;
		const char *bad = store_site_from_row(st, &site);
		if (bad != NULL) {
			log_warnx("site %" PRId64 ": skipped: %s", site.id, bad);
			store_free_site(&site);
			l.skipped++;
			continue;
		}
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct sq_site *nv = realloc(l.v, ncap * sizeof(*nv));
			if (nv == NULL) {
				store_free_site(&site);
				log_errorx("%s: out of memory loading sites", s->path);
				rc = SQLITE_NOMEM;
				break;
			}
			l.v = nv;
			cap = ncap;
		}
		l.v[l.n++] = site;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_NOMEM)
			db_error(s, "reading the sites");
		store_free_sites(&l);
		return -1;
	}
	*out = l;
	return 0;
}

void store_free_sites(struct sq_site_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_free_site(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int store_begin(struct store *s)
{
	return exec(s, "BEGIN IMMEDIATE", "starting a write");
}

int store_commit(struct store *s)
{
	if (exec(s, "COMMIT", "committing") < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Why a database that opened for writing refuses writes: most often its
 * -wal or -shm file belongs to another user (left by a process of theirs
 * still running, or killed), which SQLite opens read-only without a word.
 */
static void explain_readonly(struct store *s, char *why, size_t len)
{
	static const char *const suffix[] = { "-wal", "-shm" };
	char side[PATH_MAX], who[96];
	struct stat sb;

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(side, sizeof(side), "%s%s", s->path, suffix[i]) >= sizeof(side))
			continue;
		if (stat(side, &sb) == 0 && !may(side, W_OK)) {
			owner_text(&sb, who, sizeof(who));
			snprintf(why, len, "this user may not write its %s %s", side, who);
			return;
		}
	}
	explain_access(s->path, true, false, sqlite3_system_errno(s->db), why, len);
	if (why[0] == '\0')
		snprintf(why, len, "%s", sqlite3_errmsg(s->db));
}

int store_check_writable(struct store *s)
{
	char why[PATH_MAX + 256];

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if ((sqlite3_errcode(s->db) & 0xff) != SQLITE_READONLY)
		return 0;   /* busy, or a passing error: the writes will say */
	explain_readonly(s, why, sizeof(why));
	log_errorx("%s: cannot write the database: %s", s->path, why);
	return -1;
}

static int64_t column_int64_or(sqlite3_stmt *st, int col, int64_t def)
{
	return sqlite3_column_type(st, col) == SQLITE_INTEGER ? sqlite3_column_int64(st, col) : def;
}

int store_load_state(struct store *s, int64_t site_id, struct sq_site_state *out)
{
	sqlite3_stmt *st = s->load_state;
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		db_error(s, "reading a site's state");
		sqlite3_reset(st);
		return -1;
	}
	const unsigned char *name = sqlite3_column_text(st, 0);
	int state = name != NULL ? state_parse((const char *)name) : SQ_STATE_UNKNOWN;
	out->state = state < 0 ? SQ_STATE_UNKNOWN : (enum sq_state)state;
	out->since = column_int64_or(st, 1, 0);
	out->fail_count = (int32_t)column_int64_or(st, 2, 0);
	out->ok_count = (int32_t)column_int64_or(st, 3, 0);
	out->last_ok = column_int64_or(st, 4, 0);
	out->last_alert = column_int64_or(st, 5, 0);
	out->fail_since = column_int64_or(st, 6, 0);
	sqlite3_reset(st);
	return 0;
}

/* Each location's answer to the check just inserted (check_id), named from locations. */
static int save_votes(struct store *s, int64_t check_id, const struct sq_result *r,
    const char *const *locations, int nlocations)
{
	sqlite3_stmt *st = s->insert_location;
	int n = r->nvotes < SQ_VOTES_MAX ? r->nvotes : SQ_VOTES_MAX;

	for (int i = 0; i < n; i++) {
		const struct sq_vote *v = &r->votes[i];
		struct sq_result one = { .err = v->err, .http_status = v->http_status };
		char err[160];
		/* a vote whose location is no longer configured cannot be named: left out */
		if (v->location >= nlocations)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, check_id);
		sqlite3_bind_text(st, 2, locations[v->location], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, v->err == SQ_OK);
		sqlite3_bind_int(st, 4, v->http_status);
		sqlite3_bind_int(st, 5, v->ms);
		sqlite3_bind_text(st, 6, sq_result_error(&one, err, sizeof(err)), -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE) {
			db_error(s, "recording a location's answer");
			return -1;
		}
	}
	return 0;
}

int store_save_check(struct store *s, const struct sq_result *r, const struct sq_site_state *state)
{
	return store_save_check_votes(s, r, state, NULL, 0);
}

int store_save_check_votes(struct store *s, const struct sq_result *r,
    const struct sq_site_state *state, const char *const *locations, int nlocations)
{
	char err[160];
	int64_t when = r->started_ms / 1000;
	int ok = 0;

	sq_result_error(r, err, sizeof(err));
	for (int i = 0; i < 2 && ok == 0; i++) {
		sqlite3_stmt *st = i == 0 ? s->insert_check : s->upsert_state;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->site_id);
		sqlite3_bind_int64(st, 2, when);
		if (i == 0)
			sqlite3_bind_int(st, 3, sq_result_ok(r));
		sqlite3_bind_int(st, 4, r->http_status);
		sqlite3_bind_int(st, 5, r->ms);
		sqlite3_bind_text(st, 6, err, -1, SQLITE_TRANSIENT);
		if (i == 1) {
			sqlite3_bind_text(st, 7, state_name(state->state), -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 8, state->since);
			sqlite3_bind_int(st, 9, state->fail_count);
			sqlite3_bind_int(st, 10, state->ok_count);
			sqlite3_bind_int64(st, 11, state->last_ok);
			sqlite3_bind_int64(st, 12, state->last_alert);
			sqlite3_bind_int64(st, 13, state->fail_since);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, "recording a check");
			ok = -1;
		}
		sqlite3_reset(st);
		/* the check's id now: the state's upsert would change the last rowid */
		if (i == 0 && ok == 0 && r->nvotes > 0 &&
		    save_votes(s, sqlite3_last_insert_rowid(s->db), r, locations, nlocations) < 0)
			ok = -1;
	}
	return ok;
}

static const char *const alert_kinds[] = { "", "down", "up", "reminder" };

int store_queue_alert(struct store *s, const struct sq_alert_row *a)
{
	sqlite3_stmt *st = s->insert_alert;
	int rc;

	if (a->kind < SQ_ALERT_DOWN || a->kind > SQ_ALERT_REMINDER)
		return -1;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, a->site_id);
	sqlite3_bind_text(st, 2, a->owner_email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, alert_kinds[a->kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, a->created_at);
	sqlite3_bind_text(st, 5, a->url, -1, SQLITE_STATIC);
	if (a->name != NULL)
		sqlite3_bind_text(st, 6, a->name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, a->error ? a->error : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, a->http_status);
	sqlite3_bind_int64(st, 9, a->since);
	sqlite3_bind_int64(st, 10, a->last_ok);
	sqlite3_bind_int64(st, 11, a->down_for);
	if (a->locations != NULL)
		sqlite3_bind_text(st, 12, a->locations, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "queueing an alert");
		return -1;
	}
	return 0;
}

static void alert_row_free(struct sq_alert_row *a)
{
	free(a->owner_email);
	free(a->url);
	free(a->name);
	free(a->error);
	free(a->locations);
}

void store_free_alerts(struct sq_alert_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		alert_row_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int alert_from_row(sqlite3_stmt *st, struct sq_alert_row *a)
{
	const unsigned char *kind = sqlite3_column_text(st, 3);

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	a->site_id = sqlite3_column_int64(st, 1);
	a->kind = SQ_ALERT_NONE;
	for (int k = SQ_ALERT_DOWN; k <= SQ_ALERT_REMINDER && kind != NULL; k++)
		if (strcmp((const char *)kind, alert_kinds[k]) == 0)
			a->kind = k;
	a->created_at = sqlite3_column_int64(st, 4);
	a->http_status = sqlite3_column_int(st, 7);
	a->since = sqlite3_column_int64(st, 8);
	a->last_ok = sqlite3_column_int64(st, 9);
	a->down_for = sqlite3_column_int64(st, 10);
	a->attempts = sqlite3_column_int(st, 11);
	if (column_text(st, 2, false, &a->owner_email) < 0 || column_text(st, 5, false, &a->url) < 0 ||
	    column_text(st, 6, true, &a->name) < 0 || column_text(st, 12, false, &a->error) < 0 ||
	    column_text(st, 13, true, &a->locations) < 0)
		return -1;
	return 0;
}

int store_outbox_due(struct store *s, int64_t now, bool all, struct sq_alert_list *out)
{
	sqlite3_stmt *st = NULL;
	struct sq_alert_list l = { NULL, 0 };
	size_t cap = 0;
	int rc;

	/*
	 * Anyone who can write the file can make a text as long as they like;
	 * the mail shows a few hundred bytes of each, so no more is read back.
	 * The address is read whole: cut, it could name someone else.
	 */
	if (sqlite3_prepare_v2(s->db,
	    "SELECT id, site_id, owner_email, kind, created_at, substr(url, 1, 4096),"
	    " substr(name, 1, 1024), http_status, since, last_ok, down_for, attempts,"
	    " substr(error, 1, 4096), substr(locations, 1, 4096) FROM outbox"
	    " WHERE status = 'pending' AND (?2 OR next_attempt <= ?1)"
	    " ORDER BY owner_email, id", -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "reading the outbox");
		return -1;
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, all);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct sq_alert_row *nv = realloc(l.v, ncap * sizeof(*nv));
			if (nv == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			l.v = nv;
			cap = ncap;
		}
		if (alert_from_row(st, &l.v[l.n]) < 0) {
			/* a row edited by hand into nonsense: leave it, say so */
			log_warnx("%s: outbox row %" PRId64 " is malformed; left as it is", s->path,
			    (int64_t)sqlite3_column_int64(st, 0));
			alert_row_free(&l.v[l.n]);
			continue;
		}
		l.n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_errorx("%s: reading the outbox: %s", s->path,
		    rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db));
		store_free_alerts(&l);
		return -1;
	}
	*out = l;
	return 0;
}

static int outbox_update(struct store *s, const char *sql, int64_t id, int64_t a, int64_t b,
    const char *text)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "updating the outbox");
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	sqlite3_bind_text(st, 4, text ? text : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "updating the outbox");
		return -1;
	}
	return 0;
}

int store_outbox_sent(struct store *s, int64_t id, int64_t now)
{
	return outbox_update(s, "UPDATE outbox SET status = 'sent', sent_at = ?2,"
	    " attempts = attempts + 1, last_error = '' WHERE id = ?1 AND ?3 = ?3 AND ?4 = ?4",
	    id, now, 0, NULL);
}

int store_outbox_failed(struct store *s, int64_t id, const char *why)
{
	return outbox_update(s, "UPDATE outbox SET status = 'failed', attempts = attempts + 1,"
	    " last_error = ?4 WHERE id = ?1 AND ?2 = ?2 AND ?3 = ?3", id, 0, 0, why);
}

int store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next_attempt,
    const char *why)
{
	return outbox_update(s, "UPDATE outbox SET attempts = ?2, next_attempt = ?3,"
	    " last_error = ?4 WHERE id = ?1", id, attempts, next_attempt, why);
}

int store_outbox_counts(struct store *s, int64_t *pending, int64_t *failed)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	    "SELECT count(*) FILTER (WHERE status = 'pending'),"
	    " count(*) FILTER (WHERE status = 'failed') FROM outbox", -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "counting the outbox");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*pending = sqlite3_column_int64(st, 0);
		*failed = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The first column of the first row of sql, or -1 with the error in why. */
static int probe_int(sqlite3 *db, const char *sql, int64_t *out, char *why, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	}
	if (rc < 0) {
		int code = sqlite3_errcode(db) & 0xff;
		if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
			snprintf(why, len, "not an SQLite database");
		else
			snprintf(why, len, "cannot be read: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

int store_file_check(const char *path, char *why, size_t len)
{
	struct stat sb;
	sqlite3 *db;
	int64_t version, tables;
	int rc = -1;

	if (stat(path, &sb) < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(why, len, "not a regular file");
		return -1;
	}
	if (sb.st_size == 0) {
		snprintf(why, len, "an empty file, with no squirrel schema");
		return -1;
	}
	if (open_immutable(path, &db) < 0) {
		snprintf(why, len, "cannot be opened");
		return -1;
	}
	if (probe_int(db, "SELECT count(*) FROM sqlite_master", &tables, why, len) < 0 ||
	    probe_int(db, "PRAGMA user_version", &version, why, len) < 0)
		goto out;
	if (version == 0) {
		snprintf(why, len, tables == 0 ? "an SQLite database with no tables, no squirrel schema" :
		    "an SQLite database with no squirrel schema version: another program's");
		goto out;
	}
	if (version > SCHEMA_VERSION) {
		snprintf(why, len, "schema version %" PRId64 ", newer than this squirrel knows (%d)",
		    version, SCHEMA_VERSION);
		goto out;
	}
	if (probe_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sites'",
	    &tables, why, len) < 0)
		goto out;
	if (tables == 0) {
		snprintf(why, len, "schema version %" PRId64 " but no 'sites' table: another program's "
		    "database", version);
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(db);
	return rc;
}

void store_set_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

int store_file_status(struct store *s)
{
	struct stat sb;

	if (stat(s->path, &sb) < 0)
		return errno == ENOENT ? STORE_FILE_DELETED : STORE_FILE_SAME;
	if (sb.st_dev != s->dev || sb.st_ino != s->ino)
		return STORE_FILE_REPLACED;
	return STORE_FILE_SAME;
}

const char *store_path(const struct store *s)
{
	return s->path;
}

int store_sites_version(struct store *s, int64_t *version)
{
	sqlite3_stmt *st = s->sites_version;
	int rc;

	sqlite3_reset(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	else
		db_error(s, "reading the sites' change counter");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * ---- Schema v3: incidents, pruning, the uptime rollup's default ----
 * (store_report.c, the same module, reads through store_sqlite().)
 */

sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

/* Runs one prepared-on-the-spot statement; these are rare (transitions, pruning). */
static int run_once(struct store *s, const char *sql, const char *what, int64_t a, int64_t b,
    const char *text, int *changes)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(s, what);
		return -1;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (text != NULL)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, what);
		return -1;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	return 0;
}

int store_incident_open(struct store *s, int64_t site_id, int64_t at, const char *cause)
{
	/* An incident already open stays as it is: the first start is the true one. */
	return run_once(s, "INSERT INTO incidents (site_id, started_at, cause) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (site_id) WHERE ended_at IS NULL DO NOTHING",
	    "opening an incident", site_id, at, cause ? cause : "", NULL);
}

int store_incident_close(struct store *s, int64_t site_id, int64_t at)
{
	return run_once(s, "UPDATE incidents SET ended_at = max(?2, started_at)"
	    " WHERE site_id = ?1 AND ended_at IS NULL",
	    "closing an incident", site_id, at, NULL, NULL);
}

int store_prune_history(struct store *s, int64_t before, int batch, int *deleted)
{
	int checks = 0, hours = 0;

	if (batch <= 0) {
		log_errorx("%s: pruning: a batch of %d rows makes no sense", s->path, batch);
		return -1;
	}
	/* Each DELETE is its own short transaction when called outside one. */
	if (run_once(s, "DELETE FROM checks WHERE id IN (SELECT id FROM checks"
	    " WHERE checked_at < ?1 ORDER BY checked_at LIMIT ?2)",
	    "pruning old checks", before, batch, NULL, &checks) < 0)
		return -1;
	/* The rollup goes with the history it sums: the same retention. */
	if (checks < batch && run_once(s, "DELETE FROM uptime_hours WHERE (site_id, hour) IN"
	    " (SELECT site_id, hour FROM uptime_hours WHERE hour <= ?1 - 3600 ORDER BY hour LIMIT ?2)",
	    "pruning the old uptime rollup", before, batch - checks, NULL, &hours) < 0)
		return -1;
	*deleted = checks + hours;
	return 0;
}

/* One hour of one site's rollup being summed before it is written. */
struct hour_acc {
	int64_t site, hour, up, down;
	bool used;
};

static int flush_hour(struct store *s, sqlite3_stmt *up, struct hour_acc *a)
{
	if (!a->used || (a->up == 0 && a->down == 0))
		return 0;
	sqlite3_reset(up);
	sqlite3_bind_int64(up, 1, a->site);
	sqlite3_bind_int64(up, 2, a->hour);
	sqlite3_bind_int64(up, 3, a->up);
	sqlite3_bind_int64(up, 4, a->down);
	if (sqlite3_step(up) != SQLITE_DONE) {
		db_error(s, "rolling up the older history");
		return -1;
	}
	return 0;
}

/*
 * The history from before schema v3, rolled up the way the trigger would
 * have done it: each check's hold until its successor, capped, cut into
 * hours. Only pairs whose successor is old too: the trigger already
 * counted the last old check when the first new one arrived. One pass in
 * index order, summed here: a window function and a GROUP BY in SQL took
 * ten times as long on a year of history.
 */
static int rollup_backfill(struct store *s, int64_t below)
{
	sqlite3_stmt *rd = NULL, *up = NULL;
	struct hour_acc acc = { 0 };
	int64_t psite = 0, pt = 0, pcap = 0;
	bool have = false;
	int pverdict = 0;           /* 1 up, 0 down, -1 unknown: counts in neither */
	int rc = -1, step;

	if (sqlite3_prepare_v2(s->db,
	    "SELECT c.site_id, c.checked_at,"
	    " CASE WHEN c.ok THEN 1 WHEN " STORE_UNKNOWN_SQL("c.") " THEN -1 ELSE 0 END,"
	    " min(2 * coalesce(s.interval_s,"
	    "  (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)"
	    " FROM checks c LEFT JOIN sites s ON s.id = c.site_id WHERE c.id < ?1"
	    " ORDER BY c.site_id, c.checked_at, c.id", -1, &rd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
	    "INSERT INTO uptime_hours (site_id, hour, up_s, down_s) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (site_id, hour) DO UPDATE SET up_s = up_s + excluded.up_s,"
	    "  down_s = down_s + excluded.down_s", -1, &up, NULL) != SQLITE_OK) {
		db_error(s, "rolling up the older history");
		goto out;
	}
	sqlite3_bind_int64(rd, 1, below);
	while ((step = sqlite3_step(rd)) == SQLITE_ROW) {
		int64_t site = sqlite3_column_int64(rd, 0), t = sqlite3_column_int64(rd, 1);
		if (have && site == psite && pverdict >= 0) {
			int64_t end = pt + (t - pt < pcap ? t - pt : pcap);
			/* the hold [pt, end) cut at hour boundaries */
			for (int64_t from = pt; from < end;) {
				int64_t hour = from / 3600 * 3600, to = hour + 3600 < end ? hour + 3600 : end;
				if (!acc.used || acc.site != site || acc.hour != hour) {
					if (flush_hour(s, up, &acc) < 0)
						goto out;
					acc = (struct hour_acc){ .site = site, .hour = hour, .used = true };
				}
				if (pverdict > 0)
					acc.up += to - from;
				else
					acc.down += to - from;
				from = to;
			}
		}
		have = true;
		psite = site;
		pt = t;
		pverdict = sqlite3_column_int(rd, 2);
		pcap = sqlite3_column_int64(rd, 3);
	}
	if (step != SQLITE_DONE) {
		db_error(s, "rolling up the older history");
		goto out;
	}
	if (flush_hour(s, up, &acc) < 0)
		goto out;
	rc = exec(s, "UPDATE settings SET rollup_backfill_below = 0 WHERE id = 1",
	    "rolling up the older history");
out:
	sqlite3_finalize(rd);
	sqlite3_finalize(up);
	return rc;
}

int store_set_default_interval(struct store *s, int interval_s)
{
	sqlite3_stmt *st = NULL;
	int64_t below = -1;
	bool own = sqlite3_get_autocommit(s->db) != 0;

	if (interval_s <= 0)
		return -1;
	if (own && store_begin(s) < 0)
		return -1;
	/* Written only when it changed: a start should not always cost a write. */
	if (run_once(s, "UPDATE settings SET default_interval_s = ?1"
	    " WHERE id = 1 AND default_interval_s <> ?1 AND ?2 = ?2",
	    "saving the default interval", interval_s, 0, NULL, NULL) < 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "SELECT rollup_backfill_below FROM settings WHERE id = 1", -1,
	    &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		below = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (below < 0) {
		db_error(s, "reading the settings");
		goto fail;
	}
	if (below > 0) {
		log_info("%s: rolling up the uptime of the history from before schema version 3 "
		    "(once; a long history takes a while)", s->path);
		if (rollup_backfill(s, below) < 0)
			goto fail;
	}
	if (own && store_commit(s) < 0)
		return -1;
	return 0;
fail:
	if (own)
		store_rollback(s);
	return -1;
}

/*
 * The redis coordinator's runs, one row per stream prefix: the run that
 * started last. Its successor adopts answers of that run alone (an answer
 * naming any other run was sent to nobody here). A table of its own,
 * created when first needed, outside the versioned schema (for now: it
 * belongs there): only the redis backend needs it, and a database without
 * it simply has no previous run.
 */
int store_coordinator_runs_create(struct store *s)
{
	return exec(s, "CREATE TABLE IF NOT EXISTS coordinator_runs (prefix TEXT PRIMARY KEY,"
	    " run TEXT NOT NULL, started_at INTEGER NOT NULL)", "keeping the coordinator's run");
}

int store_coordinator_run(struct store *s, const char *prefix, const char *run, char *previous,
    size_t len)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	previous[0] = '\0';
	if (store_begin(s) < 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT run FROM coordinator_runs WHERE prefix = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		goto dbfail;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
		snprintf(previous, len, "%s", (const char *)sqlite3_column_text(st, 0));
		found = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		goto dbfail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO coordinator_runs (prefix, run, started_at)"
	    " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))", -1, &st, NULL) != SQLITE_OK)
		goto dbfail;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, run, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dbfail;
	sqlite3_finalize(st);
	if (store_commit(s) < 0)
		return -1;
	return found;
dbfail:
	db_error(s, "keeping the coordinator's run");
	sqlite3_finalize(st);
	store_rollback(s);
	previous[0] = '\0';
	return -1;
}

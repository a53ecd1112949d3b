/*
 * schema.c - the schema of the squirrel database and the way to it: each
 * version's SQL, the migration that brings an older file forward in one
 * transaction (PRAGMA user_version counts the versions), and the check
 * that a file is a squirrel database this build can open at all.
 *
 * The schema is the contract with people who edit the sites with sqlite3
 * and with older files: a version, once released, is never edited; a
 * change is a new version appended to migrations[].
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/log.h"
#include "squirrel/core/classes.h"
#include "squirrel/core/maintenance.h"
#include "squirrel/store/convert.h"
#include "squirrel/store/results.h"
#include "squirrel/core/check.h"
#include "squirrel/core/cert.h"
#include "squirrel/store/store.h"
#include "db.h"

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
 * (settings.rollup_backfill_below, a checks id), and store_rollup_backfill()
 * (uptime.c), called once the interval is saved, rolls it up.
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
/*
 * The two triggers that tell an unknown verdict (UNKNOWN: a macro of p, the
 * columns' prefix) from a failure, as version 4 made them and version 9
 * again, when the verdict is found by its class's code.
 */
#define CHECKS_UPTIME_TRIGGER(UNKNOWN) \
    "CREATE TRIGGER checks_uptime AFTER INSERT ON checks" \
    " WHEN NOT EXISTS (SELECT 1 FROM checks WHERE site_id = new.site_id" \
    "  AND checked_at > new.checked_at)" \
    " BEGIN" \
    " INSERT INTO uptime_hours (site_id, hour, up_s, down_s)" \
    "  SELECT new.site_id, h, CASE WHEN ok THEN piece ELSE 0 END, CASE WHEN ok THEN 0 ELSE piece END" \
    "  FROM (SELECT p.ok, (p.t0 / 3600 + k.n) * 3600 AS h," \
    "    min(p.t1, (p.t0 / 3600 + k.n) * 3600 + 3600) - max(p.t0, (p.t0 / 3600 + k.n) * 3600) AS piece" \
    "   FROM (SELECT c.ok, " UNKNOWN("c.") " AS unknown, c.checked_at AS t0," \
    "     c.checked_at + min(new.checked_at - c.checked_at," \
    "      min(2 * coalesce((SELECT interval_s FROM sites WHERE id = new.site_id)," \
    "       (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)) AS t1" \
    "    FROM checks c WHERE c.site_id = new.site_id AND c.checked_at <= new.checked_at" \
    "     AND c.id <> new.id ORDER BY c.checked_at DESC, c.id DESC LIMIT 1) p" \
    "   JOIN hour_steps k ON k.n <= (p.t1 - 1) / 3600 - p.t0 / 3600" \
    "   WHERE NOT p.unknown)" \
    "  WHERE piece > 0" \
    "  ON CONFLICT (site_id, hour) DO UPDATE SET up_s = up_s + excluded.up_s," \
    "   down_s = down_s + excluded.down_s;" \
    " END;"
#define CHECKS_COUNT_TRIGGER(UNKNOWN) \
    "CREATE TRIGGER checks_count AFTER INSERT ON checks BEGIN" \
    " INSERT INTO site_counters (site_id, checks, failures)" \
    "  VALUES (new.site_id, 1, new.ok = 0 AND NOT " UNKNOWN("new.") ")" \
    "  ON CONFLICT (site_id) DO UPDATE SET checks = checks + 1," \
    "   failures = failures + excluded.failures;" \
    " END;"

/* An unknown verdict up to version 8: its error text, "unknown" or "unknown: ...". */
#define UNKNOWN_V4_SQL(p) \
	"(" p "ok = 0 AND (" p "error = 'unknown' OR substr(" p "error, 1, 8) = 'unknown:'))"

static const char schema_v4[] =
    "DROP TRIGGER checks_uptime;"
    CHECKS_UPTIME_TRIGGER(UNKNOWN_V4_SQL)
    "DROP TRIGGER checks_count;"
    CHECKS_COUNT_TRIGGER(UNKNOWN_V4_SQL);

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
    "  WHERE c.site_id = site_state.site_id AND c.ok = 0 AND NOT " UNKNOWN_V4_SQL("c.")
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

/*
 * Version 9: a result's error is kept as data wherever a result or an
 * alert is stored (checks, check_locations, outbox): its class's code
 * (the one table, src/core/classes.c) and its detail, in two columns, so
 * that renaming a class or its words changes no stored figure. Cheap DDL
 * only, on a history of any size: the error column becomes detail and
 * class is added, NULL. The outbox, small, is converted here (its groups
 * of several locations become rows of outbox_located: store_convert_outbox
 * after these statements); the history is converted later, in bounded
 * batches from settings.class_backfill_below down (convert.c), and read by
 * its text meanwhile. The two triggers that tell an unknown verdict find
 * it by its code.
 */
static const char schema_v9[] =
    "ALTER TABLE checks RENAME COLUMN error TO detail;"
    "ALTER TABLE checks ADD COLUMN class INTEGER;"
    "ALTER TABLE check_locations RENAME COLUMN error TO detail;"
    "ALTER TABLE check_locations ADD COLUMN class INTEGER;"
    "ALTER TABLE outbox RENAME COLUMN error TO detail;"
    "ALTER TABLE outbox ADD COLUMN class INTEGER;"
    /* an alert's error was "" only for an UP alert's good check */
    "UPDATE outbox SET class = sq_legacy_class(detail, detail = ''),"
    " detail = sq_legacy_detail(detail, detail = '');"
    "CREATE TABLE outbox_located ("
    " alert_id INTEGER NOT NULL,"
    " n INTEGER NOT NULL,"
    " class INTEGER NOT NULL,"
    " http_status INTEGER NOT NULL DEFAULT 0,"
    " locations TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (alert_id, n)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER outbox_delete_located AFTER DELETE ON outbox BEGIN"
    " DELETE FROM outbox_located WHERE alert_id = old.id;"
    " END;"
    "ALTER TABLE settings ADD COLUMN class_backfill_below INTEGER NOT NULL DEFAULT 0;"
    "UPDATE settings SET class_backfill_below = (SELECT coalesce(max(id) + 1, 0) FROM checks)"
    " WHERE id = 1;"
    "DROP TRIGGER checks_uptime;"
    CHECKS_UPTIME_TRIGGER(STORE_UNKNOWN_SQL)
    "DROP TRIGGER checks_count;"
    CHECKS_COUNT_TRIGGER(STORE_UNKNOWN_SQL)
    /*
     * The redis coordinator's runs (coordinator.c), made on first use
     * before this version: a database that has it keeps its rows.
     */
    "CREATE TABLE IF NOT EXISTS coordinator_runs (prefix TEXT PRIMARY KEY,"
    " run TEXT NOT NULL, started_at INTEGER NOT NULL);";
_Static_assert(SQ_ERR_NO_QUORUM == 20, "STORE_NO_QUORUM_CODE spells the code of unknown out");

/*
 * Version 10: what a site's answer must be. method (HEAD or GET),
 * expect_status (a list of codes and ranges, "200-299,301"), keyword and
 * keyword_mode (present or absent), keyword_nocase (0 or 1); NULL is the
 * default (HEAD, 200-399, no keyword, present, case-sensitive). The CHECKs
 * say what SQLite can: the characters and ends of a list, the keyword's
 * length in bytes; the daemon reads every list (sites_skip_reason) and
 * skips a row it cannot, by id. Cheap DDL: new columns, all NULL.
 */
static const char schema_v10[] =
    "ALTER TABLE sites ADD COLUMN method TEXT CHECK (method IS NULL OR method IN ('HEAD', 'GET'));"
    "ALTER TABLE sites ADD COLUMN expect_status TEXT CHECK (expect_status IS NULL OR"
    " (typeof(expect_status) = 'text' AND length(expect_status) BETWEEN 3 AND 200 AND"
    "  expect_status NOT GLOB '*[^0-9,-]*' AND expect_status GLOB '[1-5][0-9][0-9]*' AND"
    "  expect_status GLOB '*[0-9][0-9][0-9]' AND instr(expect_status, ',,') = 0 AND"
    "  instr(expect_status, '--') = 0));"
    "ALTER TABLE sites ADD COLUMN keyword TEXT CHECK (keyword IS NULL OR"
    " (typeof(keyword) = 'text' AND length(CAST(keyword AS BLOB)) BETWEEN 1 AND 256));"
    "ALTER TABLE sites ADD COLUMN keyword_mode TEXT CHECK (keyword_mode IS NULL OR"
    " keyword_mode IN ('present', 'absent'));"
    "ALTER TABLE sites ADD COLUMN keyword_nocase INTEGER CHECK (keyword_nocase IS NULL OR"
    " (typeof(keyword_nocase) = 'integer' AND keyword_nocase IN (0, 1)));";
_Static_assert(SQ_KEYWORD_MAX == 256 && SQ_EXPECT_TEXT_MAX == 200,
    "schema version 10 spells the keyword's and the list's limits out");

/*
 * Version 11: slow is degraded, not down. sites.slow_ms (NULL: [check]
 * slow_ms; 0: never slow for this site) and sites.alert_degraded (NULL
 * or 1: DEGRADED and RECOVERED are mailed; 0: not); the slow run the
 * state machine keeps (site_state.slow_count, slow_since). The new state
 * 'degraded' and the kinds 'degraded' and 'recovered' widen two CHECKs:
 * schema_widen() edits their text in place, which SQLite allows for
 * a CHECK that only accepts more (no row is rewritten: cheap at any size).
 */
static const char schema_v11[] =
    "ALTER TABLE sites ADD COLUMN slow_ms INTEGER CHECK (slow_ms IS NULL OR"
    "  (typeof(slow_ms) = 'integer' AND slow_ms BETWEEN 0 AND 600000));"
    "ALTER TABLE sites ADD COLUMN alert_degraded INTEGER CHECK (alert_degraded IS NULL OR"
    "  (typeof(alert_degraded) = 'integer' AND alert_degraded IN (0, 1)));"
    "ALTER TABLE site_state ADD COLUMN slow_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE site_state ADD COLUMN slow_since INTEGER;";

/*
 * Version 12: the room the rest of what a check can tell needs in the two
 * CHECKs of the outbox. Kinds 'cert' (a certificate near its end) and
 * 'outage' (to [alerts] admin: the monitor's own network failed); statuses
 * 'held' (a DOWN alert kept back while that outage lasts) and 'cancelled'
 * (held, and the site was up again before it was due). Widened in place
 * like version 11's; no DDL of its own.
 */
static const char schema_v12[] = "";

/*
 * Version 13: dependencies. sites.depends_on (NULL: none) names the site
 * this one is behind; the CHECK says what a row alone can (a whole number,
 * not the site itself); that the parent exists and that no chain closes
 * on itself is squirrelctl's to refuse and the daemon's to ignore when
 * typed anyway (core/depends.c). site_state.parent_down says the latest
 * check was `parent down`, site_state.behind the site whose outage it was
 * put down to, until that site is UP (indexed: its UP mail lists them).
 * An alert that lists the sites behind it keeps a copy of them
 * (outbox_children, at most a few per alert) and how many there were.
 * Cheap DDL: new columns all NULL or with defaults, a new table.
 */
static const char schema_v13[] =
    "ALTER TABLE sites ADD COLUMN depends_on INTEGER CHECK (depends_on IS NULL OR"
    "  (typeof(depends_on) = 'integer' AND depends_on <> id));"
    "ALTER TABLE site_state ADD COLUMN parent_down INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE site_state ADD COLUMN behind INTEGER;"
    "CREATE INDEX site_state_behind ON site_state (behind) WHERE behind IS NOT NULL;"
    "ALTER TABLE outbox ADD COLUMN children INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN children_back INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE outbox_children ("
    " alert_id INTEGER NOT NULL,"
    " site_id INTEGER NOT NULL,"
    " back INTEGER NOT NULL DEFAULT 0,"
    " url TEXT NOT NULL DEFAULT '',"
    " name TEXT,"
    " PRIMARY KEY (alert_id, site_id)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER outbox_delete_children AFTER DELETE ON outbox BEGIN"
    " DELETE FROM outbox_children WHERE alert_id = old.id;"
    " END;";

/*
 * Version 14: warnings before a certificate ends. sites.cert_warn_days
 * (a list of days, "30,14,7,1"; NULL: [check] cert_warn_days); per site
 * the certificate last seen (site_cert: its SHA-256, end, subject, issuer,
 * when it was first seen, and the nearest threshold already warned for it,
 * every larger one counting as warned); the outbox's copy of what a `cert`
 * mail says (the certificate's end, subject and issuer). Cheap DDL: new
 * columns, all NULL, and a new table.
 */
static const char schema_v14[] =
    "ALTER TABLE sites ADD COLUMN cert_warn_days TEXT CHECK (cert_warn_days IS NULL OR"
    " (typeof(cert_warn_days) = 'text' AND length(cert_warn_days) BETWEEN 1 AND 64 AND"
    "  cert_warn_days NOT GLOB '*[^0-9,]*' AND cert_warn_days GLOB '[1-9]*' AND"
    "  cert_warn_days GLOB '*[0-9]' AND instr(cert_warn_days, ',,') = 0));"
    "CREATE TABLE site_cert ("
    " site_id INTEGER PRIMARY KEY,"
    " fingerprint TEXT NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " subject TEXT NOT NULL DEFAULT '',"
    " issuer TEXT NOT NULL DEFAULT '',"
    " first_seen INTEGER NOT NULL,"
    " warned_days INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TRIGGER sites_delete_cert AFTER DELETE ON sites BEGIN"
    " DELETE FROM site_cert WHERE site_id = old.id;"
    " END;"
    "ALTER TABLE outbox ADD COLUMN cert_not_after INTEGER;"
    "ALTER TABLE outbox ADD COLUMN cert_subject TEXT;"
    "ALTER TABLE outbox ADD COLUMN cert_issuer TEXT;";
_Static_assert(SQ_CERT_DAYS_TEXT_MAX == 64, "schema version 14 spells a list's length out");

/*
 * Version 15: maintenance windows. A window covers one site, every site
 * of one owner or all sites (exactly one: a CHECK), and is one-off
 * (starts_at, ends_at) or weekly (day 0 Sunday to 6, minute of the local
 * day in [alerts] timezone, duration_s up to a week); the CHECKs refuse
 * anything else. A window for a site that does not exist is refused by a
 * trigger, and goes with its site. maintenance_version counts the changes
 * (triggers), so the daemon reads the windows again only when it moves.
 *
 * A check made inside a window says so: checks.maintenance is the
 * window's id (NULL outside one); checks.slow is 1 for a success slower
 * than the site's slow_ms (NULL otherwise). The hourly rollup sums them
 * apart (uptime_hours.maint_s, slow_s; CHECKS_UPTIME_TRIGGER_V15): the
 * history before this version has neither mark, and sums as it did.
 * Cheap DDL: new columns with defaults, a trigger replaced.
 */
/*
 * Version 15's rollup trigger: version 9's (checks_uptime), each hold
 * summed by what its check says. A check inside a maintenance window
 * holds in maint_s, in neither up nor down: the figures leave that time
 * out. A slow success holds in up_s and in slow_s as well: degraded time
 * is up, and said apart. An unknown verdict still holds in none. Its cost
 * per insert is version 9's (the same one row read, a few CASEs more).
 */
#define CHECKS_UPTIME_TRIGGER_V15 \
    "CREATE TRIGGER checks_uptime AFTER INSERT ON checks" \
    " WHEN NOT EXISTS (SELECT 1 FROM checks WHERE site_id = new.site_id" \
    "  AND checked_at > new.checked_at)" \
    " BEGIN" \
    " INSERT INTO uptime_hours (site_id, hour, up_s, down_s, slow_s, maint_s)" \
    "  SELECT new.site_id, h, CASE WHEN v IN (1, 2) THEN piece ELSE 0 END," \
    "   CASE WHEN v = 0 THEN piece ELSE 0 END, CASE WHEN v = 2 THEN piece ELSE 0 END," \
    "   CASE WHEN v = 3 THEN piece ELSE 0 END" \
    "  FROM (SELECT p.v, (p.t0 / 3600 + k.n) * 3600 AS h," \
    "    min(p.t1, (p.t0 / 3600 + k.n) * 3600 + 3600) - max(p.t0, (p.t0 / 3600 + k.n) * 3600) AS piece" \
    "   FROM (SELECT " STORE_VERDICT_SQL("c.") " AS v, c.checked_at AS t0," \
    "     c.checked_at + min(new.checked_at - c.checked_at," \
    "      min(2 * coalesce((SELECT interval_s FROM sites WHERE id = new.site_id)," \
    "       (SELECT default_interval_s FROM settings WHERE id = 1), 60), 86400)) AS t1" \
    "    FROM checks c WHERE c.site_id = new.site_id AND c.checked_at <= new.checked_at" \
    "     AND c.id <> new.id ORDER BY c.checked_at DESC, c.id DESC LIMIT 1) p" \
    "   JOIN hour_steps k ON k.n <= (p.t1 - 1) / 3600 - p.t0 / 3600" \
    "   WHERE p.v >= 0)" \
    "  WHERE piece > 0" \
    "  ON CONFLICT (site_id, hour) DO UPDATE SET up_s = up_s + excluded.up_s," \
    "   down_s = down_s + excluded.down_s, slow_s = slow_s + excluded.slow_s," \
    "   maint_s = maint_s + excluded.maint_s;" \
    " END;"

static const char schema_v15[] =
    "CREATE TABLE maintenance ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " site_id INTEGER CHECK (site_id IS NULL OR (typeof(site_id) = 'integer' AND site_id > 0)),"
    " owner_email TEXT CHECK (owner_email IS NULL OR (typeof(owner_email) = 'text' AND"
    "  instr(owner_email, '@') > 1 AND instr(owner_email, '@') < length(owner_email))),"
    " all_sites INTEGER NOT NULL DEFAULT 0 CHECK (all_sites IN (0, 1)),"
    " starts_at INTEGER CHECK (starts_at IS NULL OR typeof(starts_at) = 'integer'),"
    " ends_at INTEGER CHECK (ends_at IS NULL OR typeof(ends_at) = 'integer'),"
    " day INTEGER CHECK (day IS NULL OR (typeof(day) = 'integer' AND day BETWEEN 0 AND 6)),"
    " minute INTEGER CHECK (minute IS NULL OR"
    "  (typeof(minute) = 'integer' AND minute BETWEEN 0 AND 1439)),"
    " duration_s INTEGER CHECK (duration_s IS NULL OR"
    "  (typeof(duration_s) = 'integer' AND duration_s BETWEEN 1 AND 604800)),"
    " reason TEXT NOT NULL DEFAULT '' CHECK (typeof(reason) = 'text' AND"
    "  length(CAST(reason AS BLOB)) <= 200),"
    " created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),"
    " CHECK ((site_id IS NOT NULL) + (owner_email IS NOT NULL) + all_sites = 1),"
    " CHECK ((starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at AND"
    "   day IS NULL AND minute IS NULL AND duration_s IS NULL) OR"
    "  (starts_at IS NULL AND ends_at IS NULL AND day IS NOT NULL AND minute IS NOT NULL AND"
    "   duration_s IS NOT NULL))"
    ");"
    "CREATE TRIGGER maintenance_site_insert BEFORE INSERT ON maintenance"
    " WHEN new.site_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sites WHERE id = new.site_id)"
    " BEGIN SELECT RAISE(ABORT, 'maintenance: no site has this site_id'); END;"
    "CREATE TRIGGER maintenance_site_update BEFORE UPDATE OF site_id ON maintenance"
    " WHEN new.site_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sites WHERE id = new.site_id)"
    " BEGIN SELECT RAISE(ABORT, 'maintenance: no site has this site_id'); END;"
    "CREATE TRIGGER sites_delete_maintenance AFTER DELETE ON sites BEGIN"
    " DELETE FROM maintenance WHERE site_id = old.id;"
    " END;"
    "CREATE TABLE maintenance_version (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL);"
    "INSERT INTO maintenance_version VALUES (1, 0);"
    "CREATE TRIGGER maintenance_version_insert AFTER INSERT ON maintenance BEGIN"
    " UPDATE maintenance_version SET version = version + 1; END;"
    "CREATE TRIGGER maintenance_version_update AFTER UPDATE ON maintenance BEGIN"
    " UPDATE maintenance_version SET version = version + 1; END;"
    "CREATE TRIGGER maintenance_version_delete AFTER DELETE ON maintenance BEGIN"
    " UPDATE maintenance_version SET version = version + 1; END;"
    "ALTER TABLE checks ADD COLUMN maintenance INTEGER;"
    "ALTER TABLE checks ADD COLUMN slow INTEGER;"
    "ALTER TABLE uptime_hours ADD COLUMN slow_s INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uptime_hours ADD COLUMN maint_s INTEGER NOT NULL DEFAULT 0;"
    "DROP TRIGGER checks_uptime;"
    CHECKS_UPTIME_TRIGGER_V15;
_Static_assert(WINDOW_REASON_MAX == 200 && WINDOW_DURATION_MAX == 604800,
    "schema version 15 spells a window's limits out");

/*
 * Version 16: when the monitor itself is cut off (alert/record.c, the rule
 * in core/outage.c). outages keeps each one, began and ended (an open row
 * is the hold under way: it survives a restart). outbox.fresh counts the
 * fresh failed checks of a held DOWN alert's site once the outage is over:
 * at fail_threshold the alert is sent, a success before cancels it. A
 * check failed during the hold is unknown (class 31, beside 20), so the
 * two triggers that leave unknown verdicts out are made again.
 */
static const char schema_v16[] =
    "CREATE TABLE outages ("
    " id INTEGER PRIMARY KEY,"
    " began_at INTEGER NOT NULL,"
    " ended_at INTEGER,"
    " reason TEXT NOT NULL DEFAULT ''"
    ");"
    "ALTER TABLE outbox ADD COLUMN fresh INTEGER NOT NULL DEFAULT 0;"
    "DROP TRIGGER checks_uptime;"
    CHECKS_UPTIME_TRIGGER_V15
    "DROP TRIGGER checks_count;"
    CHECKS_COUNT_TRIGGER(STORE_UNKNOWN_SQL);
_Static_assert(SQ_ERR_OUTAGE == 31, "STORE_OUTAGE_CODE spells the code of unknown outage out");

/*
 * Version 17: alerts that read as a conversation. outbox.message_id is the
 * Message-ID (without its angle brackets) each alert went out under, set
 * when its mail is accepted; incidents.message_id is the one of the mail
 * that told of the incident's DOWN, so that its UP and its reminders answer
 * it (In-Reply-To, References). The same few characters as the ids delivery
 * makes, '@' between id and domain: no value can break a header line.
 */
#define MESSAGE_ID_CHECK(c) " CHECK (" c " IS NULL OR (typeof(" c ") = 'text' AND" \
    " length(" c ") BETWEEN 3 AND 460 AND " c " GLOB '?*@?*' AND" \
    " " c " NOT GLOB '*[^A-Za-z0-9._+=@-]*'))"
static const char schema_v17[] =
    "ALTER TABLE outbox ADD COLUMN message_id TEXT" MESSAGE_ID_CHECK("message_id") ";"
    "ALTER TABLE incidents ADD COLUMN message_id TEXT" MESSAGE_ID_CHECK("message_id") ";";

/*
 * Version 18: contacts, where alerts go besides the site's owner_email
 * (still its implicit email contact, so nothing changes for a database
 * without contacts). A contact has a kind (the channel), a target (an
 * address or a url), the path of a file holding its secret (never the
 * secret: it is read at delivery), whether it hears of every site, and
 * which alert kinds it wants (a comma list; NULL: all), and for sms the
 * number it is sent from and the provider's url (api). site_contacts
 * links sites and contacts; its rows go with either, by trigger. An
 * outbox row names its contact (NULL: the owner's mail, as before) and,
 * for a contact's copy, the owner's row it copies (alert_of): the groups
 * and the sites behind are kept once, with that row.
 */
static const char schema_v18[] =
    "CREATE TABLE contacts ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE CHECK (typeof(name) = 'text' AND length(name) BETWEEN 1 AND 64"
    "  AND name NOT GLOB '*[^A-Za-z0-9._-]*'),"
    " kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook', 'ntfy', 'chat', 'sms')),"
    " target TEXT NOT NULL CHECK (typeof(target) = 'text' AND length(target) BETWEEN 3 AND 2048),"
    " secret_file TEXT CHECK (secret_file IS NULL OR"
    "  (typeof(secret_file) = 'text' AND substr(secret_file, 1, 1) = '/')),"
    " every_site INTEGER NOT NULL DEFAULT 0 CHECK (every_site IN (0, 1)),"
    " kinds TEXT CHECK (kinds IS NULL OR (typeof(kinds) = 'text' AND"
    "  kinds NOT GLOB '*[^a-z,]*')),"
    " insecure INTEGER NOT NULL DEFAULT 0 CHECK (insecure IN (0, 1)),"
    " sender TEXT CHECK (sender IS NULL OR typeof(sender) = 'text'),"
    " api TEXT CHECK (api IS NULL OR typeof(api) = 'text'),"
    " created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))"
    ");"
    "CREATE TABLE site_contacts ("
    " site_id INTEGER NOT NULL,"
    " contact_id INTEGER NOT NULL,"
    " PRIMARY KEY (site_id, contact_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX site_contacts_contact ON site_contacts (contact_id);"
    "CREATE TRIGGER site_contacts_site_gone AFTER DELETE ON sites BEGIN"
    " DELETE FROM site_contacts WHERE site_id = old.id; END;"
    "CREATE TRIGGER site_contacts_contact_gone AFTER DELETE ON contacts BEGIN"
    " DELETE FROM site_contacts WHERE contact_id = old.id; END;"
    "ALTER TABLE outbox ADD COLUMN contact_id INTEGER;"
    "ALTER TABLE outbox ADD COLUMN alert_of INTEGER;";

/*
 * Version 19: a year of history in the space of a week. The history is
 * kept in three tiers: the raw checks for [squirreld] raw_hours (failed
 * checks, checks whose verdict differs from the one before (edge = 1) and
 * each site's latest check as long as the hourly tier), an hour per site
 * (uptime_hours, HOURLY_DAYS in retention.c) and a day per site
 * (uptime_days, [squirreld] history_days). An hour and a day hold the same
 * sums: the seconds each verdict held (as before), the checks and the
 * failures in it, and the response times of its successes: their count,
 * sum, least and most, and a histogram of fixed log-spaced buckets
 * (core/hist.h) from which percentiles are read.
 *
 * The daemon sums a batch in memory and upserts its hours in the batch's
 * transaction (tiers.c): the triggers that did it per inserted check go.
 * settings.check_gen moves on with every batch, so that a process that
 * finds another one's checks since its own last batch reads the sites'
 * latest checks again. The rest runs in the reporter, in bounded
 * transactions (retention.c): the response times of the history from
 * before this version (ids below backfill_below, 0 when done; a site at a
 * time from the cursor backfill_site, _at, _id), the daily roll-up (the days before days_below are in
 * uptime_days) and the pruning (raw_below: the successes before it may be
 * gone; hours_below: the hours before it are gone, and the readers take
 * those days from uptime_days; prune_at, keep_at: the times the two
 * pruning passes of the checks resume at).
 * Cheap DDL: new columns with defaults, a table, two triggers dropped.
 */
#define TIER_COLUMNS \
    " checks INTEGER NOT NULL DEFAULT 0," \
    " failures INTEGER NOT NULL DEFAULT 0," \
    " ms_n INTEGER NOT NULL DEFAULT 0," \
    " ms_sum INTEGER NOT NULL DEFAULT 0," \
    " ms_min INTEGER," \
    " ms_max INTEGER," \
    " ms_hist BLOB"
static const char schema_v19[] =
    "DROP TRIGGER IF EXISTS checks_uptime;"
    "DROP TRIGGER IF EXISTS checks_count;"
    "ALTER TABLE uptime_hours ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uptime_hours ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uptime_hours ADD COLUMN ms_n INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uptime_hours ADD COLUMN ms_sum INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uptime_hours ADD COLUMN ms_min INTEGER;"
    "ALTER TABLE uptime_hours ADD COLUMN ms_max INTEGER;"
    "ALTER TABLE uptime_hours ADD COLUMN ms_hist BLOB;"
    "CREATE TABLE uptime_days ("
    " site_id INTEGER NOT NULL,"
    " day INTEGER NOT NULL CHECK (day % 86400 = 0),"
    " up_s INTEGER NOT NULL DEFAULT 0,"
    " down_s INTEGER NOT NULL DEFAULT 0,"
    " slow_s INTEGER NOT NULL DEFAULT 0,"
    " maint_s INTEGER NOT NULL DEFAULT 0,"
    TIER_COLUMNS ","
    " PRIMARY KEY (site_id, day)"
    ") WITHOUT ROWID;"
    "CREATE INDEX uptime_days_day ON uptime_days (day);"
    "ALTER TABLE checks ADD COLUMN edge INTEGER;"
    "ALTER TABLE settings ADD COLUMN check_gen INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN backfill_below INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN backfill_site INTEGER;"
    "ALTER TABLE settings ADD COLUMN backfill_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN backfill_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN raw_below INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN days_below INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN hours_below INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN prune_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settings ADD COLUMN keep_at INTEGER NOT NULL DEFAULT 0;"
    "INSERT OR IGNORE INTO settings (id) VALUES (1);"
    "UPDATE settings SET backfill_below = (SELECT coalesce(max(id) + 1, 0) FROM checks) WHERE id = 1;";

/*
 * Version 20: what a status page people publish needs. A site's group
 * (sites.group_name: a section of the page; NULL none, 1 to 100 bytes
 * without control characters) and whether it is public (sites.public:
 * NULL or 0 keeps it off the public page, the safe default: nothing is
 * published unless the operator says so). Notes the operator writes under
 * an incident (incident_notes, read oldest first; they go with their
 * incident). And each owner's page token (owner_pages): the name of the
 * owner's page, 32 hex characters drawn at random, not guessable from
 * the address. Cheap DDL: two columns without defaults, two tables.
 */
#define NO_CONTROL_GLOB "'*[' || char(1) || '-' || char(31) || char(127) || ']*'"
static const char schema_v20[] =
    "ALTER TABLE sites ADD COLUMN group_name TEXT CHECK (group_name IS NULL OR"
    " (typeof(group_name) = 'text' AND length(CAST(group_name AS BLOB)) BETWEEN 1 AND 100 AND"
    " group_name NOT GLOB " NO_CONTROL_GLOB "));"
    "ALTER TABLE sites ADD COLUMN public INTEGER CHECK (public IS NULL OR public IN (0, 1));"
    "CREATE TABLE incident_notes ("
    " id INTEGER PRIMARY KEY,"
    " incident_id INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " text TEXT NOT NULL CHECK (typeof(text) = 'text' AND length(text) BETWEEN 1 AND 1000)"
    ");"
    "CREATE INDEX incident_notes_incident ON incident_notes (incident_id, at);"
    "CREATE TRIGGER incident_notes_gone AFTER DELETE ON incidents BEGIN"
    " DELETE FROM incident_notes WHERE incident_id = old.id; END;"
    "CREATE TABLE owner_pages ("
    " owner_email TEXT PRIMARY KEY,"
    " token TEXT NOT NULL UNIQUE CHECK (typeof(token) = 'text' AND length(token) = 32 AND"
    "  token NOT GLOB '*[^0-9a-f]*')"
    ");";
_Static_assert(SQ_GROUP_MAX == 100 && SQ_NOTE_MAX == 1000 && SQ_OWNER_TOKEN_LEN == 32,
    "schema version 20 spells a group's, a note's and a token's lengths out");

/* the CHECKs' words, as SQL string literals */
#define STATES_V1 "'state IN (''unknown'', ''up'', ''down'')'"
#define STATES_V11 "'state IN (''unknown'', ''up'', ''down'', ''degraded'')'"
#define KINDS_V2 "'kind IN (''down'', ''up'', ''reminder'')'"
#define KINDS_V11 "'kind IN (''down'', ''up'', ''reminder'', ''degraded'', ''recovered'')'"
#define KINDS_V12 "'kind IN (''down'', ''up'', ''reminder'', ''degraded'', ''recovered'', " \
    "''cert'', ''outage'')'"
#define STATUS_V2 "'status IN (''pending'', ''sent'', ''failed'')'"
#define STATUS_V12 "'status IN (''pending'', ''sent'', ''failed'', ''held'', ''cancelled'')'"

/* One CHECK's text, before and after a version widens it. */
struct widening {
	const char *table, *from, *to;
};

static const struct widening widen_v11[] = {
	{ "site_state", STATES_V1, STATES_V11 },
	{ "outbox", KINDS_V2, KINDS_V11 },
};

static const struct widening widen_v12[] = {
	{ "outbox", KINDS_V11, KINDS_V12 },
	{ "outbox", STATUS_V2, STATUS_V12 },
};

static int query_int(struct store *s, const char *sql, int *out);

/*
 * CHECKs widened in sqlite_master (the way SQLite's documentation gives for
 * a constraint that accepts more: no row is rewritten, cheap at any size),
 * then the schema cookie moved on so every connection reads the new text.
 * A table whose text is not the one squirrel made (edited by hand) is
 * refused, and the whole migration with it.
 */
static int schema_widen(struct store *s, int version, const struct widening *w, size_t n)
{
	char what[64], sql[1024];
	int cookie, changed;

	snprintf(what, sizeof(what), "migrating the schema to version %d", version);
	if (store_exec(s, "PRAGMA writable_schema = ON", what) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "UPDATE sqlite_master SET sql = replace(sql, %s, %s)"
		    " WHERE type = 'table' AND name = '%s' AND instr(sql, %s) > 0", w[i].from,
		    w[i].to, w[i].table, w[i].from);
		if (store_exec(s, sql, what) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		    " AND name = '%s' AND instr(sql, %s) > 0", w[i].table, w[i].to);
		if (query_int(s, sql, &changed) < 0)
			goto fail;
		if (changed != 1) {
			log_errorx("%s: %s: a CHECK of table %s is not as squirrel made it; not "
			    "migrated", s->path, what, w[i].table);
			goto fail;
		}
	}
	if (store_exec(s, "PRAGMA writable_schema = OFF", what) < 0)
		return -1;
	if (query_int(s, "PRAGMA schema_version", &cookie) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %d", cookie + 1);
	return store_exec(s, sql, what);
fail:
	store_exec(s, "PRAGMA writable_schema = OFF", what);
	return -1;
}

#define WIDEN(s, v, w) schema_widen((s), (v), (w), sizeof(w) / sizeof((w)[0]))

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
	schema_v8,
	schema_v9,
	schema_v10,
	schema_v11,
	schema_v12,
	schema_v13,
	schema_v14,
	schema_v15,
	schema_v16,
	schema_v17,
	schema_v18,
	schema_v19,
	schema_v20,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

static int query_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, sql, 0, &st, sql) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		store_error(s, sql);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Brings the schema to SCHEMA_VERSION, all steps in one transaction. */
int store_migrate(struct store *s, bool readonly)
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
		if (!store_may(s->path, W_OK))
			log_errorx("%s: schema version %d needs migrating to %d, and this user (uid %u) "
			    "may only read it; run 'squirrelctl init' or squirreld once as a user that "
			    "may write it", s->path, version, SCHEMA_VERSION, (unsigned)geteuid());
		else
			log_errorx("%s: schema version %d needs migrating to %d, which a reading command "
			    "does not do; run 'squirrelctl init' or squirreld once to migrate it", s->path,
			    version, SCHEMA_VERSION);
		return -1;
	}
	if (store_exec(s, "BEGIN IMMEDIATE", "starting the schema migration") < 0)
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
		if (store_exec(s, migrations[v], what) < 0)
			goto fail;
		if (v + 1 == 9 && store_convert_outbox(s) < 0)
			goto fail;
		if (v + 1 == 11 && WIDEN(s, 11, widen_v11) < 0)
			goto fail;
		if (v + 1 == 12 && WIDEN(s, 12, widen_v12) < 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (store_exec(s, pragma, what) < 0)
			goto fail;
	}
	if (store_exec(s, "COMMIT", "committing the schema migration") < 0)
		goto fail;
	if (version != 0)
		log_info("%s: schema migrated from version %d to %d", s->path, version, SCHEMA_VERSION);
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
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
	if (store_open_immutable(path, &db) < 0) {
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

int store_create_old(const char *path, int version)
{
	sqlite3 *db = NULL;
	char *msg = NULL, pragma[64];
	int rc = -1;

	if (version < 1 || version >= SCHEMA_VERSION) {
		log_errorx("%s: version %d is not one before %d", path, version, SCHEMA_VERSION);
		return -1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_errorx("%s: %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	for (int v = 0; v < version; v++)
		if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK)
			goto fail;
	if (sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	rc = 0;
	goto out;
fail:
	log_errorx("%s: making schema version %d: %s", path, version,
	    msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
out:
	sqlite3_close(db);
	return rc;
}

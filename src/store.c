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
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "squirrel/log.h"
#include "squirrel/store.h"

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

static const char *const migrations[] = {
	schema_v1,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *insert_check;
	sqlite3_stmt *upsert_state;
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
		log_errorx("%s: schema version %d needs migrating to %d; "
		    "run squirreld once to migrate it", s->path, version, SCHEMA_VERSION);
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
	/* Results of a site deleted meanwhile are dropped by the EXISTS. */
	if (prepare(s, &s->insert_check,
	    "INSERT INTO checks (site_id, checked_at, ok, http_status, ms, error)"
	    " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM sites WHERE id = ?1)") < 0)
		return -1;
	if (prepare(s, &s->upsert_state,
	    "INSERT INTO site_state (site_id, last_check, last_ok, last_status, last_ms,"
	    "  last_error, fail_count, ok_count)"
	    " SELECT ?1, ?2, CASE WHEN ?3 THEN ?2 END, ?4, ?5, ?6, 1 - ?3, ?3"
	    "  WHERE EXISTS (SELECT 1 FROM sites WHERE id = ?1)"
	    " ON CONFLICT (site_id) DO UPDATE SET"
	    "  last_check = excluded.last_check,"
	    "  last_ok = coalesce(excluded.last_ok, last_ok),"
	    "  last_status = excluded.last_status,"
	    "  last_ms = excluded.last_ms,"
	    "  last_error = excluded.last_error,"
	    "  fail_count = CASE WHEN ?3 THEN 0 ELSE fail_count + 1 END,"
	    "  ok_count = CASE WHEN ?3 THEN ok_count + 1 ELSE 0 END") < 0)
		return -1;
	return 0;
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
			log_error("%s: cannot open the database", path);
			goto fail;
		}
		oflags |= SQLITE_OPEN_CREATE;
	} else if (!S_ISREG(sb.st_mode)) {
		log_errorx("%s: not a regular file", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_errorx("%s: cannot open the database: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* A file that is not a database fails at the first read: say so plainly. */
	if (exec(s, "SELECT count(*) FROM sqlite_master", "not a usable SQLite database") < 0)
		goto fail;
	if (!readonly) {
		if (exec(s, "PRAGMA journal_mode = WAL", "enabling WAL") < 0 ||
		    exec(s, "PRAGMA synchronous = FULL", "setting synchronous") < 0)
			goto fail;
	}
	if (store_migrate(s, readonly) < 0)
		goto fail;
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

static void site_free(struct sq_site *site)
{
	free(site->url);
	free(site->owner_email);
	free(site->name);
}

/* Fills site from a row, or says which column is wrong. */
static const char *site_from_row(sqlite3_stmt *st, struct sq_site *site)
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
	return NULL;
}

int store_load_sites(struct store *s, struct sq_site_list *out)
{
	sqlite3_stmt *st = NULL;
	struct sq_site_list l = { NULL, 0, 0 };
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	    "SELECT id, url, owner_email, name, interval_s, timeout_ms FROM sites"
	    " WHERE enabled IS NOT 0 ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "reading the sites");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sq_site site;
		const char *bad = site_from_row(st, &site);
		if (bad != NULL) {
			log_warnx("site %" PRId64 ": skipped: %s", site.id, bad);
			site_free(&site);
			l.skipped++;
			continue;
		}
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct sq_site *nv = realloc(l.v, ncap * sizeof(*nv));
			if (nv == NULL) {
				site_free(&site);
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
		site_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int bind_result(sqlite3_stmt *st, const struct sq_result *r)
{
	char err[160];
	sq_result_error(r, err, sizeof(err));
	sqlite3_reset(st);
	if (sqlite3_bind_int64(st, 1, r->site_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, r->started_ms / 1000) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, sq_result_ok(r)) != SQLITE_OK ||
	    sqlite3_bind_int(st, 4, r->http_status) != SQLITE_OK ||
	    sqlite3_bind_int(st, 5, r->ms) != SQLITE_OK ||
	    sqlite3_bind_text(st, 6, err, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return -1;
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

int store_record_results(struct store *s, const struct sq_result *r, size_t n)
{
	if (n == 0)
		return 0;
	if (exec(s, "BEGIN IMMEDIATE", "recording results") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (bind_result(s->insert_check, &r[i]) < 0 ||
		    bind_result(s->upsert_state, &r[i]) < 0) {
			db_error(s, "recording results");
			sqlite3_reset(s->insert_check);
			sqlite3_reset(s->upsert_state);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	sqlite3_reset(s->insert_check);
	sqlite3_reset(s->upsert_state);
	if (exec(s, "COMMIT", "recording results") < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * store.c - the connection to the SQLite database. The store is the only
 * module that speaks SQL; it is split by concern: db.c (the helpers every
 * file of the store uses), schema.c (the schema and its migrations),
 * sites.c (the sites table), results.c (what checks found: history, state,
 * incidents), outbox.c (alerts owed), uptime.c (the uptime figures and
 * their rollup), coordinator.c (the redis coordinator's runs).
 *
 * The daemon's connection runs in WAL mode with a busy timeout, so people
 * can edit the sites with sqlite3 while it runs; results are written in
 * one transaction per batch with statements prepared once. When the file
 * cannot be opened or written, the store says why in words a person can
 * act on (the directory, the owner, the mode), where SQLite says only
 * "unable to open database file". It also notices the file deleted or
 * replaced under a running daemon (store_file_status).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "squirrel/base/log.h"
#include "squirrel/store/store.h"
#include "db.h"

#define BUSY_TIMEOUT_MS 10000

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
		if (errno == ENOENT && create && !store_may(dir, W_OK | X_OK))
			snprintf(why, len, "this user may not write in the directory %s %s", dir, who);
		else if (errno == EACCES)
			snprintf(why, len, "permission denied: this user may not search the directory "
			    "%s %s", dir, who);
		else
			snprintf(why, len, "%s", strerror(errno));
		return;
	}
	if (!store_may(path, R_OK)) {
		owner_text(&sb, who, sizeof(who));
		snprintf(why, len, "permission denied: this user may not read it %s", who);
	} else if (write && !store_may(path, W_OK)) {
		owner_text(&sb, who, sizeof(who));
		snprintf(why, len, "this user may only read it %s", who);
	} else if (write && !store_may(dir, W_OK | X_OK)) {
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

/* ---- opening and closing ---- */

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

/* Opens path again, read-only and immutable. */
static int reopen_immutable(struct store *s)
{
	sqlite3_close(s->db);
	s->db = NULL;
	return store_open_immutable(s->path, &s->db);
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
	} else if (readonly && no_shm && store_may(s->path, R_OK)) {
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
		store_error(s, "not a usable SQLite database");
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
	if (flags & STORE_CHECK_PATH) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", STORE_CHECK_CACHE_KB);
		if (store_exec(s, sql, "sizing the page cache") < 0)
			goto fail;
	}
	if (!readonly) {
		if (store_exec(s, "PRAGMA journal_mode = WAL", "enabling WAL") < 0 ||
		    store_exec(s, "PRAGMA synchronous = FULL", "setting synchronous") < 0)
			goto fail;
	}
	if (store_convert_register(s) < 0 || store_tiers_register(s) < 0 ||
	    store_migrate(s, readonly) < 0)
		goto fail;
	if (stat(path, &sb) == 0) {
		s->dev = sb.st_dev;
		s->ino = sb.st_ino;
	}
	if (!readonly && (store_results_prepare(s) < 0 || store_outbox_prepare(s) < 0 ||
	    store_sites_prepare(s) < 0 || store_certs_prepare(s) < 0 || store_tiers_prepare(s) < 0))
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
	sqlite3_finalize(s->load_cert);
	sqlite3_finalize(s->save_cert);
	store_windows_close(s);
	store_tiers_close(s);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
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
		if (stat(side, &sb) == 0 && !store_may(side, W_OK)) {
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

/* ---- the file under the connection ---- */

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

/*
 * store_private.h - what the files of the store module share: the SQLite
 * connection. Only src/store*.c include it (and so sqlite3.h).
 */
#ifndef SQUIRREL_STORE_PRIVATE_H
#define SQUIRREL_STORE_PRIVATE_H

#include <sqlite3.h>

#include "squirrel/store/store.h"

sqlite3 *store_sqlite(struct store *s);

/*
 * An SQL condition true for a check of the checks table (its columns
 * prefixed by p, "" or "c.") whose verdict is unknown: too few locations
 * answered (SQ_ERR_NO_QUORUM, recorded as "unknown" or "unknown: no answer
 * from ..."). Such a check is neither up nor down: it counts in no uptime
 * and is no failure. Matched on the class name alone or followed by ':',
 * as the verdict writes it, so that a library's own message that merely
 * begins with the word ("unknown option") stays a failure.
 */
#define STORE_UNKNOWN_SQL(p) \
	"(" p "ok = 0 AND (" p "error = 'unknown' OR substr(" p "error, 1, 8) = 'unknown:'))"

/*
 * A site's row as the daemon loads it: the first columns of a SELECT from
 * sites s LEFT JOIN site_state st. store_site_from_row() reads them into
 * site and returns NULL, or returns which column is wrong ("url is not
 * text"): the daemon skips such a row, and squirrelctl says so in its words.
 */
#define STORE_SITE_COLUMNS \
	"s.id, s.url, s.owner_email, s.name, s.interval_s, s.timeout_ms," \
	" s.fail_threshold, s.recover_threshold, s.retry_interval_s, s.remind_every_s, st.state"
#define STORE_SITE_NCOLUMNS 11

const char *store_site_from_row(sqlite3_stmt *st, struct sq_site *site);

#endif

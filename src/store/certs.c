/*
 * certs.c - the certificate last seen per site (site_cert). The check path
 * reads a site's row and writes it only when the certificate changed or
 * a warning was owed, inside the batch's transaction (alert/record.c), so
 * the row and the `cert` alert it led to are committed together. A site
 * deleted takes its row with it (a trigger).
 */
#include <stdio.h>
#include <string.h>

#include "squirrel/store/certs.h"
#include "db.h"

int store_certs_prepare(struct store *s)
{
	if (store_prepare(s, "SELECT fingerprint, not_after, first_seen, warned_days, subject, issuer"
	    " FROM site_cert WHERE site_id = ?1", STORE_KEEP, &s->load_cert,
	    "preparing a statement") < 0)
		return -1;
	return store_prepare(s, "INSERT OR REPLACE INTO site_cert (site_id, fingerprint, not_after,"
	    " subject, issuer, first_seen, warned_days) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    STORE_KEEP, &s->save_cert, "preparing a statement");
}

static void copy_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

int store_cert_load(struct store *s, int64_t site_id, struct sq_site_cert *out)
{
	sqlite3_stmt *st = s->load_cert;
	int rc;

	memset(out, 0, sizeof(*out));
	out->site_id = site_id;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, site_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(st, 0, out->fingerprint, sizeof(out->fingerprint));
		out->not_after = store_col_int(st, 1, 0);
		out->first_seen = store_col_int(st, 2, 0);
		int64_t w = store_col_int(st, 3, 0);
		out->warned_days = w > 0 && w <= 100000 ? (int)w : 0;
		copy_text(st, 4, out->subject, sizeof(out->subject));
		copy_text(st, 5, out->issuer, sizeof(out->issuer));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW) {
		store_error(s, "reading a site's certificate");
		return -1;
	}
	return 0;
}

int store_cert_save(struct store *s, const struct sq_site_cert *c)
{
	sqlite3_stmt *st = s->save_cert;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, c->site_id);
	sqlite3_bind_text(st, 2, c->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->not_after);
	sqlite3_bind_text(st, 4, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->issuer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, c->first_seen);
	sqlite3_bind_int(st, 7, c->warned_days);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "keeping a site's certificate");
		return -1;
	}
	return 0;
}

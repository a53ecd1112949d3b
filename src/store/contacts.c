/*
 * contacts.c - the contacts table and its links to sites: squirrelctl's
 * add, list, remove and --contact, and the one read delivery makes of a
 * contact by name (contact test). The copies of an alert for its contacts
 * are made where the alert is queued (outbox.c), in the same transaction.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/store/contacts.h"
#include "squirrel/store/sites.h"
#include "db.h"

#define CONTACT_COLUMNS \
	"c.id, c.name, c.kind, c.target, c.secret_file, c.kinds, c.sender, c.every_site," \
	" c.insecure, (SELECT count(*) FROM site_contacts l WHERE l.contact_id = c.id), c.api"

void store_contact_free(struct sq_contact *c)
{
	free(c->name);
	free(c->kind);
	free(c->target);
	free(c->secret_file);
	free(c->kinds);
	free(c->sender);
	free(c->api);
	memset(c, 0, sizeof(*c));
}

void store_free_contacts(struct sq_contact_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_contact_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int contact_row(sqlite3_stmt *st, void *elem, void *arg)
{
	struct sq_contact *c = elem;
	(void)arg;

	c->id = sqlite3_column_int64(st, 0);
	c->every_site = store_col_int(st, 7, 0) == 1;
	c->insecure = store_col_int(st, 8, 0) == 1;
	c->sites = store_col_int(st, 9, 0);
	if (store_col_as_text(st, 1, false, &c->name) < 0 ||
	    store_col_as_text(st, 2, false, &c->kind) < 0 ||
	    store_col_as_text(st, 3, false, &c->target) < 0 ||
	    store_col_as_text(st, 4, true, &c->secret_file) < 0 ||
	    store_col_as_text(st, 5, true, &c->kinds) < 0 ||
	    store_col_as_text(st, 6, true, &c->sender) < 0 ||
	    store_col_as_text(st, 10, true, &c->api) < 0) {
		store_contact_free(c);
		return -1;
	}
	return 0;
}

int store_contacts_list(struct store *s, struct sq_contact_list *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(s, "SELECT " CONTACT_COLUMNS " FROM contacts c ORDER BY c.name", 0, &st,
	    "reading the contacts") < 0)
		return -1;
	rc = STORE_COLLECT(s, st, contact_row, NULL, out, "reading the contacts");
	sqlite3_finalize(st);
	if (rc < 0)
		store_free_contacts(out);
	return rc;
}

int store_contact_get(struct store *s, const char *name, struct sq_contact *out)
{
	struct sq_contact_list l;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	if (store_prepare(s, "SELECT " CONTACT_COLUMNS " FROM contacts c WHERE c.name = ?1", 0, &st,
	    "reading a contact") < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = STORE_COLLECT(s, st, contact_row, NULL, &l, "reading a contact");
	sqlite3_finalize(st);
	if (rc < 0) {
		store_free_contacts(&l);
		return -1;
	}
	if (l.n == 0) {
		store_free_contacts(&l);
		return STORE_NOT_FOUND;
	}
	*out = l.v[0];
	l.n = 0;
	store_free_contacts(&l);
	return 0;
}

int store_contact_add(struct store *s, const struct sq_contact *c, int64_t *id)
{
	static const char what[] = "adding a contact";
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT 1 FROM contacts WHERE name = ?1", 0, &st, what) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return STORE_TAKEN;
	if (store_prepare(s, "INSERT INTO contacts (name, kind, target, secret_file, kinds, sender,"
	    " every_site, insecure, api) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", 0, &st,
	    what) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->target, -1, SQLITE_STATIC);
	if (c->secret_file != NULL)
		sqlite3_bind_text(st, 4, c->secret_file, -1, SQLITE_STATIC);
	if (c->kinds != NULL)
		sqlite3_bind_text(st, 5, c->kinds, -1, SQLITE_STATIC);
	if (c->sender != NULL)
		sqlite3_bind_text(st, 6, c->sender, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, c->every_site);
	sqlite3_bind_int(st, 8, c->insecure);
	if (c->api != NULL)
		sqlite3_bind_text(st, 9, c->api, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, what);
		return -1;
	}
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_contact_remove(struct store *s, const char *name)
{
	static const char what[] = "removing a contact";
	int changed = 0;

	if (store_begin(s) < 0)
		return -1;
	/* what was owed to it goes nowhere now: failed, and said so, not lost without a word */
	if (store_run(s, what, NULL, "UPDATE outbox SET status = 'failed',"
	    " last_error = 'its contact was removed' WHERE status IN ('pending', 'held') AND"
	    " contact_id = (SELECT id FROM contacts WHERE name = ?1)", "t", name) < 0 ||
	    store_run(s, what, &changed, "DELETE FROM contacts WHERE name = ?1", "t", name) < 0) {
		store_rollback(s);
		return -1;
	}
	if (changed == 0) {
		store_rollback(s);
		return STORE_NOT_FOUND;
	}
	return store_commit(s);
}

int store_site_contacts_set(struct store *s, int64_t site_id, char *const *names, size_t n,
    const char **missing)
{
	static const char what[] = "linking a site to its contacts";
	int changed;

	if (store_run(s, what, NULL, "DELETE FROM site_contacts WHERE site_id = ?1", "I",
	    site_id) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (store_run(s, what, &changed, "INSERT OR IGNORE INTO site_contacts"
		    " (site_id, contact_id) SELECT ?1, id FROM contacts WHERE name = ?2", "It",
		    site_id, names[i]) < 0)
			return -1;
		if (changed == 0) {
			/* no such contact, or named twice: only the first is an error */
			int dup = 0;
			for (size_t j = 0; j < i; j++)
				dup |= strcmp(names[j], names[i]) == 0;
			if (!dup) {
				*missing = names[i];
				return STORE_NOT_FOUND;
			}
		}
	}
	return 0;
}

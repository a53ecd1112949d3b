/*
 * test_notes.c - what schema 20 keeps for the status page, through the
 * store's API on a real SQLite file: a site's group and public flag (add,
 * edit, back to the default, the CHECKs), the notes under an incident
 * (oldest first, in both readers; an unknown incident and a text too long
 * refused, nothing written), and an owner's page token (32 lowercase hex
 * characters, the same on every call and after reopening, another for
 * another owner).
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squirrel/store/results.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"
#include "tap.h"

static char dir[] = "/tmp/squirrel-notes-XXXXXX";

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static struct sq_site_edit keep(void)
{
	struct sq_site_edit e;

	memset(&e, 0, sizeof(e));
	e.enabled = SQ_EDIT_KEEP;
	e.keyword_nocase = SQ_EDIT_KEEP;
	for (int i = 0; i < SQ_SET_MAX; i++)
		e.set[i] = SQ_EDIT_KEEP;
	return e;
}

/* The site's group and public flag as the listing reads them. */
static void listed(struct store *s, int64_t id, const char *group, bool public, const char *what)
{
	struct sq_site_info_list l = { NULL, 0 };

	if (store_site_infos(s, id, &l) < 0 || l.n != 1) {
		ok(0, "%s: the site listed", what);
		return;
	}
	if (group == NULL)
		ok(l.v[0].group_name == NULL, "%s: no group", what);
	else
		is_str(l.v[0].group_name, group, "%s: group_name", what);
	ok(l.v[0].public == public, "%s: public %s", what, public ? "yes" : "no");
	store_free_site_infos(&l);
}

static void test_group_public(struct store *s)
{
	struct sq_site_edit more = keep();
	struct sq_site_settings st;
	int64_t id = 0, other = 0, plain = 0;

	more.text[SQ_TEXT_GROUP] = "Shop";
	more.set[SQ_SET_PUBLIC] = 1;
	struct sq_site_new n = { .url = "http://a.notes.test/", .owner_email = "o@notes.test",
		.more = &more };
	is_int(store_add_site(s, &n, &id), 0, "add with a group and public");
	listed(s, id, "Shop", true, "add");
	ok(store_site_settings(s, id, &st) == 0, "the site's settings");
	is_str(st.text[SQ_TEXT_GROUP], "Shop", "settings: group_name");
	is_int(st.set[SQ_SET_PUBLIC], 1, "settings: public");
	store_free_site_settings(&st);

	struct sq_site_new p = { .url = "http://b.notes.test/", .owner_email = "o@notes.test" };
	is_int(store_add_site(s, &p, &plain), 0, "add without them");
	listed(s, plain, NULL, false, "a plain site");
	ok(store_site_settings(s, plain, &st) == 0, "its settings");
	ok(st.text[SQ_TEXT_GROUP] == NULL, "settings: no group");
	is_int(st.set[SQ_SET_PUBLIC], -1, "settings: public NULL (not public)");
	store_free_site_settings(&st);

	struct sq_site_edit e = keep();
	e.text[SQ_TEXT_GROUP] = "Blog";
	e.set[SQ_SET_PUBLIC] = 0;
	is_int(store_edit_site(s, id, &e, &other), 0, "edit the group, public 0");
	listed(s, id, "Blog", false, "edit");
	e = keep();
	e.text[SQ_TEXT_GROUP] = "";
	e.set[SQ_SET_PUBLIC] = SQ_EDIT_DEFAULT;
	is_int(store_edit_site(s, id, &e, &other), 0, "edit both back to the default");
	listed(s, id, NULL, false, "default");
	ok(store_site_settings(s, id, &st) == 0, "the settings again");
	ok(st.text[SQ_TEXT_GROUP] == NULL && st.set[SQ_SET_PUBLIC] == -1, "both NULL in the database");
	store_free_site_settings(&st);

	/* the CHECKs refuse what the command line refuses first */
	static char long_group[102];
	memset(long_group, 'g', 101);
	const char *bad[] = { long_group, "two\nlines", "tab\there", "del\x7f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = keep();
		e.text[SQ_TEXT_GROUP] = bad[i];
		is_int(store_edit_site(s, id, &e, &other), -1, "a bad group name refused (%zu)", i);
	}
	e = keep();
	e.set[SQ_SET_PUBLIC] = 2;
	is_int(store_edit_site(s, id, &e, &other), -1, "public 2 refused");
	listed(s, id, NULL, false, "after the refusals");
	memset(long_group, 'g', 100);
	long_group[100] = '\0';
	e = keep();
	e.text[SQ_TEXT_GROUP] = long_group;
	is_int(store_edit_site(s, id, &e, &other), 0, "a group of 100 bytes taken");
	e.text[SQ_TEXT_GROUP] = "Caf\xc3\xa9 \xe2\x98\x95";
	is_int(store_edit_site(s, id, &e, &other), 0, "UTF-8 taken");
	listed(s, id, "Caf\xc3\xa9 \xe2\x98\x95", false, "UTF-8");
}

static void test_notes(struct store *s, const char *path)
{
	struct sq_site_new n = { .url = "http://down.notes.test/", .owner_email = "o@notes.test" };
	int64_t site = 0, incident;
	char text[SQ_NOTE_MAX + 2];

	store_add_site(s, &n, &site);
	ok(store_incident_open(s, site, 1000, "HTTP 503") == 0, "an incident opened");
	incident = sql_int(path, "SELECT max(id) FROM incidents");
	ok(incident > 0, "its id");

	is_int(store_incident_note_add(s, incident, 1300, "second, written first"), 0, "a note");
	is_int(store_incident_note_add(s, incident, 1200, "first\nof two lines"), 0, "an earlier note");
	is_int(store_incident_note_add(s, incident + 1000, 1300, "nowhere"), STORE_NOT_FOUND,
	    "an unknown incident: STORE_NOT_FOUND");
	memset(text, 'x', SQ_NOTE_MAX + 1);
	text[SQ_NOTE_MAX + 1] = '\0';
	is_int(store_incident_note_add(s, incident, 1400, text), -1, "1001 characters refused");
	is_int(store_incident_note_add(s, incident, 1400, ""), -1, "an empty note refused");
	text[SQ_NOTE_MAX] = '\0';
	is_int(store_incident_note_add(s, incident, 1500, text), 0, "1000 characters taken");
	is_int(sql_int(path, "SELECT count(*) FROM incident_notes"), 3, "three notes written");

	struct sq_reader *r = store_reader_open(s);
	struct sq_incident_list l = { NULL, 0 };
	ok(r != NULL && store_reader_incidents(r, site, 0, 5, &l) == 0 && l.n == 1,
	    "the reader lists the incident");
	if (l.n == 1) {
		is_int(l.v[0].nnotes, 3, "reader: its three notes");
		if (l.v[0].nnotes == 3) {
			is_int(l.v[0].notes[0].at, 1200, "reader: oldest first");
			is_str(l.v[0].notes[0].text, "first\nof two lines", "reader: the text as written");
			is_int(l.v[0].notes[1].at, 1300, "reader: then the next");
			is_int(strlen(l.v[0].notes[2].text), SQ_NOTE_MAX, "reader: the long one whole");
		}
	}
	store_free_incidents(&l);
	store_reader_close(r);

	struct sq_incident_rows rows = { NULL, 0 };
	ok(store_incident_rows(s, 0, 0, 0, &rows) == 0 && rows.n == 1, "squirrelctl's listing");
	if (rows.n == 1 && rows.v[0].nnotes == 3) {
		is_str(rows.v[0].notes[0].text, "first\nof two lines", "listing: oldest first");
		is_int(rows.v[0].notes[1].at, 1300, "listing: the second");
	} else {
		ok(0, "listing: three notes");
	}
	store_free_incident_rows(&rows);
}

static void test_tokens(struct store *s, const char *path)
{
	char a[33], again[33], b[33];

	memset(a, 0, sizeof(a));
	is_int(store_owner_token(s, "o@notes.test", a), 0, "a token");
	is_int(strlen(a), 32, "32 characters");
	is_int(strspn(a, "0123456789abcdef"), 32, "lowercase hex: %s", a);
	is_int(store_owner_token(s, "o@notes.test", again), 0, "asked again");
	is_str(again, a, "the same token");
	is_int(store_owner_token(s, "p@notes.test", b), 0, "another owner's");
	ok(strcmp(a, b) != 0, "another token");
	is_int(sql_int(path, "SELECT count(*) FROM owner_pages"), 2, "two kept");

	/* read back by a connection that only reads */
	struct store *ro = store_open(path, STORE_READONLY);
	ok(ro != NULL, "reopened read-only");
	if (ro != NULL) {
		is_int(store_owner_token(ro, "o@notes.test", again), 0, "read-only: the kept token");
		is_str(again, a, "read-only: the same");
		is_int(store_owner_token(ro, "q@notes.test", again), -1,
		    "read-only: none made for a new owner (said)");
		store_close(ro);
	}
	is_int(sql_int(path, "SELECT count(*) FROM owner_pages"), 2, "still two");
}

int main(void)
{
	char path[256], side[300];
	struct store *s;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	s = store_open(path, STORE_CREATE);
	ok(s != NULL, "a database at schema version %d", store_schema_version());
	if (s != NULL) {
		is_int(store_schema_version(), 20, "schema 20");
		test_group_public(s);
		test_notes(s, path);
		test_tokens(s, path);
		store_close(s);
	}
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	rmdir(dir);
	return tap_done();
}

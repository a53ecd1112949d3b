/*
 * sites.h - the sites table (src/store/sites.c): the rows the daemon loads
 * and the change counter it polls, and what squirrelctl does to the table:
 * list, find, add, edit, enable, remove.
 */
#ifndef SQUIRREL_STORE_SITES_H
#define SQUIRREL_STORE_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/site.h"
#include "squirrel/core/state.h"
#include "squirrel/store/store.h"

/*
 * Loads the enabled sites, ordered by id. Rows whose columns have the wrong
 * type are logged by id and skipped. Returns 0 or -1 (logged).
 */
int store_load_sites(struct store *s, struct sq_site_list *out);
void store_free_sites(struct sq_site_list *l);
/* Frees one row's strings (the struct itself is the caller's). */
void store_free_site(struct sq_site *site);

/*
 * A counter that every INSERT, UPDATE or DELETE on sites bumps (triggers):
 * cheap to poll, so live edits are noticed without re-reading every row.
 */
int store_sites_version(struct store *s, int64_t *version);

/* A site as people see it: its row, its state, its counters, and whether it is skipped. */
struct sq_site_info {
	int64_t id;
	char *url;
	char *owner_email;
	char *name;              /* NULL when unset */
	bool enabled;
	int64_t interval_s;      /* 0: the configured default */
	int64_t timeout_ms;      /* 0: the configured default */
	enum sq_state state;
	int64_t since;           /* unix s the state began; 0 unknown */
	int64_t last_check;      /* unix s; 0 never checked */
	int64_t last_status;
	int64_t last_ms;
	char *last_error;        /* "" when the last check was good */
	int64_t checks_total;    /* since the site was added; pruning leaves them */
	int64_t failures_total;
	int64_t cert_not_after;  /* unix s: when the certificate last seen ends; 0 none */
	char *group_name;        /* its section of the status page; NULL when none */
	bool public;             /* on the public page (NULL in the database: no) */
	/*
	 * Why squirreld skips this row, worded as its log line after
	 * "skipped: " ("bad url: ...", "interval_s is not a positive whole
	 * number"); NULL when it can be checked. Said of a disabled row too:
	 * enabling it would not get it checked.
	 */
	char *skipped;
};

struct sq_site_info_list {
	struct sq_site_info *v;
	size_t n;
};

/* The sites (all with id 0, else that one), by id. 0 or -1 (logged). */
int store_site_infos(struct store *s, int64_t id, struct sq_site_info_list *out);
void store_free_site_infos(struct sq_site_info_list *l);

enum { STORE_FOUND = 0, STORE_NOT_FOUND = 1, STORE_AMBIGUOUS = 2 };

/*
 * A site named the way people name it: all digits is an id, anything else
 * a URL as stored. STORE_FOUND (*id set), STORE_NOT_FOUND, STORE_AMBIGUOUS
 * (several sites watch that URL; *id is one of them), or -1.
 */
int store_find_site(struct store *s, const char *key, int64_t *id);

struct sq_site_edit;

/*
 * A new site; interval_s and timeout_ms 0 leave the configured default;
 * more, when not NULL, sets its other columns in the same transaction
 * (as edit would: its url, owner and name are not read).
 */
struct sq_site_new {
	const char *url;
	const char *owner_email;
	const char *name;        /* NULL: none */
	int interval_s;
	int timeout_ms;
	const struct sq_site_edit *more;
};

/*
 * Adds a site. 0 (*id: the new one), 1 when that URL is already watched
 * for that address (*id: that site; nothing written), or -1 (logged: the
 * database refused it).
 */
int store_add_site(struct store *s, const struct sq_site_new *n, int64_t *id);

/*
 * A change to a site, as squirrelctl edit asks it: a NULL string or
 * SQ_EDIT_KEEP leaves the column as it is; SQ_EDIT_DEFAULT sets a number
 * back to NULL (the configured default); name "" removes the name.
 */
#define SQ_EDIT_KEEP (-2)
#define SQ_EDIT_DEFAULT (-1)

enum sq_setting {
	SQ_SET_INTERVAL,         /* interval_s */
	SQ_SET_TIMEOUT,          /* timeout_ms */
	SQ_SET_FAIL,             /* fail_threshold */
	SQ_SET_RECOVER,          /* recover_threshold */
	SQ_SET_RETRY,            /* retry_interval_s */
	SQ_SET_REMIND,           /* remind_every_s (0: no reminders for this site) */
	SQ_SET_SLOW,             /* slow_ms (0: never slow for this site) */
	SQ_SET_ALERT_DEGRADED,   /* alert_degraded (0 or 1) */
	SQ_SET_DEPENDS,          /* depends_on (a site id; NULL: none) */
	SQ_SET_PUBLIC,           /* public (0 or 1; NULL: not public) */
	SQ_SET_MAX
};

/*
 * The text columns of what the answer must be: the value as stored
 * ("GET", "200-299,301", "Welcome", "absent"), NULL to leave it, "" to set
 * it back to NULL (the default).
 */
enum sq_text_setting {
	SQ_TEXT_METHOD,          /* method */
	SQ_TEXT_EXPECT_STATUS,   /* expect_status */
	SQ_TEXT_KEYWORD,         /* keyword */
	SQ_TEXT_KEYWORD_MODE,    /* keyword_mode */
	SQ_TEXT_CERT_WARN_DAYS,  /* cert_warn_days ("30,14,7,1") */
	SQ_TEXT_GROUP,           /* group_name (1 to SQ_GROUP_MAX bytes, no control characters) */
	SQ_TEXT_MAX
};

#define SQ_GROUP_MAX 100          /* bytes of a group's name (sites.group_name's CHECK) */

struct sq_site_edit {
	const char *url;
	const char *owner_email;
	const char *name;
	int enabled;             /* SQ_EDIT_KEEP, 0 or 1 */
	int64_t set[SQ_SET_MAX]; /* a value, SQ_EDIT_KEEP or SQ_EDIT_DEFAULT */
	const char *text[SQ_TEXT_MAX];
	int keyword_nocase;      /* SQ_EDIT_KEEP, SQ_EDIT_DEFAULT, 0 or 1 */
};

/* A site's own columns: what edit changes. */
struct sq_site_settings {
	int64_t id;
	char *url;
	char *owner_email;
	char *name;              /* NULL when unset */
	bool enabled;
	int64_t set[SQ_SET_MAX]; /* -1: NULL, the configured default */
	char *text[SQ_TEXT_MAX]; /* NULL: NULL, the default */
	int keyword_nocase;      /* -1: NULL */
};

/* The column of each sq_setting, and of each sq_text_setting, as the sites table names it. */
extern const char *const sq_setting_columns[SQ_SET_MAX];
extern const char *const sq_text_columns[SQ_TEXT_MAX];

enum { STORE_TAKEN = 3, STORE_REFUSED = 4 };

/*
 * Applies e to site id in one UPDATE, in a transaction (the sites_version
 * trigger tells the daemon). 0, STORE_NOT_FOUND, STORE_TAKEN when another
 * site already watches the resulting URL for the resulting owner (*other:
 * that site; nothing written), STORE_REFUSED when its depends_on names no
 * site or closes a cycle (logged with the chain; nothing written), or -1
 * (logged: the database refused it). store_add_site refuses a missing
 * parent the same way (returns STORE_REFUSED).
 */
int store_edit_site(struct store *s, int64_t id, const struct sq_site_edit *e, int64_t *other);

/* Site id's own columns. 0, STORE_NOT_FOUND, or -1. */
int store_site_settings(struct store *s, int64_t id, struct sq_site_settings *out);
void store_free_site_settings(struct sq_site_settings *st);

/*
 * The token naming owner_email's status page (owner-TOKEN.html): 32
 * lowercase hex characters from 16 random bytes, made and kept on first
 * use (owner_pages), the same ever after. Needs a store that writes the
 * first time. 0 or -1 (logged).
 */
#define SQ_OWNER_TOKEN_LEN 32
int store_owner_token(struct store *s, const char *owner_email, char out[33]);

/* The tokens made so far, by address: the operators' page lists the owner pages. */
struct sq_owner_token {
	char *owner_email;
	char token[SQ_OWNER_TOKEN_LEN + 1];   /* "" for a row that is not one */
};

struct sq_owner_token_list {
	struct sq_owner_token *v;
	size_t n;
};

int store_owner_tokens(struct store *s, struct sq_owner_token_list *out);
void store_free_owner_tokens(struct sq_owner_token_list *l);

/* 0, STORE_NOT_FOUND, or -1. Its history and incidents stay (pruned by age). */
int store_remove_site(struct store *s, int64_t id);
int store_enable_site(struct store *s, int64_t id, bool enabled);

#endif

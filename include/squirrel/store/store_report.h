/*
 * store_report.h - what people ask of the database: squirrelctl's listings
 * and edits, the uptime figures, and what the status page and the metrics
 * show. Part of the store module (src/store/store_report.c): still the only
 * place that speaks SQL.
 *
 * Uptime is time-weighted: a check's verdict holds until the site's next
 * check, but at most twice the site's interval (its interval_s, else the
 * configured one, see store_set_default_interval) and at most a day. Time
 * no check covers counts neither up nor down, so a stopped daemon is not
 * an outage and not uptime either. The latest check holds until now, at
 * most that same cap.
 */
#ifndef SQUIRREL_STORE_REPORT_H
#define SQUIRREL_STORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/state.h"
#include "squirrel/store/store.h"

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

/* A new site; interval_s and timeout_ms 0 leave the configured default. */
struct sq_site_new {
	const char *url;
	const char *owner_email;
	const char *name;        /* NULL: none */
	int interval_s;
	int timeout_ms;
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
	SQ_SET_MAX
};

struct sq_site_edit {
	const char *url;
	const char *owner_email;
	const char *name;
	int enabled;             /* SQ_EDIT_KEEP, 0 or 1 */
	int64_t set[SQ_SET_MAX]; /* a value, SQ_EDIT_KEEP or SQ_EDIT_DEFAULT */
};

/* A site's own columns: what edit changes. */
struct sq_site_settings {
	int64_t id;
	char *url;
	char *owner_email;
	char *name;              /* NULL when unset */
	bool enabled;
	int64_t set[SQ_SET_MAX]; /* -1: NULL, the configured default */
};

/* The column of each sq_setting, as the sites table names it. */
extern const char *const sq_setting_columns[SQ_SET_MAX];

enum { STORE_TAKEN = 3 };

/*
 * Applies e to site id in one UPDATE, in a transaction (the sites_version
 * trigger tells the daemon). 0, STORE_NOT_FOUND, STORE_TAKEN when another
 * site already watches the resulting URL for the resulting owner (*other:
 * that site; nothing written), or -1 (logged: the database refused it).
 */
int store_edit_site(struct store *s, int64_t id, const struct sq_site_edit *e, int64_t *other);

/* Site id's own columns. 0, STORE_NOT_FOUND, or -1. */
int store_site_settings(struct store *s, int64_t id, struct sq_site_settings *out);
void store_free_site_settings(struct sq_site_settings *st);

/* 0, STORE_NOT_FOUND, or -1. Its history and incidents stay (pruned by age). */
int store_remove_site(struct store *s, int64_t id);
int store_enable_site(struct store *s, int64_t id, bool enabled);

struct sq_check_row {
	int64_t id;
	int64_t checked_at;
	bool ok;
	int64_t http_status;
	int64_t ms;
	char *error;
};

struct sq_check_list {
	struct sq_check_row *v;
	size_t n;
};

/* A site's checks since since, newest first, at most limit (0: all). */
int store_history(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_check_list *out);
void store_free_checks(struct sq_check_list *l);

/* The outbox's pending and failed alerts, oldest first. */
struct sq_outbox_row {
	int64_t id;
	int64_t site_id;
	char *owner_email;
	char *url;
	char *name;              /* NULL when the site had none */
	char *kind;              /* "down", "up", "reminder" */
	char *status;            /* "pending", "failed" */
	int64_t created_at;
	int64_t attempts;
	int64_t next_attempt;
	char *last_error;
};

struct sq_outbox_list {
	struct sq_outbox_row *v;
	size_t n;
};

int store_outbox_list(struct store *s, struct sq_outbox_list *out);

/* Incidents as squirrelctl lists them, with their site's name and URL. */
struct sq_incident_row {
	int64_t id;
	int64_t site_id;
	char *name;              /* NULL: the site has none, or was removed */
	char *url;               /* NULL: the site was removed */
	int64_t started_at;
	int64_t ended_at;        /* 0 while it lasts */
	char *cause;
};

struct sq_incident_rows {
	struct sq_incident_row *v;
	size_t n;
};

/*
 * The incidents of site_id (0: every site) open at since or ended since
 * then, newest first, at most limit (0: all). 0 or -1 (logged).
 */
int store_incident_rows(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_rows *out);
void store_free_incident_rows(struct sq_incident_rows *l);
void store_free_outbox(struct sq_outbox_list *l);

/*
 * A reader: one consistent snapshot of the database (a read transaction)
 * and statements prepared once, for a report over many sites. Close it
 * soon: it is meant for seconds, not minutes. NULL on error (logged).
 */
struct sq_reader;
struct sq_reader *store_reader_open(struct store *s);
void store_reader_close(struct sq_reader *r);

struct sq_uptime {
	int64_t up_s;            /* seconds watched and up */
	int64_t down_s;          /* seconds watched and down */
};

/* A site's uptime over [from, to), as of now. 0 or -1. */
int store_reader_uptime(struct sq_reader *r, int64_t site_id, int64_t from, int64_t to,
    int64_t now, struct sq_uptime *u);

/* The same for ndays UTC days from first_day (a midnight), one per day. */
int store_reader_uptime_days(struct sq_reader *r, int64_t site_id, int64_t first_day,
    int ndays, int64_t now, struct sq_uptime *days);

/* The good checks' response times since from, in time order (ties in any). */
struct sq_rt_sample {
	int64_t t;
	int64_t ms;
};

int store_reader_response_times(struct sq_reader *r, int64_t site_id, int64_t from,
    struct sq_rt_sample **v, size_t *n);

struct sq_incident {
	int64_t id;
	int64_t started_at;
	int64_t ended_at;        /* 0 while it lasts */
	char *cause;
};

struct sq_incident_list {
	struct sq_incident *v;
	size_t n;
};

/* A site's incidents open or ended since since, newest first, at most limit. */
int store_reader_incidents(struct sq_reader *r, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_list *out);
void store_free_incidents(struct sq_incident_list *l);

/* The figures squirrelctl status shows, as of now. */
struct sq_figures {
	struct sq_uptime day;    /* the last 24 h */
	struct sq_uptime week;   /* 7 d */
	struct sq_uptime month;  /* 30 d */
	int64_t p50_ms;          /* of the good checks of the last 24 h; -1 none */
	int64_t p95_ms;
	int64_t incidents;       /* open or ended within the last 30 d */
};

int store_reader_figures(struct sq_reader *r, int64_t site_id, int64_t now,
    struct sq_figures *f);

/*
 * The nearest-rank percentile (1 to 100) of n values, which it reorders;
 * -1 if n is 0.
 */
int64_t percentile(int64_t *v, size_t n, int pct);

#endif

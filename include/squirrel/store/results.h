/*
 * results.h - what the checks found (src/store/results.c). The check
 * path's writes, made inside record's transaction: each check with the
 * site's new state, and the incident a transition opens or closes. Then
 * the same history read back for people, and pruned by age.
 */
#ifndef SQUIRREL_STORE_RESULTS_H
#define SQUIRREL_STORE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/check.h"
#include "squirrel/core/state.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"

/*
 * A site's state (zeroed for a site never checked). Returns 0, 1 when the
 * site no longer exists or was disabled (its result is then dropped: its
 * check began before), or -1.
 */
int store_load_state(struct store *s, int64_t site_id, struct sq_site_state *st);

/*
 * What the sites behind site_id need of it (dependencies): its state,
 * fail_count, parent_down and behind, and the error people read of its
 * latest check in error. 0, 1 when it was never checked (st zeroed), -1.
 */
int store_load_parent(struct store *s, int64_t site_id, struct sq_site_state *st,
    char *error, size_t len);

/*
 * The sites behind site_id (site_state.behind) onto the alert alert_id,
 * inside record's transaction: at most `shown` of those still failing and
 * `shown` of those back (outbox_children), and how many of each
 * (outbox.children, children_back). DOWN (up false): those whose latest
 * check was `parent down`; UP: all of them, and their behind ends.
 * 0 or -1 (logged).
 */
int store_alert_children(struct store *s, int64_t alert_id, int64_t site_id, bool up,
    int shown);

/*
 * The DOWN alert of site_id still waiting to be mailed (its list of the
 * sites behind it can still grow): its id, or 0. 0 or -1 (logged).
 */
int store_pending_down(struct store *s, int64_t site_id, int64_t *alert_id);

/* One check: a history row and the site's new state. 0 or -1. */
int store_save_check(struct store *s, const struct sq_result *r, const struct sq_site_state *st);
/*
 * The same, keeping each location's answer (r->votes) in check_locations;
 * locations names them by sq_vote.location ([redis] locations, in order).
 */
int store_save_check_votes(struct store *s, const struct sq_result *r,
    const struct sq_site_state *st, const char *const *locations, int nlocations);

/*
 * What a history row says besides the verdict: the maintenance window it
 * fell in (its id; 0 none), and whether it was a success slower than the
 * site's slow_ms.
 */
struct sq_check_marks {
	int64_t maintenance;
	bool slow;
};

/* store_save_check_votes with marks (NULL: none). */
int store_save_check_marked(struct store *s, const struct sq_result *r,
    const struct sq_site_state *st, const char *const *locations, int nlocations,
    const struct sq_check_marks *marks);

/*
 * Incidents are the down periods the state machine confirmed, kept for
 * good. Call these inside record's transaction, with the transition: open
 * at the DOWN alert (at = the state's since, cause = the check's error),
 * close at the UP alert. Opening while one is open, or closing when none
 * is, changes nothing. 0 or -1 (logged).
 */
int store_incident_open(struct store *s, int64_t site_id, int64_t at, const char *cause);
int store_incident_close(struct store *s, int64_t site_id, int64_t at);

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

/* Incidents as squirrelctl lists them, with their site's name and URL. */
struct sq_incident_row {
	int64_t id;
	int64_t site_id;
	char *name;              /* NULL: the site has none, or was removed */
	char *url;               /* NULL: the site was removed */
	int64_t started_at;
	int64_t ended_at;        /* 0 while it lasts */
	char *cause;
	struct sq_incident_note *notes;  /* oldest first; NULL when none */
	size_t nnotes;
};

struct sq_incident_rows {
	struct sq_incident_row *v;
	size_t n;
};

/*
 * The incidents of site_id (0: every site) open at since or ended since
 * then, newest first, at most limit (0: all), each with its notes.
 * 0 or -1 (logged).
 */
int store_incident_rows(struct store *s, int64_t site_id, int64_t since, size_t limit,
    struct sq_incident_rows *out);
void store_free_incident_rows(struct sq_incident_rows *l);

/*
 * A note under incident incident_id, written at `at` (unix s): text of 1
 * to 1000 characters (the caller refuses control characters). 0,
 * STORE_NOT_FOUND (no such incident; nothing written), or -1 (logged).
 */
#define SQ_NOTE_MAX 1000
int store_incident_note_add(struct store *s, int64_t incident_id, int64_t at, const char *text);

#endif

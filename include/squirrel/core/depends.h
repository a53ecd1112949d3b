/*
 * depends.h - a site behind another (sites.depends_on): the pure rules.
 * Which parents squirrelctl refuses (a missing site, a cycle), which
 * dependencies a loaded list ignores (a cycle typed with sqlite3), and
 * when a failing check is `parent down` rather than the site's own
 * failure. The store runs the queries, alert/record.c applies the rule in
 * a batch's transaction.
 */
#ifndef SQUIRREL_CORE_DEPENDS_H
#define SQUIRREL_CORE_DEPENDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/site.h"
#include "squirrel/core/state.h"

/* A chain is followed this far at most: longer is refused as if a cycle. */
#define DEPENDS_DEPTH_MAX 64

/*
 * The caller's view of the sites table: site id's depends_on in *parent
 * (0: none). 1 when found, 0 when there is no site id, -1 on an error
 * (said by the caller).
 */
typedef int (*depends_lookup_fn)(void *arg, int64_t id, int64_t *parent);

/*
 * Whether site id may depend on site parent: 0, 1 with the reason in why
 * ("there is no site 9", "site 1 would depend on itself", "that makes a
 * cycle: site 3 -> site 1 -> site 2 -> site 3"), or -1 when lookup failed.
 * id 0 is a site not made yet (add): only the parent's existence counts.
 */
int depends_refusal(int64_t id, int64_t parent, depends_lookup_fn lookup, void *arg,
    char *why, size_t len);

/*
 * A loaded list (ordered by id): each cycle of depends_on among its sites
 * logged once, named by its chain, and ignored for the sites in it
 * (depends_on 0); a parent not in the list (disabled, removed) is ignored
 * too. Returns how many sites are in cycles.
 */
size_t depends_break_cycles(struct sq_site *v, size_t n);

/*
 * Whether a site counts as down for the sites behind it, from its stored
 * state: DOWN, failing and not yet confirmed, or itself behind a parent
 * down. (A site checked in the same batch is down when that check failed.)
 */
bool depends_counts_down(const struct sq_site_state *st);

/*
 * The detail of a `parent down` result: the parent's id and its error
 * ("parent down: site 4: connect refused"), or, deeper in a chain, the
 * site at its root ("parent down: site 4, behind site 2: connect refused").
 */
void depends_detail(int64_t parent, int64_t root, const char *root_error, char *buf,
    size_t len);

#endif

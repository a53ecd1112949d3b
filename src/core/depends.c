/*
 * depends.c - a site behind another: when its failures are its parent's.
 *
 * No foreign key can say that a parent exists for rows typed by hand, nor
 * that a chain ends, so both are decided here: squirrelctl refuses a parent
 * that is missing or closes a cycle (depends_refusal), and a cycle made
 * with sqlite3 anyway is said once per load of the sites and ignored for
 * the sites in it (depends_break_cycles): they alert on their own. The walk
 * over a loaded list visits each site once, so ten thousand sites cost ten
 * thousand steps.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/core/depends.h"

/* Appends " -> site N" (or the first "site N") to buf, cut with "..." when full. */
static void chain_add(char *buf, size_t len, int64_t id)
{
	size_t used = strlen(buf);

	if (used + 1 >= len)
		return;
	int n = snprintf(buf + used, len - used, "%ssite %" PRId64, used > 0 ? " -> " : "", id);
	if (n < 0 || (size_t)n >= len - used)
		snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
}

int depends_refusal(int64_t id, int64_t parent, depends_lookup_fn lookup, void *arg,
    char *why, size_t len)
{
	int64_t at = parent, next;
	char chain[256] = "";

	if (parent == id) {
		snprintf(why, len, "site %" PRId64 " would depend on itself", id);
		return 1;
	}
	int rc = lookup(arg, parent, &next);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(why, len, "there is no site %" PRId64, parent);
		return 1;
	}
	if (id == 0)
		return 0;
	chain_add(chain, sizeof(chain), id);
	chain_add(chain, sizeof(chain), parent);
	for (int depth = 0; next != 0; depth++) {
		chain_add(chain, sizeof(chain), next);
		if (next == id) {
			snprintf(why, len, "that makes a cycle: %s", chain);
			return 1;
		}
		if (depth >= DEPENDS_DEPTH_MAX) {
			snprintf(why, len, "the chain is longer than %d sites: %s", DEPENDS_DEPTH_MAX,
			    chain);
			return 1;
		}
		at = next;
		if ((rc = lookup(arg, at, &next)) < 0)
			return -1;
		if (rc == 0)
			break;
	}
	return 0;
}

/* The index of site id in v (ordered by id), or -1. */
static ptrdiff_t find_site(const struct sq_site *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].id == id)
			return (ptrdiff_t)mid;
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

enum { UNSEEN = 0, ON_PATH, DONE, IN_CYCLE };

/* The cycle closed at path[from..len): said once, by its chain, and marked. */
static void cycle_found(struct sq_site *v, unsigned char *mark, const size_t *path,
    size_t from, size_t len)
{
	char chain[512] = "";

	for (size_t k = from; k < len; k++)
		chain_add(chain, sizeof(chain), v[path[k]].id);
	chain_add(chain, sizeof(chain), v[path[from]].id);
	log_warnx("sites depend on each other in a cycle (%s): depends_on is ignored for them, "
	    "they alert on their own", chain);
	for (size_t k = from; k < len; k++)
		mark[path[k]] = IN_CYCLE;
}

size_t depends_break_cycles(struct sq_site *v, size_t n)
{
	unsigned char *mark = calloc(n ? n : 1, 1);
	size_t *path = calloc(n ? n : 1, sizeof(*path)), cycles = 0;

	if (mark == NULL || path == NULL) {
		log_errorx("out of memory following depends_on: every dependency is ignored");
		for (size_t i = 0; i < n; i++)
			v[i].depends_on = 0;
		free(mark);
		free(path);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		ptrdiff_t at = (ptrdiff_t)i;
		/* follow the chain until it ends, meets a site already walked, or itself */
		while (at >= 0 && mark[at] == UNSEEN) {
			mark[at] = ON_PATH;
			path[len++] = (size_t)at;
			ptrdiff_t up = v[at].depends_on > 0 ? find_site(v, n, v[at].depends_on) : -1;
			if (up < 0 && v[at].depends_on != 0) {
				log_debug("site %" PRId64 ": depends_on %" PRId64 " is not a site checked:"
				    " ignored", v[at].id, v[at].depends_on);
				v[at].depends_on = 0;
			}
			at = up;
		}
		if (at >= 0 && mark[at] == ON_PATH) {
			size_t from = 0;
			while (path[from] != (size_t)at)
				from++;
			cycle_found(v, mark, path, from, len);
		}
		for (size_t k = 0; k < len; k++)
			if (mark[path[k]] == ON_PATH)
				mark[path[k]] = DONE;
	}
	for (size_t i = 0; i < n; i++) {
		if (mark[i] == IN_CYCLE) {
			v[i].depends_on = 0;
			cycles++;
		}
	}
	free(mark);
	free(path);
	return cycles;
}

bool depends_counts_down(const struct sq_site_state *st)
{
	return st->state == SQ_STATE_DOWN || st->fail_count > 0 || st->parent_down;
}

void depends_detail(int64_t parent, int64_t root, const char *root_error, char *buf,
    size_t len)
{
	const char *err = root_error != NULL && root_error[0] != '\0' ? root_error : "down";

	if (root == 0 || root == parent)
		snprintf(buf, len, "parent down: site %" PRId64 ": %s", parent, err);
	else
		snprintf(buf, len, "parent down: site %" PRId64 ", behind site %" PRId64 ": %s",
		    parent, root, err);
}

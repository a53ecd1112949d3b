/*
 * quorum.h - one verdict from the answers of several locations.
 *
 * A check fails when at least `quorum` locations saw it fail, and succeeds
 * as soon as so many succeeded that a quorum of failures is no longer
 * possible. Until then it is pending; a check still pending at its deadline
 * is unknown: a location that did not answer is not a vote either way.
 * Pure logic, no I/O.
 */
#ifndef SQUIRREL_QUORUM_H
#define SQUIRREL_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/check.h"

/* Locations one coordinator asks (consumer groups on <prefix>:checks). */
#define QUORUM_MAX_LOCATIONS 32

enum quorum_verdict { QUORUM_PENDING, QUORUM_UP, QUORUM_DOWN, QUORUM_UNKNOWN };

/* One location's answer, in the order of [redis] locations. */
struct quorum_vote {
	bool have;
	struct sq_result r;
};

/* With oks and fails answers of nloc locations (quorum <= nloc). */
enum quorum_verdict quorum_decide(int nloc, int quorum, int oks, int fails);

/*
 * The result handed on for a verdict (UP, DOWN, or UNKNOWN at the deadline).
 * DOWN takes the class most locations saw and names the failing locations
 * in the detail ("http 503 from paris, tokyo; timeout from sydney"); with a
 * single location the detail is the location's own. UNKNOWN names the
 * locations that did not answer. The time is the dispatch time. Every
 * verdict keeps the answers it rests on in out->votes.
 */
void quorum_compose(struct sq_result *out, enum quorum_verdict v,
    const struct quorum_vote *votes, const char *const *names, int nloc,
    int64_t site_id, uint64_t tag, int64_t started_ms);

/*
 * The groups of a DOWN verdict: the locations that gave one answer (class
 * and status), the answer most of them gave first (the first location
 * breaks ties), then the others in the order of the locations. Read from
 * r->votes, nloc locations. The detail quorum_compose() writes and the
 * alert mail's words are both made from them. Returns how many (0 for a
 * verdict without failing votes).
 */
struct quorum_group {
	int err;                  /* enum sq_err */
	int http_status;
	int first;                /* its first location */
	uint32_t locations;       /* bit i: [redis] locations' i-th */
};
int quorum_groups(const struct sq_result *r, int nloc, struct quorum_group *out);

/* "a, b": the names of the locations a group's bits say. Returns buf. */
const char *quorum_where(uint32_t locations, const char *const *names, int nloc, char *buf,
    size_t len);

/*
 * What each location saw of a verdict, for the alert mail: "down from 2 of
 * 3 locations: b http 503, c http 503; a answered 200", or "up from 3 of 3
 * locations". The locations that agree with the verdict come first (named
 * with their answers when it is down), then the others in order; a
 * location with no answer "did not answer". names are [redis] locations
 * (sq_vote.location indexes them), nloc of them. Returns buf, or NULL (buf
 * empty) for a result without votes, an unknown one, or no names.
 */
const char *quorum_describe(const struct sq_result *r, const char *const *names, int nloc,
    char *buf, size_t len);

/*
 * [redis] locations: the names in order, each once; the index of a name is
 * its sq_vote.location. Returns how many (names strdup'ed), or -1 with why.
 */
int quorum_locations(const char *list, char *names[QUORUM_MAX_LOCATIONS], char *why,
    size_t whylen);
void quorum_locations_free(char **names, int n);

#endif

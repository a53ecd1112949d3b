/*
 * quorum.c - the verdict of several locations (see quorum.h): who saw what
 * as data (the groups, for the history and the alert mail), and the same
 * groups in short inside sq_result's detail ("http 503 from a, b").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/validate.h"
#include "squirrel/scaleout/quorum.h"

enum quorum_verdict quorum_decide(int nloc, int quorum, int oks, int fails)
{
	if (fails >= quorum)
		return QUORUM_DOWN;
	/* The locations still silent could no longer make a quorum of failures. */
	if (fails + (nloc - oks - fails) < quorum)
		return QUORUM_UP;
	return QUORUM_PENDING;
}

/* Appends text to buf (len bytes), cut where it no longer fits. */
static void append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);
	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s", text);
}

/* The words, cut to what sq_result holds. */
static void set_detail(struct sq_result *out, const char *text)
{
	size_t n = strnlen(text, sizeof(out->detail) - 1);
	memcpy(out->detail, text, n);
	out->detail[n] = '\0';
}

/* "no answer from a, b": the locations that did not answer. */
static void list_silent(char *buf, size_t len, const struct quorum_vote *votes,
    const char *const *names, int nloc)
{
	bool first = true;

	append(buf, len, "no answer from ");
	for (int i = 0; i < nloc; i++) {
		if (votes[i].have)
			continue;
		append(buf, len, first ? "" : ", ");
		append(buf, len, names[i]);
		first = false;
	}
}

_Static_assert(QUORUM_MAX_LOCATIONS <= SQ_VOTES_MAX, "a verdict keeps every location's answer");
_Static_assert(QUORUM_MAX_LOCATIONS <= 32, "a group's locations are the bits of a uint32_t");

/* The answers a verdict rests on, for the history (sq_result.votes). */
static void keep_votes(struct sq_result *out, const struct quorum_vote *votes, int nloc)
{
	out->nvotes = 0;
	for (int i = 0; i < nloc && i < SQ_VOTES_MAX; i++) {
		if (!votes[i].have)
			continue;
		const struct sq_result *v = &votes[i].r;
		out->votes[out->nvotes++] = (struct sq_vote){
			.location = (uint8_t)i,
			.err = (uint8_t)(v->err >= 0 && v->err < SQ_ERR_MAX ? v->err : SQ_ERR_OTHER),
			.http_status = (uint16_t)(v->http_status > 0 && v->http_status < 1000 ?
			    v->http_status : 0),
			.ms = v->ms,
		};
	}
}

static bool same_answer(const struct sq_vote *a, const struct sq_vote *b)
{
	return a->err == b->err && a->http_status == b->http_status;
}

int quorum_groups(const struct sq_result *r, int nloc, struct quorum_group *out)
{
	const struct sq_vote *by_loc[QUORUM_MAX_LOCATIONS] = { NULL };
	int nvotes = r->nvotes < 0 ? 0 : r->nvotes > SQ_VOTES_MAX ? SQ_VOTES_MAX : r->nvotes;
	int best = -1, best_count = 0, n = 0;

	if (nloc > QUORUM_MAX_LOCATIONS)
		nloc = QUORUM_MAX_LOCATIONS;
	for (int i = 0; i < nvotes; i++) {
		const struct sq_vote *v = &r->votes[i];
		if (v->location < nloc && by_loc[v->location] == NULL && v->err != SQ_OK)
			by_loc[v->location] = v;
	}
	/* The answer most locations gave leads; the first location breaks ties. */
	for (int i = 0; i < nloc; i++) {
		int count = 0;
		if (by_loc[i] == NULL)
			continue;
		for (int j = 0; j < nloc; j++)
			count += by_loc[j] != NULL && same_answer(by_loc[i], by_loc[j]);
		if (count > best_count) {
			best = i;
			best_count = count;
		}
	}
	/* Each answer once, the leading one first, then in the order of the locations. */
	for (int k = -1; k < nloc && best >= 0; k++) {
		int i = k < 0 ? best : k;
		bool known = false;
		if (by_loc[i] == NULL)
			continue;
		for (int g = 0; g < n && !known; g++)
			known = same_answer(by_loc[out[g].first], by_loc[i]);
		if (known)
			continue;
		out[n] = (struct quorum_group){
			.err = by_loc[i]->err, .http_status = by_loc[i]->http_status, .first = i,
		};
		for (int j = 0; j < nloc; j++)
			if (by_loc[j] != NULL && same_answer(by_loc[i], by_loc[j]))
				out[n].locations |= (uint32_t)1 << j;
		n++;
	}
	return n;
}

const char *quorum_where(uint32_t locations, const char *const *names, int nloc, char *buf,
    size_t len)
{
	bool first = true;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < nloc && i < QUORUM_MAX_LOCATIONS; i++) {
		if (!(locations & ((uint32_t)1 << i)))
			continue;
		append(buf, len, first ? "" : ", ");
		append(buf, len, names[i] != NULL ? names[i] : "?");
		first = false;
	}
	return buf;
}

/*
 * A DOWN verdict: the leading group's result, and in the detail each group
 * with where it was seen, "http 503 from a, b; timeout from c", written
 * from the same groups the mail puts in words (quorum_groups).
 */
static bool compose_down(struct sq_result *out, const struct quorum_vote *votes,
    const char *const *names, int nloc)
{
	struct quorum_group g[QUORUM_MAX_LOCATIONS];
	char detail[SQ_DETAIL_MAX * 2] = "", err[160], where[SQ_DETAIL_MAX * 2];
	struct sq_result kept;

	if (nloc > QUORUM_MAX_LOCATIONS)
		nloc = QUORUM_MAX_LOCATIONS;
	keep_votes(&kept, votes, nloc);
	int n = quorum_groups(&kept, nloc, g);
	if (n == 0)
		return false;
	*out = votes[g[0].first].r;
	out->detail[0] = '\0';
	if (nloc == 1) {
		/* One location: its own words, as any local backend gives them. */
		if (out->err == SQ_ERR_OTHER)
			memcpy(out->detail, votes[g[0].first].r.detail, sizeof(out->detail));
		out->detail[sizeof(out->detail) - 1] = '\0';
		return true;
	}
	for (int i = 0; i < n; i++) {
		if (detail[0] != '\0')
			append(detail, sizeof(detail), "; ");
		append(detail, sizeof(detail), sq_result_error(&votes[g[i].first].r, err, sizeof(err)));
		append(detail, sizeof(detail), " from ");
		append(detail, sizeof(detail), quorum_where(g[i].locations, names, nloc, where,
		    sizeof(where)));
	}
	set_detail(out, detail);
	return true;
}

void quorum_compose(struct sq_result *out, enum quorum_verdict v,
    const struct quorum_vote *votes, const char *const *names, int nloc,
    int64_t site_id, uint64_t tag, int64_t started_ms)
{
	bool found = false;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < nloc && v == QUORUM_UP; i++) {
		if (votes[i].have && sq_result_ok(&votes[i].r)) {
			*out = votes[i].r;
			out->detail[0] = '\0';
			found = true;
			break;
		}
	}
	if (v == QUORUM_DOWN)
		found = compose_down(out, votes, names, nloc);
	if (!found) {
		/* unknown (or a verdict without the votes for it, which would be a bug) */
		memset(out, 0, sizeof(*out));
		out->err = SQ_ERR_NO_QUORUM;
		char detail[SQ_DETAIL_MAX * 2] = "unknown: ";
		list_silent(detail, sizeof(detail), votes, names, nloc);
		set_detail(out, detail);
	}
	out->site_id = site_id;
	out->tag = tag;
	out->started_ms = started_ms;
	keep_votes(out, votes, nloc);
}

/* One location's answer in words: "http 503", "answered 200", "did not answer". */
static const char *vote_words(const struct sq_vote *v, char *buf, size_t len)
{
	if (v == NULL) {
		snprintf(buf, len, "did not answer");
	} else if (v->err == SQ_OK) {
		if (v->http_status > 0)
			snprintf(buf, len, "answered %d", (int)v->http_status);
		else
			snprintf(buf, len, "answered");
	} else {
		struct sq_result one = { .err = v->err, .http_status = v->http_status };
		sq_result_error(&one, buf, len);
	}
	return buf;
}

const char *quorum_describe(const struct sq_result *r, const char *const *names, int nloc,
    char *buf, size_t len)
{
	const struct sq_vote *by_loc[QUORUM_MAX_LOCATIONS] = { NULL };
	int nvotes = r->nvotes < 0 ? 0 : r->nvotes > SQ_VOTES_MAX ? SQ_VOTES_MAX : r->nvotes;
	bool down = r->err != SQ_OK;
	int agree = 0;
	char words[160], head[64];

	if (len == 0)
		return NULL;
	buf[0] = '\0';
	if (nvotes == 0 || nloc <= 0 || names == NULL || r->err == SQ_ERR_NO_QUORUM)
		return NULL;
	if (nloc > QUORUM_MAX_LOCATIONS)
		nloc = QUORUM_MAX_LOCATIONS;
	for (int i = 0; i < nvotes; i++) {
		const struct sq_vote *v = &r->votes[i];
		/* a location no longer configured cannot be named: left out */
		if (v->location >= nloc || by_loc[v->location] != NULL)
			continue;
		by_loc[v->location] = v;
		if ((v->err != SQ_OK) == down)
			agree++;
	}
	snprintf(head, sizeof(head), "%s from %d of %d location%s", down ? "down" : "up", agree,
	    nloc, nloc == 1 ? "" : "s");
	append(buf, len, head);
	/* First the failing locations of a down verdict, then every other one. */
	for (int pass = 0; pass < 2; pass++) {
		bool first = true;
		for (int i = 0; i < nloc; i++) {
			const struct sq_vote *v = by_loc[i];
			bool agrees = v != NULL && (v->err != SQ_OK) == down;
			if (pass == 0 ? !(down && agrees) : agrees)
				continue;
			append(buf, len, !first ? ", " : pass == 0 ? ": " : "; ");
			first = false;
			append(buf, len, names[i] != NULL ? names[i] : "?");
			append(buf, len, " ");
			append(buf, len, vote_words(v, words, sizeof(words)));
		}
	}
	return buf;
}

int quorum_locations(const char *list, char *names[QUORUM_MAX_LOCATIONS], char *why,
    size_t whylen)
{
	char *copy = strdup(list), *save = NULL;
	int n = 0;

	if (copy == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (char *tok = strtok_r(copy, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		bool seen = false;
		if (!location_valid(tok, strlen(tok))) {
			snprintf(why, whylen, "'%.64s' is not a location name", tok);
			goto fail;
		}
		for (int i = 0; i < n && !seen; i++)
			seen = strcmp(names[i], tok) == 0;
		if (seen)
			continue;
		if (n == QUORUM_MAX_LOCATIONS) {
			snprintf(why, whylen, "more than %d", QUORUM_MAX_LOCATIONS);
			goto fail;
		}
		if ((names[n] = strdup(tok)) == NULL) {
			snprintf(why, whylen, "out of memory");
			goto fail;
		}
		n++;
	}
	free(copy);
	if (n == 0) {
		snprintf(why, whylen, "names none");
		return -1;
	}
	return n;
fail:
	free(copy);
	quorum_locations_free(names, n);
	return -1;
}

void quorum_locations_free(char **names, int n)
{
	for (int i = 0; i < n; i++) {
		free(names[i]);
		names[i] = NULL;
	}
}

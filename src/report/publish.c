/*
 * publish.c - the files the status pages are: each page with its JSON
 * beside it, written in one pass over the sites (statuspage_html calls
 * back for each site: its JSON, its badge); and what the daemon publishes
 * every minute (statuspage_publish): the operators' page, the public one
 * with the badges, one page per owner.
 *
 * Every file is replaced atomically (base/outfile.c): a web server serving
 * them never sees half of one.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "squirrel/base/log.h"
#include "squirrel/base/outfile.h"
#include "squirrel/report/badge.h"
#include "squirrel/report/page.h"
#include "squirrel/report/publish.h"
#include "squirrel/report/statusjson.h"
#include "squirrel/report/statuspage.h"
#include "squirrel/store/sites.h"

/* What a pass over the sites writes besides the HTML. */
struct pass {
	FILE *json;              /* the JSON beside the page */
	const char *badges_dir;  /* NULL: no badges */
	int badge_errors;
};

static void each_site(const struct page *p, const struct page_site *ps, size_t i, void *arg)
{
	struct pass *x = arg;

	statusjson_site(x->json, p, ps, i == 0);
	/* one failure logged a pass: the next badges would fail alike (a full disk, say) */
	if (x->badges_dir != NULL && x->badge_errors == 0 && badge_write(x->badges_dir, ps) < 0)
		x->badge_errors++;
}

/* The JSON beside a page: its name with .json for .html (or .htm), else added. */
static char *json_path(const char *html)
{
	size_t n = strlen(html);
	const char *dot = strrchr(html, '.'), *slash = strrchr(html, '/');
	if (dot != NULL && (slash == NULL || dot > slash) &&
	    (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0))
		n = (size_t)(dot - html);
	char *out = malloc(n + sizeof(".json"));
	if (out != NULL) {
		memcpy(out, html, n);
		memcpy(out + n, ".json", sizeof(".json"));
	}
	return out;
}

/*
 * The page, its JSON beside it and (badges_dir) the badges of its sites,
 * in one pass over the sites. 0 or -1 (logged; what failed keeps its old
 * file).
 */
static int write_page(struct store *s, const char *path, int64_t now,
    const struct sq_page_opts *o, const char *badges_dir)
{
	struct outfile html, json;
	struct pass x = { NULL, badges_dir, 0 };
	struct page p;
	char *jpath = json_path(path);
	int rc = -1;

	if (jpath == NULL) {
		log_errorx("%s: out of memory", path);
		return -1;
	}
	if (outfile_open(&html, path, 0644) < 0) {
		free(jpath);
		return -1;
	}
	if (outfile_open(&json, jpath, 0644) < 0) {
		outfile_abort(&html);
		free(jpath);
		return -1;
	}
	x.json = json.f;
	if (page_open(&p, s, o, now) == 0) {
		statusjson_begin(x.json, &p, o->period_s);
		rc = statuspage_html(html.f, &p, s, o->period_s, each_site, &x);
		statusjson_end(x.json, &p);
		page_close(&p);
	}
	if (rc < 0) {
		outfile_abort(&html);
		outfile_abort(&json);
	} else {
		rc = outfile_commit(&html);
		rc |= outfile_commit(&json);
	}
	if (x.badge_errors > 0)
		rc = -1;
	free(jpath);
	return rc;
}

int statuspage_write(struct store *s, const char *path, int64_t now, const struct sq_page_opts *o)
{
	return write_page(s, path, now, o, NULL);
}

/* The directory a path is in ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int by_owner(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * One page per owner of an enabled site, beside the public page (else the
 * full one), named by the owner's token: owner-TOKEN.html (the operators'
 * page lists them, put_owner_index). The site list is read once for all.
 */
static int write_owner_pages(struct store *ro, struct store *rw, const struct sq_config *cfg,
    int64_t now)
{
	struct sq_site_info_list l;
	const char *beside = cfg->page_public[0] != '\0' ? cfg->page_public : cfg->status_page;
	char *dir = dir_of(beside);
	const char **owners = NULL;
	size_t n = 0;
	int rc = 0;

	if (dir == NULL || store_site_infos(ro, 0, &l) < 0) {
		free(dir);
		return -1;
	}
	/* each owner of an enabled site once, whatever the case of the address's letters */
	if (l.n > 0 && (owners = calloc(l.n, sizeof(*owners))) == NULL) {
		log_errorx("the owners' pages: out of memory");
		rc = -1;
	}
	for (size_t i = 0; owners != NULL && i < l.n; i++)
		if (l.v[i].enabled && l.v[i].owner_email != NULL)
			owners[n++] = l.v[i].owner_email;
	if (n > 1)
		qsort(owners, n, sizeof(*owners), by_owner);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcasecmp(owners[i - 1], owners[i]) == 0)
			continue;
		char token[SQ_OWNER_TOKEN_LEN + 1], path[4096];
		if (store_owner_token(rw, owners[i], token) < 0) {
			rc = -1;
			continue;
		}
		int len = snprintf(path, sizeof(path), "%s/owner-%s.html", dir, token);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			log_errorx("%s: too long a directory for the owners' pages", dir);
			rc = -1;
			break;
		}
		struct sq_page_opts o = { .kind = SQ_PAGE_OWNER, .owner = owners[i], .cfg = cfg,
		    .period_s = STATUSPAGE_PERIOD_S, .sites = &l };
		rc |= write_page(ro, path, now, &o, NULL);
	}
	free(owners);
	store_free_site_infos(&l);
	free(dir);
	return rc;
}

/* The badges of the public sites, when there is no public page to make them with. */
static int write_badges(struct store *ro, const struct sq_page_opts *o, int64_t now,
    const char *dir)
{
	struct page_site *ps = calloc(1, sizeof(*ps));
	struct page p;
	int rc = 0;

	if (ps == NULL || page_open(&p, ro, o, now) < 0) {
		free(ps);
		return -1;
	}
	for (size_t i = 0; i < p.n && rc == 0; i++)
		if ((rc = page_site_read(&p, i, ps)) == 0)
			rc = badge_write(dir, ps);     /* the first failure ends the pass */
	page_site_clear(ps);
	free(ps);
	page_close(&p);
	return rc;
}

int statuspage_publish(struct store *ro, struct store *rw, const struct sq_config *cfg,
    int64_t now)
{
	int rc = 0;

	/* the owners' first: their tokens are made there, and the operators' page lists them */
	if (cfg->page_owner_pages && (cfg->page_public[0] != '\0' || cfg->status_page[0] != '\0'))
		rc |= write_owner_pages(ro, rw, cfg, now);
	if (cfg->status_page[0] != '\0') {
		struct sq_page_opts o = { .kind = SQ_PAGE_FULL, .cfg = cfg,
		    .period_s = STATUSPAGE_PERIOD_S };
		rc |= write_page(ro, cfg->status_page, now, &o, NULL);
	}
	if (cfg->page_public[0] != '\0' || cfg->page_badges_dir[0] != '\0') {
		/* the badges are the public sites': made in the public page's pass */
		struct sq_page_opts o = { .kind = SQ_PAGE_PUBLIC, .cfg = cfg,
		    .period_s = STATUSPAGE_PERIOD_S };
		const char *badges = cfg->page_badges_dir[0] != '\0' ? cfg->page_badges_dir : NULL;
		struct stat st;
		if (badges != NULL && (stat(badges, &st) < 0 || !S_ISDIR(st.st_mode))) {
			log_errorx("[status_page] badges_dir %s: not a directory; no badges written", badges);
			badges = NULL;
			rc = -1;
		}
		if (cfg->page_public[0] != '\0')
			rc |= write_page(ro, cfg->page_public, now, &o, badges);
		else if (badges != NULL)
			rc |= write_badges(ro, &o, now, badges);
	}
	return rc;
}

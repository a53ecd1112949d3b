/*
 * test_pages.c - the page model's two renderings besides the HTML:
 * status.json (statusjson.c) and the badges (badge.c), from a struct page
 * and its struct page_site built by hand: sites with hostile names, bytes
 * that are not UTF-8, no name, each state, nothing watched, maintenance,
 * incidents with notes. The JSON is checked by its exact text and parsed
 * by Python's json module; a badge by its exact texts and colours, parsed
 * as XML, and its file is written only when it changed (inode and mtime).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_build.h"
#include "squirrel/report/badge.h"
#include "squirrel/report/page.h"
#include "squirrel/report/statusjson.h"
#include "tap.h"

#define NOW 1796551200           /* 2026-12-06T10:00:00Z */
#define DAY 86400

enum { S_HOSTILE, S_BYTES, S_NONAME, S_SLOW, S_UNKNOWN, NSITES };

static struct sq_site_info infos[NSITES];
static const struct sq_site_info *order[NSITES];
static struct page_group groups[2];
static struct sq_window windows[1];
static struct page_site sites[NSITES];
static struct sq_incident_note notes[2];
static struct sq_incident incidents[2];
static char dir[] = "/tmp/squirrel-pages-XXXXXX";

static void no_rt(struct page_site *ps)
{
	ps->p50 = ps->p95 = -1;
	for (size_t i = 0; i < PAGE_HOURS; i++)
		ps->rt_hours[i].p50 = ps->rt_hours[i].p95 = -1;
	for (size_t i = 0; i < PAGE_RT_DAYS; i++)
		ps->rt_days[i].p50 = ps->rt_days[i].p95 = -1;
}

/*
 * The page: group "Shop" (the hostile name, down, and the name of bad
 * bytes, up), then no group (no name, degraded; a slow one; one never
 * checked).
 */
static void build(struct page *p, enum sq_page_kind kind, bool show_urls)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->now = NOW;
	p->first_day = NOW - NOW % DAY - (PAGE_DAYS - 1) * DAY;
	p->first_rt_day = NOW - NOW % DAY - (PAGE_RT_DAYS - 1) * DAY;
	p->first_hour = NOW - NOW % 3600 - (PAGE_HOURS - 1) * 3600;
	p->show_urls = show_urls;

	infos[S_HOSTILE] = (struct sq_site_info){ .id = 1, .name = "<b>\"&'\x01",
	    .url = "http://user:secret@127.0.0.1:8080/a?token=t0k", .state = SQ_STATE_DOWN,
	    .since = NOW - 600, .last_check = NOW - 30, .last_status = 503, .last_ms = 87,
	    .last_error = "http 503" };
	infos[S_BYTES] = (struct sq_site_info){ .id = 2, .name = "caf\xc3\xa9 \xff\xfe!",
	    .url = "http://127.0.0.1/", .state = SQ_STATE_UP, .since = NOW - DAY,
	    .last_check = NOW - 20, .last_status = 200, .last_ms = 0, .last_error = "" };
	infos[S_NONAME] = (struct sq_site_info){ .id = 3, .name = NULL,
	    .url = "http://127.0.0.2/", .state = SQ_STATE_DEGRADED, .since = NOW - 3600,
	    .last_check = NOW - 10, .last_status = 200, .last_ms = 2500, .last_error = "" };
	infos[S_SLOW] = (struct sq_site_info){ .id = 4, .name = "",
	    .url = "http://127.0.0.3/", .state = SQ_STATE_UP, .since = NOW - 7 * DAY,
	    .last_check = NOW - 5, .last_status = 200, .last_ms = 12, .last_error = "" };
	infos[S_UNKNOWN] = (struct sq_site_info){ .id = 5, .name = "Never",
	    .url = "http://127.0.0.4/", .state = SQ_STATE_UNKNOWN, .last_error = "" };
	for (size_t i = 0; i < NSITES; i++)
		order[i] = &infos[i];
	p->order = order;
	p->n = NSITES;
	groups[0] = (struct page_group){ .name = "Shop", .first = 0, .n = 2, .up = 1, .down = 1 };
	groups[1] = (struct page_group){ .name = NULL, .first = 2, .n = 3, .up = 2, .slow = 1,
	    .unknown = 1 };
	p->groups = groups;
	p->ngroups = 2;
	p->up = 3;
	p->down = 1;
	p->slow = 1;
	p->unknown = 1;
	p->skipped = 2;
	windows[0] = (struct sq_window){ .id = 9, .all = true, .day = -1, .from = NOW - 60,
	    .until = NOW + 3540, .reason = "deploy <v2> \"now\"" };
	p->windows.v = windows;
	p->windows.n = 1;

	memset(sites, 0, sizeof(sites));
	for (size_t i = 0; i < NSITES; i++) {
		sites[i].info = &infos[i];
		sites[i].window = -1;
		no_rt(&sites[i]);
	}
	/* the hostile one: 24 h all up, 7 d 99.95 %, 30 d two thirds, 90 d none */
	struct page_site *h = &sites[S_HOSTILE];
	h->d1 = (struct sq_uptime){ .up_s = DAY };
	h->d7 = (struct sq_uptime){ .up_s = 9995, .down_s = 5 };
	h->d30 = (struct sq_uptime){ .up_s = 2, .down_s = 1, .slow_s = 1, .maint_s = 120 };
	h->days[0] = (struct sq_uptime){ .up_s = 0, .down_s = 5 };
	h->days[PAGE_DAYS - 1] = (struct sq_uptime){ .up_s = 99999, .down_s = 1 };
	h->p50 = 40;
	h->p95 = 120;
	h->rt_hours[PAGE_HOURS - 1] = (struct sq_rt_slot){ 41, 99 };
	h->rt_days[0] = (struct sq_rt_slot){ 0, 7 };
	h->window = 0;
	h->window_start = NOW - 60;
	h->window_end = NOW + 3540;
	notes[0] = (struct sq_incident_note){ .at = NOW - 500, .text = "we are \"on it\"\n<b>" };
	notes[1] = (struct sq_incident_note){ .at = NOW - 400, .text = "fixed \xc0\xaf" };
	incidents[0] = (struct sq_incident){ .id = 7, .started_at = NOW - 600, .ended_at = 0,
	    .cause = "http 503", .notes = notes, .nnotes = 2 };
	incidents[1] = (struct sq_incident){ .id = 6, .started_at = NOW - 5 * DAY,
	    .ended_at = NOW - 5 * DAY + 300, .cause = "timeout" };
	h->inc.v = incidents;
	h->inc.n = 2;
	/* the bad bytes: 30 d 99.98 %, a maintenance window to come */
	sites[S_BYTES].d30 = (struct sq_uptime){ .up_s = 99980, .down_s = 20 };
	sites[S_BYTES].window = 0;
	sites[S_BYTES].window_start = NOW + 7 * DAY;
	sites[S_BYTES].window_end = NOW + 7 * DAY + 3600;
	/* degraded, all up over 30 d; the slow one had 1 s of 3 down */
	sites[S_NONAME].d30 = (struct sq_uptime){ .up_s = 50000, .slow_s = 4000 };
	sites[S_SLOW].d30 = (struct sq_uptime){ .up_s = 99500, .down_s = 500 };
}

static char *render_json(const struct page *p, int period_s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	statusjson_begin(f, p, period_s);
	for (size_t i = 0; i < p->n; i++)
		statusjson_site(f, p, &sites[i], i == 0);
	statusjson_end(f, p);
	fclose(f);
	return buf;
}

static char *render_badge(const struct page_site *ps)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	badge_render(f, ps);
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *s = hay; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	return n;
}

#define has(hay, needle, ...) do {                                      \
	const char *n_ = (needle);                                      \
	ok((hay) != NULL && strstr((hay), n_) != NULL, __VA_ARGS__);    \
	if ((hay) == NULL || strstr((hay), n_) == NULL)                 \
		printf("#   no '%s' in:\n#   %s\n", n_, (hay) ? (hay) : "(null)"); \
} while (0)

/* Runs python3 with code on the file holding text; its exit status. */
static int python_on(const char *text, const char *name, const char *code)
{
	char path[256], cmd[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' %s", code, path);
	int rc = system(cmd);
	unlink(path);
	return rc;
}

static const char check_full[] =
	"import json, sys\n"
	"def bad(c):\n"
	"    raise ValueError(c)\n"
	"d = json.load(open(sys.argv[1]), parse_constant=bad)\n"
	"assert d[\"version\"] == 1 and len(d[\"sites\"]) == 5, d\n"
	"for s in d[\"sites\"]:\n"
	"    assert \"url\" in s, s\n"
	"    r = s[\"response_ms\"]\n"
	"    assert len(r[\"hours\"][\"p50\"]) == 24 and len(r[\"hours\"][\"p95\"]) == 24\n"
	"    assert len(r[\"days\"][\"p50\"]) == 30 and len(r[\"days\"][\"p95\"]) == 30\n"
	"    assert len(s[\"days\"][\"uptime\"]) == 90\n"
	"h = d[\"sites\"][0]\n"
	"assert h[\"name\"] == \"<b>\\\"&\\x27\\x01\", h[\"name\"]\n"
	"assert d[\"sites\"][1][\"name\"] == \"caf\\u00e9 \\ufffd\\ufffd!\"\n"
	"assert h[\"incidents\"][0][\"notes\"][1][\"text\"] == \"fixed \\ufffd\\ufffd\"\n"
	"assert h[\"uptime\"] == {\"24h\": 100, \"7d\": 99.95, \"30d\": 66.666, \"90d\": None}\n";

static const char check_public[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"assert d[\"page\"] == \"public\" and len(d[\"sites\"]) == 5\n"
	"assert all(\"url\" not in s for s in d[\"sites\"])\n"
	"assert d[\"title\"] == \"Acme \\\"status\\\"\" and d[\"description\"] == \"line\\tone\"\n";

static const char head[] = "{\"version\":1,\"generator\":\"squirrel " SQ_VERSION "\","
	"\"generated_at\":1796551200,\"generated\":\"2026-12-06T10:00:00Z\",\"page\":\"full\","
	"\"title\":\"Status\",\"description\":\"\",\"period_s\":60,\n";

static void test_json_full(void)
{
	struct page p;

	build(&p, SQ_PAGE_FULL, true);
	char *j = render_json(&p, 60);
	ok(j != NULL && strncmp(j, head, strlen(head)) == 0, "json: the head, version to period");
	if (j == NULL)
		return;
	has(j, "\"summary\":{\"sites\":5,\"up\":3,\"down\":1,\"degraded\":1,\"unknown\":1,"
	    "\"skipped\":2}", "json: the summary");
	has(j, "\"groups\":[\n{\"name\":\"Shop\",\"sites\":2,\"up\":1,\"down\":1,\"degraded\":0,"
	    "\"unknown\":0},\n{\"name\":null,\"sites\":3,\"up\":2,\"down\":0,\"degraded\":1,"
	    "\"unknown\":1}],\n\"sites\":[\n{\"id\":1,", "json: the groups, then the sites");

	/* the hostile site, field by field */
	has(j, "{\"id\":1,\"name\":\"<b>\\\"&'\\u0001\",\"url\":"
	    "\"http://user@127.0.0.1:8080/a?token=t0k\",\"group\":\"Shop\",\"state\":\"down\","
	    "\"since\":1796550600,\"last_check\":1796551170,\"last_status\":503,\"last_ms\":87,"
	    "\"error\":\"http 503\",", "json: a hostile name escaped, the URL without its password");
	ok(strstr(j, "secret") == NULL, "json: no password anywhere");
	has(j, "\"uptime\":{\"24h\":100,\"7d\":99.95,\"30d\":66.666,\"90d\":null},"
	    "\"slow_s_30d\":1,\"maintenance_s_30d\":120,", "json: uptime figures, null when unwatched");
	has(j, "\"response_ms\":{\"p50_24h\":40,\"p95_24h\":120,\"hours\":{\"from\":1796468400,"
	    "\"step_s\":3600,\"p50\":[null,null,null,null,null,null,null,null,null,null,null,null,"
	    "null,null,null,null,null,null,null,null,null,null,null,41],\"p95\":[null,",
	    "json: the hours, null without a good check, this hour last");
	has(j, "\"days\":{\"from\":1794009600,\"step_s\":86400,\"p50\":[0,null,",
	    "json: the 30 days, a 0 ms median kept");
	has(j, ",99]},\"days\":{\"from\":1794009600,\"step_s\":86400,\"p50\":[0,null,",
	    "json: the hours' p95 closes before the days");
	has(j, "\"days\":{\"from\":1788825600,\"uptime\":[0,null,null,",
	    "json: the 90-day bar from its first day");
	has(j, ",null,99.999]},\"maintenance\":{\"from\":1796551140,\"until\":1796554740,"
	    "\"now\":true,\"reason\":\"deploy <v2> \\\"now\\\"\"},",
	    "json: today last, cut not rounded; the window in force");
	has(j, "\"incidents\":[{\"id\":7,\"started_at\":1796550600,\"ended_at\":null,"
	    "\"cause\":\"http 503\",\"notes\":[{\"at\":1796550700,\"text\":"
	    "\"we are \\\"on it\\\"\\n<b>\"},{\"at\":1796550800,\"text\":\"fixed \\ufffd\\ufffd\"}]},"
	    "{\"id\":6,\"started_at\":1796119200,\"ended_at\":1796119500,\"cause\":\"timeout\","
	    "\"notes\":[]}]}", "json: incidents, open and ended, with their notes");

	/* the others */
	has(j, "{\"id\":2,\"name\":\"caf\xc3\xa9 \\ufffd\\ufffd!\",\"url\":\"http://127.0.0.1/\","
	    "\"group\":\"Shop\",\"state\":\"up\",", "json: bytes not UTF-8 replaced");
	has(j, "\"last_status\":200,\"last_ms\":0,\"error\":null,",
	    "json: a 0 ms answer kept, no error is null");
	has(j, "\"maintenance\":{\"from\":1797156000,\"until\":1797159600,\"now\":false,",
	    "json: a window to come is not in force");
	has(j, "{\"id\":3,\"name\":null,\"url\":\"http://127.0.0.2/\",\"group\":null,"
	    "\"state\":\"degraded\",", "json: no name, no group");
	has(j, "{\"id\":4,\"name\":null,", "json: an empty name is null");
	has(j, "{\"id\":5,\"name\":\"Never\",\"url\":\"http://127.0.0.4/\",\"group\":null,"
	    "\"state\":\"unknown\",\"since\":null,\"last_check\":null,\"last_status\":null,"
	    "\"last_ms\":null,\"error\":null,\"uptime\":{\"24h\":null,\"7d\":null,\"30d\":null,"
	    "\"90d\":null},\"slow_s_30d\":0,\"maintenance_s_30d\":0,\"response_ms\":{"
	    "\"p50_24h\":null,\"p95_24h\":null,", "json: a site never checked: nulls");
	has(j, "\"maintenance\":null,\"incidents\":[]}\n]}\n", "json: the end");
	is_int(count(j, "\"maintenance\":null"), 3, "json: three sites without a window");
	is_int(python_on(j, "full.json", check_full), 0,
	    "json: python's json module reads it (no NaN, no Infinity)");
	free(j);

	/* a one-off report */
	j = render_json(&p, 0);
	has(j, "\"period_s\":0,\n", "json: a report written once has period 0");
	free(j);
}

static void test_json_public(void)
{
	static struct sq_config cfg;
	struct page p;

	cfg.page_title = "Acme \"status\"";
	cfg.page_description = "line\tone";
	build(&p, SQ_PAGE_PUBLIC, false);
	p.cfg = &cfg;
	char *j = render_json(&p, 60);
	has(j, "\"page\":\"public\",\"title\":\"Acme \\\"status\\\"\",\"description\":\"line\\tone\"",
	    "json public: the kind, the title and the description escaped");
	ok(strstr(j, "\"url\"") == NULL, "json public: no url key without show_urls");
	ok(strstr(j, "127.0.0.") == NULL && strstr(j, "t0k") == NULL,
	    "json public: no address, no query");
	has(j, "{\"id\":1,\"name\":\"<b>\\\"&'\\u0001\",\"group\":\"Shop\",",
	    "json public: the name then the group");
	is_int(python_on(j, "public.json", check_public), 0, "json public: python reads it");
	free(j);

	build(&p, SQ_PAGE_OWNER, true);
	j = render_json(&p, 60);
	has(j, "\"page\":\"owner\",", "json owner: the kind");
	free(j);
}

static const char check_svg[] =
	"import sys, xml.etree.ElementTree as E\n"
	"r = E.parse(sys.argv[1]).getroot()\n"
	"assert r.tag == \"{http://www.w3.org/2000/svg}svg\", r.tag\n"
	"t = r.find(\"{http://www.w3.org/2000/svg}title\").text\n"
	"assert t.endswith(\": down 66.66%\"), t\n"
	"assert t.startswith(\"<b>\\\"&\\x27\\ufffd\"), t\n";

static void test_badges(void)
{
	struct page p;
	char *b;

	build(&p, SQ_PAGE_PUBLIC, false);
	b = render_badge(&sites[S_HOSTILE]);
	ok(strncmp(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 40) == 0,
	    "badge: a standalone SVG");
	has(b, "<title>&lt;b&gt;&quot;&amp;&#39;\xef\xbf\xbd: down 66.66%</title>",
	    "badge: the name escaped, down, 30 d cut to two decimals");
	has(b, "fill=\"#e05d44\"", "badge: down is red");
	has(b, "fill=\"#555\"", "badge: the label on grey");
	has(b, "rx=\"3\"", "badge: rounded corners");
	has(b, "<clipPath id=\"r1\">", "badge: clipped by a path, its id the site's");
	has(b, "clip-path=\"url(#r1)\"", "badge: the clip used");
	has(b, "fill=\"url(#s1)\"", "badge: the gradient, its id the site's");
	is_int(count(b, "lengthAdjust=\"spacingAndGlyphs\""), 4, "badge: every text fitted to its box");
	is_int(count(b, "&lt;b&gt;&quot;&amp;&#39;\xef\xbf\xbd"), 4,
	    "badge: the label, its shadow, the title and the aria-label");
	ok(strstr(b, "<b>") == NULL && strstr(b, "<script") == NULL && strstr(b, "href") == NULL,
	    "badge: no markup from the name, no script, no link");
	ok(count(b, "http") == 1, "badge: the namespace is its only address");
	is_int(python_on(b, "hostile.svg", check_svg), 0, "badge: python reads it as XML");
	free(b);

	b = render_badge(&sites[S_BYTES]);
	has(b, "<title>caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd!: up 99.98%</title>", "badge: up 99.98 percent");
	has(b, "fill=\"#4c1\"", "badge: up is green");
	free(b);

	b = render_badge(&sites[S_NONAME]);
	has(b, "<title>uptime: degraded 100%</title>", "badge: no name reads uptime; 100 without decimals");
	has(b, "fill=\"#dfb317\"", "badge: degraded is yellow");
	/* "uptime" 7133 units, "degraded 100%" 16437: 39 and 89 px, 5 px each side */
	has(b, "width=\"148\" height=\"20\"", "badge: the width from Verdana's advances");
	has(b, "<rect width=\"49\" height=\"20\" fill=\"#555\"/><rect x=\"49\" width=\"99\"",
	    "badge: the two boxes");
	has(b, "x=\"245\" y=\"140\" transform=\"scale(.1)\" fill=\"#fff\" textLength=\"390\"",
	    "badge: the label centred on its box, its length fixed");
	free(b);

	b = render_badge(&sites[S_SLOW]);
	has(b, "<title>uptime: up 99.5%</title>", "badge: an empty name reads uptime; 99.5");
	free(b);

	b = render_badge(&sites[S_UNKNOWN]);
	has(b, "<title>Never: unknown</title>", "badge: nothing watched: no figure");
	has(b, "fill=\"#9f9f9f\"", "badge: unknown is grey");
	ok(strstr(b, "%<") == NULL, "badge: no percent sign");
	free(b);

	/* names at the cut: 40 characters shown at most, an ellipsis the last */
	char name[256], want[320];
	struct sq_site_info keep = infos[S_UNKNOWN];
	infos[S_UNKNOWN].name = name;
	name[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(name, "\xc3\xa9");
	b = render_badge(&sites[S_UNKNOWN]);
	snprintf(want, sizeof(want), "<title>%s: unknown</title>", name);
	has(b, want, "badge: 40 characters are not cut");
	free(b);
	strcat(name, "\xc3\xa9");
	b = render_badge(&sites[S_UNKNOWN]);
	name[39 * 2] = '\0';
	snprintf(want, sizeof(want), "<title>%s\xe2\x80\xa6: unknown</title>", name);
	has(b, want, "badge: 41 two-byte characters: 39 and an ellipsis");
	free(b);
	memset(name, 'a', 38);
	strcpy(name + 38, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
	b = render_badge(&sites[S_UNKNOWN]);
	has(b, "<title>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe2\x82\xac\xe2\x80\xa6: unknown</title>",
	    "badge: the cut after a whole three-byte character");
	free(b);
	memset(name, 'a', 38);
	strcpy(name + 38, "\xff\xe2\x82\xac\xe2\x82\xac");
	b = render_badge(&sites[S_UNKNOWN]);
	has(b, "<title>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xef\xbf\xbd\xe2\x80\xa6: unknown</title>",
	    "badge: a byte not UTF-8 counts as one character");
	free(b);
	infos[S_UNKNOWN] = keep;
}

static int files_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	if (f == NULL || buf == NULL) {
		if (f != NULL)
			fclose(f);
		free(buf);
		return NULL;
	}
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_badge_write(void)
{
	char bdir[300], path[600], missing[400], errpath[400];
	struct stat a, b2;
	struct page p;

	build(&p, SQ_PAGE_PUBLIC, false);
	snprintf(bdir, sizeof(bdir), "%s/badges", dir);
	mkdir(bdir, 0755);
	snprintf(path, sizeof(path), "%s/site-2.svg", bdir);

	is_int(badge_write(bdir, &sites[S_BYTES]), 0, "badge_write: written");
	char *want = render_badge(&sites[S_BYTES]), *got = slurp(path);
	is_str(got, want, "badge_write: the file is the badge");
	free(got);
	free(want);
	ok(stat(path, &a) == 0 && (a.st_mode & 0777) == 0644, "badge_write: 0644");

	is_int(badge_write(bdir, &sites[S_BYTES]), 0, "badge_write: unchanged");
	ok(stat(path, &b2) == 0 && a.st_ino == b2.st_ino &&
	    a.st_mtim.tv_sec == b2.st_mtim.tv_sec && a.st_mtim.tv_nsec == b2.st_mtim.tv_nsec,
	    "badge_write: the same badge leaves the file alone (inode and mtime)");
	is_int(files_in(bdir), 1, "badge_write: no temporary file left");

	infos[S_BYTES].state = SQ_STATE_DOWN;
	is_int(badge_write(bdir, &sites[S_BYTES]), 0, "badge_write: changed");
	ok(stat(path, &b2) == 0 && a.st_ino != b2.st_ino, "badge_write: a change replaces the file");
	got = slurp(path);
	has(got, "<title>caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd!: down 99.98%</title>",
	    "badge_write: the new state in it");
	free(got);
	infos[S_BYTES].state = SQ_STATE_UP;
	is_int(files_in(bdir), 1, "badge_write: still one file");
	unlink(path);
	rmdir(bdir);

	/* a directory that is not there: -1, and the message names the file */
	snprintf(missing, sizeof(missing), "%s/nowhere", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	int rc = badge_write(missing, &sites[S_BYTES]);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	is_int(rc, -1, "badge_write: a missing directory fails");
	char *msg = slurp(errpath);
	snprintf(path, sizeof(path), "%s/site-2.svg: cannot create a temporary file beside it: "
	    "No such file or directory", missing);
	has(msg, path, "badge_write: the message names the file and the reason");
	free(msg);
	unlink(errpath);
	ok(access(missing, F_OK) < 0, "badge_write: nothing made");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_json_full();
	test_json_public();
	test_badges();
	test_badge_write();
	rmdir(dir);
	return tap_done();
}

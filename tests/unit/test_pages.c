/*
 * test_pages.c - the page model's renderings besides the HTML:
 * status.json (statusjson.c), from a struct page
 * and its struct page_site built by hand: sites with hostile names, bytes
 * that are not UTF-8, no name, each state, nothing watched, maintenance,
 * incidents with notes. The JSON is checked by its exact text and parsed
 * by Python's json module.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_build.h"
#include "squirrel/report/page.h"
#include "squirrel/report/statusjson.h"
#include "tap.h"

#define NOW 1796551200           /* 2026-12-06T10:00:00Z */
#define DAY 86400

/*
 * page.c (the page model's reader) defines these two; until it is in the
 * tree these stand in, saying the same. Weak: page.c's, when it is linked
 * in, take their place.
 */
__attribute__((weak)) const char *page_state_name(enum sq_state st)
{
	switch (st) {
	case SQ_STATE_UP: return "up";
	case SQ_STATE_DOWN: return "down";
	case SQ_STATE_DEGRADED: return "degraded";
	case SQ_STATE_UNKNOWN: break;
	}
	return "unknown";
}

__attribute__((weak)) const char *page_title(const struct page *p)
{
	if (p->cfg != NULL && p->cfg->page_title != NULL && p->cfg->page_title[0] != '\0')
		return p->cfg->page_title;
	return "Status";
}

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
	h->rt_hours[PAGE_HOURS - 1] = (struct page_rt){ 41, 99 };
	h->rt_days[0] = (struct page_rt){ 0, 7 };
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

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_json_full();
	test_json_public();
	rmdir(dir);
	return tap_done();
}

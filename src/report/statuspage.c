/*
 * statuspage.c - the HTML status page.
 *
 * One file with its CSS inline and its pictures as inline SVG, so it can
 * be copied anywhere and opened without a network. There is no script at
 * all, and the page's Content-Security-Policy says so: should a value ever
 * slip through unescaped, the browser still runs nothing. The layout is
 * one column that narrows to a phone's width.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_build.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/log.h"
#include "squirrel/base/outfile.h"
#include "squirrel/core/cert.h"
#include "squirrel/report/statuspage.h"
#include "squirrel/store/maintenance.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/uptime.h"
#include "squirrel/base/timefmt.h"
#include "squirrel/base/urlshow.h"

#define DAY 86400
#define SPARK_BINS 24            /* an hour each over 24 h: the hourly tier's means */
#define SPARK_W 480
#define SPARK_H 48
#define BAR_W 5                  /* per day, in viewBox units */
#define BAR_GAP 1
#define BAR_H 34
#define INCIDENTS_SHOWN 5

static const char css[] =
    ":root{--bg:#f4f6f9;--card:#fff;--fg:#1c232c;--muted:#5d6876;--line:#e2e6ec;"
    "--up:#2f9e44;--good:#94c93d;--warn:#f0a202;--bad:#d9480f;--down:#c92a2a;--none:#cfd4dc;"
    "--spark:#3b6fd8}"
    "@media (prefers-color-scheme:dark){:root{--bg:#12161b;--card:#1b2129;--fg:#e6e9ee;"
    "--muted:#9aa5b3;--line:#2b333d;--none:#3a434f;--spark:#6f9cf5}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}"
    "main{max-width:920px;margin:0 auto;padding:16px 14px 32px}"
    "h1{font-size:1.5rem;margin:8px 0 4px}"
    "h2{font-size:1.1rem;margin:0;overflow-wrap:anywhere}"
    "h3{font-size:.8rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;"
    "color:var(--muted);margin:14px 0 4px}"
    ".overall{font-size:1.05rem;font-weight:600;padding:10px 14px;border-radius:8px;"
    "color:#fff;margin:10px 0}"
    ".overall.up{background:var(--up)}.overall.down{background:var(--down)}"
    ".overall.unknown{background:#6c7684}.overall.degraded{background:#b7791f}"
    ".muted{color:var(--muted);font-size:.85rem;margin:2px 0}"
    ".maint{font-size:.9rem;margin:6px 0;padding:4px 8px;border-left:3px solid var(--warn)}"
    ".site{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:14px 16px;margin:14px 0}"
    ".head{display:flex;justify-content:space-between;align-items:flex-start;gap:10px}"
    ".badge{flex:none;font-size:.8rem;font-weight:700;padding:2px 10px;border-radius:999px;"
    "color:#fff;text-transform:uppercase}"
    ".badge.up{background:var(--up)}.badge.down{background:var(--down)}"
    ".badge.unknown{background:#6c7684}.badge.degraded{background:#b7791f}"
    ".url{margin:2px 0 6px;font-size:.85rem;overflow-wrap:anywhere}"
    ".url a{color:var(--muted)}"
    ".figs{display:flex;flex-wrap:wrap;gap:4px 18px;margin:8px 0 4px;font-size:.9rem}"
    ".figs b{font-variant-numeric:tabular-nums}"
    "svg{display:block;width:100%}"
    ".bars{height:34px}.spark{height:48px}"
    ".axis{display:flex;justify-content:space-between;font-size:.75rem;color:var(--muted)}"
    ".legend{font-size:.75rem;color:var(--muted);margin-top:4px}"
    ".legend i{display:inline-block;width:9px;height:9px;border-radius:2px;margin:0 3px 0 8px}"
    "ul.incidents{list-style:none;padding:0;margin:0;font-size:.88rem}"
    "ul.incidents li{padding:5px 0;border-top:1px solid var(--line);overflow-wrap:anywhere}"
    "ul.incidents li:first-child{border-top:0}"
    ".open{color:var(--down);font-weight:600}"
    "footer{color:var(--muted);font-size:.8rem;margin-top:20px;text-align:center}"
    "@media (max-width:600px){body{font-size:14px}main{padding:10px 8px 24px}"
    ".site{padding:12px}.figs{gap:2px 14px}}";

/* The colour of a day (or any span) by its uptime; grey when nothing was watched. */
static const char *uptime_colour(const struct sq_uptime *u)
{
	int64_t total = u->up_s + u->down_s;
	if (total <= 0)
		return "var(--none)";
	if (u->up_s * 1000 >= total * 999)
		return "var(--up)";
	if (u->up_s * 100 >= total * 99)
		return "var(--good)";
	if (u->up_s * 100 >= total * 95)
		return "var(--warn)";
	if (u->up_s * 100 >= total * 80)
		return "var(--bad)";
	return "var(--down)";
}

/* To the minute: a page people glance at needs no seconds. */
static void put_time(FILE *f, int64_t t)
{
	char buf[32];
	time_format(t, buf, sizeof(buf));
	if (strlen(buf) == 19)
		buf[16] = '\0';
	html_escape(f, buf);
	fputs(" UTC", f);
}

static void put_figure(FILE *f, const char *label, const struct sq_uptime *u)
{
	char buf[32];
	fprintf(f, "<span>%s <b>%s</b></span>", label,
	    percent_format(u->up_s, u->up_s + u->down_s, buf, sizeof(buf)));
}

static void put_bars(FILE *f, const struct sq_uptime *days, int64_t first_day)
{
	char date[16], pct[32];

	fprintf(f, "<svg class=\"bars\" viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\" "
	    "role=\"img\" aria-label=\"Daily uptime over the last %d days\">",
	    STATUSPAGE_DAYS * (BAR_W + BAR_GAP) - BAR_GAP, BAR_H, STATUSPAGE_DAYS);
	for (int i = 0; i < STATUSPAGE_DAYS; i++) {
		const struct sq_uptime *u = &days[i];
		int64_t total = u->up_s + u->down_s;
		date_format(first_day + (int64_t)i * DAY, date, sizeof(date));
		fprintf(f, "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" rx=\"1\" fill=\"%s\">"
		    "<title>%s: ", i * (BAR_W + BAR_GAP), BAR_W, BAR_H, uptime_colour(u), date);
		if (total > 0) {
			char down[32];
			fprintf(f, "%s up", percent_format(u->up_s, total, pct, sizeof(pct)));
			if (u->down_s > 0)
				fprintf(f, ", down %s", duration_format(u->down_s, down, sizeof(down)));
			if (u->slow_s > 0)
				fprintf(f, ", slow %s", duration_format(u->slow_s, down, sizeof(down)));
		}
		if (u->maint_s > 0) {
			char maint[32];
			fprintf(f, "%smaintenance %s (left out)", total > 0 ? ", " : "",
			    duration_format(u->maint_s, maint, sizeof(maint)));
		} else if (total <= 0) {
			fputs("no data", f);
		}
		fputs("</title></rect>", f);
	}
	fputs("</svg>\n<div class=\"axis\"><span>90 days ago</span><span>today</span></div>\n"
	    "<div class=\"legend\"><i style=\"background:var(--up)\"></i>&#8805;99.9%"
	    "<i style=\"background:var(--good)\"></i>&#8805;99%"
	    "<i style=\"background:var(--warn)\"></i>&#8805;95%"
	    "<i style=\"background:var(--bad)\"></i>&#8805;80%"
	    "<i style=\"background:var(--down)\"></i>less"
	    "<i style=\"background:var(--none)\"></i>no data</div>\n", f);
}

/*
 * The last 24 h of response times as a line: the mean of each hour,
 * broken where an hour has no good check.
 */
static void put_sparkline(FILE *f, const struct sq_rt_sample *rt, size_t n, int64_t now)
{
	int64_t sum[SPARK_BINS] = { 0 }, cnt[SPARK_BINS] = { 0 }, top = 0;
	int64_t from = now - DAY, bin = DAY / SPARK_BINS;

	for (size_t i = 0; i < n; i++) {
		int64_t b = (rt[i].t - from) / bin;
		if (b < 0 || b >= SPARK_BINS || rt[i].ms < 0)
			continue;
		sum[b] += rt[i].ms;
		cnt[b]++;
	}
	for (int b = 0; b < SPARK_BINS; b++)
		if (cnt[b] > 0 && sum[b] / cnt[b] > top)
			top = sum[b] / cnt[b];
	if (top == 0)
		top = 1;
	fprintf(f, "<svg class=\"spark\" viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\" "
	    "role=\"img\" aria-label=\"Response time over the last 24 hours, up to %" PRId64 " ms\">"
	    "<title>Response time, last 24 h (highest hourly mean %" PRId64 " ms)</title>"
	    "<path fill=\"none\" stroke=\"var(--spark)\" stroke-width=\"1.5\" "
	    "vector-effect=\"non-scaling-stroke\" stroke-linejoin=\"round\" d=\"",
	    SPARK_W, SPARK_H, top, top);
	bool pen = false;
	for (int b = 0; b < SPARK_BINS; b++) {
		if (cnt[b] == 0) {
			pen = false;
			continue;
		}
		double x = (b + 0.5) * SPARK_W / (double)SPARK_BINS;
		double y = SPARK_H - 2 - (double)(sum[b] / cnt[b]) * (SPARK_H - 4) / (double)top;
		/* a lone point still shows: a short flat stroke */
		bool alone = (b + 1 >= SPARK_BINS || cnt[b + 1] == 0) && !pen;
		fprintf(f, "%s%.1f %.1f", pen ? " L" : " M", x, y);
		if (alone)
			fprintf(f, " L%.1f %.1f", x + 2.5, y);
		pen = true;
	}
	fputs("\"/></svg>\n<div class=\"axis\"><span>24 h ago</span><span>now</span></div>\n", f);
}

static void put_incidents(FILE *f, const struct sq_incident_list *l, int64_t now)
{
	char dur[32];

	if (l->n == 0) {
		fputs("<p class=\"muted\">No incidents in the last 90 days.</p>\n", f);
		return;
	}
	fputs("<ul class=\"incidents\">", f);
	for (size_t i = 0; i < l->n; i++) {
		const struct sq_incident *in = &l->v[i];
		fputs("<li>", f);
		put_time(f, in->started_at);
		if (in->ended_at == 0)
			fprintf(f, " &middot; <span class=\"open\">ongoing, %s</span>",
			    duration_format(now - in->started_at, dur, sizeof(dur)));
		else
			fprintf(f, " &middot; down %s",
			    duration_format(in->ended_at - in->started_at, dur, sizeof(dur)));
		if (in->cause[0] != '\0') {
			fputs(" &middot; ", f);
			html_escape(f, in->cause);
		}
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

static bool is_web_url(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static const char *state_label(enum sq_state st)
{
	return st == SQ_STATE_UP ? "up" : st == SQ_STATE_DOWN ? "down" :
	    st == SQ_STATE_DEGRADED ? "degraded" : "unknown";
}

/*
 * The maintenance window in force over a site, or its next one, with its
 * reason; the time it holds is left out of the figures, and they say so.
 */
static void put_window(FILE *f, const struct sq_window_list *wl, const struct sq_site_info *site,
    const struct sq_uptime *d30, int64_t now)
{
	int64_t start = 0, end = 0;
	char a[32], b[32];
	int i = window_next(wl, site->id, site->owner_email, now, &start, &end);

	if (i >= 0) {
		fputs("<p class=\"maint\">", f);
		if (start <= now)
			fputs("Under maintenance now, until ", f);
		else
			fprintf(f, "Maintenance planned from %.16s UTC to ", time_format(start, a,
			    sizeof(a)));
		fprintf(f, "%.16s UTC", time_format(end, b, sizeof(b)));
		if (wl->v[i].reason != NULL && wl->v[i].reason[0] != '\0') {
			fputs(": ", f);
			html_escape(f, wl->v[i].reason);
		}
		fputs("</p>\n", f);
	}
	if (d30->maint_s > 0 || d30->slow_s > 0) {
		fputs("<p class=\"muted\">Last 30&#8239;d:", f);
		if (d30->maint_s > 0)
			fprintf(f, " %s in maintenance, left out of the figures;",
			    duration_format(d30->maint_s, a, sizeof(a)));
		if (d30->slow_s > 0)
			fprintf(f, " %s slow, counted as up;", duration_format(d30->slow_s, b, sizeof(b)));
		fputs("</p>\n", f);
	}
}

static int put_site(FILE *f, struct sq_reader *r, const struct sq_site_info *site, int64_t now,
    int64_t first_day, const struct sq_window_list *wl)
{
	struct sq_uptime days[STATUSPAGE_DAYS], d1, d7, d30, d90;
	struct sq_incident_list inc = { NULL, 0 };
	struct sq_rt_sample *rt = NULL;
	size_t nrt = 0;
	char buf[32], shown[URL_SHOWN_MAX];

	if (store_reader_uptime_days(r, site->id, first_day, STATUSPAGE_DAYS, now, days) < 0 ||
	    store_reader_uptime(r, site->id, now - DAY, now, now, &d1) < 0 ||
	    store_reader_uptime(r, site->id, now - 7 * DAY, now, now, &d7) < 0 ||
	    store_reader_uptime(r, site->id, now - 30 * DAY, now, now, &d30) < 0 ||
	    store_reader_response_times(r, site->id, now - DAY, &rt, &nrt) < 0)
		return -1;
	if (store_reader_incidents(r, site->id, now - STATUSPAGE_DAYS * DAY, INCIDENTS_SHOWN,
	    &inc) < 0) {
		free(rt);
		return -1;
	}

	/* the 90-day figure is the bar's: its days summed, today so far included */
	d90 = (struct sq_uptime){ 0, 0, 0, 0 };
	for (int i = 0; i < STATUSPAGE_DAYS; i++) {
		d90.up_s += days[i].up_s;
		d90.down_s += days[i].down_s;
		d90.slow_s += days[i].slow_s;
		d90.maint_s += days[i].maint_s;
	}
	fprintf(f, "<section class=\"site\" id=\"site-%" PRId64 "\">\n<div class=\"head\"><h2>",
	    site->id);
	const char *url = url_shown(site->url, shown, sizeof(shown));
	html_escape(f, site->name != NULL && site->name[0] != '\0' ? site->name : url);
	fprintf(f, "</h2><span class=\"badge %s\">%s</span></div>\n",
	    state_label(site->state), state_label(site->state));
	/* the URL under the name; a page for people links only to web pages */
	if (site->name != NULL && site->name[0] != '\0') {
		fputs("<p class=\"url\">", f);
		if (is_web_url(url)) {
			fputs("<a href=\"", f);
			html_escape(f, url);
			fputs("\" rel=\"nofollow noopener noreferrer\">", f);
			html_escape(f, url);
			fputs("</a>", f);
		} else {
			html_escape(f, url);
		}
		fputs("</p>\n", f);
	}
	fputs("<p class=\"muted\">", f);
	if (site->state != SQ_STATE_UNKNOWN && site->since > 0) {
		fprintf(f, "%s since ", site->state == SQ_STATE_UP ? "Up" :
		    site->state == SQ_STATE_DEGRADED ? "Degraded (slow)" : "Down");
		put_time(f, site->since);
		fprintf(f, " (%s)", duration_format(now - site->since, buf, sizeof(buf)));
	} else {
		fputs("Not checked yet", f);
	}
	if (site->last_check > 0) {
		fputs(" &middot; last check ", f);
		put_time(f, site->last_check);
		if (site->last_status > 0)
			fprintf(f, ", HTTP %" PRId64, site->last_status);
		fprintf(f, " in %" PRId64 " ms", site->last_ms);
		if (site->last_error[0] != '\0') {
			fputs(", ", f);
			html_escape(f, site->last_error);
		}
	}
	if (site->cert_not_after > 0) {
		int64_t left = sq_cert_days_left(site->cert_not_after, now);
		fputs(" &middot; certificate ", f);
		if (left < 0)
			fputs("ended ", f);
		else
			fprintf(f, "ends in %" PRId64 " %s, ", left, left == 1 ? "day" : "days");
		put_time(f, site->cert_not_after);
	}
	fputs("</p>\n<div class=\"figs\">", f);
	put_figure(f, "24&#8239;h", &d1);
	put_figure(f, "7&#8239;d", &d7);
	put_figure(f, "30&#8239;d", &d30);
	put_figure(f, "90&#8239;d", &d90);
	fputs("</div>\n", f);
	put_window(f, wl, site, &d30, now);
	put_bars(f, days, first_day);

	fputs("<h3>Response time, last 24 h</h3>\n", f);
	if (nrt > 0) {
		int64_t *ms = malloc(nrt * sizeof(*ms));
		if (ms != NULL) {
			for (size_t i = 0; i < nrt; i++)
				ms[i] = rt[i].ms;
			int64_t p50 = percentile(ms, nrt, 50), p95 = percentile(ms, nrt, 95);
			fprintf(f, "<p class=\"muted\">median %" PRId64 " ms &middot; p95 %" PRId64
			    " ms &middot; %zu checks</p>\n", p50, p95, nrt);
			free(ms);
		}
		put_sparkline(f, rt, nrt, now);
	} else {
		fputs("<p class=\"muted\">No successful check in the last 24 hours.</p>\n", f);
	}
	fputs("<h3>Recent incidents</h3>\n", f);
	put_incidents(f, &inc, now);
	fputs("</section>\n", f);
	free(rt);
	store_free_incidents(&inc);
	return 0;
}

/*
 * What the page shows: the enabled sites squirreld checks. A row it skips
 * (store/sites.h, skipped) is nobody's outage and no site watched: it is
 * counted apart, without its reason, which may name an owner's address.
 */
static bool on_page(const struct sq_site_info *site)
{
	return site->enabled && site->skipped == NULL;
}

int statuspage_render(struct store *s, FILE *f, int64_t now, const struct sq_page_opts *o)
{
	(void)o;
	struct sq_site_info_list sites;
	size_t up = 0, down = 0, slow = 0, shown = 0, skipped = 0;
	int rc = 0;

	struct sq_window_list wl;
	struct sq_reader *r = store_reader_open(s);
	if (r == NULL)
		return -1;
	if (store_windows(s, &wl) < 0) {
		store_reader_close(r);
		return -1;
	}
	if (store_site_infos(s, 0, &sites) < 0) {
		window_list_free(&wl);
		store_reader_close(r);
		return -1;
	}
	for (size_t i = 0; i < sites.n; i++) {
		skipped += sites.v[i].enabled && sites.v[i].skipped != NULL;
		if (!on_page(&sites.v[i]))
			continue;
		shown++;
		/* degraded is up, and counted apart: slow */
		up += sites.v[i].state == SQ_STATE_UP || sites.v[i].state == SQ_STATE_DEGRADED;
		slow += sites.v[i].state == SQ_STATE_DEGRADED;
		down += sites.v[i].state == SQ_STATE_DOWN;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\">\n"
	    "<meta name=\"generator\" content=\"squirrel %s\">\n"
	    "<title>Status%s</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n"
	    "<h1>Status</h1>\n", SQ_VERSION, down > 0 ? " - sites down" : "", css);
	if (shown == 0)
		fputs("<p class=\"overall unknown\">No sites are watched yet.</p>\n", f);
	else if (down > 0)
		fprintf(f, "<p class=\"overall down\">%zu of %zu sites down</p>\n", down, shown);
	else if (up == shown && slow > 0)
		fprintf(f, "<p class=\"overall degraded\">All %zu sites up, %zu slow</p>\n", shown,
		    slow);
	else if (up == shown)
		fprintf(f, "<p class=\"overall up\">All %zu sites up</p>\n", shown);
	else
		fprintf(f, "<p class=\"overall unknown\">%zu of %zu sites up, %zu not checked yet</p>\n",
		    up, shown, shown - up);
	if (skipped > 0)
		fprintf(f, "<p class=\"muted\">Not shown: %zu site%s whose entry cannot be checked "
		    "(<code>squirrelctl list</code> says why).</p>\n", skipped, skipped == 1 ? "" : "s");
	fputs("<p class=\"muted\">Updated ", f);
	put_time(f, now);
	fputs(". Uptime is time-weighted: each check's result holds until the next check, "
	    "at most twice the site's interval; time in a maintenance window is left out, and slow "
	    "time counts as up.</p>\n", f);

	int64_t first_day = (now / DAY - (STATUSPAGE_DAYS - 1)) * DAY;
	/* the sites that are down first: what a visitor came to see */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sites.n && rc == 0; i++)
			if (on_page(&sites.v[i]) && (sites.v[i].state == SQ_STATE_DOWN) == (pass == 0))
				rc = put_site(f, r, &sites.v[i], now, first_day, &wl);
	fprintf(f, "<footer>squirrel %s</footer>\n</main>\n</body>\n</html>\n", SQ_VERSION);
	store_free_site_infos(&sites);
	window_list_free(&wl);
	store_reader_close(r);
	return rc;
}

int statuspage_write(struct store *s, const char *path, int64_t now, const struct sq_page_opts *o)
{
	struct outfile out;

	if (outfile_open(&out, path, 0644) < 0)
		return -1;
	if (statuspage_render(s, out.f, now, o) < 0) {
		outfile_abort(&out);
		return -1;
	}
	return outfile_commit(&out);
}

int statuspage_publish(struct store *ro, struct store *rw, const struct sq_config *cfg,
    int64_t now)
{
	int rc = 0;

	(void)rw;
	if (cfg->status_page[0] != '\0') {
		struct sq_page_opts o = { .kind = SQ_PAGE_FULL, .cfg = cfg,
		    .period_s = STATUSPAGE_PERIOD_S };
		rc |= statuspage_write(ro, cfg->status_page, now, &o);
	}
	if (cfg->page_public[0] != '\0') {
		struct sq_page_opts o = { .kind = SQ_PAGE_PUBLIC, .cfg = cfg,
		    .period_s = STATUSPAGE_PERIOD_S };
		rc |= statuspage_write(ro, cfg->page_public, now, &o);
	}
	return rc;
}

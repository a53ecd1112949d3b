/*
 * statuspage.c - the HTML status page.
 *
 * One file with its CSS, its pictures and its one script inline, so it
 * can be copied anywhere and opened without a network. The page's
 * Content-Security-Policy allows that script by its hash (page.js, embedded
 * at build time) and nothing else: should a value ever slip through
 * unescaped, the browser still runs nothing.
 *
 * It stays small at thousands of sites: one row per site (its name,
 * state, a 90-day bar drawn as runs of one colour, its 30-day uptime),
 * the rest folded in <details>; the response-time charts are numbers in
 * an attribute, one character each, drawn by the script when a site is
 * opened. The layout is one column that narrows to a phone's width.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_build.h"
#include "page_script.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/image.h"
#include "squirrel/base/log.h"
#include "squirrel/base/timefmt.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/core/cert.h"
#include "squirrel/report/page.h"
#include "squirrel/report/statuspage.h"

#define DAY 86400
#define LEVELS "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
#define FOLD_ABOVE 200           /* sites on a page past which a group that is all up is folded */
#define MAINT_AHEAD (7 * DAY)    /* upcoming maintenance shown this far ahead */
#define MAINT_NAMES 5            /* sites named per window, then "and N more" */
#define DOT "\xc2\xb7"             /* U+00B7, a middle dot */

static const char css[] =
    ":root{--bg:#f4f6f9;--card:#fff;--fg:#1c232c;--muted:#5d6876;--line:#e2e6ec;"
    "--up:#2f9e44;--good:#94c93d;--warn:#f0a202;--bad:#d9480f;--down:#c92a2a;--none:#cfd4dc;"
    "--maint:#5b8def;"
    "--deg:#b7791f;--unk:#6c7684;--p50:#3b6fd8;--p95:#9db5ea;"
    "--c0:var(--up);--c1:var(--good);--c2:var(--warn);--c3:var(--bad);--c4:var(--down);--c5:var(--none);"
    "--c6:var(--maint)}"
    "@media (prefers-color-scheme:dark){:root{--bg:#12161b;--card:#1b2129;--fg:#e6e9ee;"
    "--muted:#9aa5b3;--line:#2b333d;--none:#3a434f;--p50:#6f9cf5;--p95:#3d5589}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}"
    "main{max-width:960px;margin:0 auto;padding:12px 14px 32px}"
    "header{display:flex;gap:14px;align-items:center;margin:8px 0}"
    "header img{max-height:56px;max-width:160px}"
    "h1{font-size:1.5rem;margin:0;overflow-wrap:anywhere}"
    ".desc{margin:2px 0 0;color:var(--muted);overflow-wrap:anywhere}"
    ".upd{position:sticky;top:0;z-index:1;background:var(--bg);color:var(--muted);"
    "font-size:.85rem;margin:0;padding:4px 0;border-bottom:1px solid var(--line)}"
    ".stale{background:var(--down);color:#fff;font-weight:600;padding:8px 12px;border-radius:8px}"
    ".overall{font-size:1.05rem;font-weight:600;padding:10px 14px;border-radius:8px;color:#fff;"
    "margin:10px 0}"
    ".overall.up{background:var(--up)}.overall.down{background:var(--down)}"
    ".overall.unknown{background:var(--unk)}.overall.degraded{background:var(--deg)}"
    ".muted{color:var(--muted);font-size:.85rem;margin:4px 0}"
    ".mt{font-size:.9rem;margin:6px 0;padding:4px 8px;border-left:3px solid var(--warn);"
    "overflow-wrap:anywhere}"
    "h2{font-size:1.05rem;margin:18px 0 6px;display:flex;gap:10px;align-items:baseline;"
    "overflow-wrap:anywhere}"
    "h2 small{font-weight:400;color:var(--muted);font-size:.85rem}"
    "h2 small.bad{color:var(--down);font-weight:600}"
    "details.g>summary{cursor:pointer;list-style-position:outside;margin-left:1.1em}"
    "details.g>summary h2{display:inline-flex;margin:14px 0 6px}"
    ".rows{background:var(--card);border:1px solid var(--line);border-radius:10px}"
    ".rows>details{border-top:1px solid var(--line)}.rows>details:first-child{border-top:0}"
    ".rows>details>summary{display:grid;grid-template-columns:minmax(0,1fr) 6.2em minmax(60px,270px) 4.4em;"
    "gap:10px;align-items:center;padding:7px 12px;cursor:pointer;list-style:none}"
    ".rows>details>summary::-webkit-details-marker{display:none}"
    ".rows>details>summary:hover{background:var(--bg)}"
    ".n{font-weight:500;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".n::before{content:\"\\25B8\";display:inline-block;width:1em;color:var(--muted)}"
    "details[open]>summary .n::before{content:\"\\25BE\"}"
    ".st{font-size:.75rem;font-weight:700;padding:1px 0;border-radius:999px;color:#fff;"
    "text-transform:uppercase;text-align:center}"
    ".st.up{background:var(--up)}.st.down{background:var(--down)}"
    ".st.unknown{background:var(--unk)}.st.degraded{background:var(--deg)}"
    ".bar{display:block;height:22px;background:var(--c5);"
    "-webkit-mask:repeating-linear-gradient(90deg,#000 0 calc(100%/90 - 1px),transparent 0 calc(100%/90));"
    "mask:repeating-linear-gradient(90deg,#000 0 calc(100%/90 - 1px),transparent 0 calc(100%/90))}"
    "i.bar{font-style:normal}"
    ".u{font-style:normal;text-align:right;font-variant-numeric:tabular-nums;font-size:.9rem}"
    ".d{padding:2px 14px 12px 2.2em;font-size:.88rem;overflow-wrap:anywhere}"
    ".d p{margin:4px 0}.d a{color:var(--muted)}"
    ".f b,.r b{font-variant-numeric:tabular-nums;margin-right:.9em;white-space:nowrap}"
    ".f::before{content:\"Uptime: \"}.r::before{content:\"Response time, 24 h: \"}"
    ".f b:nth-of-type(1)::before{content:\"24\\202F h \";font-weight:400}"
    ".f b:nth-of-type(2)::before{content:\"7\\202F d \";font-weight:400}"
    ".f b:nth-of-type(3)::before{content:\"30\\202F d \";font-weight:400}"
    ".f b:nth-of-type(4)::before{content:\"90\\202F d \";font-weight:400}"
    ".r b:nth-of-type(1)::before{content:\"median \";font-weight:400}"
    ".r b:nth-of-type(2)::before{content:\"95th percentile \";font-weight:400}"
    ".r b::after{content:\" ms\"}"
    ".charts{display:grid;grid-template-columns:1fr 1fr;gap:6px 18px}"
    "figure.chart{margin:6px 0}figure.chart figcaption{font-size:.8rem;color:var(--muted)}"
    ".k50,.k95{margin-left:8px;white-space:nowrap}"
    ".k50::before,.k95::before{content:\"\";display:inline-block;width:12px;height:3px;"
    "margin-right:4px;vertical-align:middle}"
    ".k50::before{background:var(--p50)}.k95::before{background:var(--p95)}"
    ".plot{display:grid;grid-template-columns:auto 1fr;gap:6px}"
    ".ya{display:flex;flex-direction:column;justify-content:space-between;text-align:right;"
    "font-size:.7rem;color:var(--muted);height:80px}"
    ".plot svg{width:100%;height:80px;display:block}"
    ".grid{stroke:var(--line);stroke-width:1;vector-effect:non-scaling-stroke;fill:none}"
    ".l50,.l95{fill:none;stroke-width:2;vector-effect:non-scaling-stroke;stroke-linejoin:round}"
    ".l50{stroke:var(--p50)}.l95{stroke:var(--p95)}"
    ".xa{display:flex;justify-content:space-between;font-size:.7rem;color:var(--muted);"
    "margin-left:3.2em}"
    ".empty{color:var(--muted);font-style:italic}"
    ".js .nojs{display:none}"
    "ul.skip{font-size:.88rem;overflow-wrap:anywhere}"
    "ul.inc{list-style:none;padding:0;margin:4px 0}"
    "ul.inc>li{padding:4px 0;border-top:1px solid var(--line)}ul.inc>li:first-child{border-top:0}"
    "ul.inc ul{margin:2px 0 0 1em;padding:0;list-style:none;color:var(--fg)}"
    "ul.inc ul li{border-left:2px solid var(--p95);padding-left:8px;margin:3px 0;white-space:pre-wrap}"
    ".open{color:var(--down);font-weight:600}"
    ".legend{font-size:.75rem;color:var(--muted);margin:6px 0}"
    ".legend i{display:inline-block;width:9px;height:9px;border-radius:2px;margin:0 3px 0 8px}"
    "footer{color:var(--muted);font-size:.8rem;margin-top:20px;text-align:center}"
    "@media (max-width:600px){body{font-size:14px}main{padding:8px 6px 24px}"
    ".rows>details>summary{grid-template-columns:minmax(0,1fr) 6em 4.2em;gap:4px 8px;padding:7px 8px}"
    "i.bar{grid-column:1/-1;grid-row:2;height:18px}"
    ".charts{grid-template-columns:1fr}.d{padding:2px 8px 10px 1.2em}}";

/* The colours of a day on the bar: the page's CSS variables --c0 to --c6. */
enum { C_UP, C_GOOD, C_WARN, C_BAD, C_DOWN, C_NONE, C_MAINT };

/* A span's colour by its uptime; nothing watched: in maintenance, or no data. */
static int uptime_class(const struct sq_uptime *u)
{
	int64_t total = u->up_s + u->down_s;

	if (total <= 0)
		return u->maint_s > 0 ? C_MAINT : C_NONE;
	if (u->up_s * 1000 >= total * 999)
		return C_UP;
	if (u->up_s * 100 >= total * 99)
		return C_GOOD;
	if (u->up_s * 100 >= total * 95)
		return C_WARN;
	if (u->up_s * 100 >= total * 80)
		return C_BAD;
	return C_DOWN;
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

/* The same, without the date when it is now's day: "10:56 UTC". */
static void put_time_near(FILE *f, int64_t t, int64_t now)
{
	char buf[32];

	if (t / DAY != now / DAY) {
		put_time(f, t);
		return;
	}
	time_format(t, buf, sizeof(buf));
	if (strlen(buf) == 19) {
		buf[16] = '\0';
		html_escape(f, buf + 11);
	} else {
		html_escape(f, buf);
	}
	fputs(" UTC", f);
}

static const char *pct(const struct sq_uptime *u, char *buf, size_t len)
{
	if (u->down_s == 0 && u->up_s > 0)
		return "100%";
	return percent_format(u->up_s, u->up_s + u->down_s, buf, len);
}

/* "8 Sep": a day on a bar's title, the year left to the context. */
static void short_date(int64_t t, char *buf, size_t len)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec" };
	char iso[16];

	date_format(t, iso, sizeof(iso));   /* "2026-09-08" */
	int m = (iso[5] - '0') * 10 + (iso[6] - '0'), d = (iso[8] - '0') * 10 + (iso[9] - '0');
	snprintf(buf, len, "%d %s", d, m >= 1 && m <= 12 ? mon[m - 1] : "?");
}

/* A position on the bar, in percent of its width, for day i (0 to 90). */
static void bar_at(FILE *f, int i)
{
	int64_t x = (int64_t)i * 10000 / PAGE_DAYS;   /* hundredths of a percent */
	fprintf(f, "%" PRId64 ".%02" PRId64 "%%", x / 100, x % 100);
}

/*
 * The 90-day bar: a gradient of hard stops, one per run of days of one
 * colour (a site that was up every day is one colour, a few bytes); the
 * page's CSS cuts it into days. Its title names the days that were not
 * all up, with their uptime.
 */
static void put_bar(FILE *f, const struct page *p, const struct page_site *ps)
{
	char d[16], buf[32];
	int runs = 0, bad = 0;

	for (int i = 0; i < PAGE_DAYS; i++) {
		int c = uptime_class(&ps->days[i]);
		runs += i == 0 || c != uptime_class(&ps->days[i - 1]);
		bad += c != C_UP && c != C_NONE;
	}
	fputs("<i class=bar", f);
	if (bad > 0) {
		fputs(" title=\"", f);
		for (int i = 0, k = 0; i < PAGE_DAYS; i++) {
			int c = uptime_class(&ps->days[i]);
			if (c == C_UP || c == C_NONE)
				continue;
			short_date(p->first_day + (int64_t)i * DAY, d, sizeof(d));
			fprintf(f, "%s%s: %s", k++ > 0 ? ", " : "", d, c == C_MAINT ? "maintenance" :
			    pct(&ps->days[i], buf, sizeof(buf)));
		}
		fputs("\"", f);
	}
	if (runs == 1) {
		fprintf(f, " style=\"background:var(--c%d)\"></i>", uptime_class(&ps->days[0]));
		return;
	}
	fputs(" style=\"background:linear-gradient(90deg", f);
	for (int i = 0; i < PAGE_DAYS;) {
		int c = uptime_class(&ps->days[i]), j = i;
		while (j < PAGE_DAYS && uptime_class(&ps->days[j]) == c)
			j++;
		fprintf(f, ",var(--c%d)", c);
		if (i > 0)
			fputs(" 0", f);
		if (j < PAGE_DAYS) {
			fputc(' ', f);
			bar_at(f, j);
		}
		i = j;
	}
	fputs(")\"></i>", f);
}

/* A nice top for a chart's axis: 1, 2 or 5 times a power of ten, at least v. */
static int64_t nice_top(int64_t v)
{
	int64_t step = 1;

	if (v < 1)
		return 1;
	for (;;) {
		if (v <= step)
			return step;
		if (v <= 2 * step)
			return 2 * step;
		if (v <= 5 * step)
			return 5 * step;
		if (step > INT64_MAX / 20)
			return v;
		step *= 10;
	}
}

static void put_levels(FILE *f, const struct sq_rt_slot *v, int n, int64_t top)
{
	for (int i = 0; i < n; i++) {
		if (v[i].p50 < 0) {
			fputs("..", f);
			continue;
		}
		int64_t x[2] = { v[i].p50, v[i].p95 < v[i].p50 ? v[i].p50 : v[i].p95 };
		for (int k = 0; k < 2; k++) {
			int64_t l = (x[k] * 63 + top / 2) / top;
			fputc(LEVELS[l < 0 ? 0 : l > 63 ? 63 : l], f);
		}
	}
}

/* The charts' numbers for page.js (it says how they are written). */
static void put_chart_data(FILE *f, const struct page_site *ps)
{
	int64_t top = 0;

	for (int i = 0; i < PAGE_HOURS; i++)
		if (ps->rt_hours[i].p95 > top)
			top = ps->rt_hours[i].p95;
	for (int i = 0; i < PAGE_RT_DAYS; i++)
		if (ps->rt_days[i].p95 > top)
			top = ps->rt_days[i].p95;
	top = nice_top(top);
	fprintf(f, " data-c=\"%" PRId64 " ", top);
	put_levels(f, ps->rt_hours, PAGE_HOURS, top);
	fputc(' ', f);
	put_levels(f, ps->rt_days, PAGE_RT_DAYS, top);
	fputc('"', f);
}

static bool is_web_url(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/*
 * What a site is called on the page: its name, else its URL where the
 * page shows URLs, else its host alone (a query string may hold a token).
 */
static void put_site_name(FILE *f, const struct page *p, const struct sq_site_info *si)
{
	char shown[URL_SHOWN_MAX];

	if (si->name != NULL && si->name[0] != '\0') {
		html_escape(f, si->name);
		return;
	}
	const char *url = url_shown(si->url, shown, sizeof(shown));
	if (p->show_urls) {
		html_escape(f, url);
		return;
	}
	const char *h = strstr(url, "://");
	h = h != NULL ? h + 3 : url;
	size_t n = strcspn(h, "/?#");
	const char *at = memchr(h, '@', n);
	if (at != NULL) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	char host[256];
	snprintf(host, sizeof(host), "%.*s", (int)(n < sizeof(host) ? n : sizeof(host) - 1), h);
	html_escape(f, host[0] != '\0' ? host : "(a site)");
}

static void put_url(FILE *f, const struct sq_site_info *si)
{
	char shown[URL_SHOWN_MAX];
	const char *url = url_shown(si->url, shown, sizeof(shown));

	fputs("<p>", f);
	if (is_web_url(url)) {
		/* the text without its scheme and query (a token may be in it): the link has them */
		const char *text = url + (strncasecmp(url, "https://", 8) == 0 ? 8 : 7);
		size_t n = strcspn(text, "?#");
		fputs("<a href=\"", f);
		html_escape(f, url);
		fputs("\">", f);
		char *cut = strndup(text, n);
		html_escape(f, cut != NULL ? cut : "");
		free(cut);
		if (text[n] != '\0')
			fputs(text[n] == '?' ? "?\xe2\x80\xa6" : "#\xe2\x80\xa6", f);
		fputs("</a>", f);
	} else {
		html_escape(f, url);
	}
	fputs("</p>", f);
}

static void put_state_line(FILE *f, const struct page *p, const struct sq_site_info *si)
{
	char buf[32];

	fputs("<p>", f);
	if (si->state != SQ_STATE_UNKNOWN && si->since > 0) {
		fprintf(f, "%s since ", si->state == SQ_STATE_UP ? "Up" :
		    si->state == SQ_STATE_DEGRADED ? "Degraded (slow)" : "Down");
		put_time_near(f, si->since, p->now);
		fprintf(f, " (%s)", duration_format(p->now - si->since, buf, sizeof(buf)));
	} else {
		fputs("Not checked yet", f);
	}
	if (si->last_check > 0) {
		fputs(" " DOT " last check ", f);
		put_time_near(f, si->last_check, p->now);
		if (si->last_status > 0)
			fprintf(f, ", HTTP %" PRId64, si->last_status);
		fprintf(f, " in %" PRId64 " ms", si->last_ms);
		if (si->last_error != NULL && si->last_error[0] != '\0') {
			fputs(", ", f);
			html_escape(f, si->last_error);
		}
	}
	if (si->cert_not_after > 0) {
		int64_t left = sq_cert_days_left(si->cert_not_after, p->now);
		fputs(" " DOT " certificate ", f);
		if (left < 0)
			fputs("ended ", f);
		else
			fprintf(f, "ends in %" PRId64 " %s, ", left, left == 1 ? "day" : "days");
		put_time(f, si->cert_not_after);
	}
	fputs("</p>", f);
}

static void put_figures(FILE *f, const struct page_site *ps)
{
	char a[32], b[32], c[32], d[32];

	/* the labels are the page's CSS: a few bytes a site */
	fprintf(f, "<p class=f><b>%s</b><b>%s</b><b>%s</b><b>%s</b></p>", pct(&ps->d1, a, sizeof(a)),
	    pct(&ps->d7, b, sizeof(b)), pct(&ps->d30, c, sizeof(c)), pct(&ps->d90, d, sizeof(d)));
	if (ps->p50 >= 0)
		fprintf(f, "<p class=r><b>%" PRId64 "</b><b>%" PRId64 "</b></p>", ps->p50, ps->p95);
	if (ps->d30.maint_s > 0 || ps->d30.slow_s > 0) {
		fputs("<p>Last 30&#8239;d:", f);
		if (ps->d30.maint_s > 0)
			fprintf(f, " %s in maintenance, left out of the figures;",
			    duration_format(ps->d30.maint_s, a, sizeof(a)));
		if (ps->d30.slow_s > 0)
			fprintf(f, " %s slow, counted as up;", duration_format(ps->d30.slow_s, b, sizeof(b)));
		fputs("</p>", f);
	}
}

/* The window in force over the site, or its next one, with its reason. */
static void put_site_window(FILE *f, const struct page *p, const struct page_site *ps)
{
	if (ps->window < 0 || ps->window_start > p->now + MAINT_AHEAD)
		return;
	const struct sq_window *w = &p->windows.v[ps->window];
	fputs("<p class=\"mt\">", f);
	if (ps->window_start <= p->now) {
		fputs("Under maintenance now, until ", f);
	} else {
		fputs("Maintenance planned from ", f);
		put_time(f, ps->window_start);
		fputs(" to ", f);
	}
	put_time(f, ps->window_end);
	if (w->reason != NULL && w->reason[0] != '\0') {
		fputs(": ", f);
		html_escape(f, w->reason);
	}
	fputs("</p>", f);
}

static void put_incidents(FILE *f, const struct page *p, const struct sq_incident_list *l)
{
	char dur[32];

	if (l->n == 0) {
		fputs("<p class=\"muted\">No incidents in the last 90 days.</p>", f);
		return;
	}
	fputs("<ul class=inc>", f);
	for (size_t i = 0; i < l->n; i++) {
		const struct sq_incident *in = &l->v[i];
		fputs("<li>", f);
		put_time(f, in->started_at);
		if (in->ended_at == 0)
			fprintf(f, " " DOT " <b class=open>ongoing, %s</b>",
			    duration_format(p->now - in->started_at, dur, sizeof(dur)));
		else
			fprintf(f, " " DOT " down %s",
			    duration_format(in->ended_at - in->started_at, dur, sizeof(dur)));
		if (in->cause != NULL && in->cause[0] != '\0') {
			fputs(" " DOT " ", f);
			html_escape(f, in->cause);
		}
		if (in->nnotes > 0) {
			fputs("<ul>", f);
			for (size_t k = 0; k < in->nnotes; k++) {
				fputs("<li>", f);
				put_time(f, in->notes[k].at);
				fputs(": ", f);
				html_escape(f, in->notes[k].text);
				fputs("</li>", f);
			}
			fputs("</ul>", f);
		}
		fputs("</li>", f);
	}
	fputs("</ul>", f);
}

static void put_site(FILE *f, const struct page *p, const struct page_site *ps)
{
	const struct sq_site_info *si = ps->info;
	const char *st = page_state_name(si->state);
	char buf[32];

	fprintf(f, "<details id=s%" PRId64, si->id);
	put_chart_data(f, ps);
	fputs("><summary><b class=n>", f);
	put_site_name(f, p, si);
	fprintf(f, "</b><b class=\"st %s\">%s</b>", st, st);
	put_bar(f, p, ps);
	fprintf(f, "<i class=u>%s</i></summary><div class=d>",
	    pct(&ps->d30, buf, sizeof(buf)));
	if (p->show_urls)
		put_url(f, si);
	put_state_line(f, p, si);
	put_figures(f, ps);
	put_site_window(f, p, ps);
	put_incidents(f, p, &ps->inc);
	fputs("</div></details>\n", f);
}

/* A count as people read it: "2,000". */
static const char *num(size_t n, char *buf, size_t len)
{
	char raw[32];
	int k = snprintf(raw, sizeof(raw), "%zu", n), o = 0;

	for (int i = 0; i < k && (size_t)o + 2 < len; i++) {
		if (i > 0 && (k - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
	return buf;
}

static void put_counts(FILE *f, size_t n, size_t up, size_t down, size_t slow)
{
	char a[32], b[32], c[32];

	if (down > 0)
		fprintf(f, "%s of %s down", num(down, a, sizeof(a)), num(n, b, sizeof(b)));
	else if (up == n && slow > 0)
		fprintf(f, "all %s up, %s slow", num(n, a, sizeof(a)), num(slow, b, sizeof(b)));
	else if (up == n)
		fprintf(f, "all %s up", num(n, a, sizeof(a)));
	else
		fprintf(f, "%s of %s up, %s not checked yet", num(up, a, sizeof(a)), num(n, b, sizeof(b)),
		    num(n - up, c, sizeof(c)));
}

static void put_overall(FILE *f, const struct page *p)
{
	const char *cls = p->n == 0 ? "unknown" : p->down > 0 ? "down" :
	    p->up < p->n ? "unknown" : p->slow > 0 ? "degraded" : "up";
	char a[32], b[32], c[32];

	fprintf(f, "<p class=\"overall %s\">", cls);
	if (p->n == 0)
		fputs("No sites are shown on this page yet.", f);
	else if (p->down > 0)
		fprintf(f, "%s of %s sites down", num(p->down, a, sizeof(a)), num(p->n, b, sizeof(b)));
	else if (p->up == p->n && p->slow > 0)
		fprintf(f, "All %s sites up, %s slow", num(p->n, a, sizeof(a)), num(p->slow, b, sizeof(b)));
	else if (p->up == p->n)
		fprintf(f, "All %s sites up", num(p->n, a, sizeof(a)));
	else
		fprintf(f, "%s of %s sites up, %s not checked yet", num(p->up, a, sizeof(a)),
		    num(p->n, b, sizeof(b)), num(p->n - p->up, c, sizeof(c)));
	fputs("</p>\n", f);
}

/*
 * Current and upcoming maintenance over the sites of this page: each
 * window once, with the sites it covers named (a few) and counted. An
 * owner's address is never shown: a window "for an owner" lists sites.
 */
static void put_maintenance(FILE *f, const struct page *p)
{
	bool any = false;

	for (size_t w = 0; w < p->windows.n; w++) {
		int64_t start = 0, end = 0;
		const struct sq_window *win = &p->windows.v[w];
		struct sq_window_list one = { (struct sq_window *)win, 1 };
		const struct sq_site_info *first = NULL;   /* its occurrence: any covered site's */
		size_t covered = 0;

		for (size_t i = 0; i < p->n; i++) {
			if (!window_covers(win, p->order[i]->id, p->order[i]->owner_email))
				continue;
			if (covered++ == 0)
				first = p->order[i];
		}
		if (first == NULL)
			continue;
		if (window_next(&one, first->id, first->owner_email, p->now, &start, &end) < 0 ||
		    start > p->now + MAINT_AHEAD)
			continue;
		if (!any)
			fputs("<h2>Maintenance</h2>\n", f);
		any = true;
		fputs("<p class=\"mt\">", f);
		if (start <= p->now) {
			fputs("<b>Now</b>, until ", f);
		} else {
			fputs("From ", f);
			put_time(f, start);
			fputs(" to ", f);
		}
		put_time(f, end);
		if (win->reason != NULL && win->reason[0] != '\0') {
			fputs(": ", f);
			html_escape(f, win->reason);
		}
		fputs(" " DOT " ", f);
		if (covered == p->n && p->n > 1) {
			fputs("every site on this page", f);
		} else {
			size_t named = 0;
			for (size_t i = 0; i < p->n && named < MAINT_NAMES; i++) {
				if (!window_covers(win, p->order[i]->id, p->order[i]->owner_email))
					continue;
				fputs(named > 0 ? ", " : "", f);
				put_site_name(f, p, p->order[i]);
				named++;
			}
			if (covered > named)
				fprintf(f, " and %zu more", covered - named);
		}
		fputs("</p>\n", f);
	}
}

static void put_logo(FILE *f, const struct page *p)
{
	struct image img;
	char why[512];

	if (p->cfg == NULL || p->cfg->page_logo == NULL || p->cfg->page_logo[0] == '\0')
		return;
	if (image_load(p->cfg->page_logo, &img, why, sizeof(why)) < 0) {
		log_warnx("[status_page] logo: %s; the page goes without it", why);
		return;
	}
	fputs("<img src=\"", f);
	image_write_uri(f, &img);
	fputs("\" alt=\"\">", f);
	image_free(&img);
}

static void put_head(FILE *f, const struct page *p, int period_s)
{
	int refresh = p->cfg != NULL ? p->cfg->page_refresh : 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:; script-src '" PAGE_SCRIPT_HASH "'\">\n", f);
	if (period_s > 0 && refresh > 0)
		fprintf(f, "<meta http-equiv=\"refresh\" content=\"%d\">\n", refresh);
	/* a visitor who follows a link does not tell the site where this page is */
	fputs("<meta name=\"referrer\" content=\"no-referrer\">\n", f);
	if (p->kind != SQ_PAGE_PUBLIC)
		fputs("<meta name=\"robots\" content=\"noindex, nofollow\">\n", f);
	fprintf(f, "<meta name=\"generator\" content=\"squirrel %s\">\n<title>", SQ_VERSION);
	if (p->down > 0)
		fprintf(f, "(%zu down) ", p->down);
	html_escape(f, page_title(p));
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	/* what the script reads: when this was written, and when that is too long ago */
	fprintf(f, "<main data-written=\"%" PRId64 "\" data-stale=\"%d\" data-hour0=\"%" PRId64
	    "\" data-day0=\"%" PRId64 "\">\n<header>", p->now, period_s > 0 ? 3 * period_s : 0,
	    p->first_hour, p->first_rt_day);
	put_logo(f, p);
	fputs("<div><h1>", f);
	html_escape(f, page_title(p));
	fputs("</h1>", f);
	if (p->cfg != NULL && p->cfg->page_description != NULL && p->cfg->page_description[0]) {
		fputs("<p class=\"desc\">", f);
		html_escape(f, p->cfg->page_description);
		fputs("</p>", f);
	}
	fputs("</div></header>\n<p class=\"upd\">Updated ", f);
	put_time(f, p->now);
	if (period_s > 0)
		fprintf(f, " " DOT " rewritten every %d s", period_s);
	fputs("</p>\n<p id=\"stale\" class=\"stale\" hidden></p>\n", f);
}

static void put_group_head(FILE *f, const struct page_group *g)
{
	fputs("<h2>", f);
	html_escape(f, g->name != NULL ? g->name : "Other sites");
	fprintf(f, " <small%s>", g->down > 0 ? " class=\"bad\"" : "");
	put_counts(f, g->n, g->up, g->down, g->slow);
	fputs("</small></h2>", f);
}

static int put_groups(FILE *f, struct page *p, statuspage_site_fn *each, void *arg)
{
	struct page_site *ps = calloc(1, sizeof(*ps));
	int rc = 0;

	if (ps == NULL) {
		log_errorx("the status page: out of memory");
		return -1;
	}
	/* one group with no name: no heading at all */
	bool headed = !(p->ngroups == 1 && p->groups[0].name == NULL);
	for (size_t g = 0; g < p->ngroups && rc == 0; g++) {
		const struct page_group *pg = &p->groups[g];
		/* on a long page a group with nothing to see is folded */
		bool fold = headed && p->n > FOLD_ABOVE && pg->up == pg->n && pg->slow == 0;
		if (fold) {
			fputs("<details class=\"g\"><summary>", f);
			put_group_head(f, pg);
			fputs("</summary>\n", f);
		} else if (headed) {
			fputs("<section>", f);
			put_group_head(f, pg);
			fputs("\n", f);
		}
		fputs("<div class=\"rows\">\n", f);
		for (size_t i = pg->first; i < pg->first + pg->n && rc == 0; i++) {
			if ((rc = page_site_read(p, i, ps)) != 0)
				break;
			put_site(f, p, ps);
			if (each != NULL)
				each(p, ps, i, arg);
		}
		fputs("</div>", f);
		fputs(fold ? "</details>\n" : headed ? "</section>\n" : "\n", f);
	}
	page_site_clear(ps);
	free(ps);
	return rc;
}

static void put_legend(FILE *f)
{
	fputs("<p class=\"legend\">Each bar is the last 90 days, a day a stripe, today on the right:"
	    "<i style=\"background:var(--up)\"></i>&#8805;99.9%"
	    "<i style=\"background:var(--good)\"></i>&#8805;99%"
	    "<i style=\"background:var(--warn)\"></i>&#8805;95%"
	    "<i style=\"background:var(--bad)\"></i>&#8805;80%"
	    "<i style=\"background:var(--down)\"></i>less"
	    "<i style=\"background:var(--maint)\"></i>maintenance"
	    "<i style=\"background:var(--none)\"></i>no data. The figure on the right is the "
	    "uptime of the last 30 days. Open a site for its details.</p>\n", f);
}

/*
 * The rows the daemon skips, with why, on the pages of those who can fix
 * them (the operators', an owner's): a reason may name an owner's address,
 * so never on the public page.
 */
static void put_skipped(FILE *f, const struct page *p)
{
	if (p->skipped == 0 || p->kind == SQ_PAGE_PUBLIC)
		return;
	fprintf(f, "<h2>Not checked <small>%zu</small></h2>\n<ul class=\"skip\">", p->skipped);
	for (size_t i = 0; i < p->skipped; i++) {
		const struct sq_site_info *si = p->skipped_rows[i];
		fprintf(f, "<li>#%" PRId64 " ", si->id);
		put_site_name(f, p, si);
		fputs(": ", f);
		html_escape(f, si->skipped);
		fputs("</li>", f);
	}
	fputs("</ul>\n<p class=\"muted\">Fix them with <code>squirrelctl edit</code>.</p>\n", f);
}

/*
 * On the operators' page, with owner_pages: whose page is which file (the
 * names are random; the operator sends each owner theirs).
 */
static void put_owner_index(FILE *f, const struct page *p, struct store *s)
{
	struct sq_owner_token_list l;
	size_t shown = 0;

	if (p->kind != SQ_PAGE_FULL || p->cfg == NULL || !p->cfg->page_owner_pages)
		return;
	if (store_owner_tokens(s, &l) < 0)
		return;
	for (size_t i = 0; i < l.n; i++) {
		bool has = false;
		if (l.v[i].token[0] == '\0')
			continue;
		for (size_t k = 0; k < p->n && !has; k++)
			has = p->order[k]->owner_email != NULL &&
			    strcasecmp(p->order[k]->owner_email, l.v[i].owner_email) == 0;
		if (!has)
			continue;
		if (shown++ == 0) {
			fputs("<details class=\"g\"><summary><h2>Owner pages</h2></summary>"
			    "<p class=\"muted\">One page per owner, beside ", f);
			html_escape(f, p->cfg->page_public[0] != '\0' ? p->cfg->page_public :
			    p->cfg->status_page);
			fputs(", named so that nobody finds it from the address:</p><ul>", f);
		}
		fputs("<li>", f);
		html_escape(f, l.v[i].owner_email);
		fprintf(f, ": owner-%s.html</li>", l.v[i].token);
	}
	if (shown > 0)
		fputs("</ul></details>\n", f);
	store_free_owner_tokens(&l);
}

int statuspage_html(FILE *f, struct page *p, struct store *s, int period_s,
    statuspage_site_fn *each, void *arg)
{
	put_head(f, p, period_s);
	put_overall(f, p);
	if (p->skipped > 0)
		fprintf(f, "<p class=\"muted\">Not counted: %zu site%s whose entry cannot be checked%s"
		    "</p>\n", p->skipped, p->skipped == 1 ? "" : "s",
		    p->kind == SQ_PAGE_PUBLIC ? "." : ", listed at the end with why.");
	put_maintenance(f, p);
	if (p->n > 0)
		put_legend(f);
	if (put_groups(f, p, each, arg) < 0)
		return -1;
	put_skipped(f, p);
	put_owner_index(f, p, s);
	fputs("<p class=\"muted\">Uptime is time-weighted: each check's result holds until the next "
	    "check, at most twice the site's interval; time in a maintenance window is left out, "
	    "and slow time counts as up. Response times are those of the good checks.</p>\n", f);
	fprintf(f, "<footer>squirrel %s</footer>\n</main>\n<script>%s</script>\n</body>\n</html>\n",
	    SQ_VERSION, PAGE_SCRIPT);
	return 0;
}

int statuspage_render(struct store *s, FILE *f, int64_t now, const struct sq_page_opts *o)
{
	struct page p;

	if (page_open(&p, s, o, now) < 0)
		return -1;
	int rc = statuspage_html(f, &p, s, o->period_s, NULL, NULL);
	page_close(&p);
	return rc;
}

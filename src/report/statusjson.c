/*
 * statusjson.c - status.json: the page model (page.h) as one JSON object,
 * its fields as docs/status-json.md describes them.
 *
 * Every string goes through json_string(), so a name holding quotes,
 * control characters or bytes that are not UTF-8 still gives valid JSON.
 * Every number is printed from integers: times and counts with PRId64,
 * percentages cut (never rounded up to 100) to three decimals, so no
 * locale's decimal comma and no "nan" or "inf" can appear. What is not
 * known is null, never 0 or -1, so a reader cannot take it for a figure.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "config_build.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/report/statusjson.h"

static const char *kind_name(enum sq_page_kind k)
{
	switch (k) {
	case SQ_PAGE_PUBLIC: return "public";
	case SQ_PAGE_OWNER: return "owner";
	case SQ_PAGE_FULL: break;
	}
	return "full";
}

/* A string, or null for NULL (and for "" when empty_null). */
static void put_str(FILE *f, const char *s, bool empty_null)
{
	if (s == NULL || (empty_null && *s == '\0'))
		fputs("null", f);
	else
		json_string(f, s);
}

static void put_int(FILE *f, int64_t v)
{
	fprintf(f, "%" PRId64, v);
}

/* v, or null when it is 0 (a time or a status never set). */
static void put_set(FILE *f, int64_t v)
{
	if (v <= 0)
		fputs("null", f);
	else
		put_int(f, v);
}

/* A response time in ms, or null for -1 (no good check). */
static void put_ms(FILE *f, int64_t v)
{
	if (v < 0)
		fputs("null", f);
	else
		put_int(f, v);
}

/*
 * Up out of up and down in percent, cut to three decimals and printed
 * without trailing zeros ("99.95", "100"); null when nothing was watched.
 */
static void put_percent(FILE *f, const struct sq_uptime *u)
{
	int64_t up = u->up_s < 0 ? 0 : u->up_s, down = u->down_s < 0 ? 0 : u->down_s;
	int64_t total = up + down, k;   /* k: thousandths of a percent */
	char buf[32];

	if (total <= 0 || total < up) {
		fputs("null", f);
		return;
	}
	if (up <= INT64_MAX / 100000)
		k = up * 100000 / total;
	else
		k = up / (total / 100000);
	int len = snprintf(buf, sizeof(buf), "%" PRId64 ".%03" PRId64, k / 1000, k % 1000);
	while (len > 0 && buf[len - 1] == '0')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
	fputs(buf, f);
}

static void put_iso(FILE *f, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[40];

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		fputs("null", f);
	else
		fprintf(f, "\"%s\"", buf);
}

void statusjson_begin(FILE *f, const struct page *p, int period_s)
{
	const char *desc = p->cfg != NULL && p->cfg->page_description != NULL ?
	    p->cfg->page_description : "";

	fprintf(f, "{\"version\":%d,\"generator\":", STATUSJSON_VERSION);
	json_string(f, "squirrel " SQ_VERSION);
	fputs(",\"generated_at\":", f);
	put_int(f, p->now);
	fputs(",\"generated\":", f);
	put_iso(f, p->now);
	fprintf(f, ",\"page\":\"%s\",\"title\":", kind_name(p->kind));
	put_str(f, page_title(p), false);
	fputs(",\"description\":", f);
	json_string(f, desc);
	fprintf(f, ",\"period_s\":%d,\n", period_s < 0 ? 0 : period_s);
	fprintf(f, "\"summary\":{\"sites\":%zu,\"up\":%zu,\"down\":%zu,\"degraded\":%zu,"
	    "\"unknown\":%zu,\"skipped\":%zu},\n", p->n, p->up, p->down, p->slow, p->unknown,
	    p->skipped);
	fputs("\"groups\":[", f);
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct page_group *g = &p->groups[i];
		fputs(i == 0 ? "\n{\"name\":" : ",\n{\"name\":", f);
		put_str(f, g->name, false);
		fprintf(f, ",\"sites\":%zu,\"up\":%zu,\"down\":%zu,\"degraded\":%zu,\"unknown\":%zu}",
		    g->n, g->up, g->down, g->slow, g->unknown);
	}
	fputs("],\n\"sites\":[", f);
}

/*
 * The group of the site shown as ps: the one whose run of page.order holds
 * it. A walk over the order, a pointer compared per site: for ten thousand
 * sites a few tens of milliseconds a page, and nothing to add to page.h.
 */
static const char *group_of(const struct page *p, const struct page_site *ps)
{
	for (size_t g = 0; g < p->ngroups; g++) {
		const struct page_group *pg = &p->groups[g];
		for (size_t i = pg->first; i < pg->first + pg->n && i < p->n; i++)
			if (p->order[i] == ps->info)
				return pg->name;
	}
	return NULL;
}

static void put_rt(FILE *f, const struct sq_rt_slot *v, size_t n, bool p95)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		put_ms(f, p95 ? v[i].p95 : v[i].p50);
	}
	fputc(']', f);
}

static void put_response(FILE *f, const struct page *p, const struct page_site *ps)
{
	fputs(",\"response_ms\":{\"p50_24h\":", f);
	put_ms(f, ps->p50);
	fputs(",\"p95_24h\":", f);
	put_ms(f, ps->p95);
	fprintf(f, ",\"hours\":{\"from\":%" PRId64 ",\"step_s\":3600,\"p50\":", p->first_hour);
	put_rt(f, ps->rt_hours, PAGE_HOURS, false);
	fputs(",\"p95\":", f);
	put_rt(f, ps->rt_hours, PAGE_HOURS, true);
	fprintf(f, "},\"days\":{\"from\":%" PRId64 ",\"step_s\":86400,\"p50\":", p->first_rt_day);
	put_rt(f, ps->rt_days, PAGE_RT_DAYS, false);
	fputs(",\"p95\":", f);
	put_rt(f, ps->rt_days, PAGE_RT_DAYS, true);
	fputs("}}", f);
}

static void put_uptime(FILE *f, const struct page *p, const struct page_site *ps)
{
	fputs(",\"uptime\":{\"24h\":", f);
	put_percent(f, &ps->d1);
	fputs(",\"7d\":", f);
	put_percent(f, &ps->d7);
	fputs(",\"30d\":", f);
	put_percent(f, &ps->d30);
	fputs(",\"90d\":", f);
	put_percent(f, &ps->d90);
	fprintf(f, "},\"slow_s_30d\":%" PRId64 ",\"maintenance_s_30d\":%" PRId64,
	    ps->d30.slow_s, ps->d30.maint_s);
	put_response(f, p, ps);
	fprintf(f, ",\"days\":{\"from\":%" PRId64 ",\"uptime\":[", p->first_day);
	for (size_t i = 0; i < PAGE_DAYS; i++) {
		if (i > 0)
			fputc(',', f);
		put_percent(f, &ps->days[i]);
	}
	fputs("]}", f);
}

static void put_maintenance(FILE *f, const struct page *p, const struct page_site *ps)
{
	fputs(",\"maintenance\":", f);
	if (ps->window < 0 || (size_t)ps->window >= p->windows.n) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"from\":%" PRId64 ",\"until\":%" PRId64 ",\"now\":%s,\"reason\":",
	    ps->window_start, ps->window_end,
	    ps->window_start <= p->now && p->now < ps->window_end ? "true" : "false");
	put_str(f, p->windows.v[ps->window].reason, true);
	fputc('}', f);
}

static void put_incidents(FILE *f, const struct page_site *ps)
{
	fputs(",\"incidents\":[", f);
	for (size_t i = 0; i < ps->inc.n; i++) {
		const struct sq_incident *in = &ps->inc.v[i];
		fprintf(f, "%s{\"id\":%" PRId64 ",\"started_at\":%" PRId64 ",\"ended_at\":",
		    i > 0 ? "," : "", in->id, in->started_at);
		put_set(f, in->ended_at);
		fputs(",\"cause\":", f);
		put_str(f, in->cause, false);
		fputs(",\"notes\":[", f);
		for (size_t j = 0; j < in->nnotes; j++) {
			fprintf(f, "%s{\"at\":%" PRId64 ",\"text\":", j > 0 ? "," : "",
			    in->notes[j].at);
			put_str(f, in->notes[j].text, false);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputc(']', f);
}

void statusjson_site(FILE *f, const struct page *p, const struct page_site *ps, bool first)
{
	const struct sq_site_info *si = ps->info;
	char shown[URL_SHOWN_MAX];

	fprintf(f, "%s{\"id\":%" PRId64 ",\"name\":", first ? "\n" : ",\n", si->id);
	put_str(f, si->name, true);
	if (p->show_urls) {
		fputs(",\"url\":", f);
		put_str(f, url_shown(si->url, shown, sizeof(shown)), false);
	}
	fputs(",\"group\":", f);
	put_str(f, group_of(p, ps), false);
	fputs(",\"state\":", f);
	json_string(f, page_state_name(si->state));
	fputs(",\"since\":", f);
	put_set(f, si->since);
	fputs(",\"last_check\":", f);
	put_set(f, si->last_check);
	fputs(",\"last_status\":", f);
	put_set(f, si->last_check > 0 ? si->last_status : 0);
	fputs(",\"last_ms\":", f);
	put_ms(f, si->last_check > 0 ? si->last_ms : -1);
	fputs(",\"error\":", f);
	put_str(f, si->last_error, true);
	put_uptime(f, p, ps);
	put_maintenance(f, p, ps);
	put_incidents(f, ps);
	fputc('}', f);
}

void statusjson_end(FILE *f, const struct page *p)
{
	(void)p;
	fputs("\n]}\n", f);
}

/*
 * metrics.c - the Prometheus text exposition format (version 0.0.4).
 *
 * Every family has its HELP and TYPE lines before its samples, and all of
 * a family's samples are together, as the format requires. Label values
 * come from the database, so each is escaped (backslash, double quote,
 * newline). No timestamps: the collector stamps what it reads.
 *
 * Values are printed exactly: counters, counts and times in unix seconds
 * as the integers they are (a double's "%g" would print a start time as
 * 1.79651213e+09 and round counters past 2^53), durations and rates as
 * plain decimals to the microsecond, never with an exponent.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/escape.h"
#include "squirrel/base/log.h"
#include "squirrel/report/metrics.h"
#include "squirrel/base/outfile.h"
#include "squirrel/store/maintenance.h"
#include "squirrel/store/outbox.h"
#include "squirrel/store/sites.h"
#include "squirrel/base/urlshow.h"

enum site_value { SV_UP, SV_DEGRADED, SV_RESPONSE, SV_STATUS, SV_LAST_CHECK, SV_CHECKS,
	SV_FAILURES, SV_CERT_END };

static const struct {
	const char *name, *type, *help;
} site_families[] = {
	[SV_UP] = { "squirrel_site_up", "gauge",
	    "Whether the site is up (1) or down (0) as its thresholds decided (degraded is up);"
	    " absent until known." },
	[SV_DEGRADED] = { "squirrel_site_degraded", "gauge",
	    "Whether the site is degraded (1): up, but slower than its slow_ms; absent until known." },
	[SV_RESPONSE] = { "squirrel_site_response_seconds", "gauge",
	    "How long the site's last check took." },
	[SV_STATUS] = { "squirrel_site_http_status", "gauge",
	    "The HTTP status of the site's last check; 0 when no response came." },
	[SV_LAST_CHECK] = { "squirrel_site_last_check_timestamp_seconds", "gauge",
	    "When the site was last checked, in unix seconds." },
	[SV_CHECKS] = { "squirrel_site_checks_total", "counter",
	    "Checks of the site recorded since it was added." },
	[SV_FAILURES] = { "squirrel_site_failures_total", "counter",
	    "Failed checks of the site recorded since it was added." },
	[SV_CERT_END] = { "squirrel_cert_expiry_timestamp_seconds", "gauge",
	    "When the certificate the site's https answers last came over ends, in unix seconds;"
	    " absent until one was seen." },
};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Milliseconds as seconds with three decimals, by integer arithmetic. */
static void put_millis(FILE *f, int64_t ms)
{
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	fprintf(f, "%s%" PRIu64 ".%03" PRIu64 "\n", ms < 0 ? "-" : "", a / 1000, a % 1000);
}

/*
 * A real number as a plain decimal to six places, its trailing zeros
 * dropped (0.25, 12, 0.000125); the format's words for what is no number.
 */
static void put_real(FILE *f, double v)
{
	char buf[384];

	if (isnan(v)) {
		fputs("NaN\n", f);
		return;
	}
	if (isinf(v)) {
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", f);
		return;
	}
	snprintf(buf, sizeof(buf), "%.6f", v);
	char *end = buf + strlen(buf);
	while (end[-1] == '0')
		end--;
	if (end[-1] == '.')
		end--;
	*end = '\0';
	fprintf(f, "%s\n", strcmp(buf, "-0") == 0 ? "0" : buf);
}

static void site_labels(FILE *f, const char *name, const struct sq_site_info *site)
{
	char shown[URL_SHOWN_MAX];

	fprintf(f, "%s{id=\"%" PRId64 "\",url=\"", name, site->id);
	prom_label_escape(f, url_shown(site->url, shown, sizeof(shown)));
	fputs("\"} ", f);
}

/* A site squirreld checks: enabled, and not a row it skips (squirrel_sites_skipped). */
static bool watched(const struct sq_site_info *s)
{
	return s->enabled && s->skipped == NULL;
}

static void site_family(FILE *f, enum site_value v, const struct sq_site_info_list *sites)
{
	family(f, site_families[v].name, site_families[v].type, site_families[v].help);
	for (size_t i = 0; i < sites->n; i++) {
		const struct sq_site_info *s = &sites->v[i];
		if (!watched(s))
			continue;
		if (v == SV_CERT_END && s->cert_not_after <= 0)
			continue;
		if (v != SV_CHECKS && v != SV_FAILURES &&
		    (s->last_check == 0 ||
		    ((v == SV_UP || v == SV_DEGRADED) && s->state == SQ_STATE_UNKNOWN)))
			continue;
		site_labels(f, site_families[v].name, s);
		switch (v) {
		case SV_UP:
			fprintf(f, "%d\n", s->state == SQ_STATE_UP || s->state == SQ_STATE_DEGRADED);
			break;
		case SV_DEGRADED: fprintf(f, "%d\n", s->state == SQ_STATE_DEGRADED); break;
		case SV_RESPONSE: put_millis(f, s->last_ms); break;
		case SV_STATUS: fprintf(f, "%" PRId64 "\n", s->last_status); break;
		case SV_LAST_CHECK: fprintf(f, "%" PRId64 "\n", s->last_check); break;
		case SV_CHECKS: fprintf(f, "%" PRId64 "\n", s->checks_total); break;
		case SV_FAILURES: fprintf(f, "%" PRId64 "\n", s->failures_total); break;
		case SV_CERT_END: fprintf(f, "%" PRId64 "\n", s->cert_not_after); break;
		}
	}
}

/* Whether a maintenance window is in force over each site watched. */
static int put_maintenance(FILE *f, struct store *s, const struct sq_site_info_list *sites)
{
	struct sq_window_list wl;
	int64_t now = (int64_t)time(NULL);

	if (store_windows(s, &wl) < 0)
		return -1;
	family(f, "squirrel_site_maintenance", "gauge",
	    "Whether a maintenance window is in force over the site (1): checked, no alert sent.");
	for (size_t i = 0; i < sites->n; i++) {
		if (!watched(&sites->v[i]))
			continue;
		site_labels(f, "squirrel_site_maintenance", &sites->v[i]);
		fprintf(f, "%d\n", window_find(&wl, sites->v[i].id, sites->v[i].owner_email, now) != 0);
	}
	window_list_free(&wl);
	return 0;
}

/* A gauge that is a count or a time in unix seconds. */
static void gauge_int(FILE *f, const char *name, const char *help, int64_t v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %" PRId64 "\n", name, v);
}

/* A gauge that is a duration or a rate. */
static void gauge_real(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s ", name);
	put_real(f, v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

int metrics_render(FILE *f, struct store *s, const struct sq_metrics *m)
{
	struct sq_site_info_list sites;
	int64_t pending, failed;
	size_t counts[SQ_STATE_DEGRADED + 1] = { 0 }, skipped = 0;

	if (store_site_infos(s, 0, &sites) < 0)
		return -1;
	if (store_outbox_counts(s, &pending, &failed) < 0) {
		store_free_site_infos(&sites);
		return -1;
	}
	for (size_t v = 0; v < sizeof(site_families) / sizeof(site_families[0]); v++)
		site_family(f, (enum site_value)v, &sites);
	if (put_maintenance(f, s, &sites) < 0) {
		store_free_site_infos(&sites);
		return -1;
	}
	for (size_t i = 0; i < sites.n; i++) {
		if (watched(&sites.v[i]) && sites.v[i].state >= SQ_STATE_UNKNOWN &&
		    sites.v[i].state <= SQ_STATE_DEGRADED)
			counts[sites.v[i].state]++;
		else if (sites.v[i].enabled)
			skipped++;
	}
	family(f, "squirrel_sites", "gauge", "Sites watched, by state.");
	for (int st = SQ_STATE_UNKNOWN; st <= SQ_STATE_DEGRADED; st++)
		fprintf(f, "squirrel_sites{state=\"%s\"} %zu\n", state_name((enum sq_state)st),
		    counts[st]);
	gauge_int(f, "squirrel_sites_skipped",
	    "Enabled sites never checked: their row cannot be (squirrelctl list says why).",
	    (int64_t)skipped);
	gauge_int(f, "squirrel_alerts_pending", "Alerts waiting in the outbox to be sent.",
	    pending);
	gauge_int(f, "squirrel_alerts_undeliverable", "Alerts in the outbox given up for good.",
	    failed);
	if (m != NULL) {
		counter(f, "squirrel_checks_total", "Checks finished since the daemon started.",
		    m->checks);
		counter(f, "squirrel_check_failures_total",
		    "Failed checks since the daemon started.", m->failures);
		gauge_real(f, "squirrel_checks_per_second", "Checks finished per second, lately.",
		    m->checks_per_second);
		counter(f, "squirrel_alerts_sent_total", "Alerts delivered since the daemon started.",
		    m->alerts_sent);
		counter(f, "squirrel_alerts_failed_total",
		    "Alerts given up since the daemon started.", m->alerts_failed);
		if (m->pass_seconds >= 0)
			gauge_real(f, "squirrel_pass_duration_seconds",
			    "How long the last pass over the sites due took.", m->pass_seconds);
		if (m->loop_seconds >= 0)
			gauge_real(f, "squirrel_loop_duration_seconds",
			    "How long the daemon's last loop iteration took.", m->loop_seconds);
		gauge_int(f, "squirrel_start_time_seconds", "When the daemon started, in unix seconds.",
		    m->started_at);
	}
	store_free_site_infos(&sites);
	return 0;
}

int metrics_write_extra(const char *path, struct store *s, const struct sq_metrics *m,
    metrics_extra_fn *extra, void *arg)
{
	struct outfile o;

	if (outfile_open(&o, path, 0644) < 0)
		return -1;
	if (metrics_render(o.f, s, m) < 0) {
		outfile_abort(&o);
		return -1;
	}
	if (extra != NULL)
		extra(o.f, arg);
	return outfile_commit(&o);
}

int metrics_write(const char *path, struct store *s, const struct sq_metrics *m)
{
	return metrics_write_extra(path, s, m, NULL, NULL);
}

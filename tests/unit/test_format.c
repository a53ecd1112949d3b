/*
 * test_format.c - escaping for HTML, JSON, Prometheus labels and the
 * terminal; times people type; figures as they are printed; tables.
 */
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/escape.h"
#include "squirrel/base/table.h"
#include "squirrel/base/timefmt.h"
#include "tap.h"

typedef void escape_fn(FILE *f, const char *s);

/* What an escaping function writes for s. */
static char *run(escape_fn *fn, const char *s)
{
	static char out[1024];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f, s);
	fclose(f);
	snprintf(out, sizeof(out), "%s", buf);
	free(buf);
	return out;
}

static void test_escape(void)
{
	is_str(run(html_escape, "<script>alert('x')</script> & \"q\""),
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;", "HTML: markup");
	is_str(run(html_escape, "caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93",
	    "HTML: UTF-8 kept");
	is_str(run(html_escape, "a\xff" "b\x01" "c"), "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c",
	    "HTML: bad byte and control character become U+FFFD");
	is_str(run(html_escape, "\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd", "HTML: overlong form refused");
	is_str(run(html_escape, "\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "HTML: a surrogate refused");
	is_str(run(html_escape, "\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd",
	    "HTML: a truncated sequence at the end");
	/* U+202E RLO, U+202A LRE, U+2066 LRI, U+2069 PDI, U+0085 NEL */
	is_str(run(html_escape, "shop\xe2\x80\xaegnp.exe\xe2\x80\xaa|\xe2\x81\xa6|\xe2\x81\xa9|\xc2\x85"),
	    "shop\xef\xbf\xbdgnp.exe\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd",
	    "HTML: direction overrides, isolates and C1 controls become U+FFFD");
	is_str(run(html_escape, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xe2\x80\x8f"), "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xe2\x80\x8f",
	    "HTML: right-to-left text and its mark are kept");

	is_str(run(json_string, "a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"",
	    "JSON: quotes, backslash, control characters");
	is_str(run(json_string, "\xe2\x9c\x93 \xff"), "\"\xe2\x9c\x93 \\ufffd\"",
	    "JSON: UTF-8 kept, a bad byte replaced");
	is_str(run(json_string, "</script>"), "\"</script>\"", "JSON: markup is just text");

	is_str(run(prom_label_escape, "a\"b\\c\nd"), "a\\\"b\\\\c\\nd",
	    "Prometheus: quote, backslash, newline");
	is_str(run(prom_label_escape, "tab\there"), "tab\there", "Prometheus: a tab stays");

	size_t w;
	char *c = text_clean("a\x1b[31mred\xc3\xa9\xff", &w);
	is_str(c, "a?[31mred\xc3\xa9?", "terminal: escape sequences and bad bytes neutralised");
	is_int(w, 11, "terminal: width in characters");
	free(c);
	c = text_clean("shop\xe2\x80\xaegnp.exe\xe2\x81\xa7", &w);
	is_str(c, "shop?gnp.exe?", "terminal: direction overrides and isolates neutralised");
	free(c);
}

static void test_when(void)
{
	const int64_t now = 1700000000;
	char why[256];
	int64_t t;

	ok(when_parse("1690000000", now, &t, why, sizeof(why)) == 0 && t == 1690000000, "unix seconds");
	ok(when_parse("2023-11-14", now, &t, why, sizeof(why)) == 0 && t == 1699920000, "a UTC day");
	ok(when_parse("2023-11-14T22:13", now, &t, why, sizeof(why)) == 0 && t == 1699999980,
	    "a UTC time");
	ok(when_parse("2023-11-14T22:13:20", now, &t, why, sizeof(why)) == 0 && t == now,
	    "with seconds");
	ok(when_parse("2023-11-14 22:13:20Z", now, &t, why, sizeof(why)) == 0 && t == now,
	    "a space and a Z");
	ok(when_parse("2024-02-29", now, &t, why, sizeof(why)) == 0, "a leap day");
	ok(when_parse("24h", now, &t, why, sizeof(why)) == 0 && t == now - 86400, "24h");
	ok(when_parse("7d", now, &t, why, sizeof(why)) == 0 && t == now - 7 * 86400, "7d");
	ok(when_parse("90m", now, &t, why, sizeof(why)) == 0 && t == now - 5400, "90m");
	ok(when_parse("2w", now, &t, why, sizeof(why)) == 0 && t == now - 14 * 86400, "2w");
	ok(when_parse("30s", now, &t, why, sizeof(why)) == 0 && t == now - 30, "30s");
	const char *bad[] = { "", "yesterday", "24", "h", "24x", "-5d", "2023-13-01", "2023-02-29",
		"2023-11-14T25:00", "2023-11-14T10", "2023-1-1", "99999999999999999999",
		"99999999999d", "1969-12-31", "2023-11-14T10:00:60" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool refused = strcmp(bad[i], "24") == 0 ?
		    when_parse(bad[i], now, &t, why, sizeof(why)) == 0 && t == 24 :
		    when_parse(bad[i], now, &t, why, sizeof(why)) < 0 && why[0] != '\0';
		ok(refused, "'%s' %s", bad[i], strcmp(bad[i], "24") == 0 ? "is unix second 24" :
		    "is refused with a reason");
	}
}

static void test_figures(void)
{
	char buf[64];

	is_str(percent_format(1, 1, buf, sizeof(buf)), "100.00%", "all of it");
	is_str(percent_format(0, 10, buf, sizeof(buf)), "0.00%", "none of it");
	is_str(percent_format(99999, 100000, buf, sizeof(buf)), "99.99%",
	    "99.999%% is cut, never rounded up to 100");
	is_str(percent_format(95, 100, buf, sizeof(buf)), "95.00%", "exact hundredths");
	is_str(percent_format(2, 3, buf, sizeof(buf)), "66.66%", "two thirds, cut");
	is_str(percent_format(5, 0, buf, sizeof(buf)), "-", "nothing watched");
	ok(percent_value(2, 3) == 66.6667, "the JSON figure has four decimals");
	is_str(duration_format(40, buf, sizeof(buf)), "40s", "seconds");
	is_str(duration_format(725, buf, sizeof(buf)), "12m 5s", "minutes");
	is_str(duration_format(3 * 3600 + 120, buf, sizeof(buf)), "3h 2m", "hours");
	is_str(duration_format(2 * 86400 + 5 * 3600 + 7, buf, sizeof(buf)), "2d 5h", "days");
	is_str(time_format(1700000000, buf, sizeof(buf)), "2023-11-14 22:13:20", "UTC time");
	is_str(time_format(0, buf, sizeof(buf)), "-", "no time");
	is_str(date_format(1700000000, buf, sizeof(buf)), "2023-11-14", "UTC date");
}

static char *render(struct table *t, bool json)
{
	static char out[4096];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = table_print(t, json, f);
	fclose(f);
	snprintf(out, sizeof(out), "%s", rc == 0 ? buf : "(failed)");
	free(buf);
	return out;
}

static void test_table(void)
{
	static const struct table_col cols[] = {
		{ .name = "id", .right = true },
		{ .name = "name" },
		{ .name = "secret", .json_only = true },
		{ .name = "up", .head = "24h", .right = true },
		{ .name = "summary", .text_only = true },
		{ .name = "last_check" },
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));

	table_row(t);
	table_int(t, 7);
	table_str(t, "caf\xc3\xa9 \x1b[2J");
	table_str(t, "x");
	table_percent(t, 1, 3);
	table_str(t, "s1");
	table_time(t, 1700000000);
	table_row(t);
	table_int(t, 12);
	table_str(t, NULL);
	table_str(t, "y\"z");
	table_percent(t, 0, 0);
	table_str(t, "s2");
	table_time(t, 0);
	is_str(render(t, false),
	    "ID  NAME          24H  SUMMARY  LAST CHECK\n"
	    " 7  caf\xc3\xa9 ?[2J  33.33%  s1       2023-11-14 22:13:20\n"
	    "12  -               -  s2       -\n",
	    "text: aligned by characters, headings, hidden columns, cleaned values");
	is_str(render(t, true),
	    "[{\"id\": 7, \"name\": \"caf\xc3\xa9 \\u001b[2J\", \"secret\": \"x\", \"up\": 33.3333, "
	    "\"last_check\": 1700000000},\n"
	    " {\"id\": 12, \"name\": null, \"secret\": \"y\\\"z\", \"up\": null, \"last_check\": null}]\n",
	    "JSON: keys named after the columns, nulls, numbers");
	table_free(t);

	t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	is_str(render(t, true), "[]\n", "JSON: an empty listing is an empty array");
	table_row(t);
	table_int(t, 1);
	is_str(render(t, false), "(failed)", "a row left short is refused");
	table_free(t);
}

int main(void)
{
	test_escape();
	test_when();
	test_figures();
	test_table();
	return tap_done();
}

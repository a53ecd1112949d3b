/*
 * fuzz_alert.c - mail composition (src/alert/alert.c): database values of any
 * bytes make a message, or a reason it cannot be made. The input's
 * NUL-separated fields are to, from, id, and per item url, name, error,
 * locations (the detail is also the Message-ID an item answers); a few
 * of its bytes choose the kinds, times and statuses.
 * A message never holds a NUL or a bare CR or LF, and no value starts a
 * header line of its own.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "squirrel/alert/alert.h"

#define ITEMS 3

static int64_t pick(const uint8_t *data, size_t size, size_t at)
{
	int64_t v = 0;
	for (size_t i = 0; i < 8; i++)
		v = (int64_t)((uint64_t)v << 8 | (size > 0 ? data[(at + i) % size] : 0));
	return v;
}

static void check_message(const char *m)
{
	size_t n = strlen(m);
	const char *body = strstr(m, "\r\n\r\n");

	FUZZ_ASSERT(body != NULL, "no end of the headers");
	for (size_t i = 0; i < n; i++) {
		if (m[i] == '\n')
			FUZZ_ASSERT(i > 0 && m[i - 1] == '\r', "a bare LF at byte %zu", i);
		if (m[i] == '\r')
			FUZZ_ASSERT(m[i + 1] == '\n', "a bare CR at byte %zu", i);
	}
	/* every header line is a known header or a folded continuation */
	static const char *const known[] = { "From: ", "To: ", "Date: ", "Message-ID: ", "Subject: ",
		"Auto-Submitted: ", "MIME-Version: ", "Content-Type: ", "Content-Transfer-Encoding: ",
		"X-Squirrel-Alerts: ", "In-Reply-To: ", "References: " };
	for (const char *l = m; l < body + 2; l = strstr(l, "\r\n") + 2) {
		bool ok = l[0] == ' ' || l[0] == '\t';
		for (size_t k = 0; !ok && k < sizeof(known) / sizeof(known[0]); k++)
			ok = strncmp(l, known[k], strlen(known[k])) == 0;
		FUZZ_ASSERT(ok, "an unexpected header line: %.60s", l);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[3 + 4 * ITEMS];
	size_t len[3 + 4 * ITEMS];
	struct alert_item items[ITEMS];
	struct sq_located groups[ITEMS][2];
	char *buf, err[256], subject[512], words[512];

	size_t n = fuzz_fields(data, size, &buf, f, len, sizeof(f) / sizeof(f[0]));
	if (buf == NULL)
		return 0;
	const char *to = n > 0 ? f[0] : "", *from = n > 1 ? f[1] : "", *id = n > 2 ? f[2] : "";
	size_t nitems = 1 + (size > 0 ? data[0] % ITEMS : 0);
	for (size_t i = 0; i < nitems; i++) {
		size_t b = 3 + 4 * i;
		int64_t x = pick(data, size, 8 * i);
		items[i] = (struct alert_item){
			.site_id = x,
			.url = b < n ? f[b] : "http://example.org/",
			.name = b + 1 < n && (x & 1) ? f[b + 1] : NULL,
			.kind = (enum sq_alert_kind)((uint64_t)x % 5),
			.err = (int)((uint64_t)x >> 20) % (SQ_ERR_MAX + 3) - 1,
			.detail = b + 2 < n && (x & 2) ? f[b + 2] : NULL,
			.http_status = (int)(x >> 8) % 1200,
			.at = pick(data, size, 8 * i + 1) % 4000000000LL,
			.since = pick(data, size, 8 * i + 2) % 4000000000LL,
			.last_ok = (x & 4) ? 0 : pick(data, size, 8 * i + 3) % 4000000000LL,
			.locations = b + 3 < n && (x & 8) ? f[b + 3] : NULL,
			/* the Message-ID it answers: the detail's bytes, or one of ours */
			.answers = (x & 32) ? (b + 2 < n ? f[b + 2] : NULL) :
			    (x & 64) ? "alert.1.2.3@example.org" : NULL,
			.answers_at = x >> 7,
		};
		/* groups of several locations: their places are database values too */
		if (x & 16) {
			for (int g = 0; g < 2; g++)
				groups[i][g] = (struct sq_located){
					.err = (int)((uint64_t)x >> (28 + 4 * g)) % (SQ_ERR_MAX + 3) - 1,
					.http_status = (int)(x >> 8) % 1200,
					.where = b + 2 + g < n ? f[b + 2 + g] : "",
				};
			items[i].groups = groups[i];
			items[i].ngroups = 2;
			items[i].groups_more = (size_t)(x >> 40) % 3;
		}
	}
	int64_t now = pick(data, size, 5) % 4000000000LL;
	if (now < 0)
		now = -now;
	err[0] = '\0';
	char *m = alert_compose(to, from, items, nitems, now, id, err, sizeof(err));
	if (m != NULL) {
		check_message(m);
		free(m);
	} else {
		FUZZ_ASSERT(err[0] != '\0', "a mail refused without a reason");
	}
	m = alert_compose_text(to, from, items[0].url, n > 4 ? f[4] : "", now, id, err, sizeof(err));
	if (m != NULL) {
		check_message(m);
		free(m);
	}
	FUZZ_ASSERT(alert_subject(items, nitems, subject, sizeof(subject)) == 0, "no subject");
	for (const char *p = subject; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f, "the subject holds byte %#x",
		    (unsigned char)*p);
	alert_error_words(&items[0], words, sizeof(words));
	alert_site_label(&items[0], words, sizeof(words));
	alert_duration(pick(data, size, 3), words, sizeof(words));
	free(buf);
	return 0;
}

/*
 * channels.c - alerts to contacts over HTTP: webhook (a versioned JSON
 * body, signed when the contact has a secret), ntfy (a push to a topic)
 * chat (Slack-compatible {"text": ...}) and sms (a provider's API in the
 * common, Twilio-style form: To, From, Body posted with the account id and
 * token as basic authentication, the text within two segments).
 *
 * The messages go side by side on one libcurl multi handle, each with its
 * own time limit, so a receiver that hangs holds up no other. In the daemon
 * that handle is the sender's: one thread for as long as delivery runs,
 * fed the messages each round makes and woken by curl_multi_wakeup, that
 * hands each answer's verdict back as it comes. Idle, it sleeps in
 * curl_multi_poll until fed. squirrelctl's contact test and a --once run
 * send theirs on a handle of their own (channel_batch_run) and wait.
 * Only http and https, https unless the host is on loopback (or the
 * contact says otherwise), no redirects, at most CHANNEL_ANSWER_MAX bytes
 * of an answer read. The verdict follows the answer: 2xx sent; 408, 425,
 * 429, 5xx and no answer at all tried again (Retry-After kept); any other
 * status fails for good.
 */
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "config_build.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/secret.h"
#include "squirrel/base/urlshow.h"
#include "squirrel/base/util.h"
#include "squirrel/core/classes.h"
#include "squirrel/core/state.h"
#include "squirrel/alert/channels.h"

bool channel_is_http(const char *kind)
{
	return kind != NULL && (strcmp(kind, "webhook") == 0 || strcmp(kind, "ntfy") == 0 ||
	    strcmp(kind, "chat") == 0 || strcmp(kind, "sms") == 0);
}

bool channel_number_ok(const char *n)
{
	size_t len = strlen(n);
	return len >= 9 && len <= 16 && n[0] == '+' && strspn(n + 1, "0123456789") == len - 1;
}

/* An sms sender: a number, or a name of 1 to 11 letters and digits (where providers allow it). */
static bool sender_ok(const char *s)
{
	size_t len = strlen(s);
	return channel_number_ok(s) || (len >= 1 && len <= 11 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == len);
}

static bool host_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	    strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

bool channel_target_ok(const char *kind, const char *target, bool insecure, char *why,
    size_t len)
{
	if (strcmp(kind, "email") == 0)
		return email_valid(target, why, len);
	if (strcmp(kind, "sms") == 0) {
		if (!channel_number_ok(target))
			seterr(why, len, "not a phone number in international form (+15551234567)");
		return channel_number_ok(target);
	}
	if (!channel_is_http(kind)) {
		seterr(why, len, "unknown kind '%.20s' (email, webhook, ntfy, chat or sms)", kind);
		return false;
	}
	return channel_url_ok(target, insecure, why, len);
}

bool channel_url_ok(const char *target, bool insecure, char *why, size_t len)
{
	char *scheme = NULL, *host = NULL;
	bool ok = false;
	CURLU *u = curl_url();
	if (u == NULL) {
		seterr(why, len, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, target, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		seterr(why, len, "not a url");
	} else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		seterr(why, len, "only http and https urls");
	} else if (strcmp(scheme, "http") == 0 && !insecure && !host_loopback(host)) {
		seterr(why, len, "http to a host not on loopback sends the alert in clear: use "
		    "https (or --insecure)");
	} else {
		ok = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

void channel_target_shown(const char *target, char *buf, size_t len)
{
	char tmp[2048];
	const char *t = url_shown(target, tmp, sizeof(tmp));
	size_t o = 0, seg = 0;
	const char *p = strstr(t, "://");
	const char *path = p != NULL ? strchr(p + 3, '/') : NULL;

	if (len == 0)
		return;
	/* the path's segments of 16 or more characters are tokens (Slack, ntfy), as is a query */
	for (const char *q = t; *q != '\0' && o + 4 < len; q++) {
		if (*q == '?' || *q == '#') {
			memcpy(buf + o, "?\xe2\x80\xa6", 4);
			o += 4;
			break;
		}
		if (path != NULL && q > path && *q != '/') {
			const char *e = q + strcspn(q, "/?#");
			if (seg == 0 && e - q >= 16) {
				memcpy(buf + o, "\xe2\x80\xa6", 3);
				o += 3;
				q = e - 1;
				continue;
			}
			seg++;
		} else if (*q == '/') {
			seg = 0;
		}
		buf[o++] = *q;
	}
	buf[o] = '\0';
}

void channel_key(const struct sq_alert_row *rows, size_t n, char *buf, size_t len)
{
	/* the same rows tried again make the same key; ids are unique in their database */
	snprintf(buf, len, "squirrel-%" PRId64 "-%" PRId64 "-%zu-%" PRId64, rows[0].contact_id,
	    rows[0].id, n, rows[0].created_at);
}

/* ---- the messages ---- */

static void json_field_str(FILE *f, const char *key, const char *v, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	if (v == NULL)
		fputs("null", f);
	else
		json_string(f, v);
}

/* A UTC time as the body writes it: 2026-12-06T06:37:28Z. */
static void iso_utc(int64_t at, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)at;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "cert": the certificate a cert event warns of; null for other events (added in version 1). */
static void json_cert(FILE *f, const struct sq_alert_row *a)
{
	char at[32];

	if (a->kind != SQ_ALERT_CERT) {
		fputs(",\"cert\":null", f);
		return;
	}
	fputs(",\"cert\":{", f);
	if (a->cert_not_after > 0) {
		iso_utc(a->cert_not_after, at, sizeof(at));
		json_field_str(f, "not_after", at, false);
	} else {
		json_field_str(f, "not_after", NULL, false);
	}
	json_field_str(f, "subject", a->cert_subject != NULL && a->cert_subject[0] != '\0' ?
	    a->cert_subject : NULL, true);
	json_field_str(f, "issuer", a->cert_issuer != NULL && a->cert_issuer[0] != '\0' ?
	    a->cert_issuer : NULL, true);
	fputc('}', f);
}

static void json_alert(FILE *f, const struct sq_alert_row *a)
{
	char url[4096], since[32];

	iso_utc(a->since, since, sizeof(since));
	bool failing = a->kind == SQ_ALERT_DOWN || a->kind == SQ_ALERT_REMINDER;
	fprintf(f, "\"version\":%d", CHANNEL_VERSION);
	/* a row of no kind is contact test's */
	json_field_str(f, "event", sq_alert_kind_code(a->kind) != NULL ?
	    sq_alert_kind_code(a->kind) : "test", true);
	fprintf(f, ",\"alert_id\":%" PRId64 ",\"site\":{\"id\":%" PRId64, a->alert_of > 0 ?
	    a->alert_of : a->id, a->site_id);
	json_field_str(f, "name", a->name, true);
	json_field_str(f, "url", url_shown(a->url, url, sizeof(url)), true);
	fputs("}", f);
	json_field_str(f, "error", failing || a->kind == SQ_ALERT_OUTAGE ? sq_class_name(a->err) :
	    NULL, true);
	json_field_str(f, "detail", a->detail != NULL && a->detail[0] != '\0' ? a->detail : NULL,
	    true);
	fprintf(f, ",\"http_status\":%d", a->http_status);
	json_field_str(f, "since", since, true);
	fprintf(f, ",\"down_for\":%" PRId64 ",\"at\":%" PRId64, a->down_for, a->created_at);
	json_field_str(f, "locations", a->locations, true);
	json_cert(f, a);
}

/* The webhook's body: the first alert's fields at the top, every alert in "alerts". */
static char *body_webhook(const struct sq_alert_row *rows, size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	fputc('{', f);
	json_alert(f, &rows[0]);
	fputs(",\"alerts\":[", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i > 0 ? ",{" : "{", f);
		json_alert(f, &rows[i]);
		fputc('}', f);
	}
	fputs("]}", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* One line of words per alert: "DOWN example (https://...): the server answered HTTP 503". */
static void line_of(FILE *f, const struct sq_alert_row *a)
{
	char url[4096];
	const char *shown = url_shown(a->url, url, sizeof(url));

	fprintf(f, "%s %s (%s)", sq_alert_kind_code(a->kind) != NULL ?
	    sq_alert_kind_subject(a->kind) : "TEST", a->name != NULL ? a->name : shown, shown);
	if (a->kind == SQ_ALERT_DOWN || a->kind == SQ_ALERT_REMINDER) {
		fprintf(f, ": %s", sq_class_words(a->err));
		if (a->http_status > 0)
			fprintf(f, a->err == SQ_ERR_HTTP ? " %d" : " (HTTP %d)", a->http_status);
	}
}

static char *text_of(const struct sq_alert_row *rows, size_t n)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc('\n', f);
		line_of(f, &rows[i]);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *body_chat(const struct sq_alert_row *rows, size_t n, size_t *len)
{
	char *text = text_of(rows, n), *buf = NULL;
	FILE *f;

	if (text == NULL || (f = open_memstream(&buf, len)) == NULL) {
		free(text);
		return NULL;
	}
	fputs("{\"text\":", f);
	json_string(f, text);
	fputc('}', f);
	free(text);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the transfers ---- */

struct xfer {
	CURL *h;
	struct curl_slist *headers;
	char *body;
	char *answer;
	size_t answer_len;
	int64_t retry_after_s;
	void *tag;
	struct xfer **slot;    /* channel_batch_run's: its place in the batch, cleared when freed */
	char err[CURL_ERROR_SIZE];
};

/* Messages made, not yet handed to a multi handle: they are the batch's until then. */
struct channel_batch {
	struct xfer **v;
	size_t n, cap;
};

struct channel_batch *channel_batch_new(void)
{
	return calloc(1, sizeof(struct channel_batch));
}

static void xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	if (x->slot != NULL)
		*x->slot = NULL;
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x->answer);
	free(x);
}

void channel_batch_free(struct channel_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		xfer_free(b->v[i]);
	free(b->v);
	free(b);
}

/* The answer, kept up to CHANNEL_ANSWER_MAX bytes; past that the transfer stops. */
static size_t on_answer(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (x->answer_len + n > CHANNEL_ANSWER_MAX)
		n = CHANNEL_ANSWER_MAX - x->answer_len;
	char *a = realloc(x->answer, x->answer_len + n + 1);
	if (a == NULL)
		return 0;
	x->answer = a;
	memcpy(a + x->answer_len, p, n);
	x->answer_len += n;
	a[x->answer_len] = '\0';
	return size * nmemb;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		char v[64];
		size_t l = n - 12 < sizeof(v) - 1 ? n - 12 : sizeof(v) - 1;
		memcpy(v, p + 12, l);
		v[l] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		char *s = str_trim(v), *end;
		long long secs = strtoll(s, &end, 10);
		if (end != s && *end == '\0' && secs >= 0) {
			x->retry_after_s = secs;
		} else {
			time_t at = curl_getdate(s, NULL);
			if (at > 0)
				x->retry_after_s = (int64_t)at - (int64_t)time(NULL);
		}
		if (x->retry_after_s < 0)
			x->retry_after_s = 0;
	}
	return n;
}

static int hmac_hex(const char *key, const char *body, size_t len, char *hex, size_t hexlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac,
	    &maclen) == NULL || hexlen < 2 * maclen + 1)
		return -1;
	for (unsigned int i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

static bool add_header(struct xfer *x, const char *h)
{
	struct curl_slist *l = curl_slist_append(x->headers, h);
	if (l == NULL)
		return false;
	x->headers = l;
	return true;
}

/*
 * The text cut to fit two SMS segments: 306 characters when it is all
 * printable ASCII (GSM-7, near enough), else 134 (UCS-2), cut on a
 * character and marked with "...".
 */
static void sms_fit(char *text)
{
	size_t chars = 0, cut = 0, limit = 306;
	const unsigned char *p = (const unsigned char *)text;

	for (size_t i = 0; p[i] != '\0'; i++)
		if (p[i] >= 0x80 || (p[i] < 0x20 && p[i] != '\n'))
			limit = 134;
	for (size_t i = 0; p[i] != '\0'; i++) {
		if ((p[i] & 0xc0) == 0x80)
			continue;          /* a continuation byte: the character counted already */
		if (++chars == limit - 2)
			cut = i;           /* where "..." goes if it comes to that */
		if (chars > limit) {
			memcpy(text + cut, "...", 4);
			return;
		}
	}
}

/* Twilio's form: To, From, Body, the account id and token (ACCOUNT:TOKEN) as basic auth. */
static int compose_sms(struct xfer *x, const struct sq_alert_row *rows, size_t n,
    const struct sq_contact *c, const char *secret, char *why, size_t len)
{
	char *text = text_of(rows, n), *to = NULL, *from = NULL, *body = NULL;
	size_t blen = 0;
	FILE *f = NULL;
	int rc = -1;

	if (strchr(secret, ':') == NULL) {
		free(text);
		seterr(why, len, "the secret file of an sms contact holds ACCOUNT:TOKEN");
		return -1;
	}
	if (text == NULL)
		goto out;
	sms_fit(text);
	char *msg = curl_easy_escape(x->h, text, 0);
	to = curl_easy_escape(x->h, c->target, 0);
	from = curl_easy_escape(x->h, c->sender, 0);
	if (msg == NULL || to == NULL || from == NULL || (f = open_memstream(&body, &blen)) == NULL) {
		curl_free(msg);
		goto out;
	}
	fprintf(f, "To=%s&From=%s&Body=%s", to, from, msg);
	curl_free(msg);
	if (fclose(f) != 0)
		goto out;
	x->body = body;
	body = NULL;
	curl_easy_setopt(x->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(x->h, CURLOPT_USERPWD, secret);
	if (add_header(x, "Content-Type: application/x-www-form-urlencoded"))
		rc = 0;
out:
	if (rc < 0)
		seterr(why, len, "out of memory");
	free(text);
	free(body);
	curl_free(to);
	curl_free(from);
	return rc;
}

/* The headers and body of the message for its kind; -1 with why. */
static int compose(struct xfer *x, const struct sq_alert_row *rows, size_t n, const char *secret,
    char *why, size_t len)
{
	const struct sq_contact *c = &rows[0].contact;
	char h[512], key[128];
	size_t body_len = 0;

	if (strcmp(c->kind, "sms") == 0) {
		if (compose_sms(x, rows, n, c, secret, why, len) < 0)
			return -1;
		body_len = strlen(x->body);
	} else if (strcmp(c->kind, "ntfy") == 0) {
		char *text = text_of(rows, n);
		if (text == NULL)
			goto oom;
		x->body = text;
		body_len = strlen(text);
		bool down = rows[0].kind == SQ_ALERT_DOWN || rows[0].kind == SQ_ALERT_REMINDER ||
		    rows[0].kind == SQ_ALERT_OUTAGE;
		char title[256];
		snprintf(title, sizeof(title), "squirrel: %s", sq_alert_kind_code(rows[0].kind) != NULL ?
		    sq_alert_kind_subject(rows[0].kind) : "TEST");
		snprintf(h, sizeof(h), "Title: %s%s", title, n > 1 ? " (and more)" : "");
		if (!add_header(x, h) || !add_header(x, down ? "Priority: high" : "Priority: default") ||
		    !add_header(x, down ? "Tags: rotating_light" : "Tags: white_check_mark") ||
		    !add_header(x, "Content-Type: text/plain; charset=utf-8"))
			goto oom;
		if (secret != NULL) {
			snprintf(h, sizeof(h), "Authorization: Bearer %.400s", secret);
			if (!add_header(x, h))
				goto oom;
		}
	} else {
		bool hook = strcmp(c->kind, "webhook") == 0;
		x->body = hook ? body_webhook(rows, n, &body_len) : body_chat(rows, n, &body_len);
		if (x->body == NULL || !add_header(x, "Content-Type: application/json"))
			goto oom;
		if (hook) {
			char hex[2 * EVP_MAX_MD_SIZE + 1];
			channel_key(rows, n, key, sizeof(key));
			snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
			if (!add_header(x, h))
				goto oom;
			if (secret != NULL) {
				if (hmac_hex(secret, x->body, body_len, hex, sizeof(hex)) < 0) {
					seterr(why, len, "cannot sign the body");
					return -1;
				}
				snprintf(h, sizeof(h), "X-Squirrel-Signature: sha256=%s", hex);
				if (!add_header(x, h))
					goto oom;
			}
		}
	}
	if (!add_header(x, "User-Agent: squirrel/" SQ_VERSION) || !add_header(x, "Expect:"))
		goto oom;
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	return 0;
oom:
	seterr(why, len, "out of memory");
	return -1;
}

int channel_batch_add(struct channel_batch *b, const struct sq_alert_row *rows, size_t n,
    int64_t now, void *tag, char *why, size_t len)
{
	const struct sq_contact *c = &rows[0].contact;
	char *secret = NULL;
	struct xfer *x;
	int rc = -1;

	(void)now;
	bool sms = strcmp(c->kind, "sms") == 0;
	if (!channel_target_ok(c->kind, c->target, c->insecure, why, len))
		return -1;
	if (sms && (c->api == NULL || c->sender == NULL || c->secret_file == NULL ||
	    !sender_ok(c->sender))) {
		seterr(why, len, "an sms contact needs its provider's url, a sender and a secret file");
		return -1;
	}
	if (sms && !channel_url_ok(c->api, c->insecure, why, len))
		return -1;
	if (c->secret_file != NULL && (secret = secret_file_read(c->secret_file,
	    "the contact's secret file", why, len)) == NULL)
		return -1;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct xfer **v = realloc(b->v, cap * sizeof(*v));
		if (v == NULL)
			goto oom;
		b->v = v;
		b->cap = cap;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		goto oom;
	if ((x->h = curl_easy_init()) == NULL) {
		free(x);
		goto oom;
	}
	x->tag = tag;
	if (compose(x, rows, n, secret, why, len) < 0) {
		xfer_free(x);
		goto out;
	}
	curl_easy_setopt(x->h, CURLOPT_URL, sms ? c->api : c->target);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)CHANNEL_TIMEOUT_MS);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, (long)CHANNEL_TIMEOUT_MS / 2);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	b->v[b->n++] = x;
	rc = 0;
	goto out;
oom:
	seterr(why, len, "out of memory");
out:
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return rc;
}

/* The verdict of a finished transfer. */
static void verdict_of(struct xfer *x, CURLcode code, struct channel_result *r)
{
	long status = 0;
	char line[256];

	memset(r, 0, sizeof(*r));
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	r->http_status = (int)status;
	r->retry_after_s = x->retry_after_s > 3600 ? 3600 : x->retry_after_s;
	if (code != CURLE_OK && status == 0) {
		r->status = CHANNEL_TEMPFAIL;
		snprintf(r->reply, sizeof(r->reply), "%s", x->err[0] != '\0' ? x->err :
		    curl_easy_strerror(code));
		return;
	}
	/* the answer's first line, printable */
	const char *a = x->answer != NULL ? x->answer : "";
	size_t l = strcspn(a, "\r\n");
	char first[256];
	snprintf(first, sizeof(first), "%.*s", (int)(l < 200 ? l : 200), a);
	ascii_line(line, sizeof(line), first);
	snprintf(r->reply, sizeof(r->reply), "HTTP %ld%s%s", status, line[0] != '\0' ? ": " : "",
	    line);
	if (status >= 200 && status <= 299)
		r->status = CHANNEL_SENT;
	else if (status == 408 || status == 425 || status == 429 || status >= 500)
		r->status = CHANNEL_TEMPFAIL;
	else
		r->status = CHANNEL_PERMFAIL;
}

/* A transfer ended (or never started: code says why): its verdict to done, and it is freed. */
static void xfer_end(struct xfer *x, CURLcode code,
    void (*done)(void *arg, void *tag, const struct channel_result *r), void *arg)
{
	struct channel_result r;

	verdict_of(x, code, &r);
	done(arg, x->tag, &r);
	xfer_free(x);
}

/*
 * The transfers of m that ended since the last look, each handed to done
 * and freed. How many ended.
 */
static size_t reap(CURLM *m, void (*done)(void *arg, void *tag, const struct channel_result *r),
    void *arg)
{
	CURLMsg *msg;
	size_t n = 0;
	int left;

	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		struct xfer *x = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *h = msg->easy_handle;
		CURLcode code = msg->data.result;
		curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(m, h);
		xfer_end(x, code, done, arg);
		n++;
	}
	return n;
}

void channel_batch_run(struct channel_batch *b,
    void (*done)(void *arg, void *tag, const struct channel_result *r), void *arg)
{
	CURLM *m = curl_multi_init();
	size_t active = 0;
	int running = 1;

	for (size_t i = 0; i < b->n; i++) {
		struct xfer *x = b->v[i];
		x->slot = &b->v[i];
		if (m == NULL || curl_multi_add_handle(m, x->h) != CURLM_OK)
			xfer_end(x, CURLE_OUT_OF_MEMORY, done, arg);
		else
			active++;
	}
	while (active > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		active -= reap(m, done, arg);
		if (active > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	/* the multi handle failed (cannot happen): what it still held ends without an answer */
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i] != NULL) {
			curl_multi_remove_handle(m, b->v[i]->h);
			xfer_end(b->v[i], CURLE_SEND_ERROR, done, arg);
		}
	b->n = 0;
	curl_multi_cleanup(m);
}

/* ---- the sender: one thread, one multi handle, for as long as delivery runs ---- */

/* Idle, the sender sleeps this long at most (libcurl wakes it sooner for its transfers). */
#define SENDER_IDLE_MS (24 * 3600 * 1000)

struct channel_sender {
	CURLM *m;
	pthread_t tid;
	void (*done)(void *arg, void *tag, const struct channel_result *r);
	void *arg;
	size_t active;           /* the thread's own: transfers on m */
	pthread_mutex_t mu;      /* guards what follows */
	struct xfer **queue;     /* handed over, not yet on m */
	size_t nq, capq;
	bool stop;
};

/* The handed-over transfers put on m (by the thread: a multi handle is one thread's). */
static void sender_take(struct channel_sender *s, struct xfer **q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (curl_multi_add_handle(s->m, q[i]->h) != CURLM_OK)
			xfer_end(q[i], CURLE_OUT_OF_MEMORY, s->done, s->arg);
		else
			s->active++;
	}
}

static void *sender_main(void *arg)
{
	struct channel_sender *s = arg;
	struct xfer **q = NULL;
	size_t nq = 0;
	int running;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		q = s->queue;
		nq = s->nq;
		s->queue = NULL;
		s->nq = s->capq = 0;
		bool stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		sender_take(s, q, nq);
		free(q);
		/* stopping: what is on its way still ends (each within its time limit) */
		if (stop && s->active == 0 && nq == 0)
			break;
		curl_multi_perform(s->m, &running);
		s->active -= reap(s->m, s->done, s->arg);
		/* woken by a transfer's event, its timer, or channel_sender_send */
		if (curl_multi_poll(s->m, NULL, 0, SENDER_IDLE_MS, NULL) != CURLM_OK)
			usleep(100 * 1000);   /* cannot happen; should it, no spin */
	}
	return NULL;
}

struct channel_sender *channel_sender_start(
    void (*done)(void *arg, void *tag, const struct channel_result *r), void *arg)
{
	struct channel_sender *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->done = done;
	s->arg = arg;
	if ((s->m = curl_multi_init()) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	if (thread_start(&s->tid, sender_main, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		curl_multi_cleanup(s->m);
		free(s);
		return NULL;
	}
	return s;
}

int channel_sender_send(struct channel_sender *s, struct channel_batch *b)
{
	pthread_mutex_lock(&s->mu);
	if (s->nq + b->n > s->capq) {
		size_t cap = s->capq ? s->capq : 8;
		while (cap < s->nq + b->n)
			cap *= 2;
		struct xfer **q = realloc(s->queue, cap * sizeof(*q));
		if (q == NULL) {
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		s->queue = q;
		s->capq = cap;
	}
	memcpy(s->queue + s->nq, b->v, b->n * sizeof(*b->v));
	s->nq += b->n;
	b->n = 0;
	pthread_mutex_unlock(&s->mu);
	curl_multi_wakeup(s->m);
	return 0;
}

void channel_sender_stop(struct channel_sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_mutex_unlock(&s->mu);
	curl_multi_wakeup(s->m);
	pthread_join(s->tid, NULL);
	curl_multi_cleanup(s->m);
	pthread_mutex_destroy(&s->mu);
	free(s->queue);
	free(s);
}

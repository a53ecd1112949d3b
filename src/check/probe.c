/*
 * probe.c - one HTTP check with libcurl, and its verdict.
 *
 * Every check is a HEAD request on a fresh connection after a fresh name
 * lookup: a reused connection or a cached address can hide an outage or a
 * recovery. Only http and https are ever fetched, redirects included. A
 * server that refuses HEAD (405, 501) is asked once more with GET, and the
 * body is dropped as soon as it starts: that is enough to know the status.
 *
 * An https check says why its certificate was refused, from the TLS
 * library's own verify code: expired, not yet valid, untrusted, not for
 * this name; any other failure of the handshake is "tls handshake". A
 * handshake that never ends within the timeout stays "tls", as before.
 * The authorities are read once per process, not per handshake: libcurl
 * 7.88 parses its whole bundle file (some 140 certificates) for every
 * connection, as its cache of them (CURLOPT_CA_CACHE_TIMEOUT) is off
 * whenever a directory (CURLOPT_CAPATH, set by default) or a bundle in
 * memory is given, and that parse was most of an https check's CPU. So
 * libcurl is given none, and the TLS context of each connection gets one
 * shared X509_STORE (CURLOPT_SSL_CTX_FUNCTION), made at the first
 * handshake that needs it (a ca_file's at once): libcurl's bundle file, then
 * [check] ca_file, then libcurl's directory looked up by hash as before,
 * with the flags libcurl would set (partial chains, trusted first). With a
 * libcurl on another TLS library, the bundle and the ca_file are handed
 * over in memory instead (CURLOPT_CAINFO_BLOB), parsed per connection.
 *
 * A site that says more of its answer (method GET, a keyword) is fetched
 * with GET, and its body read up to [check] body_max bytes, no further: a
 * keyword is searched as bytes as they arrive (across the pieces libcurl
 * hands over), and the transfer stops once the verdict is known. The final
 * status is judged against the site's expect_status (200-399 when none).
 *
 * An https check that was answered also hands back the leaf certificate
 * it was answered over (its end, subject, issuer and SHA-256), read from
 * the check's own handshake: at each status line, while the connection is
 * up, through CURLINFO_TLS_SSL_PTR (libcurl's OpenSSL session; the pointer
 * is good only while the transfer runs, hence in the header callback).
 * With redirects the last answer's certificate is the one kept. The
 * environment variable SQUIRREL_CERT_READ=0 turns the reading off: the
 * measurement of its cost (bench/checkcost.py) needs both, in one run.
 *
 * An internationalised host (http://bücher.example/) is looked up, and
 * fetched, in its ASCII form (xn--bcher-kva.example): squirrel resolves
 * with c-ares, which takes names as they are, so the conversion is done
 * here for every backend, with libidn2 as libcurl does its own. People
 * keep seeing the URL as it was written.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config_build.h"
#include "squirrel/base/clock.h"
#include "squirrel/base/log.h"
#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/check/probe.h"
#include "squirrel/check/resolve.h"

/* The authorities: the system's, with those of [check] ca_file; shared by the probes. */
struct ca_bundle {
	char *path;               /* the ca_file; "": the system's alone */
	X509_STORE *store;        /* libcurl on OpenSSL: the bundle, the ca_file, the directory;
	                             NULL until the first handshake (ca_store) */
	struct curl_blob blob;    /* any other: the bundle, then the ca_file (a ca_file given) */
	unsigned refs;
	struct ca_bundle *next;
};

struct probe {
	CURL *h;
	struct ca_bundle *ca;     /* NULL: the system's authorities alone */
	struct sq_check check;
	char source[80];          /* "host!ADDR" for CURLOPT_INTERFACE, or "" */
	int ip_version;
	struct resolver *resolver; /* blocking use only */
	char host[256];           /* the url's host, ASCII, when it needs a lookup */
	char *fetch_url;          /* the url with that host, when it had to change; or NULL */
	int port;
	bool need_lookup;
	long timeout_left_ms;     /* the check's timeout, less the lookup */
	/*
	 * CURLOPT_RESOLVE entries: the addresses of this check, and the removal
	 * of the previous check's, so libcurl's DNS cache never holds more than
	 * one name per handle however many sites there are.
	 */
	struct curl_slist *resolve;
	char last_pair[300];      /* "host:port" added last, to remove */
	void *owner;
	int64_t paused_at;        /* monotonic ms; 0: the clock runs */
	int64_t start_mono_ms;
	int64_t start_wall_ms;
	bool get_retry;           /* the second attempt, with GET, is running */
	bool body_dropped;        /* our write callback stopped the body */
	bool read_body;           /* this attempt reads the body (GET, keyword) */
	bool keyword_found;
	int64_t body_seen;        /* bytes of the body read */
	struct sq_cert cert;      /* the last answer's certificate; not_after 0: none */
	uint32_t carry_len;       /* the body's last bytes, for a keyword across pieces */
	char carry[SQ_KEYWORD_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

static void result_init(struct probe *p, const struct sq_check *c, struct sq_result *r);
static int url_host(const char *url, char *host, size_t hostlen, int *port, bool *literal);
static void set_detail(struct sq_result *r, const char *msg);

/*
 * The stop's deadline, 0 while running. A signal handler sets it, so it
 * must be lock-free; libcurl asks the progress callback at least once a
 * second, however quiet the server, and a check ends there.
 */
static _Atomic int64_t stop_deadline;
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the stop deadline is set from a signal handler");

void probe_stop_at(int64_t deadline_ms)
{
	atomic_store(&stop_deadline, deadline_ms > 0 ? deadline_ms : 1);
}

static int stop_check(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	int64_t deadline = atomic_load_explicit(&stop_deadline, memory_order_relaxed);
	(void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return deadline != 0 && clock_mono_ms() >= deadline;
}

/*
 * Whether libcurl's TLS library speaks OpenSSL's verify codes
 * (CURLINFO_SSL_VERIFYRESULT): OpenSSL and the libraries made from it.
 */
static bool verify_codes_known;

/* Whether libcurl's TLS library is OpenSSL itself, whose X509_STORE a probe can hand it. */
static bool tls_is_openssl;

/* Whether answers hand back their certificate (SQUIRREL_CERT_READ=0: not). */
static bool cert_read = true;

int probe_global_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		log_errorx("libcurl initialisation failed: %s", curl_easy_strerror(rc));
		return -1;
	}
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *ssl = v != NULL && v->ssl_version != NULL ? v->ssl_version : "";
	verify_codes_known = strncmp(ssl, "OpenSSL", 7) == 0 || strncmp(ssl, "LibreSSL", 8) == 0 ||
	    strncmp(ssl, "BoringSSL", 9) == 0 || strncmp(ssl, "quictls", 7) == 0;
	tls_is_openssl = strncmp(ssl, "OpenSSL", 7) == 0;
	const char *knob = getenv("SQUIRREL_CERT_READ");
	cert_read = knob == NULL || strcmp(knob, "0") != 0;
	return 0;
}

void probe_global_cleanup(void)
{
	curl_global_cleanup();
}

static int dup_opt(const char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

int probe_opts_copy(struct sq_probe_opts *dst, const struct sq_probe_opts *src)
{
	*dst = *src;
	if (dup_opt(&dst->source_address, src->source_address) < 0 ||
	    dup_opt(&dst->dns_servers, src->dns_servers) < 0 ||
	    dup_opt(&dst->hosts_file, src->hosts_file) < 0 ||
	    dup_opt(&dst->ca_file, src->ca_file) < 0) {
		probe_opts_free(dst);
		return -1;
	}
	return 0;
}

void probe_opts_free(struct sq_probe_opts *o)
{
	free((char *)o->source_address);
	free((char *)o->dns_servers);
	free((char *)o->hosts_file);
	free((char *)o->ca_file);
	o->source_address = o->dns_servers = o->hosts_file = o->ca_file = NULL;
}

const char *probe_user_agent(void)
{
	return "squirrel/" SQ_VERSION;
}

static pthread_mutex_t ca_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ca_bundle *ca_bundles;   /* under ca_lock */

/* Appends a whole file to *buf; -1 with the reason in why. */
static int append_file(char **buf, size_t *len, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "re");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (f == NULL) {
		snprintf(why, whylen, "'%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (*len + n + 2 > (size_t)CA_FILE_MAX * 2) {
			snprintf(why, whylen, "'%s': too large", path);
			rc = -1;
			break;
		}
		char *more = realloc(*buf, *len + n + 2);
		if (more == NULL) {
			snprintf(why, whylen, "out of memory");
			rc = -1;
			break;
		}
		*buf = more;
		memcpy(*buf + *len, chunk, n);
		*len += n;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(why, whylen, "'%s': cannot read it", path);
		rc = -1;
	}
	fclose(f);
	if (rc == 0 && *buf != NULL)
		(*buf)[(*len)++] = '\n';   /* a bundle without a final newline ends its line */
	return rc;
}

/*
 * The store of a libcurl on OpenSSL: libcurl's bundle file (left out, and
 * said, when it cannot be read), the ca_file (path; "" none), libcurl's
 * directory looked up by hash; the verify flags libcurl sets on its own.
 */
static X509_STORE *store_make(const curl_version_info_data *v, const char *path)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL) {
		log_errorx("the authorities: out of memory");
		return NULL;
	}
	if (v != NULL && v->cainfo != NULL && X509_STORE_load_file(st, v->cainfo) != 1)
		log_warnx("libcurl's bundle of authorities '%s' is left out: it cannot be read",
		    v->cainfo);
	if (path[0] != '\0' && X509_STORE_load_file(st, path) != 1) {
		log_errorx("ca_file: '%s': the TLS library cannot read its certificates", path);
		X509_STORE_free(st);
		ERR_clear_error();
		return NULL;
	}
	if (v != NULL && v->capath != NULL && X509_STORE_load_path(st, v->capath) != 1)
		log_warnx("libcurl's directory of authorities '%s' is left out", v->capath);
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_TRUSTED_FIRST);
	ERR_clear_error();   /* nothing of this is a later connection's error */
	return st;
}

/*
 * The authorities of path ("": the system's alone), made on first use and
 * shared: the store (libcurl on OpenSSL), or else, for a ca_file, the
 * bundle in memory (libcurl's bundle file, when it has one and it can be
 * read, then the ca_file). The ca_file is checked again: it may have
 * changed since the configuration was read.
 */
static struct ca_bundle *ca_take(const char *path)
{
	const curl_version_info_data *v;
	struct ca_bundle *b;
	X509_STORE *store = NULL;
	char why[256];
	char *buf = NULL;
	size_t len = 0;

	pthread_mutex_lock(&ca_lock);
	for (b = ca_bundles; b != NULL; b = b->next) {
		if (strcmp(b->path, path) == 0) {
			b->refs++;
			goto out;
		}
	}
	if (path[0] != '\0' && ca_file_check(path, why, sizeof(why)) < 0) {
		log_errorx("ca_file: %s", why);
		goto out;
	}
	v = curl_version_info(CURLVERSION_NOW);
	if (tls_is_openssl && path[0] != '\0') {
		if ((store = store_make(v, path)) == NULL)
			goto fail;
	} else if (path[0] != '\0') {
		if (v != NULL && v->cainfo != NULL &&
		    append_file(&buf, &len, v->cainfo, why, sizeof(why)) < 0)
			log_warnx("libcurl's bundle of authorities is left out: %s", why);
		if (append_file(&buf, &len, path, why, sizeof(why)) < 0) {
			log_errorx("ca_file: %s", why);
			goto fail;
		}
	}
	if ((b = calloc(1, sizeof(*b))) == NULL || (b->path = strdup(path)) == NULL) {
		log_errorx("the authorities: out of memory");
		free(b);
		b = NULL;
		goto fail;
	}
	b->store = store;
	b->blob = (struct curl_blob){ .data = buf, .len = len, .flags = CURL_BLOB_NOCOPY };
	b->refs = 1;
	b->next = ca_bundles;
	ca_bundles = b;
	goto out;
fail:
	free(buf);
	X509_STORE_free(store);
out:
	pthread_mutex_unlock(&ca_lock);
	return b;
}

/*
 * The store of the system's authorities is made at the first TLS
 * handshake, not with the first probe: reading the bundle (some 140
 * certificates) is most of the start of a pass, and a pass of plain http
 * needs none of it. A ca_file's store is made at once, so that a file the
 * TLS library cannot read is said when the probes are made.
 */
static X509_STORE *ca_store(struct ca_bundle *b)
{
	X509_STORE *st;

	pthread_mutex_lock(&ca_lock);
	if (b->store == NULL)
		b->store = store_make(curl_version_info(CURLVERSION_NOW), b->path);
	st = b->store;
	pthread_mutex_unlock(&ca_lock);
	return st;
}

/* Each connection's TLS context verifies with the shared store (libcurl loaded none). */
static CURLcode use_store(CURL *h, void *ssl_ctx, void *bundle)
{
	X509_STORE *st = ca_store(bundle);

	(void)h;
	if (st == NULL)
		return CURLE_OUT_OF_MEMORY;
	SSL_CTX_set1_cert_store((SSL_CTX *)ssl_ctx, st);
	return CURLE_OK;
}

static void ca_drop(struct ca_bundle *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&ca_lock);
	if (--b->refs == 0) {
		struct ca_bundle **pp = &ca_bundles;
		while (*pp != b)
			pp = &(*pp)->next;
		*pp = b->next;
		free(b->blob.data);
		X509_STORE_free(b->store);
		free(b->path);
		free(b);
	}
	pthread_mutex_unlock(&ca_lock);
}

struct probe *probe_new(const struct sq_probe_opts *opts, bool with_resolver)
{
	struct probe *p = calloc(1, sizeof(*p));
	char err[256];

	if (p == NULL)
		return NULL;
	p->h = curl_easy_init();
	if (p->h == NULL) {
		free(p);
		return NULL;
	}
	if (opts != NULL) {
		if (opts->source_address != NULL && opts->source_address[0] != '\0')
			snprintf(p->source, sizeof(p->source), "host!%s", opts->source_address);
		p->ip_version = opts->ip_version;
	}
	if ((p->ca = ca_take(opts != NULL && opts->ca_file != NULL ? opts->ca_file : "")) == NULL) {
		probe_free(p);
		return NULL;
	}
	if (with_resolver) {
		struct resolver_opts ro = { 0 };
		if (opts != NULL) {
			ro.servers = opts->dns_servers;
			ro.timeout_ms = opts->dns_timeout_ms;
			ro.tries = opts->dns_tries;
			ro.max_inflight = 1;
			ro.ip_version = opts->ip_version;
			ro.hosts_file = opts->hosts_file;
		}
		p->resolver = resolver_new(&ro, NULL, err, sizeof(err));
		if (p->resolver == NULL) {
			log_errorx("name lookups cannot start: %s", err);
			probe_free(p);
			return NULL;
		}
	}
	return p;
}

void probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	curl_easy_cleanup(p->h);
	curl_slist_free_all(p->resolve);
	resolver_free(p->resolver);
	curl_free(p->fetch_url);
	ca_drop(p->ca);
	free(p);
}

/*
 * Whether a label could be a part of an IPv4 address in one of the forms
 * libcurl reads as one (decimal, octal, 0x hex): "1", "0x7f".
 */
static bool label_numeric(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			    (s[i] >= 'A' && s[i] <= 'F')))
				return false;
		return true;
	}
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * Asked of every check that waits for a slot, so the plain cases are read
 * here without libcurl's parser: a name of ASCII letters, digits, '-' and
 * '.' whose last label is no number, or a dotted IPv4 address. Anything
 * else (an IPv6 literal, a name to convert, an address libcurl writes
 * another way) is parsed as the probe will.
 */
bool probe_url_needs_lookup(const char *url)
{
	char host[256];
	int port;
	bool literal = false;
	size_t slen = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
	const char *a = url + slen;

	if (slen > 0 && strncmp(a, "://", 3) == 0) {
		a += 3;
		size_t alen = strcspn(a, "/?#");
		const char *at = memrchr(a, '@', alen);
		if (at != NULL) {
			alen -= (size_t)(at + 1 - a);
			a = at + 1;
		}
		size_t hlen = a[0] == '[' ? 0 : strcspn(a, ":/?#");
		bool plain = hlen > 0 && hlen < sizeof(host) && hlen <= alen;
		size_t last = 0;
		for (size_t i = 0; plain && i < hlen; i++) {
			char ch = a[i];
			if (ch == '.')
				last = i + 1;
			else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-'))
				plain = false;
		}
		if (plain && !label_numeric(a + last, hlen - last))
			return true;
		if (plain) {
			unsigned char buf[4];
			memcpy(host, a, hlen);
			host[hlen] = '\0';
			if (inet_pton(AF_INET, host, buf) == 1)
				return false;
		}
	}
	if (url_host(url, host, sizeof(host), &port, &literal) < 0)
		return false;   /* it fails at probe_start(), without a lookup */
	return !literal;
}

void probe_pause_clock(struct probe *p)
{
	p->paused_at = clock_mono_ms();
}

void probe_resume_clock(struct probe *p)
{
	if (p->paused_at != 0)
		p->start_mono_ms += clock_mono_ms() - p->paused_at;
	p->paused_at = 0;
}

void probe_set_owner(struct probe *p, void *owner)
{
	p->owner = owner;
}

void *probe_owner(const struct probe *p)
{
	return p->owner;
}

const char *probe_lookup_name(const struct probe *p)
{
	return p->need_lookup ? p->host : NULL;
}

/*
 * The url's host, in its ASCII form, and port; whether the host is an
 * address literal.
 */
static int url_host(const char *url, char *host, size_t hostlen, int *port, bool *literal)
{
	CURLU *u = curl_url();
	char *h = NULL, *pt = NULL, why[128];
	unsigned char buf[sizeof(struct in6_addr)];
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    idn_to_ascii(h, host, hostlen, why, sizeof(why)) == 0) {
		size_t n = strlen(host);
		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			*literal = true;
		} else {
			*literal = inet_pton(AF_INET, host, buf) == 1;
		}
		*port = atoi(pt);
		rc = 0;
	}
	curl_free(h);
	curl_free(pt);
	curl_url_cleanup(u);
	return rc;
}

int probe_set_addresses(struct probe *p, const struct resolve_answer *a, struct sq_result *r)
{
	int64_t elapsed = clock_mono_ms() - p->start_mono_ms;
	char entry[sizeof(p->host) + 16 + RESOLVE_MAX_ADDRS * (RESOLVE_ADDRSTRLEN + 3)];
	struct curl_slist *list = NULL, *tmp;

	p->need_lookup = false;
	if (a->err != SQ_OK || a->naddr <= 0) {
		result_init(p, &p->check, r);
		r->err = a->err != SQ_OK ? a->err : SQ_ERR_DNS_NOADDR;
		r->ms = elapsed > INT32_MAX ? INT32_MAX : (int32_t)elapsed;
		return -1;
	}
	if (elapsed >= p->check.timeout_ms) {
		result_init(p, &p->check, r);
		r->err = SQ_ERR_DNS_TIMEOUT;
		r->ms = (int32_t)elapsed;
		return -1;
	}
	p->timeout_left_ms = (long)(p->check.timeout_ms - elapsed);
	int off = snprintf(entry, sizeof(entry), "%s:%d:", p->host, p->port);
	for (int i = 0; i < a->naddr && i < RESOLVE_MAX_ADDRS; i++) {
		bool v6 = strchr(a->addrs[i], ':') != NULL;
		off += snprintf(entry + off, sizeof(entry) - (size_t)off, "%s%s%s%s", i ? "," : "",
		    v6 ? "[" : "", a->addrs[i], v6 ? "]" : "");
	}
	/* forget the previous check's name, then add this one's addresses */
	if (p->last_pair[0] != '\0') {
		char removal[sizeof(p->last_pair) + 1];
		snprintf(removal, sizeof(removal), "-%s", p->last_pair);
		if ((tmp = curl_slist_append(list, removal)) == NULL)
			goto nomem;
		list = tmp;
	}
	if ((tmp = curl_slist_append(list, entry)) == NULL)
		goto nomem;
	list = tmp;
	curl_slist_free_all(p->resolve);
	p->resolve = list;
	snprintf(p->last_pair, sizeof(p->last_pair), "%s:%d", p->host, p->port);
	if (curl_easy_setopt(p->h, CURLOPT_RESOLVE, p->resolve) != CURLE_OK ||
	    curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, p->timeout_left_ms) != CURLE_OK) {
		result_init(p, &p->check, r);
		r->err = SQ_ERR_OTHER;
		set_detail(r, "cannot hand the addresses to libcurl");
		return -1;
	}
	return 0;
nomem:
	curl_slist_free_all(list);
	result_init(p, &p->check, r);
	r->err = SQ_ERR_OTHER;
	set_detail(r, "out of memory");
	return -1;
}

void *probe_handle(struct probe *p)
{
	return p->h;
}

struct probe *probe_from_handle(void *curl_handle)
{
	char *priv = NULL;
	curl_easy_getinfo((CURL *)curl_handle, CURLINFO_PRIVATE, &priv);
	return (struct probe *)priv;
}

/* A body means we already have the status line: stop the transfer there. */
static size_t drop_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct probe *p = userdata;
	(void)data;
	if (size * nmemb == 0)
		return 0;
	p->body_dropped = true;
	return 0;
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Whether the keyword is in h[0..n): as bytes, or with ASCII letters in either case. */
static bool keyword_in(const struct sq_expect *e, const char *h, size_t n)
{
	size_t k = e->keyword_len;

	if (k == 0 || n < k)
		return false;
	if (!e->keyword_nocase)
		return memmem(h, n, e->keyword, k) != NULL;
	unsigned char first = ascii_lower((unsigned char)e->keyword[0]);
	for (size_t i = 0; i + k <= n; i++) {
		if (ascii_lower((unsigned char)h[i]) != first)
			continue;
		size_t j = 1;
		while (j < k && ascii_lower((unsigned char)h[i + j]) ==
		    ascii_lower((unsigned char)e->keyword[j]))
			j++;
		if (j == k)
			return true;
	}
	return false;
}

/*
 * Looks for the keyword in the next n bytes of the body: across the end of
 * the previous piece (its last k-1 bytes are kept), then inside this one.
 */
static bool keyword_scan(struct probe *p, const char *data, size_t n)
{
	const struct sq_expect *e = &p->check.expect;
	size_t keep = e->keyword_len - 1;
	char joint[2 * SQ_KEYWORD_MAX];

	if (p->carry_len > 0) {
		size_t more = n < keep ? n : keep;
		memcpy(joint, p->carry, p->carry_len);
		memcpy(joint + p->carry_len, data, more);
		if (keyword_in(e, joint, p->carry_len + more))
			return true;
	}
	if (keyword_in(e, data, n))
		return true;
	if (n >= keep) {
		memcpy(p->carry, data + n - keep, keep);
		p->carry_len = (uint32_t)keep;
	} else {
		size_t old = p->carry_len + n > keep ? keep - n : p->carry_len;
		memmove(p->carry, p->carry + p->carry_len - old, old);
		memcpy(p->carry + old, data, n);
		p->carry_len = (uint32_t)(old + n);
	}
	return false;
}

/*
 * The body of a check that reads it: at most body_max bytes, searched for
 * the keyword; stopped (the answer is whole: probe_done) at body_max or
 * once the keyword is found, the verdict known.
 */
static size_t read_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct probe *p = userdata;
	const struct sq_expect *e = &p->check.expect;
	size_t n = size * nmemb;
	int64_t room = (int64_t)e->body_max - p->body_seen;
	size_t take = room <= 0 ? 0 : (uint64_t)room < n ? (size_t)room : n;

	if (e->keyword_len > 0 && !p->keyword_found && take > 0)
		p->keyword_found = keyword_scan(p, data, take);
	p->body_seen += (int64_t)take;
	if (n > 0 && (take < n || p->body_seen >= e->body_max || p->keyword_found)) {
		p->body_dropped = true;
		return 0;
	}
	return n;
}

/* The class of an answer whose status was expected: the keyword's verdict. */
static enum sq_err keyword_verdict(const struct probe *p)
{
	const struct sq_expect *e = &p->check.expect;

	if (e->keyword_len == 0)
		return SQ_OK;
	if (e->keyword_mode == SQ_KEYWORD_ABSENT)
		return p->keyword_found ? SQ_ERR_KEYWORD_PRESENT : SQ_OK;
	return p->keyword_found ? SQ_OK : SQ_ERR_KEYWORD_MISSING;
}

static void result_init(struct probe *p, const struct sq_check *c, struct sq_result *r)
{
	memset(r, 0, sizeof(*r));
	r->site_id = c->site_id;
	r->tag = c->tag;
	r->started_ms = p->start_wall_ms;
}

static void set_detail(struct sq_result *r, const char *msg)
{
	size_t n = strnlen(msg, sizeof(r->detail) - 1);
	memcpy(r->detail, msg, n);
	r->detail[n] = '\0';
	for (char *s = r->detail; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* One name of a certificate, "CN=example.org, O=Example", cut to fit, printable. */
static void cert_name(const X509_NAME *name, char *buf, size_t len)
{
	size_t off = 0;
	int n = X509_NAME_entry_count(name);

	buf[0] = '\0';
	for (int i = 0; i < n && off + 1 < len; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const char *sn = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
		unsigned char *utf8 = NULL;
		int vlen = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		if (vlen < 0)
			continue;
		int w = snprintf(buf + off, len - off, "%s%s=%.*s", off ? ", " : "",
		    sn != NULL ? sn : "?", vlen, (const char *)utf8);
		OPENSSL_free(utf8);
		if (w < 0)
			break;
		off += (size_t)w < len - off ? (size_t)w : len - off - 1;
	}
	for (char *s = buf; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* The leaf certificate of the connection now up, into p->cert; nothing for plain http. */
static void cert_take(struct probe *p)
{
	struct curl_tlssessioninfo *info = NULL;
	unsigned int mdlen = 0;
	struct tm tm;

	if (curl_easy_getinfo(p->h, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL ||
	    info->backend != CURLSSLBACKEND_OPENSSL || info->internals == NULL)
		return;
	X509 *x = SSL_get_peer_certificate((SSL *)info->internals);
	if (x == NULL)
		return;
	memset(&p->cert, 0, sizeof(p->cert));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 &&
	    X509_digest(x, EVP_sha256(), p->cert.fingerprint, &mdlen) == 1 &&
	    mdlen == SQ_CERT_FP_LEN) {
		p->cert.not_after = (int64_t)timegm(&tm);
		cert_name(X509_get_subject_name(x), p->cert.subject, sizeof(p->cert.subject));
		cert_name(X509_get_issuer_name(x), p->cert.issuer, sizeof(p->cert.issuer));
	} else {
		memset(&p->cert, 0, sizeof(p->cert));
	}
	X509_free(x);
}

/*
 * Each header line; at a status line the connection that answers is up,
 * and its certificate can be read (it is the last answer's that counts).
 */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct probe *p = userdata;
	size_t n = size * nmemb;

	if (n > 5 && memcmp(data, "HTTP/", 5) == 0)
		cert_take(p);
	return n;
}

/*
 * Options for one attempt; the handle keeps nothing from a previous check.
 * body: the body is read (read_body), else dropped as soon as it starts.
 */
static int probe_setup(struct probe *p, bool use_get, bool body, long timeout_ms)
{
	CURL *h = p->h;
	const struct sq_check *c = &p->check;
	CURLcode rc = CURLE_OK;

	curl_easy_reset(h);
	p->errbuf[0] = '\0';
	p->body_dropped = false;
	p->read_body = body;
	p->keyword_found = false;
	p->body_seen = 0;
	p->carry_len = 0;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val)
	SET(CURLOPT_URL, p->fetch_url != NULL ? p->fetch_url : c->url);
	SET(CURLOPT_PRIVATE, (char *)p);
	SET(CURLOPT_ERRORBUFFER, p->errbuf);
	SET(CURLOPT_NOBODY, use_get ? 0L : 1L);
	SET(CURLOPT_HTTPGET, use_get ? 1L : 0L);
	SET(CURLOPT_WRITEFUNCTION, body ? read_body : drop_body);
	SET(CURLOPT_WRITEDATA, p);
	if (cert_read) {
		SET(CURLOPT_HEADERFUNCTION, on_header);
		SET(CURLOPT_HEADERDATA, p);
	}
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	SET(CURLOPT_FOLLOWLOCATION, c->max_redirects > 0 ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, (long)c->max_redirects);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_USERAGENT, probe_user_agent());
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_XFERINFOFUNCTION, stop_check);
	SET(CURLOPT_NOPROGRESS, 0L);
	if (p->resolve != NULL && !p->need_lookup)
		SET(CURLOPT_RESOLVE, p->resolve);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (tls_is_openssl) {
		/* no bundle for libcurl to parse: the shared store, handed over per connection */
		SET(CURLOPT_CAINFO, NULL);
		SET(CURLOPT_CAPATH, NULL);
		SET(CURLOPT_SSL_CTX_FUNCTION, use_store);
		SET(CURLOPT_SSL_CTX_DATA, p->ca);
	} else if (p->ca->blob.data != NULL) {
		SET(CURLOPT_CAINFO_BLOB, &p->ca->blob);
	}
	SET(CURLOPT_IPRESOLVE, p->ip_version == 4 ? CURL_IPRESOLVE_V4 :
	    p->ip_version == 6 ? CURL_IPRESOLVE_V6 : CURL_IPRESOLVE_WHATEVER);
	if (p->source[0] != '\0')
		SET(CURLOPT_INTERFACE, p->source);
#undef SET
	if (rc != CURLE_OK) {
		snprintf(p->errbuf, sizeof(p->errbuf), "%s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * The url libcurl fetches: with its host in the ASCII form p->host has
 * (the name looked up, which CURLOPT_RESOLVE must match), whether or not
 * this libcurl converts names itself. NULL when the url is fine as it is.
 */
static int set_fetch_url(struct probe *p, const char *url)
{
	CURLU *u;
	char *h = NULL;
	int rc = 0;

	curl_free(p->fetch_url);
	p->fetch_url = NULL;
	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && strcmp(h, p->host) != 0) {
		if (curl_url_set(u, CURLUPART_HOST, p->host, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_URL, &p->fetch_url, 0) != CURLUE_OK)
			rc = -1;
	}
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

int probe_start(struct probe *p, const struct sq_check *c, struct sq_result *r)
{
	char why[128];
	struct url_host uh;

	p->check = *c;
	p->get_retry = false;
	memset(&p->cert, 0, sizeof(p->cert));
	p->paused_at = 0;
	p->start_mono_ms = clock_mono_ms();
	p->start_wall_ms = clock_wall_ms();
	if (!url_valid_host(c->url, why, sizeof(why), &uh)) {
		result_init(p, c, r);
		r->err = SQ_ERR_BAD_URL;
		set_detail(r, why);
		return -1;
	}
	memcpy(p->host, uh.host, sizeof(p->host));
	p->port = uh.port;
	curl_free(p->fetch_url);
	p->fetch_url = NULL;
	if (uh.ascii_differs && set_fetch_url(p, c->url) < 0) {
		result_init(p, c, r);
		r->err = SQ_ERR_OTHER;
		set_detail(r, "out of memory");
		return -1;
	}
	p->need_lookup = !uh.literal;
	p->timeout_left_ms = c->timeout_ms;
	bool body = sq_expect_reads_body(&c->expect);
	if (probe_setup(p, body, body, c->timeout_ms) < 0) {
		result_init(p, c, r);
		r->err = SQ_ERR_OTHER;
		set_detail(r, p->errbuf);
		return -1;
	}
	return 0;
}

static bool is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return true;
	default:
		return false;
	}
}

/* OpenSSL's verify codes (openssl/x509_vfy.h): stable, part of its ABI. */
enum {
	X509_OK = 0,
	X509_NOT_SET = 1,                 /* libcurl's "not verified yet" (!X509_V_OK) */
	X509_NO_ISSUER = 2,               /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT */
	X509_NOT_YET_VALID = 9,           /* X509_V_ERR_CERT_NOT_YET_VALID */
	X509_EXPIRED = 10,                /* X509_V_ERR_CERT_HAS_EXPIRED */
	X509_SELF_SIGNED = 18,            /* X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT */
	X509_SELF_SIGNED_IN_CHAIN = 19,   /* X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN */
	X509_NO_LOCAL_ISSUER = 20,        /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY */
	X509_NO_LEAF_SIGNATURE = 21,      /* X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE */
	X509_CHAIN_TOO_LONG = 22,         /* X509_V_ERR_CERT_CHAIN_TOO_LONG */
	X509_UNTRUSTED = 27,              /* X509_V_ERR_CERT_UNTRUSTED */
	X509_HOSTNAME_MISMATCH = 62,      /* X509_V_ERR_HOSTNAME_MISMATCH */
	X509_IP_MISMATCH = 64,            /* X509_V_ERR_IP_ADDRESS_MISMATCH */
	X509_INVALID_CA = 79,             /* X509_V_ERR_INVALID_CA */
};

/*
 * Why the certificate was refused. libcurl says CURLE_PEER_FAILED_VERIFICATION
 * both when the TLS library refused the chain (its verify code then says
 * why) and when libcurl's own check of the name failed: the chain passed,
 * and libcurl 7.88 has not stored its code yet (still its "not verified"
 * 1) or stored X509_OK. Any other TLS error is the handshake's. With a TLS
 * library whose codes are not OpenSSL's, a refused certificate is
 * untrusted: nothing finer can be told.
 */
static enum sq_err classify_tls(CURL *h, CURLcode rc)
{
	long verify = X509_OK;

	if (rc != CURLE_PEER_FAILED_VERIFICATION)
		return SQ_ERR_TLS_HANDSHAKE;
	if (!verify_codes_known)
		return SQ_ERR_TLS_UNTRUSTED;
	curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify);
	switch (verify) {
	case X509_OK:
	case X509_NOT_SET:
	case X509_HOSTNAME_MISMATCH:
	case X509_IP_MISMATCH:
		return SQ_ERR_TLS_NAME;
	case X509_EXPIRED:
		return SQ_ERR_TLS_EXPIRED;
	case X509_NOT_YET_VALID:
		return SQ_ERR_TLS_NOT_YET_VALID;
	case X509_NO_ISSUER:
	case X509_SELF_SIGNED:
	case X509_SELF_SIGNED_IN_CHAIN:
	case X509_NO_LOCAL_ISSUER:
	case X509_NO_LEAF_SIGNATURE:
	case X509_CHAIN_TOO_LONG:
	case X509_UNTRUSTED:
	case X509_INVALID_CA:
		return SQ_ERR_TLS_UNTRUSTED;
	default:
		return SQ_ERR_TLS_HANDSHAKE;
	}
}

/* Whether the url's host is an address literal (no lookup to time out). */
static bool host_is_literal(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	unsigned char buf[sizeof(struct in6_addr)];
	bool literal = false;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		size_t n = strlen(host);
		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			literal = inet_pton(AF_INET6, host + 1, buf) == 1;
		} else {
			literal = inet_pton(AF_INET, host, buf) == 1;
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return literal;
}

/*
 * A timeout says nothing of where the time went; the phase it stopped in
 * does. Lookup not finished: dns. No local port yet: the TCP connect never
 * completed. A TLS url whose handshake never ended: tls. (libcurl 7.88 sets
 * CONNECT_TIME only once TLS is up too, so the local port tells the TCP
 * connect apart.)
 */
static enum sq_err classify_timeout(CURL *h)
{
	char *url = NULL;
	curl_off_t lookup_us = 0, tls_us = 0;
	long local_port = 0;

	curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &lookup_us);
	curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &local_port);
	curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls_us);
	curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url);
	if (lookup_us == 0 && url != NULL && !host_is_literal(url))
		return SQ_ERR_DNS_TIMEOUT;
	if (local_port == 0)
		return SQ_ERR_CONNECT_TIMEOUT;
	if (url != NULL && strncmp(url, "https:", 6) == 0 && tls_us == 0)
		return SQ_ERR_TLS;
	return SQ_ERR_TIMEOUT;
}

/*
 * libcurl says "unsupported protocol" both for a redirect to a scheme it
 * may not follow and for an answer that is not HTTP/1.x (HTTP/0.9, binary
 * noise, an HTTP/2 frame, status 000, 99 or 1000). The url it stopped at
 * tells them apart: a refused scheme is where it was going, an http(s)
 * url is where it got the bad answer.
 */
static enum sq_err classify_unsupported(CURL *h)
{
	char *url = NULL;

	curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url);
	if (url != NULL && strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return SQ_ERR_PROTOCOL;
	return SQ_ERR_BAD_REPLY;
}

/*
 * libcurl 7.x reports a status line or header longer than its limit
 * (100 KB) as out of memory, 8.6 and later as CURLE_TOO_LARGE. Once the
 * request has been sent, that is the answer's size: a probe allocates
 * nothing of its own there.
 */
static enum sq_err classify_nomem(CURL *h)
{
	curl_off_t sent_us = 0;
	long local_port = 0;

	curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &sent_us);
	curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &local_port);
	return sent_us > 0 || local_port != 0 ? SQ_ERR_TOO_LARGE : SQ_ERR_OTHER;
}

/* libcurl says "Couldn't connect" for several reasons; errno tells which. */
static enum sq_err classify_connect(CURL *h)
{
	long os_errno = 0;
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	switch (os_errno) {
	case ECONNREFUSED:
		return SQ_ERR_CONNECT_REFUSED;
	case ETIMEDOUT:
		return SQ_ERR_CONNECT_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return SQ_ERR_UNREACHABLE;
	default:
		return SQ_ERR_OTHER;
	}
}

static enum sq_err classify_curlcode(CURL *h, CURLcode rc)
{
	long os_errno = 0;

	if (is_tls_error(rc))
		return classify_tls(h, rc);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return SQ_ERR_DNS;
	case CURLE_COULDNT_CONNECT:
		return classify_connect(h);
	case CURLE_OPERATION_TIMEDOUT:
		return classify_timeout(h);
	case CURLE_TOO_MANY_REDIRECTS:
		return SQ_ERR_TOO_MANY_REDIRECTS;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return classify_unsupported(h);
	case CURLE_OUT_OF_MEMORY:
		return classify_nomem(h);
#if LIBCURL_VERSION_NUM >= 0x080600
	case CURLE_TOO_LARGE:
		return SQ_ERR_TOO_LARGE;
#endif
	case CURLE_URL_MALFORMAT:
		return SQ_ERR_BAD_URL;
	case CURLE_GOT_NOTHING:
		return SQ_ERR_EMPTY_REPLY;
	case CURLE_ABORTED_BY_CALLBACK:
		return SQ_ERR_STOPPED;   /* stop_check(), the only callback that aborts */
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return SQ_ERR_BAD_REPLY;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
		return os_errno == ECONNRESET ? SQ_ERR_RESET : SQ_ERR_OTHER;
	default:
		return SQ_ERR_OTHER;
	}
}

bool probe_done(struct probe *p, int curlcode, struct sq_result *r)
{
	CURLcode rc = (CURLcode)curlcode;
	long status = 0;

	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
	result_init(p, &p->check, r);
	int64_t elapsed = clock_mono_ms() - p->start_mono_ms;
	r->ms = elapsed > INT32_MAX ? INT32_MAX : (int32_t)elapsed;
	r->http_status = (int32_t)status;

	bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && p->body_dropped);
	if (answered)
		r->cert = p->cert;
	if (!answered) {
		r->err = classify_curlcode(p->h, rc);
		if (r->err == SQ_ERR_OTHER)
			set_detail(r, p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
		return false;
	}
	if (sq_expect_status_ok(&p->check.expect, status)) {
		r->err = keyword_verdict(p);
		return false;
	}
	if ((status == 405 || status == 501) && !p->get_retry && !p->read_body) {
		/* Many servers refuse HEAD: ask once more with GET, in the time left. */
		long left = (long)p->check.timeout_ms - (long)elapsed;
		if (left > 0 && probe_setup(p, true, false, left) == 0) {
			p->get_retry = true;
			return true;
		}
	}
	if (status >= 200) {
		r->err = SQ_ERR_HTTP;
	} else {
		r->err = SQ_ERR_BAD_REPLY;
		set_detail(r, "no final status");
	}
	return false;
}

void probe_run(struct probe *p, const struct sq_check *c, struct sq_result *r)
{
	if (probe_start(p, c, r) < 0)
		return;
	if (p->need_lookup) {
		struct resolve_answer a;
		if (p->resolver == NULL) {
			/* a probe made for an event loop: the loop looks names up */
			a.err = SQ_ERR_DNS;
			a.naddr = 0;
		} else {
			resolver_lookup_wait(p->resolver, p->host, c->timeout_ms, &a);
		}
		if (probe_set_addresses(p, &a, r) < 0)
			return;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		CURLcode rc = curl_easy_perform(p->h);
		if (!probe_done(p, rc, r))
			return;
	}
}

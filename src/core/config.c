/*
 * config.c - the INI-style configuration file.
 *
 * One table lists every key: its section, its type, its range and where it
 * lives in struct sq_config. The parser, the defaults and the command line
 * overrides all go through that table, so a key cannot be accepted in one
 * place and refused in another.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_build.h"
#include "squirrel/base/image.h"
#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "squirrel/core/cert.h"
#include "squirrel/core/check.h"
#include "squirrel/core/config.h"
#include "squirrel/core/maintenance.h"
#include "squirrel/core/outage.h"
#include "squirrel/base/log.h"
#include "squirrel/base/urlshow.h"

enum key_type { KEY_INT, KEY_STRING, KEY_CHOICE, KEY_BOOL, KEY_SHARE };

struct choice {
	const char *name;
	int value;
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	long min, max;              /* KEY_INT */
	const struct choice *choices; /* KEY_CHOICE, NULL-terminated */
	const char *def;            /* the default, as it would be written */
	int (*check)(const char *value, char *why, size_t whylen);
};

const char *const config_backend_names[] = {
	"serial", "threads", "prefork", "libev", "redis", NULL,
};

/*
 * Best first, for a configuration that names no backend, with whether
 * meson built each (the backend table says the same with each row's
 * code; the unit test of the configuration holds the two together).
 */
static const struct {
	const char *name;
	bool built;
} preferred[] = {
	{ "libev", SQ_HAVE_LIBEV }, { "threads", SQ_HAVE_THREADS }, { "serial", true },
};

const char *config_backend_pick(bool (*built)(const char *name))
{
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
		if (built(preferred[i].name))
			return preferred[i].name;
	return "serial";   /* always built, whatever built() says */
}

static bool built_here(const char *name)
{
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
		if (strcmp(preferred[i].name, name) == 0)
			return preferred[i].built;
	return false;
}

static const struct choice level_choices[] = {
	{ "error", LOG_LEVEL_ERROR }, { "warning", LOG_LEVEL_WARNING },
	{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
	{ NULL, 0 },
};
static const struct choice ipver_choices[] = {
	{ "any", 0 }, { "4", 4 }, { "6", 6 }, { NULL, 0 },
};
static const struct choice yesno_choices[] = {
	{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 }, { "on", 1 }, { "off", 0 },
	{ "1", 1 }, { "0", 0 }, { NULL, 0 },
};
static const struct choice tls_choices[] = {
	{ "none", SQ_TLS_NONE }, { "starttls", SQ_TLS_STARTTLS }, { "tls", SQ_TLS_IMPLICIT },
	{ NULL, 0 },
};

static int check_backend(const char *v, char *why, size_t len);
static int check_dns_servers(const char *v, char *why, size_t len);
static int check_address(const char *v, char *why, size_t len);
static int check_ca_file(const char *v, char *why, size_t len);
static int check_cert_days(const char *v, char *why, size_t len);
static int check_redis_url(const char *v, char *why, size_t len);
static int check_locations(const char *v, char *why, size_t len);
static int check_timezone(const char *v, char *why, size_t len);
static int check_canary(const char *v, char *why, size_t len);
static int check_admin(const char *v, char *why, size_t len);
static int check_logo(const char *v, char *why, size_t len);
static int check_title(const char *v, char *why, size_t len);

#define OFF(field) offsetof(struct sq_config, field)
#define DAY (24 * 3600L)

static const struct key keys[] = {
	{ "squirreld", "database", KEY_STRING, OFF(database), 0, 0, NULL, SQ_DEFAULT_DATABASE, NULL },
	/* default: the best backend built, config_backend_pick(built_here) (libev when built) */
	{ "squirreld", "backend", KEY_STRING, OFF(backend), 0, 0, NULL, NULL, check_backend },
	{ "squirreld", "workers", KEY_INT, OFF(workers), 1, 4096, NULL, "32", NULL },
	{ "squirreld", "max_concurrent", KEY_INT, OFF(max_concurrent), 1, 100000, NULL, "500", NULL },
	{ "squirreld", "log_level", KEY_CHOICE, OFF(log_level), 0, 0, level_choices, "info", NULL },
	{ "squirreld", "status_page", KEY_STRING, OFF(status_page), 0, 0, NULL, "", NULL },
	{ "squirreld", "metrics_file", KEY_STRING, OFF(metrics_file), 0, 0, NULL, "", NULL },
	{ "squirreld", "history_days", KEY_INT, OFF(history_days), 1, 36500, NULL, "400", NULL },
	{ "squirreld", "raw_hours", KEY_INT, OFF(raw_hours), 1, 24 * 36500, NULL, "48", NULL },

	{ "status_page", "title", KEY_STRING, OFF(page_title), 0, 0, NULL, "Status", check_title },
	{ "status_page", "description", KEY_STRING, OFF(page_description), 0, 0, NULL, "", NULL },
	{ "status_page", "logo", KEY_STRING, OFF(page_logo), 0, 0, NULL, "", check_logo },
	{ "status_page", "public_page", KEY_STRING, OFF(page_public), 0, 0, NULL, "", NULL },
	{ "status_page", "show_urls", KEY_BOOL, OFF(page_show_urls), 0, 0, yesno_choices, "no", NULL },
	{ "status_page", "refresh", KEY_INT, OFF(page_refresh), 0, DAY, NULL, "60", NULL },
	{ "status_page", "owner_pages", KEY_BOOL, OFF(page_owner_pages), 0, 0, yesno_choices, "no",
	    NULL },
	{ "status_page", "badges_dir", KEY_STRING, OFF(page_badges_dir), 0, 0, NULL, "", NULL },

	{ "check", "interval", KEY_INT, OFF(interval_s), 1, 30 * DAY, NULL, "60", NULL },
	{ "check", "timeout", KEY_INT, OFF(timeout_ms), 1, SQ_TIMEOUT_MAX_MS, NULL, "10000", NULL },
	{ "check", "connect_timeout", KEY_INT, OFF(connect_timeout_ms), 1, SQ_TIMEOUT_MAX_MS, NULL,
	    "5000", NULL },
	{ "check", "max_redirects", KEY_INT, OFF(max_redirects), 0, 50, NULL, "5", NULL },
	{ "check", "body_max", KEY_INT, OFF(body_max), 1, 256 * 1024 * 1024, NULL, "1048576", NULL },
	{ "check", "fail_threshold", KEY_INT, OFF(fail_threshold), 1, 1000, NULL, "2", NULL },
	{ "check", "recover_threshold", KEY_INT, OFF(recover_threshold), 1, 1000, NULL, "1", NULL },
	{ "check", "retry_interval", KEY_INT, OFF(retry_interval_s), 1, 30 * DAY, NULL, "20", NULL },
	{ "check", "remind_every", KEY_INT, OFF(remind_every_s), 0, 365 * DAY, NULL, "0", NULL },
	{ "check", "slow_ms", KEY_INT, OFF(slow_ms), 0, SQ_SLOW_MAX_MS, NULL, "0", NULL },
	{ "check", "cert_warn_days", KEY_STRING, OFF(cert_warn_days), 0, 0, NULL,
	    SQ_CERT_DAYS_DEFAULT, check_cert_days },
	{ "check", "group_window", KEY_INT, OFF(group_window_s), 0, 3600, NULL, "10", NULL },
	{ "check", "dns_servers", KEY_STRING, OFF(dns_servers), 0, 0, NULL, "", check_dns_servers },
	{ "check", "dns_timeout", KEY_INT, OFF(dns_timeout_ms), 1, 60000, NULL, "2000", NULL },
	{ "check", "dns_tries", KEY_INT, OFF(dns_tries), 1, 10, NULL, "2", NULL },
	{ "check", "dns_max_inflight", KEY_INT, OFF(dns_max_inflight), 1, 100000, NULL, "200", NULL },
	{ "check", "ip_version", KEY_CHOICE, OFF(ip_version), 0, 0, ipver_choices, "any", NULL },
	{ "check", "source_address", KEY_STRING, OFF(source_address), 0, 0, NULL, "", check_address },
	{ "check", "ca_file", KEY_STRING, OFF(ca_file), 0, 0, NULL, "", check_ca_file },
	{ "check", "outage_window", KEY_INT, OFF(outage_window_s), 1, DAY, NULL, "60", NULL },
	{ "check", "outage_share", KEY_SHARE, OFF(outage_share), 0, 0, NULL, "0.5", NULL },
	{ "check", "outage_min", KEY_INT, OFF(outage_min), 1, 1000000, NULL, "10", NULL },
	{ "check", "canary", KEY_STRING, OFF(canary), 0, 0, NULL, "", check_canary },

	{ "smtp", "host", KEY_STRING, OFF(smtp_host), 0, 0, NULL, "localhost", NULL },
	{ "smtp", "port", KEY_INT, OFF(smtp_port), 1, 65535, NULL, "25", NULL },
	{ "smtp", "tls", KEY_CHOICE, OFF(smtp_tls), 0, 0, tls_choices, "none", NULL },
	{ "smtp", "user", KEY_STRING, OFF(smtp_user), 0, 0, NULL, "", NULL },
	{ "smtp", "password", KEY_STRING, OFF(smtp_password), 0, 0, NULL, "", NULL },
	{ "smtp", "password_file", KEY_STRING, OFF(smtp_password_file), 0, 0, NULL, "", NULL },
	{ "smtp", "from", KEY_STRING, OFF(smtp_from), 0, 0, NULL, "squirrel@localhost", NULL },
	{ "smtp", "timeout", KEY_INT, OFF(smtp_timeout_ms), 1000, 600000, NULL, "30000", NULL },
	{ "smtp", "alert_max_age", KEY_INT, OFF(alert_max_age_s), 60, 365 * DAY, NULL, "172800", NULL },

	/* set once at start (window_zone_set): a change takes a restart */
	{ "alerts", "timezone", KEY_STRING, OFF(timezone), 0, 0, NULL, "UTC", check_timezone },
	{ "alerts", "admin", KEY_STRING, OFF(alerts_admin), 0, 0, NULL, "", check_admin },

	{ "redis", "url", KEY_STRING, OFF(redis_url), 0, 0, NULL, "redis://127.0.0.1:6379/0", check_redis_url },
	{ "redis", "prefix", KEY_STRING, OFF(redis_prefix), 0, 0, NULL, "squirrel", NULL },
	{ "redis", "locations", KEY_STRING, OFF(redis_locations), 0, 0, NULL, "default", check_locations },
	{ "redis", "quorum", KEY_INT, OFF(redis_quorum), 1, 100, NULL, "1", NULL },
	{ "redis", "claim_idle", KEY_INT, OFF(redis_claim_idle_ms), 1000, 3600000, NULL, "30000", NULL },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static bool section_known(const char *section)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/* "[squirreld], [status_page], [check], ...": the sections, in the table's order. */
static void sections_list(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(keys[k].section, keys[i].section) == 0;
		if (seen)
			continue;
		int n = snprintf(buf + o, len - o, "%s[%s]", o > 0 ? ", " : "", keys[i].section);
		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
}

static const struct key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static void choices_list(const struct choice *c, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (; c->name != NULL && off < len; c++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", c->name);
}

/* One of config_backend_names, built or not: the registry refuses one left out, at start. */
static int check_backend(const char *v, char *why, size_t len)
{
	char list[160];
	size_t off = 0;

	for (size_t i = 0; config_backend_names[i] != NULL; i++)
		if (strcmp(config_backend_names[i], v) == 0)
			return 0;
	list[0] = '\0';
	for (size_t i = 0; config_backend_names[i] != NULL && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
		    config_backend_names[i]);
	seterr(why, len, "'%s' is not one of: %s", v, list);
	return -1;
}

/* Strict decimal integer: optional sign, digits, nothing else. */
static int parse_long(const char *s, long *out)
{
	char *end;
	if (*s == '\0')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s)
		return -1;
	*out = v;
	return 0;
}

/* A share: a decimal number above 0 and at most 1 ("0.5", "1"), nothing else. */
static int share_parse(const char *s, double *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v > 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

static int key_apply(struct sq_config *cfg, const struct key *k, const char *value,
    char *why, size_t whylen)
{
	char *base = (char *)cfg;
	char list[160];
	long v;

	switch (k->type) {
	case KEY_INT:
		if (parse_long(value, &v) < 0) {
			seterr(why, whylen, "'%s' is not a whole number", value);
			return -1;
		}
		if (v < k->min || v > k->max) {
			seterr(why, whylen, "%ld is out of range (%ld to %ld)", v, k->min, k->max);
			return -1;
		}
		*(int *)(base + k->offset) = (int)v;
		return 0;
	case KEY_CHOICE:
	case KEY_BOOL:
		for (const struct choice *c = k->choices; c->name != NULL; c++) {
			if (strcmp(c->name, value) == 0) {
				if (k->type == KEY_BOOL)
					*(bool *)(base + k->offset) = c->value != 0;
				else
					*(int *)(base + k->offset) = c->value;
				return 0;
			}
		}
		choices_list(k->choices, list, sizeof(list));
		seterr(why, whylen, "'%s' is not one of: %s", value, list);
		return -1;
	case KEY_SHARE:
		if (share_parse(value, (double *)(base + k->offset)) < 0) {
			seterr(why, whylen, "'%s' is not a share above 0 and at most 1 (e.g. 0.5)", value);
			return -1;
		}
		return 0;
	case KEY_STRING: {
		if (k->check != NULL && k->check(value, why, whylen) < 0)
			return -1;
		char *dup = strdup(value);
		if (dup == NULL) {
			seterr(why, whylen, "out of memory");
			return -1;
		}
		char **slot = (char **)(base + k->offset);
		free(*slot);
		*slot = dup;
		if (k->offset == OFF(backend))
			cfg->backend_named = true;
		return 0;
	}
	}
	return -1;
}

const char *config_default_path(const char *given)
{
	if (given != NULL)
		return given;
	return access(SQ_DEFAULT_CONFIG, F_OK) == 0 ? SQ_DEFAULT_CONFIG : NULL;
}

int config_defaults(struct sq_config *cfg)
{
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		const char *def = keys[i].def != NULL ? keys[i].def : config_backend_pick(built_here);
		if (key_apply(cfg, &keys[i], def, why, sizeof(why)) < 0) {
			config_free(cfg);
			return -ENOMEM;
		}
	}
	cfg->backend_named = false;
	return 0;
}

int config_set(struct sq_config *cfg, const char *section, const char *key,
    const char *value, char *err, size_t errlen)
{
	const struct key *k = key_find(section, key);
	char why[256];

	if (k == NULL) {
		seterr(err, errlen, "unknown key '%s' in [%s]", key, section);
		return -1;
	}
	if (key_apply(cfg, k, value, why, sizeof(why)) < 0) {
		seterr(err, errlen, "%s: %s", key, why);
		return -1;
	}
	return 0;
}

/*
 * The value part of "key = value": a comment starts at ';' or '#' after
 * whitespace; a value in double quotes keeps those characters (and spaces)
 * and understands \" and \\.
 */
static int parse_value(char *s, char **out, char *why, size_t whylen)
{
	s = str_trim(s);
	if (*s == '"') {
		char *w = s, *r = s + 1;
		for (; *r != '\0' && *r != '"'; r++) {
			if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r;
		}
		if (*r != '"') {
			seterr(why, whylen, "unterminated quoted value");
			return -1;
		}
		*w = '\0';
		char *rest = str_trim(r + 1);
		if (*rest != '\0' && *rest != ';' && *rest != '#') {
			seterr(why, whylen, "unexpected text after the quoted value");
			return -1;
		}
		*out = s;
		return 0;
	}
	for (char *p = s; *p != '\0'; p++) {
		if ((*p == ';' || *p == '#') && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	*out = str_trim(s);
	return 0;
}

/* One line of the file; section is the current section, updated here. */
static int parse_line(struct sq_config *cfg, char *line, char *section, size_t seclen,
    bool *seen, char *why, size_t whylen)
{
	char *s = str_trim(line);

	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']');
		if (end == NULL) {
			seterr(why, whylen, "section header without ']'");
			return -1;
		}
		*end = '\0';
		char *rest = str_trim(end + 1);
		if (*rest != '\0' && *rest != ';' && *rest != '#') {
			seterr(why, whylen, "unexpected text after [%s]", s + 1);
			return -1;
		}
		char *name = str_trim(s + 1);
		if (!section_known(name)) {
			char valid[160];
			sections_list(valid, sizeof(valid));
			seterr(why, whylen, "unknown section [%s] (valid: %s)", name, valid);
			return -1;
		}
		snprintf(section, seclen, "%s", name);
		return 0;
	}
	char *eq = strchr(s, '=');
	if (eq == NULL) {
		seterr(why, whylen, "expected 'key = value', got '%.40s'", s);
		return -1;
	}
	*eq = '\0';
	char *key = str_trim(s);
	if (*key == '\0') {
		seterr(why, whylen, "missing key before '='");
		return -1;
	}
	for (char *p = key; *p; p++) {
		if (!name_char(*p)) {
			seterr(why, whylen, "invalid key '%.40s'", key);
			return -1;
		}
	}
	if (section[0] == '\0') {
		seterr(why, whylen, "key '%s' before any [section]", key);
		return -1;
	}
	const struct key *k = key_find(section, key);
	if (k == NULL) {
		seterr(why, whylen, "unknown key '%s' in [%s]", key, section);
		return -1;
	}
	if (seen[k - keys]) {
		seterr(why, whylen, "key '%s' set twice in [%s]", key, section);
		return -1;
	}
	seen[k - keys] = true;
	char *value, reason[256];
	if (parse_value(eq + 1, &value, reason, sizeof(reason)) < 0 ||
	    key_apply(cfg, k, value, reason, sizeof(reason)) < 0) {
		seterr(why, whylen, "%s: %s", key, reason);
		return -1;
	}
	return 0;
}

int config_load(struct sq_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char section[64] = "";
	bool seen[NKEYS] = { false };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;

	if (f == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char why[512];
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (memchr(line, '\0', (size_t)n) != NULL) {
			seterr(err, errlen, "%s:%d: NUL byte in the line", path, lineno);
			rc = -1;
			break;
		}
		if (parse_line(cfg, line, section, sizeof(section), seen, why, sizeof(why)) < 0) {
			seterr(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		seterr(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

static bool key_owns_string(const struct key *k)
{
	return k->type == KEY_STRING;
}

int config_copy(struct sq_config *dst, const struct sq_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!key_owns_string(&keys[i]))
			continue;
		char **slot = (char **)((char *)dst + keys[i].offset);
		if (*slot != NULL && (*slot = strdup(*slot)) == NULL) {
			/* the copies made so far are freed, the rest are not ours */
			for (size_t j = i + 1; j < NKEYS; j++)
				if (key_owns_string(&keys[j]))
					*(char **)((char *)dst + keys[j].offset) = NULL;
			config_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

void config_free(struct sq_config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (key_owns_string(&keys[i])) {
			char **slot = (char **)((char *)cfg + keys[i].offset);
			free(*slot);
			*slot = NULL;
		}
	}
}

static int check_dns_servers(const char *v, char *why, size_t len)
{
	return dns_servers_parse(v, NULL, why, len) < 0 ? -1 : 0;
}

/* Read once here, so that a missing or broken bundle stops the load, not the checks. */
static int check_timezone(const char *v, char *why, size_t len)
{
	return window_zone_check(v, why, len);
}

/* A title: some text on one line, short enough for a heading. */
static int check_title(const char *v, char *why, size_t len)
{
	size_t n = strlen(v);

	if (n == 0 || n > 200) {
		seterr(why, len, "a title is 1 to 200 bytes, not %zu", n);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			seterr(why, len, "a title is one line of text (a control character at byte %zu)",
			    (size_t)((const char *)p - v) + 1);
			return -1;
		}
	return 0;
}

/* The logo: a picture the page can inline (base/image.c says which). */
static int check_logo(const char *v, char *why, size_t len)
{
	if (*v == '\0')
		return 0;
	return image_check(v, why, len) < 0 ? -1 : 0;
}

static int check_ca_file(const char *v, char *why, size_t len)
{
	if (*v == '\0')
		return 0;
	return ca_file_check(v, why, len) < 0 ? -1 : 0;
}

/* "30,14,7,1": days from 1 to 365 (core/cert.c says what is wrong). */
static int check_cert_days(const char *v, char *why, size_t len)
{
	struct sq_cert_days d;
	return sq_cert_days_parse(v, &d, why, len);
}

static int check_address(const char *v, char *why, size_t len)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (*v == '\0' || inet_pton(AF_INET, v, buf) == 1 || inet_pton(AF_INET6, v, buf) == 1)
		return 0;
	seterr(why, len, "'%s' is not an IPv4 or IPv6 address", v);
	return -1;
}

/* A refused url is echoed without its password (src/base/urlshow.c). */
static int check_redis_url(const char *v, char *why, size_t len)
{
	char shown[URL_SHOWN_MAX];

	if (strncmp(v, "rediss://", 9) == 0) {
		seterr(why, len, "'%s': TLS to Redis (rediss://) is not supported; use a unix socket, "
		    "a private network, or a tunnel (stunnel, WireGuard) to a redis:// address",
		    url_shown(v, shown, sizeof(shown)));
		return -1;
	}
	if (strncmp(v, "redis://", 8) == 0 && v[8] != '\0')
		return 0;
	if (strncmp(v, "unix:", 5) == 0 && v[5] == '/')
		return 0;
	seterr(why, len, "'%s' is not redis://[user:password@]host[:port][/db] or unix:/path",
	    url_shown(v, shown, sizeof(shown)));
	return -1;
}

static int check_locations(const char *v, char *why, size_t len)
{
	bool empty = true;
	for (const char *p = v; *p; p++) {
		if (*p == ',' || *p == ' ') {
			continue;
		}
		if (!name_char(*p)) {
			seterr(why, len, "location names may hold letters, digits, '_', '-' and '.' only");
			return -1;
		}
		empty = false;
	}
	if (empty) {
		seterr(why, len, "at least one location is needed");
		return -1;
	}
	return 0;
}

/* [check] canary: urls the outage rule checks besides the sites (core/outage.c reads them). */
static int check_canary(const char *v, char *why, size_t len)
{
	struct outage_canaries c;

	if (outage_canaries_parse(v, &c, why, len) < 0)
		return -1;
	outage_canaries_free(&c);
	return 0;
}

/* [alerts] admin: one address, as an owner's is ("": no outage mail, logged instead). */
static int check_admin(const char *v, char *why, size_t len)
{
	char reason[200];

	if (*v == '\0' || email_valid(v, reason, sizeof(reason)))
		return 0;
	seterr(why, len, "'%s' is not one mail address: %s", v, reason);
	return -1;
}

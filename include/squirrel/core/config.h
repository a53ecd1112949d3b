/*
 * config.h - the configuration file, as documented in conf/squirrel.conf.
 *
 * Every key has a built-in default, so an empty file (or no file) works. An
 * unknown section or key, or a value out of range, is an error that names
 * the file, the line and the key.
 */
#ifndef SQUIRREL_CONFIG_H
#define SQUIRREL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define SQ_DEFAULT_CONFIG "/etc/squirrel/squirrel.conf"
#define SQ_DEFAULT_DATABASE "/var/lib/squirrel/squirrel.db"

enum sq_tls_mode { SQ_TLS_NONE, SQ_TLS_STARTTLS, SQ_TLS_IMPLICIT };

struct sq_config {
	/* [squirreld] */
	char *database;
	char *backend;      /* default: the best built (config_backend_pick) */
	bool backend_named; /* by the file or the command line, not the default */
	int workers;
	int max_concurrent;
	int log_level;  /* enum log_level */
	char *status_page;  /* empty: none */
	char *metrics_file; /* empty: none */
	int history_days;
	int raw_hours;

	/* [status_page]: what the pages say and which the daemon writes */
	char *page_title;       /* the heading and <title> */
	char *page_description; /* a line under the title; "": none */
	char *page_logo;        /* an image file inlined at the top; "": none */
	char *page_public;      /* public_page: the public page's path; "": none */
	bool page_show_urls;    /* the public page shows the sites' URLs */
	int page_refresh;       /* s between a browser's reloads; 0: none */
	bool page_owner_pages;  /* one page per owner beside the public (else the full) page */
	char *page_badges_dir;  /* a badge per public site; "": none */

	/* [check] */
	int interval_s;
	int timeout_ms;
	int connect_timeout_ms;
	int max_redirects;
	int body_max;       /* bytes of a body read at most (GET, keyword) */
	int fail_threshold;
	int recover_threshold;
	int retry_interval_s;
	int remind_every_s;
	int slow_ms;        /* a success slower than this is slow; 0: off */
	char *cert_warn_days; /* "30,14,7,1": days before a certificate's end a mail goes */
	int group_window_s; /* a DOWN waits this long for others of its owner; 0: off */
	char *dns_servers;
	int dns_timeout_ms;
	int dns_tries;
	int dns_max_inflight;
	int ip_version;  /* 0 = any, 4, 6 */
	char *source_address;
	char *ca_file;   /* "": the system's authorities only */
	/* the monitor's own outage (core/outage.c) */
	int outage_window_s;
	double outage_share;  /* of the sites checked in the window, above 0, at most 1 */
	int outage_min;       /* sites checked in the window before the share counts */
	char *canary;         /* urls, ", " between them; "": none */

	/* [alerts] */
	char *alerts_admin;   /* who hears of an outage; "": nobody (logged) */

	/* [smtp] */
	char *smtp_host;
	int smtp_port;
	int smtp_tls;  /* enum sq_tls_mode */
	char *smtp_user;
	char *smtp_password;
	char *smtp_password_file;
	char *smtp_from;
	int smtp_timeout_ms;
	int alert_max_age_s;

	/* [alerts] */
	char *timezone;     /* weekly maintenance windows: "UTC" or an IANA name */

	/* [redis] */
	char *redis_url;
	char *redis_prefix;
	char *redis_locations;
	int redis_quorum;
	int redis_claim_idle_ms;
};

/*
 * The values of [squirreld] backend, in the order messages list them
 * ("serial, threads, prefork, libev, redis"), NULL-terminated. A name this
 * build leaves out is accepted here and refused at start, with how to
 * build it; the backend table (src/backend/registry.c) has a row for each.
 */
extern const char *const config_backend_names[];

/*
 * The backend of a configuration that names none: the first of libev,
 * threads and serial that built() says the build has (serial always).
 */
const char *config_backend_pick(bool (*built)(const char *name));

/*
 * The file both binaries read: the one named with --config (it must then
 * exist), else SQ_DEFAULT_CONFIG when it exists, else none (NULL).
 */
const char *config_default_path(const char *given);

/* Fills cfg with the built-in defaults. Returns 0, or -ENOMEM. */
int config_defaults(struct sq_config *cfg);

/*
 * Reads path over the values already in cfg. On error returns -1 and writes
 * "FILE:LINE: reason" into err; cfg then holds a mix and must be freed.
 */
int config_load(struct sq_config *cfg, const char *path, char *err, size_t errlen);

/*
 * Parses one "key = value" for section into cfg, as the file would. Used for
 * command line overrides. Returns 0, or -1 with the reason in err.
 */
int config_set(struct sq_config *cfg, const char *section, const char *key,
    const char *value, char *err, size_t errlen);

/* A deep copy, for a thread that outlives a reload. 0 or -ENOMEM. */
int config_copy(struct sq_config *dst, const struct sq_config *src);

void config_free(struct sq_config *cfg);

#endif

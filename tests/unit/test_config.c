/*
 * test_config.c - the configuration parser: defaults, every key kind, and
 * every kind of malformed line, each with the exact error.
 */
#include <stdlib.h>
#include <unistd.h>

#include "config_build.h"
#include "squirrel/backend/backend.h"
#include "squirrel/core/config.h"
#include "squirrel/base/log.h"
#include "tap.h"

static char path[] = "/tmp/squirrel-test-config-XXXXXX";

/* Writes text to the test file and loads it over the defaults. */
static int load(const char *text, struct sq_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	if (config_defaults(cfg) < 0)
		abort();
	err[0] = '\0';
	return config_load(cfg, path, err, errlen);
}

/* The error, without the file name in front. */
static const char *load_err(const char *text)
{
	static char err[512];
	struct sq_config cfg;
	int rc = load(text, &cfg, err, sizeof(err));
	config_free(&cfg);
	if (rc == 0)
		return "(accepted)";
	size_t n = strlen(path);
	return strncmp(err, path, n) == 0 ? err + n : err;
}

static void test_defaults(void)
{
	struct sq_config cfg;
	char err[512];

	ok(load("", &cfg, err, sizeof(err)) == 0, "an empty file is accepted");
	is_str(cfg.database, "/var/lib/squirrel/squirrel.db", "default database");
	is_str(cfg.backend, backend_default(), "default backend");
	is_int(cfg.workers, 32, "default workers");
	is_str(cfg.timezone, "UTC", "default [alerts] timezone");
	is_int(cfg.max_concurrent, 500, "default max_concurrent");
	is_int(cfg.log_level, LOG_LEVEL_INFO, "default log_level");
	is_int(cfg.interval_s, 60, "default interval");
	is_int(cfg.timeout_ms, 10000, "default timeout");
	is_int(cfg.connect_timeout_ms, 5000, "default connect_timeout");
	is_int(cfg.max_redirects, 5, "default max_redirects");
	is_int(cfg.body_max, 1048576, "default body_max: 1 MiB");
	is_int(cfg.fail_threshold, 2, "default fail_threshold");
	is_int(cfg.recover_threshold, 1, "default recover_threshold");
	is_int(cfg.retry_interval_s, 20, "default retry_interval");
	is_int(cfg.remind_every_s, 0, "default remind_every");
	is_int(cfg.group_window_s, 10, "default group_window: 10 s");
	is_str(cfg.dns_servers, "", "default dns_servers");
	is_int(cfg.dns_timeout_ms, 2000, "default dns_timeout");
	is_int(cfg.dns_tries, 2, "default dns_tries");
	is_int(cfg.dns_max_inflight, 200, "default dns_max_inflight");
	is_int(cfg.ip_version, 0, "default ip_version");
	is_str(cfg.smtp_host, "localhost", "default smtp host");
	is_int(cfg.smtp_port, 25, "default smtp port");
	is_int(cfg.smtp_tls, SQ_TLS_NONE, "default smtp tls");
	is_str(cfg.smtp_from, "squirrel@localhost", "default smtp from");
	is_str(cfg.redis_url, "redis://127.0.0.1:6379/0", "default redis url");
	is_str(cfg.redis_prefix, "squirrel", "default redis prefix");
	is_str(cfg.redis_locations, "default", "default redis locations");
	is_int(cfg.redis_quorum, 1, "default quorum");
	is_int(cfg.redis_claim_idle_ms, 30000, "default claim_idle");
	is_int(cfg.outage_window_s, 60, "default outage_window");
	ok(cfg.outage_share == 0.5, "default outage_share 0.5");
	is_int(cfg.outage_min, 10, "default outage_min");
	is_str(cfg.canary, "", "no canary by default");
	is_str(cfg.alerts_admin, "", "no admin by default");
	config_free(&cfg);

	ok(load("[check]\noutage_window = 120\noutage_share = 0.25\noutage_min = 3\n"
	    "canary = http://127.0.0.1:9/, https://example.org/\n[alerts]\nadmin = ops@example.org\n",
	    &cfg, err, sizeof(err)) == 0, "the outage keys accepted (%s)", err);
	is_int(cfg.outage_window_s, 120, "outage_window set");
	ok(cfg.outage_share == 0.25, "outage_share set");
	is_int(cfg.outage_min, 3, "outage_min set");
	is_str(cfg.canary, "http://127.0.0.1:9/, https://example.org/", "canary kept as written");
	is_str(cfg.alerts_admin, "ops@example.org", "admin set");
	config_free(&cfg);
}

static void test_values(void)
{
	struct sq_config cfg;
	char err[512];

	ok(load("[alerts]\ntimezone = Europe/Paris\n", &cfg, err, sizeof(err)) == 0,
	    "an IANA zone is accepted: %s", err);
	is_str(cfg.timezone, "Europe/Paris", "and kept");
	config_free(&cfg);

	int rc = load(
	    "# a comment\n"
	    "; another\n"
	    "\n"
	    "[squirreld]\n"
	    "  database = /tmp/x.db   ; trailing comment\n"
	    "backend=threads\n"
	    "workers = 7 # hash comment\n"
	    "log_level = debug\r\n"
	    "[check]\n"
	    "interval = 5\n"
	    "body_max = 65536\n"
	    "group_window = 0\n"
	    "ip_version = 6\n"
	    "dns_servers = 127.0.0.1:5353, [::1]:53,10.0.0.1, ::1\n"
	    "source_address = 127.0.0.2\n"
	    "[smtp]\n"
	    "password = \"semi;colon # and \\\"quote\\\"\"  ; comment\n"
	    "tls = starttls\n"
	    "user = a#b\n"
	    "[redis]\n"
	    "url = unix:/run/redis.sock\n"
	    "locations = paris, tokyo,nyc\n",
	    &cfg, err, sizeof(err));
	is_int(rc, 0, "a full file is accepted (%s)", err);
	is_str(cfg.database, "/tmp/x.db", "value trimmed, comment removed");
	is_str(cfg.backend, "threads", "backend set");
	is_int(cfg.workers, 7, "hash comment removed");
	is_int(cfg.log_level, LOG_LEVEL_DEBUG, "CRLF line ending accepted");
	is_int(cfg.interval_s, 5, "interval set");
	is_int(cfg.body_max, 65536, "body_max set");
	is_int(cfg.group_window_s, 0, "group_window 0: off");
	is_int(cfg.ip_version, 6, "ip_version 6");
	is_str(cfg.smtp_password, "semi;colon # and \"quote\"", "quoted value keeps ; # and quotes");
	is_int(cfg.smtp_tls, SQ_TLS_STARTTLS, "tls starttls");
	is_str(cfg.smtp_user, "a#b", "'#' inside a word is not a comment");
	is_str(cfg.redis_url, "unix:/run/redis.sock", "unix socket url");
	config_free(&cfg);

	/* command line overrides go through the same checks */
	config_defaults(&cfg);
	is_int(config_set(&cfg, "squirreld", "workers", "12", err, sizeof(err)), 0, "override accepted");
	is_int(cfg.workers, 12, "override applied");
	is_int(config_set(&cfg, "squirreld", "workers", "0", err, sizeof(err)), -1, "override out of range refused");
	is_str(err, "workers: 0 is out of range (1 to 4096)", "override error names the key");
	is_int(config_set(&cfg, "squirreld", "backend", "epoll", err, sizeof(err)), -1, "unknown backend refused");
	is_str(err, "backend: 'epoll' is not one of: serial, threads, prefork, libev, redis",
	    "unknown backend lists the valid choices");
	config_free(&cfg);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "database = x\n", ":1: key 'database' before any [section]" },
		{ "[squirreld]\nfoo = 1\n", ":2: unknown key 'foo' in [squirreld]" },
		{ "[check]\ndatabase = x\n", ":2: unknown key 'database' in [check]" },
		{ "[nosuch]\n", ":1: unknown section [nosuch] (valid: [squirreld], [status_page], [check], "
		  "[smtp], [alerts], [redis])" },
		{ "[status_page]\nshow_urls = maybe\n", ":2: show_urls: 'maybe' is not one of: yes, no, "
		  "true, false, on, off, 1, 0" },
		{ "[status_page]\nowner_pages = Yes\n", ":2: owner_pages: 'Yes' is not one of: yes, no, "
		  "true, false, on, off, 1, 0" },
		{ "[status_page]\nrefresh = -1\n", ":2: refresh: -1 is out of range (0 to 86400)" },
		{ "[status_page]\ntitle = \n", ":2: title: a title is 1 to 200 bytes, not 0" },
		{ "[status_page]\ntitle = a\x01b\n", ":2: title: a title is one line of text (a control "
		  "character at byte 2)" },
		{ "[status_page]\nlogo = /nonexistent/logo.png\n",
		  ":2: logo: /nonexistent/logo.png: No such file or directory" },
		{ "[status_page]\nlogo = /etc/passwd\n", ":2: logo: /etc/passwd: not a PNG, JPEG, GIF, "
		  "WebP or SVG picture (by its first bytes)" },
		{ "[status_page]\nlogo = /tmp\n", ":2: logo: /tmp: not a regular file" },
		{ "[alerts]\ntimezone = Europe/Nowhere\n", ":2: timezone: 'Europe/Nowhere' is no time "
		  "zone this system knows (no /usr/share/zoneinfo/Europe/Nowhere in the zone database)" },
		{ "[alerts]\ntimezone = CET-1CEST\n", ":2: timezone: 'CET-1CEST' is no time zone this "
		  "system knows (no /usr/share/zoneinfo/CET-1CEST in the zone database)" },
		{ "[alerts]\ntimezone = /etc/localtime\n", ":2: timezone: '/etc/localtime' is not a "
		  "time zone name: expected UTC or an IANA name like Europe/Paris" },
		{ "[check\n", ":1: section header without ']'" },
		{ "[check] junk\n", ":1: unexpected text after [check]" },
		{ "[check]\ninterval\n", ":2: expected 'key = value', got 'interval'" },
		{ "[check]\n= 5\n", ":2: missing key before '='" },
		{ "[check]\ninter val = 5\n", ":2: invalid key 'inter val'" },
		{ "[check]\ninterval = \n", ":2: interval: '' is not a whole number" },
		{ "[check]\ninterval = 5s\n", ":2: interval: '5s' is not a whole number" },
		{ "[check]\ninterval = 0x10\n", ":2: interval: '0x10' is not a whole number" },
		{ "[check]\ninterval = 1.5\n", ":2: interval: '1.5' is not a whole number" },
		{ "[check]\ninterval = 0\n", ":2: interval: 0 is out of range (1 to 2592000)" },
		{ "[check]\ntimeout = 600001\n", ":2: timeout: 600001 is out of range (1 to 600000)" },
		{ "[check]\nconnect_timeout = 2147483647\n",
		    ":2: connect_timeout: 2147483647 is out of range (1 to 600000)" },
		{ "[check]\nbody_max = 0\n", ":2: body_max: 0 is out of range (1 to 268435456)" },
		{ "[check]\ngroup_window = -1\n", ":2: group_window: -1 is out of range (0 to 3600)" },
		{ "[check]\ngroup_window = 3601\n", ":2: group_window: 3601 is out of range (0 to 3600)" },
		{ "[check]\ngroup_window = 10s\n", ":2: group_window: '10s' is not a whole number" },
		{ "[check]\ninterval = -3\n", ":2: interval: -3 is out of range (1 to 2592000)" },
		{ "[check]\ninterval = 99999999999999999999\n",
		  ":2: interval: '99999999999999999999' is not a whole number" },
		{ "[check]\ninterval = 5\ninterval = 6\n", ":3: key 'interval' set twice in [check]" },
		{ "[check]\nip_version = 5\n", ":2: ip_version: '5' is not one of: any, 4, 6" },
		{ "[squirreld]\nlog_level = verbose\n",
		  ":2: log_level: 'verbose' is not one of: error, warning, info, debug" },
		{ "[squirreld]\nbackend = Serial\n",
		  ":2: backend: 'Serial' is not one of: serial, threads, prefork, libev, redis" },
		{ "[smtp]\ntls = ssl\n", ":2: tls: 'ssl' is not one of: none, starttls, tls" },
		{ "[smtp]\nport = 70000\n", ":2: port: 70000 is out of range (1 to 65535)" },
		{ "[smtp]\npassword = \"open\n", ":2: password: unterminated quoted value" },
		{ "[smtp]\npassword = \"a\" b\n", ":2: password: unexpected text after the quoted value" },
		{ "[check]\ndns_servers = 127.0.0.1:99999\n",
		  ":2: dns_servers: '127.0.0.1:99999' is not an address (IPv4, IPv6, optional :port; IPv6 with a port in [brackets])" },
		{ "[check]\ndns_servers = resolver.example\n",
		  ":2: dns_servers: 'resolver.example' is not an address (IPv4, IPv6, optional :port; IPv6 with a port in [brackets])" },
		{ "[check]\ndns_servers = [::1\n",
		  ":2: dns_servers: '[::1' is not an address (IPv4, IPv6, optional :port; IPv6 with a port in [brackets])" },
		{ "[check]\ndns_servers = 127.0.0.1,,127.0.0.2\n", "(accepted)" },
		/* the resolver's own reading (src/base/validate.c): digits only in a port */
		{ "[check]\ndns_servers = 127.0.0.1:+53\n",
		  ":2: dns_servers: '127.0.0.1:+53' is not an address (IPv4, IPv6, optional :port; IPv6 with a port in [brackets])" },
		{ "[check]\nsource_address = eth0\n", ":2: source_address: 'eth0' is not an IPv4 or IPv6 address" },
		{ "[redis]\nurl = rediss://h:6380\n",
		  ":2: url: 'rediss://h:6380': TLS to Redis (rediss://) is not supported; use a unix socket, a private network, or a tunnel (stunnel, WireGuard) to a redis:// address" },
		{ "[redis]\nurl = http://h\n",
		  ":2: url: 'http://h' is not redis://[user:password@]host[:port][/db] or unix:/path" },
		/* a refused url is echoed without its password */
		{ "[redis]\nurl = http://user:s3cret@h\n",
		  ":2: url: 'http://user@h' is not redis://[user:password@]host[:port][/db] or unix:/path" },
		{ "[redis]\nurl = rediss://:s3cret@h:6380\n",
		  ":2: url: 'rediss://h:6380': TLS to Redis (rediss://) is not supported; use a unix socket, a private network, or a tunnel (stunnel, WireGuard) to a redis:// address" },
		{ "[redis]\nlocations = ,\n", ":2: locations: at least one location is needed" },
		{ "[redis]\nlocations = a/b\n",
		  ":2: locations: location names may hold letters, digits, '_', '-' and '.' only" },
		{ "[check]\n  ; indented comment\n\t\n[smtp]\n", "(accepted)" },
		/* the monitor's own outage */
		{ "[check]\noutage_window = 0\n", ":2: outage_window: 0 is out of range (1 to 86400)" },
		{ "[check]\noutage_min = 0\n", ":2: outage_min: 0 is out of range (1 to 1000000)" },
		{ "[check]\noutage_share = 0\n",
		  ":2: outage_share: '0' is not a share above 0 and at most 1 (e.g. 0.5)" },
		{ "[check]\noutage_share = 1.01\n",
		  ":2: outage_share: '1.01' is not a share above 0 and at most 1 (e.g. 0.5)" },
		{ "[check]\noutage_share = 50%\n",
		  ":2: outage_share: '50%' is not a share above 0 and at most 1 (e.g. 0.5)" },
		{ "[check]\noutage_share = -0.5\n",
		  ":2: outage_share: '-0.5' is not a share above 0 and at most 1 (e.g. 0.5)" },
		{ "[check]\noutage_share = nan\n",
		  ":2: outage_share: 'nan' is not a share above 0 and at most 1 (e.g. 0.5)" },
		{ "[check]\noutage_share = 1\n", "(accepted)" },
		{ "[check]\ncanary = http://a.example/ gopher://b.example/\n",
		  ":2: canary: 'gopher://b.example/': only http and https urls are checked" },
		{ "[alerts]\nadmin = ops@example.org, boss@example.org\n",
		  ":2: admin: 'ops@example.org, boss@example.org' is not one mail address: address contains a character not allowed in a plain address" },
		{ "[alerts]\nnobody = x\n", ":2: unknown key 'nobody' in [alerts]" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(load_err(cases[i].text), cases[i].err, "error case %zu", i);

	/* a NUL byte inside a line */
	FILE *f = fopen(path, "w");
	fwrite("[check]\nint\0erval = 5\n", 1, 22, f);
	fclose(f);
	struct sq_config cfg;
	char err[512];
	config_defaults(&cfg);
	is_int(config_load(&cfg, path, err, sizeof(err)), -1, "NUL byte refused");
	ok(strstr(err, ":2: NUL byte in the line") != NULL, "NUL byte error names the line (%s)", err);
	config_free(&cfg);

	config_defaults(&cfg);
	is_int(config_load(&cfg, "/nonexistent/squirrel.conf", err, sizeof(err)), -1, "missing file refused");
	is_str(err, "/nonexistent/squirrel.conf: No such file or directory", "missing file named");
	config_free(&cfg);
}

/* Builds that lack some backends, for config_backend_pick(). */
static bool all_built(const char *name)
{
	(void)name;
	return true;
}

static bool no_libev(const char *name)
{
	return strcmp(name, "libev") != 0;
}

static bool serial_only(const char *name)
{
	return strcmp(name, "serial") == 0;
}

/*
 * No backend named: the best this build has (libev, threads, serial), and
 * a file or option that names one is remembered as naming it.
 */
static void test_backend_choice(void)
{
	struct sq_config cfg;
	char err[512];

	is_str(config_backend_pick(all_built), "libev", "every backend built: libev");
	is_str(config_backend_pick(no_libev), "threads", "no libev: threads");
	is_str(config_backend_pick(serial_only), "serial", "neither libev nor threads: serial");

	is_int(backend_built("serial"), 1, "serial is always built");
	is_int(backend_built("libev"), SQ_HAVE_LIBEV, "libev built as configured");
	is_int(backend_built("threads"), SQ_HAVE_THREADS, "threads built as configured");
	is_int(backend_built("redis"), SQ_HAVE_REDIS, "redis built as configured");
	is_int(backend_built("nosuch"), 0, "an unknown backend is not built");
	is_str(backend_default(), SQ_HAVE_LIBEV ? "libev" : SQ_HAVE_THREADS ? "threads" : "serial",
	    "the default is the best built");

	ok(load("", &cfg, err, sizeof(err)) == 0, "an empty file is accepted");
	is_str(cfg.backend, backend_default(), "no backend named: the default");
	is_int(cfg.backend_named, 0, "an empty file names no backend");
	config_free(&cfg);
	ok(load("[squirreld]\nbackend = serial\n", &cfg, err, sizeof(err)) == 0, "backend = serial");
	is_str(cfg.backend, "serial", "the named backend");
	is_int(cfg.backend_named, 1, "the file names the backend");
	config_free(&cfg);
	config_defaults(&cfg);
	ok(config_set(&cfg, "squirreld", "backend", "threads", err, sizeof(err)) == 0, "--backend threads");
	is_int(cfg.backend_named, 1, "the command line names the backend");
	config_free(&cfg);
}

/*
 * The backend table: what each backend takes in flight, whether it runs
 * its checks on this machine, and the names, all from one table; and the
 * parameters every backend gets, built once from a configuration.
 */
static void test_backend_table(void)
{
	struct sq_config cfg;
	struct sq_backend_params p;

	config_defaults(&cfg);
	cfg.workers = 7;
	cfg.max_concurrent = 90;
	cfg.dns_max_inflight = 11;
	cfg.timeout_ms = 4321;
	cfg.redis_quorum = 2;
	cfg.redis_claim_idle_ms = 5000;
	backend_params(&cfg, &p);
	is_int(p.workers, 7, "params: [squirreld] workers");
	is_int(p.max_concurrent, 90, "params: [squirreld] max_concurrent");
	is_int(p.probe.dns_max_inflight, 11, "params: [check] dns_max_inflight");
	ok(p.probe.dns_servers == cfg.dns_servers && p.probe.source_address == cfg.source_address,
	    "params: the probe's strings point into the configuration");
	is_int(p.probe.ip_version, cfg.ip_version, "params: [check] ip_version");
	is_int(p.probe.dns_timeout_ms, cfg.dns_timeout_ms, "params: [check] dns_timeout");
	is_int(p.probe.dns_tries, cfg.dns_tries, "params: [check] dns_tries");
	ok(p.redis.url == cfg.redis_url && p.redis.prefix == cfg.redis_prefix &&
	    p.redis.locations == cfg.redis_locations && p.keep_run == NULL,
	    "params: [redis] url, prefix, locations; no keep_run (the program gives it)");
	is_int(p.redis.quorum, 2, "params: [redis] quorum");
	is_int(p.redis.claim_idle_ms, 5000, "params: [redis] claim_idle");
	is_int(p.redis.timeout_ms, 4321, "params: [check] timeout, for redis");

	is_int(backend_window("serial", &p), 1, "serial: one check in flight");
	is_int(backend_window("threads", &p), 7, "threads: workers");
	is_int(backend_window("prefork", &p), 7, "prefork: workers");
	is_int(backend_window("libev", &p), 90 + 11, "libev: max_concurrent and the lookups ahead");
	is_int(backend_window("redis", &p), 90, "redis: max_concurrent queued");

	is_int(backend_local("serial"), 1, "serial checks here");
	is_int(backend_local("threads"), 1, "threads checks here");
	is_int(backend_local("prefork"), 1, "prefork checks here");
	is_int(backend_local("libev"), 1, "libev checks here");
	is_int(backend_local("redis"), 0, "redis hands its checks to workers");
	is_int(backend_local("nosuch"), 0, "an unknown backend checks nowhere");

	is_str(backend_names(), "serial, threads, prefork, libev, redis", "every name, in order");
	is_str(backend_local_names(), "serial, threads, prefork or libev",
	    "the backends a worker may run");
	for (int i = 0; config_backend_names[i] != NULL; i++) {
		bool known;
		backend_lookup(config_backend_names[i], &known);
		ok(known, "the table has a row for '%s'", config_backend_names[i]);
	}
	config_free(&cfg);
}

/* A backend this build leaves out: which package and which meson option. */
static void test_backend_not_built(void)
{
	char msg[256];

	backend_not_built(msg, sizeof(msg), "libev");
	is_str(msg, "backend 'libev' is not in this build: install libev-dev (Debian) and rebuild "
	    "with -Dlibev=enabled", "libev: the package and the option");
	backend_not_built(msg, sizeof(msg), "redis");
	is_str(msg, "backend 'redis' is not in this build: install libhiredis-dev (Debian) and "
	    "rebuild with -Dredis=enabled", "redis: the package and the option");
	backend_not_built(msg, sizeof(msg), "threads");
	is_str(msg, "backend 'threads' is not in this build: it needs Linux; rebuild with "
	    "-Dthreads=enabled", "threads: Linux and the option");
	backend_not_built(msg, sizeof(msg), "prefork");
	is_str(msg, "backend 'prefork' is not in this build: it needs Linux; rebuild with "
	    "-Dprefork=enabled", "prefork: Linux and the option");
	backend_not_built(msg, 20, "libev");
	is_str(msg, "backend 'libev' is ", "a short buffer is cut, not overrun");
}

int main(void)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return 99;
	close(fd);
	test_defaults();
	test_values();
	test_errors();
	test_backend_choice();
	test_backend_table();
	test_backend_not_built();
	unlink(path);
	return tap_done();
}

/*
 * resolvetool - the resolver module from the command line, for the tests.
 *
 *   resolvetool --servers S [--ip 4|6|any] [--timeout MS] [--tries N]
 *               [--max-inflight N] [--deadline MS] [--hosts FILE]
 *               [--blocking] [--ms] [--abandon MS] name...
 *
 * Prints one line per name, in the order given:
 *   name <TAB> class <TAB> addr,addr[ <TAB> ms]
 * class is "" when the name resolved, else the --once error class ("dns
 * nxdomain", ...). Without --blocking every name is looked up at once on
 * the tool's own event loop (at most --max-inflight of them in flight);
 * with it, one after the other with resolver_lookup_wait().
 *
 * It also checks the module's promises and exits 1 if one is broken: each
 * callback runs exactly once, never from inside resolver_lookup(), and
 * nothing is pending at the end. --abandon MS frees the resolver MS after
 * the start with the lookups still pending (they must be dropped, leak
 * free) and prints "abandoned N".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_build.h"
#if SQ_HAVE_LIBEV
#include <ev.h>
#endif

#include "squirrel/core/check.h"
#include "squirrel/check/resolve.h"

struct item {
	const char *name;
	struct resolve_answer ans;
	int calls;
	double submitted, answered;
};

static struct item *items;
static int nitems, ndone;
static bool broken;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: resolvetool --servers S [--ip 4|6|any] [--timeout MS] [--tries N]\n"
	    "                   [--max-inflight N] [--deadline MS] [--hosts FILE] [--blocking]\n"
	    "                   [--ms] [--abandon MS] name...\n");
}

static int number(const char *opt, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *v == '\0' || *end != '\0' || n < 0 || n > 1000000) {
		fprintf(stderr, "resolvetool: %s: '%s' is not a number\n", opt, v);
		exit(2);
	}
	return (int)n;
}

#if SQ_HAVE_LIBEV
static struct ev_loop *loop;
static bool in_lookup;   /* inside resolver_lookup(): no callback may run */

static void on_answer(void *arg, const struct resolve_answer *a)
{
	struct item *it = arg;

	if (in_lookup) {
		fprintf(stderr, "resolvetool: %s: callback from inside resolver_lookup()\n", it->name);
		broken = true;
	}
	if (it->calls++ > 0) {
		fprintf(stderr, "resolvetool: %s: callback ran %d times\n", it->name, it->calls);
		broken = true;
		return;
	}
	it->ans = *a;
	it->answered = now_ms();
	if (++ndone == nitems)
		ev_break(loop, EVBREAK_ALL);
}

static void on_stop(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

static int run_async(const struct resolver_opts *o, int deadline, int abandon_ms)
{
	char err[256];
	struct resolver *r;
	ev_timer stop;
	int rc = 0;

	loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
	if (loop == NULL) {
		fprintf(stderr, "resolvetool: cannot create an event loop\n");
		return 1;
	}
	if ((r = resolver_new(o, loop, err, sizeof(err))) == NULL) {
		fprintf(stderr, "resolvetool: %s\n", err);
		ev_loop_destroy(loop);
		return 1;
	}
	for (int i = 0; i < nitems; i++) {
		items[i].submitted = now_ms();
		in_lookup = true;
		int lr = resolver_lookup(r, items[i].name, deadline, on_answer, &items[i]);
		in_lookup = false;
		if (lr < 0) {
			fprintf(stderr, "resolvetool: %s: resolver_lookup: %s\n", items[i].name, strerror(-lr));
			return 1;
		}
	}
	/* a bound on the whole run, in case a callback never comes */
	ev_timer_init(&stop, on_stop, abandon_ms > 0 ? abandon_ms / 1000.0 : 300.0, 0.0);
	ev_timer_start(loop, &stop);
	if (ndone < nitems)
		ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
	if (abandon_ms > 0) {
		printf("abandoned %zu\n", resolver_pending(r));
		resolver_free(r);
		ev_loop_destroy(loop);
		return broken ? 1 : 0;
	}
	if (ndone < nitems) {
		fprintf(stderr, "resolvetool: %d of %d lookups never answered\n", nitems - ndone, nitems);
		rc = 1;
	}
	if (resolver_pending(r) != 0) {
		fprintf(stderr, "resolvetool: resolver_pending() is %zu at the end\n", resolver_pending(r));
		rc = 1;
	}
	resolver_free(r);
	ev_loop_destroy(loop);
	return rc;
}
#endif

static int run_blocking(const struct resolver_opts *o, int deadline)
{
	char err[256];
	struct resolver *r = resolver_new(o, NULL, err, sizeof(err));

	if (r == NULL) {
		fprintf(stderr, "resolvetool: %s\n", err);
		return 1;
	}
	for (int i = 0; i < nitems; i++) {
		items[i].submitted = now_ms();
		resolver_lookup_wait(r, items[i].name, deadline, &items[i].ans);
		items[i].answered = now_ms();
		items[i].calls = 1;
		ndone++;
	}
	resolver_free(r);
	return 0;
}

int main(int argc, char **argv)
{
	struct resolver_opts o = { .servers = "", .timeout_ms = 2000, .tries = 2, .max_inflight = 200 };
	int deadline = 10000, abandon_ms = 0, i, rc;
	bool blocking = false, ms = false;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(opt, "--blocking") == 0) {
			blocking = true;
			continue;
		}
		if (strcmp(opt, "--ms") == 0) {
			ms = true;
			continue;
		}
		if (strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "resolvetool: option '%s' needs a value\n", opt);
			return 2;
		}
		const char *v = argv[++i];
		if (strcmp(opt, "--servers") == 0)
			o.servers = v;
		else if (strcmp(opt, "--hosts") == 0)
			o.hosts_file = v;
		else if (strcmp(opt, "--ip") == 0)
			o.ip_version = strcmp(v, "any") == 0 ? 0 : number(opt, v);
		else if (strcmp(opt, "--timeout") == 0)
			o.timeout_ms = number(opt, v);
		else if (strcmp(opt, "--tries") == 0)
			o.tries = number(opt, v);
		else if (strcmp(opt, "--max-inflight") == 0)
			o.max_inflight = number(opt, v);
		else if (strcmp(opt, "--deadline") == 0)
			deadline = number(opt, v);
		else if (strcmp(opt, "--abandon") == 0)
			abandon_ms = number(opt, v);
		else {
			fprintf(stderr, "resolvetool: unknown option '%s'\n", opt);
			usage(stderr);
			return 2;
		}
	}
	nitems = argc - i;
	if (nitems == 0) {
		usage(stderr);
		return 2;
	}
	if ((items = calloc((size_t)nitems, sizeof(*items))) == NULL) {
		fprintf(stderr, "resolvetool: out of memory\n");
		return 1;
	}
	for (int k = 0; k < nitems; k++)
		items[k].name = argv[i + k];
	if (resolve_global_init() < 0) {
		fprintf(stderr, "resolvetool: resolve_global_init failed\n");
		return 1;
	}
	if (blocking) {
		rc = run_blocking(&o, deadline);
	} else {
#if SQ_HAVE_LIBEV
		rc = run_async(&o, deadline, abandon_ms);
#else
		fprintf(stderr, "resolvetool: built without libev: use --blocking\n");
		rc = 2;
#endif
	}
	resolve_global_cleanup();
	if (abandon_ms > 0 && !blocking) {
		free(items);
		return rc;
	}
	for (int k = 0; k < nitems && rc != 2; k++) {
		const struct item *it = &items[k];
		if (it->calls == 0)
			continue;
		printf("%s\t%s\t", it->name, it->ans.err == SQ_OK ? "" : sq_class_name(it->ans.err));
		for (int a = 0; a < it->ans.naddr; a++)
			printf("%s%s", a ? "," : "", it->ans.addrs[a]);
		if (ms)
			printf("\t%.0f", it->answered - it->submitted);
		printf("\n");
	}
	free(items);
	return broken ? 1 : rc;
}

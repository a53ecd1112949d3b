/*
 * minloop.c - the floor the benchmark compares squirrel against: the least a
 * libcurl multi loop has to do to check a list of URLs.
 *
 * Reads URLs, one per line, from the file named on the command line (or
 * stdin), and runs each once as a HEAD request with at most C in flight,
 * starting the next URL as soon as one finishes. Connections are never
 * reused and DNS is never cached, as for a monitor checking each site anew.
 * Prints the number of transfers and how many failed or answered >= 400.
 *
 * usage: minloop [-c C] [-t TIMEOUT_MS] [FILE]
 * build: cc -O2 minloop.c -o minloop $(pkg-config --cflags --libs libcurl)
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char **urls;
static size_t nurls, next_url;

static int read_urls(FILE *f)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, f)) != -1) {
		while (len > 0 && strchr("\r\n \t", line[len - 1]))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (nurls == alloc) {
			alloc = alloc ? 2 * alloc : 1024;
			char **v = realloc(urls, alloc * sizeof *v);
			if (!v)
				return -1;
			urls = v;
		}
		if (!(urls[nurls++] = strdup(line)))
			return -1;
	}
	free(line);
	return 0;
}

static CURL *new_handle(long timeout_ms)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	return h;
}

/* Gives the handle the next URL and hands it to the multi handle. */
static void start_next(CURLM *m, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_URL, urls[next_url++]);
	curl_multi_add_handle(m, h);
}

int main(int argc, char **argv)
{
	long conc = 100, timeout_ms = 10000;
	size_t done = 0, http_errors = 0, failed = 0;
	FILE *in = stdin;
	int opt, running;

	while ((opt = getopt(argc, argv, "c:t:")) != -1) {
		if (opt == 'c')
			conc = atol(optarg);
		else if (opt == 't')
			timeout_ms = atol(optarg);
		else
			goto usage;
	}
	if (conc < 1 || timeout_ms < 1 || argc - optind > 1)
		goto usage;
	if (optind < argc && strcmp(argv[optind], "-") != 0 && !(in = fopen(argv[optind], "r"))) {
		perror(argv[optind]);
		return 1;
	}
	if (read_urls(in) < 0) {
		fputs("minloop: out of memory\n", stderr);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;

	CURLM *m = curl_multi_init();
	for (long i = 0; i < conc && next_url < nurls; i++) {
		CURL *h = new_handle(timeout_ms);
		if (!m || !h) {
			fputs("minloop: cannot create curl handles\n", stderr);
			return 1;
		}
		start_next(m, h);
	}

	while (done < nurls) {
		CURLMcode mc = curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;

		while (mc == CURLM_OK && (msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *h = msg->easy_handle;
			CURLcode res = msg->data.result;  /* msg dies with the removal */
			long code = 0;

			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(m, h);
			done++;
			if (res != CURLE_OK) {
				if (++failed <= 5)
					fprintf(stderr, "minloop: %s\n", curl_easy_strerror(res));
			} else if (code >= 400) {
				http_errors++;
			}
			if (next_url < nurls)
				start_next(m, h);
			else
				curl_easy_cleanup(h);
		}
		if (mc == CURLM_OK && done < nurls)
			mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK) {
			fprintf(stderr, "minloop: %s\n", curl_multi_strerror(mc));
			return 1;
		}
	}

	printf("transfers=%zu bad=%zu http_errors=%zu failed=%zu\n",
	       done, http_errors + failed, http_errors, failed);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	for (size_t i = 0; i < nurls; i++)
		free(urls[i]);
	free(urls);
	return 0;

usage:
	fputs("usage: minloop [-c CONCURRENCY] [-t TIMEOUT_MS] [FILE]\n", stderr);
	return 2;
}

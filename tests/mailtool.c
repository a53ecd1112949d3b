/*
 * mailtool.c - composes an alert mail and sends it, as squirreld will, so
 * the mail path can be tested on its own.
 *
 *   mailtool --config FILE --to ADDR [--items N] [--kind down|up|reminder|mixed]
 *            [--name TEXT] [--url TEXT] [--error TEXT] [--message FILE]
 *            [--sends N] [--threads N] [--test-mail]
 *
 * Prints "status: SENT|TEMPFAIL|PERMFAIL" and "reply: ..." for each send.
 * Exits 0 when every send was SENT, 1 on a TEMPFAIL, 2 on a PERMFAIL, 3 when
 * the configuration, the mailer or the message could not be set up (the
 * reason on stderr). --test-mail runs delivery_test() and exits with its
 * status. --sends sends the message that many times with one mailer;
 * --threads sends it once from each of that many threads at the same time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "squirrel/alert/alert.h"
#include "squirrel/alert/delivery.h"
#include "squirrel/core/config.h"
#include "squirrel/alert/mailer.h"

struct job {
	struct mailer *m;
	const char *to;
	const char *message;
	int status;
	char reply[1024];
};

static const char *status_name(int s)
{
	return s == MAIL_SENT ? "SENT" : s == MAIL_TEMPFAIL ? "TEMPFAIL" :
	    s == MAIL_PERMFAIL ? "PERMFAIL" : "?";
}

static void *send_job(void *arg)
{
	struct job *j = arg;
	j->status = mailer_send(j->m, j->to, j->message, j->reply, sizeof(j->reply));
	return NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *p = realloc(buf, cap);
			if (p == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int usage(void)
{
	fprintf(stderr, "usage: mailtool --config FILE --to ADDR [--items N] "
	    "[--kind down|up|reminder|mixed] [--name TEXT] [--url TEXT] [--error TEXT] "
	    "[--message FILE] [--sends N] [--threads N] [--test-mail]\n");
	return 3;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *to = NULL, *kind = "down", *name = NULL, *url = NULL;
	const char *error = "http 503", *message_file = NULL;
	int items = 1, sends = 1, threads = 0, test_mail = 0, worst = 0;
	struct sq_config cfg;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--test-mail") == 0) {
			test_mail = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--config") == 0)
			config = v;
		else if (strcmp(a, "--to") == 0)
			to = v;
		else if (strcmp(a, "--items") == 0)
			items = atoi(v);
		else if (strcmp(a, "--kind") == 0)
			kind = v;
		else if (strcmp(a, "--name") == 0)
			name = v;
		else if (strcmp(a, "--url") == 0)
			url = v;
		else if (strcmp(a, "--error") == 0)
			error = v;
		else if (strcmp(a, "--message") == 0)
			message_file = v;
		else if (strcmp(a, "--sends") == 0)
			sends = atoi(v);
		else if (strcmp(a, "--threads") == 0)
			threads = atoi(v);
		else
			return usage();
	}
	if (config == NULL || to == NULL || items < 1 || items > 1000 || sends < 1 ||
	    threads < 0 || threads > 64)
		return usage();

	if (config_defaults(&cfg) < 0) {
		fprintf(stderr, "out of memory\n");
		return 3;
	}
	if (config_load(&cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		config_free(&cfg);
		return 3;
	}
	if (mailer_check_config_file_mode(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		config_free(&cfg);
		return 3;
	}
	if (test_mail) {
		int rc = delivery_test(&cfg, to);
		config_free(&cfg);
		return rc;
	}

	struct mailer *m = mailer_new(&cfg, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "mailer: %s\n", err);
		config_free(&cfg);
		return 3;
	}

	char *message;
	if (message_file != NULL) {
		message = read_file(message_file);
		if (message == NULL) {
			perror(message_file);
			mailer_free(m);
			config_free(&cfg);
			return 3;
		}
	} else {
		struct alert_item *it = calloc((size_t)items, sizeof(*it));
		char (*urls)[80] = calloc((size_t)items, sizeof(*urls));
		time_t now = time(NULL);
		char id[96];
		if (it == NULL || urls == NULL) {
			fprintf(stderr, "out of memory\n");
			return 3;
		}
		for (int i = 0; i < items; i++) {
			snprintf(urls[i], sizeof(urls[i]), "https://site%d.example.org/", i + 1);
			it[i].site_id = i + 1;
			it[i].url = url != NULL ? url : urls[i];
			it[i].name = name;
			/* the error as people write it, read into class and detail */
			it[i].err = sq_class_of_legacy(error, error[0] == '\0', &it[i].detail);
			it[i].http_status = it[i].err == SQ_ERR_HTTP ? atoi(error + 5) : 0;
			it[i].at = now;
			it[i].since = now - 14 * 60;
			it[i].last_ok = now - 15 * 60;
			if (strcmp(kind, "up") == 0 || (strcmp(kind, "mixed") == 0 && i % 2 == 1))
				it[i].kind = SQ_ALERT_UP;
			else if (strcmp(kind, "reminder") == 0)
				it[i].kind = SQ_ALERT_REMINDER;
			else
				it[i].kind = SQ_ALERT_DOWN;
		}
		snprintf(id, sizeof(id), "mailtool-%lld-%ld", (long long)now, (long)getpid());
		message = alert_compose(to, cfg.smtp_from, it, (size_t)items, now, id, err, sizeof(err));
		free(it);
		free(urls);
		if (message == NULL) {
			fprintf(stderr, "compose: %s\n", err);
			mailer_free(m);
			config_free(&cfg);
			return 3;
		}
	}

	if (threads > 0) {
		struct job *jobs = calloc((size_t)threads, sizeof(*jobs));
		pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
		for (int i = 0; jobs != NULL && tids != NULL && i < threads; i++) {
			jobs[i] = (struct job){ .m = m, .to = to, .message = message };
			if (pthread_create(&tids[i], NULL, send_job, &jobs[i]) != 0) {
				fprintf(stderr, "pthread_create failed\n");
				return 3;
			}
		}
		for (int i = 0; jobs != NULL && tids != NULL && i < threads; i++) {
			pthread_join(tids[i], NULL);
			printf("status: %s\nreply: %s\n", status_name(jobs[i].status), jobs[i].reply);
			if (jobs[i].status > worst)
				worst = jobs[i].status;
		}
		free(jobs);
		free(tids);
	} else {
		for (int i = 0; i < sends; i++) {
			struct job j = { .m = m, .to = to, .message = message };
			send_job(&j);
			printf("status: %s\nreply: %s\n", status_name(j.status), j.reply);
			fflush(stdout);
			if (j.status > worst)
				worst = j.status;
		}
	}
	free(message);
	mailer_free(m);
	config_free(&cfg);
	return worst;
}

/*
 * channels.h - alerts to contacts over HTTP (src/alert/channels.c):
 * webhook, ntfy, chat, sms. One message per contact, sent side by side on one
 * libcurl multi handle, each bounded in time, each with its verdict.
 */
#ifndef SQUIRREL_ALERT_CHANNELS_H
#define SQUIRREL_ALERT_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/store/outbox.h"

#define CHANNEL_VERSION 1          /* of the webhook's JSON body */
#define CHANNEL_TIMEOUT_MS 10000   /* one request, from connect to the answer's end */
#define CHANNEL_ANSWER_MAX 65536   /* bytes of an answer read */

enum channel_status { CHANNEL_SENT, CHANNEL_TEMPFAIL, CHANNEL_PERMFAIL };

struct channel_result {
	enum channel_status status;
	int http_status;           /* 0: no answer */
	int64_t retry_after_s;     /* the answer's Retry-After (seconds); 0: none */
	char reply[512];           /* "HTTP 200: first line", or why nothing was sent */
};

/*
 * Whether target can be a contact of kind: an address for email, else an
 * http or https url (https unless its host is on loopback or insecure).
 */
bool channel_target_ok(const char *kind, const char *target, bool insecure, char *why,
    size_t len);

/* Whether url can be posted to: http or https, https unless on loopback or insecure. */
bool channel_url_ok(const char *url, bool insecure, char *why, size_t len);

/* A phone number in international form: +, then 8 to 15 digits. */
bool channel_number_ok(const char *number);

/* Whether kind goes over HTTP (webhook, ntfy, chat, sms). */
bool channel_is_http(const char *kind);

/* target with any token in it shown as "…": its password, its query, a long path segment. */
void channel_target_shown(const char *target, char *buf, size_t len);

/* What a webhook's Idempotency-Key is for rows[0..n-1] of one contact. */
void channel_key(const struct sq_alert_row *rows, size_t n, char *buf, size_t len);

struct channel_batch;

struct channel_batch *channel_batch_new(void);
/*
 * One message for rows[0..n-1], all of one contact (rows[0].contact).
 * -1 with why (the secret unreadable, the target refused) when it cannot
 * be made: nothing was sent, the rows fail for good.
 */
int channel_batch_add(struct channel_batch *b, const struct sq_alert_row *rows, size_t n,
    int64_t now, void *tag, char *why, size_t len);
/* Sends them all at once and waits; done(arg, tag, result) as each ends. b is left empty. */
void channel_batch_run(struct channel_batch *b,
    void (*done)(void *arg, void *tag, const struct channel_result *r), void *arg);
void channel_batch_free(struct channel_batch *b);

/*
 * The daemon's sender: one thread with one multi handle, for delivery's
 * life. done(arg, tag, result) is called in that thread as each message
 * ends. NULL when it cannot start.
 */
struct channel_sender;

struct channel_sender *channel_sender_start(
    void (*done)(void *arg, void *tag, const struct channel_result *r), void *arg);
/* Hands b's messages to the sender (b is left empty) and wakes it. -1: out of memory, b kept. */
int channel_sender_send(struct channel_sender *s, struct channel_batch *b);
/* Waits for the messages on their way to end (each within its time limit), then frees s. */
void channel_sender_stop(struct channel_sender *s);

#endif

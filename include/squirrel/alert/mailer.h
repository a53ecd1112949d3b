/*
 * mailer.h - handing one message to the configured SMTP server.
 *
 * The only door to libesmtp. mailer_new() checks the [smtp] section once
 * per configuration load (delivery makes it when mail is first due), and
 * refuses what cannot work or would leak the password; after
 * that, mailer_send() delivers one message to one recipient and says whether
 * to keep the alert (MAIL_TEMPFAIL), drop it (MAIL_PERMFAIL) or mark it
 * sent, with the server's exact answer.
 *
 * A struct mailer is not changed by mailer_send(): one delivery thread may
 * use it while other threads run checks; two threads may even send at once.
 * mailer_send() blocks for up to a few times [smtp] timeout: never call it
 * on the check path.
 */
#ifndef SQUIRREL_MAILER_H
#define SQUIRREL_MAILER_H

#include <stddef.h>

#include "squirrel/core/config.h"

enum mail_status {
	MAIL_SENT = 0,
	/*
	 * Try again later: the server could not be reached or did not answer
	 * in time, a 4xx at any stage, STARTTLS missing or the certificate
	 * not trusted, the sender refused, or the login refused. A wrong
	 * password or sender is a configuration problem that a person fixes:
	 * the alerts wait for it (up to [smtp] alert_max_age) instead of
	 * being thrown away.
	 */
	MAIL_TEMPFAIL = 1,
	/*
	 * Never try again: the server refused the recipient or the message
	 * with a 5xx (not for missing authentication), or the recipient is not
	 * one valid address.
	 */
	MAIL_PERMFAIL = 2,
};

struct mailer;

/*
 * Checks [smtp] and reads the password, then keeps what mailer_send needs.
 * Refused, with the reason in err: tls = tls (implicit TLS: the libesmtp
 * this is built on has no way to speak it; use starttls), a user without a
 * password or a password without a user, AUTH over plain text to a host
 * that is not loopback, a password file (password_file or
 * $CREDENTIALS_DIRECTORY/smtp-password) that group or others may access, an
 * invalid from address, an unusable host. Also ignores SIGPIPE for the
 * whole process (a server closing the connection must not kill it).
 * The password is taken from `password`, else from `password_file`, else
 * from $CREDENTIALS_DIRECTORY/smtp-password when that file exists (systemd
 * LoadCredential=smtp-password:...); it is read only when `user` is set.
 */
struct mailer *mailer_new(const struct sq_config *cfg, char *err, size_t errlen);

/*
 * A configuration file at path that holds [smtp] password (cfg was loaded
 * from it) must not be readable by anyone but its owner, as ssh refuses a
 * readable key. Returns 0 when it is fine (or holds no password), or -1 with
 * the file and its mode in err. path may be NULL (no file: nothing to check).
 */
int mailer_check_config_file_mode(const char *path, const struct sq_config *cfg,
    char *err, size_t errlen);

/*
 * Sends message (a whole RFC 5322 message with CRLF line ends, e.g. from
 * alert_compose) to the one address `to`: host and port from [smtp],
 * STARTTLS required when tls = starttls (a server that does not offer it
 * gets nothing, not even the envelope), AUTH when user is set, each wait
 * bounded by [smtp] timeout. Returns an enum mail_status; reply gets the
 * server's exact answer (for MAIL_SENT, its answer to the message) or the
 * local reason, one line of printable ASCII.
 */
int mailer_send(struct mailer *m, const char *to, const char *message,
    char *reply, size_t replylen);

/* "localhost:25": where mail goes, for log lines. */
const char *mailer_server(const struct mailer *m);

/* Forgets the password (zeroed) and everything else; NULL is fine. */
void mailer_free(struct mailer *m);

#endif

/*
 * mailer.c - one message to one recipient through libesmtp.
 *
 * The only file that includes libesmtp.h. What the library does not say by
 * itself, we watch for:
 *
 * - smtp_start_session() returns success whenever the protocol ran, even
 *   when the server refused the sender, the recipient or the message, and
 *   even after a greeting that never came. The verdict comes from the
 *   reverse-path, recipient and message statuses, read after the session.
 * - A refused AUTH does not stop libesmtp: it goes on to MAIL FROM without
 *   authentication. The protocol monitor sees the AUTH exchange, so a
 *   refused login is reported as such, not as whatever the server answers
 *   to the unauthenticated MAIL or RCPT that follows.
 * - The SSL_CTX libesmtp 1.1.0 creates on its own is freed at the end of the
 *   first session and used again by the next one (a use after free). Each
 *   mailer therefore makes its own SSL_CTX and lends it to every session
 *   (smtp_starttls_set_ctx takes a reference of its own).
 * - libesmtp 1.1.0 has no implicit TLS (SMTPS, port 465): TLS begins only
 *   with STARTTLS. tls = tls is refused at start.
 * - connect() in libesmtp has no timeout: a server behind a firewall that
 *   drops packets would hold a delivery for minutes. mailer_send() first
 *   opens (and closes) one TCP connection itself, bounded by [smtp] timeout,
 *   and hands over to libesmtp only when the server answers.
 *
 * - libesmtp 1.1.0 hangs until the timeout when TLS 1.3 session tickets
 *   come in before it has flushed its EHLO (see tls_context_new): STARTTLS
 *   is held to TLS 1.2.
 *
 * Certificates: STARTTLS trusts OpenSSL's default store (/etc/ssl/certs;
 * the SSL_CERT_FILE and SSL_CERT_DIR environment variables override it) and
 * checks the certificate against [smtp] host, a name or an IPv4 address.
 */
#define _GNU_SOURCE /* explicit_bzero */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* openssl/ssl.h before libesmtp.h: it declares smtp_starttls_set_ctx then. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "squirrel/base/clock.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/secret.h"
#include "squirrel/alert/alert.h"
#include "squirrel/alert/mailer.h"
#include "squirrel/base/util.h"

#define REPLY_MAX 512

struct mailer {
	char *host;
	int port;
	char server[300];     /* "host:port", as libesmtp takes it */
	int tls;              /* enum sq_tls_mode */
	char *user;           /* NULL: no AUTH */
	char *password;
	char *from;
	int timeout_ms;
	bool host_is_ip;
	SSL_CTX *ssl_ctx;     /* tls = starttls only */
};

/* ------------------------------------------------------------------ */
/* Start: the configuration, the password, the TLS context            */

static bool is_loopback(const char *host)
{
	struct in_addr a;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return false;
}

int mailer_check_config_file_mode(const char *path, const struct sq_config *cfg,
    char *err, size_t errlen)
{
	unsigned mode;
	int shared;

	if (path == NULL || cfg->smtp_password == NULL || cfg->smtp_password[0] == '\0')
		return 0;
	if ((shared = secret_file_shared(path, &mode)) < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (shared) {
		seterr(err, errlen, "%s holds [smtp] password but has mode %04o: group or others "
		    "may read it. Make it readable by its owner only (chmod 600 %s), or move the "
		    "password to password_file or a systemd credential "
		    "(LoadCredential=smtp-password:PATH)",
		    path, mode, path);
		return -1;
	}
	return 0;
}

/*
 * Finds the password: the key itself, else password_file, else the systemd
 * credential. Returns a malloc'd copy, or NULL with err set.
 */
static char *find_password(const struct sq_config *cfg, char *err, size_t errlen)
{
	const char *pw = cfg->smtp_password != NULL ? cfg->smtp_password : "";
	const char *file = cfg->smtp_password_file != NULL ? cfg->smtp_password_file : "";
	const char *creds = getenv("CREDENTIALS_DIRECTORY");

	if (pw[0] != '\0' && file[0] != '\0') {
		seterr(err, errlen, "[smtp] password and password_file are both set: keep one");
		return NULL;
	}
	if (pw[0] != '\0') {
		char *dup = strdup(pw);
		if (dup == NULL)
			seterr(err, errlen, "out of memory");
		return dup;
	}
	if (file[0] != '\0')
		return secret_file_read(file, "[smtp] password_file", err, errlen);
	if (creds != NULL && creds[0] != '\0') {
		char path[4096];
		snprintf(path, sizeof(path), "%s/smtp-password", creds);
		if (access(path, F_OK) == 0)
			return secret_file_read(path, "credential", err, errlen);
	}
	seterr(err, errlen, "[smtp] user is set but there is no password: set password, "
	    "password_file, or pass the credential smtp-password "
	    "(LoadCredential=smtp-password:PATH)");
	return NULL;
}

/* OpenSSL would ask on the terminal for a client key's passphrase: never. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf, (void)size, (void)rwflag, (void)arg;
	return 0;
}

/*
 * libesmtp gives us no hook between SSL_new() and the handshake, so the
 * server name goes in when the handshake starts: SNI for the server, and
 * the name (or address) OpenSSL checks the certificate against.
 */
static void tls_info(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl;
	const struct mailer *m;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_START))
		return;
	m = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (m == NULL)
		return;
	if (m->host_is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), m->host);
	} else {
		if (SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL)
			SSL_set_tlsext_host_name(ssl, m->host);
		X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), m->host, 0);
	}
}

static SSL_CTX *tls_context_new(struct mailer *m, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		seterr(err, errlen, "cannot set up TLS: %s", ERR_reason_error_string(ERR_get_error()));
		return NULL;
	}
	/*
	 * TLS 1.2 exactly. With TLS 1.3 the server sends its session tickets
	 * after the handshake; when they arrive before libesmtp has flushed
	 * the EHLO it buffered, its poll loop reads first (the tickets, no
	 * data), then waits for an answer to the EHLO it never sent, until
	 * the timeout: measured on loopback, 2 to 4 sessions in 100. TLS 1.2
	 * has nothing after the handshake, and renegotiation is refused for
	 * the same reason.
	 */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		seterr(err, errlen, "cannot load the trusted certificates (OpenSSL's default store)");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * The handshake runs without SSL_VERIFY_PEER: libesmtp reads the
	 * verification result right after it and asks event_cb(), which
	 * refuses anything but X509_V_OK, naming the reason. (With
	 * SSL_VERIFY_PEER libesmtp would only say "client error".)
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_app_data(ctx, m);
	SSL_CTX_set_info_callback(ctx, tls_info);
	return ctx;
}

static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

static void auth_init(void)
{
	auth_client_init();
}

struct mailer *mailer_new(const struct sq_config *cfg, char *err, size_t errlen)
{
	struct mailer *m;
	const char *host = cfg->smtp_host != NULL ? cfg->smtp_host : "";
	const char *user = cfg->smtp_user != NULL ? cfg->smtp_user : "";
	char why[128], version[32] = "?";
	struct in_addr a4;

	/* A server closing the connection under a write must not kill us. */
	signal_set(SIGPIPE, SIG_IGN);

	if (cfg->smtp_tls == SQ_TLS_IMPLICIT) {
		smtp_version(version, sizeof(version), Ver_VERSION);
		seterr(err, errlen, "[smtp] tls = tls (implicit TLS, usually port 465) is not "
		    "possible: libesmtp %s speaks TLS only through STARTTLS. Use tls = starttls "
		    "with the server's submission port (587)", version);
		return NULL;
	}
	if (host[0] == '\0') {
		seterr(err, errlen, "[smtp] host is empty");
		return NULL;
	}
	for (const char *p = host; *p; p++) {
		if (*p == ':') {
			seterr(err, errlen, "[smtp] host '%s': libesmtp cannot take an IPv6 address; "
			    "use a name that resolves to it", host);
			return NULL;
		}
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '/' || *p == '[') {
			seterr(err, errlen, "[smtp] host '%s' is not a host name or address", host);
			return NULL;
		}
	}
	if (cfg->smtp_from == NULL || !email_valid(cfg->smtp_from, why, sizeof(why))) {
		seterr(err, errlen, "[smtp] from '%s' is not one valid address: %s",
		    cfg->smtp_from != NULL ? cfg->smtp_from : "", why);
		return NULL;
	}
	if (user[0] == '\0' && ((cfg->smtp_password != NULL && cfg->smtp_password[0] != '\0') ||
	    (cfg->smtp_password_file != NULL && cfg->smtp_password_file[0] != '\0'))) {
		seterr(err, errlen, "[smtp] a password is set but user is empty");
		return NULL;
	}
	if (user[0] != '\0' && cfg->smtp_tls == SQ_TLS_NONE && !is_loopback(host)) {
		seterr(err, errlen, "[smtp] user is set with tls = none: the password would cross "
		    "the network to %s in clear text. Use tls = starttls (AUTH without TLS is "
		    "allowed to localhost and 127.0.0.0/8 only)", host);
		return NULL;
	}
	for (const char *p = user; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			seterr(err, errlen, "[smtp] user holds a control character");
			return NULL;
		}
	}

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto oom;
	m->port = cfg->smtp_port;
	m->tls = cfg->smtp_tls;
	m->timeout_ms = cfg->smtp_timeout_ms > 0 ? cfg->smtp_timeout_ms : 30000;
	m->host_is_ip = inet_pton(AF_INET, host, &a4) == 1;
	m->host = strdup(host);
	m->from = strdup(cfg->smtp_from);
	if (m->host == NULL || m->from == NULL)
		goto oom;
	if ((size_t)snprintf(m->server, sizeof(m->server), "%s:%d", host, m->port) >= sizeof(m->server)) {
		seterr(err, errlen, "[smtp] host '%.60s...' is too long", host);
		goto fail;
	}
	if (user[0] != '\0') {
		m->user = strdup(user);
		if (m->user == NULL)
			goto oom;
		m->password = find_password(cfg, err, errlen);
		if (m->password == NULL)
			goto fail;
		pthread_once(&auth_once, auth_init);
	}
	if (m->tls == SQ_TLS_STARTTLS) {
		m->ssl_ctx = tls_context_new(m, err, errlen);
		if (m->ssl_ctx == NULL)
			goto fail;
	}
	return m;
oom:
	seterr(err, errlen, "out of memory");
fail:
	mailer_free(m);
	return NULL;
}

const char *mailer_server(const struct mailer *m)
{
	return m->server;
}

void mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	if (m->password != NULL) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	SSL_CTX_free(m->ssl_ctx);
	free(m->host);
	free(m->user);
	free(m->from);
	free(m);
}

/* ------------------------------------------------------------------ */
/* One session                                                        */

/* What one session saw, beside what libesmtp keeps in its statuses. */
struct session {
	const struct mailer *m;

	bool tls_ok;             /* STARTTLS done and the certificate accepted */
	bool tls_missing;        /* the server does not offer STARTTLS */
	char tls_problem[300];   /* why the TLS session was refused */
	char ext_problem[160];   /* a required extension is missing */

	/* the protocol monitor: replies as they come */
	char line[1024];
	size_t line_len;
	char resp[REPLY_MAX];    /* the reply being read (several lines) */
	bool in_resp;
	char last_error[REPLY_MAX]; /* the last 4xx/5xx reply before QUIT */
	char wprefix[8];         /* the start of the command being written */
	size_t wprefix_len;
	bool quit_sent;
	bool auth_pending, auth_tried, auth_ok;
	char auth_reply[REPLY_MAX];
};

/* An address is a host name or IPv4 here (IPv6 literals are refused). */
static bool cert_matches(const struct mailer *m, SSL *ssl)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	bool ok;

	if (cert == NULL)
		return false;
	if (m->host_is_ip)
		ok = X509_check_ip_asc(cert, m->host, 0) == 1;
	else
		ok = X509_check_host(cert, m->host, 0, 0, NULL) == 1;
	X509_free(cert);
	return ok;
}

static void event_cb(smtp_session_t session, int event, void *arg, ...)
{
	struct session *st = arg;
	const struct mailer *m = st->m;
	va_list ap;
	int *ok;

	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_STARTTLS_OK:
		st->tls_ok = true;
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		st->tls_missing = true;
		break;
	case SMTP_EV_EXTNA_8BITMIME:
		seterr(st->ext_problem, sizeof(st->ext_problem), "%s does not offer 8BITMIME, "
		    "which this message (UTF-8 text) needs; nothing was sent", m->server);
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long result = va_arg(ap, long);
		ok = va_arg(ap, int *);
		*ok = 0;
		seterr(st->tls_problem, sizeof(st->tls_problem), "the TLS certificate of %s is not "
		    "trusted: %s (OpenSSL verify error %ld); nothing was sent", m->server,
		    X509_verify_cert_error_string(result), result);
		break;
	}
	case SMTP_EV_WRONG_PEER_CERTIFICATE: {
		/*
		 * libesmtp's own name check failed: it knows no IP addresses
		 * and uses the name the resolver calls canonical. Accept when
		 * OpenSSL verified the chain and the certificate names the
		 * host as configured.
		 */
		ok = va_arg(ap, int *);
		const char *name = va_arg(ap, const char *);
		SSL *ssl = va_arg(ap, SSL *);
		*ok = ssl != NULL && SSL_get_verify_result(ssl) == X509_V_OK && cert_matches(m, ssl);
		if (!*ok) {
			char shown[128];
			ascii_line(shown, sizeof(shown), name);
			seterr(st->tls_problem, sizeof(st->tls_problem), "the TLS certificate of %s "
			    "is for '%s', not %s; nothing was sent", m->server, shown, m->host);
		}
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		seterr(st->tls_problem, sizeof(st->tls_problem), "%s showed no TLS certificate; "
		    "nothing was sent", m->server);
		break;
	case SMTP_EV_WEAK_CIPHER: {
		int bits = va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		seterr(st->tls_problem, sizeof(st->tls_problem), "%s chose a %d-bit cipher; "
		    "nothing was sent", m->server, bits);
		break;
	}
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		/* fall through */
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
		seterr(st->tls_problem, sizeof(st->tls_problem), "libesmtp found a client "
		    "certificate for %s it cannot use (see ~/.config/libesmtp/private/)", m->host);
		break;
	case SMTP_EV_UNUSABLE_CA_LIST:
		seterr(st->tls_problem, sizeof(st->tls_problem), "the list of trusted "
		    "certificates cannot be used");
		break;
	default:
		break;
	}
	va_end(ap);
}

static void reply_done(struct session *st, int code)
{
	if (st->auth_pending) {
		if (code == 334)
			return; /* a challenge: the exchange goes on */
		st->auth_pending = false;
		if (code / 100 == 2)
			st->auth_ok = true;
		else
			memcpy(st->auth_reply, st->resp, sizeof(st->auth_reply));
	}
	if (!st->quit_sent && (code / 100 == 4 || code / 100 == 5))
		memcpy(st->last_error, st->resp, sizeof(st->last_error));
}

/* One line from the server, CRLF removed. */
static void reply_line(struct session *st, const char *line)
{
	char clean[REPLY_MAX];
	size_t used;

	if (!(line[0] >= '0' && line[0] <= '9' && line[1] >= '0' && line[1] <= '9' &&
	    line[2] >= '0' && line[2] <= '9'))
		return;
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	char sep = line[3];
	if (!st->in_resp) {
		ascii_line(st->resp, sizeof(st->resp), line);
		st->in_resp = true;
	} else if (line[3] != '\0' && (used = strlen(st->resp)) + 2 < sizeof(st->resp)) {
		ascii_line(clean, sizeof(clean), line + 4);
		seterr(st->resp + used, sizeof(st->resp) - used, " %s", clean);
	}
	if (sep == '-')
		return;
	st->in_resp = false;
	reply_done(st, code);
}

/*
 * The protocol monitor. Commands are looked at only to see where an AUTH
 * exchange and the QUIT begin; what follows "AUTH" (credentials) is never
 * kept. The message itself is not shown to the monitor.
 */
static void monitor_cb(const char *buf, int buflen, int writing, void *arg)
{
	struct session *st = arg;

	if (buflen <= 0)
		return;
	if (writing == SMTP_CB_WRITING) {
		for (int i = 0; i < buflen; i++) {
			if (buf[i] == '\n') {
				st->wprefix_len = 0;
				continue;
			}
			if (st->wprefix_len >= 5)
				continue;
			st->wprefix[st->wprefix_len++] = buf[i];
			if (st->wprefix_len == 5 && strncasecmp(st->wprefix, "AUTH ", 5) == 0)
				st->auth_pending = st->auth_tried = true;
			if (st->wprefix_len == 4 && strncasecmp(st->wprefix, "QUIT", 4) == 0)
				st->quit_sent = true;
		}
		return;
	}
	if (writing != SMTP_CB_READING)
		return;
	for (int i = 0; i < buflen; i++) {
		char c = buf[i];
		if (c == '\n') {
			st->line[st->line_len] = '\0';
			reply_line(st, st->line);
			st->line_len = 0;
		} else if (c != '\r' && st->line_len + 1 < sizeof(st->line)) {
			st->line[st->line_len++] = c;
		}
	}
}

static int auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct mailer *m = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = m->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = m->password;
		else
			return 0; /* a realm or anything else: we have none */
	}
	return 1;
}

/*
 * Opens one TCP connection to the server and closes it again, trying its
 * addresses in the resolver's order within [smtp] timeout: libesmtp's own
 * connect() would wait as long as the kernel does (minutes) for a server
 * whose packets are dropped. Returns 0, or -1 with the reason in reply.
 */
static int reach_server(const struct mailer *m, char *reply, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int64_t start;
	char port[16];
	int rc, last = 0;
	bool reached = false;

	snprintf(port, sizeof(port), "%d", m->port);
	start = clock_mono_ms();
	rc = getaddrinfo(m->host, port, &hints, &res);
	if (rc != 0) {
		seterr(reply, len, "cannot resolve %s: %s", m->host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL && !reached; ai = ai->ai_next) {
		long left = m->timeout_ms - (long)(clock_mono_ms() - start);
		if (left <= 0) {
			last = ETIMEDOUT;
			break;
		}
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			reached = true;
		} else if (errno != EINPROGRESS) {
			last = errno;
		} else {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int n;
			do {
				left = m->timeout_ms - (long)(clock_mono_ms() - start);
				n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
			} while (n < 0 && errno == EINTR);
			if (n == 0) {
				last = ETIMEDOUT;
			} else if (n < 0) {
				last = errno;
			} else {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
					soerr = errno;
				if (soerr == 0)
					reached = true;
				else
					last = soerr;
			}
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (reached)
		return 0;
	if (last == ETIMEDOUT)
		seterr(reply, len, "cannot connect to %s: no answer within %d ms", m->server,
		    m->timeout_ms);
	else
		seterr(reply, len, "cannot connect to %s: %s", m->server,
		    strerror(last != 0 ? last : EHOSTUNREACH));
	return -1;
}

/* "550 5.1.1 text": a status as the server said it. */
static void status_text(char *out, size_t len, const smtp_status_t *s)
{
	char text[REPLY_MAX];

	ascii_line(text, sizeof(text), s->text);
	if (s->enh_class > 0)
		seterr(out, len, "%d %d.%d.%d %s", s->code, s->enh_class, s->enh_subject,
		    s->enh_detail, text);
	else
		seterr(out, len, "%d %s", s->code, text);
}

static bool has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* libesmtp needs CRLF everywhere; a bare CR or LF would be a broken message. */
static bool crlf_only(const char *msg)
{
	for (const char *s = msg; *s; s++) {
		if (*s == '\r' && s[1] != '\n')
			return false;
		if (*s == '\n' && (s == msg || s[-1] != '\r'))
			return false;
	}
	return true;
}

/*
 * The verdict on a finished session, from what libesmtp recorded for the
 * sender, the recipient and the message, and what the monitor saw.
 */
static int verdict(const struct session *st, smtp_message_t msg, smtp_recipient_t rcpt,
    const char *to, int session_ok, int err, long took_ms, char *reply, size_t len)
{
	const struct mailer *m = st->m;
	const smtp_status_t *rp = smtp_reverse_path_status(msg);
	const smtp_status_t *rs = smtp_recipient_status(rcpt);
	const smtp_status_t *ms = smtp_message_transfer_status(msg);
	bool auth_refused = m->user != NULL && st->auth_tried && !st->auth_ok;
	char text[REPLY_MAX], auth[REPLY_MAX + 100] = "", errbuf[128];

	if (auth_refused)
		seterr(auth, sizeof(auth), "%s refused the login as %s: %s", m->server, m->user,
		    st->auth_reply[0] ? st->auth_reply : "no reason given");
	else if (m->user != NULL && !st->auth_ok)
		seterr(auth, sizeof(auth), "%s offered no login method this mailer can use "
		    "(PLAIN, LOGIN, CRAM-MD5)", m->server);

	if (st->tls_problem[0] != '\0') {
		seterr(reply, len, "%s", st->tls_problem);
		return MAIL_TEMPFAIL;
	}
	if (m->tls == SQ_TLS_STARTTLS && !st->tls_ok) {
		if (st->tls_missing)
			seterr(reply, len, "%s does not offer STARTTLS, and tls = starttls requires "
			    "it: nothing was sent", m->server);
		else if (st->last_error[0] != '\0')
			seterr(reply, len, "STARTTLS with %s failed: %s; nothing was sent", m->server,
			    st->last_error);
		else
			seterr(reply, len, "STARTTLS with %s failed: %s; nothing was sent", m->server,
			    smtp_strerror(err, errbuf, sizeof(errbuf)));
		return MAIL_TEMPFAIL;
	}

	if (rs->code / 100 == 2 && ms->code / 100 == 2) {
		status_text(text, sizeof(text), ms);
		if (auth[0] != '\0')
			seterr(reply, len, "%s (accepted without login: %s)", text, auth);
		else
			seterr(reply, len, "%s", text);
		return MAIL_SENT;
	}

	if (rp->code == 0) {
		/* The transaction never began: greeting, EHLO, AUTH or the line. */
		if (st->ext_problem[0] != '\0')
			seterr(reply, len, "%s", st->ext_problem);
		else if (auth_refused)
			seterr(reply, len, "%s", auth);
		else if (st->last_error[0] != '\0')
			seterr(reply, len, "%s answered: %s", m->server, st->last_error);
		else if (took_ms >= m->timeout_ms - 50)
			seterr(reply, len, "%s did not answer within %d ms", m->server, m->timeout_ms);
		else if (!session_ok || err != 0)
			seterr(reply, len, "%s: %s", m->server, smtp_strerror(err, errbuf, sizeof(errbuf)));
		else
			seterr(reply, len, "%s ended the session before MAIL FROM", m->server);
		return MAIL_TEMPFAIL;
	}
	if (rp->code / 100 != 2) {
		/* The sender refused: the configuration, not this alert. */
		status_text(text, sizeof(text), rp);
		if (auth[0] != '\0')
			seterr(reply, len, "%s; then MAIL FROM:<%s>: %s", auth, m->from, text);
		else
			seterr(reply, len, "MAIL FROM:<%s>: %s", m->from, text);
		return MAIL_TEMPFAIL;
	}
	if (rs->code / 100 != 2) {
		if (rs->code == 0) {
			seterr(reply, len, "RCPT TO:<%s>: no answer from %s%s%s", to, m->server,
			    st->last_error[0] ? ": " : "", st->last_error);
			return MAIL_TEMPFAIL;
		}
		status_text(text, sizeof(text), rs);
		/* Refused for want of a login: the configuration again. */
		if (rs->code / 100 == 5 && (rs->code == 530 || auth[0] != '\0')) {
			seterr(reply, len, "%s; then RCPT TO:<%s>: %s",
			    auth[0] ? auth : "login required", to, text);
			return MAIL_TEMPFAIL;
		}
		seterr(reply, len, "RCPT TO:<%s>: %s", to, text);
		return rs->code / 100 == 5 ? MAIL_PERMFAIL : MAIL_TEMPFAIL;
	}
	if (ms->code == 0) {
		seterr(reply, len, "the message to <%s> got no answer from %s%s%s", to, m->server,
		    st->last_error[0] ? ": " : "", st->last_error);
		return MAIL_TEMPFAIL;
	}
	status_text(text, sizeof(text), ms);
	if (ms->code / 100 == 3) {
		/* "354 go ahead", the message sent, and no final answer: the 354 is no verdict. */
		if (took_ms >= m->timeout_ms - 50)
			seterr(reply, len, "the message to <%s> got no final answer from %s within %d ms "
			    "(after %s)", to, m->server, m->timeout_ms, text);
		else
			seterr(reply, len, "the message to <%s> got no final answer from %s: %s (after %s)",
			    to, m->server, smtp_strerror(err, errbuf, sizeof(errbuf)), text);
		return MAIL_TEMPFAIL;
	}
	if (ms->code / 100 == 5 && (ms->code == 530 || auth[0] != '\0')) {
		seterr(reply, len, "%s; then DATA: %s", auth[0] ? auth : "login required", text);
		return MAIL_TEMPFAIL;
	}
	seterr(reply, len, "DATA: %s", text);
	return ms->code / 100 == 5 ? MAIL_PERMFAIL : MAIL_TEMPFAIL;
}

int mailer_send(struct mailer *m, const char *to, const char *message,
    char *reply, size_t replylen)
{
	struct session st = { .m = m };
	smtp_session_t session = NULL;
	smtp_message_t msg;
	smtp_recipient_t rcpt;
	auth_context_t auth = NULL;
	int64_t start;
	char why[128], shown[96];
	int rc = MAIL_TEMPFAIL;

	if (to == NULL || !email_valid(to, why, sizeof(why))) {
		ascii_line(shown, sizeof(shown), to);
		seterr(reply, replylen, "recipient '%s' is not one valid address: %s", shown,
		    to == NULL ? "none given" : why);
		return MAIL_PERMFAIL;
	}
	if (message == NULL || message[0] == '\0' || !crlf_only(message)) {
		seterr(reply, replylen, "the message is empty or has a line not ended by CRLF");
		return MAIL_PERMFAIL;
	}
	if (reach_server(m, reply, replylen) < 0)
		return MAIL_TEMPFAIL;

	session = smtp_create_session();
	if (session == NULL)
		goto oom;
	msg = smtp_add_message(session);
	if (msg == NULL || !smtp_set_server(session, m->server) ||
	    !smtp_set_reverse_path(msg, m->from) ||
	    (rcpt = smtp_add_recipient(msg, to)) == NULL ||
	    !smtp_set_message_str(msg, (void *)message))
		goto oom;
	for (int which = Timeout_GREETING; which <= Timeout_DATA2; which++)
		smtp_set_timeout(session, which | Timeout_OVERRIDE_RFC2822_MINIMUM, m->timeout_ms);
	smtp_set_eventcb(session, event_cb, &st);
	smtp_set_monitorcb(session, monitor_cb, &st, 0);
	if (m->tls == SQ_TLS_STARTTLS) {
		smtp_starttls_set_ctx(session, m->ssl_ctx);
		smtp_starttls_enable(session, Starttls_REQUIRED);
	} else {
		smtp_starttls_enable(session, Starttls_DISABLED);
	}
	if (has_8bit(message))
		smtp_8bitmime_set_body(msg, E8bitmime_8BITMIME);
	if (m->user != NULL) {
		auth = auth_create_context();
		if (auth == NULL)
			goto oom;
		/*
		 * PLAIN and LOGIN send the password as it is: allowed because
		 * mailer_new() let AUTH through only over STARTTLS (required)
		 * or to loopback.
		 */
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, m);
		smtp_auth_set_context(session, auth);
	}

	start = clock_mono_ms();
	int ok = smtp_start_session(session);
	int err = ok ? 0 : smtp_errno();
	if (ok && st.last_error[0] == '\0' && smtp_reverse_path_status(msg)->code == 0)
		err = smtp_errno(); /* e.g. a greeting that never came */
	rc = verdict(&st, msg, rcpt, to, ok, err, (long)(clock_mono_ms() - start), reply, replylen);
	goto out;
oom:
	seterr(reply, replylen, "out of memory setting up the SMTP session");
	rc = MAIL_TEMPFAIL;
out:
	if (session != NULL)
		smtp_destroy_session(session);
	if (auth != NULL)
		auth_destroy_context(auth);
	return rc;
}

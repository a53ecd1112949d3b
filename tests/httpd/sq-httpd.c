/*
 * sq-httpd: a small, programmable HTTP test server for squirrel's
 * integration tests and benchmark.
 *
 * The behaviour of every answer is chosen by the request's query string
 * (status=, delay=, hang=, close=, head=, location=, body=, text=,
 * failfrom=, raw=, huge=), so tests need no configuration beyond the URL they
 * monitor; raw= and huge= give the broken answers a hostile server sends.  See
 * README.md beside this file.
 *
 * Design: one thread, one epoll instance, non-blocking sockets and a
 * binary min-heap of deadlines whose earliest entry sets the epoll_wait
 * timeout.  The benchmark measures the monitor's CPU on a shared machine,
 * so this server keeps its own cost low: one pooled struct per
 * connection, no other per-request allocation, and as few syscalls per
 * request as is reasonable.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <strings.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX (16 * 1024)       /* request header cap; beyond it: 431 */
#define BUF_SIZE (REQ_MAX + 512)  /* a response may echo a Location as long as the request */
#define BODY_MAX (10UL * 1024 * 1024)
#define TEXT_MAX 255
#define BODY_CHUNK (64 * 1024)
#define HUGE_SIZE (1024UL * 1024)   /* huge=: the over-long part, in bytes */
#define DELAY_MAX 86400000UL      /* one day, in ms */
#define COUNT_MAX (1UL << 24)     /* more than 127.0.0.0/8 can hold */
#define ACCEPT_PAUSE_MS 100       /* back-off when out of descriptors or memory */
#define WARN_INTERVAL_MS 1000     /* rate limit for repeated runtime warnings */
#define MAX_EVENTS 1024
#define BACKLOG 4096              /* the kernel clamps it to somaxconn */
#define NO_SLOT SIZE_MAX

/* What an epoll event or an expired timer refers to. */
enum kind { K_SIGNAL, K_LISTENER, K_CONN };

/* Common head of everything registered with epoll or the timer heap. */
struct ev {
	enum kind kind;
	int fd;
	size_t slot;  /* index in the timer heap, NO_SLOT when not armed */
	uint64_t due; /* deadline, monotonic microseconds */
};

struct listener {
	struct ev ev; /* first, so a struct ev * can be cast back */
	uint32_t addr; /* network byte order */
};

enum cstate {
	C_READ,  /* reading the request header */
	C_WAIT,  /* delay timer armed, nothing registered with epoll */
	C_WRITE, /* sending header and body */
	C_HANG,  /* never answering; waiting for the client to go away */
};

struct conn {
	struct ev ev;             /* first, so a struct ev * can be cast back */
	struct conn *prev, *next; /* live list; the free pool uses next only */
	enum cstate state;
	bool close_only;          /* close=1: close instead of answering */
	uint32_t local, peer;     /* network byte order */
	size_t len;               /* bytes in buf: the request, then the response header */
	size_t off;               /* response header bytes already sent */
	size_t body_left;         /* body (or huge= filler) bytes still to send */
	const char *tail;         /* huge=, text=: what follows the filler, or NULL */
	size_t tail_left;
	char text[TEXT_MAX + 1];  /* text=, decoded: the body's last bytes */
	char buf[BUF_SIZE];
};

/* What the request asks for, parsed in place inside conn->buf. */
struct req {
	char *method, *target;
	bool is_head, loop, hang, close, fail, has_delay;
	unsigned long status, head_status, delay, body;
	const char *location; /* raw, still percent-encoded */
	const char *auth;     /* auth=B64: 401 without "Authorization: Basic B64" */
	char code[5];         /* status= as written: "000", "99", "1000" */
	const char *raw;      /* raw=NAME: a canned answer that is not HTTP/1.x */
	const char *huge;     /* huge=status|header|location */
	const char *text;     /* text=WORDS: the body ends with them; raw, still encoded */
};

struct opts {
	uint32_t addr; /* host byte order */
	unsigned long count, port, latency;
	const char *port_file, *log;
};

/* The whole server: one instance, one thread. */
static struct {
	struct opts o;
	int epfd, logfd;
	struct ev sig;
	struct listener *ls;
	size_t nls;
	struct ev **heap;
	size_t nheap, capheap;
	struct conn *live, *pool;
	uint64_t now, last_warn; /* monotonic microseconds */
	bool stop;
} S = { .epfd = -1, .logfd = -1, .sig = { .kind = K_SIGNAL, .fd = -1 } };

static char scratch[REQ_MAX]; /* drained input; decoded Location */
static char xs[BODY_CHUNK];   /* body filler: 'x' repeated */

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "count", required_argument, NULL, 'c' },
	{ "port", required_argument, NULL, 'p' },
	{ "port-file", required_argument, NULL, 'f' },
	{ "latency", required_argument, NULL, 'L' },
	{ "log", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* ---- messages ---------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: sq-httpd [--listen ADDR] [--count N] [--port P] [--port-file FILE]\n"
	      "                [--latency MS] [--log FILE]\n", f);
	if (f != stdout)
		return;
	fputs("  --listen ADDR   first address, inside 127.0.0.0/8 (default 127.0.0.1)\n"
	      "  --count N       listen on N addresses from ADDR, skipping .0 and .255\n"
	      "  --port P        port for every address (default 0: an ephemeral one)\n"
	      "  --port-file F   write the port to F once listening\n"
	      "  --latency MS    delay before every answer (default 0)\n"
	      "  --log FILE      append LOCALADDR PEERADDR METHOD TARGET per request\n"
	      "Query parameters: status=NNN head=NNN delay=MS hang=1 close=1\n"
	      "  body=N text=WORDS location=URL failfrom=A.B.C.D raw=http09|garbage|h2\n"
	      "  huge=status|header|location; path /loop redirects to itself.\n", f);
}

__attribute__((format(printf, 1, 2), noreturn))
static void bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sq-httpd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	usage(stderr);
	exit(2);
}

/* Runtime trouble that may repeat per connection: say it at most once a second. */
__attribute__((format(printf, 1, 2)))
static void warn_limited(const char *fmt, ...)
{
	va_list ap;
	if (S.last_warn && S.now - S.last_warn < WARN_INTERVAL_MS * 1000)
		return;
	S.last_warn = S.now ? S.now : 1;
	va_start(ap, fmt);
	fputs("sq-httpd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- small helpers ----------------------------------------------------- */

/* Microseconds, so that a deadline rounded up to epoll's ms never fires early. */
static uint64_t now_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("sq-httpd: clock_gettime");
		exit(1);
	}
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Strict decimal: digits only, no sign or blanks, at most max. */
static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned long d = (unsigned long)(*s - '0');
		if (d > max || n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode %XX into out (room for strlen(s) + 1).  Control bytes stay
 * encoded so that a Location can never split the response header.
 */
static void pct_decode(const char *s, char *out)
{
	while (*s) {
		int hi = s[0] == '%' ? hexval(s[1]) : -1;
		int lo = hi >= 0 ? hexval(s[2]) : -1;
		if (lo >= 0 && hi * 16 + lo >= 0x20) {
			*out++ = (char)(hi * 16 + lo);
			s += 3;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

static const char *reason(unsigned long code)
{
	static const struct { unsigned short code; const char *text; } tab[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 410, "Gone" }, { 418, "I'm a teapot" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (tab[i].code == code)
			return tab[i].text;
	return "Unknown";
}

/* HTTP forbids a body on these; sending one would confuse clients. */
static bool no_body(unsigned long code)
{
	return code < 200 || code == 204 || code == 304;
}

/* ---- timers: a binary min-heap of deadlines ---------------------------- */

static void heap_place(size_t i, struct ev *e)
{
	S.heap[i] = e;
	e->slot = i;
}

static void heap_up(size_t i)
{
	struct ev *e = S.heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (S.heap[p]->due <= e->due)
			break;
		heap_place(i, S.heap[p]);
		i = p;
	}
	heap_place(i, e);
}

static void heap_down(size_t i)
{
	struct ev *e = S.heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= S.nheap)
			break;
		if (c + 1 < S.nheap && S.heap[c + 1]->due < S.heap[c]->due)
			c++;
		if (e->due <= S.heap[c]->due)
			break;
		heap_place(i, S.heap[c]);
		i = c;
	}
	heap_place(i, e);
}

static int timer_arm(struct ev *e, uint64_t ms)
{
	if (S.nheap == S.capheap) {
		size_t cap = S.capheap ? S.capheap * 2 : 1024;
		struct ev **h = realloc(S.heap, cap * sizeof *h);
		if (!h)
			return -1;
		S.heap = h;
		S.capheap = cap;
	}
	e->due = S.now + ms * 1000;
	heap_place(S.nheap++, e);
	heap_up(e->slot);
	return 0;
}

static void timer_cancel(struct ev *e)
{
	size_t i = e->slot;
	if (i == NO_SLOT)
		return;
	e->slot = NO_SLOT;
	struct ev *last = S.heap[--S.nheap];
	if (i == S.nheap)
		return;
	heap_place(i, last);
	heap_up(i);
	heap_down(last->slot);
}

/* epoll_wait timeout in ms, rounded up: until the earliest deadline, or forever. */
static int timer_timeout(void)
{
	if (!S.nheap)
		return -1;
	uint64_t due = S.heap[0]->due;
	if (due <= S.now)
		return 0;
	uint64_t ms = (due - S.now + 999) / 1000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- epoll ------------------------------------------------------------- */

static int ep_ctl(int op, struct ev *e, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = e };
	return epoll_ctl(S.epfd, op, e->fd, &ee);
}

/*
 * Connections are registered one-shot: an event disarms them, so waiting
 * out a delay costs no epoll_ctl, and they are re-armed only when they
 * need another event.
 */
static int conn_arm(struct conn *c, uint32_t events)
{
	return ep_ctl(EPOLL_CTL_MOD, &c->ev, events | EPOLLONESHOT);
}

/* ---- connections ------------------------------------------------------- */

static struct conn *conn_new(int fd, uint32_t local, uint32_t peer)
{
	struct conn *c = S.pool;
	if (c)
		S.pool = c->next;
	else if (!(c = malloc(sizeof *c)))
		return NULL;
	c->ev = (struct ev){ .kind = K_CONN, .fd = fd, .slot = NO_SLOT };
	c->state = C_READ;
	c->close_only = false;
	c->local = local;
	c->peer = peer;
	c->len = c->off = c->body_left = c->tail_left = 0;
	c->tail = NULL;
	if (ep_ctl(EPOLL_CTL_ADD, &c->ev, EPOLLIN | EPOLLONESHOT) < 0) {
		c->next = S.pool;
		S.pool = c;
		return NULL;
	}
	c->prev = NULL;
	c->next = S.live;
	if (S.live)
		S.live->prev = c;
	S.live = c;
	return c;
}

/*
 * Read and drop whatever the client sent beyond the request: closing a
 * socket with unread input makes the kernel send RST instead of FIN,
 * and an RST can destroy the answer before the client has read it.
 */
static void drain(int fd)
{
	for (int i = 0; i < 4; i++)
		if (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) <= 0)
			return;
}

static void conn_unlink(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		S.live = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* Close the socket (which also removes it from epoll) and pool the struct. */
static void conn_close(struct conn *c)
{
	timer_cancel(&c->ev);
	drain(c->ev.fd);
	/* close() on a socket only fails for a bad fd: nothing left to do then. */
	(void)close(c->ev.fd);
	conn_unlink(c);
	c->next = S.pool;
	S.pool = c;
}

/* Send what is left of the header and body; close when done or on error. */
static void conn_write(struct conn *c)
{
	for (;;) {
		struct iovec iov[3];
		int n = 0;
		if (c->off < c->len)
			iov[n++] = (struct iovec){ c->buf + c->off, c->len - c->off };
		if (c->body_left)
			iov[n++] = (struct iovec){ xs, c->body_left < sizeof xs ? c->body_left : sizeof xs };
		if (c->tail_left && !c->body_left)
			iov[n++] = (struct iovec){ (char *)c->tail, c->tail_left };
		if (n == 0)
			break;
		/* Header and body in one call: one segment for small answers. */
		ssize_t w = writev(c->ev.fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (conn_arm(c, EPOLLOUT) == 0)
				return;
			break;
		}
		if (w <= 0)
			break;
		size_t left = (size_t)w;
		size_t hdr = c->len - c->off < left ? c->len - c->off : left;
		c->off += hdr;
		left -= hdr;
		size_t fill = c->body_left < left ? c->body_left : left;
		c->body_left -= fill;
		left -= fill;
		if (left) {
			c->tail += left;
			c->tail_left -= left;
		}
	}
	conn_close(c);
}

/* The delay is over (or was zero): answer, or just close for close=1. */
static void conn_act(struct conn *c)
{
	if (c->close_only) {
		conn_close(c);
		return;
	}
	c->state = C_WRITE;
	conn_write(c);
}

/* Put the response header into c->buf (the request is no longer needed). */
static bool set_response(struct conn *c, unsigned long code, const char *text,
			 const char *loc, size_t body, const char *words, bool is_head)
{
	char num[24];
	size_t wlen = 0;
	if (words) {
		/* into the connection's own buffer: words live in c->buf (at most TEXT_MAX) */
		pct_decode(words, c->text);
		wlen = strlen(c->text);
	}
	if (no_body(code))
		body = wlen = 0;
	if (!text) {
		snprintf(num, sizeof num, "%lu", code);
		text = num;
	}
	int n = snprintf(c->buf, sizeof c->buf,
			 "HTTP/1.1 %s %s\r\n"
			 "Content-Length: %zu\r\n"
			 "%s%s%s"
			 "Connection: close\r\n"
			 "\r\n",
			 text, reason(code), body + wlen,
			 loc ? "Location: " : "", loc ? loc : "", loc ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof c->buf)
		return false;
	c->len = (size_t)n;
	c->off = 0;
	c->body_left = is_head ? 0 : body;
	c->tail = wlen ? c->text : NULL;
	c->tail_left = is_head ? 0 : wlen;
	return true;
}

/*
 * raw=NAME: bytes that are not an HTTP/1.x answer. http09 is a bare body
 * (HTTP/0.9 has no status line); garbage is binary noise; h2 is what an
 * HTTP/2-only server sends first (its SETTINGS frame, then GOAWAY).
 */
static bool set_raw(struct conn *c, const char *name)
{
	static const char h2[] =
		"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64"
		"\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01";
	static const char garbage[] = "\x16\x03\x01\x00\xff\xfe\x80 junk \x01\x02\r\n\r\n";
	static const char http09[] = "<html><body>hello from 1991</body></html>\n";
	const char *p;
	size_t len;
	if (!strcmp(name, "http09")) {
		p = http09;
		len = sizeof http09 - 1;
	} else if (!strcmp(name, "garbage")) {
		p = garbage;
		len = sizeof garbage - 1;
	} else if (!strcmp(name, "h2")) {
		p = h2;
		len = sizeof h2 - 1;
	} else {
		return false;
	}
	memcpy(c->buf, p, len);
	c->len = len;
	c->off = c->body_left = c->tail_left = 0;
	c->tail = NULL;
	return true;
}

/*
 * huge=status|header|location: an answer whose status line, one header,
 * or Location is HUGE_SIZE bytes long: the head, HUGE_SIZE bytes of 'x',
 * then the rest of a valid answer.
 */
static bool set_huge(struct conn *c, const char *what)
{
	static const char end[] = "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	const char *head;
	if (!strcmp(what, "status"))
		head = "HTTP/1.1 200 ";
	else if (!strcmp(what, "header"))
		head = "HTTP/1.1 200 OK\r\nX-Huge: ";
	else if (!strcmp(what, "location"))
		head = "HTTP/1.1 302 Found\r\nLocation: /";
	else
		return false;
	c->len = strlen(head);
	memcpy(c->buf, head, c->len);
	c->off = 0;
	c->body_left = HUGE_SIZE;
	c->tail = end;
	c->tail_left = sizeof end - 1;
	return true;
}

/* Answer a request we could not parse, without delay. */
static void respond_now(struct conn *c, unsigned long code)
{
	c->close_only = false;
	if (set_response(c, code, NULL, NULL, 0, NULL, false))
		conn_act(c);
	else
		conn_close(c);
}

/* ---- requests ---------------------------------------------------------- */

/* Split the request line in place into method and target. */
static int parse_line(char *p, struct req *r)
{
	while (*p == '\r' || *p == '\n') /* tolerate stray CRLFs before it */
		p++;
	char *eol = strpbrk(p, "\r\n");
	if (eol)
		*eol = '\0';
	char *sp = strchr(p, ' ');
	if (!sp || sp == p)
		return -1;
	*sp = '\0';
	r->method = p;
	r->target = sp + 1;
	sp = strchr(r->target, ' ');
	if (sp)
		*sp = '\0';
	if (!*r->target)
		return -1;
	r->is_head = strcmp(r->method, "HEAD") == 0;
	return 0;
}

/* Path of an origin-form or absolute-form target. */
static const char *target_path(const char *t)
{
	if (*t == '/')
		return t;
	const char *s = strstr(t, "://");
	if (!s)
		return t;
	s = strchr(s + 3, '/');
	return s ? s : "/";
}

/* A flag is on when given without a value or with a non-zero number. */
static bool flag_on(const char *v)
{
	unsigned long n = 0;
	return parse_ulong(v, ULONG_MAX, &n) && n != 0;
}

/* Apply one key=value pair; unknown keys and bad values are ignored. */
static void apply_param(char *kv, uint32_t peer, struct req *r)
{
	char *eq = strchr(kv, '=');
	const char *v = "1";
	unsigned long n = 0;
	struct in_addr a;
	if (eq) {
		*eq = '\0';
		v = eq + 1;
	}
	if (!strcmp(kv, "status") && strlen(v) <= 4 && parse_ulong(v, 9999, &n)) {
		/* kept as written: 000, 99 and 1000 are what broken servers send */
		r->status = n;
		memcpy(r->code, v, strlen(v) + 1);
	}
	else if (!strcmp(kv, "head") && parse_ulong(v, 999, &n) && n >= 100)
		r->head_status = n;
	else if (!strcmp(kv, "delay") && parse_ulong(v, DELAY_MAX, &n)) {
		r->delay = n;
		r->has_delay = true;
	}
	else if (!strcmp(kv, "hang"))
		r->hang = flag_on(v);
	else if (!strcmp(kv, "close"))
		r->close = flag_on(v);
	else if (!strcmp(kv, "body") && parse_ulong(v, ULONG_MAX, &n))
		r->body = n > BODY_MAX ? BODY_MAX : n;
	else if (!strcmp(kv, "location") && eq)
		r->location = v;
	else if (!strcmp(kv, "auth") && eq)
		r->auth = v;
	else if (!strcmp(kv, "raw") && eq)
		r->raw = v;
	else if (!strcmp(kv, "huge") && eq)
		r->huge = v;
	else if (!strcmp(kv, "text") && eq && strlen(v) <= TEXT_MAX)
		r->text = v;
	else if (!strcmp(kv, "failfrom") && inet_pton(AF_INET, v, &a) == 1 &&
		 a.s_addr == peer)
		r->fail = true;
}

/* Parse path and query string in place (the target is logged before). */
static void parse_target(char *t, uint32_t peer, struct req *r)
{
	char *q = strchr(t, '?');
	if (q)
		*q++ = '\0';
	r->loop = strcmp(target_path(t), "/loop") == 0;
	while (q) {
		char *amp = strchr(q, '&');
		if (amp)
			*amp++ = '\0';
		if (*q)
			apply_param(q, peer, r);
		q = amp;
	}
}

/* One line per request, in a single append so lines never interleave. */
static void log_request(const struct conn *c, const struct req *r)
{
	static char sp[] = " ", nl[] = "\n";
	char local[INET_ADDRSTRLEN], peer[INET_ADDRSTRLEN];
	char pre[2 * INET_ADDRSTRLEN + 2];
	if (S.logfd < 0)
		return;
	if (!inet_ntop(AF_INET, &c->local, local, sizeof local) ||
	    !inet_ntop(AF_INET, &c->peer, peer, sizeof peer))
		return;
	int n = snprintf(pre, sizeof pre, "%s %s ", local, peer);
	struct iovec iov[] = {
		{ pre, (size_t)n }, { r->method, strlen(r->method) }, { sp, 1 },
		{ r->target, strlen(r->target) }, { nl, 1 },
	};
	if (writev(S.logfd, iov, sizeof iov / sizeof iov[0]) < 0)
		warn_limited("writing the log: %s", strerror(errno));
}

/*
 * Whether buf[0..len) has the header line "Authorization: Basic WANT" (the
 * name in any case). The request line before it may hold NULs by now.
 */
static bool has_basic_auth(const char *buf, size_t len, const char *want)
{
	const char *end = buf + len;
	size_t wl = strlen(want);
	for (const char *p = memchr(buf, '\n', len); p != NULL;
	     p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		const char *v = p + 1;
		if ((size_t)(end - v) < 14 || strncasecmp(v, "authorization:", 14) != 0)
			continue;
		for (v += 14; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		if ((size_t)(end - v) >= 6 + wl && strncmp(v, "Basic ", 6) == 0 &&
		    memcmp(v + 6, want, wl) == 0 && (v + 6 + wl == end || v[6 + wl] == '\r'))
			return true;
	}
	return false;
}

static bool build_answer(struct conn *c, const struct req *r, size_t hdr_len)
{
	unsigned long code = r->status;
	const char *text = r->code[0] ? r->code : NULL;
	const char *loc = NULL;
	if (r->raw)
		return set_raw(c, r->raw);
	if (r->huge)
		return set_huge(c, r->huge);
	if (r->is_head && r->head_status) {
		code = r->head_status;
		text = NULL;
	}
	if (r->location) {
		/* Into scratch: r->location lives in c->buf, which is about to be overwritten. */
		pct_decode(r->location, scratch);
		loc = scratch;
	}
	if (r->loop) {
		code = 302;
		text = NULL;
		loc = "/loop";
	}
	if (r->fail) {
		code = 503;
		text = NULL;
	}
	if (r->auth && !has_basic_auth(c->buf, hdr_len, r->auth)) {
		code = 401;
		text = NULL;
	}
	return set_response(c, code, text, loc, r->body, r->text, r->is_head);
}

/* A whole request header is in c->buf[0..hdr_len): decide what to do. */
static void request_done(struct conn *c, size_t hdr_len)
{
	struct req r = { .status = 200 };
	c->buf[hdr_len] = '\0';
	if (parse_line(c->buf, &r) < 0) {
		respond_now(c, 400);
		return;
	}
	log_request(c, &r);
	parse_target(r.target, c->peer, &r);
	if (r.hang) {
		c->state = C_HANG;
		if (conn_arm(c, EPOLLIN) < 0)
			conn_close(c);
		return;
	}
	c->close_only = r.close;
	if (!r.close && !build_answer(c, &r, hdr_len)) {
		conn_close(c);
		return;
	}
	unsigned long delay = r.has_delay ? r.delay : S.o.latency;
	if (delay == 0) {
		conn_act(c);
		return;
	}
	/* Nothing is armed in epoll while waiting (one-shot), only the timer. */
	c->state = C_WAIT;
	if (timer_arm(&c->ev, delay) < 0)
		conn_close(c);
}

static void conn_read(struct conn *c)
{
	ssize_t n = read(c->ev.fd, c->buf + c->len, REQ_MAX - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (conn_arm(c, EPOLLIN) < 0)
			conn_close(c);
		return;
	}
	if (n <= 0) {
		conn_close(c);
		return;
	}
	/* Search only the new bytes, plus 3 in case the terminator straddles reads. */
	size_t from = c->len > 3 ? c->len - 3 : 0;
	c->len += (size_t)n;
	char *end = memmem(c->buf + from, c->len - from, "\r\n\r\n", 4);
	if (end)
		request_done(c, (size_t)(end - c->buf));
	else if (c->len == REQ_MAX)
		respond_now(c, 431);
	else if (conn_arm(c, EPOLLIN) < 0)
		conn_close(c);
}

/* hang=1: swallow input until the client closes or fails. */
static void hang_read(struct conn *c)
{
	ssize_t n = read(c->ev.fd, scratch, sizeof scratch);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    conn_arm(c, EPOLLIN) < 0)
		conn_close(c);
}

static void on_conn(struct conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	switch (c->state) {
	case C_READ:
		conn_read(c);
		break;
	case C_HANG:
		hang_read(c);
		break;
	case C_WRITE:
		conn_write(c);
		break;
	case C_WAIT: /* not armed in epoll: cannot happen */
		break;
	}
}

/* ---- listeners --------------------------------------------------------- */

/* Stop accepting on l for a while instead of spinning on EMFILE. */
static void listener_pause(struct listener *l, int err)
{
	warn_limited("accept: %s; pausing %d ms", strerror(err), ACCEPT_PAUSE_MS);
	if (timer_arm(&l->ev, ACCEPT_PAUSE_MS) < 0)
		return; /* cannot time the pause: keep accepting */
	if (ep_ctl(EPOLL_CTL_MOD, &l->ev, 0) < 0)
		timer_cancel(&l->ev);
}

static void listener_resume(struct listener *l)
{
	if (ep_ctl(EPOLL_CTL_MOD, &l->ev, EPOLLIN) < 0)
		warn_limited("resuming a listener: %s", strerror(errno));
}

/* Errors that belong to one aborted connection, not to the listener. */
static bool accept_retry(int err)
{
	switch (err) {
	case EINTR: case ECONNABORTED: case EPROTO: case EPERM:
	case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
	case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
		return true;
	}
	return false;
}

static void on_accept(struct listener *l)
{
	for (;;) {
		struct sockaddr_in peer = { 0 };
		socklen_t len = sizeof peer;
		int fd = accept4(l->ev.fd, (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (fd < 0 && accept_retry(errno))
			continue;
		if (fd < 0) { /* EMFILE, ENFILE, ENOBUFS, ENOMEM, ... */
			listener_pause(l, errno);
			return;
		}
		if (!conn_new(fd, l->addr, peer.sin_addr.s_addr)) {
			int err = errno;
			(void)close(fd);
			listener_pause(l, err);
			return;
		}
	}
}

/* The next address of the range: +1, skipping .0 and .255. */
static uint32_t next_addr(uint32_t a)
{
	do
		a++;
	while ((a & 0xff) == 0 || (a & 0xff) == 0xff);
	return a;
}

static int listen_socket(uint32_t addr, unsigned port)
{
	static const int one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = addr };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* REUSEADDR: restart on a fixed port despite TIME_WAIT.  NODELAY
	 * (inherited by accepted sockets): no Nagle wait on a body's tail. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, BACKLOG) < 0) {
		int err = errno;
		(void)close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int bound_port(int fd, unsigned *port)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof sa;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return 0;
}

static void close_listeners(void)
{
	for (size_t i = 0; i < S.nls; i++) {
		timer_cancel(&S.ls[i].ev);
		(void)close(S.ls[i].ev.fd);
	}
	S.nls = 0;
}

static void listen_error(const char *what, uint32_t addr, unsigned port)
{
	char a[INET_ADDRSTRLEN];
	int err = errno;
	if (!inet_ntop(AF_INET, &addr, a, sizeof a))
		strcpy(a, "?");
	fprintf(stderr, "sq-httpd: %s %s:%u: %s\n", what, a, port, strerror(err));
}

/*
 * Listen on every address of the range.  Returns 0, -1 on failure, or 1
 * when an ephemeral port turned out to be taken on a later address (the
 * caller retries with a fresh port).
 */
static int try_listen_all(unsigned *port_out)
{
	unsigned port = (unsigned)S.o.port;
	uint32_t a = S.o.addr;
	for (size_t i = 0; i < S.o.count; i++, a = next_addr(a)) {
		struct listener *l = &S.ls[i];
		l->addr = htonl(a);
		l->ev = (struct ev){ .kind = K_LISTENER, .slot = NO_SLOT };
		l->ev.fd = listen_socket(l->addr, port);
		if (l->ev.fd < 0 && errno == EADDRINUSE && S.o.port == 0 && i > 0)
			return 1;
		if (l->ev.fd < 0) {
			listen_error("cannot listen on", l->addr, port);
			return -1;
		}
		S.nls = i + 1;
		if (port == 0 && bound_port(l->ev.fd, &port) < 0) {
			listen_error("getsockname on", l->addr, port);
			return -1;
		}
		if (ep_ctl(EPOLL_CTL_ADD, &l->ev, EPOLLIN) < 0) {
			listen_error("epoll_ctl for", l->addr, port);
			return -1;
		}
	}
	*port_out = port;
	return 0;
}

static int listen_all(unsigned *port)
{
	S.ls = calloc(S.o.count, sizeof *S.ls);
	if (!S.ls) {
		perror("sq-httpd: calloc");
		return -1;
	}
	for (int attempt = 0; attempt < 10; attempt++) {
		int r = try_listen_all(port);
		if (r <= 0)
			return r;
		close_listeners();
	}
	fprintf(stderr, "sq-httpd: no ephemeral port is free on all %lu addresses\n",
		S.o.count);
	return -1;
}

/* ---- setup ------------------------------------------------------------- */

static uint32_t parse_addr(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		bad_usage("--listen: '%s' is not a dotted IPv4 address", s);
	uint32_t h = ntohl(a.s_addr);
	if (h >> 24 != 127)
		bad_usage("--listen: refusing %s: only 127.0.0.0/8 is allowed", s);
	return h;
}

static void check_range(const struct opts *o)
{
	uint32_t a = o->addr;
	for (unsigned long i = 1; i < o->count; i++) {
		a = next_addr(a);
		if (a >> 24 != 127)
			bad_usage("--count: %lu addresses from --listen leave 127.0.0.0/8",
				  o->count);
	}
}

static void parse_number(const char *name, const char *s, unsigned long min,
			 unsigned long max, unsigned long *out)
{
	if (!parse_ulong(s, max, out) || *out < min)
		bad_usage("%s: expected a number from %lu to %lu, got '%s'",
			  name, min, max, s);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int ch;
	*o = (struct opts){ .addr = 0x7f000001, .count = 1 };
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': o->addr = parse_addr(optarg); break;
		case 'c': parse_number("--count", optarg, 1, COUNT_MAX, &o->count); break;
		case 'p': parse_number("--port", optarg, 0, 65535, &o->port); break;
		case 'L': parse_number("--latency", optarg, 0, DELAY_MAX, &o->latency); break;
		case 'f': o->port_file = optarg; break;
		case 'g': o->log = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2); /* getopt has said what is wrong */
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	check_range(o);
}

/* Each listener and connection is a descriptor: allow as many as we may. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("sq-httpd: getrlimit");
		return;
	}
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		perror("sq-httpd: setrlimit(RLIMIT_NOFILE)");
}

/* Signals arrive through a descriptor so the loop can exit cleanly. */
static int signals_setup(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sq-httpd: signals");
		return -1;
	}
	S.sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (S.sig.fd < 0 || ep_ctl(EPOLL_CTL_ADD, &S.sig, EPOLLIN) < 0) {
		perror("sq-httpd: signalfd");
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write "PORT\n" to F.tmp, then rename: readers never see a partial file. */
static int write_port_file(const char *path, unsigned port)
{
	char line[16];
	int n = snprintf(line, sizeof line, "%u\n", port);
	size_t len = strlen(path) + sizeof ".tmp";
	char *tmp = malloc(len);
	int rc = -1, fd = -1;
	if (!tmp)
		goto out;
	snprintf(tmp, len, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, line, (size_t)n) < 0)
		goto out;
	rc = close(fd);
	fd = -1;
	if (rc == 0)
		rc = rename(tmp, path);
out:
	if (rc < 0)
		fprintf(stderr, "sq-httpd: writing %s: %s\n", tmp ? tmp : path, strerror(errno));
	if (fd >= 0)
		(void)close(fd);
	free(tmp);
	return rc;
}

static int setup(void)
{
	unsigned port;
	memset(xs, 'x', sizeof xs);
	raise_nofile();
	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (S.epfd < 0) {
		perror("sq-httpd: epoll_create1");
		return -1;
	}
	if (signals_setup() < 0)
		return -1;
	if (S.o.log) {
		S.logfd = open(S.o.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (S.logfd < 0) {
			fprintf(stderr, "sq-httpd: %s: %s\n", S.o.log, strerror(errno));
			return -1;
		}
	}
	S.now = now_us();
	if (listen_all(&port) < 0)
		return -1;
	if (S.o.port_file && write_port_file(S.o.port_file, port) < 0)
		return -1;
	return 0;
}

/* ---- main loop and teardown -------------------------------------------- */

static void on_signal(void)
{
	struct signalfd_siginfo si;
	ssize_t n = read(S.sig.fd, &si, sizeof si);
	if (n == (ssize_t)sizeof si || (n < 0 && errno != EAGAIN))
		S.stop = true;
}

static void dispatch(struct ev *e, uint32_t events)
{
	switch (e->kind) {
	case K_SIGNAL:
		on_signal();
		break;
	case K_LISTENER:
		on_accept((struct listener *)e);
		break;
	case K_CONN:
		on_conn((struct conn *)e, events);
		break;
	}
}

/* Fire every timer that is due: a delayed answer or a paused listener. */
static void timers_run(void)
{
	while (S.nheap && S.heap[0]->due <= S.now) {
		struct ev *e = S.heap[0];
		timer_cancel(e);
		if (e->kind == K_LISTENER)
			listener_resume((struct listener *)e);
		else
			conn_act((struct conn *)e);
	}
}

static int run(void)
{
	static struct epoll_event evs[MAX_EVENTS];
	while (!S.stop) {
		S.now = now_us();
		timers_run();
		int n = epoll_wait(S.epfd, evs, MAX_EVENTS, timer_timeout());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("sq-httpd: epoll_wait");
			return -1;
		}
		S.now = now_us();
		for (int i = 0; i < n; i++)
			dispatch(evs[i].data.ptr, evs[i].events);
	}
	return 0;
}

static void free_list(struct conn *c, bool close_fd)
{
	while (c) {
		struct conn *next = c->next;
		if (close_fd)
			(void)close(c->ev.fd);
		free(c);
		c = next;
	}
}

static void teardown(void)
{
	close_listeners(); /* first: it edits the heap, which points into conns */
	free(S.ls);
	free_list(S.live, true);
	free_list(S.pool, false);
	free(S.heap);
	if (S.logfd >= 0)
		(void)close(S.logfd);
	if (S.sig.fd >= 0)
		(void)close(S.sig.fd);
	if (S.epfd >= 0)
		(void)close(S.epfd);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv, &S.o);
	int rc = setup() == 0 && run() == 0 ? 0 : 1;
	teardown();
	return rc;
}

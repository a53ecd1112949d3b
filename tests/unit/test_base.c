/*
 * test_base.c - the small machinery of the ground floor that every part
 * shares: the clocks, location names, secret files, DNS server lists,
 * signal dispositions, the background thread and one-line ASCII copies.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/clock.h"
#include "squirrel/base/escape.h"
#include "squirrel/base/image.h"
#include "squirrel/base/secret.h"
#include "squirrel/base/thread.h"
#include "squirrel/base/util.h"
#include "squirrel/base/validate.h"
#include "tap.h"

static void test_clock(void)
{
	struct timespec ts;
	int64_t m0 = clock_mono_ms(), w0 = clock_wall_ms();
	double s0 = clock_mono_s();

	clock_gettime(CLOCK_REALTIME, &ts);
	ok(w0 / 1000 <= (int64_t)ts.tv_sec && (int64_t)ts.tv_sec - w0 / 1000 <= 1,
	    "clock_wall_ms is the epoch in ms");
	clock_sleep_ms(30);
	int64_t m1 = clock_mono_ms();
	ok(m1 - m0 >= 30 && m1 - m0 < 5000, "clock_sleep_ms(30) sleeps 30 ms at least (%lld)",
	    (long long)(m1 - m0));
	ok(clock_mono_s() - s0 >= 0.030, "clock_mono_s counts seconds");
	ok(m0 / 1000 - (int64_t)s0 <= 1 && (int64_t)s0 - m0 / 1000 <= 1,
	    "clock_mono_s and clock_mono_ms read one clock");
	m0 = clock_mono_ms();
	clock_sleep_ms(0);
	clock_sleep_ms(-5);
	ok(clock_mono_ms() - m0 < 20, "no sleep for 0 or less");

	struct timespec after = clock_mono_after(1999), now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t span = ((int64_t)after.tv_sec - now.tv_sec) * 1000 + (after.tv_nsec - now.tv_nsec) / 1000000;
	ok(after.tv_nsec >= 0 && after.tv_nsec < 1000000000L, "clock_mono_after: nanoseconds normalised");
	ok(span >= 1990 && span <= 1999, "clock_mono_after(1999) is 1999 ms ahead (%lld)", (long long)span);
}

static void test_location(void)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "eu-west_1.a", true },
		{ "A", true },
		{ "", false },
		{ "eu west", false },
		{ "eu,west", false },
		{ "eu:west", false },
		{ "caf\xc3\xa9", false },
		{ "a\tb", false },
		{ "a/b", false },
		{ "123456789012345678901234567890123456789012345678901234567890123", true },
		{ "1234567890123456789012345678901234567890123456789012345678901234", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(location_valid(cases[i].name, strlen(cases[i].name)), cases[i].valid,
		    "location '%s' %s", cases[i].name, cases[i].valid ? "accepted" : "refused");
	ok(location_valid("ab\0c", 2) && !location_valid("ab\0c", 4), "judged over len bytes");
	ok(name_char('z') && name_char('0') && name_char('.') && !name_char(' ') && !name_char('\0') &&
	    !name_char((char)0xc3), "name_char: letters, digits, '_', '-', '.' only");
	ok(name_valid("abc", 3, 4) && !name_valid("abcd", 4, 4), "name_valid: at most max-1 bytes");
}

/* A file in dir holding text, with mode; its path in path. */
static void put(char *path, size_t len, const char *dir, const char *name, const char *text,
    mode_t mode)
{
	snprintf(path, len, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

static void test_secret(void)
{
	char dir[] = "/tmp/sq-test-base-XXXXXX", path[256], err[512];
	unsigned mode = 0;
	char *got;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	ok(!secret_mode_shared(0600) && !secret_mode_shared(0400) && secret_mode_shared(0640) &&
	    secret_mode_shared(0604) && secret_mode_shared(0601), "the rule: no access for group or others");

	put(path, sizeof(path), dir, "ok", "s3cret\r\n", 0600);
	is_int(secret_file_shared(path, &mode), 0, "0600: the owner's alone");
	got = secret_file_read(path, "[smtp] password_file", err, sizeof(err));
	is_str(got, "s3cret", "read, the final line break dropped");
	free(got);

	put(path, sizeof(path), dir, "shared", "s3cret\n", 0640);
	is_int(secret_file_shared(path, &mode), 1, "0640: refused");
	is_int(mode, 0640, "its mode given");
	ok(secret_file_read(path, "credential", err, sizeof(err)) == NULL, "0640: not read");
	char want[1024];
	snprintf(want, sizeof(want), "credential %s has mode 0640: group or others may access it; "
	    "it must be readable by its owner only (chmod 600 %s)", path, path);
	is_str(err, want, "the reason names the file, its mode and the fix");
	unlink(path);

	put(path, sizeof(path), dir, "two", "a\nb\n", 0600);
	ok(secret_file_read(path, "x", err, sizeof(err)) == NULL && strstr(err, "on one line") != NULL,
	    "two lines refused: %s", err);
	unlink(path);
	put(path, sizeof(path), dir, "empty", "\n", 0600);
	ok(secret_file_read(path, "x", err, sizeof(err)) == NULL && strstr(err, "is empty") != NULL,
	    "empty refused: %s", err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ok", dir);
	unlink(path);
	is_int(secret_file_shared(path, &mode), -1, "a missing file: -1");
	ok(secret_file_read(path, "x", err, sizeof(err)) == NULL && strstr(err, "No such file") != NULL,
	    "a missing file: %s", err);
	ok(secret_file_read(dir, "x", err, sizeof(err)) == NULL &&
	    strstr(err, "not a regular file") != NULL, "a directory: %s", err);
	rmdir(dir);
}

static void test_dns_servers(void)
{
	static const char *bad[] = {
		"1.2.3", "127.0.0.1:70000", "127.0.0.1:0", "127.0.0.1:", "[::1", "[::1]x",
		"example.org", "127.0.0.1:53:53", "127.0.0.1:+53", "127.0.0.1: 53", "::1:53x",
		"127.0.0.1:123456",
	};
	struct dns_server one, *list = NULL;
	char why[256], want[256];

	is_int(dns_server_parse("127.0.0.1", &one), 0, "IPv4");
	ok(one.family == AF_INET && memcmp(one.addr, "\x7f\0\0\x01", 4) == 0 && one.port == 0,
	    "IPv4: the address, no port");
	is_int(dns_server_parse("127.0.0.1:5353", &one), 0, "IPv4 with a port");
	is_int(one.port, 5353, "its port");
	is_int(dns_server_parse("::1", &one), 0, "IPv6");
	ok(one.family == AF_INET6 && one.addr[15] == 1 && one.port == 0, "IPv6: the address, no port");
	is_int(dns_server_parse("[::1]:53", &one), 0, "IPv6 in brackets with a port");
	ok(one.family == AF_INET6 && one.port == 53, "its port");
	is_int(dns_server_parse("[::1]", &one), 0, "IPv6 in brackets alone");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(dns_server_parse(bad[i], &one), -1, "'%s' refused", bad[i]);

	is_int(dns_servers_parse("", &list, why, sizeof(why)), 0, "an empty list: none");
	ok(list == NULL, "and nothing allocated");
	is_int(dns_servers_parse("127.0.0.1:5353, [::1]:53 ,::1,,127.0.0.1:53,", &list, why, sizeof(why)),
	    4, "four entries, spaces and empty splits between commas ignored");
	ok(list != NULL && list[0].port == 5353 && list[1].family == AF_INET6 && list[1].port == 53 &&
	    list[2].port == 0 && list[3].family == AF_INET && list[3].port == 53, "in their order");
	free(list);
	is_int(dns_servers_parse("127.0.0.1, ,::1", NULL, why, sizeof(why)), -1, "an entry of spaces");
	is_str(why, "empty entry in the list", "named");
	is_int(dns_servers_parse("127.0.0.1,1.2.3", NULL, why, sizeof(why)), -1, "a bad entry");
	snprintf(want, sizeof(want), "'1.2.3' is not an address (IPv4, IPv6, optional :port; "
	    "IPv6 with a port in [brackets])");
	is_str(why, want, "the entry named");
	is_int(dns_servers_parse("127.0.0.1,::1", NULL, why, sizeof(why)), 2, "judged only: counted");
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = sig;
}

static void test_signal_set(void)
{
	struct sigaction now;

	signal_set(SIGUSR1, on_usr1);
	sigaction(SIGUSR1, NULL, &now);
	ok(now.sa_handler == on_usr1, "the handler set");
	ok((now.sa_flags & SA_RESTART) == 0, "no SA_RESTART: an interrupted wait returns");
	raise(SIGUSR1);
	is_int(got_usr1, SIGUSR1, "the handler ran");
	signal_set(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	ok(1, "ignored: still here");
	signal_set(SIGUSR1, SIG_DFL);
	sigaction(SIGUSR1, NULL, &now);
	ok(now.sa_handler == SIG_DFL, "back to the default");
}

/* A background thread that counts its rounds: kicked ones and timed ones. */
struct counter {
	struct bg_thread bg;
	int64_t wait_ms;
	int rounds;          /* under bg.mu */
	bool ended;
};

static void *count_rounds(void *arg)
{
	struct counter *c = arg;

	pthread_mutex_lock(&c->bg.mu);
	while (!bg_wait(&c->bg, c->wait_ms))
		c->rounds++;
	c->ended = true;
	pthread_mutex_unlock(&c->bg.mu);
	return NULL;
}

static int rounds_of(struct counter *c)
{
	pthread_mutex_lock(&c->bg.mu);
	int n = c->rounds;
	pthread_mutex_unlock(&c->bg.mu);
	return n;
}

/* Waits up to 5 s for at least want rounds; the rounds seen. */
static int wait_rounds(struct counter *c, int want)
{
	int n = 0;
	for (int i = 0; i < 500 && (n = rounds_of(c)) < want; i++)
		clock_sleep_ms(10);
	return n;
}

static void test_bg_thread(void)
{
	struct counter c = { .wait_ms = 60000 };

	ok(bg_start(&c.bg, count_rounds, &c, true) == 0, "started, kicked");
	is_int(wait_rounds(&c, 1), 1, "a first round at once when started kicked");
	clock_sleep_ms(50);
	is_int(rounds_of(&c), 1, "then it sleeps (a minute)");
	bg_kick(&c.bg);
	is_int(wait_rounds(&c, 2), 2, "a kick: one more round");
	int64_t t0 = clock_mono_ms();
	bg_stop(&c.bg);
	ok(c.ended && clock_mono_ms() - t0 < 2000, "stop ends the thread at once, not after its wait");
	is_int(c.rounds, 2, "no round on the way out");

	struct counter timed = { .wait_ms = 20 };
	ok(bg_start(&timed.bg, count_rounds, &timed, false) == 0, "started, not kicked");
	ok(wait_rounds(&timed, 3) >= 3, "rounds come every 20 ms unkicked");
	bg_stop(&timed.bg);
	ok(timed.ended, "stopped");
}

static void test_ascii_line(void)
{
	char out[16];

	ascii_line(out, sizeof(out), "  250 2.0.0\r\n Ok:\tqueued");
	is_str(out, "250 2.0.0 Ok: q", "spaces and breaks folded, none leading, cut to fit");
	ascii_line(out, sizeof(out), "caf\xc3\xa9\x1b[2J");
	is_str(out, "caf??\?[2J", "bytes outside printable ASCII become '?'");
	ascii_line(out, sizeof(out), NULL);
	is_str(out, "", "NULL: empty");
}

/* base64 of n bytes, as a string (malloc'd). */
static char *b64(const char *p, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		return NULL;
	base64_write(f, (const unsigned char *)p, n);
	fclose(f);
	return out;
}

/* The logo's reader: the type by the first bytes, the size bounds, base64 (RFC 4648's vectors). */
static void test_image(void)
{
	static const struct {
		const char *in, *out;
	} v[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	char dir[] = "/tmp/sq-test-image-XXXXXX", path[256], why[512];
	struct image img;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *got = b64(v[i].in, strlen(v[i].in));
		is_str(got, v[i].out, "base64 of an RFC 4648 vector");
		free(got);
	}
	char *got = b64("\xff\xfe\x00", 3);
	is_str(got, "//4A", "base64: the last two letters of the alphabet, a zero byte");
	free(got);

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	static const struct {
		const char *name, *data;
		size_t len;
		const char *mime;
	} f[] = {
		{ "a.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "image/png" },
		{ "a.jpg", "\xff\xd8\xff\xe0\0\x10JFIF", 10, "image/jpeg" },
		{ "a.gif", "GIF89a\x01\0\x01\0", 10, "image/gif" },
		{ "a.webp", "RIFF\x10\0\0\0WEBPVP8 ", 16, "image/webp" },
		{ "a.svg", "<?xml version=\"1.0\"?>\n<!-- a logo -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
		  79, "image/svg+xml" },
		{ "bom.svg", "\xef\xbb\xbf  <svg/>", 9, "image/svg+xml" },
		{ "page.png", "<html><script>alert(1)</script>", 31, NULL },
		{ "empty.png", "", 0, NULL },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, f[i].name);
		FILE *o = fopen(path, "wb");
		if (o != NULL) {
			fwrite(f[i].data, 1, f[i].len, o);
			fclose(o);
		}
		int rc = image_load(path, &img, why, sizeof(why));
		if (f[i].mime != NULL) {
			ok(rc == 0 && img.mime != NULL && strcmp(img.mime, f[i].mime) == 0 && img.len == f[i].len,
			    "a picture told by its first bytes");
			image_free(&img);
		} else {
			ok(rc == -1 && img.data == NULL, "not a picture: refused");
			ok(strstr(why, f[i].name) != NULL && (strstr(why, "not a PNG, JPEG, GIF, WebP or SVG") != NULL ||
			    strstr(why, "0 bytes; a picture to inline is 1 to 262144 bytes") != NULL),
			    "with what is wrong");
		}
		unlink(path);
	}
	/* one byte too big */
	snprintf(path, sizeof(path), "%s/big.png", dir);
	FILE *o = fopen(path, "wb");
	if (o != NULL) {
		fwrite("\x89PNG\r\n\x1a\n", 1, 8, o);
		for (int i = 8; i < IMAGE_MAX + 1; i++)
			fputc(0, o);
		fclose(o);
	}
	ok(image_load(path, &img, why, sizeof(why)) == -1 &&
	    strstr(why, "262145 bytes; a picture to inline is 1 to 262144 bytes") != NULL,
	    "a picture past IMAGE_MAX refused");
	ok(image_check(dir, why, sizeof(why)) == -1 && strstr(why, "not a regular file") != NULL,
	    "a directory refused");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_image();
	test_clock();
	test_location();
	test_secret();
	test_dns_servers();
	test_signal_set();
	test_bg_thread();
	test_ascii_line();
	return tap_done();
}

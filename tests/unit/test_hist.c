/*
 * test_hist.c - the response-time histogram of the history tiers: every
 * value in the bucket it names, percentiles within 5 % (3.2 % by
 * construction) of the exact nearest rank, the blob round trip, and
 * malformed blobs refused without a change.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/core/hist.h"
#include "tap.h"

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t exact(int64_t *v, size_t n, int pct)
{
	size_t rank = (n * (size_t)pct + 99) / 100;
	qsort(v, n, sizeof(*v), cmp64);
	return v[rank > 0 ? rank - 1 : 0];
}

/* a deterministic generator: no libc rand, the same numbers everywhere */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void buckets(void)
{
	int bad = 0, prev = -1;
	for (int64_t v = 0; v < (1 << 19); v++) {
		int b = sq_hist_bucket(v);
		if (b < prev || b > prev + 1 || sq_hist_low(b) > v || sq_hist_high(b) < v)
			bad++;
		int64_t mid = sq_hist_value(b);
		if (v > 0 && (double)llabs(mid - v) / (double)v > 1.0 / 32 + 1e-9)
			bad++;
		prev = b;
	}
	is_int(bad, 0, "every value 0..2^19-1 in its bucket, buckets in order, the middle within 1/32");
	is_int(prev, SQ_HIST_BUCKETS - 1, "2^19-1 is in the last bucket");
	is_int(sq_hist_bucket(1 << 25), SQ_HIST_BUCKETS - 1, "larger values: the last bucket");
	is_int(sq_hist_bucket(-5), 0, "a negative value counts as 0");
	is_int(sq_hist_value(17), 17, "below 32 a bucket is its value");
}

static void percentiles(void)
{
	enum { N = 20000 };
	int64_t *v = malloc(N * sizeof(*v));
	struct sq_hist h;
	double worst = 0;
	int shapes = 0;

	/* four shapes: uniform, a long tail, two modes, a narrow band */
	for (int shape = 0; shape < 4; shape++) {
		memset(&h, 0, sizeof(h));
		for (int i = 0; i < N; i++) {
			uint64_t r = next();
			int64_t ms = shape == 0 ? (int64_t)(r % 3000) :
			    shape == 1 ? (int64_t)(20 + (r % 100) * (r % 100) * (r % 7)) :
			    shape == 2 ? (r % 2 ? 40 + (int64_t)(r % 13) : 900 + (int64_t)(r % 300)) :
			    200 + (int64_t)(r % 5);
			v[i] = ms;
			sq_hist_add(&h, ms, 1);
		}
		for (int p = 50; p <= 99; p += (p == 50 ? 45 : 4)) {
			int64_t want = exact(v, N, p), got = sq_hist_percentile(&h, p);
			double err = want > 0 ? (double)llabs(got - want) / (double)want : (double)got;
			if (err > worst)
				worst = err;
		}
		shapes++;
	}
	ok(worst <= 0.05, "p50/p95/p99 of %d shapes within 5 %% of the exact value (worst %.4f)",
	    shapes, worst);
	ok(worst <= 1.0 / 32 + 1e-9, "and within 1/32 by construction (worst %.4f)", worst);
	memset(&h, 0, sizeof(h));
	is_int(sq_hist_percentile(&h, 50), -1, "an empty histogram has no percentile");
	sq_hist_add(&h, 7, 1);
	is_int(sq_hist_percentile(&h, 95), 7, "one sample is every percentile");
	free(v);
}

static void blobs(void)
{
	struct sq_hist h, back;
	uint8_t blob[SQ_HIST_BLOB_MAX];
	size_t len;

	memset(&h, 0, sizeof(h));
	memset(&back, 0, sizeof(back));
	is_int((int)sq_hist_encode(&h, blob), 0, "an empty histogram is an empty blob");
	sq_hist_add(&h, 3, 1);
	sq_hist_add(&h, 250, 300);
	sq_hist_add(&h, 100000, UINT64_C(1) << 40);
	len = sq_hist_encode(&h, blob);
	is_int((int)len, 2 + 3 + 7, "three buckets: 1, 2 and 6 bytes of count");
	is_int(sq_hist_merge_blob(&back, blob, len), 0, "its blob reads back");
	ok(memcmp(&h, &back, sizeof(h)) == 0, "to the same counts");
	is_int(sq_hist_merge_blob(&back, blob, len), 0, "a second merge adds");
	ok(back.total == 2 * h.total && back.n[3] == 2, "the counts doubled");
	for (int b = 0; b < SQ_HIST_BUCKETS; b++)
		h.n[b] = UINT64_MAX / 512;
	h.total = 0;
	ok(sq_hist_encode(&h, blob) <= SQ_HIST_BLOB_MAX, "the fullest blob fits SQ_HIST_BLOB_MAX");

	static const struct { const char *why; uint8_t b[6]; size_t n; } bad[] = {
		{ "buckets out of order", { 5, 1, 4, 1 }, 4 },
		{ "a bucket twice", { 5, 1, 5, 1 }, 4 },
		{ "a count cut short", { 5, 0x81 }, 2 },
		{ "no count", { 5 }, 1 },
		{ "a zero count", { 5, 0 }, 2 },
	};
	memset(&back, 0, sizeof(back));
	sq_hist_add(&back, 10, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(sq_hist_merge_blob(&back, bad[i].b, bad[i].n), -1, "refused: %s", bad[i].why);
	}
	ok(back.total == 1 && back.n[10] == 1, "and the histogram left as it was");
	uint8_t longc[13] = { 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	is_int(sq_hist_merge_blob(&back, longc, 12), -1, "refused: a count longer than 64 bits");
}

int main(void)
{
	buckets();
	percentiles();
	blobs();
	return tap_done();
}

/*
 * hist.c - the response-time histogram of the history tiers (hist.h).
 *
 * Log-spaced buckets, as an HDR histogram with four significant bits:
 * values below 32 exact, then for each power of two 2^e (e >= 5) sixteen
 * buckets of width 2^(e-4). Fixed, so that hours of different sites and
 * days merge by adding counts, and stable: they are stored.
 */
#include <string.h>

#include "squirrel/core/hist.h"

#define EXACT 32            /* values 0..31 have a bucket each */
#define SUB 16              /* buckets per power of two above */
#define SUB_BITS 4

/* floor(log2(v)) for v > 0 */
static int ilog2(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

int sq_hist_bucket(int64_t ms)
{
	if (ms < EXACT)
		return ms < 0 ? 0 : (int)ms;
	int e = ilog2((uint64_t)ms);
	/* 2^5..2^6-1 -> 32..47, each power of two sixteen buckets more */
	int b = EXACT + (e - 5) * SUB + (int)((ms >> (e - SUB_BITS)) & (SUB - 1));
	return b < SQ_HIST_BUCKETS ? b : SQ_HIST_BUCKETS - 1;
}

int64_t sq_hist_low(int bucket)
{
	if (bucket < EXACT)
		return bucket < 0 ? 0 : bucket;
	int e = (bucket - EXACT) / SUB + 5, m = (bucket - EXACT) % SUB;
	return (int64_t)(SUB + m) << (e - SUB_BITS);
}

int64_t sq_hist_high(int bucket)
{
	if (bucket < EXACT)
		return bucket < 0 ? 0 : bucket;
	int e = (bucket - EXACT) / SUB + 5;
	return sq_hist_low(bucket) + ((int64_t)1 << (e - SUB_BITS)) - 1;
}

int64_t sq_hist_value(int bucket)
{
	int64_t lo = sq_hist_low(bucket), hi = sq_hist_high(bucket);
	return lo + (hi - lo) / 2;
}

void sq_hist_add(struct sq_hist *h, int64_t ms, uint64_t count)
{
	h->n[sq_hist_bucket(ms)] += count;
	h->total += count;
}

size_t sq_hist_encode(const struct sq_hist *h, uint8_t *out)
{
	size_t len = 0;

	for (int b = 0; b < SQ_HIST_BUCKETS; b++) {
		uint64_t c = h->n[b];
		if (c == 0)
			continue;
		out[len++] = (uint8_t)b;
		while (c >= 0x80) {
			out[len++] = (uint8_t)(c | 0x80);
			c >>= 7;
		}
		out[len++] = (uint8_t)c;
	}
	return len;
}

int sq_hist_merge_blob(struct sq_hist *h, const uint8_t *blob, size_t len)
{
	uint64_t add[SQ_HIST_BUCKETS];
	uint64_t total = 0;
	size_t i = 0;
	int last = -1;

	if (blob == NULL || len == 0)
		return 0;
	memset(add, 0, sizeof(add));
	while (i < len) {
		int b = blob[i++];
		uint64_t c = 0;
		int shift = 0;
		bool done = false;
		if (b <= last)
			return -1;
		while (i < len && shift < 64) {
			uint8_t byte = blob[i++];
			c |= (uint64_t)(byte & 0x7f) << shift;
			shift += 7;
			if (!(byte & 0x80)) {
				done = true;
				break;
			}
		}
		if (!done || c == 0 || total + c < total)
			return -1;
		add[b] = c;
		total += c;
		last = b;
	}
	for (int b = 0; b < SQ_HIST_BUCKETS; b++)
		h->n[b] += add[b];
	h->total += total;
	return 0;
}

int64_t sq_hist_percentile(const struct sq_hist *h, int pct)
{
	uint64_t rank, seen = 0;

	if (h->total == 0)
		return -1;
	if (pct < 1)
		pct = 1;
	if (pct > 100)
		pct = 100;
	/* nearest rank, as the exact percentile of the raw checks counts it */
	rank = (h->total * (uint64_t)pct + 99) / 100;
	if (rank == 0)
		rank = 1;
	for (int b = 0; b < SQ_HIST_BUCKETS; b++) {
		seen += h->n[b];
		if (seen >= rank)
			return sq_hist_value(b);
	}
	return sq_hist_value(SQ_HIST_BUCKETS - 1);
}

/*
 * hist.h - a response-time histogram with fixed log-spaced buckets, the
 * shape the hourly and daily history keep (uptime_hours.ms_hist,
 * uptime_days.ms_hist).
 *
 * Bucket b holds the milliseconds v with sq_hist_bucket(v) == b: 0..31 one
 * value each, then sixteen buckets per power of two, so a bucket is never
 * wider than a sixteenth of its smallest value and its middle is within
 * 1/32 (3.2 %) of every value in it. Percentiles read from it are that
 * close to the exact ones. Above 2^19 ms everything is the last bucket.
 *
 * Stored as a BLOB of (bucket, count) pairs in increasing bucket order,
 * the bucket one byte, the count a LEB128 varint: an hour of one site with
 * a steady server is a few pairs. Pure: no I/O.
 */
#ifndef SQUIRREL_CORE_HIST_H
#define SQUIRREL_CORE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQ_HIST_BUCKETS 256
/* the longest blob: every bucket, each count a full 64-bit varint */
#define SQ_HIST_BLOB_MAX (SQ_HIST_BUCKETS * 11)

struct sq_hist {
	uint64_t n[SQ_HIST_BUCKETS];
	uint64_t total;
};

/* The bucket of a response time in ms (negative counts as 0). */
int sq_hist_bucket(int64_t ms);
/* The value a bucket stands for: its middle, the value itself below 32. */
int64_t sq_hist_value(int bucket);
/* The smallest and the largest value of a bucket. */
int64_t sq_hist_low(int bucket);
int64_t sq_hist_high(int bucket);

void sq_hist_add(struct sq_hist *h, int64_t ms, uint64_t count);
/*
 * Writes h as a blob into out (at least SQ_HIST_BLOB_MAX bytes); returns
 * its length, 0 for an empty histogram.
 */
size_t sq_hist_encode(const struct sq_hist *h, uint8_t *out);
/*
 * Adds the blob's counts to h. -1 for a blob that is not one (buckets out
 * of order, a count cut short or too long, a zero count), with h as it
 * was; 0 otherwise. An empty blob (or NULL, 0) adds nothing.
 */
int sq_hist_merge_blob(struct sq_hist *h, const uint8_t *blob, size_t len);
/*
 * The nearest-rank percentile pct (1..100): the value of the bucket that
 * holds the smallest sample with at least pct % of them at or below it.
 * -1 when empty.
 */
int64_t sq_hist_percentile(const struct sq_hist *h, int pct);

#endif

/*-------------------------------------------------------------------------
 *
 * histogram.h
 *	  Lock-free latency histograms in shared memory: one since the last
 *	  reset, and a ring of one-minute slots for the recent window.
 *
 * Values are durations in whole microseconds (uint64); a duration that
 * came out negative (the clock went back) is recorded as 0.  Buckets are
 * log-spaced with a constant factor g = 10^(1/24) = 1.1007 (24 buckets a
 * decade, so 10 µs, 100 µs, 1 ms, ... are bucket bounds):
 *
 *	 bucket 0			[0, 10) µs
 *	 bucket i			[HistBucketLower(i), HistBucketUpper(i)), i = 1..216,
 *						lower bound ~ 10 µs * g^(i-1)
 *	 bucket 217			[10^10 µs, infinity): overflow, above 2.78 hours
 *
 * Bounds are whole microseconds: the real bound rounded up, and from 10 ms
 * on rounded up to four significant digits, so that the bounds print
 * exactly (21.55 ms, not 21.544347 ms).  Every bucket's highest value is
 * then less than 1.102 times its lowest, so the bucket's representative
 * value (their harmonic mean) is within 4.9 % of anything in the bucket:
 * a reported percentile is within 5 % of the exact one from 10 µs to
 * 2.78 h, and within 5 µs below 10 µs.  test/unit/test_histogram.c checks
 * it.  In the overflow bucket the reported value is the exact maximum.
 * The sum, hence the mean, and the maximum are exact.
 *
 * Recording one latency into both windows is HistRecord(&total, &recent,
 * HistMinuteOf(now), us, locked): lock-free (atomics) about 30 to 100 ns
 * on one core, locked (plain loads and stores, see Locking) about 10 ns,
 * values spread over every bucket (the unit test's micro-benchmark).  HistogramRecord and
 * HistRingRecord do one window each.  Call HistBoundsInit from _PG_init,
 * so that no recorder computes the bounds.
 *
 * Memory (x86_64, asserted in histogram.c): a Histogram is 1,760 bytes (218 bucket counters, the
 * sum and the maximum), a HistRing 10,616 bytes (6 slots of a tag and a
 * Histogram, and a dropped counter).  One kind of latency with both
 * windows is 12,376 bytes; the three kinds (wait, hold, query) of one
 * partition take 37,128 bytes (36.3 kB), so the default partition table
 * of 80 entries needs 2.97 MB (and each further entry 36.3 kB).  Pool
 * figures are the sum of its partitions, read at view time, and need no
 * memory of their own.
 *
 * Reading: copy a Histogram or a HistRing into a HistSnapshot (plain
 * numbers, in local memory), merge snapshots, then ask the snapshot for
 * count, mean, percentiles, maximum, non-empty buckets and Prometheus
 * cumulative counts.
 *
 * Locking: none.  Every counter is a pg_atomic_uint64: recording is two
 * atomic adds and, when the value is a new maximum, a compare-and-swap
 * loop; it takes no lock, allocates nothing and never reports an error,
 * so it may be called while holding a spinlock.  A histogram and ring
 * whose every recorder holds one same lock exclusively, and every reader
 * at least shared, may instead be recorded with HistRecord(..., locked):
 * plain loads and stores, no locked instruction (about 10 ns instead of
 * 30 to 100); such a ring must not be passed to HistRingRotate.  A histogram is
 * recorded one way only.  Readers copy the counters
 * one by one; a snapshot taken while others record is not instantaneous,
 * but every value it counts in a bucket is also in its sum and under its
 * maximum (recorders write the maximum, then the sum, then the bucket;
 * readers read the buckets, then the sum and the maximum).  The ring's
 * rules are in histogram.c above HistRingRecord.
 *
 * src/shm/histogram.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_HISTOGRAM_H
#define PGPOOL_HISTOGRAM_H

#include "datatype/timestamp.h"
#include "port/atomics.h"

/* The bucket scheme (see above). */
#define HIST_FIRST_BOUND		10	/* µs: upper bound of bucket 0 */
#define HIST_PER_DECADE			24	/* buckets per factor of 10 */
#define HIST_DECADES			9	/* 10 µs .. 10^10 µs */
#define HIST_NBUCKETS			(HIST_PER_DECADE * HIST_DECADES + 2)

/*
 * The recent window: one-minute slots, slot = minute % HIST_RING_SLOTS.
 * Readers merge the current minute and the HIST_RING_MINUTES - 1 before
 * it; the one slot left over is the next minute's, made ready ahead of
 * time by HistRingRotate.
 */
#define HIST_RING_MINUTES		5
#define HIST_RING_SLOTS			(HIST_RING_MINUTES + 1)

/*
 * Prometheus buckets: every HIST_PROM_STEP-th internal bound from 10 µs to
 * 1000 s, i.e. 10, 22, 47, 100, 216, 465 µs, 1, 2.155, 4.642, 10 ms, ...
 * 1000 s (three a decade), then +Inf.  Each is a bucket bound, so the
 * cumulative counts are exact: no interpolation.  As for every bucket, a
 * bound belongs to the bucket above it: le="0.0001" counts the values
 * below 100 µs, i.e. up to 99 µs, the difference being within the 1 µs
 * resolution of the clock the durations are measured with.
 */
#define HIST_PROM_STEP			8
#define HIST_PROM_DECADES		8	/* 10 µs .. 1000 s */
#define HIST_PROM_NBOUNDS \
	(HIST_PER_DECADE * HIST_PROM_DECADES / HIST_PROM_STEP + 1)
#define HIST_PROM_LABEL_LEN		32	/* enough for any bound in seconds */

/* Upper bound of the overflow bucket: no bound. */
#define HIST_NO_BOUND			PG_UINT64_MAX

/* A histogram in shared memory.  Every field: atomic, written by anyone. */
typedef struct Histogram
{
	pg_atomic_uint64 buckets[HIST_NBUCKETS];	/* values in each bucket */
	pg_atomic_uint64 sum;		/* sum of the values, µs */
	pg_atomic_uint64 max;		/* largest value, µs */
} Histogram;

/* One minute of the recent window. */
typedef struct HistRingSlot
{
	pg_atomic_uint64 minute;	/* which minute this slot counts; see
								 * histogram.c for the special values */
	Histogram	hist;
} HistRingSlot;

/* The recent window: the last HIST_RING_MINUTES minutes. */
typedef struct HistRing
{
	HistRingSlot slots[HIST_RING_SLOTS];
	pg_atomic_uint64 dropped;	/* values left out of the ring (the slot of
								 * their minute was not ready); they are
								 * still in the since-reset histogram */
} HistRing;

/* A copy of a histogram or of a merged ring, in local memory. */
typedef struct HistSnapshot
{
	uint64		count;			/* sum of buckets[] */
	uint64		sum;			/* µs */
	uint64		max;			/* µs; 0 when count is 0 */
	uint64		buckets[HIST_NBUCKETS];
} HistSnapshot;

/* Walks the non-empty buckets of a snapshot; start from all zeroes. */
typedef struct HistBucketIter
{
	int			next;			/* private: next bucket to look at */
	int			index;			/* the bucket found */
	uint64		lower;			/* its bounds, µs: lower <= v < upper */
	uint64		upper;			/* HIST_NO_BOUND for the overflow bucket */
	uint64		count;			/* values in it */
	uint64		cumulative;		/* values in it and in every bucket below */
} HistBucketIter;

/*
 * The minute a timestamp falls in, the unit of the ring.  Minute 0 (the
 * first minute of 2000) is never passed: the ring uses 0 for "empty".
 */
static inline uint64
HistMinuteOf(TimestampTz ts)
{
	return (uint64) (ts / USECS_PER_MINUTE);
}

/* Bucket scheme */
extern void HistBoundsInit(void);
extern int	HistBucketIndex(uint64 us);
extern uint64 HistBucketLower(int bucket);
extern uint64 HistBucketUpper(int bucket);
extern double HistBucketValue(int bucket);

/* The since-reset histogram */
extern void HistogramInit(Histogram *h);
extern void HistogramRecord(Histogram *h, uint64 us);
extern void HistogramReset(Histogram *h);
extern void HistogramCopy(const Histogram *h, HistSnapshot *snap);

/* The recent window */
extern void HistRingInit(HistRing *ring);
extern bool HistRingRecord(HistRing *ring, uint64 minute, uint64 us);
extern void HistRingRotate(HistRing *ring, uint64 minute);
extern void HistRingReset(HistRing *ring);
extern bool HistRecordShared(Histogram *h, HistRing *ring, uint64 minute,
							 uint64 us);
extern bool HistRecordLocked(Histogram *h, HistRing *ring, uint64 minute,
							 uint64 us);

/*
 * Count one value, µs, measured in minute, in both windows (histogram.c,
 * hist_record); locked: see Locking above.  Returns false if the value was
 * left out of the ring.
 */
static inline bool
HistRecord(Histogram *h, HistRing *ring, uint64 minute, uint64 us,
		   bool locked)
{
	return locked ? HistRecordLocked(h, ring, minute, us) :
		HistRecordShared(h, ring, minute, us);
}
extern void HistRingRead(const HistRing *ring, uint64 minute,
						 HistSnapshot *snap);

/* Snapshots */
extern void HistSnapInit(HistSnapshot *snap);
extern void HistSnapMerge(HistSnapshot *dst, const HistSnapshot *src);
extern double HistSnapMean(const HistSnapshot *snap);
extern uint64 HistSnapRank(uint64 count, double q);
extern double HistSnapPercentile(const HistSnapshot *snap, double q);
extern bool HistSnapNextBucket(const HistSnapshot *snap, HistBucketIter *it);

/* Prometheus */
extern uint64 HistPromBound(int k);
extern void HistPromLabel(int k, char *buf);
extern void HistSnapPromCounts(const HistSnapshot *snap,
							   uint64 counts[HIST_PROM_NBOUNDS]);

#endif							/* PGPOOL_HISTOGRAM_H */

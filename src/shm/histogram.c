/*-------------------------------------------------------------------------
 *
 * histogram.c
 *	  Recording latencies into log-spaced buckets, and reading them back as
 *	  counts, means, percentiles and Prometheus buckets.
 *
 * The bucket scheme is in histogram.h.  The bounds are computed once per
 * process into hist_lower[] (HistBoundsInit, called from _PG_init and, as
 * a safety net, at first use).  Finding a value's bucket costs no loop:
 * the position of the value's highest bit and the four bits below it pick
 * one of 976 sub-ranges, each narrower than a bucket (a ratio of at most
 * 17/16 against the buckets' 1.1), so a precomputed table gives the bucket
 * of the sub-range's first value and one compare with the next bound
 * finishes the job.
 *
 * Percentiles use the nearest-rank rule: the q-th percentile of n values
 * is the smallest value v such that at least ceil(q * n) values are <= v
 * (q taken to six decimals; at least rank 1).  The histogram reports the
 * representative value of the bucket holding that rank, capped at the
 * exact maximum.
 *
 * This file calls nothing in the server (no palloc, elog or locks), so
 * test/unit/test_histogram.c links it into a standalone program.
 *
 * Locking: none; see histogram.h.  The ring's protocol is described above
 * HistRingRecord.  All of it assumes native 64-bit atomics (every platform
 * PostgreSQL 15 supports in practice); with emulated ones each atomic
 * operation takes a spinlock of its own, which is still safe.
 *
 * src/shm/histogram.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "port/pg_bitutils.h"

#include "shm/histogram.h"

/* Sub-ranges of the bucket lookup: values 0..31, then 16 per power of 2. */
#define HIST_NKEYS			(32 + (64 - 5) * 16)

/* Tags of a ring slot other than a minute. */
#define HIST_TAG_EMPTY		UINT64CONST(0)	/* counts nothing */
#define HIST_TAG_BUSY		PG_UINT64_MAX	/* being zeroed */

StaticAssertDecl(HIST_NBUCKETS <= 256, "hist_start[] holds uint8");
StaticAssertDecl(HIST_PROM_STEP * (HIST_PROM_NBOUNDS - 1) <
				 HIST_NBUCKETS - 1, "Prometheus bounds are bucket bounds");
#ifndef PG_HAVE_ATOMIC_U64_SIMULATION
StaticAssertDecl(sizeof(Histogram) == 1760 && sizeof(HistRing) == 10616,
				 "the sizes stated in histogram.h");
#endif

/* Lower bound of each bucket, µs; hist_lower[0] = 0. */
static uint64 hist_lower[HIST_NBUCKETS];

/* The bucket of the first value of each sub-range (see hist_key). */
static uint8 hist_start[HIST_NKEYS];

static bool hist_ready = false;

static int	hist_key(uint64 us);
static uint64 hist_key_first(int key);
static int	hist_search(uint64 us);
static int	hist_bucket(uint64 us);
static void hist_add(Histogram *h, int bucket, uint64 us);
static void hist_add_locked(Histogram *h, int bucket, uint64 us);
static void hist_clear(Histogram *h);
static bool hist_ring_claimable(uint64 tag, uint64 minute);
static bool hist_ring_prepare(HistRingSlot *slot, uint64 minute);

/*
 * HistBoundsInit
 *		Compute the bucket bounds and the lookup table.  Idempotent; call
 *		it from _PG_init so no recorder ever pays for it.
 *
 * Bound j (j = 0 .. HIST_PER_DECADE * HIST_DECADES) is 10 µs * 10^(j/24)
 * rounded up to a whole microsecond, or to four significant digits when
 * it is 10 ms or more.  Each decade's first bound is an exact power of 10.
 */
void
HistBoundsInit(void)
{
	uint64		decade = HIST_FIRST_BOUND;	/* 10^(d+1) */
	int			j;
	int			key;

	if (hist_ready)
		return;

	hist_lower[0] = 0;
	for (j = 0; j <= HIST_PER_DECADE * HIST_DECADES; j++)
	{
		int			r = j % HIST_PER_DECADE;
		uint64		quantum = 1;
		double		scaled;

		if (j > 0 && r == 0)
			decade *= 10;
		/* four significant digits: a quantum of decade / 1000 */
		while (decade / quantum > 1000)
			quantum *= 10;
		scaled = (double) (decade / quantum) *
			pow(10.0, (double) r / HIST_PER_DECADE);
		hist_lower[j + 1] = quantum * (uint64) ceil(scaled);
	}

	for (key = 0; key < HIST_NKEYS; key++)
		hist_start[key] = (uint8) hist_search(hist_key_first(key));

	hist_ready = true;
}

/*
 * hist_key
 *		The sub-range of a value: the value itself below 32, else its
 *		highest bit and the four bits below it.
 */
static inline int
hist_key(uint64 us)
{
	int			e;

	if (us < 32)
		return (int) us;
	e = pg_leftmost_one_pos64(us);
	return 32 + (e - 5) * 16 + (int) ((us >> (e - 4)) & 15);
}

/*
 * hist_key_first
 *		The smallest value whose sub-range is key (the inverse of hist_key).
 */
static uint64
hist_key_first(int key)
{
	int			e;
	uint64		m;

	if (key < 32)
		return (uint64) key;
	e = 5 + (key - 32) / 16;
	m = (uint64) ((key - 32) % 16);
	return (UINT64CONST(1) << e) | (m << (e - 4));
}

/*
 * hist_search
 *		The bucket of a value by binary search over the bounds; used to
 *		build the lookup table.
 */
static int
hist_search(uint64 us)
{
	int			lo = 0;
	int			hi = HIST_NBUCKETS - 1;

	/* invariant: hist_lower[lo] <= us, and us < hist_lower[hi + 1] */
	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (hist_lower[mid] <= us)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * hist_bucket
 *		HistBucketIndex, inlined where this file records.
 */
static inline int
hist_bucket(uint64 us)
{
	int			bucket;

	if (unlikely(!hist_ready))
		HistBoundsInit();
	bucket = hist_start[hist_key(us)];
	/* a sub-range spans at most one bound */
	if (bucket < HIST_NBUCKETS - 1 && us >= hist_lower[bucket + 1])
		bucket++;
	return bucket;
}

/*
 * HistBucketIndex
 *		The bucket a value in µs falls in: 0 .. HIST_NBUCKETS - 1.
 */
int
HistBucketIndex(uint64 us)
{
	return hist_bucket(us);
}

/*
 * HistBucketLower
 *		The smallest value of a bucket, µs.
 */
uint64
HistBucketLower(int bucket)
{
	Assert(bucket >= 0 && bucket < HIST_NBUCKETS);
	if (unlikely(!hist_ready))
		HistBoundsInit();
	return hist_lower[bucket];
}

/*
 * HistBucketUpper
 *		The exclusive upper bound of a bucket, µs; HIST_NO_BOUND for the
 *		overflow bucket.
 */
uint64
HistBucketUpper(int bucket)
{
	Assert(bucket >= 0 && bucket < HIST_NBUCKETS);
	if (bucket == HIST_NBUCKETS - 1)
		return HIST_NO_BOUND;
	return HistBucketLower(bucket + 1);
}

/*
 * HistBucketValue
 *		The value reported for anything in a bucket, µs.
 *
 * For a bucket holding the whole numbers lo..hi this is their harmonic
 * mean 2*lo*hi / (lo + hi), whose relative error against any value of the
 * bucket is at most (hi - lo) / (hi + lo).  Bucket 0 reports 5 µs (at
 * most 5 µs off); the overflow bucket its lower bound (percentiles report
 * the maximum instead).
 */
double
HistBucketValue(int bucket)
{
	double		lo;
	double		hi;

	if (bucket == 0)
		return HIST_FIRST_BOUND / 2.0;
	lo = (double) HistBucketLower(bucket);
	if (bucket == HIST_NBUCKETS - 1)
		return lo;
	hi = (double) (HistBucketUpper(bucket) - 1);
	return 2.0 * lo * hi / (lo + hi);
}

/*
 * hist_add
 *		Count one value in a known bucket: the maximum first, then the sum,
 *		then the bucket, so that a reader that sees the bucket's count also
 *		sees the rest (histogram.h).
 */
static inline void
hist_add(Histogram *h, int bucket, uint64 us)
{
	uint64		max = pg_atomic_read_u64(&h->max);

	/* on failure the exchange loads the current maximum into max */
	while (us > max && !pg_atomic_compare_exchange_u64(&h->max, &max, us))
		;
	pg_atomic_fetch_add_u64(&h->sum, (int64) us);
	pg_atomic_fetch_add_u64(&h->buckets[bucket], 1);
}

/*
 * hist_add_locked
 *		hist_add for a histogram whose writers all hold one lock
 *		exclusively (histogram.h): plain loads and stores, no locked
 *		instruction.
 */
static inline void
hist_add_locked(Histogram *h, int bucket, uint64 us)
{
	/* a 0 (a wait served at once) changes neither: their line is not read */
	if (us > 0)
	{
		if (us > pg_atomic_read_u64(&h->max))
			pg_atomic_write_u64(&h->max, us);
		pg_atomic_write_u64(&h->sum, pg_atomic_read_u64(&h->sum) + us);
	}
	pg_atomic_write_u64(&h->buckets[bucket],
						pg_atomic_read_u64(&h->buckets[bucket]) + 1);
}

/*
 * hist_clear
 *		Zero every counter of a histogram already initialized.
 */
static void
hist_clear(Histogram *h)
{
	int			i;

	for (i = 0; i < HIST_NBUCKETS; i++)
		pg_atomic_write_u64(&h->buckets[i], 0);
	pg_atomic_write_u64(&h->sum, 0);
	pg_atomic_write_u64(&h->max, 0);
}

/*
 * HistogramInit
 *		Initialize a histogram in shared memory (once, at shmem creation).
 */
void
HistogramInit(Histogram *h)
{
	int			i;

	for (i = 0; i < HIST_NBUCKETS; i++)
		pg_atomic_init_u64(&h->buckets[i], 0);
	pg_atomic_init_u64(&h->sum, 0);
	pg_atomic_init_u64(&h->max, 0);
}

/*
 * HistogramRecord
 *		Count one value, µs.  Lock-free; see histogram.h.
 */
void
HistogramRecord(Histogram *h, uint64 us)
{
	hist_add(h, hist_bucket(us), us);
}

/*
 * HistogramReset
 *		Zero a histogram.  Values recorded while the reset runs may be
 *		kept or dropped, each counter on its own: a few of them can be in
 *		a bucket but not in the sum, or the other way round, until the
 *		next reset.
 */
void
HistogramReset(Histogram *h)
{
	hist_clear(h);
}

/*
 * HistogramCopy
 *		Copy a histogram into a snapshot: the buckets first, then the sum
 *		and the maximum (histogram.h says why).
 */
void
HistogramCopy(const Histogram *h, HistSnapshot *snap)
{
	Histogram  *src = unconstify(Histogram *, h);
	int			i;

	snap->count = 0;
	for (i = 0; i < HIST_NBUCKETS; i++)
	{
		snap->buckets[i] = pg_atomic_read_u64(&src->buckets[i]);
		snap->count += snap->buckets[i];
	}
	pg_read_barrier();
	snap->sum = pg_atomic_read_u64(&src->sum);
	snap->max = pg_atomic_read_u64(&src->max);
}

/*
 * HistRingInit
 *		Initialize a ring in shared memory (once, at shmem creation): every
 *		slot empty.
 */
void
HistRingInit(HistRing *ring)
{
	int			i;

	for (i = 0; i < HIST_RING_SLOTS; i++)
	{
		pg_atomic_init_u64(&ring->slots[i].minute, HIST_TAG_EMPTY);
		HistogramInit(&ring->slots[i].hist);
	}
	pg_atomic_init_u64(&ring->dropped, 0);
}

/*
 * hist_ring_claimable
 *		May a slot tagged tag be zeroed and retagged for minute?  Yes if it
 *		is empty or counts an older minute (slot = minute % 6, so that is
 *		at least six minutes ago), or counts a minute more than the ring's
 *		span in the future (the clock went back).  A tag just ahead (minute
 *		+ 6, prepared by a rotate while this recorder was stalled) is left
 *		alone, and so is a slot being zeroed.
 */
static inline bool
hist_ring_claimable(uint64 tag, uint64 minute)
{
	if (tag == HIST_TAG_BUSY)
		return false;
	return tag < minute || tag > minute + HIST_RING_SLOTS;
}

/*
 * hist_ring_prepare
 *		Make a slot count minute, zeroing it if it counted another one.
 *		Returns false if the slot is not, and cannot be made, minute's.
 *
 * Whoever swaps the old tag for HIST_TAG_BUSY zeroes the slot, then
 * publishes the new tag behind a write barrier: a recorder that reads the
 * new tag adds to zeroed counters.  Anyone else who finds the slot busy
 * gives up rather than wait.
 */
static bool
hist_ring_prepare(HistRingSlot *slot, uint64 minute)
{
	uint64		tag = pg_atomic_read_u64(&slot->minute);

	if (likely(tag == minute))
		return true;
	if (!hist_ring_claimable(tag, minute))
		return false;
	/* on failure the exchange loads the current tag into tag */
	if (!pg_atomic_compare_exchange_u64(&slot->minute, &tag, HIST_TAG_BUSY))
		return tag == minute;
	hist_clear(&slot->hist);
	pg_write_barrier();
	pg_atomic_write_u64(&slot->minute, minute);
	return true;
}

/*
 * HistRingRecord
 *		Count one value, µs, in the slot of minute (HistMinuteOf of the
 *		time the value was measured).  Returns false if the value was left
 *		out of the ring (counted in ring->dropped).  Lock-free.
 *
 * The protocol.  Slot s counts minute m with s = m % 6, and its tag says
 * which m.  HistRingRotate, called by the janitor every few seconds, zeroes
 * the slot of the next minute and tags it ahead of time, so a recorder
 * normally finds its slot tagged with its minute and only adds.  Readers
 * merge the slots tagged with the current minute and the four before; the
 * sixth slot is the one being prepared for the next minute.
 *
 * If the rotate is late (the worker busy or down for more than a minute),
 * the first recorder of the new minute finds the slot still tagged six
 * minutes back, claims it, zeroes it and tags it itself (a few hundred
 * nanoseconds, once); recorders of the same minute that come while it is
 * zeroing drop their value from the ring.
 *
 * Nothing is ever counted under the wrong minute, except in these cases:
 * a recorder stalled for more than five minutes between checking the tag
 * and adding (its value lands in a later minute); the clock going back by
 * six minutes or less (the minutes seen again add to their old counts, or
 * are dropped where the slot was already prepared for a later minute).
 * A clock going back further makes recorders claim the slots tagged in the
 * future, as if they were old.  A recorder stalled between reading the
 * clock and recording still counts under its own minute while the slot is
 * that minute's, drops its value once the slot was prepared for a later
 * minute, and past eleven minutes cannot be told from a clock gone back:
 * it may take the slot back for its old minute, losing that slot's newer
 * minute from the window.  Values dropped here are still in the since-reset
 * histogram, which the caller records separately.
 */
bool
HistRingRecord(HistRing *ring, uint64 minute, uint64 us)
{
	HistRingSlot *slot = &ring->slots[minute % HIST_RING_SLOTS];

	Assert(minute != HIST_TAG_EMPTY && minute != HIST_TAG_BUSY);
	if (unlikely(!hist_ring_prepare(slot, minute)))
	{
		pg_atomic_fetch_add_u64(&ring->dropped, 1);
		return false;
	}
	hist_add(&slot->hist, hist_bucket(us), us);
	return true;
}

/*
 * hist_record
 *		HistRecord (histogram.h): count one value, µs, measured in minute,
 *		in both windows: the since-reset histogram h and the ring
 *		(HistogramRecord and HistRingRecord in one, finding the bucket
 *		once).  Returns false if the value was left out of the ring.
 *
 * locked: every writer of h and ring holds one same lock exclusively, as
 * the caller does, and every reader holds it at least shared: the counters
 * are then added to with plain loads and stores, and nobody rotates the
 * ring (its first value of a minute prepares that minute's slot; a value
 * whose slot already counts a later minute, the clock having gone back, is
 * dropped).  Not locked: lock-free, with atomic adds, as HistogramRecord.
 */
static pg_attribute_always_inline bool
hist_record(Histogram *h, HistRing *ring, uint64 minute, uint64 us,
			bool locked)
{
	HistRingSlot *slot = &ring->slots[minute % HIST_RING_SLOTS];
	int			bucket = hist_bucket(us);
	bool		in_ring;

	Assert(minute != HIST_TAG_EMPTY && minute != HIST_TAG_BUSY);
	in_ring = pg_atomic_read_u64(&slot->minute) == minute ||
		hist_ring_prepare(slot, minute);
	if (unlikely(!in_ring))
		pg_atomic_fetch_add_u64(&ring->dropped, 1);
	if (locked)
	{
		hist_add_locked(h, bucket, us);
		if (likely(in_ring))
			hist_add_locked(&slot->hist, bucket, us);
	}
	else
	{
		hist_add(h, bucket, us);
		if (likely(in_ring))
			hist_add(&slot->hist, bucket, us);
	}
	return in_ring;
}

/* HistRecord(..., false): lock-free, with atomics. */
bool
HistRecordShared(Histogram *h, HistRing *ring, uint64 minute, uint64 us)
{
	return hist_record(h, ring, minute, us, false);
}

/* HistRecord(..., true): under the one lock of every writer. */
bool
HistRecordLocked(Histogram *h, HistRing *ring, uint64 minute, uint64 us)
{
	return hist_record(h, ring, minute, us, true);
}

/*
 * HistRingRotate
 *		Make the slots of minute (now) and of the minute after it ready, so
 *		that recorders find them tagged.  Called by the pool worker's
 *		janitor at least every few seconds; cheap when there is nothing to
 *		do (two reads).
 */
void
HistRingRotate(HistRing *ring, uint64 minute)
{
	Assert(minute != HIST_TAG_EMPTY && minute + 1 != HIST_TAG_BUSY);
	(void) hist_ring_prepare(&ring->slots[minute % HIST_RING_SLOTS], minute);
	(void) hist_ring_prepare(&ring->slots[(minute + 1) % HIST_RING_SLOTS],
							 minute + 1);
}

/*
 * HistRingReset
 *		Empty every slot.  A slot being zeroed by someone else is left to
 *		them; values recorded while the reset runs may be kept or dropped.
 */
void
HistRingReset(HistRing *ring)
{
	int			i;

	for (i = 0; i < HIST_RING_SLOTS; i++)
	{
		HistRingSlot *slot = &ring->slots[i];
		uint64		tag = pg_atomic_read_u64(&slot->minute);

		/* a failed exchange loads the current tag; give up if busy */
		while (tag != HIST_TAG_BUSY &&
			   !pg_atomic_compare_exchange_u64(&slot->minute, &tag,
											   HIST_TAG_BUSY))
			;
		if (tag == HIST_TAG_BUSY)
			continue;
		hist_clear(&slot->hist);
		pg_write_barrier();
		pg_atomic_write_u64(&slot->minute, HIST_TAG_EMPTY);
	}
	pg_atomic_write_u64(&ring->dropped, 0);
}

/*
 * HistRingRead
 *		Merge into snap the slots of minute (now) and of the
 *		HIST_RING_MINUTES - 1 minutes before it: between four and five
 *		minutes of values, depending on how far into the current minute we
 *		are.  A slot whose tag changed while it was copied is skipped: at
 *		the turn of a minute the janitor may already be zeroing the oldest
 *		slot for the next minute, and that minute's values are about to
 *		leave the window anyway.
 */
void
HistRingRead(const HistRing *ring, uint64 minute, HistSnapshot *snap)
{
	HistRing   *src = unconstify(HistRing *, ring);
	HistSnapshot one;
	int			i;

	HistSnapInit(snap);
	for (i = 0; i < HIST_RING_SLOTS; i++)
	{
		HistRingSlot *slot = &src->slots[i];
		uint64		tag = pg_atomic_read_u64(&slot->minute);

		if (tag == HIST_TAG_EMPTY || tag == HIST_TAG_BUSY ||
			tag > minute || minute - tag >= HIST_RING_MINUTES)
			continue;
		pg_read_barrier();
		HistogramCopy(&slot->hist, &one);
		pg_read_barrier();
		if (pg_atomic_read_u64(&slot->minute) != tag)
			continue;
		HistSnapMerge(snap, &one);
	}
}

/*
 * HistSnapInit
 *		An empty snapshot.
 */
void
HistSnapInit(HistSnapshot *snap)
{
	memset(snap, 0, sizeof(HistSnapshot));
}

/*
 * HistSnapMerge
 *		Add src to dst, as if dst's histogram had recorded src's values too
 *		(a pool's snapshot is the merge of its partitions').
 */
void
HistSnapMerge(HistSnapshot *dst, const HistSnapshot *src)
{
	int			i;

	for (i = 0; i < HIST_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->max = Max(dst->max, src->max);
}

/*
 * HistSnapMean
 *		The mean value, µs; 0 for an empty snapshot (callers show NULL).
 */
double
HistSnapMean(const HistSnapshot *snap)
{
	if (snap->count == 0)
		return 0.0;
	return (double) snap->sum / (double) snap->count;
}

/*
 * HistSnapRank
 *		The nearest rank of the q-th percentile among count values:
 *		ceil(q * count), at least 1, at most count; q in [0, 1] is taken to
 *		six decimals so that the rank is computed exactly in integers
 *		(0.999 * 1000 is rank 999, never 1000).  0 if count is 0.
 */
uint64
HistSnapRank(uint64 count, double q)
{
	const uint64 million = UINT64CONST(1000000);
	uint64		ppm;
	uint64		rank;

	if (count == 0)
		return 0;
	q = Min(Max(q, 0.0), 1.0);
	ppm = (uint64) (q * 1e6 + 0.5);
	/* ceil(count * ppm / 10^6) without overflowing 64 bits */
	rank = (count / million) * ppm +
		((count % million) * ppm + million - 1) / million;
	return Min(Max(rank, 1), count);
}

/*
 * HistSnapPercentile
 *		The q-th percentile (nearest rank, q in [0, 1]), µs: the value of the
 *		bucket holding that rank, capped at the maximum; the maximum itself
 *		in the overflow bucket.  0 for an empty snapshot (callers show
 *		NULL).
 */
double
HistSnapPercentile(const HistSnapshot *snap, double q)
{
	uint64		rank = HistSnapRank(snap->count, q);
	uint64		seen = 0;
	int			i;

	if (rank == 0)
		return 0.0;
	for (i = 0; i < HIST_NBUCKETS - 1; i++)
	{
		seen += snap->buckets[i];
		if (seen >= rank)
			return Min(HistBucketValue(i), (double) snap->max);
	}
	return (double) snap->max;
}

/*
 * HistSnapNextBucket
 *		Step to the next non-empty bucket of a snapshot, filling it; false
 *		when there is none.  Start with a zeroed HistBucketIter.
 */
bool
HistSnapNextBucket(const HistSnapshot *snap, HistBucketIter *it)
{
	int			i;

	for (i = it->next; i < HIST_NBUCKETS; i++)
	{
		if (snap->buckets[i] == 0)
			continue;
		it->index = i;
		it->lower = HistBucketLower(i);
		it->upper = HistBucketUpper(i);
		it->count = snap->buckets[i];
		it->cumulative += it->count;
		it->next = i + 1;
		return true;
	}
	it->next = HIST_NBUCKETS;
	return false;
}

/*
 * HistPromBound
 *		The k-th Prometheus bound (k < HIST_PROM_NBOUNDS), µs: the upper
 *		bound of bucket k * HIST_PROM_STEP.  The +Inf bucket is not counted
 *		in k; its count is the snapshot's count.
 */
uint64
HistPromBound(int k)
{
	Assert(k >= 0 && k < HIST_PROM_NBOUNDS);
	return HistBucketUpper(k * HIST_PROM_STEP);
}

/*
 * HistPromLabel
 *		The k-th Prometheus bound in seconds, written exactly (the bounds are
 *		whole microseconds) for the le label: "0.00001", "0.002155", "1",
 *		"215.4".  buf must hold HIST_PROM_LABEL_LEN bytes.
 */
void
HistPromLabel(int k, char *buf)
{
	uint64		us = HistPromBound(k);
	uint64		whole = us / 1000000;
	uint64		frac = us % 1000000;
	char		digits[24];
	int			n = 0;
	int			len = 0;
	int			i;

	/* the whole seconds, most significant digit first */
	do
	{
		digits[n++] = (char) ('0' + whole % 10);
		whole /= 10;
	} while (whole > 0);
	while (n > 0)
		buf[len++] = digits[--n];
	/* then six decimals without their trailing zeroes */
	if (frac > 0)
	{
		buf[len++] = '.';
		for (i = 0; i < 6 && frac > 0; i++)
		{
			buf[len++] = (char) ('0' + frac / 100000);
			frac = (frac % 100000) * 10;
		}
	}
	buf[len] = '\0';
}

/*
 * HistSnapPromCounts
 *		The cumulative count at each Prometheus bound: counts[k] is the
 *		number of values below HistPromBound(k).  Exact, since each bound is
 *		a bucket bound.  The +Inf bucket's count is snap->count.
 */
void
HistSnapPromCounts(const HistSnapshot *snap,
				   uint64 counts[HIST_PROM_NBOUNDS])
{
	uint64		seen = 0;
	int			i;

	for (i = 0; i <= (HIST_PROM_NBOUNDS - 1) * HIST_PROM_STEP; i++)
	{
		seen += snap->buckets[i];
		if (i % HIST_PROM_STEP == 0)
			counts[i / HIST_PROM_STEP] = seen;
	}
}

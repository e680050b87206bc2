/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Counting and timing what the pools do.
 *
 * Every counter of a pool is bumped here and nowhere else, and one reset
 * zeroes them all and records when (pg_stat_statements' stats_reset).
 * The views read a copy of the pool entry taken under the pool lock.
 *
 * Latency: every partition entry has three distributions (wait, hold,
 * query; StatsKind), each in two windows: since the last reset, and the
 * last five minutes (a ring of one-minute slots, histogram.c).  Waits
 * that timed out or were given up, and queries that ended in an error, are
 * recorded like the others and also counted apart (StatsOutcome), in the
 * same two windows.  Values are microseconds; the views show seconds.  A
 * pool's distribution is the merge of its partitions' at read time.  With
 * pgpool_ext.track_timing off nothing reads a clock for them and nothing
 * is recorded.  Waits and holds read no clock of their own either (see
 * handle.c): recording them costs a few nanoseconds.  The pool worker's
 * janitor rotates the query rings and the outcome rings (StatsRotate) at
 * every pass, which comes at least every maintenance_interval; the wait
 * and hold rings are prepared by their recorders, under the pool lock.
 *
 * This module knows nothing of where its structs live: callers pass the
 * PoolStats of a pool entry and the PartitionStats of a partition entry
 * (PoolPartitionStats() in shmem.h).
 *
 * Locking: counters: the caller holds the lock of the pool that owns the
 * PoolStats, exclusively (see stats.h).  Latency: waits and holds are
 * recorded under the pool lock held exclusively (plain loads and stores:
 * HistRecord locked), queries lock-free (atomic adds), outcomes with
 * atomic adds; all are reset under the pool lock held exclusively and
 * copied out under it held shared.  A query record racing a reset may land
 * on either side of it, and a copy racing a query record may see a value
 * in a bucket before its sum and maximum (histogram.h).
 *
 * src/shm/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "common/guc.h"
#include "shm/stats.h"

/* Tags of an outcome ring slot other than a minute (as histogram.c's). */
#define STATS_TAG_EMPTY		UINT64CONST(0)
#define STATS_TAG_BUSY		PG_UINT64_MAX

#ifndef PG_HAVE_ATOMIC_U64_SIMULATION
StaticAssertDecl(sizeof(PartitionStats) == 37400,
				 "the size stated in stats.h");
#endif
StaticAssertDecl(sizeof(PoolStats) == 56, "the size stated in stats.h");

static bool stats_outcome_prepare(StatsOutcomeRing *ring, uint64 minute);
static void stats_count_outcome(PartitionStats *ps, uint64 minute,
								StatsOutcome outcome);
static void stats_record_locked(PartitionStats *ps, StatsKind kind,
								uint64 us, TimestampTz end,
								StatsOutcome outcome);
static void stats_outcomes_reset(PartitionStats *ps);

/*
 * StatsCount
 *		Add one to a counter.  Caller holds the pool lock exclusively.
 */
void
StatsCount(PoolStats *stats, PoolCounter counter)
{
	Assert(counter >= 0 && counter < PGPOOL_NCOUNTERS);
	stats->counters[counter]++;
}

/*
 * StatsReset
 *		Zero every counter and record the time.  Caller holds the pool lock
 *		exclusively.
 */
void
StatsReset(PoolStats *stats)
{
	memset(stats->counters, 0, sizeof(stats->counters));
	stats->stats_reset = GetCurrentTimestamp();
}

/*
 * StatsLatencyShmemSize
 *		Bytes of the latency statistics of npartitions partition entries.
 */
Size
StatsLatencyShmemSize(int npartitions)
{
	return mul_size(npartitions, MAXALIGN(sizeof(PartitionStats)));
}

/*
 * StatsLatencyShmemInit
 *		Empty distributions for every partition entry, at shared memory
 *		creation.
 */
void
StatsLatencyShmemInit(PartitionStats *stats, int npartitions)
{
	int			i;
	int			k;
	int			o;
	int			s;

	for (i = 0; i < npartitions; i++)
	{
		PartitionStats *ps = &stats[i];

		for (k = 0; k < PGPOOL_NKINDS; k++)
		{
			HistogramInit(&ps->total[k]);
			HistRingInit(&ps->recent[k]);
		}
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			pg_atomic_init_u64(&ps->outcomes[o], 0);
		for (s = 0; s < HIST_RING_SLOTS; s++)
		{
			pg_atomic_init_u64(&ps->recent_outcomes.minute[s], STATS_TAG_EMPTY);
			for (o = 0; o < PGPOOL_NOUTCOMES; o++)
				pg_atomic_init_u64(&ps->recent_outcomes.n[s][o], 0);
		}
	}
}

/*
 * StatsClock
 *		The start of something to time: now, or 0 with
 *		pgpool_ext.track_timing off (then no clock is read, and recording
 *		that start records nothing).
 */
TimestampTz
StatsClock(void)
{
	return pgpool_track_timing ? GetCurrentTimestamp() : 0;
}

/*
 * stats_count_outcome
 *		Count an outcome other than STATS_DONE in both windows (atomics:
 *		both kinds of recorders count outcomes).
 */
static void
stats_count_outcome(PartitionStats *ps, uint64 minute, StatsOutcome outcome)
{
	if (outcome == STATS_DONE)
		return;
	pg_atomic_fetch_add_u64(&ps->outcomes[outcome], 1);
	if (stats_outcome_prepare(&ps->recent_outcomes, minute))
		pg_atomic_fetch_add_u64(&ps->recent_outcomes.n[minute % HIST_RING_SLOTS][outcome], 1);
}

/*
 * StatsRecord
 *		Add one duration, start to end, to a partition's distribution of
 *		kind in both windows, and count its outcome.  Lock-free, for
 *		STATS_QUERY; start 0: not timed (track_timing was off), nothing
 *		recorded.
 */
void
StatsRecord(PartitionStats *ps, StatsKind kind, TimestampTz start,
			TimestampTz end, StatsOutcome outcome)
{
	uint64		us = end > start ? (uint64) (end - start) : 0;
	uint64		minute = HistMinuteOf(end);

	Assert(kind == STATS_QUERY);
	if (start == 0)
		return;
	(void) HistRecord(&ps->total[kind], &ps->recent[kind], minute, us, false);
	stats_count_outcome(ps, minute, outcome);
}

/*
 * stats_record_locked
 *		Add a duration of us microseconds that ended at end (any clock read
 *		near the end will do: it only picks the minute) to a partition's
 *		distribution of kind, STATS_WAIT or STATS_HOLD, and count its
 *		outcome.  Every recorder of these two kinds holds the pool lock
 *		exclusively, as the caller does, so they are recorded with plain
 *		loads and stores (HistRecord locked), and their rings are not
 *		rotated.
 */
static inline void
stats_record_locked(PartitionStats *ps, StatsKind kind, uint64 us,
					TimestampTz end, StatsOutcome outcome)
{
	uint64		minute = HistMinuteOf(end);

	Assert(kind == STATS_WAIT || kind == STATS_HOLD);
	(void) HistRecord(&ps->total[kind], &ps->recent[kind], minute, us, true);
	stats_count_outcome(ps, minute, outcome);
}

/*
 * StatsRecordWait
 *		A wait in the queue that began at start ends now: granted
 *		(STATS_DONE), timed out or given up.  Returns the wait recorded, µs,
 *		or -1 with track_timing off (for other statistics of the same wait).
 *		Caller holds the pool lock exclusively.
 */
int64
StatsRecordWait(PartitionStats *ps, TimestampTz start, StatsOutcome outcome)
{
	TimestampTz now;
	uint64		us;

	if (!pgpool_track_timing)
		return -1;
	now = GetCurrentTimestamp();
	us = now > start ? (uint64) (now - start) : 0;
	stats_record_locked(ps, STATS_WAIT, us, now, outcome);
	return (int64) us;
}

/*
 * StatsRecordNoWait
 *		An acquire was granted without queuing: a wait of 0, recorded
 *		without reading a clock (when: the slot clock the grant read).
 *		Returns 0, or -1 with track_timing off (as StatsRecordWait).
 *		Caller holds the pool lock exclusively.
 */
int64
StatsRecordNoWait(PartitionStats *ps, TimestampTz when)
{
	if (!pgpool_track_timing)
		return -1;
	stats_record_locked(ps, STATS_WAIT, 0, when, STATS_DONE);
	return 0;
}

/*
 * StatsRecordHold
 *		A handle granted at granted is released at released (both read from
 *		the slot clock, shm/pool.c).  Caller holds the pool lock
 *		exclusively.
 */
void
StatsRecordHold(PartitionStats *ps, TimestampTz granted, TimestampTz released)
{
	if (pgpool_track_timing)
		stats_record_locked(ps, STATS_HOLD,
							released > granted ? (uint64) (released - granted) : 0,
							released, STATS_DONE);
}

/*
 * stats_outcome_prepare
 *		Make the outcome ring's slot of minute count minute, zeroing it if
 *		it counted another one; false if it is not, and cannot be made,
 *		minute's.  The protocol, and what it does when the rotation is late
 *		or the clock goes back, are those of a HistRing slot (histogram.c,
 *		hist_ring_prepare): whoever swaps the old tag for STATS_TAG_BUSY
 *		zeroes the slot, then publishes the new tag.
 */
static bool
stats_outcome_prepare(StatsOutcomeRing *ring, uint64 minute)
{
	int			s = minute % HIST_RING_SLOTS;
	uint64		tag = pg_atomic_read_u64(&ring->minute[s]);
	int			o;

	if (likely(tag == minute))
		return true;
	if (tag == STATS_TAG_BUSY ||
		!(tag < minute || tag > minute + HIST_RING_SLOTS))
		return false;
	if (!pg_atomic_compare_exchange_u64(&ring->minute[s], &tag, STATS_TAG_BUSY))
		return tag == minute;
	for (o = 0; o < PGPOOL_NOUTCOMES; o++)
		pg_atomic_write_u64(&ring->n[s][o], 0);
	pg_write_barrier();
	pg_atomic_write_u64(&ring->minute[s], minute);
	return true;
}

/*
 * stats_outcomes_reset
 *		Zero the outcome counters of both windows (a slot being zeroed by
 *		someone else is left to them, as in HistRingReset).
 */
static void
stats_outcomes_reset(PartitionStats *ps)
{
	StatsOutcomeRing *ring = &ps->recent_outcomes;
	int			o;
	int			s;

	for (o = 0; o < PGPOOL_NOUTCOMES; o++)
		pg_atomic_write_u64(&ps->outcomes[o], 0);
	for (s = 0; s < HIST_RING_SLOTS; s++)
	{
		uint64		tag = pg_atomic_read_u64(&ring->minute[s]);

		while (tag != STATS_TAG_BUSY &&
			   !pg_atomic_compare_exchange_u64(&ring->minute[s], &tag,
											   STATS_TAG_BUSY))
			;
		if (tag == STATS_TAG_BUSY)
			continue;
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			pg_atomic_write_u64(&ring->n[s][o], 0);
		pg_write_barrier();
		pg_atomic_write_u64(&ring->minute[s], STATS_TAG_EMPTY);
	}
}

/*
 * StatsResetPartition
 *		Empty every distribution of a partition entry: at reset_stats, and
 *		when the entry is put into use for a (new) partition.  Caller holds
 *		the pool lock exclusively, or the global lock exclusively when the
 *		entry is being put into use.
 */
void
StatsResetPartition(PartitionStats *ps)
{
	int			k;

	for (k = 0; k < PGPOOL_NKINDS; k++)
	{
		HistogramReset(&ps->total[k]);
		HistRingReset(&ps->recent[k]);
	}
	stats_outcomes_reset(ps);
}

/*
 * StatsRotate
 *		Janitor: when the minute has changed since the last call, get the
 *		slots of this minute and the next ready in the query ring and the
 *		outcome ring of the npartitions entries of stats, so that
 *		lock-free recorders find them tagged.  The wait and hold rings are
 *		left to their recorders, who hold the pool lock (HistRecord).
 *		Cheap otherwise.  Pool worker only.
 */
void
StatsRotate(PartitionStats *stats, int npartitions, TimestampTz now)
{
	static uint64 rotated = 0;
	uint64		minute = HistMinuteOf(now);
	int			i;

	if (minute == rotated)
		return;
	for (i = 0; i < npartitions; i++)
	{
		PartitionStats *ps = &stats[i];

		HistRingRotate(&ps->recent[STATS_QUERY], minute);
		(void) stats_outcome_prepare(&ps->recent_outcomes, minute);
		(void) stats_outcome_prepare(&ps->recent_outcomes, minute + 1);
	}
	rotated = minute;
}

/*
 * StatsCopy
 *		Copy one distribution of a partition entry in one window (recent:
 *		the five minutes up to minute, as HistRingRead) into snap, and its
 *		outcome counts.  Caller holds the pool lock at least shared.
 */
void
StatsCopy(PartitionStats *ps, StatsKind kind, StatsWindow window,
		  uint64 minute, HistSnapshot *snap,
		  uint64 outcomes[PGPOOL_NOUTCOMES])
{
	StatsOutcomeRing *ring = &ps->recent_outcomes;
	int			o;
	int			s;

	memset(outcomes, 0, sizeof(uint64) * PGPOOL_NOUTCOMES);
	if (window == STATS_TOTAL)
	{
		HistogramCopy(&ps->total[kind], snap);
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			outcomes[o] = pg_atomic_read_u64(&ps->outcomes[o]);
		return;
	}
	HistRingRead(&ps->recent[kind], minute, snap);
	for (s = 0; s < HIST_RING_SLOTS; s++)
	{
		uint64		tag = pg_atomic_read_u64(&ring->minute[s]);
		uint64		n[PGPOOL_NOUTCOMES];

		if (tag == STATS_TAG_EMPTY || tag == STATS_TAG_BUSY ||
			tag > minute || minute - tag >= HIST_RING_MINUTES)
			continue;
		pg_read_barrier();
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			n[o] = pg_atomic_read_u64(&ring->n[s][o]);
		pg_read_barrier();
		if (pg_atomic_read_u64(&ring->minute[s]) != tag)
			continue;
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			outcomes[o] += n[o];
	}
}

/*
 * StatsSummarize
 *		Count, mean, percentiles and maximum of a copied distribution, in
 *		seconds.  Outcomes are left to the caller.
 */
void
StatsSummarize(const HistSnapshot *snap, StatsSummary *sum)
{
	memset(sum, 0, sizeof(StatsSummary));
	sum->count = snap->count;
	if (snap->count == 0)
		return;
	sum->mean = HistSnapMean(snap) / 1e6;
	sum->p50 = HistSnapPercentile(snap, 0.5) / 1e6;
	sum->p90 = HistSnapPercentile(snap, 0.9) / 1e6;
	sum->p95 = HistSnapPercentile(snap, 0.95) / 1e6;
	sum->p99 = HistSnapPercentile(snap, 0.99) / 1e6;
	sum->p999 = HistSnapPercentile(snap, 0.999) / 1e6;
	sum->max = snap->max / 1e6;
}

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
 * is recorded.  The pool worker's janitor rotates the rings (StatsRotate)
 * at every pass, which comes at least every maintenance_interval.
 *
 * Locking: counters: the caller holds the lock of the pool that owns the
 * PoolStats, exclusively (see stats.h).  Latency: recorded lock-free
 * (atomic adds, with or without the pool lock the caller may hold), reset
 * under the pool lock held exclusively, copied out under it held shared;
 * a record racing a reset may land on either side of it, and a copy
 * racing a record may see its count but not yet its sum or maximum.
 *
 * src/shm/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "common/guc.h"
#include "shm/pool.h"
#include "shm/stats.h"

static void stats_record(int partition, StatsKind kind, TimestampTz start,
						 TimestampTz end, StatsOutcome outcome);
static void stats_outcomes_reset(PartitionStats *ps, uint64 minute);
static void stats_outcomes_rotate(StatsOutcomeRing *ring, uint64 minute);

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
	uint64		minute = StatsMinute(GetCurrentTimestamp());
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
			HistRingInit(&ps->recent[k], minute);
		}
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			pg_atomic_init_u64(&ps->outcomes[o], 0);
		for (s = 0; s < HIST_RING_SLOTS; s++)
		{
			pg_atomic_init_u64(&ps->recent_outcomes.minute[s], 0);
			for (o = 0; o < PGPOOL_NOUTCOMES; o++)
				pg_atomic_init_u64(&ps->recent_outcomes.n[s][o], 0);
		}
		stats_outcomes_reset(ps, minute);
	}
}

/*
 * StatsMinute
 *		The one-minute slot a time belongs to.
 */
uint64
StatsMinute(TimestampTz t)
{
	return t > 0 ? (uint64) (t / USECS_PER_MINUTE) : 0;
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
 * stats_record
 *		Add one duration, start to end, to a partition's distribution of
 *		kind in both windows, and count its outcome.  Lock-free.
 */
static void
stats_record(int partition, StatsKind kind, TimestampTz start,
			 TimestampTz end, StatsOutcome outcome)
{
	PartitionStats *ps;
	uint64		us = end > start ? (uint64) (end - start) : 0;
	uint64		minute = StatsMinute(end);

	if (start == 0 || partition < 0 || partition >= PoolShared->npartitions)
		return;
	ps = &PoolShared->partition_stats[partition];
	HistogramRecord(&ps->total[kind], us);
	HistRingRecord(&ps->recent[kind], minute, us);
	if (outcome == STATS_DONE)
		return;
	pg_atomic_fetch_add_u64(&ps->outcomes[outcome], 1);
	pg_atomic_fetch_add_u64(&ps->recent_outcomes.n[minute % HIST_RING_SLOTS][outcome], 1);
}

/*
 * StatsRecordWait
 *		A wait that began (acquire was called) at start ends now: granted
 *		(STATS_DONE), timed out or given up.  start 0: not timed.
 */
void
StatsRecordWait(int partition, TimestampTz start, StatsOutcome outcome)
{
	if (start == 0)
		return;
	stats_record(partition, STATS_WAIT, start, GetCurrentTimestamp(), outcome);
}

/*
 * StatsRecordHold
 *		The holder of slotno releases it now: record how long it was held,
 *		on the slot clock acquired_at was read from.  Caller holds the
 *		slot's pool lock.
 */
void
StatsRecordHold(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];

	if (!pgpool_track_timing || slot->acquired_at == 0)
		return;
	stats_record(slot->partition, STATS_HOLD, slot->acquired_at,
				 PoolSlotClock(), STATS_DONE);
}

/*
 * StatsRecordQuery
 *		The final message of a request sent at start on handle (held by this
 *		backend, so its slot's partition is stable) was read now; error: it
 *		was an error.  start 0: not timed.
 */
void
StatsRecordQuery(int64 handle, TimestampTz start, bool error)
{
	int			slotno = (int) (handle & (PGPOOL_MAX_SLOTS - 1));

	if (start == 0 || slotno >= PoolShared->nslots)
		return;
	stats_record(PoolShared->slots[slotno].partition, STATS_QUERY, start,
				 GetCurrentTimestamp(), error ? STATS_ERROR : STATS_DONE);
}

/* Zero the outcome counters of both windows; the ring starts at minute. */
static void
stats_outcomes_reset(PartitionStats *ps, uint64 minute)
{
	int			o;
	int			s;

	for (o = 0; o < PGPOOL_NOUTCOMES; o++)
		pg_atomic_write_u64(&ps->outcomes[o], 0);
	for (s = 0; s < HIST_RING_SLOTS; s++)
	{
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			pg_atomic_write_u64(&ps->recent_outcomes.n[s][o], 0);
		pg_atomic_write_u64(&ps->recent_outcomes.minute[s], 0);
	}
	pg_atomic_write_u64(&ps->recent_outcomes.minute[minute % HIST_RING_SLOTS],
						minute);
	stats_outcomes_rotate(&ps->recent_outcomes, minute);
}

/*
 * StatsResetPartition
 *		Empty every distribution of a partition entry: at reset_stats, and
 *		when the entry is put into use for a (new) partition.  Caller holds
 *		the pool lock exclusively, or the global lock exclusively when the
 *		entry is being put into use.
 */
void
StatsResetPartition(int partition)
{
	PartitionStats *ps = &PoolShared->partition_stats[partition];
	uint64		minute = StatsMinute(GetCurrentTimestamp());
	int			k;

	for (k = 0; k < PGPOOL_NKINDS; k++)
	{
		HistogramReset(&ps->total[k]);
		HistRingInit(&ps->recent[k], minute);
	}
	stats_outcomes_reset(ps, minute);
}

/*
 * StatsResetPool
 *		reset_stats() of one pool: its counters, stats_reset, and every
 *		distribution of its partitions.  Caller holds the global lock
 *		(partition membership) at least shared and the pool lock
 *		exclusively.
 */
void
StatsResetPool(int pool)
{
	int			i;

	StatsReset(&PoolShared->pools[pool].stats);
	for (i = 0; i < PoolShared->npartitions; i++)
		if (PoolShared->partitions[i].in_use &&
			PoolShared->partitions[i].pool == pool)
			StatsResetPartition(i);
}

/*
 * stats_outcomes_rotate
 *		HistRingRotate for the outcome counters: get the slot of the next
 *		minute (and, if the rotation is late, of this one) empty and tagged.
 */
static void
stats_outcomes_rotate(StatsOutcomeRing *ring, uint64 minute)
{
	uint64		m;

	for (m = minute; m <= minute + 1; m++)
	{
		int			s = m % HIST_RING_SLOTS;
		int			o;

		if (pg_atomic_read_u64(&ring->minute[s]) == m)
			continue;
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			pg_atomic_write_u64(&ring->n[s][o], 0);
		pg_atomic_write_u64(&ring->minute[s], m);
	}
}

/*
 * StatsRotate
 *		Janitor: when the minute has changed since the last call, prepare
 *		the next minute's slot of every ring.  Cheap otherwise.  Pool worker
 *		only.
 */
void
StatsRotate(TimestampTz now)
{
	static uint64 rotated = 0;
	uint64		minute = StatsMinute(now);
	int			i;
	int			k;

	if (minute == rotated)
		return;
	for (i = 0; i < PoolShared->npartitions; i++)
	{
		PartitionStats *ps = &PoolShared->partition_stats[i];

		for (k = 0; k < PGPOOL_NKINDS; k++)
			HistRingRotate(&ps->recent[k], minute);
		stats_outcomes_rotate(&ps->recent_outcomes, minute);
	}
	rotated = minute;
}

/*
 * StatsCopy
 *		Copy one distribution of a partition entry in one window (recent:
 *		the five minutes up to minute) into snap, and its outcome counts.
 *		Caller holds the pool lock at least shared.
 */
void
StatsCopy(int partition, StatsKind kind, StatsWindow window, uint64 minute,
		  HistSnap *snap, uint64 outcomes[PGPOOL_NOUTCOMES])
{
	PartitionStats *ps = &PoolShared->partition_stats[partition];
	int			o;
	int			s;

	if (window == STATS_TOTAL)
	{
		HistogramCopy(&ps->total[kind], snap);
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			outcomes[o] = pg_atomic_read_u64(&ps->outcomes[o]);
		return;
	}
	HistRingRead(&ps->recent[kind], minute, snap);
	memset(outcomes, 0, sizeof(uint64) * PGPOOL_NOUTCOMES);
	for (s = 0; s < HIST_RING_SLOTS; s++)
	{
		uint64		m = pg_atomic_read_u64(&ps->recent_outcomes.minute[s]);

		if (m > minute || m + HIST_RING_SLOTS - 1 <= minute)
			continue;
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			outcomes[o] += pg_atomic_read_u64(&ps->recent_outcomes.n[s][o]);
	}
}

/*
 * StatsSummarize
 *		Count, mean, percentiles and maximum of a copied distribution, in
 *		seconds.  Outcomes are left to the caller.
 */
void
StatsSummarize(const HistSnap *snap, StatsSummary *sum)
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

/*
 * StatsPoolSummary
 *		One distribution of a whole pool in one window: the merge of its
 *		partitions', copied under the locks, summarized after.  Caller
 *		holds no pgpool_ext lock.
 */
void
StatsPoolSummary(int pool, StatsKind kind, StatsWindow window,
				 StatsSummary *sum)
{
	HistSnap	merged;
	HistSnap	one;
	uint64		outcomes[PGPOOL_NOUTCOMES];
	uint64		total[PGPOOL_NOUTCOMES];
	uint64		minute = StatsMinute(GetCurrentTimestamp());
	int			i;
	int			o;

	memset(&merged, 0, sizeof(merged));
	memset(total, 0, sizeof(total));
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	LWLockAcquire(PoolLock(pool), LW_SHARED);
	for (i = 0; i < PoolShared->npartitions; i++)
	{
		if (!PoolShared->partitions[i].in_use ||
			PoolShared->partitions[i].pool != pool)
			continue;
		StatsCopy(i, kind, window, minute, &one, outcomes);
		HistSnapMerge(&merged, &one);
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			total[o] += outcomes[o];
	}
	LWLockRelease(PoolLock(pool));
	LWLockRelease(&PoolShared->lock);
	StatsSummarize(&merged, sum);
	memcpy(sum->outcomes, total, sizeof(total));
}

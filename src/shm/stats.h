/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  Every statistic pgpool_ext keeps: counters per pool, latency
 *	  distributions per partition, one reset.
 *
 * A new counter is a PoolCounter value here and a StatsCount() call where
 * it happens; views read it from their copy of the pool entry.  A new
 * distribution is a StatsKind value and a StatsRecord*() call where the
 * thing it times ends.
 *
 * Locking: a PoolStats lives in its PoolEntry and is protected by that
 * pool's lock, held exclusively to count or reset and at least shared to
 * read.  A PartitionStats (latency histograms, one per partition entry,
 * PoolPartitionStats() in shmem.h) is recorded into under the pool lock
 * held exclusively for waits and holds (plain loads and stores: every
 * recorder of them holds it) and lock-free for queries (atomics,
 * histogram.h); outcome counters are atomics.  It is reset under the pool
 * lock held exclusively (or the global lock, when its partition entry is
 * put into use), and read under the pool lock held shared.
 *
 * src/shm/stats.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_STATS_H
#define PGPOOL_STATS_H

#include "datatype/timestamp.h"
#include "port/atomics.h"

#include "shm/histogram.h"

typedef enum PoolCounter
{
	STAT_ACQUIRES = 0,			/* handles granted */
	STAT_WAITS,					/* acquires that had to queue */
	STAT_TIMEOUTS,				/* acquires that gave up waiting */
	STAT_CONNECTS,				/* connections established */
	STAT_CONNECT_FAILURES,		/* connection attempts that failed */
	STAT_CLOSES					/* connections closed, for any reason */
} PoolCounter;

#define PGPOOL_NCOUNTERS	(STAT_CLOSES + 1)

/*
 * The counters of one pool, in its PoolEntry: 56 bytes.  With the partition
 * entry each pool slot adds to the table (its default partition), the
 * statistics of a pool take 37,456 bytes and those of each further
 * partition 37,400 (PartitionStats).
 */
typedef struct PoolStats
{
	uint64		counters[PGPOOL_NCOUNTERS];
	TimestampTz stats_reset;	/* when the counters last started at 0 */
} PoolStats;

/* The distributions kept per partition. */
typedef enum StatsKind
{
	STATS_WAIT = 0,				/* acquire called -> granted (or given up) */
	STATS_HOLD,					/* granted -> released */
	STATS_QUERY					/* request sent -> its final message */
} StatsKind;

#define PGPOOL_NKINDS	(STATS_QUERY + 1)

/* How a timed thing ended; the last three are counted apart too. */
typedef enum StatsOutcome
{
	STATS_DONE = 0,				/* granted, released, answered */
	STATS_TIMEOUT,				/* wait: acquire timed out */
	STATS_CANCEL,				/* wait: given up otherwise (cancel, exit) */
	STATS_ERROR					/* query: ended in an error */
} StatsOutcome;

#define PGPOOL_NOUTCOMES	(STATS_ERROR + 1)

/* The two windows of every distribution. */
typedef enum StatsWindow
{
	STATS_TOTAL = 0,			/* since the last reset */
	STATS_RECENT				/* the last 5 minutes (HistRing) */
} StatsWindow;

#define PGPOOL_NWINDOWS	(STATS_RECENT + 1)

/*
 * Outcome counters of the recent window: one-minute slots like a
 * HistRing's, each tagged with its minute (0: empty), prepared and read
 * by the same rules (stats.c), rotated with the histograms.
 */
typedef struct StatsOutcomeRing
{
	pg_atomic_uint64 minute[HIST_RING_SLOTS];
	pg_atomic_uint64 n[HIST_RING_SLOTS][PGPOOL_NOUTCOMES];
} StatsOutcomeRing;

/*
 * Latency of one partition entry.  [B] recorded by backends: waits and
 * holds under the pool lock (exclusive), queries lock-free; reset under the
 * pool lock (exclusive) and when the entry is (re)made.
 * 37,400 bytes on x86_64 (3 x (1,760 + 10,616) for the histograms, 272 for
 * the outcome counters; asserted in stats.c): at the default
 * max_partitions + max_pools = 80 entries, 2.99 MB of shared memory.
 */
typedef struct PartitionStats
{
	Histogram	total[PGPOOL_NKINDS];	/* since the last reset */
	HistRing	recent[PGPOOL_NKINDS];	/* one-minute slots */
	pg_atomic_uint64 outcomes[PGPOOL_NOUTCOMES];	/* since the last reset */
	StatsOutcomeRing recent_outcomes;
} PartitionStats;

/* What the latency view shows of one distribution in one window. */
typedef struct StatsSummary
{
	uint64		count;
	double		mean;			/* seconds; all below are 0 when count = 0 */
	double		p50;
	double		p90;
	double		p95;
	double		p99;
	double		p999;
	double		max;
	uint64		outcomes[PGPOOL_NOUTCOMES];
} StatsSummary;

extern void StatsCount(PoolStats *stats, PoolCounter counter);
extern void StatsReset(PoolStats *stats);

/* latency distributions */
extern Size StatsLatencyShmemSize(int npartitions);
extern void StatsLatencyShmemInit(PartitionStats *stats, int npartitions);
extern TimestampTz StatsClock(void);
extern void StatsRecord(PartitionStats *ps, StatsKind kind, TimestampTz start,
						TimestampTz end, StatsOutcome outcome);
extern int64 StatsRecordWait(PartitionStats *ps, TimestampTz start,
							 StatsOutcome outcome);
extern int64 StatsRecordNoWait(PartitionStats *ps, TimestampTz when);
extern void StatsRecordHold(PartitionStats *ps, TimestampTz granted,
							TimestampTz released);
extern void StatsResetPartition(PartitionStats *ps);
extern void StatsRotate(PartitionStats *stats, int npartitions,
						TimestampTz now);
extern void StatsCopy(PartitionStats *ps, StatsKind kind, StatsWindow window,
					  uint64 minute, HistSnapshot *snap,
					  uint64 outcomes[PGPOOL_NOUTCOMES]);
extern void StatsSummarize(const HistSnapshot *snap, StatsSummary *sum);

#endif							/* PGPOOL_STATS_H */

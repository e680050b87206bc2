/*-------------------------------------------------------------------------
 *
 * usage.h
 *	  How busy the pools were over time: time-weighted gauges (connections
 *	  open, in use, idle, ..., backends waiting) and event counts, per
 *	  partition and per pool, in several windows.
 *
 * A gauge is a count that goes up and down (slots in a state, backends
 * queued).  Its current value is kept per partition (cur[]), and every
 * window accumulates its area: the integral of the value over time, in
 * microseconds x count, so area / elapsed is the time-weighted average.
 * Each window also keeps the highest value seen (peak) and counts events.
 *
 * Windows:
 *	 - per partition and per pool, since the last reset (total);
 *	 - per partition and per pool, a ring of one-minute slots with the
 *	   minute numbers of the latency rings (HistMinuteOf), read as the last
 *	   5 minutes;
 *	 - per pool, a ring of USAGE_NINTERVALS slots of
 *	   pgpool_ext.usage_interval seconds (the rows of usage_hourly), each
 *	   with a histogram of the waits that ended in it (wait p95).
 *
 * Writers call the hooks below right after they changed a partition's
 * slot counts or queue (UsageSync), counted an event (UsageCount) or ended
 * a wait (UsageRecordWait); the time is CoarseClock() (coarse: ~4 ms
 * ticks, plenty for averages over seconds).  A span of time between two
 * calls is split exactly at minute and interval boundaries, so nothing
 * depends on the janitor's rotation (UsageRotate), which only publishes a
 * new pgpool_ext.usage_interval and keeps idle pools' slots current.
 * Readers fold the current values up to their "now" into their copy
 * without writing anything.
 *
 * A pool's current values are the sums of its partitions', except
 * USAGE_SATURATED, which is 1 while at least one backend of the pool waits
 * (not the number of partitions with waiters): the pool's own windows
 * integrate it, so two partitions waiting over the same time count once.
 *
 * Memory (x86_64): a PartitionUsage is 1,208 bytes (40 + 1,168 of
 * UsageWindows: a 160-byte total, 48 bytes of minute tags and six 160-byte
 * minute tallies), a PoolUsage 327,808 bytes (48 + 1,168 of UsageWindows +
 * 168 intervals of 1,944: a 160-byte tally and a 1,768-byte wait
 * histogram); at the default max_pools 16 and max_partitions 64 (80
 * partition entries) 5.34 MB in all, on top of the 2.99 MB of the latency
 * histograms.  usage.c asserts the sizes.
 *
 * Persistence may save and load a PoolUsage and its partitions'
 * PartitionUsage as they are (plain numbers, absolute times, no pointer),
 * keyed by pool name and partition key; after loading them into entries in
 * use, UsageResume() takes the current values from the live counts.
 *
 * Locking: everything here is under the lock of the pool that owns the
 * partition or pool entry: held exclusively to write (every hook), at
 * least shared to read.  No new lock, no allocation in the hooks.  A
 * partition entry's usage is also reset when the entry is put into use
 * (global lock held exclusively, nobody else can see it), a pool entry's
 * when it is (re)created (pool lock held exclusively).  Writers: [BW].
 *
 * src/shm/usage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_USAGE_H
#define PGPOOL_USAGE_H

#include "datatype/timestamp.h"

#include "shm/histogram.h"
#include "shm/stats.h"

/* Gauges: current value per partition, time-weighted in every window. */
typedef enum UsageGauge
{
	USAGE_OPEN = 0,				/* slots with a connection, not CONNECTING:
								 * IDLE, ACQUIRED, BUSY, RESETTING, CLOSING */
	USAGE_IN_USE,				/* held by a handle: ACQUIRED, BUSY, BROKEN */
	USAGE_BUSY,					/* a request in flight: BUSY */
	USAGE_RESETTING,			/* RESETTING */
	USAGE_IDLE,					/* IDLE */
	USAGE_WAITING,				/* backends queued (partition->nwaiting) */
	USAGE_SATURATED				/* 1 while at least one backend waits */
} UsageGauge;

#define USAGE_NGAUGES	(USAGE_SATURATED + 1)

/* Events: counted per partition, in every window. */
typedef enum UsageEvent
{
	USAGE_ACQUIRES = 0,			/* handles granted */
	USAGE_WAITS,				/* acquires that queued */
	USAGE_TIMEOUTS,				/* acquires that gave up waiting (timeout) */
	USAGE_ERRORS,				/* remote requests that ended in an error */
	USAGE_CONNECTS,				/* connections established */
	USAGE_CONNECT_FAILURES,		/* connection attempts that failed */
	USAGE_CLOSES				/* connections closed */
} UsageEvent;

#define USAGE_NEVENTS	(USAGE_CLOSES + 1)

/* Interval slots kept per pool (168 = a week of hours). */
#define USAGE_NINTERVALS	168

/* Minute slots of the recent window: as the latency rings (5 + 1). */
#define USAGE_MINUTE_SLOTS	HIST_RING_SLOTS

/* What one window accumulated. */
typedef struct UsageTally
{
	TimestampTz start;			/* first instant of the window (a slot: its
								 * boundary; total: the last reset) */
	uint64		elapsed_us;		/* time covered, up to the last update (or,
								 * in a reader's copy, up to the read) */
	uint64		area[USAGE_NGAUGES];	/* integral of the gauge, µs x count */
	int32		peak[USAGE_NGAUGES];	/* highest value in the window */
	uint64		events[USAGE_NEVENTS];
} UsageTally;

/* One interval slot of a pool: a row of usage_hourly. */
typedef struct UsageInterval
{
	TimestampTz start;			/* the slot's boundary: floor(epoch s /
								 * width) x width */
	int32		width_s;		/* its width (usage_interval when it began);
								 * 0: the ring slot is empty */
	UsageTally	tally;			/* tally.start = start; elapsed counts only
								 * the time tracked (a pool created or reset
								 * mid-slot, a width changed mid-slot) */
	HistSnapshot wait;			/* waits (acquire called -> granted or given
								 * up) that ended in the slot, µs; recorded
								 * only with pgpool_ext.track_timing on */
} UsageInterval;

/* The windows read by the views: since the last reset, the last minutes. */
typedef struct UsageWindows
{
	UsageTally	total;			/* since the last reset */
	uint64		minute[USAGE_MINUTE_SLOTS]; /* minute each slot counts; 0:
											 * empty */
	UsageTally	recent[USAGE_MINUTE_SLOTS];
} UsageWindows;

/*
 * Usage of one partition entry: PoolPartitionUsage(i).  [BW] under the
 * lock of the partition's pool.
 */
typedef struct PartitionUsage
{
	TimestampTz last;			/* areas are accounted up to here */
	int32		cur[USAGE_NGAUGES]; /* current values (from the partition's
									 * count[] and nwaiting) */
	UsageWindows win;
} PartitionUsage;

/*
 * Usage of one pool entry: PoolPoolUsage(p), its own windows (the pool
 * rows of the views) and the interval ring.  [BW] under the pool lock;
 * width_s [W] (janitor: UsageRotate).
 */
typedef struct PoolUsage
{
	TimestampTz last;			/* areas are accounted up to here */
	int32		cur[USAGE_NGAUGES]; /* sum of the partitions' cur[];
									 * USAGE_SATURATED: 1 while cur[WAITING]
									 * > 0 */
	int32		width_s;		/* pgpool_ext.usage_interval in force */
	int32		head;			/* ring index of the current interval */
	UsageWindows win;			/* total and minute ring, at the pool's
								 * values */
	UsageInterval ring[USAGE_NINTERVALS];
} PoolUsage;

/* shared memory (a segment of its own: "pgpool_ext usage") */
extern void UsageShmemRequest(void);
extern void UsageShmemStartup(void);

/* hooks: caller holds the pool lock exclusively */
extern void UsageSync(int part_idx);
extern void UsageCount(int part_idx, UsageEvent event);
extern void UsageRecordWait(int part_idx, int64 us);
extern void UsageCountError(int part_idx);	/* takes the pool lock itself */

/* resets and rotation */
extern void UsageResetPartition(int part_idx);
extern void UsageResetPool(int pool_idx);
extern void UsageRotate(TimestampTz now);
extern void UsageResume(int pool_idx);	/* after loading saved windows */

/* reading: caller holds the pool lock, at least shared */
extern void UsageReadPartition(int part_idx, StatsWindow window,
							   TimestampTz now, UsageTally *out);
extern void UsageReadPool(int pool_idx, StatsWindow window, TimestampTz now,
						  UsageTally *out);
extern int	UsageReadIntervals(int pool_idx, TimestampTz now,
							   PoolUsage *scratch, UsageInterval *out,
							   int max);
extern bool UsageIntervalShown(const UsageInterval *iv);
extern double UsageIntervalWaitP95(const UsageInterval *iv);
extern void UsageTallyMerge(UsageTally *dst, const UsageTally *src);

#endif							/* PGPOOL_USAGE_H */

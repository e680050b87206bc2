/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *	  One copy of every pool's run-time state and statistics, taken under
 *	  the locks, for the functions that show many pools at once
 *	  (metrics(), dashboard(), the partitions view).
 *
 * src/sql/snapshot.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_SQL_SNAPSHOT_H
#define PGPOOL_SQL_SNAPSHOT_H

#include "lib/stringinfo.h"

#include "shm/shmem.h"
#include "shm/stats.h"
#include "shm/usage.h"
#include "sql/efficiency.h"

/* What PoolSnapshotTake copies besides counts (flags, or-ed) */
#define SNAP_LATENCY_TOTAL	0x01	/* distributions since the last reset */
#define SNAP_LATENCY_RECENT	0x02	/* distributions of the last 5 minutes */
#define SNAP_WAITERS		0x04	/* every waiting backend */
#define SNAP_USAGE			0x08	/* usage of partitions since the reset */
#define SNAP_INTERVALS		0x10	/* pools' usage intervals of the last
									 * SNAP_USAGE_SPAN */

#define SNAP_EFFICIENCY		0x20	/* what pools' efficiency over the last
									 * 5 minutes is computed from */

/* How far back SNAP_INTERVALS copies a pool's intervals (µs: 60 minutes). */
#define SNAP_USAGE_SPAN		(60 * USECS_PER_MINUTE)

/* One usage interval of a pool (SNAP_INTERVALS): a row of usage_hourly. */
typedef struct SnapInterval
{
	TimestampTz start;
	int32		width_s;
	UsageTally	tally;
	double		wait_p95;		/* seconds; -1: no wait recorded */
} SnapInterval;

/* One partition entry of a live pool. */
typedef struct SnapPart
{
	int			pool;			/* index into PoolSnapshot.pools */
	int			entry;			/* partition entry (PoolShared->partitions) */
	char		key[PGPOOL_NAME_LEN];	/* "" for the default partition */
	int			count[PGPOOL_NSTATES];	/* slots by state */
	int			nwaiting;
	TimestampTz oldest_wait;	/* 0: nobody waits */
	/* the windows asked for (SNAP_LATENCY_*); the others are zero */
	HistSnapshot latency[PGPOOL_NKINDS][PGPOOL_NWINDOWS];
	uint64		outcomes[PGPOOL_NKINDS][PGPOOL_NWINDOWS][PGPOOL_NOUTCOMES];
	UsageTally	usage_total;	/* SNAP_USAGE: since the last reset */
} SnapPart;

/* One live pool; its partitions are parts[first_part .. +nparts). */
typedef struct SnapPool
{
	int			entry;			/* pool entry (PoolShared->pools) */
	char		name[PGPOOL_NAME_LEN];
	PoolDefinition def;			/* conninfo unmasked: mask before showing */
	uint64		counters[PGPOOL_NCOUNTERS];
	TimestampTz stats_reset;
	int			nconns;
	int			nwaiting;
	char		last_error[PGPOOL_ERROR_LEN];
	int			first_part;
	int			nparts;
	int			first_waiter;	/* waiters[first_waiter .. +nwaiters) */
	int			nwaiters;		/* copied (SNAP_WAITERS), else 0 */
	SnapInterval *intervals;	/* SNAP_INTERVALS: oldest first, else NULL */
	int			nintervals;
	EfficiencyInput *efficiency;	/* SNAP_EFFICIENCY: the pool's, 5min */
} SnapPool;

/* One backend waiting in acquire (SNAP_WAITERS). */
typedef struct SnapWaiter
{
	int			pool;			/* index into PoolSnapshot.pools */
	int			part;			/* index into PoolSnapshot.parts */
	int			pid;
	Oid			role;
	PoolPriority priority;
	int			position;		/* in its partition's queue, from 1 */
	TimestampTz wait_start;
} SnapWaiter;

typedef struct PoolSnapshot
{
	int			what;			/* SNAP_* flags it was taken with */
	bool		worker_up;
	TimestampTz now;			/* when it was taken */
	int			npools;
	SnapPool   *pools;
	int			nparts;
	SnapPart   *parts;
	int			nwaiters;
	SnapWaiter *waiters;		/* by pool, then in backend order */
} PoolSnapshot;

extern void PoolSnapshotTake(PoolSnapshot *snap, int what);
extern void PoolSnapshotMergeLatency(const PoolSnapshot *snap, int pool,
									 StatsKind kind, StatsWindow window,
									 HistSnapshot *merged,
									 uint64 outcomes[PGPOOL_NOUTCOMES]);
extern void SnapAppendNumber(StringInfo buf, double value);
extern double SnapSeconds(TimestampTz from, TimestampTz to);

#endif							/* PGPOOL_SQL_SNAPSHOT_H */

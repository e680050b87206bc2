/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *	  One copy of every live pool's run-time state and statistics, for the
 *	  functions that show all pools at once: metrics(), dashboard() and the
 *	  partitions view.
 *
 * PoolSnapshotTake copies, for every pool in use and not being dropped,
 * its definition, counters and connection and waiter counts, and for each
 * of its partitions the slot counts by state, the waiters and the latency
 * distributions of the windows asked for (SNAP_LATENCY_TOTAL, _RECENT);
 * with SNAP_WAITERS also every waiting backend; with SNAP_USAGE each
 * partition's usage since the last reset, with SNAP_INTERVALS each pool's
 * usage intervals of the last hour (shm/usage.h), with SNAP_EFFICIENCY
 * what each pool's efficiency over the last 5 minutes is computed from
 * (EfficiencyCopy; the arithmetic is left for after the locks).  The
 * callers turn the copy into text, jsonb or tuples after every lock is
 * released, and mask the conninfo then.
 *
 * Locking: every array is allocated before the first lock is taken (their
 * sizes are fixed at postmaster start); then the global lock shared
 * (membership), and each pool's lock shared, one pool at a time, while
 * that pool is copied.  The histograms are read through StatsCopy, under
 * the pool lock, as the latency views do.  Nothing here allocates or
 * reads a catalog while a lock is held.
 *
 * src/sql/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "utils/timestamp.h"

#include "backend/lookup.h"
#include "shm/pool.h"
#include "shm/waitq.h"
#include "sql/snapshot.h"

static void snapshot_copy_pool(PoolSnapshot *snap, int p, uint64 minute);
static void snapshot_copy_partition(PoolSnapshot *snap, int i,
									uint64 minute);
static void snapshot_copy_waiters(PoolSnapshot *snap, int p);
static void snapshot_copy_intervals(PoolSnapshot *snap, int p,
									UsageInterval *ring, PoolUsage *scratch);

/*
 * PoolSnapshotTake
 *		Copy every live pool, its partitions and, as what says, their
 *		latency windows and the waiting backends.
 */
void
PoolSnapshotTake(PoolSnapshot *snap, int what)
{
	uint64		minute;
	UsageInterval *ring = NULL;
	PoolUsage  *scratch = NULL;
	int			p;

	PoolShmemCheckPreloaded();
	LookupWaitConfigLoaded(false);
	snap->what = what;
	snap->now = GetCurrentTimestamp();
	minute = HistMinuteOf(snap->now);
	snap->npools = 0;
	snap->pools = palloc(sizeof(SnapPool) * PoolShared->npools);
	snap->nparts = 0;
	snap->parts = palloc(sizeof(SnapPart) * PoolShared->npartitions);
	snap->nwaiters = 0;
	snap->waiters = (what & SNAP_WAITERS) ?
		palloc(sizeof(SnapWaiter) * PoolShared->nbackends) : NULL;
	for (p = 0; p < PoolShared->npools; p++)
		snap->pools[p].efficiency = (what & SNAP_EFFICIENCY) ?
			palloc(sizeof(EfficiencyInput)) : NULL;
	if (what & SNAP_INTERVALS)
	{
		ring = palloc(sizeof(UsageInterval) * USAGE_NINTERVALS);
		scratch = palloc(sizeof(PoolUsage));
		for (p = 0; p < PoolShared->npools; p++)
			snap->pools[p].intervals =
				palloc(sizeof(SnapInterval) * USAGE_NINTERVALS);
	}

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	snap->worker_up = PoolShared->worker_pid != 0;
	for (p = 0; p < PoolShared->npools; p++)
	{
		LWLockAcquire(PoolLock(p), LW_SHARED);
		snapshot_copy_pool(snap, p, minute);
		if (snap->npools > 0 && snap->pools[snap->npools - 1].entry == p)
		{
			SnapPool   *sp = &snap->pools[snap->npools - 1];

			if (ring != NULL)
				snapshot_copy_intervals(snap, p, ring, scratch);
			if (sp->efficiency != NULL)
				EfficiencyCopy(p, -1, STATS_RECENT, snap->now, sp->efficiency);
		}
		LWLockRelease(PoolLock(p));
	}
	LWLockRelease(&PoolShared->lock);
}

/*
 * snapshot_copy_pool
 *		Append pool entry p, its partitions and its waiters, if p is live.
 *		Caller holds the global lock and p's lock, both at least shared.
 */
static void
snapshot_copy_pool(PoolSnapshot *snap, int p, uint64 minute)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	SnapPool   *sp;
	int			i;

	if (!pool->in_use || pool->dropping)
		return;
	sp = &snap->pools[snap->npools];
	sp->entry = p;
	sp->nintervals = 0;
	if (!(snap->what & SNAP_INTERVALS))
		sp->intervals = NULL;
	strlcpy(sp->name, pool->name, sizeof(sp->name));
	sp->def = pool->def;
	memcpy(sp->counters, pool->stats.counters, sizeof(sp->counters));
	sp->stats_reset = pool->stats.stats_reset;
	sp->nconns = pool->nconns;
	sp->nwaiting = pool->nwaiting;
	strlcpy(sp->last_error, pool->last_error, sizeof(sp->last_error));
	sp->first_part = snap->nparts;
	for (i = 0; i < PoolShared->npartitions; i++)
		if (PoolShared->partitions[i].in_use &&
			PoolShared->partitions[i].pool == p)
			snapshot_copy_partition(snap, i, minute);
	sp->nparts = snap->nparts - sp->first_part;
	sp->first_waiter = snap->nwaiters;
	snapshot_copy_waiters(snap, p);
	sp->nwaiters = snap->nwaiters - sp->first_waiter;
	snap->npools++;
}

/*
 * snapshot_copy_partition
 *		Append partition entry i of the pool being copied: slot counts,
 *		waiters and the latency windows asked for.  Caller holds the global
 *		lock and the pool's lock.
 */
static void
snapshot_copy_partition(PoolSnapshot *snap, int i, uint64 minute)
{
	PartitionEntry *part = &PoolShared->partitions[i];
	SnapPart   *sp = &snap->parts[snap->nparts++];
	int			k;
	int			w;

	sp->pool = snap->npools;
	sp->entry = i;
	strlcpy(sp->key, part->key, sizeof(sp->key));
	memcpy(sp->count, part->count, sizeof(sp->count));
	sp->nwaiting = part->nwaiting;
	sp->oldest_wait = 0;
	if (snap->what & SNAP_USAGE)
		UsageReadPartition(i, STATS_TOTAL, snap->now, &sp->usage_total);
	else
		memset(&sp->usage_total, 0, sizeof(UsageTally));
	for (w = 0; w < PGPOOL_NWINDOWS; w++)
	{
		int			flag = w == STATS_TOTAL ? SNAP_LATENCY_TOTAL :
			SNAP_LATENCY_RECENT;

		for (k = 0; k < PGPOOL_NKINDS; k++)
		{
			if (snap->what & flag)
				StatsCopy(PoolPartitionStats(i), (StatsKind) k,
						  (StatsWindow) w, minute, &sp->latency[k][w],
						  sp->outcomes[k][w]);
			else
			{
				HistSnapInit(&sp->latency[k][w]);
				memset(sp->outcomes[k][w], 0, sizeof(sp->outcomes[k][w]));
			}
		}
	}
}

/*
 * snapshot_copy_waiters
 *		The backends waiting on pool entry p: each partition's oldest wait
 *		and, with SNAP_WAITERS, a copy of each.  Caller holds the global
 *		lock and p's lock; p's partitions are the last ones copied.
 */
static void
snapshot_copy_waiters(PoolSnapshot *snap, int p)
{
	int			first = snap->pools[snap->npools].first_part;
	int			b;

	for (b = 0; b < PoolShared->nbackends; b++)
	{
		BackendEntry *be = &PoolShared->backends[b];
		SnapPart   *sp = NULL;
		int			j;

		if (!be->waiting || be->wait_pool != p)
			continue;
		for (j = first; j < snap->nparts; j++)
			if (snap->parts[j].entry == be->wait_partition)
				sp = &snap->parts[j];
		if (sp == NULL)
			continue;
		if (sp->oldest_wait == 0 || be->wait_start < sp->oldest_wait)
			sp->oldest_wait = be->wait_start;
		if (snap->waiters != NULL)
		{
			SnapWaiter *w = &snap->waiters[snap->nwaiters++];

			w->pool = snap->npools;
			w->part = sp - snap->parts;
			w->pid = be->pid;
			w->role = be->wait_role;
			w->priority = be->priority;
			w->position = WaitqPosition(&PoolShared->partitions[sp->entry], be);
			w->wait_start = be->wait_start;
		}
	}
}

/*
 * snapshot_copy_intervals
 *		The usage intervals of pool entry p (the last pool copied) that end
 *		less than SNAP_USAGE_SPAN ago, through ring (room for the whole
 *		interval ring) and scratch (UsageReadIntervals'), both allocated by
 *		the caller before it took any lock.  Caller holds p's lock.
 */
static void
snapshot_copy_intervals(PoolSnapshot *snap, int p, UsageInterval *ring,
						PoolUsage *scratch)
{
	SnapPool   *sp = &snap->pools[snap->npools - 1];
	int			n = UsageReadIntervals(p, snap->now, scratch, ring,
									   USAGE_NINTERVALS);
	int			k;

	for (k = 0; k < n; k++)
	{
		SnapInterval *si;

		if (ring[k].start + ring[k].width_s * USECS_PER_SEC <=
			snap->now - SNAP_USAGE_SPAN ||
			!UsageIntervalShown(&ring[k]))
			continue;
		si = &sp->intervals[sp->nintervals++];
		si->start = ring[k].start;
		si->width_s = ring[k].width_s;
		si->tally = ring[k].tally;
		si->wait_p95 = UsageIntervalWaitP95(&ring[k]);
	}
}

/*
 * PoolSnapshotMergeLatency
 *		One distribution of a whole pool (index into snap->pools) in one
 *		window: the merge of its partitions' copies, and their outcomes.
 */
void
PoolSnapshotMergeLatency(const PoolSnapshot *snap, int pool, StatsKind kind,
						 StatsWindow window, HistSnapshot *merged,
						 uint64 outcomes[PGPOOL_NOUTCOMES])
{
	const SnapPool *sp = &snap->pools[pool];
	int			i;
	int			o;

	HistSnapInit(merged);
	memset(outcomes, 0, sizeof(uint64) * PGPOOL_NOUTCOMES);
	for (i = sp->first_part; i < sp->first_part + sp->nparts; i++)
	{
		HistSnapMerge(merged, &snap->parts[i].latency[kind][window]);
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			outcomes[o] += snap->parts[i].outcomes[kind][window][o];
	}
}

/* Seconds from one time to a later one; 0 when from is 0 or later. */
double
SnapSeconds(TimestampTz from, TimestampTz to)
{
	return from == 0 || to <= from ? 0.0 : (double) (to - from) / USECS_PER_SEC;
}

/*
 * SnapAppendNumber
 *		A number of JSON or of the Prometheus text format: the shortest
 *		form that reads back exactly (as float8out with extra_float_digits
 *		1); integers below 2^53 print without exponent.  The value must be
 *		finite.  Counters are sent as double precision, as Prometheus keeps
 *		them: exact up to 2^53.
 */
void
SnapAppendNumber(StringInfo buf, double value)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (value == floor(value) && fabs(value) < 9007199254740992.0)
		appendStringInfo(buf, INT64_FORMAT, (int64) value);
	else
	{
		double_to_shortest_decimal_buf(value, num);
		appendStringInfoString(buf, num);
	}
}

/*-------------------------------------------------------------------------
 *
 * latency.c
 *	  SQL functions of the latency statistics: the latency and histogram
 *	  views, and reset_stats().
 *
 * The latency view has a row per pool (partition NULL: the merge of its
 * partitions), per partition ('' is the default), per distribution (wait,
 * hold, query) and per window ('total' since the last reset, '5min' the
 * recent ring): count, mean, percentiles and max in seconds, plus the
 * waits that ended without a grant (timeouts, cancels) and the queries
 * that ended in an error.  The histogram view has a row per non-empty
 * bucket of the same distributions, with a bar of '#' to show the shape in
 * psql.  Both copy every partition's histograms out of shared memory
 * first (latency_copy_all), then build tuples without any lock held.  The
 * pools view's wait columns come from LatencyPoolSummary.
 *
 * reset_stats(pool) zeroes a pool's counters and distributions (or every
 * pool's): a write, so, like pg_stat_statements_reset(), it is revoked
 * from PUBLIC and left for superusers to grant.
 *
 * Locking: the global lock shared (membership), each pool's lock shared to
 * copy, exclusive to reset (stats.h).
 *
 * src/sql/latency.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "backend/lookup.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "shm/shmem.h"
#include "shm/stats.h"
#include "shm/usage.h"
#include "sql/latency.h"

PG_FUNCTION_INFO_V1(pgpool_ext_latency_info);
PG_FUNCTION_INFO_V1(pgpool_ext_histogram_info);
PG_FUNCTION_INFO_V1(pgpool_ext_reset_stats);

/* Longest bar of the histogram view. */
#define LATENCY_BAR_WIDTH		40

/* One partition's distributions (or a pool's: their merge), copied out. */
typedef struct PartCopy
{
	int			pool;
	char		key[PGPOOL_NAME_LEN];
	HistSnapshot snap[PGPOOL_NKINDS][PGPOOL_NWINDOWS];
	uint64		outcomes[PGPOOL_NKINDS][PGPOOL_NWINDOWS][PGPOOL_NOUTCOMES];
} PartCopy;

/* Every distribution the views show. */
typedef struct LatencyCopyAll
{
	int			npools;
	bool	   *pool_shown;		/* in use and not being dropped */
	char	  (*pool_names)[PGPOOL_NAME_LEN];
	int			nparts;
	PartCopy  **parts;			/* NULL: not in use, or of a pool not shown */
} LatencyCopyAll;

/* Builds the rows of one distribution (partition NULL: the pool's). */
typedef void (*LatencyRowFunc) (ReturnSetInfo *rsinfo, const char *pool,
							  const char *partition, StatsKind kind,
							  StatsWindow window, const HistSnapshot *snap,
							  const uint64 *outcomes);

static void latency_copy_all(LatencyCopyAll *c);
static void latency_reset_pool(int pool);
static void latency_foreach(FunctionCallInfo fcinfo, LatencyRowFunc fn);
static void latency_rows(ReturnSetInfo *rsinfo, LatencyRowFunc fn,
						 const char *pool, const char *partition,
						 const PartCopy *pc);
static void latency_row(ReturnSetInfo *rsinfo, const char *pool,
						const char *partition, StatsKind kind,
						StatsWindow window, const HistSnapshot *snap,
						const uint64 *outcomes);
static void histogram_rows(ReturnSetInfo *rsinfo, const char *pool,
						   const char *partition, StatsKind kind,
						   StatsWindow window, const HistSnapshot *snap,
						   const uint64 *outcomes);

static const char *const kind_names[PGPOOL_NKINDS] = {"wait", "hold", "query"};
static const char *const window_names[PGPOOL_NWINDOWS] = {"total", "5min"};

/*
 * latency_copy_all
 *		Copy the distributions of every partition of every pool shown,
 *		pool by pool under its lock (allocating under an LWLock is safe:
 *		an error releases it).
 */
static void
latency_copy_all(LatencyCopyAll *c)
{
	uint64		minute = HistMinuteOf(GetCurrentTimestamp());
	int			p;
	int			i;

	PoolShmemCheckPreloaded();
	LookupWaitConfigLoaded(false);
	c->npools = PoolShared->npools;
	c->nparts = PoolShared->npartitions;
	c->pool_shown = palloc0(sizeof(bool) * c->npools);
	c->pool_names = palloc0(PGPOOL_NAME_LEN * c->npools);
	c->parts = palloc0(sizeof(PartCopy *) * c->nparts);

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	for (p = 0; p < c->npools; p++)
	{
		PoolEntry  *pool = &PoolShared->pools[p];

		LWLockAcquire(PoolLock(p), LW_SHARED);
		c->pool_shown[p] = pool->in_use && !pool->dropping;
		strlcpy(c->pool_names[p], pool->name, PGPOOL_NAME_LEN);
		for (i = 0; c->pool_shown[p] && i < c->nparts; i++)
		{
			PartitionEntry *part = &PoolShared->partitions[i];
			PartCopy   *pc;
			int			k;
			int			w;

			if (!part->in_use || part->pool != p)
				continue;
			pc = c->parts[i] = palloc(sizeof(PartCopy));
			pc->pool = p;
			strlcpy(pc->key, part->key, PGPOOL_NAME_LEN);
			for (k = 0; k < PGPOOL_NKINDS; k++)
				for (w = 0; w < PGPOOL_NWINDOWS; w++)
					StatsCopy(PoolPartitionStats(i), k, w, minute,
							  &pc->snap[k][w], pc->outcomes[k][w]);
		}
		LWLockRelease(PoolLock(p));
	}
	LWLockRelease(&PoolShared->lock);
}

/*
 * latency_rows
 *		Call fn for each distribution (kind, window) of one copy.
 */
static void
latency_rows(ReturnSetInfo *rsinfo, LatencyRowFunc fn, const char *pool,
			 const char *partition, const PartCopy *pc)
{
	int			k;
	int			w;

	for (k = 0; k < PGPOOL_NKINDS; k++)
		for (w = 0; w < PGPOOL_NWINDOWS; w++)
			fn(rsinfo, pool, partition, k, w, &pc->snap[k][w],
			   pc->outcomes[k][w]);
}

/*
 * latency_foreach
 *		Copy everything, then call fn for every distribution: per pool, the
 *		merge of its partitions, then each partition; per kind; per window.
 */
static void
latency_foreach(FunctionCallInfo fcinfo, LatencyRowFunc fn)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LatencyCopyAll c;
	PartCopy   *whole = palloc(sizeof(PartCopy));
	int			p;
	int			i;
	int			k;
	int			w;
	int			o;

	latency_copy_all(&c);
	InitMaterializedSRF(fcinfo, 0);
	for (p = 0; p < c.npools; p++)
	{
		if (!c.pool_shown[p])
			continue;
		memset(whole, 0, sizeof(PartCopy));
		for (i = 0; i < c.nparts; i++)
		{
			PartCopy   *pc = c.parts[i];

			if (pc == NULL || pc->pool != p)
				continue;
			for (k = 0; k < PGPOOL_NKINDS; k++)
				for (w = 0; w < PGPOOL_NWINDOWS; w++)
				{
					HistSnapMerge(&whole->snap[k][w], &pc->snap[k][w]);
					for (o = 0; o < PGPOOL_NOUTCOMES; o++)
						whole->outcomes[k][w][o] += pc->outcomes[k][w][o];
				}
		}
		latency_rows(rsinfo, fn, c.pool_names[p], NULL, whole);
		for (i = 0; i < c.nparts; i++)
			if (c.parts[i] != NULL && c.parts[i]->pool == p)
				latency_rows(rsinfo, fn, c.pool_names[p], c.parts[i]->key,
							 c.parts[i]);
	}
}

/* The first four columns of both views; returns how many were set. */
static int
latency_key_datums(Datum *v, bool *n, const char *pool, const char *partition,
				 StatsKind kind, StatsWindow window)
{
	v[0] = CStringGetTextDatum(pool);
	n[1] = partition == NULL;
	v[1] = partition ? CStringGetTextDatum(partition) : (Datum) 0;
	v[2] = CStringGetTextDatum(kind_names[kind]);
	v[3] = CStringGetTextDatum(window_names[window]);
	return 4;
}

#define LATENCY_COLS 15

/*
 * latency_row
 *		One row of the latency view.
 */
static void
latency_row(ReturnSetInfo *rsinfo, const char *pool, const char *partition,
			StatsKind kind, StatsWindow window, const HistSnapshot *snap,
			const uint64 *outcomes)
{
	Datum		v[LATENCY_COLS];
	bool		n[LATENCY_COLS];
	StatsSummary sum;
	double		values[7];
	int			c;
	int			i;

	memset(n, 0, sizeof(n));
	c = latency_key_datums(v, n, pool, partition, kind, window);
	StatsSummarize(snap, &sum);
	v[c++] = Int64GetDatum((int64) sum.count);
	values[0] = sum.mean;
	values[1] = sum.p50;
	values[2] = sum.p90;
	values[3] = sum.p95;
	values[4] = sum.p99;
	values[5] = sum.p999;
	values[6] = sum.max;
	for (i = 0; i < lengthof(values); i++)
	{
		n[c] = sum.count == 0;
		v[c++] = Float8GetDatum(values[i]);
	}
	n[c] = kind != STATS_WAIT;
	v[c++] = Int64GetDatum((int64) outcomes[STATS_TIMEOUT]);
	n[c] = kind != STATS_WAIT;
	v[c++] = Int64GetDatum((int64) outcomes[STATS_CANCEL]);
	n[c] = kind != STATS_QUERY;
	v[c++] = Int64GetDatum((int64) outcomes[STATS_ERROR]);
	Assert(c == LATENCY_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

#define HISTOGRAM_COLS 9

/*
 * histogram_rows
 *		The rows of the histogram view for one distribution: its non-empty
 *		buckets, bounds in seconds (the last bucket's upper bound is
 *		infinity), with a bar scaled to the largest bucket.
 */
static void
histogram_rows(ReturnSetInfo *rsinfo, const char *pool, const char *partition,
			   StatsKind kind, StatsWindow window, const HistSnapshot *snap,
			   const uint64 *outcomes)
{
	HistBucketIter it;
	uint64		largest = 0;
	char		bar[LATENCY_BAR_WIDTH + 1];

	memset(&it, 0, sizeof(it));
	while (HistSnapNextBucket(snap, &it))
		largest = Max(largest, it.count);
	memset(&it, 0, sizeof(it));
	while (HistSnapNextBucket(snap, &it))
	{
		Datum		v[HISTOGRAM_COLS];
		bool		n[HISTOGRAM_COLS];
		int			width;
		int			c;

		memset(n, 0, sizeof(n));
		c = latency_key_datums(v, n, pool, partition, kind, window);
		v[c++] = Float8GetDatum(it.lower / 1e6);
		v[c++] = Float8GetDatum(it.upper == HIST_NO_BOUND ?
								get_float8_infinity() : it.upper / 1e6);
		v[c++] = Int64GetDatum((int64) it.count);
		v[c++] = Int64GetDatum((int64) it.cumulative);
		width = (int) ceil((double) LATENCY_BAR_WIDTH * it.count / largest);
		memset(bar, '#', width);
		bar[width] = '\0';
		v[c++] = CStringGetTextDatum(bar);
		Assert(c == HISTOGRAM_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
}

/*
 * latency_info() -> the latency view
 */
Datum
pgpool_ext_latency_info(PG_FUNCTION_ARGS)
{
	latency_foreach(fcinfo, latency_row);
	return (Datum) 0;
}

/*
 * histogram_info() -> the histogram view
 */
Datum
pgpool_ext_histogram_info(PG_FUNCTION_ARGS)
{
	latency_foreach(fcinfo, histogram_rows);
	return (Datum) 0;
}

/*
 * LatencyPoolSummary
 *		One distribution of a whole pool in one window: the merge of its
 *		partitions', copied under the locks, summarized after.  Caller
 *		holds no pgpool_ext lock.
 */
void
LatencyPoolSummary(int pool, StatsKind kind, StatsWindow window,
				   StatsSummary *sum)
{
	HistSnapshot *merged = palloc(sizeof(HistSnapshot));
	HistSnapshot *one = palloc(sizeof(HistSnapshot));
	uint64		outcomes[PGPOOL_NOUTCOMES];
	uint64		total[PGPOOL_NOUTCOMES];
	uint64		minute = HistMinuteOf(GetCurrentTimestamp());
	int			i;
	int			o;

	HistSnapInit(merged);
	memset(total, 0, sizeof(total));
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	LWLockAcquire(PoolLock(pool), LW_SHARED);
	for (i = 0; i < PoolShared->npartitions; i++)
	{
		if (!PoolShared->partitions[i].in_use ||
			PoolShared->partitions[i].pool != pool)
			continue;
		StatsCopy(PoolPartitionStats(i), kind, window, minute, one, outcomes);
		HistSnapMerge(merged, one);
		for (o = 0; o < PGPOOL_NOUTCOMES; o++)
			total[o] += outcomes[o];
	}
	LWLockRelease(PoolLock(pool));
	LWLockRelease(&PoolShared->lock);
	StatsSummarize(merged, sum);
	memcpy(sum->outcomes, total, sizeof(total));
	pfree(merged);
	pfree(one);
}

/*
 * latency_reset_pool
 *		reset_stats() of one pool: its counters, stats_reset, and every
 *		distribution of its partitions.  Caller holds the global lock
 *		(partition membership) at least shared and the pool lock
 *		exclusively.
 */
static void
latency_reset_pool(int pool)
{
	int			i;

	StatsReset(&PoolShared->pools[pool].stats);
	for (i = 0; i < PoolShared->npartitions; i++)
		if (PoolShared->partitions[i].in_use &&
			PoolShared->partitions[i].pool == pool)
		{
			StatsResetPartition(PoolPartitionStats(i));
			UsageResetPartition(i);
		}
	UsageResetPool(pool);
}

/*
 * reset_stats(pool text DEFAULT NULL) -> void
 *		Zero the counters and distributions of pool, or of every pool, and
 *		set their stats_reset.  An unknown pool is 42704.
 */
Datum
pgpool_ext_reset_stats(PG_FUNCTION_ARGS)
{
	char	   *name = NULL;
	int			p;

	if (!PG_ARGISNULL(0))
		name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PoolShmemCheckPreloaded();
	LookupWaitConfigLoaded(false);	/* a pool just created is found */
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	if (name != NULL && PoolFindByName(name) < 0)
	{
		LWLockRelease(&PoolShared->lock);
		PoolErrorUnknownPool(name);
	}
	for (p = 0; p < PoolShared->npools; p++)
	{
		PoolEntry  *pool = &PoolShared->pools[p];

		if (!pool->in_use || pool->dropping ||
			(name != NULL && strcmp(pool->name, name) != 0))
			continue;
		LWLockAcquire(PoolLock(p), LW_EXCLUSIVE);
		latency_reset_pool(p);
		LWLockRelease(PoolLock(p));
	}
	LWLockRelease(&PoolShared->lock);
	PG_RETURN_VOID();
}

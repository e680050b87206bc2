/*-------------------------------------------------------------------------
 *
 * efficiency.c
 *	  The efficiency view: how well each pool's connections are used, and
 *	  the smallest max_size that keeps its wait p95 under target_wait.
 *
 * A row per pool (partition NULL: all its partitions) and per partition,
 * in two windows ('total' since the last reset, '5min' the last five
 * minutes).  The ratios come from the usage core's time-weighted gauges
 * and event counts (shm/usage.h): utilization = time in use / time open,
 * busy share = time with a request in flight / time in use, and so on;
 * the mean hold and query times from the latency histograms (their sums
 * are exact).
 *
 * The recommendation models the pool as an M/M/c queue (common/erlang.c):
 * acquires arriving at the observed rate lambda (granted or timed out,
 * per second), holding a connection for the observed mean hold h, offer
 * a = lambda h Erlangs; recommended_max_size is the smallest c > a with
 * P(wait > target_wait) <= 5 %.  It needs enough data: at least
 * EFFICIENCY_MIN_ACQUIRES acquires over EFFICIENCY_MIN_ELAPSED_S seconds,
 * and recorded hold times; otherwise it is NULL and the advice says why.
 * The advice rules (efficiency_advise) are the README's.
 *
 * Locking: the global lock shared, then each pool's lock shared, to copy
 * (EfficiencyCopy); every computation after the locks are released.
 *
 * src/sql/efficiency.c
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
#include "common/erlang.h"
#include "common/guc.h"
#include "shm/pool.h"
#include "shm/shmem.h"
#include "sql/efficiency.h"

PG_FUNCTION_INFO_V1(pgpool_ext_efficiency_info);

const char *const EfficiencyMeasureNames[EFF_NMEASURES] = {
	[EFF_ELAPSED] = "elapsed",
	[EFF_UTILIZATION] = "utilization",
	[EFF_SATURATION] = "saturation",
	[EFF_IMMEDIATE_RATIO] = "immediate_ratio",
	[EFF_REUSE] = "reuse",
	[EFF_CHURN_PER_HOUR] = "churn_per_hour",
	[EFF_IDLE_CONNECTION_SECONDS] = "idle_connection_seconds",
	[EFF_RESET_SHARE] = "reset_share",
	[EFF_BUSY_SHARE] = "busy_share",
	[EFF_MEAN_HOLD] = "mean_hold",
	[EFF_MEAN_QUERY] = "mean_query",
	[EFF_ARRIVAL_RATE] = "arrival_rate",
	[EFF_OFFERED_LOAD] = "offered_load",
};

/* Busy shares below this: holders sit on idle connections */
#define EFFICIENCY_LOW_BUSY_SHARE	0.5

/* One row of the view, copied: its keys and its input */
typedef struct EfficiencyCopyRow
{
	char		pool[PGPOOL_NAME_LEN];
	char		key[PGPOOL_NAME_LEN];
	bool		whole_pool;		/* partition NULL */
	StatsWindow window;
	EfficiencyInput in;
} EfficiencyCopyRow;

static void efficiency_copy_hists(int part_idx, StatsWindow window,
								  uint64 minute, EfficiencyInput *in);
static double efficiency_ratio(double num, double den);
static double efficiency_share(double num, double den);
static bool efficiency_enough(const EfficiencyInput *in, const double *m);
static void efficiency_measures(const EfficiencyInput *in, double *m);
static int	efficiency_recommend(const EfficiencyInput *in, const double *m);
static void efficiency_advise(const EfficiencyInput *in,
							  const EfficiencyRow *row, char *advice);
static int	efficiency_copy_all(EfficiencyCopyRow **rows);
static void efficiency_put_row(ReturnSetInfo *rsinfo,
							   const EfficiencyCopyRow *c);

static const char *const window_names[PGPOOL_NWINDOWS] = {"total", "5min"};

/*
 * efficiency_copy_hists
 *		Add partition part_idx's wait, hold and query histograms of window
 *		(the recent one: up to minute) to in's, and its cancelled waits.
 *		Caller holds the pool lock at least shared.
 */
static void
efficiency_copy_hists(int part_idx, StatsWindow window, uint64 minute,
					  EfficiencyInput *in)
{
	PartitionStats *ps = PoolPartitionStats(part_idx);
	uint64		outcomes[PGPOOL_NOUTCOMES];
	HistSnapshot one;

	StatsCopy(ps, STATS_WAIT, window, minute, &one, outcomes);
	HistSnapMerge(&in->wait, &one);
	in->wait_cancels += outcomes[STATS_CANCEL];
	StatsCopy(ps, STATS_HOLD, window, minute, &one, outcomes);
	HistSnapMerge(&in->hold, &one);
	StatsCopy(ps, STATS_QUERY, window, minute, &one, outcomes);
	HistSnapMerge(&in->query, &one);
}

/*
 * EfficiencyCopy
 *		What the row of pool pool_idx (part_idx -1) or of its partition
 *		part_idx in window needs, up to now (PoolSlotClock(), the clock of
 *		the usage gauges; the latency rings' minute is read from the precise
 *		clock, as the latency view reads it).  Caller holds the global lock
 *		and the pool lock, both at least shared.
 */
void
EfficiencyCopy(int pool_idx, int part_idx, StatsWindow window,
			   TimestampTz now, EfficiencyInput *in)
{
	const PoolDefinition *def = &PoolShared->pools[pool_idx].def;
	uint64		minute = HistMinuteOf(GetCurrentTimestamp());
	int			i;

	memset(in, 0, offsetof(EfficiencyInput, wait));
	HistSnapInit(&in->wait);
	HistSnapInit(&in->hold);
	HistSnapInit(&in->query);
	in->wait_cancels = 0;
	in->partition = part_idx >= 0;
	in->max_size = def->max_size;
	in->min_size = def->min_size;
	in->target_wait_ms = def->target_wait_ms > 0 ? def->target_wait_ms :
		EFFICIENCY_DEFAULT_TARGET_WAIT_MS;
	if (part_idx >= 0)
	{
		UsageReadPartition(part_idx, window, now, &in->tally);
		efficiency_copy_hists(part_idx, window, minute, in);
		return;
	}
	UsageReadPool(pool_idx, window, now, &in->tally);
	for (i = 0; i < PoolShared->npartitions; i++)
		if (PoolShared->partitions[i].in_use &&
			PoolShared->partitions[i].pool == pool_idx)
			efficiency_copy_hists(i, window, minute, in);
}

/* num / den, or NaN (NULL) when den is 0 */
static double
efficiency_ratio(double num, double den)
{
	return den > 0.0 ? num / den : get_float8_nan();
}

/* num / den at most 1, or NaN (NULL) when den is 0 */
static double
efficiency_share(double num, double den)
{
	double		r = efficiency_ratio(num, den);

	return isnan(r) ? r : Min(r, 1.0);
}

/*
 * efficiency_measures
 *		The measures of a row (EfficiencyMeasure) from its input.  Shares
 *		are clamped to [0, 1]: in use counts BROKEN slots, which are not
 *		open.  A pool's saturation is its own (time with any backend of the
 *		pool waiting), not the sum of its partitions'.
 */
static void
efficiency_measures(const EfficiencyInput *in, double *m)
{
	const UsageTally *t = &in->tally;
	double		elapsed_us = (double) t->elapsed_us;
	double		acquires = (double) t->events[USAGE_ACQUIRES];
	double		arrivals = acquires + (double) t->events[USAGE_TIMEOUTS];
	double		connects = (double) t->events[USAGE_CONNECTS];
	double		waited;
	double		in_use = (double) t->area[USAGE_IN_USE];

	/* grants that came after a wait: waits not ended by timeout or cancel */
	waited = (double) t->events[USAGE_WAITS] -
		(double) t->events[USAGE_TIMEOUTS] - (double) in->wait_cancels;
	waited = Max(waited, 0.0);

	m[EFF_ELAPSED] = elapsed_us / 1e6;
	m[EFF_UTILIZATION] = efficiency_share(in_use, t->area[USAGE_OPEN]);
	m[EFF_SATURATION] = efficiency_share(t->area[USAGE_SATURATED],
										 elapsed_us);
	m[EFF_IMMEDIATE_RATIO] = efficiency_ratio(Max(acquires - waited, 0.0),
											  acquires);
	m[EFF_REUSE] = efficiency_ratio(acquires, connects);
	m[EFF_CHURN_PER_HOUR] = efficiency_ratio(connects * 3600.0,
											 elapsed_us / 1e6);
	m[EFF_IDLE_CONNECTION_SECONDS] = t->area[USAGE_IDLE] / 1e6;
	m[EFF_RESET_SHARE] = efficiency_ratio(t->area[USAGE_RESETTING], in_use);
	m[EFF_BUSY_SHARE] = efficiency_share(t->area[USAGE_BUSY], in_use);
	m[EFF_MEAN_HOLD] = efficiency_ratio(in->hold.sum / 1e6, in->hold.count);
	m[EFF_MEAN_QUERY] = efficiency_ratio(in->query.sum / 1e6,
										 in->query.count);
	m[EFF_ARRIVAL_RATE] = efficiency_ratio(arrivals, elapsed_us / 1e6);
	m[EFF_OFFERED_LOAD] = m[EFF_ARRIVAL_RATE] * m[EFF_MEAN_HOLD];
}

/*
 * efficiency_enough
 *		Is there enough data for a recommendation: EFFICIENCY_MIN_ACQUIRES
 *		acquires (granted or timed out) over EFFICIENCY_MIN_ELAPSED_S
 *		seconds, and hold times recorded?
 */
static bool
efficiency_enough(const EfficiencyInput *in, const double *m)
{
	return in->tally.events[USAGE_ACQUIRES] +
		in->tally.events[USAGE_TIMEOUTS] >= EFFICIENCY_MIN_ACQUIRES &&
		m[EFF_ELAPSED] >= EFFICIENCY_MIN_ELAPSED_S &&
		in->hold.count > 0;
}

/*
 * efficiency_recommend
 *		The smallest max_size (Erlang C) whose wait p95 stays under the
 *		target for the observed load; -1 without enough data, or when even
 *		ERLANG_MAX_SERVERS would not do.  Holds too short for the clock to
 *		see (mean 0) offer no load: 1.
 */
static int
efficiency_recommend(const EfficiencyInput *in, const double *m)
{
	double		target_s = in->target_wait_ms / 1000.0;

	if (!efficiency_enough(in, m))
		return -1;
	if (m[EFF_MEAN_HOLD] <= 0.0)
		return 1;
	return ErlangServersFor(m[EFF_OFFERED_LOAD], target_s / m[EFF_MEAN_HOLD],
							EFFICIENCY_QUANTILE, ERLANG_MAX_SERVERS);
}

/*
 * efficiency_advise
 *		The advice of a row, one line, by the first rule that applies:
 *		not enough data; a load beyond the model's range; connections that
 *		failed to open while clients waited (the remote is the bottleneck);
 *		a partition's share; more than pgpool_ext.max_connections; raise
 *		(noting holders that sit on idle connections); right (max_size at
 *		most 25 %, or 1, above the recommendation or min_size, whichever is
 *		larger); lower, never under min_size (alter_pool would refuse it).
 */
static void
efficiency_advise(const EfficiencyInput *in, const EfficiencyRow *row,
				  char *advice)
{
	const double *m = row->measure;
	int			rec = row->recommended_max_size;
	int			max_size = in->max_size;
	int			lowest = Max(rec, in->min_size);
	int			target_ms = in->target_wait_ms;
	uint64		failures = in->tally.events[USAGE_CONNECT_FAILURES];

	if (!efficiency_enough(in, m))
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "not enough data: " UINT64_FORMAT " acquires over %.0f s with %s hold times (advice needs %d acquires over %d s)",
				 in->tally.events[USAGE_ACQUIRES] +
				 in->tally.events[USAGE_TIMEOUTS], m[EFF_ELAPSED],
				 in->hold.count > 0 ? "recorded" : "no",
				 EFFICIENCY_MIN_ACQUIRES, EFFICIENCY_MIN_ELAPSED_S);
	else if (rec < 0)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "the load of %.0f Erlangs needs more than %d connections: shorten holds or spread the load",
				 m[EFF_OFFERED_LOAD], ERLANG_MAX_SERVERS);
	else if (failures > 0 && m[EFF_SATURATION] > 0.0 && rec > max_size / 2)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "the remote is the bottleneck: " UINT64_FORMAT " connection attempts failed while clients waited %.0f %% of the time",
				 failures, 100.0 * m[EFF_SATURATION]);
	else if (in->partition)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "this partition's load needs %d connections for a wait p95 under %d ms (the pool's max_size %d is shared by its partitions)",
				 rec, target_ms, max_size);
	else if (rec > pgpool_max_connections)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "raise pgpool_ext.max_connections (now %d) and max_size to %d: wait p95 would drop under %d ms",
				 pgpool_max_connections, rec, target_ms);
	else if (rec > max_size && m[EFF_BUSY_SHARE] < EFFICIENCY_LOW_BUSY_SHARE)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "holders sit on idle connections (busy %.0f %% of the hold): release handles sooner, or raise max_size to %d for a wait p95 under %d ms",
				 100.0 * m[EFF_BUSY_SHARE], rec, target_ms);
	else if (rec > max_size)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "raise max_size to %d: wait p95 would drop under %d ms",
				 rec, target_ms);
	else if (max_size <= lowest + Max(1, lowest / 4))
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "max_size %d is right for the observed load (%d needed for a wait p95 under %d ms)",
				 max_size, rec, target_ms);
	else if (lowest > rec)
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "lower max_size to %d, the pool's min_size: the load needs only %d for a wait p95 under %d ms",
				 lowest, rec, target_ms);
	else
		snprintf(advice, EFFICIENCY_ADVICE_LEN,
				 "lower max_size to %d: wait p95 would stay under %d ms",
				 rec, target_ms);
}

/*
 * EfficiencyFromInput
 *		A row from its copied input.  No lock needed.
 */
void
EfficiencyFromInput(const EfficiencyInput *in, EfficiencyRow *out)
{
	efficiency_measures(in, out->measure);
	out->max_size = in->max_size;
	out->target_wait = in->target_wait_ms / 1000.0;
	out->wait_p95 = in->wait.count > 0 ?
		HistSnapPercentile(&in->wait, EFFICIENCY_QUANTILE) / 1e6 :
		get_float8_nan();
	out->recommended_max_size = efficiency_recommend(in, out->measure);
	efficiency_advise(in, out, out->advice);
}

/*
 * EfficiencyCompute
 *		EfficiencyCopy then EfficiencyFromInput: one row for the dashboard.
 *		Caller holds the global lock and the pool lock, both at least
 *		shared; the arithmetic is bounded (ERLANG_MAX_SERVERS steps).
 */
void
EfficiencyCompute(int pool_idx, int part_idx, StatsWindow window,
				  TimestampTz now, EfficiencyRow *out)
{
	EfficiencyInput *in = palloc(sizeof(EfficiencyInput));

	EfficiencyCopy(pool_idx, part_idx, window, now, in);
	EfficiencyFromInput(in, out);
	pfree(in);
}

/*
 * efficiency_copy_all
 *		The inputs of every row of the view, pool by pool under its lock
 *		(allocating under an LWLock is safe: an error releases it; the one
 *		allocation is made under the global lock held shared, before any
 *		pool lock): per pool, the pool's rows then its partitions', each in
 *		both windows.  Returns how many.
 */
static int
efficiency_copy_all(EfficiencyCopyRow **rows)
{
	TimestampTz now = PoolSlotClock();
	int			max = 0;
	int			n = 0;
	int			p;

	/*
	 * Room for the entries in use, counted under the global lock, which
	 * keeps them in use until the copy is done (not the tables' capacity:
	 * at the largest settings that would be most of a gigabyte).
	 */
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	for (p = 0; p < PoolShared->npools; p++)
		max += PoolShared->pools[p].in_use;
	for (p = 0; p < PoolShared->npartitions; p++)
		max += PoolShared->partitions[p].in_use;
	*rows = palloc(sizeof(EfficiencyCopyRow) * Max(max, 1) * PGPOOL_NWINDOWS);
	for (p = 0; p < PoolShared->npools; p++)
	{
		PoolEntry  *pool = &PoolShared->pools[p];
		int			i;

		if (!pool->in_use || pool->dropping)
			continue;
		LWLockAcquire(PoolLock(p), LW_SHARED);
		for (i = -1; i < PoolShared->npartitions; i++)
		{
			int			w;

			if (i >= 0 && (!PoolShared->partitions[i].in_use ||
						   PoolShared->partitions[i].pool != p))
				continue;
			for (w = 0; w < PGPOOL_NWINDOWS; w++)
			{
				EfficiencyCopyRow *c = &(*rows)[n++];

				strlcpy(c->pool, pool->name, PGPOOL_NAME_LEN);
				c->whole_pool = i < 0;
				strlcpy(c->key, i < 0 ? "" : PoolShared->partitions[i].key,
						PGPOOL_NAME_LEN);
				c->window = w;
				EfficiencyCopy(p, i, w, now, &c->in);
			}
		}
		LWLockRelease(PoolLock(p));
	}
	LWLockRelease(&PoolShared->lock);
	return n;
}

#define EFFICIENCY_COLS		(3 + EFF_NMEASURES + 5)

/*
 * efficiency_put_row
 *		Compute one row from its copy and add it to the result.
 */
static void
efficiency_put_row(ReturnSetInfo *rsinfo, const EfficiencyCopyRow *c)
{
	Datum		v[EFFICIENCY_COLS];
	bool		n[EFFICIENCY_COLS];
	EfficiencyRow row;
	int			col = 0;
	int			k;

	EfficiencyFromInput(&c->in, &row);
	memset(n, 0, sizeof(n));
	v[col++] = CStringGetTextDatum(c->pool);
	n[col] = c->whole_pool;
	v[col++] = c->whole_pool ? (Datum) 0 : CStringGetTextDatum(c->key);
	v[col++] = CStringGetTextDatum(window_names[c->window]);
	for (k = 0; k < EFF_NMEASURES; k++)
	{
		n[col] = isnan(row.measure[k]);
		v[col++] = Float8GetDatum(row.measure[k]);
	}
	v[col++] = Int32GetDatum(row.max_size);
	v[col++] = Float8GetDatum(row.target_wait);
	n[col] = isnan(row.wait_p95);
	v[col++] = Float8GetDatum(row.wait_p95);
	n[col] = row.recommended_max_size < 0;
	v[col++] = Int32GetDatum(row.recommended_max_size);
	v[col++] = CStringGetTextDatum(row.advice);
	Assert(col == EFFICIENCY_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

/*
 * efficiency_info() -> the efficiency view
 */
Datum
pgpool_ext_efficiency_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EfficiencyCopyRow *rows;
	int			nrows;
	int			i;

	PoolShmemCheckPreloaded();
	LookupWaitConfigLoaded(false);
	nrows = efficiency_copy_all(&rows);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < nrows; i++)
		efficiency_put_row(rsinfo, &rows[i]);
	return (Datum) 0;
}

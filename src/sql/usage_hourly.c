/*-------------------------------------------------------------------------
 *
 * usage_hourly.c
 *	  SQL functions of usage over time: the usage_hourly and
 *	  usage_by_hour_of_day views.
 *
 * usage_hourly has a row per pool and interval slot
 * (pgpool_ext.usage_interval wide, an hour by default) of the pool's ring
 * of the last 168 (shm/usage.h): events counted in the slot, the
 * time-weighted average and the peak of the connections in use and of the
 * backends waiting, and the 95th percentile of the waits that ended in it.
 * The current slot is shown too, averaged over its elapsed part.  A slot
 * neither elapsed nor counting anything (a pool created at the very
 * instant) is left out.
 *
 * usage_by_hour_of_day folds the same slots onto the hour of the day their
 * start falls in (the session's TimeZone): counts add, averages are
 * weighted by the time each slot covered, peaks are the highest, and the
 * wait p95 is that of the merged wait histograms.
 *
 * Both copy each pool's ring under its lock, then build tuples without any
 * lock held.
 *
 * Locking: for one pool at a time, the global lock shared (membership)
 * and the pool's lock shared, to copy its ring into buffers allocated
 * before; rows are made after the locks are let go.
 *
 * src/sql/usage_hourly.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "backend/lookup.h"
#include "shm/pool.h"
#include "shm/shmem.h"
#include "shm/usage.h"

PG_FUNCTION_INFO_V1(pgpool_ext_usage_hourly_info);
PG_FUNCTION_INFO_V1(pgpool_ext_usage_by_hour_info);

/* Both views: three key columns, then the measures. */
#define USAGE_KEY_COLS		3
#define USAGE_MEASURE_COLS	11
#define USAGE_COLS			(USAGE_KEY_COLS + USAGE_MEASURE_COLS)

/* One pool's ring, copied out. */
typedef struct UsageRingCopy
{
	char		name[PGPOOL_NAME_LEN];
	int			n;
	UsageInterval ring[USAGE_NINTERVALS];
} UsageRingCopy;

/* The slots of one hour of the day, folded. */
typedef struct UsageHourFold
{
	int64		slots;
	UsageInterval sum;			/* tally and wait merged */
} UsageHourFold;

static bool usage_copy_ring(int p, TimestampTz now, UsageRingCopy *c,
							PoolUsage *scratch);
static void usage_ring_buffers(UsageRingCopy **c, PoolUsage **scratch);
static void usage_put_row(ReturnSetInfo *rsinfo, Datum k0, Datum k1,
						  Datum k2, const UsageInterval *iv);
static void usage_hour_fold(UsageHourFold *hours, const UsageInterval *iv);

/*
 * usage_copy_ring
 *		Copy the interval ring of pool entry p, up to now, into c, if the
 *		pool is shown (in use, not being dropped); false if not.  c and
 *		scratch are the caller's, allocated once before any lock: nothing
 *		is allocated under the locks, which are held for this one pool.
 */
static bool
usage_copy_ring(int p, TimestampTz now, UsageRingCopy *c, PoolUsage *scratch)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	bool		shown;

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	LWLockAcquire(PoolLock(p), LW_SHARED);
	shown = pool->in_use && !pool->dropping;
	if (shown)
	{
		strlcpy(c->name, pool->name, PGPOOL_NAME_LEN);
		c->n = UsageReadIntervals(p, now, scratch, c->ring, USAGE_NINTERVALS);
	}
	LWLockRelease(PoolLock(p));
	LWLockRelease(&PoolShared->lock);
	return shown;
}

/*
 * usage_ring_buffers
 *		Check that the library is preloaded and the definitions loaded, and
 *		allocate the buffers usage_copy_ring fills.
 */
static void
usage_ring_buffers(UsageRingCopy **c, PoolUsage **scratch)
{
	PoolShmemCheckPreloaded();
	LookupWaitConfigLoaded(false);
	*c = palloc(sizeof(UsageRingCopy));
	*scratch = palloc(sizeof(PoolUsage));
}

/*
 * usage_put_row
 *		A row of either view: the three key columns, then the measures of a
 *		slot (or a fold of slots): acquires, waits, timeouts, errors,
 *		connects, closes, avg_in_use, peak_in_use, avg_waiting, peak_waiting,
 *		wait_p95 (NULL without waits).  Averages over no elapsed time are 0.
 */
static void
usage_put_row(ReturnSetInfo *rsinfo, Datum k0, Datum k1, Datum k2,
			  const UsageInterval *iv)
{
	const UsageTally *t = &iv->tally;
	double		elapsed = (double) t->elapsed_us;
	double		p95 = UsageIntervalWaitP95(iv);
	Datum		v[USAGE_COLS];
	bool		n[USAGE_COLS];
	int			c = 0;

	memset(n, 0, sizeof(n));
	v[c++] = k0;
	v[c++] = k1;
	v[c++] = k2;

	v[c++] = Int64GetDatum((int64) t->events[USAGE_ACQUIRES]);
	v[c++] = Int64GetDatum((int64) t->events[USAGE_WAITS]);
	v[c++] = Int64GetDatum((int64) t->events[USAGE_TIMEOUTS]);
	v[c++] = Int64GetDatum((int64) t->events[USAGE_ERRORS]);
	v[c++] = Int64GetDatum((int64) t->events[USAGE_CONNECTS]);
	v[c++] = Int64GetDatum((int64) t->events[USAGE_CLOSES]);
	v[c++] = Float8GetDatum(elapsed > 0 ? t->area[USAGE_IN_USE] / elapsed : 0);
	v[c++] = Int32GetDatum(t->peak[USAGE_IN_USE]);
	v[c++] = Float8GetDatum(elapsed > 0 ? t->area[USAGE_WAITING] / elapsed : 0);
	v[c++] = Int32GetDatum(t->peak[USAGE_WAITING]);
	n[c] = p95 < 0;
	v[c++] = Float8GetDatum(p95 < 0 ? 0 : p95);
	Assert(c == USAGE_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

/*
 * usage_hourly_info() -> setof record
 *		The rows of the usage_hourly view: pool_name, hour_start,
 *		interval_s, then the measures; per pool, oldest slot first.
 */
Datum
pgpool_ext_usage_hourly_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentTimestamp();
	UsageRingCopy *c;
	PoolUsage  *scratch;
	int			p;
	int			i;

	usage_ring_buffers(&c, &scratch);
	InitMaterializedSRF(fcinfo, 0);
	for (p = 0; p < PoolShared->npools; p++)
	{
		if (!usage_copy_ring(p, now, c, scratch))
			continue;
		for (i = 0; i < c->n; i++)
		{
			UsageInterval *iv = &c->ring[i];

			if (UsageIntervalShown(iv))
				usage_put_row(rsinfo, CStringGetTextDatum(c->name),
							  TimestampTzGetDatum(iv->start),
							  Int32GetDatum(iv->width_s), iv);
		}
	}
	return (Datum) 0;
}

/*
 * usage_hour_fold
 *		Fold a slot into the hour of the day (session TimeZone) its start
 *		falls in.
 */
static void
usage_hour_fold(UsageHourFold *hours, const UsageInterval *iv)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	UsageHourFold *h;

	if (timestamp2tm(iv->start, &tz, &tm, &fsec, NULL, NULL) != 0)
		return;
	h = &hours[tm.tm_hour];
	h->slots++;
	UsageTallyMerge(&h->sum.tally, &iv->tally);
	HistSnapMerge(&h->sum.wait, &iv->wait);
}

/*
 * usage_by_hour_info() -> setof record
 *		The rows of the usage_by_hour_of_day view: hour_of_day, pool_name,
 *		days (slots folded), then the measures; per pool, hours in order.
 */
Datum
pgpool_ext_usage_by_hour_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	UsageHourFold *hours = palloc(sizeof(UsageHourFold) * HOURS_PER_DAY);
	TimestampTz now = GetCurrentTimestamp();
	UsageRingCopy *c;
	PoolUsage  *scratch;
	int			p;
	int			i;

	usage_ring_buffers(&c, &scratch);
	InitMaterializedSRF(fcinfo, 0);
	for (p = 0; p < PoolShared->npools; p++)
	{
		if (!usage_copy_ring(p, now, c, scratch))
			continue;
		memset(hours, 0, sizeof(UsageHourFold) * HOURS_PER_DAY);
		for (i = 0; i < c->n; i++)
			if (UsageIntervalShown(&c->ring[i]))
				usage_hour_fold(hours, &c->ring[i]);
		for (i = 0; i < HOURS_PER_DAY; i++)
			if (hours[i].slots > 0)
				usage_put_row(rsinfo, Int32GetDatum(i),
							  CStringGetTextDatum(c->name),
							  Int64GetDatum(hours[i].slots), &hours[i].sum);
	}
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * partitions.c
 *	  The set-returning function behind the partitions view: one row per
 *	  partition of every pool.
 *
 * A row shows a partition's connections by state (the pools view's
 * columns, plus busy and resetting), its waiters and oldest wait, its
 * acquires, waits and timeouts since the last reset (the usage core's
 * events, shm/usage.h), and the wait
 * percentiles of the last 5 minutes (seconds, NULL without waits).  The
 * partition key is '' for the default partition (as the latency view).
 *
 * Privileges: as the pools view (pg_read_all_stats); the rows are
 * aggregates, nothing per backend.
 *
 * Locking: the copy is snapshot.c's (PoolSnapshotTake); tuples are built
 * after every lock is released.
 *
 * src/sql/partitions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "shm/pool.h"
#include "sql/snapshot.h"

PG_FUNCTION_INFO_V1(pgpool_ext_partition_info);

#define PARTITION_COLS 17

static void partition_row(ReturnSetInfo *rsinfo, const PoolSnapshot *snap,
						  const SnapPart *part);

/*
 * partition_info() -> the partitions view
 */
Datum
pgpool_ext_partition_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PoolSnapshot snap;
	int			i;

	PoolSnapshotTake(&snap, SNAP_LATENCY_RECENT | SNAP_USAGE);
	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != PARTITION_COLS)
		elog(ERROR, "pgpool_ext: partition_info() is declared with %d columns, the library expects %d",
			 rsinfo->setDesc->natts, PARTITION_COLS);
	for (i = 0; i < snap.nparts; i++)
		partition_row(rsinfo, &snap, &snap.parts[i]);
	return (Datum) 0;
}

/*
 * partition_row
 *		One row of the partitions view.
 */
static void
partition_row(ReturnSetInfo *rsinfo, const PoolSnapshot *snap,
			  const SnapPart *part)
{
	const int  *count = part->count;
	const HistSnapshot *recent = &part->latency[STATS_WAIT][STATS_RECENT];
	const uint64 *events = part->usage_total.events;
	Datum		v[PARTITION_COLS];
	bool		n[PARTITION_COLS];
	StatsSummary sum;
	int			total = 0;
	int			s;
	int			c = 0;

	for (s = 0; s < PGPOOL_NSTATES; s++)
		if (s != SLOT_FREE && PoolSlotHasConnection((PoolSlotState) s))
			total += count[s];
	StatsSummarize(recent, &sum);
	memset(n, 0, sizeof(n));
	v[c++] = CStringGetTextDatum(snap->pools[part->pool].name);
	v[c++] = CStringGetTextDatum(part->key);
	v[c++] = Int32GetDatum(total);
	v[c++] = Int32GetDatum(count[SLOT_IDLE]);
	v[c++] = Int32GetDatum(count[SLOT_ACQUIRED] + count[SLOT_BUSY] +
						   count[SLOT_BROKEN]);
	v[c++] = Int32GetDatum(count[SLOT_BUSY]);
	v[c++] = Int32GetDatum(count[SLOT_CONNECTING]);
	v[c++] = Int32GetDatum(count[SLOT_RESETTING]);
	v[c++] = Int32GetDatum(part->nwaiting);
	v[c++] = Int64GetDatum((int64) events[USAGE_ACQUIRES]);
	v[c++] = Int64GetDatum((int64) events[USAGE_WAITS]);
	v[c++] = Int64GetDatum((int64) events[USAGE_TIMEOUTS]);
	n[c] = n[c + 1] = n[c + 2] = sum.count == 0;
	v[c++] = Float8GetDatum(sum.p50);
	v[c++] = Float8GetDatum(sum.p95);
	v[c++] = Float8GetDatum(sum.p99);
	v[c++] = Float8GetDatum(SnapSeconds(part->oldest_wait, snap->now));
	v[c++] = TimestampTzGetDatum(snap->pools[part->pool].stats_reset);
	Assert(c == PARTITION_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

/*-------------------------------------------------------------------------
 *
 * views.c
 *	  Set-returning functions behind the pools, connections, handles and
 *	  waiters views.
 *
 * Each function copies what it shows out of shared memory under the locks
 * (global shared, then each pool's lock shared), releases them, and only
 * then builds tuples, masks passwords and looks up role names, so no lock
 * is held while allocating or doing catalog access.
 *
 * src/sql/views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "backend/handle.h"
#include "backend/lookup.h"
#include "common/conninfo.h"
#include "shm/pool.h"
#include "shm/shmem.h"
#include "shm/waitq.h"

PG_FUNCTION_INFO_V1(pgpool_ext_pool_info);
PG_FUNCTION_INFO_V1(pgpool_ext_connection_info);
PG_FUNCTION_INFO_V1(pgpool_ext_handle_info);
PG_FUNCTION_INFO_V1(pgpool_ext_waiter_info);

/* A consistent copy of everything the views show. */
typedef struct ViewSnapshot
{
	PoolEntry  *pools;
	PartitionEntry *parts;
	SlotEntry  *slots;
	BackendEntry *waiters;		/* copies of waiting backends */
	int		   *waiter_pos;
	int			nwaiters;
} ViewSnapshot;

static void take_snapshot(ViewSnapshot *snap);

/*
 * take_snapshot
 *		Copy pools, partitions, slots and waiters.
 */
static void
take_snapshot(ViewSnapshot *snap)
{
	int			npools;
	int			i;
	int			p;

	PoolShmemCheckPreloaded();
	npools = PoolShared->npools;
	LookupWaitConfigLoaded(false);
	snap->pools = palloc(sizeof(PoolEntry) * npools);
	snap->parts = palloc(sizeof(PartitionEntry) * PoolShared->npartitions);
	snap->slots = palloc(sizeof(SlotEntry) * PoolShared->nslots);
	snap->waiters = palloc(sizeof(BackendEntry) * PoolShared->nbackends);
	snap->waiter_pos = palloc(sizeof(int) * PoolShared->nbackends);
	snap->nwaiters = 0;
	for (i = 0; i < PoolShared->nslots; i++)
		snap->slots[i].pool = -1;

	/*
	 * Membership cannot change under the global lock; each pool's run-time
	 * state is copied under its own lock, one pool at a time.
	 */
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	memcpy(snap->parts, PoolShared->partitions,
		   sizeof(PartitionEntry) * PoolShared->npartitions);
	for (p = 0; p < npools; p++)
	{
		LWLockAcquire(PoolLock(p), LW_SHARED);
		snap->pools[p] = PoolShared->pools[p];
		for (i = 0; i < PoolShared->npartitions; i++)
			if (PoolShared->partitions[i].pool == p)
				snap->parts[i] = PoolShared->partitions[i];
		for (i = 0; i < PoolShared->nslots; i++)
			if (PoolShared->slots[i].pool == p)
				snap->slots[i] = PoolShared->slots[i];
		for (i = 0; i < PoolShared->nbackends; i++)
		{
			BackendEntry *be = &PoolShared->backends[i];

			if (!be->waiting || be->wait_pool != p)
				continue;
			snap->waiters[snap->nwaiters] = *be;
			snap->waiter_pos[snap->nwaiters] =
				WaitqPosition(&PoolShared->partitions[be->wait_partition], be);
			snap->nwaiters++;
		}
		LWLockRelease(PoolLock(p));
	}
	LWLockRelease(&PoolShared->lock);
}

/* Partition key for display: NULL for the default partition. */
static Datum
partition_datum(ViewSnapshot *snap, int part, bool *isnull)
{
	*isnull = (part < 0 || snap->parts[part].key[0] == '\0');
	return *isnull ? (Datum) 0 : CStringGetTextDatum(snap->parts[part].key);
}

#define POOL_COLS 22

/*
 * pool_info() -> the pools view
 */
Datum
pgpool_ext_pool_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewSnapshot snap;
	int			p;

	take_snapshot(&snap);
	InitMaterializedSRF(fcinfo, 0);
	for (p = 0; p < PoolShared->npools; p++)
	{
		PoolEntry  *pool = &snap.pools[p];
		Datum		v[POOL_COLS];
		bool		n[POOL_COLS];
		int			count[PGPOOL_NSTATES];
		int			i;
		int			s;
		int			c = 0;

		if (!pool->in_use || pool->dropping)
			continue;
		memset(n, 0, sizeof(n));
		memset(count, 0, sizeof(count));
		for (i = 0; i < PoolShared->npartitions; i++)
			if (snap.parts[i].in_use && snap.parts[i].pool == p)
				for (s = 0; s < PGPOOL_NSTATES; s++)
					count[s] += snap.parts[i].count[s];

		v[c++] = CStringGetTextDatum(pool->name);
		v[c++] = CStringGetTextDatum(ConninfoMask(pool->def.conninfo));
		v[c++] = Int32GetDatum(pool->def.min_size);
		v[c++] = Int32GetDatum(pool->def.max_size);
		v[c++] = Int32GetDatum(pool->def.initial_size);
		v[c++] = Int32GetDatum(pool->def.idle_timeout_ms / 1000);
		v[c++] = Int32GetDatum(pool->def.connect_timeout_ms / 1000);
		v[c++] = CStringGetTextDatum(pool->def.reset_query);
		v[c++] = BoolGetDatum(pool->def.password_required);
		v[c++] = Int32GetDatum(pool->nconns);
		v[c++] = Int32GetDatum(count[SLOT_IDLE]);
		v[c++] = Int32GetDatum(count[SLOT_ACQUIRED] + count[SLOT_BUSY] + count[SLOT_BROKEN]);
		v[c++] = Int32GetDatum(count[SLOT_CONNECTING]);
		v[c++] = Int32GetDatum(pool->nwaiting);
		v[c++] = Int64GetDatum((int64) pool->stats.counters[STAT_ACQUIRES]);
		v[c++] = Int64GetDatum((int64) pool->stats.counters[STAT_WAITS]);
		v[c++] = Int64GetDatum((int64) pool->stats.counters[STAT_TIMEOUTS]);
		v[c++] = Int64GetDatum((int64) pool->stats.counters[STAT_CONNECTS]);
		v[c++] = Int64GetDatum((int64) pool->stats.counters[STAT_CONNECT_FAILURES]);
		v[c++] = Int64GetDatum((int64) pool->stats.counters[STAT_CLOSES]);
		n[c] = pool->last_error[0] == '\0';
		v[c] = n[c] ? (Datum) 0 : CStringGetTextDatum(pool->last_error);
		c++;
		v[c++] = TimestampTzGetDatum(pool->stats.stats_reset);
		Assert(c == POOL_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

#define CONN_COLS 10

/*
 * connection_info() -> the connections view: one row per physical
 * connection (or connection being opened, or broken one still held).
 */
Datum
pgpool_ext_connection_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewSnapshot snap;
	int			i;

	take_snapshot(&snap);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &snap.slots[i];
		Datum		v[CONN_COLS];
		bool		n[CONN_COLS];
		int			c = 0;

		if (slot->pool < 0 || slot->state == SLOT_FREE)
			continue;
		memset(n, 0, sizeof(n));
		v[c++] = CStringGetTextDatum(snap.pools[slot->pool].name);
		v[c] = partition_datum(&snap, slot->partition, &n[c]);
		c++;
		v[c++] = Int32GetDatum(i);
		v[c++] = CStringGetTextDatum(PoolSlotStateName(slot->state));
		n[c] = slot->remote_pid == 0 || !PoolSlotHasConnection(slot->state);
		v[c++] = Int32GetDatum(slot->remote_pid);
		v[c++] = TimestampTzGetDatum(slot->created_at);
		v[c++] = TimestampTzGetDatum(slot->last_used_at);
		v[c++] = Int64GetDatum((int64) slot->uses);
		n[c] = slot->holder_procno < 0;
		v[c++] = Int32GetDatum(slot->holder_pid);
		v[c++] = BoolGetDatum(slot->used_password);
		Assert(c == CONN_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

#define HANDLE_COLS 9

/*
 * handle_info() -> the handles view: one row per handle held.
 */
Datum
pgpool_ext_handle_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewSnapshot snap;
	int			i;

	take_snapshot(&snap);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &snap.slots[i];
		Datum		v[HANDLE_COLS];
		bool		n[HANDLE_COLS];
		char	   *role;
		int			c = 0;

		if (slot->pool < 0 || slot->holder_procno < 0)
			continue;
		memset(n, 0, sizeof(n));
		v[c++] = Int64GetDatum(slot->handle);
		v[c++] = CStringGetTextDatum(snap.pools[slot->pool].name);
		v[c] = partition_datum(&snap, slot->partition, &n[c]);
		c++;
		v[c++] = Int32GetDatum(slot->holder_pid);
		role = GetUserNameFromId(slot->holder_role, true);
		n[c] = role == NULL;
		v[c++] = role ? CStringGetTextDatum(role) : (Datum) 0;
		v[c++] = CStringGetTextDatum(slot->scope == SCOPE_TRANSACTION ? "transaction" : "session");
		v[c++] = CStringGetTextDatum(PoolSlotStateName(slot->state));
		v[c++] = TimestampTzGetDatum(slot->acquired_at);
		v[c++] = TimestampTzGetDatum(slot->last_used_at);
		Assert(c == HANDLE_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

#define WAITER_COLS 6

/*
 * waiter_info() -> the waiters view: one row per backend waiting.
 */
Datum
pgpool_ext_waiter_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ViewSnapshot snap;
	int			i;

	take_snapshot(&snap);
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < snap.nwaiters; i++)
	{
		BackendEntry *be = &snap.waiters[i];
		Datum		v[WAITER_COLS];
		bool		n[WAITER_COLS];
		int			c = 0;

		memset(n, 0, sizeof(n));
		v[c++] = Int32GetDatum(be->pid);
		v[c++] = CStringGetTextDatum(snap.pools[be->wait_pool].name);
		v[c] = partition_datum(&snap, be->wait_partition, &n[c]);
		c++;
		v[c++] = CStringGetTextDatum(WaitqPriorityName(be->priority));
		v[c++] = Int32GetDatum(snap.waiter_pos[i]);
		v[c++] = TimestampTzGetDatum(be->wait_start);
		Assert(c == WAITER_COLS);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

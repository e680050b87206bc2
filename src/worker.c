/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The pool worker: one event loop over its latch and every remote
 *	  socket.
 *
 * The worker connects to pgpool_ext.database, loads the pool definitions
 * from the extension's tables there whenever a committed change asks for
 * it, and owns every physical connection.  Each turn of the loop it
 * reloads definitions if asked, picks up requests backends submitted,
 * advances every connection by one non-blocking step (conn.c), resets or
 * closes what backends released, runs the janitor (janitor.c), and then
 * sleeps in one WaitEventSet on its latch and the sockets that want
 * something.  Backends set the latch; sockets wake it when remote data or
 * buffer room arrives.
 *
 * Restarts: when the worker exits (pg_terminate_backend, error) the
 * postmaster starts it again after a second.  Its sockets died with it, so
 * both on the way out and on the way back in it reconciles shared memory:
 * held connections become SLOT_BROKEN (their holders get 08006), the rest
 * are freed, open requests fail; waiters keep waiting and are served by
 * the new worker's fresh connections.
 *
 * src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cancel.h"
#include "channel.h"
#include "compat.h"
#include "conn.h"
#include "guc.h"
#include "pool.h"
#include "waitq.h"
#include "worker.h"

/* Sockets registered in the wait set, per slot. */
typedef struct Registered
{
	pgsocket	fd;
	uint32		serial;
	uint32		events;
} Registered;

static WaitEventSet *wait_set = NULL;
static Registered *registered = NULL;
static uint32 *slot_events = NULL;
static WaitEvent *occurred = NULL;
static MemoryContext loop_cxt = NULL;

static void worker_reconcile(void);
static void worker_exit(int code, Datum arg);
static void worker_load_config(void);
static void worker_read_config(void);
static void worker_drop_pool(int idx);
static void worker_apply_definitions(PoolDefinition *defs, char (*names)[PGPOOL_NAME_LEN], int n);
static void worker_accept_requests(void);
static void worker_handle_released(void);
static void worker_wait(void);
static bool worker_read_definition(HeapTuple tup, TupleDesc desc,
								   PoolDefinition *def, char *name);

/*
 * PoolRegisterWorker
 *		_PG_init: register the one static pool worker.
 */
void
PoolRegisterWorker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pgpool_ext");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgpool_ext_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pgpool_ext worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pgpool_ext worker");
	RegisterBackgroundWorker(&worker);
}

/*
 * worker_reconcile
 *		No connection survives a worker: mark held slots broken, free the
 *		rest, fail open requests.  Runs at worker exit and start.
 */
static void
worker_reconcile(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		int			pool = slot->pool;
		bool		free_it = false;

		if (pool < 0)
			continue;
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (slot->pool == pool)
		{
			if (slot->holder_procno >= 0 &&
				(slot->state == SLOT_ACQUIRED || slot->state == SLOT_BUSY ||
				 slot->state == SLOT_BROKEN))
				PoolSetSlotState(i, SLOT_BROKEN);
			else
			{
				/* off the idle list now: nobody may take it before it is freed */
				PoolSetSlotState(i, SLOT_CLOSING);
				free_it = true;
			}
		}
		LWLockRelease(PoolLock(pool));
		if (free_it)
			PoolFreeSlot(i);
	}
	ChannelFailAll();
}

/* before_shmem_exit: close sockets, reconcile, unregister. */
static void
worker_exit(int code, Datum arg)
{
	LWLockReleaseAll();
	ConnCloseAll();
	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	PoolShared->worker_pid = 0;
	PoolShared->worker_latch = NULL;
	LWLockRelease(&PoolShared->lock);
	worker_reconcile();
	ConditionVariableBroadcast(&PoolShared->config_cv);
}

/*
 * pgpool_ext_worker_main
 *		Entry point of the pool worker.
 */
void
pgpool_ext_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pgpool_database, NULL, 0);
	pgstat_report_appname("pgpool_ext worker");

	ConnInitAll();
	registered = MemoryContextAllocZero(TopMemoryContext,
										sizeof(Registered) * PoolShared->nslots);
	slot_events = MemoryContextAllocZero(TopMemoryContext,
										 sizeof(uint32) * PoolShared->nslots);
	occurred = MemoryContextAllocZero(TopMemoryContext,
									  sizeof(WaitEvent) * (PoolShared->nslots + 2));

	worker_reconcile();
	before_shmem_exit(worker_exit, (Datum) 0);
	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	PoolShared->worker_pid = MyProcPid;
	PoolShared->worker_procno = PGPOOL_MY_PROCNO;
	PoolShared->worker_epoch++;
	PoolShared->worker_latch = MyLatch;
	LWLockRelease(&PoolShared->lock);
	ereport(LOG, (errmsg("pgpool_ext worker started in database \"%s\"",
						 pgpool_database)));

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "pgpool_ext worker loop",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		int			i;

		/* everything allocated during one turn is freed at the next */
		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (pg_atomic_read_u64(&PoolShared->config_loaded) <
			pg_atomic_read_u64(&PoolShared->config_requested))
		{
			worker_load_config();
			MemoryContextSwitchTo(loop_cxt);
		}
		worker_accept_requests();
		for (i = 0; i < PoolShared->nslots; i++)
			if (WorkerConns[i].phase != CONN_NONE)
				ConnStep(i, slot_events[i]);
		worker_handle_released();
		JanitorRun();
		worker_wait();
	}
}

/* Start work on every request backends submitted. */
static void
worker_accept_requests(void)
{
	int			i;

	for (i = 0; i < PoolShared->nbackends; i++)
	{
		int			slotno;
		uint32		epoch;

		/* unlocked peek; the claim rechecks under the spinlock */
		if (PoolShared->backends[i].chan_state != CHAN_SUBMITTED)
			continue;
		if (ChannelWorkerClaim(i, &slotno, &epoch))
			ConnAcceptRequest(i, slotno, epoch);
	}
}

/* Reset what was released after use; close what was marked closing. */
static void
worker_handle_released(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		WorkerConn *wc = &WorkerConns[i];

		if (slot->pool < 0 || wc->procno >= 0)
			continue;
		/*
		 * Unlocked peeks: a backend sets the state or reset_pending before
		 * the latch that wakes us; the worker sets reset_pending itself
		 * after run().
		 */
		if (slot->state == SLOT_CLOSING &&
			(wc->phase == CONN_READY || wc->phase == CONN_NONE))
			ConnCloseSlot(i, "closed");
		else if ((slot->state == SLOT_RESETTING || slot->reset_pending) &&
				 wc->phase == CONN_READY)
			ConnStartReset(i);
	}
}

/* Rebuild the wait set if the sockets of interest changed, then wait. */
static void
worker_wait(void)
{
	bool		changed = (wait_set == NULL);
	int			nsockets = 0;
	int			i;
	int			n;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		WorkerConn *wc = &WorkerConns[i];
		uint32		ev = ConnWantedEvents(i);
		pgsocket	fd = ev ? PQsocket(wc->conn) : PGINVALID_SOCKET;

		if (ev)
			nsockets++;
		if (registered[i].events != ev || registered[i].fd != fd ||
			registered[i].serial != wc->serial)
			changed = true;
		registered[i].events = ev;
		registered[i].fd = fd;
		registered[i].serial = wc->serial;
	}
	/* cancel requests being connected (cancel.c) wait here too */
	if (CancelSocketsChanged())
		changed = true;
	if (changed)
	{
		if (wait_set)
			FreeWaitEventSet(wait_set);
		wait_set = CreateWaitEventSet(TopMemoryContext,
									  nsockets + CancelCount() + 2);
		AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (i = 0; i < PoolShared->nslots; i++)
			if (registered[i].events)
				AddWaitEventToSet(wait_set, registered[i].events, registered[i].fd,
								  NULL, (void *) (intptr_t) (i + 1));
		CancelAddToWaitSet(wait_set, PoolShared->nslots);
	}

	memset(slot_events, 0, sizeof(uint32) * PoolShared->nslots);
	n = WaitEventSetWait(wait_set, JanitorTimeout(), occurred, nsockets + 2,
						 PGPOOL_WAIT_WORKER);
	for (i = 0; i < n; i++)
	{
		if (occurred[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if ((intptr_t) occurred[i].user_data > PoolShared->nslots)
			CancelSocketReady((intptr_t) occurred[i].user_data - PoolShared->nslots - 1);
		else if (occurred[i].user_data != NULL)
			slot_events[(intptr_t) occurred[i].user_data - 1] |= occurred[i].events;
	}
}

/* Read one row of the definitions query into def/name. */
static bool
worker_read_definition(HeapTuple tup, TupleDesc desc, PoolDefinition *def,
					   char *name)
{
	char	   *v;
	char	   *grants;
	char	   *tok;
	char	   *save;

	memset(def, 0, sizeof(PoolDefinition));
	strlcpy(name, SPI_getvalue(tup, desc, 1), PGPOOL_NAME_LEN);
	strlcpy(def->conninfo, SPI_getvalue(tup, desc, 2), PGPOOL_CONNINFO_LEN);
	def->min_size = atoi(SPI_getvalue(tup, desc, 3));
	def->max_size = atoi(SPI_getvalue(tup, desc, 4));
	def->initial_size = atoi(SPI_getvalue(tup, desc, 5));
	def->idle_timeout_ms = atoi(SPI_getvalue(tup, desc, 6));
	def->connect_timeout_ms = atoi(SPI_getvalue(tup, desc, 7));
	v = SPI_getvalue(tup, desc, 8);
	strlcpy(def->reset_query, v ? v : "", PGPOOL_RESET_LEN);
	v = SPI_getvalue(tup, desc, 9);
	def->password_required = (v == NULL || v[0] == 't');
	v = SPI_getvalue(tup, desc, 10);
	def->owner = v ? (Oid) strtoul(v, NULL, 10) : InvalidOid;
	v = SPI_getvalue(tup, desc, 12);
	def->created_at = v ? strtoll(v, NULL, 10) : 0;
	grants = SPI_getvalue(tup, desc, 11);
	for (tok = grants ? strtok_r(grants, ",", &save) : NULL;
		 tok != NULL && def->ngrants < PGPOOL_MAX_GRANTS;
		 tok = strtok_r(NULL, ",", &save))
		def->grants[def->ngrants++] = (Oid) strtoul(tok, NULL, 10);
	return true;
}

/*
 * worker_load_config
 *		Read every pool definition in a fresh transaction and apply it.  A
 *		failure (say, tables of an older version) is logged and the old
 *		definitions stay; backends waiting for the load are released.
 */
static void
worker_load_config(void)
{
	uint64		target = pg_atomic_read_u64(&PoolShared->config_requested);
	MemoryContext cxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		worker_read_config();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errmsg("pgpool_ext: could not load pool definitions; keeping the previous ones")));
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);

	pg_atomic_write_u32(&PoolShared->janitor_wanted, 1);
	pg_atomic_write_u64(&PoolShared->config_loaded, target);
	ConditionVariableBroadcast(&PoolShared->config_cv);
}

/* Inside a transaction: run the definitions query and apply the rows. */
static void
worker_read_config(void)
{
	PoolDefinition *defs = NULL;
	char		(*names)[PGPOOL_NAME_LEN] = NULL;
	int			n = 0;
	uint64		i;

	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pgpool_ext: loading pool definitions");

	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pgpool_ext'",
					true, 0) == SPI_OK_SELECT && SPI_processed > 0 &&
		SPI_execute("SELECT d.pool_name, d.conninfo, d.min_size, d.max_size, "
					"  coalesce(d.initial_size, d.min_size), "
					"  (extract(epoch FROM d.idle_timeout) * 1000)::int8, "
					"  (extract(epoch FROM d.connect_timeout) * 1000)::int8, "
					"  d.reset_query, d.password_required, d.owner::oid, "
					"  (SELECT string_agg(u.role::oid::text, ',') "
					"     FROM pgpool_ext.pool_usage u WHERE u.pool_name = d.pool_name), "
					"  (extract(epoch FROM d.created_at) * 1000000)::int8 "
					"FROM pgpool_ext.pool_definition d ORDER BY d.pool_name",
					true, 0) == SPI_OK_SELECT)
	{
		MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);

		n = (int) SPI_processed;
		defs = palloc0(sizeof(PoolDefinition) * Max(n, 1));
		names = palloc0(PGPOOL_NAME_LEN * Max(n, 1));
		MemoryContextSwitchTo(old);
		for (i = 0; i < SPI_processed; i++)
			worker_read_definition(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
								   &defs[i], names[i]);
	}
	worker_apply_definitions(defs, names, n);

	SPI_finish();
	PopActiveSnapshot();
}

/* Put a new pool into a free entry; caller holds the global lock. */
static void
worker_create_pool(int idx, const char *name, PoolDefinition *def)
{
	PoolEntry  *pool = &PoolShared->pools[idx];
	uint32		gen = pool->generation + 1;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	memset((char *) pool + offsetof(PoolEntry, in_use), 0,
		   sizeof(PoolEntry) - offsetof(PoolEntry, in_use));
	pool->generation = gen;
	strlcpy(pool->name, name, PGPOOL_NAME_LEN);
	pool->def = *def;
	pool->def_version = 1;
	pool->stats_reset = GetCurrentTimestamp();
	pool->in_use = true;
	LWLockRelease(&pool->lock);
	pool->default_partition = PoolCreatePartitionLocked(idx, "");
	JanitorSetInitial(idx, Max(def->initial_size, def->min_size));
}

/* Wake every backend queued on a pool (it was dropped). */
static void
worker_wake_waiters(int pool)
{
	int			p;
	int			prio;
	dlist_iter	iter;

	for (p = 0; p < PoolShared->npartitions; p++)
	{
		PartitionEntry *part = &PoolShared->partitions[p];

		if (!part->in_use || part->pool != pool)
			continue;
		for (prio = 0; prio < PGPOOL_NPRIORITIES; prio++)
			dlist_foreach(iter, &part->waiters[prio])
			{
				BackendEntry *be = dlist_container(BackendEntry, wait_node, iter.cur);

				SetLatch(&GetPGProcByNumber(be - PoolShared->backends)->procLatch);
			}
	}
}

/* Start dropping a pool; caller holds the global lock. */
static void
worker_drop_pool(int idx)
{
	PoolEntry  *pool = &PoolShared->pools[idx];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	pool->dropping = true;
	worker_wake_waiters(idx);
	LWLockRelease(&pool->lock);
}

/*
 * worker_apply_definitions
 *		Make shared memory match the definitions just read: create new
 *		pools, update changed ones, start dropping removed ones.
 */
static void
worker_apply_definitions(PoolDefinition *defs, char (*names)[PGPOOL_NAME_LEN], int n)
{
	bool	   *seen = palloc0(sizeof(bool) * PoolShared->npools);
	int			i;

	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
	{
		int			idx = PoolFindByName(names[i]);
		PoolEntry  *pool;

		/* same name, another definition: the old pool was dropped */
		if (idx >= 0 && PoolShared->pools[idx].def.created_at != defs[i].created_at)
		{
			worker_drop_pool(idx);
			idx = -1;
		}
		if (idx < 0)
		{
			for (idx = 0; idx < PoolShared->npools; idx++)
				if (!PoolShared->pools[idx].in_use)
					break;
			if (idx >= PoolShared->npools)
			{
				ereport(WARNING,
						(errmsg("pgpool_ext: pool \"%s\" not loaded: too many pools",
								names[i]),
						 errhint("Increase pgpool_ext.max_pools.")));
				continue;
			}
			worker_create_pool(idx, names[i], &defs[i]);
		}
		else
		{
			pool = &PoolShared->pools[idx];
			LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
			if (strcmp(pool->def.conninfo, defs[i].conninfo) != 0)
				pool->def_version++;
			pool->def = defs[i];
			pool->next_connect_at = 0;
			pool->backoff_ms = 0;
			LWLockRelease(&pool->lock);
		}
		seen[idx] = true;
	}
	for (i = 0; i < PoolShared->npools; i++)
	{
		PoolEntry  *pool = &PoolShared->pools[i];

		if (!pool->in_use || pool->dropping || seen[i])
			continue;
		worker_drop_pool(i);
	}
	LWLockRelease(&PoolShared->lock);
	pfree(seen);
}

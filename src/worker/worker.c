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
 * Errors: an ERROR raised while the worker serves one request (out of
 * memory on a huge row, a cancel of the worker, a failing helper) is
 * caught at the top of the loop, as PostgreSQL's own auxiliary processes
 * do (sigsetjmp): locks are released, the request being served fails with
 * that error's SQLSTATE (its connection is drained and stays usable), and
 * the loop goes on; nobody else's handle notices.  An error while
 * recovering, or too many in a row, is FATAL; SIGTERM still stops the
 * worker (FATAL is never caught).
 *
 * Restarts: when the worker exits (pg_terminate_backend, error) the
 * postmaster starts it again after a second.  Its sockets died with it, so
 * both on the way out and on the way back in it reconciles shared memory:
 * held connections become SLOT_BROKEN (their holders get 08006), the rest
 * are freed, open requests fail; waiters keep waiting and are served by
 * the new worker's fresh connections.
 *
 * src/worker/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/cancel.h"
#include "shm/channel.h"
#include "worker/reject.h"
#include "common/compat.h"
#include "worker/conn.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "shm/waitq.h"
#include "worker/janitor.h"
#include "worker/load.h"
#include "worker/worker.h"

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

/* What the loop is doing, for error recovery: a slot, a backend, or -1. */
static int	serving_slot = -1;
static int	serving_procno = -1;
static int	errors_in_a_row = 0;

/* More consecutive loop turns ending in ERROR than this is FATAL. */
#define PGPOOL_WORKER_MAX_ERRORS	100

static void worker_reconcile(void);
static void worker_exit(int code, Datum arg);
static void worker_accept_requests(void);
static void worker_handle_released(void);
static void worker_unbusy(int slotno);
static void worker_wait(void);
static void worker_recover(void);
static void worker_step_all(void);

/*
 * WorkerRegister
 *		_PG_init: register the one static pool worker.
 */
void
WorkerRegister(void)
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
	sigjmp_buf	local_sigjmp_buf;

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

	/* an ERROR comes back here (FATAL exits); see worker_recover() */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
		worker_recover();
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
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
			LoadDefinitions();
			MemoryContextSwitchTo(loop_cxt);
		}
		worker_accept_requests();
		worker_step_all();
		worker_handle_released();
		JanitorRun();
		errors_in_a_row = 0;
		worker_wait();
	}
}

/* Advance every connection by one step. */
static void
worker_step_all(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		uint32		events = slot_events[i];

		/* an error in a step must not repeat it on the same events */
		slot_events[i] = 0;
		if (!ConnInUse(i))
			continue;
		serving_slot = i;
		ConnStep(i, events);
	}
	serving_slot = -1;
}

/*
 * worker_recover
 *		Back from an ERROR raised in the loop: clean up like an auxiliary
 *		process does after an error (locks, condition variable, wait event,
 *		transaction, memory, error state), report it, and fail only the
 *		request being served when it happened.  The loop then goes on.
 */
static void
worker_recover(void)
{
	ErrorData  *edata;
	int			slotno = serving_slot;
	int			procno = serving_procno;

	/* an ERROR from here on is FATAL: the postmaster restarts the worker */
	PG_exception_stack = NULL;
	error_context_stack = NULL;
	HOLD_INTERRUPTS();
	serving_slot = -1;
	serving_procno = -1;
	LWLockReleaseAll();
	ConditionVariableCancelSleep();
	pgstat_report_wait_end();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(loop_cxt);
	edata = CopyErrorData();
	EmitErrorReport();
	FlushErrorState();
	MemoryContextSwitchTo(loop_cxt);
	if (++errors_in_a_row > PGPOOL_WORKER_MAX_ERRORS)
		ereport(FATAL,
				(errmsg("pgpool_ext worker: %d errors in a row, restarting",
						errors_in_a_row - 1)));

	/*
	 * The request being served fails with this error; the rest go on.  (While
	 * accepting a request, the slot's connection is that request's only once
	 * it is attached to it.)
	 */
	if (slotno >= 0 && (procno < 0 || ConnRequestOf(slotno) == procno))
		ConnRecoverError(slotno, edata);
	else
		slotno = -1;
	if (procno >= 0 && !ConnServing(procno) && ChannelWorkerClaimed(procno))
		RejectRequestCode(procno, unpack_sql_state(edata->sqlerrcode),
						  edata->message, edata->detail);
	ereport(LOG,
			(errmsg("pgpool_ext worker recovered from an error"),
			 slotno >= 0 ?
			 errdetail("The request on connection %d failed with it.", slotno) :
			 errdetail("No request was being served.")));
	RESUME_INTERRUPTS();
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

		if (!ChannelWorkerClaim(i, &slotno, &epoch))
			continue;
		serving_procno = i;
		serving_slot = slotno >= 0 && slotno < PoolShared->nslots ? slotno : -1;
		ConnRequestAccept(i, slotno, epoch);
	}
	serving_procno = -1;
	serving_slot = -1;
}

/* Reset what was released after use; close what was marked closing. */
static void
worker_handle_released(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool < 0 || ConnRequestOf(i) >= 0)
			continue;
		/*
		 * Unlocked peeks: a backend sets the state or reset_pending before
		 * the latch that wakes us; the worker sets reset_pending itself
		 * after run().
		 */
		serving_slot = i;
		if (slot->state == SLOT_CLOSING && (ConnIsReady(i) || !ConnInUse(i)))
			ConnCloseSlot(i, CLOSE_MARKED);
		else if ((slot->state == SLOT_RESETTING || slot->reset_pending) &&
				 ConnIsReady(i))
			ConnResetStart(i);
		else if (slot->state == SLOT_BUSY && ConnIsReady(i) &&
				 !ConnRequestWaits(i))
			worker_unbusy(i);
	}
	serving_slot = -1;
}

/*
 * worker_unbusy
 *		A held slot is BUSY while nothing is in flight on it: its holder
 *		withdrew a request submitted on it while the worker still drained an
 *		earlier one, or gave up a request that waited for a replacement.
 *		Show it ACQUIRED again.  A backend marks a slot BUSY and submits on
 *		it under the pool lock, so what is seen here under that lock holds.
 */
static void
worker_unbusy(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;

	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	if (slot->pool == pool && slot->state == SLOT_BUSY &&
		slot->holder_procno >= 0 &&
		!ChannelRequestOn(slot->holder_procno, slotno, true))
		PoolSetSlotState(slotno, SLOT_ACQUIRED);
	LWLockRelease(PoolLock(pool));
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
		uint32		ev = ConnWantedEvents(i);
		pgsocket	fd = ev ? ConnSocket(i) : PGINVALID_SOCKET;
		uint32		serial = ConnSerial(i);

		if (ev)
			nsockets++;
		if (registered[i].events != ev || registered[i].fd != fd ||
			registered[i].serial != serial)
			changed = true;
		registered[i].events = ev;
		registered[i].fd = fd;
		registered[i].serial = serial;
	}
	/* cancel requests being connected (cancel.c) wait here too */
	if (CancelSocketsChanged())
		changed = true;
	if (changed)
	{
		if (wait_set)
			FreeWaitEventSet(wait_set);
		wait_set = NULL;		/* if creating the next one fails */
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

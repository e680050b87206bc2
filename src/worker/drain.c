/*-------------------------------------------------------------------------
 *
 * drain.c
 *	  Cancel and drain: a query its backend gave up on is cancelled and its
 *	  results discarded on the connection alone.
 *
 * The backend gets its channel back at once; the cancel request goes out
 * without blocking (cancel.c), and the drain does not end before the
 * remote server is done with it, so a late cancel never hits the
 * connection's next statement.  Then the request that waits for the
 * connection runs (after its reset), or the slot is settled.
 *
 * Locking: the pool lock, shared, to read reset_pending at the end.
 *
 * src/worker/drain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/cancel.h"
#include "worker/conn.h"
#include "worker/conn_int.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "worker/resolve.h"

static void conn_drain_end(int slotno);

/*
 * The backend gave up: let go of its channel at once, then cancel the
 * remote query and drain it on the connection alone.  The backend's next
 * request runs at once on another connection; on this one it waits in the
 * worker (pending_procno) until the drain is over.
 */
void
conn_drain_cancel(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	resetStringInfo(&wc->out);
	wc->sending = false;
	if (wc->phase != CONN_QUERY)
	{
		conn_request_end(slotno);
		return;
	}
	wc->drain_procno = wc->procno;
	conn_request_channel_end(wc);
	conn_drain_start(slotno);
}

/*
 * Cancel the query running on slotno's connection and discard its results
 * (CONN_DRAIN).  With a request still attached (worker error recovery), its
 * final message is delivered when the drain is over.
 */
void
conn_drain_start(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	wc->phase = CONN_DRAIN;
	wc->phase_start = GetCurrentTimestamp();

	/*
	 * What libpq holds already may be the whole rest of the result (the
	 * backend's queue was full, so the worker had stopped reading): then
	 * there is nothing to cancel, and a cancel would only risk hitting the
	 * connection's next statement.
	 */
	conn_drain_step(slotno, false);
	if (wc->phase != CONN_DRAIN || wc->conn == NULL)
		return;

	/*
	 * PQisBusy is no test here: with rows waiting in libpq's buffer it says
	 * "not busy" while the remote still runs the query.  The request goes
	 * out without blocking (cancel.c), and the drain does not end before
	 * the server is done with it; if it cannot be sent, the drain ends at
	 * connect_timeout (janitor).
	 */
	if (PQtransactionStatus(wc->conn) == PQTRANS_ACTIVE &&
		CancelStart(wc->conn, wc->pool, slotno))
		wc->cancel_sent = true;
}

/* CONN_DRAIN: discard results until the connection is idle again. */
void
conn_drain_step(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];

	/* a backend we drain for (error recovery) gave up: let it go now */
	if (wc->procno >= 0 && conn_backend_gave_up(wc->procno))
	{
		resetStringInfo(&wc->out);
		wc->sending = false;
		wc->drain_procno = wc->procno;
		conn_request_channel_end(wc);
	}
	if (!conn_pump(slotno, readable))
		return;
	for (;;)
	{
		PGresult   *res;
		NextResult	next = conn_request_next_result(slotno, &res);

		/*
		 * Not before our cancel request is through: arriving late, it would
		 * cancel whatever the connection runs next.
		 */
		if (next == NEXT_DONE && !CancelPending(slotno))
			conn_drain_end(slotno);
		if (next != NEXT_RESULT)
			return;
		PQclear(res);
	}
}

/*
 * The remote is idle again after a drain: run the request that waits for
 * the connection (after its reset if one is pending), or settle the slot.
 */
static void
conn_drain_end(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			procno = wc->drain_procno;
	int			pool = slot->pool;
	bool		reset = false;

	if (wc->procno >= 0)
	{
		/* error recovery: now deliver the error to the waiting backend */
		wc->phase = CONN_FINISH;
		conn_request_finish_step(slotno);
		return;
	}
	wc->drain_procno = -1;
	wc->phase = CONN_READY;
	wc->copy_out = false;
	conn_drop_notifies(wc);
	if (wc->pending_procno < 0)
	{
		conn_settle(slotno, procno);
		return;
	}
	if (pool >= 0)
	{
		LWLockAcquire(PoolLock(pool), LW_SHARED);
		reset = slot->pool == pool && slot->reset_pending;
		LWLockRelease(PoolLock(pool));
	}
	if (reset)
		ConnResetStart(slotno);
	else
		conn_request_start_pending(slotno);
}

/*-------------------------------------------------------------------------
 *
 * reset.c
 *	  A released, used connection made clean for its next holder: ROLLBACK,
 *	  the pool's reset query, the output settings; or recycled.
 *
 * Memory: libpq's buffers grow to the largest message a connection
 * carried and never shrink; a connection that carried one larger than
 * pgpool_ext.max_connection_buffer is closed at release (conn_reset_recycle).
 *
 * Locking: the pool lock, shared to read the reset query, exclusive to
 * hand the connection over when the reset is done; never around libpq.
 *
 * src/worker/reset.c
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
#include "shm/policy.h"
#include "shm/pool.h"
#include "shm/usage.h"
#include "common/text.h"
#include "worker/resolve.h"

static void conn_reset_recycle(int slotno);
static bool conn_reset_results(int slotno, bool readable);
static void conn_reset_done(int slotno);

/*
 * conn_reset_recycle
 *		A used connection carried a row or request larger than
 *		pgpool_ext.max_connection_buffer (PolicyRecycle): libpq's buffers
 *		grew to hold it and never shrink, so close it instead of resetting
 *		it.  A slot already held again (handed over with its reset pending)
 *		gets a new connection in place, as one that could not be reset does.
 */
static void
conn_reset_recycle(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	bool		held;

	ereport(LOG,
			(errmsg("pgpool_ext: closing connection %d of pool \"%s\" after use: it carried a message of %zu bytes",
					slotno, pool->name, wc->max_message),
			 errdetail("Connections that carried a message larger than pgpool_ext.max_connection_buffer (%d kB) are not kept.",
					   pgpool_max_connection_buffer)));
	conn_close_libpq(wc, CLOSE_BIG_MESSAGE);
	wc->phase = CONN_NONE;
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	held = slot->state == SLOT_ACQUIRED || slot->state == SLOT_BUSY;
	if (held)
	{
		StatsCount(&pool->stats, STAT_CLOSES);
		UsageCount(slot->partition, USAGE_CLOSES);
		slot->def_version = pool->def_version;
		slot->remote_pid = 0;
	}
	LWLockRelease(&pool->lock);
	if (held)
		conn_connect_open(slotno, wc->pool);
	else
		conn_settle(slotno, -1);	/* counts the close, frees the slot */
}

/*
 * ConnResetStart
 *		A released, used connection: run the reset plan (PolicyResetNext:
 *		ROLLBACK if a transaction is open, the pool's reset query, the
 *		output settings); then hand it over (SLOT_RESETTING), or run the
 *		request that waits for it (reset_pending).  One that carried too
 *		large a message is closed instead (conn_reset_recycle).
 */
void
ConnResetStart(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->phase != CONN_READY)
		return;
	if (PolicyRecycle(wc->max_message))
	{
		conn_reset_recycle(slotno);
		return;
	}
	wc->phase = CONN_RESET;
	wc->phase_start = GetCurrentTimestamp();
	wc->reset_step = RESET_START;
	conn_reset_step(slotno, false);
}

/*
 * conn_reset_results
 *		Read the results of the reset statement running on slotno: true
 *		when it is complete, false while it runs or when the connection is
 *		gone (handled: lost, or closed because the statement failed).
 */
static bool
conn_reset_results(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];

	if (!conn_pump(slotno, readable))
		return false;
	for (;;)
	{
		PGresult   *res;
		NextResult	next = conn_request_next_result(slotno, &res);

		if (next == NEXT_LOST || next == NEXT_WAIT)
			return false;
		if (next == NEXT_DONE)
			return true;
		if (PQresultStatus(res) == PGRES_FATAL_ERROR)
		{
			char	   *msg = TextAscii(PQresultErrorMessage(res));

			ereport(LOG,
					(errmsg("pgpool_ext: could not reset connection %d of pool \"%s\", closing it",
							slotno, pool->name),
					 errdetail_internal("%s", msg)));
			PQclear(res);
			conn_close_libpq(wc, CLOSE_RESET_FAILED);
			wc->phase = CONN_NONE;
			conn_settle(slotno, -1);
			return false;
		}
		PQclear(res);
	}
}

/*
 * conn_reset_done
 *		The reset plan has run: hand the connection over, or run the request
 *		that waits for it.  One still in a transaction (a ROLLBACK that did
 *		not end it) is closed instead.
 */
static void
conn_reset_done(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	bool		closing;

	if (PQtransactionStatus(wc->conn) != PQTRANS_IDLE)
	{
		conn_close_libpq(wc, CLOSE_RESET_FAILED);
		wc->phase = CONN_NONE;
		conn_settle(slotno, -1);
		return;
	}
	wc->phase = CONN_READY;
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	slot->reset_pending = false;
	if (slot->state == SLOT_RESETTING)
		PoolHandOver(slotno);
	closing = slot->state == SLOT_CLOSING;
	LWLockRelease(&pool->lock);

	/*
	 * Settle only a slot to close: one handed over belongs to its new
	 * holder, who may already have made it BUSY.
	 */
	if (closing)
		conn_settle(slotno, -1);
	else if (wc->pending_procno >= 0)
		conn_request_start_pending(slotno);
}

/*
 * CONN_RESET: when the running reset statement is complete, run the next
 * one the reset plan names (PolicyResetNext), or finish.
 */
void
conn_reset_step(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char		reset_query[PGPOOL_RESET_LEN];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	const char *sql;

	if (wc->reset_step != RESET_START && !conn_reset_results(slotno, readable))
		return;

	LWLockAcquire(&pool->lock, LW_SHARED);
	strlcpy(reset_query, pool->def.reset_query, sizeof(reset_query));
	LWLockRelease(&pool->lock);

	wc->reset_step = PolicyResetNext(wc->reset_step,
									 PQtransactionStatus(wc->conn) != PQTRANS_IDLE,
									 reset_query,
									 conn_setting_changed(wc->conn) != NULL);
	switch (wc->reset_step)
	{
		case RESET_ROLLBACK:
			sql = "ROLLBACK";
			break;
		case RESET_QUERY:
			sql = reset_query;
			break;
		case RESET_SETTINGS:
			sql = PGPOOL_RESTORE_SETTINGS;
			break;
		default:
			conn_reset_done(slotno);
			return;
	}
	if (!PQsendQuery(wc->conn, sql))
	{
		conn_lost(slotno, conn_error(wc));
		return;
	}
	wc->want_write = PQflush(wc->conn) == 1;
}

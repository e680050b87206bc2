/*-------------------------------------------------------------------------
 *
 * request.c
 *	  The request protocol on the worker's side: a backend's request read
 *	  from its queue, sent to the remote server, its results streamed back
 *	  in single-row mode, the final message delivered.
 *
 * PQconsumeInput/PQgetResult in single-row mode while a query runs, packing
 * rows into batches for the backend's response queue.  When that queue is
 * full the step returns without reading the socket, so a slow backend
 * throttles the remote server.  A request that may not run yet (reset
 * pending, connection being replaced or drained) waits in the worker
 * (pending_procno).
 *
 * Values arrive as the remote holds them: every connection is opened with
 * client_encoding UTF8 and fixed output settings (PGPOOL_REMOTE_OPTIONS),
 * restored by every reset.  A request during which the server reported a
 * change of one of them fails (conn_request_settings_step) and the settings are
 * restored before the next request.  XXX: the server reports a setting
 * only at the end of a query cycle and only if it differs from what it
 * last reported, so a setting changed and changed back within one
 * multi-statement request goes unnoticed; extra_float_digits is never
 * reported (a SET of it lasts until the release).
 *
 * Locking: the pool lock around the slot's state (checked before a request
 * runs, BUSY to ACQUIRED when it is over); never around libpq calls or
 * queue operations.
 *
 * src/worker/request.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/cancel.h"
#include "shm/channel.h"
#include "worker/conn.h"
#include "worker/conn_int.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "proto/message.h"
#include "worker/reject.h"
#include "worker/resolve.h"

static void conn_request_begin(int slotno, int procno);
static bool conn_request_cancelled(WorkerConn *wc);
static bool conn_request_send(WorkerConn *wc, bool own);
static void conn_request_send_failed(int slotno);
static void conn_request_read(WorkerConn *wc, void *data, Size len);
static bool conn_request_settings_step(int slotno, bool *lost);
static bool conn_request_send_out(WorkerConn *wc);
static void conn_request_result(WorkerConn *wc, PGresult *res);
static void conn_request_finish_results(WorkerConn *wc);
static void conn_request_detach(WorkerConn *wc);
static void conn_request_not_busy(int slotno);

/*
 * ConnRequestAccept
 *		The worker claimed a request of backend procno on slotno (submitted
 *		in worker epoch epoch): check that it may run, attach, start it.
 *		A request that may not run (stale, connection gone, slot not held
 *		by that backend) is answered with an error without touching any
 *		connection.  On a connection whose reset is pending or running, or
 *		that is being replaced, the request waits in the worker
 *		(pending_procno) until that is done: the previous holder's session
 *		state never reaches it.
 */
void
ConnRequestAccept(int procno, int slotno, uint32 epoch)
{
	WorkerConn *wc;
	SlotEntry  *slot;
	int			pool;
	bool		ok;
	bool		reset = false;

	if (epoch != PoolShared->worker_epoch)
	{
		/* made for a previous worker: its queues name that process */
		ChannelWorkerFail(procno);
		return;
	}
	if (slotno < 0 || slotno >= PoolShared->nslots)
	{
		RejectRequest(procno, "invalid request", "");
		return;
	}
	wc = &WorkerConns[slotno];
	slot = &PoolShared->slots[slotno];
	pool = slot->pool;
	ok = pool >= 0 && wc->procno < 0 && wc->pending_procno < 0;
	if (ok)
	{
		LWLockAcquire(PoolLock(pool), LW_SHARED);
		ok = slot->pool == pool && slot->holder_procno == procno &&
			slot->state == SLOT_BUSY;
		reset = slot->reset_pending;
		LWLockRelease(PoolLock(pool));
	}
	if (!ok || (wc->phase != CONN_READY && wc->phase != CONN_RESET &&
				wc->phase != CONN_CONNECTING && wc->phase != CONN_DRAIN &&
				wc->phase != CONN_RESOLVING))
	{
		RejectRequest(procno, "connection to the remote server was lost", "");
		if (ok)
			conn_settle(slotno, procno);	/* BUSY, no connection: broken */
		return;
	}
	if (reset || wc->phase == CONN_RESET || wc->phase == CONN_CONNECTING ||
		wc->phase == CONN_DRAIN || wc->phase == CONN_RESOLVING)
	{
		wc->pending_procno = procno;
		if (wc->phase == CONN_READY)
			ConnResetStart(slotno);
		return;
	}
	conn_request_begin(slotno, procno);
}

/* The reset is done: run the request that waited for it, if still wanted. */
void
conn_request_start_pending(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			procno = wc->pending_procno;
	int			pool = slot->pool;
	bool		ok = pool >= 0 && wc->phase == CONN_READY;

	wc->pending_procno = -1;
	if (ok)
	{
		LWLockAcquire(PoolLock(pool), LW_SHARED);
		ok = slot->pool == pool && slot->holder_procno == procno &&
			slot->state == SLOT_BUSY;
		LWLockRelease(PoolLock(pool));
	}
	if (ok)
		conn_request_begin(slotno, procno);
	else
		RejectRequest(procno, "connection to the remote server was lost", "");
}

/*
 * A request that waited for the connection will not run: answer it with
 * 08006 (a backend that gave up ignores that).  A slot it still holds is no
 * longer busy.
 */
void
conn_request_reject_pending(int slotno, const char *message, const char *detail)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			procno = wc->pending_procno;
	int			pool = slot->pool;

	wc->pending_procno = -1;

	/*
	 * Before the answer: once answered, the backend may submit again.  A
	 * connection still draining stays BUSY (the drain's end settles it), so
	 * that a release meanwhile does not hand it on while the remote is busy.
	 */
	if (pool >= 0 && wc->conn != NULL && wc->phase != CONN_DRAIN)
	{
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (slot->pool == pool && slot->holder_procno == procno &&
			slot->state == SLOT_BUSY)
			PoolSetSlotState(slotno, SLOT_ACQUIRED);
		LWLockRelease(PoolLock(pool));
	}
	/* with no connection, conn_settle makes the slot broken */
	RejectRequest(procno, message, detail);
}

/* Attach to procno's queues and start its request on slotno. */
static void
conn_request_begin(int slotno, int procno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	MemoryContext old;

	/* the queue handles live until the request ends */
	old = MemoryContextSwitchTo(TopMemoryContext);
	ChannelWorkerAttach(procno, &wc->req, &wc->resp);
	if (wc->out.data == NULL)
	{
		initStringInfo(&wc->out);
		initStringInfo(&wc->final);
	}
	MemoryContextSwitchTo(old);
	wc->procno = procno;
	wc->sending = false;
	wc->cancel_sent = false;
	wc->have_desc = false;
	wc->failed = false;
	wc->copy_out = false;
	wc->last_request = false;
	wc->status[0] = '\0';
	resetStringInfo(&wc->out);
	resetStringInfo(&wc->final);
	wc->phase = CONN_REQUEST;
	wc->phase_start = GetCurrentTimestamp();
	conn_request_step(slotno);
}

/* Did the backend give up on the request being served? */
static bool
conn_request_cancelled(WorkerConn *wc)
{
	return wc->procno < 0 || conn_backend_gave_up(wc->procno);
}

/*
 * Send a command of the request (the request's own, req_sql, or one of
 * ours); false if libpq refused it.  The request's own runs in single-row
 * mode.
 */
static bool
conn_request_send(WorkerConn *wc, bool own)
{
	int			ok;

	if (!own)
		ok = PQsendQuery(wc->conn, PGPOOL_RESTORE_SETTINGS);
	else if (wc->req_nparams == 0)
		ok = PQsendQuery(wc->conn, wc->req_sql);
	else
		ok = PQsendQueryParams(wc->conn, wc->req_sql, wc->req_nparams, NULL,
							   wc->req_params, NULL, NULL, 0);
	if (own)
	{
		/* libpq has its own copy now */
		wc->req_sql = NULL;
		wc->req_params = NULL;
		MemoryContextReset(wc->mcxt);
		if (ok)
			ok = PQsetSingleRowMode(wc->conn);
	}
	if (ok)
		wc->want_write = PQflush(wc->conn) == 1;
	return ok != 0;
}

/*
 * libpq refused a command: a lost connection is handled as such, anything
 * else fails the request.
 */
static void
conn_request_send_failed(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char	   *msg = conn_error(wc);

	if (PQstatus(wc->conn) == CONNECTION_BAD)
	{
		conn_lost(slotno, msg);
		return;
	}
	if (!wc->failed)
		MsgEncodeFailure(&wc->final, PGPOOL_SQLSTATE_SEND_FAILED, "could not send query to remote server", msg);
	wc->failed = true;
	conn_request_finish_results(wc);
	conn_request_finish_step(slotno);
}

/*
 * Parse a request message into wc->mcxt (req_sql, req_params) and note
 * its size, which libpq's output buffer will reach.
 */
static void
conn_request_read(WorkerConn *wc, void *data, Size len)
{
	MsgRequest	req;
	MemoryContext old;

	MemoryContextReset(wc->mcxt);	/* a cancelled request's leftovers */
	old = MemoryContextSwitchTo(wc->mcxt);
	MsgDecodeRequest(data, len, &req);
	MemoryContextSwitchTo(old);
	wc->kind = req.kind;
	wc->last_request = (req.flags & REQUEST_FLAG_LAST) != 0;
	wc->req_nparams = req.nparams;
	wc->req_sql = req.sql;
	wc->req_params = req.params;
	wc->max_message = Max(wc->max_message, len);
}

/*
 * CONN_REQUEST: read the request and send it to the remote server; if a
 * previous request left an output setting changed (it was cancelled
 * before its end restored them), restore them first.
 */
void
conn_request_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	Size		len;
	void	   *data;
	shm_mq_result res = shm_mq_receive(wc->req, &len, &data, true);

	if (res == SHM_MQ_WOULD_BLOCK && !conn_request_cancelled(wc))
		return;
	if (res != SHM_MQ_SUCCESS || conn_request_cancelled(wc))
	{
		conn_request_end(slotno);
		return;
	}
	conn_request_read(wc, data, len);
	wc->bad_setting = NULL;
	wc->extra = conn_setting_changed(wc->conn) ? CONN_EXTRA_BEFORE :
		CONN_EXTRA_NONE;
	if (!conn_request_send(wc, wc->extra == CONN_EXTRA_NONE))
	{
		conn_request_send_failed(slotno);
		return;
	}
	wc->phase = CONN_QUERY;
	conn_request_query_step(slotno, false);
}

/*
 * conn_request_settings_step
 *		A command of the request is complete: what comes next.  After our
 *		restoring command, the request's own (if the settings are still
 *		wrong, as in an aborted transaction, the request will fail).  After
 *		the request's own: if a reported output setting changed during it
 *		(or was wrong throughout), its values may have been converted by the
 *		remote, so it fails (the rows already sent are discarded by the
 *		backend with the error) and the settings are restored before the
 *		next request.  Returns true when a command was sent (keep reading),
 *		false when the request is done; *lost when the connection was lost
 *		(handled).
 */
static bool
conn_request_settings_step(int slotno, bool *lost)
{
	WorkerConn *wc = &WorkerConns[slotno];
	const char *changed = conn_setting_changed(wc->conn);
	bool		own = false;

	*lost = false;
	switch (wc->extra)
	{
		case CONN_EXTRA_BEFORE:
			wc->bad_setting = changed;
			own = true;
			break;
		case CONN_EXTRA_NONE:
			if (changed == NULL && wc->bad_setting == NULL)
				return false;
			if (!wc->failed)
				MsgEncodeFailure(&wc->final, PGPOOL_SQLSTATE_NOT_SUPPORTED,
								 psprintf("remote session setting \"%s\" was changed",
										  changed ? changed : wc->bad_setting),
								 "pgpool_ext needs client_encoding UTF8, DateStyle ISO and IntervalStyle postgres on remote connections to receive values unchanged; the results of the request were discarded and the settings restored.");
			wc->failed = true;
			if (changed == NULL)
				return false;
			break;
		default:
			wc->extra = CONN_EXTRA_NONE;
			return false;
	}
	wc->extra = own ? CONN_EXTRA_NONE : CONN_EXTRA_AFTER;
	if (conn_request_send(wc, own))
		return true;
	if (PQstatus(wc->conn) == CONNECTION_BAD)
	{
		conn_lost(slotno, conn_error(wc));
		*lost = true;
		return false;
	}
	if (!wc->failed)
		MsgEncodeFailure(&wc->final, PGPOOL_SQLSTATE_SEND_FAILED, "could not send query to remote server",
						 conn_error(wc));
	wc->failed = true;
	return false;
}

/*
 * Push the outbox into the response queue; false while the queue is full.
 * A detached backend counts as "sent" (conn_request_cancelled tells).
 */
static bool
conn_request_send_out(WorkerConn *wc)
{
	shm_mq_result res;

	if (wc->out.len == 0)
		return true;
	res = shm_mq_send(wc->resp, wc->out.len, wc->out.data, true, true);
	if (res == SHM_MQ_WOULD_BLOCK)
	{
		wc->sending = true;
		return false;
	}
	wc->sending = false;
	resetStringInfo(&wc->out);
	return true;
}

/*
 * Pack one PGresult of the running query into the outbox.  Results of our
 * own settings commands are nobody's (an error of theirs shows in the
 * settings check that follows).
 */
static void
conn_request_result(WorkerConn *wc, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	int			natts = PQnfields(res);
	int			i;
	Size		rowlen = 0;

	if (wc->extra != CONN_EXTRA_NONE)
		return;
	switch (st)
	{
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
			if (!wc->have_desc && wc->kind == REQUEST_QUERY)
			{
				MsgEncodeRowDescription(&wc->out, res);
				wc->have_desc = true;
			}
			if (st == PGRES_TUPLES_OK)
			{
				strlcpy(wc->status, PQcmdStatus(res), sizeof(wc->status));
				wc->have_desc = false;	/* a next statement describes again */
				break;
			}
			/* libpq's input buffer grew to hold this row */
			for (i = 0; i < natts; i++)
				rowlen += PQgetlength(res, 0, i) + 4;
			wc->max_message = Max(wc->max_message, rowlen);
			if (wc->kind == REQUEST_QUERY)
				MsgEncodeDataRow(&wc->out, res, 0);
			break;
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			strlcpy(wc->status, PQcmdStatus(res), sizeof(wc->status));
			break;
		case PGRES_FATAL_ERROR:
			if (!wc->failed)
				MsgEncodeRemoteError(&wc->final, res);
			wc->failed = true;
			break;
		default:
			if (!wc->failed)
				MsgEncodeFailure(&wc->final, PGPOOL_SQLSTATE_NOT_SUPPORTED,
								 "unexpected result from the remote server", "");
			wc->failed = true;
			break;
	}
}

/*
 * All results are in: the final message (error, or command status) waits
 * in wc->final until the rows before it are in the queue.
 */
static void
conn_request_finish_results(WorkerConn *wc)
{
	if (!wc->failed)
	{
		resetStringInfo(&wc->final);
		MsgEncodeCommandDone(&wc->final, wc->status);
	}
	wc->phase = CONN_FINISH;
}

/*
 * conn_request_next_result
 *		The next result of the running command if it is there without
 *		blocking.  COPY is refused with 0A000: data a COPY TO sends is
 *		discarded, COPY FROM STDIN is ended with an error, and a COPY BOTH
 *		connection is closed.
 */
NextResult
conn_request_next_result(int slotno, PGresult **res)
{
	WorkerConn *wc = &WorkerConns[slotno];

	for (;;)
	{
		ExecStatusType st;

		if (wc->copy_out)
		{
			char	   *buf;
			int			r = PQgetCopyData(wc->conn, &buf, 1);

			if (r > 0)
			{
				PQfreemem(buf);
				continue;
			}
			if (r == 0)
				return NEXT_WAIT;
			wc->copy_out = false;
			if (r == -2)
			{
				conn_lost(slotno, conn_error(wc));
				return NEXT_LOST;
			}
		}
		if (PQisBusy(wc->conn))
			return NEXT_WAIT;
		*res = PQgetResult(wc->conn);
		if (*res == NULL)
			return NEXT_DONE;
		st = PQresultStatus(*res);
		if (st != PGRES_COPY_OUT && st != PGRES_COPY_IN && st != PGRES_COPY_BOTH)
			return NEXT_RESULT;
		PQclear(*res);
		if (!wc->failed && wc->procno >= 0)
			MsgEncodeFailure(&wc->final, PGPOOL_SQLSTATE_NOT_SUPPORTED,
							 "pgpool_ext does not support COPY", "");
		wc->failed = true;
		if (st == PGRES_COPY_OUT)
			wc->copy_out = true;
		else if (st == PGRES_COPY_IN &&
				 PQputCopyEnd(wc->conn, "COPY is not supported by pgpool_ext") >= 0)
			wc->want_write = PQflush(wc->conn) == 1;
		else
		{
			conn_lost(slotno, "COPY is not supported by pgpool_ext");
			return NEXT_LOST;
		}
	}
}

/* CONN_QUERY: move rows from libpq to the backend while both allow it. */
void
conn_request_query_step(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (conn_request_cancelled(wc))
	{
		conn_drain_cancel(slotno);
		return;
	}
	if (wc->sending && !conn_request_send_out(wc))
		return;
	if (!conn_pump(slotno, readable))
		return;
	for (;;)
	{
		PGresult   *res;
		NextResult	next = conn_request_next_result(slotno, &res);

		if (next == NEXT_LOST)
			return;
		if (next == NEXT_WAIT)
			break;
		if (next == NEXT_DONE)
		{
			bool		lost;

			if (conn_request_settings_step(slotno, &lost))
				continue;
			if (lost)
				return;
			conn_request_finish_results(wc);
			conn_request_finish_step(slotno);
			return;
		}
		conn_request_result(wc, res);
		PQclear(res);
		if (wc->out.len >= PGPOOL_BATCH_BYTES && !conn_request_send_out(wc))
			return;				/* backpressure: stop reading the socket */
	}
	if (PQstatus(wc->conn) == CONNECTION_BAD)
	{
		conn_lost(slotno, conn_error(wc));
		return;
	}
	/* flush a partial batch so a slow remote does not delay early rows */
	if (wc->out.len > 0)
		(void) conn_request_send_out(wc);
}

/*
 * CONN_FINISH: deliver the rows still in the outbox (a message partly in
 * the queue is completed first), then the final message, then end the
 * request.
 */
void
conn_request_finish_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (!conn_request_cancelled(wc))
	{
		if (!conn_request_send_out(wc))
			return;
		if (wc->final.len > 0)
		{
			/* nothing is in flight any more: views must not say busy */
			conn_request_not_busy(slotno);
			appendBinaryStringInfo(&wc->out, wc->final.data, wc->final.len);
			resetStringInfo(&wc->final);
			if (!conn_request_send_out(wc))
				return;
		}
	}
	conn_request_end(slotno);
}

/*
 * Detach from the queues of the request being served and give the backend
 * its channel back.  The connection may still have work to do (a drain).
 */
void
conn_request_channel_end(WorkerConn *wc)
{
	int			procno = wc->procno;

	conn_request_detach(wc);
	if (procno >= 0)
		ChannelWorkerDone(procno);
}

/* Detach from the request's queues; no request is served any more. */
static void
conn_request_detach(WorkerConn *wc)
{
	if (wc->req)
		shm_mq_detach(wc->req);
	if (wc->resp)
		shm_mq_detach(wc->resp);
	wc->req = NULL;
	wc->resp = NULL;
	wc->procno = -1;
}

/*
 * The request is over: detach, let the backend reuse its channel, and
 * settle the slot.
 */
void
conn_request_end(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	int			procno = wc->procno;

	conn_request_detach(wc);
	wc->drain_procno = -1;
	wc->sending = false;
	wc->copy_out = false;
	/* a huge row or request may have grown the buffers: give that back */
	if (wc->out.maxlen > 4 * PGPOOL_BATCH_BYTES || wc->final.maxlen > 4 * PGPOOL_BATCH_BYTES)
	{
		pfree(wc->out.data);
		pfree(wc->final.data);
		wc->out.data = NULL;
		wc->final.data = NULL;
	}
	else
	{
		resetStringInfo(&wc->out);
		resetStringInfo(&wc->final);
	}
	wc->phase = wc->conn ? CONN_READY : CONN_NONE;
	conn_drop_notifies(wc);
	conn_settle(slotno, procno);
	if (procno >= 0)
		ChannelWorkerDone(procno);
}

/*
 * The remote part of a request is over: BUSY becomes ACQUIRED.  After the
 * last request of a hold (run()) the reset starts now, while the backend
 * reads the rows and releases: its release then has nothing left to do.
 */
static void
conn_request_not_busy(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;

	if (pool < 0 || WorkerConns[slotno].conn == NULL)
		return;
	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	if (slot->pool == pool && slot->state == SLOT_BUSY)
	{
		PoolSetSlotState(slotno, SLOT_ACQUIRED);
		if (WorkerConns[slotno].last_request)
		{
			slot->dirty = false;
			slot->reset_pending = true;
		}
	}
	LWLockRelease(PoolLock(pool));
}

/*
 * ConnRequestOf
 *		The backend whose request is attached to slotno's connection, or -1.
 */
int
ConnRequestOf(int slotno)
{
	return WorkerConns[slotno].procno;
}

/*
 * ConnRequestWaits
 *		Does a request wait in the worker for slotno's connection (its
 *		reset, drain or replacement)?
 */
bool
ConnRequestWaits(int slotno)
{
	return WorkerConns[slotno].pending_procno >= 0;
}

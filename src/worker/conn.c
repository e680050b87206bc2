/*-------------------------------------------------------------------------
 *
 * conn.c
 *	  The pool worker's side of each physical connection: the WorkerConn
 *	  table, one step of a connection, and the slot's fate when the worker
 *	  has nothing more in flight on it (close, replace, settle, recover).
 *
 * One WorkerConn per slot, private to the worker.  ConnStep() advances it
 * by one non-blocking step when its socket is ready or its latch was set,
 * dispatching on its phase to connect.c (resolve, connect), request.c (a
 * backend's request), drain.c (cancel and drain) and reset.c (reset after
 * release).  When the backend's response queue is full a step returns
 * without reading the socket (ConnWantedEvents() then asks for nothing),
 * so a slow backend throttles the remote server instead of making the
 * worker buffer the result.
 *
 * Shared state changes (slot states, counters) are made under the pool
 * lock through pool.c; conn_settle() is the one place that decides what
 * becomes of a slot when the worker has nothing more in flight on it.
 * Lifecycle rules (keep or close, replace in place, backoff, the reset
 * plan) are asked of shm/policy.c; conn_close_libpq() is the one place a
 * connection is closed, always with a reason (PolicyClose).
 *
 * Nothing here blocks: host names are looked up by resolve.c before libpq
 * sees them (CONN_RESOLVING), cancel requests go through cancel.c
 * (PQcancel() could wait forever for a remote that does not answer), and a
 * connection is closed in non-blocking mode (conn_close_libpq).
 *
 * Locking: the pool lock (LW_SHARED to read a slot, LW_EXCLUSIVE to change
 * it), held only around shared-memory reads and writes, never around libpq
 * calls; a backend's channel fields under its spinlock (channel.c).
 *
 * src/worker/conn.c
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
#include "shm/policy.h"
#include "shm/pool.h"
#include "shm/usage.h"
#include "proto/message.h"
#include "common/text.h"
#include "worker/reject.h"
#include "worker/resolve.h"

WorkerConn *WorkerConns = NULL;

static bool conn_can_reopen(int slotno);
static void conn_fail_request(int slotno, const char *sqlstate,
							  const char *message, const char *detail);

/*
 * ConnInitAll
 *		Worker start: one empty WorkerConn per slot.
 */
void
ConnInitAll(void)
{
	int			i;

	WorkerConns = MemoryContextAllocZero(TopMemoryContext,
										 sizeof(WorkerConn) * PoolShared->nslots);
	for (i = 0; i < PoolShared->nslots; i++)
	{
		WorkerConn *wc = &WorkerConns[i];

		wc->procno = -1;
		wc->pending_procno = -1;
		wc->drain_procno = -1;
		wc->mcxt = AllocSetContextCreate(TopMemoryContext, "pgpool_ext conn",
										 ALLOCSET_SMALL_SIZES);
		wc->out.data = NULL;
		wc->final.data = NULL;
	}
}

/*
 * conn_close_libpq
 *		Close a connection, without blocking.  A query still running on it
 *		is cancelled first (unless a cancel was already sent): a remote
 *		backend busy executing would not notice the closed socket.  The
 *		cancel request goes out from the loop (cancel.c) after the close.
 *
 *		PQfinish() sends a Terminate message.  On a connection in
 *		non-blocking mode libpq does not wait when the socket's buffers are
 *		full (the message is dropped with the socket); in blocking mode it
 *		would wait for room, without limit.  Every connection is switched
 *		to non-blocking mode as soon as it is up (conn_connect_done), and one
 *		that is not up sends no Terminate, so PQfinish() never waits here
 *		(verified against libpq 15's pqSendSome; test 201).
 *		A slot still resolving host names gives its lookups up.
 *
 *		The one place a connection is closed: why is traced at DEBUG1.
 */
void
conn_close_libpq(WorkerConn *wc, PolicyClose why)
{
	ResolveCancel(wc - WorkerConns);	/* a host name lookup, if any */
	if (wc->conn == NULL)
		return;
	ereport(DEBUG1,
			(errmsg_internal("pgpool_ext: closing connection %d of pool \"%s\": %s",
							 (int) (wc - WorkerConns),
							 PoolShared->pools[wc->pool].name,
							 PolicyCloseText(why))));
	if (!wc->cancel_sent && PQstatus(wc->conn) == CONNECTION_OK &&
		PQtransactionStatus(wc->conn) == PQTRANS_ACTIVE)
		(void) CancelStart(wc->conn, wc->pool, -1);
	/* only one whose switch failed (conn_connect_done) is not; nothing is queued */
	if (PQstatus(wc->conn) == CONNECTION_OK && !PQisnonblocking(wc->conn))
		(void) PQsetnonblocking(wc->conn, 1);
	PQfinish(wc->conn);
	wc->conn = NULL;
	wc->cancel_sent = false;
}

/*
 * NOTIFY messages of a LISTEN left on the connection are nobody's: parse and
 * free them so they do not pile up in the worker.
 */
void
conn_drop_notifies(WorkerConn *wc)
{
	PGnotify   *n;

	if (wc->conn == NULL)
		return;
	(void) PQisBusy(wc->conn);
	while ((n = PQnotifies(wc->conn)) != NULL)
		PQfreemem(n);
}

/*
 * The connection's libpq error, newline-free and in ASCII (it may quote a
 * remote server's bytes: see TextAscii).  It never contains the
 * password: libpq's connection messages name host, port, user and
 * database only.
 */
char *
conn_error(WorkerConn *wc)
{
	char	   *msg = TextAscii(wc->conn ? PQerrorMessage(wc->conn) : "out of memory");

	return pchomp(msg);
}

/*
 * conn_setting_changed
 *		The first output setting the server reports (client_encoding,
 *		DateStyle, IntervalStyle) that no longer has the value
 *		PGPOOL_REMOTE_OPTIONS gave it, or NULL.  A setting the server does
 *		not report cannot be checked (extra_float_digits is never reported).
 */
const char *
conn_setting_changed(PGconn *conn)
{
	const char *v;

	v = PQparameterStatus(conn, "client_encoding");
	if (v != NULL && strcmp(v, "UTF8") != 0)
		return "client_encoding";
	v = PQparameterStatus(conn, "DateStyle");
	if (v != NULL && strncmp(v, "ISO,", 4) != 0)
		return "DateStyle";
	v = PQparameterStatus(conn, "IntervalStyle");
	if (v != NULL && strcmp(v, "postgres") != 0)
		return "IntervalStyle";
	return NULL;
}

/*
 * May the connection a request waits for, which could not be reset (or
 * died), be replaced in place?  Not if its backend gave up; else policy
 * says (PolicyMayReplace).
 */
static bool
conn_can_reopen(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;
	bool		ok;

	if (pool < 0 || conn_backend_gave_up(wc->pending_procno))
		return false;
	LWLockAcquire(PoolLock(pool), LW_SHARED);
	ok = slot->pool == pool &&
		PolicyMayReplace(&PoolShared->pools[pool], slot, wc->pending_procno);
	LWLockRelease(PoolLock(pool));
	return ok;
}

/* Did backend procno give up on its request? */
bool
conn_backend_gave_up(int procno)
{
	return ChannelGaveUp(procno);
}

/*
 * Flush pending output and read what the socket has, so that PQisBusy /
 * PQgetResult can make progress.  If the connection is gone, handles the
 * loss (conn_lost) and returns false.
 */
bool
conn_pump(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->want_write)
	{
		int			rc = PQflush(wc->conn);

		wc->want_write = rc == 1;
		if (rc < 0)
		{
			conn_lost(slotno, conn_error(wc));
			return false;
		}
	}
	if (readable && !PQconsumeInput(wc->conn))
	{
		conn_lost(slotno, conn_error(wc));
		return false;
	}
	return true;
}

/*
 * The connection died.  Tell the backend of an open request (08006), close
 * the socket and settle the slot.
 */
void
conn_lost(int slotno, const char *msg)
{
	WorkerConn *wc = &WorkerConns[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];

	ereport(LOG,
			(errmsg("pgpool_ext: connection %d of pool \"%s\" was lost", slotno, pool->name),
			 errdetail_internal("%s", msg)));
	conn_close_libpq(wc, CLOSE_LOST);
	if (wc->procno >= 0 &&
		(wc->phase == CONN_QUERY || wc->phase == CONN_REQUEST ||
		 wc->phase == CONN_DRAIN))
	{
		/* rows already in the outbox go first, then this error */
		resetStringInfo(&wc->final);
		MsgEncodeFailure(&wc->final, PGPOOL_SQLSTATE_LOST,
						 psprintf("connection to the remote server of pool \"%s\" was lost",
								  pool->name), msg);
		wc->failed = true;
		wc->phase = CONN_FINISH;
		conn_request_finish_step(slotno);
		return;
	}
	if (wc->procno >= 0 && wc->phase == CONN_FINISH)
		return;					/* the results are complete: deliver them */
	wc->phase = CONN_NONE;
	if (wc->procno >= 0)
		conn_request_end(slotno);
	else
		conn_settle(slotno, -1);
}

/*
 * conn_settle
 *		The worker has nothing in flight on slotno: decide what becomes of
 *		the slot from its shared state and whether the connection lives.
 *		done_procno is the backend whose request just ended, or -1: a slot
 *		it still holds is no longer busy.  Another holder may have the slot
 *		by now (a used connection is handed on while its reset is pending)
 *		and its request may be on the way: its BUSY stays.
 */
void
conn_settle(int slotno, int done_procno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;
	bool		alive = wc->conn != NULL;
	bool		free_it = false;
	bool		reset = false;

	/*
	 * A request that waited for the drain of its own backend's cancelled
	 * one (a connection that died or was closed while draining) must not
	 * move to a new connection: it would silently lose that backend's
	 * remote session (an open transaction...).  It fails; the slot breaks.
	 */
	bool		own_drain = wc->drain_procno >= 0 &&
		wc->drain_procno == wc->pending_procno;

	wc->drain_procno = -1;
	if (pool < 0)
		return;
	/*
	 * Only a failed reset or a close settles a slot with a waiting request:
	 * replace the connection for it, or tell it.
	 */
	if (wc->pending_procno >= 0)
	{
		if (!alive && !own_drain && conn_can_reopen(slotno))
		{
			/* a new connection with today's definition */
			LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
			slot->def_version = PoolShared->pools[pool].def_version;
			slot->remote_pid = 0;
			LWLockRelease(PoolLock(pool));
			conn_connect_open(slotno, pool);
			return;
		}
		conn_request_reject_pending(slotno, "connection to the remote server was lost", "");
	}
	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	switch (slot->state)
	{
		case SLOT_BUSY:
		case SLOT_ACQUIRED:
			if (!alive)
				PoolSetSlotState(slotno, SLOT_BROKEN);
			else if (slot->holder_procno == done_procno &&
					 !ChannelRequestOn(done_procno, slotno, false))
				PoolSetSlotState(slotno, SLOT_ACQUIRED);
			break;
		case SLOT_RESETTING:
			reset = alive;
			free_it = !alive;
			break;
		case SLOT_IDLE:
		case SLOT_CLOSING:
		case SLOT_CONNECTING:
			free_it = !alive || slot->state == SLOT_CLOSING;
			break;
		default:
			break;
	}
	if (free_it)
	{
		StatsCount(&PoolShared->pools[pool].stats, STAT_CLOSES);
		UsageCount(slot->partition, USAGE_CLOSES);
	}
	LWLockRelease(PoolLock(pool));
	if (free_it)
	{
		conn_close_libpq(wc, CLOSE_MARKED);
		wc->phase = CONN_NONE;
		PoolFreeSlot(slotno);
	}
	else if (reset)
		ConnResetStart(slotno);
}

/*
 * ConnStep
 *		Advance slotno's connection; events are the socket events that
 *		occurred (0 when woken by the latch).
 */
void
ConnStep(int slotno, uint32 events)
{
	WorkerConn *wc = &WorkerConns[slotno];
	bool		readable = (events & WL_SOCKET_READABLE) != 0;

	/* a request waiting for a reset or a replacement may be given up */
	if (wc->pending_procno >= 0 && conn_backend_gave_up(wc->pending_procno))
		conn_request_reject_pending(slotno, "request cancelled", "");
	switch (wc->phase)
	{
		case CONN_NONE:
			break;
		case CONN_RESOLVING:
			conn_connect_resolve_step(slotno);
			break;
		case CONN_CONNECTING:
			if (events != 0)
				conn_connect_step(slotno);
			break;
		case CONN_READY:
			if (readable &&
				(!PQconsumeInput(wc->conn) || PQstatus(wc->conn) == CONNECTION_BAD))
				conn_lost(slotno, conn_error(wc));
			else if (readable)
				conn_drop_notifies(wc);
			break;
		case CONN_REQUEST:
			conn_request_step(slotno);
			break;
		case CONN_QUERY:
			conn_request_query_step(slotno, readable);
			break;
		case CONN_FINISH:
			conn_request_finish_step(slotno);
			break;
		case CONN_DRAIN:
			conn_drain_step(slotno, readable);
			break;
		case CONN_RESET:
			conn_reset_step(slotno, readable);
			break;
	}
}

/*
 * ConnWantedEvents
 *		Socket events the loop should wait for on slotno; 0 for none.
 */
uint32
ConnWantedEvents(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	uint32		ev = WL_SOCKET_READABLE;

	if (wc->conn == NULL || PQsocket(wc->conn) < 0)
		return 0;
	switch (wc->phase)
	{
		case CONN_CONNECTING:
			return wc->poll == PGRES_POLLING_READING ?
				WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
		case CONN_QUERY:
			if (wc->sending)
				return 0;
			break;
		case CONN_REQUEST:
		case CONN_FINISH:
			return 0;
		default:
			break;
	}
	if (wc->want_write)
		ev |= WL_SOCKET_WRITEABLE;
	return ev;
}

/*
 * ConnCloseSlot
 *		Close slotno's connection now (idle timeout, recycling, drop); an
 *		open request gets an error.
 */
void
ConnCloseSlot(int slotno, PolicyClose why)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->procno >= 0)
	{
		if (wc->conn)
		{
			conn_close_libpq(wc, why);
			conn_lost(slotno, PolicyCloseText(why));
		}
		return;
	}
	/* a drain or reset given up is not routine: say why */
	if (wc->conn && (wc->phase == CONN_DRAIN || wc->phase == CONN_RESET))
		ereport(LOG,
				(errmsg("pgpool_ext: closing connection %d of pool \"%s\"",
						slotno, PoolShared->pools[wc->pool].name),
				 errdetail_internal("%s", PolicyCloseText(why))));
	conn_close_libpq(wc, why);
	wc->phase = CONN_NONE;
	conn_settle(slotno, -1);
}

/*
 * ConnCloseAll
 *		Worker exit: close every socket.  Shared state is reconciled by the
 *		next worker (WorkerReconcile).
 */
void
ConnCloseAll(void)
{
	int			i;

	if (WorkerConns == NULL)
		return;
	for (i = 0; i < PoolShared->nslots; i++)
	{
		if (WorkerConns[i].conn)
			conn_close_libpq(&WorkerConns[i], CLOSE_WORKER_EXIT);
	}
}

/*
 * ConnRecoverError
 *		Worker error recovery: an ERROR escaped while the worker served
 *		slotno (edata is that error).  A request being served fails with the
 *		error's SQLSTATE and message; a query that may still run on the
 *		remote is cancelled and drained first, so the connection and the
 *		handle stay usable.  With no request, the connection, whose state is
 *		unknown, is closed and the slot settled (replaced if a request waits
 *		for it).
 */
void
ConnRecoverError(int slotno, const ErrorData *edata)
{
	WorkerConn *wc = &WorkerConns[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];

	MemoryContextReset(wc->mcxt);
	if (wc->procno < 0 || wc->out.data == NULL)
	{
		ereport(LOG,
				(errmsg("pgpool_ext: closing connection %d of pool \"%s\" after an error in the pool worker",
						slotno, pool->name)));
		conn_close_libpq(wc, CLOSE_WORKER_ERROR);
		wc->phase = CONN_NONE;
		if (wc->procno >= 0)
			conn_request_end(slotno);
		else
			conn_settle(slotno, -1);	/* reads drain_procno: own_drain */
		return;
	}
	conn_fail_request(slotno, unpack_sql_state(edata->sqlerrcode),
					  edata->message ? edata->message :
					  "error in the pool worker", edata->detail);
}

/*
 * conn_fail_request
 *		The request being served on slotno fails with this error instead of
 *		its result: a message partly in the queue is completed, the rest
 *		goes; a query that may still run on the remote is cancelled and
 *		drained first, then the error is delivered.
 */
static void
conn_fail_request(int slotno, const char *sqlstate, const char *message,
				  const char *detail)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (!wc->sending)
		resetStringInfo(&wc->out);
	resetStringInfo(&wc->final);
	MsgEncodeFailure(&wc->final, sqlstate, message, detail);
	wc->failed = true;
	if (wc->conn != NULL && wc->phase != CONN_FINISH &&
		(wc->phase == CONN_QUERY || wc->phase == CONN_DRAIN ||
		 PQtransactionStatus(wc->conn) == PQTRANS_ACTIVE))
		conn_drain_start(slotno);
	else
		wc->phase = CONN_FINISH;
}

/*
 * ConnFailRequest
 *		slotno was taken from its holder (reclaimed as leaked): a request of
 *		the holder being served on it, or waiting for it, fails with this
 *		error.  A query that may still run on the remote is cancelled and
 *		drained first; the slot is settled (reset) when the request ends.
 */
void
ConnFailRequest(int slotno, const char *sqlstate, const char *message,
				const char *detail)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->pending_procno >= 0)
	{
		int			procno = wc->pending_procno;

		wc->pending_procno = -1;
		RejectRequestCode(procno, sqlstate, message, detail);
	}
	if (wc->procno >= 0 && wc->out.data != NULL)
		conn_fail_request(slotno, sqlstate, message, detail);
}

/*
 * ConnRemoteInTransaction
 *		Is slotno's connection, idle between requests, inside a remote
 *		transaction?  1 yes, 0 no, -1 unknown (no connection, or busy).
 */
int
ConnRemoteInTransaction(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->conn == NULL || wc->phase != CONN_READY)
		return -1;
	switch (PQtransactionStatus(wc->conn))
	{
		case PQTRANS_IDLE:
			return 0;
		case PQTRANS_INTRANS:
		case PQTRANS_INERROR:
			return 1;
		default:
			return -1;
	}
}

/*
 * ConnServing
 *		Is a request of backend procno attached to, or waiting for, a
 *		connection?
 */
bool
ConnServing(int procno)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
		if (WorkerConns[i].procno == procno ||
			WorkerConns[i].pending_procno == procno)
			return true;
	return false;
}

/*
 * ConnGiveUp
 *		The janitor's deadline (connect_timeout) passed while slotno's
 *		connection waited (what ConnWaiting said): a lookup or connect
 *		fails, a drain or reset is given up and the connection closed.
 */
void
ConnGiveUp(int slotno, ConnWait wait)
{
	switch (wait)
	{
		case CONN_WAIT_RESOLVE:
			conn_connect_failed(slotno, "timeout expired while resolving the host name");
			break;
		case CONN_WAIT_CONNECT:
			conn_connect_failed(slotno, "timeout expired");
			break;
		case CONN_WAIT_RESET:
			ConnCloseSlot(slotno, CLOSE_RESET_TIMEOUT);
			break;
		case CONN_WAIT_CANCEL:
			ConnCloseSlot(slotno, CLOSE_CANCEL_TIMEOUT);
			break;
		case CONN_WAIT_NONE:
			break;
	}
}

/*
 * ConnInUse
 *		Has the worker a connection on slotno, or is it opening one?
 */
bool
ConnInUse(int slotno)
{
	return WorkerConns[slotno].phase != CONN_NONE;
}

/*
 * ConnIsReady
 *		Is slotno's connection up with nothing in flight on it?
 */
bool
ConnIsReady(int slotno)
{
	return WorkerConns[slotno].phase == CONN_READY;
}

/*
 * ConnWaiting
 *		What slotno's connection waits for that connect_timeout bounds, in
 *		pool *pool since *since; CONN_WAIT_NONE if nothing.
 */
ConnWait
ConnWaiting(int slotno, int *pool, TimestampTz *since)
{
	WorkerConn *wc = &WorkerConns[slotno];

	*pool = wc->pool;
	*since = wc->phase_start;
	switch (wc->phase)
	{
		case CONN_RESOLVING:
			return CONN_WAIT_RESOLVE;
		case CONN_CONNECTING:
			return CONN_WAIT_CONNECT;
		case CONN_DRAIN:
			return CONN_WAIT_CANCEL;
		case CONN_RESET:
			return CONN_WAIT_RESET;
		default:
			return CONN_WAIT_NONE;
	}
}

/*
 * ConnSocket
 *		The socket of slotno's connection, or PGINVALID_SOCKET.
 */
pgsocket
ConnSocket(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	return wc->conn ? PQsocket(wc->conn) : PGINVALID_SOCKET;
}

/*
 * ConnSerial
 *		Bumped for each new libpq connection (or socket) of slotno: a wait
 *		set registered with an older serial names a closed socket.
 */
uint32
ConnSerial(int slotno)
{
	return WorkerConns[slotno].serial;
}

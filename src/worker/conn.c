/*-------------------------------------------------------------------------
 *
 * conn.c
 *	  The pool worker's side of each physical connection: connect, run a
 *	  backend's request, cancel, reset, close; never blocking the loop.
 *
 * One WorkerConn per slot, private to the worker.  ConnStep() advances it
 * by one non-blocking step when its socket is ready or its latch was set:
 * PQconnectPoll while connecting; PQconsumeInput/PQgetResult in
 * single-row mode while a query runs, packing rows into batches for the
 * backend's response queue.  When that queue is full the step returns
 * without reading the socket (ConnWantedEvents() then asks for nothing),
 * so a slow backend throttles the remote server instead of making the
 * worker buffer the result.
 *
 * Shared state changes (slot states, counters) are made under the pool
 * lock through pool.c; conn_settle() is the one place that decides what
 * becomes of a slot when the worker has nothing more in flight on it.
 *
 * Nothing here blocks: host names are looked up by resolve.c before libpq
 * sees them (CONN_RESOLVING), cancel requests go through cancel.c
 * (PQcancel() could wait forever for a remote that does not answer), and a
 * connection is closed in non-blocking mode (conn_close_libpq).
 *
 * Values arrive as the remote holds them: every connection is opened with
 * client_encoding UTF8 and fixed output settings (PGPOOL_REMOTE_OPTIONS),
 * restored by every reset.  A request during which the server reported a
 * change of one of them fails (conn_settings_step) and the settings are
 * restored before the next request.  XXX: the server reports a setting
 * only at the end of a query cycle and only if it differs from what it
 * last reported, so a setting changed and changed back within one
 * multi-statement request goes unnoticed; extra_float_digits is never
 * reported (a SET of it lasts until the release).
 *
 * Memory: libpq's buffers grow to the largest message a connection
 * carried and never shrink; a connection that carried one larger than
 * pgpool_ext.max_connection_buffer is closed at release (conn_recycle).
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
#include "backend/channel.h"
#include "worker/conn.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "proto/remote_error.h"
#include "worker/resolve.h"

WorkerConn *WorkerConns = NULL;

/*
 * Output settings forced on every remote connection (at connect, through
 * the startup packet, which overrides the remote role's and database's
 * settings), restored by every reset and whenever a request changed them.
 * DateStyle ISO and IntervalStyle postgres are the formats the input
 * functions of every backend read whatever its own settings;
 * extra_float_digits 3 prints float4/float8 exactly.  client_encoding is
 * UTF8 (a libpq keyword of its own): backends convert from and to their
 * database encoding.
 */
#define PGPOOL_REMOTE_OPTIONS \
	"-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3"
#define PGPOOL_RESTORE_SETTINGS \
	"SET client_encoding = 'UTF8'; SET datestyle = 'ISO'; " \
	"SET intervalstyle = 'postgres'; SET extra_float_digits = 3"
#define PGPOOL_CONNECT_NPARAMS 5

static void conn_open(int slotno, int pool);
static bool conn_resolve_start(int slotno);
static void conn_resolve_step(int slotno);
static bool conn_backend_gave_up(int procno);
static void conn_connect_step(int slotno);
static void conn_connected(int slotno);
static void conn_connect_failed(int slotno, const char *msg);
static void conn_begin_request(int slotno, int procno);
static void conn_start_pending(int slotno);
static void conn_reject_pending(int slotno, const char *message,
								const char *detail);
static void conn_request_step(int slotno);
static void conn_read_request(WorkerConn *wc, void *data, Size len);
static const char *conn_setting_changed(PGconn *conn);
static bool conn_send_command(WorkerConn *wc, bool own);
static void conn_send_failed(int slotno);
static bool conn_settings_step(int slotno, bool *lost);
static bool conn_reset_needs_settings(WorkerConn *wc, const char *reset_query);
static void conn_recycle(int slotno);
static void conn_connect_params(const char *conninfo, const char **keys,
								const char **values);
static void conn_query_step(int slotno, bool readable);
static void conn_handle_result(WorkerConn *wc, PGresult *res);
static bool conn_send_out(WorkerConn *wc);
static void conn_finish_results(WorkerConn *wc);
static void conn_finish_step(int slotno);
static void conn_drain_step(int slotno, bool readable);
static void conn_drain_end(int slotno);
static void conn_start_drain(int slotno);
static void conn_channel_end(WorkerConn *wc);
static void conn_detach_queues(WorkerConn *wc);
static void conn_reset_step(int slotno, bool readable);
static void conn_cancel(int slotno);
static void conn_request_end(int slotno);
static void conn_lost(int slotno, const char *msg);
static void conn_settle(int slotno, int done_procno);
static void conn_mark_not_busy(int slotno);
static bool conn_cancel_requested(WorkerConn *wc);
static bool conn_pump(int slotno, bool readable);
static void conn_notice_receiver(void *arg, const PGresult *res);
static void conn_close_libpq(WorkerConn *wc);
static void conn_drop_notifies(WorkerConn *wc);

typedef enum NextResult
{
	NEXT_RESULT,				/* a result is there */
	NEXT_DONE,					/* the command is complete */
	NEXT_WAIT,					/* wait for the socket */
	NEXT_LOST					/* the connection is gone (handled) */
} NextResult;

static NextResult conn_next_result(int slotno, PGresult **res);

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
 *		to non-blocking mode as soon as it is up (conn_connected), and one
 *		that is not up sends no Terminate, so PQfinish() never waits here
 *		(verified against libpq 15's pqSendSome; test 201).
 *		A slot still resolving host names gives its lookups up.
 */
static void
conn_close_libpq(WorkerConn *wc)
{
	ResolveCancel(wc - WorkerConns);	/* a host name lookup, if any */
	if (wc->conn == NULL)
		return;
	if (!wc->cancel_sent && PQstatus(wc->conn) == CONNECTION_OK &&
		PQtransactionStatus(wc->conn) == PQTRANS_ACTIVE)
		(void) CancelStart(wc->conn, wc->pool, -1);
	/* only one whose switch failed (conn_connected) is not; nothing is queued */
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
static void
conn_drop_notifies(WorkerConn *wc)
{
	PGnotify   *n;

	if (wc->conn == NULL)
		return;
	(void) PQisBusy(wc->conn);
	while ((n = PQnotifies(wc->conn)) != NULL)
		PQfreemem(n);
}

/* Remote notices and warnings are not for the worker's stderr: drop them. */
static void
conn_notice_receiver(void *arg, const PGresult *res)
{
}

/*
 * The connection's libpq error, newline-free and in ASCII (it may quote a
 * remote server's bytes: see PoolTextAscii).  It never contains the
 * password: libpq's connection messages name host, port, user and
 * database only.
 */
static char *
conn_error(WorkerConn *wc)
{
	char	   *msg = PoolTextAscii(wc->conn ? PQerrorMessage(wc->conn) : "out of memory");
	int			n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	return msg;
}

/*
 * ConnStartConnect
 *		Open a new connection for pool/partition; false if no slot is free.
 */
bool
ConnStartConnect(int pool, int partition)
{
	int			slotno = PoolAllocSlot(pool, partition);

	if (slotno < 0)
		return false;
	conn_open(slotno, pool);
	return true;
}

/*
 * conn_connect_params
 *		The libpq keywords of a new connection to conninfo (expanded from
 *		dbname).  The options after it override the conninfo's: every
 *		connection talks UTF8 and prints values in the formats the backends
 *		read (PGPOOL_REMOTE_OPTIONS appended to the conninfo's own
 *		"options"), whatever the remote role's or database's settings.
 *		keys and values have room for PGPOOL_CONNECT_NPARAMS entries; the
 *		strings are palloc'd in the current context.
 */
static void
conn_connect_params(const char *conninfo, const char **keys,
					const char **values)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *o;
	const char *user_options = NULL;

	for (o = opts; o != NULL && o->keyword != NULL; o++)
	{
		if (strcmp(o->keyword, "options") == 0 && o->val != NULL)
			user_options = o->val;
	}
	keys[0] = "dbname";
	values[0] = conninfo;
	keys[1] = "options";
	values[1] = user_options && user_options[0] != '\0' ?
		psprintf("%s %s", user_options, PGPOOL_REMOTE_OPTIONS) :
		PGPOOL_REMOTE_OPTIONS;
	keys[2] = "client_encoding";
	values[2] = "UTF8";
	keys[3] = "fallback_application_name";
	values[3] = "pgpool_ext";
	keys[4] = NULL;
	values[4] = NULL;
	if (opts)
		PQconninfoFree(opts);
}

/*
 * conn_open
 *		Start connecting slotno (new, or held by a backend whose request
 *		waits for a replacement) with pool's current conninfo.
 */
static void
conn_open(int slotno, int pool)
{
	const char *keys[PGPOOL_CONNECT_NPARAMS];
	const char *values[PGPOOL_CONNECT_NPARAMS];
	WorkerConn *wc = &WorkerConns[slotno];

	/* called again once the host names are resolved: same conninfo */
	if (wc->phase != CONN_RESOLVING)
	{
		LWLockAcquire(PoolLock(pool), LW_SHARED);
		strlcpy(wc->conninfo, PoolShared->pools[pool].def.conninfo, PGPOOL_CONNINFO_LEN);
		LWLockRelease(PoolLock(pool));
	}

	conn_connect_params(wc->conninfo, keys, values);
	wc->pool = pool;
	if (wc->phase != CONN_RESOLVING && conn_resolve_start(slotno))
		return;
	wc->phase = CONN_CONNECTING;
	wc->phase_start = GetCurrentTimestamp();
	wc->poll = PGRES_POLLING_WRITING;
	wc->want_write = false;
	wc->max_message = 0;
	wc->conn = ResolveConnectStart(slotno, keys, values);
	wc->serial++;
	if (wc->conn != NULL)
		PQsetNoticeReceiver(wc->conn, conn_notice_receiver, NULL);
	if (wc->conn == NULL || PQstatus(wc->conn) == CONNECTION_BAD)
		conn_connect_failed(slotno, NULL);
}

/*
 * Host names in the conninfo are looked up first, without blocking
 * (resolve.c): true if the slot now waits for that (CONN_RESOLVING), or
 * failed at once.
 */
static bool
conn_resolve_start(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char	   *msg = NULL;
	ResolveStatus rs = ResolveStart(slotno, wc->conninfo, &msg);

	if (rs == RESOLVE_NONE)
		return false;
	wc->phase = CONN_RESOLVING;
	wc->phase_start = GetCurrentTimestamp();
	wc->serial++;
	if (rs == RESOLVE_FAILED)
		conn_connect_failed(slotno, msg);
	return true;
}

/* RESOLVING: are the lookups done?  Then connect to what they found. */
static void
conn_resolve_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char	   *msg = NULL;

	switch (ResolvePoll(slotno, &msg))
	{
		case RESOLVE_RUNNING:
			break;
		case RESOLVE_FAILED:
			conn_connect_failed(slotno, msg);
			break;
		default:
			conn_open(slotno, wc->pool);
			break;
	}
}

/* CONNECTING: one PQconnectPoll. */
static void
conn_connect_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	wc->poll = PQconnectPoll(wc->conn);
	/* libpq may have moved to another socket (next host or address) */
	wc->serial++;
	if (wc->poll == PGRES_POLLING_OK)
		conn_connected(slotno);
	else if (wc->poll == PGRES_POLLING_FAILED)
		conn_connect_failed(slotno, NULL);
}

/*
 * The connection is up: record it and hand it over; or, if it replaces
 * one that could not be reset, run the request that waits for it.
 */
static void
conn_connected(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	bool		closing;
	bool		password_refused;

	if (PQsetnonblocking(wc->conn, 1) != 0)
	{
		conn_connect_failed(slotno, NULL);
		return;
	}
	wc->phase = CONN_READY;
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	slot->remote_pid = PQbackendPID(wc->conn);
	slot->used_password = PQconnectionUsedPassword(wc->conn) != 0;
	slot->created_at = PoolSlotClock();
	slot->last_used_at = slot->created_at;
	StatsCount(&pool->stats, STAT_CONNECTS);
	pool->backoff_ms = 0;
	pool->next_connect_at = 0;
	slot->reset_pending = false;	/* a new connection has nothing to reset */

	/*
	 * A replacement for a held connection (conn_settle): the holder passed
	 * handle_check_password() with the old one, so apply its rule here.
	 */
	password_refused = (slot->state == SLOT_BUSY || slot->state == SLOT_ACQUIRED) &&
		pool->def.password_required && !slot->used_password &&
		!slot->holder_superuser;
	/* a new one, or a replacement whose holder let go of it meanwhile */
	if (slot->state == SLOT_CONNECTING || slot->state == SLOT_RESETTING)
		PoolHandOver(slotno);
	closing = slot->state == SLOT_CLOSING;
	LWLockRelease(&pool->lock);

	if (password_refused)
	{
		conn_close_libpq(wc);
		wc->phase = CONN_NONE;
		if (wc->pending_procno >= 0)
			conn_reject_pending(slotno, "connection to the remote server was lost",
								"Its replacement did not authenticate with a password.");
		conn_settle(slotno, -1);
	}
	else if (closing)
		conn_settle(slotno, -1);
	else if (wc->pending_procno >= 0)
		conn_start_pending(slotno);
}

/*
 * ConnFailConnect
 *		Give up on a connect in progress (janitor: connect_timeout).
 */
void
ConnFailConnect(int slotno, const char *why)
{
	conn_connect_failed(slotno, why);
}

/* A connect failed: remember why, back off, free the slot. */
static void
conn_connect_failed(int slotno, const char *why)
{
	WorkerConn *wc = &WorkerConns[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	char	   *msg = why ? pstrdup(why) : conn_error(wc);

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	StatsCount(&pool->stats, STAT_CONNECT_FAILURES);
	strlcpy(pool->last_error, msg, PGPOOL_ERROR_LEN);

	/*
	 * Back off once per round: attempts started together (before the
	 * current backoff deadline) fail together and count as one.
	 */
	if (wc->phase_start >= pool->next_connect_at)
	{
		pool->backoff_ms = pool->backoff_ms == 0 ? 100 :
			Min(pool->backoff_ms * 2, pgpool_connect_retry_max);
		pool->next_connect_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															pool->backoff_ms);
	}
	LWLockRelease(&pool->lock);
	ereport(LOG,
			(errmsg("pgpool_ext: could not connect for pool \"%s\"", pool->name),
			 errdetail_internal("%s", msg)));
	conn_close_libpq(wc);
	wc->phase = CONN_NONE;
	if (wc->pending_procno >= 0)
		conn_reject_pending(slotno, "could not connect to the remote server", msg);
	/* only the worker moves a slot out of CONNECTING */
	if (PoolShared->slots[slotno].state == SLOT_CONNECTING)
		PoolFreeSlot(slotno);
	else
		conn_settle(slotno, -1);	/* a replacement: the holder's is broken */
	pfree(msg);
}

/*
 * ConnAcceptRequest
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
ConnAcceptRequest(int procno, int slotno, uint32 epoch)
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
		ChannelWorkerReject(procno, "invalid request", "");
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
		ChannelWorkerReject(procno, "connection to the remote server was lost", "");
		if (ok)
			conn_settle(slotno, procno);	/* BUSY, no connection: broken */
		return;
	}
	if (reset || wc->phase == CONN_RESET || wc->phase == CONN_CONNECTING ||
		wc->phase == CONN_DRAIN || wc->phase == CONN_RESOLVING)
	{
		wc->pending_procno = procno;
		if (wc->phase == CONN_READY)
			ConnStartReset(slotno);
		return;
	}
	conn_begin_request(slotno, procno);
}

/* The reset is done: run the request that waited for it, if still wanted. */
static void
conn_start_pending(int slotno)
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
		conn_begin_request(slotno, procno);
	else
		ChannelWorkerReject(procno, "connection to the remote server was lost", "");
}

/*
 * A request that waited for the connection will not run: answer it with
 * 08006 (a backend that gave up ignores that).  A slot it still holds is no
 * longer busy.
 */
static void
conn_reject_pending(int slotno, const char *message, const char *detail)
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
	ChannelWorkerReject(procno, message, detail);
}

/*
 * May the connection a request waits for, which could not be reset (or
 * died), be replaced in place?  Yes while its backend still holds it and
 * waits, and the pool is not being dropped.
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
	ok = slot->pool == pool && slot->holder_procno == wc->pending_procno &&
		slot->state == SLOT_BUSY && !PoolShared->pools[pool].dropping;
	LWLockRelease(PoolLock(pool));
	return ok;
}

/* Attach to procno's queues and start its request on slotno. */
static void
conn_begin_request(int slotno, int procno)
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

/* Did backend procno give up on its request? */
static bool
conn_backend_gave_up(int procno)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		cancel;

	SpinLockAcquire(&be->mutex);
	cancel = be->chan_cancel;
	SpinLockRelease(&be->mutex);
	return cancel;
}

/* Did the backend give up on the request being served? */
static bool
conn_cancel_requested(WorkerConn *wc)
{
	return wc->procno < 0 || conn_backend_gave_up(wc->procno);
}

/*
 * conn_setting_changed
 *		The first output setting the server reports (client_encoding,
 *		DateStyle, IntervalStyle) that no longer has the value
 *		PGPOOL_REMOTE_OPTIONS gave it, or NULL.  A setting the server does
 *		not report cannot be checked (extra_float_digits is never reported).
 */
static const char *
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
 * Send a command of the request (the request's own, req_sql, or one of
 * ours); false if libpq refused it.  The request's own runs in single-row
 * mode.
 */
static bool
conn_send_command(WorkerConn *wc, bool own)
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
conn_send_failed(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char	   *msg = conn_error(wc);

	if (PQstatus(wc->conn) == CONNECTION_BAD)
	{
		conn_lost(slotno, msg);
		return;
	}
	if (!wc->failed)
		RemoteFailurePack(&wc->final, "08000", "could not send query to remote server", msg);
	wc->failed = true;
	conn_finish_results(wc);
	conn_finish_step(slotno);
}

/*
 * Parse a request message into wc->mcxt (req_sql, req_params) and note
 * its size, which libpq's output buffer will reach.
 */
static void
conn_read_request(WorkerConn *wc, void *data, Size len)
{
	MsgReader	r;
	const char **params;
	int			i;

	MemoryContextReset(wc->mcxt);	/* a cancelled request's leftovers */
	MsgReaderInit(&r, data, len);
	wc->kind = (RequestKind) MsgGetByte(&r);
	wc->last_request = (MsgGetByte(&r) & REQUEST_FLAG_LAST) != 0;
	wc->req_nparams = MsgGetInt32(&r);
	wc->req_sql = MemoryContextStrdup(wc->mcxt, MsgGetString(&r));
	params = MemoryContextAlloc(wc->mcxt, sizeof(char *) * (wc->req_nparams + 1));
	for (i = 0; i < wc->req_nparams; i++)
	{
		int32		plen;
		const char *p = MsgGetBytes(&r, &plen);

		if (p == NULL)
			params[i] = NULL;
		else
		{
			char	   *copy = MemoryContextAlloc(wc->mcxt, plen + 1);

			memcpy(copy, p, plen);
			copy[plen] = '\0';
			params[i] = copy;
		}
	}
	wc->req_params = params;
	wc->max_message = Max(wc->max_message, len);
}

/*
 * CONN_REQUEST: read the request and send it to the remote server; if a
 * previous request left an output setting changed (it was cancelled
 * before its end restored them), restore them first.
 */
static void
conn_request_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	Size		len;
	void	   *data;
	shm_mq_result res = shm_mq_receive(wc->req, &len, &data, true);

	if (res == SHM_MQ_WOULD_BLOCK && !conn_cancel_requested(wc))
		return;
	if (res != SHM_MQ_SUCCESS || conn_cancel_requested(wc))
	{
		conn_request_end(slotno);
		return;
	}
	conn_read_request(wc, data, len);
	wc->bad_setting = NULL;
	wc->extra = conn_setting_changed(wc->conn) ? CONN_EXTRA_BEFORE :
		CONN_EXTRA_NONE;
	if (!conn_send_command(wc, wc->extra == CONN_EXTRA_NONE))
	{
		conn_send_failed(slotno);
		return;
	}
	wc->phase = CONN_QUERY;
	conn_query_step(slotno, false);
}

/*
 * conn_settings_step
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
conn_settings_step(int slotno, bool *lost)
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
				RemoteFailurePack(&wc->final, "0A000",
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
	if (conn_send_command(wc, own))
		return true;
	if (PQstatus(wc->conn) == CONNECTION_BAD)
	{
		conn_lost(slotno, conn_error(wc));
		*lost = true;
		return false;
	}
	if (!wc->failed)
		RemoteFailurePack(&wc->final, "08000", "could not send query to remote server",
						  conn_error(wc));
	wc->failed = true;
	return false;
}

/*
 * Push the outbox into the response queue; false while the queue is full.
 * A detached backend counts as "sent" (conn_cancel_requested tells).
 */
static bool
conn_send_out(WorkerConn *wc)
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
conn_handle_result(WorkerConn *wc, PGresult *res)
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
				appendStringInfoChar(&wc->out, MSG_ROW_DESCRIPTION);
				MsgPutInt32(&wc->out, natts);
				for (i = 0; i < natts; i++)
				{
					MsgPutInt32(&wc->out, (int32) PQftype(res, i));
					MsgPutString(&wc->out, PQfname(res, i));
				}
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
			if (wc->kind != REQUEST_QUERY)
				break;
			appendStringInfoChar(&wc->out, MSG_DATA_ROWS);
			for (i = 0; i < natts; i++)
			{
				if (PQgetisnull(res, 0, i))
					MsgPutBytes(&wc->out, NULL, -1);
				else
					MsgPutBytes(&wc->out, PQgetvalue(res, 0, i), PQgetlength(res, 0, i));
			}
			break;
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			strlcpy(wc->status, PQcmdStatus(res), sizeof(wc->status));
			break;
		case PGRES_FATAL_ERROR:
			if (!wc->failed)
				RemoteErrorPack(&wc->final, res);
			wc->failed = true;
			break;
		default:
			if (!wc->failed)
				RemoteFailurePack(&wc->final, "0A000",
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
conn_finish_results(WorkerConn *wc)
{
	if (!wc->failed)
	{
		resetStringInfo(&wc->final);
		appendStringInfoChar(&wc->final, MSG_COMMAND_DONE);
		MsgPutString(&wc->final, wc->status);
	}
	wc->phase = CONN_FINISH;
}

/*
 * conn_next_result
 *		The next result of the running command if it is there without
 *		blocking.  COPY is refused with 0A000: data a COPY TO sends is
 *		discarded, COPY FROM STDIN is ended with an error, and a COPY BOTH
 *		connection is closed.
 */
static NextResult
conn_next_result(int slotno, PGresult **res)
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
			RemoteFailurePack(&wc->final, "0A000",
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

/*
 * Flush pending output and read what the socket has, so that PQisBusy /
 * PQgetResult can make progress.  If the connection is gone, handles the
 * loss (conn_lost) and returns false.
 */
static bool
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

/* CONN_QUERY: move rows from libpq to the backend while both allow it. */
static void
conn_query_step(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (conn_cancel_requested(wc))
	{
		conn_cancel(slotno);
		return;
	}
	if (wc->sending && !conn_send_out(wc))
		return;
	if (!conn_pump(slotno, readable))
		return;
	for (;;)
	{
		PGresult   *res;
		NextResult	next = conn_next_result(slotno, &res);

		if (next == NEXT_LOST)
			return;
		if (next == NEXT_WAIT)
			break;
		if (next == NEXT_DONE)
		{
			bool		lost;

			if (conn_settings_step(slotno, &lost))
				continue;
			if (lost)
				return;
			conn_finish_results(wc);
			conn_finish_step(slotno);
			return;
		}
		conn_handle_result(wc, res);
		PQclear(res);
		if (wc->out.len >= PGPOOL_BATCH_BYTES && !conn_send_out(wc))
			return;				/* backpressure: stop reading the socket */
	}
	if (PQstatus(wc->conn) == CONNECTION_BAD)
	{
		conn_lost(slotno, conn_error(wc));
		return;
	}
	/* flush a partial batch so a slow remote does not delay early rows */
	if (wc->out.len > 0)
		(void) conn_send_out(wc);
}

/*
 * CONN_FINISH: deliver the rows still in the outbox (a message partly in
 * the queue is completed first), then the final message, then end the
 * request.
 */
static void
conn_finish_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (!conn_cancel_requested(wc))
	{
		if (!conn_send_out(wc))
			return;
		if (wc->final.len > 0)
		{
			/* nothing is in flight any more: views must not say busy */
			conn_mark_not_busy(slotno);
			appendBinaryStringInfo(&wc->out, wc->final.data, wc->final.len);
			resetStringInfo(&wc->final);
			if (!conn_send_out(wc))
				return;
		}
	}
	conn_request_end(slotno);
}

/*
 * The backend gave up: let go of its channel at once, then cancel the
 * remote query and drain it on the connection alone.  The backend's next
 * request runs at once on another connection; on this one it waits in the
 * worker (pending_procno) until the drain is over.
 */
static void
conn_cancel(int slotno)
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
	conn_channel_end(wc);
	conn_start_drain(slotno);
}

/*
 * Cancel the query running on slotno's connection and discard its results
 * (CONN_DRAIN).  With a request still attached (worker error recovery), its
 * final message is delivered when the drain is over.
 */
static void
conn_start_drain(int slotno)
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
static void
conn_drain_step(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];

	/* a backend we drain for (error recovery) gave up: let it go now */
	if (wc->procno >= 0 && conn_backend_gave_up(wc->procno))
	{
		resetStringInfo(&wc->out);
		wc->sending = false;
		wc->drain_procno = wc->procno;
		conn_channel_end(wc);
	}
	if (!conn_pump(slotno, readable))
		return;
	for (;;)
	{
		PGresult   *res;
		NextResult	next = conn_next_result(slotno, &res);

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
		conn_finish_step(slotno);
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
		ConnStartReset(slotno);
	else
		conn_start_pending(slotno);
}

/*
 * Detach from the queues of the request being served and give the backend
 * its channel back.  The connection may still have work to do (a drain).
 */
static void
conn_channel_end(WorkerConn *wc)
{
	int			procno = wc->procno;

	conn_detach_queues(wc);
	if (procno >= 0)
		ChannelWorkerDone(procno);
}

/* Detach from the request's queues; no request is served any more. */
static void
conn_detach_queues(WorkerConn *wc)
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
static void
conn_request_end(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	int			procno = wc->procno;

	conn_detach_queues(wc);
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
 * The connection died.  Tell the backend of an open request (08006), close
 * the socket and settle the slot.
 */
static void
conn_lost(int slotno, const char *msg)
{
	WorkerConn *wc = &WorkerConns[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];

	ereport(LOG,
			(errmsg("pgpool_ext: connection %d of pool \"%s\" was lost", slotno, pool->name),
			 errdetail_internal("%s", msg)));
	conn_close_libpq(wc);
	if (wc->procno >= 0 &&
		(wc->phase == CONN_QUERY || wc->phase == CONN_REQUEST ||
		 wc->phase == CONN_DRAIN))
	{
		/* rows already in the outbox go first, then this error */
		resetStringInfo(&wc->final);
		RemoteFailurePack(&wc->final, "08006",
						  psprintf("connection to the remote server of pool \"%s\" was lost",
								   pool->name), msg);
		wc->failed = true;
		wc->phase = CONN_FINISH;
		conn_finish_step(slotno);
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
 * The remote part of a request is over: BUSY becomes ACQUIRED.  After the
 * last request of a hold (run()) the reset starts now, while the backend
 * reads the rows and releases: its release then has nothing left to do.
 */
static void
conn_mark_not_busy(int slotno)
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
 * conn_settle
 *		The worker has nothing in flight on slotno: decide what becomes of
 *		the slot from its shared state and whether the connection lives.
 *		done_procno is the backend whose request just ended, or -1: a slot
 *		it still holds is no longer busy.  Another holder may have the slot
 *		by now (a used connection is handed on while its reset is pending)
 *		and its request may be on the way: its BUSY stays.
 */
static void
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
			conn_open(slotno, pool);
			return;
		}
		conn_reject_pending(slotno, "connection to the remote server was lost", "");
	}
	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	switch (slot->state)
	{
		case SLOT_BUSY:
		case SLOT_ACQUIRED:
			if (!alive)
				PoolSetSlotState(slotno, SLOT_BROKEN);
			else if (slot->holder_procno == done_procno &&
					 !ChannelWorkerSubmitted(done_procno, slotno))
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
		StatsCount(&PoolShared->pools[pool].stats, STAT_CLOSES);
	LWLockRelease(PoolLock(pool));
	if (free_it)
	{
		conn_close_libpq(wc);
		wc->phase = CONN_NONE;
		PoolFreeSlot(slotno);
	}
	else if (reset)
		ConnStartReset(slotno);
}

/*
 * conn_recycle
 *		A used connection carried a row or request larger than
 *		pgpool_ext.max_connection_buffer: libpq's buffers grew to hold it
 *		and never shrink, so close it instead of resetting it.  A slot
 *		already held again (handed over with its reset pending) gets a new
 *		connection in place, as one that could not be reset does.
 */
static void
conn_recycle(int slotno)
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
	conn_close_libpq(wc);
	wc->phase = CONN_NONE;
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	held = slot->state == SLOT_ACQUIRED || slot->state == SLOT_BUSY;
	if (held)
	{
		StatsCount(&pool->stats, STAT_CLOSES);
		slot->def_version = pool->def_version;
		slot->remote_pid = 0;
	}
	LWLockRelease(&pool->lock);
	if (held)
		conn_open(slotno, wc->pool);
	else
		conn_settle(slotno, -1);	/* counts the close, frees the slot */
}

/*
 * ConnStartReset
 *		A released, used connection: ROLLBACK if a transaction is open, then
 *		the pool's reset query, then the output settings; then hand it over
 *		(SLOT_RESETTING), or run the request that waits for it
 *		(reset_pending).  One that carried too large a message is closed
 *		instead (conn_recycle).
 */
void
ConnStartReset(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->phase != CONN_READY)
		return;
	if (pgpool_max_connection_buffer > 0 &&
		wc->max_message > (Size) pgpool_max_connection_buffer * 1024)
	{
		conn_recycle(slotno);
		return;
	}
	wc->phase = CONN_RESET;
	wc->phase_start = GetCurrentTimestamp();
	wc->reset_step = -1;
	conn_reset_step(slotno, false);
}

/*
 * Must a reset restore the output settings?  Yes unless the pool's reset
 * query set every setting back to its session default (the values the
 * connection was opened with) and no reported setting differs.
 */
static bool
conn_reset_needs_settings(WorkerConn *wc, const char *reset_query)
{
	return conn_setting_changed(wc->conn) != NULL ||
		(pg_strcasecmp(reset_query, "DISCARD ALL") != 0 &&
		 pg_strcasecmp(reset_query, "RESET ALL") != 0);
}

/*
 * CONN_RESET: run the next reset statement (ROLLBACK, the pool's reset
 * query, the output settings), or finish.
 */
static void
conn_reset_step(int slotno, bool readable)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	char		reset_query[PGPOOL_RESET_LEN];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	bool		closing;

	if (wc->reset_step >= 0)
	{
		if (!conn_pump(slotno, readable))
			return;
		for (;;)
		{
			PGresult   *res;
			NextResult	next = conn_next_result(slotno, &res);

			if (next == NEXT_LOST || next == NEXT_WAIT)
				return;
			if (next == NEXT_DONE)
				break;
			if (PQresultStatus(res) == PGRES_FATAL_ERROR)
			{
				char	   *msg = PoolTextAscii(PQresultErrorMessage(res));

				ereport(LOG,
						(errmsg("pgpool_ext: could not reset connection %d of pool \"%s\", closing it",
								slotno, pool->name),
						 errdetail_internal("%s", msg)));
				PQclear(res);
				conn_close_libpq(wc);
				wc->phase = CONN_NONE;
				conn_settle(slotno, -1);
				return;
			}
			PQclear(res);
		}
	}

	LWLockAcquire(&pool->lock, LW_SHARED);
	strlcpy(reset_query, pool->def.reset_query, sizeof(reset_query));
	LWLockRelease(&pool->lock);

	if (wc->reset_step < 0 && PQtransactionStatus(wc->conn) != PQTRANS_IDLE)
		wc->reset_step = 0;
	else if (wc->reset_step < 1 && reset_query[0] != '\0')
		wc->reset_step = 1;
	else if (wc->reset_step < 2 && conn_reset_needs_settings(wc, reset_query))
		wc->reset_step = 2;
	else
	{
		if (PQtransactionStatus(wc->conn) != PQTRANS_IDLE)
		{
			conn_close_libpq(wc);
		}
		wc->phase = wc->conn ? CONN_READY : CONN_NONE;
		if (wc->conn == NULL)
		{
			conn_settle(slotno, -1);
			return;
		}
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
			conn_start_pending(slotno);
		return;
	}
	if (!PQsendQuery(wc->conn, wc->reset_step == 0 ? "ROLLBACK" :
					 wc->reset_step == 1 ? reset_query : PGPOOL_RESTORE_SETTINGS))
	{
		conn_lost(slotno, conn_error(wc));
		return;
	}
	wc->want_write = PQflush(wc->conn) == 1;
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
		conn_reject_pending(slotno, "request cancelled", "");
	switch (wc->phase)
	{
		case CONN_NONE:
			break;
		case CONN_RESOLVING:
			conn_resolve_step(slotno);
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
			conn_query_step(slotno, readable);
			break;
		case CONN_FINISH:
			conn_finish_step(slotno);
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
ConnCloseSlot(int slotno, const char *why)
{
	WorkerConn *wc = &WorkerConns[slotno];

	if (wc->procno >= 0)
	{
		if (wc->conn)
			conn_lost(slotno, why);
		return;
	}
	/* a drain or reset given up is not routine: say why */
	if (wc->conn && (wc->phase == CONN_DRAIN || wc->phase == CONN_RESET))
		ereport(LOG,
				(errmsg("pgpool_ext: closing connection %d of pool \"%s\"",
						slotno, PoolShared->pools[wc->pool].name),
				 errdetail_internal("%s", why)));
	conn_close_libpq(wc);
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
			conn_close_libpq(&WorkerConns[i]);
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
		conn_close_libpq(wc);
		wc->phase = CONN_NONE;
		if (wc->procno >= 0)
			conn_request_end(slotno);
		else
			conn_settle(slotno, -1);	/* reads drain_procno: own_drain */
		return;
	}
	/* a message partly in the queue must be completed; the rest goes */
	if (!wc->sending)
		resetStringInfo(&wc->out);
	resetStringInfo(&wc->final);
	RemoteFailurePack(&wc->final, unpack_sql_state(edata->sqlerrcode),
					  edata->message ? edata->message :
					  "error in the pool worker", edata->detail);
	wc->failed = true;
	if (wc->conn != NULL && wc->phase != CONN_FINISH &&
		(wc->phase == CONN_QUERY || wc->phase == CONN_DRAIN ||
		 PQtransactionStatus(wc->conn) == PQTRANS_ACTIVE))
		conn_start_drain(slotno);
	else
		wc->phase = CONN_FINISH;
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
		ChannelWorkerRejectCode(procno, sqlstate, message, detail);
	}
	if (wc->procno < 0 || wc->out.data == NULL)
		return;
	/* as ConnRecoverError: a message partly in the queue is completed */
	if (!wc->sending)
		resetStringInfo(&wc->out);
	resetStringInfo(&wc->final);
	RemoteFailurePack(&wc->final, sqlstate, message, detail);
	wc->failed = true;
	if (wc->conn != NULL && wc->phase != CONN_FINISH &&
		(wc->phase == CONN_QUERY || wc->phase == CONN_DRAIN ||
		 PQtransactionStatus(wc->conn) == PQTRANS_ACTIVE))
		conn_start_drain(slotno);
	else
		wc->phase = CONN_FINISH;
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

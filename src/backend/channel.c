/*-------------------------------------------------------------------------
 *
 * channel.c
 *	  Carrying requests and rows between a backend and the pool worker.
 *
 * Each backend owns one channel in shared memory: a request queue
 * (backend -> worker) and a response queue (worker -> backend), both
 * shm_mq rings rebuilt for every request.  The backend makes the queues,
 * marks the channel SUBMITTED and wakes the worker; the worker attaches
 * (ACTIVE), runs the request on the handle's connection and streams the
 * result back; when it is done it detaches and marks the channel IDLE, and
 * only then may the backend build the next request.  The worker sends with
 * nowait, so a full response queue stops it reading that remote socket
 * (backpressure) without blocking its loop.
 *
 * A backend that gives up (error, cancel, exit) sets chan_cancel and
 * detaches; the worker detaches too and marks the channel IDLE at once,
 * then cancels the remote query and drains it on the connection alone
 * (conn.c).  So the backend's next request, or the next session given the
 * same PGPROC, never waits for a drain: only a request on the connection
 * being drained waits, in the worker, until it is over.  A worker that
 * exits or restarts marks every busy channel FAILED, and backends waiting
 * on one raise 08006.
 *
 * A backend has one request open at a time.  User code can run while its
 * rows are read (a domain's CHECK or a type's input function in the column
 * definition list) and call query() again: ChannelCheckNotNested() refuses
 * that before anything is touched, and ChannelCheckRelease() refuses to
 * release the handle whose request is open.
 *
 * Locking: the channel fields of BackendEntry are protected by its
 * spinlock; nothing else is done while holding it.
 *
 * src/backend/channel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "backend/channel.h"
#include "common/compat.h"
#include "backend/handle.h"
#include "common/pgpool_errors.h"
#include "shm/leaks.h"
#include "shm/pool.h"
#include "proto/remote_error.h"

static MemoryContext channel_context = NULL;
static shm_mq_handle *my_req = NULL;
static shm_mq_handle *my_resp = NULL;
static bool request_open = false;
static int64 open_handle = 0;	/* the handle of the open request */
static bool open_on_busy = false;	/* its slot was BUSY already (a drain) */

static void channel_wait(TimestampTz *start, const char *what);
static void channel_wait_idle(void);
static void channel_check_worker(void);

/* ---- message encoding ---- */

void
MsgPutInt32(StringInfo buf, int32 v)
{
	appendBinaryStringInfo(buf, (const char *) &v, sizeof(int32));
}

void
MsgPutString(StringInfo buf, const char *s)
{
	if (s == NULL)
		s = "";
	appendBinaryStringInfo(buf, s, strlen(s) + 1);
}

/* Bytes with a length prefix; len -1 is SQL NULL. */
void
MsgPutBytes(StringInfo buf, const char *data, int32 len)
{
	MsgPutInt32(buf, len);
	if (len > 0)
		appendBinaryStringInfo(buf, data, len);
}

void
MsgReaderInit(MsgReader *r, const void *data, Size len)
{
	r->cur = data;
	r->end = r->cur + len;
}

static void
msg_need(MsgReader *r, Size n)
{
	if ((Size) (r->end - r->cur) < n)
		elog(ERROR, "pgpool_ext: truncated message from channel");
}

char
MsgGetByte(MsgReader *r)
{
	msg_need(r, 1);
	return *r->cur++;
}

int32
MsgGetInt32(MsgReader *r)
{
	int32		v;

	msg_need(r, sizeof(int32));
	memcpy(&v, r->cur, sizeof(int32));
	r->cur += sizeof(int32);
	return v;
}

const char *
MsgGetString(MsgReader *r)
{
	const char *s = r->cur;
	Size		n = strnlen(s, r->end - r->cur);

	msg_need(r, n + 1);
	r->cur += n + 1;
	return s;
}

/* Returns a pointer into the message (not terminated) or NULL for -1. */
const char *
MsgGetBytes(MsgReader *r, int32 *len)
{
	const char *p;

	*len = MsgGetInt32(r);
	if (*len < 0)
		return NULL;
	msg_need(r, *len);
	p = r->cur;
	r->cur += *len;
	return p;
}

/* ---- backend side ---- */

/* Error out if the worker is gone or restarted since we submitted. */
static void
channel_check_worker(void)
{
	BackendEntry *be = &PoolShared->backends[PGPOOL_MY_PROCNO];
	ChannelState st;
	uint32		epoch;

	SpinLockAcquire(&be->mutex);
	st = be->chan_state;
	epoch = be->chan_epoch;
	SpinLockRelease(&be->mutex);
	if (st == CHAN_FAILED || epoch != PoolShared->worker_epoch)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LOST),
				 errmsg("pgpool_ext pool worker exited while running the request"),
				 errdetail("The remote connection was closed.")));
}

/*
 * One interruptible sleep of a channel wait loop; *start (0 at first) is
 * when the wait began, read only once we have to wait.
 */
static void
channel_wait(TimestampTz *start, const char *what)
{
	if (*start == 0)
		*start = GetCurrentTimestamp();
	if (PoolShared->worker_pid == 0 &&
		TimestampDifferenceExceeds(*start, GetCurrentTimestamp(),
								   PGPOOL_WORKER_GRACE_MS))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LOST),
				 errmsg("pgpool_ext pool worker is not running"),
				 errdetail("Gave up %s.", what)));
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 1000, PGPOOL_WAIT_REMOTE);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Wait until the worker is done with our previous request (it may still be
 * cancelling one we abandoned) and is running.
 */
static void
channel_wait_idle(void)
{
	BackendEntry *be = &PoolShared->backends[PGPOOL_MY_PROCNO];
	TimestampTz start = 0;

	for (;;)
	{
		ChannelState st;

		SpinLockAcquire(&be->mutex);
		if (be->chan_state == CHAN_FAILED)
			be->chan_state = CHAN_IDLE;
		st = be->chan_state;
		SpinLockRelease(&be->mutex);
		if (st == CHAN_IDLE && PoolShared->worker_latch != NULL)
			return;
		channel_wait(&start, "waiting for the previous request to finish");
	}
}

/*
 * ChannelSubmit
 *		Send a request to run sql on handle's connection (flags: see
 *		REQUEST_FLAG_LAST).  The caller then
 *		reads the response with ChannelReceive() until a final message, and
 *		calls ChannelFinish(); on error ChannelAbort().
 */
void
ChannelSubmit(int64 handle, RequestKind kind, int flags, const char *sql,
			  int nparams, const char *const *params)
{
	BackendEntry *be = &PoolShared->backends[PGPOOL_MY_PROCNO];
	int			procno = PGPOOL_MY_PROCNO;
	int			slotno;
	int			pool;
	PGPROC	   *worker;
	StringInfoData msg;
	shm_mq	   *req;
	shm_mq	   *resp;
	MemoryContext old;
	TimestampTz start;
	uint32		epoch;
	int			i;

	Size		request_size = strlen(sql) + 64;

	for (i = 0; i < nparams; i++)
		request_size += (params[i] ? strlen(params[i]) : 0) + 4;
	if (request_size > PGPOOL_MAX_REQUEST)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("remote request is too large"),
				 errdetail("The SQL text and parameters take %zu bytes; the limit is %d.",
						   request_size, PGPOOL_MAX_REQUEST)));
	if (channel_context == NULL)
		channel_context = AllocSetContextCreate(TopMemoryContext,
												"pgpool_ext channel",
												ALLOCSET_SMALL_SIZES);
	channel_wait_idle();

	initStringInfo(&msg);
	appendStringInfoChar(&msg, (char) kind);
	appendStringInfoChar(&msg, (char) flags);
	MsgPutInt32(&msg, nparams);
	MsgPutString(&msg, sql);
	for (i = 0; i < nparams; i++)
		MsgPutBytes(&msg, params[i], params[i] ? (int32) strlen(params[i]) : -1);

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	worker = GetPGProcByNumber(PoolShared->worker_procno);
	epoch = PoolShared->worker_epoch;
	LWLockRelease(&PoolShared->lock);
	req = shm_mq_create(PoolShmemRequestQueue(procno), PGPOOL_REQUEST_QUEUE_SIZE);
	shm_mq_set_sender(req, MyProc);
	shm_mq_set_receiver(req, worker);
	resp = shm_mq_create(PoolShmemResponseQueue(procno), PoolShared->channel_size);
	shm_mq_set_sender(resp, worker);
	shm_mq_set_receiver(resp, MyProc);

	/*
	 * BUSY and SUBMITTED together under the pool lock: the worker, settling
	 * a drain of our previous request on this slot, then sees the new one.
	 */
	slotno = HandleLock(handle, false);
	pool = PoolShared->slots[slotno].pool;
	PoolShared->slots[slotno].dirty = true;
	PoolShared->slots[slotno].last_used_at = PoolSlotClock();
	LeakNoteRequest(slotno);
	open_on_busy = PoolShared->slots[slotno].state == SLOT_BUSY;
	PoolSetSlotState(slotno, SLOT_BUSY);
	SpinLockAcquire(&be->mutex);
	be->chan_slot = slotno;
	be->chan_cancel = false;
	be->chan_epoch = epoch;
	be->chan_state = CHAN_SUBMITTED;
	SpinLockRelease(&be->mutex);
	LWLockRelease(PoolLock(pool));
	request_open = true;
	open_handle = handle;

	old = MemoryContextSwitchTo(channel_context);
	my_req = shm_mq_attach(req, NULL, NULL);
	my_resp = shm_mq_attach(resp, NULL, NULL);
	MemoryContextSwitchTo(old);
	PoolWakeWorker();

	start = 0;
	for (;;)
	{
		shm_mq_result res = shm_mq_send(my_req, msg.len, msg.data, true, true);

		if (res == SHM_MQ_SUCCESS)
			break;
		channel_check_worker();
		if (res == SHM_MQ_DETACHED)
			break;				/* the worker refused it: read why */
		channel_wait(&start, "sending the request");
	}
	pfree(msg.data);
}

/*
 * ChannelReceive
 *		Next response message; waits interruptibly.
 */
void
ChannelReceive(Size *len, void **data)
{
	TimestampTz start = 0;

	Assert(request_open);
	for (;;)
	{
		shm_mq_result res = shm_mq_receive(my_resp, len, data, true);

		if (res == SHM_MQ_SUCCESS)
			return;
		if (res == SHM_MQ_DETACHED)
		{
			channel_check_worker();
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_LOST),
					 errmsg("pgpool_ext pool worker ended the request without a result")));
		}
		channel_check_worker();
		channel_wait(&start, "waiting for the remote result");
	}
}

/* Detach our ends of both queues. */
static void
channel_detach(void)
{
	if (my_req != NULL)
		shm_mq_detach(my_req);
	if (my_resp != NULL)
		shm_mq_detach(my_resp);
	my_req = NULL;
	my_resp = NULL;
	request_open = false;
}

/*
 * ChannelFinish
 *		The final message was read: let go of the queues.
 */
void
ChannelFinish(void)
{
	channel_detach();
}

/*
 * ChannelAbort
 *		Give up on an open request.  If the worker has not taken it yet it
 *		is withdrawn; otherwise the worker cancels it remotely.  Safe to call
 *		at any time, including from exit callbacks; never errors.
 */
void
ChannelAbort(void)
{
	BackendEntry *be;
	bool		withdrawn = false;
	int			slotno;

	if (!request_open || PoolShared == NULL)
		return;
	be = &PoolShared->backends[PGPOOL_MY_PROCNO];
	SpinLockAcquire(&be->mutex);
	slotno = be->chan_slot;
	if (be->chan_state == CHAN_SUBMITTED)
	{
		be->chan_state = CHAN_IDLE;
		withdrawn = true;
	}
	else
		be->chan_cancel = true;
	SpinLockRelease(&be->mutex);
	channel_detach();
	if (withdrawn)
	{
		SlotEntry  *slot = &PoolShared->slots[slotno];
		int			pool = slot->pool;

		/*
		 * Nothing ran: the connection is as it was.  If it was BUSY, the
		 * worker still drains our previous request on it and settles it.
		 */
		if (pool >= 0 && !open_on_busy)
		{
			LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
			if (slot->pool == pool && slot->state == SLOT_BUSY &&
				slot->holder_procno == PGPOOL_MY_PROCNO)
				PoolSetSlotState(slotno, SLOT_ACQUIRED);
			LWLockRelease(PoolLock(pool));
		}
	}
	else
		PoolWakeWorker();
}

/*
 * ChannelCheckNotNested
 *		Refuse to start a request while another one of this backend is open:
 *		user code run while rows are converted would otherwise reuse the
 *		queues the worker is writing to.  Must be called before anything of
 *		the new request is set up, so that its error path (ChannelAbort)
 *		never runs for the open one.
 */
void
ChannelCheckNotNested(void)
{
	if (request_open)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NESTED),
				 errmsg("cannot start a pgpool_ext request while another one is being read"),
				 errdetail("Code run while the rows of a remote result are converted, such as a domain's CHECK constraint or a type's input function, cannot send remote requests.")));
}

/*
 * ChannelCheckRelease
 *		Refuse to release the handle whose request is open (user code run
 *		while its rows are converted).
 */
void
ChannelCheckRelease(int64 handle)
{
	if (request_open && handle == open_handle)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NESTED),
				 errmsg("cannot release pgpool_ext handle " INT64_FORMAT " while a request on it is being read",
						handle)));
}

/*
 * ChannelInFlight
 *		May the worker still send us the end of a request on slotno?  True
 *		from submission until we read its final message, and after we gave
 *		it up (ChannelAbort) until the worker is done with it.  (Once the
 *		final message is read, the worker only detaches.)
 */
bool
ChannelInFlight(int slotno)
{
	BackendEntry *be = &PoolShared->backends[PGPOOL_MY_PROCNO];
	bool		in_flight;

	/* only we move our channel out of IDLE: no lock needed to see that */
	if (be->chan_state == CHAN_IDLE)
		return false;
	SpinLockAcquire(&be->mutex);
	in_flight = be->chan_slot == slotno &&
		(be->chan_state == CHAN_SUBMITTED || be->chan_state == CHAN_ACTIVE) &&
		(request_open || be->chan_cancel);
	SpinLockRelease(&be->mutex);
	return in_flight;
}

/* ---- worker side ---- */

/*
 * ChannelRequestOn
 *		Worker: has backend procno a request on slotno submitted or being
 *		served?
 */
bool
ChannelRequestOn(int procno, int slotno)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		on;

	SpinLockAcquire(&be->mutex);
	on = be->chan_slot == slotno &&
		(be->chan_state == CHAN_SUBMITTED || be->chan_state == CHAN_ACTIVE);
	SpinLockRelease(&be->mutex);
	return on;
}

/*
 * ChannelWorkerClaim
 *		Worker: take backend procno's request if it submitted one (SUBMITTED
 *		becomes ACTIVE atomically, so the backend can no longer withdraw
 *		it).  Returns the slot and epoch the request was made for.
 */
bool
ChannelWorkerClaim(int procno, int *slotno, uint32 *epoch)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		claimed = false;

	SpinLockAcquire(&be->mutex);
	if (be->chan_state == CHAN_SUBMITTED)
	{
		be->chan_state = CHAN_ACTIVE;
		*slotno = be->chan_slot;
		*epoch = be->chan_epoch;
		claimed = true;
	}
	SpinLockRelease(&be->mutex);
	return claimed;
}

/*
 * ChannelWorkerSubmitted
 *		Worker: has backend procno submitted a request on slotno that the
 *		worker has not claimed yet?  (A backend marks its slot BUSY and its
 *		channel SUBMITTED under the slot's pool lock, so a caller holding
 *		that lock sees both or neither.)
 */
bool
ChannelWorkerSubmitted(int procno, int slotno)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		submitted;

	SpinLockAcquire(&be->mutex);
	submitted = be->chan_state == CHAN_SUBMITTED && be->chan_slot == slotno;
	SpinLockRelease(&be->mutex);
	return submitted;
}

/*
 * ChannelWorkerAttach
 *		Worker: attach to a claimed channel's queues.
 */
void
ChannelWorkerAttach(int procno, shm_mq_handle **req, shm_mq_handle **resp)
{
	*req = shm_mq_attach(PoolShmemRequestQueue(procno), NULL, NULL);
	*resp = shm_mq_attach(PoolShmemResponseQueue(procno), NULL, NULL);
}

/*
 * ChannelWorkerFail
 *		Worker: a claimed request was made for a previous worker; mark the
 *		channel failed (the backend raises 08006) without touching its
 *		queues, which name the old worker's process.
 */
void
ChannelWorkerFail(int procno)
{
	BackendEntry *be = &PoolShared->backends[procno];

	SpinLockAcquire(&be->mutex);
	be->chan_state = CHAN_FAILED;
	SpinLockRelease(&be->mutex);
	SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

/*
 * ChannelWorkerReject
 *		Worker: answer a claimed request with 08006 without running it.
 */
void
ChannelWorkerReject(int procno, const char *message, const char *detail)
{
	ChannelWorkerRejectCode(procno, "08006", message, detail);
}

/*
 * ChannelWorkerRejectCode
 *		Worker: answer a claimed request with an error of the given SQLSTATE
 *		without running it.
 */
void
ChannelWorkerRejectCode(int procno, const char *sqlstate, const char *message,
						const char *detail)
{
	shm_mq_handle *req;
	shm_mq_handle *resp;
	StringInfoData msg;

	ChannelWorkerAttach(procno, &req, &resp);
	initStringInfo(&msg);
	RemoteFailurePack(&msg, sqlstate, message, detail);
	/* a fresh queue always has room for this small message */
	(void) shm_mq_send(resp, msg.len, msg.data, true, true);
	shm_mq_detach(req);
	shm_mq_detach(resp);
	pfree(msg.data);
	ChannelWorkerDone(procno);
}

/*
 * ChannelWorkerDone
 *		Worker: the request is over and detached; the backend may reuse the
 *		channel.
 */
void
ChannelWorkerDone(int procno)
{
	BackendEntry *be = &PoolShared->backends[procno];

	SpinLockAcquire(&be->mutex);
	be->chan_state = CHAN_IDLE;
	be->chan_cancel = false;
	SpinLockRelease(&be->mutex);
	SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

/*
 * ChannelWorkerClaimed
 *		Worker: is backend procno's request claimed (ACTIVE)?
 */
bool
ChannelWorkerClaimed(int procno)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		active;

	SpinLockAcquire(&be->mutex);
	active = be->chan_state == CHAN_ACTIVE;
	SpinLockRelease(&be->mutex);
	return active;
}

/*
 * ChannelFailAll
 *		Worker start or exit: no request survives a worker; wake everyone
 *		waiting on one.
 */
void
ChannelFailAll(void)
{
	int			i;

	for (i = 0; i < PoolShared->nbackends; i++)
	{
		BackendEntry *be = &PoolShared->backends[i];
		bool		wake = false;

		SpinLockAcquire(&be->mutex);
		if (be->chan_state == CHAN_SUBMITTED || be->chan_state == CHAN_ACTIVE)
		{
			be->chan_state = CHAN_FAILED;
			wake = true;
		}
		SpinLockRelease(&be->mutex);
		if (wake)
			SetLatch(&GetPGProcByNumber(i)->procLatch);
	}
}

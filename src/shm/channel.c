/*-------------------------------------------------------------------------
 *
 * channel.c
 *	  A backend's channel to the pool worker: its state, both sides'
 *	  transitions of it, and this backend's own end of it.
 *
 * Each backend owns one channel in shared memory: a request queue
 * (backend -> worker) and a response queue (worker -> backend), both
 * shm_mq rings rebuilt for every request, and a state (BackendEntry
 * chan_*).  The states and who moves the channel between them:
 *
 *	 IDLE -> SUBMITTED	backend, ChannelOpen: queues made, slot BUSY
 *	 SUBMITTED -> IDLE	backend, ChannelAbort: withdrawn before the worker
 *						took it (nothing ran)
 *	 SUBMITTED -> ACTIVE	worker, ChannelWorkerClaim: the backend can no
 *						longer withdraw it
 *	 ACTIVE -> IDLE		worker, ChannelWorkerDone: over and detached; only
 *						then may the backend build the next request
 *	 SUBMITTED/ACTIVE -> FAILED	worker, ChannelWorkerFail / ChannelFailAll:
 *						no request survives a worker; the backend raises
 *						08006 and frees the channel (ChannelIdle)
 *
 * A backend that gives up on an ACTIVE request (error, cancel, exit) sets
 * chan_cancel and detaches; the worker detaches too and marks the channel
 * IDLE at once, then cancels the remote query and drains it on the
 * connection alone (src/worker/).  So the backend's next request, or the
 * next session given the same PGPROC, never waits for a drain.
 *
 * This backend's end: the queue handles it attached and the request it has
 * open (from ChannelOpen until ChannelFinish or ChannelAbort).  They live
 * here, below the handles (src/backend/handle.c) that must abort the open
 * request at transaction end and exit and must not release its handle,
 * and below the request protocol (src/backend/request.c) that opens it.
 * A backend has one request open at a time: user code can run while its
 * rows are read (a domain's CHECK or a type's input function) and call
 * query() again; ChannelCheckNotNested() refuses that before anything is
 * touched, and ChannelCheckRelease() refuses to release the handle whose
 * request is open.
 *
 * Locking: the chan_* fields of BackendEntry are protected by its spinlock
 * ("mutex"); nothing else is done while holding it.  Two reads peek
 * without it and recheck under it: the worker's claim (most channels have
 * nothing submitted) and a backend's look at its own IDLE channel (only
 * the backend moves it out of IDLE).  ChannelOpen runs
 * under the slot's pool lock (a backend marks its slot BUSY and its
 * channel SUBMITTED together, so the worker holding that lock sees both or
 * neither); ChannelAbort takes that lock to undo BUSY, ChannelMakeQueues
 * the global lock (shared) to read the worker's PGPROC.
 *
 * src/shm/channel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "common/compat.h"
#include "common/pgpool_errors.h"
#include "shm/channel.h"
#include "shm/leaks.h"
#include "shm/pool.h"

static MemoryContext channel_context = NULL;
static shm_mq_handle *my_req = NULL;
static shm_mq_handle *my_resp = NULL;
static bool request_open = false;
static int64 open_handle = 0;	/* the handle of the open request */
static bool open_on_busy = false;	/* its slot was BUSY already (a drain) */

static BackendEntry *channel_mine(void);
static void channel_detach(void);

/* This backend's entry. */
static BackendEntry *
channel_mine(void)
{
	return &PoolShared->backends[PGPOOL_MY_PROCNO];
}

/* ---- backend side ---- */

/*
 * ChannelIdle
 *		May this backend build a new request?  A channel the worker failed
 *		is free again from now on (the failure was raised, or nobody waits
 *		for it any more).
 */
bool
ChannelIdle(void)
{
	BackendEntry *be = channel_mine();
	ChannelState st;

	SpinLockAcquire(&be->mutex);
	if (be->chan_state == CHAN_FAILED)
		be->chan_state = CHAN_IDLE;
	st = be->chan_state;
	SpinLockRelease(&be->mutex);
	return st == CHAN_IDLE;
}

/*
 * ChannelWorkerLost
 *		Did the worker fail this backend's request, or exit or restart
 *		since it was submitted?
 */
bool
ChannelWorkerLost(void)
{
	BackendEntry *be = channel_mine();
	ChannelState st;
	uint32		epoch;

	SpinLockAcquire(&be->mutex);
	st = be->chan_state;
	epoch = be->chan_epoch;
	SpinLockRelease(&be->mutex);
	return st == CHAN_FAILED || epoch != PoolShared->worker_epoch;
}

/*
 * ChannelMakeQueues
 *		Build this backend's two queues, between it and the running worker
 *		(the channel must be idle).  Returns the worker's epoch, for
 *		ChannelOpen.
 */
uint32
ChannelMakeQueues(void)
{
	int			procno = PGPOOL_MY_PROCNO;
	PGPROC	   *worker;
	uint32		epoch;
	shm_mq	   *req;
	shm_mq	   *resp;

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
	return epoch;
}

/*
 * ChannelOpen
 *		Open a request on handle's slot slotno: the slot becomes BUSY and
 *		used, the channel SUBMITTED (for the worker of epoch).  Caller holds
 *		the slot's pool lock exclusively: the worker, settling a drain of
 *		our previous request on this slot, then sees the new one.
 */
void
ChannelOpen(int64 handle, int slotno, uint32 epoch)
{
	BackendEntry *be = channel_mine();
	SlotEntry  *slot = &PoolShared->slots[slotno];

	Assert(LWLockHeldByMeInMode(PoolLock(slot->pool), LW_EXCLUSIVE));
	slot->dirty = true;
	slot->last_used_at = PoolSlotClock();
	LeakNoteRequest(slotno);
	open_on_busy = slot->state == SLOT_BUSY;
	PoolSetSlotState(slotno, SLOT_BUSY);
	SpinLockAcquire(&be->mutex);
	be->chan_slot = slotno;
	be->chan_cancel = false;
	be->chan_epoch = epoch;
	be->chan_state = CHAN_SUBMITTED;
	SpinLockRelease(&be->mutex);
	request_open = true;
	open_handle = handle;
}

/*
 * ChannelAttach
 *		Attach this backend's ends of the queues of the open request (after
 *		ChannelOpen, without the pool lock).
 */
void
ChannelAttach(void)
{
	int			procno = PGPOOL_MY_PROCNO;
	MemoryContext old;

	Assert(request_open);
	if (channel_context == NULL)
		channel_context = AllocSetContextCreate(TopMemoryContext,
												"pgpool_ext channel",
												ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(channel_context);
	my_req = shm_mq_attach(PoolShmemRequestQueue(procno), NULL, NULL);
	my_resp = shm_mq_attach(PoolShmemResponseQueue(procno), NULL, NULL);
	MemoryContextSwitchTo(old);
}

/*
 * ChannelSendRequest
 *		Put the request on the request queue without waiting.
 */
shm_mq_result
ChannelSendRequest(const StringInfoData *msg)
{
	Assert(request_open);
	return shm_mq_send(my_req, msg->len, msg->data, true, true);
}

/*
 * ChannelReceiveResponse
 *		Take the next message off the response queue without waiting.
 */
shm_mq_result
ChannelReceiveResponse(Size *len, void **data)
{
	Assert(request_open);
	return shm_mq_receive(my_resp, len, data, true);
}

/* Detach our ends of both queues: no request is open any more. */
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
 *		The final message was read: let go of the queues (what was received
 *		from them is gone too).
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
	be = channel_mine();
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
 * ChannelInFlight
 *		May the worker still send us the end of a request on slotno?  True
 *		from submission until we read its final message, and after we gave
 *		it up (ChannelAbort) until the worker is done with it.  (Once the
 *		final message is read, the worker only detaches.)
 */
bool
ChannelInFlight(int slotno)
{
	BackendEntry *be = channel_mine();
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

/* ---- worker side ---- */

/*
 * ChannelRequestOn
 *		Has backend procno a request on slotno that the worker has not
 *		claimed yet (SUBMITTED), or, with claimed_too, one submitted or
 *		being served (SUBMITTED or ACTIVE)?  A backend marks its slot BUSY
 *		and its channel SUBMITTED under the slot's pool lock, so a caller
 *		holding that lock sees both or neither.
 */
bool
ChannelRequestOn(int procno, int slotno, bool claimed_too)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		on;

	SpinLockAcquire(&be->mutex);
	on = be->chan_slot == slotno &&
		(be->chan_state == CHAN_SUBMITTED ||
		 (claimed_too && be->chan_state == CHAN_ACTIVE));
	SpinLockRelease(&be->mutex);
	return on;
}

/*
 * ChannelGaveUp
 *		Worker: did backend procno give up on its request (ChannelAbort of
 *		a claimed request)?
 */
bool
ChannelGaveUp(int procno)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		cancel;

	SpinLockAcquire(&be->mutex);
	cancel = be->chan_cancel;
	SpinLockRelease(&be->mutex);
	return cancel;
}

/*
 * ChannelWorkerClaim
 *		Worker: take backend procno's request if it submitted one (SUBMITTED
 *		becomes ACTIVE atomically, so the backend can no longer withdraw
 *		it).  Returns the slot and epoch the request was made for.  Called
 *		for every backend at every turn of the worker's loop: most have
 *		nothing submitted, which an unlocked peek tells (a backend sets
 *		SUBMITTED before the latch that wakes the worker).
 */
bool
ChannelWorkerClaim(int procno, int *slotno, uint32 *epoch)
{
	BackendEntry *be = &PoolShared->backends[procno];
	bool		claimed = false;

	/* unlocked peek; rechecked under the spinlock */
	if (be->chan_state != CHAN_SUBMITTED)
		return false;
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

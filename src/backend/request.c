/*-------------------------------------------------------------------------
 *
 * request.c
 *	  The backend side of a request: submitting it on a handle and
 *	  reading its response messages.
 *
 * A request runs sql on the connection of a handle this backend holds.
 * RequestSubmit waits until the channel is free (the worker may still be
 * letting go of a request we abandoned), checks the handle, opens the
 * channel (shm/channel.c: the slot BUSY, the channel SUBMITTED), wakes
 * the worker and sends the request (encoded by proto/message.c).  The
 * caller then reads the response with RequestReceive() until a final
 * message and calls ChannelFinish(); on error ChannelAbort().
 *
 * Every wait is on the latch, interruptible, reported as a wait event, and
 * gives up with 08006 when the worker fails the request, exits or
 * restarts, or is not running for PGPOOL_WORKER_GRACE_MS.  The worker
 * sends with nowait, so a full response queue stops it reading that
 * remote socket (backpressure) without blocking its loop.
 *
 * Locking: RequestSubmit takes the handle's pool lock (HandleLock) to
 * open the channel, and nothing else; the channel's own locks are
 * shm/channel.c's.
 *
 * src/backend/request.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "backend/handle.h"
#include "backend/request.h"
#include "common/compat.h"
#include "common/pgpool_errors.h"
#include "shm/channel.h"
#include "shm/pool.h"

static void request_wait(TimestampTz *start, const char *what);
static void request_wait_idle(void);
static void request_check_worker(void);
static void request_check_size(const char *sql, int nparams,
							   const char *const *params);

/* Error out if the worker is gone or restarted since we submitted. */
static void
request_check_worker(void)
{
	if (ChannelWorkerLost())
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LOST),
				 errmsg("pgpool_ext pool worker exited while running the request"),
				 errdetail("The remote connection was closed.")));
}

/*
 * One interruptible sleep of a request's wait loop; *start (0 at first) is
 * when the wait began, read only once we have to wait.
 */
static void
request_wait(TimestampTz *start, const char *what)
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
request_wait_idle(void)
{
	TimestampTz start = 0;

	while (!ChannelIdle() || PoolShared->worker_latch == NULL)
		request_wait(&start, "waiting for the previous request to finish");
}

/* Refuse (54000) a request over PGPOOL_MAX_REQUEST. */
static void
request_check_size(const char *sql, int nparams, const char *const *params)
{
	Size		request_size = MsgRequestSize(sql, nparams, params);

	if (request_size > PGPOOL_MAX_REQUEST)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("remote request is too large"),
				 errdetail("The SQL text and parameters take %zu bytes; the limit is %d.",
						   request_size, PGPOOL_MAX_REQUEST)));
}

/*
 * RequestSubmit
 *		Send a request to run sql (UTF8) with its parameters (UTF8, NULL
 *		for SQL NULL) on handle's connection (flags: see REQUEST_FLAG_LAST).
 *		The caller must have called ChannelCheckNotNested() first.
 */
void
RequestSubmit(int64 handle, RequestKind kind, int flags, const char *sql,
			  int nparams, const char *const *params)
{
	StringInfoData msg;
	TimestampTz start = 0;
	uint32		epoch;
	int			slotno;
	int			pool;

	request_check_size(sql, nparams, params);
	request_wait_idle();
	initStringInfo(&msg);
	MsgEncodeRequest(&msg, kind, flags, sql, nparams, params);

	epoch = ChannelMakeQueues();
	slotno = HandleLock(handle, false);
	pool = PoolShared->slots[slotno].pool;
	ChannelOpen(handle, slotno, epoch);
	LWLockRelease(PoolLock(pool));
	ChannelAttach();
	PoolWakeWorker();

	for (;;)
	{
		shm_mq_result res = ChannelSendRequest(&msg);

		if (res == SHM_MQ_SUCCESS)
			break;
		request_check_worker();
		if (res == SHM_MQ_DETACHED)
			break;				/* the worker refused it: read why */
		request_wait(&start, "sending the request");
	}
	pfree(msg.data);
}

/*
 * RequestReceive
 *		Next response message of the open request (decode it with
 *		proto/message.h; it lives until the next call or ChannelFinish);
 *		waits interruptibly.
 */
void
RequestReceive(Size *len, void **data)
{
	TimestampTz start = 0;

	for (;;)
	{
		shm_mq_result res = ChannelReceiveResponse(len, data);

		if (res == SHM_MQ_SUCCESS)
			return;
		if (res == SHM_MQ_DETACHED)
		{
			request_check_worker();
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_LOST),
					 errmsg("pgpool_ext pool worker ended the request without a result")));
		}
		request_check_worker();
		request_wait(&start, "waiting for the remote result");
	}
}

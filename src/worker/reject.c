/*-------------------------------------------------------------------------
 *
 * reject.c
 *	  Worker: answering a claimed request with an error without running
 *	  it.
 *
 * A request the worker claimed but will not run (made on a slot that is
 * not the backend's any more, a connection that is gone, a request the
 * worker failed on while accepting it) is answered on the backend's fresh
 * response queue with one final failure message (proto/message.c); the
 * channel is then given back (ChannelWorkerDone).  A backend that gave up
 * meanwhile finds nothing to read, which is fine.
 *
 * Locking: the channel's spinlock, through shm/channel.c.
 *
 * src/worker/reject.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pgpool_errors.h"
#include "proto/message.h"
#include "shm/channel.h"
#include "worker/reject.h"

/*
 * RejectRequest
 *		Answer backend procno's claimed request with 08006 without running
 *		it.
 */
void
RejectRequest(int procno, const char *message, const char *detail)
{
	RejectRequestCode(procno, PGPOOL_SQLSTATE_LOST, message, detail);
}

/*
 * RejectRequestCode
 *		Answer backend procno's claimed request with an error of the given
 *		SQLSTATE without running it.
 */
void
RejectRequestCode(int procno, const char *sqlstate, const char *message,
				  const char *detail)
{
	shm_mq_handle *req;
	shm_mq_handle *resp;
	StringInfoData msg;

	ChannelWorkerAttach(procno, &req, &resp);
	initStringInfo(&msg);
	MsgEncodeFailure(&msg, sqlstate, message, detail);
	/* a fresh queue always has room for this small message */
	(void) shm_mq_send(resp, msg.len, msg.data, true, true);
	shm_mq_detach(req);
	shm_mq_detach(resp);
	pfree(msg.data);
	ChannelWorkerDone(procno);
}

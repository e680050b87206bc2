/*-------------------------------------------------------------------------
 *
 * channel.h
 *	  Messages between a backend and the pool worker.
 *
 * src/backend/channel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CHANNEL_H
#define PGPOOL_CHANNEL_H

#include "proto/message.h"
#include "shm/shmem.h"

/* backend side */
extern void ChannelSubmit(int64 handle, RequestKind kind, int flags,
						  const char *sql, int nparams,
						  const char *const *params);
extern void ChannelReceive(Size *len, void **data);
extern void ChannelFinish(void);
extern void ChannelAbort(void);
extern bool ChannelInFlight(int slotno);
extern void ChannelCheckNotNested(void);
extern void ChannelCheckRelease(int64 handle);

/* worker side */
extern bool ChannelRequestOn(int procno, int slotno);
extern bool ChannelWorkerClaim(int procno, int *slotno, uint32 *epoch);
extern bool ChannelWorkerSubmitted(int procno, int slotno);
extern void ChannelWorkerAttach(int procno, shm_mq_handle **req,
								shm_mq_handle **resp);
extern void ChannelWorkerReject(int procno, const char *message,
								const char *detail);
extern void ChannelWorkerRejectCode(int procno, const char *sqlstate,
									const char *message, const char *detail);
extern bool ChannelWorkerClaimed(int procno);
extern void ChannelWorkerFail(int procno);
extern void ChannelWorkerDone(int procno);
extern void ChannelFailAll(void);

#endif							/* PGPOOL_CHANNEL_H */

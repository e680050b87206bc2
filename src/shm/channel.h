/*-------------------------------------------------------------------------
 *
 * channel.h
 *	  A backend's channel to the pool worker: its state, both sides'
 *	  transitions of it, and this backend's own end of it.
 *
 * src/shm/channel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CHANNEL_H
#define PGPOOL_CHANNEL_H

#include "lib/stringinfo.h"

#include "shm/shmem.h"

/* backend side: this backend's channel */
extern bool ChannelIdle(void);
extern bool ChannelWorkerLost(void);
extern uint32 ChannelMakeQueues(void);
extern void ChannelOpen(int64 handle, int slotno, uint32 epoch);
extern void ChannelAttach(void);
extern shm_mq_result ChannelSendRequest(const StringInfoData *msg);
extern shm_mq_result ChannelReceiveResponse(Size *len, void **data);
extern void ChannelFinish(void);
extern void ChannelAbort(void);
extern bool ChannelInFlight(int slotno);
extern void ChannelCheckNotNested(void);
extern void ChannelCheckRelease(int64 handle);

/* worker side: backend procno's channel */
extern bool ChannelRequestOn(int procno, int slotno, bool claimed_too);
extern bool ChannelGaveUp(int procno);
extern bool ChannelWorkerClaim(int procno, int *slotno, uint32 *epoch);
extern bool ChannelWorkerClaimed(int procno);
extern void ChannelWorkerAttach(int procno, shm_mq_handle **req,
								shm_mq_handle **resp);
extern void ChannelWorkerFail(int procno);
extern void ChannelWorkerDone(int procno);
extern void ChannelFailAll(void);

#endif							/* PGPOOL_CHANNEL_H */

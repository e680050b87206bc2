/*-------------------------------------------------------------------------
 *
 * waitq.h
 *	  Per-partition queues of backends waiting for a connection.
 *
 * src/shm/waitq.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_WAITQ_H
#define PGPOOL_WAITQ_H

#include "shm/shmem.h"

extern void WaitqEnqueue(PartitionEntry *part, BackendEntry *be);
extern BackendEntry *WaitqPopFirst(PartitionEntry *part);
extern void WaitqRemove(PartitionEntry *part, BackendEntry *be);
extern int	WaitqPosition(PartitionEntry *part, BackendEntry *be);
extern const char *WaitqPriorityName(PoolPriority prio);
extern bool WaitqParsePriority(const char *name, PoolPriority *prio);

#endif							/* PGPOOL_WAITQ_H */

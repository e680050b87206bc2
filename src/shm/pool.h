/*-------------------------------------------------------------------------
 *
 * pool.h
 *	  Pools, partitions and slots in shared memory: lookups and the one
 *	  state-transition function.
 *
 * src/shm/pool.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_POOL_H
#define PGPOOL_POOL_H

#include "shm/shmem.h"

#define PoolLock(p)		(&PoolShared->pools[(p)].lock)

extern int	PoolFindByName(const char *name);
extern int	PoolGetPartition(int pool, const char *key, bool create);
extern int	PoolCreatePartitionLocked(int pool, const char *key);
extern void PoolSetSlotState(int slotno, PoolSlotState newstate);
extern void PoolSeedHandles(void);
extern void PoolClaimSlot(int slotno, int procno, int pid, Oid role,
						  bool role_superuser, PoolScope scope);
extern void PoolHandOver(int slotno);
extern int	PoolAllocSlot(int pool, int partition);
extern void PoolFreeSlot(int slotno);
extern void PoolWakeWorker(void);
extern TimestampTz PoolSlotClock(void);
extern const char *PoolSlotStateName(PoolSlotState state);
extern bool PoolSlotHasConnection(PoolSlotState state);

#endif							/* PGPOOL_POOL_H */

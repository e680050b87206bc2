/*-------------------------------------------------------------------------
 *
 * handle.h
 *	  Logical handles on pooled connections: acquire, check, release.
 *
 * src/backend/handle.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_HANDLE_H
#define PGPOOL_HANDLE_H

#include "access/xact.h"

#include "shm/shmem.h"

/* What a backend knows about a pool after checking it may use it. */
typedef struct PoolRef
{
	int			index;
	uint32		generation;
	int			default_partition;	/* index of its "" partition */
	char		name[PGPOOL_NAME_LEN];
} PoolRef;

extern void HandleInitBackend(void);
extern void HandleWaitConfigLoaded(bool must_load);
extern void HandleWaitConfigTried(void);
extern void HandleLookupForUse(const char *name, PoolRef *ref);
extern int64 HandleAcquire(const char *pool_name, int timeout_ms,
						   PoolPriority prio, const char *partition,
						   PoolScope scope);
extern void HandleRelease(int64 handle);
extern int	HandleLock(int64 handle, bool for_release);
extern void HandleReleaseAll(bool xact_only);
extern void HandleMarkConfigChanged(void);
extern void HandleXactCallback(XactEvent event, void *arg);

#endif							/* PGPOOL_HANDLE_H */

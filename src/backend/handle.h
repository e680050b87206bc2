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

#include "backend/lookup.h"
#include "shm/shmem.h"


extern void HandleInitBackend(void);
extern int64 HandleAcquire(const char *pool_name, int timeout_ms,
						   PoolPriority prio, const char *partition,
						   PoolScope scope);
extern void HandleRelease(int64 handle);
extern int	HandleLock(int64 handle, bool for_release);
extern void HandleReleaseAll(bool xact_only);
extern void HandleMarkConfigChanged(void);
extern void HandleXactCallback(XactEvent event, void *arg);

#endif							/* PGPOOL_HANDLE_H */

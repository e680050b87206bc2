/*-------------------------------------------------------------------------
 *
 * policy.h
 *	  Lifecycle decisions about connections: keep or close and why,
 *	  backoff, sizing, reset plan.
 *
 * src/shm/policy.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_POLICY_H
#define PGPOOL_POLICY_H

#include "shm/shmem.h"

/*
 * Why a connection is closed (or, CLOSE_KEEP, kept).  Every close the
 * worker makes names one; PolicyCloseText() is what the log (and, for a
 * connection closed under a running request, its backend's error detail)
 * says.
 */
typedef enum PolicyClose
{
	CLOSE_KEEP = 0,				/* not closed */
	CLOSE_DROPPED,				/* its pool was dropped */
	CLOSE_STALE,				/* opened with an older definition */
	CLOSE_OVER_MAX,				/* above a lowered max_size */
	CLOSE_IDLE_TIMEOUT,			/* idle longer than idle_timeout */
	CLOSE_FOR_PARTITION,		/* idle, room for a partition with waiters */
	CLOSE_FOR_POOL,				/* idle, room for another pool */
	CLOSE_MARKED,				/* marked CLOSING by whoever decided it */
	CLOSE_RESET_TIMEOUT,		/* reset not done within connect_timeout */
	CLOSE_CANCEL_TIMEOUT,		/* cancelled query not drained in time */
	CLOSE_RESET_FAILED,			/* a reset statement failed */
	CLOSE_BIG_MESSAGE,			/* carried more than max_connection_buffer */
	CLOSE_NO_PASSWORD,			/* replacement did not use a password */
	CLOSE_CONNECT_FAILED,		/* the connect failed or timed out */
	CLOSE_LOST,					/* the connection died */
	CLOSE_WORKER_ERROR,			/* an error in the pool worker */
	CLOSE_WORKER_EXIT			/* the pool worker exits */
} PolicyClose;

#define PGPOOL_NCLOSE	(CLOSE_WORKER_EXIT + 1)

/* The statements of a reset, in order. */
typedef enum PolicyResetStep
{
	RESET_START = -1,			/* nothing run yet */
	RESET_ROLLBACK = 0,			/* ROLLBACK of an open transaction */
	RESET_QUERY = 1,			/* the pool's reset query */
	RESET_SETTINGS = 2,			/* the forced output settings restored */
	RESET_DONE = 3				/* nothing more to run */
} PolicyResetStep;

extern const char *PolicyCloseText(PolicyClose why);

/* connections nobody holds */
extern bool PolicyStale(const PoolEntry *pool, const SlotEntry *slot);
extern bool PolicyOverMax(const PoolEntry *pool);
extern PolicyClose PolicyFreeSlotFate(const PoolEntry *pool,
									  const SlotEntry *slot);
extern PolicyClose PolicyIdleFate(const PoolEntry *pool, const SlotEntry *slot,
								  int total, TimestampTz now);
extern bool PolicyMaySpare(const PoolEntry *pool, const PartitionEntry *part);

/* connects */
extern bool PolicyMayConnect(const PoolEntry *pool, TimestampTz now);
extern bool PolicyMayOpen(const PoolEntry *pool, int total, int connecting,
						  TimestampTz now);
extern bool PolicyBackoff(const PoolEntry *pool, TimestampTz started,
						  TimestampTz now, int *backoff_ms,
						  TimestampTz *next_at);
extern int	PolicyConnectsWanted(const PoolEntry *pool,
								 const PartitionEntry *part, bool is_default,
								 int want, int total);
extern bool PolicyMayReplace(const PoolEntry *pool, const SlotEntry *slot,
							 int procno);
extern bool PolicyPasswordRefused(const PoolEntry *pool,
								  const SlotEntry *slot);
extern bool PolicyConnectTimedOut(const PoolEntry *pool, TimestampTz since,
								  TimestampTz now);

/* after use */
extern bool PolicyRecycle(Size max_message);
extern PolicyResetStep PolicyResetNext(PolicyResetStep done,
									   bool in_transaction,
									   const char *reset_query,
									   bool settings_changed);

#endif							/* PGPOOL_POLICY_H */

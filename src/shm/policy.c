/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  Lifecycle decisions about connections, in one place: whether a
 *	  connection is kept or closed and why, when the next connect may
 *	  start, how many connects a partition wants, when a connection is
 *	  recycled, and what a reset runs.
 *
 * The janitor decides when to look (its passes and sweeps), the connection
 * code and the backends act; what they decide is asked here.  Every
 * function is a pure decision: it reads the shared state it is given and
 * the GUCs and changes nothing, so the caller keeps its locks and its
 * bookkeeping, and a new rule is a function here plus its call.
 *
 * Why in shm/: a backend makes one of these decisions too (an idle
 * connection opened with an older definition, or above a lowered max_size,
 * is closed rather than handed out by acquire), and pool.c's hand-over
 * applies the same rule; backend/ and worker/ both sit above shm/, and
 * the decisions read nothing but shared memory.
 *
 * Every close has a reason (PolicyClose), as PgBouncer's
 * disconnect_server() has: the worker names it when it closes a
 * connection and PolicyCloseText() says it.
 *
 * Locking: none taken here.  Functions reading a pool's or a slot's
 * run-time fields say so: the caller holds that pool's lock (shared is
 * enough), as shmem.h requires for reading them.
 *
 * src/shm/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "common/guc.h"
#include "shm/policy.h"

/* First backoff after a failed connect; it doubles up to connect_retry_max. */
#define PGPOOL_BACKOFF_FIRST_MS	100

/* Reset queries that set every setting back to its session default. */
static bool policy_resets_settings(const char *reset_query);

static const char *const close_texts[PGPOOL_NCLOSE] = {
	[CLOSE_KEEP] = "kept",
	[CLOSE_DROPPED] = "pool was dropped",
	[CLOSE_STALE] = "opened with an older definition of the pool",
	[CLOSE_OVER_MAX] = "above the pool's lowered max_size",
	[CLOSE_IDLE_TIMEOUT] = "idle for longer than idle_timeout",
	[CLOSE_FOR_PARTITION] = "idle, closed for a partition with waiters",
	[CLOSE_FOR_POOL] = "idle, closed for another pool",
	[CLOSE_MARKED] = "closed",
	[CLOSE_RESET_TIMEOUT] = "remote server did not complete the reset in time",
	[CLOSE_CANCEL_TIMEOUT] = "remote server did not answer the cancel request",
	[CLOSE_RESET_FAILED] = "the reset failed",
	[CLOSE_BIG_MESSAGE] = "it carried a message larger than pgpool_ext.max_connection_buffer",
	[CLOSE_NO_PASSWORD] = "it did not authenticate with a password",
	[CLOSE_CONNECT_FAILED] = "the connect failed",
	[CLOSE_LOST] = "the connection was lost",
	[CLOSE_WORKER_ERROR] = "error in the pool worker",
	[CLOSE_WORKER_EXIT] = "the pool worker exits",
};

/*
 * PolicyCloseText
 *		What a close reason says in the log (and, for "pool was dropped",
 *		in the error detail of a request its close interrupts).
 */
const char *
PolicyCloseText(PolicyClose why)
{
	Assert(why >= 0 && why < PGPOOL_NCLOSE);
	return close_texts[why];
}

/*
 * PolicyStale
 *		Was slot's connection opened with an older definition of pool (its
 *		conninfo changed since)?  Such a connection is not used again.
 *
 * Caller holds the pool lock.
 */
bool
PolicyStale(const PoolEntry *pool, const SlotEntry *slot)
{
	return slot->def_version != pool->def_version;
}

/*
 * PolicyOverMax
 *		Has pool more connections (open or opening, not closing) than its
 *		max_size?  It has after alter_pool lowered max_size: the surplus is
 *		closed as it becomes free.
 *
 * Caller holds the pool lock.
 */
bool
PolicyOverMax(const PoolEntry *pool)
{
	Assert(LWLockHeldByMe(unconstify(LWLock *, &pool->lock)));
	return pool->nconns - pool->nclosing > pool->def.max_size;
}

/*
 * PolicyFreeSlotFate
 *		A connection nobody holds (released, reset, new, or on the idle
 *		list): is it kept for the next holder, or closed, and why?  A
 *		connection of a dropped pool, a stale one and one above a lowered
 *		max_size are closed.
 *
 * Caller holds the pool lock.
 */
PolicyClose
PolicyFreeSlotFate(const PoolEntry *pool, const SlotEntry *slot)
{
	if (pool->dropping)
		return CLOSE_DROPPED;
	if (PolicyStale(pool, slot))
		return CLOSE_STALE;
	if (PolicyOverMax(pool))
		return CLOSE_OVER_MAX;
	return CLOSE_KEEP;
}

/*
 * PolicyIdleFate
 *		The janitor's sweep over an idle connection of pool, which has total
 *		connections left: a stale one is closed, and one idle for longer
 *		than idle_timeout while the pool is above min_size.
 *
 * Caller holds the pool lock.
 */
PolicyClose
PolicyIdleFate(const PoolEntry *pool, const SlotEntry *slot, int total,
			   TimestampTz now)
{
	if (PolicyStale(pool, slot))
		return CLOSE_STALE;
	if (pool->def.idle_timeout_ms > 0 && total > pool->def.min_size &&
		TimestampDifferenceExceeds(slot->last_used_at, now,
								   pool->def.idle_timeout_ms))
		return CLOSE_IDLE_TIMEOUT;
	return CLOSE_KEEP;
}

/*
 * PolicyMaySpare
 *		May an idle connection of pool, in partition part, be closed to make
 *		room for another pool's waiters (every slot is in use)?  Only while
 *		pool stays at or above its min_size and nobody waits in part.
 *
 * The janitor asks without the pool lock to pick a candidate, then again
 * under it.
 */
bool
PolicyMaySpare(const PoolEntry *pool, const PartitionEntry *part)
{
	return pool->nconns - pool->nclosing > pool->def.min_size &&
		part->nwaiting == 0;
}

/*
 * PolicyMayConnect
 *		Has pool's backoff after failed connects run out by now?
 *
 * Caller holds the pool lock, or reads a value the worker alone writes.
 */
bool
PolicyMayConnect(const PoolEntry *pool, TimestampTz now)
{
	return now >= pool->next_connect_at;
}

/*
 * PolicyMayOpen
 *		May one more connection of pool, which has total connections, start
 *		now while connecting connects are in flight in the worker?  Within
 *		max_size, pgpool_ext.max_concurrent_connects and the backoff.
 *
 * Caller holds the pool lock.
 */
bool
PolicyMayOpen(const PoolEntry *pool, int total, int connecting,
			  TimestampTz now)
{
	return total < pool->def.max_size &&
		connecting < pgpool_max_concurrent_connects &&
		PolicyMayConnect(pool, now);
}

/*
 * PolicyBackoff
 *		A connect of pool that started at started failed at now: false if
 *		the backoff stays as it is, else true with the new backoff and the
 *		earliest time of the next connect.  The backoff starts at 100 ms
 *		and doubles up to pgpool_ext.connect_retry_max; attempts started
 *		together (before the current deadline) fail together and count as
 *		one round.
 *
 * Caller holds the pool lock.
 */
bool
PolicyBackoff(const PoolEntry *pool, TimestampTz started, TimestampTz now,
			  int *backoff_ms, TimestampTz *next_at)
{
	if (started < pool->next_connect_at)
		return false;
	*backoff_ms = pool->backoff_ms == 0 ? PGPOOL_BACKOFF_FIRST_MS :
		Min(pool->backoff_ms * 2, pgpool_connect_retry_max);
	*next_at = TimestampTzPlusMilliseconds(now, *backoff_ms);
	return true;
}

/*
 * PolicyConnectsWanted
 *		How many new connections partition part of pool wants: one for each
 *		waiter that no connection on its way (connecting, being reset) will
 *		serve; the default partition also brings the pool, which has total
 *		connections, up to want (min_size, or initial_size at creation).
 *		May be negative (more on the way than waiters).
 *
 * Caller holds the pool lock.
 */
int
PolicyConnectsWanted(const PoolEntry *pool, const PartitionEntry *part,
					 bool is_default, int want, int total)
{
	int			need = part->nwaiting - part->count[SLOT_CONNECTING] -
		part->count[SLOT_RESETTING];

	if (is_default)
		need = Max(need, want - total);
	return need;
}

/*
 * PolicyMayReplace
 *		A request of backend procno waits for slot's connection, which died
 *		or could not be reset: may a new connection replace it in place?
 *		Yes while procno still holds the slot with that request in flight
 *		and the pool is not being dropped.
 *
 * Caller holds the pool lock.
 */
bool
PolicyMayReplace(const PoolEntry *pool, const SlotEntry *slot, int procno)
{
	return slot->holder_procno == procno && slot->state == SLOT_BUSY &&
		!pool->dropping;
}

/*
 * PolicyPasswordRefused
 *		A replacement connection for a held slot is up: must it be closed
 *		because the pool requires a password, the remote did not ask for
 *		one, and the holder is no superuser?  (The holder passed the same
 *		rule at acquire with the old connection.)
 *
 * Caller holds the pool lock.
 */
bool
PolicyPasswordRefused(const PoolEntry *pool, const SlotEntry *slot)
{
	return (slot->state == SLOT_BUSY || slot->state == SLOT_ACQUIRED) &&
		pool->def.password_required && !slot->used_password &&
		!slot->holder_superuser;
}

/*
 * PolicyConnectTimedOut
 *		Has a connect, lookup, drain or reset of pool's that started at
 *		since waited longer than the pool's connect_timeout by now?
 */
bool
PolicyConnectTimedOut(const PoolEntry *pool, TimestampTz since,
					  TimestampTz now)
{
	int			limit = pool->def.connect_timeout_ms;

	return limit > 0 && TimestampDifferenceExceeds(since, now, limit);
}

/*
 * PolicyRecycle
 *		Is a used connection that carried a message (row or request) of
 *		max_message bytes closed instead of reset?  libpq's buffers grew to
 *		hold it and never shrink: yes above
 *		pgpool_ext.max_connection_buffer (0: no limit).
 */
bool
PolicyRecycle(Size max_message)
{
	return pgpool_max_connection_buffer > 0 &&
		max_message > (Size) pgpool_max_connection_buffer * 1024;
}

/*
 * Does reset_query set every setting back to its session default (the
 * values the connection was opened with)?
 */
static bool
policy_resets_settings(const char *reset_query)
{
	return pg_strcasecmp(reset_query, "DISCARD ALL") == 0 ||
		pg_strcasecmp(reset_query, "RESET ALL") == 0;
}

/*
 * PolicyResetNext
 *		The reset plan: after step done, what a released connection runs
 *		next.  ROLLBACK if a transaction is open (asked before the first
 *		step only), the pool's reset_query if it has one, then the forced
 *		output settings unless the reset query restored them and no
 *		reported setting differs (settings_changed); then RESET_DONE.
 */
PolicyResetStep
PolicyResetNext(PolicyResetStep done, bool in_transaction,
				const char *reset_query, bool settings_changed)
{
	if (done < RESET_ROLLBACK && in_transaction)
		return RESET_ROLLBACK;
	if (done < RESET_QUERY && reset_query[0] != '\0')
		return RESET_QUERY;
	if (done < RESET_SETTINGS &&
		(settings_changed || !policy_resets_settings(reset_query)))
		return RESET_SETTINGS;
	return RESET_DONE;
}

/*-------------------------------------------------------------------------
 *
 * handle.c
 *	  Acquiring, checking and releasing handles on pooled connections.
 *
 * A handle is a bigint: the slot's generation in the high bits and the
 * slot index in the low 16.  The generation is bumped at every acquire, so
 * a released or reused slot never matches an old handle; the slot also
 * records the holder's process number and pid, so another session's handle
 * is refused even if its number is guessed.
 *
 * Acquire and release are pure shared-memory operations under the pool's
 * lock.  A backend that finds no idle connection queues itself on its
 * partition (waitq.c) and sleeps on its latch; whoever frees a connection
 * hands it over directly (PoolHandOver).  Every way out of the wait
 * (grant, timeout, cancel, statement_timeout, exit) goes through
 * handle_abandon_wait() so nothing is left queued.
 *
 * Cleanup: transaction-scoped handles are released by the transaction
 * callback at commit, abort and prepare; every handle is released by a
 * before_shmem_exit callback when the backend exits.
 *
 * Locking: the pool lock of the slot, exclusive, for every change.
 *
 * src/handle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "channel.h"
#include "compat.h"
#include "guc.h"
#include "handle.h"
#include "interval.h"
#include "pgpool_errors.h"
#include "pool.h"
#include "waitq.h"

static bool config_changed_in_xact = false;
static int	xact_handles = 0;	/* transaction-scoped handles held */
static bool waiting_on_pool = false;

static void handle_exit_callback(int code, Datum arg);
static void handle_abandon_wait(void);
static int	handle_wait_for_grant(PoolRef *ref, int timeout_ms);
static void handle_release_locked(int slotno);
static int	handle_pick_idle(PoolEntry *pool, PartitionEntry *part);
static void handle_check_password(int slotno, PoolRef *ref);
static BackendEntry *my_entry(void);

static BackendEntry *
my_entry(void)
{
	return &PoolShared->backends[PGPOOL_MY_PROCNO];
}

/*
 * PoolTimeoutArg
 *		An acquire timeout argument in milliseconds, checked.
 */
int
PoolTimeoutArg(const Interval *iv)
{
	int			ms;

	if (!PoolIntervalToMs(iv, &ms))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid acquire timeout"),
				 errdetail("The timeout must be between 0 (wait forever) and %d milliseconds.",
						   PG_INT32_MAX)));
	return ms;
}

/*
 * HandleInitBackend
 *		Register the exit callback once per backend.
 */
void
HandleInitBackend(void)
{
	static bool done = false;

	if (done)
		return;
	before_shmem_exit(handle_exit_callback, (Datum) 0);
	done = true;
}

/*
 * PoolWaitConfigLoaded
 *		Wait until the worker has loaded every definition committed so far,
 *		so that a pool created by a committed transaction is usable by the
 *		very next statement of any session.  If the worker is not running
 *		for a while, error out when must_load, else return.
 */
void
PoolWaitConfigLoaded(bool must_load)
{
	uint64		target = pg_atomic_read_u64(&PoolShared->config_requested);
	TimestampTz start;

	if (pg_atomic_read_u64(&PoolShared->config_loaded) >= target)
		return;
	start = GetCurrentTimestamp();
	PoolWakeWorker();
	ConditionVariablePrepareToSleep(&PoolShared->config_cv);
	while (pg_atomic_read_u64(&PoolShared->config_loaded) < target)
	{
		ConditionVariableTimedSleep(&PoolShared->config_cv, 100,
									PGPOOL_WAIT_CONFIG);
		CHECK_FOR_INTERRUPTS();
		if (PoolShared->worker_pid == 0 &&
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   PGPOOL_WORKER_GRACE_MS))
		{
			ConditionVariableCancelSleep();
			if (!must_load)
				return;
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_NOT_PRELOADED),
					 errmsg("pgpool_ext pool worker is not running"),
					 errhint("Check that database \"%s\" (pgpool_ext.database) exists, and see the server log.",
							 pgpool_database)));
		}
		PoolWakeWorker();
	}
	ConditionVariableCancelSleep();
}

/*
 * The last pool this backend looked up.  Pools are made and dropped, and
 * their owners and grants change, only when the worker loads definitions
 * (the janitor later frees a dropped pool's entry, which the generation
 * check in HandleAcquire catches), and the worker bumps config_loaded
 * after every load, so the entry is good while config_loaded is what it
 * was.  It spares acquire the global lock and the name search; whether the
 * pool still exists is checked under its own lock, and the permission
 * check is made at every call.
 */
static struct
{
	uint64		loaded;			/* config_loaded when filled; 0: empty */
	PoolRef		ref;
	Oid			owner;
	int			ngrants;
	Oid			grants[PGPOOL_MAX_GRANTS];
} lookup_cache;

/*
 * PoolLookupForUse
 *		Find a pool by name and check that the current role may use it.
 */
void
PoolLookupForUse(const char *name, PoolRef *ref)
{
	uint64		loaded;
	bool		allowed;
	int			i;

	PoolWaitConfigLoaded(true);
	loaded = pg_atomic_read_u64(&PoolShared->config_loaded);
	if (lookup_cache.loaded != loaded || loaded == 0 ||
		strcmp(lookup_cache.ref.name, name) != 0)
	{
		int			idx;

		lookup_cache.loaded = 0;
		LWLockAcquire(&PoolShared->lock, LW_SHARED);
		idx = PoolFindByName(name);
		if (idx >= 0)
		{
			PoolEntry  *pool = &PoolShared->pools[idx];

			lookup_cache.ref.index = idx;
			lookup_cache.ref.generation = pool->generation;
			lookup_cache.ref.default_partition = pool->default_partition;
			lookup_cache.owner = pool->def.owner;
			lookup_cache.ngrants = pool->def.ngrants;
			memcpy(lookup_cache.grants, pool->def.grants,
				   sizeof(Oid) * pool->def.ngrants);
		}
		LWLockRelease(&PoolShared->lock);
		if (idx < 0)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_UNKNOWN_POOL),
					 errmsg("pool \"%s\" does not exist", name)));
		strlcpy(lookup_cache.ref.name, name, PGPOOL_NAME_LEN);
		lookup_cache.loaded = loaded;
	}
	*ref = lookup_cache.ref;

	allowed = superuser() || has_privs_of_role(GetUserId(), lookup_cache.owner);
	for (i = 0; !allowed && i < lookup_cache.ngrants; i++)
		allowed = (lookup_cache.grants[i] == InvalidOid ||
				   has_privs_of_role(GetUserId(), lookup_cache.grants[i]));
	if (!allowed)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("permission denied for pool \"%s\"", name),
				 errhint("A superuser can grant it with pgpool_ext.grant_usage().")));
}

/* Handle number of a held slot. */
static int64
handle_make(int slotno)
{
	return ((int64) PoolShared->slots[slotno].generation << PGPOOL_HANDLE_SLOT_BITS) |
		slotno;
}

/*
 * handle_pick_idle
 *		A connection of part's idle list to hand out, or -1: the list holds
 *		the idle ones first, most recently used first, then those still
 *		being reset (the first request on one of those waits for the reset
 *		in the worker, which is still sooner than waiting for a grant).
 *		Connections opened with an older conninfo are closed, not used.
 *
 * Caller holds the pool lock exclusively.
 */
static int
handle_pick_idle(PoolEntry *pool, PartitionEntry *part)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &part->idle)
	{
		SlotEntry  *slot = dlist_container(SlotEntry, idle_node, iter.cur);
		int			slotno = slot - PoolShared->slots;

		if (slot->def_version == pool->def_version)
			return slotno;
		PoolSetSlotState(slotno, SLOT_CLOSING);
		PoolWakeWorker();
	}
	return -1;
}

/*
 * HandleAcquire
 *		Get a connection of pool (partition, priority, scope), waiting at
 *		most timeout_ms (0: forever).  Returns the handle.
 */
int64
HandleAcquire(const char *pool_name, int timeout_ms, PoolPriority prio,
			  const char *partition, PoolScope scope)
{
	PoolRef		ref;
	int			part_idx;
	int			slotno = -1;
	PoolEntry  *pool;
	PartitionEntry *part;
	BackendEntry *be = my_entry();
	bool		is_superuser;

	HandleInitBackend();
	PoolLookupForUse(pool_name, &ref);
	is_superuser = superuser();	/* not under the pool lock: may read a catalog */
	if ((partition == NULL || partition[0] == '\0') && ref.default_partition >= 0)
		part_idx = ref.default_partition;	/* checked with the generation */
	else
		part_idx = PoolGetPartition(ref.index, partition ? partition : "", true);
	if (part_idx == -2)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_UNKNOWN_POOL),
				 errmsg("pool \"%s\" does not exist", pool_name)));
	if (part_idx < 0)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("too many pool partitions"),
				 errhint("Increase pgpool_ext.max_partitions.")));
	pool = &PoolShared->pools[ref.index];
	part = &PoolShared->partitions[part_idx];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (!pool->in_use || pool->dropping || pool->generation != ref.generation)
	{
		LWLockRelease(&pool->lock);
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_UNKNOWN_POOL),
				 errmsg("pool \"%s\" does not exist", pool_name)));
	}
	if (part->nwaiting == 0)
		slotno = handle_pick_idle(pool, part);
	if (slotno >= 0)
	{
		PoolClaimSlot(slotno, PGPOOL_MY_PROCNO, MyProcPid, GetUserId(),
					  is_superuser, scope);
		LWLockRelease(&pool->lock);
	}
	else
	{
		be->pid = MyProcPid;
		be->wait_pool = ref.index;
		be->wait_partition = part_idx;
		be->priority = prio;
		be->wait_scope = scope;
		be->wait_role = GetUserId();
		be->wait_superuser = is_superuser;
		be->wait_start = GetCurrentTimestamp();
		be->granted_slot = -1;
		WaitqEnqueue(part, be);
		pool->nwaiting++;
		pool->waits++;
		waiting_on_pool = true;
		LWLockRelease(&pool->lock);
		pg_atomic_write_u32(&PoolShared->janitor_wanted, 1);
		PoolWakeWorker();

		PG_TRY();
		{
			slotno = handle_wait_for_grant(&ref, timeout_ms);
		}
		PG_CATCH();
		{
			handle_abandon_wait();
			PG_RE_THROW();
		}
		PG_END_TRY();
	}

	if (scope == SCOPE_TRANSACTION)
		xact_handles++;
	handle_check_password(slotno, &ref);
	return handle_make(slotno);
}

/*
 * handle_check_password
 *		dblink's rule: a non-superuser may only use connections that
 *		authenticated with a password, unless the pool says otherwise.
 */
static void
handle_check_password(int slotno, PoolRef *ref)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	bool		required = PoolShared->pools[ref->index].def.password_required;

	if (superuser() || !required || slot->used_password)
		return;
	HandleRelease(handle_make(slotno));
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
			 errmsg("password is required"),
			 errdetail("Non-superuser cannot use pool \"%s\" because the remote server did not ask for a password.",
					   ref->name),
			 errhint("Target server's authentication method must be changed, or a superuser can create the pool with password_required => false.")));
}

/*
 * handle_wait_for_grant
 *		Sleep until a connection is handed over; returns its slot.  Errors
 *		out on timeout or when the pool is dropped; the caller's PG_CATCH
 *		dequeues us.
 */
static int
handle_wait_for_grant(PoolRef *ref, int timeout_ms)
{
	BackendEntry *be = my_entry();
	PoolEntry  *pool = &PoolShared->pools[ref->index];
	TimestampTz start = be->wait_start;

	for (;;)
	{
		long		sleep_ms = 1000;
		int			slotno;
		bool		gone;

		LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
		slotno = be->granted_slot;
		gone = pool->dropping || pool->generation != ref->generation;
		if (slotno >= 0)
		{
			be->granted_slot = -1;
			waiting_on_pool = false;
			LWLockRelease(&pool->lock);
			return slotno;
		}
		LWLockRelease(&pool->lock);
		if (gone)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_UNKNOWN_POOL),
					 errmsg("pool \"%s\" was dropped while waiting for a connection",
							ref->name)));
		if (timeout_ms > 0)
		{
			long		left = timeout_ms -
				(long) ((GetCurrentTimestamp() - start) / 1000);

			if (left <= 0)
			{
				char		last_error[PGPOOL_ERROR_LEN];
				int			position;

				LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
				if (be->granted_slot >= 0)
				{
					LWLockRelease(&pool->lock);
					continue;
				}
				position = WaitqPosition(&PoolShared->partitions[be->wait_partition], be);
				WaitqRemove(&PoolShared->partitions[be->wait_partition], be);
				pool->nwaiting--;
				pool->timeouts++;
				waiting_on_pool = false;
				strlcpy(last_error, pool->last_error, sizeof(last_error));
				LWLockRelease(&pool->lock);
				ereport(ERROR,
						(errcode(PGPOOL_ERRCODE_TIMEOUT),
						 errmsg("timed out waiting for a connection from pool \"%s\"",
								ref->name),
						 errdetail("Waited %ld ms at position %d in the queue; last connection error: %s.",
								   (long) ((GetCurrentTimestamp() - start) / 1000),
								   position,
								   last_error[0] ? last_error : "none")));
			}
			sleep_ms = Min(sleep_ms, left);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PGPOOL_WAIT_ACQUIRE);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * handle_abandon_wait
 *		Leave the queue after an error or at exit.  A connection granted in
 *		the meantime is handed on to the next waiter.
 */
static void
handle_abandon_wait(void)
{
	BackendEntry *be = my_entry();
	PoolEntry  *pool;

	if (!waiting_on_pool)
		return;
	pool = &PoolShared->pools[be->wait_pool];
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (be->granted_slot >= 0)
	{
		int			slotno = be->granted_slot;

		be->granted_slot = -1;
		if (PoolShared->slots[slotno].scope == SCOPE_TRANSACTION)
			xact_handles++;		/* balanced by the release below */
		handle_release_locked(slotno);
	}
	else if (be->waiting)
	{
		WaitqRemove(&PoolShared->partitions[be->wait_partition], be);
		pool->nwaiting--;
	}
	waiting_on_pool = false;
	LWLockRelease(&pool->lock);
}

/*
 * HandleLock
 *		Check that handle is held by this backend and lock its pool
 *		exclusively; returns the slot.  The caller must release the pool
 *		lock.  Raises 08003 for a bad handle, and (unless for_release) 08006
 *		when its connection was lost.
 */
int
HandleLock(int64 handle, bool for_release)
{
	int64		slot64 = handle & (PGPOOL_MAX_SLOTS - 1);
	int64		gen = handle >> PGPOOL_HANDLE_SLOT_BITS;
	SlotEntry  *slot;
	int			pool;
	const char *why = NULL;

	if (handle <= 0 || slot64 >= PoolShared->nslots || gen <= 0 || gen > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
				 errmsg("invalid pgpool_ext handle " INT64_FORMAT, handle)));
	slot = &PoolShared->slots[slot64];
	for (;;)
	{
		pool = slot->pool;
		if (pool < 0)
			break;
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (slot->pool == pool)
			break;
		LWLockRelease(PoolLock(pool));
	}
	if (pool < 0 || slot->generation != (uint32) gen || slot->holder_procno < 0)
		why = "It was released, or never existed.";
	else if (slot->holder_procno != PGPOOL_MY_PROCNO || slot->holder_pid != MyProcPid)
		why = "It belongs to another session.";
	if (why != NULL)
	{
		if (pool >= 0)
			LWLockRelease(PoolLock(pool));
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
				 errmsg("invalid pgpool_ext handle " INT64_FORMAT, handle),
				 errdetail("%s", why)));
	}
	if (!for_release && slot->state == SLOT_BROKEN)
	{
		char		name[PGPOOL_NAME_LEN];

		strlcpy(name, PoolShared->pools[pool].name, sizeof(name));
		LWLockRelease(PoolLock(pool));
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LOST),
				 errmsg("connection of handle " INT64_FORMAT " to pool \"%s\" was lost",
						handle, name),
				 errhint("Release the handle and acquire a new one.")));
	}
	return (int) slot64;
}

/*
 * handle_release_locked
 *		Give a held slot back.  Caller holds the slot's pool lock
 *		exclusively and has checked that this backend holds it.
 */
static void
handle_release_locked(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];

	if (slot->scope == SCOPE_TRANSACTION && xact_handles > 0)
		xact_handles--;
	slot->last_used_at = PoolSlotClock();
	if (slot->state == SLOT_ACQUIRED && !ChannelInFlight(slotno))
	{
		/*
		 * If used, the worker resets it (after run() it already does), and
		 * meanwhile it may be handed on.
		 */
		bool		wake = slot->dirty && !slot->reset_pending;

		if (slot->dirty)
			slot->reset_pending = true;
		slot->dirty = false;
		PoolHandOver(slotno);
		if (wake)
			PoolWakeWorker();
		return;
	}
	switch (slot->state)
	{
		case SLOT_ACQUIRED:
			/* the worker still sends us the end of an abandoned request */
		case SLOT_BUSY:
			/* it ends the request, then resets and hands the slot over */
			slot->holder_procno = -1;
			slot->holder_pid = 0;
			PoolSetSlotState(slotno, SLOT_RESETTING);
			break;
		case SLOT_BROKEN:
			slot->holder_procno = -1;
			slot->holder_pid = 0;
			PoolSetSlotState(slotno, SLOT_CLOSING);
			break;
		default:
			elog(ERROR, "pgpool_ext slot %d released in state %s",
				 slotno, PoolSlotStateName(slot->state));
	}
	PoolWakeWorker();
}

/*
 * HandleRelease
 *		release(handle): give the connection back.
 */
void
HandleRelease(int64 handle)
{
	int			slotno;
	int			pool;

	ChannelCheckRelease(handle);	/* not while its rows are being read */
	slotno = HandleLock(handle, true);
	pool = PoolShared->slots[slotno].pool;
	handle_release_locked(slotno);
	LWLockRelease(PoolLock(pool));
}

/*
 * HandleReleaseAll
 *		Release every handle of this backend (only transaction-scoped ones
 *		if xact_only).  Never raises an error.
 */
void
HandleReleaseAll(bool xact_only)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		int			pool = slot->pool;

		if (pool < 0 || slot->holder_procno != PGPOOL_MY_PROCNO)
			continue;
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (slot->pool == pool && slot->holder_procno == PGPOOL_MY_PROCNO &&
			slot->holder_pid == MyProcPid &&
			(!xact_only || slot->scope == SCOPE_TRANSACTION))
			handle_release_locked(i);
		LWLockRelease(PoolLock(pool));
	}
	if (!xact_only || xact_handles < 0)
		xact_handles = 0;
}

/*
 * HandleMarkConfigChanged
 *		The current transaction changed pool definitions: tell the worker at
 *		commit.
 */
void
HandleMarkConfigChanged(void)
{
	config_changed_in_xact = true;
}

/*
 * HandleXactCallback
 *		Release transaction-scoped handles at the end of the top-level
 *		transaction, and ask the worker to reload after a commit that
 *		changed definitions.
 */
void
HandleXactCallback(XactEvent event, void *arg)
{
	if (PoolShared == NULL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (config_changed_in_xact)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that has changed pgpool_ext pool definitions")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (config_changed_in_xact)
			{
				pg_atomic_fetch_add_u64(&PoolShared->config_requested, 1);
				PoolWakeWorker();
			}
			/* FALLTHROUGH */
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* safety net: no request survives an abort */
			ChannelAbort();
			/* FALLTHROUGH */
		case XACT_EVENT_PREPARE:
			config_changed_in_xact = false;
			if (xact_handles > 0)
				HandleReleaseAll(true);
			break;
		default:
			break;
	}
}

/*
 * handle_exit_callback
 *		Backend exit (including pg_terminate_backend): leave any queue,
 *		release everything held.
 */
static void
handle_exit_callback(int code, Datum arg)
{
	if (PoolShared == NULL)
		return;
	LWLockReleaseAll();
	ChannelAbort();
	handle_abandon_wait();
	HandleReleaseAll(false);
}

/*-------------------------------------------------------------------------
 *
 * handle.c
 *	  Acquiring, checking and releasing handles on pooled connections.
 *
 * A handle is a capability of one backend and one role.  Its number is a
 * positive bigint: a random part drawn at every acquire (pool.c) above the
 * slot index in the low 16 bits, so it cannot be guessed, and a released
 * or reused slot never matches an old number.  The slot records the whole
 * number, the holder's process number and pid, and the role that acquired
 * it (GetUserId() at acquire: the function owner inside SECURITY DEFINER,
 * the SET ROLE role).  Every call on a handle (query, execute, release)
 * checks all of them: the current user must be the acquiring role or have
 * its privileges (has_privs_of_role: members that inherit, superusers).
 * query and execute also check again, for the current user, usage of the
 * pool and the password rule whenever the definitions were reloaded
 * (grant_usage/revoke_usage, alter_pool) or the current user changed since
 * the last check of that handle; release does not, so a role that lost
 * usage can still give its connection back.  Every refusal of a handle
 * (never existed, released, another session's, another role's) is the
 * same 08003 error, raised from one place, so that a guesser learns
 * nothing.
 *
 * Acquire and release are pure shared-memory operations under the pool's
 * lock.  A backend that finds no idle connection queues itself on its
 * partition (waitq.c) and sleeps on its latch; whoever frees a connection
 * hands it over directly (PoolHandOver).  Every way out of the wait
 * (grant, timeout, cancel, statement_timeout, exit) goes through
 * handle_abandon_wait() so nothing is left queued.  Each acquire's wait
 * (granted, timed out or given up) and each hold are recorded in the
 * latency statistics of their partition (shm/stats.c) unless
 * pgpool_ext.track_timing is off, under the pool lock, which every
 * recorder of these two distributions holds.  An acquire granted at once
 * reads no clock for it: it is a wait of 0 (the slot clock of the grant
 * picks its minute), unless it first waited for the worker to load
 * committed definitions (LookupWaitedSince): then it is timed from that
 * wait's start.  A queued wait runs from wait_start (that start, or the
 * clock read when it queues; the timeout counts from it too) to a clock
 * read at its end; a hold runs from acquired_at
 * to the release on the slot clock both are read from anyway
 * (PoolSlotClock, up to a tick, 4 ms, coarse: README, Precision).
 *
 * Leaks: for a pool with leak detection on, acquire records where it was
 * called (leak_site.c); the release of a handle reported as leaked logs
 * its end (LeakReleased); a handle the worker reclaimed is refused with
 * the reclaim in the detail, to its holder only (handle_refuse).
 *
 * Cleanup: transaction-scoped handles are released by the transaction
 * callback at commit, abort and prepare; every handle is released by a
 * before_shmem_exit callback when the backend exits.
 *
 * Locking: the pool lock of the slot, exclusive, for every change.
 *
 * src/backend/handle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "backend/handle.h"
#include "backend/lookup.h"
#include "common/compat.h"
#include "common/guc.h"
#include "backend/leak_site.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/channel.h"
#include "shm/leaks.h"
#include "shm/policy.h"
#include "shm/pool.h"
#include "shm/usage.h"
#include "shm/waitq.h"

/*
 * What this backend last checked, per slot, for the handle it holds there:
 * query and execute on the same handle by the same user skip the usage and
 * password checks until the definitions are reloaded.
 */
typedef struct HandleCheck
{
	int64		handle;			/* 0: nothing checked */
	uint64		loaded;			/* config_loaded when checked */
	Oid			role;			/* current user when checked */
} HandleCheck;

static HandleCheck *handle_checks = NULL;	/* nslots entries */
static bool config_changed_in_xact = false;
static int	xact_handles = 0;	/* transaction-scoped handles held */
static bool waiting_on_pool = false;

static void handle_exit_callback(int code, Datum arg);
static void handle_abandon_wait(void);
static int	handle_wait_for_grant(PoolRef *ref, int timeout_ms);
static void handle_release_locked(int slotno, bool held);
static int	handle_pick_idle(PoolEntry *pool, PartitionEntry *part);
static void handle_check_password(int slotno, PoolRef *ref);
static bool handle_free_slot_exists(void);
static void handle_refuse(int64 handle) pg_attribute_noreturn();
static int	handle_lock_held(int64 handle);
static void handle_recheck(int64 handle, int slotno, uint64 loaded,
						   bool for_release);
static void handle_note_checked(int slotno, int64 handle, uint64 loaded);
static BackendEntry *my_entry(void);

static BackendEntry *
my_entry(void)
{
	return &PoolShared->backends[PGPOOL_MY_PROCNO];
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
	PoolSeedHandles();
	handle_checks = MemoryContextAllocZero(TopMemoryContext,
										   sizeof(HandleCheck) *
										   PoolShared->nslots);
	before_shmem_exit(handle_exit_callback, (Datum) 0);
	done = true;
}

/* Handle number of a slot this backend holds. */
static int64
handle_make(int slotno)
{
	return PoolShared->slots[slotno].handle;
}

/*
 * handle_pick_idle
 *		A connection of part's idle list to hand out, or -1: the list holds
 *		the idle ones first, most recently used first, then those still
 *		being reset (the first request on one of those waits for the reset
 *		in the worker, which is still sooner than waiting for a grant).
 *		Connections policy does not keep (PolicyFreeSlotFate: opened with
 *		an older conninfo, above a lowered max_size) are closed, not used.
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

		if (PolicyFreeSlotFate(pool, slot) == CLOSE_KEEP)
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
	uint64		loaded;
	int64		handle;
	TimestampTz waited_since;

	HandleInitBackend();
	(void) LookupWaitedSince();
	loaded = LookupPoolForUse(pool_name, &ref);	/* what the usage check was made with */
	waited_since = LookupWaitedSince(); /* a definition load waited for */
	is_superuser = superuser();	/* not under the pool lock: may read a catalog */
	if ((partition == NULL || partition[0] == '\0') && ref.default_partition >= 0)
		part_idx = ref.default_partition;	/* checked with the generation */
	else
		part_idx = PoolGetPartition(ref.index, partition ? partition : "", true);
	if (part_idx == -2)
		PoolErrorUnknownPool(pool_name);
	if (part_idx < 0)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("too many pool partitions"),
				 errdetail("Partition keys are limited to %d over all pools (pgpool_ext.max_partitions).",
						   pgpool_max_partitions),
				 errhint("Increase pgpool_ext.max_partitions.")));
	pool = &PoolShared->pools[ref.index];
	part = &PoolShared->partitions[part_idx];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (!pool->in_use || pool->dropping || pool->generation != ref.generation)
	{
		LWLockRelease(&pool->lock);
		PoolErrorUnknownPool(pool_name);
	}
	if (part->nwaiting == 0)
		slotno = handle_pick_idle(pool, part);
	if (slotno >= 0)
	{
		PoolClaimSlot(slotno, PGPOOL_MY_PROCNO, MyProcPid, GetUserId(),
					  is_superuser, scope);
		UsageRecordWait(part_idx, waited_since != 0 ?
						StatsRecordWait(PoolPartitionStats(part_idx),
										waited_since, STATS_DONE) :
						StatsRecordNoWait(PoolPartitionStats(part_idx),
										  PoolShared->slots[slotno].acquired_at));
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
		be->wait_start = waited_since != 0 ? waited_since : GetCurrentTimestamp();
		be->granted_slot = -1;
		WaitqEnqueue(part, be);
		pool->nwaiting++;
		StatsCount(&pool->stats, STAT_WAITS);
		UsageCount(part_idx, USAGE_WAITS);
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
	LeakSiteCapture(slotno);
	handle = handle_make(slotno);
	handle_note_checked(slotno, handle, loaded);
	return handle;
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
	LookupPasswordRequired(ref->name);
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
			UsageRecordWait(be->wait_partition,
							StatsRecordWait(PoolPartitionStats(be->wait_partition),
											be->wait_start, STATS_DONE));
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
				bool		below_max;

				LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
				if (be->granted_slot >= 0)
				{
					LWLockRelease(&pool->lock);
					continue;
				}
				position = WaitqPosition(&PoolShared->partitions[be->wait_partition], be);
				WaitqRemove(&PoolShared->partitions[be->wait_partition], be);
				pool->nwaiting--;
				StatsCount(&pool->stats, STAT_TIMEOUTS);
				UsageCount(be->wait_partition, USAGE_TIMEOUTS);
				UsageRecordWait(be->wait_partition,
								StatsRecordWait(PoolPartitionStats(be->wait_partition),
												be->wait_start, STATS_TIMEOUT));
				waiting_on_pool = false;
				strlcpy(last_error, pool->last_error, sizeof(last_error));
				below_max = pool->nconns - pool->nclosing < pool->def.max_size;
				LWLockRelease(&pool->lock);
				if (below_max && last_error[0] == '\0' &&
					!handle_free_slot_exists())
					ereport(ERROR,
							(errcode(PGPOOL_ERRCODE_TIMEOUT),
							 errmsg("timed out waiting for a connection from pool \"%s\"",
									ref->name),
							 errdetail("Waited %ld ms at position %d in the queue; all %d connections of pgpool_ext.max_connections are in use.",
									   (long) ((GetCurrentTimestamp() - start) / 1000),
									   position, PoolShared->nslots),
							 errhint("Increase pgpool_ext.max_connections, or lower the min_size of other pools.")));
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
 * handle_free_slot_exists
 *		Is any slot (pgpool_ext.max_connections) free?  Read without a lock:
 *		only to explain a timeout.
 */
static bool
handle_free_slot_exists(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
		if (PoolShared->slots[i].pool < 0)
			return true;
	return false;
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
	UsageRecordWait(be->wait_partition,
					StatsRecordWait(PoolPartitionStats(be->wait_partition),
									be->wait_start, STATS_CANCEL));
	if (be->granted_slot >= 0)
	{
		int			slotno = be->granted_slot;

		be->granted_slot = -1;
		if (PoolShared->slots[slotno].scope == SCOPE_TRANSACTION)
			xact_handles++;		/* balanced by the release below */
		handle_release_locked(slotno, false);
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
 * handle_refuse
 *		The one error for a handle this caller may not use, whatever the
 *		reason (never existed, released, another session's, another
 *		role's): the same SQLSTATE, message and location for all, so that
 *		trying numbers tells nothing.  Only the backend that held a handle
 *		the pool worker reclaimed as leaked learns that, in the detail.
 */
static void
handle_refuse(int64 handle)
{
	int64		held_ms;

	if (LeakWasReclaimed(handle, &held_ms))
		PoolErrorReclaimedHandle(handle, IntervalFormatMs(held_ms));
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
			 errmsg("invalid pgpool_ext handle " INT64_FORMAT, handle)));
}

/*
 * handle_lock_held
 *		Lock the pool of handle's slot exclusively and check that this
 *		backend holds the handle (the whole number, the process number and
 *		the pid); returns the slot.  Refuses the handle otherwise, without
 *		any lock held.
 */
static int
handle_lock_held(int64 handle)
{
	int64		slot64 = handle & (PGPOOL_MAX_SLOTS - 1);
	SlotEntry  *slot;
	int			pool;

	if (handle <= 0 || slot64 >= PoolShared->nslots)
		handle_refuse(handle);
	slot = &PoolShared->slots[slot64];
	for (;;)
	{
		pool = slot->pool;
		if (pool < 0)
			handle_refuse(handle);
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (slot->pool == pool)
			break;
		LWLockRelease(PoolLock(pool));
	}
	if (slot->handle != handle || slot->holder_procno != PGPOOL_MY_PROCNO ||
		slot->holder_pid != MyProcPid)
	{
		LWLockRelease(PoolLock(pool));
		handle_refuse(handle);
	}
	return (int) slot64;
}

/*
 * handle_note_checked
 *		Remember that the current user passed the usage and password checks
 *		for handle with the definitions of config_loaded = loaded.
 */
static void
handle_note_checked(int slotno, int64 handle, uint64 loaded)
{
	HandleCheck *chk;

	if (handle_checks == NULL)
		return;
	chk = &handle_checks[slotno];
	chk->handle = handle;
	chk->loaded = loaded;
	chk->role = GetUserId();
}

/*
 * handle_recheck
 *		The checks of a held handle that may read catalogs, made without
 *		any lock: the current user must have the privileges of the role
 *		that acquired it (else the handle is refused like any bad one);
 *		unless for_release, it must also still be allowed to use the pool,
 *		and the connection must satisfy the password rule for it.  The
 *		slot's role, pool and definition cannot change under us: this
 *		backend holds the slot, and the definition is read under the pool
 *		lock.
 */
static void
handle_recheck(int64 handle, int slotno, uint64 loaded, bool for_release)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	Oid			holder = slot->holder_role;
	PoolEntry  *pool;
	char		name[PGPOOL_NAME_LEN];
	Oid			owner;
	int			ngrants;
	Oid			grants[PGPOOL_MAX_GRANTS];
	bool		required;
	bool		used_password;

	if (holder != GetUserId() && !has_privs_of_role(GetUserId(), holder))
		handle_refuse(handle);
	if (for_release)
		return;

	slotno = handle_lock_held(handle);
	pool = &PoolShared->pools[slot->pool];
	strlcpy(name, pool->name, sizeof(name));
	owner = pool->def.owner;
	ngrants = Min(pool->def.ngrants, PGPOOL_MAX_GRANTS);
	memcpy(grants, pool->def.grants, sizeof(Oid) * ngrants);
	required = pool->def.password_required;
	used_password = slot->used_password;
	LWLockRelease(&pool->lock);

	if (!LookupRoleMayUse(owner, ngrants, grants))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("permission denied for pool \"%s\"", name),
				 errdetail("Usage of the pool was revoked after the handle was acquired."),
				 errhint("Release the handle.")));
	if (required && !used_password && !superuser())
		LookupPasswordRequired(name);
	handle_note_checked(slotno, handle, loaded);
}

/*
 * HandleLock
 *		Check that this backend holds handle and that the current user may
 *		use it (see the file header), and lock its pool exclusively;
 *		returns the slot.  The caller must release the pool lock.  Raises
 *		08003 for a handle the caller may not use, 42501 when usage or the
 *		password rule no longer allows it (not for_release), and (unless
 *		for_release) 08006 when its connection was lost.
 *
 *		Fast path (no catalog access): the current user acquired it, and
 *		(unless for_release) checked it with the definitions loaded now.
 */
int
HandleLock(int64 handle, bool for_release)
{
	SlotEntry  *slot;
	int			slotno;
	int			pool;
	uint64		loaded = 0;
	bool		checked;

	if (!for_release)
	{
		/* see a revoke_usage committed before this call */
		LookupWaitConfigTried();
		loaded = pg_atomic_read_u64(&PoolShared->config_loaded);
	}
	slotno = handle_lock_held(handle);
	slot = &PoolShared->slots[slotno];
	if (for_release)
		checked = slot->holder_role == GetUserId();
	else
		checked = handle_checks != NULL &&
			handle_checks[slotno].handle == handle &&
			handle_checks[slotno].loaded == loaded &&
			handle_checks[slotno].role == GetUserId() &&
			slot->holder_role == GetUserId();
	if (!checked)
	{
		LWLockRelease(PoolLock(slot->pool));
		handle_recheck(handle, slotno, loaded, for_release);
		slotno = handle_lock_held(handle);
	}
	pool = slot->pool;
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
	return slotno;
}

/*
 * handle_release_locked
 *		Give a held slot back; held: its holder had it (a grant found while
 *		abandoning the wait was never held), so record the hold.  Caller
 *		holds the slot's pool lock exclusively and has checked that this
 *		backend holds it.
 */
static void
handle_release_locked(int slotno, bool held)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	TimestampTz now = PoolSlotClock();

	if (held)
		StatsRecordHold(PoolPartitionStats(slot->partition),
						slot->acquired_at, now);
	LeakReleased(slotno);		/* a reported leak's end: LeakReleasedLog */
	if (slot->scope == SCOPE_TRANSACTION && xact_handles > 0)
		xact_handles--;
	slot->last_used_at = now;
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
	handle_release_locked(slotno, true);
	LWLockRelease(PoolLock(pool));
	LeakReleasedLog();
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
		{
			handle_release_locked(i, true);
		}
		LWLockRelease(PoolLock(pool));
		LeakReleasedLog();
	}
	/* every transaction-scoped handle is gone now, reclaimed ones too */
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

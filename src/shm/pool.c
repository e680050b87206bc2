/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  Herding slots between states, partitions and holders.
 *
 * Every change of a slot's state goes through PoolSetSlotState(), which
 * keeps the partition's per-state counts, the idle list and the pool's
 * connection counts right.  PoolHandOver() is the single place where a
 * connection that became free is given to the first waiter of its
 * partition, or put on the idle list when nobody waits.
 *
 * Handle numbers: PoolClaimSlot() draws the random part of a new holder's
 * handle from a per-process pg_prng state seeded once from
 * pg_strong_random(), so a handle cannot be guessed from the ones seen
 * before; handle.c checks the whole number, the holder and its role.
 *
 * Locking: see shmem.h.  Functions that change state say which locks the
 * caller must hold and assert them.  Lock order: global, then pool.
 *
 * src/shm/pool.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "storage/proc.h"
#include "utils/timestamp.h"

#include "common/clock.h"
#include "shm/policy.h"
#include "shm/pool.h"
#include "shm/usage.h"
#include "shm/waitq.h"

static void pool_grant(int slotno, BackendEntry *be);
static int64 pool_new_handle(int slotno);

/* Random parts of handle numbers claimed by this process. */
static pg_prng_state handle_prng;
static bool handle_prng_seeded = false;

static const char *const slot_state_names[PGPOOL_NSTATES] = {
	"free", "connecting", "idle", "acquired", "busy", "resetting",
	"broken", "closing"
};

/* Name of a slot state, as the connections view shows it. */
const char *
PoolSlotStateName(PoolSlotState state)
{
	return slot_state_names[state];
}

/* Does a slot in this state own (or is it opening) a physical connection? */
bool
PoolSlotHasConnection(PoolSlotState state)
{
	return state != SLOT_FREE && state != SLOT_BROKEN;
}

/*
 * PoolFindByName
 *		Index of the live pool called name, or -1.
 *
 * Caller must hold the global lock (shared is enough).
 */
int
PoolFindByName(const char *name)
{
	int			i;

	Assert(LWLockHeldByMe(&PoolShared->lock));
	for (i = 0; i < PoolShared->npools; i++)
	{
		PoolEntry  *pool = &PoolShared->pools[i];

		if (pool->in_use && !pool->dropping &&
			strcmp(pool->name, name) == 0)
			return i;
	}
	return -1;
}

/* Scan for a partition; caller holds the global lock. */
static int
pool_lookup_partition(int pool, const char *key)
{
	int			i;

	for (i = 0; i < PoolShared->npartitions; i++)
	{
		PartitionEntry *part = &PoolShared->partitions[i];

		if (part->in_use && part->pool == pool && strcmp(part->key, key) == 0)
			return i;
	}
	return -1;
}

/*
 * PoolGetPartition
 *		Index of the partition of pool for key, made on first use when
 *		create is true; -1 if absent (or, with create, if the table is full),
 *		-2 if the pool was dropped meanwhile.
 *
 * Takes the global lock itself; the caller must hold no pgpool_ext lock.
 */
int
PoolGetPartition(int pool, const char *key, bool create)
{
	int			idx;

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	idx = pool_lookup_partition(pool, key);
	LWLockRelease(&PoolShared->lock);
	if (idx >= 0 || !create)
		return idx;

	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	if (PoolShared->pools[pool].in_use && !PoolShared->pools[pool].dropping)
		idx = PoolCreatePartitionLocked(pool, key);
	else
		idx = -2;
	LWLockRelease(&PoolShared->lock);
	return idx;
}

/*
 * pool_partition_fits
 *		May a new partition for key be made?  The default partition ("") of
 *		a pool always may: the table has an entry per pool entry
 *		(pgpool_ext.max_pools) on top of pgpool_ext.max_partitions, and
 *		other keys may only take a free entry while enough stay free for
 *		the default partition of every pool entry not yet in use.  So other
 *		keys are limited to max_partitions over all pools, and a new pool's
 *		default partition always fits.
 *
 * Caller must hold the global lock exclusively.
 */
static bool
pool_partition_fits(const char *key)
{
	int			nfree = 0;
	int			unused_pools = 0;
	int			i;

	if (key[0] == '\0')
		return true;
	for (i = 0; i < PoolShared->npartitions; i++)
		nfree += (int) !PoolShared->partitions[i].in_use;
	for (i = 0; i < PoolShared->npools; i++)
		unused_pools += (int) !PoolShared->pools[i].in_use;
	return nfree > unused_pools;
}

/*
 * PoolCreatePartitionLocked
 *		Find or make the partition of pool for key; -1 if the table has no
 *		room for it (see pool_partition_fits).
 *
 * Caller must hold the global lock exclusively.
 */
int
PoolCreatePartitionLocked(int pool, const char *key)
{
	int			idx = pool_lookup_partition(pool, key);
	int			i;

	Assert(LWLockHeldByMeInMode(&PoolShared->lock, LW_EXCLUSIVE));
	if (idx < 0 && !pool_partition_fits(key))
		return -1;
	for (i = 0; idx < 0 && i < PoolShared->npartitions; i++)
	{
		PartitionEntry *part = &PoolShared->partitions[i];
		int			prio;

		if (part->in_use)
			continue;
		memset(part, 0, sizeof(PartitionEntry));
		for (prio = 0; prio < PGPOOL_NPRIORITIES; prio++)
			dlist_init(&part->waiters[prio]);
		dlist_init(&part->idle);
		part->pool = pool;
		strlcpy(part->key, key, PGPOOL_NAME_LEN);
		part->in_use = true;
		StatsResetPartition(PoolPartitionStats(i));
		UsageResetPartition(i);
		idx = i;
	}
	return idx;
}

/*
 * PoolSetSlotState
 *		The one state-transition function for slots; it also brings the
 *		partition's usage (time-weighted slot counts, shm/usage.h) up to date.
 *
 * Caller must hold the lock of the slot's pool exclusively.
 */
void
PoolSetSlotState(int slotno, PoolSlotState newstate)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolSlotState old = slot->state;
	PoolEntry  *pool;
	PartitionEntry *part;

	Assert(slot->pool >= 0);
	pool = &PoolShared->pools[slot->pool];
	part = &PoolShared->partitions[slot->partition];
	Assert(LWLockHeldByMeInMode(&pool->lock, LW_EXCLUSIVE));

	if (old == newstate)
		return;
	if (slot->listed)
		dlist_delete(&slot->idle_node);
	slot->listed = (newstate == SLOT_IDLE);
	if (slot->listed)
		dlist_push_head(&part->idle, &slot->idle_node);

	part->count[old]--;
	part->count[newstate]++;
	pool->nconns += (int) PoolSlotHasConnection(newstate) -
		(int) PoolSlotHasConnection(old);
	pool->nconnecting += (int) (newstate == SLOT_CONNECTING) -
		(int) (old == SLOT_CONNECTING);
	pool->nclosing += (int) (newstate == SLOT_CLOSING) -
		(int) (old == SLOT_CLOSING);
	slot->state = newstate;
	UsageSync(slot->partition);
}

/*
 * PoolSeedHandles
 *		Seed this process's generator of handle numbers from a strong
 *		source, once.  Backends call it before they take any lock; other
 *		processes that claim slots (the worker hands over new connections)
 *		are seeded on their first claim.
 */
void
PoolSeedHandles(void)
{
	if (handle_prng_seeded)
		return;
	if (!pg_prng_strong_seed(&handle_prng))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random pgpool_ext handle")));
	handle_prng_seeded = true;
}

/*
 * pool_new_handle
 *		A new handle number for slotno: a random, non-zero 47-bit number
 *		above the slot index, so the handle is a positive bigint.
 */
static int64
pool_new_handle(int slotno)
{
	uint64		r;

	PoolSeedHandles();
	do
	{
		r = pg_prng_uint64(&handle_prng) >> (64 - PGPOOL_HANDLE_RANDOM_BITS);
	} while (r == 0);
	return (int64) ((r << PGPOOL_HANDLE_SLOT_BITS) | (uint64) slotno);
}

/*
 * PoolClaimSlot
 *		Make procno the holder of a connected slot, with a new generation
 *		and a new handle number.
 *
 * Caller must hold the pool lock exclusively.
 */
void
PoolClaimSlot(int slotno, int procno, int pid, Oid role, bool role_superuser,
			  PoolScope scope)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];

	slot->generation++;
	if (slot->generation == 0)
		slot->generation = 1;
	slot->handle = pool_new_handle(slotno);
	slot->holder_procno = procno;
	slot->holder_pid = pid;
	slot->holder_role = role;
	slot->holder_superuser = role_superuser;
	slot->scope = scope;
	slot->acquired_at = PoolSlotClock();
	slot->last_used_at = slot->acquired_at;
	slot->dirty = false;
	slot->uses++;
	StatsCount(&PoolShared->pools[slot->pool].stats, STAT_ACQUIRES);
	UsageCount(slot->partition, USAGE_ACQUIRES);
	PoolSetSlotState(slotno, SLOT_ACQUIRED);
}

/*
 * PoolHandOver
 *		A connected slot nobody holds any more: give it to the first waiter
 *		of its partition, or make it idle; unless policy says to close it
 *		(PolicyFreeSlotFate: a dropped pool, an older definition, above a
 *		lowered max_size).
 *
 *		A used slot whose reset is pending (reset_pending) is SLOT_RESETTING
 *		until the worker has reset it, but rather than wait for that the
 *		first waiter gets it now: its first request waits in the worker
 *		until the reset is done.  With nobody waiting it goes to the tail of
 *		the idle list, where acquire takes it only when no idle connection
 *		is left.
 *
 * Caller must hold the pool lock exclusively.
 */
void
PoolHandOver(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolEntry  *pool = &PoolShared->pools[slot->pool];
	PartitionEntry *part = &PoolShared->partitions[slot->partition];
	BackendEntry *be;

	slot->handle = 0;
	slot->holder_procno = -1;
	slot->holder_pid = 0;
	if (PolicyFreeSlotFate(pool, slot) != CLOSE_KEEP)
	{
		PoolSetSlotState(slotno, SLOT_CLOSING);
		PoolWakeWorker();
		return;
	}
	if (slot->reset_pending)
		PoolSetSlotState(slotno, SLOT_RESETTING);

	be = WaitqPopFirst(part);
	if (be != NULL)
		pool_grant(slotno, be);
	else if (slot->reset_pending)
	{
		Assert(!slot->listed);
		dlist_push_tail(&part->idle, &slot->idle_node);
		slot->listed = true;
	}
	else
		PoolSetSlotState(slotno, SLOT_IDLE);
}

/* Give slotno to waiter be, just taken off its queue, and wake it. */
static void
pool_grant(int slotno, BackendEntry *be)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];

	PoolShared->pools[slot->pool].nwaiting--;
	PoolClaimSlot(slotno, be - PoolShared->backends, be->pid, be->wait_role,
				  be->wait_superuser, be->wait_scope);
	be->granted_slot = slotno;
	SetLatch(&GetPGProcByNumber(be - PoolShared->backends)->procLatch);
}

/*
 * PoolAllocSlot
 *		Take a free slot for a new connection of pool/partition, in state
 *		CONNECTING; -1 if every slot is in use.
 *
 * Takes the global and the pool lock; caller holds neither.
 */
int
PoolAllocSlot(int pool, int partition)
{
	int			i;
	int			found = -1;

	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool >= 0)
			continue;
		slot->pool = pool;
		slot->partition = partition;
		slot->state = SLOT_FREE;
		slot->handle = 0;
		slot->holder_procno = -1;
		slot->holder_pid = 0;
		slot->dirty = false;
		slot->reset_pending = false;
		slot->listed = false;
		slot->uses = 0;
		slot->remote_pid = 0;
		slot->used_password = false;
		slot->def_version = PoolShared->pools[pool].def_version;
		slot->created_at = PoolSlotClock();
		slot->last_used_at = slot->created_at;
		PoolShared->partitions[partition].count[SLOT_FREE]++;
		PoolSetSlotState(i, SLOT_CONNECTING);
		found = i;
		break;
	}
	LWLockRelease(PoolLock(pool));
	LWLockRelease(&PoolShared->lock);
	return found;
}

/*
 * PoolFreeSlot
 *		Take a slot out of its pool (its connection is gone).
 *
 * Takes the global and the pool lock; caller holds neither.
 */
void
PoolFreeSlot(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;

	if (pool < 0)
		return;
	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	PoolSetSlotState(slotno, SLOT_FREE);
	PoolShared->partitions[slot->partition].count[SLOT_FREE]--;
	slot->generation++;
	slot->handle = 0;
	slot->holder_procno = -1;
	slot->holder_pid = 0;
	slot->pool = -1;
	slot->partition = -1;
	slot->remote_pid = 0;
	LWLockRelease(PoolLock(pool));
	LWLockRelease(&PoolShared->lock);
	/* the pool may be below its minimum, or have waiters: look */
	pg_atomic_write_u32(&PoolShared->janitor_wanted, 1);
}

/*
 * PoolSlotClock
 *		The time for slot bookkeeping (created_at, acquired_at,
 *		last_used_at): the coarse clock (common/clock.h), shared with the
 *		usage statistics.  An idle timeout may fire a tick sooner.
 */
TimestampTz
PoolSlotClock(void)
{
	return CoarseClock();
}

/*
 * PoolWakeWorker
 *		Set the pool worker's latch, if it runs.
 */
void
PoolWakeWorker(void)
{
	Latch	   *latch = PoolShared->worker_latch;

	if (latch != NULL)
		SetLatch(latch);
}

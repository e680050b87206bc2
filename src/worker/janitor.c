/*-------------------------------------------------------------------------
 *
 * janitor.c
 *	  Periodic maintenance of the pools: sizes, idle timeouts, connect
 *	  timeouts, recycling and dropping.
 *
 * Time-based and demand-based policy lives here and only here.  When
 * something changed (a backend queued, a connection went away, definitions
 * were loaded), while work is pending, and every maintenance_interval, the
 * janitor looks at every pool: it opens connections
 * toward min_size (initial_size once, at creation) and for partitions whose
 * waiters outnumber the connections on their way (connecting or being
 * reset), within max_size, pgpool_ext.max_concurrent_connects and the
 * pool's connect backoff; when a full pool has waiters in one partition and
 * idle connections in another, it closes one of those to make room; when
 * a pool with waiters cannot open a connection because every slot
 * (pgpool_ext.max_connections) is taken, it closes the least recently used
 * idle connection of another pool that has more than its min_size.  Idle
 * connections above a lowered max_size are closed at once.  Every
 * maintenance_interval it also closes connections idle for longer than
 * idle_timeout (down to min_size) or opened with an older definition, and
 * gives up on connects, cancels and resets that take longer than
 * connect_timeout.  Dropped pools are
 * emptied and their entries freed once nothing refers to them.  At every
 * turn it also gives the leak pass its chance (worker/leaks.c: handles held
 * past their pool's leak_threshold), which keeps its own deadlines.
 *
 * Locking: decisions are taken under the pool lock; the resulting connects
 * and closes run after it is released.
 *
 * src/worker/janitor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/cancel.h"
#include "worker/conn.h"
#include "common/guc.h"
#include "shm/pool.h"
#include "worker/leaks.h"
#include "worker/worker.h"

#define JANITOR_BUSY_TIMEOUT_MS 100

static int *initial_pending = NULL;
static TimestampTz next_sweep = 0;
static bool busy = false;

static void janitor_pool(int p, bool sweep, int *connecting);
static void janitor_drop(int p);
static void janitor_connect_timeouts(TimestampTz now, int *connecting);
static bool janitor_free_slot_for(int p);

/* Remember that a new pool should open initial connections. */
void
JanitorSetInitial(int pool, int initial)
{
	if (initial_pending == NULL)
		initial_pending = MemoryContextAllocZero(TopMemoryContext,
												 sizeof(int) * PoolShared->npools);
	initial_pending[pool] = initial;
}

/*
 * JanitorTimeout
 *		How long the worker may sleep before the janitor must look again.
 */
long
JanitorTimeout(void)
{
	return Min(busy ? JANITOR_BUSY_TIMEOUT_MS : pgpool_maintenance_interval,
			   LeaksTimeout());
}

/*
 * JanitorRun
 *		One maintenance pass over every pool.
 */
void
JanitorRun(void)
{
	TimestampTz now;
	bool		sweep;
	bool		wanted = pg_atomic_exchange_u32(&PoolShared->janitor_wanted, 0) != 0;
	int			connecting = 0;
	int			p;

	/*
	 * Most turns of the loop serve a query: skip the pass unless something
	 * changed (a waiter queued, a connection went away, definitions were
	 * loaded), work is pending (connects, unmet demand), or the sweep is due.
	 */
	now = GetCurrentTimestamp();
	LeaksCheck(now);			/* leak reports and reclaim: worker/leaks.c */
	sweep = now >= next_sweep;
	if (!wanted && !busy && !sweep)
		return;

	if (initial_pending == NULL)
		JanitorSetInitial(0, 0);
	if (sweep)
		next_sweep = TimestampTzPlusMilliseconds(now, pgpool_maintenance_interval);
	janitor_connect_timeouts(now, &connecting);
	CancelExpire(now);
	busy = connecting > 0 || CancelCount() > 0;
	for (p = 0; p < PoolShared->npools; p++)
	{
		PoolEntry  *pool = &PoolShared->pools[p];

		if (!pool->in_use)
			continue;
		if (pool->dropping)
			janitor_drop(p);
		else
			janitor_pool(p, sweep || wanted, &connecting);
	}
}

/* Count connects in flight; fail those past their pool's timeout. */
static void
janitor_connect_timeouts(TimestampTz now, int *connecting)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		WorkerConn *wc = &WorkerConns[i];
		int			limit;

		if (wc->phase != CONN_CONNECTING && wc->phase != CONN_DRAIN &&
			wc->phase != CONN_RESET && wc->phase != CONN_RESOLVING)
			continue;
		limit = PoolShared->pools[wc->pool].def.connect_timeout_ms;
		if (limit > 0 && TimestampDifferenceExceeds(wc->phase_start, now, limit))
		{
			if (wc->phase == CONN_RESOLVING)
				ConnFailConnect(i, "timeout expired while resolving the host name");
			else if (wc->phase == CONN_CONNECTING)
				ConnFailConnect(i, "timeout expired");
			else
				ConnCloseSlot(i, wc->phase == CONN_RESET ?
							  "remote server did not complete the reset in time" :
							  "remote server did not answer the cancel request");
			continue;
		}
		if (wc->phase == CONN_CONNECTING || wc->phase == CONN_RESOLVING)
			(*connecting)++;
	}
}

/*
 * janitor_pool
 *		Decide connects and closes for one live pool, then do them.
 */
static void
janitor_pool(int p, bool sweep, int *connecting)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	TimestampTz now = GetCurrentTimestamp();
	int		   *open_for = palloc(sizeof(int) * (pool->def.max_size + 1));
	bool	   *for_waiters = palloc(sizeof(bool) * (pool->def.max_size + 1));
	int		   *close = palloc(sizeof(int) * (PoolShared->nslots + 1));
	int			nopen = 0;
	int			nclose = 0;
	int			total;
	int			want;
	int			starved = -1;
	int			i;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	total = pool->nconns;
	want = Max(pool->def.min_size, initial_pending[p]);
	if (initial_pending[p] > 0 && total >= initial_pending[p])
		initial_pending[p] = 0;

	/* idle connections that are too old or opened with an old definition */
	for (i = 0; sweep && i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		bool		stale;

		if (slot->pool != p || slot->state != SLOT_IDLE)
			continue;
		stale = slot->def_version != pool->def_version;
		if (stale || (pool->def.idle_timeout_ms > 0 && total > pool->def.min_size &&
					  TimestampDifferenceExceeds(slot->last_used_at, now,
												 pool->def.idle_timeout_ms)))
		{
			PoolSetSlotState(i, SLOT_CLOSING);
			close[nclose++] = i;
			total--;
		}
	}

	/* idle connections above a lowered max_size: close them now */
	for (i = 0; PoolOverMax(pool) && i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool != p || slot->state != SLOT_IDLE)
			continue;
		PoolSetSlotState(i, SLOT_CLOSING);
		close[nclose++] = i;
		total--;
	}

	/* connections wanted: waiters first, then the minimum size */
	for (i = 0; i < PoolShared->npartitions; i++)
	{
		PartitionEntry *part = &PoolShared->partitions[i];
		int			need;

		if (!part->in_use || part->pool != p)
			continue;
		need = part->nwaiting - part->count[SLOT_CONNECTING] -
			part->count[SLOT_RESETTING];
		if (i == pool->default_partition)
			need = Max(need, want - total);
		if (need > 0)
			busy = true;
		while (need-- > 0 && total < pool->def.max_size &&
			   *connecting < pgpool_max_concurrent_connects &&
			   now >= pool->next_connect_at)
		{
			for_waiters[nopen] = part->nwaiting > 0;
			open_for[nopen++] = i;
			total++;
			(*connecting)++;
		}
		if (need >= 0 && total >= pool->def.max_size)
			starved = i;
	}

	/* full pool, starved partition: close an idle one elsewhere */
	for (i = 0; starved >= 0 && i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool == p && slot->state == SLOT_IDLE && slot->partition != starved &&
			PoolShared->partitions[slot->partition].nwaiting == 0)
		{
			PoolSetSlotState(i, SLOT_CLOSING);
			close[nclose++] = i;
			break;
		}
	}
	LWLockRelease(&pool->lock);

	for (i = 0; i < nclose; i++)
		ConnCloseSlot(close[i], "idle");
	for (i = 0; i < nopen; i++)
	{
		/* a connect that failed at once has set a backoff: respect it */
		if (pool->next_connect_at > GetCurrentTimestamp())
			break;
		if (ConnStartConnect(p, open_for[i]))
			continue;
		/* every slot is taken: waiters may have another pool's idle one */
		if (!for_waiters[i] || !janitor_free_slot_for(p) ||
			!ConnStartConnect(p, open_for[i]))
			break;
	}
	pfree(open_for);
	pfree(for_waiters);
	pfree(close);
}

/*
 * janitor_free_slot_for
 *		Every slot is in use and pool p has waiters: close the least
 *		recently used idle connection of another pool that has more
 *		connections than its min_size and no waiter in that partition, so
 *		that p can open one.  Returns whether one was closed.  Nothing is
 *		closed while a slot is already closing: it will be free soon.
 *
 * Takes the victim's pool lock; the caller holds no pgpool_ext lock.
 */
static bool
janitor_free_slot_for(int p)
{
	int			victim = -1;
	TimestampTz oldest = 0;
	PoolEntry  *vpool;
	SlotEntry  *slot;
	bool		ok;
	int			i;

	/* candidates read without locks; the choice is checked below */
	for (i = 0; i < PoolShared->nslots; i++)
	{
		PoolEntry  *other;
		int			q;

		slot = &PoolShared->slots[i];
		q = slot->pool;
		if (q >= 0 && slot->state == SLOT_CLOSING)
			return false;
		if (q < 0 || q == p || slot->state != SLOT_IDLE)
			continue;
		other = &PoolShared->pools[q];
		if (other->nconns - other->nclosing <= other->def.min_size ||
			PoolShared->partitions[slot->partition].nwaiting > 0)
			continue;
		if (victim < 0 || slot->last_used_at < oldest)
		{
			victim = i;
			oldest = slot->last_used_at;
		}
	}
	if (victim < 0)
		return false;

	slot = &PoolShared->slots[victim];
	i = slot->pool;
	if (i < 0)
		return false;
	vpool = &PoolShared->pools[i];
	LWLockAcquire(&vpool->lock, LW_EXCLUSIVE);
	ok = slot->pool == i && slot->state == SLOT_IDLE &&
		vpool->nconns - vpool->nclosing > vpool->def.min_size &&
		PoolShared->partitions[slot->partition].nwaiting == 0;
	if (ok)
		PoolSetSlotState(victim, SLOT_CLOSING);
	LWLockRelease(&vpool->lock);
	if (!ok)
		return false;
	ereport(DEBUG1,
			(errmsg_internal("pgpool_ext: closing an idle connection of pool \"%s\" for pool \"%s\": every slot is in use",
							 vpool->name, PoolShared->pools[p].name)));
	ConnCloseSlot(victim, "idle, closed for another pool");
	return true;
}

/*
 * janitor_drop
 *		Close every connection of a dropped pool; free the entry and its
 *		partitions once no slot and no waiter refers to them.
 */
static void
janitor_drop(int p)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	bool		referenced = false;
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool != p)
			continue;
		if (WorkerConns[i].phase != CONN_NONE)
			ConnCloseSlot(i, "pool was dropped");
		if (slot->pool == p)
			referenced = true;
	}
	if (referenced || pool->nwaiting > 0)
		return;

	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	for (i = 0; i < PoolShared->npartitions; i++)
		if (PoolShared->partitions[i].pool == p)
			PoolShared->partitions[i].in_use = false;
	pool->in_use = false;
	pool->dropping = false;
	initial_pending[p] = 0;
	LWLockRelease(&pool->lock);
	LWLockRelease(&PoolShared->lock);
}

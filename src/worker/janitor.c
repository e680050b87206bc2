/*-------------------------------------------------------------------------
 *
 * janitor.c
 *	  Periodic maintenance of the pools: sizes, idle timeouts, connect
 *	  timeouts and dropping.
 *
 * The janitor is "when", policy is "what": this file decides when to look
 * and acts; every rule it applies (which idle connection to close and why,
 * how many connects a partition wants and whether one may start now, which
 * pool may spare a connection, whether a wait has lasted too long) is a
 * function of shm/policy.c.  When something changed (a backend queued, a
 * connection went away, definitions were loaded), while work is pending,
 * and every maintenance_interval, the janitor looks at every pool: it opens
 * connections toward min_size (initial_size once, at creation) and for
 * partitions whose waiters outnumber the connections on their way
 * (connecting or being reset), within max_size,
 * pgpool_ext.max_concurrent_connects and the pool's connect backoff; when a
 * full pool has waiters in one partition and idle connections in another,
 * it closes one of those to make room; when a pool with waiters cannot open
 * a connection because every slot (pgpool_ext.max_connections) is taken, it
 * closes the least recently used idle connection of another pool that has
 * more than its min_size.  Idle connections above a lowered max_size are
 * closed at once.  Every maintenance_interval it also closes connections
 * idle for longer than idle_timeout (down to min_size) or opened with an
 * older definition, and gives up on connects, cancels and resets that take
 * longer than connect_timeout.  Dropped pools are emptied and their entries
 * freed once nothing refers to them.  At every pass it
 * also readies the next minute of the latency rings (StatsRotate).
 * freed once nothing refers to them.  At every turn it also gives the leak
 * pass its chance (worker/leaks.c: handles held past their pool's
 * leak_threshold), which keeps its own deadlines.
 *
 * Locking: decisions are taken under the pool lock (a JanitorPlan per
 * pool); the resulting connects and closes run after it is released.
 * janitor_free_slot_for() takes the victim's pool lock itself.
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
#include "shm/policy.h"
#include "shm/pool.h"
#include "shm/usage.h"
#include "worker/janitor.h"
#include "worker/leaks.h"

#define JANITOR_BUSY_TIMEOUT_MS 100

/* What one pass decided for a pool, done once its lock is released. */
typedef struct JanitorPlan
{
	int		   *close;			/* slots marked CLOSING */
	PolicyClose *why;			/* why each is closed */
	int			nclose;
	int		   *open_for;		/* a partition for each connect to start */
	bool	   *for_waiters;	/* that connect is for waiters */
	int			nopen;
} JanitorPlan;

static int *initial_pending = NULL;
static TimestampTz next_sweep = 0;
static bool busy = false;

static void janitor_pool(int p, bool sweep, int *connecting);
static void janitor_mark_close(JanitorPlan *plan, int slotno, PolicyClose why);
static int	janitor_plan_closes(int p, bool sweep, TimestampTz now, int total,
								JanitorPlan *plan);
static int	janitor_plan_opens(int p, int want, int total, TimestampTz now,
							   int *connecting, JanitorPlan *plan);
static void janitor_plan_starved(int p, int starved, JanitorPlan *plan);
static void janitor_run_plan(int p, JanitorPlan *plan);
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
	StatsRotate(PoolShared->partition_stats, PoolShared->npartitions,
				now);
	UsageRotate(now);
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
		int			pool;
		TimestampTz since;
		ConnWait	wait = ConnWaiting(i, &pool, &since);

		if (wait == CONN_WAIT_NONE)
			continue;
		if (PolicyConnectTimedOut(&PoolShared->pools[pool], since, now))
		{
			ConnGiveUp(i, wait);
			continue;
		}
		if (wait == CONN_WAIT_CONNECT || wait == CONN_WAIT_RESOLVE)
			(*connecting)++;
	}
}

/*
 * janitor_mark_close
 *		Plan the close of slotno, an idle connection of the pool whose lock
 *		is held exclusively: CLOSING now, so that nobody takes it.
 */
static void
janitor_mark_close(JanitorPlan *plan, int slotno, PolicyClose why)
{
	PoolSetSlotState(slotno, SLOT_CLOSING);
	plan->why[plan->nclose] = why;
	plan->close[plan->nclose++] = slotno;
}

/*
 * janitor_plan_closes
 *		Idle connections of pool p to close: on a sweep those policy does
 *		not keep (stale, idle too long), and any above a lowered max_size.
 *		Returns total less the connections closed.  Caller holds the pool
 *		lock exclusively.
 */
static int
janitor_plan_closes(int p, bool sweep, TimestampTz now, int total,
					JanitorPlan *plan)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	int			i;

	for (i = 0; sweep && i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		PolicyClose why;

		if (slot->pool != p || slot->state != SLOT_IDLE)
			continue;
		why = PolicyIdleFate(pool, slot, total, now);
		if (why != CLOSE_KEEP)
		{
			janitor_mark_close(plan, i, why);
			total--;
		}
	}
	for (i = 0; PolicyOverMax(pool) && i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool != p || slot->state != SLOT_IDLE)
			continue;
		janitor_mark_close(plan, i, CLOSE_OVER_MAX);
		total--;
	}
	return total;
}

/*
 * janitor_plan_opens
 *		Connects to start for pool p, which has total connections: for
 *		each partition what policy says it wants (waiters first; the default
 *		partition up to want), within what policy allows now.  Returns a
 *		partition left short in a full pool, or -1.  Caller holds the pool
 *		lock exclusively.
 */
static int
janitor_plan_opens(int p, int want, int total, TimestampTz now,
				   int *connecting, JanitorPlan *plan)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	int			starved = -1;
	int			i;

	for (i = 0; i < PoolShared->npartitions; i++)
	{
		PartitionEntry *part = &PoolShared->partitions[i];
		int			need;

		if (!part->in_use || part->pool != p)
			continue;
		need = PolicyConnectsWanted(pool, part, i == pool->default_partition,
									want, total);
		if (need > 0)
			busy = true;
		while (need-- > 0 && PolicyMayOpen(pool, total, *connecting, now))
		{
			plan->for_waiters[plan->nopen] = part->nwaiting > 0;
			plan->open_for[plan->nopen++] = i;
			total++;
			(*connecting)++;
		}
		if (need >= 0 && total >= pool->def.max_size)
			starved = i;
	}
	return starved;
}

/*
 * janitor_plan_starved
 *		Pool p is full and partition starved wants a connection: plan the
 *		close of one idle connection of a partition nobody waits in.  Caller
 *		holds the pool lock exclusively.
 */
static void
janitor_plan_starved(int p, int starved, JanitorPlan *plan)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];

		if (slot->pool == p && slot->state == SLOT_IDLE && slot->partition != starved &&
			PoolShared->partitions[slot->partition].nwaiting == 0)
		{
			janitor_mark_close(plan, i, CLOSE_FOR_PARTITION);
			break;
		}
	}
}

/*
 * janitor_run_plan
 *		Do what was planned for pool p, its lock released: the closes, then
 *		the connects while the backoff allows.
 */
static void
janitor_run_plan(int p, JanitorPlan *plan)
{
	PoolEntry  *pool = &PoolShared->pools[p];
	int			i;

	for (i = 0; i < plan->nclose; i++)
		ConnCloseSlot(plan->close[i], plan->why[i]);
	for (i = 0; i < plan->nopen; i++)
	{
		/* a connect that failed at once has set a backoff: respect it */
		if (!PolicyMayConnect(pool, GetCurrentTimestamp()))
			break;
		if (ConnConnectStart(p, plan->open_for[i]))
			continue;
		/* every slot is taken: waiters may have another pool's idle one */
		if (!plan->for_waiters[i] || !janitor_free_slot_for(p) ||
			!ConnConnectStart(p, plan->open_for[i]))
			break;
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
	JanitorPlan plan;
	int			total;
	int			want;
	int			starved;

	plan.open_for = palloc(sizeof(int) * (pool->def.max_size + 1));
	plan.for_waiters = palloc(sizeof(bool) * (pool->def.max_size + 1));
	plan.close = palloc(sizeof(int) * (PoolShared->nslots + 1));
	plan.why = palloc(sizeof(PolicyClose) * (PoolShared->nslots + 1));
	plan.nopen = 0;
	plan.nclose = 0;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	total = pool->nconns;
	want = Max(pool->def.min_size, initial_pending[p]);
	if (initial_pending[p] > 0 && total >= initial_pending[p])
		initial_pending[p] = 0;
	total = janitor_plan_closes(p, sweep, now, total, &plan);
	starved = janitor_plan_opens(p, want, total, now, connecting, &plan);
	if (starved >= 0)
		janitor_plan_starved(p, starved, &plan);
	LWLockRelease(&pool->lock);

	janitor_run_plan(p, &plan);
	pfree(plan.open_for);
	pfree(plan.for_waiters);
	pfree(plan.close);
	pfree(plan.why);
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
		if (!PolicyMaySpare(other, &PoolShared->partitions[slot->partition]))
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
		PolicyMaySpare(vpool, &PoolShared->partitions[slot->partition]);
	if (ok)
		PoolSetSlotState(victim, SLOT_CLOSING);
	LWLockRelease(&vpool->lock);
	if (!ok)
		return false;
	ereport(DEBUG1,
			(errmsg_internal("pgpool_ext: closing an idle connection of pool \"%s\" for pool \"%s\": every slot is in use",
							 vpool->name, PoolShared->pools[p].name)));
	ConnCloseSlot(victim, CLOSE_FOR_POOL);
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
		if (ConnInUse(i))
			ConnCloseSlot(i, CLOSE_DROPPED);
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

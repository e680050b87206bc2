/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  Pool definitions, as the pool worker read them (load.c), applied to
 *	  shared memory.
 *
 * A definition of a new name takes a free pool entry; one of a known name
 * replaces the entry's definition (a new conninfo recycles the pool's
 * connections: def_version); a pool whose definition is gone, or was
 * dropped and created again (another created_at), is dropped: marked
 * dropping, its waiters woken; the janitor closes its connections and
 * frees the entry.  A refused definition (LoadVerdict) leaves its pool as
 * it was, minus revoked grants, or is not loaded.
 *
 * Locking: ApplyDefinitions holds the global lock exclusively throughout
 * and takes each pool's lock, exclusively, to change it (shmem.h's order).
 *
 * src/worker/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/latch.h"
#include "storage/proc.h"

#include "shm/pool.h"
#include "shm/stats.h"
#include "shm/usage.h"
#include "worker/apply.h"
#include "worker/janitor.h"

static void apply_create_pool(int idx, const char *name, PoolDefinition *def);
static void apply_update_pool(int idx, const PoolDefinition *def);
static void apply_drop_pool(int idx);
static void apply_wake_waiters(int pool);
static void apply_keep_revocations(int idx, const LoadedDefinition *ld);

/*
 * ApplyDefinitions
 *		Make shared memory match the definitions just read (all of them,
 *		n): create new pools, update changed ones, start dropping removed
 *		ones.  A refused definition (see LoadVerdict) leaves its pool as it
 *		was, or drops it.  Takes the global lock.
 */
void
ApplyDefinitions(LoadedDefinition *lds, int n)
{
	bool	   *seen = palloc0(sizeof(bool) * PoolShared->npools);
	int			i;

	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
	{
		LoadedDefinition *ld = &lds[i];
		int			idx;

		if (ld->verdict == LOAD_SKIP)
			continue;
		idx = PoolFindByName(ld->name);

		/* same name, another definition: the old pool was dropped */
		if (idx >= 0 && PoolShared->pools[idx].def.created_at != ld->def.created_at)
		{
			apply_drop_pool(idx);
			idx = -1;
		}
		if (ld->verdict == LOAD_KEEP)
		{
			/* keep what the pool had; a new pool is not loaded */
			if (idx >= 0)
			{
				apply_keep_revocations(idx, ld);
				seen[idx] = true;
			}
			continue;
		}
		if (idx < 0)
		{
			for (idx = 0; idx < PoolShared->npools; idx++)
				if (!PoolShared->pools[idx].in_use)
					break;
			if (idx >= PoolShared->npools)
			{
				ereport(WARNING,
						(errmsg("pgpool_ext: pool \"%s\" not loaded: too many pools",
								ld->name),
						 errhint("Increase pgpool_ext.max_pools.")));
				continue;
			}
			apply_create_pool(idx, ld->name, &ld->def);
		}
		else
			apply_update_pool(idx, &ld->def);
		seen[idx] = true;
	}
	for (i = 0; i < PoolShared->npools; i++)
	{
		PoolEntry  *pool = &PoolShared->pools[i];

		if (!pool->in_use || pool->dropping || seen[i])
			continue;
		apply_drop_pool(i);
	}
	LWLockRelease(&PoolShared->lock);
	pfree(seen);
}

/* Put a new pool into a free entry; caller holds the global lock. */
static void
apply_create_pool(int idx, const char *name, PoolDefinition *def)
{
	PoolEntry  *pool = &PoolShared->pools[idx];
	uint32		gen = pool->generation + 1;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	memset((char *) pool + offsetof(PoolEntry, in_use), 0,
		   sizeof(PoolEntry) - offsetof(PoolEntry, in_use));
	pool->generation = gen;
	strlcpy(pool->name, name, PGPOOL_NAME_LEN);
	pool->def = *def;
	pool->def_version = 1;
	StatsReset(&pool->stats);
	UsageResetPool(idx);
	pool->in_use = true;
	LWLockRelease(&pool->lock);
	pool->default_partition = PoolCreatePartitionLocked(idx, "");
	JanitorSetInitial(idx, Max(def->initial_size, def->min_size));
}

/*
 * apply_update_pool
 *		A pool's new definition; a new conninfo recycles its connections
 *		(def_version).  Caller holds the global lock.
 */
static void
apply_update_pool(int idx, const PoolDefinition *def)
{
	PoolEntry  *pool = &PoolShared->pools[idx];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (strcmp(pool->def.conninfo, def->conninfo) != 0)
		pool->def_version++;
	pool->def = *def;
	pool->next_connect_at = 0;
	pool->backoff_ms = 0;
	LWLockRelease(&pool->lock);
}

/* Start dropping a pool; caller holds the global lock. */
static void
apply_drop_pool(int idx)
{
	PoolEntry  *pool = &PoolShared->pools[idx];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	pool->dropping = true;
	apply_wake_waiters(idx);
	LWLockRelease(&pool->lock);
}

/* Wake every backend queued on a pool (it was dropped). */
static void
apply_wake_waiters(int pool)
{
	int			p;
	int			prio;
	dlist_iter	iter;

	for (p = 0; p < PoolShared->npartitions; p++)
	{
		PartitionEntry *part = &PoolShared->partitions[p];

		if (!part->in_use || part->pool != pool)
			continue;
		for (prio = 0; prio < PGPOOL_NPRIORITIES; prio++)
			dlist_foreach(iter, &part->waiters[prio])
			{
				BackendEntry *be = dlist_container(BackendEntry, wait_node, iter.cur);

				SetLatch(&GetPGProcByNumber(be - PoolShared->backends)->procLatch);
			}
	}
}

/*
 * apply_keep_revocations
 *		A pool keeps its previous definition (the new one was refused), but
 *		not a grant the table no longer holds: a revocation always applies.
 *		Caller holds the global lock.
 */
static void
apply_keep_revocations(int idx, const LoadedDefinition *ld)
{
	PoolEntry  *pool = &PoolShared->pools[idx];
	int			kept = 0;
	int			g;
	int			j;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	for (g = 0; g < pool->def.ngrants; g++)
	{
		for (j = 0; j < ld->ngrants; j++)
			if (ld->grants[j] == pool->def.grants[g])
				break;
		if (j < ld->ngrants)
			pool->def.grants[kept++] = pool->def.grants[g];
	}
	pool->def.ngrants = kept;
	LWLockRelease(&pool->lock);
}

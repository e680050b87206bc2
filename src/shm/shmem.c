/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Sizing and initialisation of pgpool_ext's shared memory.
 *
 * One segment, requested from the shmem_request_hook and carved at
 * startup into the arrays described in shmem.h.  Backends reach it
 * through PoolShared; when the library was not preloaded PoolShared is
 * NULL and PoolShmemCheckPreloaded() refuses every SQL function.
 *
 * Locking: see shmem.h.  Initialisation runs under AddinShmemInitLock.
 *
 * src/shm/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/shmem.h"

PoolSharedState *PoolShared = NULL;

static Size pool_shmem_size(void);
static Size pool_channel_bytes(void);

/* Bytes of one backend's channel: request queue then response queue. */
static Size
pool_channel_bytes(void)
{
	return MAXALIGN(PGPOOL_REQUEST_QUEUE_SIZE) +
		MAXALIGN((Size) pgpool_channel_size * 1024);
}

/* Total size of the segment. */
static Size
pool_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(PoolSharedState));
	int			nbackends = MaxBackends + NUM_AUXILIARY_PROCS;

	size = add_size(size, mul_size(pgpool_max_pools, MAXALIGN(sizeof(PoolEntry))));
	size = add_size(size, mul_size(pgpool_max_partitions + pgpool_max_pools,
								   MAXALIGN(sizeof(PartitionEntry))));
	size = add_size(size, mul_size(pgpool_max_connections,
								   MAXALIGN(sizeof(SlotEntry))));
	size = add_size(size, mul_size(nbackends, MAXALIGN(sizeof(BackendEntry))));
	size = add_size(size, mul_size(nbackends, pool_channel_bytes()));
	size = add_size(size, StatsLatencyShmemSize(pgpool_max_partitions +
												pgpool_max_pools));
	return size;
}

/*
 * PoolShmemRequest
 *		shmem_request_hook: ask for our segment.
 */
void
PoolShmemRequest(void)
{
	RequestAddinShmemSpace(pool_shmem_size());
}

/*
 * PoolShmemStartup
 *		shmem_startup_hook: attach to (and in the postmaster, build) the
 *		segment.
 */
void
PoolShmemStartup(void)
{
	bool		found;
	char	   *ptr;
	int			i;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	PoolShared = ShmemInitStruct("pgpool_ext", pool_shmem_size(), &found);
	if (!found)
	{
		PoolSharedState *s = PoolShared;

		memset(s, 0, sizeof(PoolSharedState));
		s->tranche_id = LWLockNewTrancheId();
		LWLockInitialize(&s->lock, s->tranche_id);
		pg_atomic_init_u64(&s->config_requested, 1);
		pg_atomic_init_u64(&s->config_loaded, 0);
		pg_atomic_init_u64(&s->config_deferred, 0);
		pg_atomic_init_u32(&s->janitor_wanted, 1);
		ConditionVariableInit(&s->config_cv);
		s->npools = pgpool_max_pools;
		/* one default partition per pool on top of max_partitions keys */
		s->npartitions = pgpool_max_partitions + pgpool_max_pools;
		s->nslots = pgpool_max_connections;
		s->nbackends = MaxBackends + NUM_AUXILIARY_PROCS;
		s->channel_size = (Size) pgpool_channel_size * 1024;

		ptr = (char *) s + MAXALIGN(sizeof(PoolSharedState));
		s->pools = (PoolEntry *) ptr;
		ptr += mul_size(s->npools, MAXALIGN(sizeof(PoolEntry)));
		s->partitions = (PartitionEntry *) ptr;
		ptr += mul_size(s->npartitions, MAXALIGN(sizeof(PartitionEntry)));
		s->slots = (SlotEntry *) ptr;
		ptr += mul_size(s->nslots, MAXALIGN(sizeof(SlotEntry)));
		s->backends = (BackendEntry *) ptr;
		ptr += mul_size(s->nbackends, MAXALIGN(sizeof(BackendEntry)));
		s->channels = ptr;
		ptr += mul_size(s->nbackends, pool_channel_bytes());
		s->partition_stats = (PartitionStats *) ptr;
		StatsLatencyShmemInit(s->partition_stats, s->npartitions);

		for (i = 0; i < s->npools; i++)
		{
			memset(&s->pools[i], 0, sizeof(PoolEntry));
			LWLockInitialize(&s->pools[i].lock, s->tranche_id);
		}
		memset(s->partitions, 0, mul_size(s->npartitions, sizeof(PartitionEntry)));
		for (i = 0; i < s->nslots; i++)
		{
			SlotEntry  *slot = &s->slots[i];

			memset(slot, 0, sizeof(SlotEntry));
			slot->pool = -1;
			slot->partition = -1;
			slot->holder_procno = -1;
		}
		for (i = 0; i < s->nbackends; i++)
		{
			BackendEntry *be = &s->backends[i];

			memset(be, 0, sizeof(BackendEntry));
			be->granted_slot = -1;
			SpinLockInit(&be->mutex);
		}
	}
	LWLockRelease(AddinShmemInitLock);
	LWLockRegisterTranche(PoolShared->tranche_id, "pgpool_ext");
}

/*
 * PoolShmemRequestQueue / PoolShmemResponseQueue
 *		Address of a backend's queues in the segment.
 */
shm_mq *
PoolShmemRequestQueue(int procno)
{
	return (shm_mq *) (PoolShared->channels + (Size) procno * pool_channel_bytes());
}

shm_mq *
PoolShmemResponseQueue(int procno)
{
	return (shm_mq *) (PoolShared->channels + (Size) procno * pool_channel_bytes() +
					   MAXALIGN(PGPOOL_REQUEST_QUEUE_SIZE));
}

/*
 * PoolShmemCheckPreloaded
 *		Every SQL entry point calls this first.
 */
void
PoolShmemCheckPreloaded(void)
{
	if (PoolShared == NULL)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_PRELOADED),
				 errmsg("pgpool_ext must be loaded via \"shared_preload_libraries\""),
				 errhint("Add pgpool_ext to shared_preload_libraries in postgresql.conf and restart the server.")));
}

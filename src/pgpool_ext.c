/*-------------------------------------------------------------------------
 *
 * pgpool_ext.c
 *	  Module load: configuration parameters, shared memory, pool worker.
 *
 * pgpool_ext must be in shared_preload_libraries: its shared memory and
 * its background worker exist only then.  Loaded any other way it does
 * nothing at all, and every SQL function refuses to run (SQLSTATE 55000).
 *
 * src/pgpool_ext.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"

#include "backend/catalog_hooks.h"
#include "common/guc.h"
#include "backend/handle.h"
#include "shm/leaks.h"
#include "shm/shmem.h"
#include "shm/usage.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void pgpool_shmem_request(void);
static void pgpool_shmem_startup(void);

/* shmem_request_hook */
static void
pgpool_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	PoolShmemRequest();
	LeaksShmemRequest();
	UsageShmemRequest();
}

/* shmem_startup_hook */
static void
pgpool_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	PoolShmemStartup();
	LeaksShmemStartup();
	UsageShmemStartup();
}

/*
 * _PG_init
 *		Module load callback.
 */
void
_PG_init(void)
{
	/*
	 * Loaded later (by CREATE EXTENSION or a function call) there is no
	 * shared memory to size and PGC_POSTMASTER parameters cannot be defined
	 * any more: do nothing, and let every function report 55000.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;
	GucDefineAll();
	HistBoundsInit();			/* no recorder computes the bucket bounds */

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pgpool_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pgpool_shmem_startup;
	WorkerRegister();
	RegisterXactCallback(HandleXactCallback, NULL);
	CatalogHooksInstall();
}

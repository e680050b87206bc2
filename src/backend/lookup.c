/*-------------------------------------------------------------------------
 *
 * lookup.c
 *	  Finding a pool for a backend, and the rules on who may use it.
 *
 * A backend names a pool; this module waits until the pool worker has
 * loaded every definition committed so far (so a pool created by a
 * committed transaction is usable by the very next statement of any
 * session), finds the pool's entry, and checks usage: superusers, roles
 * with the owner's privileges and roles with a grantee's privileges may
 * use it.  handle.c applies these rules at acquire and again on every
 * call on a handle after a reload.
 *
 * Locking: the global lock, shared, to search the pools; nothing is held
 * while catalogs are read (has_privs_of_role) or while waiting for a load
 * (the config condition variable).
 *
 * src/backend/lookup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "backend/lookup.h"
#include "common/compat.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"

/*
 * lookup_config_wait
 *		Wait until the worker has loaded every definition committed so far
 *		(or, with accept_deferred, has at least tried and put the load off
 *		because the definition tables are locked).  If the worker is not
 *		running for a while, error out when must_load, else return.
 */
/*
 * When this backend last began to wait for a definition load (0: it did
 * not wait since LookupWaitedSince last cleared it): acquire counts that
 * wait in the acquire's wait.
 */
static TimestampTz lookup_waited_since = 0;

static void
lookup_config_wait(bool must_load, bool accept_deferred)
{
	uint64		target = pg_atomic_read_u64(&PoolShared->config_requested);
	TimestampTz start;

#define CONFIG_SETTLED() \
	(pg_atomic_read_u64(&PoolShared->config_loaded) >= target || \
	 (accept_deferred && \
	  pg_atomic_read_u64(&PoolShared->config_deferred) >= target))

	if (CONFIG_SETTLED())
		return;
	start = GetCurrentTimestamp();
	if (lookup_waited_since == 0)
		lookup_waited_since = start;
	PoolWakeWorker();
	ConditionVariablePrepareToSleep(&PoolShared->config_cv);
	while (!CONFIG_SETTLED())
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
#undef CONFIG_SETTLED
}

/*
 * LookupWaitedSince
 *		When this backend began to wait for a definition load since the last
 *		call, or 0 if it did not wait; clears it.
 */
TimestampTz
LookupWaitedSince(void)
{
	TimestampTz since = lookup_waited_since;

	lookup_waited_since = 0;
	return since;
}

/*
 * LookupWaitConfigLoaded
 *		Wait until the worker has loaded every definition committed so far,
 *		so that a pool created by a committed transaction is usable by the
 *		very next statement of any session.  If the worker is not running
 *		for a while, error out when must_load, else return.
 */
void
LookupWaitConfigLoaded(bool must_load)
{
	lookup_config_wait(must_load, false);
}

/*
 * LookupWaitConfigTried
 *		Like LookupWaitConfigLoaded(false), but also return once the worker
 *		has put off the load because a definition table is locked: requests
 *		on held handles see a revoke_usage committed before them, yet never
 *		stall behind a LOCK TABLE or VACUUM FULL of the definitions.
 */
void
LookupWaitConfigTried(void)
{
	lookup_config_wait(false, true);
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
 * LookupPoolForUse
 *		Find a pool by name and check that the current role may use it;
 *		returns the config_loaded the check was made with.
 */
uint64
LookupPoolForUse(const char *name, PoolRef *ref)
{
	uint64		loaded;

	LookupWaitConfigLoaded(true);
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
			PoolErrorUnknownPool(name);
		strlcpy(lookup_cache.ref.name, name, PGPOOL_NAME_LEN);
		lookup_cache.loaded = loaded;
	}
	*ref = lookup_cache.ref;

	if (!LookupRoleMayUse(lookup_cache.owner, lookup_cache.ngrants,
						   lookup_cache.grants))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("permission denied for pool \"%s\"", name),
				 errhint("A superuser can grant it with pgpool_ext.grant_usage().")));
	return loaded;
}

/*
 * LookupRoleMayUse
 *		May the current user use a pool with this owner and these grants?
 *		Superusers, roles with the owner's privileges, and roles with the
 *		privileges of a grantee (InvalidOid: PUBLIC) may.  May read
 *		catalogs: call it without holding any pgpool_ext lock.
 */
bool
LookupRoleMayUse(Oid owner, int ngrants, const Oid *grants)
{
	Oid			user = GetUserId();
	int			i;

	if (superuser() || has_privs_of_role(user, owner))
		return true;
	for (i = 0; i < ngrants; i++)
		if (grants[i] == InvalidOid || has_privs_of_role(user, grants[i]))
			return true;
	return false;
}

/*
 * LookupPasswordRequired
 *		The error of dblink's password rule (handle.c checks it), at
 *		acquire and at later checks of a handle.
 */
void
LookupPasswordRequired(const char *pool_name)
{
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
			 errmsg("password is required"),
			 errdetail("Non-superuser cannot use pool \"%s\" because the remote server did not ask for a password.",
					   pool_name),
			 errhint("Target server's authentication method must be changed, or a superuser can create the pool with password_required => false.")));
}

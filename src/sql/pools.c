/*-------------------------------------------------------------------------
 *
 * pools.c
 *	  create_pool, alter_pool and drop_pool.
 *
 * Each writes the pool's row of pgpool_ext.pool_definition in the
 * caller's transaction (definition.c: the database check, the ownership
 * check, the statements with raised rights); the worker applies it after
 * commit.  The options are read, defaulted or merged by the option table
 * (option_args.c) and checked as a whole (OptionsValidate), as the caller,
 * before anything is written.  Connection strings are checked as libpq
 * would check them, without connecting, and never echoed (conninfo.c).
 *
 * Locking: the definition table lock of definition.c, for the whole
 * transaction; drop_pool counts the handles held on the pool under the
 * global lock and the pool's lock, shared.
 *
 * src/sql/pools.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "sql/definition.h"
#include "sql/option_args.h"

PG_FUNCTION_INFO_V1(pgpool_ext_create_pool);
PG_FUNCTION_INFO_V1(pgpool_ext_alter_pool);
PG_FUNCTION_INFO_V1(pgpool_ext_drop_pool);

static uint64 pools_count_defined(const char *name, bool *exists);
static int	pools_count_handles(const char *name);

/*
 * pgpool_ext_create_pool
 *		create_pool(pool_name, conninfo, min_size, max_size, initial_size,
 *					idle_timeout, connect_timeout, reset_query,
 *					password_required, options jsonb)
 *
 * The pool belongs to the current role.  At most pgpool_ext.max_pools
 * definitions: one more could never be loaded (53400).
 */
Datum
pgpool_ext_create_pool(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *owner;
	OptionValues values;
	DefinitionSection ds;
	bool		exists;
	uint64		npools;

	DefinitionCheckDatabase();
	name = DefinitionPoolNameArg(fcinfo);
	OptionArgsRead(fcinfo, &values);
	OptionArgsDefaults(&values);
	OptionsValidate(&values);
	owner = DefinitionLockRole(GetUserId(), NULL);

	DefinitionBegin(&ds);
	npools = pools_count_defined(name, &exists);
	if (!exists && npools < pgpool_max_pools)
		DefinitionStore(name, &values, owner);
	DefinitionEnd(&ds);

	if (exists)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_DUPLICATE_POOL),
				 errmsg("pool \"%s\" already exists", name)));
	if (npools >= pgpool_max_pools)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("cannot create pool \"%s\": too many pools", name),
				 errdetail("%d pools are defined, as many as pgpool_ext.max_pools allows.",
						   (int) npools),
				 errhint("Drop a pool, or raise pgpool_ext.max_pools (this needs a server restart).")));
	PG_RETURN_VOID();
}

/*
 * pools_count_defined
 *		Inside a section: does pool name exist (*exists)?  If not, the
 *		number of pools defined; 0 if it does.
 */
static uint64
pools_count_defined(const char *name, bool *exists)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};

	*exists = DefinitionExec("SELECT 1 FROM pgpool_ext.pool_definition "
							 "WHERE pool_name OPERATOR(pg_catalog.=) $1",
							 1, types, args, NULL) > 0;
	if (*exists)
		return 0;
	return DefinitionExec("SELECT 1 FROM pgpool_ext.pool_definition",
						  0, NULL, NULL, NULL);
}

/*
 * pgpool_ext_alter_pool
 *		alter_pool(pool_name, ...the options of create_pool...): change the
 *		options given, keep the others.
 */
Datum
pgpool_ext_alter_pool(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *owner;
	OptionValues given;
	OptionValues values;
	DefinitionSection ds;

	DefinitionCheckDatabase();
	name = DefinitionPoolNameArg(fcinfo);
	OptionArgsRead(fcinfo, &given);
	DefinitionBegin(&ds);
	owner = DefinitionLoad(&ds, name, &values);
	DefinitionCheckMayManage(name, owner, ds.save_user);
	DefinitionEnd(&ds);

	OptionArgsMerge(&values, &given);
	OptionsValidate(&values);

	DefinitionBegin(&ds);
	DefinitionStore(name, &values, NULL);
	DefinitionEnd(&ds);
	PG_RETURN_VOID();
}

/*
 * pools_count_handles
 *		Number of handles currently held on pool name.  Takes the global
 *		lock and the pool's lock, shared.
 */
static int
pools_count_handles(const char *name)
{
	int			n = 0;
	int			idx;
	int			i;

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	idx = PoolFindByName(name);
	if (idx >= 0)
	{
		LWLockAcquire(PoolLock(idx), LW_SHARED);
		for (i = 0; i < PoolShared->nslots; i++)
			if (PoolShared->slots[i].pool == idx &&
				PoolShared->slots[i].holder_procno >= 0)
				n++;
		LWLockRelease(PoolLock(idx));
	}
	LWLockRelease(&PoolShared->lock);
	return n;
}

/*
 * pgpool_ext_drop_pool
 *		drop_pool(pool_name, force): remove a pool.  Without force a pool
 *		with handles held is refused; with force their holders get 08006 and
 *		the connections are closed.
 */
Datum
pgpool_ext_drop_pool(PG_FUNCTION_ARGS)
{
	char	   *name;
	bool		force = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	int			held;
	DefinitionSection ds;

	DefinitionCheckDatabase();
	name = DefinitionPoolNameArg(fcinfo);
	args[0] = CStringGetTextDatum(name);
	DefinitionBegin(&ds);
	DefinitionCheckMayManage(name, DefinitionLoad(&ds, name, NULL),
							 ds.save_user);
	DefinitionExec("DELETE FROM pgpool_ext.pool_definition "
				   "WHERE pool_name OPERATOR(pg_catalog.=) $1",
				   1, types, args, NULL);
	DefinitionEnd(&ds);
	held = pools_count_handles(name);
	if (held > 0 && !force)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_IN_USE),
				 errmsg("pool \"%s\" is in use", name),
				 errdetail_plural("%d handle is held.", "%d handles are held.", held, held),
				 errhint("Release the handles first, or use force => true.")));
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 *
 * catalog_hooks.c
 *	  What pgpool_ext must hear of in the catalogs: roles its pools name,
 *	  and its own extension.
 *
 * Pool definitions name roles (an owner, grantees) by name, in a table of
 * one database, while roles are cluster-wide: PostgreSQL's own dependency
 * tracking (pg_shdepend) does not know of them.  Two hooks, installed in
 * every backend because the library is preloaded, stand in for it:
 *
 *	 - object_access_hook, OAT_DROP on a role: DROP ROLE of a role that owns
 *	   a pool or holds usage on one is refused with 2BP01, like a role that
 *	   owns a table, the detail naming the pools.
 *	 - ALTER ROLE ... RENAME of such a role is refused too (OAT_POST_ALTER
 *	   on the role, while ProcessUtility_hook says a rename is running: the
 *	   access hook alone cannot tell a rename from another ALTER ROLE): the
 *	   definitions store the name, and would name nobody after the rename.
 *
 * Where the definitions are checked: in pgpool_ext.database, in the tables
 * themselves, as this transaction sees them (so that revoking usage and
 * dropping the role in one transaction works), read as the tables' owner
 * with search_path pinned; in any other database, in what the pool worker
 * loaded in shared memory, after waiting for it to load what was committed
 * so far.  The hook first takes the lock DROP ROLE takes on the role just
 * after it, then reads the latest committed state: only a definition that
 * commits after that can slip by (a defining function that locked the role
 * in share mode would wait for the DROP ROLE instead); the worker then skips
 * it with a WARNING, and pgpool_ext.missing_roles lists it.
 *
 * The object access hook also watches pgpool_ext itself in
 * pgpool_ext.database: DROP EXTENSION (directly, or by DROP SCHEMA ...
 * CASCADE), CREATE EXTENSION and ALTER EXTENSION ... UPDATE ask the worker
 * to reload at commit, so dropping the extension closes every pool, and an
 * upgraded schema is read at once.
 *
 * Locking: the role's lock (AccessExclusiveLock on the shared object, as
 * DROP ROLE takes it) until the end of the transaction; then, briefly, the
 * global lock shared and each pool's lock shared, to read pool->in_use,
 * dropping, name and def (shmem.h).
 *
 * src/backend/catalog_hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "backend/catalog_hooks.h"
#include "common/guc.h"
#include "backend/handle.h"
#include "backend/lookup.h"
#include "common/pgpool_errors.h"
#include "shm/shmem.h"

static object_access_hook_type prev_object_access_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* The role an ALTER ROLE ... RENAME being run is about, or InvalidOid. */
static Oid	renaming_role = InvalidOid;
static char *renaming_name = NULL;	/* its name before the rename */

static void catalog_object_access(ObjectAccessType access, Oid classId,
								  Oid objectId, int subId, void *arg);
static void catalog_process_utility(PlannedStmt *pstmt, const char *queryString,
									bool readOnlyTree,
									ProcessUtilityContext context,
									ParamListInfo params,
									QueryEnvironment *queryEnv,
									DestReceiver *dest, QueryCompletion *qc);
static void catalog_append_dependent(StringInfo detail, bool owner,
									 const char *pool);
static int	catalog_shmem_dependents(Oid roleid, StringInfo detail);
static int	catalog_table_dependents(const char *rolname, StringInfo detail);
static int	catalog_role_dependents(Oid roleid, const char *rolname,
									StringInfo detail);
static void catalog_check_role(Oid roleid, const char *rolname, bool rename);
static bool catalog_in_pool_database(void);
static void catalog_extension_changed(ObjectAccessType access, Oid objectId);

/*
 * CatalogHooksInstall
 *		_PG_init: chain our hooks in front of any installed before.
 */
void
CatalogHooksInstall(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = catalog_object_access;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = catalog_process_utility;
}

/* Append one line of the detail of the refusal. */
static void
catalog_append_dependent(StringInfo detail, bool owner, const char *pool)
{
	if (detail->len > 0)
		appendStringInfoChar(detail, '\n');
	appendStringInfo(detail, owner ? _("owner of pool \"%s\"") :
					 _("usage on pool \"%s\""), pool);
}

/*
 * catalog_shmem_dependents
 *		Append to detail one line per loaded pool that roleid owns or may
 *		use; the number of lines.
 */
static int
catalog_shmem_dependents(Oid roleid, StringInfo detail)
{
	int			npools = PoolShared->npools;
	char	   *names = palloc(sizeof(char) * PGPOOL_NAME_LEN * npools);
	char	   *kinds = palloc(sizeof(char) * npools);
	int			n = 0;
	int			i;

	/* copy out under the locks, format after */
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	for (i = 0; i < npools; i++)
	{
		PoolEntry  *pool = &PoolShared->pools[i];
		char		kind = 0;
		int			g;

		if (!pool->in_use)
			continue;
		LWLockAcquire(&pool->lock, LW_SHARED);
		if (!pool->dropping)
		{
			if (pool->def.owner == roleid)
				kind = 'o';
			for (g = 0; kind == 0 && g < pool->def.ngrants; g++)
				if (pool->def.grants[g] == roleid)
					kind = 'u';
			if (kind != 0)
			{
				strlcpy(names + n * PGPOOL_NAME_LEN, pool->name, PGPOOL_NAME_LEN);
				kinds[n++] = kind;
			}
		}
		LWLockRelease(&pool->lock);
	}
	LWLockRelease(&PoolShared->lock);

	for (i = 0; i < n; i++)
		catalog_append_dependent(detail, kinds[i] == 'o',
								 names + i * PGPOOL_NAME_LEN);
	pfree(names);
	pfree(kinds);
	return n;
}

/*
 * catalog_table_dependents
 *		The same from the definition tables, as this transaction sees them.
 *		They are read as their owner (the role dropping a role need not be
 *		able to read them) with search_path pinned; the role columns are
 *		compared as text, which both schema 0.2 (names) and 0.1 (regrole)
 *		give.
 */
static int
catalog_table_dependents(const char *rolname, StringInfo detail)
{
	Oid			nsp = get_namespace_oid("pgpool_ext", false);
	Oid			relid = get_relname_relid("pool_definition", nsp);
	HeapTuple	tup;
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	uint64		i;
	int			n;
	bool		pushed = false;
	SPIPlanPtr	plan;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	/* DROP ROLE and ALTER ROLE run with the statement's snapshot */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(rolname);
	plan = SPI_prepare("SELECT true, pool_name FROM pgpool_ext.pool_definition "
					   " WHERE owner::pg_catalog.text OPERATOR(pg_catalog.=) $1 "
					   "UNION ALL "
					   "SELECT false, pool_name FROM pgpool_ext.pool_usage "
					   " WHERE role::pg_catalog.text OPERATOR(pg_catalog.=) $1 "
					   "ORDER BY 2, 1 DESC", 1, types);
	/* the latest snapshot: what committed while we waited for the role lock */
	if (plan == NULL ||
		SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the pgpool_ext pool definitions");
	n = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		bool		isnull;

		catalog_append_dependent(detail,
								 DatumGetBool(SPI_getbinval(row, SPI_tuptable->tupdesc,
															1, &isnull)),
								 SPI_getvalue(row, SPI_tuptable->tupdesc, 2));
	}
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();
	AtEOXact_GUC(true, nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);
	return n;
}

/*
 * catalog_role_dependents
 *		Append to detail one line per pool that roleid owns ("owner of pool
 *		"p"") or may use ("usage on pool "q""); the number of lines.
 */
static int
catalog_role_dependents(Oid roleid, const char *rolname, StringInfo detail)
{
	if (catalog_in_pool_database() &&
		OidIsValid(get_extension_oid("pgpool_ext", true)))
		return catalog_table_dependents(rolname, detail);
	/* wait for what was committed so far; a stopped worker is no reason */
	LookupWaitConfigLoaded(false);
	return catalog_shmem_dependents(roleid, detail);
}

/*
 * catalog_check_role
 *		Refuse to drop or rename a role that a loaded pool names.
 */
static void
catalog_check_role(Oid roleid, const char *rolname, bool rename)
{
	StringInfoData detail;

	/*
	 * DROP ROLE takes this lock itself right after the hook; taking it first
	 * means a definition naming the role that commits before we hold it is
	 * seen below, and one that locks the role (in share mode) until its
	 * commit waits for us.
	 */
	LockSharedObject(AuthIdRelationId, roleid, 0, AccessExclusiveLock);
	initStringInfo(&detail);
	if (catalog_role_dependents(roleid, rolname, &detail) == 0)
	{
		pfree(detail.data);
		return;
	}
	if (rename)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_DEPENDENT_OBJECTS),
				 errmsg("role \"%s\" cannot be renamed because some pgpool_ext pools depend on it",
						rolname),
				 errdetail_internal("%s", detail.data),
				 errhint("pgpool_ext stores role names: revoke its usage (pgpool_ext.revoke_usage) and drop the pools it owns in database \"%s\" first, then grant usage again under the new name.",
						 pgpool_database)));
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_DEPENDENT_OBJECTS),
			 errmsg("role \"%s\" cannot be dropped because some pgpool_ext pools depend on it",
					rolname),
			 errdetail_internal("%s", detail.data),
			 errhint("Revoke its usage (pgpool_ext.revoke_usage) and drop the pools it owns (pgpool_ext.drop_pool) in database \"%s\" first.",
					 pgpool_database)));
}

/* Is this backend connected to pgpool_ext.database? */
static bool
catalog_in_pool_database(void)
{
	char	   *db;

	if (!OidIsValid(MyDatabaseId))
		return false;
	db = get_database_name(MyDatabaseId);
	return db != NULL && strcmp(db, pgpool_database) == 0;
}

/*
 * catalog_extension_changed
 *		An extension is created, altered or dropped in this database.  In
 *		pgpool_ext.database, ask the worker to reload at commit when it is
 *		pgpool_ext (a new extension cannot be looked up yet: any extension
 *		created there causes one reload).
 */
static void
catalog_extension_changed(ObjectAccessType access, Oid objectId)
{
	if (!catalog_in_pool_database())
		return;
	if (access != OAT_POST_CREATE &&
		objectId != get_extension_oid("pgpool_ext", true))
		return;
	HandleMarkConfigChanged();
}

/*
 * catalog_object_access
 *		object_access_hook: DROP ROLE, ALTER ROLE ... RENAME (after its own
 *		checks, before the new name is visible), and pgpool_ext itself.
 */
static void
catalog_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (PoolShared == NULL || !IsNormalProcessingMode())
		return;
	if (access == OAT_DROP && classId == AuthIdRelationId)
		catalog_check_role(objectId, GetUserNameFromId(objectId, false), false);
	else if (access == OAT_POST_ALTER && classId == AuthIdRelationId &&
			 OidIsValid(renaming_role) && objectId == renaming_role)
		catalog_check_role(objectId, renaming_name, true);
	else if (classId == ExtensionRelationId &&
			 (access == OAT_DROP || access == OAT_POST_CREATE ||
			  access == OAT_POST_ALTER))
		catalog_extension_changed(access, objectId);
}

/*
 * catalog_process_utility
 *		ProcessUtility_hook: note the role an ALTER ROLE ... RENAME TO is
 *		about, for catalog_object_access to check once ALTER ROLE has made
 *		its own checks.
 */
static void
catalog_process_utility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	Oid			save_renaming = renaming_role;
	char	   *save_name = renaming_name;

	if (IsA(stmt, RenameStmt) &&
		((RenameStmt *) stmt)->renameType == OBJECT_ROLE)
	{
		renaming_name = ((RenameStmt *) stmt)->subname;
		renaming_role = get_role_oid(renaming_name, true);
	}
	PG_TRY();
	{
		if (prev_process_utility_hook)
			prev_process_utility_hook(pstmt, queryString, readOnlyTree,
									  context, params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree,
									context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		renaming_role = save_renaming;
		renaming_name = save_name;
	}
	PG_END_TRY();
}

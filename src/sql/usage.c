/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  grant_usage and revoke_usage: who may acquire from a pool.
 *
 * Grants are rows of pgpool_ext.pool_usage (pool_name, role), the role
 * stored by name ('public' for PUBLIC), written in the caller's
 * transaction by the statements of definition.c; the worker loads them
 * with the definitions.  Only those who may change a pool may grant it
 * (DefinitionCheckMayManage).  A grantee is locked before its grant is
 * stored (DefinitionLockRole), so a grant racing a DROP ROLE waits and
 * then gets 42704.  At most PGPOOL_MAX_GRANTS grants a pool: the worker
 * loads no more.
 *
 * Locking: the definition table lock of definition.c, for the whole
 * transaction, so a count of a pool's grants holds until commit.
 *
 * src/sql/usage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "common/pgpool_errors.h"
#include "shm/shmem.h"
#include "sql/definition.h"

PG_FUNCTION_INFO_V1(pgpool_ext_grant_usage);
PG_FUNCTION_INFO_V1(pgpool_ext_revoke_usage);

/* The position of the role argument */
#define ARG_ROLE		1

static char *usage_role_arg(FunctionCallInfo fcinfo, bool grant);
static void usage_change(FunctionCallInfo fcinfo, bool grant);
static void usage_revoke(Datum *args, const char *given, const char *role);
static uint64 usage_grant(Datum *args);

/*
 * usage_role_arg
 *		The role argument of grant_usage / revoke_usage, as stored: the
 *		role's name as the catalog spells it, or "public" for PUBLIC (lower
 *		case always; other spellings too when no role has that name).  A
 *		role that does not exist is an error for grant; revoke takes the
 *		name as given, so that the grant of a dropped role can be removed
 *		(usage_revoke tries the name exactly as given first).
 */
static char *
usage_role_arg(FunctionCallInfo fcinfo, bool grant)
{
	char	   *role;
	Oid			roleid;

	if (PG_ARGISNULL(ARG_ROLE))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("role must not be null")));
	role = text_to_cstring(PG_GETARG_TEXT_PP(ARG_ROLE));
	if (strcmp(role, "public") == 0)
		return role;
	if (strlen(role) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("role name is too long"),
				 errdetail("A role name must be shorter than %d bytes.", NAMEDATALEN)));
	roleid = get_role_oid(role, true);
	if (OidIsValid(roleid))
		return grant ? DefinitionLockRole(roleid, role) :
			GetUserNameFromId(roleid, false);
	if (pg_strcasecmp(role, "public") == 0)
		return pstrdup("public");
	if (grant)
		PoolErrorUnknownRole(role);
	return role;
}

/*
 * usage_change
 *		grant_usage / revoke_usage: the checks, then the rows.
 */
static void
usage_change(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name;
	char	   *given;
	char	   *role;
	Datum		args[2];
	DefinitionSection ds;
	uint64		ngrants = 0;

	DefinitionCheckDatabase();
	name = DefinitionPoolNameArg(fcinfo);
	role = usage_role_arg(fcinfo, grant);
	given = text_to_cstring(PG_GETARG_TEXT_PP(ARG_ROLE));
	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(role);

	DefinitionBegin(&ds);
	DefinitionCheckMayManage(name, DefinitionLoad(&ds, name, NULL),
							 ds.save_user);
	if (grant)
		ngrants = usage_grant(args);
	else
		usage_revoke(args, given, role);
	DefinitionEnd(&ds);

	if (ngrants >= PGPOOL_MAX_GRANTS)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("pool \"%s\" already has %d grants", name, PGPOOL_MAX_GRANTS),
				 errhint("Grant usage to a group role instead.")));
}

/*
 * usage_grant
 *		Inside a section: store the grant of args (pool, role) unless it
 *		exists or the pool has PGPOOL_MAX_GRANTS grants already; the number
 *		of grants the pool had (0 if this one existed).
 */
static uint64
usage_grant(Datum *args)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	uint64		ngrants;

	if (DefinitionExec("SELECT 1 FROM pgpool_ext.pool_usage "
					   "WHERE pool_name OPERATOR(pg_catalog.=) $1 "
					   "AND role OPERATOR(pg_catalog.=) $2",
					   2, types, args, NULL) > 0)
		return 0;
	ngrants = DefinitionExec("SELECT 1 FROM pgpool_ext.pool_usage "
							 "WHERE pool_name OPERATOR(pg_catalog.=) $1",
							 1, types, args, NULL);
	if (ngrants < PGPOOL_MAX_GRANTS)
		DefinitionExec("INSERT INTO pgpool_ext.pool_usage (pool_name, role) "
					   "VALUES ($1, $2)",
					   2, types, args, NULL);
	return ngrants;
}

/*
 * usage_revoke
 *		Inside a section: delete the grant of pool args[0] to the role
 *		spelled as given (a dropped role "PUBLIC", say) or, if there is
 *		none, to role as usage_role_arg resolved it.
 */
static void
usage_revoke(Datum *args, const char *given, const char *role)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	const char *sql = "DELETE FROM pgpool_ext.pool_usage "
		"WHERE pool_name OPERATOR(pg_catalog.=) $1 "
		"AND role OPERATOR(pg_catalog.=) $2";

	args[1] = CStringGetTextDatum(given);
	if (DefinitionExec(sql, 2, types, args, NULL) > 0 ||
		strcmp(given, role) == 0)
		return;
	args[1] = CStringGetTextDatum(role);
	DefinitionExec(sql, 2, types, args, NULL);
}

/*
 * pgpool_ext_grant_usage
 *		grant_usage(pool_name, role)
 */
Datum
pgpool_ext_grant_usage(PG_FUNCTION_ARGS)
{
	usage_change(fcinfo, true);
	PG_RETURN_VOID();
}

/*
 * pgpool_ext_revoke_usage
 *		revoke_usage(pool_name, role)
 */
Datum
pgpool_ext_revoke_usage(PG_FUNCTION_ARGS)
{
	usage_change(fcinfo, false);
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 *
 * definition.c
 *	  What the defining functions share: where they run, who may change a
 *	  pool, and their statements on the definition tables.
 *
 * create_pool, alter_pool, drop_pool (pools.c), grant_usage and
 * revoke_usage (usage.c) write rows of pgpool_ext.pool_definition /
 * pool_usage in pgpool_ext.database, inside the caller's transaction.  A
 * statement trigger on those tables (pgpool_ext_config_trigger) marks the
 * transaction; at commit the worker is asked to reload, so a rolled-back
 * change is never seen and a committed one is usable by the next
 * statement of any session (acquire waits for the reload).
 *
 * Security: these functions may be granted to non-superusers.  Their
 * statements on the tables run as the bootstrap superuser with nothing of
 * the caller's in reach (DefinitionBegin: search_path pinned, a security-
 * restricted operation, qualified names).  A pool belongs to the role that
 * created it (stored by name); a non-superuser may change, drop or grant
 * only pools whose owner's privileges it has, never a superuser's
 * (DefinitionCheckMayManage).  A role a definition names is locked first
 * (DefinitionLockRole), as DROP ROLE does before its check.
 *
 * The option columns of the definition row are read and written by the
 * option table (shm/options.h): DefinitionStore and DefinitionLoad build
 * their column lists from it.
 *
 * Locking: each section first locks pool_definition in SHARE ROW
 * EXCLUSIVE mode until its transaction ends (definition_lock), so
 * definition changes are serialized and their checks (pool exists, number
 * of pools, number of grants) hold until commit.  The worker's reads do
 * not conflict.
 *
 * src/sql/definition.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "backend/handle.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/shmem.h"
#include "sql/definition.h"

PG_FUNCTION_INFO_V1(pgpool_ext_config_trigger);

/* The position of the pool_name argument of every defining function */
#define ARG_NAME		0

static void definition_lock(void);
static char *definition_insert_sql(const bool *missing);
static char *definition_update_sql(const bool *missing);
static void definition_missing(bool *missing);
static void definition_default(int id, OptionValues *values);
static void definition_check_missing(int id, const OptionValues *values);
static int	definition_column(TupleDesc desc, const char *name);
static void definition_read_option(HeapTuple tup, TupleDesc desc,
								   OptionValues *values, int id);

/*
 * DefinitionCheckDatabase
 *		Definitions live in pgpool_ext.database only.
 */
void
DefinitionCheckDatabase(void)
{
	char	   *db;

	PoolShmemCheckPreloaded();
	db = get_database_name(MyDatabaseId);
	if (db == NULL || strcmp(db, pgpool_database) != 0)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_PRELOADED),
				 errmsg("pools can only be defined in database \"%s\"", pgpool_database),
				 errhint("Connect to database \"%s\", the one named by pgpool_ext.database.",
						 pgpool_database)));
}

/*
 * DefinitionPoolNameArg
 *		The pool_name argument, checked.
 */
char *
DefinitionPoolNameArg(FunctionCallInfo fcinfo)
{
	char	   *name;

	if (PG_ARGISNULL(ARG_NAME))
		PoolErrorNullPoolName();
	name = text_to_cstring(PG_GETARG_TEXT_PP(ARG_NAME));
	if (name[0] == '\0' || strlen(name) >= PGPOOL_NAME_LEN)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid pool name \"%s\"", name),
				 errdetail("A pool name must have between 1 and %d bytes.",
						   PGPOOL_NAME_LEN - 1)));
	return name;
}

/*
 * DefinitionLockRole
 *		Keep role roleid from being dropped until the end of the
 *		transaction, and return its name as the catalog spells it (given:
 *		the name the caller gave, for the error; NULL for the current
 *		user).  DROP ROLE takes the same lock before catalog_hooks.c checks
 *		the definitions, so a definition naming the role either commits
 *		before that check (and the drop is refused) or waits for the drop
 *		(and then finds the role gone: 42704).
 */
char *
DefinitionLockRole(Oid roleid, const char *given)
{
	LockSharedObject(AuthIdRelationId, roleid, 0, AccessShareLock);
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(roleid)))
	{
		if (given == NULL)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_UNKNOWN_ROLE),
					 errmsg("role with OID %u does not exist", roleid)));
		PoolErrorUnknownRole(given);
	}
	return GetUserNameFromId(roleid, false);
}

/*
 * DefinitionCheckMayManage
 *		May caller change, drop or grant pool name, stored with owner?
 *		Superusers may; other roles only with the privileges of the owner,
 *		and never when the owner is a superuser now or no longer exists.
 *		(The pool's reset_query runs with its remote credentials, so
 *		changing a pool is using it.)  Unknown pool (owner NULL): 42704.
 */
void
DefinitionCheckMayManage(const char *name, const char *owner, Oid caller)
{
	Oid			owner_id;
	const char *why;

	if (owner == NULL)
		PoolErrorUnknownPool(name);
	if (superuser_arg(caller))
		return;
	owner_id = get_role_oid(owner, true);
	if (!OidIsValid(owner_id))
		why = "The role that defined the pool no longer exists; only superusers may change the pool.";
	else if (superuser_arg(owner_id))
		why = "The pool belongs to a superuser; only superusers may change it.";
	else if (!has_privs_of_role(caller, owner_id))
		why = NULL;
	else
		return;
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
			 errmsg("must be owner of pool \"%s\"", name),
			 why ? errdetail("%s", why) : 0));
}

/*
 * DefinitionBegin
 *		Open a section of statements on the definition tables.
 *
 * The tables are not readable by ordinary roles; a role granted EXECUTE on
 * the defining functions reaches them through these functions only, so
 * the statements run with raised rights, and nothing the caller controls
 * may run with them:
 *	- the current user is the bootstrap superuser, in a security-restricted
 *	  operation (no SET ROLE, no temporary objects);
 *	- search_path is "pg_catalog, pg_temp" until DefinitionEnd, so that no
 *	  object of the caller (a pg_temp domain named regrole or text, an
 *	  operator = in a schema on the caller's path) stands in for a built-in
 *	  one; the statements also name every table, type and operator with
 *	  its schema, and bind only built-in types;
 *	- the tables are locked first (definition_lock), and every statement
 *	  sees the latest committed state (DefinitionExec).
 * No role but a superuser can add triggers, rules or policies to the
 * tables (they belong to the extension's superuser owner); the triggers
 * that run are the extension's own and the foreign key's.  The caller's
 * privileges are checked as the caller (DefinitionCheckMayManage takes its
 * id: ds->save_user).  On error, (sub)transaction abort restores the user,
 * the GUCs and SPI.
 */
void
DefinitionBegin(DefinitionSection *ds)
{
	ds->caller_cxt = CurrentMemoryContext;
	GetUserIdAndSecContext(&ds->save_user, &ds->save_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   ds->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	ds->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pgpool_ext: SPI_connect failed");
	definition_lock();
}

/*
 * DefinitionEnd
 *		Close the section: the caller's user, security context and GUCs.
 */
void
DefinitionEnd(DefinitionSection *ds)
{
	SPI_finish();
	AtEOXact_GUC(false, ds->save_nestlevel);
	SetUserIdAndSecContext(ds->save_user, ds->save_sec);
}

/*
 * DefinitionExec
 *		Run one statement of a section; the rows processed.
 *
 * Under a snapshot taken now rather than the transaction's: after
 * definition_lock, in REPEATABLE READ too, a check ("does the pool
 * exist?", "how many grants?") sees what other sessions committed, and
 * stays true until this transaction ends.
 */
uint64
DefinitionExec(const char *sql, int nargs, Oid *types, Datum *values,
			   const char *nulls)
{
	SPIPlanPtr	plan;
	int			rc;

	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "pgpool_ext: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	rc = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
							  InvalidSnapshot, false, true, 0);
	if (rc < 0)
		elog(ERROR, "pgpool_ext: SPI failed: %s", SPI_result_code_string(rc));
	SPI_freeplan(plan);
	return SPI_processed;
}

/*
 * definition_lock
 *		Serialize the defining functions to the end of the transaction.
 *
 * SHARE ROW EXCLUSIVE conflicts with itself and with other sessions'
 * writes, not with the pool worker's reads.  So of two create_pool of one
 * name the second waits and then gets 42710, and a count (of pools, of a
 * pool's grants) made under it still holds when the row is inserted.
 */
static void
definition_lock(void)
{
	DefinitionExec("LOCK TABLE pgpool_ext.pool_definition IN SHARE ROW EXCLUSIVE MODE",
				   0, NULL, NULL, NULL);
}

/*
 * DefinitionStore
 *		Inside a section: INSERT (owner given) or UPDATE (owner NULL) the
 *		definition row of pool name with values (NULL ones stored as NULL).
 *		The owner is stored by name, so that a dump restores into a cluster
 *		that lacks the role.  Parameters: $1 the pool name, then the options
 *		in table order, then the owner.
 */
void
DefinitionStore(const char *name, const OptionValues *values,
				const char *owner)
{
	Oid			types[PGPOOL_NOPTIONS + 2];
	Datum		args[PGPOOL_NOPTIONS + 2];
	char		nulls[PGPOOL_NOPTIONS + 2];
	bool		missing[PGPOOL_NOPTIONS];
	int			nargs = 0;
	int			i;

	definition_missing(missing);
	types[nargs] = TEXTOID;
	args[nargs] = CStringGetTextDatum(name);
	nulls[nargs++] = ' ';
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		if (missing[i])
		{
			definition_check_missing(i, values);
			continue;
		}
		types[nargs] = OptionsSqlType(OptionsTable[i].type);
		args[nargs] = values->value[i];
		nulls[nargs++] = values->isnull[i] ? 'n' : ' ';
	}
	if (owner == NULL)
	{
		DefinitionExec(definition_update_sql(missing), nargs, types, args,
					   nulls);
		return;
	}
	types[nargs] = TEXTOID;
	args[nargs] = CStringGetTextDatum(owner);
	nulls[nargs++] = ' ';
	DefinitionExec(definition_insert_sql(missing), nargs, types, args, nulls);
}

/*
 * definition_missing
 *		Inside a section: which option columns the installed schema lacks
 *		(an installation of an older version, not yet updated: see
 *		PoolOption.since).
 */
static void
definition_missing(bool *missing)
{
	int			i;

	DefinitionExec("SELECT * FROM pgpool_ext.pool_definition LIMIT 0",
				   0, NULL, NULL, NULL);
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
		missing[i] = OptionsColumnMissing(&OptionsTable[i],
										  SPI_tuptable->tupdesc);
}

/*
 * definition_default
 *		values gets option id's default (NULL if it has none).
 */
static void
definition_default(int id, OptionValues *values)
{
	const PoolOption *opt = &OptionsTable[id];
	Oid			func;
	Oid			ioparam;

	values->isnull[id] = opt->dflt == NULL;
	values->value[id] = (Datum) 0;
	if (opt->dflt == NULL)
		return;
	getTypeInputInfo(OptionsSqlType(opt->type), &func, &ioparam);
	values->value[id] = OidInputFunctionCall(func, (char *) opt->dflt,
											 ioparam, -1);
}

/*
 * definition_check_missing
 *		Option id has no column yet (see definition_missing): only its
 *		default can be "stored"; any other value needs the update.
 */
static void
definition_check_missing(int id, const OptionValues *values)
{
	const PoolOption *opt = &OptionsTable[id];
	OptionValues dflt;
	Oid			func;
	bool		varlena;

	definition_default(id, &dflt);
	if (values->isnull[id] && dflt.isnull[id])
		return;
	getTypeOutputInfo(OptionsSqlType(opt->type), &func, &varlena);
	if (!values->isnull[id] && !dflt.isnull[id] &&
		strcmp(OidOutputFunctionCall(func, values->value[id]),
			   OidOutputFunctionCall(func, dflt.value[id])) == 0)
		return;
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_NOT_PRELOADED),
			 errmsg("pool option \"%s\" needs version %s of extension pgpool_ext",
					opt->name, opt->since),
			 errhint("Run ALTER EXTENSION pgpool_ext UPDATE.")));
}

/*
 * definition_insert_sql
 *		INSERT INTO pgpool_ext.pool_definition (pool_name, <options>, owner)
 *		VALUES ($1, ..., $n)
 */
static char *
definition_insert_sql(const bool *missing)
{
	StringInfoData sql;
	int			n = 1;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "INSERT INTO pgpool_ext.pool_definition (pool_name");
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
		if (!missing[i])
			appendStringInfo(&sql, ", %s", quote_identifier(OptionsTable[i].name));
	appendStringInfoString(&sql, ", owner) VALUES ($1");
	for (i = 0; i < PGPOOL_NOPTIONS + 1; i++)
		if (i == PGPOOL_NOPTIONS || !missing[i])
			appendStringInfo(&sql, ", $%d", ++n);
	appendStringInfoChar(&sql, ')');
	return sql.data;
}

/*
 * definition_update_sql
 *		UPDATE pgpool_ext.pool_definition SET <option> = $k, ...
 *		WHERE pool_name OPERATOR(pg_catalog.=) $1
 */
static char *
definition_update_sql(const bool *missing)
{
	StringInfoData sql;
	int			n = 1;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "UPDATE pgpool_ext.pool_definition SET ");
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		if (missing[i])
			continue;
		n++;
		appendStringInfo(&sql, "%s%s = $%d", n > 2 ? ", " : "",
						 quote_identifier(OptionsTable[i].name), n);
	}
	appendStringInfoString(&sql, " WHERE pool_name OPERATOR(pg_catalog.=) $1");
	return sql.data;
}

/*
 * DefinitionLoad
 *		Inside section ds: lock the definition row of name, read its options
 *		into *values (if values is not NULL) and return its owner's name;
 *		NULL if there is no such pool.  Results are in the memory context
 *		of the section's caller: they outlive the section.
 */
char *
DefinitionLoad(DefinitionSection *ds, const char *name, OptionValues *values)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	StringInfoData sql;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		owner;
	MemoryContext spi;
	char	   *result;
	bool		missing[PGPOOL_NOPTIONS];
	int			i;

	definition_missing(missing);
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
		if (!missing[i])
			appendStringInfo(&sql, "%s, ", quote_identifier(OptionsTable[i].name));
	appendStringInfoString(&sql, "owner::pg_catalog.text AS owner "
						   "FROM pgpool_ext.pool_definition "
						   "WHERE pool_name OPERATOR(pg_catalog.=) $1 FOR UPDATE");
	if (DefinitionExec(sql.data, 1, types, args, NULL) == 0)
		return NULL;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	owner = SPI_getbinval(tup, desc, definition_column(desc, "owner"), &isnull);
	if (isnull)
		elog(ERROR, "pgpool_ext: pool \"%s\" has no owner", name);
	spi = MemoryContextSwitchTo(ds->caller_cxt);
	result = TextDatumGetCString(owner);
	for (i = 0; values != NULL && i < PGPOOL_NOPTIONS; i++)
	{
		if (missing[i])
			definition_default(i, values);
		else
			definition_read_option(tup, desc, values, i);
	}
	MemoryContextSwitchTo(spi);
	return result;
}

/* Number of a column of the SELECT in DefinitionLoad. */
static int
definition_column(TupleDesc desc, const char *name)
{
	int			fnum = SPI_fnumber(desc, name);

	if (fnum <= 0)
		elog(ERROR, "pgpool_ext: column \"%s\" not found", name);
	return fnum;
}

/*
 * definition_read_option
 *		Option id of a definition row into values, copied (detoasted) into
 *		the current memory context.
 */
static void
definition_read_option(HeapTuple tup, TupleDesc desc, OptionValues *values,
					   int id)
{
	int			fnum = definition_column(desc, OptionsTable[id].name);
	Datum		d = SPI_getbinval(tup, desc, fnum, &values->isnull[id]);
	int16		typlen;
	bool		typbyval;

	values->value[id] = (Datum) 0;
	if (values->isnull[id])
		return;
	get_typlenbyval(SPI_gettypeid(desc, fnum), &typlen, &typbyval);
	if (typlen == -1)
		values->value[id] = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
	else
		values->value[id] = datumCopy(d, typbyval, typlen);
}

/*
 * pgpool_ext_config_trigger
 *		Statement trigger on the definition tables: ask the worker to reload
 *		when this transaction commits.
 */
Datum
pgpool_ext_config_trigger(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pgpool_ext_config_trigger must be called as a trigger")));
	if (PoolShared != NULL)
		HandleMarkConfigChanged();
	return PointerGetDatum(NULL);
}

/*-------------------------------------------------------------------------
 *
 * sql_api.c
 *	  SQL functions that define pools and hand out handles.
 *
 * create_pool, alter_pool, drop_pool, grant_usage and revoke_usage write
 * rows of pgpool_ext.pool_definition / pool_usage in pgpool_ext.database,
 * inside the caller's transaction.  A statement trigger on those tables
 * marks the transaction; at commit the worker is asked to reload, so a
 * rolled-back change is never seen and a committed one is usable by the
 * next statement of any session (acquire waits for the reload).
 *
 * Security: these functions may be granted to non-superusers.  Their
 * statements on the tables run as the bootstrap superuser with nothing of
 * the caller's in reach (def_begin: search_path pinned, a security-
 * restricted operation, qualified names).  A pool belongs to the role that
 * created it (stored by name); a non-superuser may change, drop or grant
 * only pools whose owner's privileges it has, never a superuser's
 * (check_may_manage).  Connection strings are checked as libpq would
 * check them, without connecting, and never echoed (conninfo.c).
 *
 * Locking: each defining function first locks pool_definition in SHARE ROW
 * EXCLUSIVE mode until its transaction ends (def_lock), so definition
 * changes are serialized and their checks (pool exists, number of pools,
 * number of grants) hold until commit.  The worker's reads do not conflict.
 *
 * acquire and release are thin wrappers over handle.c.
 *
 * src/sql/api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "common/conninfo.h"
#include "common/guc.h"
#include "backend/handle.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "proto/remote_error.h"
#include "shm/waitq.h"

PG_FUNCTION_INFO_V1(pgpool_ext_create_pool);
PG_FUNCTION_INFO_V1(pgpool_ext_alter_pool);
PG_FUNCTION_INFO_V1(pgpool_ext_drop_pool);
PG_FUNCTION_INFO_V1(pgpool_ext_grant_usage);
PG_FUNCTION_INFO_V1(pgpool_ext_revoke_usage);
PG_FUNCTION_INFO_V1(pgpool_ext_config_trigger);
PG_FUNCTION_INFO_V1(pgpool_ext_acquire);
PG_FUNCTION_INFO_V1(pgpool_ext_release);

/* Options of create_pool / alter_pool; NULL means "not given". */
typedef struct PoolOptions
{
	char	   *conninfo;
	int32	   *min_size;
	int32	   *max_size;
	int32	   *initial_size;
	Interval   *idle_timeout;
	Interval   *connect_timeout;
	char	   *reset_query;
	bool	   *password_required;
} PoolOptions;

/*
 * A section of statements on the definition tables, run with raised rights
 * (def_begin): what def_end restores.
 */
typedef struct DefSection
{
	Oid			save_user;
	int			save_sec;
	int			save_nestlevel;
} DefSection;

/* Argument positions shared by create_pool and alter_pool. */
#define ARG_NAME		0
#define ARG_CONNINFO	1
#define ARG_MIN			2
#define ARG_MAX			3
#define ARG_INITIAL		4
#define ARG_IDLE		5
#define ARG_CONNECT		6
#define ARG_RESET		7
#define ARG_PASSWORD	8
#define ARG_OPTIONS		9

static void check_definition_database(void);
static char *get_pool_name_arg(FunctionCallInfo fcinfo);
static void read_option_args(FunctionCallInfo fcinfo, PoolOptions *o);
static void read_options_json(Jsonb *json, PoolOptions *o);
static void validate_options(PoolOptions *o);
static int64 interval_ms(Interval *iv, const char *option);
static void def_begin(DefSection *ds);
static void def_end(DefSection *ds);
static uint64 def_exec(const char *sql, int nargs, Oid *types, Datum *values,
					   const char *nulls);
static void def_lock(void);
static void store_definition(const char *name, PoolOptions *o,
							 const char *owner);
static char *def_load(const char *name, PoolOptions *o, MemoryContext outer);
static void check_may_manage(const char *name, const char *owner, Oid caller);
static char *get_usage_role_arg(FunctionCallInfo fcinfo, bool grant);
static char *lock_named_role(Oid roleid, const char *given);
static int	count_pool_handles(const char *name);
static bool text_is(const text *t, const char *word);

/* Is t word, ignoring case?  (No copy: acquire's defaults are checked so.) */
static bool
text_is(const text *t, const char *word)
{
	size_t		len = VARSIZE_ANY_EXHDR(t);

	return len == strlen(word) && pg_strncasecmp(VARDATA_ANY(t), word, len) == 0;
}

/* Definitions live in pgpool_ext.database only. */
static void
check_definition_database(void)
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

/* The pool_name argument, checked. */
static char *
get_pool_name_arg(FunctionCallInfo fcinfo)
{
	char	   *name;

	if (PG_ARGISNULL(ARG_NAME))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("pool name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(ARG_NAME));
	if (name[0] == '\0' || strlen(name) >= PGPOOL_NAME_LEN)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid pool name \"%s\"", name),
				 errdetail("A pool name must have between 1 and %d bytes.",
						   PGPOOL_NAME_LEN - 1)));
	return name;
}

/* Pointer to a palloc'd copy of an int argument, or NULL. */
static int32 *
int_arg(FunctionCallInfo fcinfo, int n)
{
	int32	   *v;

	if (PG_ARGISNULL(n))
		return NULL;
	v = palloc(sizeof(int32));
	*v = PG_GETARG_INT32(n);
	return v;
}

/* Named arguments into o. */
static void
read_option_args(FunctionCallInfo fcinfo, PoolOptions *o)
{
	memset(o, 0, sizeof(PoolOptions));
	if (!PG_ARGISNULL(ARG_CONNINFO))
		o->conninfo = text_to_cstring(PG_GETARG_TEXT_PP(ARG_CONNINFO));
	o->min_size = int_arg(fcinfo, ARG_MIN);
	o->max_size = int_arg(fcinfo, ARG_MAX);
	o->initial_size = int_arg(fcinfo, ARG_INITIAL);
	if (!PG_ARGISNULL(ARG_IDLE))
		o->idle_timeout = PG_GETARG_INTERVAL_P(ARG_IDLE);
	if (!PG_ARGISNULL(ARG_CONNECT))
		o->connect_timeout = PG_GETARG_INTERVAL_P(ARG_CONNECT);
	if (!PG_ARGISNULL(ARG_RESET))
		o->reset_query = text_to_cstring(PG_GETARG_TEXT_PP(ARG_RESET));
	if (!PG_ARGISNULL(ARG_PASSWORD))
	{
		o->password_required = palloc(sizeof(bool));
		*o->password_required = PG_GETARG_BOOL(ARG_PASSWORD);
	}
	if (!PG_ARGISNULL(ARG_OPTIONS))
		read_options_json(PG_GETARG_JSONB_P(ARG_OPTIONS), o);
}

/* Parse a value given as text through a type's input function. */
static Datum
option_input(const char *option, const char *value, Oid func)
{
	Datum		d = 0;

	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		d = OidInputFunctionCall(func, (char *) value, InvalidOid, -1);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid value for pool option \"%s\": \"%s\"", option, value)));
	}
	PG_END_TRY();
	return d;
}

/*
 * The options jsonb: {"max_size": 8, "idle_timeout": "30s", ...}.  Keys are
 * the named arguments; a key also given as an argument is an error.
 */
static void
read_options_json(Jsonb *json, PoolOptions *o)
{
	JsonbIterator *it = JsonbIteratorInit(&json->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (!JB_ROOT_IS_OBJECT(json))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("pool options must be a JSON object")));
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *val;
		void	  **slot;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (v.type == jbvString)
			val = pnstrdup(v.val.string.val, v.val.string.len);
		else if (v.type == jbvNumeric)
			val = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		else if (v.type == jbvBool)
			val = pstrdup(v.val.boolean ? "true" : "false");
		else
			val = NULL;

		if (strcmp(key, "conninfo") == 0)
			slot = (void **) &o->conninfo;
		else if (strcmp(key, "min_size") == 0)
			slot = (void **) &o->min_size;
		else if (strcmp(key, "max_size") == 0)
			slot = (void **) &o->max_size;
		else if (strcmp(key, "initial_size") == 0)
			slot = (void **) &o->initial_size;
		else if (strcmp(key, "idle_timeout") == 0)
			slot = (void **) &o->idle_timeout;
		else if (strcmp(key, "connect_timeout") == 0)
			slot = (void **) &o->connect_timeout;
		else if (strcmp(key, "reset_query") == 0)
			slot = (void **) &o->reset_query;
		else if (strcmp(key, "password_required") == 0)
			slot = (void **) &o->password_required;
		else
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("unrecognized pool option \"%s\"", key),
					 errhint("Valid options are conninfo, min_size, max_size, initial_size, idle_timeout, connect_timeout, reset_query and password_required.")));
		if (*slot != NULL)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("pool option \"%s\" given twice", key)));
		if (val == NULL)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("invalid value for pool option \"%s\"", key)));

		if (slot == (void **) &o->conninfo || slot == (void **) &o->reset_query)
			*slot = val;
		else if (slot == (void **) &o->idle_timeout || slot == (void **) &o->connect_timeout)
			*slot = DatumGetIntervalP(option_input(key, val, F_INTERVAL_IN));
		else if (slot == (void **) &o->password_required)
		{
			bool	   *b = palloc(sizeof(bool));

			*b = DatumGetBool(option_input(key, val, F_BOOLIN));
			*slot = b;
		}
		else
		{
			int32	   *i = palloc(sizeof(int32));

			*i = DatumGetInt32(option_input(key, val, F_INT4IN));
			*slot = i;
		}
	}
}

/* Milliseconds of a non-negative interval option. */
static int64
interval_ms(Interval *iv, const char *option)
{
	int			ms;

	if (!IntervalToMs(iv, &ms))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid value for pool option \"%s\"", option),
				 errdetail("The value must be between 0 and %d milliseconds.", PG_INT32_MAX)));
	return ms;
}

/* Error for one bad option. */
#define BAD_OPTION(opt, ...) \
	ereport(ERROR, \
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT), \
			 errmsg("invalid value for pool option \"%s\"", opt), \
			 errdetail(__VA_ARGS__)))

/*
 * validate_options
 *		Check a complete set of options (every field set), as the caller.
 */
static void
validate_options(PoolOptions *o)
{
	bool		has_password = false;

	if (strlen(o->conninfo) >= PGPOOL_CONNINFO_LEN)
		BAD_OPTION("conninfo", "The connection string must be shorter than %d bytes.",
				   PGPOOL_CONNINFO_LEN);
	ConninfoCheck(o->conninfo, &has_password);

	if (*o->min_size < 0)
		BAD_OPTION("min_size", "The value must not be negative.");
	if (*o->max_size < 1)
		BAD_OPTION("max_size", "The value must be at least 1.");
	if (*o->max_size > pgpool_max_connections)
		BAD_OPTION("max_size", "The value must not exceed pgpool_ext.max_connections (%d).",
				   pgpool_max_connections);
	if (*o->min_size > *o->max_size)
		BAD_OPTION("min_size", "min_size (%d) must not exceed max_size (%d).",
				   *o->min_size, *o->max_size);
	if (o->initial_size && (*o->initial_size < 0 || *o->initial_size > *o->max_size))
		BAD_OPTION("initial_size", "The value must be between 0 and max_size (%d).",
				   *o->max_size);
	(void) interval_ms(o->idle_timeout, "idle_timeout");
	if (interval_ms(o->connect_timeout, "connect_timeout") < 1)
		BAD_OPTION("connect_timeout", "The value must be positive.");
	if (strlen(o->reset_query) >= PGPOOL_RESET_LEN)
		BAD_OPTION("reset_query", "The query must be shorter than %d bytes.", PGPOOL_RESET_LEN);

	if (!*o->password_required && !superuser())
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("password_required=false is superuser-only")));
	if (!superuser() && !has_password)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("password is required"),
				 errdetail("Non-superusers must provide a password in the connection string.")));
}

/*
 * def_begin
 *		Open a section of statements on the definition tables.
 *
 * The tables are not readable by ordinary roles; a role granted EXECUTE on
 * the defining functions reaches them through these functions only, so
 * the statements run with raised rights, and nothing the caller controls
 * may run with them:
 *	- the current user is the bootstrap superuser, in a security-restricted
 *	  operation (no SET ROLE, no temporary objects);
 *	- search_path is "pg_catalog, pg_temp" until def_end, so that no object
 *	  of the caller (a pg_temp domain named regrole or text, an operator =
 *	  in a schema on the caller's path) stands in for a built-in one; the
 *	  statements also name every table, type and operator with its schema,
 *	  and bind only built-in types;
 *	- the tables are locked first (def_lock), and every statement sees the
 *	  latest committed state (def_exec).
 * No role but a superuser can add triggers, rules or policies to the
 * tables (they belong to the extension's superuser owner); the triggers
 * that run are the extension's own and the foreign key's.  The caller's
 * privileges are checked as the caller (check_may_manage takes its id).
 * On error, (sub)transaction abort restores the user, the GUCs and SPI.
 */
static void
def_begin(DefSection *ds)
{
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
	def_lock();
}

/* Close the section: the caller's user, security context and GUCs. */
static void
def_end(DefSection *ds)
{
	SPI_finish();
	AtEOXact_GUC(false, ds->save_nestlevel);
	SetUserIdAndSecContext(ds->save_user, ds->save_sec);
}

/*
 * def_exec
 *		Run one statement of a section; the rows processed.
 *
 * Under a snapshot taken now rather than the transaction's: after
 * def_lock, in REPEATABLE READ too, a check ("does the pool exist?", "how
 * many grants?") sees what other sessions committed, and stays true until
 * this transaction ends.
 */
static uint64
def_exec(const char *sql, int nargs, Oid *types, Datum *values,
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
 * def_lock
 *		Serialize the defining functions to the end of the transaction.
 *
 * SHARE ROW EXCLUSIVE conflicts with itself and with other sessions'
 * writes, not with the pool worker's reads.  So of two create_pool of one
 * name the second waits and then gets 42710, and a count (of pools, of a
 * pool's grants) made under it still holds when the row is inserted.
 */
static void
def_lock(void)
{
	def_exec("LOCK TABLE pgpool_ext.pool_definition IN SHARE ROW EXCLUSIVE MODE",
			 0, NULL, NULL, NULL);
}

/* Datum or NULL helpers for store_definition. */
#define OPT_DATUM(p, conv)	((p) ? conv(*(p)) : (Datum) 0)

/*
 * INSERT (owner given) or UPDATE (owner NULL) the definition row, inside
 * a section.  The owner is stored by name, so that a dump restores into a
 * cluster that lacks the role.
 */
static void
store_definition(const char *name, PoolOptions *o, const char *owner)
{
	Oid			types[10] = {TEXTOID, TEXTOID, INT4OID, INT4OID, INT4OID,
	INTERVALOID, INTERVALOID, TEXTOID, BOOLOID, TEXTOID};
	Datum		values[10];
	char		nulls[10];
	int			i;

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(o->conninfo);
	values[2] = Int32GetDatum(*o->min_size);
	values[3] = Int32GetDatum(*o->max_size);
	values[4] = OPT_DATUM(o->initial_size, Int32GetDatum);
	values[5] = IntervalPGetDatum(o->idle_timeout);
	values[6] = IntervalPGetDatum(o->connect_timeout);
	values[7] = CStringGetTextDatum(o->reset_query);
	values[8] = BoolGetDatum(*o->password_required);
	values[9] = owner ? CStringGetTextDatum(owner) : (Datum) 0;
	for (i = 0; i < 10; i++)
		nulls[i] = ' ';
	if (o->initial_size == NULL)
		nulls[4] = 'n';

	if (owner != NULL)
		def_exec("INSERT INTO pgpool_ext.pool_definition (pool_name, conninfo, min_size, "
				 "max_size, initial_size, idle_timeout, connect_timeout, reset_query, "
				 "password_required, owner) "
				 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
				 10, types, values, nulls);
	else
		def_exec("UPDATE pgpool_ext.pool_definition SET conninfo = $2, min_size = $3, "
				 "max_size = $4, initial_size = $5, idle_timeout = $6, "
				 "connect_timeout = $7, reset_query = $8, password_required = $9 "
				 "WHERE pool_name OPERATOR(pg_catalog.=) $1",
				 9, types, values, nulls);
}

/*
 * def_load
 *		Inside a section: lock the definition row of name, read its options
 *		into *o (if o is not NULL) and return its owner's name; NULL if there
 *		is no such pool.  Results are copied to the caller's context.
 */
static char *
def_load(const char *name, PoolOptions *o, MemoryContext outer)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	MemoryContext spi;
	char	   *owner;

	if (def_exec("SELECT conninfo, min_size, max_size, initial_size, idle_timeout, "
				 "connect_timeout, reset_query, password_required, "
				 "owner::pg_catalog.text "
				 "FROM pgpool_ext.pool_definition "
				 "WHERE pool_name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
				 1, types, values, NULL) == 0)
		return NULL;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	spi = MemoryContextSwitchTo(outer);
	owner = TextDatumGetCString(SPI_getbinval(tup, desc, 9, &isnull));
	if (o != NULL)
	{
		Datum		d;

		memset(o, 0, sizeof(PoolOptions));
		o->conninfo = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
		o->min_size = palloc(sizeof(int32));
		*o->min_size = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		o->max_size = palloc(sizeof(int32));
		*o->max_size = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull)
		{
			o->initial_size = palloc(sizeof(int32));
			*o->initial_size = DatumGetInt32(d);
		}
		o->idle_timeout = DatumGetIntervalP(datumCopy(SPI_getbinval(tup, desc, 5, &isnull), false, 16));
		o->connect_timeout = DatumGetIntervalP(datumCopy(SPI_getbinval(tup, desc, 6, &isnull), false, 16));
		o->reset_query = TextDatumGetCString(SPI_getbinval(tup, desc, 7, &isnull));
		o->password_required = palloc(sizeof(bool));
		*o->password_required = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
	}
	MemoryContextSwitchTo(spi);
	return owner;
}

/*
 * check_may_manage
 *		May caller change, drop or grant pool name, stored with owner?
 *		Superusers may; other roles only with the privileges of the owner,
 *		and never when the owner is a superuser now or no longer exists.
 *		(The pool's reset_query runs with its remote credentials, so
 *		changing a pool is using it.)  Unknown pool: 42704.
 */
static void
check_may_manage(const char *name, const char *owner, Oid caller)
{
	Oid			owner_id;

	if (owner == NULL)
		PoolErrorUnknownPool(name);
	if (superuser_arg(caller))
		return;
	owner_id = get_role_oid(owner, true);
	if (!OidIsValid(owner_id))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("must be owner of pool \"%s\"", name),
				 errdetail("The role that defined the pool no longer exists; only superusers may change the pool.")));
	if (superuser_arg(owner_id))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("must be owner of pool \"%s\"", name),
				 errdetail("The pool belongs to a superuser; only superusers may change it.")));
	if (!has_privs_of_role(caller, owner_id))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("must be owner of pool \"%s\"", name)));
}

/* Fill options not given with the defaults of a new pool. */
static void
default_options(PoolOptions *o)
{
	static int32 def_min = 0;
	static int32 def_max = 10;
	static bool def_pw = true;

	if (o->conninfo == NULL)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid value for pool option \"conninfo\""),
				 errdetail("A connection string is required.")));
	if (o->min_size == NULL)
		o->min_size = &def_min;
	if (o->max_size == NULL)
		o->max_size = &def_max;
	if (o->idle_timeout == NULL)
		o->idle_timeout = DatumGetIntervalP(DirectFunctionCall3(interval_in,
																CStringGetDatum("10 min"), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (o->connect_timeout == NULL)
		o->connect_timeout = DatumGetIntervalP(DirectFunctionCall3(interval_in,
																   CStringGetDatum("10 s"), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (o->reset_query == NULL)
		o->reset_query = "DISCARD ALL";
	if (o->password_required == NULL)
		o->password_required = &def_pw;
}

/*
 * create_pool(pool_name, conninfo, min_size, max_size, initial_size,
 *			   idle_timeout, connect_timeout, reset_query, password_required,
 *			   options jsonb)
 *
 * The pool belongs to the current role.  At most pgpool_ext.max_pools
 * definitions: one more could never be loaded (53400).
 */
Datum
pgpool_ext_create_pool(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *owner;
	PoolOptions o;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	DefSection	ds;
	bool		exists;
	uint64		npools = 0;

	check_definition_database();
	name = get_pool_name_arg(fcinfo);
	read_option_args(fcinfo, &o);
	default_options(&o);
	validate_options(&o);
	owner = lock_named_role(GetUserId(), NULL);
	values[0] = CStringGetTextDatum(name);

	def_begin(&ds);
	exists = def_exec("SELECT 1 FROM pgpool_ext.pool_definition "
					  "WHERE pool_name OPERATOR(pg_catalog.=) $1",
					  1, types, values, NULL) > 0;
	if (!exists)
		npools = def_exec("SELECT 1 FROM pgpool_ext.pool_definition",
						  0, NULL, NULL, NULL);
	if (!exists && npools < pgpool_max_pools)
		store_definition(name, &o, owner);
	def_end(&ds);

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
 * alter_pool(pool_name, ...same options...): change the options given,
 * keep the others.
 */
Datum
pgpool_ext_alter_pool(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *owner;
	PoolOptions given;
	PoolOptions o;
	DefSection	ds;

	check_definition_database();
	name = get_pool_name_arg(fcinfo);
	read_option_args(fcinfo, &given);
	def_begin(&ds);
	owner = def_load(name, &o, CurrentMemoryContext);
	check_may_manage(name, owner, ds.save_user);
	def_end(&ds);

	if (given.conninfo)
		o.conninfo = given.conninfo;
	if (given.min_size)
		o.min_size = given.min_size;
	if (given.max_size)
		o.max_size = given.max_size;
	if (given.initial_size)
		o.initial_size = given.initial_size;
	if (given.idle_timeout)
		o.idle_timeout = given.idle_timeout;
	if (given.connect_timeout)
		o.connect_timeout = given.connect_timeout;
	if (given.reset_query)
		o.reset_query = given.reset_query;
	if (given.password_required)
		o.password_required = given.password_required;
	validate_options(&o);

	def_begin(&ds);
	store_definition(name, &o, NULL);
	def_end(&ds);
	PG_RETURN_VOID();
}

/* Number of handles currently held on pool name. */
static int
count_pool_handles(const char *name)
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
 * drop_pool(pool_name, force): remove a pool.  Without force a pool with
 * handles held is refused; with force their holders get 08006 and the
 * connections are closed.
 */
Datum
pgpool_ext_drop_pool(PG_FUNCTION_ARGS)
{
	char	   *name;
	bool		force = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	int			held;
	DefSection	ds;

	check_definition_database();
	name = get_pool_name_arg(fcinfo);
	values[0] = CStringGetTextDatum(name);
	def_begin(&ds);
	check_may_manage(name, def_load(name, NULL, CurrentMemoryContext),
					 ds.save_user);
	def_exec("DELETE FROM pgpool_ext.pool_definition "
			 "WHERE pool_name OPERATOR(pg_catalog.=) $1",
			 1, types, values, NULL);
	def_end(&ds);
	held = count_pool_handles(name);
	if (held > 0 && !force)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_IN_USE),
				 errmsg("pool \"%s\" is in use", name),
				 errdetail_plural("%d handle is held.", "%d handles are held.", held, held),
				 errhint("Release the handles first, or use force => true.")));
	PG_RETURN_VOID();
}

/*
 * lock_named_role
 *		Keep role roleid from being dropped until the end of the
 *		transaction, and return its name as the catalog spells it (given:
 *		the name the caller gave, for the error; NULL for the current user).  DROP
 *		ROLE takes the same lock before catalog_hooks.c checks the
 *		definitions, so a definition naming the role either commits before
 *		that check (and the drop is refused) or waits for the drop (and then
 *		finds the role gone: 42704).
 */
static char *
lock_named_role(Oid roleid, const char *given)
{
	LockSharedObject(AuthIdRelationId, roleid, 0, AccessShareLock);
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(roleid)))
	{
		if (given == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("role with OID %u does not exist", roleid)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", given)));
	}
	return GetUserNameFromId(roleid, false);
}

/*
 * The role argument of grant_usage / revoke_usage, as stored: the role's
 * name as the catalog spells it, or "public" for PUBLIC (lower case
 * always; other spellings too when no role has that name).  A role that
 * does not exist is an error for grant; revoke takes the name as given, so
 * that the grant of a dropped role can be removed (change_usage tries the
 * name exactly as given first).
 */
static char *
get_usage_role_arg(FunctionCallInfo fcinfo, bool grant)
{
	char	   *role;
	Oid			roleid;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("role must not be null")));
	role = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(role, "public") == 0)
		return role;
	if (strlen(role) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("role name is too long"),
				 errdetail("A role name must be shorter than %d bytes.", NAMEDATALEN)));
	roleid = get_role_oid(role, true);
	if (OidIsValid(roleid))
		return grant ? lock_named_role(roleid, role) :
			GetUserNameFromId(roleid, false);
	if (pg_strcasecmp(role, "public") == 0)
		return pstrdup("public");
	if (grant)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", role)));
	return role;
}

/*
 * grant_usage / revoke_usage common part.  At most PGPOOL_MAX_GRANTS
 * grants a pool: the worker loads no more.
 */
static void
change_usage(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name;
	char	   *given;
	char	   *role;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	DefSection	ds;
	uint64		ngrants = 0;

	check_definition_database();
	name = get_pool_name_arg(fcinfo);
	role = get_usage_role_arg(fcinfo, grant);
	given = text_to_cstring(PG_GETARG_TEXT_PP(1));
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(role);

	def_begin(&ds);
	check_may_manage(name, def_load(name, NULL, CurrentMemoryContext),
					 ds.save_user);
	if (!grant)
	{
		/* the name as given first: a dropped role "PUBLIC", say */
		values[1] = CStringGetTextDatum(given);
		if (def_exec("DELETE FROM pgpool_ext.pool_usage "
					 "WHERE pool_name OPERATOR(pg_catalog.=) $1 "
					 "AND role OPERATOR(pg_catalog.=) $2",
					 2, types, values, NULL) == 0 && strcmp(given, role) != 0)
		{
			values[1] = CStringGetTextDatum(role);
			def_exec("DELETE FROM pgpool_ext.pool_usage "
					 "WHERE pool_name OPERATOR(pg_catalog.=) $1 "
					 "AND role OPERATOR(pg_catalog.=) $2",
					 2, types, values, NULL);
		}
	}
	else if (def_exec("SELECT 1 FROM pgpool_ext.pool_usage "
					  "WHERE pool_name OPERATOR(pg_catalog.=) $1 "
					  "AND role OPERATOR(pg_catalog.=) $2",
					  2, types, values, NULL) == 0)
	{
		ngrants = def_exec("SELECT 1 FROM pgpool_ext.pool_usage "
						   "WHERE pool_name OPERATOR(pg_catalog.=) $1",
						   1, types, values, NULL);
		if (ngrants < PGPOOL_MAX_GRANTS)
			def_exec("INSERT INTO pgpool_ext.pool_usage (pool_name, role) "
					 "VALUES ($1, $2)",
					 2, types, values, NULL);
	}
	def_end(&ds);

	if (ngrants >= PGPOOL_MAX_GRANTS)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("pool \"%s\" already has %d grants", name, PGPOOL_MAX_GRANTS),
				 errhint("Grant usage to a group role instead.")));
}

Datum
pgpool_ext_grant_usage(PG_FUNCTION_ARGS)
{
	change_usage(fcinfo, true);
	PG_RETURN_VOID();
}

Datum
pgpool_ext_revoke_usage(PG_FUNCTION_ARGS)
{
	change_usage(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * Statement trigger on the definition tables: ask the worker to reload when
 * this transaction commits.
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

/*
 * acquire(pool_name, timeout, priority, partition, scope) -> bigint
 */
Datum
pgpool_ext_acquire(PG_FUNCTION_ARGS)
{
	char	   *pool;
	int			timeout_ms = pgpool_acquire_timeout;
	PoolPriority prio = PRIORITY_NORMAL;
	char	   *partition = NULL;
	PoolScope	scope = SCOPE_SESSION;

	PoolShmemCheckPreloaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
				 errmsg("pool name must not be null")));
	pool = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
	{
		timeout_ms = IntervalArgToTimeout(PG_GETARG_INTERVAL_P(1));
	}
	if (!PG_ARGISNULL(2) && !text_is(PG_GETARG_TEXT_PP(2), "normal"))
	{
		char	   *p = text_to_cstring(PG_GETARG_TEXT_PP(2));

		if (!WaitqParsePriority(p, &prio))
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("invalid priority \"%s\"", p),
					 errhint("Valid priorities are low, normal, high and critical.")));
	}
	if (!PG_ARGISNULL(3))
	{
		partition = text_to_cstring(PG_GETARG_TEXT_PP(3));
		if (strlen(partition) >= PGPOOL_NAME_LEN)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("partition key is too long"),
					 errdetail("A partition key must be shorter than %d bytes.",
							   PGPOOL_NAME_LEN)));
	}
	if (!PG_ARGISNULL(4))
	{
		text	   *s = PG_GETARG_TEXT_PP(4);

		if (text_is(s, "session"))
			scope = SCOPE_SESSION;
		else if (text_is(s, "transaction"))
			scope = SCOPE_TRANSACTION;
		else
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("invalid scope \"%s\"", text_to_cstring(s)),
					 errhint("Valid scopes are session and transaction.")));
	}
	PG_RETURN_INT64(HandleAcquire(pool, timeout_ms, prio, partition, scope));
}

/*
 * release(handle)
 */
Datum
pgpool_ext_release(PG_FUNCTION_ARGS)
{
	PoolShmemCheckPreloaded();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_BAD_HANDLE),
				 errmsg("invalid pgpool_ext handle NULL")));
	HandleRelease(PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}

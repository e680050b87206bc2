/*-------------------------------------------------------------------------
 *
 * load.c
 *	  The pool worker's loading of the pool definitions: the tables of
 *	  pgpool_ext.database read into shared memory.
 *
 * The loop (worker.c) calls LoadDefinitions whenever a committed change
 * asks for a reload (config_requested ahead of config_loaded).  The load
 * runs as a superuser, in its own transaction, with search_path pinned to
 * pg_catalog, pg_temp, and reads every column by name (SPI_fnumber) in
 * binary form: no operator, function or cast another role could create is
 * involved.  The option columns are those of the option table
 * (shm/options.h), each read into its PoolDefinition field by its type;
 * intervals go through IntervalToMs(), as the SQL functions validate them.
 * Roles are looked up by name (schema 0.2) or by OID (schema 0.1).
 *
 * Nothing is cut: a row the worker cannot hold whole is refused with a
 * WARNING (LoadVerdict): a new pool is then not loaded, an existing one
 * keeps its previous definition, minus revoked grants.  What was read is
 * applied to shared memory by apply.c.
 *
 * The load never waits for a lock on the definition tables: if one is
 * locked (LOCK TABLE, VACUUM FULL...), nothing is loaded, the load is tried
 * again after PGPOOL_LOAD_RETRY_MS (the loop meanwhile serves held
 * handles) and config_deferred tells backends so.  It waits at most
 * PGPOOL_LOAD_LOCK_TIMEOUT for any other lock.
 *
 * Locking: the tables are read under AccessShareLock, taken without
 * waiting; no LWLock is held while reading (ApplyDefinitions takes them).
 *
 * src/worker/load.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/options.h"
#include "worker/apply.h"
#include "worker/load.h"

#define PGPOOL_LOAD_RETRY_MS		200
#define PGPOOL_LOAD_LOCK_TIMEOUT	"50ms"

/* Column numbers of pool_definition in the load query, found by name. */
typedef struct LoadColumns
{
	int			pool_name;
	int			option[PGPOOL_NOPTIONS];	/* by OptionId */
	int			owner;
	int			created_at;
} LoadColumns;

static bool load_read(void);
static bool load_lock_tables(bool *present);
static LoadedDefinition *load_read_definitions(int *n);
static void load_read_definition(HeapTuple tup, TupleDesc desc,
								 const LoadColumns *c, LoadedDefinition *ld);
static void load_read_option(HeapTuple tup, TupleDesc desc, int fnum,
							 const PoolOption *opt, LoadedDefinition *ld);
static bool load_read_null(const PoolOption *opt, LoadedDefinition *ld,
						   char *field);
static void load_read_text(const PoolOption *opt, Datum v, bool isnull,
						   LoadedDefinition *ld, char *dst);
static void load_read_interval(const PoolOption *opt, Datum v, bool isnull,
							   LoadedDefinition *ld, int *ms);
static void load_read_owner(HeapTuple tup, TupleDesc desc, int fnum,
							LoadedDefinition *ld);
static void load_read_grants(LoadedDefinition *lds, int n);
static void load_attach_grants(LoadedDefinition *lds, int n);
static bool load_copy_text(Datum value, char *dst, int dstlen, int *len);
static int	load_column(TupleDesc desc, const char *name);
static bool load_resolve_role(Datum value, Oid type, bool allow_public,
							  Oid *roleid, char **label);
static void load_refuse(LoadedDefinition *ld, LoadVerdict verdict);

/*
 * LoadDefinitions
 *		Read every pool definition in a fresh transaction and apply it.  A
 *		failure (say, tables of an older version) is logged and the old
 *		definitions stay; backends waiting for the load are released.  If a
 *		definition table is locked (LOCK TABLE, VACUUM FULL...), nothing is
 *		loaded and the load is tried again on a later turn, at most every
 *		PGPOOL_LOAD_RETRY_MS: the loop never waits for that lock, and
 *		backends waiting for the load keep waiting.
 */
void
LoadDefinitions(void)
{
	static TimestampTz retry_at = 0;
	uint64		target = pg_atomic_read_u64(&PoolShared->config_requested);
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool loaded = false;

	if (retry_at != 0 && GetCurrentTimestamp() < retry_at)
		return;
	retry_at = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		loaded = load_read();
		if (loaded)
			CommitTransactionCommand();
		else
			AbortCurrentTransaction();
	}
	PG_CATCH();
	{
		bool		busy;

		MemoryContextSwitchTo(cxt);
		/*
		 * A locked table, or a cancel of the worker while it loads
		 * (pg_cancel_backend): try again later rather than mark the
		 * committed change as loaded.
		 */
		busy = (geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE ||
				geterrcode() == ERRCODE_QUERY_CANCELED);
		if (!busy)
			EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		if (!busy)
		{
			ereport(WARNING,
					(errmsg("pgpool_ext: could not load pool definitions; keeping the previous ones")));
			loaded = true;		/* nothing to retry: release the waiters */
		}
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (!loaded)
	{
		elog(DEBUG1, "pgpool_ext: pool definitions are locked; loading them later");
		retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   PGPOOL_LOAD_RETRY_MS);
		/* requests on held handles need not wait for it (handle.c) */
		pg_atomic_write_u64(&PoolShared->config_deferred, target);
		ConditionVariableBroadcast(&PoolShared->config_cv);
		return;
	}

	pg_atomic_write_u32(&PoolShared->janitor_wanted, 1);
	pg_atomic_write_u64(&PoolShared->config_loaded, target);
	ConditionVariableBroadcast(&PoolShared->config_cv);
}

/*
 * load_read
 *		Inside a transaction: read the definitions and apply them.  False
 *		(nothing applied) if the tables are locked.
 */
static bool
load_read(void)
{
	LoadedDefinition *lds = NULL;
	int			n = 0;
	bool		present;

	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pgpool_ext: loading pool definitions");

	if (!load_lock_tables(&present))
	{
		PopActiveSnapshot();
		SPI_finish();
		return false;
	}
	if (present)
	{
		lds = load_read_definitions(&n);
		load_read_grants(lds, n);
	}
	ApplyDefinitions(lds, n);

	PopActiveSnapshot();
	SPI_finish();
	return true;
}

/*
 * load_lock_tables
 *		Inside the load transaction: pin search_path, bound every lock wait,
 *		and take the definition tables' locks without waiting.  *present is
 *		false if the extension is not installed (no pools at all).  Returns
 *		false if a table is locked by someone else.
 */
static bool
load_lock_tables(bool *present)
{
	Oid			nsp;
	Oid			def_rel;
	Oid			usage_rel;

	/*
	 * The worker runs as a superuser: no name in what it runs may resolve
	 * to an object some other role created (an operator in public, say).
	 */
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	(void) set_config_option("lock_timeout", PGPOOL_LOAD_LOCK_TIMEOUT,
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	*present = false;
	if (!OidIsValid(get_extension_oid("pgpool_ext", true)))
		return true;
	nsp = get_namespace_oid("pgpool_ext", false);
	def_rel = get_relname_relid("pool_definition", nsp);
	usage_rel = get_relname_relid("pool_usage", nsp);
	if (!OidIsValid(def_rel) || !OidIsValid(usage_rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("pgpool_ext: the pool definition tables are missing")));
	if (!ConditionalLockRelationOid(def_rel, AccessShareLock) ||
		!ConditionalLockRelationOid(usage_rel, AccessShareLock))
		return false;
	*present = true;
	return true;
}

/*
 * load_read_definitions
 *		Every row of pool_definition, read by column name; *n of them.
 */
static LoadedDefinition *
load_read_definitions(int *n)
{
	LoadedDefinition *lds;
	LoadColumns c;
	TupleDesc	desc;
	uint64		r;
	int			i;

	/* every column by name, in binary form: no operator is involved */
	if (SPI_execute("SELECT * FROM pgpool_ext.pool_definition ORDER BY pool_name",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pgpool_ext: could not read pgpool_ext.pool_definition");
	desc = SPI_tuptable->tupdesc;
	c.pool_name = load_column(desc, "pool_name");
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
		c.option[i] = OptionsColumnMissing(&OptionsTable[i], desc) ? 0 :
			load_column(desc, OptionsTable[i].name);
	c.owner = load_column(desc, "owner");
	c.created_at = load_column(desc, "created_at");

	*n = (int) SPI_processed;
	lds = palloc0(sizeof(LoadedDefinition) * Max(*n, 1));
	for (r = 0; r < SPI_processed; r++)
		load_read_definition(SPI_tuptable->vals[r], desc, &c, &lds[r]);
	return lds;
}

/*
 * load_read_definition
 *		Read one row of pool_definition, by column name and in binary form
 *		(no operator, no text conversion), into ld, refusing what cannot be
 *		held whole or names a missing owner.
 */
static void
load_read_definition(HeapTuple tup, TupleDesc desc, const LoadColumns *c,
					 LoadedDefinition *ld)
{
	bool		isnull;
	Datum		v;
	int			len;
	int			i;

	memset(ld, 0, sizeof(LoadedDefinition));
	ld->verdict = LOAD_OK;
	v = SPI_getbinval(tup, desc, c->pool_name, &isnull);
	if (isnull || !load_copy_text(v, ld->name, PGPOOL_NAME_LEN, &len) || len == 0)
	{
		ereport(WARNING,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("pgpool_ext: a pool definition was not loaded: its name is %d bytes long",
						isnull ? 0 : len),
				 errdetail("A pool name must be 1 to %d bytes long.",
						   PGPOOL_NAME_LEN - 1)));
		ld->name[0] = '\0';
		load_refuse(ld, LOAD_SKIP);
		return;
	}
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
		load_read_option(tup, desc, c->option[i], &OptionsTable[i], ld);
	v = SPI_getbinval(tup, desc, c->created_at, &isnull);
	ld->def.created_at = isnull ? 0 : DatumGetTimestampTz(v);
	load_read_owner(tup, desc, c->owner, ld);
}

/*
 * load_read_option
 *		One option column of a definition into its PoolDefinition field,
 *		by the option's type; a NULL as the option says (OptionIfNull).
 */
static void
load_read_option(HeapTuple tup, TupleDesc desc, int fnum,
				 const PoolOption *opt, LoadedDefinition *ld)
{
	char	   *field = (char *) &ld->def + opt->offset;
	bool		isnull = true;
	Datum		v = (Datum) 0;

	/* fnum 0: a column the installed schema does not have yet, as NULL */
	if (fnum > 0)
		v = SPI_getbinval(tup, desc, fnum, &isnull);

	switch (opt->type)
	{
		case OPTION_TEXT:
			load_read_text(opt, v, isnull, ld, field);
			return;
		case OPTION_INTERVAL_MS:
			load_read_interval(opt, v, isnull, ld, (int *) field);
			return;
		case OPTION_INT:
			if (!isnull)
				*(int *) field = DatumGetInt32(v);
			break;
		case OPTION_BOOL:
			if (!isnull)
				*(bool *) field = DatumGetBool(v);
			break;
	}
	if (!isnull || load_read_null(opt, ld, field))
		return;
	ereport(WARNING,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("pgpool_ext: definition of pool \"%s\" ignored: %s is null",
					ld->name, opt->name),
			 errhint("The pool keeps its previous definition, if it had one.")));
	load_refuse(ld, LOAD_KEEP);
}

/*
 * load_read_null
 *		The field of an option whose column is NULL, as the option says;
 *		false if the definition is to be refused.
 */
static bool
load_read_null(const PoolOption *opt, LoadedDefinition *ld, char *field)
{
	switch (opt->if_null)
	{
		case OPTION_NULL_REFUSED:
			return false;
		case OPTION_NULL_ZERO:
			/* ld was zeroed: 0, false or "" already */
			return true;
		case OPTION_NULL_TRUE:
			Assert(opt->type == OPTION_BOOL);
			*(bool *) field = true;
			return true;
		case OPTION_NULL_MIN_SIZE:
			Assert(opt->type == OPTION_INT);
			*(int *) field = ld->def.min_size;
			return true;
		case OPTION_NULL_UNSET:
			Assert(opt->type == OPTION_INTERVAL_MS || opt->type == OPTION_INT);
			*(int *) field = -1;
			return true;
	}
	return false;
}

/*
 * load_read_text
 *		A text option into dst: it must fit whole in shared memory (a cut
 *		conninfo could lose, say, a trailing sslmode=verify-full), or the
 *		row is refused.  NULL as the option says (dst stays empty).
 */
static void
load_read_text(const PoolOption *opt, Datum v, bool isnull,
			   LoadedDefinition *ld, char *dst)
{
	int			len = 0;

	if (isnull ? load_read_null(opt, ld, dst) :
		load_copy_text(v, dst, opt->size, &len))
		return;
	ereport(WARNING,
			(errcode(PGPOOL_ERRCODE_LIMIT),
			 errmsg("pgpool_ext: definition of pool \"%s\" ignored: its %s is %s",
					ld->name, opt->name,
					isnull ? "null" : psprintf("%d bytes long", len)),
			 errdetail("A %s must be shorter than %d bytes; it is never cut.",
					   opt->name, opt->size),
			 errhint("The pool keeps its previous definition, if it had one.")));
	load_refuse(ld, LOAD_KEEP);
}

/*
 * load_read_interval
 *		An interval option in milliseconds, converted as the SQL functions
 *		convert the arguments they validate (IntervalToMs); the row is
 *		refused if the value is negative or out of range (or NULL, unless
 *		the option says otherwise).
 */
static void
load_read_interval(const PoolOption *opt, Datum v, bool isnull,
				   LoadedDefinition *ld, int *ms)
{
	if (isnull ? load_read_null(opt, ld, (char *) ms) :
		IntervalToMs(DatumGetIntervalP(v), ms))
		return;
	*ms = 0;
	ereport(WARNING,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("pgpool_ext: definition of pool \"%s\" ignored: %s is %s",
					ld->name, opt->name,
					isnull ? "null" :
					DatumGetCString(DirectFunctionCall1(interval_out, v))),
			 errdetail("A timeout must be between 0 and %d milliseconds.",
					   PG_INT32_MAX),
			 errhint("The pool keeps its previous definition, if it had one.")));
	load_refuse(ld, LOAD_KEEP);
}

/*
 * load_read_owner
 *		The owner of a definition; the definition is skipped if the role
 *		does not exist.
 */
static void
load_read_owner(HeapTuple tup, TupleDesc desc, int fnum, LoadedDefinition *ld)
{
	bool		isnull;
	Datum		v = SPI_getbinval(tup, desc, fnum, &isnull);
	char	   *label;

	if (!isnull &&
		load_resolve_role(v, SPI_gettypeid(desc, fnum), false,
						  &ld->def.owner, &label))
		return;
	ereport(WARNING,
			(errcode(PGPOOL_ERRCODE_UNKNOWN_ROLE),
			 errmsg("pgpool_ext: pool \"%s\" not loaded: its owner role \"%s\" does not exist",
					ld->name, isnull ? "" : label),
			 errhint("Create the role, or drop the pool and create it again; pgpool_ext.missing_roles lists such definitions.")));
	load_refuse(ld, LOAD_SKIP);
}

/*
 * load_read_grants
 *		Read pool_usage and attach each grant to its definition.  A grant to
 *		a role that does not exist is skipped; a pool with more grants than
 *		shared memory holds is refused whole.
 */
static void
load_read_grants(LoadedDefinition *lds, int n)
{
	TupleDesc	desc;
	int			c_pool;
	int			c_role;
	uint64		r;
	int			i;

	if (SPI_execute("SELECT pool_name, role FROM pgpool_ext.pool_usage",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pgpool_ext: could not read pgpool_ext.pool_usage");
	desc = SPI_tuptable->tupdesc;
	c_pool = load_column(desc, "pool_name");
	c_role = load_column(desc, "role");
	for (i = 0; i < n; i++)
		lds[i].grants = palloc(sizeof(Oid) * Max(SPI_processed, 1));
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		bool		isnull;
		Datum		v = SPI_getbinval(tup, desc, c_pool, &isnull);
		char	   *pool = isnull ? "" : TextDatumGetCString(v);
		LoadedDefinition *ld = NULL;
		Oid			roleid;
		char	   *label;

		for (i = 0; i < n && ld == NULL; i++)
			if (lds[i].name[0] != '\0' && strcmp(lds[i].name, pool) == 0)
				ld = &lds[i];
		if (ld == NULL)
			continue;			/* its definition was refused */
		v = SPI_getbinval(tup, desc, c_role, &isnull);
		if (isnull ||
			!load_resolve_role(v, SPI_gettypeid(desc, c_role), true,
							   &roleid, &label))
		{
			ereport(WARNING,
					(errcode(PGPOOL_ERRCODE_UNKNOWN_ROLE),
					 errmsg("pgpool_ext: usage of pool \"%s\" by role \"%s\" skipped: the role does not exist",
							ld->name, isnull ? "" : label),
					 errhint("Create the role, or revoke the usage; pgpool_ext.missing_roles lists such grants.")));
			continue;
		}
		ld->grants[ld->ngrants++] = roleid;
	}
	load_attach_grants(lds, n);
}

/*
 * load_attach_grants
 *		Each definition's grants into its PoolDefinition; a definition with
 *		more than PGPOOL_MAX_GRANTS is refused.
 */
static void
load_attach_grants(LoadedDefinition *lds, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		LoadedDefinition *ld = &lds[i];

		if (ld->ngrants <= PGPOOL_MAX_GRANTS)
		{
			memcpy(ld->def.grants, ld->grants, sizeof(Oid) * ld->ngrants);
			ld->def.ngrants = ld->ngrants;
			continue;
		}
		ereport(WARNING,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("pgpool_ext: definition of pool \"%s\" ignored: it has %d usage grants, more than %d",
						ld->name, ld->ngrants, PGPOOL_MAX_GRANTS),
				 errhint("The pool keeps its previous definition, if it had one. Grant usage to a group role instead.")));
		load_refuse(ld, LOAD_KEEP);
	}
}

/*
 * load_copy_text
 *		Copy a text datum into dst (size dstlen, with its terminating zero);
 *		false, leaving dst empty, if it does not fit whole.  *len is its
 *		length in bytes.
 */
static bool
load_copy_text(Datum value, char *dst, int dstlen, int *len)
{
	text	   *t = DatumGetTextPP(value);

	*len = VARSIZE_ANY_EXHDR(t);
	dst[0] = '\0';
	if (*len >= dstlen)
		return false;
	text_to_cstring_buffer(t, dst, dstlen);
	return true;
}

/*
 * load_column
 *		Number of the column called name in a result; an error (the load is
 *		abandoned, the previous definitions stay) if there is none.
 */
static int
load_column(TupleDesc desc, const char *name)
{
	int			fnum = SPI_fnumber(desc, name);

	if (fnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("pgpool_ext: column \"%s\" is missing from the pool definitions",
						name)));
	return fnum;
}

/*
 * load_resolve_role
 *		The role a stored owner or grantee names: a role name ('public' for
 *		PUBLIC when allow_public), as schema 0.2 stores it, or an OID (0 for
 *		PUBLIC), as schema 0.1's regrole columns did.  *roleid is
 *		InvalidOid for PUBLIC.  Returns false if no such role exists;
 *		*label is what to call the role in a message either way.
 */
static bool
load_resolve_role(Datum value, Oid type, bool allow_public, Oid *roleid,
				  char **label)
{
	if (type == TEXTOID)
	{
		char	   *name = TextDatumGetCString(value);

		*label = name;
		*roleid = InvalidOid;
		if (allow_public && strcmp(name, "public") == 0)
			return true;
		if (strlen(name) >= NAMEDATALEN)
			return false;
		*roleid = get_role_oid(name, true);
		return OidIsValid(*roleid);
	}

	/* schema 0.1: regrole, read as its OID */
	if (type != REGROLEOID && type != OIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pgpool_ext: a role column of the pool definitions has type %s",
						format_type_be(type))));
	*roleid = DatumGetObjectId(value);
	if (allow_public && *roleid == InvalidOid)
	{
		*label = "public";
		return true;
	}
	if (OidIsValid(*roleid) &&
		SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(*roleid)))
	{
		*label = GetUserNameFromId(*roleid, false);
		return true;
	}
	*label = psprintf("OID %u", *roleid);
	return false;
}

/*
 * load_refuse
 *		Record that a definition cannot be used as read (the caller logged
 *		why); the worse verdict wins.
 */
static void
load_refuse(LoadedDefinition *ld, LoadVerdict verdict)
{
	if (verdict > ld->verdict)
		ld->verdict = verdict;
}

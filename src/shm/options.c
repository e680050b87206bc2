/*-------------------------------------------------------------------------
 *
 * options.c
 *	  The table of pool options, and the checks of a set of their values.
 *
 * OptionsTable (see options.h for who walks it) says, option by option,
 * its name, SQL type, argument, default, its own check and its field in
 * PoolDefinition.  OptionsValidate checks a complete set of values as the
 * caller of create_pool / alter_pool: each option's own check in table
 * order, then the checks across options (options_check_together): sizes
 * against each other, and the password rule (a non-superuser must put a
 * password in the connection string).  Every refusal is 22023 naming the
 * option (OptionsError), except what only a superuser may do: 42501.
 *
 * Locking: none; the table is constant and the checks read only their
 * arguments and the caller's privileges.
 *
 * src/shm/options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "common/conninfo.h"
#include "common/guc.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/options.h"

static void options_check_conninfo(const PoolOption *opt, Datum value,
								   bool isnull, OptionFindings *found);
static void options_check_min_size(const PoolOption *opt, Datum value,
								   bool isnull, OptionFindings *found);
static void options_check_max_size(const PoolOption *opt, Datum value,
								   bool isnull, OptionFindings *found);
static void options_check_interval(const PoolOption *opt, Datum value,
								   bool isnull, OptionFindings *found);
static void options_check_reset_query(const PoolOption *opt, Datum value,
									  bool isnull, OptionFindings *found);
static void options_check_password_required(const PoolOption *opt,
											Datum value, bool isnull,
											OptionFindings *found);
static int	options_ms(const PoolOption *opt, Datum value);
static void options_check_together(const OptionValues *values,
								   const OptionFindings *found);
static void options_check_leak_threshold(const PoolOption *opt, Datum value,
										 bool isnull, OptionFindings *found);
static void options_check_leak_action(const PoolOption *opt, Datum value,
									  bool isnull, OptionFindings *found);
static void options_check_positive_interval(const PoolOption *opt,
											Datum value, bool isnull,
											OptionFindings *found);

#define OPTION_FIELD(f)		offsetof(PoolDefinition, f)

/*
 * The pool options.  Their order is the order of the checks, and of the
 * list in the "unrecognized pool option" hint.  The defaults are the
 * README's (create_pool); initial_size not given is stored as NULL and
 * means min_size.
 */
const PoolOption OptionsTable[PGPOOL_NOPTIONS] = {
	[OPTION_CONNINFO] = {
		"conninfo", OPTION_TEXT, 1, OPTION_FIELD(conninfo),
		PGPOOL_CONNINFO_LEN, NULL, OPTION_NULL_REFUSED,
		options_check_conninfo
	},
	[OPTION_MIN_SIZE] = {
		"min_size", OPTION_INT, 2, OPTION_FIELD(min_size),
		0, "0", OPTION_NULL_ZERO,
		options_check_min_size
	},
	[OPTION_MAX_SIZE] = {
		"max_size", OPTION_INT, 3, OPTION_FIELD(max_size),
		0, "10", OPTION_NULL_ZERO,
		options_check_max_size
	},
	[OPTION_INITIAL_SIZE] = {
		"initial_size", OPTION_INT, 4, OPTION_FIELD(initial_size),
		0, NULL, OPTION_NULL_MIN_SIZE,
		NULL					/* options_check_together */
	},
	[OPTION_IDLE_TIMEOUT] = {
		"idle_timeout", OPTION_INTERVAL_MS, 5, OPTION_FIELD(idle_timeout_ms),
		0, "10 min", OPTION_NULL_REFUSED,
		options_check_interval
	},
	[OPTION_CONNECT_TIMEOUT] = {
		"connect_timeout", OPTION_INTERVAL_MS, 6,
		OPTION_FIELD(connect_timeout_ms),
		0, "10 s", OPTION_NULL_REFUSED,
		options_check_positive_interval
	},
	[OPTION_RESET_QUERY] = {
		"reset_query", OPTION_TEXT, 7, OPTION_FIELD(reset_query),
		PGPOOL_RESET_LEN, "DISCARD ALL", OPTION_NULL_ZERO,
		options_check_reset_query
	},
	[OPTION_PASSWORD_REQUIRED] = {
		"password_required", OPTION_BOOL, 8, OPTION_FIELD(password_required),
		0, "true", OPTION_NULL_TRUE,
		options_check_password_required
	},
	/* leak detection (shm/leaks.h): keys of "options" only */
	[OPTION_LEAK_THRESHOLD] = {
		"leak_threshold", OPTION_INTERVAL_MS, -1,
		OPTION_FIELD(leak_threshold_ms),
		0, NULL, OPTION_NULL_UNSET,
		options_check_leak_threshold, "0.3"
	},
	[OPTION_LEAK_ACTION] = {
		"leak_action", OPTION_TEXT, -1, OPTION_FIELD(leak_action),
		PGPOOL_LEAK_ACTION_LEN, "report", OPTION_NULL_ZERO,
		options_check_leak_action, "0.3"
	},
	[OPTION_LEAK_RECLAIM_AFTER] = {
		"leak_reclaim_after", OPTION_INTERVAL_MS, -1,
		OPTION_FIELD(leak_reclaim_after_ms),
		0, "0", OPTION_NULL_ZERO,
		options_check_interval, "0.3"
	},
	/* sizing advice (sql/efficiency.c): a key of "options" only */
	[OPTION_TARGET_WAIT] = {
		"target_wait", OPTION_INTERVAL_MS, -1, OPTION_FIELD(target_wait_ms),
		0, "10 ms", OPTION_NULL_ZERO,
		options_check_positive_interval, "0.4"
	},
};

/* the worker reads min_size before the initial_size that may copy it */
StaticAssertDecl(OPTION_MIN_SIZE < OPTION_INITIAL_SIZE,
				 "min_size is read before initial_size");

/*
 * OptionsFind
 *		The OptionId of the option called name; -1 if there is none.
 */
int
OptionsFind(const char *name)
{
	int			i;

	for (i = 0; i < PGPOOL_NOPTIONS; i++)
		if (strcmp(OptionsTable[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * OptionsSqlType
 *		The SQL type of an option's argument and column.
 */
Oid
OptionsSqlType(OptionType type)
{
	switch (type)
	{
		case OPTION_TEXT:
			return TEXTOID;
		case OPTION_INT:
			return INT4OID;
		case OPTION_INTERVAL_MS:
			return INTERVALOID;
		case OPTION_BOOL:
			return BOOLOID;
	}
	elog(ERROR, "pgpool_ext: unknown option type %d", (int) type);
	return InvalidOid;			/* keep compiler quiet */
}

/*
 * OptionsList
 *		The names of the options, in table order: "a, b and c".
 */
char *
OptionsList(void)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, i < PGPOOL_NOPTIONS - 1 ? ", " : " and ");
		appendStringInfoString(&buf, OptionsTable[i].name);
	}
	return buf.data;
}

/*
 * OptionsColumnMissing
 *		Does a result of SELECT * FROM pool_definition (desc) lack the column
 *		of opt?  Only an option added after 0.1 may (an installation not
 *		yet updated); for any other a missing column is an error.
 */
bool
OptionsColumnMissing(const PoolOption *opt, TupleDesc desc)
{
	int			i;

	if (opt->since == NULL)
		return false;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), opt->name) == 0)
			return false;
	}
	return true;
}

/*
 * OptionsError
 *		The error of a bad option value: 22023 naming the option, the detail
 *		saying why.
 */
void
OptionsError(const char *name, const char *detail_fmt,...)
{
	StringInfoData detail;

	initStringInfo(&detail);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, detail_fmt);
		needed = appendStringInfoVA(&detail, detail_fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&detail, needed);
	}
	ereport(ERROR,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("invalid value for pool option \"%s\"", name),
			 errdetail("%s", detail.data)));
}

/*
 * OptionsValidate
 *		Check a complete set of options (every option with a default has a
 *		value), as the caller: each option's own check, then the checks
 *		across options.
 */
void
OptionsValidate(const OptionValues *values)
{
	OptionFindings found = {0};
	int			i;

	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		const PoolOption *opt = &OptionsTable[i];

		Assert(!values->isnull[i] || opt->dflt == NULL);
		if (opt->check != NULL)
			opt->check(opt, values->value[i], values->isnull[i], &found);
	}
	options_check_together(values, &found);
}

/*
 * options_check_conninfo
 *		Required; it fits in shared memory; libpq would accept it
 *		(ConninfoCheck, which also tells whether it holds a password).
 */
static void
options_check_conninfo(const PoolOption *opt, Datum value, bool isnull,
					   OptionFindings *found)
{
	char	   *conninfo;

	if (isnull)
		OptionsError(opt->name, "A connection string is required.");
	conninfo = TextDatumGetCString(value);
	if (strlen(conninfo) >= opt->size)
		OptionsError(opt->name,
					 "The connection string must be shorter than %d bytes.",
					 opt->size);
	ConninfoCheck(conninfo, &found->conninfo_has_password);
}

/* min_size: not negative. */
static void
options_check_min_size(const PoolOption *opt, Datum value, bool isnull,
					   OptionFindings *found)
{
	if (DatumGetInt32(value) < 0)
		OptionsError(opt->name, "The value must not be negative.");
}

/* max_size: at least 1, at most pgpool_ext.max_connections. */
static void
options_check_max_size(const PoolOption *opt, Datum value, bool isnull,
					   OptionFindings *found)
{
	if (DatumGetInt32(value) < 1)
		OptionsError(opt->name, "The value must be at least 1.");
	if (DatumGetInt32(value) > pgpool_max_connections)
		OptionsError(opt->name,
					 "The value must not exceed pgpool_ext.max_connections (%d).",
					 pgpool_max_connections);
}

/* An interval option: it converts to milliseconds (options_ms). */
static void
options_check_interval(const PoolOption *opt, Datum value, bool isnull,
					   OptionFindings *found)
{
	(void) options_ms(opt, value);
}

/* leak_threshold: an interval; not given (NULL): pgpool_ext.leak_threshold. */
static void
options_check_leak_threshold(const PoolOption *opt, Datum value, bool isnull,
							 OptionFindings *found)
{
	if (!isnull)
		(void) options_ms(opt, value);
}

/* leak_action: report or reclaim. */
static void
options_check_leak_action(const PoolOption *opt, Datum value, bool isnull,
						  OptionFindings *found)
{
	char	   *action = TextDatumGetCString(value);

	if (strcmp(action, "report") != 0 && strcmp(action, "reclaim") != 0)
		OptionsError(opt->name, "The action must be report or reclaim.");
}

/*
 * An interval option that must be positive, at least 1 millisecond
 * (connect_timeout, target_wait).
 */
static void
options_check_positive_interval(const PoolOption *opt, Datum value,
								bool isnull, OptionFindings *found)
{
	if (options_ms(opt, value) < 1)
		OptionsError(opt->name, "The value must be positive.");
}

/* reset_query: it fits in shared memory. */
static void
options_check_reset_query(const PoolOption *opt, Datum value, bool isnull,
						  OptionFindings *found)
{
	if (VARSIZE_ANY_EXHDR(DatumGetTextPP(value)) >= opt->size)
		OptionsError(opt->name, "The query must be shorter than %d bytes.",
					 opt->size);
}

/* password_required => false: superusers only (dblink's rule). */
static void
options_check_password_required(const PoolOption *opt, Datum value,
								bool isnull, OptionFindings *found)
{
	if (!DatumGetBool(value) && !superuser())
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("password_required=false is superuser-only")));
}

/*
 * options_ms
 *		Milliseconds of an interval option, converted as the worker converts
 *		the stored value (IntervalToMs): between 0 and PG_INT32_MAX.
 */
static int
options_ms(const PoolOption *opt, Datum value)
{
	int			ms;

	if (!IntervalToMs(DatumGetIntervalP(value), &ms))
		OptionsError(opt->name,
					 "The value must be between 0 and %d milliseconds.",
					 PG_INT32_MAX);
	return ms;
}

/*
 * options_check_together
 *		The checks across options: min_size <= max_size, initial_size (if
 *		given) between 0 and max_size, and the password rule.
 */
static void
options_check_together(const OptionValues *values,
					   const OptionFindings *found)
{
	int32		min_size = DatumGetInt32(values->value[OPTION_MIN_SIZE]);
	int32		max_size = DatumGetInt32(values->value[OPTION_MAX_SIZE]);

	if (min_size > max_size)
		OptionsError(OptionsTable[OPTION_MIN_SIZE].name,
					 "min_size (%d) must not exceed max_size (%d).",
					 min_size, max_size);
	if (!values->isnull[OPTION_INITIAL_SIZE])
	{
		int32		initial;

		initial = DatumGetInt32(values->value[OPTION_INITIAL_SIZE]);
		if (initial < 0 || initial > max_size)
			OptionsError(OptionsTable[OPTION_INITIAL_SIZE].name,
						 "The value must be between 0 and max_size (%d).",
						 max_size);
	}
	if (!superuser() && !found->conninfo_has_password)
		ereport(ERROR,
				(errcode(PGPOOL_ERRCODE_NOT_ALLOWED),
				 errmsg("password is required"),
				 errdetail("Non-superusers must provide a password in the connection string.")));
}

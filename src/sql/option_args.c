/*-------------------------------------------------------------------------
 *
 * option_args.c
 *	  The option arguments of create_pool and alter_pool, read by the
 *	  option table (shm/options.c).
 *
 * Both functions take each option as a named argument (NULL: not given)
 * and all of them again as keys of the "options" jsonb argument:
 * {"max_size": 8, "idle_timeout": "30s"}.  A key's value is read as its
 * option's type reads text (a JSON number or boolean as its text), an
 * unknown key or a key also given as an argument is an error (22023).
 * create_pool fills what was not given with the defaults of the table;
 * alter_pool lays what was given over the stored definition.  The values
 * are checked afterwards, as a whole (OptionsValidate).
 *
 * Locking: none; this reads arguments only.
 *
 * src/sql/option_args.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "common/pgpool_errors.h"
#include "sql/option_args.h"

/* The position of the "options" jsonb argument */
#define ARG_OPTIONS		9

static void option_args_json(Jsonb *json, OptionValues *given);
static char *option_args_json_text(JsonbValue *v);
static Datum option_args_input(const PoolOption *opt, const char *text);
static Datum option_args_input_json(const PoolOption *opt, const char *text);

/*
 * OptionArgsRead
 *		The options given to create_pool / alter_pool, as arguments or in
 *		the "options" jsonb, into *given (isnull: not given).
 */
void
OptionArgsRead(FunctionCallInfo fcinfo, OptionValues *given)
{
	int			i;

	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		const PoolOption *opt = &OptionsTable[i];
		Datum		d;

		given->isnull[i] = true;
		given->value[i] = (Datum) 0;
		if (opt->argno < 0 || opt->argno >= PG_NARGS() ||
			PG_ARGISNULL(opt->argno))
			continue;
		d = PG_GETARG_DATUM(opt->argno);
		if (get_typlen(OptionsSqlType(opt->type)) == -1)
			d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
		given->value[i] = d;
		given->isnull[i] = false;
	}
	if (PG_NARGS() > ARG_OPTIONS && !PG_ARGISNULL(ARG_OPTIONS))
		option_args_json(PG_GETARG_JSONB_P(ARG_OPTIONS), given);
}

/*
 * OptionArgsDefaults
 *		Fill the options not given with the table's defaults (a new pool).
 *		An option without a default stays NULL: stored so (initial_size),
 *		or refused by its check (conninfo).
 */
void
OptionArgsDefaults(OptionValues *values)
{
	int			i;

	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		const PoolOption *opt = &OptionsTable[i];

		if (!values->isnull[i] || opt->dflt == NULL)
			continue;
		values->value[i] = option_args_input(opt, opt->dflt);
		values->isnull[i] = false;
	}
}

/*
 * OptionArgsMerge
 *		alter_pool: the options given replace the stored ones; the others
 *		(NULL, not given) are kept.
 */
void
OptionArgsMerge(OptionValues *values, const OptionValues *given)
{
	int			i;

	for (i = 0; i < PGPOOL_NOPTIONS; i++)
	{
		if (given->isnull[i])
			continue;
		values->value[i] = given->value[i];
		values->isnull[i] = false;
	}
}

/*
 * option_args_json
 *		The options jsonb: its keys are the options' names; a key also given
 *		as an argument is an error.
 */
static void
option_args_json(Jsonb *json, OptionValues *given)
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
		int			id;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		val = option_args_json_text(&v);
		id = OptionsFind(key);
		if (id < 0)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("unrecognized pool option \"%s\"", key),
					 errhint("Valid options are %s.", OptionsList())));
		if (!given->isnull[id])
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("pool option \"%s\" given twice", key)));
		if (val == NULL)
			ereport(ERROR,
					(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
					 errmsg("invalid value for pool option \"%s\"", key)));
		given->value[id] = option_args_input_json(&OptionsTable[id], val);
		given->isnull[id] = false;
	}
}

/*
 * option_args_json_text
 *		A scalar of the options jsonb as text: a string as it is, a number
 *		or a boolean as its JSON text; NULL for null, arrays and objects.
 */
static char *
option_args_json_text(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return NULL;
	}
}

/* An option's value from its text, through its type's input function. */
static Datum
option_args_input(const PoolOption *opt, const char *text)
{
	Oid			func;
	Oid			ioparam;

	getTypeInputInfo(OptionsSqlType(opt->type), &func, &ioparam);
	return OidInputFunctionCall(func, (char *) text, ioparam, -1);
}

/*
 * option_args_input_json
 *		option_args_input for a value of the options jsonb: text the type
 *		refuses (a data exception) is 22023 naming the option and quoting
 *		the text.
 */
static Datum
option_args_input_json(const PoolOption *opt, const char *text)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		d = (Datum) 0;

	PG_TRY();
	{
		d = option_args_input(opt, text);
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
				 errmsg("invalid value for pool option \"%s\": \"%s\"",
						opt->name, text)));
	}
	PG_END_TRY();
	return d;
}

/*-------------------------------------------------------------------------
 *
 * options.h
 *	  The pool options: one table that says, for each, its name, type,
 *	  argument, default, checks and place in PoolDefinition.
 *
 * A pool option (conninfo, max_size, idle_timeout...) has one name: the
 * argument of create_pool and alter_pool, the key of their "options"
 * jsonb, and the column of pgpool_ext.pool_definition.  OptionsTable holds
 * one row per option, and every step that handles options walks it:
 *
 *	 sql/option_args.c	arguments and the "options" jsonb into OptionValues,
 *						defaults of a new pool, alter_pool's merge
 *	 shm/options.c		the checks (OptionsValidate): each option's own,
 *						then the checks across options
 *	 sql/definition.c	the INSERT, UPDATE and SELECT of the definition
 *						row, their column lists built from the table
 *	 worker/load.c		the worker's reading of each column, by name, into
 *						the PoolDefinition field at the row's offset
 *
 * A new option is a row here (and its OptionId), its field in
 * PoolDefinition and its use; in SQL, its column and, if it is to be an
 * argument of its own rather than only a key of "options", its argument.
 *
 * The table sits in shm/ because it describes PoolDefinition, which both
 * the SQL functions (sql/) and the pool worker (worker/) use.  No state:
 * nothing to lock.
 *
 * src/shm/options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_OPTIONS_H
#define PGPOOL_OPTIONS_H

#include "access/tupdesc.h"

#include "shm/shmem.h"

/* Every pool option, in table order (the order of create_pool's arguments) */
typedef enum OptionId
{
	OPTION_CONNINFO = 0,
	OPTION_MIN_SIZE,
	OPTION_MAX_SIZE,
	OPTION_INITIAL_SIZE,
	OPTION_IDLE_TIMEOUT,
	OPTION_CONNECT_TIMEOUT,
	OPTION_RESET_QUERY,
	OPTION_PASSWORD_REQUIRED,
	/* leak detection (schema 0.3) */
	OPTION_LEAK_THRESHOLD,
	OPTION_LEAK_ACTION,
	OPTION_LEAK_RECLAIM_AFTER,
	/* sizing advice (schema 0.4) */
	OPTION_TARGET_WAIT
} OptionId;

#define PGPOOL_NOPTIONS		(OPTION_TARGET_WAIT + 1)

/* SQL type of an option, and how PoolDefinition holds it */
typedef enum OptionType
{
	OPTION_TEXT,				/* text; a char[size] with its zero */
	OPTION_INT,					/* integer; an int */
	OPTION_INTERVAL_MS,			/* interval; an int of milliseconds
								 * (IntervalToMs) */
	OPTION_BOOL					/* boolean; a bool */
} OptionType;

/*
 * What the pool worker makes of a NULL column.  (The table's NOT NULL
 * constraints leave only initial_size nullable; the rest is the worker's
 * leniency with tables changed by hand.)
 */
typedef enum OptionIfNull
{
	OPTION_NULL_REFUSED = 0,	/* the definition is refused (LOAD_KEEP) */
	OPTION_NULL_ZERO,			/* 0, or "" */
	OPTION_NULL_TRUE,			/* true (a bool) */
	OPTION_NULL_MIN_SIZE,		/* min_size's value (initial_size) */
	OPTION_NULL_UNSET			/* -1: not set, a parameter applies (an
								 * int: leak_threshold) */
} OptionIfNull;

/*
 * A complete or partial set of option values as SQL Datums (text *, int4,
 * Interval *, bool), by OptionId.  isnull: not given, or stored as NULL.
 */
typedef struct OptionValues
{
	Datum		value[PGPOOL_NOPTIONS];
	bool		isnull[PGPOOL_NOPTIONS];
} OptionValues;

/* What the checks of single options found out for the checks across them */
typedef struct OptionFindings
{
	bool		conninfo_has_password;
} OptionFindings;

struct PoolOption;

/*
 * An option's own check, as the caller (22023 or 42501 with the option
 * named).  value is not NULL unless the option has no default.
 */
typedef void (*OptionCheck) (const struct PoolOption *opt, Datum value,
							 bool isnull, OptionFindings *found);

/* One row of the table */
typedef struct PoolOption
{
	const char *name;			/* argument, "options" key and column */
	OptionType	type;
	int			argno;			/* argument of create_pool and alter_pool;
								 * -1: a key of "options" only */
	size_t		offset;			/* offsetof(PoolDefinition, its field) */
	int			size;			/* OPTION_TEXT: the field's size in bytes,
								 * with the zero */
	const char *dflt;			/* a new pool's value when not given, in the
								 * type's text form; NULL: stored as NULL */
	OptionIfNull if_null;		/* the worker's reading of a NULL column */
	OptionCheck check;			/* its own check, or NULL */
	const char *since;			/* the extension version that added its
								 * column; NULL: 0.1.  Until ALTER EXTENSION
								 * UPDATE the column is missing: the worker
								 * reads it as NULL, the SQL functions leave
								 * it out (and refuse a value for it) */
} PoolOption;

extern const PoolOption OptionsTable[PGPOOL_NOPTIONS];

extern int	OptionsFind(const char *name);
extern Oid	OptionsSqlType(OptionType type);
extern char *OptionsList(void);
extern bool OptionsColumnMissing(const PoolOption *opt, TupleDesc desc);
extern void OptionsValidate(const OptionValues *values);
extern void OptionsError(const char *name, const char *detail_fmt,...)
			pg_attribute_printf(2, 3) pg_attribute_noreturn();

#endif							/* PGPOOL_OPTIONS_H */

/*-------------------------------------------------------------------------
 *
 * definition.h
 *	  What the defining functions (create_pool, alter_pool, drop_pool,
 *	  grant_usage, revoke_usage) share: their checks, and their statements
 *	  on the definition tables, run with raised rights.
 *
 * src/sql/definition.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_DEFINITION_H
#define PGPOOL_DEFINITION_H

#include "fmgr.h"

#include "shm/options.h"

/*
 * A section of statements on the definition tables, run with raised rights
 * (DefinitionBegin): what DefinitionEnd restores.
 */
typedef struct DefinitionSection
{
	Oid			save_user;		/* the caller */
	int			save_sec;
	int			save_nestlevel;
	MemoryContext caller_cxt;	/* the caller's memory context (SPI's goes
								 * away at DefinitionEnd) */
} DefinitionSection;

extern void DefinitionCheckDatabase(void);
extern char *DefinitionPoolNameArg(FunctionCallInfo fcinfo);
extern char *DefinitionLockRole(Oid roleid, const char *given);
extern void DefinitionCheckMayManage(const char *name, const char *owner,
									 Oid caller);

extern void DefinitionBegin(DefinitionSection *ds);
extern void DefinitionEnd(DefinitionSection *ds);
extern uint64 DefinitionExec(const char *sql, int nargs, Oid *types,
							 Datum *values, const char *nulls);
extern void DefinitionStore(const char *name, const OptionValues *values,
							const char *owner);
extern char *DefinitionLoad(DefinitionSection *ds, const char *name,
							OptionValues *values);

#endif							/* PGPOOL_DEFINITION_H */

/*-------------------------------------------------------------------------
 *
 * option_args.h
 *	  The option arguments of create_pool and alter_pool, by the option
 *	  table.
 *
 * src/sql/option_args.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_OPTION_ARGS_H
#define PGPOOL_OPTION_ARGS_H

#include "fmgr.h"

#include "shm/options.h"

extern void OptionArgsRead(FunctionCallInfo fcinfo, OptionValues *given);
extern void OptionArgsDefaults(OptionValues *values);
extern void OptionArgsMerge(OptionValues *values, const OptionValues *given);

#endif							/* PGPOOL_OPTION_ARGS_H */

/*-------------------------------------------------------------------------
 *
 * remote_error.h
 *	  Remote errors: packing, re-raising.
 *
 * src/proto/remote_error.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_REMOTE_ERROR_H
#define PGPOOL_REMOTE_ERROR_H

#include "libpq-fe.h"
#include "lib/stringinfo.h"

#include "backend/channel.h"

extern void RemoteErrorPack(StringInfo buf, const PGresult *res);
extern void RemoteFailurePack(StringInfo buf, const char *sqlstate,
							  const char *message, const char *detail);
extern void RemoteErrorRaise(MsgReader *r, char type, const char *sql);

#endif							/* PGPOOL_REMOTE_ERROR_H */

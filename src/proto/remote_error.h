/*-------------------------------------------------------------------------
 *
 * remote_error.h
 *	  Remote errors, secrets and texts: packing, re-raising, masking
 *	  passwords, converting encodings.
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

extern char *PoolMaskConninfo(const char *conninfo);
extern void RemoteErrorPack(StringInfo buf, const PGresult *res);
extern void RemoteFailurePack(StringInfo buf, const char *sqlstate,
							  const char *message, const char *detail);
extern char *PoolTextFromRemote(const char *s, int len);
extern char *PoolTextFromRemoteLenient(const char *s);
extern char *PoolTextToRemote(const char *s);
extern char *PoolTextAscii(const char *s);
extern void RemoteErrorRaise(MsgReader *r, char type, const char *sql);

#endif							/* PGPOOL_REMOTE_ERROR_H */

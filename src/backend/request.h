/*-------------------------------------------------------------------------
 *
 * request.h
 *	  The backend side of a request: submitting it on a handle and
 *	  reading its response messages.
 *
 * src/backend/request.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_REQUEST_H
#define PGPOOL_REQUEST_H

#include "proto/message.h"

extern void RequestSubmit(int64 handle, RequestKind kind, int flags,
						  const char *sql, int nparams,
						  const char *const *params);
extern void RequestReceive(Size *len, void **data);

#endif							/* PGPOOL_REQUEST_H */

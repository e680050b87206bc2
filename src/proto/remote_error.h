/*-------------------------------------------------------------------------
 *
 * remote_error.h
 *	  Raising in the backend an error carried from the pool worker.
 *
 * src/proto/remote_error.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_REMOTE_ERROR_H
#define PGPOOL_REMOTE_ERROR_H

#include "proto/message.h"

extern void RemoteErrorRaise(const MsgError *err, const char *sql) pg_attribute_noreturn();

#endif							/* PGPOOL_REMOTE_ERROR_H */

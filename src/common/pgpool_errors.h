/*-------------------------------------------------------------------------
 *
 * pgpool_errors.h
 *	  The map from pgpool_ext's error cases to SQLSTATEs.
 *
 * Every ereport a user can trigger names one of these codes, so that the
 * contract in the README ("unknown pool is 42704", ...) is kept in one place.
 * A message raised from more than one place is a function here
 * (pgpool_errors.c), so that it reads the same everywhere.
 *
 * src/common/pgpool_errors.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_ERRORS_H
#define PGPOOL_ERRORS_H

#include "utils/elog.h"

/* library not in shared_preload_libraries, or wrong database */
#define PGPOOL_ERRCODE_NOT_PRELOADED	ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE
/* unknown pool */
#define PGPOOL_ERRCODE_UNKNOWN_POOL		ERRCODE_UNDEFINED_OBJECT
/* pool already exists */
#define PGPOOL_ERRCODE_DUPLICATE_POOL	ERRCODE_DUPLICATE_OBJECT
/* invalid, released, forged or foreign handle */
#define PGPOOL_ERRCODE_BAD_HANDLE		ERRCODE_CONNECTION_DOES_NOT_EXIST
/* acquire timed out */
#define PGPOOL_ERRCODE_TIMEOUT			ERRCODE_TOO_MANY_CONNECTIONS
/* deadlock among pool waiters */
#define PGPOOL_ERRCODE_DEADLOCK			ERRCODE_T_R_DEADLOCK_DETECTED
/* cannot connect to the remote server */
#define PGPOOL_ERRCODE_CONNECT			ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION
/* connection lost while in use, or the pool worker went away */
#define PGPOOL_ERRCODE_LOST				ERRCODE_CONNECTION_FAILURE
/* bad argument or option */
#define PGPOOL_ERRCODE_BAD_ARGUMENT		ERRCODE_INVALID_PARAMETER_VALUE
/* not allowed */
#define PGPOOL_ERRCODE_NOT_ALLOWED		ERRCODE_INSUFFICIENT_PRIVILEGE
/* pool has handles and force was not given */
#define PGPOOL_ERRCODE_IN_USE			ERRCODE_OBJECT_IN_USE
/* a shared-memory table (pools, partitions) is full */
#define PGPOOL_ERRCODE_LIMIT			ERRCODE_CONFIGURATION_LIMIT_EXCEEDED
/* query() column list does not match the remote result */
#define PGPOOL_ERRCODE_ROWTYPE			ERRCODE_DATATYPE_MISMATCH
/* DROP ROLE / ALTER ROLE RENAME of a role that pools name */
#define PGPOOL_ERRCODE_DEPENDENT_OBJECTS	ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST
/* a request of this session is still being read (re-entrant call) */
#define PGPOOL_ERRCODE_NESTED			ERRCODE_OBJECT_IN_USE

/*
 * SQLSTATEs as the text a channel message carries: a failure the pool
 * worker packs itself (src/worker/), or a remote error without one; the
 * backend re-raises them (proto/remote_error.c).
 */
/* PGPOOL_ERRCODE_LOST: connection died, request refused, no remote code */
#define PGPOOL_SQLSTATE_LOST			"08006"

/* worker */
/* libpq refused to send a command (the connection is still up) */
#define PGPOOL_SQLSTATE_SEND_FAILED		"08000"
/* COPY, an output setting changed by a request, an unexpected result */
#define PGPOOL_SQLSTATE_NOT_SUPPORTED	"0A000"
/* a handle reclaimed as leaked (PGPOOL_ERRCODE_BAD_HANDLE): worker/leaks.c */
#define PGPOOL_SQLSTATE_BAD_HANDLE		"08003"

/* sql: the SQL functions (src/sql/) and the loading of definitions */
/* a role named by an argument or a stored definition does not exist */
#define PGPOOL_ERRCODE_UNKNOWN_ROLE		ERRCODE_UNDEFINED_OBJECT

extern void PoolErrorUnknownPool(const char *name) pg_attribute_noreturn();

/* sql */
extern void PoolErrorUnknownRole(const char *name) pg_attribute_noreturn();
extern void PoolErrorNullPoolName(void) pg_attribute_noreturn();
extern void PoolErrorNullHandle(void) pg_attribute_noreturn();

/* leaks */
extern void PoolErrorReclaimedHandle(int64 handle, const char *held_for) pg_attribute_noreturn();
extern char *PoolErrorReclaimedMessage(int64 handle);
extern char *PoolErrorReclaimedDetail(const char *held_for);

#endif							/* PGPOOL_ERRORS_H */

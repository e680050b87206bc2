/*-------------------------------------------------------------------------
 *
 * leaks.c
 *	  Set-returning functions behind the leaks and leak_history views.
 *
 * leak_info() shows every handle held longer than its pool's leak
 * threshold, with its acquire site (shm/leaks.h) and, read from the
 * backends' status at the time of the query, its holder's database,
 * application_name, client address and state.  leak_history_info() shows
 * the ring of the last leak events.
 *
 * Visibility follows pg_stat_activity: superusers and members of
 * pg_read_all_stats see every row; any other role sees only the rows of
 * the backends whose session user it has the privileges of (its own), so
 * that it never sees another session's statements.
 *
 * Locking: what is shown is copied under the locks (each pool's lock
 * shared, then the leak history lock shared), and tuples are built, role
 * and database names looked up and the backends' status read after they
 * are released.
 *
 * src/sql/leaks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>
#include <netdb.h>

#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "common/ip.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "backend/lookup.h"
#include "common/compat.h"
#include "shm/pool.h"
#include "sql/leaks.h"

PG_FUNCTION_INFO_V1(pgpool_ext_leak_info);
PG_FUNCTION_INFO_V1(pgpool_ext_leak_history_info);

static PgBackendStatus *leaks_backend(int pid);
static const char *leaks_state_name(BackendState state);
static Datum leaks_client_addr(PgBackendStatus *be, bool *isnull);
static void leaks_put_row(ReturnSetInfo *rsinfo, LeakRow *row,
						  TimestampTz now);
static void leaks_put_event(ReturnSetInfo *rsinfo, LeakEvent *ev,
							TimestampTz now);

/* Seconds between two times, as the new views show durations. */
static double
leaks_seconds(TimestampTz from, TimestampTz to)
{
	return to > from ? (double) (to - from) / USECS_PER_SEC : 0.0;
}

/* A text column: NULL for an empty string when empty_null. */
static Datum
leaks_text(const char *s, bool empty_null, bool *isnull)
{
	*isnull = empty_null && s[0] == '\0';
	return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/*
 * LeaksCopyHeld
 *		Copies of the slots held longer than their pool's threshold (the
 *		leaks view's rows and dashboard()'s).  Caller holds no lock.
 */
LeakRow *
LeaksCopyHeld(int *nrows, TimestampTz now)
{
	LeakRow    *rows = palloc(sizeof(LeakRow) * PoolShared->nslots);
	int			n = 0;
	int			p;
	int			i;

	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	for (p = 0; p < PoolShared->npools; p++)
	{
		PoolEntry  *pool = &PoolShared->pools[p];
		int			threshold;

		LWLockAcquire(&pool->lock, LW_SHARED);
		threshold = pool->in_use ? LeakThresholdMs(&pool->def) : 0;
		for (i = 0; threshold > 0 && i < PoolShared->nslots; i++)
		{
			SlotEntry  *slot = &PoolShared->slots[i];

			if (slot->pool != p || slot->holder_procno < 0 ||
				now < TimestampTzPlusMilliseconds(slot->acquired_at, threshold))
				continue;
			rows[n].slot = *slot;
			rows[n].leak = LeakShared->slots[i];
			strlcpy(rows[n].pool_name, pool->name, PGPOOL_NAME_LEN);
			strlcpy(rows[n].partition,
					PoolShared->partitions[slot->partition].key,
					PGPOOL_NAME_LEN);
			n++;
		}
		LWLockRelease(&pool->lock);
	}
	LWLockRelease(&PoolShared->lock);
	*nrows = n;
	return rows;
}

/* The status of backend pid in this transaction's snapshot, or NULL. */
static PgBackendStatus *
leaks_backend(int pid)
{
	int			n = pgstat_fetch_stat_numbackends();
	int			i;

	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = PGPOOL_LOCAL_BEENTRY(i);

		if (local != NULL && local->backendStatus.st_procpid == pid)
			return &local->backendStatus;
	}
	return NULL;
}

/* May the current user see a row of a backend of this session user? */
bool
LeaksVisible(Oid session_user)
{
	return has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS) ||
		(OidIsValid(session_user) &&
		 has_privs_of_role(GetUserId(), session_user));
}

/* Whether the copy has the acquire site of the handle it describes. */
bool
LeakRowHasSite(const LeakRow *row)
{
	return row->leak.handle == row->slot.handle && row->leak.has_site;
}

/*
 * LeakRowSessionUser
 *		The holder's session user, as captured with the acquire site, or
 *		else the role that acquired: whose row it is when the holder's
 *		backend status is not at hand.
 */
Oid
LeakRowSessionUser(const LeakRow *row)
{
	return LeakRowHasSite(row) ? row->leak.session_user :
		row->slot.holder_role;
}

/* pg_stat_activity's name of a backend state; NULL when it has none. */
static const char *
leaks_state_name(BackendState state)
{
	switch (state)
	{
		case STATE_IDLE:
			return "idle";
		case STATE_RUNNING:
			return "active";
		case STATE_IDLEINTRANSACTION:
			return "idle in transaction";
		case STATE_FASTPATH:
			return "fastpath function call";
		case STATE_IDLEINTRANSACTION_ABORTED:
			return "idle in transaction (aborted)";
		case STATE_DISABLED:
			return "disabled";
		default:
			return NULL;
	}
}

/* The client address of a backend as inet; NULL for a socket or none. */
static Datum
leaks_client_addr(PgBackendStatus *be, bool *isnull)
{
	char		host[NI_MAXHOST];
	int			family = be->st_clientaddr.addr.ss_family;

	*isnull = true;
	if (family != AF_INET && family != AF_INET6)
		return (Datum) 0;
	if (pg_getnameinfo_all(&be->st_clientaddr.addr, be->st_clientaddr.salen,
						   host, sizeof(host), NULL, 0,
						   NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return (Datum) 0;
	clean_ipv6_addr(family, host);
	*isnull = false;
	return DirectFunctionCall1(inet_in, CStringGetDatum(host));
}

#define LEAK_COLS 17

/*
 * leaks_put_row
 *		One row of the leaks view, if the current user may see it.
 */
static void
leaks_put_row(ReturnSetInfo *rsinfo, LeakRow *row, TimestampTz now)
{
	SlotEntry  *slot = &row->slot;
	LeakSlot   *ls = &row->leak;
	bool		mine = ls->handle == slot->handle;
	bool		site = LeakRowHasSite(row);
	PgBackendStatus *be = leaks_backend(slot->holder_pid);
	const char *state = be ? leaks_state_name(be->st_state) : NULL;
	char	   *s;
	Datum		v[LEAK_COLS];
	bool		n[LEAK_COLS];
	int			c = 0;

	if (!LeaksVisible(be ? be->st_userid : LeakRowSessionUser(row)))
		return;
	memset(n, 0, sizeof(n));
	v[c++] = Int64GetDatum(slot->handle);
	v[c++] = CStringGetTextDatum(row->pool_name);
	v[c] = leaks_text(row->partition, true, &n[c]);
	c++;
	v[c++] = Int32GetDatum(slot->holder_pid);
	s = GetUserNameFromId(slot->holder_role, true);
	v[c] = leaks_text(s ? s : "", true, &n[c]);
	c++;
	s = be ? get_database_name(be->st_databaseid) : NULL;
	v[c] = leaks_text(s ? s : "", true, &n[c]);
	c++;
	n[c] = be == NULL;
	v[c++] = be ? CStringGetTextDatum(be->st_appname) : (Datum) 0;
	if (be)
		v[c] = leaks_client_addr(be, &n[c]);
	else
		n[c] = true;
	c++;
	v[c] = leaks_text(state ? state : "", true, &n[c]);
	c++;
	v[c++] = TimestampTzGetDatum(slot->acquired_at);
	v[c++] = Float8GetDatum(leaks_seconds(slot->acquired_at, now));
	v[c++] = TimestampTzGetDatum(slot->last_used_at);
	v[c++] = Float8GetDatum(slot->state == SLOT_BUSY ? 0.0 :
							leaks_seconds(slot->last_used_at, now));
	v[c++] = Int64GetDatum(mine ? (int64) ls->requests : 0);
	n[c] = !site;
	v[c++] = site ? CStringGetTextDatum(ls->query) : (Datum) 0;
	n[c] = !site || ls->context[0] == '\0';
	v[c] = n[c] ? (Datum) 0 : CStringGetTextDatum(ls->context);
	c++;
	n[c] = ls->reported != slot->handle || ls->remote_xact < 0;
	v[c++] = BoolGetDatum(ls->remote_xact > 0);
	Assert(c == LEAK_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

/*
 * leak_info() -> the leaks view: one row per handle held longer than its
 * pool's leak threshold.
 */
Datum
pgpool_ext_leak_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now;
	LeakRow    *rows;
	int			nrows;
	int			i;

	PoolShmemCheckPreloaded();
	LookupWaitConfigLoaded(false);
	InitMaterializedSRF(fcinfo, 0);
	now = GetCurrentTimestamp();
	rows = LeaksCopyHeld(&nrows, now);
	for (i = 0; i < nrows; i++)
		leaks_put_row(rsinfo, &rows[i], now);
	return (Datum) 0;
}

#define EVENT_COLS 13

/*
 * leaks_put_event
 *		One row of the leak_history view, if the current user may see it.
 */
static void
leaks_put_event(ReturnSetInfo *rsinfo, LeakEvent *ev, TimestampTz now)
{
	Datum		v[EVENT_COLS];
	bool		n[EVENT_COLS];
	char	   *role = ev->role;
	int			c = 0;

	if (!LeaksVisible(ev->session_user))
		return;
	if (role[0] == '\0')
	{
		role = GetUserNameFromId(ev->role_oid, true);
		role = role ? role : "";
	}
	memset(n, 0, sizeof(n));
	v[c++] = TimestampTzGetDatum(ev->detected_at);
	v[c++] = Int64GetDatum(ev->handle);
	v[c++] = CStringGetTextDatum(ev->pool_name);
	v[c] = leaks_text(ev->partition, true, &n[c]);
	c++;
	v[c++] = Int32GetDatum(ev->holder_pid);
	v[c] = leaks_text(role, true, &n[c]);
	c++;
	v[c++] = CStringGetTextDatum(ev->application_name);
	v[c++] = TimestampTzGetDatum(ev->acquired_at);
	n[c] = !ev->has_site;
	v[c++] = ev->has_site ? CStringGetTextDatum(ev->query) : (Datum) 0;
	n[c] = !ev->has_site || ev->context[0] == '\0';
	v[c] = n[c] ? (Datum) 0 : CStringGetTextDatum(ev->context);
	c++;
	n[c] = ev->released_at == 0;
	v[c++] = TimestampTzGetDatum(ev->released_at);
	v[c++] = Float8GetDatum(leaks_seconds(ev->acquired_at,
										  ev->released_at ? ev->released_at : now));
	v[c++] = BoolGetDatum(ev->reclaimed);
	Assert(c == EVENT_COLS);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

/*
 * leak_history_info() -> the leak_history view: the last leak events,
 * oldest first.
 */
Datum
pgpool_ext_leak_history_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LeakEvent  *events;
	uint64		next;
	uint64		seq;
	TimestampTz now;

	PoolShmemCheckPreloaded();
	InitMaterializedSRF(fcinfo, 0);
	events = palloc(sizeof(LeakEvent) * PGPOOL_LEAK_HISTORY);
	LWLockAcquire(LeakShared->lock, LW_SHARED);
	memcpy(events, LeakShared->history, sizeof(LeakEvent) * PGPOOL_LEAK_HISTORY);
	next = LeakShared->next_seq;
	LWLockRelease(LeakShared->lock);
	now = GetCurrentTimestamp();

	seq = next > PGPOOL_LEAK_HISTORY ? next - PGPOOL_LEAK_HISTORY : 1;
	for (; seq < next; seq++)
	{
		LeakEvent  *ev = &events[seq % PGPOOL_LEAK_HISTORY];

		if (ev->seq == seq)
			leaks_put_event(rsinfo, ev, now);
	}
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * waitq.c
 *	  Ordering backends that wait for a connection.
 *
 * Each partition has one FIFO list per priority (low, normal, high,
 * critical).  The first waiter is the head of the highest non-empty list:
 * FIFO within a priority, higher priorities first.  A release hands its
 * connection to exactly that waiter (no barging, no thundering herd).
 *
 * Locking: every function here requires the lock of the pool that owns the
 * partition, held exclusively (WaitqPosition: shared is enough).
 *
 * src/shm/waitq.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "shm/usage.h"
#include "shm/waitq.h"

static const char *const priority_names[PGPOOL_NPRIORITIES] = {
	"low", "normal", "high", "critical"
};

/*
 * WaitqEnqueue
 *		Put a backend at the tail of its priority's list.
 */
void
WaitqEnqueue(PartitionEntry *part, BackendEntry *be)
{
	Assert(!be->waiting);
	dlist_push_tail(&part->waiters[be->priority], &be->wait_node);
	be->waiting = true;
	part->nwaiting++;
	UsageSync(part - PoolShared->partitions);
}

/*
 * WaitqPopFirst
 *		Remove and return the first waiter, or NULL if nobody waits.
 */
BackendEntry *
WaitqPopFirst(PartitionEntry *part)
{
	int			prio;

	for (prio = PGPOOL_NPRIORITIES - 1; prio >= 0; prio--)
	{
		if (!dlist_is_empty(&part->waiters[prio]))
		{
			BackendEntry *be = dlist_container(BackendEntry, wait_node,
											   dlist_pop_head_node(&part->waiters[prio]));

			be->waiting = false;
			part->nwaiting--;
			UsageSync(part - PoolShared->partitions);
			return be;
		}
	}
	return NULL;
}

/*
 * WaitqRemove
 *		Take a backend off its queue (timeout, cancel, exit).
 */
void
WaitqRemove(PartitionEntry *part, BackendEntry *be)
{
	if (!be->waiting)
		return;
	dlist_delete(&be->wait_node);
	be->waiting = false;
	part->nwaiting--;
	UsageSync(part - PoolShared->partitions);
}

/*
 * WaitqPosition
 *		1-based position of a waiter in the order it would be served.
 */
int
WaitqPosition(PartitionEntry *part, BackendEntry *be)
{
	int			pos = 0;
	int			prio;
	dlist_iter	iter;

	for (prio = PGPOOL_NPRIORITIES - 1; prio >= 0; prio--)
	{
		dlist_foreach(iter, &part->waiters[prio])
		{
			pos++;
			if (iter.cur == &be->wait_node)
				return pos;
		}
	}
	return 0;
}

/* Name of a priority level, as the SQL API spells it. */
const char *
WaitqPriorityName(PoolPriority prio)
{
	return priority_names[prio];
}

/* Parse a priority name; false if unknown. */
bool
WaitqParsePriority(const char *name, PoolPriority *prio)
{
	int			i;

	for (i = 0; i < PGPOOL_NPRIORITIES; i++)
	{
		if (pg_strcasecmp(name, priority_names[i]) == 0)
		{
			*prio = (PoolPriority) i;
			return true;
		}
	}
	return false;
}

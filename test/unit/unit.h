/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  What every unit test program shares: the CHECK macro and its failure
 *	  count, and a small deterministic random generator.
 *
 * Included once, by the program's own .c file, after postgres.h and the
 * C library's headers.
 *
 * Locking: none; the generator keeps its state in the caller's variable
 * (one a thread), failures is written by the checking thread.
 *
 * test/unit/unit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_UNIT_H
#define PGPOOL_UNIT_H

/* Use the C library's, not libpgport's (these programs do not link it). */
#undef printf
#undef fprintf
#undef snprintf
#undef qsort

static int	failures = 0;

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			failures++; \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, "\n"); \
		} \
	} while (0)

/*
 * rng_next
 *		xorshift64*: a small deterministic generator, one state per thread.
 */
static inline uint64
rng_next(uint64 *state)
{
	uint64		x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64CONST(2685821657736338717);
}

/* A double in [0, 1). */
static inline double
rng_unit(uint64 *state)
{
	return (double) (rng_next(state) >> 11) / 9007199254740992.0;
}

#endif							/* PGPOOL_UNIT_H */

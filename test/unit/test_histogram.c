/*-------------------------------------------------------------------------
 *
 * test_histogram.c
 *	  Unit test of src/shm/histogram.c: the bucket scheme, the 5 % error
 *	  claim, merging, the one-minute ring, concurrent recording, and a
 *	  micro-benchmark.
 *
 * A standalone program built against the server headers and linked with
 * histogram.c alone ("make unit-check"); no server runs.  Every check
 * prints what failed; the exit status is 1 if any did.  The timings are
 * printed, never asserted.
 *
 * Locking: the histograms live in this program's memory and are shared by
 * its threads exactly as backends share them in shared memory.
 *
 * test/unit/test_histogram.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shm/histogram.h"
#include "unit.h"

#define ONE_HOUR_US		UINT64CONST(3600000000)
#define MAX_VALUES		200000

#ifdef USE_ASSERT_CHECKING
/* Assert() in the atomics calls this server function; stand in for it. */
#if PG_VERSION_NUM >= 160000
void
ExceptionalCondition(const char *conditionName, const char *fileName,
					 int lineNumber)
#else
void
ExceptionalCondition(const char *conditionName, const char *errorType,
					 const char *fileName, int lineNumber)
#endif
{
	fprintf(stderr, "assertion \"%s\" failed at %s:%d\n",
			conditionName, fileName, lineNumber);
	abort();
}
#endif

/* The percentiles every check asks for, in parts per million. */
static const uint64 quantiles_ppm[] = {500000, 900000, 950000, 990000, 999000};

/* A standard normal deviate (Box-Muller). */
static double
rng_normal(uint64 *state)
{
	double		u = rng_unit(state);
	double		v = rng_unit(state);

	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* Distributions to check the error claim on. */
typedef enum Dist
{
	DIST_UNIFORM_SMALL,			/* 0 .. 1 ms */
	DIST_UNIFORM_WIDE,			/* 10 µs .. 1 h */
	DIST_LOG_UNIFORM,			/* 10 µs .. 1 h, uniform in log */
	DIST_BIMODAL,				/* log-normal around 200 µs and 50 ms */
	DIST_EXPONENTIAL,			/* mean 5 ms */
	DIST_CONSTANT,				/* one value */
	DIST_OVERFLOW				/* around 3 h, past the last bound */
} Dist;

static const char *const dist_names[] = {
	"uniform 0..1ms", "uniform 10us..1h", "log-uniform 10us..1h",
	"bimodal", "exponential", "constant", "overflow"
};

/*
 * draw
 *		One value of a distribution, µs.
 */
static uint64
draw(Dist dist, uint64 *state, uint64 constant)
{
	switch (dist)
	{
		case DIST_UNIFORM_SMALL:
			return rng_next(state) % 1001;
		case DIST_UNIFORM_WIDE:
			return 10 + rng_next(state) % (ONE_HOUR_US - 9);
		case DIST_LOG_UNIFORM:
			return (uint64) exp(log(10.0) + rng_unit(state) *
								(log((double) ONE_HOUR_US) - log(10.0)));
		case DIST_BIMODAL:
			if (rng_unit(state) < 0.7)
				return (uint64) exp(log(200.0) + 0.5 * rng_normal(state));
			return (uint64) exp(log(50000.0) + 0.8 * rng_normal(state));
		case DIST_EXPONENTIAL:
			return (uint64) (-5000.0 * log(1.0 - rng_unit(state)));
		case DIST_CONSTANT:
			return constant;
		case DIST_OVERFLOW:
			return 3 * ONE_HOUR_US * 3 + rng_next(state) % ONE_HOUR_US;
	}
	return 0;
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/*
 * slow_index
 *		The bucket of a value from the bounds alone, by a linear scan.
 */
static int
slow_index(uint64 us)
{
	int			i;

	for (i = HIST_NBUCKETS - 1; i > 0; i--)
		if (us >= HistBucketLower(i))
			return i;
	return 0;
}

/*
 * check_index
 *		HistBucketIndex agrees with the bounds for one value.
 */
static void
check_index(uint64 us)
{
	int			fast = HistBucketIndex(us);
	int			slow = slow_index(us);

	CHECK(fast == slow, "value " UINT64_FORMAT ": bucket %d, expected %d",
		  us, fast, slow);
}

/*
 * test_bounds
 *		Bounds increase, cover 0 .. more than an hour, every bucket is
 *		narrow enough for 5 %, and the lookup finds the right bucket.
 */
static void
test_bounds(void)
{
	double		worst = 0.0;
	uint64		state = 42;
	uint64		us;
	int			i;
	int			e;

	CHECK(HistBucketLower(0) == 0, "bucket 0 starts at 0");
	CHECK(HistBucketUpper(0) == 10, "bucket 0 ends at 10 µs");
	CHECK(HistBucketUpper(HIST_NBUCKETS - 1) == HIST_NO_BOUND,
		  "overflow bucket unbounded");
	CHECK(HistBucketLower(HIST_NBUCKETS - 1) >= ONE_HOUR_US,
		  "buckets cover an hour");
	for (i = 0; i < HIST_NBUCKETS - 1; i++)
	{
		uint64		lo = HistBucketLower(i);
		uint64		hi = HistBucketUpper(i);

		CHECK(lo < hi, "bucket %d: [" UINT64_FORMAT ", " UINT64_FORMAT ")",
			  i, lo, hi);
		CHECK(HistBucketLower(i + 1) == hi, "bucket %d: bounds meet", i);
		if (i > 0)
		{
			double		rep = HistBucketValue(i);
			double		err_lo = fabs(rep - lo) / lo;
			double		err_hi = fabs(rep - (hi - 1)) / (hi - 1);

			worst = Max(worst, Max(err_lo, err_hi));
			CHECK(err_lo <= 0.05 && err_hi <= 0.05,
				  "bucket %d [" UINT64_FORMAT ", " UINT64_FORMAT
				  "): value %.3f off by %.4f / %.4f",
				  i, lo, hi, rep, err_lo, err_hi);
		}
		if (i % HIST_PER_DECADE == 0)
			CHECK(hi % 10 == 0, "bucket %d: decade bound " UINT64_FORMAT,
				  i, hi);
	}
	CHECK(HistBucketValue(0) >= 0 && HistBucketValue(0) < 10,
		  "bucket 0 value");

	/* every value up to 2 s, then around every bound, then at random */
	for (us = 0; us <= 2000000; us++)
		check_index(us);
	for (i = 1; i < HIST_NBUCKETS; i++)
	{
		check_index(HistBucketLower(i) - 1);
		check_index(HistBucketLower(i));
		check_index(HistBucketLower(i) + 1);
	}
	for (e = 0; e < 64; e++)
	{
		uint64		p = UINT64CONST(1) << e;

		check_index(p - 1);
		check_index(p);
		check_index(p + 1);
	}
	for (i = 0; i < 1000000; i++)
		check_index(rng_next(&state) >> (rng_next(&state) % 64));
	check_index(PG_UINT64_MAX);

	printf("buckets: %d (g = 10^(1/%d) = %.4f), [0, %d) us, ..., "
		   "overflow from " UINT64_FORMAT " us (%.2f h); "
		   "worst bucket error %.3f %%\n",
		   HIST_NBUCKETS, HIST_PER_DECADE, pow(10.0, 1.0 / HIST_PER_DECADE),
		   HIST_FIRST_BOUND, HistBucketLower(HIST_NBUCKETS - 1),
		   HistBucketLower(HIST_NBUCKETS - 1) / 3.6e9, worst * 100.0);
}

/*
 * check_snapshot
 *		A snapshot of values[0..n) against the exact figures: count, sum,
 *		max, mean exact; every percentile within 5 % (10 µs absolute below
 *		10 µs); buckets as the iterator and Prometheus see them.
 */
static void
check_snapshot(const char *what, const HistSnapshot *snap,
			   uint64 *values, int n)
{
	uint64		sum = 0;
	uint64		prom[HIST_PROM_NBOUNDS];
	HistBucketIter it = {0};
	uint64		iterated = 0;
	int			i;
	int			k;

	qsort(values, n, sizeof(uint64), cmp_uint64);
	for (i = 0; i < n; i++)
		sum += values[i];
	CHECK(snap->count == (uint64) n, "%s: count " UINT64_FORMAT " != %d",
		  what, snap->count, n);
	CHECK(snap->sum == sum, "%s: sum", what);
	CHECK(snap->max == (n ? values[n - 1] : 0), "%s: max " UINT64_FORMAT,
		  what, snap->max);
	CHECK(n == 0 || HistSnapMean(snap) == (double) sum / n, "%s: mean", what);

	for (k = 0; n > 0 && k < lengthof(quantiles_ppm); k++)
	{
		double		q = quantiles_ppm[k] / 1e6;
		uint64		rank = Max((n * quantiles_ppm[k] + 999999) / 1000000, 1);
		uint64		exact = values[rank - 1];
		double		got = HistSnapPercentile(snap, q);

		CHECK(HistSnapRank(n, q) == rank, "%s: rank of %g", what, q);
		if (exact >= HistBucketLower(HIST_NBUCKETS - 1))
			CHECK(got == (double) snap->max,
				  "%s: p%g in the overflow bucket is the max", what, q * 100);
		else if (exact >= HIST_FIRST_BOUND)
			CHECK(fabs(got - exact) <= 0.05 * exact,
				  "%s: p%g = %.2f, exact " UINT64_FORMAT " (%.2f %%)",
				  what, q * 100, got, exact, 100 * fabs(got - exact) / exact);
		else
			CHECK(fabs(got - exact) < HIST_FIRST_BOUND,
				  "%s: p%g = %.2f, exact " UINT64_FORMAT,
				  what, q * 100, got, exact);
	}

	/* the non-empty buckets hold exactly the values within their bounds */
	i = 0;
	while (HistSnapNextBucket(snap, &it))
	{
		uint64		in = 0;

		while (i < n && values[i] < it.lower)
			i++;
		CHECK(i == (int) iterated, "%s: values below bucket %d", what,
			  it.index);
		while (i < n && values[i] < it.upper)
			i++, in++;
		CHECK(in == it.count && it.count > 0, "%s: bucket %d count", what,
			  it.index);
		iterated += it.count;
		CHECK(it.cumulative == iterated, "%s: cumulative", what);
	}
	CHECK(iterated == (uint64) n, "%s: buckets sum to the count", what);

	/* the Prometheus counts are exact: values below each bound */
	HistSnapPromCounts(snap, prom);
	for (k = 0; k < HIST_PROM_NBOUNDS; k++)
	{
		uint64		below = 0;

		for (i = 0; i < n && values[i] < HistPromBound(k); i++)
			below++;
		CHECK(prom[k] == below, "%s: le=" UINT64_FORMAT, what,
			  HistPromBound(k));
	}
}

/*
 * test_distributions
 *		The 5 % claim on many distributions, sizes and seeds; a merge of
 *		three histograms equals one recording everything.
 */
static void
test_distributions(void)
{
	static const int sizes[] = {1, 2, 3, 10, 100, 1000, 10007, MAX_VALUES};
	static const uint64 constants[] = {0, 7, 10, 11, 999, 123457, ONE_HOUR_US};
	uint64	   *values = malloc(sizeof(uint64) * MAX_VALUES);
	Histogram  *one = malloc(sizeof(Histogram));
	Histogram  *parts = malloc(sizeof(Histogram) * 3);
	HistSnapshot snap;
	HistSnapshot merged;
	HistSnapshot part;
	int			checked = 0;
	int			d;

	for (d = DIST_UNIFORM_SMALL; d <= DIST_OVERFLOW; d++)
	{
		int			s;

		for (s = 0; s < lengthof(sizes); s++)
		{
			int			seed;

			for (seed = 1; seed <= (sizes[s] < 10000 ? 20 : 3); seed++)
			{
				uint64		state = seed * 7919 + s * 104729 + d;
				uint64		constant = constants[seed % lengthof(constants)];
				char		what[128];
				int			i;

				HistogramInit(one);
				for (i = 0; i < 3; i++)
					HistogramInit(&parts[i]);
				for (i = 0; i < sizes[s]; i++)
				{
					values[i] = draw(d, &state, constant);
					HistogramRecord(one, values[i]);
					HistogramRecord(&parts[rng_next(&state) % 3], values[i]);
				}
				HistogramCopy(one, &snap);
				HistSnapInit(&merged);
				for (i = 0; i < 3; i++)
				{
					HistogramCopy(&parts[i], &part);
					HistSnapMerge(&merged, &part);
				}
				snprintf(what, sizeof(what), "%s n=%d seed=%d",
						 dist_names[d], sizes[s], seed);
				CHECK(memcmp(&snap, &merged, sizeof(snap)) == 0,
					  "%s: merge differs", what);
				check_snapshot(what, &snap, values, sizes[s]);
				checked++;
			}
		}
	}

	/* a reset histogram is empty */
	HistogramReset(one);
	HistogramCopy(one, &snap);
	CHECK(snap.count == 0 && snap.sum == 0 && snap.max == 0, "reset");
	CHECK(HistSnapPercentile(&snap, 0.5) == 0 && HistSnapMean(&snap) == 0,
		  "empty snapshot");

	printf("distributions: %d samples checked\n", checked);
	free(values);
	free(one);
	free(parts);
}

/*
 * ring_count
 *		How many values a ring reads back at a minute.
 */
static uint64
ring_count(const HistRing *ring, uint64 minute)
{
	HistSnapshot snap;

	HistRingRead(ring, minute, &snap);
	return snap.count;
}

/*
 * test_ring
 *		Values recorded in minutes m-6 .. m read back only for m-4 .. m,
 *		with the rotate on time, late or never; the clock going back; reset.
 */
static void
test_ring(void)
{
	HistRing   *ring = malloc(sizeof(HistRing));
	const uint64 base = 13000000;	/* a minute of 2024 */
	HistSnapshot snap;
	int			rotate;

	for (rotate = 0; rotate < 3; rotate++)
	{
		uint64		m;

		HistRingInit(ring);
		/* minute base + k gets k + 1 values of 100 * (k + 1) µs */
		for (m = base; m <= base + 12; m++)
		{
			uint64		k = m - base;
			uint64		expect = 0;
			uint64		j;

			/* 0: rotate every minute; 1: every third minute; 2: never */
			if (rotate == 0 || (rotate == 1 && k % 3 == 0))
				HistRingRotate(ring, m);
			for (j = 0; j <= k; j++)
				CHECK(HistRingRecord(ring, m, 100 * (k + 1)),
					  "rotate %d: minute +" UINT64_FORMAT " dropped",
					  rotate, k);
			for (j = (k >= 4 ? k - 4 : 0); j <= k; j++)
				expect += j + 1;
			HistRingRead(ring, m, &snap);
			CHECK(snap.count == expect,
				  "rotate %d: minute +" UINT64_FORMAT ": read " UINT64_FORMAT
				  ", expected " UINT64_FORMAT, rotate, k, snap.count, expect);
			CHECK(snap.max == 100 * (k + 1), "rotate %d: max", rotate);
			/* one minute later, without any new value: one minute less */
			CHECK(ring_count(ring, m + 1) == expect - (k >= 4 ? k - 3 : 0),
				  "rotate %d: minute +" UINT64_FORMAT " read a minute on",
				  rotate, k);
		}
		/* minutes m-6 .. m recorded; read back at m: only m-4 .. m */
		HistRingRead(ring, base + 12, &snap);
		CHECK(snap.count == 9 + 10 + 11 + 12 + 13, "window of 5 minutes");
		CHECK(snap.sum == 100 * (81 + 100 + 121 + 144 + 169), "window sum");
		CHECK(ring_count(ring, base + 17) == 0, "all stale after 5 min");
		CHECK(pg_atomic_read_u64(&ring->dropped) == 0, "nothing dropped");
	}

	/* the clock goes back an hour: the slots from the future are reclaimed */
	HistRingInit(ring);
	HistRingRecord(ring, base + 60, 5);
	CHECK(HistRingRecord(ring, base, 7), "clock back: recorded");
	HistRingRead(ring, base, &snap);
	CHECK(snap.count == 1 && snap.sum == 7, "clock back: only the new value");

	/* back six minutes exactly: the slot is the next minute's, dropped */
	HistRingInit(ring);
	HistRingRotate(ring, base + 5);
	CHECK(!HistRingRecord(ring, base, 9), "stalled recorder dropped");
	CHECK(pg_atomic_read_u64(&ring->dropped) == 1, "dropped counted");

	HistRingRecord(ring, base + 5, 3);
	HistRingReset(ring);
	CHECK(ring_count(ring, base + 5) == 0, "ring reset");
	CHECK(HistRingRecord(ring, base + 5, 3) && ring_count(ring, base + 5) == 1,
		  "recording after a reset");
	free(ring);
}

/* Shared by the threads of the concurrency tests. */
typedef struct ThreadArg
{
	Histogram  *hist;
	HistRing   *ring;
	pg_atomic_uint64 *clock;	/* the minute, advanced by the ticker */
	pg_atomic_uint64 *stop;
	uint64		base;
	int			nvalues;
	uint64		seed;
	uint64		sum;			/* out: sum of the values recorded */
	uint64		max;			/* out: their maximum */
	uint64		recorded;		/* out: values recorded */
	uint64		per_minute[64]; /* out: ring successes by minute - base */
} ThreadArg;

/*
 * recorder
 *		Record nvalues values (or until stop with nvalues 0) into the shared
 *		histogram and ring at the ticker's minute.
 */
static void *
recorder(void *p)
{
	ThreadArg  *a = p;
	uint64		state = a->seed;
	int			i;

	for (i = 0; a->nvalues ? i < a->nvalues :
		 !pg_atomic_read_u64(a->stop); i++)
	{
		uint64		us = draw(DIST_LOG_UNIFORM, &state, 0);
		uint64		minute = pg_atomic_read_u64(a->clock);

		HistogramRecord(a->hist, us);
		if (HistRingRecord(a->ring, minute, us))
			a->per_minute[minute - a->base]++;
		a->sum += us;
		a->max = Max(a->max, us);
		a->recorded++;
	}
	return NULL;
}

/*
 * ticker
 *		Advance the minute every 20 ms for 12 minutes, rotating the ring
 *		as the janitor would (and every other minute not at all: late).
 */
static void *
ticker(void *p)
{
	ThreadArg  *a = p;
	struct timespec pause = {0, 20 * 1000 * 1000};
	int			k;

	for (k = 1; k <= 12; k++)
	{
		nanosleep(&pause, NULL);
		if (k % 2 == 0)
			HistRingRotate(a->ring, a->base + k);
		pg_atomic_write_u64(a->clock, a->base + k);
		if (k % 2 == 0)
			HistRingRotate(a->ring, a->base + k);
	}
	nanosleep(&pause, NULL);
	pg_atomic_write_u64(a->stop, 1);
	return NULL;
}

/*
 * test_threads
 *		Several threads recording into one histogram and one ring lose no
 *		count; with the minute moving under them, each minute of the window
 *		holds exactly what was recorded for it.
 */
static void
test_threads(void)
{
#define NTHREADS 4
	Histogram  *hist = malloc(sizeof(Histogram));
	HistRing   *ring = malloc(sizeof(HistRing));
	pg_atomic_uint64 clock;
	pg_atomic_uint64 stop;
	ThreadArg	args[NTHREADS + 1];
	pthread_t	threads[NTHREADS + 1];
	HistSnapshot snap;
	int			round;
	int			t;

	for (round = 0; round < 2; round++)
	{
		uint64		sum = 0;
		uint64		max = 0;
		uint64		recorded = 0;
		uint64		in_window = 0;
		uint64		ringed = 0;
		uint64		last;
		int			m;

		HistogramInit(hist);
		HistRingInit(ring);
		pg_atomic_init_u64(&clock, 13000000);
		pg_atomic_init_u64(&stop, 0);
		memset(args, 0, sizeof(args));
		for (t = 0; t <= NTHREADS; t++)
		{
			args[t].hist = hist;
			args[t].ring = ring;
			args[t].clock = &clock;
			args[t].stop = &stop;
			args[t].base = 13000000;
			args[t].nvalues = round == 0 ? 500000 : 0;
			args[t].seed = 1000 + t;
			if (t < NTHREADS)
				pthread_create(&threads[t], NULL, recorder, &args[t]);
			else if (round == 1)
				pthread_create(&threads[t], NULL, ticker, &args[t]);
		}
		for (t = 0; t < NTHREADS + round; t++)
			pthread_join(threads[t], NULL);

		for (t = 0; t < NTHREADS; t++)
		{
			sum += args[t].sum;
			max = Max(max, args[t].max);
			recorded += args[t].recorded;
		}
		last = pg_atomic_read_u64(&clock);
		for (m = 0; m < 64; m++)
			for (t = 0; t < NTHREADS; t++)
			{
				ringed += args[t].per_minute[m];
				if (last - (13000000 + m) < HIST_RING_MINUTES)
					in_window += args[t].per_minute[m];
			}

		HistogramCopy(hist, &snap);
		CHECK(snap.count == recorded, "threads round %d: count " UINT64_FORMAT
			  " != " UINT64_FORMAT, round, snap.count, recorded);
		CHECK(snap.sum == sum && snap.max == max, "threads round %d: sum, max",
			  round);
		CHECK(ringed + pg_atomic_read_u64(&ring->dropped) == recorded,
			  "threads round %d: every value ringed or dropped", round);
		HistRingRead(ring, last, &snap);
		CHECK(snap.count == in_window, "threads round %d: window "
			  UINT64_FORMAT " != " UINT64_FORMAT,
			  round, snap.count, in_window);
		printf("threads round %d: %d threads, " UINT64_FORMAT " values, "
			   UINT64_FORMAT " in the last 5 minutes, " UINT64_FORMAT
			   " dropped from the ring\n", round, NTHREADS, recorded,
			   in_window, pg_atomic_read_u64(&ring->dropped));
	}
	free(hist);
	free(ring);
}

/*
 * elapsed_ns
 *		Nanoseconds between two clock readings.
 */
static double
elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e9 + (b->tv_nsec - a->tv_nsec);
}

/*
 * bench
 *		Time HistogramRecord and HistRingRecord on log-uniform values (one
 *		thread, warm cache).  Printed, not asserted.
 */
static void
bench(void)
{
#define NBENCH 10000000
#define NPOOL 4096
	static uint64 pool[NPOOL];
	Histogram  *hist = malloc(sizeof(Histogram));
	HistRing   *ring = malloc(sizeof(HistRing));
	struct timespec t0;
	struct timespec t1;
	struct timespec t2;
	uint64		state = 7;
	volatile int sink = 0;
	int			i;

	for (i = 0; i < NPOOL; i++)
		pool[i] = draw(DIST_LOG_UNIFORM, &state, 0);
	HistogramInit(hist);
	HistRingInit(ring);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NBENCH; i++)
		sink += HistBucketIndex(pool[i % NPOOL]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < NBENCH; i++)
		HistogramRecord(hist, pool[i % NPOOL]);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	printf("bench: HistBucketIndex %.1f ns, HistogramRecord %.1f ns",
		   elapsed_ns(&t0, &t1) / NBENCH, elapsed_ns(&t1, &t2) / NBENCH);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NBENCH; i++)
		HistRingRecord(ring, 13000000, pool[i % NPOOL]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf(", HistRingRecord %.1f ns (per value)\n",
		   elapsed_ns(&t0, &t1) / NBENCH);
	(void) sink;
	free(hist);
	free(ring);
}

/*
 * show_layout
 *		Print the sizes and the Prometheus bounds (for the documentation).
 */
static void
show_layout(void)
{
	size_t		kind = sizeof(Histogram) + sizeof(HistRing);
	char		label[HIST_PROM_LABEL_LEN];
	int			k;

	printf("memory: Histogram %zu bytes, HistRing %zu bytes, one kind %zu, "
		   "3 kinds a partition %zu, 80 partitions %.2f MB\n",
		   sizeof(Histogram), sizeof(HistRing), kind, 3 * kind,
		   80 * 3 * kind / 1e6);
	printf("prometheus le (s):");
	for (k = 0; k < HIST_PROM_NBOUNDS; k++)
	{
		HistPromLabel(k, label);
		printf(" %s", label);
		CHECK(fabs(strtod(label, NULL) * 1e6 - HistPromBound(k)) < 1e-3,
			  "label %s for " UINT64_FORMAT " µs", label, HistPromBound(k));
		CHECK(k == 0 || HistPromBound(k) > HistPromBound(k - 1),
			  "prometheus bounds increase");
	}
	printf(" +Inf\n");
	CHECK(HistPromBound(0) <= 100, "first le at or below 100 µs");
}

int
main(void)
{
	HistBoundsInit();
	show_layout();
	test_bounds();
	test_distributions();
	test_ring();
	test_threads();
	bench();
	if (failures > 0)
	{
		printf("test_histogram: %d check(s) FAILED\n", failures);
		return 1;
	}
	printf("test_histogram: all checks passed\n");
	return 0;
}

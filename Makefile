# Makefile for pgpool_ext (PGXS)

MODULE_big = pgpool_ext
OBJS = \
	src/pgpool_ext.o \
	src/common/guc.o \
	src/common/interval.o \
	src/common/conninfo.o \
	src/common/pgpool_errors.o \
	src/shm/shmem.o \
	src/shm/pool.o \
	src/shm/waitq.o \
	src/shm/stats.o \
	src/shm/leaks.o \
	src/proto/remote_error.o \
	src/backend/handle.o \
	src/backend/channel.o \
	src/backend/catalog_hooks.o \
	src/backend/leak_site.o \
	src/worker/worker.o \
	src/worker/conn.o \
	src/worker/cancel.o \
	src/worker/cancel_key.o \
	src/worker/resolve.o \
	src/worker/janitor.o \
	src/worker/leaks.o \
	src/sql/api.o \
	src/sql/query.o \
	src/sql/views.o \
	src/sql/leaks.o

EXTENSION = pgpool_ext
DATA = sql/pgpool_ext--0.1.sql sql/pgpool_ext--0.1--0.2.sql sql/pgpool_ext--0.2--0.3.sql
PGFILEDESC = "pgpool_ext - pool of outbound PostgreSQL connections"

PG_CPPFLAGS = -I$(libpq_srcdir) -Isrc
PG_CFLAGS = -Wall -Wextra -Werror -Wmissing-prototypes -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lanl

# The library must be preloaded, so every suite runs on its own temporary
# instance started with test/pgpool_ext.conf.
REGRESS = setup pools handles query security views leaks
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=test/pgpool_ext.conf

ISOLATION = queue_order handoff cancel_wait xact_release
ISOLATION_OPTS = --temp-instance=./tmp_check_iso --temp-config=test/pgpool_ext_iso.conf \
	--inputdir=test/isolation --outputdir=test/isolation/output_iso
EXTRA_CLEAN = test/isolation/output_iso

TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on every header: shared-memory structs must agree.
$(OBJS): $(wildcard src/*/*.h)

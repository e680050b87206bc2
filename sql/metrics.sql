--
-- metrics: pgpool_ext.metrics(format) in its three formats, its errors and
-- privileges.  Only the series of this test's pool are shown (others may
-- be left by earlier tests); the HELP and TYPE lines are all shown.
--
SELECT pgpool_ext.create_pool('m', 'dbname=contrib_regression', max_size => 2,
                              min_size => 0);
SELECT pgpool_ext.acquire('m') AS h \gset
SELECT pgpool_ext.release(:h);
SELECT wait_for($$(SELECT idle = 1 FROM pgpool_ext.pools WHERE pool_name = 'm')$$);

-- the default format is prometheus
SELECT pgpool_ext.metrics() = pgpool_ext.metrics('prometheus') AS default_is_prometheus;

-- every metric has a HELP and a TYPE line, in this order
SELECT line
  FROM regexp_split_to_table(pgpool_ext.metrics('prometheus'), E'\n') WITH ORDINALITY t(line, n)
 WHERE line LIKE '#%'
 ORDER BY n;

-- the samples of pool m (sizes, counters, connections by state, waiters,
-- the count of each histogram; durations vary, their buckets are below)
SELECT line
  FROM regexp_split_to_table(pgpool_ext.metrics('prometheus'), E'\n') WITH ORDINALITY t(line, n)
 WHERE line LIKE '%pool="m"%' AND line NOT LIKE 'pgpool_ext_stats_reset%'
   AND line !~ '_seconds_(bucket|sum)'
 ORDER BY n;
-- histograms: the bucket set (seconds), cumulative counts, +Inf = _count,
-- _sum = the latency view's mean * count
WITH s AS (
  SELECT substring(line FROM '^(pgpool_ext_[a-z]+_seconds)_') AS name,
         substring(line FROM 'le="([^"]*)"') AS le,
         split_part(line, ' ', 2)::float8 AS v, n
    FROM regexp_split_to_table(pgpool_ext.metrics('prometheus'), E'\n') WITH ORDINALITY t(line, n)
   WHERE line LIKE 'pgpool_ext_%_seconds_bucket{pool="m",partition=""%')
SELECT name, string_agg(le, ' ' ORDER BY n) AS bounds,
       bool_and(v >= coalesce(prev, 0)) AS cumulative
  FROM (SELECT *, lag(v) OVER (PARTITION BY name ORDER BY n) AS prev FROM s) x
 GROUP BY name ORDER BY name;
SELECT l.kind, l.count,
       (SELECT split_part(line, ' ', 2)::bigint
          FROM regexp_split_to_table(pgpool_ext.metrics(), E'\n') line
         WHERE line LIKE 'pgpool_ext_' || l.kind || '_seconds_bucket{pool="m",partition="",le="+Inf"}%')
       AS inf_bucket,
       (SELECT abs(split_part(line, ' ', 2)::float8 - coalesce(l.mean * l.count, 0)) < 1e-6
          FROM regexp_split_to_table(pgpool_ext.metrics(), E'\n') line
         WHERE line LIKE 'pgpool_ext_' || l.kind || '_seconds_sum{pool="m",partition=""}%')
       AS sum_ok
  FROM pgpool_ext.latency l
 WHERE l.pool_name = 'm' AND l.partition = '' AND l.time_window = 'total'
 ORDER BY l.kind;
SELECT count(*) AS worker_up FROM regexp_split_to_table(pgpool_ext.metrics(), E'\n') line
 WHERE line = 'pgpool_ext_worker_up 1';
-- stats_reset is a Unix time
SELECT abs(split_part(line, ' ', 2)::float8 - extract(epoch FROM stats_reset)) < 0.001 AS reset_ok
  FROM regexp_split_to_table(pgpool_ext.metrics(), E'\n') line, pgpool_ext.pools
 WHERE line LIKE 'pgpool_ext_stats_reset_timestamp_seconds{pool="m"}%' AND pool_name = 'm';

-- csv: a header, then one line per sample, the same samples as prometheus
SELECT split_part(pgpool_ext.metrics('csv'), E'\n', 1) AS header;
SELECT line
  FROM regexp_split_to_table(pgpool_ext.metrics('csv'), E'\n') WITH ORDINALITY t(line, n)
 WHERE line LIKE '%pool=""m""%' AND line NOT LIKE 'pgpool_ext_stats_reset%'
   AND line !~ '_seconds_(bucket|sum)'
 ORDER BY n;
SELECT (SELECT count(*) FROM regexp_split_to_table(pgpool_ext.metrics('csv'), E'\n') l
         WHERE l <> '') - 1 =
       (SELECT count(*) FROM regexp_split_to_table(pgpool_ext.metrics('prometheus'), E'\n') l
         WHERE l <> '' AND l NOT LIKE '#%') AS same_samples;

-- json: one document; its metrics in order, with type and help
SELECT m->>'name' AS name, m->>'type' AS type, m->>'help' <> '' AS has_help
  FROM jsonb_array_elements(pgpool_ext.metrics('json')::jsonb -> 'metrics') m;
SELECT m->>'name' AS name, s->'labels' AS labels, coalesce(s->'value', s->'count') AS value
  FROM jsonb_array_elements(pgpool_ext.metrics('json')::jsonb -> 'metrics') m,
       jsonb_array_elements(m->'samples') s
 WHERE s->'labels'->>'pool' = 'm' AND m->>'name' <> 'pgpool_ext_stats_reset_timestamp_seconds';
-- a histogram: its buckets (le in seconds, cumulative count; +Inf is the
-- count), sum and count, as in the Prometheus text
SELECT m->>'name' AS name, jsonb_array_length(s->'buckets') AS nbuckets,
       s->'buckets'->0->'le' AS first_le,
       (s->'buckets'->-1->>'count')::bigint <= (s->>'count')::bigint AS last_le_count,
       (SELECT string_agg(b->>'le', ' ') FROM jsonb_array_elements(s->'buckets') b)
       = (SELECT string_agg(substring(line FROM 'le="([^"]*)"'), ' ')
            FROM regexp_split_to_table(pgpool_ext.metrics(), E'\n') line
           WHERE line LIKE (m->>'name') || '_bucket{pool="m",partition=""%'
             AND line NOT LIKE '%+Inf%') AS same_bounds
  FROM jsonb_array_elements(pgpool_ext.metrics('json')::jsonb -> 'metrics') m,
       jsonb_array_elements(m->'samples') s
 WHERE m->>'type' = 'histogram' AND s->'labels'->>'pool' = 'm';

-- labels are escaped: \ " and newline in a pool name or partition key
SELECT pgpool_ext.create_pool(E'm"\\\n', 'dbname=contrib_regression', max_size => 1,
                              min_size => 0);
SELECT pgpool_ext.acquire(E'm"\\\n', partition => E'k"\\\n') AS h \gset
SELECT pgpool_ext.release(:h);
SELECT line
  FROM regexp_split_to_table(pgpool_ext.metrics(), E'\n') WITH ORDINALITY t(line, n)
 WHERE line LIKE 'pgpool_ext_waiting_clients{pool="m\\"%'
 ORDER BY n;
SELECT line
  FROM regexp_split_to_table(pgpool_ext.metrics('csv'), E'\n') WITH ORDINALITY t(line, n)
 WHERE line LIKE 'pgpool_ext_waiting_clients,"pool=""m\\""%'
 ORDER BY n;
SELECT s->'labels' AS labels
  FROM jsonb_array_elements(pgpool_ext.metrics('json')::jsonb -> 'metrics') m,
       jsonb_array_elements(m->'samples') s
 WHERE m->>'name' = 'pgpool_ext_waiting_clients' AND s->'labels'->>'pool' = E'm"\\\n';
SELECT pgpool_ext.drop_pool(E'm"\\\n');

-- errors: an unknown format, NULL
SELECT err($$SELECT pgpool_ext.metrics('xml')$$, true);
SELECT err($$SELECT pgpool_ext.metrics('Prometheus')$$);
SELECT pgpool_ext.metrics(NULL) IS NULL AS null_gives_null;

-- no password: conninfo is not part of the metrics
SELECT pgpool_ext.create_pool('m_pw', 'dbname=contrib_regression password=secret_pw',
                              max_size => 1, min_size => 0);
SELECT position('secret_pw' IN pgpool_ext.metrics(f)) AS pw_pos
  FROM unnest(ARRAY['prometheus', 'json', 'csv']) f;
SELECT pgpool_ext.drop_pool('m_pw');

-- privileges: like the views, superusers and pg_read_all_stats
CREATE ROLE regress_metrics_user;
CREATE ROLE regress_metrics_stats IN ROLE pg_read_all_stats;
SET ROLE regress_metrics_user;
SELECT err($$SELECT pgpool_ext.metrics()$$);
SET ROLE regress_metrics_stats;
SELECT pgpool_ext.metrics() LIKE '%pgpool_ext_pool_max_size{pool="m"} 2%' AS stats_role_reads;
RESET ROLE;
DROP ROLE regress_metrics_user, regress_metrics_stats;

SELECT pgpool_ext.drop_pool('m');

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

-- the samples of pool m (sizes, counters, connections by state, waiters)
SELECT line
  FROM regexp_split_to_table(pgpool_ext.metrics('prometheus'), E'\n') WITH ORDINALITY t(line, n)
 WHERE line LIKE '%pool="m"%' AND line NOT LIKE 'pgpool_ext_stats_reset%'
 ORDER BY n;
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
 ORDER BY n;
SELECT (SELECT count(*) FROM regexp_split_to_table(pgpool_ext.metrics('csv'), E'\n') l
         WHERE l <> '') - 1 =
       (SELECT count(*) FROM regexp_split_to_table(pgpool_ext.metrics('prometheus'), E'\n') l
         WHERE l <> '' AND l NOT LIKE '#%') AS same_samples;

-- json: one document; its metrics in order, with type and help
SELECT m->>'name' AS name, m->>'type' AS type, m->>'help' <> '' AS has_help
  FROM jsonb_array_elements(pgpool_ext.metrics('json')::jsonb -> 'metrics') m;
SELECT m->>'name' AS name, s->'labels' AS labels, s->'value' AS value
  FROM jsonb_array_elements(pgpool_ext.metrics('json')::jsonb -> 'metrics') m,
       jsonb_array_elements(m->'samples') s
 WHERE s->'labels'->>'pool' = 'm' AND m->>'name' <> 'pgpool_ext_stats_reset_timestamp_seconds';

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

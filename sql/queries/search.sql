-- Search runs: what db.search_runs asks besides the search itself (sql/fragments/search_runs.sql
-- holds the pieces of that), to explain an empty result.

-- name: metric_keys
-- returns: many
-- record: MetricKey
-- Every summary metric some run reports, by name: a walk of run_metrics_key_value_idx
-- that jumps from one key to the next (a loose index scan), so a few dozen probes for a
-- few dozen keys however many runs report them. At most :limit names.
with recursive keys as (
    (select key from run_metrics order by key limit 1)
    union all
    select (select m.key from run_metrics m where m.key > keys.key order by m.key limit 1)
      from keys
     where keys.key is not null
)
select key from keys where key is not null limit :limit;

-- name: metric_key_exists
-- returns: scalar
-- type: bool
-- Whether any run reports the summary metric :key (one probe of run_metrics_key_value_idx).
select exists (select 1 from run_metrics where key = :key);

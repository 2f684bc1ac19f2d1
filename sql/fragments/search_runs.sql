-- Search runs across experiments (db.search_runs, `resultsdb ls runs --where`): the pieces
-- resultsdb/search/compile.py puts together from a parsed filter and order. A {slot} is
-- filled with psycopg.sql: values as bound parameters, columns, keys and operators from
-- allowlists, never text from the caller. r is the run; o, when the first order key is a
-- metric, is that metric's row in run_metrics. docs/psql.md shows whole statements, and
-- docs/design.md ("Searching runs") which index each piece walks.

-- fragment: statement
select r.*
  from runs r {join}
 where {where}
 order by {order}
 limit {limit}

-- fragment: order_metric_join
-- Ordering by a metric walks run_metrics_key_value_idx (key, value, run_id) from one end:
-- the runs that report the metric, best first.
join run_metrics o on o.run_id = r.id and o.key = {key}

-- fragment: order_metric
o.value

-- fragment: metric_value
-- A metric after the first order key: null when the run does not report it.
(select m.value from run_metrics m where m.run_id = r.id and m.key = {key})

-- fragment: metric_compare
exists (select 1 from run_metrics m where m.run_id = r.id and m.key = {key} and m.value {op} {value})

-- fragment: metric_in
exists (select 1 from run_metrics m where m.run_id = r.id and m.key = {key} and m.value = any({values}))

-- fragment: metric_present
exists (select 1 from run_metrics m where m.run_id = r.id and m.key = {key})

-- fragment: row_metric_compare
-- While the order walks run_metrics, another metric is read from the run's row in hand
-- (as run_metrics holds it: a number beyond 1e300 is not there), not probed for. A
-- run without it is false, not null, as for a probe.
coalesce(jsonb_number_within(r.summary_metrics -> {key}, 1e300)::double precision {op} {value}, false)

-- fragment: row_metric_in
coalesce(jsonb_number_within(r.summary_metrics -> {key}, 1e300)::double precision = any({values}), false)

-- fragment: row_metric_present
jsonb_number_within(r.summary_metrics -> {key}, 1e300) is not null

-- fragment: order_metric_compare
o.value {op} {value}

-- fragment: order_metric_in
o.value = any({values})

-- fragment: params
-- A run's parameters: runs.parameters holds its configurations' documents and its
-- trial's (kept by trigger). A predicate holds when it holds for one of them.
exists (select 1 from jsonb_array_elements(r.parameters) as d (doc) where {test})

-- fragment: params_absent
-- `params.x is null`: no document has a value at that path.
not exists (select 1 from jsonb_array_elements(r.parameters) as d (doc) where {test})

-- fragment: params_contains
-- `params.fast = 10`: one document holds {"fast": 10}; array containment says just that.
r.parameters @> {value}

-- fragment: json_contains
-- Equality as containment ({"fast": 10}): served by a GIN index where there is one.
{doc} @> {value}

-- fragment: json_equals
{doc} #> {path} = {value}

-- fragment: json_not_equals
{doc} #> {path} <> {value}

-- fragment: json_in
{doc} #> {path} = any({values})

-- fragment: json_number_compare
-- Order comparisons with a number read JSON numbers only (a string "10" is not 10).
jsonb_number_within({doc} #> {path})::double precision {op} {value}

-- fragment: json_text_compare
-- Order comparisons with a string read JSON strings only.
(jsonb_typeof({doc} #> {path}) = 'string' and {doc} #>> {path} {op} {value})

-- fragment: json_like
{doc} #>> {path} {like} {value}

-- fragment: json_present
coalesce(jsonb_typeof({doc} #> {path}), 'null') <> 'null'

-- fragment: known
-- A test on a tag the run may lack, as true or false, never null: a tag it lacks is not
-- equal to anything (as a parameter it lacks), so `not (tags.asset != 'btc')` keeps it.
coalesce({item}, false)

-- fragment: column_compare
{column} {op} {value}

-- fragment: column_in
{column} = any({values})

-- fragment: column_like
{column} {like} {value}

-- fragment: column_null
{column} is null

-- fragment: experiment_name
r.experiment_id in (select e.id from experiments e where {test})

-- fragment: scope
r.experiment_id = any({experiments})

-- fragment: and
and

-- fragment: or
or

-- fragment: not
not ({item})

-- fragment: group
({item})

-- fragment: true
true

-- fragment: false
false

-- fragment: after_asc
{expr} > {value}

-- fragment: after_desc
{expr} < {value}

-- fragment: after_or_null
-- Nulls sort last in either direction: past a value, the nulls are still to come.
({after} or {expr} is null)

-- fragment: from_asc
-- The cursor's bound on the first order key, repeated as a plain range an index can use.
{expr} >= {value}

-- fragment: from_desc
{expr} <= {value}

-- fragment: equals
{expr} = {value}

-- fragment: is_null
{expr} is null

-- fragment: order_asc
{expr}

-- fragment: order_desc
{expr} desc

-- fragment: order_desc_nulls_last
{expr} desc nulls last

-- fragment: list
,

-- Every row of a table as JSON text: row_to_json writes each column with its type's own
-- output, so -0 stays -0, a double keeps all its digits and jsonb keeps its normal form.
select row_to_json(t)::text as row from {table} as t;

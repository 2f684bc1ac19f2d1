-- How many partitions of a partitioned table hold rows.
select count(distinct tableoid) from {table};

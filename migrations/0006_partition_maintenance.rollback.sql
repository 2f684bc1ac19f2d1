-- Undo 0006_partition_maintenance.
drop function if exists maintain_series_partitions(integer, integer);

-- Data snapshots: the data range and feature set a run used.

-- name: data_snapshot_by_id
-- returns: one
-- record: DataSnapshot
-- table: data_snapshots
-- The snapshot with this id.
select * from data_snapshots where id = :id;

-- name: data_snapshots_page
-- returns: many
-- record: DataSnapshot
-- Up to :limit snapshots with id after :after, oldest first.
select *
  from data_snapshots
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: data_snapshots_of_run
-- returns: many
-- record: DataSnapshot
-- The snapshots a run used, oldest first.
select * from data_snapshots where run_id = :run_id order by id;

-- name: insert_data_snapshot
-- returns: one
-- record: DataSnapshot
-- table: data_snapshots
-- The new snapshot.
insert into data_snapshots (run_id, data_source, start_date, end_date, features_hash,
                            storage_path, content_hash, size_bytes)
values (:run_id, :data_source, :start_date, :end_date, :features_hash, :storage_path,
        :content_hash, :size_bytes)
returning *;

-- name: update_data_snapshot
-- returns: one
-- record: DataSnapshot
-- table: data_snapshots
-- The snapshot after merging :patch. What the data is (source, range,
-- features) never changes; where a stored copy lives may be filled in later.
update data_snapshots t
   set (storage_path, content_hash, size_bytes) =
       (select r.storage_path, r.content_hash, r.size_bytes
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_data_snapshot
-- returns: scalar
-- type: uuid
-- table: data_snapshots
-- The id of the deleted snapshot (NotFound when there was none).
delete from data_snapshots where id = :id returning id;

-- Artifact lifecycle: the blobs ledger (claims, pins, garbage collection), the
-- references verify checks, and the versions a model's cleanup would remove.

-- name: claim_blob
-- returns: one
-- record: Blob
-- table: blobs
-- Promise that blob :content_hash is about to be referenced: insert its row, or
-- refresh last_claimed_at. Waits while gc holds the row; if gc then deletes it,
-- the insert goes ahead and the caller puts the bytes back.
insert into blobs as b (content_hash, size_bytes)
values (:content_hash, :size_bytes)
    on conflict (content_hash) do update
   set last_claimed_at = now(), size_bytes = excluded.size_bytes
returning b.*;

-- name: retract_blob_claim
-- returns: rowcount
-- Undo the claim that created blob :content_hash's row at :claimed_at, when its
-- bytes could not be stored: only while no later claim refreshed the row and no
-- row references it (a claim that refreshed an older row is left to gc).
delete from blobs b
 where b.content_hash = :content_hash
   and b.created_at = :claimed_at and b.last_claimed_at = :claimed_at
   and not exists (select 1 from model_artifacts a where a.content_hash = b.content_hash);

-- name: pin_blobs
-- returns: many
-- record: Blob
-- Lock the rows of :hashes (key share, in hash order) until the transaction ends,
-- so gc skips them; the hashes missing from the result were collected.
select *
  from blobs
 where content_hash = any(cast(:hashes as text[]))
 order by content_hash
   for key share;

-- name: collectable_blobs
-- returns: many
-- record: Blob
-- Blobs no row references and nobody claimed for :grace_seconds, in hash order
-- after :after (gc --dry-run: looks, locks nothing).
select b.*
  from blobs b
 where b.last_claimed_at < now() - make_interval(secs => cast(:grace_seconds as double precision))
   and b.content_hash > cast(:after as text)
   and not exists (select 1 from model_artifacts a where a.content_hash = b.content_hash)
   and not exists (select 1 from data_snapshots s where s.content_hash = b.content_hash)
 order by b.content_hash
 limit :limit;

-- name: lock_collectable_blobs
-- returns: many
-- record: Blob
-- As collectable_blobs, locking each row returned until the transaction ends.
-- Rows a save has pinned (or a claim is refreshing) are skipped, not waited for.
select b.*
  from blobs b
 where b.last_claimed_at < now() - make_interval(secs => cast(:grace_seconds as double precision))
   and b.content_hash > cast(:after as text)
   and not exists (select 1 from model_artifacts a where a.content_hash = b.content_hash)
   and not exists (select 1 from data_snapshots s where s.content_hash = b.content_hash)
 order by b.content_hash
 limit :limit
   for update of b skip locked;

-- name: delete_blobs
-- returns: rowcount
-- Forget the rows of :hashes (after their objects were deleted).
delete from blobs where content_hash = any(cast(:hashes as text[]));

-- name: referenced_blobs_page
-- returns: many
-- record: ReferencedBlob
-- Up to :limit distinct content hashes that rows reference, after :after in hash
-- order, with the largest size a row records and how many rows reference each.
select content_hash, max(size_bytes) as size_bytes, count(*) as reference_count
  from (select content_hash, size_bytes from model_artifacts
        union all
        select content_hash, size_bytes from data_snapshots where content_hash is not null) r
 where content_hash > cast(:after as text)
 group by content_hash
 order by content_hash
 limit :limit;

-- name: referenced_among
-- returns: many
-- record: ReferencedBlob
-- Which of :hashes rows reference now (gc's re-check after locking).
select content_hash, max(size_bytes) as size_bytes, count(*) as reference_count
  from (select content_hash, size_bytes from model_artifacts
         where content_hash = any(cast(:hashes as text[]))
        union all
        select content_hash, size_bytes from data_snapshots
         where content_hash = any(cast(:hashes as text[]))) r
 group by content_hash
 order by content_hash;

-- name: referenced_blob_totals
-- returns: one
-- record: BlobTotals
-- table: blobs
-- How many distinct blobs rows reference, and their bytes (verify's progress total).
select count(*) as blob_count, coalesce(sum(size_bytes), 0)::bigint as total_bytes
  from (select content_hash, max(size_bytes) as size_bytes
          from (select content_hash, size_bytes from model_artifacts
                union all
                select content_hash, size_bytes from data_snapshots
                 where content_hash is not null) r
         group by content_hash) b;

-- name: references_to_blobs
-- returns: many
-- record: BlobReference
-- Every row that references one of :hashes: model artifacts (owner: the model
-- version) and data snapshots (owner: the run).
select 'model_artifacts' as table_name, id as row_id, model_version_id as owner_id,
       content_hash, size_bytes, storage_path
  from model_artifacts
 where content_hash = any(cast(:hashes as text[]))
union all
select 'data_snapshots', id, run_id, content_hash, size_bytes, storage_path
  from data_snapshots
 where content_hash = any(cast(:hashes as text[]))
 order by content_hash, table_name, row_id;

-- name: versions_to_clean
-- returns: many
-- record: ModelVersion
-- The versions of :model_id older than its newest :keep, never the production
-- one, oldest first; locked so that no promotion slips in before the cleanup.
select v.*
  from model_versions v
 where v.model_id = :model_id
   and v.status <> 'production'
   and v.version < coalesce((select min(n.version)
                               from (select version from model_versions
                                      where model_id = :model_id
                                      order by version desc
                                      limit :keep) n), 2147483647)
 order by v.version
   for update of v;

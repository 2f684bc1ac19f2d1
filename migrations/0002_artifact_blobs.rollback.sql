-- Undo 0002_artifact_blobs. The stored bytes stay; only the ledger goes.
drop index if exists data_snapshots_content_hash_idx;
drop table if exists blobs cascade;

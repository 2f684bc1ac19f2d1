-- Blobs: one row per object in the artifact store, the ledger garbage collection works from.
-- The bytes live in the store under sha256/<2 hex>/<2 hex>/<sha256>; this row says they were
-- claimed (by a put about to be referenced) and when. GC deletes only blobs whose row it has
-- locked, that no row references and that nobody claimed within the grace period.
create table blobs (
    content_hash    text primary key,
    size_bytes      bigint not null,
    created_at      timestamptz not null default now(),
    last_claimed_at timestamptz not null default now(),
    constraint blobs_content_hash_sha256 check (content_hash ~ '^[0-9a-f]{64}$'),
    constraint blobs_size_nonnegative check (size_bytes >= 0)
);
comment on table blobs is
    'Objects in the artifact store, by sha256. A put claims its blob here before the bytes become visible; gc deletes unreferenced blobs whose last claim is older than its grace period.';
comment on column blobs.last_claimed_at is
    'When a put last promised to reference this blob: gc leaves it alone for the grace period after.';
comment on constraint blobs_content_hash_sha256 on blobs is
    'must be a sha256 digest: 64 lower-case hex characters';
comment on constraint blobs_size_nonnegative on blobs is 'must be >= 0';

-- GC's "is it referenced" probe and verify's scan read data_snapshots by content_hash.
create index data_snapshots_content_hash_idx on data_snapshots (content_hash)
    where content_hash is not null;
create index blobs_last_claimed_idx on blobs (last_claimed_at);

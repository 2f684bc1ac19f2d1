-- Artifact store ledger: the blobs table garbage collection works from (see sql/schema/80_blobs.sql).
-- depends: 0001_initial

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

create index data_snapshots_content_hash_idx on data_snapshots (content_hash)
    where content_hash is not null;
create index blobs_last_claimed_idx on blobs (last_claimed_at);

-- Blobs referenced before this ledger existed get a row, so that gc can collect them once
-- their last reference goes (claimed now: the grace period starts today).
insert into blobs (content_hash, size_bytes)
select content_hash, max(size_bytes)
  from (select content_hash, size_bytes from model_artifacts
        union all
        select content_hash, size_bytes from data_snapshots
         where content_hash is not null and size_bytes is not null) as referenced
 group by content_hash;

-- From schema 0002: the blobs ledger rows the artifact store writes when it stores the bytes
-- the 0001 rows reference (a put claims its blob before the row refers to it). The snapshot
-- whose content hash has no size gets none: a blob row needs its size.
insert into blobs (content_hash, size_bytes, created_at, last_claimed_at)
select pg_temp.sha256(w.content), octet_length(w.content), pg_temp.at('artifact weights'),
       pg_temp.at('artifact weights v1')
  from weights w;
insert into blobs (content_hash, size_bytes, created_at, last_claimed_at) values
    (pg_temp.sha256(''), 0, pg_temp.at('artifact empty'), pg_temp.at('artifact empty')),
    (pg_temp.sha256('edge snapshot'), 12345, pg_temp.at('snapshot stored'),
     pg_temp.at('snapshot stored'));

-- Queries the tests (and benchmarks) need that the library does not: databases made and
-- dropped per test session, the server version. Loaded by tests/conftest.py as TEST_QUERIES.

-- name: drop_database
-- returns: none
-- identifier: name
-- Drop a database if it exists, disconnecting its sessions (PostgreSQL 13+).
drop database if exists {name} with (force);

-- name: create_database_from_template
-- returns: none
-- identifier: name
-- identifier: template
-- Clone a database from a template (fast: a file copy, used by the tests).
create database {name} template {template} strategy file_copy;

-- name: server_version_num
-- returns: scalar
-- type: int
select current_setting('server_version_num')::int;


-- name: check_constraint_definition
-- returns: scalar
-- type: str?
-- A CHECK constraint as pg_get_constraintdef prints it (null when there is none).
select pg_get_constraintdef(oid) from pg_constraint where conname = :name and contype = 'c' limit 1;

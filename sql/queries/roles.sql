-- Group roles with least privilege: `resultsdb roles` (resultsdb/roles.py, docs/scaling.md).
-- Role, schema and database names vary, so they are identifiers, quoted by psycopg.sql.
-- Each statement is idempotent or guarded by a look-up, so running roles twice is fine.

-- name: role_exists
-- returns: scalar
-- type: bool
-- True when a role (group or login) of that name exists in the cluster.
select exists (select 1 from pg_roles where rolname = :name);

-- name: role_is_privileged
-- returns: scalar
-- type: bool
-- True for the current user and for a role with more than a login's rights (superuser,
-- CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS): `roles --login` never changes those.
select exists (select 1 from pg_roles
                where rolname = :name
                  and (rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls
                       or rolname = current_user));

-- name: role_details
-- returns: many
-- record: RoleInfo
-- The roles named, whether they can log in and the roles they are members of.
select r.rolname::text as name,
       r.rolcanlogin as can_login,
       array(select g.rolname::text
               from pg_auth_members am
               join pg_roles g on g.oid = am.roleid
              where am.member = r.oid
              order by 1) as member_of
  from pg_roles r
 where r.rolname = any(cast(:names as text[]))
 order by r.rolname;

-- name: needs_membership_to_own
-- returns: scalar
-- type: bool
-- True when the current user can hand objects to the role only after joining it:
-- ALTER ... OWNER TO needs membership in the new owner, unless one is superuser.
select not (select rolsuper from pg_roles where rolname = current_user)
       and not pg_has_role(current_user, cast(:role as text), 'member');

-- name: create_group_role
-- returns: none
-- identifier: role
-- A group role: nobody logs in as it; login roles are granted it.
create role {role} nologin;

-- name: create_login_role
-- returns: none
-- identifier: role
create role {role} login;

-- name: allow_login
-- returns: none
-- identifier: role
alter role {role} login;

-- name: grant_role
-- returns: none
-- identifier: group
-- identifier: member
grant {group} to {member};

-- name: revoke_role
-- returns: none
-- identifier: group
-- identifier: member
-- (A warning, not an error, when member is not in group.)
revoke {group} from {member};

-- name: grant_role_to_current_user
-- returns: none
-- identifier: role
grant {role} to current_user;

-- name: act_as_role
-- returns: none
-- identifier: login
-- identifier: role
-- Every session of the login runs SET ROLE to the group: what it creates belongs to the group.
alter role {login} set role = {role};

-- name: stop_acting_as_role
-- returns: none
-- identifier: login
alter role {login} reset role;

-- name: stage_role_password
-- returns: none
-- Utility statements take no parameters, so the role and its password verifier (a SCRAM
-- hash made client-side, as psql's \password does: the password itself never reaches the
-- server or its logs) travel to apply_role_password in transaction-local settings.
select set_config('resultsdb.role_name', cast(:role as text), true),
       set_config('resultsdb.role_verifier', cast(:verifier as text), true);

-- name: apply_role_password
-- returns: none
do $$
begin
    execute format('alter role %I password %L', current_setting('resultsdb.role_name'),
                   current_setting('resultsdb.role_verifier'));
    perform set_config('resultsdb.role_verifier', '', true);
end
$$;

-- name: current_schema_name
-- returns: scalar
-- type: str
select current_schema()::text;

-- name: current_database_name
-- returns: scalar
-- type: str
select current_database()::text;

-- name: current_user_name
-- returns: scalar
-- type: str
select current_user::text;

-- name: schema_objects
-- returns: many
-- record: SchemaObject
-- Relations and routines of the schema with their owner. Left out: extension members
-- (their extension owns them), indexes and sequences that belong to a column (they
-- follow their table).
select c.relname::text as name,
       case c.relkind when 'v' then 'view' when 'm' then 'materialized_view'
                      when 'S' then 'sequence' when 'f' then 'foreign_table'
                      else 'table' end as kind,
       pg_get_userbyid(c.relowner)::text as owner,
       false as security_definer
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = :schema
   and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
   and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_class'::regclass and d.objid = c.oid
                      and (d.deptype = 'e' or (c.relkind = 'S' and d.deptype in ('a', 'i'))))
union all
select p.proname::text, 'routine', pg_get_userbyid(p.proowner)::text, p.prosecdef
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = :schema
   and p.prokind in ('f', 'p')
   and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
 order by 2, 1;

-- name: alter_table_owner
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: owner
alter table {schema}.{name} owner to {owner};

-- name: alter_view_owner
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: owner
alter view {schema}.{name} owner to {owner};

-- name: alter_materialized_view_owner
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: owner
alter materialized view {schema}.{name} owner to {owner};

-- name: alter_sequence_owner
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: owner
alter sequence {schema}.{name} owner to {owner};

-- name: alter_foreign_table_owner
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: owner
alter foreign table {schema}.{name} owner to {owner};

-- name: alter_routine_owner
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: owner
-- By name alone: resultsdb defines no overloaded functions (PostgreSQL says so if one appears).
alter routine {schema}.{name} owner to {owner};

-- name: grant_connect
-- returns: none
-- identifier: database
-- identifier: role
grant connect on database {database} to {role};

-- name: grant_schema_usage
-- returns: none
-- identifier: schema
-- identifier: role
grant usage on schema {schema} to {role};

-- name: grant_schema_create
-- returns: none
-- identifier: schema
-- identifier: role
-- The owner creates tables: migrations, and partitions through maintain_series_partitions().
grant usage, create on schema {schema} to {role};

-- name: revoke_schema_create_from_public
-- returns: none
-- identifier: schema
-- PostgreSQL 15+ no longer gives PUBLIC CREATE on schema public; older databases did.
revoke create on schema {schema} from public;

-- name: grant_select_on_all_tables
-- returns: none
-- identifier: schema
-- identifier: role
-- Tables, partitions and views.
grant select on all tables in schema {schema} to {role};

-- name: grant_writes_on_all_tables
-- returns: none
-- identifier: schema
-- identifier: role
-- Row writes only: no TRUNCATE, REFERENCES or TRIGGER, and no DDL (that needs ownership).
grant insert, update, delete on all tables in schema {schema} to {role};

-- name: revoke_writes_on_relation
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: role
revoke insert, update, delete on {schema}.{name} from {role};

-- name: revoke_changes_on_relation
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: role
-- Append-only: rows may be added, never changed or removed (cascades run as the owner).
revoke update, delete on {schema}.{name} from {role};

-- name: grant_sequences
-- returns: none
-- identifier: schema
-- identifier: role
grant usage, select on all sequences in schema {schema} to {role};

-- name: grant_execute_on_all_functions
-- returns: none
-- identifier: schema
-- identifier: role
grant execute on all functions in schema {schema} to {role};

-- name: grant_execute_on_routine
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: role
grant execute on routine {schema}.{name} to {role};

-- name: revoke_execute_on_routine
-- returns: none
-- identifier: schema
-- identifier: name
-- identifier: role
revoke execute on routine {schema}.{name} from {role};

-- name: default_select_on_tables
-- returns: none
-- identifier: creator
-- identifier: schema
-- identifier: role
-- Tables (and partitions, views) the creator makes later are readable by the role.
alter default privileges for role {creator} in schema {schema} grant select on tables to {role};

-- name: default_writes_on_tables
-- returns: none
-- identifier: creator
-- identifier: schema
-- identifier: role
alter default privileges for role {creator} in schema {schema}
    grant insert, update, delete on tables to {role};

-- name: default_sequences
-- returns: none
-- identifier: creator
-- identifier: schema
-- identifier: role
alter default privileges for role {creator} in schema {schema}
    grant usage, select on sequences to {role};

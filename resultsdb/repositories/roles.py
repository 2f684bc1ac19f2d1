"""Owner, writer and reader group roles with least privilege (``resultsdb roles``).

- **owner** owns every table, view, sequence and function of the schema and may create
  in it: migrations run as the owner (a login in the owner group acts as it).
- **writer** reads everything and writes rows: INSERT, UPDATE and DELETE on the tables,
  sequences, EXECUTE on the functions. It holds no DDL right: it owns nothing and has no
  CREATE on the schema. Reference tables (``status_transitions``, yoyo's) and views are
  read-only to it, and the audit trail is append-only. It may create the series
  partitions ahead through ``maintain_series_partitions()``, which runs with the owner's
  rights (SECURITY DEFINER): the only DDL it can cause, bounded and of one shape.
- **reader** SELECTs tables and views; nothing else.

The writer is a member of the reader, so it reads through that grant. Default
privileges give tables that the owner (or whoever runs this) creates later the same
grants. Everything is idempotent: running it again repairs grants and ownership.
See docs/scaling.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.records import RoleInfo, SchemaObject

Group = Literal["owner", "writer", "reader"]
GROUPS: tuple[Group, ...] = ("owner", "writer", "reader")
DEFAULT_PREFIX = "resultsdb"

# Tables only migrations change: writers read them. The status machine's edges are data
# the triggers trust, and yoyo's tables are the migration history.
READ_ONLY_TABLES = frozenset({
    "status_transitions", "_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock",
})
# Written by trigger, never changed: an audit trail a writer could edit would prove nothing.
APPEND_ONLY_TABLES = frozenset({"model_version_transitions"})

_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_LOGIN = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class RoleNames:
    owner: str
    writer: str
    reader: str

    @classmethod
    def with_prefix(cls, prefix: str = DEFAULT_PREFIX) -> RoleNames:
        if not _PREFIX.fullmatch(prefix):
            raise InvalidInput(
                f"prefix: {prefix!r} must be lower-case letters, digits and underscores, "
                "starting with a letter or underscore, at most 41 characters", field="prefix")
        return cls(owner=f"{prefix}_owner", writer=f"{prefix}_writer", reader=f"{prefix}_reader")

    def of(self, group: Group) -> str:
        return str(getattr(self, group))

    def all(self) -> list[str]:
        return [self.owner, self.writer, self.reader]


@dataclass(frozen=True)
class RolesReport:
    """What :func:`ensure_roles` found and did; never holds a password."""

    schema: str
    database: str
    roles: list[RoleInfo]
    created: list[str] = field(default_factory=list)
    reassigned: list[str] = field(default_factory=list)
    login: str | None = None
    password_set: bool = False


def ensure_roles(db: Database, *, prefix: str = DEFAULT_PREFIX, login: str | None = None,
                 group: str = "writer", password: str | None = None) -> RolesReport:
    """Create the owner, writer and reader roles (if missing) and grant them; one transaction.

    With ``login``, also create (or update) a login role in ``group`` with ``password``
    (None leaves it without one, or unchanged). The password is hashed client-side
    (SCRAM) before it is sent; it appears in no statement, log line or error.
    Needs a superuser, or a role with CREATEROLE that may grant on the schema's objects.
    """
    names = RoleNames.with_prefix(prefix)
    if login is not None and not _LOGIN.fullmatch(login):
        raise InvalidInput(f"login: {login!r} must be a lower-case name of at most 63 characters",
                           field="login")
    if group not in GROUPS:
        raise InvalidInput(f"group: {group!r} must be one of {', '.join(GROUPS)}", field="group")
    if login is not None and login in names.all():
        raise InvalidInput(f"login: {login!r} is one of the group roles", field="login")
    return db.write(lambda conn: _ensure(db, conn, names, login, group, password))


def _ensure(db: Database, conn: Connection, names: RoleNames, login: str | None, group: Group,
            password: str | None) -> RolesReport:
    schema = conn.q.current_schema_name()
    database = conn.q.current_database_name()
    me = conn.q.current_user_name()

    created = [role for role in names.all() if _create_group(db, conn, role)]
    conn.q.grant_role(group=names.reader, member=names.writer)
    if conn.q.needs_membership_to_own(role=names.owner):
        conn.q.grant_role_to_current_user(role=names.owner)

    conn.q.grant_connect(database=database, role=names.reader)
    conn.q.grant_connect(database=database, role=names.owner)
    conn.q.revoke_schema_create_from_public(schema=schema)
    conn.q.grant_schema_create(schema=schema, role=names.owner)
    conn.q.grant_schema_usage(schema=schema, role=names.reader)

    objects: list[SchemaObject] = conn.q.schema_objects(schema=schema)
    reassigned = [o.name for o in objects if o.owner != names.owner]
    alter_owner = {
        "table": conn.q.alter_table_owner, "view": conn.q.alter_view_owner,
        "materialized_view": conn.q.alter_materialized_view_owner,
        "sequence": conn.q.alter_sequence_owner, "foreign_table": conn.q.alter_foreign_table_owner,
        "routine": conn.q.alter_routine_owner,
    }
    for obj in objects:
        if obj.owner != names.owner:
            alter_owner[obj.kind](schema=schema, name=obj.name, owner=names.owner)

    conn.q.grant_select_on_all_tables(schema=schema, role=names.reader)
    conn.q.grant_writes_on_all_tables(schema=schema, role=names.writer)
    conn.q.grant_sequences(schema=schema, role=names.writer)
    conn.q.grant_execute_on_all_functions(schema=schema, role=names.reader)
    for obj in objects:
        if obj.kind in ("view", "materialized_view", "foreign_table") or obj.name in READ_ONLY_TABLES:
            conn.q.revoke_writes_on_relation(schema=schema, name=obj.name, role=names.writer)
        elif obj.name in APPEND_ONLY_TABLES:
            conn.q.revoke_changes_on_relation(schema=schema, name=obj.name, role=names.writer)
        elif obj.kind == "routine" and obj.security_definer:
            # Runs with the owner's rights: for writers only.
            conn.q.revoke_execute_on_routine(schema=schema, name=obj.name, role=names.reader)
            conn.q.grant_execute_on_routine(schema=schema, name=obj.name, role=names.writer)

    # Whoever creates tables later (migrations as the owner, or as this user) grants the same.
    for creator in dict.fromkeys([names.owner, me]):
        conn.q.default_select_on_tables(creator=creator, schema=schema, role=names.reader)
        conn.q.default_writes_on_tables(creator=creator, schema=schema, role=names.writer)
        conn.q.default_sequences(creator=creator, schema=schema, role=names.writer)

    password_set = False
    if login is not None:
        if _ensure_login(db, conn, names, login, group):
            created.append(login)
        if password is not None:
            set_password(db, conn, login, password)
            password_set = True

    roles = conn.q.role_details(names=[*names.all(), *([login] if login else [])])
    return RolesReport(schema=schema, database=database, roles=roles, created=created,
                       reassigned=reassigned, login=login, password_set=password_set)


def _create_group(db: Database, conn: Connection, role: str) -> bool:
    if conn.q.role_exists(name=role):
        return False
    conn.q.create_group_role(role=role)
    return True


def _ensure_login(db: Database, conn: Connection, names: RoleNames, login: str, group: Group) -> bool:
    """Make ``login`` a login role in ``group`` only; True when it was created."""
    if conn.q.role_is_privileged(name=login):
        # An administrator's role is not a login to regroup or give a new password.
        raise InvalidInput(f"login: {login!r} is the current user or a privileged role; "
                           "choose a role made for this purpose", field="login")
    created = not conn.q.role_exists(name=login)
    (conn.q.create_login_role if created else conn.q.allow_login)(role=login)
    for other in GROUPS:
        if other != group and not created:
            conn.q.revoke_role(group=names.of(other), member=login)
    conn.q.grant_role(group=names.of(group), member=login)
    if group == "owner":
        # Its sessions act as the owner, so the tables its migrations create are the owner's.
        conn.q.act_as_role(login=login, role=names.owner)
    elif not created:
        conn.q.stop_acting_as_role(login=login)
    return created


def set_password(db: Database, conn: Connection, role: str, password: str) -> None:
    """Set a role's password from a verifier hashed here; the password never leaves the client."""
    if not password:
        raise InvalidInput("password: must not be empty", field="password")
    # libpq's PQencryptPasswordConn, in the server's password_encryption (scram-sha-256).
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode()).decode()
    conn.q.stage_role_password(role=role, verifier=verifier)
    conn.q.apply_role_password()

"""SQLSTATE -> the resultsdb error class, and whether the failure is transient: one table.

The error mapper (:mod:`resultsdb.errmap`) takes an error's class from :data:`RULES`, and
the retry loop (``Database._retry``) retries exactly the classes the table marks
transient (:data:`TRANSIENT`), so what is retried is decided here, by code, whatever
language the server writes its messages in. A code is looked up whole, then by its class
(the first two characters); a code in neither is a :class:`DatabaseError`, not retried.

Transient means that sending the same work again can succeed: the connection broke or
was never made, the server is starting, stopping or full, or the transaction lost a
serialization or deadlock race. The last three are retried only where the whole
transaction is replayed (``Database.write``, ``write_statement``, ``read``); inside a
caller's transaction they surface, since only the caller can replay it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from resultsdb.errors import (
    AuthenticationFailed,
    CommitOutcomeUnknown,
    ConstraintViolation,
    DatabaseError,
    DatabaseNotFound,
    DatabaseUnavailable,
    InvalidInput,
    InvalidTransition,
    ProtectedRow,
    ResourceExhausted,
    ResultsDBError,
    SchemaNotMigrated,
    Timeout,
    TransientError,
)


@dataclass(frozen=True)
class Rule:
    error: type[ResultsDBError]
    transient: bool = False


# The key "" is a failure with no SQLSTATE: psycopg's OperationalError for a connection
# that broke, or could not be made, before the server said why.
RULES: dict[str, Rule] = {
    # -- transient: the same work, sent again, can succeed
    "": Rule(DatabaseUnavailable, transient=True),       # connection lost / not made
    "08": Rule(DatabaseUnavailable, transient=True),     # connection_exception
    "57P01": Rule(DatabaseUnavailable, transient=True),  # admin_shutdown
    "57P02": Rule(DatabaseUnavailable, transient=True),  # crash_shutdown
    "57P03": Rule(DatabaseUnavailable, transient=True),  # cannot_connect_now: starting up
    "53300": Rule(DatabaseUnavailable, transient=True),  # too_many_connections
    "40001": Rule(TransientError, transient=True),       # serialization_failure
    "40P01": Rule(TransientError, transient=True),       # deadlock_detected
    # lock_not_available: lock_timeout ran out, or NOWAIT found the row locked. As with a
    # deadlock, another transaction holds the lock now, and the replayed transaction
    # usually gets it after the backoff; one that waited out lock_timeout gave way on
    # purpose, so as not to queue everyone else behind it, and may come back.
    "55P03": Rule(TransientError, transient=True),
    # -- permanent: sent again, it fails again (or must not be sent again)
    "40003": Rule(CommitOutcomeUnknown),                 # statement_completion_unknown
    "57014": Rule(Timeout),                              # query_canceled: statement_timeout
    "53": Rule(ResourceExhausted),                       # disk full, out of memory, ...
    "54": Rule(InvalidInput),                            # program_limit_exceeded: too large
    "22": Rule(InvalidInput),                            # data_exception
    "23": Rule(ConstraintViolation),                     # integrity (errmap says which)
    "RS001": Rule(InvalidTransition),                    # our status-machine trigger
    "RS002": Rule(ProtectedRow),                         # our protected-row trigger
    "28": Rule(AuthenticationFailed),                    # invalid_authorization_specification
    "3D000": Rule(DatabaseNotFound),                     # invalid_catalog_name
    "42P01": Rule(SchemaNotMigrated),                    # undefined_table (errmap checks ours)
}
DEFAULT = Rule(DatabaseError)

# What the retry loop retries. No permanent rule's class derives from one of these
# (a test keeps it so), so an error is transient exactly when its rule is.
TRANSIENT: tuple[type[ResultsDBError], ...] = tuple(
    dict.fromkeys(r.error for r in RULES.values() if r.transient))


def rule(sqlstate: str | None) -> Rule:
    """The rule of a SQLSTATE: its own row, else its class's, else :data:`DEFAULT`."""
    code = sqlstate or ""
    return RULES.get(code) or RULES.get(code[:2]) or DEFAULT


def rule_of(exc: psycopg.Error) -> Rule:
    """The rule of a psycopg error. Those psycopg raises itself carry no SQLSTATE: a broken
    connection (OperationalError) is the table's "" row, a value it cannot send (a NUL
    in a string) is a data exception, anything else a client-side DatabaseError."""
    if exc.sqlstate:
        return rule(exc.sqlstate)
    if isinstance(exc, psycopg.OperationalError):
        return RULES[""]
    if isinstance(exc, psycopg.DataError):
        return RULES["22"]
    return DEFAULT


def transient(exc: BaseException) -> bool:
    """The retry predicate: whether ``exc`` is of a class the table marks transient."""
    return isinstance(exc, TRANSIENT)

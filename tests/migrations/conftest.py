"""Fixtures for the data-migration harness: the reference databases, built once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import Server, unique_name
from tests.migrations.harness import Table, build_reference, snapshot

Snapshot = dict[str, Table]


@pytest.fixture(scope="session")
def reference(pg_server: Server) -> Iterator[Callable[[bool], tuple[str, Snapshot]]]:
    """reference(with_data): a database loaded from sql/schema/ (and the whole dataset),
    with its snapshot; made on first use, dropped at the end of the session."""
    made: dict[bool, tuple[str, Snapshot]] = {}
    names: list[str] = []

    def get(with_data: bool) -> tuple[str, Snapshot]:
        if with_data not in made:
            names.append(unique_name("rdb_dref"))
            conninfo = pg_server.create_database(names[-1])
            build_reference(conninfo, with_data=with_data)
            made[with_data] = conninfo, snapshot(conninfo)
        return made[with_data]

    yield get
    for name in names:
        pg_server.drop_database(name)


@pytest.fixture
def scratch_db(pg_server: Server) -> Iterator[str]:
    """An empty database for one migration run."""
    name = unique_name("rdb_dmig")
    yield pg_server.create_database(name)
    pg_server.drop_database(name)

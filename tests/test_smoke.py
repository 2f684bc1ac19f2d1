from resultsdb.db import Database
from resultsdb.repositories import catalog


def test_fresh_database_is_migrated(db: Database) -> None:
    with db.connection() as conn:
        assert catalog.series_tables_exist(conn) is True

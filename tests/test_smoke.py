from resultsdb.db import Database


def test_fresh_database_is_migrated(db: Database) -> None:
    with db.connection() as conn:
        assert db.registry.scalar(conn, "series_tables_exist") is True

"""Settings and connection strings: passwords never show; yoyo gets the same connection."""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri

from resultsdb.config import Settings, mask_dsns, mask_url
from resultsdb.db import Database
from resultsdb.errors import DatabaseUnavailable
from resultsdb.migrate import yoyo_url

SECRET = "s3cretPW"


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://u:s3cretPW@db.example:5432/results",
     "postgresql://u:***@db.example:5432/results"),
    ("postgres://u:s3cretPW@h/d?sslmode=require", "postgres://u:***@h/d?sslmode=require"),
    ("postgresql+psycopg://u:s3cretPW@h/d", "postgresql+psycopg://u:***@h/d"),
    ("postgresql://:s3cretPW@h/d", "postgresql://:***@h/d"),
    ("postgresql://u:s3c%40retPW@h/d", "postgresql://u:***@h/d"),
    # unencoded characters that urlsplit reads as the start of the query, fragment or
    # path, or as the end of the user info
    ("postgresql://u:s3cret?PW@h/d", "postgresql://u:***@h/d"),
    ("postgresql://u:s3cret#PW@h/d", "postgresql://u:***@h/d"),
    ("postgresql://u:s3cret/PW@h/d", "postgresql://u:***@h/d"),
    ("postgresql://u:s3cret@PW@h/d", "postgresql://u:***@h/d"),
    ("postgresql://h/d?password=s3cretPW&sslmode=require",
     "postgresql://h/d?password=***&sslmode=require"),
    ("postgresql://h/d?sslmode=require&PASSWORD=s3cretPW",
     "postgresql://h/d?sslmode=require&PASSWORD=***"),
    ("postgresql://u@h/d?sslpassword=s3cretPW", "postgresql://u@h/d?sslpassword=***"),
    ("postgresql://u@h/d?options=-c%20search_path%3Dx", "postgresql://u@h/d?options=-c%20search_path%3Dx"),
    ("host=h user=u password=s3cretPW dbname=d", "host=h user=u password=*** dbname=d"),
    ("host=h password = s3cretPW dbname=d", "host=h password = *** dbname=d"),
    ("host=h password='s3cret PW' dbname=d", "host=h password=*** dbname=d"),
    ("host=h password='s3c\\'retPW x' dbname=d", "host=h password=*** dbname=d"),
    ("host=h sslpassword=s3cretPW", "host=h sslpassword=***"),
    ("host=/tmp/x port=5432 user=postgres dbname=d", "host=/tmp/x port=5432 user=postgres dbname=d"),
    ("host=h options='-c a=postgresql://x' password=s3cretPW",
     "host=h options='-c a=postgresql://x' password=***"),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "s3cret" not in masked and "retPW" not in masked


# What libpq and the server write, around a connection string we put in the message.
SERVER_TEXT = ('connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL:  password '
               'authentication failed for user "postgres"')
PASSWORDS = ["s", "a", "postgres", "server", "password", "p@ss:w/o?rd#%&= x'\\"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_mask_dsns_masks_the_password_in_connection_strings_and_nothing_else(password: str) -> None:
    forms = [
        (f"postgresql://postgres:{quote(password, safe='')}@/results?host=/tmp",
         "postgresql://postgres:***@/results?host=/tmp"),
        (f"postgresql+psycopg://postgres@/results?password={quote(password, safe='')}&port=5432",
         "postgresql+psycopg://postgres@/results?password=***&port=5432"),
        (make_conninfo("", host="db.example", user="postgres", password=password, dbname="results"),
         "host=db.example user=postgres password=*** dbname=results"),
    ]
    for dsn, masked in forms:
        text = f"cannot connect to {dsn}: {SERVER_TEXT}"
        assert mask_dsns(text) == f"cannot connect to {masked}: {SERVER_TEXT}"
        assert mask_dsns(f"'{dsn}'") == f"'{masked}'"  # quoted in a message
    assert mask_dsns(SERVER_TEXT) == SERVER_TEXT  # no connection string: nothing to mask


def test_settings_never_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(url=f"postgresql://u:{SECRET}@h/d")
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}",
                 settings.model_dump_json(), repr(settings.model_dump()), settings.masked_url or ""):
        assert SECRET not in text
    assert "postgresql://u:***@h/d" in repr(settings)
    assert settings.url is not None and settings.url.get_secret_value().endswith(f"{SECRET}@h/d")

    monkeypatch.setenv("RESULTSDB_URL", f"host=h password={SECRET}")
    from_env = Settings()
    assert SECRET not in repr(from_env) and "password=***" in repr(from_env)


def test_database_repr_masks_the_password() -> None:
    db = Database(url=f"postgresql://u:{SECRET}@127.0.0.1:1/x")
    assert repr(db) == "Database(postgresql://u:***@127.0.0.1:1/x)"
    assert SECRET not in db.masked_url and SECRET not in repr(db.settings)


def _rendered(exc: BaseException) -> str:
    """Everything a log or a crash would show of the exception, causes included."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        parts += [str(cause), repr(cause), *map(str, getattr(cause, "args", ()))]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


@pytest.mark.parametrize("url", [
    f"postgresql://u:{SECRET}@127.0.0.1:1/x?connect_timeout=1",
    f"host=127.0.0.1 port=1 user=u password={SECRET} dbname=x connect_timeout=1",
    f"postgresql://u@127.0.0.1:1/x?password={SECRET}&connect_timeout=1",
])
def test_connection_errors_never_show_the_password(url: str) -> None:
    db = Database(Settings(connect_timeout=1, pool_timeout=2), url=url)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as info, db.connection():
        pass
    assert time.monotonic() - started < 15
    rendered = _rendered(info.value)
    assert "127.0.0.1" in rendered  # says where it tried
    assert SECRET not in rendered
    db.close()


@pytest.mark.parametrize("password", ["s", "postgres"])
def test_a_password_that_is_a_letter_or_a_word_leaves_the_server_message_intact(
        tmp_path: Path, password: str) -> None:
    """The old scrubber replaced the password wherever it occurred: with password ``s``,
    ``***erver on ***ocket``. Only the connection string's password is masked now."""
    folder = tmp_path / password  # the password is a word of the server's message, too
    folder.mkdir()
    url = f"postgresql://postgres:{password}@/x?host={folder}&port=1"
    db = Database(Settings(connect_timeout=1, pool_timeout=1, retry_attempts=1), url=url)
    with pytest.raises(DatabaseUnavailable) as info:
        db.open()
    message = str(info.value)
    assert f'connection to server on socket "{folder}/.s.PGSQL.1" failed' in message
    assert f"cannot connect to postgresql://postgres:***@/x?host={folder}&port=1:" in message
    assert f":{password}@" not in message


def _yoyo_connect_kwargs(url: str) -> dict[str, Any]:
    """What yoyo's psycopg backend would pass to psycopg.connect for this URL."""
    captured: dict[str, Any] = {}

    class Connection:
        autocommit = False

    class Driver:
        @staticmethod
        def connect(**kwargs: Any) -> Connection:
            captured.update(kwargs)
            return Connection()

    backend = PostgresqlPsycopgBackend.__new__(PostgresqlPsycopgBackend)
    backend._driver = Driver
    backend.connect(parse_uri(url))
    return {k: str(v) for k, v in captured.items() if v not in (None, "")}


@pytest.mark.parametrize("conninfo", [
    "host=db.example.com port=6543 user=alice password='p@ss:w/o?rd#%&= x' dbname=results",
    "host='/tmp/some socket/dir' port=5433 user=postgres dbname=postgres",
    "host=/var/run/postgresql dbname=d",
    "postgresql://u:p%40ss@[::1]:5433/my%20db?sslmode=disable&application_name=a%20b",
    "postgresql://u@127.0.0.1/d",
    "host=h1,h2 port=5432,5433 dbname=d target_session_attrs=read-write",
    "host=HostName.Example dbname=d",
    "dbname='my db/x?y#z%+' host=h",
    "password=only-a-password host=h dbname=d",
    "user='we ird@user' password='p:w' host=h dbname=d",
    "host=h dbname=d options='-c statement_timeout=5 -c search_path=a,b'",
    "host=h port=5432 dbname=d sslmode=verify-full sslrootcert=/etc/ssl/a+b.pem",
])
def test_yoyo_url_round_trips(conninfo: str) -> None:
    expected = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v not in (None, "")}
    assert _yoyo_connect_kwargs(yoyo_url(conninfo)) == expected


def test_yoyo_url_keeps_plain_urls_readable() -> None:
    assert yoyo_url("host=127.0.0.1 port=5432 user=postgres dbname=rdb") == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/rdb")
    assert yoyo_url("host=/tmp/s port=5432 user=postgres dbname=rdb") == (
        "postgresql+psycopg://postgres@/rdb?host=%2Ftmp%2Fs&port=5432")

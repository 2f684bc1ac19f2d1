"""Settings, read from ``RESULTSDB_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# password= (and sslpassword=, the client key's passphrase) among a URL's query parameters.
_QUERY_PASSWORD = re.compile(r"([?&](?:ssl)?password=)([^&#]*)", re.IGNORECASE)


def _url_userinfo(rest: str) -> tuple[str, str] | None:
    """``(user, password)`` as written in a URL (after ``scheme://``), if it has a password.

    The user info ends at the *last* ``@``: a password may hold an unencoded ``?``,
    ``#``, ``/`` or ``@`` (libpq reads some of those as part of it, urlsplit does not),
    and a mask that cuts too much is better than one that shows part of a password.
    """
    userinfo, at, _ = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    user, _, password = userinfo.partition(":")
    return user, password


def mask_url(url: str) -> str:
    """Return a connection string with any password replaced by ``***``.

    Handles URLs (``postgresql://user:pw@host/db``, ``?password=pw``) and libpq
    keyword strings (``host=x password=pw``); ``sslpassword`` is masked too.
    """
    scheme = _URL_SCHEME.match(url)
    if scheme is None:
        return _KEYWORD_PASSWORD.sub(r"\1***", url)
    head, rest = url[: scheme.end()], url[scheme.end():]
    rest = _QUERY_PASSWORD.sub(r"\1***", rest)
    userinfo = _url_userinfo(rest)
    if userinfo is not None:
        rest = f"{userinfo[0]}:***@{rest.rpartition('@')[2]}"
    return head + rest


# A connection string inside a longer text: a URL, from its scheme to the next whitespace
# or quote, or a libpq ``password=`` (``sslpassword=``) keyword with its value.
_DSN_IN_TEXT = re.compile(
    r"""\bpostgres(?:ql)?(?:\+\w+)?://[^\s'"]+"""
    r"""|\b(?:ssl)?password\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s'"]+)""",
    re.IGNORECASE,
)


def mask_dsns(text: str) -> str:
    """``text`` with the password of every connection string in it masked, and nothing else.

    The one scrubber of messages (errors, logs): a password is masked where it sits in a
    DSN - a URL's user info or ``?password=``, a ``password=`` keyword - and nowhere else,
    so a password that is also a common word or one letter ("postgres", "s") leaves the
    rest of the text as the server wrote it. libpq and the server never quote a password
    back; the only place one reaches a message is a connection string we put there.
    """
    return _DSN_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)


Seconds = Annotated[float, Field(gt=0)]


class Settings(BaseSettings):
    """Configuration of a :class:`resultsdb.ResultsDB`.

    Every field reads ``RESULTSDB_<FIELD>``; e.g. ``RESULTSDB_URL``.
    """

    model_config = SettingsConfigDict(
        env_prefix="RESULTSDB_", env_file=".env", extra="ignore", frozen=True
    )

    url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded server under data_dir is started on demand.",
    )
    read_url: SecretStr | None = Field(
        default=None,
        description="Read replica URL for analytics reads (Database.read(fn, replica=True)); "
        "unset: they go to the primary.",
    )
    data_dir: Path = Field(
        default=Path(".resultsdb"),
        description="Embedded server data and local artifacts (like MLflow's ./mlruns).",
    )
    database: str = Field(
        default="resultsdb", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Database name on the embedded server.",
    )
    artifacts_url: str | None = Field(
        default=None, description="fsspec URL of the artifact store; default file://<data_dir>/artifacts."
    )
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout: Seconds = 30.0
    connect_timeout: int = Field(default=10, ge=1)
    statement_timeout_ms: int = Field(default=0, ge=0, description="0 disables the limit.")
    ddl_lock_timeout_ms: int = Field(
        default=3000, ge=0,
        description="How long partition maintenance, archive, restore and migrations wait for a "
        "lock before giving up (Timeout), so they never queue other queries behind them; "
        "0 waits for ever.",
    )
    application_name: str = Field(default="resultsdb", max_length=63)
    prepare_threshold: int | None = Field(
        default=5, description="psycopg auto-prepare; None for PgBouncer in transaction mode."
    )
    durable_trial_starts: bool = Field(
        default=False,
        description="Wait for the WAL flush when a trial starts. Off: a running trial's start "
        "commits without waiting and is made durable by its finish (or any later durable "
        "commit); a server crash may forget starts nothing durable followed yet.",
    )
    retry_attempts: int = Field(default=5, ge=1, le=20)
    slow_query_ms: float = Field(default=500.0, ge=0)
    check_rows: bool = Field(
        default=False,
        description="Validate every row read against its strict record too, and fail where "
        "they differ (the schema already guarantees the types: rows are built without "
        "validation otherwise). The test suite turns it on.",
    )

    def __repr__(self) -> str:
        url = mask_url(self.url.get_secret_value()) if self.url else None
        return f"Settings(url={url!r}, data_dir={str(self.data_dir)!r}, database={self.database!r})"

    __str__ = __repr__

    @property
    def masked_url(self) -> str | None:
        return mask_url(self.url.get_secret_value()) if self.url else None

    def resolved_artifacts_url(self) -> str:
        if self.artifacts_url:
            return self.artifacts_url
        return (self.data_dir.resolve() / "artifacts").as_uri()

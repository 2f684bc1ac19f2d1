"""Settings, read from ``RESULTSDB_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """Return a connection string with any password replaced by ``***``.

    Handles URLs (``postgresql://user:pw@host/db``, ``?password=pw``) and libpq
    keyword strings (``host=x password=pw``).
    """
    if "://" not in url:
        return _KEYWORD_PASSWORD.sub(r"\1***", url)
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}"
    query = parts.query
    if query:
        pairs = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query)]
        query = urlencode(pairs, safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_password(url: str) -> str | None:
    """The password a connection string carries, if any (to scrub it from messages)."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.password:
            return parts.password
        for key, value in parse_qsl(parts.query):
            if key.lower() == "password" and value:
                return value
        return None
    match = _KEYWORD_PASSWORD.search(url)
    return match.group(2).strip("'") if match else None


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
    application_name: str = Field(default="resultsdb", max_length=63)
    prepare_threshold: int | None = Field(
        default=5, description="psycopg auto-prepare; None for PgBouncer in transaction mode."
    )
    retry_attempts: int = Field(default=5, ge=1, le=20)
    slow_query_ms: float = Field(default=500.0, ge=0)

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

"""Value types for validated inputs: the schema's CHECK constraints as pydantic types.

Each annotated type mirrors a column rule (a length, a pattern, a range, a
JSON shape) so :mod:`resultsdb.inputs` can reject bad values before the
database sees them. Messages say what is wrong; the field name is added by
whoever reports the error.

Three rules hold for every value, whatever its field:

- Text (a string field, a JSON key or string) holds no NUL and no lone surrogate:
  PostgreSQL text cannot store NUL, and a surrogate cannot be encoded as UTF-8.
- A number is finite and within double precision (±1.7976931348623157e308), an
  integer included: views and analytics read JSON numbers as ``double precision``,
  and one value beyond it would make them fail for every row.
- A JSON document nests objects and arrays at most :data:`MAX_JSON_DEPTH` levels
  deep and is at most :data:`MAX_JSON_BYTES` long.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BeforeValidator, Field, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
# The largest finite double, as an exact integer: the bound jsonb_is_number_map checks
# (sql/schema/00_functions.sql), so an integer the client lets through the server takes.
DOUBLE_MAX = 17976931348623157 * 10**292
# One JSON document (tags, parameters, metadata, a metric map) as compact UTF-8 JSON.
# jsonb itself takes up to 255 MB, but a run's tags are read with every listing: a
# multi-megabyte document is almost always a mistake (a DataFrame or weights passed as
# a parameter) and belongs in the artifact store. MLflow caps a tag value at 8,000
# characters; 1 MiB leaves room for large search spaces and configs.
MAX_JSON_BYTES = 1 << 20
# Objects and arrays inside one another. Real configurations nest a handful of levels;
# a document nested hundreds deep (or one that contains itself) is a caller's bug, and
# Python's own recursion gives out near 1,000, so the check stops at 64 before any of
# our recursion, json.dumps' or psycopg's could fail on it.
MAX_JSON_DEPTH = 64
# summary_metrics keys the run_statistics view reads as integers (trade_count bigint,
# stats_version integer): a value beyond them is refused as one beyond double is.
SUMMARY_INTEGER_KEYS = {"trade_count": BIGINT_MAX, "stats_version": INTEGER_MAX}

_BEYOND_DOUBLE = "is beyond the range of double precision (±1.8e308)"


def fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def a_or_an(name: str) -> str:
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def shown(value: object) -> str:
    """``value`` as an error message shows it: a short repr, or the kind of a record."""
    if hasattr(type(value), "model_fields"):  # a pydantic record: its type says enough
        return a_or_an(type(value).__name__)
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({type(value).__name__})"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as PostgreSQL text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (f"must not contain lone surrogates ({value[exc.start]!r} at "
                    f"position {exc.start}); decode bytes before passing them")
    return None


def _text(value: object) -> object:
    # Before pydantic's own str check, whose word for a surrogate is "unable to parse
    # raw data as a unicode string"; non-strings go on to be refused by type.
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise fail("text", problem)
    return value


def _uuid_or_text(value: object) -> object:
    # pydantic's lax UUID also takes 16 raw bytes, which any 16-byte value is: an id
    # is a UUID or its string, nothing else.
    if not isinstance(value, UUID | str):
        raise fail("uuid", f"must be a UUID or its string, not {type(value).__name__}")
    return value


def _finite_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail("finite_number", f"must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond double
        raise fail("finite_number", _BEYOND_DOUBLE) from None
    if not math.isfinite(number):
        raise fail("finite_number", "must be a finite number (not NaN or infinite)")
    return number


def _finite_number(value: object) -> int | float:
    # Plain floats and ints first: ABC isinstance checks cost more than the rest, and
    # metric maps sit on the trial hot path.
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise fail("finite_number", "must be a finite number (not NaN or infinite)")
    # Integers stay integers so a count in a metric map reads back as an int.
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
        if not -DOUBLE_MAX <= number <= DOUBLE_MAX:
            raise fail("finite_number", _BEYOND_DOUBLE)
        return number
    return _finite_float(value)


def json_path(parts: Sequence[int | str]) -> str:
    """``a.b[2].c`` for the keys and indexes ("a", "b", 2, "c")."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Bad(Exception):
    """A JSON value refused; ``path`` is filled in, innermost first, as it unwinds."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []

    def message(self) -> str:
        parts = self.path[::-1]
        if len(parts) > 8:  # a path as deep as the depth limit says little past its ends
            parts = [*parts[:4], f"({len(parts) - 7} more)", *parts[-3:]]
        where = json_path(parts)
        return f"at {where!r}: {self.problem}" if where else self.problem


def _json_value(value: object, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if type(value) is float and math.isfinite(value):  # the common number, cheaply
        return value
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise _Bad(f"strings {problem}")
        return value
    if isinstance(value, numbers.Real):
        try:
            return _finite_number(value)
        except PydanticCustomError as exc:
            raise _Bad(exc.message()) from None
    if not isinstance(value, Mapping | list | tuple):
        raise _Bad(f"{type(value).__name__} is not a JSON value")
    if depth >= MAX_JSON_DEPTH:
        raise _Bad(f"nests objects and arrays more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Bad(f"keys must be strings, not {type(key).__name__}")
            problem = text_problem(key)
            try:
                if problem is not None:
                    raise _Bad(f"keys {problem}")
                out[key] = _json_value(item, depth + 1)
            except _Bad as bad:
                bad.path.append(key)
                raise
        return out
    items = []
    for i, item in enumerate(value):
        try:
            items.append(_json_value(item, depth + 1))
        except _Bad as bad:
            bad.path.append(i)
            raise
    return items


def _json_object(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise fail("json_object", f"must be a JSON object (a mapping), not {type(value).__name__}")
    try:
        result: dict[str, Any] = _json_value(value, 0)
    except _Bad as bad:
        raise fail("json_value", bad.message()) from None
    return _within_size(result)


def _within_size(document: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_JSON_BYTES:
        raise fail("json_size", f"is {size:,} bytes of JSON, over the limit of {MAX_JSON_BYTES:,} "
                   "bytes per document (store large content as an artifact)")
    return document


def _number_map(value: object) -> dict[str, int | float]:
    if not isinstance(value, Mapping):
        raise fail("number_map", f"must be a mapping of names to numbers, not {type(value).__name__}")
    out: dict[str, int | float] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise fail("number_map", f"keys must be strings, not {type(key).__name__}")
        problem = text_problem(key)
        if problem is not None:
            raise fail("number_map", f"keys {problem}")
        try:
            out[key] = _finite_number(item)
        except PydanticCustomError as exc:
            raise fail("number_map", f"at {key!r}: {exc.message()}") from None
    return _within_size(out)


def _summary_metrics(value: object) -> dict[str, int | float]:
    out = _number_map(value)
    for key, bound in SUMMARY_INTEGER_KEYS.items():
        if key in out and not -bound <= out[key] <= bound:
            raise fail("number_map", f"at {key!r}: must be within ±{bound:,} (read as an integer)")
    return out


def _labels(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise fail("labels", f"must be a list of labels, not {type(value).__name__}")
    labels = list(value)
    for label in labels:
        if not isinstance(label, str) or not label:
            raise fail("labels", f"each label must be a non-empty string, got {label!r}")
        problem = text_problem(label)
        if problem is not None:
            raise fail("labels", f"labels {problem}")
    return labels


def _tags(value: object) -> dict[str, Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return dict.fromkeys(_labels(value), True)
    return _json_object(value)


_STORABLE = BeforeValidator(_text)

Id = Annotated[UUID, Field(strict=False), BeforeValidator(_uuid_or_text)]
Text = Annotated[str, _STORABLE]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255), _STORABLE]
LongText = Annotated[str, StringConstraints(max_length=10000), _STORABLE]
ShortText = Annotated[str, StringConstraints(max_length=255), _STORABLE]
StoragePath = Annotated[str, StringConstraints(min_length=1, max_length=2048), _STORABLE]
DataSource = Annotated[str, StringConstraints(min_length=1, max_length=1024), _STORABLE]
Asset = Annotated[str, StringConstraints(min_length=1, max_length=64), _STORABLE]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$"), _STORABLE]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"), _STORABLE]
CommitHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$"), _STORABLE]
FILE_FORMAT_PATTERN = r"^[a-z0-9][a-z0-9._+-]{0,31}$"
FileFormat = Annotated[str, StringConstraints(pattern=FILE_FORMAT_PATTERN), _STORABLE]
Size = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
FiniteFloat = Annotated[float, PlainValidator(_finite_float)]
JsonObject = Annotated[dict[str, Any], PlainValidator(_json_object)]
NumberMap = Annotated[dict[str, int | float], PlainValidator(_number_map)]
SummaryMetrics = Annotated[dict[str, int | float], PlainValidator(_summary_metrics)]
Tags = Annotated[dict[str, Any], PlainValidator(_tags)]
Labels = Annotated[list[str], PlainValidator(_labels)]
Timestamp = AwareDatetime

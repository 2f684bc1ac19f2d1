"""Value types for validated inputs: the schema's CHECK constraints as pydantic types.

Each annotated type mirrors a column rule (a length, a pattern, a range, a
JSON shape) so :mod:`resultsdb.inputs` can reject bad values before the
database sees them. Messages say what is wrong; the field name is added by
whoever reports the error.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, Field, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

BIGINT_MAX = 2**63 - 1
# One JSON document (tags, parameters, metadata, a metric map) as compact UTF-8 JSON.
# jsonb itself takes up to 255 MB, but a run's tags are read with every listing: a
# multi-megabyte document is almost always a mistake (a DataFrame or weights passed as
# a parameter) and belongs in the artifact store. MLflow caps a tag value at 8,000
# characters; 1 MiB leaves room for large search spaces and configs.
MAX_JSON_BYTES = 1 << 20


def fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; catching it here names the field.
    if "\x00" in value:
        raise fail("nul_character", "must not contain NUL characters")
    return value


def _finite_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail("finite_number", f"must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise fail("finite_number", "must be a finite number (not NaN or infinite)")
    return number


def _finite_number(value: object) -> int | float:
    # Integers stay integers so a count in a metric map reads back as an int.
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return _finite_float(value)


def _json_value(value: object, path: str) -> Any:
    where = f"at {path!r}: " if path else ""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise fail("json_value", f"{where}strings must not contain NUL characters")
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise fail("json_value", f"{where}must be a finite number (JSON has no NaN or Infinity)")
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise fail("json_value", f"{where}keys must be strings, not {type(key).__name__}")
            out[_no_nul(key)] = _json_value(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise fail("json_value", f"{where}{type(value).__name__} is not a JSON value")


def _json_object(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise fail("json_object", f"must be a JSON object (a mapping), not {type(value).__name__}")
    result: dict[str, Any] = _json_value(value, "")
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
        try:
            out[_no_nul(key)] = _finite_number(item)
        except PydanticCustomError as exc:
            raise fail("number_map", f"at {key!r}: {exc.message()}") from None
    return _within_size(out)


def _labels(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise fail("labels", f"must be a list of labels, not {type(value).__name__}")
    labels = list(value)
    for label in labels:
        if not isinstance(label, str) or not label or "\x00" in label:
            raise fail("labels", f"each label must be a non-empty string, got {label!r}")
    return labels


def _tags(value: object) -> dict[str, Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return dict.fromkeys(_labels(value), True)
    return _json_object(value)


Id = Annotated[UUID, Field(strict=False)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_no_nul)]
LongText = Annotated[str, StringConstraints(max_length=10000), AfterValidator(_no_nul)]
ShortText = Annotated[str, StringConstraints(max_length=255), AfterValidator(_no_nul)]
StoragePath = Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(_no_nul)]
DataSource = Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_no_nul)]
Asset = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
CommitHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$")]
FileFormat = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._+-]{0,31}$")]
Size = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
FiniteFloat = Annotated[float, PlainValidator(_finite_float)]
JsonObject = Annotated[dict[str, Any], PlainValidator(_json_object)]
NumberMap = Annotated[dict[str, int | float], PlainValidator(_number_map)]
Tags = Annotated[dict[str, Any], PlainValidator(_tags)]
Labels = Annotated[list[str], PlainValidator(_labels)]
Timestamp = AwareDatetime

